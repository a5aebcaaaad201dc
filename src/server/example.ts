import {FAR_FUTURE_EPOCH, forkNames, type NetworkConfig} from "../config/networks.js";
import {bytesToHex} from "../hex.js";

/**
 * A ready-to-paste ATTESTATION request for the network's latest scheduled fork, printed at start
 * so a new user can see a signature come back before wiring up a validator client.
 */
export function exampleCurl(network: NetworkConfig, baseUrl: string, pubkeyHex: string): string {
  const scheduled = forkNames.filter((f) => network.forks[f].epoch !== FAR_FUTURE_EPOCH);
  const current = scheduled[scheduled.length - 1];
  const previous = scheduled[scheduled.length - 2] ?? current;
  const epoch = network.forks[current].epoch;
  const root = "0x" + "ab".repeat(32);
  const body = {
    type: "ATTESTATION",
    fork_info: {
      fork: {
        previous_version: bytesToHex(network.forks[previous].version),
        current_version: bytesToHex(network.forks[current].version),
        epoch: String(epoch),
      },
      genesis_validators_root: network.genesisValidatorsRoot ?? "0x" + "00".repeat(32),
    },
    attestation: {
      slot: String(epoch * BigInt(network.preset.SLOTS_PER_EPOCH)),
      index: "0",
      beacon_block_root: root,
      source: {epoch: String(epoch > 0n ? epoch - 1n : 0n), root},
      target: {epoch: String(epoch), root},
    },
  };
  return `curl -s -X POST -H 'content-type: application/json' -H 'accept: application/json' ${baseUrl}/api/v1/eth2/sign/${pubkeyHex} -d '${JSON.stringify(body)}'`;
}

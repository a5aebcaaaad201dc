/**
 * Signing request bodies for load runs, as a validator client sends them. Attestations carry a
 * target epoch that rises per key, so a signer with slashing protection accepts them as well.
 */
import {loadNetwork} from "../config/networks.js";
import {bytesToHex} from "../hex.js";

const hex32 = (n: number) => "0x" + n.toString(16).padStart(64, "0");
/** Load runs sign as a mainnet validator past the Electra fork would: its fork_info, from the network table. */
const mainnet = loadNetwork("mainnet");
const FORK_EPOCH = Number(mainnet.forks.electra.epoch);
const forkInfo = {
  fork: {
    previous_version: bytesToHex(mainnet.forks.deneb.version),
    current_version: bytesToHex(mainnet.forks.electra.version),
    epoch: String(FORK_EPOCH),
  },
  genesis_validators_root: mainnet.genesisValidatorsRoot,
};
const SIG = "0x" + "ab".repeat(96);

/** An attestation; `blockRoot` (default: one per slot) lets every request have a root of its own. */
export function attestation(epoch: number, slotInEpoch: number, committee: number, blockRoot?: number): object {
  const slot = epoch * 32 + slotInEpoch;
  return {
    type: "ATTESTATION",
    fork_info: forkInfo,
    attestation: {
      slot: String(slot),
      index: String(committee),
      beacon_block_root: hex32(blockRoot ?? slot),
      source: {epoch: String(epoch - 1), root: hex32(epoch - 1)},
      target: {epoch: String(epoch), root: hex32(epoch)},
    },
  };
}

export const aggregationSlot = (slot: number) => ({type: "AGGREGATION_SLOT", fork_info: forkInfo, aggregation_slot: {slot: String(slot)}});

export const aggregateAndProof = (slot: number, aggregator: number) => ({
  type: "AGGREGATE_AND_PROOF_V2",
  fork_info: forkInfo,
  aggregate_and_proof: {
    version: "ELECTRA",
    data: {
      aggregator_index: String(aggregator),
      aggregate: {
        aggregation_bits: "0x" + "ff".repeat(16) + "01",
        data: (attestation(Math.floor(slot / 32), slot % 32, 0) as {attestation: object}).attestation,
        signature: SIG,
        committee_bits: "0x0100000000000000",
      },
      selection_proof: SIG,
    },
  },
});

export const syncCommitteeMessage = (slot: number) => ({
  type: "SYNC_COMMITTEE_MESSAGE",
  fork_info: forkInfo,
  sync_committee_message: {beacon_block_root: hex32(slot), slot: String(slot)},
});

export const syncSelectionProof = (slot: number, subcommittee: number) => ({
  type: "SYNC_COMMITTEE_SELECTION_PROOF",
  fork_info: forkInfo,
  sync_aggregator_selection_data: {slot: String(slot), subcommittee_index: String(subcommittee)},
});

export const syncContributionAndProof = (slot: number, subcommittee: number, aggregator: number) => ({
  type: "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF",
  fork_info: forkInfo,
  contribution_and_proof: {
    aggregator_index: String(aggregator),
    contribution: {
      slot: String(slot),
      beacon_block_root: hex32(slot),
      subcommittee_index: String(subcommittee),
      aggregation_bits: "0x" + "ff".repeat(16),
      signature: SIG,
    },
    selection_proof: SIG,
  },
});

export const randaoReveal = (epoch: number) => ({type: "RANDAO_REVEAL", fork_info: forkInfo, randao_reveal: {epoch: String(epoch)}});

export const blockHeader = (slot: number, proposer: number) => ({
  type: "BLOCK_V2",
  fork_info: forkInfo,
  beacon_block: {
    version: "ELECTRA",
    block_header: {
      slot: String(slot),
      proposer_index: String(proposer),
      parent_root: hex32(slot - 1),
      state_root: hex32(slot + 1),
      body_root: hex32(slot + 2),
    },
  },
});

/** The epoch the load runs sign at: past the mainnet Electra fork. */
export const BASE_EPOCH = FORK_EPOCH + 10;

/**
 * How many keys sign each signing root in an attestation load:
 * - `committee`: one root per (slot, committee index), 16 keys each with 1,024 keys (before Electra);
 * - `shared`: every round over the keys signs one AttestationData (Electra: committee index 0, all on one head);
 * - `unique`: every request its own root (a block root per request).
 */
export type RootSharing = "committee" | "shared" | "unique";
export const rootSharings: readonly RootSharing[] = ["committee", "shared", "unique"];

/** `count` attestation requests round-robin over the keys, each key's target epoch rising. */
export function attestations(
  pubkeys: string[],
  count: number,
  epochOffset = 0,
  roots: RootSharing = "committee"
): {pubkey: string; body: object}[] {
  return Array.from({length: count}, (_, i) => {
    const key = i % pubkeys.length;
    const epoch = BASE_EPOCH + epochOffset + Math.floor(i / pubkeys.length);
    const body =
      roots === "committee"
        ? attestation(epoch, key % 32, key % 64)
        : roots === "shared"
          ? attestation(epoch, 0, 0)
          : attestation(epoch, key % 32, 0, 2 ** 40 + i);
    return {pubkey: pubkeys[key], body};
  });
}

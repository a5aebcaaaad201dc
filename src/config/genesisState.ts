import {closeSync, fstatSync, openSync, readSync} from "node:fs";
import {bytesToHex} from "../hex.js";
import {type ForkName, forkNames} from "./forks.js";
import type {Preset} from "./presets.js";

/** What reading a genesis state needs of its network (a NetworkConfig, from config.yaml). */
type StateNetwork = {presetBase: string; preset: Preset; forks: Record<ForkName, {version: Uint8Array; epoch: bigint}>};

/**
 * What a signer takes from a testnet directory's genesis.ssz (a BeaconState, SSZ): genesis_time
 * and genesis_validators_root, the first two fields of every fork's state. Only the state's fixed
 * part is read (a devnet's state can be hundreds of MiB), and checked against the layout of the
 * fork the network's config.yaml has at the state's slot: that fork's version is the state's
 * fork.current_version, the variable fields' offsets begin right after the fixed part and stay
 * within the file. A file of another network, preset or fork, or no state at all, is refused.
 */
export type GenesisState = {genesisTime: bigint; genesisValidatorsRoot: string};

/** A BeaconState field: its size in the fixed part, or "variable" (a 4-byte offset there). */
type Field = [name: string, size: number | "variable"];

/** consensus-specs BeaconState, fork by fork (each fork lists what it adds or changes). */
function beaconStateFields(fork: ForkName, p: Preset): Field[] {
  const at = (f: ForkName) => forkNames.indexOf(fork) >= forkNames.indexOf(f);
  const checkpoint = 8 + 32;
  const syncCommittee = p.SYNC_COMMITTEE_SIZE * 48 + 48;
  return [
    ["genesis_time", 8],
    ["genesis_validators_root", 32],
    ["slot", 8],
    ["fork", 4 + 4 + 8],
    ["latest_block_header", 8 + 8 + 32 + 32 + 32],
    ["block_roots", p.SLOTS_PER_HISTORICAL_ROOT * 32],
    ["state_roots", p.SLOTS_PER_HISTORICAL_ROOT * 32],
    ["historical_roots", "variable"],
    ["eth1_data", 32 + 8 + 32],
    ["eth1_data_votes", "variable"],
    ["eth1_deposit_index", 8],
    ["validators", "variable"],
    ["balances", "variable"],
    ["randao_mixes", p.EPOCHS_PER_HISTORICAL_VECTOR * 32],
    ["slashings", p.EPOCHS_PER_SLASHINGS_VECTOR * 8],
    // phase0's epoch attestations; from Altair on, epoch participation flags: both lists
    ["previous_epoch_participation", "variable"],
    ["current_epoch_participation", "variable"],
    ["justification_bits", 1],
    ["previous_justified_checkpoint", checkpoint],
    ["current_justified_checkpoint", checkpoint],
    ["finalized_checkpoint", checkpoint],
    ...(at("altair")
      ? ([
          ["inactivity_scores", "variable"],
          ["current_sync_committee", syncCommittee],
          ["next_sync_committee", syncCommittee],
        ] as Field[])
      : []),
    ...(at("bellatrix") ? ([["latest_execution_payload_header", "variable"]] as Field[]) : []),
    ...(at("capella")
      ? ([
          ["next_withdrawal_index", 8],
          ["next_withdrawal_validator_index", 8],
          ["historical_summaries", "variable"],
        ] as Field[])
      : []),
    ...(at("electra")
      ? ([
          ["deposit_requests_start_index", 8],
          ["deposit_balance_to_consume", 8],
          ["exit_balance_to_consume", 8],
          ["earliest_exit_epoch", 8],
          ["consolidation_balance_to_consume", 8],
          ["earliest_consolidation_epoch", 8],
          ["pending_deposits", "variable"],
          ["pending_partial_withdrawals", "variable"],
          ["pending_consolidations", "variable"],
        ] as Field[])
      : []),
    ...(at("fulu") ? ([["proposer_lookahead", (p.MIN_SEED_LOOKAHEAD + 1) * p.SLOTS_PER_EPOCH * 8]] as Field[]) : []),
  ];
}

/** The size of a fork's BeaconState fixed part: what its first offset must say. */
export function beaconStateFixedSize(fork: ForkName, preset: Preset): number {
  return beaconStateFields(fork, preset).reduce((sum, [, size]) => sum + (size === "variable" ? 4 : size), 0);
}

/** The network's fork at an epoch: the last one scheduled at or before it. */
function forkAtEpoch(network: StateNetwork, epoch: bigint): ForkName {
  return forkNames.filter((f) => network.forks[f].epoch <= epoch).at(-1) ?? "phase0";
}

/** Reads and checks a genesis.ssz for `network` (its forks and preset from config.yaml). */
export function readGenesisState(path: string, network: StateNetwork): GenesisState {
  const fail = (why: string): never => {
    throw new Error(`${path}: ${why}`);
  };
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    return fail(`cannot read it: ${(e as Error).message}`);
  }
  try {
    const fileSize = fstatSync(fd).size;
    const read = (length: number, position: number) => {
      const bytes = new Uint8Array(length);
      if (readSync(fd, bytes, 0, length, position) !== length) fail(`not a BeaconState: it ends at byte ${fileSize}`);
      return new DataView(bytes.buffer);
    };
    const head = read(8 + 32 + 8 + 16, 0);
    const slot = head.getBigUint64(40, true);
    const fork = forkAtEpoch(network, slot / BigInt(network.preset.SLOTS_PER_EPOCH));
    const version = bytesToHex(new Uint8Array(head.buffer, 52, 4));
    const expected = bytesToHex(network.forks[fork].version);
    if (version !== expected) {
      fail(
        `its fork version ${version} at slot ${slot} is not ${expected}, the ${fork} fork's version in the network's config: a state of another network?`
      );
    }
    const fields = beaconStateFields(fork, network.preset);
    const fixedSize = beaconStateFixedSize(fork, network.preset);
    const fixed = read(fixedSize, 0);
    // Offsets: the first (historical_roots, in every fork) right after the fixed part, each one
    // at or after the one before, none past the end of the file.
    const notThisState = (why: string) => fail(`not a BeaconState of the ${fork} fork and the ${network.presetBase} preset: ${why}`);
    let [position, previous] = [0, fixedSize];
    for (const [name, size] of fields) {
      if (size === "variable") {
        const offset = fixed.getUint32(position, true);
        if (name === "historical_roots" && offset !== fixedSize)
          notThisState(`the offset of ${name} is ${offset}, not ${fixedSize}, the end of the fixed part`);
        if (offset < previous || offset > fileSize) notThisState(`the offset of ${name} is ${offset}, outside ${previous}…${fileSize}`);
        previous = offset;
      }
      position += size === "variable" ? 4 : size;
    }
    return {genesisTime: head.getBigUint64(0, true), genesisValidatorsRoot: bytesToHex(new Uint8Array(head.buffer, 8, 32))};
  } finally {
    closeSync(fd);
  }
}

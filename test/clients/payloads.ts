/**
 * The eth2 JSON of each signed container, as every client here writes it: uint64 as decimal strings,
 * bytes as lowercase 0x hex, snake_case keys (Lighthouse's serde, Teku's type definitions, Prysm's
 * structs, Nimbus's RestJson and Grandine's serde all agree with Lodestar's `toJson`, used here).
 */
import {ssz} from "@lodestar/types";
import {hex} from "../helpers/reference.js";
import {config, type Duty, forkAtEpoch, SLOTS_PER_EPOCH} from "./duties.js";

export const json = {
  randao: (d: Duty) => ({epoch: String(d.value)}),
  aggregationSlot: (d: Duty) => ({slot: String(d.value)}),
  attestation: (d: Duty) => ssz.phase0.AttestationData.toJson(d.value),
  aggregate: (d: Duty) => ssz[d.fork].AggregateAndProof.toJson(d.value),
  syncMessage: (d: Duty) => ({beacon_block_root: hex(d.value.beaconBlockRoot), slot: String(d.value.slot)}),
  syncSelection: (d: Duty) => ({slot: String(d.value.slot), subcommittee_index: String(d.value.subcommitteeIndex)}),
  contribution: (d: Duty) => ssz.altair.ContributionAndProof.toJson(d.value),
  exit: (d: Duty) => ssz.phase0.VoluntaryExit.toJson(d.value),
  registration: (d: Duty) => ssz.bellatrix.ValidatorRegistrationV1.toJson(d.value),
  deposit: (d: Duty) => ({
    ...(ssz.phase0.DepositMessage.toJson(d.value) as object),
    genesis_fork_version: hex(config.GENESIS_FORK_VERSION),
  }),
  /** The whole block (phase0 and altair only). */
  block: (d: Duty) => ssz[d.fork].BeaconBlock.toJson(d.value),
  /** The block's header: its body replaced by the body's root. */
  blockHeader: (d: Duty) => {
    const {slot, proposerIndex, parentRoot, stateRoot, body} = d.value;
    const bodyRoot = ssz[d.fork].BeaconBlockBody.hashTreeRoot(body);
    return ssz.phase0.BeaconBlockHeader.toJson({slot, proposerIndex, parentRoot, stateRoot, bodyRoot});
  },
};

/** The Web3Signer type name and payload key of each duty, where clients agree on them. */
export const typeOf = {
  randao: ["RANDAO_REVEAL", "randao_reveal"],
  aggregationSlot: ["AGGREGATION_SLOT", "aggregation_slot"],
  attestation: ["ATTESTATION", "attestation"],
  syncMessage: ["SYNC_COMMITTEE_MESSAGE", "sync_committee_message"],
  syncSelection: ["SYNC_COMMITTEE_SELECTION_PROOF", "sync_aggregator_selection_data"],
  contribution: ["SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF", "contribution_and_proof"],
  exit: ["VOLUNTARY_EXIT", "voluntary_exit"],
  registration: ["VALIDATOR_REGISTRATION", "validator_registration"],
  deposit: ["DEPOSIT", "deposit"],
} as const;

/** The request of a duty every client sends alike: the type, and the payload under its key. */
export function plainBody(d: Duty): Record<string, unknown> {
  if (!(d.kind in typeOf)) throw new Error(`${d.name}: a ${d.kind} duty has no request every client sends alike`);
  const [type, key] = typeOf[d.kind as keyof typeof typeOf];
  return {type, [key]: json[d.kind](d as never)};
}

/** fork_info as most clients send it: the chain's Fork (activation epoch) at `epoch`. */
export const forkInfoAt = (epoch: number) => ({fork: forkAtEpoch(epoch), genesis_validators_root: hex(config.genesisValidatorsRoot)});
export const epochOfSlot = (slot: number) => Math.floor(slot / SLOTS_PER_EPOCH);
export const signingRootHex = (d: Duty) => hex(d.root);

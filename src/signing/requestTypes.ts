import type {Type, ValueOf} from "@chainsafe/ssz";
import {type ForkName, forkNames} from "../config/networks.js";
import * as D from "./domain.js";
import {FieldError} from "./errors.js";
import {describe, fieldFromJson, fromJson, requireField, snakeToCamel} from "./json.js";
import type {RequestType, SlashableType} from "./requestTypeNames.js";
import type {AggregateAndProofType, SszTypes} from "./sszTypes.js";

/** What slashing protection checks: a block's slot, an attestation's epochs. */
export type Slashable = {slot: bigint} | {source: bigint; target: bigint};

/**
 * What a request's payload yields: the message root, and what its domain rule needs to find the
 * domain. One variant per rule:
 * - `fork`: the type's domain type, the fork version that `fork_info` gives for `epoch`, and
 *   `fork_info.genesis_validators_root` (get_domain in the consensus specs);
 * - `voluntaryExit`: as `fork`, except that past the network's Deneb fork the version is pinned to
 *   CAPELLA_FORK_VERSION (EIP-7044);
 * - `deposit`: DOMAIN_DEPOSIT with the request's own genesis_fork_version and a zero root;
 * - `builder`: DOMAIN_APPLICATION_BUILDER with the network's GENESIS_FORK_VERSION and a zero root
 *   (builder-specs, compute_builder_domain).
 */
export type Message =
  | ForkMessage
  | {domainRule: "deposit"; objectRoot: Uint8Array; forkVersion: Uint8Array}
  | {domainRule: "builder"; objectRoot: Uint8Array};
type ForkMessage = {domainRule: "fork" | "voluntaryExit"; objectRoot: Uint8Array; epoch: bigint; slashable?: Slashable};
/** What a slashable type's row yields (requestTypeNames.ts says which types are): what slashing protection checks. */
type SlashableMessage = ForkMessage & {slashable: Slashable};
type PlainMessage = Message & {slashable?: undefined};

export type RequestTypeRow<M extends Message = Message> = {
  /** The request body key that holds the payload. */
  field: string;
  domainType: D.DomainType;
  message(payload: unknown, t: SszTypes, slotsPerEpoch: bigint): M;
};
/** A type's row: a slashable type's message must carry what is checked, any other's must not. */
type RowOf<K extends RequestType> = RequestTypeRow<K extends SlashableType ? SlashableMessage : PlainMessage>;

/** The `version` of BLOCK_V2 and AGGREGATE_AND_PROOF_V2 payloads, as Web3Signer spells it. */
function readVersion(payload: unknown): ForkName {
  const version = requireField(payload, "version");
  if (typeof version !== "string") throw new FieldError("version", `expected a fork name, got ${describe(version)}`);
  const fork = version.toLowerCase().replace(/\s+/g, "") as ForkName;
  if (!forkNames.includes(fork)) {
    throw new FieldError("version", `unknown fork "${version.slice(0, 40)}" (known: ${forkNames.map((f) => f.toUpperCase()).join(", ")})`);
  }
  return fork;
}

const epochAt = (slot: bigint, slotsPerEpoch: bigint) => slot / slotsPerEpoch;

/** A message signed with the fork version `fork_info` gives for `epoch`; for blocks and attestations, what slashing protection checks. */
function forkMessage(objectRoot: Uint8Array, epoch: bigint): ForkMessage & {slashable?: undefined};
function forkMessage(objectRoot: Uint8Array, epoch: bigint, slashable: Slashable): SlashableMessage;
function forkMessage(objectRoot: Uint8Array, epoch: bigint, slashable?: Slashable): ForkMessage {
  return {domainRule: "fork", objectRoot, epoch, slashable};
}

const isObject = (json: unknown): json is Record<string, unknown> => typeof json === "object" && json !== null && !Array.isArray(json);

/** Whether `obj` holds `key` (or its camelCase spelling), as requireField would find it. */
const hasField = (obj: unknown, key: string) => isObject(obj) && (obj[key] ?? obj[snakeToCamel(key)]) != null;

/**
 * AGGREGATE_AND_PROOF and AGGREGATE_AND_PROOF_V2 read alike, as Web3Signer reads them (its
 * AggregateAndProofV2Deserializer serves both): `{version, data}` (either key present means this
 * form, so a missing one is named), where the version names the shape (EIP-7549 changed it in
 * Electra), or the bare AggregateAndProof, whose shape shows it: an aggregate with committee_bits is
 * Electra's. Lighthouse, Teku and Grandine send Electra's bare shape under the unversioned type.
 */
function aggregateAndProofRow(): RequestTypeRow<PlainMessage> {
  return {
    field: "aggregate_and_proof",
    domainType: D.DOMAIN_AGGREGATE_AND_PROOF,
    message(payload, t, spe) {
      const versioned = hasField(payload, "version") || hasField(payload, "data");
      const fork: ForkName = versioned
        ? readVersion(payload)
        : hasField(requireField(payload, "aggregate"), "committee_bits")
          ? "electra"
          : "phase0";
      const type: AggregateAndProofType = t.byFork[fork].AggregateAndProof;
      const value = versioned ? fieldFromJson(type, payload, "data") : fromJson(type, payload);
      return forkMessage(type.hashTreeRoot(value), epochAt(value.aggregate.data.slot, spe));
    },
  };
}

/** The SSZ types that are one container for every fork (those that change live in `byFork`). */
type ForkFreeTypes = Omit<SszTypes, "byFork">;

/** A row whose payload is one SSZ container signed as is, with the fork version of `epoch`. */
function container<K extends keyof ForkFreeTypes>(
  field: string,
  domainType: D.DomainType,
  typeName: K,
  epochOf: (value: ValueOf<ForkFreeTypes[K]>, slotsPerEpoch: bigint) => bigint
): RequestTypeRow<PlainMessage> {
  return {
    field,
    domainType,
    message(payload, t, spe) {
      const type = t[typeName] as unknown as Type<ValueOf<ForkFreeTypes[K]>>;
      const value = fromJson(type, payload);
      return forkMessage(type.hashTreeRoot(value), epochOf(value, spe));
    },
  };
}

/**
 * One row per Web3Signer eth2 request type: where its payload is, how its message root is
 * computed and which domain it is signed with. Parsing, signing roots, metric labels and tests
 * all read this table; a new type is a new row.
 */
export const requestTypes: {[K in RequestType]: RowOf<K>} = {
  AGGREGATION_SLOT: {
    field: "aggregation_slot",
    domainType: D.DOMAIN_SELECTION_PROOF,
    message(payload, t, spe) {
      const {slot} = fromJson(t.Slot, payload);
      return forkMessage(t.Uint64.hashTreeRoot(slot), epochAt(slot, spe));
    },
  },
  AGGREGATE_AND_PROOF: aggregateAndProofRow(),
  AGGREGATE_AND_PROOF_V2: aggregateAndProofRow(),
  ATTESTATION: {
    field: "attestation",
    domainType: D.DOMAIN_BEACON_ATTESTER,
    message(payload, t) {
      const data = fromJson(t.AttestationData, payload);
      return forkMessage(t.AttestationData.hashTreeRoot(data), data.target.epoch, {source: data.source.epoch, target: data.target.epoch});
    },
  },
  BLOCK: {
    field: "block",
    domainType: D.DOMAIN_BEACON_PROPOSER,
    message(payload, t, spe) {
      const type = t.byFork.phase0.BeaconBlock!;
      const block = fromJson(type, payload);
      return forkMessage(type.hashTreeRoot(block), epochAt(block.slot, spe), {slot: block.slot});
    },
  },
  BLOCK_V2: {
    field: "beacon_block",
    domainType: D.DOMAIN_BEACON_PROPOSER,
    message(payload, t, spe) {
      // A block's root equals its header's root; from Bellatrix on clients send only the header,
      // and Nimbus sends the header for every version, so forks with full blocks take either.
      const blockType = t.byFork[readVersion(payload)].BeaconBlock;
      if (blockType && !hasField(payload, "block_header")) {
        const block = fieldFromJson(blockType, payload, "block");
        return forkMessage(blockType.hashTreeRoot(block), epochAt(block.slot, spe), {slot: block.slot});
      }
      const header = fieldFromJson(t.BeaconBlockHeader, payload, "block_header");
      return forkMessage(t.BeaconBlockHeader.hashTreeRoot(header), epochAt(header.slot, spe), {slot: header.slot});
    },
  },
  DEPOSIT: {
    field: "deposit",
    domainType: D.DOMAIN_DEPOSIT,
    message(payload, t) {
      const {genesis_fork_version, ...depositMessage} = fromJson(t.DepositRequestData, payload);
      return {domainRule: "deposit", objectRoot: t.DepositMessage.hashTreeRoot(depositMessage), forkVersion: genesis_fork_version};
    },
  },
  RANDAO_REVEAL: {
    field: "randao_reveal",
    domainType: D.DOMAIN_RANDAO,
    message(payload, t) {
      const {epoch} = fromJson(t.Epoch, payload);
      return forkMessage(t.Uint64.hashTreeRoot(epoch), epoch);
    },
  },
  VOLUNTARY_EXIT: {
    field: "voluntary_exit",
    domainType: D.DOMAIN_VOLUNTARY_EXIT,
    message(payload, t) {
      const exit = fromJson(t.VoluntaryExit, payload);
      return {domainRule: "voluntaryExit", objectRoot: t.VoluntaryExit.hashTreeRoot(exit), epoch: exit.epoch};
    },
  },
  SYNC_COMMITTEE_MESSAGE: {
    field: "sync_committee_message",
    domainType: D.DOMAIN_SYNC_COMMITTEE,
    message(payload, t, spe) {
      // The signed object is the block root itself; the slot only picks the domain.
      const {beacon_block_root, slot} = fromJson(t.SyncCommitteeMessage, payload);
      return forkMessage(t.Bytes32.hashTreeRoot(beacon_block_root), epochAt(slot, spe));
    },
  },
  SYNC_COMMITTEE_SELECTION_PROOF: container(
    "sync_aggregator_selection_data",
    D.DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF,
    "SyncAggregatorSelectionData",
    (v, spe) => epochAt(v.slot, spe)
  ),
  SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF: container(
    "contribution_and_proof",
    D.DOMAIN_CONTRIBUTION_AND_PROOF,
    "ContributionAndProof",
    (v, spe) => epochAt(v.contribution.slot, spe)
  ),
  VALIDATOR_REGISTRATION: {
    field: "validator_registration",
    domainType: D.DOMAIN_APPLICATION_BUILDER,
    message(payload, t) {
      return {domainRule: "builder", objectRoot: t.ValidatorRegistration.hashTreeRoot(fromJson(t.ValidatorRegistration, payload))};
    },
  },
};

import type {ForkName} from "../config/networks.js";
import * as D from "./domain.js";
import {FieldError} from "./errors.js";
import {describe, fieldFromJson, fromJson, requireField, snakeToCamel} from "./json.js";
import type {RequestType} from "./requestTypeNames.js";
import type {SszTypes} from "./sszTypes.js";
import type {Type, ValueOf} from "@chainsafe/ssz";

/**
 * How the domain of a request type is found:
 * - `fork`: the type's domain type, the fork version that `fork_info` gives for the message's epoch,
 *   and `fork_info.genesis_validators_root` (get_domain in the consensus specs);
 * - `voluntaryExit`: as `fork`, except that from the network's Deneb epoch on the version is pinned
 *   to CAPELLA_FORK_VERSION (EIP-7044);
 * - `deposit`: DOMAIN_DEPOSIT with the request's own genesis_fork_version and a zero root;
 * - `builder`: DOMAIN_APPLICATION_BUILDER with the network's GENESIS_FORK_VERSION and a zero root
 *   (builder-specs, compute_builder_domain).
 */
export type DomainRule = "fork" | "voluntaryExit" | "deposit" | "builder";

/** What a request type's payload yields: the message root and what picks its domain. */
export type Message = {
  objectRoot: Uint8Array;
  /** The epoch that picks the fork version (`fork` and `voluntaryExit` rules). */
  epoch?: bigint;
  /** `deposit` rule: the version sent in the request. */
  forkVersion?: Uint8Array;
  /** What slashing protection checks: a block's slot, an attestation's epochs. */
  slashable?: {slot: bigint} | {source: bigint; target: bigint};
};

export type RequestTypeRow = {
  /** The request body key that holds the payload. */
  field: string;
  domainRule: DomainRule;
  domainType: D.DomainType;
  message(payload: unknown, t: SszTypes, slotsPerEpoch: bigint): Message;
};

/** The `version` of BLOCK_V2 and AGGREGATE_AND_PROOF_V2 payloads, as Web3Signer spells it. */
function readVersion(payload: unknown): ForkName {
  const version = requireField(payload, "version");
  if (typeof version !== "string") throw new FieldError("version", `expected a fork name, got ${describe(version)}`);
  const fork = version.toLowerCase().replace(/\s+/g, "") as ForkName;
  if (!versionedForks.includes(fork)) {
    throw new FieldError("version", `unknown fork "${version.slice(0, 40)}" (known: ${versionedForks.map((f) => f.toUpperCase()).join(", ")})`);
  }
  return fork;
}
const versionedForks: readonly ForkName[] = ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"];


const epochAt = (slot: bigint, slotsPerEpoch: bigint) => slot / slotsPerEpoch;

const isObject = (json: unknown): json is Record<string, unknown> => typeof json === "object" && json !== null && !Array.isArray(json);

/** Whether `obj` holds `key` (or its camelCase spelling), as requireField would find it. */
const hasField = (obj: unknown, key: string) => isObject(obj) && (obj[key] ?? obj[snakeToCamel(key)]) != null;

type AggregateAndProofValue = {aggregate: {data: {slot: bigint}}};
/** Either fork's AggregateAndProof: its root, and the aggregate's slot picks the fork version. */
function aggregateAndProofMessage(type: SszTypes["AggregateAndProof" | "ElectraAggregateAndProof"], value: AggregateAndProofValue, spe: bigint): Message {
  return {objectRoot: (type as Type<AggregateAndProofValue>).hashTreeRoot(value), epoch: epochAt(value.aggregate.data.slot, spe)};
}

/** A row whose payload is one SSZ container, signed as is; `epoch` picks the fork version. */
function container<K extends keyof SszTypes>(
  field: string,
  domainType: D.DomainType,
  typeName: K,
  rules: {
    epoch?: (value: ValueOf<SszTypes[K]>, slotsPerEpoch: bigint) => bigint;
    domainRule?: DomainRule;
    slashable?: (value: ValueOf<SszTypes[K]>) => Message["slashable"];
  }
): RequestTypeRow {
  return {
    field,
    domainRule: rules.domainRule ?? "fork",
    domainType,
    message(payload, t, spe) {
      const type = t[typeName] as unknown as Type<ValueOf<SszTypes[K]>>;
      const value = fromJson(type, payload);
      return {objectRoot: type.hashTreeRoot(value), epoch: rules.epoch?.(value, spe), slashable: rules.slashable?.(value)};
    },
  };
}

/**
 * One row per Web3Signer eth2 request type: where its payload is, how its message root is
 * computed and which domain it is signed with. Parsing, signing roots, metric labels and tests
 * all read this table; a new type is a new row.
 */
export const requestTypes: Record<RequestType, RequestTypeRow> = {
  AGGREGATION_SLOT: {
    field: "aggregation_slot",
    domainRule: "fork",
    domainType: D.DOMAIN_SELECTION_PROOF,
    message(payload, t, spe) {
      const {slot} = fromJson(t.Slot, payload);
      return {objectRoot: t.Uint64.hashTreeRoot(slot), epoch: epochAt(slot, spe)};
    },
  },
  AGGREGATE_AND_PROOF: {
    field: "aggregate_and_proof",
    domainRule: "fork",
    domainType: D.DOMAIN_AGGREGATE_AND_PROOF,
    message(payload, t, spe) {
      // Lighthouse, Teku and Grandine keep this unversioned type after Electra and send Electra's
      // shape in it (Web3Signer reads it with the network's fork at the aggregate's slot), so the
      // shape decides: an aggregate with committee_bits is Electra's.
      const type = hasField(requireField(payload, "aggregate"), "committee_bits") ? t.ElectraAggregateAndProof : t.AggregateAndProof;
      return aggregateAndProofMessage(type, fromJson(type as Type<AggregateAndProofValue>, payload), spe);
    },
  },
  AGGREGATE_AND_PROOF_V2: {
    field: "aggregate_and_proof",
    domainRule: "fork",
    domainType: D.DOMAIN_AGGREGATE_AND_PROOF,
    message(payload, t, spe) {
      const fork = readVersion(payload);
      // EIP-7549 changed the aggregate's shape in Electra.
      const type = fork === "electra" || fork === "fulu" ? t.ElectraAggregateAndProof : t.AggregateAndProof;
      return aggregateAndProofMessage(type, fieldFromJson(type as Type<AggregateAndProofValue>, payload, "data"), spe);
    },
  },
  ATTESTATION: container("attestation", D.DOMAIN_BEACON_ATTESTER, "AttestationData", {
    epoch: (v) => v.target.epoch,
    slashable: (v) => ({source: v.source.epoch, target: v.target.epoch}),
  }),
  BLOCK: container("block", D.DOMAIN_BEACON_PROPOSER, "Phase0BeaconBlock", {
    epoch: (v, spe) => epochAt(v.slot, spe),
    slashable: (v) => ({slot: v.slot}),
  }),
  BLOCK_V2: {
    field: "beacon_block",
    domainRule: "fork",
    domainType: D.DOMAIN_BEACON_PROPOSER,
    message(payload, t, spe) {
      const fork = readVersion(payload);
      // A block's root equals its header's root; from Bellatrix on clients send only the header,
      // and Nimbus sends the header for every version, so PHASE0 and ALTAIR take either.
      if ((fork === "phase0" || fork === "altair") && !hasField(payload, "block_header")) {
        const type = fork === "phase0" ? t.Phase0BeaconBlock : t.AltairBeaconBlock;
        const value = fieldFromJson<{slot: bigint}>(type as never, payload, "block");
        return {objectRoot: type.hashTreeRoot(value as never), epoch: epochAt(value.slot, spe), slashable: {slot: value.slot}};
      }
      const header = fieldFromJson(t.BeaconBlockHeader, payload, "block_header");
      return {objectRoot: t.BeaconBlockHeader.hashTreeRoot(header), epoch: epochAt(header.slot, spe), slashable: {slot: header.slot}};
    },
  },
  DEPOSIT: {
    field: "deposit",
    domainRule: "deposit",
    domainType: D.DOMAIN_DEPOSIT,
    message(payload, t) {
      const {genesis_fork_version, ...depositMessage} = fromJson(t.DepositRequestData, payload);
      return {objectRoot: t.DepositMessage.hashTreeRoot(depositMessage), forkVersion: genesis_fork_version};
    },
  },
  RANDAO_REVEAL: {
    field: "randao_reveal",
    domainRule: "fork",
    domainType: D.DOMAIN_RANDAO,
    message(payload, t) {
      const {epoch} = fromJson(t.Epoch, payload);
      return {objectRoot: t.Uint64.hashTreeRoot(epoch), epoch};
    },
  },
  VOLUNTARY_EXIT: container("voluntary_exit", D.DOMAIN_VOLUNTARY_EXIT, "VoluntaryExit", {epoch: (v) => v.epoch, domainRule: "voluntaryExit"}),
  SYNC_COMMITTEE_MESSAGE: {
    field: "sync_committee_message",
    domainRule: "fork",
    domainType: D.DOMAIN_SYNC_COMMITTEE,
    message(payload, t, spe) {
      // The signed object is the block root itself; the slot only picks the domain.
      const {beacon_block_root, slot} = fromJson(t.SyncCommitteeMessage, payload);
      return {objectRoot: t.Bytes32.hashTreeRoot(beacon_block_root), epoch: epochAt(slot, spe)};
    },
  },
  SYNC_COMMITTEE_SELECTION_PROOF: container("sync_aggregator_selection_data", D.DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF, "SyncAggregatorSelectionData", {
    epoch: (v, spe) => epochAt(v.slot, spe),
  }),
  SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF: container("contribution_and_proof", D.DOMAIN_CONTRIBUTION_AND_PROOF, "ContributionAndProof", {
    epoch: (v, spe) => epochAt(v.contribution.slot, spe),
  }),
  VALIDATOR_REGISTRATION: container("validator_registration", D.DOMAIN_APPLICATION_BUILDER, "ValidatorRegistration", {domainRule: "builder"}),
};

/**
 * Signing requests of every type and fork, made from random values of Lodestar's own SSZ types,
 * with the signing root Lodestar's types and the reference domain code give for them. The signer
 * shares no SSZ definitions with Lodestar, so agreement is evidence, not a tautology.
 *
 * Lodestar fixes its preset per process from LODESTAR_PRESET at import, so this module is loaded
 * with a dynamic import after the variable is set, and checks that it took.
 */
import {
  BitArray,
  BitListType,
  BitVectorType,
  BooleanType,
  ByteVectorType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  type Type,
  UintBigintType,
  UintNumberType,
  VectorBasicType,
  VectorCompositeType,
} from "@chainsafe/ssz";
import {bytes, computeDomain, computeSigningRoot, DOMAIN, hex, rng} from "./reference.js";

export type OracleCase = {name: string; type: string; body: Record<string, unknown>; signingRoot: Uint8Array};

type Rng = ReturnType<typeof rng>;

export function randomValue(type: Type<unknown>, r: Rng): unknown {
  if (type instanceof UintNumberType) return r.int(2 ** 32);
  if (type instanceof UintBigintType) return BigInt(r.int(2 ** 32));
  if (type instanceof BooleanType) return r.next() < 0.5;
  if (type instanceof ByteVectorType) return r.bytes(type.lengthBytes);
  if (type instanceof BitListType) {
    return BitArray.fromBoolArray(Array.from({length: 1 + r.int(Math.min(type.limitBits, 40))}, () => r.next() < 0.5));
  }
  if (type instanceof BitVectorType) return BitArray.fromBoolArray(Array.from({length: type.lengthBits}, () => r.next() < 0.5));
  if (type instanceof ContainerType) {
    return Object.fromEntries(Object.entries(type.fields as Record<string, Type<unknown>>).map(([k, t]) => [k, randomValue(t, r)]));
  }
  if (type instanceof ListCompositeType || type instanceof ListBasicType) {
    return Array.from({length: r.int(Math.min(type.limit, 2) + 1)}, () => randomValue(type.elementType as Type<unknown>, r));
  }
  if (type instanceof VectorCompositeType || type instanceof VectorBasicType) {
    return Array.from({length: type.length}, () => randomValue(type.elementType as Type<unknown>, r));
  }
  throw new Error(`no random value for ${type.typeName}`);
}

export async function loadOracle(preset: "mainnet" | "minimal") {
  process.env.LODESTAR_PRESET = preset;
  const params = await import("@lodestar/params");
  if (params.ACTIVE_PRESET !== preset) throw new Error(`Lodestar loaded the ${params.ACTIVE_PRESET} preset, not ${preset}`);
  const {ssz} = await import("@lodestar/types");
  const SPE = BigInt(params.SLOTS_PER_EPOCH);

  // Network facts the oracle needs, from the specs' configs rather than the signer's tables.
  const network =
    preset === "mainnet"
      ? {genesis: "0x00000000", capella: "0x03000000", denebEpoch: 269568n}
      : {genesis: "0x00000001", capella: "0x03000001", denebEpoch: 2n ** 64n - 1n};

  type Spec = {
    type: string;
    forks: (string | null)[];
    /** The Lodestar type of the signed payload for a fork. */
    sszType: (fork: string | null) => Type<any>;
    /** The request body's payload for a value. */
    payload: (json: any, fork: string | null) => [string, unknown];
    /** The epoch that picks the fork version, or null for fork-independent domains. */
    epoch: (v: any) => bigint | null;
    domain: string;
    objectRoot?: (v: any) => Uint8Array;
  };
  const V2_FORKS = ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"];
  const at = (slot: number) => BigInt(slot) / SPE;
  const specs: Spec[] = [
    {
      type: "AGGREGATION_SLOT",
      forks: [null],
      sszType: () => ssz.Slot,
      payload: (j) => ["aggregation_slot", {slot: j}],
      epoch: (v) => at(v),
      domain: DOMAIN.SELECTION_PROOF,
    },
    {
      type: "AGGREGATE_AND_PROOF",
      forks: [null],
      sszType: () => ssz.phase0.AggregateAndProof,
      payload: (j) => ["aggregate_and_proof", j],
      epoch: (v) => at(v.aggregate.data.slot),
      domain: DOMAIN.AGGREGATE_AND_PROOF,
    },
    {
      type: "AGGREGATE_AND_PROOF_V2",
      forks: V2_FORKS,
      sszType: (f) => (f === "electra" || f === "fulu" ? ssz.electra.AggregateAndProof : ssz.phase0.AggregateAndProof),
      payload: (j, f) => ["aggregate_and_proof", {version: f!.toUpperCase(), data: j}],
      epoch: (v) => at(v.aggregate.data.slot),
      domain: DOMAIN.AGGREGATE_AND_PROOF,
    },
    {
      type: "ATTESTATION",
      forks: [null],
      sszType: () => ssz.phase0.AttestationData,
      payload: (j) => ["attestation", j],
      epoch: (v) => BigInt(v.target.epoch),
      domain: DOMAIN.BEACON_ATTESTER,
    },
    {
      type: "BLOCK",
      forks: [null],
      sszType: () => ssz.phase0.BeaconBlock,
      payload: (j) => ["block", j],
      epoch: (v) => at(v.slot),
      domain: DOMAIN.BEACON_PROPOSER,
    },
    {
      type: "BLOCK_V2",
      forks: V2_FORKS,
      sszType: (f) => (f === "phase0" ? ssz.phase0.BeaconBlock : f === "altair" ? ssz.altair.BeaconBlock : ssz.phase0.BeaconBlockHeader),
      payload: (j, f) => ["beacon_block", {version: f!.toUpperCase(), [f === "phase0" || f === "altair" ? "block" : "block_header"]: j}],
      epoch: (v) => at(v.slot),
      domain: DOMAIN.BEACON_PROPOSER,
    },
    {
      type: "DEPOSIT",
      forks: [null],
      sszType: () => ssz.phase0.DepositMessage,
      payload: (j) => ["deposit", j],
      epoch: () => null,
      domain: DOMAIN.DEPOSIT,
    },
    {
      type: "RANDAO_REVEAL",
      forks: [null],
      sszType: () => ssz.Epoch,
      payload: (j) => ["randao_reveal", {epoch: j}],
      epoch: (v) => BigInt(v),
      domain: DOMAIN.RANDAO,
    },
    {
      type: "VOLUNTARY_EXIT",
      forks: [null],
      sszType: () => ssz.phase0.VoluntaryExit,
      payload: (j) => ["voluntary_exit", j],
      epoch: (v) => BigInt(v.epoch),
      domain: DOMAIN.VOLUNTARY_EXIT,
    },
    {
      type: "SYNC_COMMITTEE_MESSAGE",
      forks: [null],
      sszType: () => ssz.altair.SyncCommitteeMessage,
      payload: (j) => ["sync_committee_message", {beacon_block_root: j.beacon_block_root, slot: j.slot}],
      epoch: (v) => at(v.slot),
      domain: DOMAIN.SYNC_COMMITTEE,
      objectRoot: (v) => ssz.Root.hashTreeRoot(v.beaconBlockRoot),
    },
    {
      type: "SYNC_COMMITTEE_SELECTION_PROOF",
      forks: [null],
      sszType: () => ssz.altair.SyncAggregatorSelectionData,
      payload: (j) => ["sync_aggregator_selection_data", j],
      epoch: (v) => at(v.slot),
      domain: DOMAIN.SYNC_COMMITTEE_SELECTION_PROOF,
    },
    {
      type: "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF",
      forks: [null],
      sszType: () => ssz.altair.ContributionAndProof,
      payload: (j) => ["contribution_and_proof", j],
      epoch: (v) => at(v.contribution.slot),
      domain: DOMAIN.CONTRIBUTION_AND_PROOF,
    },
    {
      type: "VALIDATOR_REGISTRATION",
      forks: [null],
      sszType: () => ssz.bellatrix.ValidatorRegistrationV1,
      payload: (j) => ["validator_registration", j],
      epoch: () => null,
      domain: DOMAIN.APPLICATION_BUILDER,
    },
  ];

  /** `perFork` random cases for every request type and fork. */
  function cases(perFork: number, seed = 1): OracleCase[] {
    const r = rng(seed);
    const out: OracleCase[] = [];
    for (const spec of specs) {
      for (const fork of spec.forks) {
        for (let i = 0; i < perFork; i++) {
          const type = spec.sszType(fork);
          const value = randomValue(type, r) as any;
          const [field, payload] = spec.payload(type.toJson(value), fork);
          const body: Record<string, unknown> = {type: spec.type, [field]: payload};
          const objectRoot = spec.objectRoot ? spec.objectRoot(value) : type.hashTreeRoot(value);
          let domain: Uint8Array;
          const epoch = spec.epoch(value);
          if (spec.type === "DEPOSIT") {
            const version = r.bytes(4);
            (payload as any).genesis_fork_version = hex(version);
            domain = computeDomain(spec.domain, version, new Uint8Array(32));
          } else if (spec.type === "VALIDATOR_REGISTRATION") {
            domain = computeDomain(spec.domain, bytes(network.genesis), new Uint8Array(32));
          } else {
            const [previous, current, gvr] = [r.bytes(4), r.bytes(4), r.bytes(32)];
            // Half the cases sit just before the fork epoch, so both versions get picked.
            const forkEpoch = (epoch as bigint) + BigInt(r.int(2));
            body.fork_info = {
              fork: {previous_version: hex(previous), current_version: hex(current), epoch: String(forkEpoch)},
              genesis_validators_root: hex(gvr),
            };
            const exitPinned = spec.type === "VOLUNTARY_EXIT" && (epoch as bigint) >= network.denebEpoch;
            const version = exitPinned ? bytes(network.capella) : (epoch as bigint) < forkEpoch ? previous : current;
            domain = computeDomain(spec.domain, version, gvr);
          }
          out.push({
            name: `${spec.type}${fork ? ` ${fork.toUpperCase()}` : ""} #${i}`,
            type: spec.type,
            body,
            signingRoot: computeSigningRoot(objectRoot, domain),
          });
        }
      }
    }
    return out;
  }
  return {cases, ssz, params};
}

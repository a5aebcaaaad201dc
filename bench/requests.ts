/**
 * Signing request bodies for load runs, as a validator client sends them. Attestations carry a
 * target epoch that rises per key, so a signer with slashing protection accepts them as well.
 */
const hex32 = (n: number) => "0x" + n.toString(16).padStart(64, "0");
const GVR = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";
const FORK_EPOCH = 364032; // mainnet Electra
const forkInfo = {fork: {previous_version: "0x04000000", current_version: "0x05000000", epoch: String(FORK_EPOCH)}, genesis_validators_root: GVR};
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

export const blockHeader = (slot: number, proposer: number) => ({
  type: "BLOCK_V2",
  fork_info: forkInfo,
  beacon_block: {
    version: "ELECTRA",
    block_header: {slot: String(slot), proposer_index: String(proposer), parent_root: hex32(slot - 1), state_root: hex32(slot + 1), body_root: hex32(slot + 2)},
  },
});

export const randaoReveal = (epoch: number) => ({type: "RANDAO_REVEAL", fork_info: forkInfo, randao_reveal: {epoch: String(epoch)}});

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
export function attestations(pubkeys: string[], count: number, epochOffset = 0, roots: RootSharing = "committee"): {pubkey: string; body: object}[] {
  return Array.from({length: count}, (_, i) => {
    const key = i % pubkeys.length;
    const epoch = BASE_EPOCH + epochOffset + Math.floor(i / pubkeys.length);
    const body =
      roots === "committee" ? attestation(epoch, key % 32, key % 64) : roots === "shared" ? attestation(epoch, 0, 0) : attestation(epoch, key % 32, 0, 2 ** 40 + i);
    return {pubkey: pubkeys[key], body};
  });
}

/** Validator v of a duty load signs with `pubkeys[v % pubkeys.length]`. */
export type DutyRequest = {pubkey: string; body: object};

/**
 * One slot of a devnet's duties for `validators` validators on mainnet's Electra rules, all on one
 * head: each validator attests once an epoch, so the slot's attesters (one in 32) all sign one
 * AttestationData, and all of them sign the slot's selection proof to learn whether they
 * aggregate; 16 aggregators per committee sign their aggregates; the sync committee (512) signs
 * the slot's block root and one of 4 subcommittee selection proofs; the proposer signs its RANDAO
 * reveal and the block. Unique roots per slot: about 41 with 10,000 validators, against ~1,700
 * requests; the hash-to-G2 work follows the roots, not the validators.
 */
export function dutySlot(slot: number, validators: number, pubkeys: string[]): {start: DutyRequest[]; third: DutyRequest[]; twoThirds: DutyRequest[]} {
  const key = (v: number) => pubkeys[v % pubkeys.length];
  const epoch = Math.floor(slot / 32);
  const attesters = Array.from({length: Math.ceil((validators - (slot % 32)) / 32)}, (_, k) => k * 32 + (slot % 32));
  const committees = Math.max(1, Math.min(64, Math.floor(validators / 32 / 128)));
  const aggregators = attesters.slice(0, 16 * committees);
  const syncCommittee = Array.from({length: Math.min(512, validators)}, (_, k) => k);
  const proposer = slot % validators;
  return {
    start: [
      {pubkey: key(proposer), body: randaoReveal(epoch)},
      {pubkey: key(proposer), body: blockHeader(slot, proposer)},
    ],
    third: [
      ...attesters.map((v) => ({pubkey: key(v), body: attestation(epoch, slot % 32, 0)})),
      ...syncCommittee.map((v) => ({pubkey: key(v), body: syncCommitteeMessage(slot)})),
    ],
    twoThirds: [
      ...attesters.map((v) => ({pubkey: key(v), body: aggregationSlot(slot)})),
      ...aggregators.map((v) => ({pubkey: key(v), body: aggregateAndProof(slot, v)})),
      ...syncCommittee.map((v, k) => ({pubkey: key(v), body: syncSelectionProof(slot, Math.floor(k / 128))})),
    ],
  };
}

/**
 * The devnet profile: the duties of N validators, replayed slot by slot in real time, with the
 * shared roots real validators produce, and each duty checked against its deadline.
 *
 * Per slot (mainnet preset, Electra): the proposer signs its RANDAO reveal, then its block, at the
 * slot start; the slot's attesters (the validators with index ≡ slot mod 32, about N/32) sign one
 * shared AttestationData, and the sync committee (the first min(N, 512) validators) the slot's
 * block root, at 1/3 of the slot; at 2/3 every attester signs its selection proof (one shared
 * root) and the aggregators (16 per committee) then their aggregates, and every sync committee
 * member signs its subcommittee's selection proof and the contributors (16 per subcommittee) then
 * their contributions. Each duty is due 1/3 of a slot after it is sent: a block must reach the
 * attesters before they vote at 1/3, attestations and sync messages the aggregators before 2/3,
 * aggregates and contributions the next proposer before the slot ends.
 */
import {type DutyReport, type LoadResult, type LoadTarget, measure, signRequest} from "./load.js";
import type {Outcome} from "./recorder.js";
import * as R from "./requests.js";
import type {Runner} from "./runner.js";

/** Mainnet's genesis time: slots are numbered as the chain's would be at this moment. */
const MAINNET_GENESIS_SECONDS = 1606824023;
const SLOTS_PER_EPOCH = 32;
const MAX_COMMITTEES_PER_SLOT = 64;
const TARGET_COMMITTEE_SIZE = 128;
const TARGET_AGGREGATORS_PER_COMMITTEE = 16;
const SYNC_COMMITTEE_SIZE = 512;
const SYNC_COMMITTEE_SUBNET_COUNT = 4;
const TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE = 16;

type DutyKind = {duty: string; sent: number; due: number};
const DUTIES = {
  randao: {duty: "RANDAO reveal", sent: 0, due: 1 / 3},
  block: {duty: "block (after its RANDAO reveal)", sent: 0, due: 1 / 3},
  attestation: {duty: "attestation", sent: 1 / 3, due: 2 / 3},
  syncMessage: {duty: "sync committee message", sent: 1 / 3, due: 2 / 3},
  selectionProof: {duty: "aggregation selection proof", sent: 2 / 3, due: 1},
  aggregate: {duty: "aggregate and proof (after its selection proof)", sent: 2 / 3, due: 1},
  syncSelectionProof: {duty: "sync selection proof", sent: 2 / 3, due: 1},
  contribution: {duty: "sync contribution (after its selection proof)", sent: 2 / 3, due: 1},
} satisfies Record<string, DutyKind>;
type DutyName = keyof typeof DUTIES;

/** Every `every`-th member of a group is an aggregator, so a group of `size` has about `target` of them. */
const aggregatorStride = (size: number, target: number) => Math.max(1, Math.floor(size / target));

/** Counts each duty's outcome against its deadline. */
class DutyBook {
  private readonly reports = new Map<DutyName, DutyReport & {misses: Map<number, number>}>();

  constructor() {
    for (const [name, d] of Object.entries(DUTIES) as [DutyName, DutyKind][]) {
      this.reports.set(name, {
        duty: d.duty,
        sentAtSlotFraction: d.sent,
        dueAtSlotFraction: d.due,
        total: 0,
        onTime: 0,
        late: 0,
        failed: 0,
        missesBySlot: [],
        misses: new Map(),
      });
    }
  }

  record(name: DutyName, slotIndex: number, dueMs: number, outcome: Outcome, doneMs: number): void {
    const r = this.reports.get(name)!;
    r.total++;
    if (outcome === 200 && doneMs <= dueMs) return void r.onTime++;
    if (outcome === 200) r.late++;
    else r.failed++;
    r.misses.set(slotIndex, (r.misses.get(slotIndex) ?? 0) + 1);
  }

  result(): DutyReport[] {
    return [...this.reports.values()]
      .filter((r) => r.total > 0)
      .map(({misses, ...r}) => ({
        ...r,
        missesBySlot: [...misses].map(([slot, missed]) => ({slot, missed})).sort((a, b) => a.slot - b.slot),
      }));
  }
}

export type DevnetOptions = {slots: number; slotSeconds: number};

export async function devnet(t: LoadTarget, {slots, slotSeconds}: DevnetOptions): Promise<LoadResult> {
  const {target, pubkeys} = t;
  const n = pubkeys.length;
  const slotMs = slotSeconds * 1000;
  const firstSlot = Math.floor((Date.now() / 1000 - MAINNET_GENESIS_SECONDS) / 12) + 1;
  const syncMembers = Math.min(n, SYNC_COMMITTEE_SIZE);
  const subcommitteeOf = (k: number) => Math.floor((k * SYNC_COMMITTEE_SUBNET_COUNT) / syncMembers);
  const book = new DutyBook();

  return measure("devnet", t, async (runner: Runner, recorder) => {
    const inFlight: Promise<void>[] = [];
    const t0 = recorder.startMs;
    const dueMs = (name: DutyName, slotIndex: number) => t0 + (slotIndex + DUTIES[name].due) * slotMs;
    /**
     * Sends one duty's request; with `then`, the duty that follows from it (an aggregate after its
     * selection proof), sent once the first is signed and failed with it otherwise.
     */
    const duty = (name: DutyName, slotIndex: number, request: Buffer, then?: {name: DutyName; request: Buffer}) => {
      const onDone = (outcome: Outcome, doneMs: number) => {
        book.record(name, slotIndex, dueMs(name, slotIndex), outcome, doneMs);
        if (!then) return;
        if (outcome === 200) duty(then.name, slotIndex, then.request);
        else book.record(then.name, slotIndex, dueMs(then.name, slotIndex), outcome, doneMs);
      };
      inFlight.push(runner.send([{request, onDone}]));
    };
    const sleepUntil = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - performance.now())));

    for (let s = 0; s < slots; s++) {
      const slot = firstSlot + s;
      const epoch = Math.floor(slot / SLOTS_PER_EPOCH);
      const slotStart = t0 + s * slotMs;
      const attesters = pubkeys.map((pk, i) => ({pk, i})).filter(({i}) => i % SLOTS_PER_EPOCH === slot % SLOTS_PER_EPOCH);
      const committees = Math.max(1, Math.min(MAX_COMMITTEES_PER_SLOT, Math.floor(attesters.length / TARGET_COMMITTEE_SIZE)));
      const attesterStride = aggregatorStride(attesters.length, TARGET_AGGREGATORS_PER_COMMITTEE * committees);
      const subcommitteeStride = aggregatorStride(syncMembers / SYNC_COMMITTEE_SUBNET_COUNT, TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE);

      await sleepUntil(slotStart);
      const proposer = slot % n;
      duty("randao", s, signRequest(target, pubkeys[proposer], R.randaoReveal(epoch)), {
        name: "block",
        request: signRequest(target, pubkeys[proposer], R.blockHeader(slot, proposer)),
      });

      await sleepUntil(slotStart + slotMs / 3);
      const attestation = R.attestation(epoch, slot % SLOTS_PER_EPOCH, 0); // Electra: one AttestationData per slot
      for (const {pk} of attesters) duty("attestation", s, signRequest(target, pk, attestation));
      const syncMessage = R.syncCommitteeMessage(slot);
      for (let k = 0; k < syncMembers; k++) duty("syncMessage", s, signRequest(target, pubkeys[k], syncMessage));

      await sleepUntil(slotStart + (2 * slotMs) / 3);
      const selection = R.aggregationSlot(slot);
      attesters.forEach(({pk, i}, j) => {
        const proof = signRequest(target, pk, selection);
        const aggregate = {name: "aggregate" as const, request: signRequest(target, pk, R.aggregateAndProof(slot, i))};
        duty("selectionProof", s, proof, j % attesterStride === 0 ? aggregate : undefined);
      });
      for (let k = 0; k < syncMembers; k++) {
        const sub = subcommitteeOf(k);
        const proof = signRequest(target, pubkeys[k], R.syncSelectionProof(slot, sub));
        const position = k - Math.ceil((sub * syncMembers) / SYNC_COMMITTEE_SUBNET_COUNT);
        const contribution = {
          name: "contribution" as const,
          request: signRequest(target, pubkeys[k], R.syncContributionAndProof(slot, sub, k)),
        };
        duty("syncSelectionProof", s, proof, position % subcommitteeStride === 0 ? contribution : undefined);
      }
    }
    await sleepUntil(t0 + slots * slotMs);
    // Follow-up duties join the list while it is awaited.
    for (let i = 0; i < inFlight.length; i++) await inFlight[i];
    return {duties: book.result()};
  });
}

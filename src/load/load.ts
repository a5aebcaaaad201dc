/**
 * HTTP load against any Web3Signer-compatible signer: sustained attestation load, one attestation
 * burst, a validator duty cycle, or a devnet's duties in real time (devnet.ts). `ts3signer load`
 * (cli.ts) runs them from the command line; `npm run bench` calls them directly.
 */
import {buildRequest} from "./httpClient.js";
import {percentile, Recorder, type TimelinePoint} from "./recorder.js";
import * as R from "./requests.js";
import {Runner, type Work} from "./runner.js";

/** How one kind of duty fared against its deadline (devnet profile). */
export type DutyReport = {
  duty: string;
  /** When it is sent and when it is due, as fractions of a slot from the slot's start. */
  sentAtSlotFraction: number;
  dueAtSlotFraction: number;
  total: number;
  onTime: number;
  late: number;
  failed: number;
  /** Slots in which at least one of these duties missed its deadline (late or failed). */
  missesBySlot: {slot: number; missed: number}[];
};

export type LoadResult = {
  profile: string;
  requests: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  requestsPerSecond: number;
  latencyMs: {p50: number; p99: number; max: number};
  /** CPU the load generator itself burned, in cores (its share of the machine). */
  generatorCores: number;
  /** Outcomes over the run: HTTP status, or "closed" / "timeout" when there was no answer. */
  outcomes?: Record<string, number>;
  timeline?: TimelinePoint[];
  bursts?: {name: string; requests: number; seconds: number}[];
  duties?: DutyReport[];
  /** What the run was asked to do, for the report. */
  parameters?: Record<string, string | number>;
};

/** What every profile needs to know about where and how to send. */
export type LoadTarget = {
  target: string;
  pubkeys: string[];
  connections: number;
  /** The client gives up on a request after this long (a hung signer must not stall the run). */
  timeoutMs?: number;
  /** Called once a second while the run goes on (the live progress line). */
  onTick?: (recorder: Recorder) => void;
};

export async function fetchPublicKeys(target: string): Promise<string[]> {
  const url = `${target}/api/v1/eth2/publicKeys`;
  const res = await fetch(url).catch((e: Error) => {
    throw new Error(`cannot reach ${url}: ${(e.cause as Error | undefined)?.message ?? e.message}`);
  });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return (await res.json()) as string[];
}

export function signRequest(target: string, pubkey: string, body: object): Buffer {
  return buildRequest(new URL(target).host, `/api/v1/eth2/sign/${pubkey}`, JSON.stringify(body));
}

function attestationWork(target: string, pubkeys: string[], count: number, epochOffset = 0, roots?: R.RootSharing): Buffer[] {
  return R.attestations(pubkeys, count, epochOffset, roots).map(({pubkey, body}) => signRequest(target, pubkey, body));
}

/**
 * Runs `body` with a runner and a recorder, ticking `onTick` every second, and sums it up. A
 * profile only decides what to send when.
 */
export async function measure(
  profile: string,
  t: LoadTarget,
  body: (runner: Runner, recorder: Recorder) => Promise<Partial<LoadResult> | void>
): Promise<LoadResult> {
  const recorder = new Recorder();
  const runner = Runner.forTarget(t.target, t.connections, recorder, t.timeoutMs ?? 30_000);
  const ticker = t.onTick && setInterval(() => t.onTick!(recorder), 1000);
  const cpu0 = process.cpuUsage();
  try {
    const extra = await body(runner, recorder);
    const seconds = (performance.now() - recorder.startMs) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const sorted = recorder.allLatencies();
    return {
      profile,
      requests: recorder.requests,
      errors: recorder.errors,
      errorSamples: recorder.errorSamples,
      seconds,
      requestsPerSecond: recorder.requests / seconds,
      latencyMs: {p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0},
      generatorCores: (cpu.user + cpu.system) / 1e6 / seconds,
      outcomes: recorder.outcomes(),
      timeline: recorder.timeline(),
      ...extra,
    };
  } finally {
    if (ticker) clearInterval(ticker);
    await runner.close();
  }
}

const work = (requests: Buffer[]): Work[] => requests.map((request) => ({request}));

/**
 * Keeps `connections` requests in flight for `seconds`, cycling over a pool of attestations whose
 * roots are shared among keys as `roots` says. With unique roots the pool is large enough that no
 * root comes back while a signer could still hold its H(root) (a few thousand roots per worker).
 */
export async function sustained(t: LoadTarget, seconds: number, roots: R.RootSharing = "committee"): Promise<LoadResult> {
  const pool = attestationWork(t.target, t.pubkeys, roots === "unique" ? 65_536 : Math.max(t.pubkeys.length * 8, 8192), 0, roots);
  return measure("sustained", t, async (runner) => {
    let i = 0;
    const deadline = performance.now() + seconds * 1000;
    await runner.stream(() => (performance.now() < deadline ? {request: pool[i++ % pool.length]} : undefined));
  });
}

/** `count` attestations at once over `connections` connections: the 1/3-slot burst. */
export async function burst(t: LoadTarget, count: number, epochOffset = 1000): Promise<LoadResult> {
  const requests = attestationWork(t.target, t.pubkeys, count, epochOffset);
  return measure("burst", t, (runner) => runner.send(work(requests)));
}

/**
 * A validator client's per-slot traffic for all the keys, as fast as it goes: a block at the slot
 * start; attestations and sync committee messages at 1/3; aggregation selection proofs, aggregates,
 * and sync selection proofs at 2/3. Reports how long each burst took to complete.
 */
export async function dutyCycle(t: LoadTarget, slots: number, slotSeconds: number): Promise<LoadResult> {
  const {target, pubkeys} = t;
  const syncCommittee = pubkeys.slice(0, 512);
  return measure("duty", t, async (runner) => {
    const bursts: {name: string; requests: number; seconds: number}[] = [];
    const run = async (name: string, requests: Buffer[]) => {
      const start = performance.now();
      await runner.send(work(requests));
      bursts.push({name, requests: requests.length, seconds: (performance.now() - start) / 1000});
    };
    for (let s = 0; s < slots; s++) {
      const epoch = R.BASE_EPOCH + 2000 + s;
      const slot = epoch * 32;
      const slotStart = performance.now();
      const at = (fraction: number) =>
        new Promise((r) => setTimeout(r, Math.max(0, slotStart + fraction * slotSeconds * 1000 - performance.now())));
      await run(`slot ${s} block`, [signRequest(target, pubkeys[s % pubkeys.length], R.blockHeader(slot, s))]);
      await at(1 / 3);
      await run(`slot ${s} attestations + sync messages`, [
        ...pubkeys.map((pk, k) => signRequest(target, pk, R.attestation(epoch, k % 32, k % 64))),
        ...syncCommittee.map((pk) => signRequest(target, pk, R.syncCommitteeMessage(slot))),
      ]);
      await at(2 / 3);
      await run(`slot ${s} aggregation`, [
        ...pubkeys.map((pk) => signRequest(target, pk, R.aggregationSlot(slot))),
        ...pubkeys.filter((_, k) => k % 16 === 0).map((pk, k) => signRequest(target, pk, R.aggregateAndProof(slot, k))),
        ...syncCommittee.map((pk, k) => signRequest(target, pk, R.syncSelectionProof(slot, k % 4))),
      ]);
      await at(1);
    }
    return {bursts};
  });
}

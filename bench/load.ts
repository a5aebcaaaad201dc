/**
 * HTTP load against any Web3Signer-compatible signer: sustained attestation load, one attestation
 * burst, or a validator duty cycle. Run on its own:
 *   node dist/bench/load.js --target http://127.0.0.1:9000 [--profile sustained|burst|duty] …
 * `--roots committee|shared|unique` sets how many keys share each signing root in a sustained load;
 * `--validators N` (default 10,000) sizes the duty profile.
 * With `--generator wrk`, wrk sends the sustained and burst loads instead (see wrk.ts).
 */
import {parseArgs} from "node:util";
import {Connection, buildRequest} from "./httpClient.js";
import * as R from "./requests.js";
import {wrkBurst, wrkSustained} from "./wrk.js";

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
  bursts?: {name: string; requests: number; seconds: number}[];
};

export async function fetchPublicKeys(target: string): Promise<string[]> {
  const res = await fetch(`${target}/api/v1/eth2/publicKeys`);
  if (!res.ok) throw new Error(`GET ${target}/api/v1/eth2/publicKeys: ${res.status}`);
  return (await res.json()) as string[];
}

type Work = {request: Buffer};

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

class Runner {
  latencies: number[] = [];
  errors = 0;
  errorSamples: string[] = [];
  constructor(private readonly conns: Connection[]) {}

  static async open(target: string, connections: number): Promise<Runner> {
    const url = new URL(target);
    const conns = await Promise.all(Array.from({length: connections}, () => Connection.open(url.hostname, Number(url.port || 80))));
    return new Runner(conns);
  }

  /** Sends every item of `work` over the connections (one in flight each); resolves when all are answered. */
  async drain(next: () => Work | undefined): Promise<void> {
    await Promise.all(
      this.conns.map(async (conn) => {
        for (let w = next(); w; w = next()) {
          const t0 = performance.now();
          try {
            const {status, body} = await conn.send(w.request);
            this.latencies.push(performance.now() - t0);
            if (status !== 200) this.recordError(`${status} ${body.toString().slice(0, 200)}`);
          } catch (e) {
            this.recordError((e as Error).message);
            return;
          }
        }
      })
    );
  }

  private recordError(message: string): void {
    this.errors++;
    if (this.errorSamples.length < 5) this.errorSamples.push(message);
  }

  close(): void {
    for (const c of this.conns) c.close();
  }
}

function signRequest(target: string, pubkey: string, body: object): Buffer {
  const url = new URL(target);
  return buildRequest(url.host, `/api/v1/eth2/sign/${pubkey}`, JSON.stringify(body));
}

function attestationWork(target: string, pubkeys: string[], count: number, epochOffset = 0, roots?: R.RootSharing): Buffer[] {
  return R.attestations(pubkeys, count, epochOffset, roots).map(({pubkey, body}) => signRequest(target, pubkey, body));
}

function summarize(profile: string, runner: Runner, seconds: number, cpu: NodeJS.CpuUsage): LoadResult {
  const sorted = runner.latencies.sort((a, b) => a - b);
  return {
    profile,
    requests: sorted.length,
    errors: runner.errors,
    errorSamples: runner.errorSamples,
    seconds,
    requestsPerSecond: sorted.length / seconds,
    latencyMs: {p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0},
    generatorCores: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

/**
 * Keeps `connections` requests in flight for `seconds`, cycling over a pool of requests. With
 * unique roots the pool is large enough that no root comes back while a signer could still hold
 * its H(root) (a few thousand roots per worker).
 */
export async function sustained(target: string, pubkeys: string[], connections: number, seconds: number, onProgress?: (done: number) => void, roots: R.RootSharing = "committee"): Promise<LoadResult> {
  const pool = attestationWork(target, pubkeys, roots === "unique" ? 65_536 : Math.max(pubkeys.length * 8, 8192), 0, roots);
  const runner = await Runner.open(target, connections);
  let i = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const progress = onProgress && setInterval(() => onProgress(runner.latencies.length), 1000);
  await runner.drain(() => (performance.now() < deadline ? {request: pool[i++ % pool.length]} : undefined));
  if (progress) clearInterval(progress);
  const result = summarize("sustained", runner, (performance.now() - t0) / 1000, process.cpuUsage(cpu0));
  runner.close();
  return result;
}

/** `count` attestations at once over `connections` connections: the 1/3-slot burst. */
export async function burst(target: string, pubkeys: string[], connections: number, count: number, epochOffset = 1000): Promise<LoadResult> {
  const work = attestationWork(target, pubkeys, count, epochOffset);
  const runner = await Runner.open(target, connections);
  let i = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await runner.drain(() => (i < work.length ? {request: work[i++]} : undefined));
  const result = summarize("burst", runner, (performance.now() - t0) / 1000, process.cpuUsage(cpu0));
  runner.close();
  return result;
}

/**
 * A devnet's per-slot traffic for `validators` validators (R.dutySlot, Electra-shaped): RANDAO and
 * the block at the slot start; attestations and sync committee messages at 1/3; aggregation
 * selection proofs, aggregates, and sync selection proofs at 2/3. Reports how long each burst took
 * to complete; `slotSeconds` 0 runs the slots back to back (compressed in time).
 */
export async function dutyCycle(target: string, pubkeys: string[], connections: number, slots: number, slotSeconds: number, validators = 10_000): Promise<LoadResult> {
  const runner = await Runner.open(target, connections);
  const bursts: {name: string; requests: number; seconds: number}[] = [];
  const requests = (duties: R.DutyRequest[]) => duties.map(({pubkey, body}) => signRequest(target, pubkey, body));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = async (name: string, requests: Buffer[]) => {
    let i = 0;
    const start = performance.now();
    await runner.drain(() => (i < requests.length ? {request: requests[i++]} : undefined));
    bursts.push({name, requests: requests.length, seconds: (performance.now() - start) / 1000});
  };
  for (let s = 0; s < slots; s++) {
    const slot = (R.BASE_EPOCH + 2000) * 32 + s;
    const duties = R.dutySlot(slot, validators, pubkeys);
    const slotStart = performance.now();
    const at = (fraction: number) => new Promise((r) => setTimeout(r, Math.max(0, slotStart + fraction * slotSeconds * 1000 - performance.now())));
    await run(`slot ${s} RANDAO + block`, requests(duties.start));
    await at(1 / 3);
    await run(`slot ${s} attestations + sync messages`, requests(duties.third));
    await at(2 / 3);
    await run(`slot ${s} aggregation`, requests(duties.twoThirds));
    await at(1);
  }
  const result = summarize("duty", runner, (performance.now() - t0) / 1000, process.cpuUsage(cpu0));
  result.bursts = bursts;
  runner.close();
  return result;
}

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      target: {type: "string", default: "http://127.0.0.1:9000"},
      profile: {type: "string", default: "sustained"},
      connections: {type: "string", default: "64"},
      seconds: {type: "string", default: "10"},
      count: {type: "string", default: "8192"},
      slots: {type: "string", default: "3"},
      "slot-seconds": {type: "string", default: "12"},
      keys: {type: "string"},
      roots: {type: "string", default: "committee"},
      validators: {type: "string", default: "10000"},
      generator: {type: "string", default: "node"},
    },
  });
  const target = values.target!.replace(/\/$/, "");
  let pubkeys = await fetchPublicKeys(target);
  if (values.keys) pubkeys = pubkeys.slice(0, Number(values.keys));
  if (!pubkeys.length) throw new Error(`${target} holds no keys`);
  const connections = Number(values.connections);
  const wrk = values.generator === "wrk";
  if (wrk && values.profile === "duty") throw new Error("the duty profile needs the built-in generator");
  const roots = values.roots as R.RootSharing;
  if (!R.rootSharings.includes(roots)) throw new Error(`--roots: one of ${R.rootSharings.join(", ")}`);
  console.log(`${values.profile} load on ${target}: ${pubkeys.length} keys, ${connections} connections${wrk ? ", sent by wrk" : ""}`);
  const result = wrk
    ? values.profile === "burst"
      ? await wrkBurst(target, pubkeys, connections, Number(values.count))
      : await wrkSustained(target, pubkeys, connections, Number(values.seconds))
    : values.profile === "burst"
      ? await burst(target, pubkeys, connections, Number(values.count))
      : values.profile === "duty"
        ? await dutyCycle(target, pubkeys, connections, Number(values.slots), Number(values["slot-seconds"]), Number(values.validators))
        : await sustained(target, pubkeys, connections, Number(values.seconds), (n) => process.stdout.write(`\r${n} requests…`), roots);
  console.log("\n" + JSON.stringify(result, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}`) main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});

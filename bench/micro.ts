/**
 * Micro benchmarks (tinybench): the raw blst signature, the signer's own signing with H(root)
 * cached and not, and per request type the worker's own
 * work (parse, validate, signing root), each also as a share of one signature's cost.
 */
import {existsSync, readFileSync} from "node:fs";
import {createRequire} from "node:module";
import {SecretKey} from "@chainsafe/blst";
import {Bench} from "tinybench";
import {loadNetwork} from "../src/config/networks.js";
import {createMetrics, signRecorder} from "../src/metrics/metrics.js";
import {createSigner, signEngine, signingKey} from "../src/signing/fastSign.js";
import {createSigningContext, parseRequestBody, requestTypeOf, signingRootOf} from "../src/signing/signingRoot.js";

export type MicroResult = {name: string; microseconds: number; opsPerSecond: number; shareOfSignature: number};

type Vector = {name: string; request: object};

export async function runMicro(vectorsFile: URL, timeMs = 500): Promise<MicroResult[]> {
  const vectors: Vector[] = JSON.parse(readFileSync(vectorsFile, "utf8"));
  const ctx = createSigningContext(loadNetwork("minimal"));
  const key = SecretKey.fromBytes(Buffer.alloc(32, 7));
  const root = new Uint8Array(32);

  const bench = new Bench({time: timeMs, warmupTime: 100});
  bench.add("blst sign (raw)", () => {
    root[0]++;
    key.sign(root);
  });
  // One request per type, as a client sends it (a string off the wire); inputs built outside the timed function.
  const seen = new Set<string>();
  for (const v of vectors) {
    const label = v.name.replace(/^[^:]+: /, "");
    if (seen.has(label)) continue;
    seen.add(label);
    const text = JSON.stringify(v.request);
    bench.add(`root ${label}`, () => {
      const body = parseRequestBody(text);
      signingRootOf(body, requestTypeOf(body), ctx);
    });
  }
  const attestation = JSON.stringify(vectors.find((v) => v.name.endsWith("ATTESTATION"))!.request);
  bench.add("JSON.parse ATTESTATION (reference)", () => JSON.parse(attestation));
  // What metrics cost the HTTP thread per request (counter, counter, histogram).
  const record = signRecorder(createMetrics());
  let i = 0;
  bench.add("metrics: record one sign request", () => record("ATTESTATION", 200, (i++ % 100) / 1e4));
  await bench.run();

  const signUs = (bench.tasks[0].result as {latency: {mean: number}}).latency.mean * 1000;
  const results = bench.tasks.map((t) => {
    const us = (t.result as {latency: {mean: number}}).latency.mean * 1000;
    return {name: t.name, microseconds: us, opsPerSecond: 1e6 / us, shareOfSignature: us / signUs};
  });
  return [...signingCompared(timeMs * 3), ...buildsCompared(timeMs * 3), ...results];
}

type NativeBuild = {hashToG2(root: Uint8Array, reuse?: object): object; signWithPoint(point: object, secretKey: Uint8Array, out: Uint8Array): void};

/**
 * native/fastsign's two builds against each other (binding.gyp): the ADX build (MULX/ADCX/ADOX,
 * where the CPU has them) and the portable one every CPU runs, each with H(root) cached and
 * hashed, interleaved with raw sign() in small rounds like signingCompared, but timed in CPU
 * time (process.cpuUsage): at load average 25 on 2 cores it held the builds' ratio to ±1%
 * (1.24–1.26) where wall time swung 1.2–1.6.
 */
function buildsCompared(timeMs: number): MicroResult[] {
  const require = createRequire(import.meta.url);
  const loaded: [string, NativeBuild][] = [];
  for (const build of ["fastsign_adx", "fastsign"]) {
    const path = new URL(`../../native/fastsign/build/Release/${build}.node`, import.meta.url).pathname;
    try {
      if (existsSync(path)) loaded.push([build, require(path) as NativeBuild]);
    } catch {
      // the ADX build on a CPU without ADX: only the portable one is measured
    }
  }
  if (loaded.length === 0) return [];
  const secret = Buffer.alloc(32, 7);
  const key = SecretKey.fromBytes(secret);
  const root = new Uint8Array(32);
  const rootView = new DataView(root.buffer);
  const out = new Uint8Array(96);
  let n = 0;
  const ops: [string, () => void][] = [["blst sign (raw), CPU time, beside the builds", () => key.sign((rootView.setUint32(0, n++), root))]];
  for (const [build, addon] of loaded) {
    const cached = addon.hashToG2(new Uint8Array(32).fill(1));
    let point = addon.hashToG2(root);
    ops.push([`${build}: sign, H(root) cached`, () => addon.signWithPoint(cached, secret, out)]);
    ops.push([`${build}: sign, H(root) hashed`, () => addon.signWithPoint((point = addon.hashToG2((rootView.setUint32(0, n++), root), point)), secret, out)]);
  }
  const totals = ops.map(() => ({ms: 0, count: 0}));
  const deadline = performance.now() + timeMs;
  while (performance.now() < deadline) {
    ops.forEach(([, op], k) => {
      const start = process.cpuUsage();
      for (let i = 0; i < 4; i++) op();
      const cpu = process.cpuUsage(start);
      totals[k].ms += (cpu.user + cpu.system) / 1000;
      totals[k].count += 4;
    });
  }
  const us = totals.map((t) => (1000 * t.ms) / t.count);
  return ops.map(([name], k) => ({name, microseconds: us[k], opsPerSecond: 1e6 / us[k], shareOfSignature: us[k] / us[0]}));
}

/**
 * The signer's own signing (src/signing/fastSign.ts) against raw sign(): a root whose H(root) is
 * cached, and a new root every time (hashed, then cached). Interleaved in small rounds, so the
 * machine's drift falls on all three alike; each is then a share of the sign() measured beside it.
 */
function signingCompared(timeMs: number): MicroResult[] {
  if (signEngine !== "native-point-cache") return [];
  const sign = createSigner();
  const secret = Buffer.alloc(32, 7);
  const key = SecretKey.fromBytes(secret);
  const fastKey = signingKey(Uint8Array.from(secret));
  const sharedRoot = new Uint8Array(32).fill(1);
  const root = new Uint8Array(32);
  const rootView = new DataView(root.buffer);
  let n = 0;
  const ops: [string, () => void][] = [
    ["blst sign (raw), interleaved", () => key.sign((rootView.setUint32(0, n++), root))],
    ["sign, H(root) cached (shared root)", () => sign(fastKey, sharedRoot)],
    ["sign, H(root) hashed (new root)", () => sign(fastKey, (rootView.setUint32(0, n++), root))],
  ];
  const totals = ops.map(() => ({ms: 0, count: 0}));
  const deadline = performance.now() + timeMs;
  while (performance.now() < deadline) {
    ops.forEach(([, op], k) => {
      const t0 = performance.now();
      for (let i = 0; i < 4; i++) op();
      totals[k].ms += performance.now() - t0;
      totals[k].count += 4;
    });
  }
  const us = totals.map((t) => (1000 * t.ms) / t.count);
  return ops.map(([name], k) => ({name, microseconds: us[k], opsPerSecond: 1e6 / us[k], shareOfSignature: us[k] / us[0]}));
}

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
import {createSigner, signEngine, signingKey, TABLE_WINDOW, tableBytes} from "../src/signing/fastSign.js";
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

type NativeBuild = {
  hashToG2(root: Uint8Array, reuse?: object): object;
  signWithPoint(point: object, secretKey: Uint8Array, out: Uint8Array): void;
};

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
  const ops: [string, () => void][] = [
    ["blst sign (raw), CPU time, beside the builds", () => key.sign((rootView.setUint32(0, n++), root))],
  ];
  for (const [build, addon] of loaded) {
    const cached = addon.hashToG2(new Uint8Array(32).fill(1));
    let point = addon.hashToG2(root);
    ops.push([`${build}: sign, H(root) cached`, () => addon.signWithPoint(cached, secret, out)]);
    ops.push([
      `${build}: sign, H(root) hashed`,
      () => addon.signWithPoint((point = addon.hashToG2((rootView.setUint32(0, n++), root), point)), secret, out),
    ]);
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
 * The signer's own signing (src/signing/fastSign.ts) against raw sign(): a hot root signed from its
 * table, a root whose H(root) is cached (blst's sign_pk_in_g1), a new root every time (hashed, then
 * cached), and a table's build. Interleaved in small rounds, so the machine's drift falls on all
 * alike; each is then a share of the sign() measured beside it.
 */
function signingCompared(timeMs: number): MicroResult[] {
  if (signEngine !== "native-point-cache") return [];
  const sign = createSigner({tableRoots: 0});
  const tableSign = createSigner({tableAfter: 1});
  // Two roots through a one-table signer: every signature builds the table again, then signs from it.
  const rebuildSign = createSigner({tableAfter: 1, tableRoots: 1});
  const secret = Buffer.alloc(32, 7);
  const key = SecretKey.fromBytes(secret);
  const fastKey = signingKey(Uint8Array.from(secret));
  const sharedRoot = new Uint8Array(32).fill(1);
  const otherRoot = new Uint8Array(32).fill(2);
  const root = new Uint8Array(32);
  const rootView = new DataView(root.buffer);
  let n = 0;
  const ops: [string, () => void][] = [
    ["blst sign (raw), interleaved", () => key.sign((rootView.setUint32(0, n++), root))],
    [`sign, hot root: from its table (${TABLE_WINDOW}-bit windows)`, () => tableSign(fastKey, sharedRoot)],
    ["sign, H(root) cached (blst sign_pk_in_g1)", () => sign(fastKey, sharedRoot)],
    ["sign, H(root) hashed (new root)", () => sign(fastKey, (rootView.setUint32(0, n++), root))],
    ["table build + one table signature", () => rebuildSign(fastKey, n++ % 2 ? sharedRoot : otherRoot)],
  ];
  const us = interleaved(ops, timeMs);
  const results = ops.map(([name], k) => ({name, microseconds: us[k], opsPerSecond: 1e6 / us[k], shareOfSignature: us[k] / us[0]}));
  const buildUs = us[4] - us[1];
  results.push({
    name: "table build (the row above less a table signature)",
    microseconds: buildUs,
    opsPerSecond: 1e6 / buildUs,
    shareOfSignature: buildUs / us[0],
  });
  return [...results, ...tableWidths(timeMs)];
}

/**
 * The window width's trade: per width, a signature from the table and a build (measured as a
 * build plus a signature, less the signature), interleaved with raw sign() for the shares. 16
 * calls in a row, as a worker signs a batch on one hot root: the table is mostly in cache (in
 * rounds of 4 behind other tables, it is not, and 8 bits cost more than 5).
 */
function tableWidths(timeMs: number): MicroResult[] {
  const secret = Buffer.alloc(32, 9);
  const key = SecretKey.fromBytes(secret);
  const fastKey = signingKey(Uint8Array.from(secret));
  const roots = [new Uint8Array(32).fill(3), new Uint8Array(32).fill(4)];
  let n = 0;
  const widths = [4, 5, 6, 7, 8];
  const ops: [string, () => void][] = [["blst sign (raw), interleaved", () => key.sign(roots[n++ % 2])]];
  for (const tableWindow of widths) {
    const sign = createSigner({tableAfter: 1, tableWindow});
    const rebuild = createSigner({tableAfter: 1, tableWindow, tableRoots: 1});
    ops.push(
      [`w = ${tableWindow}: a signature`, () => sign(fastKey, roots[0])],
      [`w = ${tableWindow}: build + a signature`, () => rebuild(fastKey, roots[n++ % 2])]
    );
  }
  const us = interleaved(ops, timeMs, 16);
  return widths.flatMap((w, i) => {
    const [signUs, buildUs] = [us[1 + 2 * i], us[2 + 2 * i] - us[1 + 2 * i]];
    const kib = Math.round(tableBytes(w) / 1024);
    return [
      {
        name: `table, ${w}-bit windows (${kib} KiB): a signature`,
        microseconds: signUs,
        opsPerSecond: 1e6 / signUs,
        shareOfSignature: signUs / us[0],
      },
      {
        name: `table, ${w}-bit windows (${kib} KiB): its build`,
        microseconds: buildUs,
        opsPerSecond: 1e6 / buildUs,
        shareOfSignature: buildUs / us[0],
      },
    ];
  });
}

/** Each op's mean CPU time in µs, the ops run in turn, `calls` at a time, for `timeMs` of wall time. */
function interleaved(ops: [string, () => void][], timeMs: number, calls = 4): number[] {
  const totals = ops.map(() => ({ms: 0, count: 0}));
  const deadline = performance.now() + timeMs;
  // CPU time, not wall time: on a shared machine the thread is preempted by more than the differences measured.
  const cpuMs = () => {
    const {user, system} = process.cpuUsage();
    return (user + system) / 1000;
  };
  while (performance.now() < deadline) {
    ops.forEach(([, op], k) => {
      const t0 = cpuMs();
      for (let i = 0; i < calls; i++) op();
      totals[k].ms += cpuMs() - t0;
      totals[k].count += calls;
    });
  }
  return totals.map((t) => (1000 * t.ms) / t.count);
}

/**
 * npm run bench: the blst ceiling, micro benchmarks, and end-to-end HTTP load against a freshly
 * started signer, each figure set beside the ceiling measured in the same run. Results are printed
 * as a table and written to bench/results/<time>.json.
 *
 *   npm run bench -- [--quick] [--connections 64] [--seconds 15] [--keys 1024] [--validators 10000] [--skip-memory] [--scale]
 *
 * --scale adds what grows with the work and takes minutes: slashing protection with a year of
 * history on both stores (bench/slashingHistory.ts); a million keys and 10,000 keystores with the
 * restart caches (bench/keyScale.ts: [--scale-keys 1000000] [--scale-keystores 10000]
 * [--scale-rounds 2]). --scale-only runs those sections alone.
 */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {availableParallelism, tmpdir} from "node:os";
import {join} from "node:path";
import {parseArgs} from "node:util";
import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {loadNetwork} from "../src/config/networks.js";
import {devnet} from "../src/load/devnet.js";
import {burst, dutyCycle, fetchPublicKeys, type LoadResult, sustained} from "../src/load/load.js";
import {machineIdleSeconds} from "../src/load/procStat.js";
import {renderReport} from "../src/load/report.js";
import * as R from "../src/load/requests.js";
import {wrkAvailable, wrkBurst, wrkSustained} from "../src/load/wrk.js";
import {signEngine} from "../src/signing/fastSign.js";
import {createSigningContext, parseRequestBody, requestTypeOf, signingRootOf} from "../src/signing/signingRoot.js";
import {measureCeiling} from "./ceiling.js";
import {type KeyScaleResult, keyScaleBench} from "./keyScale.js";
import {keystoreBench} from "./keystores.js";
import {type MicroResult, runMicro} from "./micro.js";
import {measurePointCacheMemory} from "./pointCacheMemory.js";
import {SignerProcess} from "./signerProcess.js";
import {printSlashingHistory, slashingHistoryBench} from "./slashingHistory.js";

const {values} = parseArgs({
  options: {
    quick: {type: "boolean", default: false},
    connections: {type: "string", default: "64"},
    seconds: {type: "string"},
    keys: {type: "string", default: "1024"},
    validators: {type: "string", default: "10000"},
    "skip-memory": {type: "boolean", default: false},
    scale: {type: "boolean", default: false},
    "scale-only": {type: "boolean", default: false},
    "scale-keys": {type: "string", default: "1000000"},
    "scale-keystores": {type: "string", default: "10000"},
    "scale-rounds": {type: "string", default: "2"},
  },
});
const quick = values.quick!;
const seconds = Number(values.seconds ?? (quick ? 5 : 15));
const connections = Number(values.connections);
const keyCount = Number(values.keys);
const validators = Number(values.validators);
const cores = availableParallelism();
const ceilingSeconds = quick ? 1 : 2;

const step = (what: string) => process.stdout.write(`\n▶ ${what}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", {maximumFractionDigits: digits, minimumFractionDigits: digits});

type E2E = LoadResult & {
  /** CPU the signer used, in cores: all of it, and its HTTP thread's part. */
  signerCpuCores: number;
  httpThreadCores: number;
  /** CPU the machine left idle, in cores. */
  idleCores: number;
  /** The raw blst rate on all cores, measured just before and just after this load. */
  ceiling: {before: number; after: number; signaturesPerSecond: number};
  ratioToCeiling: number;
  cpuEfficiency: number;
  /** The signer's CPU per signature: apart from the ceiling, so steadier on a busy machine. */
  signerCpuMicrosPerSignature: number;
};

/**
 * Runs a load between two measurements of the ceiling and reads where the machine's CPU went
 * meanwhile. A shared machine's speed drifts by more than the figures being compared, so each load
 * is set beside the mean of the ceilings taken right around it, not one taken minutes earlier.
 */
async function measureLoad(signer: SignerProcess, run: () => Promise<LoadResult>): Promise<E2E> {
  const before = await measureCeiling(cores, ceilingSeconds);
  const cpu0 = signer.cpuSeconds();
  const http0 = signer.httpThreadCpuSeconds();
  const idle0 = machineIdleSeconds();
  const t0 = performance.now();
  const result = await run();
  const wall = (performance.now() - t0) / 1000;
  const signerCpuCores = (signer.cpuSeconds() - cpu0) / wall;
  const httpThreadCores = (signer.httpThreadCpuSeconds() - http0) / wall;
  const idleCores = (machineIdleSeconds() - idle0) / wall;
  const after = await measureCeiling(cores, ceilingSeconds);
  const ceiling = {
    before: before.signaturesPerSecond,
    after: after.signaturesPerSecond,
    signaturesPerSecond: (before.signaturesPerSecond + after.signaturesPerSecond) / 2,
  };
  const perCpuSecond = (before.signaturesPerCpuSecond + after.signaturesPerCpuSecond) / 2;
  return {
    ...result,
    signerCpuCores,
    httpThreadCores,
    idleCores,
    ceiling,
    ratioToCeiling: result.requestsPerSecond / ceiling.signaturesPerSecond,
    // 1.0: every CPU-second the signer used bought as many signatures as raw blst would have.
    cpuEfficiency: result.requestsPerSecond / (signerCpuCores * perCpuSecond),
    signerCpuMicrosPerSignature: (1e6 * signerCpuCores) / result.requestsPerSecond,
  };
}

const idealSeconds = (r: E2E, requests: number) => requests / r.ceiling.signaturesPerSecond;
const ceilingAround = (r: E2E) => `ceiling ${fmt(r.ceiling.before)}/s before, ${fmt(r.ceiling.after)}/s after`;
const cpuSplit = (r: E2E) =>
  `HTTP thread ${fmt(r.httpThreadCores, 2)}, workers and the rest ${fmt(r.signerCpuCores - r.httpThreadCores, 2)}, load generator ${fmt(r.generatorCores, 2)}, idle ${fmt(r.idleCores, 2)} cores`;

type PointCacheCounts = {cacheHits: number; cacheMisses: number; cacheTables: number};

/** Point-cache outcomes the signer has counted so far: H(root) cached, hashed, or the root's table used. */
async function pointCache(signer: SignerProcess): Promise<PointCacheCounts> {
  const count = (result: string) => signer.metric("ts3signer_point_cache_total", `result="${result}"`);
  return {cacheHits: await count("hit"), cacheMisses: await count("miss"), cacheTables: await count("table")};
}

/** A load with the signer's point-cache outcomes during it. */
async function withPointCache(signer: SignerProcess, run: () => Promise<E2E>): Promise<E2E & PointCacheCounts> {
  const before = await pointCache(signer);
  const result = await run();
  const after = await pointCache(signer);
  return {
    ...result,
    cacheHits: after.cacheHits - before.cacheHits,
    cacheMisses: after.cacheMisses - before.cacheMisses,
    cacheTables: after.cacheTables - before.cacheTables,
  };
}

/** Signatures that did not hash their root (cached point or table), and those signed from a table. */
const cacheRates = (r: PointCacheCounts) => {
  const total = Math.max(1, r.cacheHits + r.cacheMisses + r.cacheTables);
  return `cache hits ${fmt((100 * (r.cacheHits + r.cacheTables)) / total, 1)}% (from a table ${fmt((100 * r.cacheTables) / total, 1)}%)`;
};

/** Signs `count` requests of a load's kind and checks each signature with blst against the root computed here. */
async function verifiedSignatures(
  url: string,
  pubkeys: string[],
  roots: R.RootSharing,
  count = 32
): Promise<{verified: number; count: number}> {
  const ctx = createSigningContext(loadNetwork("mainnet"));
  const work = R.attestations(pubkeys, count * 97, 0, roots).filter((_, i) => i % 97 === 0);
  let verified = 0;
  for (const {pubkey, body} of work) {
    const res = await fetch(`${url}/api/v1/eth2/sign/${pubkey}`, {
      method: "POST",
      headers: {"content-type": "application/json", accept: "application/json"},
      body: JSON.stringify(body),
    });
    if (res.status !== 200) continue;
    const parsed = parseRequestBody(JSON.stringify(body));
    const root = signingRootOf(parsed, requestTypeOf(parsed), ctx);
    if (verify(root, PublicKey.fromHex(pubkey), Signature.fromHex(((await res.json()) as {signature: string}).signature))) verified++;
  }
  return {verified, count: work.length};
}

async function main(): Promise<void> {
  console.log(`ts3signer bench: ${cores} cores, Node ${process.version}${quick ? ", quick" : ""}`);
  if (values["scale-only"]) {
    const scale = await scaleSections();
    for (const [a, b, c] of keyScaleRows(scale.keyScale)) console.log(`  ${a.padEnd(28)} ${b.padStart(22)}   ${c}`);
    const dir = new URL("../../bench/results/", import.meta.url);
    mkdirSync(dir, {recursive: true});
    const file = new URL(`${new Date().toISOString().replace(/[:.]/g, "-")}-scale.json`, dir);
    writeFileSync(file, JSON.stringify({date: new Date().toISOString(), cores, node: process.version, ...scale}, null, 2));
    console.log(`\nresults: ${file.pathname}`);
    return;
  }

  step("raw blst ceiling (1 thread, then every core at once)");
  const single = await measureCeiling(1, quick ? 1.5 : 3);
  const ceiling = await measureCeiling(cores, quick ? 1.5 : 3);
  console.log(
    `  1 thread: ${fmt(single.signaturesPerSecond)}/s; ${cores} threads: ${fmt(ceiling.signaturesPerSecond)}/s, ${fmt(ceiling.signaturesPerCpuSecond)} per CPU-second`
  );

  step("micro benchmarks (tinybench)");
  const micro: MicroResult[] = await runMicro(new URL("../../test/fixtures/signing-roots.json", import.meta.url), quick ? 150 : 400);
  for (const m of micro)
    console.log(
      `  ${m.name.padEnd(46)} ${fmt(m.microseconds, 1).padStart(8)} µs  ${fmt(100 * m.shareOfSignature, 1).padStart(6)}% of a signature`
    );

  step(`end-to-end: signer with ${keyCount} interop keys (mainnet), ${connections} connections`);
  const signer = await SignerProcess.start(["--interop-keys", String(keyCount)]);
  const pubkeys = await fetchPublicKeys(signer.url);
  const at = (connections: number) => ({target: signer.url, pubkeys, connections});
  await sustained(at(connections), 1); // warm-up

  // Shared roots (every round over the keys signs one AttestationData, as from Electra) and unique
  // roots (none repeats), on this signer and on one that signs with @chainsafe/blst's sign() per
  // request (the fallback engine: what every signer that calls sign() per request does), alternated.
  // Unique roots first: they fill the workers' point caches to their cap before the RSS reading
  // below, so a rise after it is growth per request, not the (bounded) caches filling.
  // The same signer with hot-root tables off (TS3SIGNER_HOT_ROOT_TABLES=0): what the tables add, same run.
  const others = async (env: Record<string, string>) => {
    const s = await SignerProcess.start(["--interop-keys", String(keyCount)], 120_000, {...process.env, ...env});
    const keys = await fetchPublicKeys(s.url);
    await sustained({target: s.url, pubkeys: keys, connections}, 1); // warm-up
    return {s, keys};
  };
  const fallback = await others({TS3SIGNER_SIGN_ENGINE: "blst-sign"});
  const noTables = await others({TS3SIGNER_HOT_ROOT_TABLES: "0"});
  type RootsRun = E2E & PointCacheCounts & {verified: number; checked: number};
  const rootsRuns: Record<string, RootsRun> = {};
  const engines = [
    ["signer", `${signEngine}`, signer, pubkeys],
    ["no-tables", "point cache only", noTables.s, noTables.keys],
    ["sign()", "sign() per request", fallback.s, fallback.keys],
  ] as const;
  const compareEngines = async (roots: R.RootSharing) => {
    for (const [id, engine, s, keys] of engines) {
      const r = await withPointCache(s, () => measureLoad(s, () => sustained({target: s.url, pubkeys: keys, connections}, seconds, roots)));
      const {verified, count} = await verifiedSignatures(s.url, keys, roots);
      const run = (rootsRuns[`${roots}/${id}`] = {...r, verified, checked: count});
      const hits = run.cacheHits + run.cacheMisses + run.cacheTables ? ` ${cacheRates(run)},` : "";
      console.log(
        `  ${roots} roots, ${engine.padEnd(18)} ${fmt(r.requestsPerSecond).padStart(6)}/s = ${fmt(r.ratioToCeiling, 2)}× ceiling (${ceilingAround(r)}), CPU efficiency ${fmt(r.cpuEfficiency, 2)} (${fmt(r.signerCpuMicrosPerSignature)} µs of signer CPU a signature),${hits} p99 ${fmt(r.latencyMs.p99, 1)} ms, errors ${r.errors}, ${verified}/${count} signatures verified`
      );
    }
  };
  await compareEngines("unique");

  const steady = await measureLoad(signer, () =>
    sustained({...at(connections), onTick: (r) => process.stdout.write(`\r  sustained: ${fmt(r.requests)} requests`)}, seconds)
  );
  console.log(
    `\n  sustained: ${fmt(steady.requestsPerSecond)}/s = ${fmt(steady.ratioToCeiling, 2)}× ceiling (${ceilingAround(steady)}), CPU efficiency ${fmt(steady.cpuEfficiency, 2)}, p99 ${fmt(steady.latencyMs.p99, 1)} ms, errors ${steady.errors}`
  );
  console.log(`    CPU: ${cpuSplit(steady)}`);
  const rssAfterSustained = signer.rssBytes(); // warm by now: heaps and allocator pools have grown

  const burstCount = 8192;
  const burstResult = await measureLoad(signer, () => burst(at(256), burstCount));
  const describeBurst = (r: E2E) =>
    `${burstCount} attestations over 256 connections in ${fmt(r.seconds, 2)} s = ${fmt(r.seconds / idealSeconds(r, burstCount), 2)}× ideal (${fmt(idealSeconds(r, burstCount), 2)} s)`;
  console.log(`  burst: ${describeBurst(burstResult)}, p99 ${fmt(burstResult.latencyMs.p99, 0)} ms, errors ${burstResult.errors}`);

  await compareEngines("shared");
  await fallback.s.stop();
  await noTables.s.stop();

  const duty = await measureLoad(signer, () => dutyCycle(at(256), quick ? 1 : 2, 4));
  for (const b of duty.bursts ?? []) {
    // A lone block proposal is one request's latency; "× ideal" means something only for a burst.
    const ratio = b.requests >= 64 ? ` (${fmt(b.seconds / idealSeconds(duty, b.requests), 2)}× ideal)` : "";
    console.log(`  duty ${b.name.padEnd(36)} ${String(b.requests).padStart(5)} requests in ${fmt(b.seconds * 1000, 1)} ms${ratio}`);
  }

  // The same figures from a generic load generator, where one is installed.
  let wrk: {sustained: E2E; burst: E2E} | undefined;
  if (wrkAvailable()) {
    const wrkSteady = await measureLoad(signer, () => wrkSustained(signer.url, pubkeys, connections, seconds));
    console.log(
      `  wrk sustained: ${fmt(wrkSteady.requestsPerSecond)}/s = ${fmt(wrkSteady.ratioToCeiling, 2)}× ceiling (${ceilingAround(wrkSteady)}), p99 ${fmt(wrkSteady.latencyMs.p99, 1)} ms, errors ${wrkSteady.errors}`
    );
    console.log(`    CPU: ${cpuSplit(wrkSteady)}`);
    const wrkBurstResult = await measureLoad(signer, () => wrkBurst(signer.url, pubkeys, 256, burstCount));
    console.log(`  wrk burst: ${describeBurst(wrkBurstResult)} (wrk's start-up included), errors ${wrkBurstResult.errors}`);
    wrk = {sustained: wrkSteady, burst: wrkBurstResult};
  } else {
    console.log("  wrk: not installed, independent check skipped (Debian: apt-get install wrk)");
  }
  const rss1k = signer.rssBytes();
  // A leak shows as RSS that keeps rising with the requests served (the loads above).
  const served = [burstResult, rootsRuns["shared/signer"], duty, wrk?.sustained, wrk?.burst].reduce((n, r) => n + (r?.requests ?? 0), 0);
  const rssGrowth = {requests: served, beforeBytes: rssAfterSustained, afterBytes: rss1k};
  console.log(
    `  RSS ${fmt(rssAfterSustained / 2 ** 20, 1)} MiB after the sustained load, ${fmt(rss1k / 2 ** 20, 1)} MiB after ${fmt(served)} more requests (${fmt((rss1k - rssAfterSustained) / served, 1)} bytes per request)`
  );
  await signer.stop();

  // A devnet's duties with one key per validator, time compressed so the signer is always busy:
  // the hashing to G2 follows the distinct roots of a slot, not its validators.
  const dutySlots = quick ? 4 : 12;
  const slotSeconds = 0.25;
  step(`devnet duties: ${fmt(validators)} validators (one interop key each), ${dutySlots} slots of ${slotSeconds} s`);
  const dutySigner = await SignerProcess.start(["--interop-keys", String(validators)]);
  const dutyTarget = {target: dutySigner.url, pubkeys: await fetchPublicKeys(dutySigner.url), connections: 256};
  await sustained(dutyTarget, 1); // warm-up; not with devnet, whose slots follow the clock and could repeat the measured ones' roots
  const duties = await withPointCache(dutySigner, () => measureLoad(dutySigner, () => devnet(dutyTarget, {slots: dutySlots, slotSeconds})));
  await dutySigner.stop();
  console.log(
    `  ${fmt(duties.requestsPerSecond)}/s = ${fmt(duties.ratioToCeiling, 2)}× ceiling (${ceilingAround(duties)}), CPU efficiency ${fmt(duties.cpuEfficiency, 2)} (${fmt(duties.signerCpuMicrosPerSignature)} µs of signer CPU a signature), errors ${duties.errors}; ${fmt(duties.requests / dutySlots)} requests a slot, ${fmt(duties.cacheMisses / dutySlots, 1)} roots hashed to G2 a slot, ${cacheRates(duties)}`
  );
  const cacheMemory = measurePointCacheMemory();
  if (cacheMemory) {
    const mib = (n: number) => fmt(n / 2 ** 20, 2);
    console.log(
      `  point cache at its cap (${fmt(cacheMemory.roots)} roots, one worker): RSS +${mib(cacheMemory.rssBytes)} MiB (points ${mib(cacheMemory.pointBytes)} MiB, map ${mib(cacheMemory.heapBytes)} MiB of heap)`
    );
    console.log(
      `  hot-root tables at their cap (${cacheMemory.tables} tables, one worker): RSS +${mib(cacheMemory.tableRssBytes)} MiB (tables ${mib(cacheMemory.tableBytes)} MiB allocated)`
    );
  }

  step("sustained load with slashing protection (SQLite, EIP-3076 checks per attestation)");
  const dbDir = mkdtempSync(join(tmpdir(), "ts3signer-bench-slashing-"));
  const protectedSigner = await SignerProcess.start([
    "--interop-keys",
    String(keyCount),
    "--slashing-protection",
    `sqlite:${join(dbDir, "slashing.sqlite")}`,
  ]);
  const protectedKeys = await fetchPublicKeys(protectedSigner.url);
  const guarded = await measureLoad(protectedSigner, () =>
    sustained({target: protectedSigner.url, pubkeys: protectedKeys, connections}, seconds)
  );
  await protectedSigner.stop();
  rmSync(dbDir, {recursive: true, force: true});
  console.log(
    `  ${fmt(guarded.requestsPerSecond)}/s = ${fmt(guarded.ratioToCeiling, 2)}× ceiling (${fmt(guarded.requestsPerSecond / steady.requestsPerSecond, 2)}× without), p99 ${fmt(guarded.latencyMs.p99, 1)} ms, errors ${guarded.errors}`
  );

  const memory: {keys: number; readySeconds: number; rssBytes: number}[] = [
    {keys: keyCount, readySeconds: signer.readySeconds, rssBytes: rss1k},
  ];
  if (!values["skip-memory"]) {
    const bigKeys = quick ? 20_000 : 100_000;
    step(`key loading and memory: ${fmt(bigKeys)} interop keys`);
    const big = await SignerProcess.start(["--interop-keys", String(bigKeys)]);
    memory.push({keys: bigKeys, readySeconds: big.readySeconds, rssBytes: big.rssBytes()});
    await big.stop();
    const [small, large] = memory;
    console.log(
      `  ready in ${fmt(large.readySeconds, 2)} s; RSS ${fmt(small.rssBytes / 2 ** 20, 1)} MiB with ${fmt(small.keys)} keys, ${fmt(large.rssBytes / 2 ** 20, 1)} MiB with ${fmt(large.keys)} (≈ ${fmt((large.rssBytes - small.rssBytes) / (large.keys - small.keys))} bytes per key)`
    );
  }

  step("keystore loading (EIP-2335 scrypt, n = 2^18)");
  const keystores = await keystoreBench(quick ? 8 : 16);
  console.log(
    `  ${keystores.keystores} keystores: ${fmt(keystores.loadPerSecond, 2)}/s loading vs ${fmt(keystores.rawPerSecond, 2)}/s raw node:crypto scrypt on all cores = ${fmt(keystores.ratio, 2)}×`
  );

  const {slashingHistory, keyScale} = values.scale ? await scaleSections() : {slashingHistory: [], keyScale: undefined};

  step("summary");
  const rows: [string, string, string][] = [
    ["raw blst, all cores", `${fmt(ceiling.signaturesPerSecond)}/s`, "the ceiling, measured again around each load"],
    [
      "sustained HTTP",
      `${fmt(steady.requestsPerSecond)}/s`,
      `${fmt(steady.ratioToCeiling, 2)}× ceiling around it (${fmt(steady.ceiling.signaturesPerSecond)}/s)`,
    ],
    [
      "  CPU efficiency",
      fmt(steady.cpuEfficiency, 2),
      `signer ${fmt(steady.signerCpuCores, 2)} cores (HTTP thread ${fmt(steady.httpThreadCores, 2)}), load generator ${fmt(steady.generatorCores, 2)}, idle ${fmt(steady.idleCores, 2)}`,
    ],
    [
      "  latency p50 / p99 / max",
      `${fmt(steady.latencyMs.p50, 1)} / ${fmt(steady.latencyMs.p99, 1)} / ${fmt(steady.latencyMs.max, 1)} ms`,
      `errors ${steady.errors}`,
    ],
    ...(wrk
      ? ([
          [
            "sustained HTTP, wrk",
            `${fmt(wrk.sustained.requestsPerSecond)}/s`,
            `${fmt(wrk.sustained.ratioToCeiling, 2)}× ceiling, p99 ${fmt(wrk.sustained.latencyMs.p99, 1)} ms, errors ${wrk.sustained.errors}`,
          ],
          [
            `burst of ${burstCount}, wrk`,
            `${fmt(wrk.burst.seconds, 2)} s`,
            `${fmt(wrk.burst.seconds / idealSeconds(wrk.burst, burstCount), 2)}× ideal, errors ${wrk.burst.errors}`,
          ],
        ] as [string, string, string][])
      : []),
    ...(["shared", "unique"] as const).flatMap((roots) => {
      const fast = rootsRuns[`${roots}/signer`];
      const point = rootsRuns[`${roots}/no-tables`];
      const slow = rootsRuns[`${roots}/sign()`];
      return [
        [
          `${roots} roots`,
          `${fmt(fast.requestsPerSecond)}/s`,
          `${fmt(fast.ratioToCeiling, 2)}× ceiling, CPU efficiency ${fmt(fast.cpuEfficiency, 2)}, ${fmt(fast.signerCpuMicrosPerSignature)} µs CPU a signature, ${cacheRates(fast)}`,
        ],
        [
          `  point cache, no tables`,
          `${fmt(point.requestsPerSecond)}/s`,
          `${fmt(point.ratioToCeiling, 2)}× ceiling, CPU efficiency ${fmt(point.cpuEfficiency, 2)}, ${fmt(point.signerCpuMicrosPerSignature)} µs CPU a signature`,
        ],
        [
          `  sign() per request`,
          `${fmt(slow.requestsPerSecond)}/s`,
          `${fmt(slow.ratioToCeiling, 2)}× ceiling, CPU efficiency ${fmt(slow.cpuEfficiency, 2)}, ${fmt(slow.signerCpuMicrosPerSignature)} µs CPU a signature`,
        ],
      ] as [string, string, string][];
    }),
    [
      `devnet, ${fmt(validators)} validators`,
      `${fmt(duties.requestsPerSecond)}/s`,
      `${fmt(duties.ratioToCeiling, 2)}× ceiling, CPU efficiency ${fmt(duties.cpuEfficiency, 2)}, ${fmt(duties.signerCpuMicrosPerSignature)} µs CPU a signature, ${fmt(duties.cacheMisses / dutySlots, 1)} roots hashed a slot, ${cacheRates(duties)}`,
    ],
    [
      "with slashing protection",
      `${fmt(guarded.requestsPerSecond)}/s`,
      `${fmt(guarded.ratioToCeiling, 2)}× ceiling, errors ${guarded.errors}`,
    ],
    [
      "RSS growth under load",
      `${fmt((rssGrowth.afterBytes - rssGrowth.beforeBytes) / 2 ** 20, 1)} MiB`,
      `over ${fmt(rssGrowth.requests)} requests after the sustained load`,
    ],
    ["keystores loaded", `${fmt(keystores.loadPerSecond, 2)}/s`, `${fmt(keystores.ratio, 2)}× raw scrypt on all cores`],
    [
      `burst of ${burstCount}`,
      `${fmt(burstResult.seconds, 2)} s`,
      `${fmt(burstResult.seconds / idealSeconds(burstResult, burstCount), 2)}× ideal, p99 ${fmt(burstResult.latencyMs.p99, 0)} ms`,
    ],
    ...(keyScale ? keyScaleRows(keyScale) : []),
    ...slashingHistory.flatMap(
      (r) =>
        [
          [
            `${r.store}, ${fmt(r.historyRecords)} votes`,
            `${fmt(r.long.p50 / r.fresh.p50, 2)}× fresh`,
            `signing p50 ${fmt(r.long.p50, 2)} ms vs ${fmt(r.fresh.p50, 2)} ms for a fresh key (target ≤ 1.5×)`,
          ],
          [
            `${r.store}, import`,
            `${fmt(r.importSeconds, 2)} s`,
            `${fmt(r.importRecords)} records of one key (target ≤ 10 s), slowest /upcheck ${fmt(r.slowestUpcheckMs, 0)} ms`,
          ],
        ] as [string, string, string][]
    ),
  ];
  for (const [a, b, c] of rows) console.log(`  ${a.padEnd(28)} ${b.padStart(22)}   ${c}`);

  const dir = new URL("../../bench/results/", import.meta.url);
  mkdirSync(dir, {recursive: true});
  const file = new URL(`${new Date().toISOString().replace(/[:.]/g, "-")}.json`, dir);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cores,
        node: process.version,
        single,
        ceiling,
        micro,
        sustained: steady,
        burst: burstResult,
        rootsRuns,
        duty,
        devnet: duties,
        cacheMemory,
        wrk,
        rssGrowth,
        memory,
        keystores,
        slashingProtection: guarded,
        slashingHistory,
        keyScale,
      },
      null,
      2
    )
  );
  const report = new URL(file.pathname.replace(/\.json$/, ".html"), file);
  writeFileSync(
    report,
    renderReport(`npm run bench, ${new Date().toISOString()}`, [
      steady,
      burstResult,
      {...rootsRuns["shared/signer"], profile: "sustained, shared roots"},
      {...rootsRuns["unique/signer"], profile: "sustained, unique roots"},
      duty,
      duties,
      {...guarded, profile: "sustained, slashing protection on"},
    ])
  );
  console.log(`\nresults: ${file.pathname}\nreport: ${report.pathname}`);
}

/** The --scale sections: what grows with the work (minutes each). */
async function scaleSections(): Promise<{slashingHistory: Awaited<ReturnType<typeof slashingHistoryBench>>; keyScale: KeyScaleResult}> {
  const sizes = quick ? {history: 20_000, imported: 16_000, samples: 100} : {history: 100_000, imported: 82_000, samples: 300};
  step(
    `slashing protection with a year of history: ${fmt(sizes.history)} votes of one key vs a fresh key, ${fmt(sizes.imported)} imported`
  );
  const slashingHistory = await slashingHistoryBench(sizes);
  printSlashingHistory(slashingHistory);
  const keys = Number(values["scale-keys"]);
  const keystoreCount = Number(values["scale-keystores"]);
  step(`key scale: ${fmt(keys)} interop keys, ${fmt(keystoreCount)} keystores, with the restart caches`);
  const keyScale = await keyScaleBench({keys, keystores: keystoreCount, rounds: Number(values["scale-rounds"]), seconds, connections});
  return {slashingHistory, keyScale};
}

function keyScaleRows(k: KeyScaleResult): [string, string, string][] {
  const mean = (keys: number, of: (t: KeyScaleResult["throughput"][number]) => number) => {
    const runs = k.throughput.filter((t) => t.keys === keys);
    return runs.reduce((s, t) => s + of(t), 0) / runs.length;
  };
  return [
    [
      `${fmt(k.keys)} keys, restart`,
      `${fmt(k.restart.readySeconds, 1)} s`,
      `from the key cache (first start ${fmt(k.firstStart.readySeconds, 0)} s); ≈ ${fmt(k.bytesPerKey)} bytes of RSS a key (target: a few hundred)`,
    ],
    [
      `${fmt(k.keys)} vs 1,024 keys`,
      `${fmt(mean(k.keys, (t) => t.ratioToCeiling) / mean(1024, (t) => t.ratioToCeiling), 3)}×`,
      `sustained throughput as a share of the ceiling; signer CPU a signature ${fmt(mean(k.keys, (t) => t.cpuMicrosPerSignature) / mean(1024, (t) => t.cpuMicrosPerSignature), 3)}× (target: within 5%)`,
    ],
    [
      `${fmt(k.keystores.count)} keystores, restart`,
      `${fmt(k.keystores.restart.readySeconds, 1)} s`,
      `from the keystore cache (first start ${fmt(k.keystores.firstStart.readySeconds, 1)} s)`,
    ],
  ];
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

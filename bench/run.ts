/**
 * npm run bench: the blst ceiling, micro benchmarks, and end-to-end HTTP load against a freshly
 * started signer, each figure set beside the ceiling measured in the same run. Results are printed
 * as a table and written to bench/results/<time>.json.
 *
 *   npm run bench -- [--quick] [--connections 64] [--seconds 15] [--keys 1024] [--skip-memory]
 */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {availableParallelism, tmpdir} from "node:os";
import {join} from "node:path";
import {parseArgs} from "node:util";
import {type Ceiling, measureCeiling} from "./ceiling.js";
import {keystoreBench} from "./keystores.js";
import {type LoadResult, burst, dutyCycle, fetchPublicKeys, sustained} from "./load.js";
import {type MicroResult, runMicro} from "./micro.js";
import {SignerProcess} from "./signerProcess.js";

const {values} = parseArgs({
  options: {
    quick: {type: "boolean", default: false},
    connections: {type: "string", default: "64"},
    seconds: {type: "string"},
    keys: {type: "string", default: "1024"},
    "skip-memory": {type: "boolean", default: false},
  },
});
const quick = values.quick!;
const seconds = Number(values.seconds ?? (quick ? 5 : 15));
const connections = Number(values.connections);
const keyCount = Number(values.keys);
const cores = availableParallelism();

const step = (what: string) => process.stdout.write(`\n▶ ${what}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", {maximumFractionDigits: digits, minimumFractionDigits: digits});

type E2E = LoadResult & {signerCpuCores: number; ratioToCeiling: number; cpuEfficiency: number};

async function measureLoad(signer: SignerProcess, ceiling: Ceiling, run: () => Promise<LoadResult>): Promise<E2E> {
  const cpu0 = signer.cpuSeconds();
  const result = await run();
  const signerCpuCores = (signer.cpuSeconds() - cpu0) / result.seconds;
  return {
    ...result,
    signerCpuCores,
    ratioToCeiling: result.requestsPerSecond / ceiling.signaturesPerSecond,
    // 1.0: every CPU-second the signer used bought as many signatures as raw blst would have.
    cpuEfficiency: result.requestsPerSecond / (signerCpuCores * ceiling.signaturesPerCpuSecond),
  };
}

async function main(): Promise<void> {
  console.log(`ts3signer bench: ${cores} cores, Node ${process.version}${quick ? ", quick" : ""}`);

  step("raw blst ceiling (1 thread, then every core at once)");
  const single = await measureCeiling(1, quick ? 1.5 : 3);
  const ceiling = await measureCeiling(cores, quick ? 1.5 : 3);
  console.log(`  1 thread: ${fmt(single.signaturesPerSecond)}/s; ${cores} threads: ${fmt(ceiling.signaturesPerSecond)}/s, ${fmt(ceiling.signaturesPerCpuSecond)} per CPU-second`);

  step("micro benchmarks (tinybench)");
  const micro: MicroResult[] = await runMicro(new URL("../../test/fixtures/signing-roots.json", import.meta.url), quick ? 150 : 400);
  for (const m of micro) console.log(`  ${m.name.padEnd(46)} ${fmt(m.microseconds, 1).padStart(8)} µs  ${fmt(100 * m.shareOfSignature, 1).padStart(6)}% of a signature`);

  step(`end-to-end: signer with ${keyCount} interop keys (mainnet), ${connections} connections`);
  const signer = await SignerProcess.start(["--interop-keys", String(keyCount)]);
  const pubkeys = await fetchPublicKeys(signer.url);
  await sustained(signer.url, pubkeys, connections, 1); // warm-up
  const steady = await measureLoad(signer, ceiling, () =>
    sustained(signer.url, pubkeys, connections, seconds, (n) => process.stdout.write(`\r  sustained: ${fmt(n)} requests`))
  );
  console.log(`\n  sustained: ${fmt(steady.requestsPerSecond)}/s = ${fmt(steady.ratioToCeiling, 2)}× ceiling, CPU efficiency ${fmt(steady.cpuEfficiency, 2)}, p99 ${fmt(steady.latencyMs.p99, 1)} ms, errors ${steady.errors}`);

  const burstCount = 8192;
  const burstResult = await measureLoad(signer, ceiling, () => burst(signer.url, pubkeys, 256, burstCount));
  const idealSeconds = burstCount / ceiling.signaturesPerSecond;
  console.log(`  burst: ${burstCount} attestations over 256 connections in ${fmt(burstResult.seconds, 2)} s = ${fmt(burstResult.seconds / idealSeconds, 2)}× ideal (${fmt(idealSeconds, 2)} s), p99 ${fmt(burstResult.latencyMs.p99, 0)} ms, errors ${burstResult.errors}`);

  const duty = await measureLoad(signer, ceiling, () => dutyCycle(signer.url, pubkeys, 256, quick ? 1 : 2, 4));
  for (const b of duty.bursts ?? []) {
    console.log(`  duty ${b.name.padEnd(36)} ${String(b.requests).padStart(5)} requests in ${fmt(b.seconds, 3)} s (${fmt(b.seconds / (b.requests / ceiling.signaturesPerSecond), 2)}× ideal)`);
  }
  const rss1k = signer.rssBytes();
  await signer.stop();

  step("sustained load with slashing protection (SQLite, EIP-3076 checks per attestation)");
  const dbDir = mkdtempSync(join(tmpdir(), "ts3signer-bench-slashing-"));
  const protectedSigner = await SignerProcess.start(["--interop-keys", String(keyCount), "--slashing-protection", `sqlite:${join(dbDir, "slashing.sqlite")}`]);
  const protectedKeys = await fetchPublicKeys(protectedSigner.url);
  const guarded = await measureLoad(protectedSigner, ceiling, () => sustained(protectedSigner.url, protectedKeys, connections, seconds));
  await protectedSigner.stop();
  rmSync(dbDir, {recursive: true, force: true});
  console.log(`  ${fmt(guarded.requestsPerSecond)}/s = ${fmt(guarded.ratioToCeiling, 2)}× ceiling (${fmt(guarded.requestsPerSecond / steady.requestsPerSecond, 2)}× without), p99 ${fmt(guarded.latencyMs.p99, 1)} ms, errors ${guarded.errors}`);

  let memory: {keys: number; readySeconds: number; rssBytes: number}[] = [{keys: keyCount, readySeconds: signer.readySeconds, rssBytes: rss1k}];
  if (!values["skip-memory"]) {
    const bigKeys = quick ? 20_000 : 100_000;
    step(`key loading and memory: ${fmt(bigKeys)} interop keys`);
    const big = await SignerProcess.start(["--interop-keys", String(bigKeys)]);
    memory.push({keys: bigKeys, readySeconds: big.readySeconds, rssBytes: big.rssBytes()});
    await big.stop();
    const [small, large] = memory;
    console.log(`  ready in ${fmt(large.readySeconds, 2)} s; RSS ${fmt(small.rssBytes / 2 ** 20, 1)} MiB with ${fmt(small.keys)} keys, ${fmt(large.rssBytes / 2 ** 20, 1)} MiB with ${fmt(large.keys)} (≈ ${fmt((large.rssBytes - small.rssBytes) / (large.keys - small.keys))} bytes per key)`);
  }

  step("keystore loading (EIP-2335 scrypt, n = 2^18)");
  const keystores = await keystoreBench(quick ? 8 : 16);
  console.log(`  ${keystores.keystores} keystores: ${fmt(keystores.loadPerSecond, 2)}/s loading vs ${fmt(keystores.rawPerSecond, 2)}/s raw node:crypto scrypt on all cores = ${fmt(keystores.ratio, 2)}×`);

  step("summary");
  const rows: [string, string, string][] = [
    ["raw blst, all cores", `${fmt(ceiling.signaturesPerSecond)}/s`, "1.00× (ceiling)"],
    ["sustained HTTP", `${fmt(steady.requestsPerSecond)}/s`, `${fmt(steady.ratioToCeiling, 2)}× ceiling`],
    ["  CPU efficiency", fmt(steady.cpuEfficiency, 2), `signer ${fmt(steady.signerCpuCores, 2)} cores, load generator ${fmt(steady.generatorCores, 2)}`],
    ["  latency p50 / p99 / max", `${fmt(steady.latencyMs.p50, 1)} / ${fmt(steady.latencyMs.p99, 1)} / ${fmt(steady.latencyMs.max, 1)} ms`, `errors ${steady.errors}`],
    ["with slashing protection", `${fmt(guarded.requestsPerSecond)}/s`, `${fmt(guarded.ratioToCeiling, 2)}× ceiling, errors ${guarded.errors}`],
    ["keystores loaded", `${fmt(keystores.loadPerSecond, 2)}/s`, `${fmt(keystores.ratio, 2)}× raw scrypt on all cores`],
    [`burst of ${burstCount}`, `${fmt(burstResult.seconds, 2)} s`, `${fmt(burstResult.seconds / idealSeconds, 2)}× ideal, p99 ${fmt(burstResult.latencyMs.p99, 0)} ms`],
  ];
  for (const [a, b, c] of rows) console.log(`  ${a.padEnd(28)} ${b.padStart(22)}   ${c}`);

  const dir = new URL("../../bench/results/", import.meta.url);
  mkdirSync(dir, {recursive: true});
  const file = new URL(`${new Date().toISOString().replace(/[:.]/g, "-")}.json`, dir);
  writeFileSync(file, JSON.stringify({date: new Date().toISOString(), cores, node: process.version, single, ceiling, micro, sustained: steady, burst: burstResult, duty, memory, keystores, slashingProtection: guarded}, null, 2));
  console.log(`\nresults: ${file.pathname}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Slashing protection with a year of history (README: "Slashing protection"), on both stores:
 *   node dist/bench/slashingHistory.js [--history 100000] [--import 82000] [--samples 300] [--postgres URL]
 * One signer per store (3 interop keys, the Keymanager API on): `--import` attestations of one key
 * imported through the Keymanager API (its time, and the slowest /upcheck answer meanwhile), then
 * `--history` attestations imported for another, and signing latency for that key against a fresh
 * one, request by request in turn. PostgreSQL: a throwaway server from the machine's binaries
 * (bench/postgresServer.ts, fsync off), unless --postgres names one.
 */
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {parseArgs} from "node:util";
import {fetchPublicKeys} from "../src/load/load.js";
import {attestation, BASE_EPOCH} from "../src/load/requests.js";
import {startTestPostgres} from "./postgresServer.js";
import {SignerProcess} from "./signerProcess.js";

/** How much history: votes of the long-history key, votes imported for the timed import, signatures timed per key. */
export type HistorySizes = {history: number; imported: number; samples: number};
const GVR = (attestation(0, 0, 0) as {fork_info: {genesis_validators_root: string}}).fork_info.genesis_validators_root;
const hex32 = (n: number) => "0x" + n.toString(16).padStart(64, "0");

/** An interchange document: `count` votes (e - 1 → e) of one key, ending below BASE_EPOCH. */
function history(pubkey: string, count: number): string {
  const first = BASE_EPOCH - count;
  const signed_attestations = Array.from({length: count}, (_, i) => ({
    source_epoch: String(first + i - 1),
    target_epoch: String(first + i),
    signing_root: hex32(first + i),
  }));
  return JSON.stringify({
    metadata: {interchange_format_version: "5", genesis_validators_root: GVR},
    data: [{pubkey, signed_blocks: [], signed_attestations}],
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

export type StoreResult = {
  store: string;
  importSeconds: number;
  importRecords: number;
  historyRecords: number;
  slowestUpcheckMs: number;
  /** CPU the HTTP thread spent while the import ran (receiving and handing over the document). */
  importHttpCpuSeconds: number;
  historyImportSeconds: number;
  /** Signing latency (ms), p50 and p99, for the key with the long history and for a fresh key. */
  long: {p50: number; p99: number};
  fresh: {p50: number; p99: number};
};

async function measureStore(
  store: string,
  slashingProtection: string,
  {history: historySize, imported: importSize, samples}: HistorySizes
): Promise<StoreResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "ts3signer-bench-history-"));
  const signer = await SignerProcess.start([
    "--network",
    "mainnet",
    "--interop-keys",
    "3",
    "--workers",
    "2",
    "--data-dir",
    dataDir,
    "--max-body",
    String(256 * 1024 ** 2),
    "--slashing-protection",
    slashingProtection,
  ]);
  try {
    const [longKey, freshKey, importKey] = await fetchPublicKeys(signer.url);
    const token = readFileSync(join(dataDir, "api-token.txt"), "utf8").trim();
    // The request body is built before timing: stringifying megabytes here would stall the probe below.
    const importRequest = (doc: string) => JSON.stringify({keystores: [], passwords: [], slashing_protection: doc});
    const importHistory = async (body: string) => {
      const reply = await fetch(`${signer.url}/eth/v1/keystores`, {
        method: "POST",
        headers: {authorization: `Bearer ${token}`, "content-type": "application/json"},
        body,
      });
      if (reply.status !== 200) throw new Error(`import answered ${reply.status}: ${await reply.text()}`);
    };
    const importBody = importRequest(history(importKey, importSize));
    // The slowest /upcheck while the import runs: how long the HTTP thread was held.
    let importing = true;
    let slowestUpcheckMs = 0;
    const probe = (async () => {
      while (importing) {
        slowestUpcheckMs = Math.max(slowestUpcheckMs, await timed(() => fetch(`${signer.url}/upcheck`).then((r) => r.text())));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const httpCpu0 = signer.httpThreadCpuSeconds();
    const importMs = await timed(() => importHistory(importBody));
    const importHttpCpuSeconds = signer.httpThreadCpuSeconds() - httpCpu0;
    importing = false;
    await probe;
    const historyBody = importRequest(history(longKey, historySize));
    const historyMs = await timed(() => importHistory(historyBody));

    const latencies = {long: [] as number[], fresh: [] as number[]};
    for (let i = 0; i < samples; i++) {
      for (const [which, pubkey] of [
        ["long", longKey],
        ["fresh", freshKey],
      ] as const) {
        const body = JSON.stringify(attestation(BASE_EPOCH + i, 0, 0));
        const ms = await timed(async () => {
          const reply = await fetch(`${signer.url}/api/v1/eth2/sign/${pubkey}`, {
            method: "POST",
            headers: {"content-type": "application/json"},
            body,
          });
          if (reply.status !== 200) throw new Error(`signing answered ${reply.status}: ${await reply.text()}`);
        });
        if (i >= 10) latencies[which].push(ms); // the first few warm up connections and statements
      }
    }
    const summary = (l: number[]) => {
      const sorted = [...l].sort((a, b) => a - b);
      return {p50: percentile(sorted, 50), p99: percentile(sorted, 99)};
    };
    return {
      store,
      importSeconds: importMs / 1000,
      importRecords: importSize,
      historyRecords: historySize,
      slowestUpcheckMs,
      importHttpCpuSeconds,
      historyImportSeconds: historyMs / 1000,
      long: summary(latencies.long),
      fresh: summary(latencies.fresh),
    };
  } finally {
    await signer.stop();
    rmSync(dataDir, {recursive: true, force: true});
  }
}

export async function slashingHistoryBench(sizes: HistorySizes, postgresUrl?: string): Promise<StoreResult[]> {
  const results: StoreResult[] = [];
  const dbDir = mkdtempSync(join(tmpdir(), "ts3signer-bench-history-db-"));
  try {
    results.push(await measureStore("SQLite", `sqlite:${join(dbDir, "slashing.sqlite")}`, sizes));
  } finally {
    rmSync(dbDir, {recursive: true, force: true});
  }
  const server = postgresUrl ? undefined : startTestPostgres();
  if (server && "unavailable" in server) {
    console.warn(`PostgreSQL skipped: ${server.unavailable}`);
    return results;
  }
  try {
    results.push(await measureStore("PostgreSQL", postgresUrl ?? (await server!.createDatabase()), sizes));
  } finally {
    server?.stop();
  }
  return results;
}

export function printSlashingHistory(results: StoreResult[]): void {
  const f = (n: number, digits = 2) => n.toFixed(digits);
  for (const r of results) {
    console.log(
      `  ${r.store}: import of ${r.importRecords} records of one key ${f(r.importSeconds)} s (target ≤ 10 s), slowest /upcheck meanwhile ${f(r.slowestUpcheckMs, 1)} ms, HTTP thread CPU ${f(r.importHttpCpuSeconds)} s; ` +
        `${r.historyRecords} records ${f(r.historyImportSeconds)} s`
    );
    console.log(
      `  ${r.store}: signing an attestation, key with ${r.historyRecords} votes p50 ${f(r.long.p50)} ms p99 ${f(r.long.p99)} ms, fresh key p50 ${f(r.fresh.p50)} ms p99 ${f(r.fresh.p99)} ms = ${f(r.long.p50 / r.fresh.p50)}× (target ≤ 1.5×)`
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const {values} = parseArgs({
    options: {
      history: {type: "string", default: "100000"},
      import: {type: "string", default: "82000"},
      samples: {type: "string", default: "300"},
      postgres: {type: "string"},
    },
  });
  const sizes = {history: Number(values.history), imported: Number(values.import), samples: Number(values.samples)};
  printSlashingHistory(await slashingHistoryBench(sizes, values.postgres));
}

/**
 * The sustained and burst figures again from wrk, a generic HTTP load generator written in C
 * (Debian package `wrk`), as a check on bench/load.ts that shares none of its code: same requests,
 * another client. Skipped where wrk is not installed.
 */
import {spawn, spawnSync} from "node:child_process";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {LoadResult} from "./load.js";
import {processCpuSeconds} from "./procStat.js";
import * as R from "./requests.js";

const script = new URL("../../../src/load/wrk-sign.lua", import.meta.url).pathname;

export function wrkAvailable(): boolean {
  const probe = spawnSync("wrk", ["--version"], {stdio: "ignore"});
  return !probe.error;
}

/** Runs wrk over attestation requests; resolves with its output, its wall time and CPU. */
async function runWrk(target: string, pubkeys: string[], count: number, wrkArgs: string[], scriptArgs: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "ts3signer-wrk-"));
  const file = join(dir, "requests.tsv");
  writeFileSync(
    file,
    R.attestations(pubkeys, count, 3000)
      .map(({pubkey, body}) => `/api/v1/eth2/sign/${pubkey}\t${JSON.stringify(body)}\n`)
      .join("")
  );
  try {
    const t0 = performance.now();
    const child = spawn("wrk", [...wrkArgs, "-s", script, target, "--", file, ...scriptArgs], {stdio: ["ignore", "pipe", "pipe"]});
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d));
    child.stderr.on("data", (d: Buffer) => (output += d));
    // Its CPU is read from /proc while it runs: the last reading before it exits.
    let cpuSeconds = 0;
    const sample = setInterval(() => {
      try {
        cpuSeconds = processCpuSeconds(child.pid!);
      } catch {
        // exited between samples
      }
    }, 100);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    clearInterval(sample);
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`wrk exited with ${code}:\n${output}`);
    return {output, seconds, generatorCores: cpuSeconds / seconds};
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

const toMs = (value: string, unit: string) => Number(value) * ({us: 1e-3, ms: 1, s: 1000, m: 60_000}[unit] ?? NaN);

function latency(output: string, label: string): number {
  const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s|m)\\b`, "m").exec(output);
  return m ? toMs(m[1], m[2]) : NaN;
}

/** `connections` connections, one request in flight each, for `seconds`: wrk's own summary. */
export async function wrkSustained(target: string, pubkeys: string[], connections: number, seconds: number): Promise<LoadResult> {
  const {output, generatorCores} = await runWrk(
    target,
    pubkeys,
    Math.max(pubkeys.length * 8, 8192),
    ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency"],
    []
  );
  return {...parseWrkSummary(output), generatorCores};
}

/** The figures in wrk's closing summary (run with --latency). */
export function parseWrkSummary(output: string): Omit<LoadResult, "generatorCores"> {
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  if (!done) throw new Error(`unexpected wrk output:\n${output}`);
  const requests = Number(done[1]);
  const seconds = toMs(done[2], done[3]) / 1000;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const socketErrors = /Socket errors: (.*)/.exec(output)?.[1];
  const socketErrorCount = socketErrors ? [...socketErrors.matchAll(/\d+/g)].reduce((a, m) => a + Number(m[0]), 0) : 0;
  return {
    profile: "sustained (wrk)",
    requests,
    errors: non2xx + socketErrorCount,
    errorSamples: [non2xx ? `${non2xx} non-2xx responses` : "", socketErrors ? `socket errors: ${socketErrors}` : ""].filter(Boolean),
    seconds,
    requestsPerSecond: requests / seconds,
    latencyMs: {p50: latency(output, "50%"), p99: latency(output, "99%"), max: latency(output, "Latency\\s+\\S+\\s+\\S+")},
  };
}

/**
 * `count` attestations over `connections` connections. wrk exits at the count-th response (see
 * wrk-sign.lua), so the time is the whole process's, its start-up (reading the requests,
 * connecting) included: an upper bound. wrk prints no latencies in this mode.
 */
export async function wrkBurst(target: string, pubkeys: string[], connections: number, count: number): Promise<LoadResult> {
  const {output, seconds, generatorCores} = await runWrk(target, pubkeys, count, ["-t1", `-c${connections}`, "-d120s"], [String(count)]);
  const non2xx = Number(/non-2xx: (\d+)/.exec(output)?.[1] ?? NaN);
  return {
    profile: "burst (wrk)",
    requests: count,
    errors: non2xx,
    errorSamples: non2xx ? [`${non2xx} non-2xx responses`] : [],
    seconds,
    requestsPerSecond: count / seconds,
    latencyMs: {p50: NaN, p99: NaN, max: NaN},
    generatorCores,
  };
}

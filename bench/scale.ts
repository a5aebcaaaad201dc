/**
 * What running several replicas costs, measured on this machine (docs/replicas.md, "What it
 * costs"):
 *   node dist/bench/scale.js [--haproxy PATH] [--postgres URL] [--seconds N]
 * - HAProxy (deploy/haproxy.cfg) in front of one signer: the latency it adds to one request on an
 *   idle signer, and its CPU per request under sustained load.
 * - PostgreSQL slashing protection (--postgres, a server on this machine reached over TCP): the
 *   server's CPU per protected signature, with the transactions per batch the signer made, read
 *   from the server's own processes and statistics.
 */
import {type ChildProcess, spawn} from "node:child_process";
import {readdirSync, readFileSync} from "node:fs";
import {createServer} from "node:net";
import {parseArgs} from "node:util";
import pg from "pg";
import {fetchPublicKeys, type LoadResult, sustained} from "../src/load/load.js";
import {processCpuSeconds} from "../src/load/procStat.js";
import {SignerProcess} from "./signerProcess.js";

const {values} = parseArgs({
  options: {
    haproxy: {type: "string", default: "haproxy"},
    postgres: {type: "string"},
    seconds: {type: "string", default: "15"},
  },
});
const seconds = Number(values.seconds);
const signerArgs = ["--network", "mainnet", "--interop-keys", "1024", "--workers", "2"];
const row = (what: string, result: string) => console.log(`${what.padEnd(58)} ${result}`);
const fmt = (r: LoadResult) =>
  `${Math.round(r.requestsPerSecond)}/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms, ${r.errors} errors`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const {port} = server.address() as {port: number};
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** HAProxy with the shipped config, its three servers all pointing at `signer`. */
async function startHaproxy(signer: string): Promise<{url: string; child: ChildProcess}> {
  const [bind, stats] = [await freePort(), await freePort()];
  const target = new URL(signer).host;
  const env = {
    ...process.env,
    HAPROXY_BIND: `127.0.0.1:${bind}`,
    HAPROXY_STATS: `127.0.0.1:${stats}`,
    SIGNER1: target,
    SIGNER2: target,
    SIGNER3: target,
  };
  const config = new URL("../../deploy/haproxy.cfg", import.meta.url).pathname;
  const child = spawn(values.haproxy!, ["-f", config, "-db"], {env, stdio: ["ignore", "ignore", "inherit"]});
  for (let i = 0; i < 100; i++) {
    const csv = await fetch(`http://127.0.0.1:${stats}/stats;csv`).then(
      (r) => r.text(),
      () => ""
    );
    if ((csv.match(/^signers,signer\d,.*\bUP\b/gm) ?? []).length === 3) return {url: `http://127.0.0.1:${bind}`, child};
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error("HAProxy did not mark the signer UP");
}

/** The PostgreSQL server's processes on this machine: the postmaster and its children. */
function serverProcesses(postmaster: number): number[] {
  const children = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]) === postmaster;
      } catch {
        return false;
      }
    });
  return [postmaster, ...children.map(Number)];
}

async function measureHaproxy(): Promise<void> {
  const signer = await SignerProcess.start(signerArgs);
  const haproxy = await startHaproxy(signer.url);
  try {
    const keys = await fetchPublicKeys(signer.url);
    await sustained({target: signer.url, pubkeys: keys, connections: 16}, 2); // warm-up
    const direct1 = await sustained({target: signer.url, pubkeys: keys, connections: 1}, 5);
    const via1 = await sustained({target: haproxy.url, pubkeys: keys, connections: 1}, 5);
    row("one connection, direct", fmt(direct1));
    row("one connection, through HAProxy", fmt(via1));
    row("HAProxy's added latency (p50)", `${(via1.latencyMs.p50 - direct1.latencyMs.p50).toFixed(3)} ms`);
    const signerCpu0 = signer.cpuSeconds();
    const direct = await sustained({target: signer.url, pubkeys: keys, connections: 64}, seconds);
    const signerCpu = signer.cpuSeconds() - signerCpu0;
    const cpu0 = processCpuSeconds(haproxy.child.pid!);
    const via = await sustained({target: haproxy.url, pubkeys: keys, connections: 64}, seconds);
    const cpu = processCpuSeconds(haproxy.child.pid!) - cpu0;
    row("64 connections, direct", fmt(direct));
    row(
      "signer CPU per signature (no slashing protection)",
      `${((signerCpu / direct.requests) * 1e6).toFixed(0)} µs: ${Math.round(direct.requests / signerCpu)} signatures per signer CPU-second`
    );
    row("64 connections, through HAProxy", fmt(via));
    row(
      "HAProxy CPU per request",
      `${((cpu / via.requests) * 1e6).toFixed(1)} µs (${(cpu / via.seconds).toFixed(3)} cores at ${Math.round(via.requestsPerSecond)}/s)`
    );
  } finally {
    haproxy.child.kill();
    await signer.stop();
  }
}

async function measurePostgres(url: string): Promise<void> {
  const admin = new pg.Client({connectionString: url});
  await admin.connect();
  const signer = await SignerProcess.start([...signerArgs, "--slashing-protection", url]);
  try {
    const backend = (await admin.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
    const postmaster = Number(readFileSync(`/proc/${backend}/stat`, "utf8").split(") ")[1].split(" ")[1]);
    const commits = async () =>
      Number((await admin.query("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")).rows[0].xact_commit);
    const serverCpu = () =>
      serverProcesses(postmaster).reduce(
        (sum, pid) =>
          sum +
          (() => {
            try {
              return processCpuSeconds(pid);
            } catch {
              return 0;
            }
          })(),
        0
      );
    const keys = await fetchPublicKeys(signer.url);
    await sustained({target: signer.url, pubkeys: keys, connections: 16}, 2); // warm-up: connections open, statements prepared
    const [cpu0, xact0, signerCpu0] = [serverCpu(), await commits(), signer.cpuSeconds()];
    const result = await sustained({target: signer.url, pubkeys: keys, connections: 64}, seconds);
    const [cpu, xacts, signerCpu] = [serverCpu() - cpu0, (await commits()) - xact0, signer.cpuSeconds() - signerCpu0];
    row("64 connections, PostgreSQL slashing protection", fmt(result));
    row(
      "signer CPU per protected signature",
      `${((signerCpu / result.requests) * 1e6).toFixed(0)} µs: ${Math.round(result.requests / signerCpu)} signatures per signer CPU-second`
    );
    row("transactions: signatures per batch", `${(result.requests / xacts).toFixed(1)} (${xacts} transactions)`);
    row(
      "PostgreSQL server CPU",
      `${(cpu / result.seconds).toFixed(2)} cores, ${((cpu / result.requests) * 1e6).toFixed(0)} µs per signature`
    );
    row("protected signatures per server CPU-second", `${Math.round(result.requests / cpu)}`);
  } finally {
    await signer.stop();
    await admin.end();
  }
}

await measureHaproxy();
if (values.postgres) await measurePostgres(values.postgres);

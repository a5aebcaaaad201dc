/**
 * Several replicas as docs/replicas.md describes them, with the real parts on
 * loopback: a throwaway PostgreSQL (reached through TCP proxies the test can cut), three signer
 * processes sharing one data dir, and HAProxy with deploy/haproxy.cfg in front.
 */
import {type ChildProcess, spawn, spawnSync} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import net from "node:net";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PublicKey, SecretKey, Signature, verify} from "@chainsafe/blst";
import pg from "pg";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {encryptKeystore} from "../src/keys/eip2335.js";
import {interopSecretKey} from "../src/keys/interop.js";
import {startTestPostgres} from "./helpers/postgres.js";
import {type Reply, request, sign, vectorsPath} from "./helpers/signer.js";
import {startTcpProxy, type TcpProxy} from "./helpers/tcpProxy.js";

const cli = new URL("../dist/src/cli.js", import.meta.url).pathname;
const haproxyConfig = new URL("../deploy/haproxy.cfg", import.meta.url).pathname;
const haproxy = spawnSync("sh", ["-c", "command -v haproxy || command -v /usr/sbin/haproxy"], {encoding: "utf8"}).stdout.trim();
const postgres = startTestPostgres();
const unavailable =
  "unavailable" in postgres ? postgres.unavailable : !haproxy ? "no haproxy binary (Debian: apt-get install haproxy)" : undefined;
if (unavailable) console.warn(`replica tests skipped: ${unavailable}`);

type Vector = {name: string; request: Record<string, any>; signing_root: string};
const vectors: Vector[] = JSON.parse(readFileSync(vectorsPath, "utf8"));
const randao = vectors.find((v) => v.name === "web3signer: RANDAO_REVEAL")!;
const attestation = (source: number, target: number, blockRoot = "0x" + "11".repeat(32)) => {
  const r = structuredClone(vectors.find((v) => v.name === "web3signer: ATTESTATION")!.request);
  Object.assign(r.attestation, {
    beacon_block_root: blockRoot,
    source: {epoch: String(source), root: r.attestation.source.root},
    target: {epoch: String(target), root: r.attestation.target.root},
  });
  return r;
};
const vote = (target: number) => attestation(target - 1, target);
const pubkeyOf = (i: number) => "0x" + Buffer.from(SecretKey.fromBytes(interopSecretKey(i)).toPublicKey().toBytes()).toString("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A signer process; `output` is everything it logged. */
type Replica = {child: ChildProcess; url: string; port: number; output: () => string};

async function startReplica(pgUrl: string, dataDir: string): Promise<Replica> {
  const args = ["--port", "0", "--metrics-port", "0", "--network", "minimal", "--interop-keys", "0:16", "--workers", "1"];
  const child = spawn(process.execPath, [cli, ...args, "--data-dir", dataDir, "--slashing-protection", pgUrl, "--log-format", "json"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica not ready:\n${out}`)), 45_000);
    child.stdout!.on("data", () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m && out.includes('"ready with')) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`replica exited (${code}):\n${out}`)));
  });
  return {child, port, url: `http://127.0.0.1:${port}`, output: () => out};
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const {port} = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Signs `body` with `pubkey` at `url` again and again, `concurrency` at a time, until `stop()`. */
function hammer(url: string, pubkey: string, body: (n: number) => object, concurrency: number) {
  const results: {n: number; status: number; ms: number; reply: Reply}[] = [];
  let n = 0;
  let running = true;
  const loops = Array.from({length: concurrency}, async () => {
    while (running) {
      const i = n++;
      const t0 = performance.now();
      const reply = await sign(url, pubkey, body(i)).catch((e: Error) => ({
        status: 0,
        text: e.message,
        contentType: null,
        json: () => ({}),
      }));
      results.push({n: i, status: reply.status, ms: performance.now() - t0, reply});
    }
  });
  return {
    results,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}

describe.runIf(!unavailable)("three replicas behind HAProxy, one PostgreSQL, one data dir", () => {
  let dbUrl: string;
  let admin: pg.Client;
  const proxies: TcpProxy[] = [];
  const replicas: Replica[] = [];
  let haproxyProcess: ChildProcess;
  let haproxyLog = "";
  let balancer: string;
  let statsUrl: string;
  let dataDir: string;
  let token: string;
  const keymanager = (url: string, method: string, body?: object) =>
    request(`${url}/eth/v1/keystores`, {
      method,
      headers: {authorization: `Bearer ${token}`, "content-type": "application/json"},
      body: body && JSON.stringify(body),
    });

  /** A column of HAProxy's statistics for each replica: `status` (UP, DOWN, …), `stot` (requests sent), … */
  async function serverStats(column = "status"): Promise<Record<string, string>> {
    const csv = await (await fetch(`${statsUrl};csv`)).text();
    const [header, ...rows] = csv
      .trim()
      .split("\n")
      .map((l) => l.split(","));
    const col = (name: string) => header.indexOf(name === "pxname" ? "# pxname" : name);
    return Object.fromEntries(
      rows.filter((r) => r[col("pxname")] === "signers" && r[col("svname")] !== "BACKEND").map((r) => [r[col("svname")], r[col(column)]])
    );
  }
  const serverStates = () => serverStats("status");

  beforeAll(async () => {
    const pgServer = postgres as Exclude<typeof postgres, {unavailable: string}>;
    dbUrl = await pgServer.createDatabase();
    const parsed = new URL(dbUrl);
    const socket = join(parsed.searchParams.get("host")!, ".s.PGSQL.5432");
    admin = new pg.Client({connectionString: dbUrl});
    await admin.connect();
    dataDir = mkdtempSync(join(tmpdir(), "ts3signer-replicas-"));
    for (let i = 0; i < 3; i++) proxies.push(await startTcpProxy({path: socket}));
    // Started together on an empty data dir: they race to create the Keymanager token.
    replicas.push(
      ...(await Promise.all(
        proxies.map((p) => startReplica(`postgres://postgres:pg-secret@127.0.0.1:${p.port}${parsed.pathname}`, dataDir))
      ))
    );
    token = readFileSync(join(dataDir, "api-token.txt"), "utf8").trim();

    const [bind, stats] = [await freePort(), await freePort()];
    balancer = `http://127.0.0.1:${bind}`;
    statsUrl = `http://127.0.0.1:${stats}/stats`;
    const env = {...process.env, HAPROXY_BIND: `127.0.0.1:${bind}`, HAPROXY_STATS: `127.0.0.1:${stats}`};
    for (const [i, r] of replicas.entries()) Object.assign(env, {[`SIGNER${i + 1}`]: `127.0.0.1:${r.port}`});
    haproxyProcess = spawn(haproxy, ["-f", haproxyConfig, "-db"], {env, stdio: ["ignore", "pipe", "pipe"]});
    haproxyProcess.stdout!.on("data", (d) => (haproxyLog += d));
    haproxyProcess.stderr!.on("data", (d) => (haproxyLog += d));
    for (let i = 0; i < 100 && haproxyProcess.exitCode === null; i++) {
      const states = await serverStates().catch(() => ({}));
      if (Object.values(states).length === 3 && Object.values(states).every((s) => s === "UP")) return;
      await sleep(100);
    }
    throw new Error(`HAProxy did not see three replicas UP:\n${haproxyLog}`);
  }, 90_000);

  afterAll(async () => {
    haproxyProcess?.kill("SIGKILL");
    for (const r of replicas) r.child.kill("SIGKILL");
    await admin?.end();
    for (const p of proxies) p.heal();
    await Promise.all(proxies.map((p) => p.close()));
    if ("stop" in postgres) postgres.stop();
    if (dataDir) rmSync(dataDir, {recursive: true, force: true});
  });

  it("uses one Keymanager token on every replica, and passes HAProxy's health check on each", async () => {
    const listed = await Promise.all(replicas.map((r) => keymanager(r.url, "GET").then((x) => x.status)));
    expect(listed).toEqual([200, 200, 200]);
    expect(await serverStates()).toEqual({signer1: "UP", signer2: "UP", signer3: "UP"});
  });

  it("signs exactly one of 30 conflicting votes sent at once through the balancer", async () => {
    const pubkey = pubkeyOf(6);
    const replies = await Promise.all(
      Array.from({length: 30}, (_, i) => sign(balancer, pubkey, attestation(4, 5, "0x" + (i + 1).toString(16).padStart(64, "0"))))
    );
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 412)).toHaveLength(29);
    const {rows} = await admin.query("SELECT count(*)::int AS n FROM signed_attestations WHERE pubkey = $1", [pubkey]);
    expect(rows[0].n).toBe(1);
  });

  it("loads a key imported on one replica on all of them within 2 s; a delete there holds on every replica", async () => {
    const secret = interopSecretKey(100);
    const pubkeyBytes = SecretKey.fromBytes(secret).toPublicKey().toBytes();
    const pubkey = "0x" + Buffer.from(pubkeyBytes).toString("hex");
    const kdf = {function: "pbkdf2", params: {dklen: 32, c: 1024, prf: "hmac-sha256", salt: "00".repeat(32)}, message: ""};
    const keystore = JSON.stringify(await encryptKeystore(secret, pubkeyBytes, "pw", kdf as never, Buffer.alloc(16, 1)));

    expect((await keymanager(replicas[0].url, "POST", {keystores: [keystore], passwords: ["pw"]})).json().data).toEqual([
      {status: "imported"},
    ]);
    const imported = performance.now();
    const seenAfter: number[] = [];
    for (const r of replicas) {
      let reply = await sign(r.url, pubkey, randao.request);
      while (reply.status === 404 && performance.now() - imported < 5000) reply = await sign(r.url, pubkey, randao.request);
      seenAfter.push(performance.now() - imported);
      expect(reply.status).toBe(200);
      const signature = Signature.fromHex(reply.json().signature);
      expect(verify(Buffer.from(randao.signing_root.slice(2), "hex"), PublicKey.fromBytes(pubkeyBytes), signature)).toBe(true);
    }
    expect(Math.max(...seenAfter)).toBeLessThan(2000);

    // Replica 2 signs the key's attestations under load while replica 1 deletes it.
    const load = hammer(replicas[1].url, pubkey, (n) => vote(10 + n), 4);
    while (load.results.filter((x) => x.status === 200).length < 20) await sleep(10);
    const deleted = (await keymanager(replicas[0].url, "DELETE", {pubkeys: [pubkey]})).json();
    expect(deleted.data).toEqual([{status: "deleted"}]);
    const exported = new Set(
      JSON.parse(deleted.slashing_protection).data[0].signed_attestations.map((a: {target_epoch: string}) => Number(a.target_epoch))
    );
    // From the DELETE's answer on, no replica signs an attestation with it.
    for (const r of replicas) expect([404, 412]).toContain((await sign(r.url, pubkey, vote(100_000))).status);
    const results = await load.stop();
    const signed = results.filter((x) => x.status === 200).map((x) => 10 + x.n);
    expect(signed.length).toBeGreaterThanOrEqual(20);
    // Every vote any replica signed is in the history the DELETE handed out: nothing extends it.
    for (const target of signed) expect(exported.has(target), `target ${target}`).toBe(true);
    expect(results.every((x) => [200, 404, 412].includes(x.status))).toBe(true);
    const refusal = results.find((x) => x.status === 412);
    if (refusal) expect(refusal.reply.json().message).toMatch(/deleted through the Keymanager API/);

    // Gone from every replica soon after; an import on another replica brings it back.
    const deletedAt = performance.now();
    for (const r of replicas) {
      while ((await sign(r.url, pubkey, randao.request)).status !== 404) {
        expect(performance.now() - deletedAt).toBeLessThan(2000);
        await sleep(20);
      }
    }
    expect((await keymanager(replicas[2].url, "POST", {keystores: [keystore], passwords: ["pw"]})).json().data).toEqual([
      {status: "imported"},
    ]);
    expect((await sign(replicas[2].url, pubkey, vote(200_000))).status).toBe(200);
    expect(replicas[1].output()).toMatch(/"key removed: its file left the data dir/);
  });

  it("answers every request by its deadline while the database hangs, signing what needs no database at once", async () => {
    const deadlineMs = 5000;
    for (const p of proxies) p.cut();
    const started = performance.now();
    const timed = async (fn: () => Promise<Reply>) => {
      const t0 = performance.now();
      const reply = await fn();
      return {status: reply.status, ms: performance.now() - t0};
    };
    const [randaoReply, ...votes] = await Promise.all([
      timed(() => sign(replicas[0].url, pubkeyOf(7), randao.request)),
      ...Array.from({length: 4}, (_, i) => timed(() => sign(replicas[i % 2].url, pubkeyOf(8 + i), vote(30)))),
    ]);
    expect(randaoReply.status).toBe(200);
    expect(randaoReply.ms).toBeLessThan(1500);
    for (const v of votes) {
      expect(v.status).toBe(503);
      expect(v.ms).toBeLessThan(deadlineMs + 1000);
    }
    expect(performance.now() - started).toBeLessThan(deadlineMs + 1000);
    // Known down: later requests do not queue up behind more timeouts.
    const later = await timed(() => sign(replicas[0].url, pubkeyOf(8), vote(31)));
    expect(later.status).toBe(503);
    expect(later.ms).toBeLessThan(deadlineMs + 1000);

    // Every replica says so on /healthcheck (503, its database check DOWN), and HAProxy keeps them
    // all in rotation (deploy/haproxy.cfg checks the keys only): what needs no database still signs.
    const healthOf = async (r: Replica) =>
      (await request(`${r.url}/healthcheck`))
        .json()
        .checks.map((c: {status: string}) => c.status)
        .join();
    for (const r of replicas) {
      while ((await healthOf(r)) !== "UP,DOWN") await sleep(100);
    }
    await sleep(1500); // three of HAProxy's checks (every 0.5 s; two failures would mark one down)
    expect(await serverStates()).toEqual({signer1: "UP", signer2: "UP", signer3: "UP"});
    expect((await sign(balancer, pubkeyOf(7), randao.request)).status).toBe(200);

    for (const p of proxies) p.heal();
    const healed = performance.now();
    let status = 0;
    for (let target = 40; status !== 200 && performance.now() - healed < 5000; target++)
      status = (await sign(replicas[0].url, pubkeyOf(8), vote(target))).status;
    expect(status).toBe(200);
    // Each replica logged the outage once, going and coming back.
    for (const r of replicas) {
      while ((await healthOf(r)) !== "UP,UP") await sleep(100);
      const lines = r
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l).msg as string);
      expect(lines.filter((m) => /database unreachable/.test(m))).toHaveLength(1);
      expect(lines.filter((m) => /database reachable again/.test(m))).toHaveLength(1);
    }
  });

  it("lets the other replica sign a key whose lock a replica cut off mid-transaction holds, within seconds", async () => {
    const pubkey = pubkeyOf(12);
    const load = hammer(replicas[1].url, pubkey, (n) => vote(1000 + n), 4);
    while (load.results.filter((x) => x.status === 200).length < 10) await sleep(10);
    // Cut replica 2 off from the database while it holds the key's advisory lock.
    let cutAt = 0;
    for (let attempt = 0; attempt < 50 && !cutAt; attempt++) {
      proxies[1].cut();
      // Its session holds the lock and waits for the next statement, which the cut keeps from it.
      await sleep(20);
      const {rows} = await admin.query(
        "SELECT count(*)::int AS n FROM pg_locks JOIN pg_stat_activity USING (pid) WHERE locktype = 'advisory' AND granted AND state = 'idle in transaction'"
      );
      if (rows[0].n > 0) cutAt = performance.now();
      else {
        proxies[1].heal();
        await sleep(5);
      }
    }
    expect(cutAt).toBeGreaterThan(0);
    const cutIndex = load.results.length;

    // Other keys on replica 1 are not held up at all; the locked one signs once the server has
    // ended the cut-off session (idle in transaction for 2 s).
    const other = performance.now();
    expect((await sign(replicas[0].url, pubkeyOf(13), vote(2))).status).toBe(200);
    expect(performance.now() - other).toBeLessThan(1500);
    let reply: Reply;
    do reply = await sign(replicas[0].url, pubkey, vote(5_000_000));
    while (reply.status === 503 && performance.now() - cutAt < 8000);
    expect(reply.status).toBe(200);
    expect(performance.now() - cutAt).toBeLessThan(5000);

    await sleep(5500); // the cut-off replica's requests run into their deadline
    const results = await load.stop();
    for (const x of results.slice(cutIndex)) {
      expect([503, 412]).toContain(x.status);
      expect(x.ms).toBeLessThan(6000);
    }

    // The split heals: replica 2 reconnects and signs again.
    proxies[1].heal();
    const healed = performance.now();
    let status = 0;
    for (let target = 6_000_000; status !== 200 && performance.now() - healed < 5000; target++) {
      status = (await sign(replicas[1].url, pubkey, vote(target))).status;
      if (status !== 200) await sleep(50);
    }
    expect(status).toBe(200);
  });

  it("loses no request when a replica is killed under load: HAProxy retries it on another", async () => {
    const servedBefore = Number((await serverStats("stot")).signer3);
    const loads = Array.from({length: 6}, (_, k) => hammer(balancer, pubkeyOf(k), (n) => vote(100 + n), 1));
    const answered = () => loads.reduce((sum, l) => sum + l.results.length, 0);
    while (answered() < 60) await sleep(10);
    expect(Number((await serverStats("stot")).signer3)).toBeGreaterThan(servedBefore); // it was taking its share
    replicas[2].child.kill("SIGKILL");
    const killed = performance.now();
    while ((await serverStates()).signer3 === "UP") {
      expect(performance.now() - killed).toBeLessThan(5000);
      await sleep(50);
    }
    // Answers go on once it is down: wait for 40 more, however slow the machine is today.
    const atDown = answered();
    while (answered() < atDown + 40) await sleep(10);
    const results = (await Promise.all(loads.map((l) => l.stop()))).flat();
    expect(results.length).toBeGreaterThanOrEqual(atDown + 40);
    expect(results.filter((x) => x.status !== 200)).toEqual([]);
  });
});

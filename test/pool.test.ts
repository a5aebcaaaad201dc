// The signing pool on its own: batching, worker failures, and secrets moved (not copied) between threads.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {createRequire} from "node:module";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Worker} from "node:worker_threads";
import {PublicKey, SecretKey, Signature, verify} from "@chainsafe/blst";
import {afterEach, describe, expect, it, vi} from "vitest";
import {loadNetwork} from "../dist/src/config/networks.js";
import {interopSecretKey} from "../dist/src/keys/interop.js";
import {KeyTable} from "../dist/src/keys/keyTable.js";
import {SignerPool, workerExecArgv} from "../dist/src/pool/pool.js";
import {vectorsPath} from "./helpers/signer.js";

const vectors = JSON.parse(readFileSync(vectorsPath, "utf8"));
// A vector signed by interop key 0 on the minimal preset.
const vector = vectors.find((v: {name: string}) => v.name === "web3signer: ATTESTATION");
const body = Buffer.from(JSON.stringify(vector.request));
const root = Buffer.from(vector.signing_root.slice(2), "hex");

let pool: SignerPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

function poolWithKey(opts: {
  workers: number;
  onBatch?: (n: number) => void;
  onWorkerFailure?: (e: Error) => void;
  slashingProtection?: string;
}) {
  const table = KeyTable.create();
  const secret = interopSecretKey(0);
  const pubkey = SecretKey.fromBytes(secret).toPublicKey();
  const ref = table.write(1, pubkey.toBytes(), secret);
  pool = new SignerPool({network: loadNetwork("minimal"), keyTable: table.buffer, ...opts});
  return {pool, ref, pubkey};
}

describe("signing pool", () => {
  it("hands a burst to the workers in batches, not one task per request", async () => {
    const sizes: number[] = [];
    const {pool, ref, pubkey} = poolWithKey({workers: 2, onBatch: (n) => sizes.push(n)});
    const results = await Promise.all(Array.from({length: 300}, () => pool.sign(ref, body)));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(300);
    // Everything arrived in one event-loop turn: at most a few tasks per worker slot carry it.
    expect(sizes.length).toBeLessThan(20);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    for (const r of results) {
      if (!("signature" in r)) throw new Error(`not signed: ${r.message}`);
      expect(verify(root, pubkey, Signature.fromHex(r.signature))).toBe(true);
    }
  });

  it("answers every request when workers keep dying: retried once, then 'UNAVAILABLE', never left hanging", async () => {
    let failures = 0;
    const {pool, ref} = poolWithKey({workers: 1, onWorkerFailure: () => failures++});
    // Piscina announces each worker once it is up; kill each one then, with the batches it holds.
    // (A worker killed while still starting up makes Piscina stop replacing workers at all.)
    const piscina = (pool as unknown as {piscina: NodeJS.EventEmitter}).piscina;
    const nextWorkerUp = () => new Promise((resolve) => piscina.once("workerCreate", resolve));
    let up = nextWorkerUp();
    let settled = 0;
    const all = Promise.all(Array.from({length: 200}, () => pool.sign(ref, body).finally(() => settled++)));
    for (let kills = 0; kills < 6 && settled < 200; kills++) {
      await up;
      up = nextWorkerUp();
      await pool.threads[0]?.terminate();
    }
    const results = await all;
    expect(failures).toBeGreaterThanOrEqual(2);
    const unavailable = results.filter((r) => "code" in r && r.code === "UNAVAILABLE");
    expect(unavailable.length).toBeGreaterThan(0);
    for (const r of results) expect("signature" in r || ("code" in r && r.code === "UNAVAILABLE")).toBe(true);
  });

  it("starts new workers when Piscina stops replacing them (a worker killed while starting up)", async () => {
    let failures = 0;
    const {pool, ref, pubkey} = poolWithKey({workers: 1, onWorkerFailure: () => failures++});
    let settled = 0;
    const all = Promise.all(Array.from({length: 100}, () => pool.sign(ref, body).finally(() => settled++)));
    // Kill whatever worker there is, ready or not, a few times in a row.
    for (let kills = 0; kills < 5; kills++) {
      await pool.threads[0]?.terminate();
      await new Promise((r) => setTimeout(r, 2));
    }
    const results = await all; // before the guard, these never settled
    expect(settled).toBe(100);
    for (const r of results) expect("signature" in r || ("code" in r && r.code === "UNAVAILABLE")).toBe(true);
    expect(failures).toBeGreaterThan(0);
    // And the pool signs again afterwards.
    const after = await pool.sign(ref, body);
    if (!("signature" in after)) throw new Error(`not signed: ${after.message}`);
    expect(verify(root, pubkey, Signature.fromHex(after.signature))).toBe(true);
  });

  it("survives workers that cannot open the slashing database (locked past its timeout), and signs once it is free", async () => {
    // A rollback-journal database under an EXCLUSIVE transaction: a worker opening it (to switch it
    // to WAL) waits its busy timeout, then its module fails to load, outside any task.
    const dir = mkdtempSync(join(tmpdir(), "ts3signer-pool-"));
    const path = join(dir, "slashing.sqlite");
    const holder = new (createRequire(import.meta.url)("better-sqlite3"))(path);
    holder.exec("CREATE TABLE held (x); BEGIN EXCLUSIVE; INSERT INTO held VALUES (1);");
    try {
      const failures: string[] = [];
      const {pool, ref, pubkey} = poolWithKey({
        workers: 1,
        slashingProtection: `sqlite:${path}`,
        onWorkerFailure: (e) => failures.push(e.message),
      });
      const firstFailure = await vi.waitFor(() => failures[0] ?? Promise.reject(new Error("no failure yet")), {
        timeout: 20_000,
        interval: 100,
      });
      expect(firstFailure).toMatch(/SQLITE_BUSY/); // before the fix: an uncaught error, the process gone
      holder.exec("COMMIT");
      holder.close();
      const result = await pool.sign(ref, body);
      if (!("signature" in result)) throw new Error(`not signed: ${result.message}`);
      expect(verify(root, pubkey, Signature.fromHex(result.signature))).toBe(true);
    } finally {
      if (holder.open) holder.close();
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it("loads its worker with import() only: require() of an ES module fails at once in its threads, before the ES module loader", async () => {
    // Piscina tries require() first; through the ES module loader that path once crashed a process.
    const dir = mkdtempSync(join(tmpdir(), "ts3signer-esm-"));
    try {
      writeFileSync(join(dir, "tla.mjs"), "export const x = await Promise.resolve(1);\n");
      const probe = `const {parentPort} = require("node:worker_threads"); try { require(${JSON.stringify(join(dir, "tla.mjs"))}); parentPort.postMessage("loaded"); } catch (e) { parentPort.postMessage(e.code); }`;
      const code = await new Promise((resolve, reject) => {
        const worker = new Worker(probe, {eval: true, execArgv: workerExecArgv});
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      expect(code).toBe("ERR_REQUIRE_ESM"); // Node's default here: ERR_REQUIRE_ASYNC_MODULE, from inside the loader
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it("moves secrets to the worker instead of copying them: the caller's buffer is detached", async () => {
    const {pool} = poolWithKey({workers: 1});
    const secrets = new Uint8Array(64);
    secrets.set(interopSecretKey(1), 0);
    secrets.set(interopSecretKey(2), 32);
    const expected = [1, 2].map((i) => SecretKey.fromBytes(interopSecretKey(i)).toPublicKey().toHex());
    const publicKeys = await pool.derivePublicKeys(secrets);
    expect(secrets.byteLength).toBe(0); // transferred: nothing left on this thread
    expect([0, 1].map((i) => "0x" + Buffer.from(publicKeys.subarray(i * 48, i * 48 + 48)).toString("hex"))).toEqual(expected);
    // A view into a larger buffer can't be moved without moving its neighbours: refused, not copied.
    expect(() => pool.derivePublicKeys(new Uint8Array(64).subarray(0, 32))).toThrow(/own its whole buffer/);
  });

  it("answers every request of a batch when the worker's answer does not match it, instead of leaving some hanging", async () => {
    const {pool, ref} = poolWithKey({workers: 1});
    (pool as unknown as {piscina: {run: () => Promise<unknown[]>}}).piscina.run = async () => [];
    const results = await Promise.all([pool.sign(ref, body), pool.sign(ref, body)]);
    expect(results).toEqual(
      [0, 1].map(() => ({
        type: "unknown",
        code: "INTERNAL",
        message: expect.stringMatching(/^internal error: the worker answered 0 of [12] requests$/),
      }))
    );
  });

  it("generates interop keys in a worker, secrets and public keys matching", async () => {
    const {pool} = poolWithKey({workers: 1});
    const {secretKeys, publicKeys} = await pool.generateKeys({kind: "interop", start: 5, count: 3});
    for (let i = 0; i < 3; i++) {
      expect(Buffer.from(secretKeys.subarray(i * 32, i * 32 + 32))).toEqual(Buffer.from(interopSecretKey(5 + i)));
      expect(PublicKey.fromBytes(publicKeys.subarray(i * 48, i * 48 + 48)).toHex()).toBe(
        SecretKey.fromBytes(interopSecretKey(5 + i))
          .toPublicKey()
          .toHex()
      );
    }
  });
});

// What could slip without any other test noticing: the point cache turning FIFO, a removed key's
// secret left in the shared table, a worker keeping a copy of a key's secret after signing with it.
import {readFileSync} from "node:fs";
import {SecretKey} from "@chainsafe/blst";
import {afterEach, describe, expect, it, vi} from "vitest";
import {loadNetwork} from "../dist/src/config/networks.js";
import {normalizePubkey} from "../dist/src/hex.js";
import {interopSecretKey} from "../dist/src/keys/interop.js";
import {KeyStore} from "../dist/src/keys/keyStore.js";
import {KeyTable} from "../dist/src/keys/keyTable.js";
import type {SignResult, SignTask} from "../dist/src/pool/protocol.js";
import {createSigner, signEngine, signingKey} from "../dist/src/signing/fastSign.js";
import {rng} from "./helpers/reference.js";
import {vectorsPath} from "./helpers/signer.js";

/** Where `needle` occurs in `haystack`, or -1. */
const indexOf = (haystack: Uint8Array, needle: Uint8Array) =>
  Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle);

describe.runIf(signEngine === "native-point-cache")("the worker's H(root) cache", () => {
  it("evicts the least recently used root, not the oldest one", () => {
    const [a, b, c] = [1, 2, 3].map((i) => new Uint8Array(32).fill(i));
    const key = () => signingKey(interopSecretKey(0));
    const sign = createSigner({cacheRoots: 2, tableRoots: 0});
    expect([sign(key(), a), sign(key(), b)].map((s) => s.pointCache)).toEqual(["miss", "miss"]);
    expect(sign(key(), a).pointCache).toBe("hit"); // a is now the most recently used
    expect(sign(key(), c).pointCache).toBe("miss"); // evicts b, the least recently used (FIFO would evict a)
    expect(sign(key(), a).pointCache).toBe("hit");
    expect(sign(key(), b).pointCache).toBe("miss");
  });
});

describe("KeyTable.clear", () => {
  it("zeroes the removed key's secret in the shared buffer, and only that key's", () => {
    const table = KeyTable.create();
    const random = rng(3);
    const secrets = [1, 2, 3].map(() => random.bytes(32));
    const refs = secrets.map((s, i) => table.write(i + 1, random.bytes(48), s.slice()));
    const whole = new Uint8Array(table.buffer);
    for (const s of secrets) expect(indexOf(whole, s)).toBeGreaterThan(0);
    table.clear(refs[1].slot);
    expect(indexOf(whole, secrets[1])).toBe(-1);
    const out = new Uint8Array(32);
    expect(table.readSecretInto(refs[1], out)).toBe(false);
    expect(out.every((b) => b === 0)).toBe(true);
    expect(table.readSecretInto(refs[0], out) && Buffer.from(out)).toEqual(Buffer.from(secrets[0]));
    expect(table.readSecretInto(refs[2], out) && Buffer.from(out)).toEqual(Buffer.from(secrets[2]));
  });
});

describe("a signing worker", () => {
  afterEach(() => {
    vi.doUnmock("node:worker_threads");
    vi.doUnmock("../dist/src/signing/fastSign.js");
    vi.resetModules();
  });

  it("keeps no copy of a key's secret: the one it signs with is wiped after each signature", async () => {
    const vector = JSON.parse(readFileSync(vectorsPath, "utf8")).find((v: {name: string}) => v.name === "web3signer: ATTESTATION");
    const table = KeyTable.create();
    const secret = interopSecretKey(0); // the vector's key, on the minimal preset
    const ref = table.write(1, SecretKey.fromBytes(secret).toPublicKey().toBytes(), secret.slice());
    // The worker module, loaded on this thread with the pool's workerData; every secret it hands
    // to the signing engine is kept here to look at afterwards.
    const handed: Uint8Array[] = [];
    vi.doMock("node:worker_threads", async (original) => ({
      ...(await original<object>()),
      workerData: {network: loadNetwork("minimal"), keyTable: table.buffer},
    }));
    vi.doMock("../dist/src/signing/fastSign.js", async (original) => {
      const engine = await original<typeof import("../dist/src/signing/fastSign.js")>();
      return {...engine, signingKey: (s: Uint8Array) => (handed.push(s), engine.signingKey(s))};
    });
    const worker = await import("../dist/src/pool/worker.js");
    const body = Buffer.from(JSON.stringify(vector.request));
    const task = (): SignTask => ({
      refs: Int32Array.of(ref.slot, ref.state),
      bodies: new Uint8Array(body),
      ends: Uint32Array.of(body.length),
      deadline: Date.now() + 5000,
    });
    const signature = (r: SignResult[]) => ("signature" in r[0] ? r[0].signature : r[0].code);

    const wiped = () => handed.every((h) => h.every((b) => b === 0));
    expect(signature(await worker.signBatch(task()))).toBe(vector.signature);
    expect(signature(await worker.signBatch(task()))).toBe(vector.signature); // read from the table again
    expect(handed).toHaveLength(2);
    expect(wiped()).toBe(true);
    table.clear(ref.slot);
    expect(signature(await worker.signBatch(task()))).toBe("UNKNOWN_KEY");
    expect(handed).toHaveLength(2);
  });
});

describe("a key's identity", () => {
  it("is one normalised hex string, whatever case the request uses; anything else names no key", () => {
    const secret = interopSecretKey(0);
    const pubkey = SecretKey.fromBytes(secret).toPublicKey().toBytes();
    const keys = new KeyStore();
    keys.add(pubkey, secret.slice(), {source: "interop", readonly: true});
    const lower = "0x" + Buffer.from(pubkey).toString("hex");
    const upper = "0x" + lower.slice(2).toUpperCase();
    expect(normalizePubkey(upper)).toBe(lower);
    expect(normalizePubkey("0X" + lower.slice(2))).toBe(lower); // as the lookup has always taken it
    expect(keys.get(upper)?.pubkeyHex).toBe(lower);
    expect(keys.get(lower)?.pubkeyHex).toBe(lower);
    for (const other of [lower.slice(2), lower.slice(0, -1), lower + "0", lower.replace(/.$/, "g")]) {
      expect(normalizePubkey(other)).toBeNull();
      expect(keys.get(other)).toBeUndefined();
    }
  });
});

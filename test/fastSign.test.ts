import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {createRequire} from "node:module";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Keystore} from "@chainsafe/bls-keystore";
import {PublicKey, SecretKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {createSigner, nativeBuild, signEngine, signingKey} from "../dist/src/signing/fastSign.js";
import {loadNetwork} from "../src/config/networks.js";
import {createSigningContext, parseRequestBody, requestTypeOf, signingRootOf} from "../src/signing/signingRoot.js";
import {bytes, rng} from "./helpers/reference.js";
import {sample, sign, startTestSigner, type TestSigner} from "./helpers/signer.js";

// The group order r: r − 1 is the largest secret key.
const R = "0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";
const R_MINUS_1 = "0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000";
const ORDER = BigInt(R);
const keyBytes = (k: bigint) => bytes("0x" + k.toString(16).padStart(64, "0"));

type SignCase = {name: string; privkey: string; pubkey: string | null; message: string; signature: string | null};
const knownAnswers: {sign: SignCase[]} = JSON.parse(readFileSync(new URL("fixtures/bls-sign.json", import.meta.url), "utf8"));
const signCases = knownAnswers.sign.filter((c) => c.signature !== null);

/**
 * Where npm ci must have built the addon: CI says so (.ci/run), or blst's C sources and a C
 * compiler are here. There a missing addon fails these tests instead of skipping them.
 */
const compilerPresent = spawnSync("cc", ["--version"]).status === 0;
const blstSourcesPresent = existsSync(new URL("../node_modules/@chainsafe/blst-swig/blst/src/server.c", import.meta.url));
const addonExpected = process.env.TS3SIGNER_TESTS_REQUIRE_NATIVE_SIGNING === "1" || (compilerPresent && blstSourcesPresent);
const cpuHasAdx =
  process.arch === "x64" &&
  /^flags\b.*\badx\b.*$/m.test(readFileSync("/proc/cpuinfo", "utf8")) &&
  /^flags\b.*\bbmi2\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
const builds = process.arch === "x64" ? ["fastsign_adx", "fastsign"] : ["fastsign"];
const buildPath = (build: string) => new URL(`../native/fastsign/build/Release/${build}.node`, import.meta.url);

type Point = object;
type Table = object;
type Addon = {
  BUILD: string;
  hashToG2(root: Uint8Array, reuse?: Point): Point;
  signWithPoint(point: Point, secretKey: Uint8Array, out: Uint8Array): void;
  buildTable(point: Point, window: number, reuse?: Table): Table;
  signWithTable(table: Table, secretKey: Uint8Array, out: Uint8Array): void;
};

describe("the native addon (native/fastsign)", () => {
  it.runIf(addonExpected)("was built here, both builds, and the fastest this CPU runs signs", () => {
    for (const build of builds) expect(existsSync(buildPath(build)), `${build}.node`).toBe(true);
    expect(signEngine).toBe("native-point-cache");
    expect(nativeBuild).toBe(cpuHasAdx ? "adx" : "portable");
  });

  describe.each(builds)("%s, called directly", (build) => {
    const runs = addonExpected && (build !== "fastsign_adx" || cpuHasAdx);
    let addon: Addon;
    beforeAll(() => {
      if (runs) addon = createRequire(import.meta.url)(buildPath(build).pathname);
    });

    it.runIf(runs)("signs the published known answers (ethereum/bls12-381-tests sign cases)", () => {
      const out = new Uint8Array(96);
      for (const c of signCases) {
        addon.signWithPoint(addon.hashToG2(bytes(c.message)), bytes(c.privkey), out);
        expect("0x" + Buffer.from(out).toString("hex"), c.name).toBe(c.signature);
      }
    });

    it.runIf(runs)("refuses secret keys outside [1, r), naming no key bytes", () => {
      const point = addon.hashToG2(new Uint8Array(32));
      const out = new Uint8Array(96);
      const zero = knownAnswers.sign.find((c) => c.signature === null)!; // the suite's zero key
      for (const secret of [zero.privkey, R, "0x" + "ff".repeat(32)]) {
        expect(() => addon.signWithPoint(point, bytes(secret), out)).toThrow(
          new RangeError("signWithPoint: the secret key is not in [1, r)")
        );
        expect(out.every((b) => b === 0)).toBe(true); // nothing written
      }
      addon.signWithPoint(point, bytes(R_MINUS_1), out);
      expect("0x" + Buffer.from(out).toString("hex")).toBe(SecretKey.fromBytes(bytes(R_MINUS_1)).sign(new Uint8Array(32)).toHex());
    });

    it.runIf(runs)("takes roots of exactly 32 bytes and only its own points, and throws a TypeError otherwise", () => {
      const point = addon.hashToG2(new Uint8Array(32));
      const key = bytes(signCases[0].privkey);
      const out = new Uint8Array(96);
      const badCalls: [string, () => unknown][] = [
        ["empty root", () => addon.hashToG2(new Uint8Array(0))],
        ["31-byte root", () => addon.hashToG2(new Uint8Array(31))],
        ["33-byte root", () => addon.hashToG2(new Uint8Array(33))],
        ["root as Uint16Array(16)", () => addon.hashToG2(new Uint16Array(16) as unknown as Uint8Array)],
        ["root as string", () => addon.hashToG2("00".repeat(32) as unknown as Uint8Array)],
        ["no root", () => (addon.hashToG2 as () => Point)()],
        ["reuse a plain object", () => addon.hashToG2(new Uint8Array(32), {})],
        ["reuse bytes", () => addon.hashToG2(new Uint8Array(32), new Uint8Array(288))],
        ["sign with bytes for a point", () => addon.signWithPoint(new Uint8Array(288), key, out)],
        ["sign with null", () => addon.signWithPoint(null as unknown as Point, key, out)],
        ["31-byte key", () => addon.signWithPoint(point, new Uint8Array(31), out)],
        ["95-byte out", () => addon.signWithPoint(point, key, new Uint8Array(95))],
        ["missing out", () => (addon.signWithPoint as (p: Point, k: Uint8Array) => void)(point, key)],
      ];
      for (const [what, call] of badCalls) expect(call, what).toThrow(TypeError);
    });

    it.runIf(runs)("signs the published known answers from a hot root's table, and refuses keys outside [1, r) there too", () => {
      const out = new Uint8Array(96);
      for (const c of signCases) {
        addon.signWithTable(addon.buildTable(addon.hashToG2(bytes(c.message)), 6), bytes(c.privkey), out);
        expect("0x" + Buffer.from(out).toString("hex"), c.name).toBe(c.signature);
      }
      const table = addon.buildTable(addon.hashToG2(new Uint8Array(32)), 6);
      const zero = knownAnswers.sign.find((c) => c.signature === null)!;
      for (const secret of [zero.privkey, R, "0x" + "ff".repeat(32)]) {
        out.fill(0);
        expect(() => addon.signWithTable(table, bytes(secret), out)).toThrow(
          new RangeError("signWithTable: the secret key is not in [1, r)")
        );
        expect(out.every((b) => b === 0)).toBe(true);
      }
    });

    it.runIf(runs)("builds tables only from its own points, signs only with its own tables, and throws a TypeError otherwise", () => {
      const point = addon.hashToG2(new Uint8Array(32));
      const table = addon.buildTable(point, 6);
      const key = bytes(signCases[0].privkey);
      const out = new Uint8Array(96);
      const badCalls: [string, () => unknown][] = [
        ["build from bytes", () => addon.buildTable(new Uint8Array(288), 6)],
        ["build with window 1", () => addon.buildTable(point, 1)],
        ["build with window 9", () => addon.buildTable(point, 9)],
        ["build with no window", () => (addon.buildTable as (p: Point) => Table)(point)],
        ["reuse a plain object", () => addon.buildTable(point, 6, {})],
        ["reuse a point", () => addon.buildTable(point, 6, point)],
        ["reuse a table of another window", () => addon.buildTable(point, 5, table)],
        ["sign with bytes for a table", () => addon.signWithTable(new Uint8Array(264192), key, out)],
        ["sign with a point for a table", () => addon.signWithTable(point, key, out)],
        ["31-byte key", () => addon.signWithTable(table, new Uint8Array(31), out)],
        ["95-byte out", () => addon.signWithTable(table, key, new Uint8Array(95))],
      ];
      for (const [what, call] of badCalls) expect(call, what).toThrow(TypeError);
    });

    it.runIf(runs)("keeps tables out of JavaScript's reach, and rebuilds an evicted table in place", () => {
      const [a, b] = [signCases[0], signCases.find((s) => s.message !== signCases[0].message)!];
      const table = addon.buildTable(addon.hashToG2(bytes(a.message)), 6);
      expect(ArrayBuffer.isView(table)).toBe(false);
      expect(Object.getOwnPropertyNames(table)).toEqual([]);
      expect(addon.buildTable(addon.hashToG2(bytes(b.message)), 6, table)).toBe(table);
      const out = new Uint8Array(96);
      addon.signWithTable(table, bytes(b.privkey), out);
      expect("0x" + Buffer.from(out).toString("hex")).toBe(b.signature);
    });

    it.runIf(runs)("keeps H(root) out of JavaScript's reach, and rewrites an evicted point in place", () => {
      const point = addon.hashToG2(bytes(signCases[0].message));
      expect(ArrayBuffer.isView(point)).toBe(false);
      expect(Object.getOwnPropertyNames(point)).toEqual([]);
      const c = signCases.find((s) => s.message !== signCases[0].message)!;
      expect(addon.hashToG2(bytes(c.message), point)).toBe(point);
      const out = new Uint8Array(96);
      addon.signWithPoint(point, bytes(c.privkey), out);
      expect("0x" + Buffer.from(out).toString("hex")).toBe(c.signature);
    });
  });
});

describe("signing with a cache of H(root)", () => {
  it("signs the published known answers, and refuses the zero key", () => {
    const signer = createSigner();
    for (const c of signCases) expect(signer(signingKey(bytes(c.privkey)), bytes(c.message)).signature, c.name).toBe(c.signature);
    const zero = knownAnswers.sign.find((c) => c.signature === null)!;
    expect(() => signer(signingKey(bytes(zero.privkey)), bytes(zero.message))).toThrow();
  });

  it("signs byte-identical to SecretKey.sign() for random keys and roots, through misses, hits, table builds and evictions", () => {
    const random = rng(12);
    // Keys below 2^254 < r; and the smallest and largest keys.
    const secrets = Array.from({length: 40}, () => {
      const b = random.bytes(32);
      b[0] &= 0x3f;
      return b;
    });
    secrets.push(bytes("0x" + "00".repeat(31) + "01"), bytes(R_MINUS_1));
    const roots = Array.from({length: 12}, () => random.bytes(32));
    roots.push(new Uint8Array(32), new Uint8Array(32).fill(0xff));
    // Fewer points and tables than roots, and roots turn hot quickly: points and tables are evicted and rebuilt.
    const signer = createSigner({cacheRoots: 8, tableRoots: 3, tableAfter: 4});
    const outcomes = {hit: 0, miss: 0, table: 0};
    for (let i = 0; i < 600; i++) {
      const secret = secrets[random.int(secrets.length)];
      const root = roots[random.int(roots.length)];
      const expected = SecretKey.fromBytes(secret).sign(root).toHex();
      const signed = signer(signingKey(secret.slice()), root.slice());
      expect(signed.signature).toBe(expected);
      if (signed.pointCache) outcomes[signed.pointCache]++;
    }
    if (signEngine === "native-point-cache") {
      expect(outcomes.hit).toBeGreaterThan(50);
      expect(outcomes.miss).toBeGreaterThan(14); // more than the distinct roots: evicted ones were hashed again
      expect(outcomes.table).toBeGreaterThan(150);
      expect(outcomes.hit + outcomes.miss + outcomes.table).toBe(600);
    }
  });

  // The table path recodes the scalar (k or r − k by parity, odd digits per window); its edges.
  const edgeKeys = [
    1n,
    2n,
    3n,
    4n,
    0xffn,
    0x100n,
    2n ** 64n - 1n,
    2n ** 64n,
    2n ** 128n + 1n,
    2n ** 254n,
    2n ** 254n + 1n,
    2n ** 254n - 1n,
    ORDER - 1n,
    ORDER - 2n,
    ORDER - 3n,
    ORDER - 2n ** 64n,
    ORDER - 2n ** 128n,
    (ORDER - 1n) / 2n,
    (ORDER + 1n) / 2n,
    0x7000000000000000000000000000000000000000000000000000000000000000n,
  ];
  it.runIf(signEngine === "native-point-cache").each([2, 3, 4, 5, 6, 7, 8])(
    "signs from a table with %i-bit windows as SecretKey.sign() does, for edge-case and random keys",
    (tableWindow) => {
      const random = rng(100 + tableWindow);
      const keys = [...edgeKeys];
      for (let i = 0; i < 24; i++) keys.push(BigInt("0x" + Buffer.from(random.bytes(32)).toString("hex")) % ORDER || 1n);
      const signer = createSigner({tableAfter: 1, tableWindow});
      for (const root of [random.bytes(32), random.bytes(32)]) {
        for (const k of keys) {
          const secret = keyBytes(k);
          const signed = signer(signingKey(secret.slice()), root);
          expect(signed.pointCache).toBe("table");
          expect(signed.signature, `key ${k.toString(16)}`).toBe(SecretKey.fromBytes(secret).sign(root).toHex());
        }
      }
    }
  );
});

describe("over HTTP: the published sign cases' keys", () => {
  const keys = [...new Map(signCases.map((c) => [c.privkey, c.pubkey!])).entries()];
  let dir: string;
  let s: TestSigner;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ts3signer-kat-"));
    const kdf = {function: "pbkdf2" as const, params: {dklen: 32, c: 1024, prf: "hmac-sha256" as const, salt: "ab".repeat(32)}};
    for (const [i, [privkey, pubkey]] of keys.entries()) {
      const keystore = await Keystore.create("kat", bytes(privkey), bytes(pubkey), `m/12381/3600/${i}/0/0`, null, kdf);
      writeFileSync(join(dir, `kat${i}.json`), keystore.stringify());
    }
    writeFileSync(join(dir, "password.txt"), "kat");
    s = await startTestSigner({network: "minimal", keystoresPath: dir, keystoresPasswordFile: join(dir, "password.txt")});
  });
  afterAll(async () => {
    await s?.close();
    rmSync(dir, {recursive: true, force: true});
  });

  it("serves the published public keys, and signs with each so that the signature verifies under it", async () => {
    const served = (await (await fetch(`${s.url}/api/v1/eth2/publicKeys`)).json()) as string[];
    expect(served.sort()).toEqual(keys.map(([, pubkey]) => pubkey).sort());
    const body = {
      type: "RANDAO_REVEAL",
      fork_info: {
        fork: {previous_version: "0x00000001", current_version: "0x00000001", epoch: "0"},
        genesis_validators_root: "0x" + "42".repeat(32),
      },
      randao_reveal: {epoch: "7"},
    };
    const parsed = parseRequestBody(JSON.stringify(body));
    const root = signingRootOf(parsed, requestTypeOf(parsed), createSigningContext(loadNetwork("minimal")));
    for (const [, pubkey] of keys) {
      const reply = await sign(s.url, pubkey, body);
      expect(reply.status, reply.text).toBe(200);
      expect(verify(root, PublicKey.fromHex(pubkey), Signature.fromHex(reply.json().signature))).toBe(true);
    }
  });
});

describe("over HTTP: requests that share a root share one H(root), then one table, per worker", () => {
  let s: TestSigner;
  beforeAll(async () => {
    s = await startTestSigner({network: "mainnet", interopKeys: "48", workers: 2});
  });
  afterAll(() => s.close());

  it("signs one attestation with 48 keys, each signature valid, hashing the root at most once per worker and then signing from its table", async () => {
    const pubkeys = (await (await fetch(`${s.url}/api/v1/eth2/publicKeys`)).json()) as string[];
    const body = {
      type: "ATTESTATION",
      fork_info: {
        fork: {previous_version: "0x04000000", current_version: "0x05000000", epoch: "364032"},
        genesis_validators_root: "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95",
      },
      attestation: {
        slot: "11650000",
        index: "0",
        beacon_block_root: "0x" + "5a".repeat(32),
        source: {epoch: "364061", root: "0x" + "11".repeat(32)},
        target: {epoch: "364062", root: "0x" + "22".repeat(32)},
      },
    };
    const parsed = parseRequestBody(JSON.stringify(body));
    const root = signingRootOf(parsed, requestTypeOf(parsed), createSigningContext(loadNetwork("mainnet")));
    const replies = await Promise.all(pubkeys.map((pk) => sign(s.url, pk, body)));
    for (const [i, reply] of replies.entries()) {
      expect(reply.status, reply.text).toBe(200);
      expect(verify(root, PublicKey.fromHex(pubkeys[i]), Signature.fromHex(reply.json().signature))).toBe(true);
    }

    const metrics = await (await fetch(s.metricsUrl)).text();
    expect(sample(metrics, "ts3signer_sign_engine_info", {engine: signEngine})).toBe(1);
    if (signEngine !== "native-point-cache") return;
    const [hits, misses, tables] = ["hit", "miss", "table"].map((result) => sample(metrics, "ts3signer_point_cache_total", {result}));
    expect(hits + misses + tables).toBe(48);
    expect(misses).toBeGreaterThanOrEqual(1);
    expect(misses).toBeLessThanOrEqual(2); // one per worker at most
    // A worker's 12th signature on the root builds its table: of 48 over two workers, at most 2 × 11 precede it.
    expect(tables).toBeGreaterThanOrEqual(48 - 2 * 11);
  });
});

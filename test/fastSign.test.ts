import {existsSync} from "node:fs";
import {PublicKey, SecretKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {createSigner, signEngine, signingKey} from "../dist/src/signing/fastSign.js";
import {loadNetwork} from "../src/config/networks.js";
import {createSigningContext, parseRequestBody, requestTypeOf, signingRootOf} from "../src/signing/signingRoot.js";
import {bytes, rng} from "./helpers/reference.js";
import {type TestSigner, sample, sign, startTestSigner} from "./helpers/signer.js";

const addonBuilt = existsSync(new URL("../native/fastsign/build/Release/fastsign.node", import.meta.url));
// The group order r: r − 1 is the largest secret key.
const R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;
const R_MINUS_1 = "0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000";
const keyBytes = (k: bigint) => bytes("0x" + k.toString(16).padStart(64, "0"));

describe("signing with a cache of H(root)", () => {
  it.runIf(addonBuilt)("uses the native addon where npm ci built it", () => {
    expect(signEngine).toBe("native-point-cache");
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
    1n, 2n, 3n, 4n, 0xffn, 0x100n, 2n ** 64n - 1n, 2n ** 64n, 2n ** 128n + 1n,
    2n ** 254n, 2n ** 254n + 1n, 2n ** 254n - 1n, R - 1n, R - 2n, R - 3n, R - 2n ** 64n, R - 2n ** 128n,
    (R - 1n) / 2n, (R + 1n) / 2n, 0x7000000000000000000000000000000000000000000000000000000000000000n,
  ];
  it.runIf(signEngine === "native-point-cache").each([2, 3, 4, 5, 6, 7, 8])("signs from a table with %i-bit windows as SecretKey.sign() does, for edge-case and random keys", (tableWindow) => {
    const random = rng(100 + tableWindow);
    const keys = [...edgeKeys];
    for (let i = 0; i < 24; i++) keys.push(BigInt("0x" + Buffer.from(random.bytes(32)).toString("hex")) % R || 1n);
    const signer = createSigner({tableAfter: 1, tableWindow});
    for (const root of [random.bytes(32), random.bytes(32)]) {
      for (const k of keys) {
        const secret = keyBytes(k);
        const signed = signer(signingKey(secret.slice()), root);
        expect(signed.pointCache).toBe("table");
        expect(signed.signature, `key ${k.toString(16)}`).toBe(SecretKey.fromBytes(secret).sign(root).toHex());
      }
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

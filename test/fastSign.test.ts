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
const R_MINUS_1 = "0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000";

describe("signing with a cache of H(root)", () => {
  it.runIf(addonBuilt)("uses the native addon where npm ci built it", () => {
    expect(signEngine).toBe("native-point-cache");
  });

  it("signs byte-identical to SecretKey.sign() for random keys and roots, through misses, hits and evictions", () => {
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
    const signer = createSigner(8); // fewer than the roots: evictions happen
    let hits = 0;
    let misses = 0;
    for (let i = 0; i < 300; i++) {
      const secret = secrets[random.int(secrets.length)];
      const root = roots[random.int(roots.length)];
      const expected = SecretKey.fromBytes(secret).sign(root).toHex();
      const signed = signer(signingKey(secret.slice()), root.slice());
      expect(signed.signature).toBe(expected);
      if (signed.cacheHit === true) hits++;
      if (signed.cacheHit === false) misses++;
    }
    if (signEngine === "native-point-cache") {
      expect(hits).toBeGreaterThan(50);
      expect(misses).toBeGreaterThan(14); // more than the distinct roots: evicted ones were hashed again
      expect(hits + misses).toBe(300);
    }
  });
});

describe("over HTTP: requests that share a root share one H(root) per worker", () => {
  let s: TestSigner;
  beforeAll(async () => {
    s = await startTestSigner({network: "mainnet", interopKeys: "48", workers: 2});
  });
  afterAll(() => s.close());

  it("signs one attestation with 48 keys, each signature valid, hashing the root at most once per worker", async () => {
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
    const hits = sample(metrics, "ts3signer_point_cache_total", {result: "hit"});
    const misses = sample(metrics, "ts3signer_point_cache_total", {result: "miss"});
    expect(hits + misses).toBe(48);
    expect(misses).toBeGreaterThanOrEqual(1);
    expect(misses).toBeLessThanOrEqual(2); // one per worker at most
  });
});

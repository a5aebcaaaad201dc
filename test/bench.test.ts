import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {describe, expect, it} from "vitest";
import * as R from "../dist/src/load/requests.js";
import {parseWrkSummary} from "../dist/src/load/wrk.js";
import {loadNetwork} from "../src/config/networks.js";
import {createSigningContext, parseRequestBody, requestTypeOf, signingRootOf} from "../src/signing/signingRoot.js";
import {sign, startTestSigner} from "./helpers/signer.js";

describe("load generator requests", () => {
  it("are all signed by a mainnet signer, with signatures over the right roots", async () => {
    const s = await startTestSigner({network: "mainnet", interopKeys: "4"});
    try {
      const pubkeys = (await (await fetch(`${s.url}/api/v1/eth2/publicKeys`)).json()) as string[];
      const slot = R.BASE_EPOCH * 32 + 5;
      const bodies: object[] = [
        ...R.attestations(pubkeys, 8).map((a) => a.body),
        R.aggregationSlot(slot),
        R.aggregateAndProof(slot, 7),
        R.syncCommitteeMessage(slot),
        R.syncSelectionProof(slot, 2),
        R.blockHeader(slot, 3),
        R.randaoReveal(R.BASE_EPOCH),
        R.syncContributionAndProof(slot, 3, 9),
        ...R.attestations(pubkeys, 2, 0, "shared").map((a) => a.body),
        ...R.attestations(pubkeys, 2, 0, "unique").map((a) => a.body),
      ];
      const ctx = createSigningContext(loadNetwork("mainnet"));
      for (const [i, body] of bodies.entries()) {
        const pubkey = pubkeys[i % pubkeys.length];
        const reply = await sign(s.url, pubkey, body);
        expect(reply.status, reply.text).toBe(200);
        const parsed = parseRequestBody(JSON.stringify(body));
        const root = signingRootOf(parsed, requestTypeOf(parsed), ctx);
        expect(verify(root, PublicKey.fromHex(pubkey), Signature.fromHex(reply.json().signature))).toBe(true);
      }
    } finally {
      await s.close();
    }
  });

  it("give each key a rising target epoch, so slashing protection accepts them all", () => {
    const work = R.attestations(["0xa", "0xb"], 6);
    const targets = (key: string) => work.filter((w) => w.pubkey === key).map((w) => Number((w.body as any).attestation.target.epoch));
    expect(targets("0xa")).toEqual([R.BASE_EPOCH, R.BASE_EPOCH + 1, R.BASE_EPOCH + 2]);
    expect(targets("0xb")).toEqual([R.BASE_EPOCH, R.BASE_EPOCH + 1, R.BASE_EPOCH + 2]);
  });
});

describe("signing roots shared between keys", () => {
  const keys = Array.from({length: 64}, (_, i) => `0x${i}`);
  const roots = (sharing: R.RootSharing) => new Set(R.attestations(keys, 256, 0, sharing).map((w) => JSON.stringify(w.body))).size;

  it("shared: every round over the keys signs one AttestationData (committee index 0)", () => {
    expect(roots("shared")).toBe(4);
    expect(R.attestations(keys, 64, 0, "shared").every((w) => (w.body as any).attestation.index === "0")).toBe(true);
  });
  it("unique: no two requests share a root; committee: 16 keys a root with 1,024 keys", () => {
    expect(roots("unique")).toBe(256);
    expect(
      new Set(
        R.attestations(
          Array.from({length: 1024}, (_, i) => `0x${i}`),
          1024
        ).map((w) => JSON.stringify(w.body))
      ).size
    ).toBe(64);
  });
});

describe("wrk summary", () => {
  it("reads requests, duration, latency percentiles and errors", () => {
    const clean = `Running 10s test @ http://127.0.0.1:9000
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    18.14ms    7.68ms  58.19ms   70.23%
    Req/Sec     3.53k   452.87     4.24k    71.00%
  Latency Distribution
     50%   17.48ms
     75%   22.58ms
     90%   28.24ms
     99%   41.16ms
  35315 requests in 10.05s, 10.58MB read
Requests/sec:   3513.22
Transfer/sec:      1.05MB
`;
    const r = parseWrkSummary(clean);
    expect(r.requests).toBe(35315);
    expect(r.seconds).toBeCloseTo(10.05);
    expect(r.requestsPerSecond).toBeCloseTo(35315 / 10.05);
    expect(r.latencyMs).toEqual({p50: 17.48, p99: 41.16, max: 58.19});
    expect(r.errors).toBe(0);

    const failing = clean
      .replace("    Latency    18.14ms    7.68ms  58.19ms", "    Latency   850.00us  120.00us    1.20s")
      .replace("     99%   41.16ms", "     99%  950.00us")
      .replace("Requests/sec:", "  Socket errors: connect 0, read 12, write 0, timeout 3\n  Non-2xx or 3xx responses: 100\nRequests/sec:");
    const f = parseWrkSummary(failing);
    expect(f.errors).toBe(115);
    expect(f.errorSamples).toEqual(["100 non-2xx responses", "socket errors: connect 0, read 12, write 0, timeout 3"]);
    expect(f.latencyMs.p99).toBeCloseTo(0.95);
    expect(f.latencyMs.max).toBe(1200);
    expect(() => parseWrkSummary("unable to connect to 127.0.0.1:9000 Connection refused")).toThrow(/unexpected wrk output/);
  });
});

import {readFileSync} from "node:fs";
import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {rawHttp, request, sample, sign, startTestSigner, type TestSigner, vectorsPath} from "./helpers/signer.js";

type Vector = {name: string; request: Record<string, any>; signing_root: string; pubkey: string; signature: string};
const vectors: Vector[] = JSON.parse(readFileSync(vectorsPath, "utf8"));
const attestation = vectors.find((v) => v.name === "web3signer: ATTESTATION")!;

describe("signing server", () => {
  let s: TestSigner;
  beforeAll(async () => {
    s = await startTestSigner({network: "minimal", interopKeys: "8"});
  });
  afterAll(() => s.close());

  it("answers /upcheck and /healthcheck", async () => {
    const up = await request(`${s.url}/upcheck`);
    expect([up.status, up.text]).toEqual([200, "OK"]);
    const health = await request(`${s.url}/healthcheck`);
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({status: "UP", outcome: "UP", checks: [{id: "keys-check", keys_loaded: 8}]});
  });

  it("lists the loaded public keys: interop keys 0…7", async () => {
    const reply = await request(`${s.url}/api/v1/eth2/publicKeys`);
    expect(reply.status).toBe(200);
    const keys: string[] = reply.json();
    expect(keys).toHaveLength(8);
    expect(keys).toContain(attestation.pubkey);
    expect(new Set(keys).size).toBe(8);
    for (const k of keys) expect(k).toMatch(/^0x[0-9a-f]{96}$/);
  });

  it("signs with each loaded key; each signature verifies", async () => {
    const keys: string[] = (await request(`${s.url}/api/v1/eth2/publicKeys`)).json();
    for (const key of keys) {
      const reply = await sign(s.url, key, attestation.request);
      expect(reply.status).toBe(200);
      const sig = Signature.fromHex(reply.json().signature);
      expect(verify(Buffer.from(attestation.signing_root.slice(2), "hex"), PublicKey.fromHex(key), sig)).toBe(true);
    }
  });

  it("answers JSON when Accept lists application/json or */*, as Web3Signer does; text/plain otherwise", async () => {
    const jsonAccepts = [
      "*/*",
      "application/json",
      "APPLICATION/JSON; charset=utf-8",
      "text/html, application/json;q=0.9",
      "application/json;q=0.9, */*",
      "text/plain, */*;q=0.1",
    ];
    for (const accept of jsonAccepts) {
      const reply = await sign(s.url, attestation.pubkey, attestation.request, accept);
      expect([accept, reply.status, reply.contentType]).toEqual([accept, 200, "application/json"]);
      expect(reply.json()).toEqual({signature: attestation.signature});
    }
    for (const accept of ["text/plain", "text/html, application/xml", "application/jsonp"]) {
      const reply = await sign(s.url, attestation.pubkey, attestation.request, accept);
      expect([accept, reply.status, reply.contentType]).toEqual([accept, 200, "text/plain"]);
      expect(reply.text).toBe(attestation.signature);
    }
  });

  it("answers text/plain to a request with no Accept header at all", async () => {
    const body = JSON.stringify(attestation.request);
    const raw = await rawHttp(
      s.signer.port,
      `POST /api/v1/eth2/sign/${attestation.pubkey} HTTP/1.1\r\nHost: signer\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw.toLowerCase()).toContain("content-type: text/plain\r\n");
    expect(raw.endsWith(`\r\n\r\n${attestation.signature}`)).toBe(true);
  });

  it("answers HEAD with the GET's status and headers and no body, so the connection stays usable", async () => {
    const cases: [string, number, string][] = [
      ["/upcheck", 200, "text/plain"],
      ["/healthcheck", 200, "application/json"],
      ["/api/v1/eth2/publicKeys", 200, "application/json"],
      ["/reload", 200, "application/json"],
      [`/api/v1/eth2/sign/${attestation.pubkey}`, 405, "application/json"], // POST only
      ["/no/such/path", 404, "application/json"],
    ];
    for (const [path, status, contentType] of cases) {
      // HEAD, then a GET on the same connection: a body after the HEAD answer would corrupt the second answer.
      const raw = await rawHttp(
        s.signer.port,
        `HEAD ${path} HTTP/1.1\r\nHost: signer\r\n\r\nGET /upcheck HTTP/1.1\r\nHost: signer\r\nConnection: close\r\n\r\n`
      );
      const headEnd = raw.indexOf("\r\n\r\n") + 4;
      const headAnswer = raw.slice(0, headEnd).toLowerCase();
      expect(headAnswer.split("\r\n")[0], path).toMatch(new RegExp(`^http/1\\.1 ${status} `));
      expect(headAnswer, path).toContain(`content-type: ${contentType}`);
      const second = raw.slice(headEnd);
      expect(second, path).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(second.endsWith("\r\n\r\nOK"), path).toBe(true);
    }
    // The GET of the same route sends the length HEAD announced.
    const get = await request(`${s.url}/upcheck`);
    const head = await fetch(`${s.url}/upcheck`, {method: "HEAD"});
    expect(head.headers.get("content-length")).toBe(String(get.text.length));
  });

  it("answers many concurrent requests, each with its own signature", async () => {
    const keys: string[] = (await request(`${s.url}/api/v1/eth2/publicKeys`)).json();
    const jobs = Array.from({length: 400}, (_, i) => {
      const body = structuredClone(attestation.request);
      body.attestation.slot = String(i);
      return {key: keys[i % keys.length], body};
    });
    const replies = await Promise.all(jobs.map((j) => sign(s.url, j.key, j.body)));
    const signatures = new Set(replies.map((r) => r.json().signature));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(signatures.size).toBe(400);
  });

  it("reports the native uWS engine, workers, keys and exact counts in /metrics", async () => {
    const before = await (await fetch(s.metricsUrl)).text();
    const signed = sample(before, "ts3signer_signatures_total", {type: "ATTESTATION"});
    await sign(s.url, attestation.pubkey, attestation.request);
    await sign(s.url, attestation.pubkey, {...attestation.request, type: "NOPE"});
    const after = await (await fetch(s.metricsUrl)).text();
    expect(sample(after, "ts3signer_http_engine_info", {engine: "uws-native"})).toBe(1);
    expect(sample(after, "ts3signer_workers")).toBe(2);
    expect(sample(after, "ts3signer_keys_loaded")).toBe(8);
    expect(sample(after, "ts3signer_signatures_total", {type: "ATTESTATION"})).toBe(signed + 1);
    expect(sample(after, "ts3signer_sign_requests_total", {type: "unknown", status: "400"})).toBe(1);
    expect(after).toContain("process_cpu_seconds_total");
    expect((await request(s.metricsUrl.replace("/metrics", "/other"))).status).toBe(404);
  });

  it("reloads its key sources on POST /reload", async () => {
    const start = await request(`${s.url}/reload`, {method: "POST"});
    expect(start.status).toBe(202);
    let status: {status?: string} | undefined;
    for (let i = 0; i < 50; i++) {
      status = (await request(`${s.url}/reload`)).json();
      if (status?.status === "completed") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toMatchObject({status: "completed", keys_removed: 0});
    expect((await request(`${s.url}/api/v1/eth2/publicKeys`)).json()).toHaveLength(8);
  });

  it("says how to enable the Keymanager API", async () => {
    const reply = await request(`${s.url}/eth/v1/keystores`);
    expect(reply.status).toBe(404);
    expect(reply.json().message).toMatch(/--data-dir/);
  });
});

describe("while keys load", () => {
  it("answers /upcheck 200, /healthcheck 503 and signing 503, then 200 once loaded", async () => {
    const {startSigner} = await import("../dist/src/signer.js");
    const {defaultConfig} = await import("../dist/src/config/args.js");
    const {createLogger} = await import("../dist/src/log.js");
    const signer = await startSigner(
      {...defaultConfig, port: 0, metricsPort: 0, network: "minimal", interopKeys: "20000", workers: 2},
      createLogger({write: () => {}})
    );
    const url = `http://127.0.0.1:${signer.port}`;
    try {
      expect((await request(`${url}/upcheck`)).status).toBe(200);
      const loading = await request(`${url}/healthcheck`);
      expect([loading.status, loading.json().status]).toEqual([503, "LOADING"]);
      const early = await sign(url, "0x" + "ab".repeat(48), attestation.request);
      expect([early.status, early.json().message]).toEqual([503, expect.stringMatching(/keys are still loading/)]);
      await signer.ready;
      expect((await request(`${url}/healthcheck`)).status).toBe(200);
      expect((await request(`${url}/api/v1/eth2/publicKeys`)).json()).toHaveLength(20000);
      expect((await sign(url, attestation.pubkey, attestation.request)).status).toBe(200);
    } finally {
      await signer.close();
    }
  });
});

describe("a signer with no keys", () => {
  it("starts, reports healthy and answers 404", async () => {
    const s = await startTestSigner({network: "mainnet"});
    try {
      expect((await request(`${s.url}/healthcheck`)).status).toBe(200);
      expect((await request(`${s.url}/api/v1/eth2/publicKeys`)).json()).toEqual([]);
      expect((await sign(s.url, attestation.pubkey, attestation.request)).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});

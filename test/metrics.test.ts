import {readFileSync} from "node:fs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {sample, sign, startTestSigner, type TestSigner, vectorsPath} from "./helpers/signer.js";

type Vector = {name: string; request: Record<string, any>; pubkey: string};
const vectors: Vector[] = JSON.parse(readFileSync(vectorsPath, "utf8"));
const byName = (n: string) => vectors.find((v) => v.name === n)!;

describe("metrics after a known mix of requests", () => {
  let s: TestSigner;
  let text: string;
  const mix = {attestations: 7, randao: 4, badRequests: 3, unknownKey: 2, tooLarge: 1};
  beforeAll(async () => {
    s = await startTestSigner({network: "minimal", interopKeys: "3", workers: 2, maxBodyBytes: 4096});
    const att = byName("web3signer: ATTESTATION");
    const randao = byName("web3signer: RANDAO_REVEAL");
    const jobs = [
      ...Array.from({length: mix.attestations}, () => sign(s.url, att.pubkey, att.request)),
      ...Array.from({length: mix.randao}, () => sign(s.url, att.pubkey, randao.request)),
      ...Array.from({length: mix.badRequests}, () => sign(s.url, att.pubkey, {...att.request, attestation: {slot: "x"}})),
      ...Array.from({length: mix.unknownKey}, () => sign(s.url, "0x" + "12".repeat(48), att.request)),
      ...Array.from({length: mix.tooLarge}, () => sign(s.url, att.pubkey, "x".repeat(5000))),
    ];
    const statuses = (await Promise.all(jobs)).map((r) => r.status);
    expect(statuses.filter((st) => st === 200)).toHaveLength(mix.attestations + mix.randao);
    text = await (await fetch(s.metricsUrl)).text();
  });
  afterAll(() => s.close());

  it("counts requests exactly, by type and status", () => {
    const count = (type: string, status: string) => sample(text, "ts3signer_sign_requests_total", {type, status});
    expect(count("ATTESTATION", "200")).toBe(mix.attestations);
    expect(count("RANDAO_REVEAL", "200")).toBe(mix.randao);
    expect(count("ATTESTATION", "400")).toBe(mix.badRequests);
    expect(count("ATTESTATION", "404")).toBe(mix.unknownKey);
    expect(count("unknown", "413")).toBe(mix.tooLarge);
  });

  it("sums signatures from every worker to exactly the number signed", () => {
    const total = [...text.matchAll(/^ts3signer_signatures_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(total).toBe(mix.attestations + mix.randao);
  });

  it("observes every request in the latency histogram", () => {
    const counts = [...text.matchAll(/^ts3signer_sign_duration_seconds_count\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(counts).toBe(Object.values(mix).reduce((a, b) => a + b, 0));
    const inf = sample(text, "ts3signer_sign_duration_seconds_bucket", {type: "ATTESTATION", le: "+Inf"});
    expect(inf).toBe(mix.attestations + mix.badRequests + mix.unknownKey);
  });

  it("reports keys, workers, queue, key loading and the HTTP engine", () => {
    expect(sample(text, "ts3signer_keys_loaded")).toBe(3);
    expect(sample(text, "ts3signer_workers")).toBe(2);
    expect(sample(text, "ts3signer_pool_queue_depth")).toBe(0);
    expect(sample(text, "ts3signer_key_load_seconds_count")).toBe(1);
    expect(sample(text, "ts3signer_http_engine_info", {engine: "uws-native"})).toBe(1);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
  });

  it("answers HEAD /metrics like GET without a body, and 405 to other methods", async () => {
    const head = await fetch(s.metricsUrl, {method: "HEAD"});
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await head.text()).toBe("");
    const post = await fetch(s.metricsUrl, {method: "POST"});
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect((await fetch(s.metricsUrl.replace("/metrics", "/nope"))).status).toBe(404);
  });

  it("never labels a series with a key", () => {
    expect(text).not.toMatch(/0x[0-9a-f]{96}/i);
  });
});

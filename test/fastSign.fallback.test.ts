import {spawnSync} from "node:child_process";
import {readFileSync} from "node:fs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {TestSigner} from "./helpers/signer.js";

// Read when the signing module loads, in this process and its worker threads: set it first.
process.env.TS3SIGNER_SIGN_ENGINE = "blst-sign";
const {sample, sign, startTestSigner, vectorsPath} = await import("./helpers/signer.js");

describe("the fallback engine (@chainsafe/blst sign() per request)", () => {
  let s: TestSigner;
  beforeAll(async () => {
    s = await startTestSigner({network: "minimal", interopKeys: "1", requireNativeSigning: false});
  });
  afterAll(() => s.close());

  it("signs the published vectors, says so at start and in its info metric, and counts no cache", async () => {
    const vectors: {request: object; pubkey: string; signature: string}[] = JSON.parse(readFileSync(vectorsPath, "utf8"));
    for (const v of vectors.slice(0, 5)) {
      const reply = await sign(s.url, v.pubkey, v.request);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json().signature.toLowerCase()).toBe(v.signature.toLowerCase());
    }
    const warning = s.lines.map((l) => JSON.parse(l)).find((l) => l.engine === "blst-sign");
    expect(warning?.reason).toBe("TS3SIGNER_SIGN_ENGINE=blst-sign");
    const metrics = await (await fetch(s.metricsUrl)).text();
    expect(sample(metrics, "ts3signer_sign_engine_info", {engine: "blst-sign"})).toBe(1);
    expect(sample(metrics, "ts3signer_sign_engine_info", {engine: "native-point-cache"})).toBe(0);
    for (const result of ["hit", "miss", "table"]) expect(sample(metrics, "ts3signer_point_cache_total", {result})).toBe(0);
  });

  it("is refused by --require-native-signing: exit code 1 and the reason", () => {
    const cli = new URL("../dist/src/cli.js", import.meta.url).pathname;
    const args = ["--network", "minimal", "--port", "0", "--metrics-port", "0", "--log-format", "json", "--require-native-signing"];
    const refused = spawnSync(process.execPath, [cli, ...args], {encoding: "utf8", timeout: 30_000});
    expect(refused.status).toBe(1);
    const line = JSON.parse(refused.stdout.trim().split("\n").at(-1)!);
    expect(line.level).toBe("error");
    expect(line.msg).toBe(
      "cannot start: --require-native-signing: the native signing addon did not load (running blst-sign: TS3SIGNER_SIGN_ENGINE=blst-sign)"
    );
  });
});

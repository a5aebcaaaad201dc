import {existsSync, readFileSync} from "node:fs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {loadNetwork} from "../src/config/networks.js";
import {createSigningContext, parseRequestBody, requestTypeOf, signingRootOf} from "../src/signing/signingRoot.js";
import {hex} from "./helpers/reference.js";
import {sign, startTestSigner, type TestSigner, vectorsPath} from "./helpers/signer.js";

type Vector = {name: string; request: Record<string, unknown>; signing_root: string; pubkey: string; signature: string};
const vectors: Vector[] = JSON.parse(readFileSync(vectorsPath, "utf8"));

describe("published signing vectors (minimal preset)", () => {
  it("has the whole set", () => expect(vectors.length).toBe(39));

  // The set lives in test/fixtures (a bare clone runs every test below); where the project's shared
  // folder sits beside the repository, the copy must not have drifted from it. A clone has nothing
  // to drift from, so there the check is not registered rather than counted as skipped.
  const shared = new URL("../../shared/vectors/signing-roots.json", import.meta.url);
  if (existsSync(shared)) {
    it("is the same set as ../shared/vectors", () => {
      expect(JSON.parse(readFileSync(shared, "utf8"))).toEqual(vectors);
    });
  }

  const ctx = createSigningContext(loadNetwork("minimal"));
  it.each(vectors)("$name: computes the published signing root", (v) => {
    const body = parseRequestBody(JSON.stringify(v.request));
    expect(hex(signingRootOf(body, requestTypeOf(body), ctx))).toBe(v.signing_root);
  });

  describe("over HTTP", () => {
    let s: TestSigner;
    beforeAll(async () => {
      s = await startTestSigner({network: "minimal", interopKeys: "1"});
    });
    afterAll(() => s.close());

    it.each(vectors)("$name: signs to the published signature (JSON and text/plain)", async (v) => {
      const json = await sign(s.url, v.pubkey, v.request, "application/json");
      expect(json.status, json.text).toBe(200);
      expect(json.contentType).toContain("application/json");
      expect(json.json().signature.toLowerCase()).toBe(v.signature.toLowerCase());

      const text = await sign(s.url, v.pubkey, v.request, "text/plain");
      expect(text.status).toBe(200);
      expect(text.contentType).toContain("text/plain");
      expect(text.text.toLowerCase()).toBe(v.signature.toLowerCase());
    });

    it.each(vectors)("$name: accepts its own signing_root / signingRoot, rejects another", async (v) => {
      for (const key of ["signing_root", "signingRoot"]) {
        const ok = await sign(s.url, v.pubkey, {...v.request, [key]: v.signing_root.toUpperCase().replace("0X", "0x")});
        expect(ok.status, ok.text).toBe(200);
        expect(ok.json().signature.toLowerCase()).toBe(v.signature.toLowerCase());
      }
      const other = "0x" + "11".repeat(32);
      const bad = await sign(s.url, v.pubkey, {...v.request, signing_root: other});
      expect(bad.status).toBe(400);
      expect(bad.json().message).toMatch(/^signing_root: 0x1111.* does not match .* 0x[0-9a-f]{64}$/);
    });
  });
});

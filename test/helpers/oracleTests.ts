import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {loadNetwork} from "../../src/config/networks.js";
import {requestTypeNames} from "../../src/signing/requestTypeNames.js";
import {createSigningContext, parseRequestBody, requestTypeOf, signingRootOf} from "../../src/signing/signingRoot.js";
import {loadOracle} from "./oracle.js";
import {hex} from "./reference.js";
import {sign, startTestSigner, type TestSigner} from "./signer.js";

/** Every request type × fork on one preset: roots against Lodestar's, signatures over HTTP verified with blst. */
export async function defineOracleTests(preset: "mainnet" | "minimal"): Promise<void> {
  const oracle = await loadOracle(preset);
  const cases = oracle.cases(3, preset === "mainnet" ? 1 : 2);

  describe(`signing roots on ${preset} agree with Lodestar's SSZ types`, () => {
    const ctx = createSigningContext(loadNetwork(preset));
    it("covers every request type the signer knows", () => {
      expect([...new Set(cases.map((c) => c.type))].sort()).toEqual([...requestTypeNames].sort());
    });
    it.each(cases)("$name", (c) => {
      const body = parseRequestBody(JSON.stringify(c.body));
      expect(requestTypeOf(body)).toBe(c.type);
      expect(hex(signingRootOf(body, c.type as never, ctx))).toBe(hex(c.signingRoot));
    });
  });

  describe(`signatures over HTTP on ${preset}`, () => {
    let s: TestSigner;
    let pubkeys: string[];
    beforeAll(async () => {
      s = await startTestSigner({network: preset, interopKeys: "4"});
      pubkeys = s.signer.keys.publicKeys();
    });
    afterAll(() => s.close());

    it("signs every type and fork, and each signature verifies against the expected root", async () => {
      const replies = await Promise.all(cases.map((c, i) => sign(s.url, pubkeys[i % 4], c.body)));
      replies.forEach((reply, i) => {
        expect(reply.status, `${cases[i].name}: ${reply.text}`).toBe(200);
        const signature = Signature.fromHex(reply.json().signature);
        expect(verify(cases[i].signingRoot, PublicKey.fromHex(pubkeys[i % 4]), signature), cases[i].name).toBe(true);
      });
    });
  });
}

import {readFileSync} from "node:fs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {duplicateKeyMessage} from "../src/signing/duplicateKeys.js";
import {request, sample, sign, startTestSigner, type TestSigner, vectorsPath} from "./helpers/signer.js";

type Vector = {name: string; request: Record<string, any>; pubkey: string; signature: string};
const vectors: Vector[] = JSON.parse(readFileSync(vectorsPath, "utf8"));
const byName = (name: string) => structuredClone(vectors.find((v) => v.name === name)!.request);
const attestation = () => byName("web3signer: ATTESTATION");
const contribution = () => byName("web3signer: SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF");
const aggregate = () => byName("web3signer: AGGREGATE_AND_PROOF (DEPRECATED)");
const blockV2 = () => byName("web3signer: BLOCK_V2 (ALTAIR)");

describe("bad signing requests get a 400 that names the problem", () => {
  let s: TestSigner;
  let pubkey: string;
  beforeAll(async () => {
    s = await startTestSigner({network: "minimal", interopKeys: "1", maxBodyBytes: 64 * 1024});
    pubkey = s.signer.keys.publicKeys()[0];
  });
  afterAll(() => s.close());

  const cases: [string, () => unknown, RegExp][] = [
    ["malformed JSON", () => '{"type": "ATTESTATION",', /^malformed JSON/],
    ["an empty body", () => "", /^malformed JSON/],
    ["a JSON array", () => "[1,2]", /must be a JSON object, got an array/],
    ["a JSON string", () => '"ATTESTATION"', /must be a JSON object/],
    ["no type", () => ({...attestation(), type: undefined}), /^type: missing$/],
    [
      "an unknown type",
      () => ({...attestation(), type: "ATTESTATION_V9"}),
      /^type: unknown request type "ATTESTATION_V9" \(known: AGGREGATION_SLOT/,
    ],
    ["a type that is not a string", () => ({...attestation(), type: 7}), /^type: unknown request type number 7/],
    ["no payload", () => ({...attestation(), attestation: undefined}), /^attestation: missing$/],
    ["no fork_info", () => ({...attestation(), fork_info: undefined}), /^fork_info: missing$/],
    [
      "a missing nested field",
      () => {
        const r = attestation();
        delete r.attestation.target.root;
        return r;
      },
      /^attestation\.target\.root: missing$/,
    ],
    [
      "a number where hex belongs",
      () => {
        const r = attestation();
        r.attestation.beacon_block_root = 5;
        return r;
      },
      /^attestation\.beacon_block_root: expected 0x-prefixed hex, got number 5$/,
    ],
    [
      "hex without 0x",
      () => {
        const r = attestation();
        r.attestation.beacon_block_root = r.attestation.beacon_block_root.slice(2);
        return r;
      },
      /^attestation\.beacon_block_root: expected 0x-prefixed hex of 32 bytes/,
    ],
    [
      "short hex",
      () => {
        const r = attestation();
        r.attestation.beacon_block_root = "0x1234";
        return r;
      },
      /^attestation\.beacon_block_root: expected 0x-prefixed hex of 32 bytes, got "0x1234"$/,
    ],
    [
      "odd-length hex",
      () => {
        const r = attestation();
        r.attestation.beacon_block_root += "0";
        return r;
      },
      /^attestation\.beacon_block_root: expected 0x-prefixed hex of 32 bytes/,
    ],
    [
      "non-hex digits",
      () => {
        const r = attestation();
        r.attestation.beacon_block_root = "0x" + "zz".repeat(32);
        return r;
      },
      /^attestation\.beacon_block_root: expected 0x-prefixed hex of 32 bytes/,
    ],
    [
      "a wrong fork version length",
      () => {
        const r = attestation();
        r.fork_info.fork.current_version = "0x0000000001";
        return r;
      },
      /^fork_info\.fork\.current_version: expected 0x-prefixed hex of 4 bytes/,
    ],
    [
      "a uint64 overflow",
      () => {
        const r = attestation();
        r.attestation.slot = "18446744073709551616";
        return r;
      },
      /^attestation\.slot: 18446744073709551616 is out of the uint64 range$/,
    ],
    [
      "a negative uint64",
      () => {
        const r = attestation();
        r.attestation.index = -1;
        return r;
      },
      /^attestation\.index: expected a non-negative integer, got -1$/,
    ],
    [
      "a float uint64",
      () => {
        const r = attestation();
        r.attestation.index = 0.5;
        return r;
      },
      /^attestation\.index: expected a non-negative integer, got 0\.5$/,
    ],
    [
      "an object where a container's field is scalar",
      () => {
        const r = attestation();
        r.attestation.source = "0";
        return r;
      },
      /^attestation\.source: expected an object, got "0"$/,
    ],
    [
      "a bitlist without its delimiter bit",
      () => {
        const r = aggregate();
        r.aggregate_and_proof.aggregate.aggregation_bits = "0x00";
        return r;
      },
      /^aggregate_and_proof\.aggregate\.aggregation_bits: not a valid bitlist/,
    ],
    [
      "a bitvector of the wrong size",
      () => {
        const r = contribution();
        r.contribution_and_proof.contribution.aggregation_bits = "0x0000";
        return r;
      },
      /^contribution_and_proof\.contribution\.aggregation_bits: not a valid bitvector of 8 bits/,
    ],
    [
      "a list over its limit",
      () => {
        const r = blockV2();
        r.beacon_block.block.body.attester_slashings = [1, 2, 3];
        return r;
      },
      /^beacon_block\.block\.body\.attester_slashings: expected at most 2 items, got 3$/,
    ],
    [
      "a list item of the wrong type",
      () => {
        const r = blockV2();
        r.beacon_block.block.body.voluntary_exits = [5];
        return r;
      },
      /^beacon_block\.block\.body\.voluntary_exits\[0\]: expected an object, got number 5$/,
    ],
    [
      "a vector of the wrong length",
      () => {
        const r = blockV2();
        r.beacon_block.block.body.deposits = [{proof: [], data: {}}];
        return r;
      },
      /^beacon_block\.block\.body\.deposits\[0\]\.proof: expected exactly 33 items, got 0$/,
    ],
    [
      "an unknown BLOCK_V2 version",
      () => {
        const r = blockV2();
        r.beacon_block.version = "ZEPHYR";
        return r;
      },
      /^beacon_block\.version: unknown fork "ZEPHYR"/,
    ],
    [
      "BLOCK_V2 from Bellatrix without block_header",
      () => {
        const r = blockV2();
        r.beacon_block.version = "DENEB";
        return r;
      },
      /^beacon_block\.block_header: missing$/,
    ],
    ["a malformed signing_root", () => ({...attestation(), signing_root: "0x12"}), /^signing_root: expected 0x-prefixed hex of 32 bytes/],
    // Routed by the first "type", parsed as the last: refused, so the lane and the signature agree.
    [
      "two type keys",
      () => `{"type": "RANDAO_REVEAL", ${JSON.stringify(attestation()).slice(1)}`,
      /^duplicate key "type": each key may appear once in an object$/,
    ],
    [
      "a duplicate nested key",
      () => JSON.stringify(attestation()).replace('"slot":', '"slot": "1", "slot":'),
      /^duplicate key "slot" in attestation: each key may appear once in an object$/,
    ],
    [
      "a duplicate key deep in a block",
      () => JSON.stringify(blockV2()).replace(/"proposer_index":/, '"proposer_index": 0, "proposer_index":'),
      /^duplicate key "proposer_index" in beacon_block\.block: each/,
    ],
    [
      "a nested type before the request's own",
      () => `{"extra": {"type": "RANDAO_REVEAL"}, ${JSON.stringify(attestation()).slice(1)}`,
      /^type: the first "type" in the body \(RANDAO_REVEAL\) is not the request's own \(ATTESTATION\)/,
    ],
  ];

  it.each(cases)("%s", async (_, body, message) => {
    const reply = await sign(s.url, pubkey, body());
    expect(reply.status, reply.text).toBe(400);
    expect(reply.contentType).toContain("application/json");
    expect(reply.json().message).toMatch(message);
  });

  it("counts a request with two types as neither", async () => {
    const before = sample(await (await fetch(s.metricsUrl)).text(), "ts3signer_sign_requests_total", {type: "unknown", status: "400"});
    const reply = await sign(s.url, pubkey, `{"type": "RANDAO_REVEAL", ${JSON.stringify(attestation()).slice(1)}`);
    expect(reply.status).toBe(400);
    const text = await (await fetch(s.metricsUrl)).text();
    expect(sample(text, "ts3signer_sign_requests_total", {type: "unknown", status: "400"})).toBe(before + 1);
  });

  it("keeps error messages short when a field holds a huge value", async () => {
    const r = attestation();
    r.attestation.beacon_block_root = "0x" + "ab".repeat(20_000);
    const reply = await sign(s.url, pubkey, r);
    expect(reply.status).toBe(400);
    expect(reply.text.length).toBeLessThan(300);
  });

  it("answers 413 for a body over --max-body, and keeps serving", async () => {
    const reply = await sign(s.url, pubkey, "x".repeat(64 * 1024 + 1));
    expect(reply.status).toBe(413);
    expect(reply.json().message).toMatch(/over the 65536-byte limit/);
    const ok = await sign(s.url, pubkey, attestation());
    expect(ok.status).toBe(200);
  });

  it("answers 404 for a key it does not hold, in any spelling", async () => {
    const unknown = "0x" + "ab".repeat(48);
    for (const id of [unknown, "not-a-key", "0x"]) {
      const reply = await sign(s.url, id, attestation());
      expect(reply.status).toBe(404);
      expect(reply.json().message).toMatch(/^no key for .* is loaded$/);
    }
  });

  it("finds a key whatever the case of its hex", async () => {
    const reply = await sign(s.url, "0x" + pubkey.slice(2).toUpperCase(), attestation());
    expect(reply.status).toBe(200);
  });

  it("answers 404 for unknown paths and 405 for a known path's other methods", async () => {
    expect((await request(`${s.url}/api/v1/eth2/nope`)).status).toBe(404);
    const get = await request(`${s.url}/api/v1/eth2/sign/${pubkey}`);
    expect(get.status).toBe(405);
    expect(get.json().message).toMatch(/use POST/);
    expect((await request(`${s.url}/upcheck`, {method: "POST"})).status).toBe(405);
  });

  it("counted every one of these requests by status", async () => {
    const metrics = await (await fetch(s.metricsUrl)).text();
    expect(sample(metrics, "ts3signer_sign_requests_total", {type: "ATTESTATION", status: "400"})).toBeGreaterThan(10);
    expect(sample(metrics, "ts3signer_sign_requests_total", {type: "unknown", status: "413"})).toBe(1);
    expect(sample(metrics, "ts3signer_sign_requests_total", {type: "ATTESTATION", status: "404"})).toBe(3);
  });
});

describe("duplicate keys", () => {
  const check = (text: string) => duplicateKeyMessage(text, JSON.parse(text));
  it.each([
    ['{"a": 1, "b": {"a": 2}, "c": [{"a": 1}, {"a": 2}]}', undefined],
    ['{"a:": "b:c", "a\\"": "\\":", "\\\\": 1}', undefined], // colons and escaped quotes inside strings
    ['{"a": 1, "a" : 2}', 'duplicate key "a": each key may appear once in an object'],
    ['{"x": [{"k": 1}, {"k": 1, "k": 2}]}', 'duplicate key "k" in x[1]: each key may appear once in an object'],
    ['{"\\u0061": 1, "a": 2}', 'duplicate key "a": each key may appear once in an object'], // the same key, spelled two ways
    ['{"a\\\\": 1, "a\\\\" : 2}', 'duplicate key "a\\\\": each key may appear once in an object'],
  ])("%s", (text, message) => {
    expect(check(text)).toBe(message);
  });

  it("counts keys without recursion: nesting JSON.parse accepts does not overflow the stack", () => {
    const deep = `${'{"a":['.repeat(100_000)}1${"]}".repeat(100_000)}`;
    expect(check(deep)).toBeUndefined();
    expect(check(`{"b":1,${deep.slice(1, -1)},"b":2}`)).toBe('duplicate key "b": each key may appear once in an object');
    // Deep inside: the message names the end of the path, not all 100,000 steps of it.
    const message = check(deep.replace("1", '{"c":1,"c":2}'))!;
    expect(message).toMatch(/^duplicate key "c" in …[a[\]0.]+\.a\[0\]: each key may appear once in an object$/);
    expect(message.length).toBeLessThan(200);
  });
});

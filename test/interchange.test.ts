/**
 * The EIP-3076 interchange test suite (eth-clients/slashing-protection-interchange-tests v5.3.0,
 * test/fixtures/interchange-tests/) on both stores: every test at the rules layer on a fresh
 * database, and every test again end to end over HTTP through a running signer.
 */
import {mkdtempSync, readdirSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PublicKey, SecretKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, describe, expect, it} from "vitest";
import {interopSecretKey} from "../src/keys/interop.js";
import {InterchangeError, parseInterchange} from "../src/slashing/interchange.js";
import {SlashingStore} from "../src/slashing/store.js";
import {startTestPostgres} from "./helpers/postgres.js";
import {bytes, computeDomain, computeSigningRoot, DOMAIN, hex, merkleize, sha256, uint64Chunk} from "./helpers/reference.js";
import {request, sign, startTestSigner} from "./helpers/signer.js";

type Check = {pubkey: string; signing_root: string; should_succeed: boolean; should_succeed_complete?: boolean};
type BlockCheck = Check & {slot: string};
type AttestationCheck = Check & {source_epoch: string; target_epoch: string};
type Interchange = {
  metadata: {interchange_format_version: string; genesis_validators_root: string};
  data: {
    pubkey: string;
    signed_blocks: {slot: string; signing_root?: string}[];
    signed_attestations: {source_epoch: string; target_epoch: string; signing_root?: string}[];
  }[];
};
type Step = {
  should_succeed: boolean;
  contains_slashable_data: boolean;
  interchange: Interchange;
  blocks: BlockCheck[];
  attestations: AttestationCheck[];
};
type SuiteTest = {name: string; genesis_validators_root: string; steps: Step[]};

const dir = new URL("./fixtures/interchange-tests/", import.meta.url);
const suite: SuiteTest[] = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), "utf8")));
/** ts3signer keeps every record, so it is held to the complete strategy's outcome where one is given. */
const expected = (c: Check) => c.should_succeed_complete ?? c.should_succeed;

const postgres = startTestPostgres();
afterAll(() => ("stop" in postgres ? postgres.stop() : undefined));
if ("unavailable" in postgres) console.warn(`PostgreSQL interchange tests skipped: ${postgres.unavailable}`);
const backends = [
  {
    name: "SQLite",
    available: true,
    url: async () => `sqlite:${join(mkdtempSync(join(tmpdir(), "ts3signer-eip3076-")), "slashing.sqlite")}`,
  },
  {name: "PostgreSQL", available: "createSchema" in postgres, url: () => (postgres as {createSchema(): Promise<string>}).createSchema()},
];

describe.each(backends)("EIP-3076 interchange tests v5.3.0 at the rules layer, $name", ({available, url}) => {
  it("has the suite's 38 tests", () => expect(suite).toHaveLength(38));

  it.runIf(available).each(suite.map((t) => [t.name, t] as const))("%s", async (_name, test) => {
    // A fresh database for the test's chain, as a signer on a network with that root opens it.
    const store = await SlashingStore.open(await url(), {setUp: true, genesisValidatorsRoot: test.genesis_validators_root});
    try {
      for (const step of test.steps) {
        // What the Keymanager import runs: parse, then import.
        const imported = await store.importInterchange(parseInterchange(JSON.stringify(step.interchange))).catch((e) => {
          if (e instanceof InterchangeError) return e;
          throw e;
        });
        expect(imported instanceof InterchangeError ? `refused: ${imported.message}` : "imported").toEqual(
          step.should_succeed ? "imported" : expect.stringMatching(/^refused/)
        );
        // A warning is never raised for a document the suite calls clean.
        if (imported instanceof Map && !step.contains_slashable_data) expect([...imported.keys()]).toEqual([]);
        const gvr = test.genesis_validators_root;
        for (const b of step.blocks) {
          const [refusal] = await store.checkBatch([
            {pubkey: b.pubkey, check: {kind: "block", genesisValidatorsRoot: gvr, slot: BigInt(b.slot)}, signingRoot: b.signing_root},
          ]);
          expect({block: b.slot, root: b.signing_root, signed: refusal === null}).toEqual({
            block: b.slot,
            root: b.signing_root,
            signed: expected(b),
          });
        }
        for (const a of step.attestations) {
          const check = {
            kind: "attestation" as const,
            genesisValidatorsRoot: gvr,
            source: BigInt(a.source_epoch),
            target: BigInt(a.target_epoch),
          };
          const [refusal] = await store.checkBatch([{pubkey: a.pubkey, check, signingRoot: a.signing_root}]);
          const what = {attestation: `${a.source_epoch} → ${a.target_epoch}`, root: a.signing_root};
          expect({...what, signed: refusal === null}).toEqual({...what, signed: expected(a)});
        }
      }
    } finally {
      await store.close();
    }
  });
});

/*
 * Over HTTP the signer computes every signing root itself, so each test root stands for a real
 * message: a block header whose body_root is the test root, an attestation whose
 * beacon_block_root is. Equal test roots at a slot or target then give equal real roots, and
 * different ones different roots. Imported signing roots are rewritten to those real roots.
 * Each test gets its own interop keys (test k's validator j is interop key 3k + j), so all of
 * them share one signer and one database.
 */
const forkInfo = (gvr: string) => ({
  fork: {previous_version: "0x00000001", current_version: "0x00000001", epoch: "0"},
  genesis_validators_root: gvr,
});
const ZERO = "0x" + "00".repeat(32);
const blockRequest = (gvr: string, slot: string, testRoot: string) => ({
  type: "BLOCK_V2",
  fork_info: forkInfo(gvr),
  beacon_block: {version: "DENEB", block_header: {slot, proposer_index: "0", parent_root: ZERO, state_root: ZERO, body_root: testRoot}},
});
const attestationRequest = (gvr: string, source: string, target: string, testRoot: string) => ({
  type: "ATTESTATION",
  fork_info: forkInfo(gvr),
  attestation: {
    slot: "0",
    index: "0",
    beacon_block_root: testRoot,
    source: {epoch: source, root: ZERO},
    target: {epoch: target, root: ZERO},
  },
});
// The same roots computed independently (test/helpers/reference.ts), to translate and to verify.
const u64 = (n: string) => uint64Chunk(BigInt(n));
const signingRootOf = (domainType: string, gvr: string, objectRoot: Uint8Array) =>
  hex(computeSigningRoot(objectRoot, computeDomain(domainType, bytes("0x00000001"), bytes(gvr))));
const blockRoot = (gvr: string, slot: string, testRoot: string) =>
  signingRootOf(DOMAIN.BEACON_PROPOSER, gvr, merkleize([u64(slot), u64("0"), bytes(ZERO), bytes(ZERO), bytes(testRoot)]));
const attestationRoot = (gvr: string, source: string, target: string, testRoot: string) =>
  signingRootOf(
    DOMAIN.BEACON_ATTESTER,
    gvr,
    merkleize([u64("0"), u64("0"), bytes(testRoot), sha256(u64(source), bytes(ZERO)), sha256(u64(target), bytes(ZERO))])
  );

const overHttp = suite.filter((t) => t.name !== "wrong_genesis_validators_root"); // its chain check is a test of its own
const suitePubkeys = [
  "0xa99a76ed7796f7be22d5b7e85deeb7c5677e88e511e0b337618f8c4eb61349b4bf2d153f649f7b53359fe8b94a38e44c",
  "0xb89bebc699769726a318c8e9971bd3171297c61aea4a6578a7a4f94b547dcba5bac16a89108b6b6a1fe3695d1a874a0b",
  "0xa3a32b0f8b4ddb83f1a0a853d81dd725dfe577d4f4c3db8ece52ce2b026eca84815c1a7e8e92a4de3d755733bf7e4a9b",
];
const interopPubkey = (i: number) => "0x" + Buffer.from(SecretKey.fromBytes(interopSecretKey(i)).toPublicKey().toBytes()).toString("hex");

describe.each(backends)("EIP-3076 interchange tests v5.3.0 over HTTP (Keymanager import, signing API), $name", ({available, url}) => {
  it.runIf(available)(`signs or refuses every check of the ${overHttp.length} tests as the suite says`, async () => {
    expect(interopPubkey(2)).toBe(suitePubkeys[2]); // the suite's validators are interop keys 0, 1, 2
    const dataDir = mkdtempSync(join(tmpdir(), "ts3signer-eip3076-km-"));
    const s = await startTestSigner({
      network: "minimal",
      interopKeys: String(3 * overHttp.length),
      dataDir,
      slashingProtection: await url(),
    });
    const headers = {
      authorization: `Bearer ${readFileSync(join(dataDir, "api-token.txt"), "utf8").trim()}`,
      "content-type": "application/json",
    };
    const outcomes: string[] = [];
    try {
      for (const [k, test] of overHttp.entries()) {
        const keyOf = (pubkey: string) => interopPubkey(3 * k + suitePubkeys.indexOf(pubkey.toLowerCase()));
        const gvr = test.genesis_validators_root;
        for (const [n, step] of test.steps.entries()) {
          const interchange = {
            metadata: step.interchange.metadata,
            data: step.interchange.data.map((d) => ({
              pubkey: keyOf(d.pubkey),
              signed_blocks: d.signed_blocks.map((b) =>
                b.signing_root ? {...b, signing_root: blockRoot(gvr, b.slot, b.signing_root)} : b
              ),
              signed_attestations: d.signed_attestations.map((a) =>
                a.signing_root ? {...a, signing_root: attestationRoot(gvr, a.source_epoch, a.target_epoch, a.signing_root)} : a
              ),
            })),
          };
          const imported = await request(`${s.url}/eth/v1/keystores`, {
            method: "POST",
            headers,
            body: JSON.stringify({keystores: [], passwords: [], slashing_protection: JSON.stringify(interchange)}),
          });
          outcomes.push(`${test.name} step ${n} import: ${imported.status}`);
          const checks = [
            ...step.blocks.map((b) => ({
              c: b,
              what: `block ${b.slot}`,
              body: blockRequest(gvr, b.slot, b.signing_root),
              root: blockRoot(gvr, b.slot, b.signing_root),
            })),
            ...step.attestations.map((a) => ({
              c: a,
              what: `attestation ${a.source_epoch} → ${a.target_epoch}`,
              body: attestationRequest(gvr, a.source_epoch, a.target_epoch, a.signing_root),
              root: attestationRoot(gvr, a.source_epoch, a.target_epoch, a.signing_root),
            })),
          ];
          for (const {c, what, body, root} of checks) {
            const pubkey = keyOf(c.pubkey);
            const reply = await sign(s.url, pubkey, body);
            const signed =
              reply.status === 200 && verify(bytes(root), PublicKey.fromHex(pubkey), Signature.fromHex(reply.json().signature));
            outcomes.push(`${test.name} step ${n} ${what} root ${c.signing_root.slice(-4)}: ${signed ? "signed" : reply.status}`);
          }
        }
      }
      const wanted = overHttp.flatMap((test) =>
        test.steps.flatMap((step, n) => [
          `${test.name} step ${n} import: 200`,
          ...step.blocks.map(
            (b) => `${test.name} step ${n} block ${b.slot} root ${b.signing_root.slice(-4)}: ${expected(b) ? "signed" : 412}`
          ),
          ...step.attestations.map(
            (a) =>
              `${test.name} step ${n} attestation ${a.source_epoch} → ${a.target_epoch} root ${a.signing_root.slice(-4)}: ${expected(a) ? "signed" : 412}`
          ),
        ])
      );
      expect(outcomes).toEqual(wanted);
    } finally {
      await s.close();
    }
  });
});

import {mkdtempSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, expect, it} from "vitest";
import {encryptKeystore} from "../src/keys/eip2335.js";
import {interopSecretKey} from "../src/keys/interop.js";
import {parseInterchange} from "../src/slashing/interchange.js";
import {SlashingDb, slashingDbPath} from "../src/slashing/slashingDb.js";
import {SecretKey} from "@chainsafe/blst";
import {request, sign, startTestSigner, vectorsPath} from "./helpers/signer.js";

const MAX = 2n ** 64n - 1n;
const GVR = "0x" + "42".repeat(32);
const PK = "0x" + "a1".repeat(48);
const root = (n: number) => "0x" + n.toString(16).padStart(64, "0");
const dbFile = () => join(mkdtempSync(join(tmpdir(), "ts3signer-slashing-")), "slashing.sqlite");
const block = (slot: bigint) => ({kind: "block" as const, genesisValidatorsRoot: GVR, slot});
const vote = (source: bigint, target: bigint) => ({kind: "attestation" as const, genesisValidatorsRoot: GVR, source, target});

describe("slashing protection rules (EIP-3076)", () => {
  it("blocks: refuses a second block at a slot and anything at or below the lowest slot; allows a repeat", () => {
    const db = new SlashingDb(dbFile());
    expect(db.check(PK, block(100n), root(1))).toBeNull();
    expect(db.check(PK, block(100n), root(1))).toBeNull(); // the same block again
    expect(db.check(PK, block(100n), root(2))).toMatch(/a different block was already signed at slot 100/);
    expect(db.check(PK, block(99n), root(3))).toMatch(/slot 99 is not above the lowest signed slot 100/);
    expect(db.check(PK, block(101n), root(4))).toBeNull();
    expect(db.check(PK, block(MAX), root(5))).toBeNull();
    // Another key, or another chain, has its own history.
    expect(db.check("0x" + "b2".repeat(48), block(100n), root(2))).toBeNull();
    expect(db.check(PK, {...block(100n), genesisValidatorsRoot: "0x" + "00".repeat(32)}, root(2))).toBeNull();
  });

  it("attestations: refuses double votes, surround votes both ways and the low watermarks; allows a repeat", () => {
    const db = new SlashingDb(dbFile());
    expect(db.check(PK, vote(10n, 20n), root(1))).toBeNull();
    expect(db.check(PK, vote(10n, 20n), root(1))).toBeNull();
    expect(db.check(PK, vote(11n, 20n), root(2))).toMatch(/different attestation was already signed for target epoch 20/);
    expect(db.check(PK, vote(9n, 21n), root(3))).toMatch(/surround vote with the signed attestation 10 → 20/);
    expect(db.check(PK, vote(12n, 19n), root(4))).toMatch(/surround vote/);
    expect(db.check(PK, vote(9n, 25n), root(5))).toMatch(/surround vote/);
    expect(db.check(PK, vote(5n, 8n), root(6))).toMatch(/source epoch 5 is below the lowest signed source 10/);
    expect(db.check(PK, vote(21n, 20n), root(7))).toMatch(/source epoch 21 is after target epoch 20/);
    expect(db.check(PK, vote(20n, 30n), root(8))).toBeNull();
    expect(db.check(PK, vote(MAX - 1n, MAX), root(9))).toBeNull();
  });

  it("imports an interchange document, then refuses what it rules out, and exports it back", () => {
    const db = new SlashingDb(dbFile());
    const doc = parseInterchange(
      JSON.stringify({
        metadata: {interchange_format_version: "5", genesis_validators_root: GVR},
        data: [{pubkey: PK, signed_blocks: [{slot: "500"}], signed_attestations: [{source_epoch: "40", target_epoch: "41", signing_root: root(7)}]}],
      })
    );
    db.importInterchange(doc);
    expect(db.check(PK, block(500n), root(1))).toMatch(/already signed at slot 500/); // no root imported: never a repeat
    expect(db.check(PK, block(400n), root(1))).toMatch(/not above the lowest signed slot 500/);
    expect(db.check(PK, vote(40n, 41n), root(7))).toBeNull(); // a repeat of the imported vote
    expect(db.check(PK, vote(39n, 45n), root(8))).toMatch(/surround/);
    expect(db.exportInterchange([PK], GVR)).toEqual({
      metadata: {interchange_format_version: "5", genesis_validators_root: GVR},
      data: [{pubkey: PK, signed_blocks: [{slot: "500"}], signed_attestations: [{source_epoch: "40", target_epoch: "41", signing_root: root(7)}]}],
    });
  });

  it("refuses malformed interchange documents and unsupported URLs", () => {
    expect(() => parseInterchange("{")).toThrow(/not JSON/);
    expect(() => parseInterchange(JSON.stringify({metadata: {interchange_format_version: "4", genesis_validators_root: GVR}, data: []}))).toThrow(/"5"/);
    expect(() =>
      parseInterchange(JSON.stringify({metadata: {interchange_format_version: "5", genesis_validators_root: GVR}, data: [{pubkey: PK, signed_blocks: [{slot: 5}]}]}))
    ).toThrow(/signed_blocks\[0\]\.slot must be a decimal uint64 string/);
    expect(() =>
      parseInterchange(JSON.stringify({metadata: {interchange_format_version: "5", genesis_validators_root: GVR}, data: [{pubkey: PK, signed_blocks: [{slot: "18446744073709551616"}]}]}))
    ).toThrow(/slot must be a decimal uint64 string/);
    expect(slashingDbPath("sqlite:/tmp/x.db")).toBe("/tmp/x.db");
    expect(() => slashingDbPath("postgres://db/x")).toThrow(/PostgreSQL is not supported yet/);
    expect(() => slashingDbPath("mysql://x")).toThrow(/expected sqlite:PATH/);
  });
});

type Vector = {name: string; request: Record<string, any>; pubkey: string};
const vectors: Vector[] = JSON.parse(readFileSync(vectorsPath, "utf8"));
const attestation = (source: number, target: number, blockRoot = "0x" + "11".repeat(32)) => {
  const r = structuredClone(vectors.find((v) => v.name === "web3signer: ATTESTATION")!.request);
  Object.assign(r.attestation, {beacon_block_root: blockRoot, source: {epoch: String(source), root: r.attestation.source.root}, target: {epoch: String(target), root: r.attestation.target.root}});
  return r;
};
const blockAt = (slot: number, bodyRoot: string) => {
  const r = structuredClone(vectors.find((v) => v.name === "web3signer: BLOCK_V2 (DENEB)")!.request);
  Object.assign(r.beacon_block.block_header, {slot: String(slot), body_root: bodyRoot});
  return r;
};

describe("a signer with --slashing-protection", () => {
  it("answers 412 for slashable requests, even racing on both workers, and remembers across restarts", async () => {
    const db = dbFile();
    let s = await startTestSigner({network: "minimal", interopKeys: "2", slashingProtection: `sqlite:${db}`});
    const pk = s.signer.keys.publicKeys()[0];
    try {
      expect((await sign(s.url, pk, attestation(1, 2))).status).toBe(200);
      expect((await sign(s.url, pk, attestation(1, 2))).status).toBe(200); // the same vote again
      const double = await sign(s.url, pk, attestation(1, 2, "0x" + "22".repeat(32)));
      expect([double.status, double.json().message]).toEqual([412, expect.stringMatching(/^refused by slashing protection: a different attestation/)]);
      expect((await sign(s.url, pk, blockAt(100, "0x" + "aa".repeat(32)))).status).toBe(200);
      expect((await sign(s.url, pk, blockAt(100, "0x" + "bb".repeat(32)))).status).toBe(412);
      // Types slashing protection does not cover still sign.
      const randao = vectors.find((v) => v.name === "web3signer: RANDAO_REVEAL")!.request;
      expect((await sign(s.url, pk, randao)).status).toBe(200);

      // 40 different votes for one target at once, spread over both workers: exactly one signs.
      const race = await Promise.all(Array.from({length: 40}, (_, i) => sign(s.url, pk, attestation(5, 6, root(1000 + i)))));
      expect(race.filter((r) => r.status === 200)).toHaveLength(1);
      expect(race.filter((r) => r.status === 412)).toHaveLength(39);
      const metrics = await (await fetch(s.metricsUrl)).text();
      expect(metrics).toMatch(/ts3signer_sign_requests_total\{type="ATTESTATION",status="412"\} 40/);

      await s.close();
      s = await startTestSigner({network: "minimal", interopKeys: "2", slashingProtection: `sqlite:${db}`});
      expect((await sign(s.url, pk, attestation(1, 2, "0x" + "33".repeat(32)))).status).toBe(412);
      expect((await sign(s.url, pk, attestation(6, 7))).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("imports history with keystores and exports it on delete (Keymanager API)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ts3signer-km-slashing-"));
    const s = await startTestSigner({network: "minimal", dataDir, slashingProtection: `sqlite:${dbFile()}`});
    try {
      const token = readFileSync(join(dataDir, "api-token.txt"), "utf8").trim();
      const headers = {authorization: `Bearer ${token}`, "content-type": "application/json"};
      const secret = interopSecretKey(30);
      const pubkeyBytes = SecretKey.fromBytes(secret).toPublicKey().toBytes();
      const pubkey = "0x" + Buffer.from(pubkeyBytes).toString("hex");
      const kdf = {function: "pbkdf2", params: {dklen: 32, c: 1024, prf: "hmac-sha256", salt: "00".repeat(32)}, message: ""};
      const keystore = JSON.stringify(await encryptKeystore(secret, pubkeyBytes, "pw", kdf as never, Buffer.alloc(16, 1)));
      const gvr = attestation(0, 0).fork_info.genesis_validators_root;
      const history = {
        metadata: {interchange_format_version: "5", genesis_validators_root: gvr},
        data: [{pubkey, signed_blocks: [], signed_attestations: [{source_epoch: "50", target_epoch: "60"}]}],
      };
      const bad = await request(`${s.url}/eth/v1/keystores`, {method: "POST", headers, body: JSON.stringify({keystores: [keystore], passwords: ["pw"], slashing_protection: "{}"})});
      expect([bad.status, bad.json().message]).toEqual([400, expect.stringMatching(/^slashing_protection: metadata.interchange_format_version/)]);
      expect((await sign(s.url, pubkey, attestation(1, 2))).status).toBe(404); // nothing was imported

      const ok = await request(`${s.url}/eth/v1/keystores`, {
        method: "POST",
        headers,
        body: JSON.stringify({keystores: [keystore], passwords: ["pw"], slashing_protection: JSON.stringify(history)}),
      });
      expect(ok.json().data).toEqual([{status: "imported"}]);
      expect((await sign(s.url, pubkey, attestation(40, 59))).status).toBe(412); // below the imported history
      expect((await sign(s.url, pubkey, attestation(60, 61))).status).toBe(200);

      const deleted = (await request(`${s.url}/eth/v1/keystores`, {method: "DELETE", headers, body: JSON.stringify({pubkeys: [pubkey]})})).json();
      expect(deleted.data).toEqual([{status: "deleted"}]);
      const exported = JSON.parse(deleted.slashing_protection);
      expect(exported.metadata.genesis_validators_root).toBe(gvr);
      expect(exported.data[0].signed_attestations.map((a: {target_epoch: string}) => a.target_epoch)).toEqual(["60", "61"]);
      // Deleted but remembered: a second delete reports its history as not active.
      const again = (await request(`${s.url}/eth/v1/keystores`, {method: "DELETE", headers, body: JSON.stringify({pubkeys: [pubkey]})})).json();
      expect(again.data).toEqual([{status: "not_active"}]);
      expect(JSON.parse(again.slashing_protection).data[0].signed_attestations).toHaveLength(2);
    } finally {
      await s.close();
    }
  });
});

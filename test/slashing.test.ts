import {spawn} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {SecretKey} from "@chainsafe/blst";
import Database from "better-sqlite3";
import pg from "pg";
import {afterAll, describe, expect, it} from "vitest";
import {encryptKeystore} from "../src/keys/eip2335.js";
import {interopSecretKey} from "../src/keys/interop.js";
import {parseInterchange} from "../src/slashing/interchange.js";
import {SCHEMA} from "../src/slashing/rules.js";
import {parseSlashingUrl, redactUrl, SlashingStore} from "../src/slashing/store.js";
import {startTestPostgres} from "./helpers/postgres.js";
import {request, sign, startTestSigner, vectorsPath} from "./helpers/signer.js";

const MAX = 2n ** 64n - 1n;
const GVR = "0x" + "42".repeat(32);
const PK = "0x" + "a1".repeat(48);
const root = (n: number) => "0x" + n.toString(16).padStart(64, "0");
const dbFile = () => join(mkdtempSync(join(tmpdir(), "ts3signer-slashing-")), "slashing.sqlite");
const block = (slot: bigint) => ({kind: "block" as const, genesisValidatorsRoot: GVR, slot});
const vote = (source: bigint, target: bigint) => ({kind: "attestation" as const, genesisValidatorsRoot: GVR, source, target});

// Every test runs on both stores; PostgreSQL where the machine has its server binaries.
const postgres = startTestPostgres();
afterAll(() => ("stop" in postgres ? postgres.stop() : undefined));
if ("unavailable" in postgres) console.warn(`PostgreSQL slashing protection tests skipped: ${postgres.unavailable}`);
const backends = [
  {name: "SQLite", available: true, url: async () => `sqlite:${dbFile()}`},
  {
    name: "PostgreSQL",
    available: "createDatabase" in postgres,
    url: () => (postgres as {createDatabase(): Promise<string>}).createDatabase(),
  },
];
/** check() of one request, as the workers call it (a batch of one). */
const checker =
  (store: SlashingStore) => async (pubkey: string, check: Parameters<SlashingStore["checkBatch"]>[0][0]["check"], signingRoot: string) =>
    (await store.checkBatch([{pubkey, check, signingRoot}]))[0];

describe.each(backends)("slashing protection rules (EIP-3076), $name", ({available, url}) => {
  it.runIf(available)("blocks: refuses a second block at a slot and anything at or below the lowest slot; allows a repeat", async () => {
    const store = await SlashingStore.open(await url(), {setUp: true});
    const check = checker(store);
    try {
      expect(await check(PK, block(100n), root(1))).toBeNull();
      expect(await check(PK, block(100n), root(1))).toBeNull(); // the same block again
      expect(await check(PK, block(100n), root(2))).toMatch(/a different block was already signed at slot 100/);
      expect(await check(PK, block(99n), root(3))).toMatch(/slot 99 is not above the lowest signed slot 100/);
      expect(await check(PK, block(101n), root(4))).toBeNull();
      expect(await check(PK, block(MAX), root(5))).toBeNull();
      expect(await check(PK, block(0n), root(6))).toMatch(/slot 0 is not above the lowest signed slot 100/);
      // Another key has its own history.
      expect(await check("0x" + "b2".repeat(48), block(100n), root(2))).toBeNull();
    } finally {
      await store.close();
    }
  });

  it.runIf(available)("attestations: refuses double votes, surround votes both ways and the low watermarks; allows a repeat", async () => {
    const store = await SlashingStore.open(await url(), {setUp: true});
    const check = checker(store);
    try {
      expect(await check(PK, vote(10n, 20n), root(1))).toBeNull();
      expect(await check(PK, vote(10n, 20n), root(1))).toBeNull();
      expect(await check(PK, vote(11n, 20n), root(2))).toMatch(/different attestation was already signed for target epoch 20/);
      expect(await check(PK, vote(9n, 21n), root(3))).toMatch(/surround vote with the signed attestation 10 → 20/);
      expect(await check(PK, vote(12n, 19n), root(4))).toMatch(/surround vote/);
      expect(await check(PK, vote(9n, 25n), root(5))).toMatch(/surround vote/);
      expect(await check(PK, vote(5n, 8n), root(6))).toMatch(/source epoch 5 is below the lowest signed source 10/);
      expect(await check(PK, vote(21n, 20n), root(7))).toMatch(/source epoch 21 is after target epoch 20/);
      expect(await check(PK, vote(20n, 30n), root(8))).toBeNull();
      expect(await check(PK, vote(MAX - 1n, MAX), root(9))).toBeNull();
      // A batch is checked in order: its second vote sees the first.
      const batch = [
        {pubkey: PK, check: vote(30n, 40n), signingRoot: root(10)},
        {pubkey: PK, check: vote(31n, 40n), signingRoot: root(11)},
      ];
      expect(await store.checkBatch(batch)).toEqual([
        null,
        expect.stringMatching(/different attestation was already signed for target epoch 40/),
      ]);
    } finally {
      await store.close();
    }
  });

  it.runIf(available)("imports an interchange document, then refuses what it rules out, and exports it back", async () => {
    const store = await SlashingStore.open(await url(), {setUp: true});
    const check = checker(store);
    const doc = parseInterchange(
      JSON.stringify({
        metadata: {interchange_format_version: "5", genesis_validators_root: GVR},
        data: [
          {
            pubkey: PK,
            signed_blocks: [{slot: "500"}],
            signed_attestations: [{source_epoch: "40", target_epoch: "41", signing_root: root(7)}],
          },
        ],
      })
    );
    try {
      await store.importInterchange(doc);
      expect(await check(PK, block(500n), root(1))).toMatch(/already signed at slot 500/); // no root imported: never a repeat
      expect(await check(PK, block(400n), root(1))).toMatch(/not above the lowest signed slot 500/);
      expect(await check(PK, vote(40n, 41n), root(7))).toBeNull(); // a repeat of the imported vote
      expect(await check(PK, vote(39n, 45n), root(8))).toMatch(/surround/);
      expect(await store.exportInterchange([PK], GVR)).toEqual({
        metadata: {interchange_format_version: "5", genesis_validators_root: GVR},
        data: [
          {
            pubkey: PK,
            signed_blocks: [{slot: "500"}],
            signed_attestations: [{source_epoch: "40", target_epoch: "41", signing_root: root(7)}],
          },
        ],
      });
      expect(await store.hasHistory(PK)).toBe(true);
      expect(await store.hasHistory("0x" + "c3".repeat(48))).toBe(false);
      expect(await store.genesisValidatorsRoot()).toBe(GVR);
    } finally {
      await store.close();
    }
  });

  it.runIf(available)("merges imports: the same document twice stores each record once", async () => {
    const store = await SlashingStore.open(await url(), {setUp: true});
    const doc = interchange([
      PK,
      [{slot: "5"}, {slot: "6", signing_root: root(6)}],
      [
        {source_epoch: "1", target_epoch: "2"},
        {source_epoch: "2", target_epoch: "3", signing_root: root(3)},
      ],
    ]);
    try {
      expect(await store.importInterchange(doc)).toEqual(new Map());
      expect(await store.importInterchange(doc)).toEqual(new Map()); // nothing new, nothing slashable
      expect(await store.exportInterchange([PK], GVR)).toEqual(doc);
    } finally {
      await store.close();
    }
  });

  it.runIf(available)(
    "keeps every record of a slashable document, reports it per key, and signs nothing that conflicts with it",
    async () => {
      const store = await SlashingStore.open(await url(), {setUp: true});
      const check = checker(store);
      const [PK2, PK3] = ["0x" + "b2".repeat(48), "0x" + "c3".repeat(48)];
      try {
        await store.importInterchange(
          interchange([PK, [{slot: "10", signing_root: root(1)}], [{source_epoch: "3", target_epoch: "4", signing_root: root(2)}]])
        );
        const report = await store.importInterchange(
          interchange(
            [PK, [{slot: "10", signing_root: root(9)}], [{source_epoch: "2", target_epoch: "5"}]], // a second block at 10; 2 → 5 surrounds 3 → 4
            [
              PK2,
              [],
              [
                {source_epoch: "12", target_epoch: "11"},
                {source_epoch: "1", target_epoch: "9", signing_root: root(1)},
                {source_epoch: "2", target_epoch: "9", signing_root: root(2)},
              ],
            ],
            [PK3, [{slot: "1"}], [{source_epoch: "1", target_epoch: "2"}]] // clean
          )
        );
        expect(report).toEqual(
          new Map([
            [PK, ["two blocks at slot 10", "attestation 2 → 5 surrounds or is surrounded by 3 → 4"]],
            [PK2, ["an attestation with source epoch 12 after its target epoch 11", "two attestations for target epoch 9"]],
          ])
        );
        // Both blocks at slot 10 were kept: neither signs again there, not even as a repeat.
        expect(await check(PK, block(10n), root(1))).toMatch(/a different block was already signed at slot 10/);
        expect(await check(PK, block(10n), root(9))).toMatch(/a different block was already signed at slot 10/);
        expect(await check(PK2, vote(1n, 9n), root(1))).toMatch(/different attestation was already signed for target epoch 9/);
        expect(await check(PK2, vote(8n, 10n), root(3))).toBeNull();
        expect((await store.exportInterchange([PK], GVR)).data[0].signed_blocks).toEqual([
          {slot: "10", signing_root: root(1)},
          {slot: "10", signing_root: root(9)},
        ]);
      } finally {
        await store.close();
      }
    }
  );

  it.runIf(available)(
    "is bound to one chain: the network's root, else the first one seen; others are refused, naming both roots",
    async () => {
      const OTHER = "0x" + "00".repeat(32);
      const db = await url();
      let store = await SlashingStore.open(db, {setUp: true});
      try {
        expect(await store.genesisValidatorsRoot()).toBeNull();
        expect(await checker(store)(PK, block(1n), root(1))).toBeNull(); // the first request binds it
        expect(await store.genesisValidatorsRoot()).toBe(GVR);
        expect(await checker(store)(PK, {...block(2n), genesisValidatorsRoot: OTHER}, root(2))).toBe(
          `genesis validators root ${OTHER} is not ${GVR}, the chain this database protects`
        );
        const foreign = {
          ...interchange([PK, [{slot: "7"}], []]),
          metadata: {interchange_format_version: "5" as const, genesis_validators_root: OTHER},
        };
        await expect(store.importInterchange(foreign)).rejects.toThrow(
          `slashing_protection: genesis_validators_root ${OTHER} is not ${GVR}, the chain this signer's slashing protection database belongs to`
        );
        expect((await store.exportInterchange([PK], GVR)).data[0].signed_blocks).toEqual([{slot: "1", signing_root: root(1)}]); // nothing of it went in
        await store.close();
        // A signer of another network does not start on it; one of this network does.
        await expect(SlashingStore.open(db, {setUp: true, genesisValidatorsRoot: OTHER})).rejects.toThrow(
          `--slashing-protection: the database belongs to the chain with genesis validators root ${GVR}, not this network's ${OTHER}`
        );
        store = await SlashingStore.open(db, {setUp: true, genesisValidatorsRoot: GVR});
        // An unbound database takes the network's root at start, before anything is seen.
        const fresh = await SlashingStore.open(await url(), {setUp: true, genesisValidatorsRoot: OTHER});
        expect(await fresh.genesisValidatorsRoot()).toBe(OTHER);
        await expect(fresh.importInterchange(interchange([PK, [], []]))).rejects.toThrow(/genesis_validators_root 0x4242.* is not 0x0000/);
        await fresh.close();
      } finally {
        await store.close();
      }
    }
  );
});

/** An interchange document of GVR: per key, its blocks and attestations. */
function interchange(
  ...keys: [string, {slot: string; signing_root?: string}[], {source_epoch: string; target_epoch: string; signing_root?: string}[]][]
) {
  return parseInterchange(
    JSON.stringify({
      metadata: {interchange_format_version: "5", genesis_validators_root: GVR},
      data: keys.map(([pubkey, signed_blocks, signed_attestations]) => ({pubkey, signed_blocks, signed_attestations})),
    })
  );
}

describe("slashing protection documents and URLs", () => {
  it("refuses malformed interchange documents and unsupported URLs", () => {
    expect(() => parseInterchange("{")).toThrow(/not JSON/);
    expect(() =>
      parseInterchange(JSON.stringify({metadata: {interchange_format_version: "4", genesis_validators_root: GVR}, data: []}))
    ).toThrow(/"5"/);
    expect(() =>
      parseInterchange(
        JSON.stringify({
          metadata: {interchange_format_version: "5", genesis_validators_root: GVR},
          data: [{pubkey: PK, signed_blocks: [{slot: 5}]}],
        })
      )
    ).toThrow(/signed_blocks\[0\]\.slot must be a decimal uint64 string/);
    expect(() =>
      parseInterchange(
        JSON.stringify({
          metadata: {interchange_format_version: "5", genesis_validators_root: GVR},
          data: [{pubkey: PK, signed_blocks: [{slot: "18446744073709551616"}]}],
        })
      )
    ).toThrow(/slot must be a decimal uint64 string/);
    expect(parseSlashingUrl("sqlite:/tmp/x.db")).toEqual({kind: "sqlite", path: "/tmp/x.db"});
    expect(parseSlashingUrl("postgres://u:pw@db/x")).toEqual({kind: "postgres", url: "postgres://u:pw@db/x"});
    expect(parseSlashingUrl("postgresql://db/x").kind).toBe("postgres");
    expect(() => parseSlashingUrl("mysql://x")).toThrow(/expected sqlite:PATH or postgres:\/\/…/);
    expect(() => parseSlashingUrl("mysql://user:hunter2@x")).toThrow(/mysql:\/\/user:\*\*\*@x/);
    // A password in the URL never reaches a log line or an error.
    expect(redactUrl("postgres://signer:hunter2@db:5432/slashing")).toBe("postgres://signer:***@db:5432/slashing");
    expect(redactUrl("postgres://db/slashing")).toBe("postgres://db/slashing");
  });

  it("refuses to start on a PostgreSQL that cannot be reached, without echoing the password", async () => {
    const error = await SlashingStore.open("postgres://signer:hunter2@127.0.0.1:1/x", {setUp: true}).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/cannot connect to PostgreSQL/);
    expect((error as Error).message).not.toContain("hunter2");
  });
});

type Vector = {name: string; request: Record<string, any>; pubkey: string};
const vectors: Vector[] = JSON.parse(readFileSync(vectorsPath, "utf8"));
const attestation = (source: number, target: number, blockRoot = "0x" + "11".repeat(32)) => {
  const r = structuredClone(vectors.find((v) => v.name === "web3signer: ATTESTATION")!.request);
  Object.assign(r.attestation, {
    beacon_block_root: blockRoot,
    source: {epoch: String(source), root: r.attestation.source.root},
    target: {epoch: String(target), root: r.attestation.target.root},
  });
  return r;
};
const blockAt = (slot: number, bodyRoot: string) => {
  const r = structuredClone(vectors.find((v) => v.name === "web3signer: BLOCK_V2 (DENEB)")!.request);
  Object.assign(r.beacon_block.block_header, {slot: String(slot), body_root: bodyRoot});
  return r;
};

describe.each(backends)("a signer with --slashing-protection, $name", ({available, url}) => {
  it.runIf(available)("answers 412 for slashable requests, even racing on both workers, and remembers across restarts", async () => {
    const db = await url();
    let s = await startTestSigner({network: "minimal", interopKeys: "2", slashingProtection: db});
    const pk = s.signer.keys.publicKeys()[0];
    try {
      const logged = s.lines.join("\n");
      expect(logged).toMatch(/slashing protection on/);
      expect(logged).not.toContain("pg-secret"); // the PostgreSQL URL's password
      expect((await sign(s.url, pk, attestation(1, 2))).status).toBe(200);
      expect((await sign(s.url, pk, attestation(1, 2))).status).toBe(200); // the same vote again
      const double = await sign(s.url, pk, attestation(1, 2, "0x" + "22".repeat(32)));
      expect([double.status, double.json().message]).toEqual([
        412,
        expect.stringMatching(/^refused by slashing protection: a different attestation/),
      ]);
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
      s = await startTestSigner({network: "minimal", interopKeys: "2", slashingProtection: db});
      expect((await sign(s.url, pk, attestation(1, 2, "0x" + "33".repeat(32)))).status).toBe(412);
      expect((await sign(s.url, pk, attestation(6, 7))).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it.runIf(available)("binds a fresh database to the chain of the first requests, even when two chains race for it", async () => {
    const s = await startTestSigner({network: "minimal", interopKeys: "16", slashingProtection: await url()});
    const roots = ["0x" + "a1".repeat(32), "0x" + "b2".repeat(32)];
    try {
      // One vote per key, so nothing but the chain can refuse one; each chain on every other key.
      const replies = await Promise.all(
        s.signer.keys.publicKeys().map(async (pk, i) => {
          const r = attestation(1, 2);
          const gvr = roots[i % 2];
          return {gvr, reply: await sign(s.url, pk, {...r, fork_info: {...r.fork_info, genesis_validators_root: gvr}})};
        })
      );
      const winner = replies.find(({reply}) => reply.status === 200)!.gvr;
      const loser = roots.find((r) => r !== winner)!;
      for (const {gvr, reply} of replies) {
        if (gvr === winner) expect(reply.status).toBe(200);
        else
          expect([reply.status, reply.json().message]).toEqual([
            412,
            `refused by slashing protection: genesis validators root ${loser} is not ${winner}, the chain this database protects`,
          ]);
      }
    } finally {
      await s.close();
    }
  });

  it.runIf(available)("imports history with keystores and exports it on delete (Keymanager API)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ts3signer-km-slashing-"));
    const s = await startTestSigner({network: "minimal", dataDir, slashingProtection: await url()});
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
      const bad = await request(`${s.url}/eth/v1/keystores`, {
        method: "POST",
        headers,
        body: JSON.stringify({keystores: [keystore], passwords: ["pw"], slashing_protection: "{}"}),
      });
      expect([bad.status, bad.json().message]).toEqual([
        400,
        expect.stringMatching(/^slashing_protection: metadata.interchange_format_version/),
      ]);
      expect((await sign(s.url, pubkey, attestation(1, 2))).status).toBe(404); // nothing was imported

      const ok = await request(`${s.url}/eth/v1/keystores`, {
        method: "POST",
        headers,
        body: JSON.stringify({keystores: [keystore], passwords: ["pw"], slashing_protection: JSON.stringify(history)}),
      });
      expect(ok.json().data).toEqual([{status: "imported"}]);
      expect((await sign(s.url, pubkey, attestation(40, 59))).status).toBe(412); // below the imported history
      expect((await sign(s.url, pubkey, attestation(60, 61))).status).toBe(200);

      const deleted = (
        await request(`${s.url}/eth/v1/keystores`, {method: "DELETE", headers, body: JSON.stringify({pubkeys: [pubkey]})})
      ).json();
      expect(deleted.data).toEqual([{status: "deleted"}]);
      const exported = JSON.parse(deleted.slashing_protection);
      expect(exported.metadata.genesis_validators_root).toBe(gvr);
      expect(exported.data[0].signed_attestations.map((a: {target_epoch: string}) => a.target_epoch)).toEqual(["60", "61"]);
      // Deleted but remembered: a second delete reports its history as not active.
      const again = (
        await request(`${s.url}/eth/v1/keystores`, {method: "DELETE", headers, body: JSON.stringify({pubkeys: [pubkey]})})
      ).json();
      expect(again.data).toEqual([{status: "not_active"}]);
      expect(JSON.parse(again.slashing_protection).data[0].signed_attestations).toHaveLength(2);
    } finally {
      await s.close();
    }
  });
});

describe("a Keymanager DELETE that fails deletes nothing", () => {
  it.runIf("createDatabase" in postgres)(
    "PostgreSQL: the history export times out behind another connection's lock, and the key is as it was",
    async () => {
      const url = await (postgres as {createDatabase(): Promise<string>}).createDatabase();
      const dataDir = mkdtempSync(join(tmpdir(), "ts3signer-km-delete-"));
      const s = await startTestSigner({network: "minimal", dataDir, slashingProtection: url});
      const locker = new pg.Client({connectionString: url});
      await locker.connect();
      try {
        const headers = {
          authorization: `Bearer ${readFileSync(join(dataDir, "api-token.txt"), "utf8").trim()}`,
          "content-type": "application/json",
        };
        const keystores = (method: string, body?: object) =>
          request(`${s.url}/eth/v1/keystores`, {method, headers, body: body && JSON.stringify(body)});
        const {pubkey, keystore} = await keystoreOf(32, "pw");
        expect((await keystores("POST", {keystores: [keystore], passwords: ["pw"]})).json().data).toEqual([{status: "imported"}]);
        expect((await sign(s.url, pubkey, attestation(1, 2))).status).toBe(200);

        // Marking the key inactive succeeds; exporting its history then waits for the lock and times out.
        await locker.query("BEGIN");
        await locker.query("LOCK TABLE signed_blocks IN ACCESS EXCLUSIVE MODE");
        const failed = await keystores("DELETE", {pubkeys: [pubkey]});
        expect([failed.status, failed.json().message]).toEqual([503, expect.stringMatching(/^slashing protection database unavailable/)]);
        await locker.query("ROLLBACK");

        // Nothing was deleted: listed, its files in the data dir, and it still signs attestations.
        expect((await keystores("GET")).json().data.map((k: {validating_pubkey: string}) => k.validating_pubkey)).toContain(pubkey);
        expect(existsSync(join(dataDir, "keystores", `${pubkey}.json`))).toBe(true);
        const vote = await sign(s.url, pubkey, attestation(2, 3));
        expect(vote.status, vote.text).toBe(200);

        const deleted = (await keystores("DELETE", {pubkeys: [pubkey]})).json();
        expect(deleted.data).toEqual([{status: "deleted"}]);
        expect(
          JSON.parse(deleted.slashing_protection).data[0].signed_attestations.map((a: {target_epoch: string}) => a.target_epoch)
        ).toEqual(["2", "3"]);
      } finally {
        await locker.end();
        await s.close();
      }
    }
  );
});

/** An EIP-2335 keystore of interop key `index` (cheap pbkdf2) and its public key. */
async function keystoreOf(index: number, password: string) {
  const secret = interopSecretKey(index);
  const pubkeyBytes = SecretKey.fromBytes(secret).toPublicKey().toBytes();
  const kdf = {function: "pbkdf2", params: {dklen: 32, c: 1024, prf: "hmac-sha256", salt: "00".repeat(32)}, message: ""};
  return {
    pubkey: "0x" + Buffer.from(pubkeyBytes).toString("hex"),
    keystore: JSON.stringify(await encryptKeystore(secret, pubkeyBytes, password, kdf as never, Buffer.alloc(16, 1))),
  };
}

const MAINNET_GVR = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";
const onMainnet = (r: Record<string, any>) => ({...r, fork_info: {...r.fork_info, genesis_validators_root: MAINNET_GVR}});

describe.each(backends)("Keymanager imports of slashing protection history, $name", ({available, url}) => {
  it.runIf(available)(
    "refuses another chain's history; keeps and reports a slashable one; a keystore that fails still leaves its history binding",
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "ts3signer-km-chain-"));
      const s = await startTestSigner({network: "mainnet", dataDir, slashingProtection: await url()});
      const headers = {
        authorization: `Bearer ${readFileSync(join(dataDir, "api-token.txt"), "utf8").trim()}`,
        "content-type": "application/json",
      };
      const post = (body: object) => request(`${s.url}/eth/v1/keystores`, {method: "POST", headers, body: JSON.stringify(body)});
      const history = (gvr: string, pubkey: string, signed_blocks: object[], signed_attestations: object[]) =>
        JSON.stringify({
          metadata: {interchange_format_version: "5", genesis_validators_root: gvr},
          data: [{pubkey, signed_blocks, signed_attestations}],
        });
      const [x, y] = [await keystoreOf(31, "pw"), await keystoreOf(32, "pw")];
      try {
        // Another network's history: refused whole, naming both roots; the key is not imported.
        const otherGvr = attestation(0, 0).fork_info.genesis_validators_root;
        const foreign = await post({
          keystores: [x.keystore],
          passwords: ["pw"],
          slashing_protection: history(otherGvr, x.pubkey, [], [{source_epoch: "1", target_epoch: "2"}]),
        });
        expect([foreign.status, foreign.json().message]).toEqual([
          400,
          `slashing_protection: genesis_validators_root ${otherGvr} is not ${MAINNET_GVR}, the chain this signer's slashing protection database belongs to`,
        ]);
        expect((await sign(s.url, x.pubkey, onMainnet(attestation(1, 2)))).status).toBe(404);

        // A wrong password: the key is not imported, but its history is, and binds it when it comes.
        const failed = await post({
          keystores: [x.keystore],
          passwords: ["wrong"],
          slashing_protection: history(MAINNET_GVR, x.pubkey, [], [{source_epoch: "50", target_epoch: "60"}]),
        });
        expect(failed.json().data).toEqual([{status: "error", message: expect.stringMatching(/wrong password/)}]);
        expect((await post({keystores: [x.keystore], passwords: ["pw"]})).json().data).toEqual([{status: "imported"}]);
        const below = await sign(s.url, x.pubkey, onMainnet(attestation(40, 59)));
        expect([below.status, below.json().message]).toEqual([
          412,
          expect.stringMatching(/^refused by slashing protection: source epoch 40 is below the lowest signed source 50/),
        ]);
        expect((await sign(s.url, x.pubkey, onMainnet(attestation(60, 61)))).status).toBe(200);
        // A request of another chain is refused for the same reason, naming both roots.
        const otherChain = await sign(s.url, x.pubkey, attestation(61, 62));
        expect([otherChain.status, otherChain.json().message]).toEqual([
          412,
          `refused by slashing protection: genesis validators root ${otherGvr} is not ${MAINNET_GVR}, the chain this database protects`,
        ]);

        // A slashable history is imported whole; the answer and a warning name what is wrong.
        const twoBlocks = [
          {slot: "10", signing_root: root(1)},
          {slot: "10", signing_root: root(2)},
        ];
        const slashable = await post({
          keystores: [y.keystore],
          passwords: ["pw"],
          slashing_protection: history(MAINNET_GVR, y.pubkey, twoBlocks, []),
        });
        expect(slashable.json().data).toEqual([
          {
            status: "imported",
            message:
              "its slashing protection history is slashable (two blocks at slot 10); all of it was kept, so nothing conflicting with it will be signed",
          },
        ]);
        const warning = s.lines.map((l) => JSON.parse(l)).find((l) => /history is slashable/.test(l.msg));
        expect(warning).toMatchObject({level: "warn", pubkey: y.pubkey, findings: ["two blocks at slot 10"]});
        expect((await sign(s.url, y.pubkey, onMainnet(blockAt(10, "0x" + "aa".repeat(32))))).status).toBe(412);
        expect((await sign(s.url, y.pubkey, onMainnet(blockAt(11, "0x" + "aa".repeat(32))))).status).toBe(200);
      } finally {
        await s.close();
      }
    }
  );

  it.runIf(available)("never records a request under a key that took the slot of its deleted key while it waited", async () => {
    const s = await startTestSigner({network: "minimal", interopKeys: "1", slashingProtection: await url()});
    try {
      const a = s.signer.keys.publicKeys()[0];
      const stale = s.signer.keys.get(a)!; // the slot and state a request for key a is queued with
      s.signer.keys.remove(a);
      const b = SecretKey.fromBytes(interopSecretKey(7));
      s.signer.keys.add(b.toPublicKey().toBytes(), interopSecretKey(7), {source: "test", readonly: false});
      const bHex = "0x" + Buffer.from(b.toPublicKey().toBytes()).toString("hex");
      expect(s.signer.keys.get(bHex)!.slot).toBe(stale.slot);
      // a's request reaches a worker only now: no key is there for it any more.
      const result = await s.signer.pool.sign(stale, Buffer.from(JSON.stringify(attestation(1, 2))));
      expect(result).toMatchObject({code: "UNKNOWN_KEY"});
      // Nothing was recorded under b: its own vote for the same epochs signs.
      expect((await sign(s.url, bHex, attestation(1, 2, "0x" + "77".repeat(32)))).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe("SQLite slashing protection failures", () => {
  it("answers 503 once the database is full, and every signature given is recorded", async () => {
    // A database with its tables, then a signer that may not grow any file past 32 KiB (ulimit -f;
    // SIGXFSZ ignored, so a write past it fails): its first commits fit, later ones fail.
    const path = dbFile();
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.exec(SCHEMA);
    db.close();
    const cli = new URL("../dist/src/cli.js", import.meta.url).pathname;
    const args = [
      cli,
      "--network",
      "minimal",
      "--interop-keys",
      "1",
      "--workers",
      "1",
      "--port",
      "0",
      "--metrics-port",
      "0",
      "--log-format",
      "json",
      "--slashing-protection",
      `sqlite:${path}`,
    ];
    const child = spawn("bash", ["-c", 'trap "" XFSZ; ulimit -f 64; exec "$0" "$@"', process.execPath, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", () => /ready with/.test(output) && resolve());
        child.on("exit", (code) => reject(new Error(`exited ${code}:\n${output}`)));
      });
      const base = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]}`;
      const pk = (await request(`${base}/api/v1/eth2/publicKeys`)).json()[0];
      const answers = new Map<number, number>();
      for (let target = 2; target <= 16; target++) {
        const reply = await sign(base, pk, attestation(target - 1, target));
        answers.set(target, reply.status);
        if (reply.status === 503) expect(reply.json().message).toMatch(/^slashing protection database unavailable: /);
      }
      const statuses = [...answers.values()];
      expect(statuses.every((st) => st === 200 || st === 503)).toBe(true);
      expect(statuses).toContain(200);
      expect(statuses).toContain(503);
      // Requests slashing protection does not cover still sign.
      expect((await sign(base, pk, vectors.find((v) => v.name === "web3signer: RANDAO_REVEAL")!.request)).status).toBe(200);
      child.kill("SIGTERM");
      await exited;
      // Exactly the votes that were signed are in the database.
      const store = await SlashingStore.open(`sqlite:${path}`);
      const recorded = (await store.exportInterchange([pk], attestation(0, 0).fork_info.genesis_validators_root)).data[0]
        .signed_attestations;
      await store.close();
      expect(recorded.map((a) => Number(a.target_epoch))).toEqual([...answers].filter(([, st]) => st === 200).map(([target]) => target));
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe.runIf("createDatabase" in postgres)("PostgreSQL slashing protection", () => {
  it("survives the database dropping its connections: 503 at worst, then signing again", async () => {
    const url = await (postgres as {createDatabase(): Promise<string>}).createDatabase();
    const s = await startTestSigner({network: "minimal", interopKeys: "1", slashingProtection: url});
    const pk = s.signer.keys.publicKeys()[0];
    const admin = new pg.Client({connectionString: url});
    await admin.connect();
    try {
      expect((await sign(s.url, pk, attestation(1, 2))).status).toBe(200);
      const {rowCount} = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
      );
      expect(rowCount).toBeGreaterThanOrEqual(2); // the main thread's and the workers' connections
      const statuses: number[] = [];
      for (let target = 3; target < 9; target++) statuses.push((await sign(s.url, pk, attestation(target - 1, target))).status);
      expect(statuses.every((st) => st === 200 || st === 503)).toBe(true);
      expect(statuses.at(-1)).toBe(200);
      // What was signed before the drop still binds.
      const double = await sign(s.url, pk, attestation(1, 2, "0x" + "44".repeat(32)));
      expect(double.status).toBe(412);
    } finally {
      await admin.end();
      await s.close();
    }
  });
});

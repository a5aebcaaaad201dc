/**
 * Slashing protection on long histories: the indexed checks (src/slashing/rules.ts,
 * surroundAmongNeighbours) against a brute-force reference that scans every record, over random
 * histories of thousands of records, on both stores; and a database of the schema before them.
 */
import {spawnSync} from "node:child_process";
import {mkdtempSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import {afterAll, describe, expect, it} from "vitest";
import type {Interchange} from "../src/slashing/interchange.js";
import {SlashingStore} from "../src/slashing/store.js";
import {startTestPostgres} from "./helpers/postgres.js";

const GVR = "0x" + "42".repeat(32);
const pubkey = (n: number) => "0x" + n.toString(16).padStart(96, "0");
const rootOf = (n: number) => "0x" + n.toString(16).padStart(64, "0");

const postgres = startTestPostgres();
afterAll(() => ("stop" in postgres ? postgres.stop() : undefined));
const backends = [
  {
    name: "SQLite",
    available: true,
    url: async () => `sqlite:${join(mkdtempSync(join(tmpdir(), "ts3signer-history-")), "slashing.sqlite")}`,
  },
  {name: "PostgreSQL", available: "createSchema" in postgres, url: () => (postgres as {createSchema(): Promise<string>}).createSchema()},
];

/** A seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  return (below: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

type Vote = {source: number; target: number; root: string | null};
type Block = {slot: number; root: string | null};

/** EIP-3076 over a key's whole record, by scanning it: what the indexed stores must agree with. */
class Reference {
  votes: Vote[] = [];
  blocks: Block[] = [];

  /** Whether a vote may be signed; if so it is recorded (a repeat is not recorded again) unless `record` is false. */
  attest(source: number, target: number, root: string, record = true): boolean {
    if (source > target) return false;
    const atTarget = this.votes.filter((v) => v.target === target);
    if (atTarget.length) return atTarget.every((v) => v.root === root);
    if (this.votes.some((v) => (v.source < source && v.target > target) || (v.source > source && v.target < target))) return false;
    if (
      this.votes.length &&
      (source < Math.min(...this.votes.map((v) => v.source)) || target <= Math.min(...this.votes.map((v) => v.target)))
    )
      return false;
    if (record) this.votes.push({source, target, root});
    return true;
  }

  propose(slot: number, root: string): boolean {
    const atSlot = this.blocks.filter((b) => b.slot === slot);
    if (atSlot.length) return atSlot.every((b) => b.root === root);
    if (this.blocks.length && slot <= Math.min(...this.blocks.map((b) => b.slot))) return false;
    this.blocks.push({slot, root});
    return true;
  }

  /** Merges imported records (the same record twice is one); whether any new one is slashable. */
  merge(votes: Vote[], blocks: Block[]): boolean {
    let slashable = false;
    for (const b of blocks) {
      if (this.blocks.some((o) => o.slot === b.slot && o.root === b.root)) continue;
      if (this.blocks.some((o) => o.slot === b.slot)) slashable = true;
      this.blocks.push(b);
    }
    for (const v of votes) {
      if (this.votes.some((o) => o.source === v.source && o.target === v.target && o.root === v.root)) continue;
      const conflicts = this.votes.some(
        (o) => o.target === v.target || (o.source < v.source && o.target > v.target) || (o.source > v.source && o.target < v.target)
      );
      if (conflicts || v.source > v.target) slashable = true;
      this.votes.push(v);
    }
    return slashable;
  }
}

const interchange = (pk: string, votes: Vote[], blocks: Block[]): Interchange => ({
  metadata: {interchange_format_version: "5", genesis_validators_root: GVR},
  data: [
    {
      pubkey: pk,
      signed_blocks: blocks.map((b) => ({slot: String(b.slot), ...(b.root ? {signing_root: b.root} : {})})),
      signed_attestations: votes.map((v) => ({
        source_epoch: String(v.source),
        target_epoch: String(v.target),
        ...(v.root ? {signing_root: v.root} : {}),
      })),
    },
  ],
});

/** A history as a validator signs it: targets rising by 1–3, sources a little behind, some repeats of a source. */
function cleanHistory(next: (n: number) => number, count: number, start: number): Vote[] {
  const votes: Vote[] = [];
  let [source, target] = [start, start + 1];
  for (let i = 0; i < count; i++) {
    votes.push({source, target, root: next(4) ? rootOf(target) : null});
    target += 1 + next(3);
    if (next(3)) source = Math.min(target - 1, source + 1 + next(3));
  }
  return votes;
}

/** Records with every kind of conflict: overlapping spans, double votes, source after target. */
function tangledHistory(next: (n: number) => number, count: number, span: number): Vote[] {
  return Array.from({length: count}, () => {
    const source = next(span);
    const target = next(5) ? source + next(40) : Math.max(0, source - 1 - next(3));
    return {source, target, root: next(4) ? rootOf(next(1e6)) : null};
  });
}

describe.each(backends)("slashing protection on long histories agrees with a brute-force reference, $name", ({available, url}) => {
  it.runIf(available)(
    "signs and refuses votes and blocks exactly as a scan of the whole record would, on clean and slashable imported histories",
    async () => {
      const next = random(3076);
      const store = await SlashingStore.open(await url(), {setUp: true, genesisValidatorsRoot: GVR});
      try {
        const keys = [
          // A long clean history, as a validator signs it: every check takes the indexed path, and
          // its import is merged in two parts (src/slashing/store.ts, IMPORT_BATCH_RECORDS).
          {
            pk: pubkey(1),
            votes: cleanHistory(next, 12_000, 100),
            blocks: Array.from({length: 1000}, (_, i) => ({slot: 1000 + 3 * i, root: rootOf(i)})),
          },
          // A slashable one: its surround checks scan.
          {pk: pubkey(2), votes: tangledHistory(next, 2000, 3000), blocks: []},
          // A clean history imported in two overlapping documents.
          {pk: pubkey(3), votes: cleanHistory(next, 2000, 50), blocks: []},
        ];
        const refs = new Map(keys.map((k) => [k.pk, new Reference()]));
        for (const k of keys) {
          const parts = k.pk === pubkey(3) ? [k.votes.slice(0, 1200), k.votes.slice(1000)] : [k.votes];
          for (const part of parts) {
            const expectedSlashable = refs.get(k.pk)!.merge(part, k.blocks);
            const report = await store.importInterchange(interchange(k.pk, part, k.blocks));
            expect({key: k.pk, slashable: report.has(k.pk)}).toEqual({key: k.pk, slashable: expectedSlashable});
          }
        }
        expect(refs.get(pubkey(1))!.votes).toHaveLength(12_000);

        let signed = 0;
        for (let i = 0; i < 1500; i++) {
          const {pk} = keys[next(keys.length)];
          const ref = refs.get(pk)!;
          const top = Math.max(...ref.votes.map((v) => v.target));
          if (next(5) === 0) {
            const slot = 1000 + next(3200);
            const root = rootOf(next(3));
            const [refusal] = await store.checkBatch([
              {pubkey: pk, check: {kind: "block", genesisValidatorsRoot: GVR, slot: BigInt(slot)}, signingRoot: root},
            ]);
            expect({pk, slot, root, signed: refusal === null}).toEqual({pk, slot, root, signed: ref.propose(slot, root)});
            continue;
          }
          // Mostly near the top, where a validator signs, and anywhere in the record.
          const target = next(2) ? top - 20 + next(40) : next(top + 10);
          const source = Math.max(0, target - next(next(4) ? 4 : 200));
          const root = rootOf(next(2) ? target : next(1e6));
          const [refusal] = await store.checkBatch([
            {
              pubkey: pk,
              check: {kind: "attestation", genesisValidatorsRoot: GVR, source: BigInt(source), target: BigInt(target)},
              signingRoot: root,
            },
          ]);
          const allowed = ref.attest(source, target, root);
          if (allowed) signed++;
          expect({pk, source, target, root, signed: refusal === null}).toEqual({pk, source, target, root, signed: allowed});
        }
        expect(signed).toBeGreaterThan(100); // the run exercised signing as well as refusals
      } finally {
        await store.close();
      }
    },
    120_000
  );
});

describe.each(backends)("pruning, $name", ({available, url}) => {
  it.runIf(available)(
    "never allows what the whole record refuses; leaves a history with a surround vote whole",
    async () => {
      const next = random(2020);
      const store = await SlashingStore.open(await url(), {setUp: true, genesisValidatorsRoot: GVR});
      try {
        const clean = {pk: pubkey(1), votes: cleanHistory(next, 3000, 100)};
        const tangled = {pk: pubkey(2), votes: tangledHistory(next, 1500, 3000)};
        const blocks = Array.from({length: 500}, (_, i) => ({slot: 1000 + 7 * i, root: rootOf(i)}));
        const whole = new Map([clean, tangled].map((k) => [k.pk, new Reference()]));
        for (const k of [clean, tangled]) {
          whole.get(k.pk)!.merge(k.votes, k === clean ? blocks : []);
          await store.importInterchange(interchange(k.pk, k.votes, k === clean ? blocks : []));
        }
        // Why a history with a surround pair is left whole: pruned to 1 → 300 alone, it would allow
        // 2 → 301, which surrounds the pruned 5 → 100.
        const pair = pubkey(3);
        await store.importInterchange(
          interchange(
            pair,
            [
              {source: 1, target: 300, root: null},
              {source: 5, target: 100, root: null},
            ],
            []
          )
        );
        const pruned = await store.prune(100n, 32n);
        expect(
          await store.checkBatch([
            {pubkey: pair, check: {kind: "attestation", genesisValidatorsRoot: GVR, source: 2n, target: 301n}, signingRoot: rootOf(1)},
          ])
        ).toEqual(["surround vote with the signed attestation 5 → 100"]);
        const kept = (await store.exportInterchange([clean.pk, tangled.pk], GVR)).data;
        const top = Math.max(...clean.votes.map((v) => v.target));
        expect(pruned).toEqual({
          keys: 3,
          skipped: 2,
          deleted: 3000 - kept[0].signed_attestations.length + 500 - kept[0].signed_blocks.length,
        });
        expect(Math.min(...kept[0].signed_attestations.map((a) => Number(a.target_epoch)))).toBeGreaterThanOrEqual(top - 100);
        expect(kept[0].signed_attestations.length).toBeLessThan(200);
        expect(kept[0].signed_blocks.map((b) => Number(b.slot))).toEqual(
          blocks.map((b) => b.slot).filter((slot) => slot >= 1000 + 7 * 499 - 3200)
        );
        expect(kept[1].signed_attestations).toHaveLength(whole.get(tangled.pk)!.votes.length); // left whole

        let refusedOnlyByPruning = 0;
        for (let i = 0; i < 800; i++) {
          const k = next(2) ? clean : tangled;
          const ref = whole.get(k.pk)!;
          const highest = Math.max(...ref.votes.map((v) => v.target));
          const target = next(2) ? highest - 150 + next(170) : next(highest + 10);
          const source = Math.max(0, target - next(next(3) ? 4 : 300));
          const root = rootOf(next(2) ? target : next(1e6));
          const [refusal] = await store.checkBatch([
            {
              pubkey: k.pk,
              check: {kind: "attestation", genesisValidatorsRoot: GVR, source: BigInt(source), target: BigInt(target)},
              signingRoot: root,
            },
          ]);
          const what = {pk: k.pk, source, target, root};
          if (refusal === null)
            expect({...what, allowedByWholeRecord: ref.attest(source, target, root)}).toEqual({...what, allowedByWholeRecord: true});
          else if (ref.attest(source, target, root, false)) refusedOnlyByPruning++;
        }
        expect(refusedOnlyByPruning).toBeGreaterThan(0); // pruning raised the watermarks: the cost is liveness, not safety
      } finally {
        await store.close();
      }
    },
    120_000
  );
});

describe("ts3signer prune", () => {
  const cli = new URL("../dist/src/cli.js", import.meta.url).pathname;
  const run = (args: string[]) => spawnSync(process.execPath, [cli, "prune", ...args], {encoding: "utf8"});

  it("prunes a database to the epochs asked for, and says what it did; bad flags exit 2 with the reason", async () => {
    const db = `sqlite:${join(mkdtempSync(join(tmpdir(), "ts3signer-prune-")), "slashing.sqlite")}`;
    let store = await SlashingStore.open(db, {setUp: true});
    await store.importInterchange(
      interchange(
        pubkey(1),
        Array.from({length: 300}, (_, i) => ({source: i, target: i + 1, root: rootOf(i)})),
        [
          {slot: 5, root: null},
          {slot: 200, root: null},
        ]
      )
    );
    await store.close();
    const pruned = run(["--slashing-protection", db, "--epochs-to-keep", "10", "--network", "minimal"]);
    expect([pruned.status, pruned.stdout]).toEqual([
      0,
      "pruned 290 records of 1 keys to their last 10 epochs; 0 keys left whole (a surround vote in their history)\n",
    ]);
    store = await SlashingStore.open(db);
    const [kept] = (await store.exportInterchange([pubkey(1)], GVR)).data;
    await store.close();
    // Targets 290…300 stay; blocks within 10 minimal-preset epochs (80 slots) of slot 200 stay.
    expect(kept.signed_attestations.map((a) => Number(a.target_epoch))).toEqual(Array.from({length: 11}, (_, i) => 290 + i));
    expect(kept.signed_blocks).toEqual([{slot: "200"}]);
    for (const [args, message] of [
      [["--slashing-protection", db, "--epochs-to-keep", "0"], '--epochs-to-keep: expected a positive number of epochs, got "0"'],
      [["--epochs-to-keep", "5"], "--slashing-protection URL is required"],
      [["--slashing-protection", "mysql://x", "--epochs-to-keep", "5"], "--slashing-protection: expected sqlite:PATH or postgres://…"],
    ] as const) {
      const bad = run([...args]);
      expect([bad.status, bad.stderr.split("\n")[0]]).toEqual([2, expect.stringContaining(message)]);
    }
  });
});

describe("a database from before the indexed checks", () => {
  // The tables as the previous schema made them: no surrounded_histories, no schema_version.
  const OLD_SCHEMA = `
    CREATE TABLE signed_blocks (pubkey TEXT NOT NULL, gvr TEXT NOT NULL, slot BIGINT NOT NULL, signing_root TEXT);
    CREATE INDEX signed_blocks_by_slot ON signed_blocks (pubkey, gvr, slot);
    CREATE TABLE signed_attestations (pubkey TEXT NOT NULL, gvr TEXT NOT NULL, source BIGINT NOT NULL, target BIGINT NOT NULL, signing_root TEXT);
    CREATE INDEX signed_attestations_by_target ON signed_attestations (pubkey, gvr, target);
    CREATE TABLE inactive_keys (pubkey TEXT PRIMARY KEY);
    CREATE TABLE genesis (id INTEGER PRIMARY KEY CHECK (id = 1), genesis_validators_root TEXT NOT NULL);`;
  // Epochs as stored: uint64 shifted by 2^63 into the signed column. 1 → 10 surrounds 5 → 6.
  const col = (epoch: number) => (BigInt(epoch) - 2n ** 63n).toString();
  const rows = [
    [1, 10],
    [5, 6],
  ];
  const expectRefusesWhatOnlyAScanFinds = async (store: SlashingStore) => {
    const check = (pk: string, source: bigint, target: bigint) =>
      store.checkBatch([{pubkey: pk, check: {kind: "attestation", genesisValidatorsRoot: GVR, source, target}, signingRoot: rootOf(9)}]);
    // 6 → 8 is surrounded by 1 → 10, but its neighbour by source, 5 → 6, says nothing of that.
    expect(await check(pubkey(1), 6n, 8n)).toEqual([expect.stringMatching(/surround vote with the signed attestation 1 → 10/)]);
    expect(await check(pubkey(1), 6n, 11n)).toEqual([null]);
  };

  it("SQLite: is migrated on open, and a key whose record already holds a surround pair is checked by a scan", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "ts3signer-history-")), "slashing.sqlite");
    const db = new Database(path);
    db.exec(OLD_SCHEMA);
    for (const [s, t] of rows) db.prepare("INSERT INTO signed_attestations VALUES (?, ?, ?, ?, NULL)").run(pubkey(1), GVR, col(s), col(t));
    db.close();
    const store = await SlashingStore.open(`sqlite:${path}`, {setUp: true, genesisValidatorsRoot: GVR});
    try {
      await expectRefusesWhatOnlyAScanFinds(store);
    } finally {
      await store.close();
    }
  });

  it.runIf("createSchema" in postgres)(
    "PostgreSQL: is migrated at start, and a key whose record already holds a surround pair is checked by a scan",
    async () => {
      const url = await (postgres as {createSchema(): Promise<string>}).createSchema();
      const admin = new pg.Client({connectionString: url});
      await admin.connect();
      try {
        await admin.query(OLD_SCHEMA);
        for (const [s, t] of rows)
          await admin.query("INSERT INTO signed_attestations VALUES ($1, $2, $3, $4, NULL)", [pubkey(1), GVR, col(s), col(t)]);
      } finally {
        await admin.end();
      }
      const store = await SlashingStore.open(url, {setUp: true, genesisValidatorsRoot: GVR});
      try {
        await expectRefusesWhatOnlyAScanFinds(store);
      } finally {
        await store.close();
      }
    }
  );
});

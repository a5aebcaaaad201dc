import {createRequire} from "node:module";
import type Database from "better-sqlite3";
import {fromColumn, MIGRATIONS, SCHEMA, type SlashingBackend, type SlashingTables, surroundAmongNeighbours, toColumn} from "./rules.js";

type Epochs = {source: bigint; target: bigint};

/**
 * Slashing protection in an SQLite file (better-sqlite3, an optional dependency). Each thread opens
 * its own connection; WAL mode and IMMEDIATE transactions serialize writers, also across processes.
 */
export function openSqlite(path: string): SlashingBackend {
  let open: typeof Database;
  try {
    open = createRequire(import.meta.url)("better-sqlite3");
  } catch (e) {
    throw new Error(
      `--slashing-protection sqlite: needs the optional dependency better-sqlite3, which did not load: ${(e as Error).message}`
    );
  }
  const db = new open(path);
  db.defaultSafeIntegers(true);
  // A worker waiting for the write lock blocks its thread (better-sqlite3 is synchronous), every
  // request on it included: wait well inside a request's deadline (SLASHING_DEADLINE_MS), not past it.
  // Set first: switching to WAL needs the lock too, and without a timeout fails at once while
  // another connection holds it.
  db.pragma("busy_timeout = 2000");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL"); // a record must be on disk before its signature leaves
  db.exec(SCHEMA);
  migrate(db);
  const p = (sql: string) => db.prepare(sql);
  const q = {
    blocksAtSlot: p("SELECT signing_root AS root FROM signed_blocks WHERE pubkey = ? AND gvr = ? AND slot = ?"),
    minSlot: p("SELECT MIN(slot) AS v FROM signed_blocks WHERE pubkey = ? AND gvr = ?"),
    insertBlock: p("INSERT INTO signed_blocks (pubkey, gvr, slot, signing_root) VALUES (?, ?, ?, ?)"),
    votesForTarget: p("SELECT signing_root AS root FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND target = ?"),
    // See surroundAmongNeighbours: two index lookups, or for a key marked surrounded, a scan.
    below: p(
      "SELECT source, target FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND source < ? ORDER BY source DESC, target DESC LIMIT 1"
    ),
    above: p("SELECT source, target FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND source > ? ORDER BY source, target LIMIT 1"),
    isSurrounded: p("SELECT 1 FROM surrounded_histories WHERE pubkey = ? AND gvr = ?"),
    markSurrounded: p("INSERT INTO surrounded_histories (pubkey, gvr) VALUES (?, ?) ON CONFLICT DO NOTHING"),
    surround: p(
      "SELECT source, target FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND ((source < ? AND target > ?) OR (source > ? AND target < ?)) LIMIT 1"
    ),
    // One MIN per statement: SQLite answers a lone MIN from the index, two in one by a scan.
    minSource: p("SELECT MIN(source) AS v FROM signed_attestations WHERE pubkey = ? AND gvr = ?"),
    minTarget: p("SELECT MIN(target) AS v FROM signed_attestations WHERE pubkey = ? AND gvr = ?"),
    insertAttestation: p("INSERT INTO signed_attestations (pubkey, gvr, source, target, signing_root) VALUES (?, ?, ?, ?, ?)"),
    blocksOf: p("SELECT slot, signing_root AS root FROM signed_blocks WHERE pubkey = ? AND gvr = ? ORDER BY slot"),
    attestationsOf: p("SELECT source, target, signing_root AS root FROM signed_attestations WHERE pubkey = ? AND gvr = ? ORDER BY target"),
    blocksBetween: p("SELECT slot, signing_root AS root FROM signed_blocks WHERE pubkey = ? AND gvr = ? AND slot BETWEEN ? AND ?"),
    bySource: p(
      "SELECT source, target, signing_root AS root FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND source BETWEEN ? AND ?"
    ),
    byTarget: p(
      "SELECT source, target, signing_root AS root FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND target BETWEEN ? AND ?"
    ),
    belowWithRoot: p(
      "SELECT source, target, signing_root AS root FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND source < ? ORDER BY source DESC, target DESC LIMIT 1"
    ),
    aboveWithRoot: p(
      "SELECT source, target, signing_root AS root FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND source > ? ORDER BY source, target LIMIT 1"
    ),
    history: p("SELECT 1 FROM signed_blocks WHERE pubkey = ? UNION ALL SELECT 1 FROM signed_attestations WHERE pubkey = ? LIMIT 1"),
    histories: p("SELECT DISTINCT pubkey, gvr FROM signed_attestations UNION SELECT DISTINCT pubkey, gvr FROM signed_blocks"),
    maxTarget: p("SELECT MAX(target) AS v FROM signed_attestations WHERE pubkey = ? AND gvr = ?"),
    maxSlot: p("SELECT MAX(slot) AS v FROM signed_blocks WHERE pubkey = ? AND gvr = ?"),
    deleteAttestationsBelow: p("DELETE FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND target < ?"),
    deleteBlocksBelow: p("DELETE FROM signed_blocks WHERE pubkey = ? AND gvr = ? AND slot < ?"),
    isInactive: p("SELECT 1 FROM inactive_keys WHERE pubkey = ?"),
    deactivate: p("INSERT INTO inactive_keys (pubkey) VALUES (?) ON CONFLICT DO NOTHING"),
    activate: p("DELETE FROM inactive_keys WHERE pubkey = ?"),
    bindGenesis: p("INSERT INTO genesis (id, genesis_validators_root) VALUES (1, ?) ON CONFLICT (id) DO NOTHING"),
    genesis: p("SELECT genesis_validators_root AS root FROM genesis WHERE id = 1"),
  };
  const orNull = (v: bigint | null) => (v === null ? null : fromColumn(v));
  const tables: SlashingTables = {
    blockHistory: (pk, gvr, slot) => ({
      rootsAtSlot: (q.blocksAtSlot.all(pk, gvr, toColumn(slot)) as {root: string | null}[]).map((r) => r.root),
      lowestSlot: orNull((q.minSlot.get(pk, gvr) as {v: bigint | null}).v),
    }),
    insertBlock: (pk, gvr, slot, root) => void q.insertBlock.run(pk, gvr, toColumn(slot), root),
    attestationHistory: (pk, gvr, source, target) => {
      const [s, t] = [toColumn(source), toColumn(target)];
      const epochs = (row: unknown): Epochs | undefined => {
        const r = row as Epochs | undefined;
        return r && {source: fromColumn(r.source), target: fromColumn(r.target)};
      };
      const surrounding = q.isSurrounded.get(pk, gvr)
        ? epochs(q.surround.get(pk, gvr, s, t, s, t))
        : surroundAmongNeighbours(epochs(q.below.get(pk, gvr, s)), epochs(q.above.get(pk, gvr, s)), target);
      return {
        rootsForTarget: (q.votesForTarget.all(pk, gvr, t) as {root: string | null}[]).map((r) => r.root),
        surrounding,
        lowestSource: orNull((q.minSource.get(pk, gvr) as {v: bigint | null}).v),
        lowestTarget: orNull((q.minTarget.get(pk, gvr) as {v: bigint | null}).v),
      };
    },
    insertAttestation: (pk, gvr, source, target, root) => void q.insertAttestation.run(pk, gvr, toColumn(source), toColumn(target), root),
    blocksBetween: (pk, gvr, low, high) =>
      (q.blocksBetween.all(pk, gvr, toColumn(low), toColumn(high)) as {slot: bigint; root: string | null}[]).map((b) => ({
        slot: fromColumn(b.slot),
        signingRoot: b.root,
      })),
    attestationsNear: (pk, gvr, {sources: [s0, s1], targets: [t0, t1]}) =>
      (
        [
          ...q.bySource.all(pk, gvr, toColumn(s0), toColumn(s1)),
          ...q.byTarget.all(pk, gvr, toColumn(t0), toColumn(t1)),
          ...q.belowWithRoot.all(pk, gvr, toColumn(s0)),
          ...q.aboveWithRoot.all(pk, gvr, toColumn(s1)),
        ] as {source: bigint; target: bigint; root: string | null}[]
      ).map((a) => ({source: fromColumn(a.source), target: fromColumn(a.target), signingRoot: a.root})),
    isSurrounded: (pk, gvr) => q.isSurrounded.get(pk, gvr) !== undefined,
    histories: () => q.histories.all() as {pubkey: string; gvr: string}[],
    highest: (pk, gvr) => ({
      highestTarget: orNull((q.maxTarget.get(pk, gvr) as {v: bigint | null}).v),
      highestSlot: orNull((q.maxSlot.get(pk, gvr) as {v: bigint | null}).v),
    }),
    deleteAttestationsBelow: (pk, gvr, target) => q.deleteAttestationsBelow.run(pk, gvr, toColumn(target)).changes,
    deleteBlocksBelow: (pk, gvr, slot) => q.deleteBlocksBelow.run(pk, gvr, toColumn(slot)).changes,
    blocksOf: (pk, gvr) =>
      (q.blocksOf.all(pk, gvr) as {slot: bigint; root: string | null}[]).map((b) => ({slot: fromColumn(b.slot), signingRoot: b.root})),
    attestationsOf: (pk, gvr) =>
      (q.attestationsOf.all(pk, gvr) as {source: bigint; target: bigint; root: string | null}[]).map((a) => ({
        source: fromColumn(a.source),
        target: fromColumn(a.target),
        signingRoot: a.root,
      })),
    insertBlocks: (pk, gvr, blocks) => {
      for (const b of blocks) q.insertBlock.run(pk, gvr, toColumn(b.slot), b.signingRoot);
    },
    insertAttestations: (pk, gvr, votes) => {
      for (const v of votes) q.insertAttestation.run(pk, gvr, toColumn(v.source), toColumn(v.target), v.signingRoot);
    },
    markSurrounded: (pk, gvr) => void q.markSurrounded.run(pk, gvr),
    hasHistory: (pk) => q.history.get(pk, pk) !== undefined,
    inactiveAmong: (pks) => pks.filter((pk) => q.isInactive.get(pk) !== undefined),
    setInactive: (pks, inactive) => {
      for (const pk of pks) (inactive ? q.deactivate : q.activate).run(pk);
    },
    bindGenesisRoot: (root) => {
      q.bindGenesis.run(root);
      return (q.genesis.get() as {root: string}).root;
    },
    genesisRoot: () => (q.genesis.get() as {root: string} | undefined)?.root ?? null,
  };
  return {
    async transaction(_pubkeys, fn) {
      // IMMEDIATE takes SQLite's write lock at once: the whole file is locked, every key with it.
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(tables);
        db.exec("COMMIT");
        return result;
      } catch (e) {
        if (db.inTransaction) db.exec("ROLLBACK");
        throw e;
      }
    },
    async close() {
      db.close();
    },
  };
}

/** Brings a database made by an earlier version up to date (see MIGRATIONS), once, under the write lock. */
function migrate(db: Database.Database): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    let {version} = db.prepare("SELECT COALESCE(MAX(version), 1) AS version FROM schema_version").get() as {version: bigint};
    for (const m of MIGRATIONS) {
      if (m.version <= version) continue;
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(m.version);
      version = BigInt(m.version);
    }
    db.exec("COMMIT");
  } catch (e) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw e;
  }
}

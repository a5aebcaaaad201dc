import {createRequire} from "node:module";
import type Database from "better-sqlite3";
import {SCHEMA, type SlashingBackend, type SlashingTables, fromColumn, toColumn} from "./rules.js";

/**
 * Slashing protection in an SQLite file (better-sqlite3, an optional dependency). Each thread opens
 * its own connection; WAL mode and IMMEDIATE transactions serialize writers, also across processes.
 */
export function openSqlite(path: string): SlashingBackend {
  let open: typeof Database;
  try {
    open = createRequire(import.meta.url)("better-sqlite3");
  } catch (e) {
    throw new Error(`--slashing-protection sqlite: needs the optional dependency better-sqlite3, which did not load: ${(e as Error).message}`);
  }
  const db = new open(path);
  db.defaultSafeIntegers(true);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL"); // a record must be on disk before its signature leaves
  db.pragma("busy_timeout = 10000");
  db.exec(SCHEMA);
  const p = (sql: string) => db.prepare(sql);
  const q = {
    blocksAtSlot: p("SELECT signing_root AS root FROM signed_blocks WHERE pubkey = ? AND gvr = ? AND slot = ?"),
    minSlot: p("SELECT MIN(slot) AS v FROM signed_blocks WHERE pubkey = ? AND gvr = ?"),
    insertBlock: p("INSERT INTO signed_blocks (pubkey, gvr, slot, signing_root) VALUES (?, ?, ?, ?)"),
    votesForTarget: p("SELECT signing_root AS root FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND target = ?"),
    surround: p("SELECT source, target FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND ((source < ? AND target > ?) OR (source > ? AND target < ?)) LIMIT 1"),
    minEpochs: p("SELECT MIN(source) AS s, MIN(target) AS t FROM signed_attestations WHERE pubkey = ? AND gvr = ?"),
    insertAttestation: p("INSERT INTO signed_attestations (pubkey, gvr, source, target, signing_root) VALUES (?, ?, ?, ?, ?)"),
    blocksOf: p("SELECT slot, signing_root AS root FROM signed_blocks WHERE pubkey = ? AND gvr = ? ORDER BY slot"),
    attestationsOf: p("SELECT source, target, signing_root AS root FROM signed_attestations WHERE pubkey = ? AND gvr = ? ORDER BY target"),
    attestation: p("SELECT 1 FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND source = ? AND target = ? AND signing_root IS ?"),
    history: p("SELECT 1 FROM signed_blocks WHERE pubkey = ? UNION ALL SELECT 1 FROM signed_attestations WHERE pubkey = ? LIMIT 1"),
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
      const other = q.surround.get(pk, gvr, s, t, s, t) as {source: bigint; target: bigint} | undefined;
      const lowest = q.minEpochs.get(pk, gvr) as {s: bigint | null; t: bigint | null};
      return {
        rootsForTarget: (q.votesForTarget.all(pk, gvr, t) as {root: string | null}[]).map((r) => r.root),
        surrounding: other && {source: fromColumn(other.source), target: fromColumn(other.target)},
        lowestSource: orNull(lowest.s),
        lowestTarget: orNull(lowest.t),
      };
    },
    insertAttestation: (pk, gvr, source, target, root) => void q.insertAttestation.run(pk, gvr, toColumn(source), toColumn(target), root),
    blocksOf: (pk, gvr) => (q.blocksOf.all(pk, gvr) as {slot: bigint; root: string | null}[]).map((b) => ({slot: fromColumn(b.slot), signingRoot: b.root})),
    attestationsOf: (pk, gvr) =>
      (q.attestationsOf.all(pk, gvr) as {source: bigint; target: bigint; root: string | null}[]).map((a) => ({
        source: fromColumn(a.source),
        target: fromColumn(a.target),
        signingRoot: a.root,
      })),
    hasAttestation: (pk, gvr, source, target, root) => q.attestation.get(pk, gvr, toColumn(source), toColumn(target), root) !== undefined,
    hasHistory: (pk) => q.history.get(pk, pk) !== undefined,
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

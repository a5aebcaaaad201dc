import {createRequire} from "node:module";
import type Database from "better-sqlite3";
import type {Interchange} from "./interchange.js";

/** What a signing request asks of slashing protection (blocks and attestations only, as Web3Signer). */
export type SlashingCheck =
  | {kind: "block"; genesisValidatorsRoot: string; slot: bigint}
  | {kind: "attestation"; genesisValidatorsRoot: string; source: bigint; target: bigint};

// SQLite integers are signed 64-bit; shifting by 2^63 maps uint64 onto them keeping the order.
const OFFSET = 2n ** 63n;
const toDb = (v: bigint) => v - OFFSET;
const fromDb = (v: bigint) => v + OFFSET;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS signed_blocks (pubkey TEXT NOT NULL, gvr TEXT NOT NULL, slot INTEGER NOT NULL, signing_root TEXT);
CREATE INDEX IF NOT EXISTS signed_blocks_by_slot ON signed_blocks (pubkey, gvr, slot);
CREATE TABLE IF NOT EXISTS signed_attestations (pubkey TEXT NOT NULL, gvr TEXT NOT NULL, source INTEGER NOT NULL, target INTEGER NOT NULL, signing_root TEXT);
CREATE INDEX IF NOT EXISTS signed_attestations_by_target ON signed_attestations (pubkey, gvr, target);
`;

/** `--slashing-protection` → the SQLite file, or an error saying what is supported. */
export function slashingDbPath(url: string): string {
  if (url.startsWith("sqlite:") && url.length > "sqlite:".length) return url.slice("sqlite:".length);
  if (/^postgres(ql)?:\/\//.test(url)) throw new Error("--slashing-protection: PostgreSQL is not supported yet; use sqlite:PATH");
  throw new Error(`--slashing-protection: expected sqlite:PATH, got "${url}"`);
}

/**
 * EIP-3076 slashing protection in SQLite, shared by every signing worker (each opens its own
 * connection; WAL mode and IMMEDIATE transactions serialize writers, also across processes).
 * A refusal is a reason string; null means allowed and recorded. The rules:
 * - blocks: no second block at a slot unless it is the same signing root (a repeat), and none at or
 *   below the lowest slot signed;
 * - attestations: source ≤ target; no second vote for a target unless a repeat; no vote that
 *   surrounds or is surrounded by a signed one; source not below the lowest signed source, target
 *   above the lowest signed target.
 */
export class SlashingDb {
  private readonly db: Database.Database;
  private readonly q: Record<string, Database.Statement>;

  constructor(path: string) {
    let open: typeof Database;
    try {
      open = createRequire(import.meta.url)("better-sqlite3");
    } catch (e) {
      throw new Error(`--slashing-protection needs the optional dependency better-sqlite3, which did not load: ${(e as Error).message}`);
    }
    this.db = new open(path);
    this.db.defaultSafeIntegers(true);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL"); // a record must be on disk before its signature leaves
    this.db.pragma("busy_timeout = 10000");
    this.db.exec(SCHEMA);
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      blocksAtSlot: p("SELECT signing_root AS root FROM signed_blocks WHERE pubkey = ? AND gvr = ? AND slot = ?"),
      minSlot: p("SELECT MIN(slot) AS v FROM signed_blocks WHERE pubkey = ? AND gvr = ?"),
      insertBlock: p("INSERT INTO signed_blocks (pubkey, gvr, slot, signing_root) VALUES (?, ?, ?, ?)"),
      votesForTarget: p("SELECT signing_root AS root FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND target = ?"),
      surround: p(
        "SELECT source, target FROM signed_attestations WHERE pubkey = ? AND gvr = ? AND ((source < ? AND target > ?) OR (source > ? AND target < ?)) LIMIT 1"
      ),
      minEpochs: p("SELECT MIN(source) AS s, MIN(target) AS t FROM signed_attestations WHERE pubkey = ? AND gvr = ?"),
      insertAttestation: p("INSERT INTO signed_attestations (pubkey, gvr, source, target, signing_root) VALUES (?, ?, ?, ?, ?)"),
      blocksOf: p("SELECT slot, signing_root AS root FROM signed_blocks WHERE pubkey = ? AND gvr = ? ORDER BY slot"),
      attestationsOf: p("SELECT source, target, signing_root AS root FROM signed_attestations WHERE pubkey = ? AND gvr = ? ORDER BY target"),
      rootsOf: p("SELECT DISTINCT gvr FROM signed_blocks WHERE pubkey = ? UNION SELECT DISTINCT gvr FROM signed_attestations WHERE pubkey = ?"),
      history: p("SELECT 1 FROM signed_blocks WHERE pubkey = ? UNION ALL SELECT 1 FROM signed_attestations WHERE pubkey = ? LIMIT 1"),
    };
  }

  /** Runs `fn` in one IMMEDIATE transaction: checks and records in it are atomic. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Checks one request and records it if allowed; null = allowed, else the reason it is refused. */
  check(pubkey: string, c: SlashingCheck, signingRoot: string): string | null {
    const gvr = c.genesisValidatorsRoot;
    if (c.kind === "block") {
      const slot = toDb(c.slot);
      const atSlot = this.q.blocksAtSlot.all(pubkey, gvr, slot) as {root: string | null}[];
      if (atSlot.some((r) => r.root === signingRoot)) return null;
      if (atSlot.length) return `a different block was already signed at slot ${c.slot}`;
      const min = (this.q.minSlot.get(pubkey, gvr) as {v: bigint | null}).v;
      if (min !== null && slot <= min) return `slot ${c.slot} is not above the lowest signed slot ${fromDb(min)}`;
      this.q.insertBlock.run(pubkey, gvr, slot, signingRoot);
      return null;
    }
    if (c.source > c.target) return `source epoch ${c.source} is after target epoch ${c.target}`;
    const [source, target] = [toDb(c.source), toDb(c.target)];
    const votes = this.q.votesForTarget.all(pubkey, gvr, target) as {root: string | null}[];
    if (votes.some((r) => r.root === signingRoot)) return null;
    if (votes.length) return `a different attestation was already signed for target epoch ${c.target}`;
    const other = this.q.surround.get(pubkey, gvr, source, target, source, target) as {source: bigint; target: bigint} | undefined;
    if (other) {
      return `surround vote with the signed attestation ${fromDb(other.source)} → ${fromDb(other.target)}`;
    }
    const min = this.q.minEpochs.get(pubkey, gvr) as {s: bigint | null; t: bigint | null};
    if (min.s !== null && source < min.s) return `source epoch ${c.source} is below the lowest signed source ${fromDb(min.s)}`;
    if (min.t !== null && target <= min.t) return `target epoch ${c.target} is not above the lowest signed target ${fromDb(min.t)}`;
    this.q.insertAttestation.run(pubkey, gvr, source, target, signingRoot);
    return null;
  }

  /** Imports an interchange document; its records then bound what may be signed. */
  importInterchange(doc: Interchange): void {
    const gvr = doc.metadata.genesis_validators_root.toLowerCase();
    this.transaction(() => {
      for (const entry of doc.data) {
        const pubkey = entry.pubkey.toLowerCase();
        for (const b of entry.signed_blocks ?? []) this.q.insertBlock.run(pubkey, gvr, toDb(BigInt(b.slot)), b.signing_root?.toLowerCase() ?? null);
        for (const a of entry.signed_attestations ?? []) {
          this.q.insertAttestation.run(pubkey, gvr, toDb(BigInt(a.source_epoch)), toDb(BigInt(a.target_epoch)), a.signing_root?.toLowerCase() ?? null);
        }
      }
    });
  }

  exportInterchange(pubkeys: string[], genesisValidatorsRoot: string): Interchange {
    const gvr = genesisValidatorsRoot.toLowerCase();
    const withRoot = <T extends object>(o: T, root: string | null) => (root ? {...o, signing_root: root} : o);
    return {
      metadata: {interchange_format_version: "5", genesis_validators_root: gvr},
      data: pubkeys.map((pubkey) => ({
        pubkey,
        signed_blocks: (this.q.blocksOf.all(pubkey, gvr) as {slot: bigint; root: string | null}[]).map((b) =>
          withRoot({slot: String(fromDb(b.slot))}, b.root)
        ),
        signed_attestations: (this.q.attestationsOf.all(pubkey, gvr) as {source: bigint; target: bigint; root: string | null}[]).map((a) =>
          withRoot({source_epoch: String(fromDb(a.source)), target_epoch: String(fromDb(a.target))}, a.root)
        ),
      })),
    };
  }

  /** The genesis validators roots the keys have records under. */
  genesisRootsOf(pubkeys: string[]): string[] {
    const roots = new Set<string>();
    for (const pk of pubkeys) for (const r of this.q.rootsOf.all(pk, pk) as {gvr: string}[]) roots.add(r.gvr);
    return [...roots];
  }

  hasHistory(pubkey: string): boolean {
    return this.q.history.get(pubkey, pubkey) !== undefined;
  }

  close(): void {
    this.db.close();
  }
}

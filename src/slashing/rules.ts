/**
 * The EIP-3076 rules, written once against the queries a store answers inside one transaction;
 * src/slashing/sqlite.ts and postgres.ts answer them. A refusal is a reason string; null
 * means allowed and recorded.
 * - blocks: no second block at a slot unless it is the same signing root (a repeat), and none at or
 *   below the lowest slot signed;
 * - attestations: source ≤ target; no second vote for a target unless a repeat; no vote that
 *   surrounds or is surrounded by a signed one; source not below the lowest signed source, target
 *   above the lowest signed target.
 */

/** What a signing request asks of slashing protection (blocks and attestations only, as Web3Signer). */
export type SlashingCheck =
  | {kind: "block"; genesisValidatorsRoot: string; slot: bigint}
  | {kind: "attestation"; genesisValidatorsRoot: string; source: bigint; target: bigint};

/** One request to check: the key (lowercase hex), what it signs, and its signing root (hex). */
export type SlashingItem = {pubkey: string; check: SlashingCheck; signingRoot: string};

type MaybePromise<T> = T | Promise<T>;

/** What the rules need to know of a key's blocks before signing one at `slot`. */
export type BlockHistory = {rootsAtSlot: (string | null)[]; lowestSlot: bigint | null};

/** What the rules need to know of a key's votes before signing (source, target). */
export type AttestationHistory = {
  rootsForTarget: (string | null)[];
  /** A signed vote that surrounds (source, target) or is surrounded by it, if any. */
  surrounding: {source: bigint; target: bigint} | undefined;
  lowestSource: bigint | null;
  lowestTarget: bigint | null;
};

/**
 * The queries the rules need, on uint64 values; a store maps them onto its columns. One read per
 * request, then one write: a networked store pays two round trips per request.
 */
export interface SlashingQueries {
  blockHistory(pubkey: string, gvr: string, slot: bigint): MaybePromise<BlockHistory>;
  insertBlock(pubkey: string, gvr: string, slot: bigint, signingRoot: string | null): MaybePromise<void>;
  attestationHistory(pubkey: string, gvr: string, source: bigint, target: bigint): MaybePromise<AttestationHistory>;
  insertAttestation(pubkey: string, gvr: string, source: bigint, target: bigint, signingRoot: string | null): MaybePromise<void>;
}

/** Checks one request and records it if allowed. Call inside a transaction that locks the key. */
export async function checkAndRecord(q: SlashingQueries, {pubkey, check: c, signingRoot}: SlashingItem): Promise<string | null> {
  const gvr = c.genesisValidatorsRoot;
  if (c.kind === "block") {
    const h = await q.blockHistory(pubkey, gvr, c.slot);
    if (isRepeat(h.rootsAtSlot, signingRoot)) return null;
    if (h.rootsAtSlot.length) return `a different block was already signed at slot ${c.slot}`;
    if (h.lowestSlot !== null && c.slot <= h.lowestSlot) return `slot ${c.slot} is not above the lowest signed slot ${h.lowestSlot}`;
    await q.insertBlock(pubkey, gvr, c.slot, signingRoot);
    return null;
  }
  if (c.source > c.target) return `source epoch ${c.source} is after target epoch ${c.target}`;
  const h = await q.attestationHistory(pubkey, gvr, c.source, c.target);
  if (isRepeat(h.rootsForTarget, signingRoot)) return null;
  if (h.rootsForTarget.length) return `a different attestation was already signed for target epoch ${c.target}`;
  if (h.surrounding) return `surround vote with the signed attestation ${h.surrounding.source} → ${h.surrounding.target}`;
  if (h.lowestSource !== null && c.source < h.lowestSource) return `source epoch ${c.source} is below the lowest signed source ${h.lowestSource}`;
  if (h.lowestTarget !== null && c.target <= h.lowestTarget) return `target epoch ${c.target} is not above the lowest signed target ${h.lowestTarget}`;
  await q.insertAttestation(pubkey, gvr, c.source, c.target, signingRoot);
  return null;
}

const isRepeat = (roots: (string | null)[], signingRoot: string) => roots.length > 0 && roots.every((r) => r === signingRoot);

/** One record of an imported interchange (EIP-3076), uint64 values parsed, roots lowercase. */
export type ImportedRecord =
  | {kind: "block"; slot: bigint; signingRoot: string | null}
  | {kind: "attestation"; source: bigint; target: bigint; signingRoot: string | null};

/**
 * Merges one imported record into a key's history. A record already there (the same slot or epochs
 * and root) is skipped, so importing a document twice changes nothing. Every other record is kept,
 * even one that conflicts with the history or is invalid: everything a document says was signed is
 * taken as signed, the most restrictive reading. Returns why the record is slashable, or null.
 */
export async function mergeRecord(t: SlashingTables, pubkey: string, gvr: string, r: ImportedRecord): Promise<string | null> {
  if (r.kind === "block") {
    const {rootsAtSlot} = await t.blockHistory(pubkey, gvr, r.slot);
    if (rootsAtSlot.includes(r.signingRoot)) return null;
    await t.insertBlock(pubkey, gvr, r.slot, r.signingRoot);
    return rootsAtSlot.length ? `two blocks at slot ${r.slot}` : null;
  }
  if (await t.hasAttestation(pubkey, gvr, r.source, r.target, r.signingRoot)) return null;
  const h = await t.attestationHistory(pubkey, gvr, r.source, r.target);
  await t.insertAttestation(pubkey, gvr, r.source, r.target, r.signingRoot);
  if (r.source > r.target) return `an attestation with source epoch ${r.source} after its target epoch ${r.target}`;
  if (h.rootsForTarget.length) return `two attestations for target epoch ${r.target}`;
  if (h.surrounding) return `attestation ${r.source} → ${r.target} surrounds or is surrounded by ${h.surrounding.source} → ${h.surrounding.target}`;
  return null;
}

/** Both stores' tables (SQLite reads BIGINT as its INTEGER: the same signed 64-bit column). */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS signed_blocks (pubkey TEXT NOT NULL, gvr TEXT NOT NULL, slot BIGINT NOT NULL, signing_root TEXT);
CREATE INDEX IF NOT EXISTS signed_blocks_by_slot ON signed_blocks (pubkey, gvr, slot);
CREATE TABLE IF NOT EXISTS signed_attestations (pubkey TEXT NOT NULL, gvr TEXT NOT NULL, source BIGINT NOT NULL, target BIGINT NOT NULL, signing_root TEXT);
CREATE INDEX IF NOT EXISTS signed_attestations_by_target ON signed_attestations (pubkey, gvr, target);
CREATE TABLE IF NOT EXISTS genesis (id INTEGER PRIMARY KEY CHECK (id = 1), genesis_validators_root TEXT NOT NULL);
`;

// uint64 values live in those signed 64-bit columns: shifting by 2^63 keeps the order.
const OFFSET = 2n ** 63n;
export const toColumn = (v: bigint) => v - OFFSET;
export const fromColumn = (v: bigint | string) => BigInt(v) + OFFSET;

/** Everything a store answers: the rules' queries, and what import, export and delete need. */
export interface SlashingTables extends SlashingQueries {
  blocksOf(pubkey: string, gvr: string): MaybePromise<{slot: bigint; signingRoot: string | null}[]>;
  attestationsOf(pubkey: string, gvr: string): MaybePromise<{source: bigint; target: bigint; signingRoot: string | null}[]>;
  /** Whether this exact vote (a null root matching only a null root) is recorded. */
  hasAttestation(pubkey: string, gvr: string, source: bigint, target: bigint, signingRoot: string | null): MaybePromise<boolean>;
  hasHistory(pubkey: string): MaybePromise<boolean>;
  /** The chain the database is bound to: `root` if it was bound to none, else the one it was. */
  bindGenesisRoot(root: string): MaybePromise<string>;
  /** The chain the database is bound to, if any. */
  genesisRoot(): MaybePromise<string | null>;
}

/** A database behind slashing protection: its tables, reached inside one transaction at a time. */
export interface SlashingBackend {
  /** Runs `fn` in one transaction holding a write lock for each of `pubkeys` (all, for SQLite). */
  transaction<T>(pubkeys: string[], fn: (tables: SlashingTables) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

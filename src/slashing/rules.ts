/**
 * The EIP-3076 rules, written once against the queries a store answers inside one transaction;
 * src/slashing/sqliteStore.ts and postgresStore.ts answer them. A refusal is a reason string; null
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

/** The queries the rules need, on uint64 values; a store maps them onto its columns. */
export interface SlashingQueries {
  blockRootsAtSlot(pubkey: string, gvr: string, slot: bigint): MaybePromise<(string | null)[]>;
  lowestSlot(pubkey: string, gvr: string): MaybePromise<bigint | null>;
  insertBlock(pubkey: string, gvr: string, slot: bigint, signingRoot: string | null): MaybePromise<void>;
  attestationRootsForTarget(pubkey: string, gvr: string, target: bigint): MaybePromise<(string | null)[]>;
  /** A signed vote that surrounds (source, target) or is surrounded by it, if any. */
  surrounding(pubkey: string, gvr: string, source: bigint, target: bigint): MaybePromise<{source: bigint; target: bigint} | undefined>;
  lowestEpochs(pubkey: string, gvr: string): MaybePromise<{source: bigint | null; target: bigint | null}>;
  insertAttestation(pubkey: string, gvr: string, source: bigint, target: bigint, signingRoot: string | null): MaybePromise<void>;
}

/** Checks one request and records it if allowed. Call inside a transaction that locks the key. */
export async function checkAndRecord(q: SlashingQueries, {pubkey, check: c, signingRoot}: SlashingItem): Promise<string | null> {
  const gvr = c.genesisValidatorsRoot;
  if (c.kind === "block") {
    const atSlot = await q.blockRootsAtSlot(pubkey, gvr, c.slot);
    if (atSlot.includes(signingRoot)) return null;
    if (atSlot.length) return `a different block was already signed at slot ${c.slot}`;
    const lowest = await q.lowestSlot(pubkey, gvr);
    if (lowest !== null && c.slot <= lowest) return `slot ${c.slot} is not above the lowest signed slot ${lowest}`;
    await q.insertBlock(pubkey, gvr, c.slot, signingRoot);
    return null;
  }
  if (c.source > c.target) return `source epoch ${c.source} is after target epoch ${c.target}`;
  const votes = await q.attestationRootsForTarget(pubkey, gvr, c.target);
  if (votes.includes(signingRoot)) return null;
  if (votes.length) return `a different attestation was already signed for target epoch ${c.target}`;
  const other = await q.surrounding(pubkey, gvr, c.source, c.target);
  if (other) return `surround vote with the signed attestation ${other.source} → ${other.target}`;
  const lowest = await q.lowestEpochs(pubkey, gvr);
  if (lowest.source !== null && c.source < lowest.source) return `source epoch ${c.source} is below the lowest signed source ${lowest.source}`;
  if (lowest.target !== null && c.target <= lowest.target) return `target epoch ${c.target} is not above the lowest signed target ${lowest.target}`;
  await q.insertAttestation(pubkey, gvr, c.source, c.target, signingRoot);
  return null;
}

// Both stores keep uint64 in signed 64-bit integer columns: shifting by 2^63 keeps the order.
const OFFSET = 2n ** 63n;
export const toColumn = (v: bigint) => v - OFFSET;
export const fromColumn = (v: bigint | string) => BigInt(v) + OFFSET;

/** Everything a store answers: the rules' queries, and what import, export and delete need. */
export interface SlashingTables extends SlashingQueries {
  blocksOf(pubkey: string, gvr: string): MaybePromise<{slot: bigint; signingRoot: string | null}[]>;
  attestationsOf(pubkey: string, gvr: string): MaybePromise<{source: bigint; target: bigint; signingRoot: string | null}[]>;
  genesisRootsOf(pubkey: string): MaybePromise<string[]>;
  hasHistory(pubkey: string): MaybePromise<boolean>;
}

/** A database behind slashing protection: its tables, reached inside one transaction at a time. */
export interface SlashingBackend {
  /** Runs `fn` in one transaction holding a write lock for each of `pubkeys` (all, for SQLite). */
  transaction<T>(pubkeys: string[], fn: (tables: SlashingTables) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

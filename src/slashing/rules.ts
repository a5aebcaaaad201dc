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
  if (h.lowestSource !== null && c.source < h.lowestSource)
    return `source epoch ${c.source} is below the lowest signed source ${h.lowestSource}`;
  if (h.lowestTarget !== null && c.target <= h.lowestTarget)
    return `target epoch ${c.target} is not above the lowest signed target ${h.lowestTarget}`;
  await q.insertAttestation(pubkey, gvr, c.source, c.target, signingRoot);
  return null;
}

const isRepeat = (roots: (string | null)[], signingRoot: string) => roots.length > 0 && roots.every((r) => r === signingRoot);

/** One key's records in an imported interchange (EIP-3076), uint64 values parsed, roots lowercase. */
export type ImportedHistory = {
  blocks: {slot: bigint; signingRoot: string | null}[];
  attestations: Vote[];
};

type Vote = {source: bigint; target: bigint; signingRoot: string | null};
type Epochs = {source: bigint; target: bigint};

/**
 * The surround check in O(log n). In a history where no vote surrounds another, ordered by source
 * the targets never decrease (were a lower source's target higher, that vote would surround). So of
 * the votes with a lower source than (source, target), the one with the highest source (and among
 * those the highest target) has the highest target of them all: it alone can surround the new vote.
 * Likewise the vote with the lowest source above (lowest target among those) is the only one the
 * new vote can surround. A store finds both through an index on (source, target), one row each.
 * Where the premise fails (an imported history that is itself slashable, see mergeHistory), the
 * store marks the key and scans its votes instead.
 */
export function surroundAmongNeighbours(below: Epochs | undefined, above: Epochs | undefined, target: bigint): Epochs | undefined {
  if (below && below.target > target) return below;
  if (above && above.target < target) return above;
  return undefined;
}

/**
 * Merges one key's imported records into its history in one pass: O(n log n). It reads only the
 * records that can matter: those at the imported slots and targets, and (unless the key is marked
 * surrounded: then all) those whose source lies within the imported ones', with the neighbour on
 * each side, since in a surround-free history no vote further out can surround or be surrounded by
 * an imported one without that neighbour doing so too (see surroundAmongNeighbours).
 * A record already there (the same slot or epochs and root) is skipped, so importing a document
 * twice changes nothing. Every other record is kept, even one that conflicts with the history or
 * is invalid: everything a document says was signed is taken as signed, the most restrictive
 * reading. Returns why records are slashable (each reason once), and marks the key when its votes
 * now include a surround pair, so that its surround checks scan (see surroundAmongNeighbours).
 */
export async function mergeHistory(t: SlashingTables, pubkey: string, gvr: string, imported: ImportedHistory): Promise<string[]> {
  const findings = new Set<string>();
  const blockRoots = new Map<bigint, (string | null)[]>();
  const slots = imported.blocks.map((b) => b.slot);
  const nearBlocks = slots.length ? await t.blocksBetween(pubkey, gvr, min(slots), max(slots)) : [];
  for (const b of nearBlocks) blockRoots.set(b.slot, [...(blockRoots.get(b.slot) ?? []), b.signingRoot]);
  const newBlocks: ImportedHistory["blocks"] = [];
  for (const b of imported.blocks) {
    const roots = blockRoots.get(b.slot) ?? [];
    if (roots.includes(b.signingRoot)) continue;
    if (roots.length) findings.add(`two blocks at slot ${b.slot}`);
    blockRoots.set(b.slot, [...roots, b.signingRoot]);
    newBlocks.push(b);
  }
  await t.insertBlocks(pubkey, gvr, newBlocks);

  const [sources, targetsIn] = [imported.attestations.map((v) => v.source), imported.attestations.map((v) => v.target)];
  const votes: Vote[] = !sources.length
    ? []
    : (await t.isSurrounded(pubkey, gvr))
      ? await t.attestationsOf(pubkey, gvr)
      : await t.attestationsNear(pubkey, gvr, {sources: [min(sources), max(sources)], targets: [min(targetsIn), max(targetsIn)]});
  const seen = new Set(votes.map((v) => `${v.source} ${v.target} ${v.signingRoot}`));
  const targets = new Set(votes.map((v) => v.target));
  const newVotes: Vote[] = [];
  const doubles = new Set<Vote>();
  for (const v of imported.attestations) {
    const key = `${v.source} ${v.target} ${v.signingRoot}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (targets.has(v.target)) doubles.add(v);
    targets.add(v.target);
    newVotes.push(v);
  }
  const surrounds = surroundPairs([...votes, ...newVotes]);
  for (const v of newVotes) {
    const other = surrounds.get(v);
    if (v.source > v.target) findings.add(`an attestation with source epoch ${v.source} after its target epoch ${v.target}`);
    else if (doubles.has(v)) findings.add(`two attestations for target epoch ${v.target}`);
    else if (other) findings.add(`attestation ${v.source} → ${v.target} surrounds or is surrounded by ${other.source} → ${other.target}`);
  }
  await t.insertAttestations(pubkey, gvr, newVotes);
  if (surrounds.size) await t.markSurrounded(pubkey, gvr);
  return [...findings];
}

/**
 * Prunes one key's history to its last `epochsToKeep` epochs (blocks: that many epochs of slots):
 * every vote with a target more than that below its highest target, every block likewise below its
 * highest slot. The newest records stay, and their lowest source, target and slot become the
 * watermarks below which nothing is signed. Safe only for a history without a surround pair (see
 * docs/slashing-protection.md, Pruning): a key marked surrounded is left whole (null).
 */
export async function pruneHistory(
  t: SlashingTables,
  pubkey: string,
  gvr: string,
  epochsToKeep: bigint,
  slotsPerEpoch: bigint
): Promise<number | null> {
  if (await t.isSurrounded(pubkey, gvr)) return null;
  let deleted = 0;
  const {highestTarget, highestSlot} = await t.highest(pubkey, gvr);
  if (highestTarget !== null && highestTarget > epochsToKeep)
    deleted += await t.deleteAttestationsBelow(pubkey, gvr, highestTarget - epochsToKeep);
  const slotsToKeep = epochsToKeep * slotsPerEpoch;
  if (highestSlot !== null && highestSlot > slotsToKeep) deleted += await t.deleteBlocksBelow(pubkey, gvr, highestSlot - slotsToKeep);
  return deleted;
}

const min = (values: bigint[]) => values.reduce((a, b) => (b < a ? b : a));
const max = (values: bigint[]) => values.reduce((a, b) => (b > a ? b : a));

/**
 * For each vote that surrounds another or is surrounded by one, one such other vote: O(n log n)
 * (a sort, then a sweep each way keeping the highest target below and the lowest target above).
 */
function surroundPairs<V extends Epochs>(votes: V[]): Map<V, V> {
  const found = new Map<V, V>();
  const bySource = [...votes].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  const sweep = (ordered: V[], beats: (witness: V, v: V) => boolean) => {
    let best: V | undefined; // among strictly lower (or higher) sources
    for (let i = 0; i < ordered.length; ) {
      let j = i;
      for (; j < ordered.length && ordered[j].source === ordered[i].source; j++) {
        if (best && beats(best, ordered[j])) {
          if (!found.has(ordered[j])) found.set(ordered[j], best);
          if (!found.has(best)) found.set(best, ordered[j]);
        }
      }
      for (; i < j; i++) if (!best || beats(ordered[i], best)) best = ordered[i];
    }
  };
  sweep(bySource, (w, v) => w.target > v.target); // w surrounds v
  sweep(bySource.reverse(), (w, v) => w.target < v.target); // v surrounds w
  return found;
}

/** Both stores' tables (SQLite reads BIGINT as its INTEGER: the same signed 64-bit column). */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS signed_blocks (pubkey TEXT NOT NULL, gvr TEXT NOT NULL, slot BIGINT NOT NULL, signing_root TEXT);
CREATE INDEX IF NOT EXISTS signed_blocks_by_slot ON signed_blocks (pubkey, gvr, slot);
CREATE TABLE IF NOT EXISTS signed_attestations (pubkey TEXT NOT NULL, gvr TEXT NOT NULL, source BIGINT NOT NULL, target BIGINT NOT NULL, signing_root TEXT);
CREATE INDEX IF NOT EXISTS signed_attestations_by_target ON signed_attestations (pubkey, gvr, target);
CREATE INDEX IF NOT EXISTS signed_attestations_by_source ON signed_attestations (pubkey, gvr, source, target);
CREATE TABLE IF NOT EXISTS surrounded_histories (pubkey TEXT NOT NULL, gvr TEXT NOT NULL, PRIMARY KEY (pubkey, gvr));
CREATE TABLE IF NOT EXISTS inactive_keys (pubkey TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS genesis (id INTEGER PRIMARY KEY CHECK (id = 1), genesis_validators_root TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
`;

/**
 * What a database made by an earlier version needs, by the version it brings the schema to (a
 * database without a version row is version 1). Each store runs the ones above its version in one
 * transaction, once (SQLite under its write lock, PostgreSQL under the schema lock).
 * 2: surrounded_histories, the keys whose votes already include a surround pair (see
 *    surroundAmongNeighbours): per key and source, is a target below the highest of lower sources?
 */
export const MIGRATIONS: {version: number; sql: string}[] = [
  {
    version: 2,
    sql: `INSERT INTO surrounded_histories (pubkey, gvr)
          SELECT DISTINCT pubkey, gvr FROM (
            SELECT pubkey, gvr, lowest, MAX(highest) OVER (PARTITION BY pubkey, gvr ORDER BY source ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS below
            FROM (SELECT pubkey, gvr, source, MIN(target) AS lowest, MAX(target) AS highest FROM signed_attestations GROUP BY pubkey, gvr, source) AS per_source
          ) AS swept WHERE lowest < below
          ON CONFLICT DO NOTHING`,
  },
];

// uint64 values live in those signed 64-bit columns: shifting by 2^63 keeps the order.
const OFFSET = 2n ** 63n;
export const toColumn = (v: bigint) => v - OFFSET;
export const fromColumn = (v: bigint | string) => BigInt(v) + OFFSET;

/** Everything a store answers: the rules' queries, and what import, export and delete need. */
export interface SlashingTables extends SlashingQueries {
  blocksOf(pubkey: string, gvr: string): MaybePromise<{slot: bigint; signingRoot: string | null}[]>;
  attestationsOf(pubkey: string, gvr: string): MaybePromise<{source: bigint; target: bigint; signingRoot: string | null}[]>;
  blocksBetween(
    pubkey: string,
    gvr: string,
    lowestSlot: bigint,
    highestSlot: bigint
  ): MaybePromise<{slot: bigint; signingRoot: string | null}[]>;
  /**
   * The votes with a source or a target in these ranges (inclusive), and the neighbours by source
   * just outside the source range (as surroundAmongNeighbours picks them); some may come twice.
   */
  attestationsNear(
    pubkey: string,
    gvr: string,
    near: {sources: [bigint, bigint]; targets: [bigint, bigint]}
  ): MaybePromise<{source: bigint; target: bigint; signingRoot: string | null}[]>;
  isSurrounded(pubkey: string, gvr: string): MaybePromise<boolean>;
  /** Every key and chain with records, for pruning. */
  histories(): MaybePromise<{pubkey: string; gvr: string}[]>;
  highest(pubkey: string, gvr: string): MaybePromise<{highestTarget: bigint | null; highestSlot: bigint | null}>;
  /** Deletes the votes with a target below `target`, the blocks below `slot`: how many. */
  deleteAttestationsBelow(pubkey: string, gvr: string, target: bigint): MaybePromise<number>;
  deleteBlocksBelow(pubkey: string, gvr: string, slot: bigint): MaybePromise<number>;
  insertBlocks(pubkey: string, gvr: string, blocks: {slot: bigint; signingRoot: string | null}[]): MaybePromise<void>;
  insertAttestations(
    pubkey: string,
    gvr: string,
    votes: {source: bigint; target: bigint; signingRoot: string | null}[]
  ): MaybePromise<void>;
  /** Records that the key's votes include a surround pair: its surround checks scan from now on. */
  markSurrounded(pubkey: string, gvr: string): MaybePromise<void>;
  hasHistory(pubkey: string): MaybePromise<boolean>;
  /** Keys deleted through the Keymanager API (on any signer sharing the database), among `pubkeys`. */
  inactiveAmong(pubkeys: string[]): MaybePromise<string[]>;
  setInactive(pubkeys: string[], inactive: boolean): MaybePromise<void>;
  /** The chain the database is bound to: `root` if it was bound to none, else the one it was. */
  bindGenesisRoot(root: string): MaybePromise<string>;
  /** The chain the database is bound to, if any. */
  genesisRoot(): MaybePromise<string | null>;
}

/** A database behind slashing protection: its tables, reached inside one transaction at a time. */
export interface SlashingBackend {
  /**
   * Runs `fn` in one transaction holding a write lock for each of `pubkeys` (all, for SQLite). A
   * networked store fails it if it has not ended by `deadline` (epoch ms).
   */
  transaction<T>(pubkeys: string[], fn: (tables: SlashingTables) => Promise<T>, deadline: number): Promise<T>;
  close(): Promise<void>;
}

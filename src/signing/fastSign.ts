/**
 * Signing with H(root) computed once per root. A BLS signature is sk · H(root): hashing the root
 * to G2 costs about as much as the multiplication, and depends on the root alone, which every
 * attester of a slot (one AttestationData from Electra on), every aggregator's selection proof
 * and every sync-committee member's block root share. The native addon (native/fastsign, built
 * from blst's C sources at `npm ci`) splits the two halves, so each worker keeps recent roots'
 * H(root) and only multiplies per key. A root that many keys sign (from Electra, every attester's
 * AttestationData) gets a fixed-base table of H(root)'s multiples: each signature is then a sum of
 * table entries, about 3× quicker than the multiplication (native/fastsign/comb.c).
 * Where the addon was not built, or with TS3SIGNER_SIGN_ENGINE=blst-sign, it signs with
 * @chainsafe/blst's sign(): same bytes, no cache.
 *
 * Only public points and tables enter the caches, as opaque handles the addon made (a Point, a
 * Table): JavaScript cannot hand the addon a point of its own choosing to multiply by a secret
 * key. Secret keys stay in the worker's key map.
 */
import {createRequire} from "node:module";
import {SecretKey} from "@chainsafe/blst";
import type {Logger} from "../log.js";
import type {PointCacheOutcome} from "../metrics/metrics.js";

/** H(root) held by the addon: JavaScript can keep it and pass it back, not read or forge it. */
export type Point = {readonly __point: unique symbol};
/** A hot root's fixed-base table, held by the addon like a Point. */
export type Table = {readonly __table: unique symbol};

type Addon = {
  BUILD: "adx" | "portable";
  hashToG2(root: Uint8Array, reuse?: Point): Point;
  signWithPoint(point: Point, secretKey: Uint8Array, out: Uint8Array): void;
  tableBytes(window: number): number;
  buildTable(point: Point, window: number, reuse?: Table): Table;
  signWithTable(table: Table, secretKey: Uint8Array, out: Uint8Array): void;
};

/** `native-point-cache`: the addon, H(root) cached per worker; `blst-sign`: @chainsafe/blst sign() per request. */
export type SignEngine = "native-point-cache" | "blst-sign";

/**
 * The addon's builds, fastest first (native/fastsign/binding.gyp): the ADX build refuses to load
 * on a CPU without BMI2 and ADX, and the portable one then serves. Each refusal is kept for the log.
 */
const BUILDS = process.arch === "x64" ? ["fastsign_adx", "fastsign"] : ["fastsign"];

function loadAddon(): {addon?: Addon; refusals: string[]} {
  if (process.env.TS3SIGNER_SIGN_ENGINE === "blst-sign") return {refusals: ["TS3SIGNER_SIGN_ENGINE=blst-sign"]};
  const require = createRequire(import.meta.url);
  const refusals: string[] = [];
  for (const build of BUILDS) {
    try {
      return {addon: require(`../../../native/fastsign/build/Release/${build}.node`) as Addon, refusals};
    } catch (e) {
      const error = e as Error & {code?: string};
      const why = error.code === "MODULE_NOT_FOUND" ? "not built" : error.message.split("\n")[0];
      refusals.push(`native/fastsign ${build}: ${why}`);
    }
  }
  refusals.push("npm ci builds native/fastsign where a C compiler is present");
  return {refusals};
}

const {addon, refusals} = loadAddon();
export const signEngine: SignEngine = addon ? "native-point-cache" : "blst-sign";
/** Which build of the addon signs (`adx` or `portable`), when one does. */
export const nativeBuild: Addon["BUILD"] | undefined = addon?.BUILD;
/** Why the fallback is in use (for the start-up log), when it is. */
export const signEngineFallbackReason: string | undefined = addon ? undefined : refusals.join("; ");

/** At start: says why signing is slower than it could be here, if it is. */
export function logSignEngine(log: Logger): void {
  if (!addon) {
    log.warn("signing with @chainsafe/blst sign() per request: no H(root) cache, up to 2x slower on shared roots", {
      engine: signEngine,
      reason: signEngineFallbackReason,
    });
  } else if (refusals.length) {
    log.info("signing with native/fastsign's portable build (about 25% more CPU a signature than its ADX build)", {
      engine: signEngine,
      build: addon.BUILD,
      reason: refusals.join("; "),
    });
  }
}

/** H(root) for this many roots per worker: 288 bytes a point; at the cap 2.8–3.4 MiB of RSS per worker (npm run bench). */
export const POINT_CACHE_ROOTS = 4096;

/**
 * Tables use 6-bit windows: 258 KiB, built in ~1.3 ms, a signature in ~58 µs against ~187 µs with
 * the cached point (5 bits: 153 KiB, 65 µs; 7 bits: 444 KiB, 53 µs; docs/performance.md).
 */
export const TABLE_WINDOW = 6;
/** A root's table is built at its this-many-th signature in a worker: a build costs ~10 signatures' savings. */
export const TABLE_AFTER_SIGNATURES = 12;
/**
 * Tables per worker (LRU): few roots are hot at once (a slot's AttestationData, selection proof,
 * block root); 4.1 MiB at the cap. TS3SIGNER_HOT_ROOT_TABLES=0 turns tables off (for A/B benches).
 */
export const TABLE_ROOTS = process.env.TS3SIGNER_HOT_ROOT_TABLES === "0" ? 0 : 16;

/** Bytes of one table with `window`-bit windows (0 without the addon). */
export function tableBytes(window = TABLE_WINDOW): number {
  return addon ? addon.tableBytes(window) : 0;
}

/** A deserialized secret key: its 32 big-endian bytes for the addon, a SecretKey for the fallback. */
export type SigningKey = Uint8Array | SecretKey;

/** The key for `secret` (32 big-endian bytes, already validated when it was loaded); takes ownership of `secret`
 * (the fallback wipes it at once; with the addon the key is `secret` itself). */
export function signingKey(secret: Uint8Array): SigningKey {
  if (addon) return secret;
  const key = SecretKey.fromBytes(secret);
  secret.fill(0);
  return key;
}

/** `pointCache` is absent with the fallback engine. */
export type Signed = {signature: string; pointCache?: PointCacheOutcome};

/** Cached points, tables, the signature on a root that builds its table, and tables' window width. */
export type SignerLimits = {cacheRoots: number; tableRoots: number; tableAfter: number; tableWindow: number};

/** A cached H(root) and how many signatures it has made in this worker. */
type CachedPoint = {point: Point; signatures: number};

/** A signing function with its own caches (one per worker): `sign(key, root)` → 0x signature. */
export function createSigner(limits: Partial<SignerLimits> = {}): (key: SigningKey, root: Uint8Array) => Signed {
  if (!addon) return (key, root) => ({signature: (key as SecretKey).sign(root).toHex()});
  const {
    cacheRoots = POINT_CACHE_ROOTS,
    tableRoots = TABLE_ROOTS,
    tableAfter = TABLE_AFTER_SIGNATURES,
    tableWindow = TABLE_WINDOW,
  } = limits;
  const {hashToG2, signWithPoint, buildTable, signWithTable} = addon;
  // A Map iterates in insertion order: re-inserting on a hit makes its first key the least recently used.
  const points = new Map<string, CachedPoint>();
  const tables = new Map<string, Table>();
  const out = Buffer.alloc(96);
  const signed = (pointCache: PointCacheOutcome): Signed => ({signature: "0x" + out.toString("hex"), pointCache});
  return (key, root) => {
    const id = Buffer.from(root.buffer, root.byteOffset, root.byteLength).toString("latin1");
    const table = tables.get(id);
    if (table) {
      tables.delete(id);
      tables.set(id, table);
      signWithTable(table, key as Uint8Array, out);
      return signed("table");
    }
    let cached = points.get(id);
    const cacheHit = cached !== undefined;
    if (cached) {
      points.delete(id);
    } else {
      // Hashing into the cache costs what sign() does internally (the point stays projective, no
      // inversion), so a root seen once costs no more than sign(); at the cap the oldest entry's
      // point is reused.
      const evicted = points.size >= cacheRoots ? evictOldest(points) : undefined;
      cached = {point: hashToG2(root, evicted?.point), signatures: 0};
    }
    points.set(id, cached);
    if (tableRoots > 0 && ++cached.signatures >= tableAfter) {
      // Hot: from this signature on the root signs from its table (the oldest table's memory reused at the cap).
      // Counting starts again, so a root whose table is evicted rebuilds it only after as many signatures.
      cached.signatures = 0;
      const built = buildTable(cached.point, tableWindow, tables.size >= tableRoots ? evictOldest(tables) : undefined);
      tables.set(id, built);
      signWithTable(built, key as Uint8Array, out);
      return signed("table");
    }
    signWithPoint(cached.point, key as Uint8Array, out);
    return signed(cacheHit ? "hit" : "miss");
  };
}

/** Removes a map's least recently used entry and returns its value. */
function evictOldest<T>(map: Map<string, T>): T {
  const [oldest, value] = map.entries().next().value!;
  map.delete(oldest);
  return value;
}

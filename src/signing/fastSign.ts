/**
 * Signing with H(root) computed once per root. A BLS signature is sk · H(root): hashing the root
 * to G2 costs about as much as the multiplication, and depends on the root alone, which every
 * attester of a slot (one AttestationData from Electra on), every aggregator's selection proof
 * and every sync-committee member's block root share. The native addon (native/fastsign, built
 * from blst's C sources at `npm ci`) splits the two halves, so each worker keeps recent roots'
 * H(root) and only multiplies per key. Where the addon was not built, or with
 * TS3SIGNER_SIGN_ENGINE=blst-sign, it signs with @chainsafe/blst's sign(): same bytes, no cache.
 *
 * Only public points enter the cache, as opaque handles the addon made (a Point): JavaScript cannot
 * hand the addon a point of its own choosing to multiply by a secret key. Secret keys stay in the
 * worker's key map.
 */
import {createRequire} from "node:module";
import {SecretKey} from "@chainsafe/blst";
import type {Logger} from "../log.js";

/** H(root) held by the addon: JavaScript can keep it and pass it back, not read or forge it. */
export type Point = {readonly __point: unique symbol};

type Addon = {
  BUILD: "adx" | "portable";
  hashToG2(root: Uint8Array, reuse?: Point): Point;
  signWithPoint(point: Point, secretKey: Uint8Array, out: Uint8Array): void;
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
    log.warn("signing with @chainsafe/blst sign() per request: no H(root) cache, up to 2x slower on shared roots", {engine: signEngine, reason: signEngineFallbackReason});
  } else if (refusals.length) {
    log.info("signing with native/fastsign's portable build (about 25% more CPU a signature than its ADX build)", {engine: signEngine, build: addon.BUILD, reason: refusals.join("; ")});
  }
}

/** H(root) for this many roots per worker: 288 bytes a point; at the cap 2.8–3.4 MiB of RSS per worker (npm run bench). */
export const POINT_CACHE_ROOTS = 4096;

/** A deserialized secret key: its 32 big-endian bytes for the addon, a SecretKey for the fallback. */
export type SigningKey = Uint8Array | SecretKey;

/** The key for `secret` (32 big-endian bytes, already validated when it was loaded); takes ownership of `secret`. */
export function signingKey(secret: Uint8Array): SigningKey {
  if (addon) return secret;
  const key = SecretKey.fromBytes(secret);
  secret.fill(0);
  return key;
}

/** Wipes a key that is no longer loaded (the fallback's SecretKey is freed by its finalizer). */
export function wipeSigningKey(key: SigningKey): void {
  if (key instanceof Uint8Array) key.fill(0);
}

/** `cacheHit` says whether H(root) came from the cache; absent with the fallback engine. */
export type Signed = {signature: string; cacheHit?: boolean};

/** A signing function with its own cache (one per worker): `sign(key, root)` → 0x signature. */
export function createSigner(cacheRoots = POINT_CACHE_ROOTS): (key: SigningKey, root: Uint8Array) => Signed {
  if (!addon) return (key, root) => ({signature: (key as SecretKey).sign(root).toHex()});
  const {hashToG2, signWithPoint} = addon;
  // A Map iterates in insertion order: re-inserting on a hit makes its first key the least recently used.
  const points = new Map<string, Point>();
  const out = Buffer.alloc(96);
  return (key, root) => {
    const id = Buffer.from(root.buffer, root.byteOffset, root.byteLength).toString("latin1");
    let point = points.get(id);
    const cacheHit = point !== undefined;
    if (point) {
      points.delete(id);
    } else {
      // Hashing into the cache costs what sign() does internally (the point stays projective, no
      // inversion), so a root seen once costs no more than sign(); at the cap the oldest entry's
      // point is reused.
      let evicted: Point | undefined;
      if (points.size >= cacheRoots) {
        const oldest = points.keys().next().value!;
        evicted = points.get(oldest);
        points.delete(oldest);
      }
      point = hashToG2(root, evicted);
    }
    points.set(id, point);
    signWithPoint(point, key as Uint8Array, out);
    return {signature: "0x" + out.toString("hex"), cacheHit};
  };
}

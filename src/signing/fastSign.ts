/**
 * Signing with H(root) computed once per root. A BLS signature is sk · H(root): hashing the root
 * to G2 costs about as much as the multiplication, and depends on the root alone, which every
 * attester of a slot (one AttestationData from Electra on), every aggregator's selection proof
 * and every sync-committee member's block root share. The native addon (native/fastsign, built
 * from blst's C sources at `npm ci`) splits the two halves, so each worker keeps recent roots'
 * H(root) and only multiplies per key. Where the addon was not built, or with
 * TS3SIGNER_SIGN_ENGINE=blst-sign, it signs with @chainsafe/blst's sign(): same bytes, no cache.
 *
 * Only public points enter the cache; secret keys stay in the worker's key map.
 */
import {createRequire} from "node:module";
import {SecretKey} from "@chainsafe/blst";

type Addon = {
  POINT_BYTES: number;
  hashToG2(root: Uint8Array, out: Uint8Array): void;
  signWithPoint(point: Uint8Array, secretKey: Uint8Array, out: Uint8Array): void;
};

/** `native-point-cache`: the addon, H(root) cached per worker; `blst-sign`: @chainsafe/blst sign() per request. */
export type SignEngine = "native-point-cache" | "blst-sign";

function loadAddon(): {addon?: Addon; reason?: string} {
  if (process.env.TS3SIGNER_SIGN_ENGINE === "blst-sign") return {reason: "TS3SIGNER_SIGN_ENGINE=blst-sign"};
  try {
    return {addon: createRequire(import.meta.url)("../../../native/fastsign/build/Release/fastsign.node") as Addon};
  } catch (e) {
    return {reason: `native/fastsign not built (${(e as Error).message.split("\n")[0]}); npm ci builds it where a C compiler is present`};
  }
}

const {addon, reason} = loadAddon();
export const signEngine: SignEngine = addon ? "native-point-cache" : "blst-sign";
/** Why the fallback is in use (for the start-up log), when it is. */
export const signEngineFallbackReason: string | undefined = reason;

/** H(root) for this many roots per worker: 288 bytes a point; at the cap 2.8–3.4 MiB of RSS per worker (npm run bench). */
export const POINT_CACHE_ROOTS = 4096;

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

/** `cacheHit` says whether H(root) came from the cache; absent with the fallback engine. */
export type Signed = {signature: string; cacheHit?: boolean};

/** A signing function with its own cache (one per worker): `sign(key, root)` → 0x signature. */
export function createSigner(cacheRoots = POINT_CACHE_ROOTS): (key: SigningKey, root: Uint8Array) => Signed {
  if (!addon) return (key, root) => ({signature: (key as SecretKey).sign(root).toHex()});
  const {hashToG2, signWithPoint, POINT_BYTES} = addon;
  // A Map iterates in insertion order: re-inserting on a hit makes its first key the least recently used.
  const points = new Map<string, Uint8Array>();
  const out = Buffer.alloc(96);
  return (key, root) => {
    const id = Buffer.from(root.buffer, root.byteOffset, root.byteLength).toString("latin1");
    let point = points.get(id);
    const cacheHit = point !== undefined;
    if (point) {
      points.delete(id);
    } else {
      // Hashing into the cache costs what sign() does internally (the point stays projective, no
      // inversion), so a root seen once costs no more than sign(); at the cap the oldest point's
      // buffer is reused.
      let evicted: Uint8Array | undefined;
      if (points.size >= cacheRoots) {
        const oldest = points.keys().next().value!;
        evicted = points.get(oldest);
        points.delete(oldest);
      }
      point = evicted ?? new Uint8Array(POINT_BYTES);
      hashToG2(root, point);
    }
    points.set(id, point);
    signWithPoint(point, key as Uint8Array, out);
    return {signature: "0x" + out.toString("hex"), cacheHit};
  };
}

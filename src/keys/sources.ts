import type {Logger} from "../log.js";
import type {SignerPool} from "../pool.js";
import {interopSecretKey, parseInteropRange} from "./interop.js";
import type {KeyStore} from "./keyStore.js";

/** The key sources given on the command line (read at start and on every reload). */
export type KeySources = {
  /** `N` or `START:COUNT`. */
  interopKeys?: string;
};

/** Checks the sources' settings up front, so a typo is a start-up error rather than a failed load. */
export function validateKeySources(sources: KeySources): void {
  if (sources.interopKeys !== undefined) parseInteropRange(sources.interopKeys);
}

/** Secret keys per derivation task: big enough to amortize the hand-off, small enough to spread. */
const DERIVE_CHUNK = 512;

export type LoadResult = {loaded: number; duplicates: number; errors: number; pubkeys: Set<string>};

/**
 * Loads every configured source into the store. Public keys are derived in the worker pool
 * (one scalar multiplication per key), so 100k interop keys take seconds, not minutes.
 */
export async function loadKeySources(sources: KeySources, keys: KeyStore, pool: SignerPool, log: Logger): Promise<LoadResult> {
  const result: LoadResult = {loaded: 0, duplicates: 0, errors: 0, pubkeys: new Set()};
  if (sources.interopKeys) {
    const {start, count} = parseInteropRange(sources.interopKeys);
    log.warn("loading INSECURE interop keys: their secret keys are public; use them on devnets and in tests only", {
      start,
      count,
    });
    const chunks: Promise<void>[] = [];
    for (let first = start; first < start + count; first += DERIVE_CHUNK) {
      const n = Math.min(DERIVE_CHUNK, start + count - first);
      const secrets = new Uint8Array(n * 32);
      for (let i = 0; i < n; i++) secrets.set(interopSecretKey(first + i), i * 32);
      chunks.push(
        pool.derivePublicKeys(secrets).then((pubkeys) => {
          for (let i = 0; i < n; i++) {
            const pubkey = pubkeys.subarray(i * 48, i * 48 + 48);
            addKey(keys, result, pubkey, secrets.subarray(i * 32, i * 32 + 32), "interop");
          }
          secrets.fill(0);
        })
      );
    }
    await Promise.all(chunks);
  }
  return result;
}

function addKey(keys: KeyStore, result: LoadResult, pubkey: Uint8Array, secretKey: Uint8Array, source: string): void {
  if (keys.add(pubkey, secretKey, {source, readonly: true})) result.loaded++;
  else result.duplicates++;
  result.pubkeys.add("0x" + Buffer.from(pubkey).toString("hex"));
}

import {createHash} from "node:crypto";
import {bytesToScalar, scalarToBytes} from "./scalar.js";

/**
 * Insecure, publicly known interop keys (eth2.0-pm interop/mocked_start):
 * sk = int.from_bytes(sha256(i as 32-byte little endian), "little") mod r.
 * Returned big-endian, as BLS secret keys are serialized.
 */
export function interopSecretKey(index: number): Uint8Array {
  const preimage = Buffer.alloc(32);
  preimage.writeUInt32LE(index >>> 0, 0);
  preimage.writeUInt32LE(Math.floor(index / 2 ** 32), 4);
  const digest = createHash("sha256").update(preimage).digest();
  return new Uint8Array(scalarToBytes(bytesToScalar(digest.reverse())));
}

/** `--interop-keys N` (indices 0…N−1) or `START:COUNT`. */
export function parseInteropRange(spec: string): {start: number; count: number} {
  const m = /^(?:(\d+):)?(\d+)$/.exec(spec.trim());
  if (!m) throw new Error(`--interop-keys: expected N or START:COUNT, got "${spec}"`);
  const start = m[1] === undefined ? 0 : Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(start + count)) throw new Error(`--interop-keys: range too large`);
  return {start, count};
}

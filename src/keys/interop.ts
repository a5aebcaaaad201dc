import {createHash} from "node:crypto";

/** The BLS12-381 group order. */
const CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

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
  const sk = BigInt("0x" + Buffer.from(digest).reverse().toString("hex")) % CURVE_ORDER;
  return new Uint8Array(Buffer.from(sk.toString(16).padStart(64, "0"), "hex"));
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

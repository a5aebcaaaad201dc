/** BLS12-381 secret keys as scalars: what interop and EIP-2333 derivations share. */

/** The BLS12-381 group order r. */
export const CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

/** OS2IP(bytes) mod r: big-endian bytes → a scalar (callers reverse little-endian input first). */
export const bytesToScalar = (bytes: Uint8Array): bigint => BigInt("0x" + Buffer.from(bytes).toString("hex")) % CURVE_ORDER;

/** A scalar as 32 big-endian bytes, the serialization of a BLS secret key. */
export const scalarToBytes = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, "0"), "hex");

/**
 * A zeroed buffer for secret key bytes, off V8's heap. Small typed arrays made by length
 * (`new Uint8Array(32)`, `.slice()`) live inside the heap, where the collector moves them and the
 * old copy stays behind unwiped, and where transferring one copies it out; an explicit
 * ArrayBuffer's bytes stay where they are, so `fill(0)` wipes the only copy.
 */
export const secretBuffer = (length = 32): Uint8Array => new Uint8Array(new ArrayBuffer(length));

/** An off-heap copy of `secret` (see secretBuffer), e.g. to transfer to a worker. */
export function copySecret(secret: Uint8Array): Uint8Array {
  const copy = secretBuffer(secret.length);
  copy.set(secret);
  return copy;
}

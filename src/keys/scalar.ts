/** BLS12-381 secret keys as scalars: what interop and EIP-2333 derivations share. */

/** The BLS12-381 group order r. */
export const CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

/** OS2IP(bytes) mod r: big-endian bytes → a scalar (callers reverse little-endian input first). */
export const bytesToScalar = (bytes: Uint8Array): bigint => BigInt("0x" + Buffer.from(bytes).toString("hex")) % CURVE_ORDER;

/** A scalar as 32 big-endian bytes, the serialization of a BLS secret key. */
export const scalarToBytes = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, "0"), "hex");

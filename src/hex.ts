const hexPattern = /^0x[0-9a-fA-F]*$/;

/** `0x`-prefixed hex of exactly `length` bytes (either case) → bytes; anything else → null. */
export function hexToBytes(hex: string, length: number): Uint8Array | null {
  if (hex.length !== 2 + 2 * length || !hexPattern.test(hex)) return null;
  return new Uint8Array(Buffer.from(hex.slice(2), "hex"));
}

export function bytesToHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

declare const pubkeyBrand: unique symbol;
/**
 * A BLS public key as the signer names it everywhere (the key index, fault scopes, logs): `0x` and
 * 96 lower-case hex digits. Made only by the two functions below.
 */
export type PubkeyHex = string & {readonly [pubkeyBrand]: true};

const pubkeyPattern = /^0[xX][0-9a-fA-F]{96}$/;

/** The one normaliser for a public key given as text (a URL identifier, a SPEC's keys=): any case, the prefix too → PubkeyHex, else null. */
export function normalizePubkey(text: string): PubkeyHex | null {
  return pubkeyPattern.test(text) ? (text.toLowerCase() as PubkeyHex) : null;
}

/** A compressed public key's bytes → its PubkeyHex. */
export function pubkeyHexOf(pubkey: Uint8Array): PubkeyHex {
  return bytesToHex(pubkey) as PubkeyHex;
}

const hexPattern = /^0x[0-9a-fA-F]*$/;

/** `0x`-prefixed hex of exactly `length` bytes (either case) → bytes; anything else → null. */
export function hexToBytes(hex: string, length: number): Uint8Array | null {
  if (hex.length !== 2 + 2 * length || !hexPattern.test(hex)) return null;
  return new Uint8Array(Buffer.from(hex.slice(2), "hex"));
}

export function bytesToHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

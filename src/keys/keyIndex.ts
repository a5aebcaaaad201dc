import {randomBytes} from "node:crypto";

/** Where the index reads public keys: the key table's own bytes (a view replaced when the table grows). */
export interface PubkeyBytes {
  readonly keyBytes: Uint8Array;
  pubkeyOffset(slot: number): number;
}

/**
 * Public key → slot of the key table, as one open-addressing hash table in an Int32Array (linear
 * probing, deletion by backward shift, so no tombstones): 8–16 bytes a key, and no per-key object
 * or string. It holds slot numbers only; the public keys it compares against are the key table's
 * own bytes.
 *
 * Public keys are (compressed) curve points, as good as random, so a few of their bytes make the
 * hash; a per-process random seed keeps anyone who can choose keys (a Keymanager import) from
 * building long probe chains.
 */
export class KeyIndex {
  /** 0: empty; else a key table slot (≥ 1). */
  private buckets = new Int32Array(1024);
  private count = 0;
  private readonly hash: Hash;

  /** `hash` is for tests, which force collisions with a poor one. */
  constructor(
    private readonly keys: PubkeyBytes,
    hash?: Hash
  ) {
    this.hash = hash ?? seededHash(randomBytes(4).readInt32LE(0));
  }

  get size(): number {
    return this.count;
  }

  /** The slot holding `pubkey` (48 bytes), or 0. */
  find(pubkey: Uint8Array): number {
    const mask = this.buckets.length - 1;
    const bytes = this.keys.keyBytes;
    for (let i = this.hash(pubkey, 0) & mask; ; i = (i + 1) & mask) {
      const slot = this.buckets[i];
      if (slot === 0) return 0;
      if (equal(bytes, this.keys.pubkeyOffset(slot), pubkey)) return slot;
    }
  }

  /** Indexes `slot` under the public key it holds; the caller has checked that key is not indexed. */
  insert(slot: number): void {
    // At most half full: probe chains stay short (about 1.5 buckets on a hit, 2.5 on a miss).
    if (2 * (this.count + 1) > this.buckets.length) this.rehash(2 * this.buckets.length);
    this.place(slot);
    this.count++;
  }

  /** Drops `slot` from the index (its public key still in the table); false if it was not there. */
  delete(slot: number): boolean {
    const mask = this.buckets.length - 1;
    let i = this.homeOf(slot) & mask;
    while (this.buckets[i] !== slot) {
      if (this.buckets[i] === 0) return false;
      i = (i + 1) & mask;
    }
    // Backward shift: each key after the hole in its run moves into it if its home bucket is at or
    // before the hole (cyclically), so every lookup still meets its key before an empty bucket.
    let hole = i;
    for (let j = (i + 1) & mask; this.buckets[j] !== 0; j = (j + 1) & mask) {
      const home = this.homeOf(this.buckets[j]) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        this.buckets[hole] = this.buckets[j];
        hole = j;
      }
    }
    this.buckets[hole] = 0;
    this.count--;
    return true;
  }

  /** Grows to hold `count` keys without growing again. */
  reserve(count: number): void {
    let size = this.buckets.length;
    while (size < 2 * count) size *= 2;
    if (size > this.buckets.length) this.rehash(size);
  }

  private place(slot: number): void {
    const mask = this.buckets.length - 1;
    let i = this.homeOf(slot) & mask;
    while (this.buckets[i] !== 0) i = (i + 1) & mask;
    this.buckets[i] = slot;
  }

  private homeOf(slot: number): number {
    return this.hash(this.keys.keyBytes, this.keys.pubkeyOffset(slot));
  }

  private rehash(size: number): void {
    const old = this.buckets;
    this.buckets = new Int32Array(size);
    for (const slot of old) if (slot !== 0) this.place(slot);
  }
}

/** A hash of the 48-byte public key at `bytes[offset]`. */
export type Hash = (bytes: Uint8Array, offset: number) => number;

/** Four bytes from each of four places of the key (not byte 0: its top bits are format flags), mixed with a seed. */
function seededHash(seed: number): Hash {
  return (bytes, offset) => {
    let h = seed;
    for (let at = offset + 4; at < offset + 48; at += 12) {
      const word = bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
      h = Math.imul(h ^ word, 0x9e3779b1);
      h ^= h >>> 15;
    }
    return h >>> 0;
  };
}

function equal(bytes: Uint8Array, offset: number, pubkey: Uint8Array): boolean {
  for (let i = 0; i < 48; i++) if (bytes[offset + i] !== pubkey[i]) return false;
  return true;
}

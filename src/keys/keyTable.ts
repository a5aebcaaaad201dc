import type {PubkeyBytes} from "./keyIndex.js";

/**
 * The decrypted keys, in one SharedArrayBuffer that the main thread writes and every signing
 * worker reads. A key change is visible to every worker the moment the main thread makes it, with
 * no broadcast to acknowledge and no race with requests already queued: a worker re-reads a slot's
 * state before each signature. Replacement workers attach to the same buffer and see every key.
 *
 * Layout: slot 0 is unused (0 means "no slot" everywhere); slot i ≥ 1 holds one key:
 *   [0, 4)   state: generation << 1 | live  (Int32, written with Atomics after the bytes)
 *   [4, 52)  BLS public key (compressed, 48 bytes)
 *   [52, 84) BLS secret key (32 bytes, big-endian), zeroed on removal
 * The buffer is growable, so views made over it follow its growth without re-sending it.
 */
const SLOT_BYTES = 96;
const SLOT_INTS = SLOT_BYTES / 4;
const PUBKEY_OFFSET = 4;
const SECRET_OFFSET = 52;
const INITIAL_SLOTS = 1024;
/** 4 Mi keys: 384 MiB of address space reserved, only what is used is committed. */
export const MAX_KEYS = 4 * 1024 * 1024;

export type KeyRef = {slot: number; state: number};

export class KeyTable implements PubkeyBytes {
  private readonly ints: Int32Array;
  private readonly bytes: Uint8Array;
  /**
   * The main thread's view, of fixed length, made again when the table grows: element reads through
   * a view that tracks a growable buffer's length cost ~6× more in Node 20's V8 (~50 ns a byte),
   * which the key index (comparing public keys) would pay on every lookup.
   */
  private fixedBytes: Uint8Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.ints = new Int32Array(buffer);
    this.bytes = new Uint8Array(buffer);
    this.fixedBytes = new Uint8Array(buffer, 0, buffer.byteLength);
  }

  static create(): KeyTable {
    return new KeyTable(new SharedArrayBuffer(INITIAL_SLOTS * SLOT_BYTES, {maxByteLength: (MAX_KEYS + 1) * SLOT_BYTES}));
  }

  /** A worker's view of the table the main thread created. */
  static attach(buffer: SharedArrayBuffer): KeyTable {
    return new KeyTable(buffer);
  }

  get capacity(): number {
    return this.buffer.byteLength / SLOT_BYTES - 1;
  }

  // ---- main thread (the only writer) ----

  /** Writes a key into `slot` (grown into if needed) and publishes it. */
  write(slot: number, pubkey: Uint8Array, secretKey: Uint8Array): KeyRef {
    if (slot > this.capacity) {
      const slots = Math.min(MAX_KEYS, Math.max(slot, this.capacity * 2));
      if (slot > slots) throw new Error(`too many keys: at most ${MAX_KEYS} can be held`);
      this.buffer.grow((slots + 1) * SLOT_BYTES);
      this.fixedBytes = new Uint8Array(this.buffer, 0, this.buffer.byteLength);
    }
    const base = slot * SLOT_BYTES;
    this.bytes.set(pubkey, base + PUBKEY_OFFSET);
    this.bytes.set(secretKey, base + SECRET_OFFSET);
    const generation = (Atomics.load(this.ints, slot * SLOT_INTS) >>> 1) + 1;
    const state = ((generation << 1) | 1) & 0x7fffffff;
    Atomics.store(this.ints, slot * SLOT_INTS, state);
    return {slot, state};
  }

  /** The main thread's view of the table (replaced when it grows): the key index reads public keys in it. */
  get keyBytes(): Uint8Array {
    return this.fixedBytes;
  }

  /** Where a slot's public key starts in the table's bytes. */
  pubkeyOffset(slot: number): number {
    return slot * SLOT_BYTES + PUBKEY_OFFSET;
  }

  /** A slot's public key, as a view (main thread). */
  pubkeyAt(slot: number): Uint8Array {
    const base = this.pubkeyOffset(slot);
    return this.fixedBytes.subarray(base, base + 48);
  }

  /** Unpublishes a key, then wipes its secret. */
  clear(slot: number): void {
    const generation = (Atomics.load(this.ints, slot * SLOT_INTS) >>> 1) + 1;
    Atomics.store(this.ints, slot * SLOT_INTS, (generation << 1) & 0x7fffffff);
    this.bytes.fill(0, slot * SLOT_BYTES + SECRET_OFFSET, slot * SLOT_BYTES + SECRET_OFFSET + 32);
  }

  // ---- workers (readers) ----

  state(slot: number): number {
    return Atomics.load(this.ints, slot * SLOT_INTS);
  }

  /**
   * Copies the secret key of `ref` into `out` (32 bytes, the caller's to wipe); false if that key is
   * no longer there. The state is read again after the copy (a seqlock), so a removal racing with
   * the read can never yield a torn key. A worker signs from the table itself this way, with no
   * per-key copy of its own.
   */
  readSecretInto(ref: KeyRef, out: Uint8Array): boolean {
    if (this.state(ref.slot) !== ref.state) return false;
    const base = ref.slot * SLOT_BYTES + SECRET_OFFSET;
    out.set(this.bytes.subarray(base, base + 32));
    if (this.state(ref.slot) === ref.state) return true;
    out.fill(0);
    return false;
  }

  /** The public key of `ref`, or null if that key is no longer there (read like readSecretInto). */
  readPubkey(ref: KeyRef): Uint8Array | null {
    if (this.state(ref.slot) !== ref.state) return null;
    const base = ref.slot * SLOT_BYTES + PUBKEY_OFFSET;
    const pubkey = this.bytes.slice(base, base + 48);
    return this.state(ref.slot) === ref.state ? pubkey : null;
  }
}

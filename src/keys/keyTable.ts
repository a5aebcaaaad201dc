import {copySecret} from "./scalar.js";

/**
 * The decrypted keys, in one SharedArrayBuffer that the main thread writes and every signing
 * worker reads. A key change is visible to every worker the moment the main thread makes it, with
 * no broadcast to acknowledge and no race with requests already queued: a worker re-reads a slot's
 * state before each signature. Replacement workers attach to the same buffer and see every key.
 *
 * Layout: slot 0 is a header (Int32 0: a counter bumped on every removal, so workers can drop cached
 * secret keys); slot i ≥ 1 holds one key:
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

export class KeyTable {
  private readonly ints: Int32Array;
  private readonly bytes: Uint8Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.ints = new Int32Array(buffer);
    this.bytes = new Uint8Array(buffer);
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
    }
    const base = slot * SLOT_BYTES;
    this.bytes.set(pubkey, base + PUBKEY_OFFSET);
    this.bytes.set(secretKey, base + SECRET_OFFSET);
    const generation = (Atomics.load(this.ints, slot * SLOT_INTS) >>> 1) + 1;
    const state = ((generation << 1) | 1) & 0x7fffffff;
    Atomics.store(this.ints, slot * SLOT_INTS, state);
    return {slot, state};
  }

  /** Unpublishes a key, then wipes its secret. */
  clear(slot: number): void {
    const generation = (Atomics.load(this.ints, slot * SLOT_INTS) >>> 1) + 1;
    Atomics.store(this.ints, slot * SLOT_INTS, (generation << 1) & 0x7fffffff);
    this.bytes.fill(0, slot * SLOT_BYTES + SECRET_OFFSET, slot * SLOT_BYTES + SECRET_OFFSET + 32);
    Atomics.add(this.ints, 0, 1);
  }

  // ---- workers (readers) ----

  state(slot: number): number {
    return Atomics.load(this.ints, slot * SLOT_INTS);
  }

  removals(): number {
    return Atomics.load(this.ints, 0);
  }

  /**
   * The secret key of `ref`, or null if that key is no longer there. The state is read again after
   * the copy (a seqlock), so a removal racing with the read can never yield a torn key.
   */
  readSecret(ref: KeyRef): Uint8Array | null {
    if (this.state(ref.slot) !== ref.state) return null;
    const base = ref.slot * SLOT_BYTES + SECRET_OFFSET;
    const secret = copySecret(this.bytes.subarray(base, base + 32));
    if (this.state(ref.slot) === ref.state) return secret;
    secret.fill(0);
    return null;
  }

  /** The public key of `ref`, or null if that key is no longer there (read like readSecret). */
  readPubkey(ref: KeyRef): Uint8Array | null {
    if (this.state(ref.slot) !== ref.state) return null;
    const base = ref.slot * SLOT_BYTES + PUBKEY_OFFSET;
    const pubkey = this.bytes.slice(base, base + 48);
    return this.state(ref.slot) === ref.state ? pubkey : null;
  }
}

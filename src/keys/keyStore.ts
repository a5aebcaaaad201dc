import {type PubkeyHex, normalizePubkey, pubkeyHexOf} from "../hex.js";
import {type KeyRef, KeyTable} from "./keyTable.js";

export type KeyInfo = {
  /** Where the key came from: `interop`, `keystore`, `mnemonic`, `keymanager`. */
  source: string;
  /** Keys from start-up sources can't be deleted through the Keymanager API. */
  readonly: boolean;
  /** EIP-2334 path, where the source tells it (keystores, mnemonics). */
  derivationPath?: string;
};
export type KeyEntry = KeyRef & KeyInfo & {pubkeyHex: PubkeyHex};

/**
 * The main thread's index of the loaded keys (public key hex → slot in the shared KeyTable).
 * It answers "is this key here?" before any work is handed to a worker, and is the only writer
 * of the table.
 */
export class KeyStore {
  readonly table = KeyTable.create();
  private readonly byPubkey = new Map<PubkeyHex, KeyEntry>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 1;

  get size(): number {
    return this.byPubkey.size;
  }

  /** Adds a key; false if it is already loaded (a key loads once, whatever its sources). */
  add(pubkey: Uint8Array, secretKey: Uint8Array, info: KeyInfo): boolean {
    const pubkeyHex = pubkeyHexOf(pubkey);
    if (this.byPubkey.has(pubkeyHex)) return false;
    const slot = this.freeSlots.pop() ?? this.nextSlot++;
    const ref = this.table.write(slot, pubkey, secretKey);
    this.byPubkey.set(pubkeyHex, {...ref, ...info, pubkeyHex});
    return true;
  }

  remove(pubkeyHex: string): KeyEntry | undefined {
    const entry = this.get(pubkeyHex);
    if (!entry) return undefined;
    this.byPubkey.delete(entry.pubkeyHex);
    this.table.clear(entry.slot);
    this.freeSlots.push(entry.slot);
    return entry;
  }

  /** Looks a key up by its 0x-prefixed hex, in either case. */
  get(pubkeyHex: string): KeyEntry | undefined {
    const id = normalizePubkey(pubkeyHex);
    return id === null ? undefined : this.byPubkey.get(id);
  }

  entries(): IterableIterator<KeyEntry> {
    return this.byPubkey.values();
  }

  publicKeys(): string[] {
    return [...this.byPubkey.keys()];
  }
}

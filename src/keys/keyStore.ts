import {normalizePubkey, type PubkeyHex, pubkeyHexOf} from "../hex.js";
import {KeyIndex} from "./keyIndex.js";
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

/** EIP-2334 signing key paths, the usual case by far, are kept as their index alone. */
const SIGNING_KEY_PATH = /^m\/12381\/3600\/(\d{1,9})\/0\/0$/;

/**
 * The main thread's index of the loaded keys: it answers "is this key here?" before any work is
 * handed to a worker, and is the only writer of the shared KeyTable. Everything it keeps per key is
 * flat: the KeyIndex (public key → slot) and a byte and an int per slot for where the key came
 * from, about 20–30 bytes a key beyond the table's 96. Hex strings and entry objects are made only
 * when asked for (GET publicKeys, the Keymanager list), never kept.
 */
export class KeyStore {
  readonly table = KeyTable.create();
  private readonly index = new KeyIndex(this.table);
  /** The few distinct {source, readonly} pairs; a slot's `infoIds` entry is 1 + its position here (0: free slot). */
  private readonly infos: KeyInfo[] = [];
  private infoIds = new Uint8Array(1024);
  /** i + 1 for a key whose path is m/12381/3600/i/0/0; other paths are in `otherPaths`. */
  private pathIndices = new Int32Array(1024);
  private readonly otherPaths = new Map<number, string>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 1;
  private readonly scratch = Buffer.alloc(48);

  get size(): number {
    return this.index.size;
  }

  /** Adds a key: its slot, or 0 if it is already loaded (a key loads once, whatever its sources). */
  add(pubkey: Uint8Array, secretKey: Uint8Array, info: KeyInfo): number {
    if (this.index.find(pubkey) !== 0) return 0;
    const slot = this.freeSlots.pop() ?? this.nextSlot++;
    this.table.write(slot, pubkey, secretKey);
    this.index.insert(slot);
    this.describe(slot, info);
    return slot;
  }

  /** Makes room for `count` more keys at once, rather than growing step by step while they load. */
  reserve(count: number): void {
    this.index.reserve(this.index.size + count);
  }

  /** The slot of a loaded key (48 bytes), or 0. */
  slotOf(pubkey: Uint8Array): number {
    return this.index.find(pubkey);
  }

  remove(pubkeyHex: string): KeyEntry | undefined {
    const entry = this.get(pubkeyHex);
    if (entry) this.removeSlot(entry.slot);
    return entry;
  }

  /** Removes the key in `slot` (one an entry named); its secret is wiped at once. */
  removeSlot(slot: number): void {
    if (this.infoIds[slot] === 0) return;
    this.index.delete(slot);
    this.table.clear(slot);
    this.infoIds[slot] = 0;
    this.pathIndices[slot] = 0;
    this.otherPaths.delete(slot);
    this.freeSlots.push(slot);
  }

  /** Looks a key up by its 0x-prefixed hex, in either case. */
  get(pubkeyHex: string): KeyEntry | undefined {
    const id = normalizePubkey(pubkeyHex);
    if (id === null) return undefined;
    this.scratch.write(id.slice(2), 0, 48, "hex");
    const slot = this.index.find(this.scratch);
    return slot === 0 ? undefined : this.entryAt(slot, id);
  }

  /** Every loaded key (those whose info passes `filter`), in slot order; entries are made as they are reached. */
  *entries(filter?: (info: KeyInfo) => boolean): Generator<KeyEntry> {
    // Asked once per distinct info, not per key: the data-dir sync walks a million keys every second.
    const passes = this.infos.map((info) => !filter || filter(info));
    for (let slot = 1; slot < this.nextSlot; slot++) {
      const id = this.infoIds[slot];
      if (id !== 0 && (passes[id - 1] ?? (!filter || filter(this.infos[id - 1])))) yield this.entryAt(slot);
    }
  }

  publicKeys(): string[] {
    return Array.from(this.entries(), (e) => e.pubkeyHex);
  }

  /** GET /api/v1/eth2/publicKeys's body, `["0x…",…]`, written straight from the table (101 bytes a key). */
  publicKeysJson(): string {
    const out = Buffer.allocUnsafe(2 + 101 * this.size);
    let at = 0;
    out[at++] = 0x5b; // [
    for (let slot = 1; slot < this.nextSlot; slot++) {
      if (this.infoIds[slot] === 0) continue;
      if (at > 1) out[at++] = 0x2c; // ,
      at += out.write('"0x', at, "latin1");
      const pubkey = this.table.pubkeyAt(slot);
      at += out.write(Buffer.from(pubkey.buffer, pubkey.byteOffset, 48).toString("hex"), at, "latin1");
      out[at++] = 0x22; // "
    }
    out[at++] = 0x5d; // ]
    return out.toString("latin1", 0, at);
  }

  private entryAt(slot: number, pubkeyHex?: PubkeyHex): KeyEntry {
    const {source, readonly} = this.infos[this.infoIds[slot] - 1];
    const pathIndex = this.pathIndices[slot];
    const derivationPath = pathIndex !== 0 ? `m/12381/3600/${pathIndex - 1}/0/0` : this.otherPaths.get(slot);
    return new Entry(this.table, slot, source, readonly, derivationPath, pubkeyHex);
  }

  /** Records where the key in `slot` came from, in the flat per-slot arrays. */
  private describe(slot: number, {source, readonly, derivationPath}: KeyInfo): void {
    if (slot >= this.infoIds.length) {
      const grown = new Uint8Array(2 * slot);
      grown.set(this.infoIds);
      this.infoIds = grown;
      const paths = new Int32Array(2 * slot);
      paths.set(this.pathIndices);
      this.pathIndices = paths;
    }
    let id = this.infos.findIndex((i) => i.source === source && i.readonly === readonly);
    if (id < 0) {
      if (this.infos.length === 255) throw new Error("too many distinct key sources");
      id = this.infos.push({source, readonly}) - 1;
    }
    this.infoIds[slot] = id + 1;
    if (!derivationPath) return; // keystores without a path say "", as the Keymanager list does for none
    const signingKey = SIGNING_KEY_PATH.exec(derivationPath);
    if (signingKey && Number(signingKey[1]) < 2 ** 31 - 1) this.pathIndices[slot] = Number(signingKey[1]) + 1;
    else this.otherPaths.set(slot, derivationPath);
  }
}

/** A key as the store describes it; its hex is made when first read (a reload walks every key and reads few). */
class Entry implements KeyEntry {
  readonly state: number;

  constructor(
    private readonly table: KeyTable,
    readonly slot: number,
    readonly source: string,
    readonly readonly: boolean,
    readonly derivationPath: string | undefined,
    private hex: PubkeyHex | undefined
  ) {
    this.state = table.state(slot);
  }

  get pubkeyHex(): PubkeyHex {
    return (this.hex ??= pubkeyHexOf(this.table.pubkeyAt(this.slot)));
  }
}

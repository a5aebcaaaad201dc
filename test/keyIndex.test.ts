import {randomBytes} from "node:crypto";
import {SecretKey} from "@chainsafe/blst";
import {describe, expect, it} from "vitest";
import {bytesToHex} from "../src/hex.js";
import {interopSecretKey} from "../src/keys/interop.js";
import {KeyIndex} from "../src/keys/keyIndex.js";
import {KeyStore} from "../src/keys/keyStore.js";

/** Random 48-byte keys (the index never looks inside them but to hash). */
function keyBytes(n: number): Uint8Array[] {
  return Array.from({length: n}, () => new Uint8Array(randomBytes(48)));
}

describe("KeyIndex (open addressing over the key table's bytes)", () => {
  // Every key hashes to one of 3 values: long runs of collisions that wrap around the end of the
  // buckets, so backward-shift deletion must move the right keys.
  const collide = (bytes: Uint8Array, offset: number) => (bytes[offset + 5] % 3) * 341 + 1020;

  it.each([
    ["a real hash", undefined],
    ["a hash with three values (every key collides)", collide],
  ])("finds, deletes and regrows like a Map, with %s", (_, hash) => {
    // Slot i's key at bytes[48 i], as the key table keeps them (slot 0 is never used).
    const keys: Uint8Array[] = [new Uint8Array(48)];
    let bytes = new Uint8Array(0);
    const index = new KeyIndex(
      {
        get keyBytes() {
          return bytes;
        },
        pubkeyOffset: (slot) => 48 * slot,
      },
      hash
    );
    const store = (slot: number) => {
      if (bytes.length < 48 * keys.length) {
        const grown = new Uint8Array(96 * keys.length);
        grown.set(bytes);
        bytes = grown;
      }
      bytes.set(keys[slot], 48 * slot);
    };
    const live = new Map<string, number>();
    const check = () => {
      expect(index.size).toBe(live.size);
      for (let slot = 1; slot < keys.length; slot++) {
        const want = live.get(bytesToHex(keys[slot])) ?? 0;
        expect(index.find(keys[slot])).toBe(want);
      }
      for (const absent of keyBytes(20)) expect(index.find(absent)).toBe(0);
    };
    // Grow past several rehashes (1024 buckets to start, half full at most).
    const n = hash ? 700 : 3000;
    for (const pubkey of keyBytes(n)) {
      keys.push(pubkey);
      store(keys.length - 1);
      index.insert(keys.length - 1);
      live.set(bytesToHex(pubkey), keys.length - 1);
    }
    check();
    // Delete every third key, then put some back in the freed slots with new keys.
    for (let slot = 1; slot < keys.length; slot += 3) {
      expect(index.delete(slot)).toBe(true);
      live.delete(bytesToHex(keys[slot]));
    }
    expect(index.delete(1)).toBe(false);
    check();
    for (let slot = 1; slot < keys.length; slot += 6) {
      keys[slot] = keyBytes(1)[0];
      store(slot);
      index.insert(slot);
      live.set(bytesToHex(keys[slot]), slot);
    }
    check();
  });
});

describe("KeyStore", () => {
  const key = (i: number) => {
    const secret = interopSecretKey(i);
    return {secret, pubkey: SecretKey.fromBytes(secret).toPublicKey().toBytes()};
  };

  it("looks keys up by hex in either case, and not by anything else", () => {
    const store = new KeyStore();
    const {secret, pubkey} = key(1);
    expect(store.add(pubkey, secret, {source: "interop", readonly: true})).toBe(1);
    expect(store.add(pubkey, secret, {source: "keystore", readonly: true})).toBe(0);
    const hex = bytesToHex(pubkey);
    for (const spelling of [hex, hex.toUpperCase(), "0x" + hex.slice(2).toUpperCase()]) {
      expect(store.get(spelling)?.slot).toBe(1);
    }
    expect(store.get(hex)?.source).toBe("interop");
    for (const bad of [hex.slice(2), hex.slice(0, -2), hex + "00", hex.slice(0, -2) + "zz", "", "0x"])
      expect(store.get(bad)).toBeUndefined();
    expect(store.get(bytesToHex(key(2).pubkey))).toBeUndefined();
  });

  it("keeps where each key came from, and lists its keys from the table", () => {
    const store = new KeyStore();
    store.add(key(0).pubkey, key(0).secret, {source: "mnemonic", readonly: true, derivationPath: "m/12381/3600/0/0/0"});
    store.add(key(1).pubkey, key(1).secret, {source: "keystore", readonly: true, derivationPath: "m/12381/60/3141592653/589793238"});
    store.add(key(2).pubkey, key(2).secret, {source: "keymanager", readonly: false, derivationPath: "m/12381/3600/4294967295/0/0"});
    store.add(key(3).pubkey, key(3).secret, {source: "keymanager", readonly: false});
    const entries = [...store.entries()].map(({source, readonly, derivationPath, pubkeyHex}) => ({
      source,
      readonly,
      derivationPath,
      pubkeyHex,
    }));
    expect(entries).toEqual([
      {source: "mnemonic", readonly: true, derivationPath: "m/12381/3600/0/0/0", pubkeyHex: bytesToHex(key(0).pubkey)},
      {source: "keystore", readonly: true, derivationPath: "m/12381/60/3141592653/589793238", pubkeyHex: bytesToHex(key(1).pubkey)},
      {source: "keymanager", readonly: false, derivationPath: "m/12381/3600/4294967295/0/0", pubkeyHex: bytesToHex(key(2).pubkey)},
      {source: "keymanager", readonly: false, derivationPath: undefined, pubkeyHex: bytesToHex(key(3).pubkey)},
    ]);
    expect([...store.entries((i) => i.source === "keymanager")].map((e) => e.slot)).toEqual([3, 4]);
    expect(JSON.parse(store.publicKeysJson())).toEqual(entries.map((e) => e.pubkeyHex));
    expect(store.publicKeys()).toEqual(entries.map((e) => e.pubkeyHex));
  });

  it("removes keys: gone from lookups and lists, secret wiped, slot reused", () => {
    const store = new KeyStore();
    for (let i = 0; i < 50; i++) store.add(key(i).pubkey, key(i).secret, {source: "interop", readonly: true});
    const victim = bytesToHex(key(10).pubkey);
    const {slot, state} = store.get(victim)!;
    expect(store.remove(victim)?.slot).toBe(slot);
    expect(store.remove(victim)).toBeUndefined();
    expect(store.get(victim)).toBeUndefined();
    expect(store.size).toBe(49);
    expect(store.table.readSecretInto({slot, state}, new Uint8Array(32))).toBe(false);
    expect(JSON.parse(store.publicKeysJson())).not.toContain(victim);
    // Every other key is still found after the index shifted keys into the hole.
    for (let i = 0; i < 50; i++) if (i !== 10) expect(store.get(bytesToHex(key(i).pubkey))).toBeDefined();
    store.add(key(99).pubkey, key(99).secret, {source: "keymanager", readonly: false});
    expect(store.get(bytesToHex(key(99).pubkey))?.slot).toBe(slot);
    expect(JSON.parse(store.publicKeysJson())).toHaveLength(50);
  });

  it("holds 20,000 keys with lookups and deletes (the table's bytes are the only copy of each key)", () => {
    const store = new KeyStore();
    const n = 20_000;
    const pubkeys = keyBytes(n);
    const secret = new Uint8Array(32);
    for (const pk of pubkeys) store.add(pk, secret, {source: "interop", readonly: true});
    expect(store.size).toBe(n);
    const hex = pubkeys.map(bytesToHex);
    let removed = 0;
    for (let i = 0; i < n; i += 2) if (store.remove(hex[i])?.pubkeyHex === hex[i]) removed++;
    expect(removed).toBe(n / 2);
    // Counted, then checked once: an expect() per key would cost more than the store.
    let wrong = 0;
    for (let i = 0; i < n; i++) if ((store.get(hex[i]) === undefined) !== (i % 2 === 0)) wrong++;
    expect(wrong).toBe(0);
    expect(store.size).toBe(n / 2);
  });
});

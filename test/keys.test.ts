import {Keystore as ChainsafeKeystore} from "@chainsafe/bls-keystore";
import {SecretKey} from "@chainsafe/blst";
import {describe, expect, it} from "vitest";
import {checkCrypto, decryptKeystore, KdfCache, KeystoreError, parseKeystore} from "../src/keys/eip2335.js";
import {interopSecretKey, parseInteropRange} from "../src/keys/interop.js";
import {deriveChildSk, deriveMasterSk, deriveSecretKey, mnemonicToSeed, signingKeyPath} from "../src/keys/mnemonic.js";

// EIP-2335 test vectors: the password is "𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑", which NFKD turns into "testpassword🔑".
const EIP2335_PASSWORD =
  "\u{1d531}\u{1d522}\u{1d530}\u{1d531}\u{1d52d}\u{1d51e}\u{1d530}\u{1d530}\u{1d534}\u{1d52c}\u{1d52f}\u{1d521}\u{1f511}";
const EIP2335_SECRET = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
const EIP2335_PUBKEY = "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07";
const vector = (kdf: object, checksum: string, cipher: string) =>
  JSON.stringify({
    crypto: {
      kdf,
      checksum: {function: "sha256", params: {}, message: checksum},
      cipher: {function: "aes-128-ctr", params: {iv: "264daa3f303d7259501c93d997d84fe6"}, message: cipher},
    },
    description: "This is a test keystore that uses scrypt to secure the secret.",
    pubkey: EIP2335_PUBKEY,
    path: "m/12381/60/3141592653/589793238",
    uuid: "1d85ae20-35c5-4611-98e8-aa14a633906f",
    version: 4,
  });
const salt = "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3";
const scryptVector = vector(
  {function: "scrypt", params: {dklen: 32, n: 262144, p: 1, r: 8, salt}, message: ""},
  "d2217fe5f3e9a1e34581ef8a78f7c9928e436d36dacc5e846690a5581e8ea484",
  "06ae90d55fe0a6e9c5c3bc5b170827b2e5cce3929ed3f116c2811e6366dfe20f"
);
const pbkdf2Vector = vector(
  {function: "pbkdf2", params: {dklen: 32, c: 262144, prf: "hmac-sha256", salt}, message: ""},
  "8a9f5d9912ed7e75ea794bc5a89bca5f193721d30868ade6f73043c6ea6febf1",
  "cee03fde2af33149775b7223e7845e4fb2c8ae1792e5f99fe9ecf474cc8c16ad"
);

describe("EIP-2335 keystores", () => {
  it.each([
    ["scrypt", scryptVector],
    ["pbkdf2", pbkdf2Vector],
  ])("decrypts the EIP's %s test vector (password normalized)", async (_, text) => {
    const secret = await decryptKeystore(parseKeystore(text), EIP2335_PASSWORD);
    expect(Buffer.from(secret).toString("hex")).toBe(EIP2335_SECRET);
    expect(SecretKey.fromBytes(secret).toPublicKey().toHex()).toBe("0x" + EIP2335_PUBKEY);
  });

  it("rejects a wrong password by its checksum", async () => {
    await expect(decryptKeystore(parseKeystore(pbkdf2Vector), "testpassword")).rejects.toThrow(/wrong password \(checksum mismatch\)/);
  });

  it("decrypts keystores written by @chainsafe/bls-keystore (another implementation)", async () => {
    const secret = interopSecretKey(5);
    const pubkey = SecretKey.fromBytes(secret).toPublicKey().toBytes();
    for (const kdf of [
      {function: "pbkdf2" as const, params: {dklen: 32, c: 1024, prf: "hmac-sha256" as const, salt: "ab".repeat(32)}},
      {function: "scrypt" as const, params: {dklen: 32, n: 1024, r: 8, p: 1, salt: "cd".repeat(32)}},
    ]) {
      const keystore = await ChainsafeKeystore.create("pässword\n", secret, pubkey, "m/12381/3600/5/0/0", null, kdf);
      const decrypted = await decryptKeystore(parseKeystore(keystore.stringify()), "pässword\n");
      expect(Buffer.from(decrypted).equals(Buffer.from(secret))).toBe(true);
    }
  });

  it.each([
    ["{not json", /not JSON/],
    [JSON.stringify({version: 4}), /not an EIP-2335 keystore/],
    [pbkdf2Vector.replace('"version":4', '"version":3'), /not an EIP-2335 keystore/],
  ])("refuses a malformed keystore (%#)", (text, message) => {
    expect(() => parseKeystore(text)).toThrow(KeystoreError);
    expect(() => parseKeystore(text)).toThrow(message);
  });

  it("never quotes the text in a parse error (JSON.parse's message would: a password file's beginning)", () => {
    for (const text of ["correct horse battery staple", '{"crypto": correct horse']) {
      expect(() => parseKeystore(text)).toThrow(/^not JSON: a syntax error/);
      try {
        parseKeystore(text);
      } catch (e) {
        expect((e as Error).message).not.toMatch(/corr/);
      }
    }
  });

  // Each over its cap; refused before any work, so none of these takes time or memory. Before the
  // caps, scrypt n=2^21 r=8 took 9.8 s and 2 GiB, pbkdf2 dklen=2^29 512 MiB.
  const withKdf = (text: string, params: object, kdf?: string) => {
    const json = JSON.parse(text);
    json.crypto.kdf.params = {...json.crypto.kdf.params, ...params};
    if (kdf) json.crypto.kdf.function = kdf;
    return JSON.stringify(json);
  };
  it.each([
    ["scrypt n = 2^21", withKdf(scryptVector, {n: 2 ** 21}), /refused: scrypt n must be a power of two from 2 to 2\^20/],
    ["scrypt n not a power of two", withKdf(scryptVector, {n: 3 * 2 ** 16}), /refused: scrypt n must be a power of two/],
    ["scrypt n*r*p = 2^23", withKdf(scryptVector, {n: 2 ** 20, r: 8}), /refused: scrypt n\*r\*p is over 2\^22 \(n=1048576, r=8, p=1\)/],
    ["scrypt p = 2^20", withKdf(scryptVector, {n: 2 ** 10, p: 2 ** 20}), /refused: scrypt n\*r\*p is over 2\^22/],
    ["scrypt r = 0", withKdf(scryptVector, {r: 0}), /refused: scrypt r and p must be positive integers/],
    ["pbkdf2 c = 2^23", withKdf(pbkdf2Vector, {c: 2 ** 23}), /refused: pbkdf2 c must be an integer from 1 to 2\^22/],
    ["pbkdf2 c = 0", withKdf(pbkdf2Vector, {c: 0}), /refused: pbkdf2 c must be/],
    ["pbkdf2 dklen = 2^29", withKdf(pbkdf2Vector, {dklen: 2 ** 29}), /refused: pbkdf2 dklen must be 32/],
    ["scrypt dklen = 64", withKdf(scryptVector, {dklen: 64}), /refused: scrypt dklen must be 32/],
    ["a 1 KiB pbkdf2 salt", withKdf(pbkdf2Vector, {salt: "ab".repeat(1024)}), /refused: pbkdf2 salt over 256 bytes/],
  ])("refuses %s before deriving anything", async (_, text, message) => {
    const started = process.cpuUsage();
    await expect(decryptKeystore(parseKeystore(text), EIP2335_PASSWORD)).rejects.toThrow(message);
    // No KDF ran: far less CPU than even the cheapest of these would take (pbkdf2 c = 2^18 is ~100 ms).
    expect(process.cpuUsage(started).user).toBeLessThan(50_000);
  });

  it("accepts the caps themselves", () => {
    for (const [text, params] of [
      [scryptVector, {n: 2 ** 20, r: 4}],
      [scryptVector, {n: 2 ** 18, r: 8, p: 2}],
      [pbkdf2Vector, {c: 2 ** 22, salt: "ab".repeat(256)}],
    ] as const) {
      expect(() => checkCrypto(parseKeystore(withKdf(text, params)).crypto)).not.toThrow();
    }
  });

  it("derives a shared salt and password once", async () => {
    const cache = new KdfCache();
    const kdf = JSON.parse(pbkdf2Vector).crypto.kdf;
    const cheap = {...kdf, params: {...kdf.params, c: 1000}};
    const [a, b] = [cache.derive(cheap, Buffer.from("pw")), cache.derive(cheap, Buffer.from("pw"))];
    expect(a).toBe(b);
    expect(cache.derive(cheap, Buffer.from("other"))).not.toBe(a);
  });
});

describe("EIP-2333 / EIP-2334 key derivation", () => {
  // EIP-2333 test case 0: the seed is BIP-39's "abandon … about" with passphrase "TREZOR".
  const seedHex =
    "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04";
  const seed = Buffer.from(seedHex, "hex");

  it("derives the master and child keys of EIP-2333 test case 0", () => {
    const master = deriveMasterSk(seed);
    expect(master).toBe(6083874454709270928345386274498605044986640685124978867557563392430687146096n);
    expect(deriveChildSk(master, 0)).toBe(20397789859736650942317412262472558107875392172444076792671091975210932703118n);
  });

  it("turns a BIP-39 mnemonic into its seed (BIP-39 vector)", () => {
    const mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    expect(Buffer.from(mnemonicToSeed(mnemonic, "TREZOR")).toString("hex")).toBe(seedHex);
    expect(Buffer.from(mnemonicToSeed(`  ${mnemonic.replace(/ /g, "   ")}\n`, "TREZOR")).toString("hex")).toBe(seedHex);
  });

  it("refuses a mnemonic with a bad checksum or unknown words", () => {
    expect(() => mnemonicToSeed("abandon ".repeat(12).trim())).toThrow(/not a valid BIP-39/);
    expect(() => mnemonicToSeed("hello world")).toThrow(/not a valid BIP-39/);
  });

  it("follows the EIP-2334 signing key path", () => {
    expect(signingKeyPath(7)).toBe("m/12381/3600/7/0/0");
    const viaPath = deriveSecretKey(seed, "m/0");
    expect(BigInt("0x" + Buffer.from(viaPath).toString("hex"))).toBe(
      20397789859736650942317412262472558107875392172444076792671091975210932703118n
    );
    expect(() => deriveSecretKey(seed, "x/1")).toThrow(/starts with m/);
  });
});

describe("interop keys", () => {
  it("derives the published interop key 0", () => {
    const sk = interopSecretKey(0);
    expect(Buffer.from(sk).toString("hex")).toBe("25295f0d1d592a90b333e26e85149708208e9f8e8bc18f6c77bd62f8ad7a6866");
    expect(SecretKey.fromBytes(sk).toPublicKey().toHex()).toBe(
      "0xa99a76ed7796f7be22d5b7e85deeb7c5677e88e511e0b337618f8c4eb61349b4bf2d153f649f7b53359fe8b94a38e44c"
    );
  });

  it("parses N and START:COUNT", () => {
    expect(parseInteropRange("64")).toEqual({start: 0, count: 64});
    expect(parseInteropRange("100:5")).toEqual({start: 100, count: 5});
    expect(() => parseInteropRange("-1")).toThrow(/START:COUNT/);
  });
});

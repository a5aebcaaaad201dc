import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PublicKey, SecretKey, Signature, verify} from "@chainsafe/blst";
import {describe, expect, it} from "vitest";
import {DerivedKeyCache, INTEROP_IKM} from "../src/keys/derivedKeyCache.js";
import {encryptKeystore} from "../src/keys/eip2335.js";
import {interopSecretKey} from "../src/keys/interop.js";
import {deriveSecretKey, mnemonicToSeed, signingKeyPath} from "../src/keys/mnemonic.js";
import {createLogger} from "../src/log.js";
import {request, sign, startTestSigner, type TestSigner, vectorsPath} from "./helpers/signer.js";

const attestation = (JSON.parse(readFileSync(vectorsPath, "utf8")) as {name: string; request: object; signing_root: string}[]).find(
  (v) => v.name === "web3signer: ATTESTATION"
)!;
const root = Buffer.from(attestation.signing_root.slice(2), "hex");
const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `ts3signer-${prefix}-`));
const mode = (path: string) => statSync(path).mode & 0o777;
const pubkeyOf = (secret: Uint8Array) => SecretKey.fromBytes(secret).toPublicKey().toHex();
const interopPubkeys = (start: number, count: number) => Array.from({length: count}, (_, i) => pubkeyOf(interopSecretKey(start + i)));
const messages = (s: TestSigner) => s.lines.map((l) => JSON.parse(l) as {level: string; msg: string});
const logged = (s: TestSigner, re: RegExp) => messages(s).filter((l) => re.test(l.msg));

/** The signer's keys are exactly `expected`, and each of them signs a signature that verifies. */
async function servesExactly(s: TestSigner, expected: string[]): Promise<void> {
  expect((await request(`${s.url}/api/v1/eth2/publicKeys`)).json().sort()).toEqual([...expected].sort());
  for (const pubkey of expected) {
    const reply = await sign(s.url, pubkey, attestation.request);
    expect(reply.status).toBe(200);
    expect(verify(root, PublicKey.fromHex(pubkey), Signature.fromHex(reply.json().signature))).toBe(true);
  }
}

async function withSigner(config: Parameters<typeof startTestSigner>[0], check: (s: TestSigner) => Promise<void>): Promise<TestSigner> {
  const s = await startTestSigner({network: "minimal", ...config});
  try {
    await check(s);
  } finally {
    await s.close();
  }
  return s;
}

describe("restart cache of derived keys", () => {
  const range = {start: 3, count: 24};
  const expected = interopPubkeys(range.start, range.count);
  const config = (cacheDir: string) => ({interopKeys: `${range.start}:${range.count}`, cacheDir});

  it("caches interop keys at the first start (mode 0600) and reads them back at the next", async () => {
    const cacheDir = join(tmp("cache"), "nested");
    const first = await withSigner(config(cacheDir), (s) => servesExactly(s, expected));
    expect(logged(first, /interop keys cached/)).toHaveLength(1);
    expect(mode(join(cacheDir, "interop-keys.bin"))).toBe(0o600);
    expect(mode(cacheDir)).toBe(0o700);
    const second = await withSigner(config(cacheDir), (s) => servesExactly(s, expected));
    expect(logged(second, /interop keys read from the restart cache/)).toHaveLength(1);
    expect(logged(second, /cached|corrupt|wrong/)).toHaveLength(0);
  });

  const corruptions: [string, (file: string, cacheDir: string) => Promise<void> | void][] = [
    [
      "a byte changed",
      (file) => {
        const data = readFileSync(file);
        data[data.length >> 1] ^= 1;
        writeFileSync(file, data);
      },
    ],
    ["truncated", (file) => truncateSync(file, statSync(file).size - 80)],
    [
      "of another range",
      async (file) => {
        const other = tmp("cache-other");
        await withSigner({interopKeys: `${range.start + 1}:${range.count}`, cacheDir: other}, async () => {});
        copyFileSync(join(other, "interop-keys.bin"), file);
      },
    ],
  ];
  it.each(corruptions)("rebuilds a cache %s from the source, logged; every key still right", async (_, corrupt) => {
    const cacheDir = tmp("cache");
    await withSigner(config(cacheDir), async () => {});
    await corrupt(join(cacheDir, "interop-keys.bin"), cacheDir);
    const s = await withSigner(config(cacheDir), (s) => servesExactly(s, expected));
    expect(logged(s, /key cache does not fit .* or is corrupt/).map((l) => l.level)).toEqual(["warn"]);
    expect(logged(s, /interop keys cached/)).toHaveLength(1); // rewritten
    const again = await withSigner(config(cacheDir), async () => {});
    expect(logged(again, /read from the restart cache/)).toHaveLength(1);
  });

  it("catches a cache that authenticates but pairs secrets with the wrong public keys (a bug writing it), and rebuilds it", async () => {
    const cacheDir = tmp("cache");
    // Interop keys' cache key is public (their secrets are): write one whose public keys are rotated by one.
    const secretKeys = new Uint8Array(32 * range.count);
    const publicKeys = new Uint8Array(48 * range.count);
    for (let i = 0; i < range.count; i++) {
      secretKeys.set(interopSecretKey(range.start + i), 32 * i);
      publicKeys.set(Buffer.from(expected[(i + 1) % range.count].slice(2), "hex"), 48 * i);
    }
    new DerivedKeyCache(cacheDir, createLogger({level: "error", format: "json", write: () => {}})).write(
      {kind: "interop", ikm: INTEROP_IKM, ...range},
      {secretKeys, publicKeys}
    );
    const s = await withSigner(config(cacheDir), (s) => servesExactly(s, expected));
    expect(logged(s, /key cache holds a wrong key/).map((l) => l.level)).toEqual(["error"]);
  });

  it("caches mnemonic keys under the mnemonic: another mnemonic's cache is refused", async () => {
    const dir = tmp("mnemonic");
    const cacheDir = join(dir, "cache");
    const words = [
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
      "legal winner thank year wave sausage worth useful legal winner thank yellow",
    ];
    const keysOf = (mnemonic: string) =>
      Array.from({length: 3}, (_, i) => pubkeyOf(deriveSecretKey(mnemonicToSeed(mnemonic), signingKeyPath(5 + i))));
    const config = (i: number) => ({mnemonicFile: join(dir, `m${i}.txt`), mnemonicStart: 5, mnemonicCount: 3, cacheDir});
    for (const [i, w] of words.entries()) writeFileSync(join(dir, `m${i}.txt`), w);
    await withSigner(config(0), (s) => servesExactly(s, keysOf(words[0])));
    const cached = readFileSync(join(cacheDir, "mnemonic-keys.bin"));
    expect(cached.includes(Buffer.from(words[0]))).toBe(false);
    const other = await withSigner(config(1), (s) => servesExactly(s, keysOf(words[1])));
    expect(logged(other, /mnemonic key cache does not fit/)).toHaveLength(1);
    const again = await withSigner(config(1), (s) => servesExactly(s, keysOf(words[1])));
    expect(logged(again, /mnemonic keys read from the restart cache/)).toHaveLength(1);
  });
});

describe("keystore cache", () => {
  /** Interop key i as a keystore (small KDFs: these tests are about the cache). */
  async function keystoreOf(i: number, password: string, kdf: "pbkdf2" | "scrypt" = "pbkdf2") {
    const secret = interopSecretKey(i);
    const salt = Buffer.alloc(32, i).toString("hex");
    const params =
      kdf === "pbkdf2"
        ? {function: "pbkdf2", params: {dklen: 32, c: 1024, prf: "hmac-sha256", salt}, message: ""}
        : {function: "scrypt", params: {dklen: 32, n: 1024, r: 8, p: 1, salt}, message: ""};
    return JSON.stringify(
      await encryptKeystore(
        secret,
        SecretKey.fromBytes(secret).toPublicKey().toBytes(),
        password,
        params as never,
        Buffer.alloc(16, i + 1),
        signingKeyPath(i)
      )
    );
  }

  /** Keystores of interop keys 1…n with their own passwords; the signer's config for them. */
  async function keystoreDir(n: number) {
    const dir = tmp("keystores");
    const keystores = join(dir, "keystores");
    const passwords = join(dir, "passwords");
    mkdirSync(keystores);
    mkdirSync(passwords);
    for (let i = 1; i <= n; i++) {
      writeFileSync(join(keystores, `k${i}.json`), await keystoreOf(i, `password ${i}`, i === 2 ? "scrypt" : "pbkdf2"));
      writeFileSync(join(passwords, `k${i}.txt`), `password ${i}`);
    }
    const cacheFile = join(dir, "cache", "keystores.cache");
    return {
      keystores,
      passwords,
      cacheFile,
      config: {keystoresPath: keystores, keystoresPasswordsPath: passwords, cacheDir: join(dir, "cache")},
    };
  }
  const keys = (...indices: number[]) => indices.map((i) => pubkeyOf(interopSecretKey(i)));
  const fromCache = (s: TestSigner) =>
    logged(s, /keystores read from the restart cache/).map((l) => (l as unknown as {keystores: number}).keystores);
  const written = (s: TestSigner) => logged(s, /keystores cached for the next start/).length;

  it("caches every keystore at the first start (one 0600 file, no secret in the clear), then loads them all from it", async () => {
    const d = await keystoreDir(4);
    const first = await withSigner(d.config, (s) => servesExactly(s, keys(1, 2, 3, 4)));
    expect(written(first)).toBe(1);
    expect(mode(d.cacheFile)).toBe(0o600);
    const text = readFileSync(d.cacheFile, "utf8");
    for (let i = 1; i <= 4; i++) {
      expect(text).not.toContain(Buffer.from(interopSecretKey(i)).toString("hex"));
      expect(text).not.toContain(`password ${i}`);
    }
    // The cache's KDF is the strongest of its keystores' (k2's scrypt), with a salt of its own.
    expect(JSON.parse(text).kdf).toMatchObject({function: "scrypt", params: {n: 1024, r: 8, p: 1, dklen: 32}});
    const second = await withSigner(d.config, (s) => servesExactly(s, keys(1, 2, 3, 4)));
    expect(fromCache(second)).toEqual([4]);
    expect(written(second)).toBe(0);
  });

  it("is not used when a password file changed: every keystore decrypted from its file, logged, cache rewritten", async () => {
    const d = await keystoreDir(3);
    await withSigner(d.config, async () => {});
    writeFileSync(join(d.passwords, "k3.txt"), "a new password"); // k3 no longer opens
    const s = await withSigner(d.config, (s) => servesExactly(s, keys(1, 2)));
    expect(logged(s, /keystore cache can't be used/).map((l) => l.level)).toEqual(["warn"]);
    expect(fromCache(s)).toEqual([]);
    expect(written(s)).toBe(1);
    const again = await withSigner(d.config, (s) => servesExactly(s, keys(1, 2)));
    expect(fromCache(again)).toEqual([2]);
  });

  it("decrypts a changed or new keystore from its file, the rest from the cache, and forgets a removed one", async () => {
    const d = await keystoreDir(3);
    await withSigner(d.config, async () => {});
    writeFileSync(join(d.keystores, "k3.json"), await keystoreOf(9, "password 3")); // same name and password, another key
    writeFileSync(join(d.keystores, "k4.json"), await keystoreOf(4, "password 4"));
    writeFileSync(join(d.passwords, "k4.txt"), "password 4");
    rmSync(join(d.keystores, "k1.json"));
    const s = await withSigner(d.config, (s) => servesExactly(s, keys(2, 9, 4)));
    expect(fromCache(s)).toEqual([1]);
    expect(written(s)).toBe(1);
    const again = await withSigner(d.config, (s) => servesExactly(s, keys(2, 9, 4)));
    expect(fromCache(again)).toEqual([3]);
  });

  it.each([
    [
      "a byte of its secrets changed",
      (c: Record<string, string>) => ({...c, secrets: (c.secrets[0] === "0" ? "1" : "0") + c.secrets.slice(1)}),
    ],
    [
      "a public key swapped for another's",
      (c: any) => ({...c, keystores: c.keystores.map((k: any, i: number) => ({...k, pubkey: c.keystores[(i + 1) % 3].pubkey}))}),
    ],
    ["its KDF weakened", (c: any) => ({...c, kdf: {...c.kdf, params: {...c.kdf.params, n: 2}}})],
    ["not JSON", () => "{"],
  ])("is rebuilt when corrupt (%s), logged; every key still right", async (_, corrupt) => {
    const d = await keystoreDir(3);
    await withSigner(d.config, async () => {});
    const corrupted = corrupt(JSON.parse(readFileSync(d.cacheFile, "utf8")));
    writeFileSync(d.cacheFile, typeof corrupted === "string" ? corrupted : JSON.stringify(corrupted));
    const s = await withSigner(d.config, (s) => servesExactly(s, keys(1, 2, 3)));
    expect(logged(s, /keystore cache (can't be used|is unreadable)/).map((l) => l.level)).toEqual(["warn"]);
    expect(written(s)).toBe(1);
  });

  it("is off with --no-keystore-cache", async () => {
    const d = await keystoreDir(2);
    await withSigner({...d.config, noKeystoreCache: true}, (s) => servesExactly(s, keys(1, 2)));
    expect(existsSync(d.cacheFile)).toBe(false);
  });
});

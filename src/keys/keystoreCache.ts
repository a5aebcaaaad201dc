import {createCipheriv, createDecipheriv, createHash, randomBytes, randomInt} from "node:crypto";
import {mkdirSync, readFileSync} from "node:fs";
import {dirname} from "node:path";
import {SecretKey} from "@chainsafe/blst";
import {bytesToHex} from "../hex.js";
import type {Logger} from "../log.js";
import {KdfCache, type Keystore, parseKeystore} from "./eip2335.js";
import {writeFileAtomic} from "./files.js";
import {copySecret} from "./scalar.js";

type Kdf = Keystore["crypto"]["kdf"];

/** A keystore loaded, from the cache or its file (sources.ts's LoadedKeystore). */
type LoadedKeystore = {file: string; keystore: Keystore; secretKey: Uint8Array; publicKey: Uint8Array};

/** What the cache says of a keystore, in the clear (the keystore file says as much). */
type CachedKeystore = {file: string; sha256: string; pubkey: string; path: string};

type CacheFile = {
  version: 1;
  kdf: Kdf;
  keystores: CachedKeystore[];
  /** AES-256-GCM of the secret keys (32 bytes each, in `keystores` order); the rest is authenticated with them. */
  iv: string;
  tag: string;
  secrets: string;
};

/** A keystore file as read: its text and the SHA-256 of its bytes. */
export type KeystoreFile = {file: string; text: string; sha256: string};

export const keystoreFileOf = (file: string, text: string): KeystoreFile => ({
  file,
  text,
  sha256: createHash("sha256").update(text).digest("hex"),
});

/**
 * The EIP-2335 keystore cache (`--cache-dir`/keystores.cache, mode 0600), as Lighthouse's and
 * Lodestar's validator clients keep one: every keystore's secret key encrypted once, in one file,
 * under one KDF over all the keystores' own passwords. A restart pays one KDF instead of one per
 * keystore (hours for 10,000 scrypt keystores on 2 cores).
 *
 * It holds, per keystore: the file name, the SHA-256 of the file, the public key and path (in the
 * clear, as the keystore has them), and the secret key, encrypted with AES-256-GCM, which
 * authenticates all of it. The AES key comes from the strongest KDF among the keystores' own
 * (scrypt over pbkdf2, then the most work; a fresh salt each write) over every cached keystore's
 * password, so opening the cache is as hard as opening its hardest keystore, knowing every password.
 *
 * On load, a keystore whose file is unchanged (same SHA-256) is taken from the cache; one that is
 * new or changed is decrypted from its file. Any password file that changed changes the KDF's
 * input: the cache fails to authenticate and every keystore is decrypted from its file (logged).
 * The cache is rewritten whenever what it holds differs from what was loaded.
 */
export class KeystoreCache {
  constructor(
    private readonly path: string,
    private readonly log: Logger
  ) {}

  /**
   * The keystores of `files` the cache holds, decrypted (the caller wipes the secrets), and how many
   * it lists; none when there is no cache or it does not open (logged).
   */
  async open(files: KeystoreFile[], passwordFor: (file: string) => string): Promise<{keys: LoadedKeystore[]; listed: number}> {
    const none = {keys: [], listed: 0};
    const cache = this.read();
    if (!cache) return none;
    const current = new Map(files.map((f) => [f.file, f]));
    let key: Buffer | undefined;
    const secrets = Buffer.alloc(32 * cache.keystores.length);
    try {
      const keystores = cache.keystores.map((c) =>
        current.get(c.file)?.sha256 === c.sha256 ? parseKeystore(current.get(c.file)!.text) : undefined
      );
      const unchanged = keystores.filter((k) => k !== undefined);
      if (!unchanged.length) throw new Error("it holds none of these keystores");
      // The KDF must be the one this code chose for these keystores (which loaded, within the KDF
      // caps): a cache can't make the signer run another, and a stronger keystore's removal ends it.
      if (!sameKdf(cache.kdf, strongestKdf(unchanged.map((k) => k.crypto.kdf)))) throw new Error("its KDF is not its keystores' strongest");
      key = await deriveCacheKey(cache.kdf, cache.keystores, passwordFor);
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(cache.iv, "hex"));
      decipher.setAAD(authenticated(cache));
      decipher.setAuthTag(Buffer.from(cache.tag, "hex"));
      const plain = decipher.update(Buffer.from(cache.secrets, "hex"));
      plain.copy(secrets);
      plain.fill(0);
      decipher.final(); // throws unless every byte of the cache authenticates under these passwords
      // A check on this code itself: a few keys, picked at random, must have the cached public key.
      for (let k = 0; k < Math.min(8, cache.keystores.length); k++) {
        const i = randomInt(cache.keystores.length);
        if (
          SecretKey.fromBytes(secrets.subarray(32 * i, 32 * i + 32))
            .toPublicKey()
            .toHex() !==
          "0x" + cache.keystores[i].pubkey
        ) {
          throw new Error(`it holds a wrong public key for ${cache.keystores[i].file}`);
        }
      }
      const keys = cache.keystores.flatMap((c, i) => {
        const keystore = keystores[i];
        if (!keystore) return []; // the file is gone or changed: decrypted from the file, if there
        return [
          {
            file: c.file,
            keystore,
            secretKey: copySecret(secrets.subarray(32 * i, 32 * i + 32)),
            publicKey: new Uint8Array(Buffer.from(c.pubkey, "hex")),
          },
        ];
      });
      this.log.info("keystores read from the restart cache", {keystores: keys.length});
      return {keys, listed: cache.keystores.length};
    } catch (e) {
      const why = (e as Error).message.includes("authenticate")
        ? "it fails authentication (a password file changed, or the cache is corrupt)"
        : (e as Error).message;
      this.log.warn("the keystore cache can't be used; decrypting every keystore from its file, then rewriting it", {
        file: this.path,
        error: why,
      });
      return none;
    } finally {
      key?.fill(0);
      secrets.fill(0);
    }
  }

  /** Writes the cache of `loaded` (in file order); a failure is logged, and the next start decrypts every keystore. */
  async write(loaded: LoadedKeystore[], files: Map<string, KeystoreFile>, passwordFor: (file: string) => string): Promise<void> {
    if (!loaded.length) return;
    const kdf = strongestKdf(loaded.map((k) => k.keystore.crypto.kdf));
    kdf.params = {...kdf.params, salt: randomBytes(32).toString("hex")};
    const keystores: CachedKeystore[] = loaded.map((k) => ({
      file: k.file,
      sha256: files.get(k.file)!.sha256,
      pubkey: bytesToHex(k.publicKey).slice(2),
      path: k.keystore.path ?? "",
    }));
    const iv = randomBytes(12);
    const cache: CacheFile = {version: 1, kdf, keystores, iv: iv.toString("hex"), tag: "", secrets: ""};
    const plain = Buffer.alloc(32 * loaded.length);
    let key: Buffer | undefined;
    try {
      for (const [i, k] of loaded.entries()) plain.set(k.secretKey, 32 * i);
      key = await deriveCacheKey(kdf, keystores, passwordFor);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(authenticated(cache));
      cache.secrets = Buffer.concat([cipher.update(plain), cipher.final()]).toString("hex");
      cache.tag = cipher.getAuthTag().toString("hex");
      mkdirSync(dirname(this.path), {recursive: true, mode: 0o700});
      writeFileAtomic(this.path, JSON.stringify(cache));
      this.log.info("keystores cached for the next start", {file: this.path, keystores: loaded.length});
    } catch (e) {
      this.log.warn("cannot write the keystore cache; the next start decrypts every keystore", {
        file: this.path,
        error: (e as Error).message,
      });
    } finally {
      key?.fill(0);
      plain.fill(0);
    }
  }

  private read(): CacheFile | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT")
        this.log.warn("cannot read the keystore cache", {file: this.path, error: (e as Error).message});
      return undefined;
    }
    try {
      const cache = JSON.parse(text) as CacheFile;
      const hex = (v: unknown) => typeof v === "string" && /^([0-9a-f]{2})*$/.test(v);
      const wellFormed =
        cache.version === 1 &&
        Array.isArray(cache.keystores) &&
        cache.keystores.every(
          (c) => typeof c.file === "string" && hex(c.sha256) && hex(c.pubkey) && c.pubkey.length === 96 && typeof c.path === "string"
        ) &&
        (cache.kdf?.function === "scrypt" || cache.kdf?.function === "pbkdf2") &&
        hex(cache.iv) &&
        hex(cache.tag) &&
        hex(cache.secrets) &&
        cache.secrets.length === 64 * cache.keystores.length;
      if (!wellFormed) throw new Error("not a keystore cache of this version");
      return cache;
    } catch (e) {
      this.log.warn("the keystore cache is unreadable; decrypting every keystore from its file, then rewriting it", {
        file: this.path,
        error: (e as Error).message.slice(0, 100),
      });
      return undefined;
    }
  }
}

/** Everything in the cache but the ciphertext and tag: authenticated with the secrets. */
const authenticated = (cache: CacheFile): Buffer => Buffer.from(JSON.stringify([cache.version, cache.kdf, cache.keystores, cache.iv]));

/** The KDF over every cached keystore's password (length-prefixed, in order); the caller wipes the key. */
async function deriveCacheKey(kdf: Kdf, keystores: CachedKeystore[], passwordFor: (file: string) => string): Promise<Buffer> {
  const parts: Buffer[] = [];
  try {
    for (const {file} of keystores) {
      let password: string;
      try {
        password = passwordFor(file);
      } catch {
        throw new Error(`no password file for ${file}`);
      }
      const bytes = Buffer.from(password, "utf8");
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      parts.push(length, bytes);
    }
    const material = Buffer.concat(parts);
    try {
      const kdfCache = new KdfCache();
      return await kdfCache.derive(kdf, material);
    } finally {
      material.fill(0);
    }
  } finally {
    for (const p of parts) p.fill(0);
  }
}

/** The strongest of the keystores' KDFs: scrypt (memory-hard) over pbkdf2, then the most work; dklen 32. */
function strongestKdf(kdfs: Kdf[]): Kdf {
  const work = (k: Kdf) => (k.function === "scrypt" ? 2 ** 40 + k.params.n * k.params.r * k.params.p : (k.params as {c: number}).c);
  const best = kdfs.reduce((a, b) => (work(b) > work(a) ? b : a));
  return {...best, params: {...best.params, dklen: 32}, message: ""} as Kdf;
}

/** The same KDF but for the salt. */
function sameKdf(a: Kdf, b: Kdf): boolean {
  const withoutSalt = (k: Kdf) =>
    JSON.stringify([
      k.function,
      Object.entries(k.params)
        .filter(([name]) => name !== "salt")
        .sort(),
    ]);
  return withoutSalt(a) === withoutSalt(b);
}

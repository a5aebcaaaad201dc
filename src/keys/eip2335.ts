import {createCipheriv, createDecipheriv, createHash, pbkdf2, scrypt} from "node:crypto";
import {type IKeystore, validateKeystore} from "@chainsafe/bls-keystore";
// EIP-2335 password rules (NFKD, control characters removed); not re-exported by the package index.
import {normalizePassword} from "@chainsafe/bls-keystore/lib/password.js";
import {jsonSyntaxError} from "../errors.js";
import {secretBuffer} from "./scalar.js";

/**
 * EIP-2335 keystores. The schema and password normalization come from @chainsafe/bls-keystore;
 * the key derivation runs in node:crypto instead of that package's pure-JS scrypt: it is native
 * and runs on the libuv thread pool, so keystores decrypt in parallel on every core while the
 * main thread stays free (npm run bench, "keystores/s").
 */
export type Keystore = IKeystore;

export class KeystoreError extends Error {}

/**
 * A parsed and checked keystore. Errors never quote the text (JSON.parse's own message does: the
 * first characters of whatever was given, a password file's if one was misnamed), only the schema.
 */
export function parseKeystore(text: string): Keystore {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new KeystoreError(`not JSON: ${jsonSyntaxError(e)}`);
  }
  try {
    validateKeystore(json);
  } catch (e) {
    // The schema validator's messages name the schema rule that failed, not the value.
    throw new KeystoreError(`not an EIP-2335 keystore: ${(e as Error).message.slice(0, 200)}`);
  }
  return json;
}

/**
 * Limits on what a keystore may ask for, checked before any work. The EIP-2335 defaults are scrypt
 * n = 2^18, r = 8, p = 1 (256 MiB, 1–3 s) and pbkdf2 c = 2^18; these caps allow twice that work
 * for scrypt (512 MiB at most) and 16x for pbkdf2 (1–3 s), and refuse what would hold a KDF thread
 * for a minute or take gigabytes. Validator clients likewise refuse a dklen other than 32 and a
 * scrypt n that is not a power of two.
 */
export const KDF_LIMITS = {
  scryptMaxN: 2 ** 20,
  /** n * r * p: the work (and 128 * n * r the memory, in bytes). */
  scryptMaxWork: 2 ** 22,
  pbkdf2MaxC: 2 ** 22,
  maxSaltBytes: 256,
} as const;

/** Throws a KeystoreError naming the parameter when a keystore asks for more than KDF_LIMITS, or can't hold a 32-byte secret. */
export function checkCrypto({kdf, cipher}: Keystore["crypto"]): void {
  const refuse = (what: string) => {
    throw new KeystoreError(`refused: ${what}`);
  };
  const isInt = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;
  const params = kdf.params as Record<string, unknown>;
  if (params.dklen !== 32) refuse(`${kdf.function} dklen must be 32`);
  if (typeof params.salt !== "string" || !/^([0-9a-fA-F]{2})+$/.test(params.salt)) refuse(`${kdf.function} salt must be hex bytes`);
  if ((params.salt as string).length / 2 > KDF_LIMITS.maxSaltBytes) refuse(`${kdf.function} salt over ${KDF_LIMITS.maxSaltBytes} bytes`);
  if (kdf.function === "scrypt") {
    const {n, r, p} = params as {n: number; r: number; p: number};
    if (!isInt(n, 2) || (n & (n - 1)) !== 0 || n > KDF_LIMITS.scryptMaxN) refuse(`scrypt n must be a power of two from 2 to 2^20`);
    if (!isInt(r, 1) || !isInt(p, 1)) refuse("scrypt r and p must be positive integers");
    if (n * r * p > KDF_LIMITS.scryptMaxWork) refuse(`scrypt n*r*p is over 2^22 (n=${n}, r=${r}, p=${p})`);
  } else if (kdf.function === "pbkdf2") {
    const {c} = params as {c: number};
    if (!isInt(c, 1) || c > KDF_LIMITS.pbkdf2MaxC) refuse(`pbkdf2 c must be an integer from 1 to 2^22`);
  }
  if (cipher.function === "aes-128-ctr") {
    if (!/^[0-9a-fA-F]{32}$/.test(cipher.params.iv)) refuse("aes-128-ctr iv must be 16 bytes of hex");
    if (!/^[0-9a-fA-F]{64}$/.test(cipher.message)) refuse("the cipher message must be 32 bytes of hex (a BLS secret key)");
  }
}

/**
 * Derived keys of keystores that share KDF parameters, salt and password (some devnet tools write
 * them so). A derived key decrypts its keystore: wipe() zeroes them all when the load is over.
 */
export class KdfCache {
  private readonly cache = new Map<string, Promise<Buffer>>();

  derive(kdf: Keystore["crypto"]["kdf"], password: Uint8Array): Promise<Buffer> {
    // The password enters the key only through a hash; the cache lives for one load.
    const key = createHash("sha256")
      .update(JSON.stringify([kdf.function, kdf.params]))
      .update(password)
      .digest("base64");
    let derived = this.cache.get(key);
    if (!derived) {
      derived = deriveKey(kdf, password);
      this.cache.set(key, derived);
    }
    return derived;
  }

  /** Zeroes every derived key (once those still being derived are done) and forgets them. */
  async wipe(): Promise<void> {
    const derived = [...this.cache.values()];
    this.cache.clear();
    for (const d of await Promise.allSettled(derived)) if (d.status === "fulfilled") d.value.fill(0);
  }
}

/**
 * The KDFs run on libuv's thread pool (native, in parallel, off the main thread), at most one per
 * pool thread at a time: the rest wait here rather than in libuv's queue, where nothing could take
 * them back. At shutdown the waiting ones are refused (stopKdfs), because the process's exit waits
 * for everything queued in libuv; only those already running (each bounded by KDF_LIMITS) remain.
 */
const kdfSlots = Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4);
const kdfWaiting: {start(): void; refuse(): void}[] = [];
let kdfRunning = 0;
let kdfStopped = false;

/** Refuses every KDF not yet started, now and from now on (shutdown). */
export function stopKdfs(): void {
  kdfStopped = true;
  for (const w of kdfWaiting.splice(0)) w.refuse();
}

async function inKdfSlot<T>(run: () => Promise<T>): Promise<T> {
  if (kdfStopped) throw new KeystoreError("shutting down");
  if (kdfRunning >= kdfSlots) {
    await new Promise<void>((start, refuse) => kdfWaiting.push({start, refuse: () => refuse(new KeystoreError("shutting down"))}));
  } else {
    kdfRunning++;
  }
  try {
    return await run();
  } finally {
    // The slot passes to the next waiting KDF, or is freed.
    const next = kdfWaiting.shift();
    if (next) next.start();
    else kdfRunning--;
  }
}

/** The derived key (32 bytes, the caller's to wipe). */
function deriveKey(kdf: Keystore["crypto"]["kdf"], password: Uint8Array): Promise<Buffer> {
  const salt = Buffer.from(kdf.params.salt, "hex");
  return inKdfSlot(
    () =>
      new Promise<Buffer>((resolve, reject) => {
        const done = (err: Error | null, key: Buffer) =>
          err ? reject(new KeystoreError(`key derivation failed: ${err.message}`)) : resolve(key);
        if (kdf.function === "scrypt") {
          const {n, r, p, dklen} = kdf.params;
          // node:crypto refuses more than 32 MiB by default; n = 2^18 (the EIP-2335 default) needs 256 MiB.
          scrypt(password, salt, dklen, {N: n, r, p, maxmem: 128 * n * r * p + 2 ** 20}, done);
        } else if (kdf.function === "pbkdf2") {
          const {c, dklen, prf} = kdf.params;
          if (prf !== "hmac-sha256") return reject(new KeystoreError(`unsupported pbkdf2 prf ${prf}`));
          pbkdf2(password, salt, c, dklen, "sha256", done);
        } else {
          reject(new KeystoreError(`unsupported kdf ${(kdf as {function: string}).function}`));
        }
      })
  );
}

/**
 * The keystore's secret key (a Uint8Array owning its 32-byte buffer, the caller's to wipe), or a
 * KeystoreError (a wrong password fails the checksum). Every other copy made on the way (the
 * password's bytes, the derived key unless a KdfCache keeps it, the decrypted bytes) is zeroed.
 */
export async function decryptKeystore(keystore: Keystore, password: string, kdfCache?: KdfCache): Promise<Uint8Array> {
  const {kdf, checksum, cipher} = keystore.crypto;
  checkCrypto(keystore.crypto);
  const passwordBytes = normalizePassword(password);
  let derived: Buffer | undefined;
  try {
    derived = await (kdfCache ? kdfCache.derive(kdf, passwordBytes) : deriveKey(kdf, passwordBytes));
    const ciphertext = Buffer.from(cipher.message, "hex");
    const expected = createHash("sha256").update(derived.subarray(16, 32)).update(ciphertext).digest("hex");
    if (expected !== checksum.message.toLowerCase()) throw new KeystoreError("wrong password (checksum mismatch)");
    if (cipher.function !== "aes-128-ctr") throw new KeystoreError(`unsupported cipher ${cipher.function}`);
    const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), Buffer.from(cipher.params.iv, "hex"));
    const secret = secretBuffer();
    const parts = [decipher.update(ciphertext), decipher.final()];
    let at = 0;
    for (const part of parts) {
      secret.set(part, at); // checkCrypto made the ciphertext 32 bytes, so this fits
      at += part.length;
      part.fill(0);
    }
    return secret;
  } finally {
    passwordBytes.fill(0);
    if (!kdfCache) derived?.fill(0);
  }
}

/** The same encryption, for tests and tools: an EIP-2335 keystore of `secret` (pbkdf2 or scrypt). */
export async function encryptKeystore(
  secret: Uint8Array,
  pubkey: Uint8Array,
  password: string,
  kdf: Keystore["crypto"]["kdf"],
  iv: Buffer,
  path = ""
): Promise<Keystore> {
  const derived = await deriveKey(kdf, normalizePassword(password));
  const cipherer = createCipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipherer.update(secret), cipherer.final()]);
  const checksum = createHash("sha256").update(derived.subarray(16, 32)).update(ciphertext).digest("hex");
  derived.fill(0);
  return {
    version: 4,
    uuid: "00000000-0000-4000-8000-" + Buffer.from(pubkey.subarray(0, 6)).toString("hex"),
    path,
    pubkey: Buffer.from(pubkey).toString("hex"),
    crypto: {
      kdf,
      checksum: {function: "sha256", params: {}, message: checksum},
      cipher: {function: "aes-128-ctr", params: {iv: iv.toString("hex")}, message: ciphertext.toString("hex")},
    },
  };
}

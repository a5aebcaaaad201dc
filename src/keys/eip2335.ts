import {createCipheriv, createDecipheriv, createHash, pbkdf2, scrypt} from "node:crypto";
import {type IKeystore, validateKeystore} from "@chainsafe/bls-keystore";
// EIP-2335 password rules (NFKD, control characters removed); not re-exported by the package index.
import {normalizePassword} from "@chainsafe/bls-keystore/lib/password.js";

/**
 * EIP-2335 keystores. The schema and password normalization come from @chainsafe/bls-keystore;
 * the key derivation runs in node:crypto instead of that package's pure-JS scrypt: it is native
 * and runs on the libuv thread pool, so keystores decrypt in parallel on every core while the
 * main thread stays free (npm run bench, "keystores/s").
 */
export type Keystore = IKeystore;

export class KeystoreError extends Error {}

export function parseKeystore(text: string): Keystore {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new KeystoreError(`not JSON: ${(e as Error).message}`);
  }
  try {
    validateKeystore(json);
  } catch (e) {
    throw new KeystoreError(`not an EIP-2335 keystore: ${(e as Error).message.slice(0, 200)}`);
  }
  return json;
}

/** Derived keys of keystores that share KDF parameters, salt and password (some devnet tools write them so). */
export class KdfCache {
  private readonly cache = new Map<string, Promise<Buffer>>();

  derive(kdf: Keystore["crypto"]["kdf"], password: Uint8Array): Promise<Buffer> {
    // The password enters the key only through a hash; the cache lives for one load.
    const key = createHash("sha256").update(JSON.stringify([kdf.function, kdf.params])).update(password).digest("base64");
    let derived = this.cache.get(key);
    if (!derived) {
      derived = deriveKey(kdf, password);
      this.cache.set(key, derived);
    }
    return derived;
  }
}

function deriveKey(kdf: Keystore["crypto"]["kdf"], password: Uint8Array): Promise<Buffer> {
  const salt = Buffer.from(kdf.params.salt, "hex");
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, key: Buffer) => (err ? reject(new KeystoreError(`key derivation failed: ${err.message}`)) : resolve(key));
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
  });
}

/** The keystore's secret key, or a KeystoreError (a wrong password fails the checksum). */
export async function decryptKeystore(keystore: Keystore, password: string, kdfCache = new KdfCache()): Promise<Uint8Array> {
  const {kdf, checksum, cipher} = keystore.crypto;
  const derived = await kdfCache.derive(kdf, normalizePassword(password));
  const ciphertext = Buffer.from(cipher.message, "hex");
  const expected = createHash("sha256").update(derived.subarray(16, 32)).update(ciphertext).digest("hex");
  if (expected !== checksum.message.toLowerCase()) throw new KeystoreError("wrong password (checksum mismatch)");
  if (cipher.function !== "aes-128-ctr") throw new KeystoreError(`unsupported cipher ${cipher.function}`);
  const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), Buffer.from(cipher.params.iv, "hex"));
  const secret = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  if (secret.length !== 32) throw new KeystoreError(`the decrypted secret is ${secret.length} bytes, not 32`);
  return new Uint8Array(secret);
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
  return {
    version: 4,
    uuid: "00000000-0000-4000-8000-" + Buffer.from(pubkey.subarray(0, 6)).toString("hex"),
    path,
    pubkey: Buffer.from(pubkey).toString("hex"),
    crypto: {
      kdf,
      checksum: {function: "sha256", params: {}, message: createHash("sha256").update(derived.subarray(16, 32)).update(ciphertext).digest("hex")},
      cipher: {function: "aes-128-ctr", params: {iv: iv.toString("hex")}, message: ciphertext.toString("hex")},
    },
  };
}

import {createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes} from "node:crypto";
import {mkdirSync, readFileSync} from "node:fs";
import {join} from "node:path";
import type {Logger} from "../log.js";
import type {GeneratedKeys} from "../pool/protocol.js";
import {writeFileAtomic} from "./files.js";

/**
 * A range of derived keys: `interop` keys, or the EIP-2334 signing keys of a mnemonic. `ikm` is what
 * the keys are derived from (the mnemonic's seed; for interop keys a public constant, their
 * secrets being public anyway).
 */
export type DerivedRange = {kind: "interop" | "mnemonic"; ikm: Uint8Array; start: number; count: number};

export const INTEROP_IKM = new TextEncoder().encode("ts3signer interop keys");

const MAGIC = Buffer.from("ts3dkc01");
const HEADER_BYTES = MAGIC.length + 12 + 16; // magic, AES-GCM IV, tag
const SLICE_BYTES = 1 << 20;

/**
 * The restart cache of derived keys (`--cache-dir`, `KIND-keys.bin`, mode 0600): one file per
 * kind holding a range's secret and public keys, encrypted and authenticated (AES-256-GCM) under a
 * key derived from what the keys themselves are derived from (HKDF of the mnemonic's seed and the
 * range). Deriving a key costs a G1 multiplication (interop) or that and an EIP-2333 tree walk of
 * Lamport hashes (mnemonic, ~10× more); reading it back costs a decryption.
 *
 * A wrong cache can't yield a wrong key: a file of another mnemonic or range, or with any byte
 * changed or missing, fails authentication and is rebuilt from the source (logged). Only a holder
 * of the seed can write a file that authenticates. As a check on this code itself, a few keys
 * picked at random are derived again on every read and compared.
 */
export class DerivedKeyCache {
  constructor(
    private readonly dir: string,
    private readonly log: Logger
  ) {}

  /** The range's keys from the cache, or undefined (why is logged) when there is none that fits. */
  read(range: DerivedRange): GeneratedKeys | undefined {
    const file = this.fileOf(range);
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT")
        this.log.warn("cannot read the key cache; deriving the keys", {file, error: (e as Error).message});
      return undefined;
    }
    const plain = Buffer.alloc(range.count * 80);
    const key = cacheKey(range);
    try {
      if (data.length !== HEADER_BYTES + plain.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
        throw new Error(`${data.length} bytes, not the ${HEADER_BYTES + plain.length} of this range's cache`);
      }
      const decipher = createDecipheriv("aes-256-gcm", key, data.subarray(MAGIC.length, MAGIC.length + 12));
      decipher.setAuthTag(data.subarray(MAGIC.length + 12, HEADER_BYTES));
      // In slices, each copied into the one buffer we return and wiped: no whole second copy of the secrets.
      for (let at = 0; at < plain.length; at += SLICE_BYTES) {
        const slice = decipher.update(data.subarray(HEADER_BYTES + at, HEADER_BYTES + Math.min(plain.length, at + SLICE_BYTES)));
        slice.copy(plain, at);
        slice.fill(0);
      }
      decipher.final(); // throws unless the whole file authenticates
    } catch (e) {
      plain.fill(0);
      this.log.warn(
        `the ${range.kind} key cache does not fit this ${range.kind === "interop" ? "range" : "mnemonic and range"} or is corrupt; deriving the keys again and rewriting it`,
        {
          file,
          error: (e as Error).message.includes("authenticate") ? "it fails authentication" : (e as Error).message,
        }
      );
      return undefined;
    } finally {
      key.fill(0);
    }
    return {secretKeys: plain.subarray(0, range.count * 32), publicKeys: plain.subarray(range.count * 32)};
  }

  /** Writes the range's keys (the caller wipes its buffers). */
  write(range: DerivedRange, keys: GeneratedKeys): void {
    mkdirSync(this.dir, {recursive: true, mode: 0o700});
    const key = cacheKey(range);
    const iv = randomBytes(12);
    const out = Buffer.alloc(HEADER_BYTES + range.count * 80);
    try {
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      let at = HEADER_BYTES;
      at += cipher.update(keys.secretKeys).copy(out, at);
      at += cipher.update(keys.publicKeys).copy(out, at);
      cipher.final();
      MAGIC.copy(out, 0);
      iv.copy(out, MAGIC.length);
      cipher.getAuthTag().copy(out, MAGIC.length + 12);
      writeFileAtomic(this.fileOf(range), out);
      this.log.info(`${range.kind} keys cached for the next start`, {file: this.fileOf(range), keys: range.count});
    } catch (e) {
      this.log.warn("cannot write the key cache; the next start derives the keys again", {error: (e as Error).message});
    } finally {
      key.fill(0);
    }
  }

  private fileOf(range: DerivedRange): string {
    return join(this.dir, `${range.kind}-keys.bin`);
  }
}

/** HKDF-SHA256 of the source, bound to the kind and range: a file of any other source or range fails to authenticate. */
function cacheKey(range: DerivedRange): Buffer {
  const info = `ts3signer derived key cache v1 ${range.kind} ${range.start} ${range.count}`;
  return Buffer.from(hkdfSync("sha256", range.ikm, createHash("sha256").update("ts3signer").digest(), info, 32));
}

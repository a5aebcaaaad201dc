import {randomInt} from "node:crypto";
import {readdir} from "node:fs/promises";
import {availableParallelism} from "node:os";
import {basename, join} from "node:path";
import {SecretKey} from "@chainsafe/blst";
import type {KeySources} from "../config/signerConfig.js";
import {bytesToHex} from "../hex.js";
import type {Logger} from "../log.js";
import type {KeyDeriver} from "../pool/deriver.js";
import type {GeneratedKeys, GenerateTask} from "../pool/protocol.js";
import {DerivedKeyCache, type DerivedRange, INTEROP_IKM} from "./derivedKeyCache.js";
import {decryptKeystore, KdfCache, type Keystore, parseKeystore} from "./eip2335.js";
import {FileRefused, MAX_KEYSTORE_FILE_BYTES, readRegularFile, readSecretFile} from "./files.js";
import {interopSecretKey, parseInteropRange} from "./interop.js";
import type {KeyInfo, KeyStore} from "./keyStore.js";
import {KeystoreCache, type KeystoreFile, keystoreFileOf} from "./keystoreCache.js";
import {deriveSecretKey, mnemonicToSeed, signingKeyPath} from "./mnemonic.js";
import {copySecret, secretBuffer} from "./scalar.js";

/** Checks the sources' settings up front, so a mistake is a start-up error rather than a failed load. */
export function validateKeySources(s: KeySources): void {
  if (s.interopKeys !== undefined) parseInteropRange(s.interopKeys);
  if (s.keystoresPasswordsPath && s.keystoresPasswordFile) {
    throw new Error("give --keystores-passwords-path or --keystores-password-file, not both");
  }
  if (s.keystoresPath && !s.keystoresPasswordsPath && !s.keystoresPasswordFile) {
    throw new Error("--keystores-path needs --keystores-passwords-path DIR or --keystores-password-file FILE");
  }
  if (!s.keystoresPath && (s.keystoresPasswordsPath || s.keystoresPasswordFile)) {
    throw new Error("a keystore password flag was given without --keystores-path");
  }
  if (s.mnemonicFile && s.mnemonicCount === undefined) throw new Error("--mnemonic-file needs --mnemonic-count N");
  if (!s.mnemonicFile && (s.mnemonicCount !== undefined || s.mnemonicStart !== undefined)) {
    throw new Error("--mnemonic-start/--mnemonic-count need --mnemonic-file");
  }
}

/** `found`: the slots of every key the sources hold, loaded now or before. */
export type LoadResult = {loaded: number; duplicates: number; errors: number; found: SlotSet};

/** A set of key slots, as a bitmap: a million keys cost 128 KiB, not the tens of MiB of a Set. */
export class SlotSet {
  private bits = new Uint8Array(1024);

  add(slot: number): void {
    if (slot >> 3 >= this.bits.length) {
      const grown = new Uint8Array(2 * ((slot >> 3) + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[slot >> 3] |= 1 << (slot & 7);
  }

  has(slot: number): boolean {
    return slot >> 3 < this.bits.length && (this.bits[slot >> 3] & (1 << (slot & 7))) !== 0;
  }
}

/** Keys per derivation task: big enough to amortize the hand-off, small enough to spread. */
const DERIVE_CHUNK = 512;
/** Keys of a cached range derived again on every read, as a check. */
const CACHE_SAMPLE = 8;

/**
 * Loads every configured start-up source into the store (read-only keys). Derivations run in the
 * worker pool and keystore KDFs on the libuv pool, so loading uses every core.
 */
export async function loadKeySources(sources: KeySources, keys: KeyStore, deriver: KeyDeriver, log: Logger): Promise<LoadResult> {
  const result: LoadResult = {loaded: 0, duplicates: 0, errors: 0, found: new SlotSet()};
  const info: KeyInfo = {source: "", readonly: true};
  const add = (source: string, secretKeys: Uint8Array, publicKeys: Uint8Array, path?: (i: number) => string) =>
    addKeys(keys, result, secretKeys, publicKeys, {...info, source}, path);

  const cache = sources.cacheDir ? new DerivedKeyCache(sources.cacheDir, log) : undefined;

  if (sources.interopKeys) {
    const {start, count} = parseInteropRange(sources.interopKeys);
    log.warn("loading INSECURE interop keys: their secret keys are public; use them on devnets and in tests only", {start, count});
    const k = await derivedKeys({kind: "interop", ikm: INTEROP_IKM, start, count}, deriver, log, cache);
    add("interop", k.secretKeys, k.publicKeys);
  }

  if (sources.mnemonicFile) {
    const seed = mnemonicToSeed(readSecretFile(sources.mnemonicFile));
    const start = sources.mnemonicStart ?? 0;
    try {
      const k = await derivedKeys({kind: "mnemonic", ikm: seed, start, count: sources.mnemonicCount ?? 0}, deriver, log, cache);
      add("mnemonic", k.secretKeys, k.publicKeys, (i) => signingKeyPath(start + i));
    } finally {
      seed.fill(0);
    }
  }

  if (sources.keystoresPath) {
    const passwordFile = sources.keystoresPasswordFile;
    const shared = passwordFile === undefined ? undefined : readSecretFile(passwordFile);
    const passwordsDir = sources.keystoresPasswordsPath as string;
    const passwordFor = (file: string) => shared ?? readSecretFile(join(passwordsDir, basename(file, ".json") + ".txt"), passwordsDir);
    const loaded =
      sources.cacheDir && !sources.noKeystoreCache
        ? await loadKeystoresCached(
            sources.keystoresPath,
            new KeystoreCache(join(sources.cacheDir, "keystores.cache"), log),
            passwordFor,
            deriver,
            log
          )
        : await loadKeystores(sources.keystoresPath, passwordFor, deriver, log);
    result.errors += loaded.errors;
    for (const k of loaded.keys)
      addKeys(keys, result, k.secretKey, k.publicKey, {source: "keystore", readonly: true, derivationPath: k.keystore.path});
  }
  return result;
}

function addKeys(
  keys: KeyStore,
  result: LoadResult,
  secretKeys: Uint8Array,
  publicKeys: Uint8Array,
  info: KeyInfo,
  path?: (i: number) => string
): void {
  keys.reserve(publicKeys.length / 48);
  for (let i = 0; i < publicKeys.length / 48; i++) {
    const pubkey = publicKeys.subarray(i * 48, i * 48 + 48);
    const keyInfo = path ? {...info, derivationPath: path(i)} : info;
    let slot = keys.add(pubkey, secretKeys.subarray(i * 32, i * 32 + 32), keyInfo);
    if (slot !== 0) result.loaded++;
    else {
      result.duplicates++;
      slot = keys.slotOf(pubkey);
    }
    result.found.add(slot);
  }
  secretKeys.fill(0);
}

/**
 * A range's keys: from the restart cache when it has them (a few picked at random derived again and
 * compared, as a check on the cache's code), else derived in the workers, then cached. The caller
 * wipes the secret keys.
 */
async function derivedKeys(range: DerivedRange, deriver: KeyDeriver, log: Logger, cache?: DerivedKeyCache): Promise<GeneratedKeys> {
  const {start, count} = range;
  const task = (first: number, n: number): GenerateTask =>
    range.kind === "interop" ? {kind: "interop", start: first, count: n} : {kind: "mnemonic", seed: range.ikm, start: first, count: n};
  const cached = count > 0 ? cache?.read(range) : undefined;
  if (cached) {
    const mismatch = firstMismatch(cached, range);
    if (mismatch === undefined) {
      log.info(`${range.kind} keys read from the restart cache`, {keys: count});
      return cached;
    }
    cached.secretKeys.fill(0);
    log.error(`the ${range.kind} key cache holds a wrong key; deriving every key again and rewriting it`, {index: mismatch});
  }
  const all: GeneratedKeys = {secretKeys: secretBuffer(count * 32), publicKeys: new Uint8Array(count * 48)};
  const progress = new Progress(log, `deriving ${range.kind} keys`, count);
  await inChunks(
    start,
    count,
    (first, n) =>
      deriver.generateKeys(task(first, n)).then((k) => {
        all.secretKeys.set(k.secretKeys, (first - start) * 32);
        all.publicKeys.set(k.publicKeys, (first - start) * 48);
        k.secretKeys.fill(0);
        progress.add(n);
      }),
    range.kind === "mnemonic" ? 64 : DERIVE_CHUNK
  );
  progress.end();
  if (count > 0) cache?.write(range, all);
  return all;
}

/**
 * Derives a few keys of a cached range, picked at random, here (a few ms: the workers may still be
 * starting); the first whose secret or public key differs from the cache's.
 */
function firstMismatch(cached: GeneratedKeys, range: DerivedRange): number | undefined {
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
  for (let k = 0; k < Math.min(CACHE_SAMPLE, range.count); k++) {
    const i = randomInt(range.count);
    const index = range.start + i;
    const secret = range.kind === "interop" ? interopSecretKey(index) : deriveSecretKey(range.ikm, signingKeyPath(index));
    try {
      const pubkey = SecretKey.fromBytes(secret).toPublicKey().toBytes();
      if (!same(secret, cached.secretKeys.subarray(i * 32, i * 32 + 32)) || !same(pubkey, cached.publicKeys.subarray(i * 48, i * 48 + 48)))
        return index;
    } finally {
      secret.fill(0);
    }
  }
  return undefined;
}

/** `run` over the range in chunks, a few at a time: enough to keep every worker busy, not a million keys' tasks queued at once. */
async function inChunks(
  start: number,
  count: number,
  run: (first: number, n: number) => Promise<void>,
  chunk = DERIVE_CHUNK
): Promise<void> {
  const firsts: number[] = [];
  for (let first = start; first < start + count; first += chunk) firsts.push(first);
  await inParallel(firsts, (first) => run(first, Math.min(chunk, start + count - first)), 4 * availableParallelism());
}

export type OpenedKeystore = {secretKey: Uint8Array; publicKey: Uint8Array; keystore: Keystore};
export type LoadedKeystore = OpenedKeystore & {file: string};

/**
 * Parses and decrypts a keystore, derives its public key in a worker and checks the keystore's own.
 * The password is fetched after parsing, so a broken file is reported as such.
 */
export async function openKeystore(
  text: string,
  password: () => string,
  deriver: KeyDeriver,
  kdfCache?: KdfCache
): Promise<OpenedKeystore> {
  const keystore = parseKeystore(text);
  const secretKey = await decryptKeystore(keystore, password(), kdfCache);
  try {
    const publicKey = await deriver.derivePublicKeys(copySecret(secretKey));
    if (keystore.pubkey && "0x" + keystore.pubkey.replace(/^0x/, "").toLowerCase() !== bytesToHex(publicKey)) {
      throw new Error("its pubkey does not match its secret key");
    }
    return {keystore, secretKey, publicKey};
  } catch (e) {
    secretKey.fill(0);
    throw e;
  }
}

/**
 * Decrypts every `*.json` keystore in `dir` (or those of `files`). A keystore that can't be loaded (bad JSON, no password
 * file, wrong password, a pubkey that does not match its secret) is logged by file name and skipped.
 */
export async function loadKeystores(
  dir: string,
  passwordFor: (file: string) => string,
  deriver: KeyDeriver,
  log: Logger,
  only?: string[]
): Promise<{keys: LoadedKeystore[]; errors: number}> {
  const files = only ?? (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
  const progress = new Progress(log, "decrypting keystores", files.length);
  const kdfCache = new KdfCache();
  const keys: LoadedKeystore[] = [];
  let errors = 0;
  let next = 0;
  // The KDFs run on the libuv pool; a few more in flight than its threads keeps it busy.
  const concurrency = Math.max(4, availableParallelism()) * 2;
  await Promise.all(
    Array.from({length: concurrency}, async () => {
      while (next < files.length) {
        const file = files[next++];
        try {
          const text = readRegularFile(join(dir, file), MAX_KEYSTORE_FILE_BYTES, dir).toString("utf8");
          const password = () => {
            try {
              return passwordFor(file);
            } catch (e) {
              if (e instanceof FileRefused) throw new Error(`its password file is refused: ${e.reason}`);
              throw new Error("no password file for it");
            }
          };
          keys.push({file, ...(await openKeystore(text, password, deriver, kdfCache))});
        } catch (e) {
          errors++;
          log.error("skipping keystore", {file, error: e instanceof FileRefused ? e.reason : (e as Error).message});
        }
        progress.add(1);
      }
    })
  );
  progress.end();
  await kdfCache.wipe();
  return {keys, errors};
}

/**
 * The keystores of `dir` through the keystore cache: those it holds unchanged from it (one KDF for
 * all), the rest from their files; the cache is rewritten when it held anything else.
 */
async function loadKeystoresCached(
  dir: string,
  cache: KeystoreCache,
  passwordFor: (file: string) => string,
  deriver: KeyDeriver,
  log: Logger
): Promise<{keys: LoadedKeystore[]; errors: number}> {
  const names = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
  const files = new Map<string, KeystoreFile>();
  await inParallel(names, async (file) => {
    try {
      files.set(file, keystoreFileOf(file, readRegularFile(join(dir, file), MAX_KEYSTORE_FILE_BYTES, dir).toString("utf8")));
    } catch {
      // Reported when loadKeystores tries it below.
    }
  });
  const cached = await cache.open([...files.values()], passwordFor);
  const fromCache = new Set(cached.keys.map((k) => k.file));
  const fresh = await loadKeystores(
    dir,
    passwordFor,
    deriver,
    log,
    names.filter((f) => !fromCache.has(f))
  );
  const keys = [...cached.keys, ...fresh.keys].sort((a, b) => (a.file < b.file ? -1 : 1));
  if (fresh.keys.length || cached.keys.length !== cached.listed) await cache.write(keys, files, passwordFor);
  return {keys, errors: fresh.errors};
}

/** `run` over every item, a bounded number at once (a folder of 10,000 files must not open them all together). */
async function inParallel<T>(items: T[], run: (item: T) => Promise<void>, concurrency = 64): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({length: Math.min(concurrency, items.length)}, async () => {
      while (next < items.length) await run(items[next++]);
    })
  );
}

/** A progress line every second for long loads: done/total, rate, ETA. */
class Progress {
  private done = 0;
  private readonly startMs = performance.now();
  private readonly timer?: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly total: number
  ) {
    if (total > 0) this.timer = setInterval(() => this.report(), 1000);
  }

  add(n: number): void {
    this.done += n;
  }

  private report(): void {
    const seconds = (performance.now() - this.startMs) / 1000;
    const rate = this.done / seconds;
    const eta = rate > 0 ? (this.total - this.done) / rate : undefined;
    this.log.info(`${this.what}: ${this.done}/${this.total}`, {
      rate_per_second: +rate.toFixed(1),
      eta_seconds: eta === undefined ? null : Math.ceil(eta),
    });
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.total > 0 && performance.now() - this.startMs > 1000) this.report();
  }
}

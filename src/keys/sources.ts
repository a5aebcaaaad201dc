import {readdir} from "node:fs/promises";
import {availableParallelism} from "node:os";
import {basename, join} from "node:path";
import type {KeySources} from "../config/signerConfig.js";
import type {Logger} from "../log.js";
import type {KeyDeriver} from "./deriver.js";
import {KdfCache, type Keystore, decryptKeystore, parseKeystore} from "./eip2335.js";
import {bytesToHex} from "../hex.js";
import {FileRefused, MAX_KEYSTORE_FILE_BYTES, readRegularFile, readSecretFile} from "./files.js";
import {parseInteropRange} from "./interop.js";
import type {KeyInfo, KeyStore} from "./keyStore.js";
import {mnemonicToSeed, signingKeyPath} from "./mnemonic.js";
import {copySecret} from "./scalar.js";

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

export type LoadResult = {loaded: number; duplicates: number; errors: number; pubkeys: Set<string>};

/** Keys per derivation task: big enough to amortize the hand-off, small enough to spread. */
const DERIVE_CHUNK = 512;

/**
 * Loads every configured start-up source into the store (read-only keys). Derivations run in the
 * worker pool and keystore KDFs on the libuv pool, so loading uses every core.
 */
export async function loadKeySources(sources: KeySources, keys: KeyStore, deriver: KeyDeriver, log: Logger): Promise<LoadResult> {
  const result: LoadResult = {loaded: 0, duplicates: 0, errors: 0, pubkeys: new Set()};
  const info: KeyInfo = {source: "", readonly: true};
  const add = (source: string, secretKeys: Uint8Array, publicKeys: Uint8Array, path?: (i: number) => string) =>
    addKeys(keys, result, secretKeys, publicKeys, {...info, source}, path);

  if (sources.interopKeys) {
    const {start, count} = parseInteropRange(sources.interopKeys);
    log.warn("loading INSECURE interop keys: their secret keys are public; use them on devnets and in tests only", {start, count});
    await inChunks(start, count, (first, n) => deriver.generateKeys({kind: "interop", start: first, count: n}).then((k) => add("interop", k.secretKeys, k.publicKeys)));
  }

  if (sources.mnemonicFile) {
    const seed = mnemonicToSeed(readSecretFile(sources.mnemonicFile));
    const start = sources.mnemonicStart ?? 0;
    const count = sources.mnemonicCount ?? 0;
    const progress = new Progress(log, "deriving mnemonic keys", count);
    await inChunks(start, count, (first, n) =>
      deriver.generateKeys({kind: "mnemonic", seed, start: first, count: n}).then((k) => {
        add("mnemonic", k.secretKeys, k.publicKeys, (i) => signingKeyPath(first + i));
        progress.add(k.publicKeys.length / 48);
      }), 64);
    progress.end();
    seed.fill(0);
  }

  if (sources.keystoresPath) {
    const passwordFile = sources.keystoresPasswordFile;
    const shared = passwordFile === undefined ? undefined : readSecretFile(passwordFile);
    const passwordsDir = sources.keystoresPasswordsPath as string;
    const passwordFor = (file: string) => shared ?? readSecretFile(join(passwordsDir, basename(file, ".json") + ".txt"), passwordsDir);
    const loaded = await loadKeystores(sources.keystoresPath, passwordFor, deriver, log);
    result.errors += loaded.errors;
    for (const k of loaded.keys) addKeys(keys, result, k.secretKey, k.publicKey, {source: "keystore", readonly: true, derivationPath: k.keystore.path});
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
  for (let i = 0; i < publicKeys.length / 48; i++) {
    const pubkey = publicKeys.subarray(i * 48, i * 48 + 48);
    const keyInfo = path ? {...info, derivationPath: path(i)} : info;
    if (keys.add(pubkey, secretKeys.subarray(i * 32, i * 32 + 32), keyInfo)) result.loaded++;
    else result.duplicates++;
    result.pubkeys.add(bytesToHex(pubkey));
  }
  secretKeys.fill(0);
}

async function inChunks(start: number, count: number, run: (first: number, n: number) => Promise<void>, chunk = DERIVE_CHUNK): Promise<void> {
  const jobs: Promise<void>[] = [];
  for (let first = start; first < start + count; first += chunk) jobs.push(run(first, Math.min(chunk, start + count - first)));
  await Promise.all(jobs);
}

export type OpenedKeystore = {secretKey: Uint8Array; publicKey: Uint8Array; keystore: Keystore};
export type LoadedKeystore = OpenedKeystore & {file: string};

/**
 * Parses and decrypts a keystore, derives its public key in a worker and checks the keystore's own.
 * The password is fetched after parsing, so a broken file is reported as such.
 */
export async function openKeystore(text: string, password: () => string, deriver: KeyDeriver, kdfCache?: KdfCache): Promise<OpenedKeystore> {
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

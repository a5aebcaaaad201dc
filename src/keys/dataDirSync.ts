import {existsSync, type FSWatcher, readdirSync, watch} from "node:fs";
import {join} from "node:path";
import {bytesToHex} from "../hex.js";
import type {Logger} from "../log.js";
import type {Metrics} from "../metrics/metrics.js";
import type {KeyDeriver} from "../pool/deriver.js";
import {fileVersion, readSecretFile} from "./files.js";
import type {KeyStore} from "./keyStore.js";
import {loadKeystores} from "./sources.js";

/** Keymanager keys are stored as `keystores/0x<pubkey>.json` (see KeyManager). */
const KEY_FILE = /^(0x[0-9a-f]{96})\.json$/;

/**
 * Keeps the Keymanager keys loaded equal to the key files in the data dir, so replicas that share
 * one data dir converge: a key imported on any replica is loaded by all, a key deleted on any is
 * removed from all. The first sync loads the keys of earlier runs. After that, a change to the
 * keystores folder (fs.watch) triggers a sync at once, and a rescan every `rescanMs` catches what
 * a watch misses (network file systems report nothing). Each change is logged and counted.
 */
export class DataDirSync {
  private readonly keystoresDir: string;
  private readonly passwordsDir: string;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  /**
   * Keystores that failed to load, with the version of the pair (keystore and password file) they
   * had before the attempt: retried once either file changes (a corrected password too).
   */
  private readonly failed = new Map<string, string>();
  /** Past the first sync: what changes from here on is logged and counted. */
  private started = false;
  private stopped = false;

  constructor(
    dataDir: string,
    private readonly keys: KeyStore,
    private readonly deriver: KeyDeriver,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly rescanMs = 1000
  ) {
    this.keystoresDir = join(dataDir, "keystores");
    this.passwordsDir = join(dataDir, "passwords");
  }

  /** Loads the data dir's keys (those of earlier runs); then keeps following it. */
  async start(): Promise<void> {
    await this.sync();
    this.started = true;
    if (this.stopped) return;
    try {
      this.watcher = watch(this.keystoresDir, () => void this.sync());
      this.watcher.on("error", (e) => this.log.warn("watching the data dir failed; relying on the periodic rescan", {error: e.message}));
    } catch (e) {
      this.log.warn("cannot watch the data dir; relying on the periodic rescan", {error: (e as Error).message});
    }
    this.timer = setInterval(() => void this.sync(), this.rescanMs);
    this.timer.unref();
  }

  /** Stops following the data dir; resolves when a sync under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.timer);
    await this.running;
  }

  /** One sync at a time; a change seen during one runs another right after it. */
  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.syncOnce()
      .catch((e: Error) => this.log.error("syncing keys with the data dir failed", {error: e.message}))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.sync();
        }
      });
    return this.running;
  }

  private async syncOnce(): Promise<void> {
    // Listing and removals happen in one synchronous step, so a Keymanager import or delete on
    // this replica (which writes its files and changes the key store in one step too) is never
    // seen half done.
    const onDisk = new Set<string>();
    for (const file of readdirSync(this.keystoresDir)) {
      const m = KEY_FILE.exec(file);
      if (m) onDisk.add(m[1]);
    }
    for (const entry of [...this.keys.entries((info) => info.source === "keymanager")]) {
      if (onDisk.has(entry.pubkeyHex)) continue;
      this.keys.remove(entry.pubkeyHex);
      this.metrics.dataDirChanges.inc({change: "removed"});
      this.log.info("key removed: its file left the data dir (deleted on another replica)", {pubkey: entry.pubkeyHex});
    }

    const passwordFile = (file: string) => join(this.passwordsDir, file.replace(/\.json$/, ".txt"));
    // Taken before reading: a file written during the attempt makes it retried next time.
    const versions = new Map<string, string>();
    for (const pubkey of onDisk) {
      const file = `${pubkey}.json`;
      if (this.keys.get(pubkey)) continue;
      const version = `${fileVersion(join(this.keystoresDir, file))}/${fileVersion(passwordFile(file))}`;
      if (this.failed.get(file) !== version) versions.set(file, version);
    }
    const toLoad = [...versions.keys()];
    if (!toLoad.length) return;

    const passwordFor = (file: string) => readSecretFile(passwordFile(file), this.passwordsDir);
    const {keys} = await loadKeystores(this.keystoresDir, passwordFor, this.deriver, this.log, toLoad);
    const loadedFiles = new Set(keys.map((k) => k.file));
    for (const file of toLoad) if (!loadedFiles.has(file)) this.failed.set(file, versions.get(file)!);
    let added = 0;
    for (const k of keys) {
      try {
        const pubkeyHex = bytesToHex(k.publicKey);
        if (k.file !== `${pubkeyHex}.json`) {
          this.failed.set(k.file, versions.get(k.file)!);
          this.log.error("skipping keystore: its file name is not its public key", {file: k.file});
          continue;
        }
        // Deleted while it was being decrypted: the file decides.
        if (!existsSync(join(this.keystoresDir, k.file))) continue;
        if (this.keys.add(k.publicKey, k.secretKey, {source: "keymanager", readonly: false, derivationPath: k.keystore.path})) {
          this.failed.delete(k.file);
          added++;
          if (!this.started) continue;
          this.metrics.dataDirChanges.inc({change: "added"});
          this.log.info("key loaded: its file appeared in the data dir (imported on another replica)", {pubkey: pubkeyHex});
        }
      } finally {
        k.secretKey.fill(0);
      }
    }
    if (!this.started) this.log.info("keys loaded from the data dir", {loaded: added, errors: toLoad.length - loadedFiles.size});
  }
}

import {closeSync, openSync, rmSync, statSync, unlinkSync} from "node:fs";
import {join} from "node:path";
import {setTimeout as sleep} from "node:timers/promises";
import {writeFileAtomic} from "./files.js";

/** A pair takes milliseconds to write; a lock this old was left by a writer that died. */
const STALE_LOCK_MS = 10_000;
/** How long a writer waits for another before it gives up (an error for that key). */
const LOCK_WAIT_MS = 5_000;

/**
 * Writes a Keymanager key's two files, `keystores/0x<pubkey>.json` and `passwords/0x<pubkey>.txt`
 * (each 0600, atomically), as one unit: replicas sharing the data dir that import one key at once
 * take turns through a lock file (`keystores/.0x<pubkey>.lock`, created with O_EXCL, which NFS
 * v3 and later honour too), so the pair on disk is always one writer's. Readers need no lock:
 * a keystore read with another writer's password fails its checksum and is retried when either
 * file changes (DataDirSync), so a half-written pair never loads, nor a wrong secret.
 */
export async function writeKeyPair(dataDir: string, pubkeyHex: string, keystore: string, password: string): Promise<void> {
  const lock = join(dataDir, "keystores", `.${pubkeyHex}.lock`);
  await acquire(lock);
  try {
    // The password first: a keystore file is never on disk without its password file.
    writeFileAtomic(join(dataDir, "passwords", `${pubkeyHex}.txt`), password);
    writeFileAtomic(join(dataDir, "keystores", `${pubkeyHex}.json`), keystore);
  } finally {
    unlinkSync(lock);
  }
}

/**
 * Removes a Keymanager key's two files as one unit, under the same lock as writeKeyPair, so a
 * delete racing an import of the same key on another replica leaves one of them whole: the
 * keystore goes first, so it is never on disk without its password file. Errors other than a file
 * already gone are handed to `onError` (the key is deleted from memory whatever happens here).
 */
export async function removeKeyPair(dataDir: string, pubkeyHex: string, onError: (file: string, e: Error) => void): Promise<void> {
  const lock = join(dataDir, "keystores", `.${pubkeyHex}.lock`);
  await acquire(lock);
  try {
    for (const file of [join(dataDir, "keystores", `${pubkeyHex}.json`), join(dataDir, "passwords", `${pubkeyHex}.txt`)]) {
      try {
        unlinkSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") onError(file, e as Error);
      }
    }
  } finally {
    unlinkSync(lock);
  }
}

async function acquire(lock: string): Promise<void> {
  const giveUp = Date.now() + LOCK_WAIT_MS;
  while (!tryCreate(lock)) {
    const held = statSync(lock, {throwIfNoEntry: false});
    if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) {
      // Removed only if it is still the lock judged stale (the same inode), not a newer one.
      if (statSync(lock, {throwIfNoEntry: false})?.ino === held.ino) rmSync(lock, {force: true});
      continue;
    }
    if (Date.now() > giveUp) throw new Error("another writer holds this key's files (its lock file stays): try again");
    await sleep(2 + Math.random() * 10);
  }
}

/** Creates `path` unless it exists; false if it does. Nothing is written: its existence is the lock. */
function tryCreate(path: string): boolean {
  try {
    closeSync(openSync(path, "wx", 0o600));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

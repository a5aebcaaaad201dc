import {randomBytes} from "node:crypto";
import {closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync} from "node:fs";
import {dirname, join} from "node:path";

/**
 * A password, mnemonic or token file: one trailing newline (`\n` or `\r\n`) is not part of the
 * secret (editors add one; `echo` too).
 */
export function readSecretFile(path: string): string {
  return readFileSync(path, "utf8").replace(/\r?\n$/, "");
}

/**
 * Writes a file readable by its owner only (0600), atomically: a temporary file in the same
 * directory, flushed to disk, then renamed over the target, so a crash leaves the old file or the
 * new one, never half of one.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = writeTemporary(path, data);
  renameSync(tmp, path);
  syncDirectory(path);
}

/**
 * Creates a file (0600) unless it exists, atomically: whole or not at all, and of several
 * processes racing to create it exactly one wins. The content goes to a temporary file that is
 * then hard-linked to the name (link() fails if the name exists); false if another writer won.
 */
export function createFileExclusive(path: string, data: string | Uint8Array): boolean {
  const tmp = writeTemporary(path, data);
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
  syncDirectory(path);
  return true;
}

/** A new 0600 file next to `path` holding `data`, flushed to disk: its name. */
function writeTemporary(path: string, data: string | Uint8Array): string {
  const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** The directory entry itself must reach the disk too. */
function syncDirectory(path: string): void {
  const dirFd = openSync(dirname(path), "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

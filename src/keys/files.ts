import {randomBytes} from "node:crypto";
import {closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync} from "node:fs";
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
  const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  // The directory entry itself must reach the disk too.
  const dirFd = openSync(dirname(path), "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

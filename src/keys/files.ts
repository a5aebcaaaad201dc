import {randomBytes} from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeSync,
} from "node:fs";
import {dirname, join, sep} from "node:path";

/** A keystore is about 1 KiB; anything far bigger is not one. */
export const MAX_KEYSTORE_FILE_BYTES = 64 * 1024;
/** Passwords, tokens and mnemonics are a few hundred bytes at most. */
export const MAX_SECRET_FILE_BYTES = 4 * 1024;

/** A file that is not read: the message names the file and says why, never what is in it. */
export class FileRefused extends Error {
  constructor(
    readonly path: string,
    readonly reason: string
  ) {
    super(`${path}: ${reason}`);
  }
}

/**
 * The bytes of a regular file of at most `maxBytes`. A FIFO, socket or device is refused before it
 * is opened (lstat) and again after (fstat on the descriptor, opened O_NONBLOCK and O_NOFOLLOW), so
 * nothing can make the reading thread wait forever or read without end. With `within`, the file
 * must be inside that directory once symlinks are resolved (a symlink inside it may point to
 * another file inside it, as Kubernetes secret volumes do, never out).
 */
export function readRegularFile(path: string, maxBytes: number, within?: string): Buffer {
  const real = realpathSync.native(path);
  if (within !== undefined && !real.startsWith(realpathSync.native(within) + sep))
    throw new FileRefused(path, `a symlink to a file outside ${within}`);
  checkRegular(path, lstatSync(real), maxBytes);
  const fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const {size} = checkRegular(path, fstatSync(fd), maxBytes);
    // One byte more than its size tells a file that grew since fstat.
    const buf = Buffer.alloc(size + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > size) {
      buf.fill(0);
      throw new FileRefused(path, "it grew while it was read");
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function checkRegular(path: string, stat: Stats, maxBytes: number): Stats {
  if (!stat.isFile()) throw new FileRefused(path, `not a regular file (${fileKind(stat)})`);
  if (stat.size > maxBytes) throw new FileRefused(path, `larger than ${maxBytes} bytes (${stat.size})`);
  return stat;
}

function fileKind(stat: Stats): string {
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isDirectory()) return "a directory";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a file";
}

/**
 * A password, mnemonic or token file (a regular file of at most MAX_SECRET_FILE_BYTES; see
 * readRegularFile for `within`): one trailing newline (`\n` or `\r\n`) is not part of the secret
 * (editors add one; `echo` too).
 */
export function readSecretFile(path: string, within?: string): string {
  const bytes = readRegularFile(path, MAX_SECRET_FILE_BYTES, within);
  const text = bytes.toString("utf8").replace(/\r?\n$/, "");
  bytes.fill(0);
  return text;
}

/**
 * Which version of a file is on disk (inode, size, times), or undefined where there is none: it
 * changes whenever the file is written or replaced, so a file that failed to load is retried
 * exactly when it (or its partner) changed.
 */
export function fileVersion(path: string): string | undefined {
  const s = lstatSync(path, {throwIfNoEntry: false, bigint: true});
  return s && `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
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

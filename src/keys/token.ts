import {createHash, randomBytes, timingSafeEqual} from "node:crypto";
import {existsSync} from "node:fs";
import {createFileExclusive, readSecretFile} from "./files.js";

/**
 * The Keymanager API bearer token: read from `file`, or generated (32 random bytes, hex) and
 * written 0600. Replicas starting together on one data dir race to create it: the file is created
 * exclusively, and every starter uses the one that won.
 */
export function loadOrCreateToken(file: string): {token: string; created: boolean} {
  const created = !existsSync(file) && createFileExclusive(file, randomBytes(32).toString("hex") + "\n");
  const token = readSecretFile(file).trim();
  if (!token) throw new Error(`the Keymanager token file ${file} is empty`);
  return {token, created};
}

/**
 * Checks an `Authorization: Bearer …` header in constant time: both sides are hashed first, so
 * neither the comparison nor a length check leaks how much of the token a guess got right.
 */
export function authorized(header: string, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

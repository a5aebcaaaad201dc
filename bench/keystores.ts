import {randomBytes, scrypt} from "node:crypto";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {SecretKey} from "@chainsafe/blst";
import {encryptKeystore} from "../src/keys/eip2335.js";
import {interopSecretKey} from "../src/keys/interop.js";
import {SignerProcess} from "./signerProcess.js";

/** EIP-2335's default scrypt parameters (what deposit tools write). */
const SCRYPT = {dklen: 32, n: 262144, r: 8, p: 1};

export type KeystoreBench = {keystores: number; rawPerSecond: number; loadPerSecond: number; ratio: number};

const scryptOnce = () =>
  new Promise<void>((resolve, reject) =>
    scrypt("password", randomBytes(32), 32, {N: SCRYPT.n, r: SCRYPT.r, p: SCRYPT.p, maxmem: 2 ** 29}, (e) => (e ? reject(e) : resolve()))
  );

/**
 * Keystore loading against the raw node:crypto scrypt rate on every core at once (as many
 * KDFs in flight as the libuv pool has threads), both measured in this run.
 */
export async function keystoreBench(count: number): Promise<KeystoreBench> {
  const t0 = performance.now();
  await Promise.all(Array.from({length: count}, scryptOnce));
  const rawPerSecond = count / ((performance.now() - t0) / 1000);

  const dir = mkdtempSync(join(tmpdir(), "ts3signer-bench-keystores-"));
  try {
    await Promise.all(
      Array.from({length: count}, async (_, i) => {
        const secret = interopSecretKey(i);
        const pubkey = SecretKey.fromBytes(secret).toPublicKey().toBytes();
        const kdf = {function: "scrypt" as const, params: {...SCRYPT, salt: randomBytes(32).toString("hex")}, message: ""};
        const keystore = await encryptKeystore(secret, pubkey, "password", kdf as never, randomBytes(16));
        writeFileSync(join(dir, `keystore-${i}.json`), JSON.stringify(keystore));
      })
    );
    writeFileSync(join(dir, "password.txt"), "password\n");
    const signer = await SignerProcess.start(["--keystores-path", dir, "--keystores-password-file", join(dir, "password.txt")]);
    await signer.stop();
    const loadPerSecond = count / signer.keyLoadSeconds;
    return {keystores: count, rawPerSecond, loadPerSecond, ratio: loadPerSecond / rawPerSecond};
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

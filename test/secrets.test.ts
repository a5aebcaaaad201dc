import {spawn} from "node:child_process";
import {randomBytes} from "node:crypto";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {SecretKey} from "@chainsafe/blst";
import {describe, expect, it} from "vitest";
import {encryptKeystore} from "../src/keys/eip2335.js";
import {countInMemory} from "./helpers/memory.js";
import {request, sign, vectorsPath} from "./helpers/signer.js";

const cli = new URL("../dist/src/cli.js", import.meta.url).pathname;
const attestation = (JSON.parse(readFileSync(vectorsPath, "utf8")) as {name: string; request: object}[]).find(
  (v) => v.name === "web3signer: ATTESTATION"
)!;

describe("secret key copies in the signer's memory", () => {
  it("one after an import and while signing (the key table: a worker wipes its copy after each signature), none once deleted", async () => {
    // A fresh key, so the only copies in the signer are the ones it made (this test process holds its own).
    const sk = SecretKey.fromKeygen(randomBytes(32));
    const secret = sk.toBytes();
    const pubkey = sk.toPublicKey().toBytes();
    const pubkeyHex = "0x" + Buffer.from(pubkey).toString("hex");
    const kdf = {function: "pbkdf2", params: {dklen: 32, c: 16, prf: "hmac-sha256", salt: randomBytes(32).toString("hex")}, message: ""};
    const keystore = JSON.stringify(await encryptKeystore(secret, pubkey, "pw", kdf as never, randomBytes(16)));

    const dataDir = mkdtempSync(join(tmpdir(), "ts3signer-secrets-"));
    const workers = 2;
    const child = spawn(
      process.execPath,
      [
        cli,
        "--port",
        "0",
        "--metrics-port",
        "0",
        "--network",
        "minimal",
        "--interop-keys",
        "1",
        "--workers",
        String(workers),
        "--data-dir",
        dataDir,
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
      }
    );
    try {
      let out = "";
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d) => (out += d) && /ready with/.test(out) && resolve());
        child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const url = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]}`;
      const headers = {
        authorization: `Bearer ${readFileSync(join(dataDir, "api-token.txt"), "utf8").trim()}`,
        "content-type": "application/json",
      };
      const copies = () => countInMemory(child.pid!, secret);
      expect(copies()).toBe(0);

      const imported = await request(`${url}/eth/v1/keystores`, {
        method: "POST",
        headers,
        body: JSON.stringify({keystores: [keystore], passwords: ["pw"]}),
      });
      expect(imported.json().data).toEqual([{status: "imported"}]);
      // Before: 4 (the KDF's and decryption's buffers, on-heap typed arrays left behind when moved).
      expect(copies()).toBe(1);

      for (let i = 0; i < 20; i++) expect((await sign(url, pubkeyHex, attestation.request)).status).toBe(200);
      // Before: one more per worker that signed (each kept the key, read from the table once).
      expect(copies()).toBe(1);

      const deleted = await request(`${url}/eth/v1/keystores`, {method: "DELETE", headers, body: JSON.stringify({pubkeys: [pubkeyHex]})});
      expect(deleted.json().data).toEqual([{status: "deleted"}]);
      // The table's slot is zeroed at once, and no worker holds a copy. Before: the workers' copies
      // stayed until each took another request (2 still there after 600 more, before that).
      expect(copies()).toBe(0);
    } finally {
      child.kill("SIGKILL");
      rmSync(dataDir, {recursive: true, force: true});
    }
  });
});

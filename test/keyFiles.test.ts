import {type ChildProcess, spawn, spawnSync} from "node:child_process";
import {
  closeSync,
  constants,
  existsSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {SecretKey} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {encryptKeystore} from "../src/keys/eip2335.js";
import {interopSecretKey} from "../src/keys/interop.js";
import {request, startTestSigner, type TestSigner} from "./helpers/signer.js";

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `ts3signer-${prefix}-`));

/** Interop key i as a keystore (cheap KDF: these tests are about the files). */
async function keystoreOf(i: number, password: string) {
  const secret = interopSecretKey(i);
  const pubkey = SecretKey.fromBytes(secret).toPublicKey().toBytes();
  const kdf = {function: "pbkdf2", params: {dklen: 32, c: 16, prf: "hmac-sha256", salt: Buffer.alloc(32, i).toString("hex")}, message: ""};
  const keystore = await encryptKeystore(secret, pubkey, password, kdf as never, Buffer.alloc(16, i));
  return {json: JSON.stringify(keystore), pubkey: "0x" + Buffer.from(pubkey).toString("hex")};
}

/** The same keystore asking for a KDF over the caps (the checksum no longer matters: it is refused first). */
function overCaps(json: string): string {
  const k = JSON.parse(json);
  k.crypto.kdf.params.c = 2 ** 23;
  return JSON.stringify(k);
}

const mkfifo = (path: string) => expect(spawnSync("mkfifo", [path]).status).toBe(0);

/** Lets a reader stuck opening a FIFO (the code before the fix) go, so the test process can exit. */
function releaseFifo(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // no reader waiting
  }
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, pollMs = 50): Promise<void> {
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, pollMs))) if (await check()) return;
  throw new Error(`timed out waiting for ${what}`);
}

const skipped = (s: TestSigner) =>
  new Map(
    s.lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === "skipping keystore")
      .map((l) => [l.file as string, l.error as string])
  );

describe("data dir key files", () => {
  let s: TestSigner;
  let dataDir: string;
  const fifos: string[] = [];
  const loaded = async () => (await request(`${s.url}/api/v1/eth2/publicKeys`)).json() as string[];
  /** Writes a key's pair as another replica would (keystore last). */
  const writePair = (pubkey: string, keystore: string, password: string) => {
    writeFileSync(join(dataDir, "passwords", `${pubkey}.txt`), password);
    writeFileSync(join(dataDir, "keystores", `${pubkey}.json`), keystore);
  };

  beforeAll(async () => {
    dataDir = tmp("files");
    s = await startTestSigner({network: "minimal", dataDir});
  });
  afterAll(async () => {
    fifos.forEach(releaseFifo);
    await s.close();
    rmSync(dataDir, {recursive: true, force: true});
  });

  it("skips a FIFO, a 400 MB sparse file and a symlink out of the dir by name, and still loads the rest", async () => {
    const [fifo, sparse, outside, good] = await Promise.all([1, 2, 3, 4].map((i) => keystoreOf(i, `pw${i}`)));
    const fifoPath = join(dataDir, "keystores", `${fifo.pubkey}.json`);
    writeFileSync(join(dataDir, "passwords", `${fifo.pubkey}.txt`), "pw1");
    mkfifo(fifoPath);
    fifos.push(fifoPath);
    writeFileSync(join(dataDir, "passwords", `${sparse.pubkey}.txt`), "pw2");
    const fd = openSync(join(dataDir, "keystores", `${sparse.pubkey}.json`), "w");
    ftruncateSync(fd, 400 * 2 ** 20);
    closeSync(fd);
    const elsewhere = tmp("elsewhere");
    writeFileSync(join(elsewhere, "k.json"), outside.json);
    writeFileSync(join(dataDir, "passwords", `${outside.pubkey}.txt`), "pw3");
    symlinkSync(join(elsewhere, "k.json"), join(dataDir, "keystores", `${outside.pubkey}.json`));
    writePair(good.pubkey, good.json, "pw4");

    // Before: the sync thread blocked opening the FIFO, and nothing after it ever loaded.
    await waitFor("the good key", async () => (await loaded()).includes(good.pubkey));
    await waitFor("three skipped files", () => skipped(s).size >= 3);
    expect(await loaded()).not.toEqual(expect.arrayContaining([fifo.pubkey]));
    expect(Object.fromEntries(skipped(s))).toMatchObject({
      [`${fifo.pubkey}.json`]: expect.stringMatching(/not a regular file \(a FIFO\)/),
      [`${sparse.pubkey}.json`]: expect.stringMatching(/larger than 65536 bytes \(419430400\)/),
      [`${outside.pubkey}.json`]: expect.stringMatching(/a symlink to a file outside/),
    });
    for (const k of [fifo, sparse, outside]) expect(await loaded()).not.toContain(k.pubkey);
    rmSync(elsewhere, {recursive: true});
  });

  it("never logs a file's contents: says which file and why", async () => {
    const k = await keystoreOf(5, "pw5");
    writePair(k.pubkey, "correct horse battery staple", "pw5");
    await waitFor("the refusal", () => skipped(s).has(`${k.pubkey}.json`));
    expect(skipped(s).get(`${k.pubkey}.json`)).toMatch(/^not JSON: a syntax error/);
    expect(s.lines.join("\n")).not.toMatch(/corr|horse/);
  });

  it("loads a key once its password file is corrected, the keystore untouched", async () => {
    const k = await keystoreOf(6, "right");
    writePair(k.pubkey, k.json, "wrong");
    await waitFor("the wrong password", () => /checksum mismatch/.test(skipped(s).get(`${k.pubkey}.json`) ?? ""));
    writeFileSync(join(dataDir, "passwords", `${k.pubkey}.txt`), "right");
    // Before: retried only when the keystore's mtime changed, so never.
    await waitFor("the key", async () => (await loaded()).includes(k.pubkey));
  });

  it("refuses a keystore whose KDF is over the caps, naming the parameter, without running it", async () => {
    const k = await keystoreOf(7, "pw7");
    writePair(k.pubkey, overCaps(k.json), "pw7");
    await waitFor("the refusal", () => skipped(s).has(`${k.pubkey}.json`));
    expect(skipped(s).get(`${k.pubkey}.json`)).toBe("refused: pbkdf2 c must be an integer from 1 to 2^22");
  });

  it("answers a Keymanager import over the KDF caps with a per-key error", async () => {
    const token = readFileSync(join(dataDir, "api-token.txt"), "utf8").trim();
    const [over, fine] = [await keystoreOf(8, "pw8"), await keystoreOf(9, "pw9")];
    const reply = await request(`${s.url}/eth/v1/keystores`, {
      method: "POST",
      headers: {authorization: `Bearer ${token}`, "content-type": "application/json"},
      body: JSON.stringify({keystores: [overCaps(over.json), fine.json], passwords: ["pw8", "pw9"]}),
    });
    expect([reply.status, reply.json().data]).toEqual([
      200,
      [{status: "error", message: "refused: pbkdf2 c must be an integer from 1 to 2^22"}, {status: "imported"}],
    ]);
  });
});

describe("start-up keystores (--keystores-path)", () => {
  it("skip a FIFO and start with the rest", async () => {
    const dir = tmp("ks");
    const passwords = tmp("pw");
    const good = await keystoreOf(10, "pw10");
    writeFileSync(join(dir, "good.json"), good.json);
    writeFileSync(join(passwords, "good.txt"), "pw10");
    mkfifo(join(dir, "fifo.json"));
    writeFileSync(join(passwords, "fifo.txt"), "pw");
    // A password file that is a FIFO is refused too.
    writeFileSync(join(dir, "fifo-password.json"), (await keystoreOf(11, "pw11")).json);
    mkfifo(join(passwords, "fifo-password.txt"));
    const s = await startTestSigner({network: "minimal", keystoresPath: dir, keystoresPasswordsPath: passwords}).finally(() => {
      releaseFifo(join(dir, "fifo.json"));
      releaseFifo(join(passwords, "fifo-password.txt"));
    });
    try {
      expect((await request(`${s.url}/api/v1/eth2/publicKeys`)).json()).toEqual([good.pubkey]);
      expect(Object.fromEntries(skipped(s))).toEqual({
        "fifo.json": expect.stringMatching(/not a regular file \(a FIFO\)/),
        "fifo-password.json": "its password file is refused: not a regular file (a FIFO)",
      });
    } finally {
      await s.close();
      rmSync(dir, {recursive: true});
      rmSync(passwords, {recursive: true});
    }
  });
});

describe("two replicas writing one key's files at once", () => {
  /**
   * Two writer processes (test/helpers/pairWriter.mjs) take `rounds` turns at one key's pair at the
   * same moment; after each round, `check` reads the files and says whether they are wrong.
   */
  async function race(ids: [string, string], check: (keystore: string | undefined, password: string | undefined) => boolean) {
    const dataDir = tmp("race");
    for (const d of ["keystores", "passwords"]) spawnSync("mkdir", ["-m", "700", join(dataDir, d)]);
    const pubkey = "0x" + "ab".repeat(48);
    const helper = new URL("./helpers/pairWriter.mjs", import.meta.url).pathname;
    const writers: ChildProcess[] = ids.map((id) =>
      spawn(process.execPath, [helper, dataDir, pubkey, id], {stdio: ["pipe", "pipe", "inherit"]})
    );
    const answers = writers.map((w) => {
      const lines: string[] = [];
      w.stdout!.on("data", (d: Buffer) => lines.push(...d.toString().split("\n").filter(Boolean)));
      return lines;
    });
    const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : undefined);
    try {
      let wrong = 0;
      for (let round = 0; round < 100; round++) {
        for (const w of writers) w.stdin!.write(`${round}\n`);
        await waitFor(`round ${round}`, () => answers.every((a) => a.includes(String(round))), 1);
        if (check(read(join(dataDir, "keystores", `${pubkey}.json`)), read(join(dataDir, "passwords", `${pubkey}.txt`)))) wrong++;
      }
      return wrong;
    } finally {
      for (const w of writers) w.kill();
      rmSync(dataDir, {recursive: true, force: true});
    }
  }
  /** "K <id> <round>" and "P <id> <round>": the same writer's round, or not. */
  const samePair = (keystore: string, password: string) =>
    keystore.split(" ").slice(1).join(" ") === password.split(" ").slice(1).join(" ");

  it("two imports leave one writer's pair on disk, never a keystore with the other's password", async () => {
    // Before the lock: 3/20 trials of real imports ended with a pair that did not match.
    expect(await race(["A", "B"], (keystore, password) => !keystore || !password || !samePair(keystore, password))).toBe(0);
  });

  it("an import racing a delete never leaves a keystore without its own password", async () => {
    expect(
      await race(
        ["A", "delete"],
        (keystore, password) => keystore !== undefined && (password === undefined || !samePair(keystore, password))
      )
    ).toBe(0);
  });
});

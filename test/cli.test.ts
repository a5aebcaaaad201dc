import {type ChildProcess, spawn, spawnSync} from "node:child_process";
import {randomBytes} from "node:crypto";
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, describe, expect, it} from "vitest";
import {loadNetwork} from "../src/config/networks.js";
import {createSigningContext, parseRequestBody, requestTypeOf, signingRootOf} from "../src/signing/signingRoot.js";
import {request, sign} from "./helpers/signer.js";

const cli = new URL("../dist/src/cli.js", import.meta.url).pathname;

/** Starts the CLI and waits for its "ready" line; `output` keeps everything it printed. */
async function startCli(args: string[], format: "json" | "pretty" = "pretty") {
  const child = spawn(process.execPath, [cli, "--port", "0", "--metrics-port", "0", "--log-format", format, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line:\n${output}`)), 20_000);
    child.stdout!.on("data", () => {
      if (/ready with/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`exited ${code}:\n${output}`)));
  });
  const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1];
  const metricsPort = /metrics on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1];
  return {child, url: `http://127.0.0.1:${port}`, metricsPort, output: () => output};
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

describe("ts3signer CLI", () => {
  it("prints its flags with --help", () => {
    const out = spawnSync(process.execPath, [cli, "--help"], {encoding: "utf8"});
    expect(out.status).toBe(0);
    for (const flag of ["--port", "--metrics-port", "--network", "--interop-keys", "--workers"]) expect(out.stdout).toContain(flag);
  });

  it.each([
    [["--port", "http"], /--port: expected an integer from 0 to 65535, got "http"/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--log-level", "loud"], /--log-level: expected debug, info, warn or error/],
    [["--interop-keys", "a:b"], /--interop-keys: expected N or START:COUNT/],
    [["--network", "atlantis"], /unknown network "atlantis"/],
    [["--faults", "delay=10ms;drop=often"], /--faults: rule 2 \("drop=often"\): drop: expected a rate from 0 to 1/],
  ])("refuses %j with a message", (args, message) => {
    const out = spawnSync(process.execPath, [cli, "--port", "0", "--metrics-port", "0", "--log-format", "pretty", ...args], {
      encoding: "utf8",
      timeout: 20_000,
      killSignal: "SIGKILL",
    });
    expect(out.status).not.toBe(0);
    expect(out.stdout + out.stderr).toMatch(message);
  });

  it("exits 1 with a message when its port is taken", async () => {
    const {child, url} = await startCli(["--interop-keys", "1"]);
    try {
      const port = new URL(url).port;
      const out = spawnSync(process.execPath, [cli, "--port", port, "--metrics-port", "0", "--log-format", "pretty"], {
        encoding: "utf8",
        timeout: 20_000,
        killSignal: "SIGKILL",
      });
      expect(out.status).toBe(1);
      expect(out.stdout).toMatch(new RegExp(`cannot start: cannot listen on 127\\.0\\.0\\.1:${port}`));
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("starts, prints where it listens and a curl example that signs, and exits 0 on SIGTERM", async () => {
    const {child, url, output} = await startCli(["--interop-keys", "3:2"]);
    const exit = exited(child);
    try {
      expect(output()).toMatch(/INSECURE interop keys/);
      const keys: string[] = (await request(`${url}/api/v1/eth2/publicKeys`)).json();
      expect(keys).toHaveLength(2);

      // The printed example is a complete request: send it and check the signature.
      const example = /curl .*\/api\/v1\/eth2\/sign\/(0x[0-9a-f]{96}) -d '([^']+)'/.exec(output())!;
      expect(example).not.toBeNull();
      const [, pubkey, body] = example;
      const reply = await sign(url, pubkey, body);
      expect(reply.status, reply.text).toBe(200);
      const parsed = parseRequestBody(body);
      const root = signingRootOf(parsed, requestTypeOf(parsed), createSigningContext(loadNetwork("mainnet")));
      expect(verify(root, PublicKey.fromHex(pubkey), Signature.fromHex(reply.json().signature))).toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exit).toBe(0);
    expect(output()).toMatch(/INFO\s+stopped/);
  });

  it("loads a custom network from a consensus config YAML", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts3signer-net-"));
    const file = join(dir, "config.yaml");
    writeFileSync(
      file,
      "PRESET_BASE: 'minimal'\nCONFIG_NAME: 'devnet-7'\nGENESIS_FORK_VERSION: 0x10000007\nCAPELLA_FORK_VERSION: 0x40000007\nCAPELLA_FORK_EPOCH: 0\nDENEB_FORK_VERSION: 0x50000007\nDENEB_FORK_EPOCH: 0\n"
    );
    const {child, output} = await startCli(["--network", file, "--interop-keys", "1"], "json");
    const exit = exited(child);
    child.kill("SIGINT");
    expect(await exit).toBe(0);
    // JSON log format: every line is one JSON object.
    const lines = output()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.find((l) => l.msg.startsWith("listening on"))).toMatchObject({level: "info", network: "devnet-7"});
    expect(lines.at(-1)).toMatchObject({msg: "stopped"});
  });
});

describe("shutdown", () => {
  const dataDirs: string[] = [];
  afterAll(() => {
    for (const dir of dataDirs) rmSync(dir, {recursive: true, force: true});
  });
  const dataDirWith = (fifo: boolean) => {
    const dataDir = mkdtempSync(join(tmpdir(), "ts3signer-shutdown-"));
    dataDirs.push(dataDir);
    mkdirSync(join(dataDir, "keystores"));
    if (fifo) expect(spawnSync("mkfifo", [join(dataDir, "keystores", `0x${"cd".repeat(48)}.json`)]).status).toBe(0);
    return dataDir;
  };

  it("exits 0 on SIGTERM with a FIFO in the data dir: the FIFO is skipped, never opened for a blocking read", async () => {
    // Before: the sync thread blocked on the FIFO, the signer never got ready, and SIGTERM logged
    // "exiting" but the process lived on until SIGKILL.
    const {child, output} = await startCli(["--network", "minimal", "--data-dir", dataDirWith(true)]);
    const exit = exited(child);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(output()).toMatch(/skipping keystore.*not a regular file \(a FIFO\)/);
  });

  it("exits 0 on SIGTERM while an import's slow KDFs are queued: those not started answer an error at once", async () => {
    const dataDir = dataDirWith(false);
    const {child, url} = await startCli(["--network", "minimal", "--data-dir", dataDir]);
    const exit = exited(child);
    // 240 keystores at pbkdf2 c = 2^18 (EIP-2335's default; wrong checksums, so each costs a whole
    // KDF): 60 rounds of the 4 libuv threads, past the 10 s deadline if all had to run.
    const slow = () => {
      const hex = (n: number) => randomBytes(n).toString("hex");
      const kdf = {function: "pbkdf2", params: {dklen: 32, c: 2 ** 18, prf: "hmac-sha256", salt: hex(32)}, message: ""};
      return JSON.stringify({
        version: 4,
        uuid: "00000000-0000-4000-8000-000000000000",
        path: "",
        pubkey: hex(48),
        crypto: {
          kdf,
          checksum: {function: "sha256", params: {}, message: hex(32)},
          cipher: {function: "aes-128-ctr", params: {iv: hex(16)}, message: hex(32)},
        },
      });
    };
    const token = readFileSync(join(dataDir, "api-token.txt"), "utf8").trim();
    const importing = request(`${url}/eth/v1/keystores`, {
      method: "POST",
      headers: {authorization: `Bearer ${token}`, "content-type": "application/json"},
      body: JSON.stringify({keystores: Array.from({length: 240}, slow), passwords: Array(240).fill("pw")}),
    });
    await new Promise((r) => setTimeout(r, 500)); // the request is in
    child.kill("SIGTERM");
    // Before: the import held the shutdown past the deadline (exit 1), then exit() waited for libuv's queue.
    expect(await exit).toBe(0);
    const reply = await importing;
    expect(reply.status).toBe(200);
    const messages = reply.json().data.map((d: {message: string}) => d.message);
    expect(messages).toContain("shutting down");
    expect(messages.every((m: string) => m === "shutting down" || /checksum mismatch/.test(m))).toBe(true);
  });

  it("exitNow ends the process even while a thread is stuck in a system call (exit() alone would wait for it forever)", async () => {
    const fifo = join(dataDirWith(false), "fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const shutdown = new URL("../dist/src/shutdown.js", import.meta.url).href;
    // A libuv thread blocks opening a FIFO that no one writes to; then the deadline's exit.
    const script = `import("node:fs").then(async (fs) => { const {exitNow} = await import(${JSON.stringify(shutdown)}); fs.readFile(${JSON.stringify(fifo)}, () => {}); setTimeout(() => exitNow(1), 200); });`;
    const child = spawn(process.execPath, ["-e", script], {stdio: "ignore"});
    const ended = new Promise<{code: number | null; signal: string | null}>((resolve) =>
      child.on("exit", (code, signal) => resolve({code, signal}))
    );
    const timer = setTimeout(() => child.kill("SIGTERM"), 30_000);
    const result = await ended;
    clearTimeout(timer);
    // Killed by its watchdog 1 s after exit() started (SIGKILL), not by this test's SIGTERM at 30 s.
    expect(result).toEqual({code: null, signal: "SIGKILL"});
  });
});

import {type ChildProcess, spawn, spawnSync} from "node:child_process";
import {mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {describe, expect, it} from "vitest";
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
      const out = spawnSync(process.execPath, [cli, "--port", port, "--metrics-port", "0", "--log-format", "pretty"], {encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL"});
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
    writeFileSync(file, "PRESET_BASE: 'minimal'\nCONFIG_NAME: 'devnet-7'\nGENESIS_FORK_VERSION: 0x10000007\nCAPELLA_FORK_VERSION: 0x40000007\nCAPELLA_FORK_EPOCH: 0\nDENEB_FORK_VERSION: 0x50000007\nDENEB_FORK_EPOCH: 0\n");
    const {child, output} = await startCli(["--network", file, "--interop-keys", "1"], "json");
    const exit = exited(child);
    child.kill("SIGINT");
    expect(await exit).toBe(0);
    // JSON log format: every line is one JSON object.
    const lines = output().trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.find((l) => l.msg.startsWith("listening on"))).toMatchObject({level: "info", network: "devnet-7"});
    expect(lines.at(-1)).toMatchObject({msg: "stopped"});
  });
});

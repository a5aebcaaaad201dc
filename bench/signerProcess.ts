import {type ChildProcess, spawn} from "node:child_process";
import {mainThreadCpuSeconds, processCpuSeconds, rssBytes} from "../src/load/procStat.js";

/** A signer started from the built CLI in its own process, so its CPU and memory can be read apart. */
export class SignerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly metricsUrl: string,
    readonly readySeconds: number,
    /** What the signer logged as its key-load time ("keys loaded" … seconds). */
    readonly keyLoadSeconds: number
  ) {}

  static async start(args: string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = process.env): Promise<SignerProcess> {
    const cli = new URL("../src/cli.js", import.meta.url).pathname;
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli, "--port", "0", "--metrics-port", "0", "--log-format", "json", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env,
    });
    let output = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`signer not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
      child.stdout!.on("data", (d: Buffer) => {
        output += d;
        const port = /listening on http:\/\/[\d.]+:(\d+)/.exec(output)?.[1];
        if (port && /"ready with/.test(output)) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${port}`);
        }
      });
      child.once("exit", (code) => reject(new Error(`signer exited (${code}):\n${output}`)));
    });
    // Logged before the keys are ready.
    const metricsUrl = `http://127.0.0.1:${/metrics on http:\/\/[\d.]+:(\d+)/.exec(output)?.[1]}/metrics`;
    const loaded = output
      .split("\n")
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return {};
        }
      })
      .find((l) => l.msg === "keys loaded");
    return new SignerProcess(child, url, metricsUrl, (performance.now() - t0) / 1000, loaded?.seconds ?? NaN);
  }

  /** CPU seconds (user + system) the process has used so far, all threads. */
  cpuSeconds(): number {
    return processCpuSeconds(this.child.pid!);
  }

  /** CPU seconds of the HTTP (main) thread alone; the rest is the signing workers and V8's helpers. */
  httpThreadCpuSeconds(): number {
    return mainThreadCpuSeconds(this.child.pid!);
  }

  /** One sample of the signer's /metrics (0 when absent), e.g. ("ts3signer_point_cache_total", 'result="hit"'). */
  async metric(name: string, labels = ""): Promise<number> {
    const text = await (await fetch(this.metricsUrl)).text();
    const line = text.split("\n").find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
    return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
  }

  rssBytes(): number {
    return rssBytes(this.child.pid!);
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await exited;
  }
}

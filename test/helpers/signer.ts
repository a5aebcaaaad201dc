// Integration tests run the built signer (dist/): its worker threads load compiled JavaScript.
import {connect} from "node:net";
import {defaultConfig} from "../../dist/src/config/args.js";
import type {SignerConfig} from "../../dist/src/config/signerConfig.js";
import {createLogger} from "../../dist/src/log.js";
import {startSigner} from "../../dist/src/signer.js";

/** A copy of ../shared/vectors/signing-roots.json (test/vectors.test.ts checks it has not drifted). */
export const vectorsPath = new URL("../fixtures/signing-roots.json", import.meta.url);

export type TestSigner = Awaited<ReturnType<typeof startTestSigner>>;

/** Set by .ci/run: the native signing addon must have been built, so tests never compare sign() with itself. */
export const requireNativeSigning = process.env.TS3SIGNER_TESTS_REQUIRE_NATIVE_SIGNING === "1";

/** A real signer on loopback ports picked by the OS, logging into `lines`. */
export async function startTestSigner(overrides: Partial<SignerConfig> = {}) {
  const lines: string[] = [];
  const log = createLogger({level: "debug", format: "json", write: (line) => lines.push(line)});
  const config = {...defaultConfig, port: 0, metricsPort: 0, workers: 2, requireNativeSigning, ...overrides};
  const signer = await startSigner(config, log);
  await signer.ready;
  return {
    signer,
    lines,
    url: `http://127.0.0.1:${signer.port}`,
    metricsUrl: `http://127.0.0.1:${signer.metricsPort}/metrics`,
    close: () => signer.close(),
  };
}

export type Reply = {status: number; text: string; contentType: string | null; json(): any};

export async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  return {status: res.status, text, contentType: res.headers.get("content-type"), json: () => JSON.parse(text)};
}

/** POST a signing request; `body` is sent as is when a string, else as JSON. */
export function sign(base: string, pubkey: string, body: unknown, accept = "application/json"): Promise<Reply> {
  return request(`${base}/api/v1/eth2/sign/${pubkey}`, {
    method: "POST",
    headers: {"content-type": "application/json", accept},
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The value of one sample in Prometheus text output (0 when absent). */
export function sample(metricsText: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of metricsText.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    const labelText = line.slice(name.length).split(" ")[0];
    if (want.every((l) => labelText.includes(l))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

/**
 * Sends `text` as is over one TCP connection and resolves with everything the server sent until it
 * closed: for requests that fetch would rewrite (no Accept header, HEAD followed by another request).
 */
export function rawHttp(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // write, not end: uWS drops a connection whose client half-closes it before the answer.
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

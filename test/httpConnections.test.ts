// Connection semantics as clients' HTTP stacks rely on them (RFC 9112 §9): a response after which
// the server closes says `Connection: close`, a kept connection says for how long (Keep-Alive), and
// every close the server makes is counted by reason.
import {execFile, spawnSync} from "node:child_process";
import {readFileSync} from "node:fs";
import {request as httpRequest} from "node:http";
import {connect} from "node:net";
import {promisify} from "node:util";
import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {bytes} from "./helpers/reference.js";
import {rawHttp, sample, startTestSigner, type TestSigner, vectorsPath} from "./helpers/signer.js";

const run = promisify(execFile);
const abInstalled = spawnSync("ab", ["-V"]).status === 0;
type Vector = {name: string; request: Record<string, any>; pubkey: string; signature: string; signing_root: string};
const vectors: Vector[] = JSON.parse(readFileSync(vectorsPath, "utf8"));
const att = vectors.find((v) => v.name === "web3signer: ATTESTATION")!;

/** Sends `text` on a new connection; resolves with what came back and whether the server closed it within `ms`. */
function exchangeRaw(port: number, text: string, ms = 1000): Promise<{reply: string; closed: boolean}> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({reply: Buffer.concat(chunks).toString("latin1"), closed});
    };
    const timer = setTimeout(() => done(false), ms);
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", () => {});
    socket.on("close", () => done(true));
  });
}
const headerOf = (reply: string, name: string) => new RegExp(`^${name}: *(.*)$`, "im").exec(reply.split("\r\n\r\n")[0])?.[1]?.trim();

describe("HTTP connection semantics", () => {
  let s: TestSigner;
  beforeAll(async () => {
    s = await startTestSigner({network: "minimal", interopKeys: "1", maxBodyBytes: 4096});
  });
  afterAll(() => s?.close());
  const closed = async (reason: string) =>
    sample(await (await fetch(s.metricsUrl)).text(), "ts3signer_http_connections_closed_total", {reason});

  it.each(["close", "Close", "keep-alive, close"])("says Connection: close and closes when the request asked with %j", async (value) => {
    for (const [method, path] of [
      ["GET", "/upcheck"],
      ["POST", "/api/v1/eth2/sign/0x00"],
    ]) {
      const {reply, closed} = await exchangeRaw(
        s.signer.port,
        `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: ${value}\r\nContent-Length: 0\r\n\r\n`
      );
      expect(reply).toMatch(/^HTTP\/1\.1 (200|404) /);
      expect(headerOf(reply, "connection")).toBe("close");
      expect(headerOf(reply, "keep-alive")).toBeUndefined();
      expect(closed).toBe(true);
    }
  });

  it("keeps other connections open, and says for how long (Keep-Alive: timeout), below uWS's own idle close", async () => {
    const {reply, closed} = await exchangeRaw(s.signer.port, "GET /upcheck HTTP/1.1\r\nHost: x\r\n\r\n", 300);
    expect(headerOf(reply, "connection")).toBeUndefined();
    expect(headerOf(reply, "keep-alive")).toBe("timeout=5");
    expect(closed).toBe(false);
  });

  it("says Connection: close on the answers that close: 413, and a 408 for a body that stalls", async () => {
    const tooLarge = await exchangeRaw(s.signer.port, `POST /api/v1/eth2/sign/0x00 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n`);
    expect(tooLarge.reply).toMatch(/^HTTP\/1\.1 413 /);
    expect([headerOf(tooLarge.reply, "connection"), tooLarge.closed]).toEqual(["close", true]);

    const t = await startTestSigner({network: "minimal", interopKeys: "1", requestTimeoutMs: 300});
    try {
      const stalled = await exchangeRaw(
        t.signer.port,
        `POST /api/v1/eth2/sign/0x00 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"type":`,
        5000
      );
      expect(stalled.reply).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
      expect([headerOf(stalled.reply, "connection"), stalled.closed]).toEqual(["close", true]);
      expect(JSON.parse(stalled.reply.split("\r\n\r\n")[1]).message).toMatch(/did not arrive within 300 ms/);
      expect(sample(await (await fetch(t.metricsUrl)).text(), "ts3signer_http_connections_closed_total", {reason: "request_timeout"})).toBe(
        1
      );
    } finally {
      await t.close();
    }
  });

  it("counts the connections it closes, by reason", async () => {
    const before = {asked: await closed("client_asked"), refused: await closed("refused_body")};
    for (let i = 0; i < 3; i++) await rawHttp(s.signer.port, "GET /upcheck HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await rawHttp(s.signer.port, `POST /api/v1/eth2/sign/0x00 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n`);
    // A kept connection is not counted.
    await exchangeRaw(s.signer.port, "GET /upcheck HTTP/1.1\r\nHost: x\r\n\r\n", 100);
    expect(await closed("client_asked")).toBe(before.asked + 3);
    expect(await closed("refused_body")).toBe(before.refused + 1);
  });

  it("serves a client that sends Connection: close on Node's default keep-alive agent, request after request", async () => {
    // Node 20's global agent keeps sockets alive; without `Connection: close` in the answer it
    // would reuse the socket uWS just closed ("socket hang up"), every other request.
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          const r = httpRequest(`${s.url}/upcheck`, {headers: {connection: "close"}}, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          });
          r.on("error", reject);
          r.end();
        })
      );
    }
    expect(statuses).toEqual(Array(20).fill(200));
  });
});

describe("requests uWS cannot parse: HTTP/1.0, HTTP/1.1 without Host", () => {
  let s: TestSigner;
  beforeAll(async () => {
    s = await startTestSigner({network: "minimal", interopKeys: "1"});
  });
  afterAll(() => s?.close());
  const stalled = async () =>
    sample(await (await fetch(s.metricsUrl)).text(), "ts3signer_http_connections_closed_total", {reason: "stalled"});

  it("answers curl --http1.0 with a 400 that says why, and closes, in under a second", async () => {
    const before = await stalled();
    const t0 = performance.now();
    const {stdout} = await run("curl", ["-sS", "-i", "--http1.0", "--max-time", "5", `${s.url}/upcheck`]);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(stdout).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(headerOf(stdout, "connection")).toBe("close");
    expect(JSON.parse(stdout.split("\r\n\r\n")[1]).message).toMatch(/HTTP\/1\.1 requests with a Host header \(not HTTP\/1\.0\)/);
    expect(await stalled()).toBe(before + 1);
  });

  it("answers HTTP/1.0 and a Host-less HTTP/1.1 request at the socket level in under a second", async () => {
    for (const text of [
      "GET /upcheck HTTP/1.0\r\n\r\n",
      "POST /api/v1/eth2/sign/0x00 HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}",
      "GET /upcheck HTTP/1.1\r\n\r\n",
    ]) {
      const t0 = performance.now();
      const {reply, closed} = await exchangeRaw(s.signer.port, text, 1000);
      expect([reply.split("\r\n")[0], closed]).toEqual(["HTTP/1.1 400 Bad Request", true]);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  });

  it.skipIf(!abInstalled)("serves ApacheBench (HTTP/1.0): ab -n 100 -c 25 completes, every request answered", async () => {
    const {stdout} = await run("ab", ["-n", "100", "-c", "25", "-s", "5", `${s.url}/upcheck`]);
    expect(stdout).toMatch(/Complete requests:\s+100\n/);
    expect(stdout).toMatch(/Failed requests:\s+0\n/);
  });

  it("never ends a request it is still working on: a slow body, a delayed answer, kept connections", async () => {
    const t = await startTestSigner({network: "minimal", interopKeys: "1", faults: `delay=1500ms,keys=${att.pubkey}`});
    try {
      const body = JSON.stringify(att.request);
      const head = `POST /api/v1/eth2/sign/${att.pubkey} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      // A body that pauses for 800 ms mid-way, then is answered 1.5 s later (an injected delay): on
      // a fresh connection, so nothing has been sent on it for 2.3 s.
      const slow = new Promise<string>((resolve) => {
        const chunks: Buffer[] = [];
        const socket = connect(t.signer.port, "127.0.0.1", () => {
          socket.write(head + body.slice(0, 100));
          setTimeout(() => socket.write(body.slice(100)), 800);
        });
        socket.on("data", (c) => {
          chunks.push(c);
          const text = Buffer.concat(chunks).toString();
          if (/\r\n\r\n\{.*\}$/s.test(text)) resolve(text);
        });
        socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
      });
      // Meanwhile an idle kept connection stays open.
      const idle = await exchangeRaw(t.signer.port, "GET /upcheck HTTP/1.1\r\nHost: x\r\n\r\n", 2500);
      const answer = await slow;
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
      const signature = JSON.parse(answer.split("\r\n\r\n")[1]).signature;
      expect(verify(bytes(att.signing_root), PublicKey.fromHex(att.pubkey), Signature.fromHex(signature))).toBe(true);
      expect(idle.closed).toBe(false);
      expect(sample(await (await fetch(t.metricsUrl)).text(), "ts3signer_http_connections_closed_total", {reason: "stalled"})).toBe(0);
    } finally {
      await t.close();
    }
  });
});

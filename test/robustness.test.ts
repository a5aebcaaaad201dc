import {execFileSync, spawn, spawnSync} from "node:child_process";
import {mkdtempSync, readFileSync} from "node:fs";
import {request as httpsRequest} from "node:https";
import {connect} from "node:net";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {describe, expect, it} from "vitest";
import {buildRequest, Connection} from "../dist/src/load/httpClient.js";
import {rng} from "./helpers/reference.js";
import {request, sample, sign, startTestSigner, vectorsPath} from "./helpers/signer.js";

type Vector = {name: string; request: Record<string, any>; pubkey: string; signature: string; signing_root: string};
const vectors: Vector[] = JSON.parse(readFileSync(vectorsPath, "utf8"));
const att = vectors.find((v) => v.name === "web3signer: ATTESTATION")!;
const cli = new URL("../dist/src/cli.js", import.meta.url).pathname;

/** Resolves when the socket closes (or rejects after `ms`). */
const closedWithin = (socket: ReturnType<typeof connect>, ms: number) =>
  new Promise<number>((resolve, reject) => {
    const t0 = performance.now();
    const timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
    socket.resume(); // read (and discard) any answer, e.g. a 408: an unread socket never reports its close
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
    socket.on("error", () => {});
  });

describe("slow and stalled clients", () => {
  it("drops a client that stalls mid-body after --request-timeout, without slowing anyone else", async () => {
    const s = await startTestSigner({network: "minimal", interopKeys: "1", requestTimeoutMs: 1000});
    try {
      const socket = connect(s.signer.port, "127.0.0.1");
      await new Promise((r) => socket.once("connect", r));
      socket.write(
        `POST /api/v1/eth2/sign/${att.pubkey} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"type":`
      );
      let stalledOpen = true;
      const closed = closedWithin(socket, 5000).finally(() => (stalledOpen = false));
      // Everyone else is served while the stalled client still holds its connection.
      const replies = await Promise.all(Array.from({length: 20}, () => sign(s.url, att.pubkey, att.request)));
      expect(replies.every((r) => r.status === 200)).toBe(true);
      expect(stalledOpen).toBe(true);
      expect(await closed).toBeGreaterThan(500);
      const metrics = await (await fetch(s.metricsUrl)).text();
      expect(sample(metrics, "ts3signer_request_timeouts_total")).toBe(1);
    } finally {
      await s.close();
    }
  });

  it("drops a client that stalls inside its headers", async () => {
    const s = await startTestSigner({network: "minimal"});
    try {
      const socket = connect(s.signer.port, "127.0.0.1");
      await new Promise((r) => socket.once("connect", r));
      socket.write("POST /api/v1/eth2/sign/0x00 HTTP/1.1\r\nHost: x\r\n");
      // Once it has been quiet for 600 ms (src/server/stalledConnections.ts; uWS alone waits ~10 s).
      expect(await closedWithin(socket, 20_000)).toBeGreaterThan(500);
      expect((await request(`${s.url}/upcheck`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("sheds load with 503 past --max-in-flight instead of queueing without bound", async () => {
    const s = await startTestSigner({network: "minimal", interopKeys: "1", maxInFlight: 4});
    try {
      const replies = await Promise.all(Array.from({length: 60}, () => sign(s.url, att.pubkey, att.request)));
      const statuses = replies.map((r) => r.status);
      expect(statuses.filter((st) => st === 200).length).toBeGreaterThanOrEqual(4);
      const shed = replies.filter((r) => r.status === 503);
      expect(shed.length).toBeGreaterThan(0);
      expect(shed[0].json().message).toMatch(/too many requests in flight \(limit 4\)/);
      expect(statuses.every((st) => st === 200 || st === 503)).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe("worker failure", () => {
  it("replaces a dead worker, retries its requests, and counts the failure", async () => {
    const s = await startTestSigner({network: "minimal", interopKeys: "8", workers: 2});
    try {
      const keys = s.signer.keys.publicKeys();
      const pending = Promise.all(Array.from({length: 400}, (_, i) => sign(s.url, keys[i % 8], att.request)));
      // Kill a worker while it holds work.
      while (s.signer.pool.queueDepth < 100) await new Promise((r) => setTimeout(r, 1));
      await s.signer.pool.threads[0].terminate();
      const replies = await pending;
      // Every request answered; a retry on the other worker signs it.
      expect(replies.map((r) => r.status).filter((st) => st !== 200)).toEqual([]);
      for (const [i, r] of replies.entries()) {
        if (i % 50 === 0)
          expect(
            verify(Buffer.from(att.signing_root.slice(2), "hex"), PublicKey.fromHex(keys[i % 8]), Signature.fromHex(r.json().signature))
          ).toBe(true);
      }
      const metrics = await (await fetch(s.metricsUrl)).text();
      expect(sample(metrics, "ts3signer_worker_failures_total")).toBeGreaterThanOrEqual(1);
      // The replacement sees every key.
      for (let i = 0; i < 20; i++) expect((await sign(s.url, keys[i % 8], att.request)).status).toBe(200);
      expect(s.signer.pool.threads.length).toBe(2);
      expect(s.lines.some((l) => l.includes("a signing worker died"))).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe("graceful shutdown", () => {
  it("answers every request already received on SIGTERM, then exits 0", async () => {
    const child = spawn(
      process.execPath,
      [cli, "--port", "0", "--metrics-port", "0", "--network", "minimal", "--interop-keys", "4", "--log-format", "json"],
      {stdio: ["ignore", "pipe", "pipe"]}
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const exit = new Promise<number | null>((r) => child.on("exit", r));
    await new Promise<void>((resolve) => child.stdout.on("data", () => /ready with/.test(out) && resolve()));
    const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1];
    const metricsPort = /metrics on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1];
    const url = `http://127.0.0.1:${port}`;

    const n = 600;
    // Raw keep-alive connections, opened first, so all requests go out at once.
    const conns = await Promise.all(Array.from({length: n}, () => Connection.open("127.0.0.1", Number(port))));
    const wire = buildRequest(`127.0.0.1:${port}`, `/api/v1/eth2/sign/${att.pubkey}`, JSON.stringify(att.request));
    const replies = Promise.all(conns.map((c) => c.send(wire)));
    // Wait until the signer holds all of them, most still queued for a worker.
    let depth = 0;
    for (let i = 0; i < 400; i++) {
      const m = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      depth = sample(m, "ts3signer_pool_queue_depth");
      if (depth + sample(m, "ts3signer_signatures_total", {type: "ATTESTATION"}) >= n) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill("SIGTERM");
    const statuses = (await replies).map((r) => r.status);
    for (const c of conns) c.close();
    expect(depth).toBeGreaterThan(0);
    expect(statuses.filter((st) => st !== 200)).toEqual([]);
    expect(await exit).toBe(0);
    await expect(fetch(`${url}/upcheck`)).rejects.toThrow();
  });
});

describe("hostile input", () => {
  it("answers deeply nested and oversized JSON with 400", async () => {
    const s = await startTestSigner({network: "minimal", interopKeys: "1"});
    try {
      const deep = await sign(s.url, att.pubkey, "[".repeat(200_000) + "]".repeat(200_000));
      expect([deep.status, deep.json().message]).toEqual([400, "the request body must be a JSON object, got an array"]);
      const nested = await sign(
        s.url,
        att.pubkey,
        '{"type":"ATTESTATION","attestation":' + "[".repeat(100_000) + "]".repeat(100_000) + "}"
      );
      expect(nested.status).toBe(400);
      const bigArray = structuredClone(vectors.find((v) => v.name === "web3signer: BLOCK_V2 (ALTAIR)")!.request);
      bigArray.beacon_block.block.body.attestations = Array.from({length: 2000}, () => ({}));
      const big = await sign(s.url, att.pubkey, bigArray);
      expect([big.status, big.json().message]).toEqual([400, "beacon_block.block.body.attestations: expected at most 128 items, got 2000"]);
      expect((await sign(s.url, att.pubkey, att.request)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("survives thousands of seeded mutated requests: no 5xx, every 4xx explained, signing goes on", async () => {
    const s = await startTestSigner({network: "minimal", interopKeys: "1"});
    const r = rng(20261130);
    const junk = () =>
      [null, true, -1, 1.5, 2 ** 64, "", "0x", "0xzz", "x".repeat(r.int(3000)), [], {}, "18446744073709551616", "-0"][r.int(13)];
    /** Changes one random spot of a JSON value. */
    const mutate = (value: any, depth = 0): any => {
      if (value === null || typeof value !== "object" || depth > 6 || r.next() < 0.25) return junk();
      const keys = Object.keys(value);
      if (!keys.length) return junk();
      const copy = Array.isArray(value) ? [...value] : {...value};
      const key = keys[r.int(keys.length)];
      const roll = r.next();
      if (roll < 0.15) delete copy[key];
      else if (roll < 0.25) copy[`extra_${r.int(9)}`] = junk();
      else copy[key] = mutate(value[key], depth + 1);
      return copy;
    };
    const textMutations = [
      (t: string) => t.slice(0, r.int(t.length)),
      (t: string) => t.replace(/[0-9a-f]/, "g"),
      (t: string) => t.replace(/"(\d+)"/, "$1$1$1$1$1$1"),
      (t: string) => t + "}",
      (t: string) =>
        Buffer.from(t)
          .map((b) => (r.next() < 0.01 ? r.int(256) : b))
          .toString(),
    ];
    try {
      const statuses = new Map<number, number>();
      const total = 3000;
      let next = 0;
      const worker = async () => {
        while (next < total) {
          const i = next++;
          const v = vectors[i % vectors.length];
          const body = i % 4 === 0 ? textMutations[r.int(textMutations.length)](JSON.stringify(v.request)) : mutate(v.request);
          const reply = await sign(s.url, v.pubkey, body);
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          expect(reply.status, `${reply.status} ${reply.text}`).toBeLessThan(500);
          if (reply.status !== 200) expect(typeof reply.json().message).toBe("string");
        }
      };
      await Promise.all(Array.from({length: 32}, worker));
      expect(statuses.get(400)).toBeGreaterThan(total / 2);
      const ok = await sign(s.url, att.pubkey, att.request);
      expect(ok.json().signature).toBe(att.signature);
      expect((await request(`${s.url}/upcheck`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe("transport options", () => {
  it("serves the signing API over TLS with --tls-cert/--tls-key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts3signer-tls-"));
    const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      {stdio: "ignore"}
    );
    const s = await startTestSigner({network: "minimal", interopKeys: "1", tlsCert: cert, tlsKey: key});
    try {
      expect(s.lines.some((l) => l.includes(`listening on https://127.0.0.1:${s.signer.port}`))).toBe(true);
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: "127.0.0.1",
            port: s.signer.port,
            path: `/api/v1/eth2/sign/${att.pubkey}`,
            method: "POST",
            ca: readFileSync(cert),
            headers: {accept: "application/json", "content-type": "application/json"},
          },
          (res) => {
            let data = "";
            res.on("data", (d) => (data += d));
            res.on("end", () => resolve(data));
          }
        );
        req.on("error", reject);
        req.end(JSON.stringify(att.request));
      });
      expect(JSON.parse(body).signature).toBe(att.signature);
    } finally {
      await s.close();
    }
  });

  it("warns loudly when serving plain HTTP beyond loopback", async () => {
    const s = await startTestSigner({network: "minimal", host: "0.0.0.0"});
    try {
      expect(s.lines.some((l) => /"level":"warn".*WITHOUT TLS/.test(l))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it("reports the JavaScript fallback engine, and --require-native-http refuses it", () => {
    const env = {...process.env, UWS_USE_FALLBACK: "1"};
    const refused = spawnSync(
      process.execPath,
      [cli, "--port", "0", "--metrics-port", "0", "--require-native-http", "--log-format", "json"],
      {env, encoding: "utf8", timeout: 20_000}
    );
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/--require-native-http: the uWebSockets.js native engine did not load \(running uws-js-fallback\)/);
  });
});

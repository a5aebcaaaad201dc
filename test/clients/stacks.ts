/**
 * Each validator client's HTTP stack as it talks to a remote signer: what it sends on the wire and
 * what it does with connections. Stacks that run on Node are driven for real, with their default
 * settings; the others are replayed at the socket level (socketClient.ts) from their sources.
 */
import {Agent, request as httpRequest} from "node:http";
import nodeFetch267 from "node-fetch-2.6.7";
import nodeFetch270 from "node-fetch-2.7";
import {grandine} from "./grandine.js";
import {lighthouse} from "./lighthouse.js";
import {lodestarCurrent, lodestarOld} from "./lodestar.js";
import {nimbus} from "./nimbus.js";
import {prysm} from "./prysm.js";
import {SocketClient, type SocketStack} from "./socketClient.js";
import {teku} from "./teku.js";
import type {ClientShape, WireRequest, WireResponse} from "./wire.js";

/** One client instance: every request of a run goes through it. */
export type StackClient = {send(req: WireRequest): Promise<WireResponse>; close(): void};

export type HttpStack = {
  name: string;
  /** The validator clients (and releases) that sign through it, whose request shapes it sends. */
  client: ClientShape;
  /** What it does with connections, as read in its sources (README's client table says the same). */
  connections: string;
  open(baseUrl: string, port: number): StackClient;
};

type FetchLike = (
  url: string,
  init: {method: string; headers: Record<string, string>; body?: string}
) => Promise<{
  status: number;
  headers: {get(name: string): string | null};
  text(): Promise<string>;
}>;

/** A fetch implementation, called as the client calls it: no agent or dispatcher of its own. */
const fetchStack =
  (fetch: FetchLike): HttpStack["open"] =>
  (baseUrl) => ({
    async send(req) {
      const res = await fetch(new URL(req.path, baseUrl).href, {method: req.method, headers: req.headers, body: req.body});
      return {status: res.status, contentType: res.headers.get("content-type") ?? undefined, body: await res.text()};
    },
    close() {},
  });

const socketStack =
  (stack: SocketStack): HttpStack["open"] =>
  (_baseUrl, port) => {
    const client = new SocketClient(port, stack);
    return {send: (req) => client.send(req), close: () => client.close()};
  };

export const httpStacks: HttpStack[] = [
  {
    name: "node-fetch 2.6.7 on Node's default agent",
    client: lodestarOld,
    connections:
      "Lodestar ≤ 1.9 (cross-fetch): `Connection: close` on every request, yet on Node 20 the socket goes back to the keep-alive global agent; it is reused unless the answer says `Connection: close`",
    open: fetchStack(nodeFetch267 as unknown as FetchLike),
  },
  {
    name: "node-fetch 2.7.0 on Node's default agent",
    client: lodestarOld,
    connections: "as 2.6.7: `Connection: close` without an agent of its own, the socket pooled by Node 20's global agent",
    open: fetchStack(nodeFetch270 as unknown as FetchLike),
  },
  {
    name: "undici (Node's global fetch)",
    client: lodestarCurrent,
    connections:
      "Lodestar ≥ 1.10: keep-alive pool, no pipelining, idle sockets retired after 4 s or the server's `Keep-Alive: timeout` less 1 s",
    open: fetchStack(globalThis.fetch as unknown as FetchLike),
  },
  {
    name: "node:http with Agent({keepAlive: true})",
    client: lodestarCurrent,
    connections: "keep-alive pool, unbounded sockets, idle sockets kept until the server closes them or its `Keep-Alive: timeout` less 1 s",
    open: (_baseUrl, port) => {
      const agent = new Agent({keepAlive: true});
      return {send: (req) => agentSend(agent, port, req), close: () => agent.destroy()};
    },
  },
  {
    name: "Go net/http (Prysm)",
    client: prysm,
    connections:
      "keep-alive pool, 2 idle connections per host (the rest closed by the client), 90 s idle timeout; Content-Length bodies; `Accept-Encoding: gzip`; no Expect, no pipelining; a POST is not retried on a reused connection",
    open: socketStack({
      headerLines: (req, host, length) => [
        `Host: ${host}`,
        "User-Agent: Go-http-client/1.1",
        `Content-Length: ${length}`,
        ...lines(req.headers, ["user-agent"]),
        "Accept-Encoding: gzip",
      ],
      maxIdle: 2,
    }),
  },
  {
    name: "Go net/http, body of unknown length, Expect: 100-continue",
    client: prysm,
    connections:
      "what Go sends for a streamed body (`Transfer-Encoding: chunked`) with `Expect: 100-continue` set by the caller: the body waits for `100 Continue`",
    open: socketStack({
      headerLines: (req, host) => [
        `Host: ${host}`,
        "User-Agent: Go-http-client/1.1",
        "Transfer-Encoding: chunked",
        ...lines(req.headers, ["user-agent"]),
        "Expect: 100-continue",
        "Accept-Encoding: gzip",
      ],
      chunkBytes: 256,
      expectContinue: true,
      maxIdle: 2,
    }),
  },
  {
    name: "reqwest / hyper (Lighthouse)",
    client: lighthouse,
    connections:
      "keep-alive pool, unbounded idle connections, 90 s idle timeout; lower-case headers, Content-Length bodies; no Expect, no pipelining",
    open: socketStack({
      headerLines: (req, host, length) => [...lines(req.headers, [], true), `content-length: ${length}`, `host: ${host}`],
      maxIdle: Infinity,
    }),
  },
  {
    name: "reqwest / hyper (Grandine)",
    client: grandine,
    connections: "as Lighthouse's, with reqwest's default `accept: */*`",
    open: socketStack({
      headerLines: (req, host, length) => [
        "accept: */*",
        ...lines(req.headers, ["accept"], true),
        `content-length: ${length}`,
        `host: ${host}`,
      ],
      maxIdle: Infinity,
    }),
  },
  {
    name: "java.net.http, HTTP/1.1 (Teku)",
    client: teku,
    connections:
      "HttpClient forced to HTTP/1.1 (no h2c upgrade): keep-alive pool, unbounded, 30 s idle timeout (JDK ≥ 20); Content-Length bodies; no Expect, no pipelining",
    open: socketStack({
      headerLines: (req, host, length) => [
        `Content-Length: ${length}`,
        `Host: ${host}`,
        "User-Agent: Java-http-client/21.0.5",
        ...lines(req.headers, ["user-agent"]),
      ],
      maxIdle: Infinity,
    }),
  },
  {
    name: "chronos HttpClient (Nimbus)",
    client: nimbus,
    connections:
      "chronos before its 2026 RFC 9112 rework, without Http11Pipeline: `Connection: close` on every request, a new connection each; `Host` without the port",
    open: socketStack({
      headerLines: (req, _host, length) => [
        ...lines(req.headers),
        "User-Agent: nim-chronos/4.0.4 (amd64/linux)",
        "Host: 127.0.0.1",
        "Connection: close",
        `Content-Length: ${length}`,
      ],
      maxIdle: 0,
    }),
  },
  {
    name: "chronos HttpClient with Http11Pipeline (Nimbus)",
    client: nimbus,
    connections:
      "with the session's Http11Pipeline flag (keep-alive, despite the name: no pipelining): `Connection: keep-alive`, the connection reused unless the answer says close",
    open: socketStack({
      headerLines: (req, _host, length) => [
        ...lines(req.headers),
        "User-Agent: nim-chronos/4.0.4 (amd64/linux)",
        "Host: 127.0.0.1",
        "Connection: keep-alive",
        `Content-Length: ${length}`,
      ],
      maxIdle: Infinity,
    }),
  },
];

/** The client's own headers as header lines (Title-Case unless `lower`), less `skip`. */
function lines(headers: Record<string, string>, skip: string[] = [], lower = false): string[] {
  const title = (name: string) => name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
  return Object.entries(headers)
    .filter(([name]) => !skip.includes(name.toLowerCase()))
    .map(([name, value]) => `${lower ? name.toLowerCase() : title(name)}: ${value}`);
}

function agentSend(agent: Agent, port: number, req: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({path: req.path, agent, host: "127.0.0.1", port, method: req.method, headers: req.headers}, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({status: res.statusCode ?? 0, contentType: res.headers["content-type"], body: Buffer.concat(chunks).toString("utf8")})
      );
    });
    r.on("error", reject);
    r.end(req.body);
  });
}

/**
 * A keep-alive HTTP/1.1 client written at the socket level, to replay what a validator client's HTTP
 * stack puts on the wire where that stack does not run here (Go net/http, hyper, java.net.http,
 * chronos): its header lines in its order, its body framing, its pool. It is as strict as those
 * stacks are with a POST: a request written on a pooled connection that the server then closes
 * without an answer is a failure, never retried (none of them retries a non-idempotent request).
 */
import {connect, type Socket} from "node:net";
import type {WireRequest, WireResponse} from "./wire.js";

export type SocketStack = {
  /** The request's header lines in the stack's order, without the request line and the blank line. */
  headerLines(req: WireRequest, host: string, bodyLength: number): string[];
  /** `chunked`: the body goes out in chunks of at most this many bytes (a body of unknown length). */
  chunkBytes?: number;
  /** Sends `Expect: 100-continue` and holds the body until `100 Continue` (or a final answer). */
  expectContinue?: boolean;
  /** Idle connections kept for reuse; the rest are closed by the client once answered. */
  maxIdle: number;
};

/** An answer, and whether it said the server closes the connection after it. */
export type SocketAnswer = WireResponse & {closes: boolean};

type Pending = {resolve(r: SocketAnswer): void; reject(e: Error): void; onContinue?: () => void};
type Conn = {socket: Socket; buffer: Buffer; pending: Pending | undefined; closed: boolean};

export class SocketClient {
  private readonly idle: Conn[] = [];
  private readonly all = new Set<Conn>();
  /** Connections opened, and how many of them the server closed (for the tests' reports). */
  opened = 0;
  closedByServer = 0;

  constructor(
    private readonly port: number,
    private readonly stack: SocketStack
  ) {}

  async send(req: WireRequest): Promise<SocketAnswer> {
    const conn = this.idle.pop() ?? (await this.open());
    const body = Buffer.from(req.body ?? "");
    const head = [`${req.method} ${req.path} HTTP/1.1`, ...this.stack.headerLines(req, `127.0.0.1:${this.port}`, body.length), "", ""].join(
      "\r\n"
    );
    const answer = new Promise<SocketAnswer>((resolve, reject) => (conn.pending = {resolve, reject}));
    const sendBody = () => {
      if (!req.body) return;
      const step = this.stack.chunkBytes;
      if (!step) return conn.socket.write(body);
      for (let at = 0; at < body.length; at += step) {
        const chunk = body.subarray(at, at + step);
        conn.socket.write(`${chunk.length.toString(16)}\r\n`);
        conn.socket.write(chunk);
        conn.socket.write("\r\n");
      }
      conn.socket.write("0\r\n\r\n");
    };
    if (this.stack.expectContinue && req.body) conn.pending!.onContinue = sendBody;
    conn.socket.write(head);
    if (!(this.stack.expectContinue && req.body)) sendBody();
    const res = await answer;
    if (res.closes) {
      conn.closed = true;
      conn.socket.destroy();
    } else if (this.idle.length < this.stack.maxIdle) this.idle.push(conn);
    else conn.socket.end(); // past the pool's size: the client closes it
    return res;
  }

  close(): void {
    for (const c of this.all) c.socket.destroy();
  }

  private open(): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const conn: Conn = {socket: connect(this.port, "127.0.0.1"), buffer: Buffer.alloc(0), pending: undefined, closed: false};
      this.opened++;
      this.all.add(conn);
      conn.socket.setNoDelay(true);
      conn.socket.once("connect", () => resolve(conn));
      conn.socket.on("error", (e) => (conn.pending ? conn.pending.reject(e) : reject(e)));
      conn.socket.on("data", (d) => this.read(conn, d));
      conn.socket.on("close", () => {
        this.all.delete(conn);
        const at = this.idle.indexOf(conn);
        if (at >= 0) this.idle.splice(at, 1); // the stack sees the FIN and drops it from its pool
        if (!conn.closed) this.closedByServer++;
        conn.closed = true;
        conn.pending?.reject(new Error("the server closed the connection without an answer (socket hang up)"));
      });
    });
  }

  private read(conn: Conn, data: Buffer): void {
    conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, data]) : data;
    for (;;) {
      const end = conn.buffer.indexOf("\r\n\r\n");
      if (end < 0 || !conn.pending) return;
      const lines = conn.buffer.toString("latin1", 0, end).split("\r\n");
      const status = Number(lines[0].split(" ")[1]);
      const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      if (status === 100) {
        conn.buffer = conn.buffer.subarray(end + 4);
        conn.pending.onContinue?.();
        conn.pending.onContinue = undefined;
        continue;
      }
      const length = Number(headers.get("content-length") ?? 0);
      if (conn.buffer.length < end + 4 + length) return;
      const body = conn.buffer.toString("utf8", end + 4, end + 4 + length);
      conn.buffer = conn.buffer.subarray(end + 4 + length);
      const pending = conn.pending;
      conn.pending = undefined;
      // A final answer before the body went out (Expect refused): the body is never sent.
      pending.onContinue = undefined;
      const closes = /(?:^|,)\s*close\s*(?:,|$)/i.test(headers.get("connection") ?? "");
      pending.resolve({status, contentType: headers.get("content-type"), body, closes});
    }
  }
}

import {connect, type Socket} from "node:net";

/** The server closed the connection without answering, or the client gave up waiting. */
export class NoAnswer extends Error {
  constructor(readonly reason: "closed" | "timeout") {
    super(reason === "closed" ? "connection closed without an answer" : "no answer within the client's timeout");
  }
}

/**
 * A minimal HTTP/1.1 keep-alive client for load generation: requests are prebuilt byte strings,
 * responses are parsed only as far as the status and the body length. Far lighter than fetch, so
 * the load generator takes little of the CPU it shares with the signer.
 */
export class Connection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting?: {resolve: (r: {status: number; body: Buffer}) => void; reject: (e: Error) => void};

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.fail(new NoAnswer("closed")));
  }

  static open(host: string, port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({host, port}, () => resolve(new Connection(socket)));
      socket.once("error", reject);
    });
  }

  /**
   * Sends one request and resolves with its response. One request in flight per connection. With
   * `timeoutMs`, gives up after that long: the connection is closed and the call rejects with NoAnswer.
   */
  send(request: Buffer, timeoutMs?: number): Promise<{status: number; body: Buffer}> {
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.fail(new NoAnswer("timeout"));
              this.socket.destroy();
            }, timeoutMs);
      const settled = () => timer && clearTimeout(timer);
      this.waiting = {
        resolve: (r) => (settled(), resolve(r)),
        reject: (e) => (settled(), reject(e)),
      };
      this.socket.write(request);
    });
  }

  /** False once the server has closed the connection (as after a `Connection: close` answer). */
  get usable(): boolean {
    return !this.socket.destroyed && !this.socket.readableEnded;
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(e: Error): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const headerEnd = this.buffered.indexOf("\r\n\r\n");
    if (headerEnd < 0) return;
    const head = this.buffered.toString("latin1", 0, headerEnd);
    const status = Number(head.slice(9, 12));
    const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let end: number;
    if (lengthMatch) {
      end = headerEnd + 4 + Number(lengthMatch[1]);
      if (this.buffered.length < end) return;
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const last = this.buffered.indexOf("\r\n0\r\n\r\n", headerEnd);
      if (last < 0) return;
      end = last + 7;
    } else {
      end = this.buffered.length;
    }
    const body = this.buffered.subarray(headerEnd + 4, end);
    this.buffered = this.buffered.subarray(end);
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve({status, body});
  }
}

export function buildRequest(host: string, path: string, body: string): Buffer {
  const payload = Buffer.from(body);
  return Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`,
      "latin1"
    ),
    payload,
  ]);
}

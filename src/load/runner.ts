import {Connection, NoAnswer} from "./httpClient.js";
import type {Outcome, Recorder} from "./recorder.js";

/** One request to send, and what to tell its sender when it is done. */
export type Work = {request: Buffer; onDone?: (outcome: Outcome, doneMs: number) => void};

type Batch = {pending: number; exhausted: boolean; resolve: () => void};

/**
 * Sends requests over a fixed number of keep-alive connections, one in flight on each, and records
 * every outcome. Work comes from queued batches (`send`, which may overlap, as duties of a slot do)
 * or from a generator (`stream`). A connection that the server closes, or that the client gives up
 * on (`timeoutMs`), is replaced, so faults on the server never shrink the load.
 */
export class Runner {
  private readonly queue: {work: Work; batch: Batch}[] = [];
  private head = 0;
  private generator?: {next: () => Work | undefined; batch: Batch};
  private readonly wakers: (() => void)[] = [];
  private readonly conns: (Connection | undefined)[];
  private closed = false;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly host: string,
    private readonly port: number,
    connections: number,
    private readonly recorder: Recorder,
    private readonly timeoutMs: number
  ) {
    this.conns = new Array(connections).fill(undefined);
    this.loops = this.conns.map((_, i) => this.loop(i));
  }

  static forTarget(target: string, connections: number, recorder: Recorder, timeoutMs: number): Runner {
    const url = new URL(target);
    if (url.protocol !== "http:") throw new Error(`--target: only http:// targets are supported, got ${url.protocol}`);
    return new Runner(url.hostname.replace(/^\[|\]$/g, ""), Number(url.port || 80), connections, recorder, timeoutMs);
  }

  /** Queues `items`; resolves when every one of them is answered (or failed). */
  send(items: Work[]): Promise<void> {
    if (!items.length) return Promise.resolve();
    return new Promise((resolve) => {
      const batch: Batch = {pending: items.length, exhausted: true, resolve};
      for (const work of items) this.queue.push({work, batch});
      this.wake();
    });
  }

  /** Keeps every connection busy with `next()` until it returns undefined; resolves when all are answered. */
  stream(next: () => Work | undefined): Promise<void> {
    return new Promise((resolve) => {
      this.generator = {next, batch: {pending: 0, exhausted: false, resolve}};
      this.wake();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await Promise.all(this.loops);
    for (const c of this.conns) c?.close();
  }

  private wake(): void {
    for (const w of this.wakers.splice(0)) w();
  }

  private take(): {work: Work; batch: Batch} | undefined {
    if (this.head < this.queue.length) {
      const item = this.queue[this.head++];
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      return item;
    }
    const g = this.generator;
    if (!g) return undefined;
    const work = g.next();
    if (work) {
      g.batch.pending++;
      return {work, batch: g.batch};
    }
    this.generator = undefined;
    g.batch.exhausted = true;
    if (g.batch.pending === 0) g.batch.resolve();
    return undefined;
  }

  private async loop(i: number): Promise<void> {
    for (;;) {
      const item = this.take();
      if (item) {
        await this.sendOne(i, item.work);
        if (--item.batch.pending === 0 && item.batch.exhausted) item.batch.resolve();
      } else if (this.closed) {
        return;
      } else {
        await new Promise<void>((r) => this.wakers.push(r));
      }
    }
  }

  private async sendOne(i: number, work: Work): Promise<void> {
    const t0 = performance.now();
    const done = (outcome: Outcome, detail?: string) => {
      const t1 = performance.now();
      this.recorder.record(t1, t1 - t0, outcome, detail);
      work.onDone?.(outcome, t1);
    };
    let conn = this.conns[i];
    if (!conn?.usable) {
      try {
        conn = this.conns[i] = await Connection.open(this.host, this.port);
      } catch (e) {
        done("closed", `cannot connect: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100)); // do not spin on a signer that is down
        return;
      }
    }
    try {
      const {status, body} = await conn.send(work.request, this.timeoutMs);
      done(status, status === 200 ? undefined : body.toString("utf8", 0, Math.min(body.length, 200)));
    } catch (e) {
      conn.close();
      this.conns[i] = undefined;
      // Closed, reset or given up on: the answer never came.
      done(e instanceof NoAnswer ? e.reason : "closed", e instanceof NoAnswer ? undefined : (e as Error).message);
    }
  }
}

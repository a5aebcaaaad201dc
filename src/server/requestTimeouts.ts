import {type Exchange, replyError} from "./reply.js";

/**
 * Answers clients that stall while sending a request body (slow-loris) with a 408 that closes the
 * connection. Exchanges still reading are
 * filed in one bucket per second, and a bucket is checked once, when it is `timeoutMs` old: an
 * array append costs less per request than a timer or a Map entry (a Map's insert/delete churn
 * showed up as rehashing in the HTTP thread's profile). A finished body leaves its bucket at once
 * (swap with the last entry), so buckets hold only stalled clients: holding every request for
 * `timeoutMs` kept ~1 KB each alive (120 MB at 4,000 requests/s) and made every young-generation
 * GC copy them. uWS itself closes connections that stall inside the request headers after ~10 s.
 */
export class RequestTimeouts {
  private readonly buckets: {since: number; exchanges: Exchange[]}[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly tickMs: number;

  constructor(
    readonly timeoutMs: number,
    private readonly onTimeout: () => void
  ) {
    this.tickMs = Math.min(1000, timeoutMs);
    this.timer = setInterval(() => this.sweep(), this.tickMs).unref();
  }

  start(ex: Exchange): void {
    const now = performance.now();
    let bucket = this.buckets[this.buckets.length - 1];
    if (!bucket || now - bucket.since >= this.tickMs) {
      bucket = {since: now, exchanges: []};
      this.buckets.push(bucket);
    }
    ex.timeoutBucket = bucket.exchanges;
    ex.timeoutIndex = bucket.exchanges.push(ex) - 1;
  }

  done(ex: Exchange): void {
    const list = ex.timeoutBucket;
    if (!list) return;
    const last = list.pop()!;
    if (last !== ex) {
      list[ex.timeoutIndex] = last;
      last.timeoutIndex = ex.timeoutIndex;
    }
    ex.timeoutBucket = undefined;
  }

  /** Exchanges still reading (for tests). */
  get reading(): number {
    return this.buckets.reduce((n, b) => n + b.exchanges.length, 0);
  }

  private sweep(): void {
    const cutoff = performance.now() - this.timeoutMs;
    while (this.buckets.length && this.buckets[0].since <= cutoff) {
      // Whatever is left in an expired bucket has been reading its body for timeoutMs or more.
      for (const ex of this.buckets.shift()!.exchanges) {
        ex.timeoutBucket = undefined;
        if (ex.state !== "reading") continue; // the client left already
        replyError(ex, "REQUEST_TIMEOUT", `the request body did not arrive within ${this.timeoutMs} ms (--request-timeout)`);
        this.onTimeout();
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

import {type Exchange, drop} from "./reply.js";

/**
 * Drops clients that stall while sending a request body (slow-loris). An exchange still reading
 * its body carries `readingSince`; exchanges are filed in one bucket per second, and a bucket is
 * checked once, when it is `timeoutMs` old. Appending to an array costs less per request than a
 * timer or a Map entry (a Map's insert/delete churn showed up as rehashing in the HTTP thread's
 * profile). uWS itself closes connections that stall inside the request headers after ~10 s.
 */
export class RequestTimeouts {
  private readonly buckets: {since: number; exchanges: Exchange[]}[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly tickMs: number;

  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: () => void
  ) {
    this.tickMs = Math.min(1000, timeoutMs);
    this.timer = setInterval(() => this.sweep(), this.tickMs).unref();
  }

  start(ex: Exchange): void {
    const now = performance.now();
    ex.readingSince = now;
    let bucket = this.buckets[this.buckets.length - 1];
    if (!bucket || now - bucket.since >= this.tickMs) {
      bucket = {since: now, exchanges: []};
      this.buckets.push(bucket);
    }
    bucket.exchanges.push(ex);
  }

  done(ex: Exchange): void {
    ex.readingSince = undefined;
  }

  private sweep(): void {
    const cutoff = performance.now() - this.timeoutMs;
    while (this.buckets.length && this.buckets[0].since <= cutoff) {
      for (const ex of this.buckets.shift()!.exchanges) {
        if (ex.readingSince === undefined || ex.readingSince > cutoff || ex.aborted) continue;
        drop(ex);
        this.onTimeout();
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

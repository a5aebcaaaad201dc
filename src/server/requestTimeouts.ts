import type {Exchange} from "./reply.js";

/**
 * Drops clients that stall while sending a request body (slow-loris): each exchange still reading
 * its body is checked once a second, and one that started more than `timeoutMs` ago is closed.
 * A sweep costs nothing per request, unlike a timer each. (uWS itself closes connections that
 * stall inside the request headers after about 10 s.)
 */
export class RequestTimeouts {
  private readonly reading = new Map<Exchange, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: () => void
  ) {
    this.timer = setInterval(() => this.sweep(), Math.min(1000, timeoutMs)).unref();
  }

  start(ex: Exchange): void {
    this.reading.set(ex, performance.now());
  }

  done(ex: Exchange): void {
    this.reading.delete(ex);
  }

  private sweep(): void {
    const cutoff = performance.now() - this.timeoutMs;
    for (const [ex, startedMs] of this.reading) {
      if (startedMs > cutoff) continue;
      this.reading.delete(ex);
      if (!ex.aborted) {
        ex.aborted = true;
        ex.res.close();
        this.onTimeout();
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

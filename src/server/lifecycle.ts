import type {CloseReason} from "./connection.js";
import {InFlightAges} from "./inFlightAges.js";

/**
 * Where the signer is in its life (loading keys, serving, stopping) and how many requests are
 * being answered, so shutdown can wait for the last one.
 */
export class Lifecycle {
  loading = true;
  stopping = false;
  /** How old the oldest request in flight is (src/server/stalledConnections.ts waits longer than that). */
  readonly ages = new InFlightAges();
  /** Told of each connection the server closes (the signer counts them in its metrics). */
  connectionClosed: (reason: CloseReason) => void = () => {};
  private inFlight = 0;
  /** Requests whose client went away while a worker still holds their body (see abandoned()). */
  private abandonedHeld = 0;
  private idleWaiters: (() => void)[] = [];

  requestStarted(): void {
    this.inFlight++;
  }

  requestDone(): void {
    if (--this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /**
   * A request whose client went away while its body is still in the pool: it keeps counting against
   * --max-in-flight until the pool lets go (abandonedReleased), so clients that send and abort cannot
   * pile up bodies the cap does not see. A property, so routes hand it to onAbort without a closure.
   */
  readonly abandoned = (): void => {
    this.abandonedHeld++;
  };

  abandonedReleased(): void {
    this.abandonedHeld--;
  }

  /** Everything received whose memory is still held: in flight, or abandoned in the pool. What --max-in-flight bounds. */
  get requestsHeld(): number {
    return this.inFlight + this.abandonedHeld;
  }

  /** Resolves once every request received so far has been answered. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

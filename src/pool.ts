import {availableParallelism} from "node:os";
import {Piscina} from "piscina";
import type {NetworkConfig} from "./config/networks.js";
import type {KeyRef} from "./keys/keyTable.js";
import type {DeriveTask, SignResult, SignTask, SignerWorkerData} from "./signing/protocol.js";

export type PoolOptions = {
  network: NetworkConfig;
  keyTable: SharedArrayBuffer;
  /** Worker threads; default: the machine's cores. */
  workers?: number;
  /** Most requests handed to a worker in one task. */
  maxBatch?: number;
  /** Tasks queued on each worker at once, so it never waits for the next one (PERF-NOTES.md). */
  tasksPerWorker?: number;
};

type Pending = {ref: KeyRef; body: Uint8Array; resolve: (r: SignResult) => void};

/**
 * The Piscina pool of signing workers, fed in batches: a task costs 50–80 µs of thread hand-off,
 * a sixth of a signature, so requests that arrive in the same event-loop turn share tasks.
 */
export class SignerPool {
  readonly workers: number;
  private readonly piscina: Piscina;
  private readonly maxBatch: number;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private inFlightRequests = 0;

  constructor(opts: PoolOptions) {
    this.workers = opts.workers ?? availableParallelism();
    this.maxBatch = opts.maxBatch ?? 32;
    const workerData: SignerWorkerData = {network: opts.network, keyTable: opts.keyTable};
    this.piscina = new Piscina({
      filename: new URL("../workers/signer.js", import.meta.url).href,
      minThreads: this.workers,
      maxThreads: this.workers,
      concurrentTasksPerWorker: opts.tasksPerWorker ?? 4,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData,
    });
  }

  /** Requests accepted but not yet answered by a worker. */
  get queueDepth(): number {
    return this.pending.length + this.inFlightRequests;
  }

  sign(ref: KeyRef, body: Uint8Array): Promise<SignResult> {
    return new Promise((resolve) => {
      this.pending.push({ref, body, resolve});
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After the I/O callbacks of this turn, so every request read in it joins the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const pending = this.pending;
    this.pending = [];
    // Spread a burst over every worker rather than queue it on one.
    const size = Math.max(1, Math.min(this.maxBatch, Math.ceil(pending.length / this.workers)));
    for (let i = 0; i < pending.length; i += size) this.runBatch(pending.slice(i, i + size));
  }

  private runBatch(batch: Pending[]): void {
    const refs = new Int32Array(batch.length * 2);
    const ends = new Uint32Array(batch.length);
    let total = 0;
    for (let i = 0; i < batch.length; i++) {
      refs[2 * i] = batch[i].ref.slot;
      refs[2 * i + 1] = batch[i].ref.state;
      total += batch[i].body.length;
      ends[i] = total;
    }
    const bodies = new Uint8Array(total);
    for (let i = 0, offset = 0; i < batch.length; offset = ends[i++]) bodies.set(batch[i].body, offset);

    const task: SignTask = {refs, bodies, ends};
    this.inFlightRequests += batch.length;
    this.piscina.run(task, {name: "signBatch"}).then(
      (results: SignResult[]) => {
        this.inFlightRequests -= batch.length;
        for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
      },
      (err: Error) => {
        // The worker died (or the pool is closing): answer, never leave a request hanging.
        this.inFlightRequests -= batch.length;
        const message = `signing worker failed: ${err.message}`;
        for (const p of batch) p.resolve({type: "unknown", code: "UNAVAILABLE", message});
      }
    );
  }

  derivePublicKeys(secretKeys: Uint8Array): Promise<Uint8Array> {
    const task: DeriveTask = {secretKeys};
    return this.piscina.run(task, {name: "derivePublicKeys"});
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}

import {availableParallelism} from "node:os";
import {Piscina} from "piscina";
import type {NetworkConfig} from "./config/networks.js";
import type {KeyDeriver} from "./keys/deriver.js";
import type {KeyRef} from "./keys/keyTable.js";
import type {DeriveTask, GenerateTask, GeneratedKeys, SignResult, SignTask, SignerWorkerData} from "./signing/protocol.js";

export type PoolOptions = {
  network: NetworkConfig;
  keyTable: SharedArrayBuffer;
  slashingProtection?: string;
  /** Worker threads; default: the machine's cores. */
  workers?: number;
  /** Most requests handed to a worker in one task. */
  maxBatch?: number;
  /** Tasks queued on each worker at once, so it never waits for the next one (PERF-NOTES.md). */
  tasksPerWorker?: number;
  /** Called with the size of every batch handed to a worker. */
  onBatch?: (size: number) => void;
  /** Called when a worker dies with a batch in hand. */
  onWorkerFailure?: (error: Error) => void;
};

type Pending = {ref: KeyRef; body: Uint8Array; resolve: (r: SignResult) => void; retried?: boolean};

/**
 * The Piscina pool of signing workers, fed in batches. A task costs 50–80 µs of thread hand-off
 * (PERF-NOTES.md), so requests share tasks; and a worker must never wait for its next task, so
 * each keeps `tasksPerWorker` queued. Batching adapts to load: while there is room in the workers'
 * queues, requests go out after the current event-loop turn (low latency when idle); when the
 * queues are full, requests accumulate and the next task to finish makes room for all of them at
 * once (fewer, larger tasks when busy).
 */
export class SignerPool implements KeyDeriver {
  readonly workers: number;
  private readonly piscina: Piscina;
  private readonly maxBatch: number;
  private readonly maxTasksInFlight: number;
  private readonly onBatch?: (size: number) => void;
  private readonly onWorkerFailure?: (error: Error) => void;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private tasksInFlight = 0;
  private requestsInFlight = 0;

  constructor(opts: PoolOptions) {
    this.workers = opts.workers ?? availableParallelism();
    this.maxBatch = opts.maxBatch ?? 64;
    const tasksPerWorker = opts.tasksPerWorker ?? 2;
    this.maxTasksInFlight = this.workers * tasksPerWorker;
    this.onBatch = opts.onBatch;
    this.onWorkerFailure = opts.onWorkerFailure;
    const workerData: SignerWorkerData = {network: opts.network, keyTable: opts.keyTable, slashingProtection: opts.slashingProtection};
    this.piscina = new Piscina({
      filename: new URL("../workers/signer.js", import.meta.url).href,
      minThreads: this.workers,
      maxThreads: this.workers,
      concurrentTasksPerWorker: tasksPerWorker,
      idleTimeout: Number.POSITIVE_INFINITY,
      // Between tasks a worker waits with Atomics.waitAsync, not a blocking Atomics.wait, so its
      // event loop turns: Node runs the Node-API finalizers that free blst's native objects there.
      // With the blocking wait they never ran and memory grew ~550 bytes per signature, forever.
      atomics: "async",
      workerData,
    });
  }

  /** Requests accepted but not yet answered by a worker. */
  get queueDepth(): number {
    return this.pending.length + this.requestsInFlight;
  }

  sign(ref: KeyRef, body: Uint8Array): Promise<SignResult> {
    return new Promise((resolve) => {
      this.pending.push({ref, body, resolve});
      if (!this.flushScheduled && this.tasksInFlight < this.maxTasksInFlight) {
        this.flushScheduled = true;
        // After the I/O callbacks of this turn, so every request read in it joins the batch.
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Hands pending requests to free task slots, spread evenly over them. */
  private flush(): void {
    const free = this.maxTasksInFlight - this.tasksInFlight;
    if (free <= 0 || this.pending.length === 0) return;
    const size = Math.min(this.maxBatch, Math.ceil(this.pending.length / free));
    while (this.pending.length && this.tasksInFlight < this.maxTasksInFlight) {
      this.runBatch(this.pending.splice(0, size));
    }
  }

  private runBatch(batch: Pending[]): void {
    // One buffer holds the whole task and is transferred, not cloned: cloning a typed array costs
    // the sender an allocation and a copy per array, several times a transfer (a 10-request task, measured alone: ~27 µs cloned, 4–10 µs transferred).
    const n = batch.length;
    let total = 0;
    for (const p of batch) total += p.body.length;
    const buffer = new ArrayBuffer(12 * n + total);
    const refs = new Int32Array(buffer, 0, 2 * n);
    const ends = new Uint32Array(buffer, 8 * n, n);
    const bodies = new Uint8Array(buffer, 12 * n, total);
    for (let i = 0, offset = 0; i < n; i++) {
      refs[2 * i] = batch[i].ref.slot;
      refs[2 * i + 1] = batch[i].ref.state;
      bodies.set(batch[i].body, offset);
      ends[i] = offset += batch[i].body.length;
    }

    const task: SignTask = {refs, bodies, ends};
    this.onBatch?.(batch.length);
    this.tasksInFlight++;
    this.requestsInFlight += batch.length;
    const done = () => {
      this.tasksInFlight--;
      this.requestsInFlight -= batch.length;
      this.flush();
    };
    this.piscina.run(task, {name: "signBatch", transferList: [buffer]}).then(
      (results: SignResult[]) => {
        done();
        for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
      },
      (err: Error) => {
        // The worker died (Piscina starts a replacement, which sees every key in the shared
        // table). Signing is deterministic, so each request is retried once on another worker;
        // a second failure is answered 503. Never left hanging.
        this.onWorkerFailure?.(err);
        const retry = batch.filter((p) => !p.retried);
        for (const p of batch) {
          if (p.retried) p.resolve({type: "unknown", code: "UNAVAILABLE", message: "the signing worker failed twice; try again"});
          p.retried = true;
        }
        this.pending.unshift(...retry);
        done();
      }
    );
  }

  derivePublicKeys(secretKeys: Uint8Array): Promise<Uint8Array> {
    // Transferred, not cloned: a clone would leave the secrets on this thread, unwiped, until GC.
    if (secretKeys.byteOffset !== 0 || secretKeys.byteLength !== secretKeys.buffer.byteLength) {
      throw new Error("derivePublicKeys: secretKeys must own its whole buffer (pass a slice)");
    }
    const task: DeriveTask = {secretKeys};
    return this.piscina.run(task, {name: "derivePublicKeys", transferList: [secretKeys.buffer as ArrayBuffer]});
  }

  async generateKeys(task: GenerateTask): Promise<GeneratedKeys> {
    const n = task.count;
    const moved: ArrayBuffer = await this.piscina.run(task, {name: "generateKeys"});
    return {secretKeys: new Uint8Array(moved, 0, n * 32), publicKeys: new Uint8Array(moved, n * 32, n * 48)};
  }

  /** The worker threads (for diagnostics and tests). */
  get threads(): readonly {terminate(): Promise<number>}[] {
    return this.piscina.threads;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}

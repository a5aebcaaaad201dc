import {availableParallelism} from "node:os";
import {Piscina} from "piscina";
import type {NetworkConfig} from "../config/networks.js";
import type {KeyRef} from "../keys/keyTable.js";
import {SLASHING_DEADLINE_MS} from "../slashing/store.js";
import type {KeyDeriver} from "./deriver.js";
import type {GeneratedKeys, GenerateTask, Moved, SignerWorkerData, SignResult, SignTask} from "./protocol.js";
import type * as worker from "./worker.js";

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

/** The worker's tasks, by the names Piscina calls them: worker.ts's exports. */
type Tasks = typeof worker;
type TaskName = keyof Tasks;
/** What the main thread receives from a task: a moved value arrives as itself. */
type Received<R> = Awaited<R> extends Moved<infer T> ? T : Awaited<R>;

type Pending = {ref: KeyRef; body: Uint8Array; resolve: (r: SignResult) => void; deadline: number; retried?: boolean};

/** Requests that share batches, with their own share of the workers' task slots. */
type Lane = {pending: Pending[]; flushScheduled: boolean; tasksInFlight: number};

/**
 * Node flags for the workers. Piscina loads a task module with require() first and falls back to
 * import(); on Node ≥ 20.19 require() reaches the ES module loader too, and for this worker (it has
 * a top-level await) fails there. Once in CI that path ended the whole process with a V8 fatal error
 * ("IsGraphAsync must be used on an instantiated module", under require → loadESMFromCJS). With
 * require(esm) off, that require() fails at once, before the ES module loader, and import() loads it.
 */
export const workerExecArgv: string[] = process.allowedNodeEnvironmentFlags.has("--no-experimental-require-module")
  ? [...process.execArgv, "--no-experimental-require-module"]
  : process.execArgv;

/**
 * The Piscina pool of signing workers, fed in batches. A task costs 50–80 µs of thread hand-off
 * (PERF-NOTES.md), so requests share tasks; and a worker must never wait for its next task, so
 * each keeps `tasksPerWorker` queued. Batching adapts to load: while there is room in the workers'
 * queues, requests go out after the current event-loop turn (low latency when idle); when the
 * queues are full, requests accumulate and the next task to finish makes room for all of them at
 * once (fewer, larger tasks when busy).
 *
 * With slashing protection, blocks and attestations travel in a lane of their own: their batches
 * wait for the database, and other requests (RANDAO reveals, selection proofs, sync committee
 * messages, …) must not wait behind them. Each lane has its own task slots on every worker.
 */
export class SignerPool implements KeyDeriver {
  readonly workers: number;
  /** Slashing protection is on: blocks and attestations go in their own lane (see sign()). */
  readonly slashingProtection: boolean;
  private piscina: Piscina;
  private readonly startPiscina: () => Piscina;
  /** Wait before starting a fresh set of workers after Piscina gave up on its own (doubles to 30 s). */
  private restartDelayMs = 100;
  private restarting = false;
  private closing = false;
  private readonly maxBatch: number;
  private readonly maxTasksInFlight: number;
  private readonly onBatch?: (size: number) => void;
  private readonly onWorkerFailure?: (error: Error) => void;
  private readonly lanes = {other: newLane(), slashable: newLane()};
  private requestsInFlight = 0;

  constructor(opts: PoolOptions) {
    this.workers = opts.workers ?? availableParallelism();
    this.slashingProtection = Boolean(opts.slashingProtection);
    this.maxBatch = opts.maxBatch ?? 64;
    const tasksPerWorker = opts.tasksPerWorker ?? 2;
    this.maxTasksInFlight = this.workers * tasksPerWorker;
    this.onBatch = opts.onBatch;
    this.onWorkerFailure = opts.onWorkerFailure;
    const workerData: SignerWorkerData = {network: opts.network, keyTable: opts.keyTable, slashingProtection: opts.slashingProtection};
    this.startPiscina = () => {
      const piscina = new Piscina({
        filename: new URL("./worker.js", import.meta.url).href,
        minThreads: this.workers,
        maxThreads: this.workers,
        concurrentTasksPerWorker: opts.slashingProtection ? 2 * tasksPerWorker : tasksPerWorker,
        idleTimeout: Number.POSITIVE_INFINITY,
        // Between tasks a worker waits with Atomics.waitAsync, not a blocking Atomics.wait, so its
        // event loop turns: Node runs the Node-API finalizers that free blst's native objects there.
        // With the blocking wait they never ran and memory grew ~550 bytes per signature, forever.
        atomics: "async",
        execArgv: workerExecArgv,
        workerData,
      });
      // Piscina replaces a worker that dies, except when one has died before it was up: from then
      // on it starts no worker at all, and the tasks it holds would wait forever. Start afresh.
      piscina.on("workerDestroy", () => setImmediate(() => this.restartIfAbandoned(piscina)));
      // A worker that fails outside a task (its module failed to load, e.g. the slashing database
      // was locked past its timeout) is reported here; unheard, the EventEmitter would throw it
      // and end the process.
      // What crosses from the worker is a structured clone: a library's error class arrives as a
      // plain object (better-sqlite3's as {code: "SQLITE_BUSY"}), without its message.
      piscina.on("error", (e: unknown) =>
        this.onWorkerFailure?.(
          e instanceof Error ? e : new Error(`a signing worker failed to start: ${(e as {code?: string})?.code ?? String(e)}`)
        )
      );
      return piscina;
    };
    this.piscina = this.startPiscina();
  }

  /** Runs one of the worker's tasks, its argument and result typed from worker.ts. */
  private run<K extends TaskName>(
    name: K,
    task: Parameters<Tasks[K]>[0],
    transferList?: ArrayBufferLike[]
  ): Promise<Received<ReturnType<Tasks[K]>>> {
    return this.piscina.run(task, {name, transferList: transferList as ArrayBuffer[] | undefined});
  }

  private restartIfAbandoned(piscina: Piscina): void {
    if (piscina !== this.piscina || this.closing || this.restarting || piscina.threads.length >= this.workers) return;
    this.restarting = true;
    this.onWorkerFailure?.(new Error(`signing workers stopped being replaced; starting new ones in ${this.restartDelayMs} ms`));
    setTimeout(() => {
      this.restarting = false;
      if (this.closing) return;
      this.piscina = this.startPiscina();
      this.restartDelayMs = Math.min(30_000, this.restartDelayMs * 2);
      // What the old pool still holds is rejected: retried once on the new workers, else a 503.
      void piscina.destroy();
    }, this.restartDelayMs).unref();
  }

  /** Requests accepted but not yet answered by a worker. */
  get queueDepth(): number {
    return this.lanes.other.pending.length + this.lanes.slashable.pending.length + this.requestsInFlight;
  }

  /** `slashable`: a block or attestation, which waits for slashing protection (when it is on). */
  sign(ref: KeyRef, body: Uint8Array, slashable = false): Promise<SignResult> {
    const lane = slashable ? this.lanes.slashable : this.lanes.other;
    return new Promise((resolve) => {
      lane.pending.push({ref, body, resolve, deadline: Date.now() + SLASHING_DEADLINE_MS});
      if (!lane.flushScheduled && lane.tasksInFlight < this.maxTasksInFlight) {
        lane.flushScheduled = true;
        // After the I/O callbacks of this turn, so every request read in it joins the batch.
        setImmediate(() => {
          lane.flushScheduled = false;
          this.flush(lane);
        });
      }
    });
  }

  /** Hands a lane's pending requests to its free task slots, spread evenly over them. */
  private flush(lane: Lane): void {
    if (lane === this.lanes.slashable) this.expire(lane);
    const free = this.maxTasksInFlight - lane.tasksInFlight;
    if (free <= 0 || lane.pending.length === 0) return;
    const size = Math.min(this.maxBatch, Math.ceil(lane.pending.length / free));
    while (lane.pending.length && lane.tasksInFlight < this.maxTasksInFlight) {
      this.runBatch(lane, lane.pending.splice(0, size));
    }
  }

  /** Requests that waited past their deadline for a slot (every slot held by a slow database): 503. */
  private expire(lane: Lane): void {
    const now = Date.now();
    if (!lane.pending.length || lane.pending[0].deadline > now) return;
    lane.pending = lane.pending.filter((p) => {
      if (p.deadline > now) return true;
      p.resolve({type: "unknown", code: "UNAVAILABLE", message: "slashing protection did not answer in time; try again"});
      return false;
    });
  }

  private runBatch(lane: Lane, batch: Pending[]): void {
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

    // Pending requests are in arrival order (retries go back to the front): the first is the oldest.
    const task: SignTask = {refs, bodies, ends, deadline: batch[0].deadline};
    this.onBatch?.(batch.length);
    lane.tasksInFlight++;
    this.requestsInFlight += batch.length;
    const done = () => {
      lane.tasksInFlight--;
      this.requestsInFlight -= batch.length;
      this.flush(lane);
    };
    this.run("signBatch", task, [buffer]).then(
      (results) => {
        done();
        // One result per request, in order; anything else is a bug, answered as one rather than left hanging.
        const complete = results.length === batch.length;
        for (let i = 0; i < batch.length; i++) {
          batch[i].resolve(
            complete
              ? results[i]
              : {
                  type: "unknown",
                  code: "INTERNAL",
                  message: `internal error: the worker answered ${results.length} of ${batch.length} requests`,
                }
          );
        }
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
        lane.pending.unshift(...retry);
        done();
      }
    );
  }

  derivePublicKeys(secretKeys: Uint8Array): Promise<Uint8Array> {
    // Transferred, not cloned: a clone would leave the secrets on this thread, unwiped, until GC.
    if (secretKeys.byteOffset !== 0 || secretKeys.byteLength !== secretKeys.buffer.byteLength) {
      throw new Error("derivePublicKeys: secretKeys must own its whole buffer (pass a slice)");
    }
    return this.run("derivePublicKeys", {secretKeys}, [secretKeys.buffer]);
  }

  async generateKeys(task: GenerateTask): Promise<GeneratedKeys> {
    const n = task.count;
    const moved = await this.run("generateKeys", task);
    return {secretKeys: new Uint8Array(moved, 0, n * 32), publicKeys: new Uint8Array(moved, n * 32, n * 48)};
  }

  /** The worker threads (for diagnostics and tests). */
  get threads(): readonly {terminate(): Promise<number>}[] {
    return this.piscina.threads;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.piscina.destroy();
  }
}

const newLane = (): Lane => ({pending: [], flushScheduled: false, tasksInFlight: 0});

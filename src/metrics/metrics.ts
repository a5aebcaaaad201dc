import {Counter, collectDefaultMetrics, Gauge, Histogram, Registry} from "prom-client";

/**
 * Every metric of the signer, created in one place; the `Metrics` type is derived from it.
 * Labels are bounded: request type (13 values + "unknown") and HTTP status, never a key.
 * Workers return each request's type and outcome with its result, so the main thread counts
 * every request exactly once, whichever worker signed it.
 */
export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({register: registry});
  const registers = [registry];
  return {
    registry,
    signRequests: new Counter({
      name: "ts3signer_sign_requests_total",
      help: "Requests to the sign endpoint, by request type and HTTP status",
      labelNames: ["type", "status"] as const,
      registers,
    }),
    signatures: new Counter({
      name: "ts3signer_signatures_total",
      help: "Signatures produced, by request type",
      labelNames: ["type"] as const,
      registers,
    }),
    signDuration: new Histogram({
      name: "ts3signer_sign_duration_seconds",
      help: "Sign request latency, from the request read to the response written",
      labelNames: ["type"] as const,
      // A signature costs ~0.4 ms of CPU; the tail is queueing during per-slot bursts.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    batchSize: new Histogram({
      name: "ts3signer_pool_batch_size",
      help: "Sign requests per task handed to a worker (larger under load: fewer thread hand-offs)",
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    }),
    workerFailures: new Counter({
      name: "ts3signer_worker_failures_total",
      help: "Signing worker threads that died (their requests are retried once on another)",
      registers,
    }),
    requestTimeouts: new Counter({
      name: "ts3signer_request_timeouts_total",
      help: "Clients answered 408 (and their connection closed) for not sending their request body within --request-timeout",
      registers,
    }),
    connectionsClosed: new Counter({
      name: "ts3signer_http_connections_closed_total",
      help: "Connections the signing API closed after (or instead of) an answer, by reason: client_asked, refused_body, request_timeout, fault, stalled",
      labelNames: ["reason"] as const,
      registers,
    }),
    dataDirChanges: new Counter({
      name: "ts3signer_data_dir_changes_total",
      help: "Keymanager keys added or removed because their files appeared in or left the data dir (another replica's import or delete)",
      labelNames: ["change"] as const,
      registers,
    }),
    faultsInjected: new Counter({
      name: "ts3signer_faults_injected_total",
      help: "Faults injected on purpose (--faults), by kind (delay, error, drop, timeout) and request type",
      labelNames: ["kind", "type"] as const,
      registers,
    }),
    keysLoaded: new Gauge({name: "ts3signer_keys_loaded", help: "Keys available for signing", registers}),
    workers: new Gauge({name: "ts3signer_workers", help: "Threads in the signing pool", registers}),
    queueDepth: new Gauge({
      name: "ts3signer_pool_queue_depth",
      help: "Sign requests accepted and not yet answered by a worker",
      registers,
    }),
    keyLoadSeconds: new Histogram({
      name: "ts3signer_key_load_seconds",
      help: "Time to load all keys from the key sources (start-up and reloads)",
      buckets: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    signEngine: new Gauge({
      name: "ts3signer_sign_engine_info",
      help: "How signatures are made (1 for the engine in use): native-point-cache, or blst-sign (the fallback)",
      labelNames: ["engine"] as const,
      registers,
    }),
    pointCache: new Counter({
      name: "ts3signer_point_cache_total",
      help: "Signatures by how a worker found H(signing root): hashed to G2 (miss), its cache (hit), or the root's fixed-base table (table)",
      labelNames: ["result"] as const,
      registers,
    }),
    httpEngine: new Gauge({
      name: "ts3signer_http_engine_info",
      help: "The HTTP engine serving the signing API (1 for the engine in use)",
      labelNames: ["engine"] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Counts one sign request. prom-client hashes the label set on every inc(); the labelled children
 * are looked up once per (type, status) instead, which saves a few µs of the main thread per request.
 */
export function signRecorder(metrics: Metrics) {
  type Children = {
    requests: ReturnType<Metrics["signRequests"]["labels"]>;
    signatures: ReturnType<Metrics["signatures"]["labels"]>;
    duration: ReturnType<Metrics["signDuration"]["labels"]>;
  };
  const children = new Map<string, Map<number, Children>>();
  return (type: string, status: number, seconds: number) => {
    let byStatus = children.get(type);
    if (!byStatus) children.set(type, (byStatus = new Map()));
    let c = byStatus.get(status);
    if (!c) {
      c = {
        requests: metrics.signRequests.labels({type, status: String(status)}),
        signatures: metrics.signatures.labels({type}),
        duration: metrics.signDuration.labels({type}),
      };
      byStatus.set(status, c);
    }
    c.requests.inc();
    if (status === 200) c.signatures.inc();
    c.duration.observe(seconds);
  };
}

/**
 * How a signature found H(root) (src/signing/fastSign.ts): hashed it (`miss`), the worker's cached
 * point (`hit`), or the root's fixed-base table (`table`); the `result` label of ts3signer_point_cache_total.
 */
export const pointCacheOutcomes = ["hit", "miss", "table"] as const;
export type PointCacheOutcome = (typeof pointCacheOutcomes)[number];

/** Counts one signature's point-cache outcome (undefined: the fallback engine, which has no cache). */
export function pointCacheRecorder(metrics: Metrics) {
  const counters = {
    hit: metrics.pointCache.labels({result: "hit"}),
    miss: metrics.pointCache.labels({result: "miss"}),
    table: metrics.pointCache.labels({result: "table"}),
  };
  return (outcome: PointCacheOutcome | undefined) => {
    if (outcome) counters[outcome].inc();
  };
}

import type {us_listen_socket} from "uWebSockets.js";
import type {Server} from "node:http";
import type {AddressInfo} from "node:net";
import {join} from "node:path";
import {loadNetwork, type NetworkConfig} from "./config/networks.js";
import type {SignerConfig} from "./config/signerConfig.js";
import {DataDirSync} from "./keys/dataDirSync.js";
import {KeyManager} from "./keys/keymanager.js";
import {KeyStore} from "./keys/keyStore.js";
import {Reloader} from "./keys/reloader.js";
import {validateKeySources} from "./keys/sources.js";
import {loadOrCreateToken} from "./keys/token.js";
import type {Logger} from "./log.js";
import {createMetrics, type Metrics, pointCacheOutcomes} from "./metrics/metrics.js";
import {createMetricsServer} from "./metrics/server.js";
import {SignerPool} from "./pool/pool.js";
import {createApp} from "./server/app.js";
import {closeReasons} from "./server/connection.js";
import {httpEngine, uWS} from "./server/engine.js";
import {logFaults} from "./server/faultRoutes.js";
import {Faults} from "./server/faults.js";
import {Lifecycle} from "./server/lifecycle.js";
import {RequestTimeouts} from "./server/requestTimeouts.js";
import {watchStalledConnections} from "./server/stalledConnections.js";
import {logSignEngine, signEngine, signEngineFallbackReason} from "./signing/fastSign.js";
import {SlashingHealth} from "./slashing/health.js";
import {redactUrl, SlashingStore} from "./slashing/store.js";

export type Signer = {
  network: NetworkConfig;
  keys: KeyStore;
  pool: SignerPool;
  /** The bound ports (useful with port 0). */
  port: number;
  metricsPort: number;
  /** Resolves when the start-up key load ends. */
  ready: Promise<void>;
  /** Stops accepting, answers every request already received, then frees everything. */
  close(): Promise<void>;
};

/**
 * Builds and starts a signer: network, key store, worker pool, HTTP API and metrics. The CLI and
 * the integration tests both start signers through this function.
 */
export async function startSigner(config: SignerConfig, log: Logger): Promise<Signer> {
  if (config.requireNativeHttp && httpEngine !== "uws-native") {
    throw new Error(`--require-native-http: the uWebSockets.js native engine did not load (running ${httpEngine})`);
  }
  if (config.requireNativeSigning && signEngine !== "native-point-cache") {
    throw new Error(`--require-native-signing: the native signing addon did not load (running ${signEngine}: ${signEngineFallbackReason})`);
  }
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) throw new Error("TLS needs both --tls-cert and --tls-key");
  const network = loadNetwork(config.network, {genesisValidatorsRoot: config.genesisValidatorsRoot});
  validateKeySources(config);
  const faults = new Faults();
  try {
    faults.set(config.faults ?? "");
  } catch (e) {
    throw new Error(`--faults: ${(e as Error).message}`);
  }
  if (config.keymanagerTokenFile && !config.dataDir)
    throw new Error("--keymanager-token-file needs --data-dir (the Keymanager API is enabled by it)");
  // Opened here first: a bad URL fails the start, and the schema exists before workers open it.
  const slashing = config.slashingProtection
    ? await SlashingStore.open(config.slashingProtection, {setUp: true, genesisValidatorsRoot: network.genesisValidatorsRoot})
    : undefined;
  const metrics = createMetrics();
  const keys = new KeyStore();
  const pool = new SignerPool({
    network,
    keyTable: keys.table.buffer,
    slashingProtection: config.slashingProtection,
    workers: config.workers,
    onBatch: (size) => metrics.batchSize.observe(size),
    onWorkerFailure: (error) => {
      metrics.workerFailures.inc();
      log.error("a signing worker died; retrying its requests on another", {error: error.message});
    },
  });
  try {
    return await serve(config, log, network, metrics, keys, pool, slashing, faults);
  } catch (e) {
    await pool.close(); // its threads would keep the process alive
    await slashing?.close();
    throw e;
  }
}

async function serve(
  config: SignerConfig,
  log: Logger,
  network: NetworkConfig,
  metrics: Metrics,
  keys: KeyStore,
  pool: SignerPool,
  slashing: SlashingStore | undefined,
  faults: Faults
): Promise<Signer> {
  const lifecycle = new Lifecycle();
  for (const reason of closeReasons) metrics.connectionsClosed.labels({reason}).inc(0); // every series exists from the start
  lifecycle.connectionClosed = (reason) => metrics.connectionsClosed.inc({reason});
  const slashingHealth = slashing && new SlashingHealth(slashing, config.slashingProtection!, log);
  const cacheDir = config.cacheDir ?? (config.dataDir === undefined ? undefined : join(config.dataDir, "cache"));
  const reloader = new Reloader({...config, cacheDir}, keys, pool, metrics, log);

  metrics.workers.set(pool.workers);
  metrics.httpEngine.set({engine: httpEngine}, 1);
  metrics.signEngine.set({engine: signEngine}, 1);
  for (const result of pointCacheOutcomes) metrics.pointCache.labels({result}).inc(0); // every series exists from the start
  logSignEngine(log);
  if (httpEngine !== "uws-native") {
    log.warn("uWebSockets.js native engine did not load; serving with its slow JavaScript fallback", {engine: httpEngine});
  }
  const timeouts = new RequestTimeouts(config.requestTimeoutMs, () => metrics.requestTimeouts.inc());

  let keymanager: {km: KeyManager; token: string} | undefined;
  let dataDirSync: DataDirSync | undefined;
  if (config.dataDir) {
    const km = new KeyManager(config.dataDir, keys, pool, log, network.genesisValidatorsRoot, slashing);
    dataDirSync = new DataDirSync(config.dataDir, keys, pool, log, metrics);
    const tokenFile = config.keymanagerTokenFile ?? join(config.dataDir, "api-token.txt");
    const {token, created} = loadOrCreateToken(tokenFile);
    keymanager = {km, token};
    log.info("Keymanager API enabled on /eth/v1/keystores", {token_file: tokenFile, token_created: created});
  }

  const tls = config.tlsCert && config.tlsKey ? {cert: config.tlsCert, key: config.tlsKey} : undefined;
  if (!tls && !isLoopback(config.host)) {
    log.warn(
      `the signing API listens on ${config.host} WITHOUT TLS and without authentication: anyone who can reach it can sign with every key. Use --tls-cert/--tls-key, or keep it on loopback.`
    );
  }
  const app = createApp(
    {
      keys,
      pool,
      metrics,
      log,
      lifecycle,
      reloader,
      keymanager,
      timeouts,
      faults,
      slashingHealth,
      maxBodyBytes: config.maxBodyBytes,
      maxInFlight: config.maxInFlight,
    },
    tls
  );
  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(config.host, config.port, (socket) =>
      socket ? resolve(socket) : reject(new Error(`cannot listen on ${config.host}:${config.port}`))
    );
  });
  const port = uWS.us_socket_local_port(listenSocket as never);
  const stalled = watchStalledConnections(port, !!tls, lifecycle, (count) => metrics.connectionsClosed.inc({reason: "stalled"}, count));
  if ("unavailable" in stalled)
    log.warn("requests uWS cannot parse (HTTP/1.0) stay unanswered until its 10 s idle close: native/connwatch is not built", {
      reason: stalled.unavailable,
    });

  const metricsServer = createMetricsServer(metrics, () => {
    metrics.keysLoaded.set(keys.size);
    metrics.queueDepth.set(pool.queueDepth);
  });
  await listenHttp(metricsServer, config.metricsHost, config.metricsPort);
  const metricsPort = (metricsServer.address() as AddressInfo).port;

  log.info(`listening on ${tls ? "https" : "http"}://${hostForUrl(config.host)}:${port}`, {
    network: network.name,
    engine: httpEngine,
    sign_engine: signEngine,
    workers: pool.workers,
  });
  log.info(`metrics on http://${hostForUrl(config.metricsHost)}:${metricsPort}/metrics`);
  if (slashing)
    log.info("slashing protection on (EIP-3076 rules for blocks and attestations)", {database: redactUrl(config.slashingProtection!)});
  else
    log.warn(
      "slashing protection is off: blocks and attestations are signed without checks (--slashing-protection sqlite:PATH or postgres://…)"
    );
  logFaults(log, faults, false);
  slashingHealth?.start();

  const ready = Promise.all([reloader.start(), dataDirSync?.start()]).then(() => {
    lifecycle.loading = false;
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      lifecycle.stopping = true;
      uWS.us_listen_socket_close(listenSocket);
      timeouts.stop();
      if ("stop" in stalled) stalled.stop();
      faults.close(); // held requests go on (delayed) or are dropped (hung) now, so shutdown need not wait for them
      await lifecycle.idle();
      await dataDirSync?.stop();
      const metricsClosed = new Promise((resolve) => metricsServer.close(resolve));
      metricsServer.closeAllConnections();
      await metricsClosed;
      await pool.close();
      slashingHealth?.stop();
      await slashing?.close();
    })());

  return {network, keys, pool, port, metricsPort, ready, close};
}

function listenHttp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
}

const isLoopback = (host: string) => host === "localhost" || host === "::1" || host.startsWith("127.");
const hostForUrl = (host: string) => (host.includes(":") ? `[${host}]` : host);

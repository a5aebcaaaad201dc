import {availableParallelism} from "node:os";
import {parseArgs} from "node:util";
import {type LogFormat, type LogLevel, isLogLevel} from "../log.js";
import {type SignerConfig, defaultConfig} from "./signerConfig.js";

export const help = `ts3signer: a fast remote BLS signer for Ethereum consensus validators (Web3Signer eth2 API).
For devnets, tests and benchmarks: keys are held in process memory.

Usage: ts3signer [flags]
       ts3signer load [flags]   HTTP load against a signer (ts3signer load --help)

  --host ADDR                      signing API address (default 127.0.0.1)
  --port N                         signing API port, 0 picks a free one (default 9000)
  --metrics-host ADDR              Prometheus endpoint address (default 127.0.0.1)
  --metrics-port N                 Prometheus endpoint port, 0 picks a free one (default 9001)
  --network NAME|FILE              mainnet, minimal, sepolia, holesky, hoodi, gnosis, chiado,
                                   or a consensus config YAML (default mainnet)
  --interop-keys N|START:COUNT     insecure interop keys (public secrets: devnets and tests only)
  --keystores-path DIR             EIP-2335 keystores (*.json) to load at start and on reload
  --keystores-passwords-path DIR   one password file per keystore: same base name, .txt
  --keystores-password-file FILE   one password for every keystore
  --mnemonic-file FILE             BIP-39 mnemonic; with --mnemonic-count N [--mnemonic-start I]
                                   loads the EIP-2334 keys m/12381/3600/i/0/0
  --data-dir DIR                   enables the Keymanager API; imported keys persist here
  --cache-dir DIR                  restart caches of derived and decrypted keys, files 0600
                                   (default DIR/cache with --data-dir; none without either)
  --no-keystore-cache              decrypt every keystore from its file at each start (no cache of them)
  --keymanager-token-file FILE     its bearer token (default DIR/api-token.txt, created if absent)
  --workers N                      signing threads (default: cores, ${availableParallelism()} here)
  --max-body BYTES                 request body limit (default 1048576)
  --request-timeout SECONDS        drop a client that has not sent its whole request by then (default 30)
  --max-in-flight N                requests in flight past which new sign requests get 503 (default 16384)
  --tls-cert FILE, --tls-key FILE  serve the signing API over HTTPS (PEM files)
  --require-native-http            refuse to start on uWebSockets.js's slow JavaScript fallback
  --slashing-protection URL        EIP-3076 slashing protection for blocks and attestations (412 when refused):
                                   sqlite:PATH, or postgres://USER:PASSWORD@HOST/DB shared by several signers
  --faults SPEC                    misbehave on purpose, for testing validator clients: ;-separated rules of
                                   delay=50ms..400ms, error=RATE:STATUS, drop=RATE, timeout=RATE, scoped
                                   by types=ATTESTATION,… and keys=0xPUBKEY,… or keys=FRACTION
                                   (e.g. "delay=50ms..400ms,types=ATTESTATION;error=0.05:503");
                                   changed at run time with PUT /ts3signer/v1/faults (needs --data-dir)
  --log-level LEVEL                debug, info, warn, error (default info)
  --log-format FORMAT              json or pretty (default pretty on a TTY, json otherwise)
  --help                           this text
`;

const flags = {
  host: {type: "string"},
  port: {type: "string"},
  "metrics-host": {type: "string"},
  "metrics-port": {type: "string"},
  network: {type: "string"},
  "interop-keys": {type: "string"},
  "keystores-path": {type: "string"},
  "keystores-passwords-path": {type: "string"},
  "keystores-password-file": {type: "string"},
  "mnemonic-file": {type: "string"},
  "mnemonic-start": {type: "string"},
  "mnemonic-count": {type: "string"},
  "data-dir": {type: "string"},
  "keymanager-token-file": {type: "string"},
  "cache-dir": {type: "string"},
  "no-keystore-cache": {type: "boolean"},
  "slashing-protection": {type: "string"},
  faults: {type: "string"},
  "request-timeout": {type: "string"},
  "max-in-flight": {type: "string"},
  "tls-cert": {type: "string"},
  "tls-key": {type: "string"},
  "require-native-http": {type: "boolean"},
  workers: {type: "string"},
  "max-body": {type: "string"},
  "log-level": {type: "string"},
  "log-format": {type: "string"},
  help: {type: "boolean"},
} as const;

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new Error(`--${name}: expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** Command-line flags → configuration; throws with a message naming the flag. */
export function configFromArgs(args: string[]): {config: SignerConfig; logLevel: LogLevel; logFormat?: LogFormat} | "help" {
  const {values} = parseArgs({args, options: flags, strict: true, allowPositionals: false});
  if (values.help) return "help";
  const logLevel = values["log-level"] ?? "info";
  if (!isLogLevel(logLevel)) throw new Error(`--log-level: expected debug, info, warn or error, got "${logLevel}"`);
  const logFormat = values["log-format"];
  if (logFormat !== undefined && logFormat !== "json" && logFormat !== "pretty") {
    throw new Error(`--log-format: expected json or pretty, got "${logFormat}"`);
  }
  const optionalInt = (name: keyof typeof values, max: number) =>
    values[name] === undefined ? undefined : integer(name, values[name] as string, 0, 0, max);
  const config: SignerConfig = {
    host: values.host ?? defaultConfig.host,
    port: integer("port", values.port, defaultConfig.port, 0, 65535),
    metricsHost: values["metrics-host"] ?? defaultConfig.metricsHost,
    metricsPort: integer("metrics-port", values["metrics-port"], defaultConfig.metricsPort, 0, 65535),
    network: values.network ?? defaultConfig.network,
    interopKeys: values["interop-keys"],
    keystoresPath: values["keystores-path"],
    keystoresPasswordsPath: values["keystores-passwords-path"],
    keystoresPasswordFile: values["keystores-password-file"],
    mnemonicFile: values["mnemonic-file"],
    mnemonicStart: optionalInt("mnemonic-start", 2 ** 32 - 1),
    mnemonicCount: optionalInt("mnemonic-count", 10_000_000),
    dataDir: values["data-dir"],
    keymanagerTokenFile: values["keymanager-token-file"],
    cacheDir: values["cache-dir"],
    noKeystoreCache: values["no-keystore-cache"],
    workers: values.workers === undefined ? undefined : integer("workers", values.workers, 1, 1, 256),
    maxBodyBytes: integer("max-body", values["max-body"], defaultConfig.maxBodyBytes, 1024, 1024 ** 3),
    requestTimeoutMs: integer("request-timeout", values["request-timeout"], defaultConfig.requestTimeoutMs / 1000, 1, 3600) * 1000,
    maxInFlight: integer("max-in-flight", values["max-in-flight"], defaultConfig.maxInFlight, 1, 10_000_000),
    tlsCert: values["tls-cert"],
    tlsKey: values["tls-key"],
    requireNativeHttp: values["require-native-http"],
    slashingProtection: values["slashing-protection"],
    faults: values.faults,
  };
  return {config, logLevel, logFormat};
}


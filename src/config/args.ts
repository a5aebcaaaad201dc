import {availableParallelism} from "node:os";
import {parseArgs} from "node:util";
import {isLogLevel, type LogFormat, type LogLevel} from "../log.js";
import type {SignerConfig} from "./signerConfig.js";

/** What a flag's text becomes: text as given, a bounded integer, seconds (→ ms), one of a few words, or a switch. */
type Value =
  | {kind: "text"}
  | {kind: "integer"; min: number; max: number}
  | {kind: "seconds"; min: number; max: number}
  | {kind: "choice"; choices: readonly string[]; expected: string}
  | {kind: "switch"};

type Flag = {
  /** The flag, without its dashes. */
  name: string;
  /** The value's placeholder in --help; none for a switch. */
  placeholder?: string;
  value: Value;
  /** Where the value goes: a SignerConfig field, or the logger's settings. */
  target: keyof SignerConfig | "logLevel" | "logFormat" | "help";
  /** The default, as it would be typed on the command line. */
  default?: string;
  /** The default in words, where it is not a value (README and --help show this). */
  defaultText?: string;
  /** --help's text (a "\n" continues on the next line). */
  help: string;
};

/** Every flag of the signer: the parser, --help, the defaults and README's flag table all come from here. */
export const flags: readonly Flag[] = [
  {name: "host", placeholder: "ADDR", value: {kind: "text"}, target: "host", default: "127.0.0.1", help: "signing API address"},
  {
    name: "port",
    placeholder: "N",
    value: {kind: "integer", min: 0, max: 65535},
    target: "port",
    default: "9000",
    help: "signing API port, 0 picks a free one",
  },
  {
    name: "metrics-host",
    placeholder: "ADDR",
    value: {kind: "text"},
    target: "metricsHost",
    default: "127.0.0.1",
    help: "Prometheus endpoint address",
  },
  {
    name: "metrics-port",
    placeholder: "N",
    value: {kind: "integer", min: 0, max: 65535},
    target: "metricsPort",
    default: "9001",
    help: "Prometheus endpoint port, 0 picks a free one",
  },
  {
    name: "network",
    placeholder: "NAME|FILE|DIR",
    value: {kind: "text"},
    target: "network",
    default: "mainnet",
    help: "mainnet, minimal, sepolia, holesky, hoodi, gnosis, chiado, a consensus config\nYAML, or a testnet directory (config.yaml and genesis.ssz: the genesis\nvalidators root and time from the state)",
  },
  {
    name: "genesis-validators-root",
    placeholder: "0x…",
    value: {kind: "text"},
    target: "genesisValidatorsRoot",
    help: "the chain's genesis validators root where the network does not give it\n(a config YAML alone); must agree with it where it does",
  },
  {
    name: "interop-keys",
    placeholder: "N|START:COUNT",
    value: {kind: "text"},
    target: "interopKeys",
    help: "insecure interop keys (public secrets: devnets and tests only)",
  },
  {
    name: "keystores-path",
    placeholder: "DIR",
    value: {kind: "text"},
    target: "keystoresPath",
    help: "EIP-2335 keystores (*.json) to load at start and on reload",
  },
  {
    name: "keystores-passwords-path",
    placeholder: "DIR",
    value: {kind: "text"},
    target: "keystoresPasswordsPath",
    help: "one password file per keystore: same base name, .txt",
  },
  {
    name: "keystores-password-file",
    placeholder: "FILE",
    value: {kind: "text"},
    target: "keystoresPasswordFile",
    help: "one password for every keystore",
  },
  {
    name: "mnemonic-file",
    placeholder: "FILE",
    value: {kind: "text"},
    target: "mnemonicFile",
    help: "BIP-39 mnemonic; with --mnemonic-count N [--mnemonic-start I]\nloads the EIP-2334 keys m/12381/3600/i/0/0",
  },
  {
    name: "mnemonic-count",
    placeholder: "N",
    value: {kind: "integer", min: 0, max: 10_000_000},
    target: "mnemonicCount",
    help: "how many mnemonic keys",
  },
  {
    name: "mnemonic-start",
    placeholder: "I",
    value: {kind: "integer", min: 0, max: 2 ** 32 - 1},
    target: "mnemonicStart",
    help: "the first mnemonic key's index i (0 when left out)",
  },
  {
    name: "data-dir",
    placeholder: "DIR",
    value: {kind: "text"},
    target: "dataDir",
    help: "enables the Keymanager API; imported keys persist here",
  },
  {
    name: "keymanager-token-file",
    placeholder: "FILE",
    value: {kind: "text"},
    target: "keymanagerTokenFile",
    defaultText: "DIR/api-token.txt",
    help: "its bearer token, created if absent",
  },
  {
    name: "cache-dir",
    placeholder: "DIR",
    value: {kind: "text"},
    target: "cacheDir",
    defaultText: "DIR/cache with --data-dir, else none",
    help: "restart caches of derived and decrypted keys (files 0600); nothing cached without one",
  },
  {
    name: "no-keystore-cache",
    value: {kind: "switch"},
    target: "noKeystoreCache",
    help: "decrypt every keystore from its file at each start (no keystore cache)",
  },
  {
    name: "workers",
    placeholder: "N",
    value: {kind: "integer", min: 1, max: 256},
    target: "workers",
    defaultText: "cores",
    help: `signing threads; ${availableParallelism()} cores here`,
  },
  {
    name: "max-body",
    placeholder: "BYTES",
    value: {kind: "integer", min: 1024, max: 1024 ** 3},
    target: "maxBodyBytes",
    default: "1048576",
    help: "request body limit",
  },
  {
    name: "request-timeout",
    placeholder: "SECONDS",
    value: {kind: "seconds", min: 1, max: 3600},
    target: "requestTimeoutMs",
    default: "30",
    help: "drop a client that has not sent its whole request by then",
  },
  {
    name: "max-in-flight",
    placeholder: "N",
    value: {kind: "integer", min: 1, max: 10_000_000},
    target: "maxInFlight",
    default: "16384",
    help: "requests in flight past which new sign requests get 503",
  },
  {
    name: "tls-cert",
    placeholder: "FILE",
    value: {kind: "text"},
    target: "tlsCert",
    help: "serve the signing API over HTTPS: the certificate (PEM)",
  },
  {name: "tls-key", placeholder: "FILE", value: {kind: "text"}, target: "tlsKey", help: "and its private key (PEM)"},
  {
    name: "require-native-http",
    value: {kind: "switch"},
    target: "requireNativeHttp",
    help: "refuse to start on uWebSockets.js's slow JavaScript fallback",
  },
  {
    name: "require-native-signing",
    value: {kind: "switch"},
    target: "requireNativeSigning",
    help: "refuse to start without the native signing addon (native/fastsign),\ni.e. on @chainsafe/blst's sign() per request",
  },
  {
    name: "slashing-protection",
    placeholder: "URL",
    value: {kind: "text"},
    target: "slashingProtection",
    help: "EIP-3076 slashing protection for blocks and attestations (412 when refused):\nsqlite:PATH, or postgres://USER:PASSWORD@HOST/DB shared by several signers;\nts3signer prune trims its history",
  },
  {
    name: "faults",
    placeholder: "SPEC",
    value: {kind: "text"},
    target: "faults",
    help:
      "misbehave on purpose, for testing validator clients: ;-separated rules of\n" +
      "delay=50ms..400ms, error=RATE:STATUS, drop=RATE, timeout=RATE, scoped\n" +
      "by types=ATTESTATION,… and keys=0xPUBKEY,… or keys=FRACTION\n" +
      '(e.g. "delay=50ms..400ms,types=ATTESTATION;error=0.05:503");\n' +
      "changed at run time with PUT /ts3signer/v1/faults (needs --data-dir)",
  },
  {
    name: "log-level",
    placeholder: "LEVEL",
    value: {kind: "choice", choices: ["debug", "info", "warn", "error"], expected: "debug, info, warn or error"},
    target: "logLevel",
    default: "info",
    help: "debug, info, warn, error",
  },
  {
    name: "log-format",
    placeholder: "FORMAT",
    value: {kind: "choice", choices: ["json", "pretty"], expected: "json or pretty"},
    target: "logFormat",
    defaultText: "pretty on a TTY, json otherwise",
    help: "json or pretty",
  },
  {name: "help", value: {kind: "switch"}, target: "help", help: "this text"},
];

/** A flag's text → its value; throws with a message naming the flag. */
function parseValue(flag: Flag, text: string | boolean): string | number | boolean {
  const {value} = flag;
  if (typeof text === "boolean" || value.kind === "text" || value.kind === "switch") return text;
  if (value.kind === "choice") {
    if (!value.choices.includes(text)) throw new Error(`--${flag.name}: expected ${value.expected}, got "${text}"`);
    return text;
  }
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < value.min || n > value.max) {
    throw new Error(`--${flag.name}: expected an integer from ${value.min} to ${value.max}, got "${text}"`);
  }
  return value.kind === "seconds" ? n * 1000 : n;
}

/** The values every flag with a default starts from. */
const defaults = Object.fromEntries(flags.flatMap((f) => (f.default === undefined ? [] : [[f.target, parseValue(f, f.default)]])));

/** The configuration a signer starts with when no flag is given (tests start from it too). */
export const defaultConfig = Object.fromEntries(
  Object.entries(defaults).filter(([target]) => target !== "logLevel")
) as unknown as SignerConfig;

const column = 35;
export const help = `ts3signer: a fast remote BLS signer for Ethereum consensus validators (Web3Signer eth2 API).
For devnets, tests and benchmarks: keys are held in process memory.

Usage: ts3signer [flags]
       ts3signer load [flags]   HTTP load against a signer (ts3signer load --help)
       ts3signer prune [flags]  prune slashing protection history (ts3signer prune --help)

${flags
  .map((f) => {
    const shown = f.default ?? f.defaultText;
    const text = f.help + (shown === undefined ? "" : ` (default ${shown})`);
    const usage = `  --${f.name}${f.placeholder ? ` ${f.placeholder}` : ""}`;
    return usage.padEnd(column - 1) + " " + text.replaceAll("\n", "\n" + " ".repeat(column));
  })
  .join("\n")}
`;

/** Command-line flags → configuration; throws with a message naming the flag. */
export function configFromArgs(args: string[]): {config: SignerConfig; logLevel: LogLevel; logFormat?: LogFormat} | "help" {
  const options = Object.fromEntries(flags.map((f) => [f.name, {type: f.value.kind === "switch" ? "boolean" : "string"} as const]));
  const {values} = parseArgs({args, options, strict: true, allowPositionals: false});
  const settings: Record<string, unknown> = {...defaults};
  for (const flag of flags) {
    const text = values[flag.name];
    if (text !== undefined) settings[flag.target] = parseValue(flag, text);
  }
  const {help: wantsHelp, logLevel, logFormat, ...config} = settings;
  if (wantsHelp) return "help";
  if (typeof logLevel !== "string" || !isLogLevel(logLevel)) throw new Error(`--log-level: unreadable "${String(logLevel)}"`);
  return {config: config as SignerConfig, logLevel, logFormat: logFormat as LogFormat | undefined};
}

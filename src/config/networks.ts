import {existsSync, readFileSync, statSync} from "node:fs";
import {join} from "node:path";
import {genesisData, networksChainConfig} from "@lodestar/config/networks";
import {parse as parseYaml} from "yaml";
import {bytesToHex, hexToBytes} from "../hex.js";
import {type ForkName, forkNames} from "./forks.js";
import {readGenesisState} from "./genesisState.js";
import {isPresetName, type Preset, type PresetName, presets} from "./presets.js";

export {type ForkName, forkNames};

export const FAR_FUTURE_EPOCH = 2n ** 64n - 1n;

/**
 * Everything the signer needs to know about a network. Plain data (no classes, no functions) so
 * that it crosses into worker threads unchanged through `workerData`.
 */
export type NetworkConfig = {
  name: string;
  presetBase: PresetName;
  preset: Preset;
  /** Fork versions and activation epochs, phase0 first. */
  forks: Record<ForkName, {version: Uint8Array; epoch: bigint}>;
  /**
   * Known for public networks and testnet directories (genesis.ssz), else from
   * --genesis-validators-root: binds the slashing protection database, names interchange exports.
   */
  genesisValidatorsRoot?: string;
  /** Unix seconds, where known as the root is. */
  genesisTime?: bigint;
};

export const builtinNetworks = ["mainnet", "minimal", "sepolia", "holesky", "hoodi", "gnosis", "chiado"] as const;

type RawConfig = Record<string, string | number | Uint8Array | undefined>;

const configKey = (fork: ForkName, what: "VERSION" | "EPOCH"): string =>
  fork === "phase0" ? `GENESIS_FORK_${what}` : `${fork.toUpperCase()}_FORK_${what}`;

function toEpoch(value: unknown, key: string): bigint {
  if (value === undefined || value === Infinity) return FAR_FUTURE_EPOCH;
  const text = String(value).trim();
  if (!/^\d+$/.test(text)) throw new Error(`${key}: expected an epoch (decimal integer), got "${text}"`);
  const epoch = BigInt(text);
  if (epoch > FAR_FUTURE_EPOCH) throw new Error(`${key}: ${text} is out of the uint64 range`);
  return epoch;
}

function toVersion(value: unknown, key: string): Uint8Array {
  if (value instanceof Uint8Array && value.length === 4) return new Uint8Array(value);
  if (typeof value === "string") {
    const bytes = hexToBytes(value.trim(), 4);
    if (bytes) return bytes;
  }
  throw new Error(`${key}: expected a 4-byte fork version like 0x00000000, got "${String(value)}"`);
}

/** Builds a NetworkConfig from consensus-spec config keys (`GENESIS_FORK_VERSION`, `ALTAIR_FORK_EPOCH`, …). */
export function networkFromConfig(
  name: string,
  raw: RawConfig,
  genesis: {genesisValidatorsRoot?: string; genesisTime?: bigint} = {}
): NetworkConfig {
  const presetBase = String(raw.PRESET_BASE ?? "mainnet").trim();
  if (!isPresetName(presetBase)) {
    throw new Error(`PRESET_BASE: unknown preset "${presetBase}" (known: ${Object.keys(presets).join(", ")})`);
  }
  const forks = {} as NetworkConfig["forks"];
  for (const fork of forkNames) {
    const versionKey = configKey(fork, "VERSION");
    const epoch = fork === "phase0" ? 0n : toEpoch(raw[configKey(fork, "EPOCH")], configKey(fork, "EPOCH"));
    // A fork that is not scheduled may leave its version out; nothing is ever signed with it.
    const version =
      raw[versionKey] === undefined && epoch === FAR_FUTURE_EPOCH ? new Uint8Array(4) : toVersion(raw[versionKey], versionKey);
    forks[fork] = {version, epoch};
  }
  return {name, presetBase, preset: presets[presetBase], forks, ...genesis};
}

/**
 * consensus-specs configs/minimal.yaml: every fork version is 0x0N000001 and no fork is scheduled.
 * Lodestar's own minimal chain config copies mainnet's fork epochs, so it is not used here.
 */
const minimalConfig: RawConfig = {
  PRESET_BASE: "minimal",
  ...Object.fromEntries(forkNames.map((fork, i) => [configKey(fork, "VERSION"), `0x0${i}000001`])),
};

/** eth-clients/holesky metadata/config.yaml (no longer shipped by Lodestar). */
const holeskyConfig: RawConfig = {
  PRESET_BASE: "mainnet",
  GENESIS_FORK_VERSION: "0x01017000",
  ALTAIR_FORK_VERSION: "0x02017000",
  ALTAIR_FORK_EPOCH: 0,
  BELLATRIX_FORK_VERSION: "0x03017000",
  BELLATRIX_FORK_EPOCH: 0,
  CAPELLA_FORK_VERSION: "0x04017000",
  CAPELLA_FORK_EPOCH: 256,
  DENEB_FORK_VERSION: "0x05017000",
  DENEB_FORK_EPOCH: 29696,
  ELECTRA_FORK_VERSION: "0x06017000",
  ELECTRA_FORK_EPOCH: 115968,
  FULU_FORK_VERSION: "0x07017000",
  FULU_FORK_EPOCH: 165120,
};
const holeskyGenesisValidatorsRoot = "0x9143aa7c615a7f7115e2b6aac319c03529df8242ae705fba9df39b79c59fa8b1";

/**
 * Resolves `--network`: a built-in name, a path to a consensus config YAML, or a testnet directory
 * as devnet tools write it (config.yaml and genesis.ssz; its other files are not needed).
 * `genesisValidatorsRoot` (--genesis-validators-root) gives the chain where the network does not,
 * and must agree with it where it does.
 */
export function loadNetwork(nameOrPath: string, {genesisValidatorsRoot}: {genesisValidatorsRoot?: string} = {}): NetworkConfig {
  const network = resolveNetwork(nameOrPath);
  if (genesisValidatorsRoot === undefined) return network;
  const root = hexToBytes(genesisValidatorsRoot, 32);
  if (!root) throw new Error(`--genesis-validators-root: expected 32 bytes of 0x hex, got "${genesisValidatorsRoot.slice(0, 80)}"`);
  const rootHex = bytesToHex(root);
  if (network.genesisValidatorsRoot !== undefined && network.genesisValidatorsRoot !== rootHex) {
    throw new Error(`--genesis-validators-root ${rootHex} is not ${network.genesisValidatorsRoot}, the root of network ${network.name}`);
  }
  return {...network, genesisValidatorsRoot: rootHex};
}

function resolveNetwork(nameOrPath: string): NetworkConfig {
  switch (nameOrPath) {
    case "minimal":
      return networkFromConfig("minimal", minimalConfig);
    case "holesky":
      return networkFromConfig("holesky", holeskyConfig, {genesisValidatorsRoot: holeskyGenesisValidatorsRoot, genesisTime: 1695902400n});
    case "mainnet":
    case "sepolia":
    case "hoodi":
    case "gnosis":
    case "chiado":
      return networkFromConfig(nameOrPath, networksChainConfig[nameOrPath] as unknown as RawConfig, {
        genesisValidatorsRoot: genesisData[nameOrPath].genesisValidatorsRoot,
        genesisTime: BigInt(genesisData[nameOrPath].genesisTime),
      });
  }
  if (!/[./\\]/.test(nameOrPath)) {
    throw new Error(
      `unknown network "${nameOrPath}" (known: ${builtinNetworks.join(", ")}, or a path to a config YAML or a testnet directory)`
    );
  }
  if (isDirectory(nameOrPath)) {
    const network = configFile(join(nameOrPath, "config.yaml"));
    const genesisSsz = join(nameOrPath, "genesis.ssz");
    if (!existsSync(genesisSsz)) {
      throw new Error(
        `${nameOrPath}: no genesis.ssz (a testnet directory has config.yaml and genesis.ssz; for the config alone, pass its path and --genesis-validators-root)`
      );
    }
    return {...network, ...readGenesisState(genesisSsz, network)};
  }
  return configFile(nameOrPath);
}

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** A consensus config YAML (CONFIG_NAME names it, else its path). */
function configFile(nameOrPath: string): NetworkConfig {
  let text: string;
  try {
    text = readFileSync(nameOrPath, "utf8");
  } catch (e) {
    throw new Error(`cannot read network config ${nameOrPath}: ${(e as Error).message}`);
  }
  // The failsafe schema keeps every scalar a string: 0x00000000 must not become the number 0.
  const raw = parseYaml(text, {schema: "failsafe"}) as RawConfig | null;
  if (!raw || typeof raw !== "object") throw new Error(`${nameOrPath}: not a YAML mapping`);
  try {
    return networkFromConfig(String(raw.CONFIG_NAME ?? nameOrPath), raw);
  } catch (e) {
    throw new Error(`${nameOrPath}: ${(e as Error).message}`);
  }
}

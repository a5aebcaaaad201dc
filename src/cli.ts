#!/usr/bin/env node
import {configFromArgs, help} from "./config/args.js";
import {createLogger} from "./log.js";
import {exampleCurl} from "./server/example.js";
import {handleSignals} from "./shutdown.js";
import {type Signer, startSigner} from "./signer.js";
import type {SlashingStore as SlashingStoreType} from "./slashing/store.js";

async function main(): Promise<void> {
  if (process.argv[2] === "load") return load(process.argv.slice(3));
  if (process.argv[2] === "prune") return prune(process.argv.slice(3));
  let parsed: ReturnType<typeof configFromArgs>;
  try {
    parsed = configFromArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`ts3signer: ${(e as Error).message}\nRun ts3signer --help for the flags.\n`);
    process.exit(2);
  }
  if (parsed === "help") {
    process.stdout.write(help);
    return;
  }
  const log = createLogger({level: parsed.logLevel, format: parsed.logFormat});
  let signer: Signer;
  try {
    signer = await startSigner(parsed.config, log);
  } catch (e) {
    log.error(`cannot start: ${(e as Error).message}`);
    process.exit(1);
  }
  handleSignals(signer, log);
  await signer.ready;
  const first = signer.keys.entries().next().value?.pubkeyHex;
  if (first) {
    const host = parsed.config.host === "0.0.0.0" || parsed.config.host === "::" ? "127.0.0.1" : parsed.config.host;
    log.info(`ready with ${signer.keys.size} keys; try:\n${exampleCurl(signer.network, `http://${host}:${signer.port}`, first)}`);
  } else {
    log.info("ready with no keys loaded");
  }
}

/** `ts3signer load …`: the load generator, loaded only when asked for. */
async function load(args: string[]): Promise<void> {
  const {loadMain} = await import("./load/cli.js");
  try {
    await loadMain(args);
  } catch (e) {
    process.stderr.write(`ts3signer load: ${(e as Error).message}\nRun ts3signer load --help for the flags.\n`);
    process.exit(2);
  }
}

const pruneHelp = `Usage: ts3signer prune --slashing-protection URL --epochs-to-keep N [--network NAME|FILE|DIR]

Deletes slashing protection records older than each key's newest by more than N epochs (blocks:
N epochs of slots, by the network's preset), keeping the newest; what remains bounds what may be
signed. Keys whose history holds a surround vote are left whole. Safe while signers use the
database. See docs/slashing-protection.md, Pruning.
`;

/** `ts3signer prune …`: slashing protection history pruning, run by the operator (e.g. from cron). */
async function prune(args: string[]): Promise<void> {
  const [{parseArgs}, {loadNetwork}, {SlashingStore}] = await Promise.all([
    import("node:util"),
    import("./config/networks.js"),
    import("./slashing/store.js"),
  ]);
  let store: SlashingStoreType | undefined;
  try {
    const {values} = parseArgs({
      args,
      options: {
        "slashing-protection": {type: "string"},
        "epochs-to-keep": {type: "string"},
        network: {type: "string"},
        help: {type: "boolean"},
      },
    });
    if (values.help) return void process.stdout.write(pruneHelp);
    const keep = values["epochs-to-keep"] ?? "";
    if (!/^\d{1,15}$/.test(keep) || Number(keep) < 1)
      throw new Error(`--epochs-to-keep: expected a positive number of epochs, got "${keep}"`);
    if (!values["slashing-protection"]) throw new Error("--slashing-protection URL is required");
    const network = loadNetwork(values.network ?? "mainnet");
    store = await SlashingStore.open(values["slashing-protection"], {setUp: true});
    const {keys, deleted, skipped} = await store.prune(BigInt(keep), BigInt(network.preset.SLOTS_PER_EPOCH));
    process.stdout.write(
      `pruned ${deleted} records of ${keys - skipped} keys to their last ${keep} epochs; ${skipped} keys left whole (a surround vote in their history)\n`
    );
  } catch (e) {
    process.stderr.write(`ts3signer prune: ${(e as Error).message}\n${pruneHelp}`);
    process.exitCode = 2;
  } finally {
    await store?.close();
  }
}

main();

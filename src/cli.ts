#!/usr/bin/env node
import {configFromArgs, help} from "./config/args.js";
import {type Logger, createLogger} from "./log.js";
import {exampleCurl} from "./server/example.js";
import {type Signer, startSigner} from "./signer.js";

async function main(): Promise<void> {
  if (process.argv[2] === "load") return load(process.argv.slice(3));
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
  const [first] = signer.keys.publicKeys();
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

function handleSignals(signer: {close(): Promise<void>}, log: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down: answering requests in flight", {signal});
    // SPEC: exit within 10 s even if something hangs.
    setTimeout(() => {
      log.error("shutdown took over 10 s; exiting");
      process.exit(1);
    }, 10_000).unref();
    signer.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (e: Error) => {
        log.error("shutdown failed", {error: e.message});
        process.exit(1);
      }
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main();

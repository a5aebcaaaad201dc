/**
 * `ts3signer load`: drives load against any Web3Signer-compatible signer (keys from its
 * /api/v1/eth2/publicKeys), shows live progress, prints a summary, and writes JSON and an HTML
 * report on request.
 */
import {writeFileSync} from "node:fs";
import {parseArgs} from "node:util";
import {devnet} from "./devnet.js";
import {burst, dutyCycle, fetchPublicKeys, type LoadResult, type LoadTarget, sustained} from "./load.js";
import {liveProgress} from "./progress.js";
import {renderReport} from "./report.js";
import * as R from "./requests.js";
import {wrkBurst, wrkSustained} from "./wrk.js";

export const loadHelp = `ts3signer load: HTTP load against a Web3Signer-compatible signer (ts3signer, Web3Signer, …).
It reads the signer's keys from GET /api/v1/eth2/publicKeys and signs with them.

Usage: ts3signer load [flags]

  --target URL            the signer (default http://127.0.0.1:9000; http only)
  --profile NAME          sustained  --connections requests in flight for --seconds (default)
                          burst      --count attestations at once: the 1/3-slot burst
                          duty       every key's per-slot traffic, each burst as fast as it goes
                          devnet     the duties of --validators validators in real time, slot by
                                     slot, with shared roots, each checked against its deadline
  --validators N          use the signer's first N keys (default: all)
  --connections N         connections, one request in flight on each (default 64)
  --seconds T             sustained: how long (default 10); devnet: how long, if --slots is not given
  --roots R               sustained: how keys share signing roots: committee (16 keys a root with
                          1,024 keys; default), shared (each round over the keys signs one
                          AttestationData, as from Electra), or unique (none repeats)
  --count N               burst: attestations (default 8192)
  --slots S               duty, devnet: slots to run (default 3)
  --slot-seconds T        duty, devnet: the slot time; less than 12 compresses time (default 12)
  --timeout T             seconds the client waits for an answer before giving up (default 10)
  --generator NAME        node (default), or wrk (Debian package wrk) for sustained and burst
  --report FILE.html      write a self-contained HTML report (charts, parameters, deadlines)
  --json FILE             write the results as JSON
  --help                  this text

Progress goes to stderr (one line in place on a terminal), the summary to stdout.
`;

const options = {
  target: {type: "string", default: "http://127.0.0.1:9000"},
  profile: {type: "string", default: "sustained"},
  validators: {type: "string"},
  connections: {type: "string", default: "64"},
  seconds: {type: "string"},
  roots: {type: "string", default: "committee"},
  count: {type: "string", default: "8192"},
  slots: {type: "string"},
  "slot-seconds": {type: "string", default: "12"},
  timeout: {type: "string", default: "10"},
  generator: {type: "string", default: "node"},
  report: {type: "string"},
  json: {type: "string"},
  help: {type: "boolean"},
} as const;

const profiles = ["sustained", "burst", "duty", "devnet"] as const;

function positive(name: string, value: string, integer = true): number {
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n)) || !Number.isFinite(n)) {
    throw new Error(`--${name}: expected a positive ${integer ? "integer" : "number"}, got "${value}"`);
  }
  return n;
}

export async function loadMain(args: string[]): Promise<void> {
  const {values} = parseArgs({args, options, strict: true, allowPositionals: false});
  if (values.help) return void process.stdout.write(loadHelp);
  const profile = values.profile as (typeof profiles)[number];
  if (!profiles.includes(profile)) throw new Error(`--profile: expected ${profiles.join(", ")}, got "${values.profile}"`);
  const wrk = values.generator === "wrk";
  if (!wrk && values.generator !== "node") throw new Error(`--generator: expected node or wrk, got "${values.generator}"`);
  if (wrk && (profile === "duty" || profile === "devnet")) throw new Error(`the ${profile} profile needs the built-in generator`);
  const target = values.target.replace(/\/$/, "");
  const connections = positive("connections", values.connections);
  const slotSeconds = positive("slot-seconds", values["slot-seconds"], false);
  const seconds = values.seconds === undefined ? undefined : positive("seconds", values.seconds, false);
  const slots =
    values.slots !== undefined ? positive("slots", values.slots) : profile === "devnet" && seconds ? Math.ceil(seconds / slotSeconds) : 3;
  const count = positive("count", values.count);
  const timeoutMs = positive("timeout", values.timeout, false) * 1000;
  const roots = values.roots as R.RootSharing;
  if (!R.rootSharings.includes(roots)) throw new Error(`--roots: expected ${R.rootSharings.join(", ")}, got "${values.roots}"`);
  if (wrk && roots !== "committee") throw new Error("--roots needs the built-in generator");

  let pubkeys = await fetchPublicKeys(target);
  if (values.validators) pubkeys = pubkeys.slice(0, positive("validators", values.validators));
  if (!pubkeys.length) throw new Error(`${target} holds no keys`);

  const parameters: Record<string, string | number> = {
    target,
    profile,
    validators: pubkeys.length,
    connections,
    "client timeout (s)": timeoutMs / 1000,
    generator: values.generator,
  };
  if (profile === "sustained") Object.assign(parameters, {seconds: seconds ?? 10, roots});
  if (profile === "burst") parameters.count = count;
  if (profile === "duty" || profile === "devnet") Object.assign(parameters, {slots, "slot seconds": slotSeconds});
  process.stderr.write(`${profile} load on ${target}: ${pubkeys.length} keys, ${connections} connections${wrk ? ", sent by wrk" : ""}\n`);

  const progress = liveProgress();
  const t: LoadTarget = {target, pubkeys, connections, timeoutMs, onTick: (r) => progress.tick(r)};
  const started = new Date().toISOString();
  let result: LoadResult;
  try {
    result = wrk
      ? profile === "burst"
        ? await wrkBurst(target, pubkeys, connections, count)
        : await wrkSustained(target, pubkeys, connections, seconds ?? 10)
      : profile === "burst"
        ? await burst(t, count)
        : profile === "duty"
          ? await dutyCycle(t, slots, slotSeconds)
          : profile === "devnet"
            ? await devnet(t, {slots, slotSeconds})
            : await sustained(t, seconds ?? 10, roots);
  } finally {
    progress.end();
  }
  result.parameters = {started, ...parameters};

  process.stdout.write(summary(result));
  if (values.json) {
    writeFileSync(values.json, JSON.stringify(result, null, 2) + "\n");
    process.stdout.write(`results: ${values.json}\n`);
  }
  if (values.report) {
    writeFileSync(values.report, renderReport(`ts3signer load: ${profile} on ${target}`, [result]));
    process.stdout.write(`report: ${values.report}\n`);
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", {maximumFractionDigits: digits, minimumFractionDigits: digits});

/** The run in a few lines of text. */
export function summary(r: LoadResult): string {
  const lines = [
    `${r.profile}: ${fmt(r.requests)} requests in ${fmt(r.seconds, 2)} s = ${fmt(r.requestsPerSecond)}/s`,
    `  latency p50 ${fmt(r.latencyMs.p50, 1)} ms, p99 ${fmt(r.latencyMs.p99, 1)} ms, max ${fmt(r.latencyMs.max, 1)} ms`,
    `  errors ${fmt(r.errors)}${
      r.outcomes
        ? `; outcomes ${Object.entries(r.outcomes)
            .map(([k, n]) => `${k}: ${fmt(n)}`)
            .join(", ")}`
        : ""
    }`,
    `  load generator CPU ${fmt(r.generatorCores, 2)} cores`,
    ...r.errorSamples.map((e) => `  e.g. ${e}`),
    ...(r.bursts ?? []).map((b) => `  ${b.name.padEnd(40)} ${fmt(b.requests).padStart(6)} requests in ${fmt(b.seconds * 1000, 1)} ms`),
  ];
  if (r.duties) {
    lines.push(
      `  ${"duty".padEnd(48)} ${"due at".padStart(9)} ${"total".padStart(7)} ${"on time".padStart(8)} ${"late".padStart(6)} ${"failed".padStart(7)}`
    );
    for (const d of r.duties) {
      lines.push(
        `  ${d.duty.padEnd(48)} ${`${fmt(d.dueAtSlotFraction * 100)}% slot`.padStart(9)} ${fmt(d.total).padStart(7)} ${fmt(d.onTime).padStart(8)} ${fmt(d.late).padStart(6)} ${fmt(d.failed).padStart(7)}`
      );
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * npm run bench -- --scale: the signer at the sizes its users run (issue 19). A million interop
 * keys: time to ready on a first start and on a restart from the key cache, and RSS; signing
 * throughput with them loaded against 1,024 keys, the same load alternated on both signers in this
 * run; and 10,000 keystores with the keystore cache, first start and cached restart.
 *
 *   npm run bench -- --scale [--scale-keys 1000000] [--scale-keystores 10000] [--scale-rounds 2] [--seconds 15] [--connections 64]
 */
import {randomBytes} from "node:crypto";
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {availableParallelism, loadavg, tmpdir} from "node:os";
import {join} from "node:path";
import {SecretKey} from "@chainsafe/blst";
import {encryptKeystore} from "../src/keys/eip2335.js";
import {interopSecretKey} from "../src/keys/interop.js";
import {fetchPublicKeys, type LoadResult, sustained} from "../src/load/load.js";
import {measureCeiling} from "./ceiling.js";
import {SignerProcess} from "./signerProcess.js";

export type KeyScaleResult = {
  keys: number;
  firstStart: Start;
  restart: Start;
  small: Start;
  rssAfterLoad: {small: number; big: number};
  bytesPerKey: number;
  throughput: {keys: number; requestsPerSecond: number; ceiling: number; ratioToCeiling: number; cpuMicrosPerSignature: number}[];
  keystores: {count: number; firstStart: Start; restart: Start};
  loadAverage: number[];
};
type Start = {readySeconds: number; rssBytes: number};

const mib = (n: number) => (n / 2 ** 20).toFixed(1);
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", {maximumFractionDigits: digits, minimumFractionDigits: digits});

async function started(args: string[]): Promise<{signer: SignerProcess; start: Start}> {
  const signer = await SignerProcess.start(args, 3_600_000);
  return {signer, start: {readySeconds: signer.readySeconds, rssBytes: signer.rssBytes()}};
}

export async function keyScaleBench(opts: {
  keys: number;
  keystores: number;
  seconds: number;
  connections: number;
  rounds: number;
}): Promise<KeyScaleResult> {
  const cores = availableParallelism();
  const dir = mkdtempSync(join(tmpdir(), "ts3signer-bench-scale-"));
  const log = (line: string) =>
    console.log(
      `  ${line}  (load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")})`
    );
  try {
    const cacheDir = join(dir, "cache");
    const big = ["--interop-keys", String(opts.keys), "--cache-dir", cacheDir];

    const first = await started(big);
    await first.signer.stop();
    log(
      `${fmt(opts.keys)} interop keys, first start: ready in ${fmt(first.start.readySeconds, 1)} s, RSS ${mib(first.start.rssBytes)} MiB`
    );
    const bigSigner = await started(big);
    log(
      `${fmt(opts.keys)} interop keys, restart from the key cache: ready in ${fmt(bigSigner.start.readySeconds, 1)} s, RSS ${mib(bigSigner.start.rssBytes)} MiB`
    );
    const smallSigner = await started(["--interop-keys", "1024"]);

    // The same load on both: attestations over 64 connections, for 16,384 keys spread over the
    // whole table on the big signer (a pool of requests for every key would not fit the load
    // generator), the 1,024 on the small one; alternated A B A B, each beside the blst ceiling.
    const all = await fetchPublicKeys(bigSigner.signer.url);
    const stride = Math.max(1, Math.floor(all.length / 16_384));
    const spread = all.filter((_, i) => i % stride === 0).slice(0, 16_384);
    all.length = 0;
    const smallKeys = await fetchPublicKeys(smallSigner.signer.url);
    const throughput: KeyScaleResult["throughput"] = [];
    for (let round = 0; round < opts.rounds; round++) {
      for (const [signer, pubkeys, keys] of [
        [smallSigner.signer, smallKeys, 1024],
        [bigSigner.signer, spread, opts.keys],
      ] as const) {
        if (round === 0) await sustained({target: signer.url, pubkeys, connections: opts.connections}, 1); // warm-up
        const before = await measureCeiling(cores, 2);
        const cpu0 = signer.cpuSeconds();
        const r: LoadResult = await sustained({target: signer.url, pubkeys, connections: opts.connections}, opts.seconds);
        // The signer's CPU per signature: apart from how much of the machine it got, so steadier
        // than the rate on a shared machine.
        const cpuMicrosPerSignature = (1e6 * (signer.cpuSeconds() - cpu0)) / r.requests;
        const after = await measureCeiling(cores, 2);
        const ceiling = (before.signaturesPerSecond + after.signaturesPerSecond) / 2;
        throughput.push({
          keys,
          requestsPerSecond: r.requestsPerSecond,
          ceiling,
          ratioToCeiling: r.requestsPerSecond / ceiling,
          cpuMicrosPerSignature,
        });
        log(
          `sustained, ${fmt(keys)} keys loaded: ${fmt(r.requestsPerSecond)}/s = ${fmt(r.requestsPerSecond / ceiling, 3)}× ceiling (${fmt(ceiling)}/s), ${fmt(cpuMicrosPerSignature)} µs of signer CPU a signature, errors ${r.errors}`
        );
      }
    }
    // Both warm now, after the same loads: what stays is what their keys cost.
    const rss = {small: smallSigner.signer.rssBytes(), big: bigSigner.signer.rssBytes()};
    const perKey = (rss.big - rss.small) / (opts.keys - 1024);
    log(
      `RSS after the loads: ${mib(rss.small)} MiB with 1,024 keys, ${mib(rss.big)} MiB with ${fmt(opts.keys)}: ≈ ${fmt(perKey)} bytes a key (the key table's share: 96)`
    );
    await smallSigner.signer.stop();
    await bigSigner.signer.stop();
    const mean = (keys: number, of: (t: KeyScaleResult["throughput"][number]) => number) =>
      throughput.filter((t) => t.keys === keys).reduce((s, t) => s + of(t), 0) / opts.rounds;
    log(
      `with ${fmt(opts.keys)} keys / with 1,024 (means of ${opts.rounds}): throughput as a share of the ceiling ${fmt(mean(opts.keys, (t) => t.ratioToCeiling) / mean(1024, (t) => t.ratioToCeiling), 3)}, signer CPU a signature ${fmt(mean(opts.keys, (t) => t.cpuMicrosPerSignature) / mean(1024, (t) => t.cpuMicrosPerSignature), 3)}`
    );

    const keystores = await keystoreCacheBench(join(dir, "keystores"), opts.keystores, log);
    return {
      keys: opts.keys,
      firstStart: first.start,
      restart: bigSigner.start,
      small: smallSigner.start,
      rssAfterLoad: rss,
      bytesPerKey: perKey,
      throughput,
      keystores,
      loadAverage: loadavg(),
    };
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

/**
 * `count` keystores, each with its own password file: one with EIP-2335's default scrypt (n = 2^18),
 * the rest with a small pbkdf2 so that making them and the first start take minutes, not days. The
 * cache's KDF is the strongest of its keystores' (that scrypt), so the cached restart pays what it
 * would with `count` real ones.
 */
async function keystoreCacheBench(dir: string, count: number, log: (line: string) => void): Promise<KeyScaleResult["keystores"]> {
  const keystores = join(dir, "keystores");
  const passwords = join(dir, "passwords");
  mkdirSync(keystores, {recursive: true});
  mkdirSync(passwords, {recursive: true});
  for (let i = 0; i < count; i++) {
    const secret = interopSecretKey(i);
    const salt = randomBytes(32).toString("hex");
    const kdf =
      i === 0
        ? {function: "scrypt", params: {dklen: 32, n: 262144, r: 8, p: 1, salt}, message: ""}
        : {function: "pbkdf2", params: {dklen: 32, c: 16, prf: "hmac-sha256", salt}, message: ""};
    const keystore = await encryptKeystore(
      secret,
      SecretKey.fromBytes(secret).toPublicKey().toBytes(),
      `password ${i}`,
      kdf as never,
      randomBytes(16),
      `m/12381/3600/${i}/0/0`
    );
    writeFileSync(join(keystores, `keystore-${i}.json`), JSON.stringify(keystore));
    writeFileSync(join(passwords, `keystore-${i}.txt`), `password ${i}`);
  }
  const args = ["--keystores-path", keystores, "--keystores-passwords-path", passwords, "--cache-dir", join(dir, "cache")];
  const first = await started(args);
  await first.signer.stop();
  log(`${fmt(count)} keystores, first start (decrypted from their files, then cached): ready in ${fmt(first.start.readySeconds, 1)} s`);
  const restart = await started(args);
  await restart.signer.stop();
  log(
    `${fmt(count)} keystores, restart from the keystore cache (one scrypt n = 2^18): ready in ${fmt(restart.start.readySeconds, 1)} s, RSS ${mib(restart.start.rssBytes)} MiB`
  );
  return {count, firstStart: first.start, restart: restart.start};
}

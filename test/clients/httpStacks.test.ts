/**
 * Every validator client's HTTP stack against one signer (stacks.ts): requests one after another
 * and all at once through one client instance, each answer read as that client reads it, each
 * signature verified against the root the consensus specs give (duties.ts). Zero failures.
 */
import {execFile} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {promisify} from "node:util";
import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {sample, startTestSigner, type TestSigner} from "../helpers/signer.js";
import {allDuties, type Duty} from "./duties.js";
import {lodestarOld} from "./lodestar.js";
import {httpStacks} from "./stacks.js";
import type {ClientShape, WireRequest, WireResponse} from "./wire.js";

type Job = {duty: Duty; pubkey: string; request: WireRequest};

let s: TestSigner;
let pubkeys: string[];
beforeAll(async () => {
  s = await startTestSigner({network: "mainnet", interopKeys: "4"});
  pubkeys = s.signer.keys.publicKeys();
});
afterAll(() => s?.close());

/** `n` signing requests as `client` sends them, cycling through its duties on every fork and the keys. */
function jobs(client: ClientShape, n: number): Job[] {
  const all = allDuties
    .filter((d) => client.forks.includes(d.fork))
    .flatMap((duty, i) => {
      const pubkey = pubkeys[i % pubkeys.length];
      const request = client.signRequest(pubkey, duty);
      return request ? [{duty, pubkey, request}] : [];
    });
  return Array.from({length: n}, (_, i) => all[i % all.length]);
}

const verified = new Map<string, boolean>();
/** What went wrong with one answer, or undefined when its signature verifies over the duty's root. */
function check(client: ClientShape, job: Job, answer: WireResponse | Error): string | undefined {
  if (answer instanceof Error) return `${job.duty.name}: ${answer.message}`;
  try {
    const signature = client.readSignature(answer);
    const key = `${job.pubkey} ${job.duty.name} ${signature}`;
    if (!verified.has(key)) verified.set(key, verify(job.duty.root, PublicKey.fromHex(job.pubkey), Signature.fromHex(signature)));
    return verified.get(key) ? undefined : `${job.duty.name}: the signature does not verify`;
  } catch (e) {
    return `${job.duty.name}: ${(e as Error).message} (HTTP ${answer.status}: ${answer.body.slice(0, 200)})`;
  }
}

const settle = (p: Promise<WireResponse>) => p.catch((e: Error) => e);
const metrics = async () => (await fetch(s.metricsUrl)).text();

describe.each(httpStacks)("$name", (stack) => {
  const sequential = stack.name.startsWith("node-fetch 2.6.7") ? 1000 : 100;

  it(`signs ${sequential} requests one after another and 100 at once through one client, every signature verified`, async () => {
    const client = stack.open(s.url, s.signer.port);
    try {
      const failures: string[] = [];
      for (const job of jobs(stack.client, sequential)) {
        const failure = check(stack.client, job, await settle(client.send(job.request)));
        if (failure) failures.push(failure);
      }
      const burst = jobs(stack.client, 100);
      const answers = await Promise.all(burst.map((job) => settle(client.send(job.request))));
      burst.forEach((job, i) => {
        const failure = check(stack.client, job, answers[i]);
        if (failure) failures.push(failure);
      });
      expect(failures.slice(0, 5)).toEqual([]);
      expect(failures.length).toBe(0);
    } finally {
      client.close();
    }
  });
});

describe("every stack after an idle period longer than uWS keeps a connection (8-12 s)", () => {
  it("signs again through the same client instance: the idle connection is retired or seen closed, never reused dead", async () => {
    const clients = httpStacks.map((stack) => ({stack, client: stack.open(s.url, s.signer.port)}));
    try {
      const round = () =>
        Promise.all(
          clients.map(async ({stack, client}) => {
            const batch = jobs(stack.client, 8);
            const answers = await Promise.all(batch.map((job) => settle(client.send(job.request))));
            return batch.flatMap((job, i) => check(stack.client, job, answers[i]) ?? []).map((f) => `${stack.name}: ${f}`);
          })
        );
      expect((await round()).flat()).toEqual([]);
      await new Promise((r) => setTimeout(r, 13_000)); // every stack idle at once
      expect((await round()).flat()).toEqual([]);
    } finally {
      for (const {client} of clients) client.close();
    }
  }, 60_000);
});

describe("curl", () => {
  /** One curl process for every request (its connection cache), answers to files; `--parallel` sends them at once. */
  async function curl(requests: WireRequest[], parallel: boolean): Promise<WireResponse[]> {
    const dir = mkdtempSync(join(tmpdir(), "ts3signer-curl-"));
    try {
      const config = requests.flatMap((req, i) => {
        writeFileSync(join(dir, `${i}.req`), req.body ?? "");
        return [
          ...(i > 0 ? ["next"] : []),
          `url = "${s.url}${req.path}"`,
          `request = "${req.method}"`,
          ...Object.entries(req.headers).map(([k, v]) => `header = "${k}: ${v}"`),
          ...(req.body === undefined ? [] : [`data-binary = "@${join(dir, `${i}.req`)}"`]),
          `output = "${join(dir, `${i}.res`)}"`,
          `write-out = "${i} %{http_code} %{content_type}\\n"`,
        ];
      });
      writeFileSync(join(dir, "config"), config.join("\n"));
      const args = [
        "--silent",
        "--show-error",
        "--config",
        join(dir, "config"),
        ...(parallel ? ["--parallel", "--parallel-max", "100"] : []),
      ];
      const {stdout} = await promisify(execFile)("curl", args, {maxBuffer: 1 << 24});
      const answers: WireResponse[] = [];
      for (const line of stdout.trim().split("\n")) {
        const [i, status, contentType] = line.split(" ");
        answers[Number(i)] = {
          status: Number(status),
          contentType: contentType || undefined,
          body: readFileSync(join(dir, `${i}.res`), "utf8"),
        };
      }
      return answers;
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  }

  it("signs 100 requests one after another and 100 at once (--parallel), each through one curl process, every signature verified", async () => {
    for (const parallel of [false, true]) {
      const batch = jobs(lodestarOld, 100);
      const answers = await curl(
        batch.map((j) => j.request),
        parallel
      );
      const failures = batch.map((job, i) => check(lodestarOld, job, answers[i] ?? new Error("no answer"))).filter(Boolean);
      expect(failures).toEqual([]);
    }
  });
});

describe("the signer's side of it", () => {
  it("counted every connection it closed because the client asked", async () => {
    expect(sample(await metrics(), "ts3signer_http_connections_closed_total", {reason: "client_asked"})).toBeGreaterThanOrEqual(1000);
  });
});

import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {connect, type Socket} from "node:net";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {PublicKey, Signature, verify} from "@chainsafe/blst";
import {afterAll, beforeAll, describe, expect, it, vi} from "vitest";
import {Faults} from "../dist/src/server/faults.js";
import {inKeyFraction, parseFaultSpec, planFaults} from "../src/server/faults.js";
import {rng} from "./helpers/reference.js";
import {request, sample, sign, startTestSigner, type TestSigner, vectorsPath} from "./helpers/signer.js";

type Vector = {name: string; request: object; pubkey: string; signing_root: string; signature: string};
const vectors: Vector[] = JSON.parse(readFileSync(vectorsPath, "utf8"));
const byName = (n: string) => vectors.find((v) => v.name === n)!;
const randao = byName("web3signer: RANDAO_REVEAL"); // interop key 0 on minimal, with its expected signature
const attestation = byName("web3signer: ATTESTATION");

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Runs `count` calls of `fn`, `concurrency` at a time. */
async function inParallel<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({length: concurrency}, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await fn(i);
    })
  );
  return out;
}

/** One signing request: its status, or "closed" when the connection ended without an answer. */
async function outcome(url: string, pubkey: string, body: object): Promise<{status: number | "closed"; ms: number; signature?: string}> {
  const t0 = performance.now();
  try {
    const r = await sign(url, pubkey, body);
    return {status: r.status, ms: performance.now() - t0, signature: r.status === 200 ? r.json().signature : undefined};
  } catch {
    return {status: "closed", ms: performance.now() - t0};
  }
}

describe("fault SPEC", () => {
  it("parses every fault and scope", () => {
    const key = "0x" + "AB".repeat(48);
    expect(
      parseFaultSpec(
        `delay=50ms..400ms,types=ATTESTATION,BLOCK_V2; error=0.05:503;drop=0.01,keys=${key},${key.toLowerCase()};timeout=1,keys=0.25;delay=1.5s`
      )
    ).toEqual([
      {delayMs: {min: 50, max: 400}, types: ["ATTESTATION", "BLOCK_V2"]},
      {error: {rate: 0.05, status: 503}},
      {drop: 0.01, keys: [key.toLowerCase(), key.toLowerCase()]},
      {timeout: 1, keys: 0.25},
      {delayMs: {min: 1500, max: 1500}},
    ]);
    expect(parseFaultSpec("")).toEqual([]);
    expect(parseFaultSpec("error=0.5")).toEqual([{error: {rate: 0.5, status: 503}}]);
  });

  it.each([
    ["delay=fast", /rule 1 \("delay=fast"\): delay: expected a duration such as 200ms/],
    ["delay=400ms..50ms", /rule 1 .*delay: 400ms is more than 50ms/],
    ["drop=0.1;error=1.5:503", /rule 2 \("error=1.5:503"\): error: expected a rate from 0 to 1, got "1.5"/],
    ["error=0.1:200", /error: expected RATE:STATUS with a status from 400 to 599/],
    ["drop=0.1,types=ATTESTATON", /types: "ATTESTATON" is not a request type/],
    ["drop=0.1,keys=0x12", /keys: "0x12" is neither a fraction nor a 0x-prefixed 48-byte public key/],
    ["types=ATTESTATION", /no fault in it/],
    ["delay=1ms,delay=2ms", /delay is given twice/],
    ["slow=1", /unknown name "slow"/],
    ["drop=0.6,error=0.6:503", /rates add up to 1.2, over 1/],
    ["drop=0.1;;error=0.1", /rule 2 is empty/],
    // Delays stack, so their sum is bounded: 5,000 of these overflowed Node's timer (the delay became 0).
    ["delay=600s;delay=1ms", /rule 2 \("delay=1ms"\): the delays up to this rule add up to 600.001 s, over the 600 s limit/],
    ["delay=1s..400s;error=0.1,delay=250s", /rule 2 .*add up to 650 s, over the 600 s limit/],
  ])("refuses %j, naming the part", (spec, message) => {
    expect(() => parseFaultSpec(spec)).toThrow(message);
  });

  it("refuses more than 64 rules, and a SPEC over 4096 characters", () => {
    expect(() => parseFaultSpec(Array(65).fill("drop=0.001").join(";"))).toThrow(/^rule 65: over the 64-rule limit$/);
    expect(() => parseFaultSpec(Array(5000).fill("delay=600s").join(";"))).toThrow(/^the SPEC is 54999 characters, over the 4096 limit$/);
  });

  it("accepts a SPEC at each limit: 64 rules, delays adding up to 600 s, 4096 characters", () => {
    expect(parseFaultSpec(Array(64).fill("delay=9375ms").join(";"))).toHaveLength(64);
    const longest = `drop=0.1,types=${"ATTESTATION,".repeat(400)}`.slice(0, 4096).replace(/,[A-Z]*$/, "");
    expect(parseFaultSpec(longest)[0].types!.length).toBeGreaterThan(300);
  });

  it("draws delays uniformly and each rate exactly, and stacks rules", () => {
    const rules = parseFaultSpec("delay=100ms..300ms,error=0.2:503,drop=0.1,timeout=0.05;delay=10ms");
    const n = 20_000;
    const random = rng(20261207).next;
    const plans = Array.from({length: n}, () => planFaults(rules, "ATTESTATION", "0x" + "11".repeat(48), random));
    const delays = plans.map((p) => p.delayMs).sort((a, b) => a - b);
    expect(delays[0]).toBeGreaterThanOrEqual(110);
    expect(delays[n - 1]).toBeLessThanOrEqual(310);
    for (const q of [0.1, 0.5, 0.9]) expect(quantile(delays, q)).toBeCloseTo(110 + 200 * q, -1); // within 5 ms
    const share = (f: (p: (typeof plans)[0]) => boolean) => plans.filter(f).length / n;
    expect(share((p) => p.outcome === "drop")).toBeCloseTo(0.1, 1.5);
    expect(share((p) => p.outcome === "timeout")).toBeCloseTo(0.05, 1.5);
    expect(share((p) => typeof p.outcome === "object" && p.outcome.status === 503)).toBeCloseTo(0.2, 1.5);
  });

  it("scopes by type and key, and picks a stable fraction of keys", () => {
    const k1 = "0x" + "11".repeat(48);
    const k2 = "0x" + "22".repeat(48);
    const rules = parseFaultSpec(`error=1:500,types=BLOCK_V2,keys=${k1}`);
    expect(planFaults(rules, "BLOCK_V2", k1).outcome).toEqual({status: 500});
    expect(planFaults(rules, "BLOCK_V2", k2).outcome).toBe("pass");
    expect(planFaults(rules, "ATTESTATION", k1).outcome).toBe("pass");
    // Random-looking keys: about a quarter fall in, and the same ones on every call.
    const keys = Array.from(
      {length: 4000},
      (_, i) => "0x" + (BigInt(i + 1) * 0x9e3779b97f4a7c15f39cc0605cedc834n).toString(16).padStart(96, "0").slice(-96)
    );
    const inside = keys.filter((k) => inKeyFraction(k, 0.25));
    expect(inside.length / keys.length).toBeCloseTo(0.25, 1);
    expect(keys.filter((k) => inKeyFraction(k, 0.25))).toEqual(inside);
  });

  it("draws from the random source it is given", () => {
    const key = "0x" + "11".repeat(48);
    const plans = (faults: Faults) => Array.from({length: 200}, () => faults.plan("ATTESTATION", key));
    const seeded = () => {
      const f = new Faults(rng(5).next);
      f.set("delay=10ms..20ms,error=0.3:503,drop=0.2");
      return f;
    };
    const first = plans(seeded());
    expect(plans(seeded())).toEqual(first);
    expect(new Set(first.map((p) => JSON.stringify(p.outcome))).size).toBe(3); // pass, drop and 503 all drawn
    const low = new Faults(() => 0);
    low.set("delay=10ms..20ms,error=0.3:503,drop=0.2");
    expect(low.plan("ATTESTATION", key)).toEqual({delayMs: 10, outcome: "drop"});
  });

  it("holds a delayed request for its delay, and on close releases every held one at once and applies no fault", () => {
    vi.useFakeTimers();
    try {
      const faults = new Faults(() => 0);
      const released: string[] = [];
      faults.hold(100, () => released.push("a"));
      faults.hold(300, () => released.push("b"));
      vi.advanceTimersByTime(99);
      expect(released).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(released).toEqual(["a"]);
      faults.close();
      expect(released).toEqual(["a", "b"]);
      vi.advanceTimersByTime(1000);
      expect(released).toEqual(["a", "b"]); // each released once
      faults.hold(50, () => released.push("c"));
      expect(released).toEqual(["a", "b", "c"]); // after close, at once
      faults.set("error=1:503");
      expect(faults.plan("ATTESTATION", "0x" + "11".repeat(48))).toEqual({delayMs: 0, outcome: "pass"});
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("a signer with faults", () => {
  let s: TestSigner;
  let dataDir: string;
  let auth: {authorization: string};
  let keys: string[];
  const setFaults = (spec: unknown, headers: Record<string, string> = auth) =>
    request(`${s.url}/ts3signer/v1/faults`, {
      method: "PUT",
      headers: {"content-type": "application/json", ...headers},
      body: JSON.stringify({faults: spec}),
    });
  const faultCount = async (kind: string, type: string) =>
    sample(await (await fetch(s.metricsUrl)).text(), "ts3signer_faults_injected_total", {kind, type});

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "ts3signer-faults-"));
    s = await startTestSigner({
      network: "minimal",
      interopKeys: "4",
      dataDir,
      requestTimeoutMs: 1000,
      faults: "error=1:429,types=VOLUNTARY_EXIT",
    });
    auth = {authorization: `Bearer ${readFileSync(join(dataDir, "api-token.txt"), "utf8").trim()}`};
    keys = (await request(`${s.url}/api/v1/eth2/publicKeys`)).json();
  });
  afterAll(async () => {
    await s.close();
    rmSync(dataDir, {recursive: true, force: true});
  });

  it("warns at start with the SPEC from --faults, and answers it on GET", async () => {
    const warning = s.lines.map((l) => JSON.parse(l)).find((l) => /fault injection on/.test(l.msg));
    expect(warning).toMatchObject({level: "warn", faults: "error=1:429,types=VOLUNTARY_EXIT"});
    const got = await request(`${s.url}/ts3signer/v1/faults`, {headers: auth});
    expect(got.status).toBe(200);
    expect(got.json()).toEqual({
      faults: "error=1:429,types=VOLUNTARY_EXIT",
      rules: [{error: {rate: 1, status: 429}, types: ["VOLUNTARY_EXIT"]}],
    });
  });

  it("guards the API with the Keymanager token and refuses a bad SPEC with a 400 naming the part", async () => {
    expect((await request(`${s.url}/ts3signer/v1/faults`)).status).toBe(401);
    expect((await setFaults("", {authorization: "Bearer nope"})).status).toBe(401);
    const bad = await setFaults("delay=10ms;error=2:503");
    expect(bad.status).toBe(400);
    expect(bad.json().message).toMatch(/^faults: rule 2 \("error=2:503"\): error: expected a rate from 0 to 1/);
    expect((await setFaults(42)).json().message).toMatch(/faults: expected a SPEC string/);
    // Nothing changed.
    expect((await request(`${s.url}/ts3signer/v1/faults`, {headers: auth})).json().faults).toBe("error=1:429,types=VOLUNTARY_EXIT");
  });

  it("delays by the SPEC's distribution, only the types it names", async () => {
    expect((await setFaults("delay=100ms..300ms,types=RANDAO_REVEAL")).status).toBe(200);
    const before = await faultCount("delay", "RANDAO_REVEAL");
    const [delayed, plain] = await Promise.all([
      inParallel(300, 20, () => outcome(s.url, randao.pubkey, randao.request)),
      inParallel(100, 4, () => outcome(s.url, attestation.pubkey, attestation.request)),
    ]);
    expect(delayed.every((r) => r.status === 200 && r.signature === randao.signature)).toBe(true);
    const ms = delayed.map((r) => r.ms).sort((a, b) => a - b);
    expect(ms[0]).toBeGreaterThanOrEqual(99); // never less than the minimum
    // Quartiles of uniform 100–300 ms (150, 200, 250), plus what answering costs on a busy shared
    // machine, which the undelayed requests sent alongside measure; the spread between the
    // quartiles does not depend on that cost.
    const answering = quantile(
      plain.map((r) => r.ms).sort((a, b) => a - b),
      0.9
    );
    for (const [q, want] of [
      [0.25, 150],
      [0.5, 200],
      [0.75, 250],
    ]) {
      expect(quantile(ms, q)).toBeGreaterThan(want - 20);
      expect(quantile(ms, q)).toBeLessThan(want + 120 + answering);
    }
    expect(quantile(ms, 0.75) - quantile(ms, 0.25)).toBeGreaterThan(100 - 40);
    expect(quantile(ms, 0.75) - quantile(ms, 0.25)).toBeLessThan(100 + 40);
    expect(
      quantile(
        plain.map((r) => r.ms).sort((a, b) => a - b),
        0.5
      )
    ).toBeLessThan(99); // below the least delay
    expect(await faultCount("delay", "RANDAO_REVEAL")).toBe(before + 300);
    expect(await faultCount("delay", "ATTESTATION")).toBe(0);
  });

  it("fails and drops at the SPEC's rates, counted exactly in the metrics, and signs the rest", async () => {
    expect((await setFaults("error=0.2:503,drop=0.1,types=RANDAO_REVEAL")).status).toBe(200);
    const n = 2000;
    const results = await inParallel(n, 32, () => outcome(s.url, randao.pubkey, randao.request));
    const count = (st: number | "closed") => results.filter((r) => r.status === st).length;
    // Within 4.5 standard deviations of the binomial.
    expect(count(503) / n).toBeGreaterThan(0.2 - 0.04);
    expect(count(503) / n).toBeLessThan(0.2 + 0.04);
    expect(count("closed") / n).toBeGreaterThan(0.1 - 0.03);
    expect(count("closed") / n).toBeLessThan(0.1 + 0.03);
    expect(count(200) + count(503) + count("closed")).toBe(n);
    expect(results.filter((r) => r.status === 200).every((r) => r.signature === randao.signature)).toBe(true);
    expect(await faultCount("error", "RANDAO_REVEAL")).toBe(count(503));
    expect(await faultCount("drop", "RANDAO_REVEAL")).toBe(count("closed"));
    // An injected error says so (a rule without drops, so the request is answered).
    expect((await setFaults("error=1:503,types=RANDAO_REVEAL")).status).toBe(200);
    const injected = await sign(s.url, randao.pubkey, randao.request);
    expect(injected.status).toBe(503);
    expect(injected.json().message).toMatch(/injected fault/);
  });

  it("scopes by key list and by a stable fraction of keys", async () => {
    expect((await setFaults(`error=1:500,keys=${keys[1].toUpperCase().replace("0X", "0x")}`)).status).toBe(200);
    const statuses = await Promise.all(keys.map((k) => sign(s.url, k, attestation.request).then((r) => r.status)));
    expect(statuses).toEqual(keys.map((k) => (k === keys[1] ? 500 : 200)));

    expect((await setFaults("error=1:503,keys=0.5")).status).toBe(200);
    for (let round = 0; round < 3; round++) {
      const replies = await Promise.all(keys.map((k) => sign(s.url, k, attestation.request)));
      expect(replies.map((r) => r.status)).toEqual(keys.map((k) => (inKeyFraction(k, 0.5) ? 503 : 200)));
      for (const [i, r] of replies.entries()) {
        if (r.status === 200)
          expect(
            verify(Buffer.from(attestation.signing_root.slice(2), "hex"), PublicKey.fromHex(keys[i]), Signature.fromHex(r.json().signature))
          ).toBe(true);
      }
    }
  });

  it("refuses a SPEC over the limits with a 400 naming the part, and keeps the one in force", async () => {
    expect((await setFaults("error=1:429,types=VOLUNTARY_EXIT")).status).toBe(200);
    for (const [spec, message] of [
      [Array(3000).fill("delay=600s").join(";"), /^faults: the SPEC is 32999 characters, over the 4096 limit/],
      ["delay=300s;delay=300s;delay=1s", /^faults: rule 3 \("delay=1s"\): the delays up to this rule add up to 601 s/],
    ] as const) {
      const r = await setFaults(spec);
      expect(r.status).toBe(400);
      expect(r.json().message).toMatch(message);
    }
    expect((await request(`${s.url}/ts3signer/v1/faults`, {headers: auth})).json().faults).toBe("error=1:429,types=VOLUNTARY_EXIT");
  });

  it("drops a request at --request-timeout when its delay would run past it", async () => {
    expect((await setFaults("delay=20s,types=RANDAO_REVEAL")).status).toBe(200);
    const r = await outcome(s.url, randao.pubkey, randao.request); // requestTimeoutMs: 1000
    expect(r.status).toBe("closed");
    expect(r.ms).toBeGreaterThanOrEqual(950);
    expect(r.ms).toBeLessThan(10_000);
  });

  it("answers a delayed request at once when the faults are cleared", async () => {
    expect((await setFaults("delay=700ms..750ms,types=RANDAO_REVEAL;delay=200ms")).status).toBe(200); // under requestTimeoutMs
    const pending = outcome(s.url, randao.pubkey, randao.request);
    await new Promise((r) => setTimeout(r, 100));
    expect((await setFaults("")).status).toBe(200);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.signature).toBe(randao.signature);
    expect(r.ms).toBeLessThan(600); // not the 900 ms or more the rules would have held it
  });

  it("leaves a request hanging until --request-timeout, and changes at run time", async () => {
    const changed = await setFaults("timeout=1,types=SYNC_COMMITTEE_MESSAGE");
    expect(changed.json()).toEqual({
      faults: "timeout=1,types=SYNC_COMMITTEE_MESSAGE",
      rules: [{timeout: 1, types: ["SYNC_COMMITTEE_MESSAGE"]}],
    });
    const sync = byName("web3signer: SYNC_COMMITTEE_MESSAGE");
    const [hung, other] = await Promise.all([outcome(s.url, sync.pubkey, sync.request), outcome(s.url, randao.pubkey, randao.request)]);
    expect(hung.status).toBe("closed");
    expect(hung.ms).toBeGreaterThanOrEqual(950); // requestTimeoutMs: 1000
    expect(hung.ms).toBeLessThan(10_000);
    expect(other.status).toBe(200);
    expect(await faultCount("timeout", "SYNC_COMMITTEE_MESSAGE")).toBe(1);

    const cleared = await setFaults("");
    expect(cleared.json()).toEqual({faults: "", rules: []});
    expect((await outcome(s.url, sync.pubkey, sync.request)).status).toBe(200);
    const logged = s.lines.map((l) => JSON.parse(l).msg);
    expect(logged).toContain("fault injection off");
    expect(logged.filter((m) => /fault injection changed/.test(m)).length).toBeGreaterThanOrEqual(5);
  });
});

describe("a signer without faults", () => {
  it("has no faults API without --data-dir, never consults the fault rules, counts no fault, and lets shutdown release held requests", async () => {
    // The signer under test runs this very module (dist/): a spy on it sees every decision.
    const plan = vi.spyOn(Faults.prototype, "plan");
    const s = await startTestSigner({network: "minimal", interopKeys: "1"});
    try {
      const r = await request(`${s.url}/ts3signer/v1/faults`);
      expect(r.status).toBe(404);
      expect(r.json().message).toMatch(/--data-dir/);
      for (let i = 0; i < 20; i++) expect((await sign(s.url, randao.pubkey, randao.request)).json().signature).toBe(randao.signature);
      expect(await (await fetch(s.metricsUrl)).text()).not.toMatch(/^ts3signer_faults_injected_total\{/m);
      expect(s.lines.join("\n")).not.toMatch(/fault injection/);
      expect(plan).not.toHaveBeenCalled(); // off: the sign route pays one branch and nothing more
    } finally {
      await s.close();
    }
    // The spy can see: with a rule on (one that matches nothing here), every request is planned.
    const on = await startTestSigner({network: "minimal", interopKeys: "1", faults: "error=1:500,types=DEPOSIT"});
    try {
      for (let i = 0; i < 5; i++) expect((await sign(on.url, randao.pubkey, randao.request)).status).toBe(200);
      expect(plan).toHaveBeenCalledTimes(5);
    } finally {
      await on.close();
      plan.mockRestore();
    }

    // A request hung by a fault does not hold shutdown for the request timeout (30 s here).
    const hanging = await startTestSigner({network: "minimal", interopKeys: "1", faults: "timeout=1"});
    const pending = outcome(hanging.url, randao.pubkey, randao.request);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    await hanging.close();
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect((await pending).status).toBe("closed");
  });
});

/** Sends a whole signing request on its own connection and leaves the socket open (to be destroyed). */
function sendAndHold(port: number, pubkey: string, body: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        `POST /api/v1/eth2/sign/${pubkey} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        () => resolve(socket)
      );
    });
    socket.on("error", reject);
  });
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("what a fault holds", () => {
  // A 256 KiB request: the body a fault holds while it delays the request.
  const padded = JSON.stringify({...randao.request, padding: "x".repeat(256 * 1024)});

  it("lets go of an aborted request's body and timer at once, and clearing the faults releases the rest", async () => {
    const plan = vi.spyOn(Faults.prototype, "plan");
    const s = await startTestSigner({
      network: "minimal",
      interopKeys: "1",
      faults: "delay=60s",
      requestTimeoutMs: 120_000,
      maxInFlight: 50,
    });
    try {
      const port = s.signer.port;
      const sockets = await Promise.all(Array.from({length: 40}, () => sendAndHold(port, randao.pubkey, padded)));
      await until(() => plan.mock.calls.length === 40, "40 requests planned");
      const faults = plan.mock.contexts[0] as Faults;
      expect(faults.holding).toBe(40);
      for (const socket of sockets) socket.destroy();
      // Before: all 40 (10 MiB of bodies) stayed until the 60 s timers fired, out of the in-flight count.
      await until(() => faults.holding === 0, "the aborted requests to be let go", 3000);
      // Still under the cap: new requests are held as before.
      const open = await Promise.all(Array.from({length: 3}, () => sendAndHold(port, randao.pubkey, padded)));
      await until(() => faults.holding === 3, "3 more requests held");
      for (const socket of open) socket.destroy();
      await until(() => faults.holding === 0, "those to be let go too", 3000);
    } finally {
      await s.close();
      plan.mockRestore();
    }
  });

  it("counts a request the pool still holds against --max-in-flight after its client has gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts3signer-held-"));
    const path = join(dir, "slashing.sqlite");
    const s = await startTestSigner({network: "minimal", interopKeys: "1", slashingProtection: `sqlite:${path}`, maxInFlight: 4});
    const Database = (await import("better-sqlite3")).default;
    const locker = new Database(path);
    try {
      locker.pragma("busy_timeout = 5000");
      locker.exec("BEGIN IMMEDIATE"); // the workers' transactions now wait (up to their 2 s busy timeout)
      const body = JSON.stringify(attestation.request);
      const sockets = await Promise.all(Array.from({length: 4}, () => sendAndHold(s.signer.port, attestation.pubkey, body)));
      await until(() => s.signer.pool.queueDepth === 4, "4 attestations in the pool", 1500);
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => setTimeout(r, 200)); // the server sees the connections close
      // Their bodies are still in the pool: a fifth request is over the cap. Before: signed (200).
      const over = await sign(s.url, randao.pubkey, randao.request);
      expect(over.status).toBe(503);
      expect(over.json().message).toMatch(/too many requests in flight \(limit 4\)/);
      locker.exec("ROLLBACK");
      await until(() => s.signer.pool.queueDepth === 0, "the pool to let go", 10_000);
      const after = await sign(s.url, randao.pubkey, randao.request);
      expect(after.status).toBe(200);
      expect(after.json().signature).toBe(randao.signature);
    } finally {
      if (locker.inTransaction) locker.exec("ROLLBACK");
      locker.close();
      await s.close();
      rmSync(dir, {recursive: true, force: true});
    }
  });
});

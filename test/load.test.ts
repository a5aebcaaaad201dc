import {spawn, spawnSync} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {LoadResult} from "../dist/src/load/load.js";
import {liveProgress} from "../dist/src/load/progress.js";
import {Recorder} from "../dist/src/load/recorder.js";
import {sample, startTestSigner, type TestSigner} from "./helpers/signer.js";

const cli = new URL("../dist/src/cli.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "ts3signer-load-"));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

/** Runs `ts3signer load …` without blocking this process (the signers under test live in it). */
function load(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, "load", ...args], {stdio: ["ignore", "pipe", "pipe"]});
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({code, stdout, stderr}));
  });
}

const metric = async (s: TestSigner, name: string, labels: Record<string, string> = {}) =>
  sample(await (await fetch(s.metricsUrl)).text(), name, labels);

describe("ts3signer load", () => {
  it("documents itself with --help and refuses bad flags with a message", () => {
    const help = spawnSync(process.execPath, [cli, "load", "--help"], {encoding: "utf8"});
    expect(help.status).toBe(0);
    for (const flag of [
      "--target",
      "--profile",
      "devnet",
      "--validators",
      "--slots",
      "--connections",
      "--seconds",
      "--report",
      "--json",
      "--timeout",
    ])
      expect(help.stdout).toContain(flag);
    expect(spawnSync(process.execPath, [cli, "--help"], {encoding: "utf8"}).stdout).toContain("ts3signer load");
    const bad = spawnSync(process.execPath, [cli, "load", "--profile", "chaos"], {encoding: "utf8"});
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--profile: expected sustained, burst, duty, devnet, got "chaos"/);
  });

  it("shows progress in place on a terminal and as plain lines elsewhere", () => {
    const recorder = new Recorder();
    recorder.record(performance.now(), 12, 200);
    const written = (isTTY: boolean) => {
      const out: string[] = [];
      const p = liveProgress({isTTY, write: (s: string) => out.push(s)} as never);
      for (let i = 0; i < 5; i++) p.tick(recorder);
      p.end();
      return out;
    };
    const tty = written(true);
    expect(tty).toHaveLength(6);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal escape that clears the line is what is tested
    expect(tty[0]).toMatch(/^\r\x1b\[K\s+\d+ s\s+1 requests\s+\d+\/s\s+p50 [\d.]+ ms\s+p99 [\d.]+ ms\s+errors 0$/);
    expect(tty[5]).toBe("\n");
    const plain = written(false);
    expect(plain).toHaveLength(1);
    expect(plain[0]).toMatch(/^\s+\d+ s\s+1 requests.*errors 0\n$/);
  });

  it("keeps a timeline per second whose last, shorter second is measured by its own length", () => {
    const r = new Recorder();
    for (let i = 0; i < 100; i++) r.record(r.startMs + 5 + i * 9, 2, 200); // 100 in the first second
    for (let i = 0; i < 10; i++) r.record(r.startMs + 1001 + i * 10, 2, i < 9 ? 200 : 503); // 10 in 0.1 s
    const [first, last] = r.timeline();
    expect([first.requests, first.spanSeconds]).toEqual([100, 1]);
    expect(last.requests).toBe(10);
    expect(last.spanSeconds).toBeCloseTo(0.091, 5); // the run's last answer came 1.091 s in
    expect(last.outcomes).toEqual({200: 9, 503: 1});
  });

  describe("against signers with and without faults", () => {
    let clean: TestSigner;
    let faulty: TestSigner;
    beforeAll(async () => {
      [clean, faulty] = await Promise.all([
        startTestSigner({network: "mainnet", interopKeys: "64"}),
        startTestSigner({network: "mainnet", interopKeys: "64", faults: "error=0.2:503,drop=0.1,timeout=0.02"}),
      ]);
    });
    afterAll(() => Promise.all([clean.close(), faulty.close()]));

    it("devnet: replays 64 validators' duties slot by slot, every one signed on time by a signer without faults", async () => {
      const json = join(dir, "devnet.json");
      const run = await load([
        "--target",
        clean.url,
        "--profile",
        "devnet",
        "--slots",
        "2",
        "--slot-seconds",
        "3",
        "--connections",
        "16",
        "--json",
        json,
        "--report",
        join(dir, "devnet.html"),
      ]);
      expect(run.code, run.stderr).toBe(0);
      const r: LoadResult = JSON.parse(readFileSync(json, "utf8"));
      // Per slot: 1 proposer; 64/32 = 2 attesters, both aggregators; 64 sync members in 4
      // subcommittees of 16, all contributors (16 aggregators per subcommittee).
      const expected: Record<string, number> = {
        "RANDAO reveal": 2,
        "block (after its RANDAO reveal)": 2,
        attestation: 4,
        "sync committee message": 128,
        "aggregation selection proof": 4,
        "aggregate and proof (after its selection proof)": 4,
        "sync selection proof": 128,
        "sync contribution (after its selection proof)": 128,
      };
      expect(Object.fromEntries(r.duties!.map((d) => [d.duty, d.total]))).toEqual(expected);
      for (const d of r.duties!) expect({duty: d.duty, onTime: d.onTime}).toEqual({duty: d.duty, onTime: d.total});
      expect(r.requests).toBe(400);
      expect(r.outcomes).toEqual({200: 400});
      // Paced slot by slot in real time: 3 slots of 2 s (timers may fire a millisecond early).
      expect(r.seconds).toBeGreaterThan(5.95);
      expect(run.stdout).toMatch(/devnet: 400 requests/);
      // The signer saw exactly that: 400 signatures, one shared attestation root per slot.
      const signed = (await (await fetch(clean.metricsUrl)).text()).match(/^ts3signer_signatures_total\{[^}]*\} \d+$/gm)!;
      expect(signed.reduce((n, line) => n + Number(line.split(" ")[1]), 0)).toBe(400);
      expect(await metric(clean, "ts3signer_signatures_total", {type: "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF"})).toBe(128);
    });

    it("sustained: keeps the load up through injected errors, drops and hangs, and counts them as the signer does", async () => {
      const json = join(dir, "faults.json");
      const run = await load([
        "--target",
        faulty.url,
        "--seconds",
        "2",
        "--connections",
        "16",
        "--timeout",
        "0.5",
        "--json",
        json,
        "--report",
        join(dir, "faults.html"),
      ]);
      expect(run.code, run.stderr).toBe(0);
      const r: LoadResult = JSON.parse(readFileSync(json, "utf8"));
      const o = r.outcomes!;
      expect(r.requests).toBeGreaterThan(500);
      expect(o[200] + o[503] + o.closed + o.timeout).toBe(r.requests);
      expect(o[503] / r.requests).toBeGreaterThan(0.2 - 0.07);
      expect(o[503] / r.requests).toBeLessThan(0.2 + 0.07);
      expect(o.closed / r.requests).toBeGreaterThan(0.1 - 0.05);
      expect(o.closed / r.requests).toBeLessThan(0.1 + 0.05);
      expect(o.timeout).toBeGreaterThan(0);
      expect(r.errors).toBe(r.requests - o[200]);
      // Each outcome as the signer counted its faults.
      const injected = (kind: string) => metric(faulty, "ts3signer_faults_injected_total", {kind, type: "ATTESTATION"});
      expect(await injected("error")).toBe(o[503]);
      expect(await injected("drop")).toBe(o.closed);
      expect(await injected("timeout")).toBe(o.timeout);
      expect(r.timeline!.reduce((n, p) => n + p.requests, 0)).toBe(r.requests);
    });

    const chromium = ["chromium", "chromium-browser", "google-chrome"].find((b) => !spawnSync(b, ["--version"], {stdio: "ignore"}).error);
    if (!chromium) console.warn("no chromium on this machine: the report is not checked in a browser (Debian: apt-get install chromium)");

    it.skipIf(!chromium)("writes reports that a browser renders: every chart drawn, no console error", async () => {
      const reports = ["devnet.html", "faults.html"].map((f) => readFileSync(join(dir, f), "utf8"));
      for (const html of reports) {
        expect(html).not.toMatch(/<script|\b(src|href)=/i); // self-contained: nothing runs, nothing is fetched
      }
      // Both reports on one page, with a probe that measures every chart once the page has loaded.
      const probe = `<script>
const errors = [];
addEventListener("error", (e) => errors.push(String(e.message)));
addEventListener("load", () => {
  const charts = [...document.querySelectorAll("svg")].map((svg) => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll("rect, polyline, circle")].filter((m) => { const b = m.getBBox(); return b.width > 0 && b.height > 0; }).length;
    return {title: svg.getAttribute("aria-label"), width: box.width, height: box.height, marks};
  });
  const out = document.createElement("pre");
  out.id = "render-check";
  out.textContent = JSON.stringify({charts, errors});
  document.body.append(out);
});
</script>`;
      const body = (html: string) => html.slice(html.indexOf("<body>") + 6, html.indexOf("</body>"));
      const page = join(dir, "both.html");
      writeFileSync(page, reports[0].replace("</body>", `${body(reports[1])}${probe}</body>`));
      const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"];
      const dom = spawnSync(chromium!, [...flags, "--dump-dom", `file://${page}`], {encoding: "utf8", timeout: 60_000});
      const check = JSON.parse(
        /<pre id="render-check">(.*?)<\/pre>/s
          .exec(dom.stdout)![1]
          .replace(/&quot;/g, '"')
          .replace(/&amp;/g, "&")
      );
      expect(check.errors).toEqual([]);
      expect(dom.stderr).not.toMatch(/:CONSOLE/);
      expect(check.charts.map((c: {title: string}) => c.title)).toEqual([
        "Throughput",
        "Latency percentiles",
        "Outcomes",
        "Duties against their deadlines",
        "Throughput",
        "Latency percentiles",
        "Outcomes",
      ]);
      for (const c of check.charts) {
        expect(c.width).toBeGreaterThan(300);
        expect(c.height).toBeGreaterThan(100);
        expect(c.marks).toBeGreaterThan(2);
      }
      // A screenshot to look at (kept in the temp folder until the test ends, never committed).
      const png = join(dir, "report.png");
      spawnSync(chromium!, [...flags, "--window-size=1100,1800", `--screenshot=${png}`, `file://${join(dir, "faults.html")}`], {
        timeout: 60_000,
      });
      expect(readFileSync(png).subarray(1, 4).toString()).toBe("PNG");
      expect(statSync(png).size).toBeGreaterThan(20_000); // a blank page is a few KB
    });
  });
});

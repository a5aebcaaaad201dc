import {spawn, spawnSync} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {createServer} from "node:net";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {parse as parseYaml, stringify as stringifyYaml} from "yaml";
import {sign, startTestSigner, type TestSigner, vectorsPath} from "./helpers/signer.js";

// Runs only where Debian's `prometheus` package is installed (apt-get install prometheus); the
// static checks of the same files are in deploy.test.ts.
const hasPrometheus = spawnSync("prometheus", ["--version"]).status === 0;
const dashboard = JSON.parse(readFileSync(new URL("../grafana/dashboards/ts3signer.json", import.meta.url), "utf8"));

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const {port} = srv.address() as {port: number};
      srv.close(() => resolve(port));
    });
  });

describe.runIf(hasPrometheus)("a real Prometheus scraping a live signer", () => {
  let s: TestSigner;
  let prometheus: ReturnType<typeof spawn>;
  let api: string;
  let dir: string;
  /** Prometheus's instant-query answer: each series' value is [time, "number"]. */
  type QueryAnswer = {status: string; data: {result: {value: [number, string]}[]}};
  const query = async (expr: string) =>
    (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`)).json() as Promise<QueryAnswer>;

  beforeAll(async () => {
    s = await startTestSigner({network: "minimal", interopKeys: "4"});
    const vector = JSON.parse(readFileSync(vectorsPath, "utf8"))[6];
    for (let i = 0; i < 5; i++) await sign(s.url, vector.pubkey, vector.request);
    dir = mkdtempSync(join(tmpdir(), "ts3signer-prometheus-"));
    // The compose file's signer scrape job, pointed at this signer's metrics port: it finds signers
    // by their compose service names, which resolve only inside compose.
    const config = parseYaml(readFileSync(new URL("../grafana/prometheus.yml", import.meta.url), "utf8"));
    config.global.scrape_interval = "1s";
    const job = config.scrape_configs.find((j: {job_name: string}) => j.job_name === "ts3signer");
    delete job.dns_sd_configs;
    delete job.relabel_configs; // it names the instance after the DNS name
    job.static_configs = [{targets: [`127.0.0.1:${s.signer.metricsPort}`], labels: {instance: "signer"}}];
    config.scrape_configs = [job];
    writeFileSync(join(dir, "prometheus.yml"), stringifyYaml(config));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      {stdio: "ignore"}
    );
    for (let i = 0; i < 200; i++) {
      try {
        const r = await query("ts3signer_keys_loaded");
        if (r.data?.result?.length) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("Prometheus never scraped the signer");
  });
  afterAll(async () => {
    prometheus?.kill();
    await s?.close();
    if (dir) rmSync(dir, {recursive: true, force: true});
  });

  it("accepts the compose file's Prometheus config (promtool)", () => {
    const out = spawnSync("promtool", ["check", "config", new URL("../grafana/prometheus.yml", import.meta.url).pathname], {
      encoding: "utf8",
    });
    expect(out.status, out.stdout + out.stderr).toBe(0);
  });

  it("scrapes the signer's metrics", async () => {
    expect((await query("ts3signer_keys_loaded")).data.result[0].value[1]).toBe("4");
    const signed = await query('sum(ts3signer_signatures_total{type="ATTESTATION"})');
    expect(Number(signed.data.result[0].value[1])).toBe(5);
  });

  it("evaluates every dashboard query, with its Replica selector on the live signer", async () => {
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const expr = target.expr.replaceAll("$instance", "signer");
        const r = await query(expr);
        expect(r.status, `${panel.title}: ${expr}: ${JSON.stringify(r)}`).toBe("success");
      }
    }
    const selected = await query('sum(ts3signer_signatures_total{type="ATTESTATION", instance=~"signer"})');
    expect(Number(selected.data.result[0].value[1])).toBe(5);
  });
});

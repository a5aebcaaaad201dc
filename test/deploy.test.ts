import {existsSync, readFileSync} from "node:fs";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {parse as parseYaml} from "yaml";
import {configFromArgs} from "../src/config/args.js";
import {sign, startTestSigner, type TestSigner, vectorsPath} from "./helpers/signer.js";

const file = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");
const compose = parseYaml(file("docker-compose.yml"));
const prometheus = parseYaml(file("grafana/prometheus.yml"));
const dashboard = JSON.parse(file("grafana/dashboards/ts3signer.json"));
const exprs: string[] = dashboard.panels.flatMap((p: {targets: {expr: string}[]}) => p.targets.map((t) => t.expr));

const parseCommand = (args: string[]) => {
  const parsed = configFromArgs(args);
  if (parsed === "help") throw new Error("unexpected --help");
  return parsed.config;
};
const inProfile = (profile: string | undefined) =>
  Object.keys(compose.services)
    .filter((name) => compose.services[name].profiles?.[0] === profile)
    .sort();

describe("docker compose: signer + Prometheus + Grafana", () => {
  it("runs the three services, and the replicas with --profile scale", () => {
    expect(inProfile(undefined)).toEqual(["grafana", "prometheus", "signer"]);
    expect(inProfile("scale")).toEqual(["haproxy", "postgres", "signer1", "signer2", "signer3"]);
    expect(compose.services.signer.build).toBe(".");
  });

  it("starts the signer with flags the CLI accepts, listening beyond the container", () => {
    expect(parseCommand(compose.services.signer.command)).toMatchObject({
      host: "0.0.0.0",
      metricsHost: "0.0.0.0",
      port: 9000,
      metricsPort: 9001,
    });
    expect(compose.services.signer.ports).toEqual(["127.0.0.1:9000:9000", "127.0.0.1:9001:9001"]);
  });

  it("has Prometheus scrape every signer's metrics port, and HAProxy's exporter", () => {
    const [signers, haproxy] = prometheus.scrape_configs;
    expect(signers.metrics_path).toBe("/metrics");
    expect(signers.dns_sd_configs[0].names).toEqual(["signer", ...inProfile("scale").filter((n) => n.startsWith("signer"))]);
    for (const name of signers.dns_sd_configs[0].names)
      expect(signers.dns_sd_configs[0].port).toBe(parseCommand(compose.services[name].command).metricsPort);
    expect(haproxy.dns_sd_configs[0]).toMatchObject({names: ["haproxy"], port: 8405});
    expect(compose.services.prometheus.volumes).toContain("./grafana/prometheus.yml:/etc/prometheus/prometheus.yml:ro");
  });

  it("runs the replicas on one data dir and one PostgreSQL, behind HAProxy with the shipped config", () => {
    const replicas = inProfile("scale").filter((n) => n.startsWith("signer"));
    for (const name of replicas) {
      const config = parseCommand(compose.services[name].command);
      expect(config).toMatchObject({host: "0.0.0.0", port: 9000, dataDir: "/data"});
      expect(new URL(config.slashingProtection!).hostname).toBe("postgres");
      expect(compose.services[name].volumes).toEqual(["signer-data:/data"]);
    }
    expect(compose.services.haproxy.volumes).toEqual(["./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"]);
    const servers = [...file("deploy/haproxy.cfg").matchAll(/^\s*server (\S+) "\$\{\w+-([^}]+)\}"/gm)].map((m) => [m[1], m[2]]);
    expect(servers).toEqual(replicas.map((name) => [name, `${name}:9000`]));
  });

  it("mounts Grafana provisioning that points at the dashboard and the Prometheus service", () => {
    const mounts = compose.services.grafana.volumes.map((v: string) => v.split(":"));
    for (const [host] of mounts) expect(existsSync(new URL(`../${host}`, import.meta.url))).toBe(true);
    const dashboardsDir = mounts.find(([host]: string[]) => host === "./grafana/dashboards")[1];
    const provider = parseYaml(file("grafana/provisioning/dashboards/ts3signer.yml")).providers[0];
    expect(provider.options.path).toBe(dashboardsDir);
    const [datasource] = parseYaml(file("grafana/provisioning/datasources/prometheus.yml")).datasources;
    expect(datasource.url).toBe("http://prometheus:9090");
    for (const panel of dashboard.panels) expect(panel.datasource.uid).toBe(datasource.uid);
  });

  it("builds the CLI the image starts", () => {
    const dockerfile = file("Dockerfile");
    // The image starts the file package.json names as the CLI, which the TypeScript build emits.
    const bin = JSON.parse(file("package.json")).bin.ts3signer;
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "${bin}"]`);
    expect(existsSync(new URL(`../${bin.replace(/^dist\//, "").replace(/\.js$/, ".ts")}`, import.meta.url))).toBe(true);
  });

  it("ships every build of the signing addon, so the image picks the one the CPU it runs on can run", () => {
    const targets = [...file("native/fastsign/binding.gyp").matchAll(/"target_name": "(\w+)"/g)].map((m) => m[1]);
    expect(targets.sort()).toEqual(["fastsign", "fastsign_adx"]);
    const copied = [...file("Dockerfile").matchAll(/^COPY --from=build \/app\/native\/fastsign\/build\/Release\/(\S+) /gm)].map(
      (m) => m[1]
    );
    const glob = (pattern: string) => new RegExp(`^${pattern.replace(/\./g, "\\.").replace(/\*/g, "[^/]*")}$`);
    for (const target of targets)
      expect(
        copied.some((pattern) => glob(pattern).test(`${target}.node`)),
        target
      ).toBe(true);
  });
});

describe("Grafana dashboard", () => {
  let s: TestSigner;
  let metricsText: string;
  beforeAll(async () => {
    s = await startTestSigner({network: "minimal", interopKeys: "1"});
    const vector = JSON.parse(readFileSync(vectorsPath, "utf8"))[6];
    await sign(s.url, vector.pubkey, vector.request);
    metricsText = await (await fetch(s.metricsUrl)).text();
  });
  afterAll(() => s.close());

  it("has the panels operators look for", () => {
    const titles = dashboard.panels.map((p: {title: string}) => p.title).join("\n");
    for (const t of [
      /by type/,
      /by status/,
      /latency p50 \/ p99/i,
      /Keys loaded/,
      /queue depth/i,
      /workers/i,
      /CPU/,
      /Memory/,
      /Event-loop lag/,
      /Signing engine/,
      /H\(root\) cache hits/,
    ]) {
      expect(titles).toMatch(t);
    }
  });

  it("sums over the replicas picked by its instance selector", () => {
    expect(dashboard.templating.list.map((v: {name: string}) => v.name)).toEqual(["instance"]);
    for (const expr of exprs) expect(expr).toContain('instance=~"$instance"');
  });

  it("queries only metrics a live signer exports", () => {
    const names = new Set(exprs.flatMap((e) => e.match(/\b(?:ts3signer|process|nodejs)_[a-z0-9_]+/g) ?? []));
    expect(names.size).toBeGreaterThan(10);
    const exported = new Set(
      metricsText
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => l.split(/[{ ]/)[0])
    );
    for (const name of names) expect(exported, name).toContain(name);
  });
});

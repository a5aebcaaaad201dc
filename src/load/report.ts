/**
 * A load run as one self-contained HTML page: throughput, latency percentiles and the mix of
 * outcomes over time, per-duty deadlines (devnet), and the run's parameters. The charts are SVG
 * drawn here (svg.ts): the page runs no script and loads nothing.
 */
import type {LoadResult} from "./load.js";
import {escapeXml, horizontalBars, lineChart, type Series, stackedBars} from "./svg.js";

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", {maximumFractionDigits: digits, minimumFractionDigits: digits});

/** Green for signed, amber for 4xx, reds for 5xx, greys for no answer. */
function outcomeColor(outcome: string, i: number): string {
  if (outcome === "200") return "#2e7d32";
  if (outcome === "closed") return "#6d4c41";
  if (outcome === "timeout") return "#455a64";
  const shades = outcome.startsWith("4") ? ["#f9a825", "#ef6c00", "#ffca28"] : ["#c62828", "#ad1457", "#e53935"];
  return shades[i % shades.length];
}

const outcomeName = (o: string) => (o === "closed" ? "closed, no answer" : o === "timeout" ? "client timeout" : `HTTP ${o}`);

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`).join("")}</table>`;
}

function section(r: LoadResult): string {
  const parts: string[] = [`<section><h2>${escapeXml(r.profile)}</h2><div class="cols">`];
  parts.push(
    table([
      ["requests", fmt(r.requests)],
      ["duration", `${fmt(r.seconds, 2)} s`],
      ["throughput", `${fmt(r.requestsPerSecond)} requests/s`],
      ["latency p50 / p99 / max", `${fmt(r.latencyMs.p50, 1)} / ${fmt(r.latencyMs.p99, 1)} / ${fmt(r.latencyMs.max, 1)} ms`],
      ["errors", fmt(r.errors)],
      ...(r.outcomes
        ? ([
            [
              "outcomes",
              Object.entries(r.outcomes)
                .map(([k, n]) => `${outcomeName(k)}: ${fmt(n)}`)
                .join(", "),
            ],
          ] as [string, string][])
        : []),
      ["load generator CPU", `${fmt(r.generatorCores, 2)} cores`],
      ...r.errorSamples.map((e, i) => [i ? "" : "error samples", e] as [string, string]),
    ])
  );
  if (r.parameters) parts.push(table(Object.entries(r.parameters).map(([k, v]) => [k, String(v)])));
  parts.push("</div>");

  const timeline = r.timeline ?? [];
  if (timeline.length) {
    parts.push(
      lineChart("Throughput", "requests / s", [
        {name: "answered or failed", color: "#1565c0", values: timeline.map((p) => p.requests / p.spanSeconds)},
      ])
    );
    parts.push(
      lineChart("Latency percentiles", "ms", [
        {name: "p50", color: "#1565c0", values: timeline.map((p) => p.p50Ms)},
        {name: "p99", color: "#c62828", values: timeline.map((p) => p.p99Ms)},
        {name: "max", color: "#9e9e9e", values: timeline.map((p) => p.maxMs)},
      ])
    );
    const outcomes = [...new Set(timeline.flatMap((p) => Object.keys(p.outcomes)))].sort();
    const mix: Series[] = outcomes.map((o, i) => ({
      name: outcomeName(o),
      color: outcomeColor(o, i),
      values: timeline.map((p) => (p.outcomes[o] ?? 0) / p.spanSeconds),
    }));
    parts.push(stackedBars("Outcomes", "requests / s", mix));
  } else {
    parts.push(`<p class="note">No timeline for this run (sent by an external generator).</p>`);
  }

  if (r.duties?.length) {
    parts.push(
      horizontalBars(
        "Duties against their deadlines",
        r.duties.map((d) => ({
          label: d.duty.replace(/ \(.*\)$/, ""),
          parts: [
            {name: "on time", color: "#2e7d32", value: d.onTime},
            {name: "late", color: "#f9a825", value: d.late},
            {name: "failed", color: "#c62828", value: d.failed},
          ],
        }))
      )
    );
    const slots = Math.max(1, ...r.duties.flatMap((d) => d.missesBySlot.map((m) => m.slot + 1)), Number(r.parameters?.slots ?? 0));
    const palette = ["#c62828", "#ef6c00", "#6a1b9a", "#1565c0", "#00838f", "#558b2f", "#6d4c41", "#ad1457"];
    const missed: Series[] = r.duties.map((d, i) => ({
      name: d.duty.replace(/ \(.*\)$/, ""),
      color: palette[i % palette.length],
      values: Array.from({length: slots}, (_, s) => d.missesBySlot.find((m) => m.slot === s)?.missed ?? 0),
    }));
    parts.push(
      missed.some((s) => s.values.some(Boolean))
        ? stackedBars("Deadline misses per slot", "duties missed", missed, "slot of the run")
        : `<p class="ok">Every duty met its deadline.</p>`
    );
    parts.push(
      `<table class="duties"><tr><th>duty</th><th>sent at</th><th>due at</th><th>total</th><th>on time</th><th>late</th><th>failed</th></tr>${r.duties
        .map(
          (d) =>
            `<tr><td>${escapeXml(d.duty)}</td><td>${fmt(d.sentAtSlotFraction * 100)}% slot</td><td>${fmt(d.dueAtSlotFraction * 100)}% slot</td><td>${fmt(d.total)}</td><td>${fmt(d.onTime)}</td><td>${fmt(d.late)}</td><td>${fmt(d.failed)}</td></tr>`
        )
        .join("")}</table>`
    );
  }
  parts.push("</section>");
  return parts.join("\n");
}

export function renderReport(title: string, results: LoadResult[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#212121;max-width:1100px}
h1{font-size:20px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 16px 8px 0;vertical-align:top}th,td{text-align:left;padding:2px 10px 2px 0}th{color:#616161;font-weight:500}
.duties th,.duties td{border-bottom:1px solid #eee}.cols{display:flex;flex-wrap:wrap}
svg{display:block;margin:12px 0}svg text{font:11px system-ui,sans-serif;fill:#424242}svg .title{font-size:13px;font-weight:600}
svg .grid{stroke:#eee}svg .axis{stroke:#9e9e9e}.note{color:#757575}.ok{color:#2e7d32}
</style></head>
<body><h1>${escapeXml(title)}</h1>
${results.map(section).join("\n")}
</body></html>
`;
}

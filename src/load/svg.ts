/**
 * Small SVG charts drawn as strings, so a report is one file that needs no script and no network.
 * Every mark carries a <title>, which browsers show on hover.
 */
export type Series = {name: string; color: string; values: number[]};

const W = 760;
const PLOT_H = 172;
const M = {left: 64, right: 16, bottom: 40};
const plotW = W - M.left - M.right;

export const escapeXml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;"})[c]!);
const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const label = (n: number) => (n >= 10_000 ? `${num(n / 1000)}k` : n >= 100 ? String(Math.round(n)) : num(Math.round(n * 10) / 10));

/** A round axis maximum at or above `max`, and its tick step (1, 2 or 5 × 10^k, at least `minStep`). */
function niceScale(max: number, ticks = 5, minStep = 0): {top: number; step: number} {
  if (!(max > 0)) return {top: 1, step: Math.max(minStep, 0.2)};
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(minStep, [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!);
  return {top: Math.ceil(max / step) * step, step};
}

/** The title, then the legend in as many rows as it needs; returns the SVG and the height used. */
function header(title: string, keys: {name: string; color: string}[], x0: number): {svg: string; height: number} {
  const out = [`<text x="${x0}" y="16" class="title">${escapeXml(title)}</text>`];
  let x = x0;
  let y = 24;
  for (const k of keys) {
    const w = 24 + k.name.length * 6.4;
    if (x + w > W - M.right) {
      x = x0;
      y += 16;
    }
    out.push(
      `<rect x="${x}" y="${y}" width="10" height="10" fill="${k.color}"/><text x="${x + 14}" y="${y + 9}">${escapeXml(k.name)}</text>`
    );
    x += w;
  }
  return {svg: out.join(""), height: keys.length ? y + 22 : 28};
}

/**
 * Axes, grid and labels around a plot of `xCount` slots (seconds, slots) whose marks `draw` makes
 * from the plot's top edge and a value → y mapping.
 */
function frame(
  title: string,
  yUnit: string,
  xCount: number,
  yMax: number,
  xName: string,
  legend: Series[],
  draw: (y: (v: number) => number, top: number) => string
): string {
  const head = header(title, legend, M.left);
  const top = head.height;
  const height = top + PLOT_H + M.bottom;
  const {top: yTop, step} = niceScale(yMax);
  const y = (v: number) => top + PLOT_H - (v / yTop) * PLOT_H;
  const grid: string[] = [];
  for (let v = 0; v <= yTop + step / 2; v += step) {
    grid.push(
      `<line x1="${M.left}" x2="${M.left + plotW}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${label(v)}</text>`
    );
  }
  const xStep = niceScale(xCount, 8, 1).step;
  for (let x = 0; x <= xCount; x += xStep) {
    const px = M.left + (x / Math.max(1, xCount)) * plotW;
    grid.push(`<text x="${px}" y="${top + PLOT_H + 16}" text-anchor="middle">${x}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${escapeXml(title)}">
${head.svg}
${grid.join("")}
<text x="14" y="${top + PLOT_H / 2}" transform="rotate(-90 14 ${top + PLOT_H / 2})" text-anchor="middle">${escapeXml(yUnit)}</text>
<text x="${M.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(xName)}</text>
${draw(y, top)}
<line x1="${M.left}" x2="${M.left}" y1="${top}" y2="${top + PLOT_H}" class="axis"/><line x1="${M.left}" x2="${M.left + plotW}" y1="${top + PLOT_H}" y2="${top + PLOT_H}" class="axis"/>
</svg>`;
}

/** Lines over x = 0, 1, 2, … (a point in the middle of each second of the run). */
export function lineChart(title: string, yUnit: string, series: Series[], xName = "seconds into the run"): string {
  const n = Math.max(...series.map((s) => s.values.length), 1);
  const x = (i: number) => M.left + ((i + 0.5) / n) * plotW;
  return frame(title, yUnit, n, Math.max(0, ...series.flatMap((s) => s.values)), xName, series, (y) =>
    series
      .map((s) => {
        const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
        const dots = s.values
          .map(
            (v, i) =>
              `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${s.color}"><title>${escapeXml(s.name)} at ${i} s: ${num(v)} ${escapeXml(yUnit)}</title></circle>`
          )
          .join("");
        return `<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots}`;
      })
      .join("\n")
  );
}

/** Bars stacked per x: each series a layer. */
export function stackedBars(title: string, yUnit: string, series: Series[], xName = "seconds into the run"): string {
  const n = Math.max(...series.map((s) => s.values.length), 1);
  const totals = Array.from({length: n}, (_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const bw = plotW / n;
  return frame(title, yUnit, n, Math.max(0, ...totals), xName, series, (y) => {
    const bars: string[] = [];
    for (let i = 0; i < n; i++) {
      let base = 0;
      for (const s of series) {
        const v = s.values[i] ?? 0;
        if (!v) continue;
        const yTop = y(base + v);
        bars.push(
          `<rect x="${(M.left + i * bw + bw * 0.1).toFixed(1)}" y="${yTop.toFixed(1)}" width="${Math.max(0.5, bw * 0.8).toFixed(1)}" height="${Math.max(0.5, y(base) - yTop).toFixed(1)}" fill="${s.color}"><title>${escapeXml(s.name)} at ${i}: ${num(v)}</title></rect>`
        );
        base += v;
      }
    }
    return bars.join("\n");
  });
}

/** One horizontal bar per row, split into parts (e.g. on time, late, failed). */
export function horizontalBars(title: string, rows: {label: string; parts: {name: string; color: string; value: number}[]}[]): string {
  const rowH = 26;
  const left = 220;
  const width = W - left - M.right - 48;
  const head = header(title, rows[0]?.parts ?? [], 8);
  const height = head.height + rows.length * rowH + 8;
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((a, p) => a + p.value, 0)));
  const out = [head.svg];
  rows.forEach((r, i) => {
    const y = head.height + i * rowH;
    out.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escapeXml(r.label)}</text>`);
    let x = left;
    for (const p of r.parts) {
      if (!p.value) continue;
      const w = (p.value / max) * width;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${Math.max(1, w).toFixed(1)}" height="${rowH - 8}" fill="${p.color}"><title>${escapeXml(r.label)}: ${p.value} ${escapeXml(p.name)}</title></rect>`
      );
      x += w;
    }
    const total = r.parts.reduce((a, p) => a + p.value, 0);
    out.push(`<text x="${(x + 4).toFixed(1)}" y="${y + 15}">${total}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${escapeXml(title)}">${out.join("\n")}</svg>`;
}

/**
 * What a load run saw, request by request, kept per second of the run: how many were answered,
 * their latencies, and the mix of outcomes. The progress line, the summary, the JSON and the HTML
 * report all read from here.
 */

/** An HTTP status, or no answer: the server closed the connection, or the client gave up. */
export type Outcome = number | "closed" | "timeout";

/**
 * One second of the run. Latencies are of answered requests only. `spanSeconds` is how much of the
 * second the run lasted (less than 1 for the last one): rates are counts divided by it.
 */
export type TimelinePoint = {
  second: number;
  spanSeconds: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  outcomes: Record<string, number>;
};

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

type Second = {requests: number; latencies: number[]; outcomes: Record<string, number>};

export class Recorder {
  readonly startMs = performance.now();
  private readonly seconds: Second[] = [];
  requests = 0;
  errors = 0;
  private lastDoneMs = this.startMs;
  readonly errorSamples: string[] = [];

  /** One request done at `doneMs` (performance.now()), `latencyMs` after it was sent. */
  record(doneMs: number, latencyMs: number, outcome: Outcome, detail?: string): void {
    const s = Math.max(0, Math.floor((doneMs - this.startMs) / 1000));
    while (this.seconds.length <= s) this.seconds.push({requests: 0, latencies: [], outcomes: {}});
    const second = this.seconds[s];
    this.lastDoneMs = Math.max(this.lastDoneMs, doneMs);
    second.requests++;
    second.outcomes[outcome] = (second.outcomes[outcome] ?? 0) + 1;
    this.requests++;
    if (typeof outcome === "number") second.latencies.push(latencyMs);
    if (outcome !== 200) {
      this.errors++;
      const sample = `${outcome}${detail ? ` ${detail.slice(0, 200)}` : ""}`;
      if (this.errorSamples.length < 5 && !this.errorSamples.includes(sample)) this.errorSamples.push(sample);
    }
  }

  /** The last full second: for a live progress line. */
  lastSecond(): {requests: number; p50Ms: number; p99Ms: number} {
    const s = Math.floor((performance.now() - this.startMs) / 1000) - 1;
    const second = this.seconds[s];
    if (!second) return {requests: 0, p50Ms: 0, p99Ms: 0};
    const sorted = Float64Array.from(second.latencies).sort();
    return {requests: second.requests, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99)};
  }

  /** Latencies of every answered request, sorted. */
  allLatencies(): Float64Array {
    const all = new Float64Array(this.seconds.reduce((n, s) => n + s.latencies.length, 0));
    let i = 0;
    for (const s of this.seconds) for (const l of s.latencies) all[i++] = l;
    return all.sort();
  }

  /** Outcomes over the whole run: {"200": 9990, "503": 10, …}. */
  outcomes(): Record<string, number> {
    const total: Record<string, number> = {};
    for (const s of this.seconds) for (const [k, n] of Object.entries(s.outcomes)) total[k] = (total[k] ?? 0) + n;
    return total;
  }

  timeline(): TimelinePoint[] {
    const runSeconds = (this.lastDoneMs - this.startMs) / 1000;
    return this.seconds.map((s, second) => {
      const sorted = Float64Array.from(s.latencies).sort();
      return {
        second,
        // A last second cut short would otherwise show as a drop in the rate (floor: 50 ms).
        spanSeconds: Math.max(0.05, Math.min(1, runSeconds - second)),
        requests: s.requests,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted[sorted.length - 1] ?? 0,
        outcomes: s.outcomes,
      };
    });
  }
}

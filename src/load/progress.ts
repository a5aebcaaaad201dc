import type {Recorder} from "./recorder.js";

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", {maximumFractionDigits: digits, minimumFractionDigits: digits});

/** One status line: how far the run is, the last second's rate and latencies, errors so far. */
export function progressText(r: Recorder): string {
  const last = r.lastSecond();
  const elapsed = (performance.now() - r.startMs) / 1000;
  return `${fmt(elapsed, 0).padStart(4)} s  ${fmt(r.requests).padStart(9)} requests  ${fmt(last.requests).padStart(6)}/s  p50 ${fmt(last.p50Ms, 1)} ms  p99 ${fmt(last.p99Ms, 1)} ms  errors ${fmt(r.errors)}`;
}

/**
 * Live progress: on a terminal one line rewritten in place every second; otherwise (a log, a CI
 * job) a plain line every 5 seconds.
 */
export function liveProgress(out: NodeJS.WriteStream = process.stderr) {
  let ticks = 0;
  let drawn = false;
  return {
    tick(r: Recorder): void {
      if (out.isTTY) {
        out.write(`\r\x1b[K${progressText(r)}`);
        drawn = true;
      } else if (++ticks % 5 === 0) {
        out.write(`${progressText(r)}\n`);
      }
    },
    /** Ends the line in place, so what follows starts on a fresh one. */
    end(): void {
      if (drawn) out.write("\n");
      drawn = false;
    },
  };
}

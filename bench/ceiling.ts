import {Worker} from "node:worker_threads";

export type Ceiling = {
  threads: number;
  /** Signatures per second, all threads signing at once. */
  signaturesPerSecond: number;
  /** Signatures per CPU-second in that run: what one fully used core buys. */
  signaturesPerCpuSecond: number;
};

/**
 * The raw blst rate with `threads` threads signing at once, measured now, on this machine. Two
 * threads on two cores reach well under 2× one thread (PERF-NOTES.md), so this, not cores × the
 * single-thread rate, is the ceiling a server is compared with.
 */
export async function measureCeiling(threads: number, seconds: number): Promise<Ceiling> {
  const cpuBefore = process.cpuUsage();
  const startMs = performance.now();
  const counts = await Promise.all(
    Array.from({length: threads}, () => {
      const worker = new Worker(new URL("./rawSignWorker.js", import.meta.url), {workerData: {seconds}});
      return new Promise<number>((resolve, reject) => {
        worker.once("message", (n: number) => {
          resolve(n);
          void worker.terminate();
        });
        worker.once("error", reject);
      });
    })
  );
  const wallSeconds = (performance.now() - startMs) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    threads,
    signaturesPerSecond: total / wallSeconds,
    signaturesPerCpuSecond: total / ((cpu.user + cpu.system) / 1e6),
  };
}

import {readFileSync} from "node:fs";

const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

/** CPU seconds (user + system) from a /proc …/stat file: a whole process, or one thread of it. */
function cpuFromStat(path: string): number {
  const fields = readFileSync(path, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds a process has used so far, all threads. */
export const processCpuSeconds = (pid: number) => cpuFromStat(`/proc/${pid}/stat`);

/** CPU seconds a process's main thread has used so far (in the signer: the HTTP thread). */
export const mainThreadCpuSeconds = (pid: number) => cpuFromStat(`/proc/${pid}/task/${pid}/stat`);

/** Idle CPU seconds of the whole machine so far, all cores. */
export function machineIdleSeconds(): number {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  return (Number(cpu[4]) + Number(cpu[5])) / CLOCK_TICKS_PER_SECOND; // idle + iowait
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

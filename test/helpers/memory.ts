import {closeSync, openSync, readFileSync, readSync} from "node:fs";

/**
 * How many times `needle` occurs in the memory of process `pid` (every readable mapping, read
 * through /proc/PID/mem; needs the right to trace it, which a parent has over its child).
 */
export function countInMemory(pid: number, needle: Uint8Array): number {
  const maps = readFileSync(`/proc/${pid}/maps`, "utf8").trim().split("\n");
  const fd = openSync(`/proc/${pid}/mem`, "r");
  const chunk = Buffer.alloc(16 * 2 ** 20);
  let count = 0;
  try {
    for (const line of maps) {
      const [range, perms, , , , name] = line.split(/\s+/);
      if (!perms.startsWith("r") || /^\[(vvar|vsyscall|vvar_vclock)\]$/.test(name ?? "")) continue;
      const [start, end] = range.split("-").map((h) => parseInt(h, 16));
      // Chunks overlap by needle.length - 1 bytes, so a match across a boundary is counted once.
      for (let at = start; at < end; at += chunk.length - needle.length + 1) {
        const want = Math.min(chunk.length, end - at);
        let got: number;
        try {
          got = readSync(fd, chunk, 0, want, at);
        } catch {
          break; // a mapping that can't be read (a guard page)
        }
        const view = chunk.subarray(0, got);
        for (let i = view.indexOf(needle); i !== -1; i = view.indexOf(needle, i + 1)) count++;
        if (got < want || at + want >= end) break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return count;
}

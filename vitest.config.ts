import {availableParallelism} from "node:os";
import {defineConfig} from "vitest/config";

/**
 * Tests whose outcome depends on the clock: latency quartiles of injected delays, replicas and
 * PostgreSQL failing over within their deadlines, a devnet run whose duties must be on time. They
 * run on their own, one file at a time, after the rest, so the rest of the suite cannot slow them.
 * (Stalled clients, in robustness.test.ts, are dropped within bounds several times the timeout:
 * they run with the rest.)
 */
const realTime = [
  "test/faults.test.ts",
  "test/load.test.ts",
  "test/postgresFailures.test.ts",
  "test/replicas.test.ts",
  "test/slashingHealth.test.ts",
];

export default defineConfig({
  test: {
    // Compiles src/ and bench/ into dist/ before any test runs (integration tests use dist/).
    globalSetup: ["test/setup/build.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file runs in its own process: the Lodestar oracle picks its preset per process.
    pool: "forks",
    // Two files per core at once: most files wait on sockets, timers and child processes (on 2 cores,
    // 157 s against 271 s with one per core; vitest's default, cores − 1, left a core idle).
    maxWorkers: 2 * availableParallelism(),
    // The JSON report lets .ci/run print a one-line summary (of both projects).
    reporters: ["default", ["json", {outputFile: "test-results.json"}]],
    projects: [
      {extends: true, test: {name: "parallel", include: ["test/**/*.test.ts"], exclude: realTime}},
      {extends: true, test: {name: "real-time", include: realTime, fileParallelism: false, sequence: {groupOrder: 1}}},
    ],
  },
});

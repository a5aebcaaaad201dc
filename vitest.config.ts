import {defineConfig} from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Compiles src/, workers/ and bench/ into dist/ before any test runs (integration tests use dist/).
    globalSetup: ["test/setup/build.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file runs in its own process: the Lodestar oracle picks its preset per process.
    pool: "forks",
    // The JSON report lets .ci/run print a one-line summary.
    reporters: ["default", ["json", {outputFile: "test-results.json"}]],
  },
});

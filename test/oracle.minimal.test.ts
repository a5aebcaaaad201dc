// Lodestar reads its preset once per process, at import: set it before anything imports Lodestar.
process.env.LODESTAR_PRESET = "minimal";
const {defineOracleTests} = await import("./helpers/oracleTests.js");

await defineOracleTests("minimal");

// The throwaway PostgreSQL server lives with the benches (bench/postgresServer.ts), which start one too.
export * from "../../bench/postgresServer.js";

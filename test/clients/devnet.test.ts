// Each validator client's requests on a devnet: the minimal preset, a fork every two epochs, and the
// signer started with the devnet's config YAML (see duties.ts and suite.ts).
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll} from "vitest";

// Lodestar reads its preset once, at import: set it first, then load everything that uses it.
process.env.LODESTAR_PRESET = "minimal";
const {networkYaml} = await import("./duties.js");
const {defineClientTests} = await import("./suite.js");

if (!networkYaml) throw new Error("Lodestar did not load the minimal preset: the devnet cannot be described");

const dir = mkdtempSync(join(tmpdir(), "ts3signer-devnet-"));
afterAll(() => rmSync(dir, {recursive: true, force: true}));
const configPath = join(dir, "config.yaml");
writeFileSync(configPath, networkYaml);
defineClientTests(configPath);

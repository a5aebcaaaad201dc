import {execFile} from "node:child_process";
import {mkdtempSync, readdirSync, readFileSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {promisify} from "node:util";
import {describe, expect, it} from "vitest";

const tokenModule = new URL("../dist/src/keys/token.js", import.meta.url).href;

describe("Keymanager token file", () => {
  // One round lets a broken creation pass by luck now and then; three almost never.
  it.each([1, 2, 3])("of 8 processes creating it at the same moment, one wins and all use its token (round %i)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts3signer-token-"));
    const file = join(dir, "api-token.txt");
    // Every child spins until the same instant, so the creations really race.
    const startAt = Date.now() + 1000;
    const script = `const m = await import(${JSON.stringify(tokenModule)}); while (Date.now() < ${startAt}); console.log(JSON.stringify(m.loadOrCreateToken(${JSON.stringify(file)})));`;
    const runs = await Promise.all(
      Array.from({length: 8}, () => promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]))
    );
    const results = runs.map((r) => JSON.parse(r.stdout) as {token: string; created: boolean});
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.token))).toEqual(new Set([readFileSync(file, "utf8").trim()]));
    expect(results[0].token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["api-token.txt"]); // no temporary file left behind
  });
});

// The architecture, read from the code's own imports: no cycles, and no arrows back up from the
// lower layers (signing, keys, slashing, the worker) to the HTTP server or the pool that drive them.
import {readFileSync, readdirSync} from "node:fs";
import {dirname, join, normalize, relative} from "node:path";
import {fileURLToPath} from "node:url";
import {describe, expect, it} from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const sources = ["src", "workers"].flatMap((dir) =>
  readdirSync(join(root, dir), {recursive: true, encoding: "utf8"})
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f))
);
/** file → the project files it imports (type-only imports included: they shape the design too). */
const imports = new Map(
  sources.map((file) => {
    const text = readFileSync(join(root, file), "utf8");
    const targets = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gm)].map((m) =>
      relative(root, normalize(join(root, dirname(file), m[1].replace(/\.js$/, ".ts"))))
    );
    return [file, targets];
  })
);

describe("code structure", () => {
  it("reads every source file's imports, and each import names a file that exists", () => {
    expect(sources.length).toBeGreaterThan(30);
    for (const [file, targets] of imports) for (const t of targets) expect(imports.has(t), `${file} imports ${t}`).toBe(true);
  });

  it("has no import cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (file: string, path: string[]) => {
      state.set(file, "visiting");
      for (const t of imports.get(file) ?? []) {
        if (state.get(t) === "visiting") cycles.push([...path.slice(path.indexOf(t)), t].join(" → "));
        else if (!state.has(t)) visit(t, [...path, t]);
      }
      state.set(file, "done");
    };
    for (const file of imports.keys()) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });

  it("keeps signing, keys, slashing and the worker below the server and the pool", () => {
    const lower = /^(src\/(signing|keys|slashing)\/|workers\/)/;
    const upper = /^src\/(server\/|pool\.ts|signer\.ts|cli\.ts)/;
    const upward = [...imports].flatMap(([file, targets]) => (lower.test(file) ? targets.filter((t) => upper.test(t)).map((t) => `${file} → ${t}`) : []));
    expect(upward).toEqual([]);
  });
});

// The architecture, read from the code's own imports: no cycles, and every arrow between parts of the
// code runs down the list of layers below (a part imports only parts listed before it).
import {readdirSync, readFileSync} from "node:fs";
import {dirname, join, normalize, relative} from "node:path";
import {fileURLToPath} from "node:url";
import {describe, expect, it} from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const sources = ["src", "bench"].flatMap((dir) =>
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

/**
 * The layers, lowest first: a file may import files of its own part and of parts listed before it,
 * never after. Each entry is a file or a folder (ending in "/"); a file's own entry comes before its
 * folder's. The pool's protocol (what crosses between the threads, what key loading asks of the
 * workers) is plain types that keys/ may know; the pool and its worker sit above keys/.
 */
const layers = [
  "src/log.ts",
  "src/errors.ts",
  "src/hex.ts",
  "src/metrics/",
  "src/slashing/",
  "src/config/",
  "src/signing/",
  "src/pool/protocol.ts",
  "src/pool/deriver.ts",
  "src/keys/",
  "src/pool/",
  "src/server/",
  "src/load/",
  "src/signer.ts",
  "src/shutdown.ts",
  "src/cli.ts",
  "bench/",
];
/** A file's layer: its own entry if it has one, else its folder's. */
const layerOf = (file: string) => {
  const own = layers.indexOf(file);
  return own >= 0 ? own : layers.findIndex((l) => l.endsWith("/") && file.startsWith(l));
};

/** Every import of a file into a part listed after its own, as "file → target". */
function upwardImports(graph: Map<string, string[]>): string[] {
  return [...graph].flatMap(([file, targets]) => targets.filter((t) => layerOf(t) > layerOf(file)).map((t) => `${file} → ${t}`));
}

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

  it("places every file in a layer, and every import runs down the layers", () => {
    const unplaced = [...imports.keys()].filter((f) => layerOf(f) < 0);
    expect(unplaced, "files in no layer: add their folder to `layers`").toEqual([]);
    expect(upwardImports(imports)).toEqual([]);
  });

  it("catches an import that runs back up, and one that runs across to a later part", () => {
    const injected = new Map(imports);
    injected.set("src/config/networks.ts", [...(imports.get("src/config/networks.ts") ?? []), "src/signing/json.ts"]);
    injected.set("src/slashing/rules.ts", [...(imports.get("src/slashing/rules.ts") ?? []), "src/server/reply.ts"]);
    expect(upwardImports(injected).sort()).toEqual([
      "src/config/networks.ts → src/signing/json.ts",
      "src/slashing/rules.ts → src/server/reply.ts",
    ]);
  });
});

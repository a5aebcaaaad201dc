// README is the front door and docs/ holds the depth: every link between them must land on a page and
// a heading that exist, and README's code map ("How it is built") must name files that exist.
import {existsSync, readdirSync, readFileSync} from "node:fs";
import {dirname, join, normalize} from "node:path";
import {fileURLToPath} from "node:url";
import {describe, expect, it} from "vitest";
import {flags} from "../src/config/args.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const text = (page: string) => readFileSync(join(root, page), "utf8");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
/** The headings of a page outside code fences, as anchors. */
function anchors(page: string): Set<string> {
  let fenced = false;
  const out = new Set<string>();
  for (const line of text(page).split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    else if (!fenced && /^#{1,6} /.test(line)) out.add(slug(line.replace(/^#+ /, "")));
  }
  return out;
}

describe("README and docs/", () => {
  it("has a page per topic, each linked from README", () => {
    expect(pages.length).toBeGreaterThanOrEqual(8);
    const readme = text("README.md");
    for (const page of pages.slice(1)) expect(readme, `README links ${page}`).toContain(`](${page}`);
  });

  it("links only to files and headings that exist", () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const [, target] of text(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue; // an external address
        const [file, anchor] = target.split("#");
        const linked = file === "" ? page : normalize(join(dirname(page), file));
        if (!existsSync(join(root, linked))) broken.push(`${page}: ${target} (no file)`);
        else if (anchor !== undefined && linked.endsWith(".md") && !anchors(linked).has(anchor))
          broken.push(`${page}: ${target} (no heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("names in its code map only paths that exist", () => {
    const map = text("README.md").split("## How it is built")[1].split("```")[1];
    const paths = [...map.matchAll(/^(\S+)/gm)].map((m) => m[1]);
    expect(paths.length).toBeGreaterThan(15);
    for (const path of paths) expect(existsSync(join(root, path)), `${path} in the code map`).toBe(true);
  });

  it("lists in README's flag table every flag, with the default the parser uses", () => {
    const table = text("README.md").split("## Command line")[1].split("\n\n")[1];
    const rows = table.split("\n").slice(2); // after the header and its rule
    const documented = new Map<string, string>();
    for (const row of rows) {
      const [, named, defaults] = row.split("|").map((cell) => cell.trim());
      const names = [...named.matchAll(/--([a-z-]+)/g)].map((m) => m[1]);
      const values = defaults.replaceAll("`", "").split(" / ");
      // "a / b" pairs with two flags in order; otherwise the one default holds for every flag in the row.
      for (const [i, name] of names.entries())
        documented.set(name, values.length === names.length ? values[i] : defaults.replaceAll("`", ""));
    }
    const expected = new Map(flags.filter((f) => f.name !== "help").map((f) => [f.name, f.default ?? f.defaultText ?? "none"]));
    const normalised = new Map([...documented].map(([name, d]) => [name, d === "off" ? "none" : d]));
    expect(Object.fromEntries(normalised)).toEqual(Object.fromEntries(expected));
  });
});

/**
 * Constant time: the signing path must not branch on, or index memory by, the secret key. A small
 * C program (native/fastsign/ctime_test.c) signs from a table and with blst's sign_pk_in_g1 while
 * the key is marked undefined, under valgrind's memcheck, which reports exactly those uses of an
 * undefined value. A build with a lookup indexed by the secret shows the check catches a leak.
 */
import {execFile, spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, rmSync} from "node:fs";
import {createRequire} from "node:module";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {promisify} from "node:util";
import {afterAll, beforeAll, describe, expect, it} from "vitest";

const run = promisify(execFile);
const fastsign = new URL("../native/fastsign/", import.meta.url).pathname;
const blstPackage = (() => {
  try {
    return dirname(createRequire(import.meta.url).resolve("@chainsafe/blst-swig/package.json"));
  } catch {
    return undefined;
  }
})();
const has = (command: string) => spawnSync(command, ["--version"], {stdio: "ignore"}).status === 0;
// .ci/run installs valgrind (Debian's package carries valgrind/memcheck.h).
const tools = has("cc") && has("valgrind") && existsSync("/usr/include/valgrind/memcheck.h") && blstPackage !== undefined;

const x64 = process.arch === "x64";
/** blst's builds the addon ships (binding.gyp): portable everywhere, MULX/ADX where this CPU runs it. */
const builds = x64 && /\badx\b/.test(readFileSync("/proc/cpuinfo", "utf8")) ? ["adx", "portable"] : ["portable"];
const defineFor = (build: string) => (build === "adx" ? "-D__ADX__" : "-D__BLST_PORTABLE__");

/**
 * The test program, compiled as binding.gyp compiles the addon (same blst sources and defines);
 * node-gyp's Release build ends with -O3, and the check runs at -O2 as well, since an optimiser
 * is what could turn a mask into a branch.
 */
async function compile(out: string, optimise: string, build: string, defines: string[] = []): Promise<void> {
  const blst = join(blstPackage!, "blst");
  const flags = [optimise, "-fno-builtin", ...(x64 ? ["-mno-avx"] : []), defineFor(build), "-DCOMB_CTGRIND", ...defines];
  const sources = ["ctime_test.c", "comb.c", "inverse.c"]
    .map((f) => join(fastsign, f))
    .concat(join(blst, "src/server.c"), join(blst, "build/assembly.S"));
  await run("cc", [...flags, "-I", join(blst, "bindings"), "-I", join(blst, "src"), "-I", fastsign, ...sources, "-o", out]);
}

/** Runs the program under memcheck: exit 42 when memcheck reported anything. */
function memcheck(program: string, window: number) {
  const r = spawnSync("valgrind", ["-q", "--error-exitcode=42", program, String(window)], {encoding: "utf8"});
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

// Skipped without cc, valgrind (with valgrind/memcheck.h) or @chainsafe/blst-swig's sources.
describe.skipIf(!tools)("constant time under valgrind (secret key marked undefined)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ts3signer-ctime-"));
    await Promise.all([
      ...builds.map((build) => compile(join(dir, `ctime-${build}-O3`), "-O3", build)),
      compile(join(dir, `ctime-${builds[0]}-O2`), "-O2", builds[0]),
      compile(join(dir, "ctime-leaky"), "-O3", builds[0], ["-DCOMB_LEAKY_LOOKUP_FOR_TEST"]),
    ]);
  }, 180_000);
  afterAll(() => rmSync(dir, {recursive: true, force: true}));

  const cases: [string, string, number][] = [
    ...builds.map((build): [string, string, number] => [build, "-O3", 6]),
    [builds[0], "-O3", 4],
    [builds[0], "-O2", 6],
  ];
  it.each(cases)(
    "blst's %s build, %s: signs from a %i-bit table and with blst's sign_pk_in_g1 with no secret-dependent branch or address",
    (build, optimise, window) => {
      const r = memcheck(join(dir, `ctime-${build}${optimise}`), window);
      expect(r.stderr).toBe("");
      expect(r.status, r.stdout).toBe(0);
      expect(r.stdout.match(/same signature/g)).toHaveLength(7);
    }
  );

  it("reports a table lookup indexed by the secret: the check catches a leak", () => {
    const r = memcheck(join(dir, "ctime-leaky"), 6);
    expect(r.status).toBe(42);
    expect(r.stderr).toMatch(/Use of uninitialised value/);
    expect(r.stderr).toMatch(/comb_sign/);
  });
});

import {spawnSync} from "node:child_process";
import {existsSync, readFileSync} from "node:fs";
import {describe, expect, it} from "vitest";

/**
 * The ADX build on a CPU without ADX: valgrind runs programs on a synthetic CPU whose CPUID reports
 * BMI2 but not ADX (valgrind 3.19 here), which is the CPU an image built on a newer machine meets on
 * an older one. The ADX build must refuse to load there, and the portable build sign instead; the
 * old addon loaded and would have died with SIGILL on real hardware without ADX.
 */
const valgrind = spawnSync("valgrind", ["--version"], {encoding: "utf8"});
const adxBuilt = existsSync(new URL("../native/fastsign/build/Release/fastsign_adx.node", import.meta.url));
const runs = process.arch === "x64" && valgrind.status === 0 && (adxBuilt || process.env.TS3SIGNER_TESTS_REQUIRE_NATIVE_SIGNING === "1");

const signCase = JSON.parse(readFileSync(new URL("fixtures/bls-sign.json", import.meta.url), "utf8")).sign[0];
const child = `
  const {createSigner, logSignEngine, nativeBuild, signEngine, signingKey} = await import(${JSON.stringify(new URL("../dist/src/signing/fastSign.js", import.meta.url).href)});
  const {createLogger} = await import(${JSON.stringify(new URL("../dist/src/log.js", import.meta.url).href)});
  logSignEngine(createLogger({format: "json"}));
  const hex = (h) => Uint8Array.from(Buffer.from(h.slice(2), "hex"));
  const {signature} = createSigner()(signingKey(hex(${JSON.stringify(signCase.privkey)})), hex(${JSON.stringify(signCase.message)}));
  console.log(JSON.stringify({signEngine, nativeBuild, signature}));
`;

describe("native/fastsign on a CPU without ADX", () => {
  it.runIf(runs)(
    "the ADX build refuses to load, says why, and the portable build signs the published answer",
    () => {
      const run = spawnSync("valgrind", ["-q", process.execPath, "--input-type=module", "-e", child], {encoding: "utf8", timeout: 170_000});
      expect(run.status, run.stderr).toBe(0);
      const lines = run.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const result = lines.at(-1);
      expect(result).toEqual({signEngine: "native-point-cache", nativeBuild: "portable", signature: signCase.signature});
      const logged = lines.find((l) => l.build === "portable");
      expect(logged?.level).toBe("info");
      expect(logged?.reason).toMatch(
        /^native\/fastsign fastsign_adx: this build needs a CPU with BMI2 and ADX \(MULX, ADCX\/ADOX\), which this one lacks$/
      );
    },
    180_000
  );
});

import {execFileSync} from "node:child_process";
import {fileURLToPath} from "node:url";

/**
 * Integration tests run the compiled signer in dist/ (its worker threads load JavaScript), so every
 * test run compiles first: a stale dist/ can never be what is tested. Incremental, so a run with
 * nothing changed pays about a second.
 *
 * With TS3SIGNER_TESTS_REQUIRE_NATIVE_SIGNING=1 (.ci/run) the run stops here unless the native
 * signing addon loads: npm ci goes on without it, and the tests would then compare sign() with itself.
 */
export default function build(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  execFileSync(process.execPath, [fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url)), "-p", root], {
    stdio: "inherit",
  });
  if (process.env.TS3SIGNER_TESTS_REQUIRE_NATIVE_SIGNING === "1") {
    const fastSign = new URL("../../dist/src/signing/fastSign.js", import.meta.url).href;
    const probe = `const m = await import(${JSON.stringify(fastSign)}); console.log(JSON.stringify([m.signEngine, m.signEngineFallbackReason ?? ""]));`;
    const [engine, reason] = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", probe], {encoding: "utf8"}));
    if (engine !== "native-point-cache") {
      throw new Error(
        `TS3SIGNER_TESTS_REQUIRE_NATIVE_SIGNING=1 but the native signing addon did not load (${engine}: ${reason}); see npm ci's output for native/fastsign`
      );
    }
  }
}

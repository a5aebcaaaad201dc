import {execFileSync} from "node:child_process";
import {fileURLToPath} from "node:url";

/**
 * Integration tests run the compiled signer in dist/ (its worker threads load JavaScript), so every
 * test run compiles first: a stale dist/ can never be what is tested. Incremental, so a run with
 * nothing changed pays about a second.
 */
export default function build(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  execFileSync(process.execPath, [fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url)), "-p", root], {stdio: "inherit"});
}

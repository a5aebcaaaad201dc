import {spawn} from "node:child_process";
import {stopKdfs} from "./keys/eip2335.js";
import type {Logger} from "./log.js";

/** SPEC: exit 0 within this after SIGTERM/SIGINT; past it, exit 1. */
export const SHUTDOWN_DEADLINE_MS = 10_000;
/** How long exit() may take before the process is killed instead. */
const EXIT_GRACE_MS = 1_000;

/**
 * SIGTERM and SIGINT: stop taking work, answer what was received (signer.close()), exit 0; past
 * the deadline exit 1, whatever is still running.
 */
export function handleSignals(signer: {close(): Promise<void>}, log: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down: answering requests in flight", {signal});
    // An import in flight answers for its keys not yet decrypted at once (an error each), so its
    // KDFs, queued behind each other, do not hold the exit.
    stopKdfs();
    setTimeout(() => {
      log.error(`shutdown took over ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting`);
      exitNow(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    signer.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (e: Error) => {
        log.error("shutdown failed", {error: e.message});
        process.exit(1);
      }
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/**
 * process.exit(code), made certain. Node's exit first joins every libuv pool thread and worker
 * thread, so one stuck in a system call (a read from a hung network file system, a FIFO) would
 * hold the process forever after "exiting" was logged. A small watchdog process is started first:
 * if this process still exists EXIT_GRACE_MS later, it is killed (SIGKILL; its status is then
 * "killed by signal 9" instead of 1).
 */
export function exitNow(code: number): never {
  try {
    // The watchdog checks that it is still this process's child: a pid reused later is never hit.
    const watchdog = `setTimeout(() => { if (process.ppid === ${process.pid}) process.kill(${process.pid}, "SIGKILL"); }, ${EXIT_GRACE_MS});`;
    spawn(process.execPath, ["-e", watchdog], {detached: true, stdio: "ignore"}).unref();
  } catch {
    // Without a watchdog the exit below is still tried.
  }
  process.exit(code);
}

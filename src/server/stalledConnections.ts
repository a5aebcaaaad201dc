import {createRequire} from "node:module";
import type {Lifecycle} from "./lifecycle.js";

/**
 * Ends the signing port's connections that uWS holds but will never answer: uWS 20.30 keeps any
 * request it cannot parse (HTTP/1.0 — curl --http1.0, ApacheBench, HAProxy's default check — or
 * HTTP/1.1 without Host) as unfinished, unanswered, for 8–12 s, and JavaScript never sees it.
 * Every TICK_MS the native sweep (native/connwatch) looks at the port's sockets: one whose client
 * spoke last and has been quiet longer than any request still in flight (so it cannot be one of
 * them), and at least QUIET_MS, gets `ANSWER` if nothing was ever sent on it, then is closed. A
 * client gets its answer, or a clean close, within QUIET_MS + TICK_MS.
 *
 * A sweep costs a few microseconds per open connection (bench/connwatch.ts: 0.2 ms at 64, 13 ms
 * at 640, 150 ms at 6,400 on a loaded 2-core machine), so sweeps are spaced to take at most ~1% of
 * the HTTP thread:
 * past a few hundred connections the answer comes later, and past a few thousand uWS's own idle
 * close comes first.
 */
const TICK_MS = 200;
// Longer than a lost segment takes to come again (Linux: 200 ms at least), so a request whose
// headers span segments is not cut while a piece of it is retransmitted.
const QUIET_MS = 600;
const MAX_SHARE = 0.01;
/** Ticks whose lateness is remembered: as many as InFlightAges has generations. */
const TICKS_TRACKED = 16;

const message = JSON.stringify({
  message: "request not understood: ts3signer serves HTTP/1.1 requests with a Host header (not HTTP/1.0)",
});
/** Written on the raw socket, before any other byte: over TLS nothing is written, the connection just closes. */
const ANSWER = Buffer.from(
  `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`
);

type Addon = {sweep(port: number, quietMs: number, answer?: Buffer): number};

function loadAddon(): Addon | Error {
  try {
    return createRequire(import.meta.url)("../../../native/connwatch/build/Release/connwatch.node") as Addon;
  } catch (e) {
    return e as Error;
  }
}

/** Starts the sweep; undefined (with the reason) where the addon is not built (not Linux, no compiler). */
export function watchStalledConnections(
  port: number,
  tls: boolean,
  lifecycle: Lifecycle,
  onEnded: (count: number) => void
): {stop(): void} | {unavailable: string} {
  const addon = loadAddon();
  if (addon instanceof Error) return {unavailable: addon.message.split("\n")[0]};
  // How late this timer ran, tick by tick: a request's bytes may wait that long in the kernel
  // before uWS reads them and the request starts, so its connection is that much quieter than the
  // request is old.
  const lateness = new Float64Array(TICKS_TRACKED);
  let tick = 0;
  let lastTick = performance.now();
  let nextSweep = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lateness[tick++ % TICKS_TRACKED] = Math.max(0, now - lastTick - TICK_MS);
    lastTick = now;
    lifecycle.ages.tick(now);
    const busyMs = lifecycle.ages.oldestMs(now);
    // A request in flight for seconds: a quiet connection cannot be told apart from it, so wait.
    if (busyMs === Infinity || now < nextSweep) return;
    // Nothing in flight: whatever uWS has read and not answered, it never will.
    const quietMs = busyMs === 0 ? QUIET_MS : Math.max(QUIET_MS, busyMs + TICK_MS + Math.max(...lateness));
    const ended = addon.sweep(port, Math.ceil(quietMs), tls ? undefined : ANSWER);
    nextSweep = performance.now() + (performance.now() - now) * (1 / MAX_SHARE - 1);
    if (ended > 0) onEnded(ended);
  }, TICK_MS).unref();
  return {stop: () => clearInterval(timer)};
}

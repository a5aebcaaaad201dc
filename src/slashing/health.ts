import type {Logger} from "../log.js";
import {parseSlashingUrl, redactUrl, type SlashingStore} from "./store.js";

/** Probed this often, each probe given this long: a dead or hung PostgreSQL shows within ~3 s. */
const PROBE_EVERY_MS = 1000;
const PROBE_TIMEOUT_MS = 2000;
/** SQLite, only while down: each probe may wait up to its 2 s busy timeout on the HTTP thread. */
const SQLITE_RECOVERY_PROBE_EVERY_MS = 5000;

/**
 * Whether the slashing protection database answers, for /healthcheck and the log. Every
 * transaction of the main thread's store reports its outcome, and PostgreSQL (a server that can go
 * away) is also probed once a second. Each change is logged once: down with the error's class (a
 * code such as ECONNREFUSED, a PostgreSQL SQLSTATE or SQLITE_BUSY, never a message that might carry
 * the URL), up again with how long it was down. SQLite is probed only while down (after a
 * Keymanager transaction failed), every 5 s, to see it come back: its transactions wait for the
 * file's write lock on the calling thread, here the HTTP thread, which must not do that routinely.
 */
export class SlashingHealth {
  private downSinceMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private readonly database: string;

  constructor(
    private readonly store: SlashingStore,
    private readonly url: string,
    private readonly log: Logger
  ) {
    this.database = redactUrl(url);
  }

  /** Listens to the store's transactions, and starts probing. */
  start(): void {
    this.store.onOutcome = (failure) => (failure ? this.down(failure) : this.up());
    const sqlite = parseSlashingUrl(this.url).kind === "sqlite";
    const probeEveryMs = sqlite ? SQLITE_RECOVERY_PROBE_EVERY_MS : PROBE_EVERY_MS;
    this.timer = setInterval(() => (sqlite && this.isUp ? undefined : this.probe()), probeEveryMs).unref();
  }

  get isUp(): boolean {
    return this.downSinceMs === undefined;
  }

  stop(): void {
    clearInterval(this.timer);
    this.store.onOutcome = undefined;
  }

  private probe(): void {
    if (this.probing) return; // a probe waiting behind a long Keymanager transaction is enough
    this.probing = true;
    this.store
      .ping(PROBE_TIMEOUT_MS)
      .catch(() => undefined) // reported through onOutcome
      .finally(() => (this.probing = false));
  }

  private down(failure: Error): void {
    if (this.downSinceMs !== undefined) return;
    this.downSinceMs = performance.now();
    this.log.error("slashing protection database unreachable: blocks and attestations are answered 503 until it is back", {
      database: this.database,
      error: errorClass(failure),
    });
  }

  private up(): void {
    if (this.downSinceMs === undefined) return;
    const downSeconds = Math.round((performance.now() - this.downSinceMs) / 100) / 10;
    this.downSinceMs = undefined;
    this.log.info("slashing protection database reachable again", {database: this.database, down_seconds: downSeconds});
  }
}

/** What kind of failure, without its message (which may name hosts, users or paths). */
export function errorClass(e: Error): string {
  const code = (e as {code?: unknown}).code;
  if (typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  if (/no answer|deadline|timeout/i.test(e.message)) return "timeout";
  if (/unreachable/.test(e.message)) return "unreachable";
  if (/terminated|closed|ended/i.test(e.message)) return "connection lost";
  return e.name;
}

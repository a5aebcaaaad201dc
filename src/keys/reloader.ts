import type {KeySources} from "../config/signerConfig.js";
import type {Logger} from "../log.js";
import type {Metrics} from "../metrics/metrics.js";
import type {KeyDeriver} from "../pool/deriver.js";
import type {KeyStore} from "./keyStore.js";
import {loadKeySources} from "./sources.js";

export type ReloadStatus = {
  status: "idle" | "running" | "completed" | "failed";
  last_completed?: string;
  keys_loaded?: number;
  keys_removed?: number;
  errors?: number;
  message?: string;
};

/**
 * Loads the start-up key sources, at start and on POST /reload, one run at a time. A reload adds
 * keys that appeared and removes start-up keys whose source is gone; keys imported through the
 * Keymanager API are left alone.
 */
export class Reloader {
  private current: ReloadStatus = {status: "idle"};
  private running?: Promise<void>;

  constructor(
    private readonly sources: KeySources,
    private readonly keys: KeyStore,
    private readonly deriver: KeyDeriver,
    private readonly metrics: Metrics,
    private readonly log: Logger
  ) {}

  status(): ReloadStatus {
    return this.current;
  }

  /** Starts a run unless one is under way; resolves when the (current) run ends. */
  start(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    this.current = {...this.current, status: "running"};
    const endTimer = this.metrics.keyLoadSeconds.startTimer();
    const startedMs = performance.now();
    try {
      const result = await loadKeySources(this.sources, this.keys, this.deriver, this.log);
      let removed = 0;
      // Removing a key touches its slot alone, so the walk can go on over the live store.
      for (const {slot} of this.keys.entries((info) => info.readonly)) {
        if (!result.found.has(slot)) {
          this.keys.removeSlot(slot);
          removed++;
        }
      }
      this.current = {
        status: "completed",
        last_completed: new Date().toISOString(),
        keys_loaded: result.loaded,
        keys_removed: removed,
        errors: result.errors,
      };
      this.log.info("keys loaded", {
        added: result.loaded,
        removed,
        errors: result.errors,
        total: this.keys.size,
        seconds: +((performance.now() - startedMs) / 1000).toFixed(3),
      });
    } catch (e) {
      this.current = {status: "failed", message: (e as Error).message};
      this.log.error("loading keys failed", {error: (e as Error).message});
    } finally {
      endTimer();
    }
  }
}

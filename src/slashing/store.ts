import {SignerError} from "../errors.js";
import type {Interchange} from "./interchange.js";
import {type SlashingBackend, type SlashingItem, type SlashingTables, checkAndRecord} from "./rules.js";

/** `--slashing-protection URL`: an SQLite file, or a PostgreSQL database shared by several signers. */
export type SlashingUrl = {kind: "sqlite"; path: string} | {kind: "postgres"; url: string};

export function parseSlashingUrl(url: string): SlashingUrl {
  if (url.startsWith("sqlite:") && url.length > "sqlite:".length) return {kind: "sqlite", path: url.slice("sqlite:".length)};
  if (/^postgres(ql)?:\/\/./.test(url)) return {kind: "postgres", url};
  throw new Error(`--slashing-protection: expected sqlite:PATH or postgres://…, got "${redactUrl(url).slice(0, 200)}"`);
}

/** The URL as it may be logged: without a password. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}

/**
 * How long a signing request may wait for slashing protection (its batch's transaction, and any
 * queue before it) before it is answered 503. The PostgreSQL session limits sit well inside it.
 */
export const SLASHING_DEADLINE_MS = 5000;

/** Keymanager imports, exports and deletes: larger transactions, and a person waiting. */
const KEYMANAGER_DEADLINE_MS = 30_000;

/**
 * EIP-3076 slashing protection over a backend. Every signing worker opens its own store, and so does
 * the main thread for the Keymanager API; each batch of requests is checked and recorded in one
 * transaction that locks its keys, so two workers, or two signers sharing PostgreSQL, can never
 * both sign a conflicting pair. Calls on one store run one at a time.
 */
export class SlashingStore {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly backend: SlashingBackend) {}

  /** `setUp`: connect now and create the tables (the main thread, at start); else connect when first used. */
  static async open(url: string, {setUp = false} = {}): Promise<SlashingStore> {
    const target = parseSlashingUrl(url);
    const backend =
      target.kind === "sqlite"
        ? (await import("./sqlite.js")).openSqlite(target.path)
        : await (await import("./postgres.js")).openPostgres(target.url, setUp);
    return new SlashingStore(backend);
  }

  /** One transaction after another; a database that fails is UNAVAILABLE (503), not a bug. */
  private serial<T>(pubkeys: string[], fn: (t: SlashingTables) => Promise<T>, deadline = Date.now() + KEYMANAGER_DEADLINE_MS): Promise<T> {
    const run = this.queue.then(() => this.backend.transaction(pubkeys, fn, deadline));
    this.queue = run.catch(() => undefined);
    return run.catch((e: Error) => {
      throw e instanceof SignerError ? e : new SignerError("UNAVAILABLE", `slashing protection database unavailable: ${e.message}`);
    });
  }

  /**
   * Checks and records a batch in one transaction: per item, null (allowed) or why it is refused.
   * It fails if it has not ended by `deadline` (epoch ms).
   */
  checkBatch(items: SlashingItem[], deadline = Date.now() + SLASHING_DEADLINE_MS): Promise<(string | null)[]> {
    const pubkeys = items.map((i) => i.pubkey);
    return this.serial(
      pubkeys,
      async (t) => {
        const inactive = new Set(await t.inactiveAmong([...new Set(pubkeys)]));
        const refusals: (string | null)[] = [];
        for (const item of items) {
          refusals.push(inactive.has(item.pubkey) ? "the key was deleted through the Keymanager API; import it again to sign with it" : await checkAndRecord(t, item));
        }
        return refusals;
      },
      deadline
    );
  }

  /**
   * Marks keys deleted (Keymanager DELETE): from the moment this returns, every signer sharing the
   * database refuses blocks and attestations for them, so their exported history is final.
   * Taken under the keys' locks, so a batch being checked for them ends first.
   */
  deactivate(pubkeys: string[]): Promise<void> {
    return this.serial(pubkeys, async (t) => t.setInactive(pubkeys, true));
  }

  /** Marks keys imported again (Keymanager POST): they may sign once more. */
  activate(pubkeys: string[]): Promise<void> {
    return this.serial(pubkeys, async (t) => t.setInactive(pubkeys, false));
  }

  /** Imports an interchange document; its records then bound what may be signed. */
  importInterchange(doc: Interchange): Promise<void> {
    const gvr = doc.metadata.genesis_validators_root.toLowerCase();
    return this.serial(
      doc.data.map((e) => e.pubkey.toLowerCase()),
      async (t) => {
        for (const entry of doc.data) {
          const pubkey = entry.pubkey.toLowerCase();
          for (const b of entry.signed_blocks ?? []) await t.insertBlock(pubkey, gvr, BigInt(b.slot), b.signing_root?.toLowerCase() ?? null);
          for (const a of entry.signed_attestations ?? []) {
            await t.insertAttestation(pubkey, gvr, BigInt(a.source_epoch), BigInt(a.target_epoch), a.signing_root?.toLowerCase() ?? null);
          }
        }
      }
    );
  }

  exportInterchange(pubkeys: string[], genesisValidatorsRoot: string): Promise<Interchange> {
    const gvr = genesisValidatorsRoot.toLowerCase();
    const withRoot = <T extends object>(o: T, root: string | null) => (root ? {...o, signing_root: root} : o);
    return this.serial([], async (t) => ({
      metadata: {interchange_format_version: "5" as const, genesis_validators_root: gvr},
      data: await Promise.all(
        pubkeys.map(async (pubkey) => ({
          pubkey,
          signed_blocks: (await t.blocksOf(pubkey, gvr)).map((b) => withRoot({slot: String(b.slot)}, b.signingRoot)),
          signed_attestations: (await t.attestationsOf(pubkey, gvr)).map((a) =>
            withRoot({source_epoch: String(a.source), target_epoch: String(a.target)}, a.signingRoot)
          ),
        }))
      ),
    }));
  }

  /** The genesis validators roots the keys have records under. */
  genesisRootsOf(pubkeys: string[]): Promise<string[]> {
    return this.serial([], async (t) => {
      const roots = new Set<string>();
      for (const pk of pubkeys) for (const r of await t.genesisRootsOf(pk)) roots.add(r);
      return [...roots];
    });
  }

  hasHistory(pubkey: string): Promise<boolean> {
    return this.serial([], async (t) => t.hasHistory(pubkey));
  }

  close(): Promise<void> {
    return this.queue.then(() => this.backend.close());
  }
}

import {SignerError} from "../errors.js";
import {type Interchange, InterchangeError} from "./interchange.js";
import {type ImportedRecord, type SlashingBackend, type SlashingItem, type SlashingTables, checkAndRecord, mergeRecord} from "./rules.js";

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
 *
 * A database belongs to one chain, as in Web3Signer: it is bound to the network's genesis
 * validators root where that is known, else to the first one it sees (an import or a signing
 * request), and refuses any other, since records of one chain say nothing about another.
 */
export class SlashingStore {
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Told the outcome of every transaction: undefined when the database answered (a refusal is an
   * answer), else the error that says it did not. SlashingHealth listens here.
   */
  onOutcome: ((failure: Error | undefined) => void) | undefined;
  /** The root the database is bound to, once read: a binding never changes. */
  private boundRoot: string | undefined;

  private constructor(private readonly backend: SlashingBackend) {}

  /**
   * `setUp`: connect now, create the tables and bind the database to `genesisValidatorsRoot` if
   * given (the main thread, at start; a database bound to another chain fails the start); else
   * connect when first used.
   */
  static async open(url: string, {setUp = false, genesisValidatorsRoot}: {setUp?: boolean; genesisValidatorsRoot?: string} = {}): Promise<SlashingStore> {
    const target = parseSlashingUrl(url);
    const backend =
      target.kind === "sqlite"
        ? (await import("./sqlite.js")).openSqlite(target.path)
        : await (await import("./postgres.js")).openPostgres(target.url, setUp);
    const store = new SlashingStore(backend);
    if (setUp && genesisValidatorsRoot) {
      const wanted = genesisValidatorsRoot.toLowerCase();
      const bound = await store.bound([], wanted, async (_t, bound) => bound).catch(async (e) => {
        await store.close();
        throw e;
      });
      if (bound !== wanted) {
        await store.close();
        throw new Error(`--slashing-protection: the database belongs to the chain with genesis validators root ${bound}, not this network's ${wanted}`);
      }
    }
    return store;
  }

  /**
   * One transaction after another; a database that fails is UNAVAILABLE (503), not a bug. The
   * deadline is fixed when called, or, given as a function, when the transaction's turn comes.
   */
  private serial<T>(pubkeys: string[], fn: (t: SlashingTables) => Promise<T>, deadline: number | (() => number) = Date.now() + KEYMANAGER_DEADLINE_MS): Promise<T> {
    const run = this.queue.then(() => this.backend.transaction(pubkeys, fn, typeof deadline === "number" ? deadline : deadline()));
    this.queue = run.catch(() => undefined);
    return run.then(
      (result) => {
        this.onOutcome?.(undefined);
        return result;
      },
      (e: Error) => {
        if (e instanceof SignerError) {
          this.onOutcome?.(undefined); // the database answered; the request was refused
          throw e;
        }
        this.onOutcome?.(e);
        throw new SignerError("UNAVAILABLE", `slashing protection database unavailable: ${e.message}`);
      }
    );
  }

  /** A trivial transaction that must end within `timeoutMs` of its turn (health checks). */
  ping(timeoutMs: number): Promise<void> {
    return this.serial([], async (t) => void (await t.genesisRoot()), () => Date.now() + timeoutMs);
  }

  /**
   * Runs `fn` in a transaction, given the root the database is bound to (binding it to `root` if it
   * is bound to none). The binding is remembered once committed: a rolled-back one never happened.
   */
  private async bound<T>(pubkeys: string[], root: string, fn: (t: SlashingTables, bound: string) => Promise<T>, deadline?: number): Promise<T> {
    let bound = "";
    const result = await this.serial(pubkeys, async (t) => fn(t, (bound = this.boundRoot ?? (await t.bindGenesisRoot(root)))), deadline);
    this.boundRoot = bound;
    return result;
  }

  /**
   * Checks and records a batch in one transaction: per item, null (allowed) or why it is refused.
   * It fails if it has not ended by `deadline` (epoch ms).
   */
  async checkBatch(items: SlashingItem[], deadline = Date.now() + SLASHING_DEADLINE_MS): Promise<(string | null)[]> {
    if (!items.length) return [];
    const pubkeys = items.map((i) => i.pubkey);
    return this.bound(
      pubkeys,
      items[0].check.genesisValidatorsRoot,
      async (t, bound) => {
        const inactive = new Set(await t.inactiveAmong([...new Set(pubkeys)]));
        const refusals: (string | null)[] = [];
        for (const item of items) {
          const root = item.check.genesisValidatorsRoot;
          refusals.push(
            root !== bound
              ? `genesis validators root ${root} is not ${bound}, the chain this database protects`
              : inactive.has(item.pubkey)
                ? "the key was deleted through the Keymanager API; import it again to sign with it"
                : await checkAndRecord(t, item)
          );
        }
        return refusals;
      },
      deadline
    );
  }

  /**
   * Keymanager DELETE: marks keys deleted and exports their history (EIP-3076, under the chain the
   * database is bound to, else `fallbackRoot`) in one transaction under the keys' locks. From its
   * commit every signer sharing the database refuses blocks and attestations for them, so the
   * export is final; if it fails, neither happened and the keys are as they were.
   */
  retire(pubkeys: string[], fallbackRoot: string): Promise<Interchange> {
    return this.serial(pubkeys, async (t) => {
      if (pubkeys.length) await t.setInactive(pubkeys, true);
      return interchangeOf(t, pubkeys, this.boundRoot ?? (await t.genesisRoot()) ?? fallbackRoot);
    });
  }

  /** Marks keys imported again (Keymanager POST): they may sign once more. */
  activate(pubkeys: string[]): Promise<void> {
    return this.serial(pubkeys, async (t) => t.setInactive(pubkeys, false));
  }

  /**
   * Imports an interchange document, merged into the history (see mergeRecord); its records then
   * bound what may be signed. A document of another chain is refused whole. Returns, per key whose
   * records are slashable (among themselves or with the history), why.
   */
  importInterchange(doc: Interchange): Promise<Map<string, string[]>> {
    const gvr = doc.metadata.genesis_validators_root.toLowerCase();
    return this.bound(
      doc.data.map((e) => e.pubkey.toLowerCase()),
      gvr,
      async (t, bound) => {
        if (bound !== gvr) {
          throw new InterchangeError(`slashing_protection: genesis_validators_root ${gvr} is not ${bound}, the chain this signer's slashing protection database belongs to`);
        }
        const slashable = new Map<string, string[]>();
        for (const entry of doc.data) {
          const pubkey = entry.pubkey.toLowerCase();
          const records: ImportedRecord[] = [
            ...(entry.signed_blocks ?? []).map((b) => ({kind: "block" as const, slot: BigInt(b.slot), signingRoot: b.signing_root?.toLowerCase() ?? null})),
            ...(entry.signed_attestations ?? []).map((a) => ({
              kind: "attestation" as const,
              source: BigInt(a.source_epoch),
              target: BigInt(a.target_epoch),
              signingRoot: a.signing_root?.toLowerCase() ?? null,
            })),
          ];
          for (const record of records) {
            const why = await mergeRecord(t, pubkey, gvr, record);
            if (why) slashable.set(pubkey, [...(slashable.get(pubkey) ?? []), why]);
          }
        }
        return slashable;
      }
    );
  }

  /** The genesis validators root the database is bound to, if it is bound yet. */
  genesisValidatorsRoot(): Promise<string | null> {
    return this.serial([], async (t) => this.boundRoot ?? t.genesisRoot());
  }

  exportInterchange(pubkeys: string[], genesisValidatorsRoot: string): Promise<Interchange> {
    return this.serial([], (t) => interchangeOf(t, pubkeys, genesisValidatorsRoot));
  }

  hasHistory(pubkey: string): Promise<boolean> {
    return this.serial([], async (t) => t.hasHistory(pubkey));
  }

  close(): Promise<void> {
    return this.queue.then(() => this.backend.close());
  }
}

/** The keys' history as an EIP-3076 interchange document (format version 5), read in transaction `t`. */
async function interchangeOf(t: SlashingTables, pubkeys: string[], genesisValidatorsRoot: string): Promise<Interchange> {
  const gvr = genesisValidatorsRoot.toLowerCase();
  const withRoot = <T extends object>(o: T, root: string | null) => (root ? {...o, signing_root: root} : o);
  return {
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
  };
}

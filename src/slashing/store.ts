import {Worker} from "node:worker_threads";
import {SignerError} from "../errors.js";
import {type Interchange, InterchangeError} from "./interchange.js";
import {
  checkAndRecord,
  type ImportedHistory,
  mergeHistory,
  pruneHistory,
  type SlashingBackend,
  type SlashingItem,
  type SlashingTables,
} from "./rules.js";

/** What an import thread (importWorker.ts) answers: per slashable key, why; or the error, as data (classes do not cross threads). */
export type ImportAnswer = {slashable: [string, string[]][]} | {error: {code: SignerError["code"]; message: string}};

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
 * An import is merged a batch per transaction, batches of up to this many records: few commits for
 * many small keys, and other writers get in between (on SQLite, every other key waits meanwhile).
 * A key with more records is merged in parts, each a transaction re-reading the key's history, at
 * most IMPORT_PARTS_PER_KEY of them: the rereads then cost O(n) in all, the merge stays O(n log n).
 */
const IMPORT_BATCH_RECORDS = 10_000;
const IMPORT_PARTS_PER_KEY = 8;

/** A document's histories by key (a key listed twice is merged once), in transactions' batches. */
function importBatches(doc: Interchange): [string, ImportedHistory][][] {
  const histories = new Map<string, ImportedHistory>();
  for (const entry of doc.data) {
    const pubkey = entry.pubkey.toLowerCase();
    const h = histories.get(pubkey) ?? {blocks: [], attestations: []};
    histories.set(pubkey, h);
    for (const b of entry.signed_blocks ?? []) h.blocks.push({slot: BigInt(b.slot), signingRoot: b.signing_root?.toLowerCase() ?? null});
    for (const a of entry.signed_attestations ?? []) {
      h.attestations.push({
        source: BigInt(a.source_epoch),
        target: BigInt(a.target_epoch),
        signingRoot: a.signing_root?.toLowerCase() ?? null,
      });
    }
  }
  const batches: [string, ImportedHistory][][] = [];
  let records = Infinity;
  for (const [pubkey, h] of histories) {
    const size = h.blocks.length + h.attestations.length;
    if (size > IMPORT_BATCH_RECORDS) {
      const part = Math.max(IMPORT_BATCH_RECORDS, Math.ceil(size / IMPORT_PARTS_PER_KEY));
      for (let i = 0; i < Math.max(h.blocks.length, h.attestations.length); i += part) {
        batches.push([[pubkey, {blocks: h.blocks.slice(i, i + part), attestations: h.attestations.slice(i, i + part)}]]);
      }
      records = Infinity;
      continue;
    }
    if (records + size > IMPORT_BATCH_RECORDS) {
      batches.push([]);
      records = 0;
    }
    batches[batches.length - 1].push([pubkey, h]);
    records += size;
  }
  return batches;
}

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

  private constructor(
    private readonly backend: SlashingBackend,
    private readonly url: string
  ) {}

  /**
   * `setUp`: connect now, create the tables and bind the database to `genesisValidatorsRoot` if
   * given (the main thread, at start; a database bound to another chain fails the start); else
   * connect when first used.
   */
  static async open(
    url: string,
    {setUp = false, genesisValidatorsRoot}: {setUp?: boolean; genesisValidatorsRoot?: string} = {}
  ): Promise<SlashingStore> {
    const target = parseSlashingUrl(url);
    const backend =
      target.kind === "sqlite"
        ? (await import("./sqlite.js")).openSqlite(target.path)
        : await (await import("./postgres.js")).openPostgres(target.url, setUp);
    const store = new SlashingStore(backend, url);
    if (setUp && genesisValidatorsRoot) {
      const wanted = genesisValidatorsRoot.toLowerCase();
      const bound = await store
        .bound([], wanted, async (_t, bound) => bound)
        .catch(async (e) => {
          await store.close();
          throw e;
        });
      if (bound !== wanted) {
        await store.close();
        throw new Error(
          `--slashing-protection: the database belongs to the chain with genesis validators root ${bound}, not this network's ${wanted}`
        );
      }
    }
    return store;
  }

  /**
   * One transaction after another; a database that fails is UNAVAILABLE (503), not a bug. The
   * deadline is fixed when called, or, given as a function, when the transaction's turn comes.
   */
  private serial<T>(
    pubkeys: string[],
    fn: (t: SlashingTables) => Promise<T>,
    deadline: number | (() => number) = Date.now() + KEYMANAGER_DEADLINE_MS
  ): Promise<T> {
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
    return this.serial(
      [],
      async (t) => void (await t.genesisRoot()),
      () => Date.now() + timeoutMs
    );
  }

  /**
   * Runs `fn` in a transaction, given the root the database is bound to (binding it to `root` if it
   * is bound to none). The binding is remembered once committed: a rolled-back one never happened.
   */
  private async bound<T>(
    pubkeys: string[],
    root: string,
    fn: (t: SlashingTables, bound: string) => Promise<T>,
    deadline?: number
  ): Promise<T> {
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
   * Imports an interchange document, merged into the history (see mergeHistory); its records then
   * bound what may be signed. A document of another chain is refused whole. Returns, per key whose
   * records are slashable (among themselves or with the history), why.
   *
   * It runs in batches of transactions (see IMPORT_BATCH_RECORDS), other transactions in between.
   * A failure part way leaves the batches before it imported: importing only ever adds records,
   * so that refuses more, never less, and importing again completes it.
   */
  async importInterchange(doc: Interchange): Promise<Map<string, string[]>> {
    const gvr = doc.metadata.genesis_validators_root.toLowerCase();
    const ofThisChain = (bound: string) => {
      if (bound !== gvr) {
        throw new InterchangeError(
          `slashing_protection: genesis_validators_root ${gvr} is not ${bound}, the chain this signer's slashing protection database belongs to`
        );
      }
    };
    await this.bound([], gvr, async (_t, bound) => ofThisChain(bound)); // binds an unbound database, before any record
    const slashable = new Map<string, string[]>();
    for (const batch of importBatches(doc)) {
      await this.bound(
        batch.map(([pubkey]) => pubkey),
        gvr,
        async (t, bound) => {
          ofThisChain(bound);
          for (const [pubkey, history] of batch) {
            const findings = await mergeHistory(t, pubkey, gvr, history);
            if (findings.length) slashable.set(pubkey, [...new Set([...(slashable.get(pubkey) ?? []), ...findings])]);
          }
        }
      );
      await new Promise(setImmediate); // SQLite is synchronous: let the event loop run between batches
    }
    return slashable;
  }

  /**
   * importInterchange of a document's text, parsed and merged on a thread of its own with its own
   * connection (src/slashing/importWorker.ts), so the caller's event loop, the HTTP thread's, stays
   * free however long the history. A bad document throws InterchangeError (400), as parsing here would.
   */
  importOffThread(text: string): Promise<Map<string, string[]>> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL("./importWorker.js", import.meta.url), {workerData: {url: this.url, text}});
      worker.once("message", (answer: ImportAnswer) => {
        if ("slashable" in answer) resolve(new Map(answer.slashable));
        else
          reject(
            answer.error.code === "BAD_REQUEST"
              ? new InterchangeError(answer.error.message)
              : new SignerError(answer.error.code, answer.error.message)
          );
      });
      worker.once("error", (e) => reject(new SignerError("UNAVAILABLE", `slashing protection import failed: ${e.message}`)));
      worker.once("exit", () => reject(new SignerError("UNAVAILABLE", "slashing protection import ended without an answer"))); // no-op once settled
    });
  }

  /**
   * Prunes every key's history to its last `epochsToKeep` epochs (see pruneHistory), one key per
   * transaction. Keys whose history holds a surround pair are left whole and counted.
   */
  async prune(epochsToKeep: bigint, slotsPerEpoch: bigint): Promise<{keys: number; deleted: number; skipped: number}> {
    const histories = await this.serial([], async (t) => t.histories());
    const result = {keys: histories.length, deleted: 0, skipped: 0};
    for (const {pubkey, gvr} of histories) {
      const deleted = await this.serial([pubkey], async (t) => pruneHistory(t, pubkey, gvr, epochsToKeep, slotsPerEpoch));
      if (deleted === null) result.skipped++;
      else result.deleted += deleted;
    }
    return result;
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

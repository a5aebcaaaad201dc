import pg from "pg";
import {fromColumn, MIGRATIONS, SCHEMA, type SlashingBackend, type SlashingTables, surroundAmongNeighbours, toColumn} from "./rules.js";

/** Rows per INSERT of an import, each statement well inside the session's statement_timeout. */
const INSERT_ROWS = 5000;

/** Advisory lock key for creating the schema, so signers starting together do not race. */
const SCHEMA_LOCK = 3076;

/**
 * Each session's limits, all well inside a request's deadline (SLASHING_DEADLINE_MS). They matter
 * most when a signer is cut off mid-transaction: the server ends its session after 2 s idle in the
 * transaction, releasing its keys' advisory locks, so other signers wait seconds, not until the
 * server notices the dead connection (TCP keepalive, both ends, bounds that too).
 */
const SESSION: pg.ClientConfig = {
  connectionTimeoutMillis: 2000,
  statement_timeout: 2000,
  lock_timeout: 2000,
  idle_in_transaction_session_timeout: 2000,
  keepAlive: true,
  keepAliveInitialDelayMillis: 1000,
  options: "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3",
};

/** Reconnect backoff: doubling from 50 ms up to 1 s, each delay jittered ±50%. */
const BACKOFF_FIRST_MS = 50;
const BACKOFF_MAX_MS = 1000;

/**
 * Slashing protection in PostgreSQL, which several signers can share. Each thread keeps one
 * connection. A transaction takes a transaction-scoped advisory lock per key (in sorted order, so
 * two batches never deadlock), which serializes everything written for a key across connections and
 * signers; reads then see every earlier transaction's records. A transaction must end by its
 * deadline, else it fails (its requests get 503) and the connection is dropped. While the database
 * is known to be down (a connection attempt failed, or a transaction got no answer), every
 * transaction fails at once until the next connection attempt, which backs off with jitter.
 */
export async function openPostgres(url: string, setUp: boolean): Promise<SlashingBackend> {
  let client: pg.Client | undefined;
  let failures = 0;
  let retryAt = 0;
  const markDown = () => {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** failures++);
    retryAt = Date.now() + delay * (0.5 + Math.random());
  };
  let connecting: Promise<pg.Client> | undefined;
  /**
   * The connection, or a new one: one attempt at a time, shared by whoever waits for it, and none
   * while the database is known to be down (those calls fail at once).
   */
  const connect = (): Promise<pg.Client> => {
    if (client) return Promise.resolve(client);
    const wait = retryAt - Date.now();
    if (wait > 0) return Promise.reject(new Error(`it is unreachable; next connection attempt in ${Math.ceil(wait)} ms`));
    if (connecting) return connecting;
    const c = new pg.Client({connectionString: url, ...SESSION});
    // Without a listener, a dropped connection would be an uncaught 'error' that ends the process.
    // A lost connection is replaced on the next transaction; only failing to reconnect backs off.
    c.on("error", () => {
      if (client === c) client = undefined;
    });
    connecting = c.connect().then(
      () => {
        failures = 0;
        client = c;
        return c;
      },
      (e: Error) => {
        markDown();
        void c.end().catch(() => undefined);
        throw e;
      }
    );
    void connecting.catch(() => undefined).finally(() => (connecting = undefined));
    return connecting;
  };
  const drop = (c: pg.Client | undefined) => {
    if (!c) return;
    if (client === c) client = undefined;
    // Closing rolls the transaction back on the server, and unlike a ROLLBACK it cannot hang.
    void c.end().catch(() => undefined);
  };

  if (setUp) {
    // At start, on the main thread: a bad URL fails the start, and the tables exist before any
    // worker connects (workers connect on their first batch, so nothing can fail as they load).
    const first = await connect().catch((e: Error) => {
      throw new Error(`--slashing-protection: cannot connect to PostgreSQL: ${e.message}`);
    });
    await first.query("BEGIN");
    // Not the session's request-sized limits: a migration builds an index over the whole history,
    // and a signer starting beside one waits for it.
    await first.query("SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0");
    await first.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
    await first.query(SCHEMA);
    const {rows} = await first.query("SELECT COALESCE(MAX(version), 1) AS version FROM schema_version");
    for (const m of MIGRATIONS.filter((m) => m.version > Number(rows[0].version))) {
      await first.query(m.sql);
      await first.query("INSERT INTO schema_version (version) VALUES ($1)", [m.version]);
    }
    await first.query("COMMIT");
  }

  // Named statements are parsed and planned once per connection, not on every call: that planning
  // was most of the server's CPU per request.
  const names = new Map<string, string>();
  const named = (c: pg.Client, text: string, values: unknown[]) => {
    let name = names.get(text);
    if (!name) names.set(text, (name = `ts3signer_${names.size}`));
    return c.query({name, text, values});
  };

  const tablesOf = (c: pg.Client): SlashingTables => {
    const rows = async <T>(sql: string, params: unknown[]) => (await named(c, sql, params)).rows as T[];
    const col = (v: bigint) => toColumn(v).toString();
    const orNull = (v: string | null) => (v === null ? null : fromColumn(v));
    const genesisRoot = async () =>
      (await rows<{root: string}>("SELECT genesis_validators_root AS root FROM genesis WHERE id = 1", []))[0]?.root ?? null;
    return {
      blockHistory: async (pk, gvr, slot) => {
        const [row] = await rows<{roots: (string | null)[]; lowest: string | null}>(
          `SELECT ARRAY(SELECT signing_root FROM signed_blocks WHERE pubkey = $1 AND gvr = $2 AND slot = $3) AS roots,
                  (SELECT MIN(slot) FROM signed_blocks WHERE pubkey = $1 AND gvr = $2) AS lowest`,
          [pk, gvr, col(slot)]
        );
        return {rootsAtSlot: row.roots, lowestSlot: orNull(row.lowest)};
      },
      insertBlock: async (pk, gvr, slot, root) => {
        await named(c, "INSERT INTO signed_blocks (pubkey, gvr, slot, signing_root) VALUES ($1, $2, $3, $4)", [pk, gvr, col(slot), root]);
      },
      attestationHistory: async (pk, gvr, source, target) => {
        // See surroundAmongNeighbours: the votes just below and above in source, from the index;
        // a key marked surrounded is scanned instead, in a second query.
        type Row = {
          roots: (string | null)[];
          low_s: string | null;
          low_t: string | null;
          b_s: string | null;
          b_t: string | null;
          a_s: string | null;
          a_t: string | null;
          surrounded: boolean;
        };
        const [row] = await rows<Row>(
          `SELECT ARRAY(SELECT signing_root FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 AND target = $4) AS roots,
                  (SELECT source FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 ORDER BY source LIMIT 1) AS low_s,
                  (SELECT target FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 ORDER BY target LIMIT 1) AS low_t,
                  below.source AS b_s, below.target AS b_t, above.source AS a_s, above.target AS a_t,
                  EXISTS (SELECT 1 FROM surrounded_histories WHERE pubkey = $1 AND gvr = $2) AS surrounded
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (SELECT source, target FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 AND source < $3
                              ORDER BY source DESC, target DESC LIMIT 1) AS below ON true
           LEFT JOIN LATERAL (SELECT source, target FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 AND source > $3
                              ORDER BY source, target LIMIT 1) AS above ON true`,
          [pk, gvr, col(source), col(target)]
        );
        const epochs = (s: string | null, t: string | null) =>
          s === null || t === null ? undefined : {source: fromColumn(s), target: fromColumn(t)};
        let surrounding = surroundAmongNeighbours(epochs(row.b_s, row.b_t), epochs(row.a_s, row.a_t), target);
        if (row.surrounded) {
          const [other] = await rows<{source: string; target: string}>(
            `SELECT source, target FROM signed_attestations WHERE pubkey = $1 AND gvr = $2
             AND ((source < $3 AND target > $4) OR (source > $3 AND target < $4)) LIMIT 1`,
            [pk, gvr, col(source), col(target)]
          );
          surrounding = other && epochs(other.source, other.target);
        }
        return {rootsForTarget: row.roots, surrounding, lowestSource: orNull(row.low_s), lowestTarget: orNull(row.low_t)};
      },
      insertAttestation: async (pk, gvr, source, target, root) => {
        await named(c, "INSERT INTO signed_attestations (pubkey, gvr, source, target, signing_root) VALUES ($1, $2, $3, $4, $5)", [
          pk,
          gvr,
          col(source),
          col(target),
          root,
        ]);
      },
      blocksBetween: async (pk, gvr, low, high) =>
        (
          await rows<{slot: string; root: string | null}>(
            "SELECT slot, signing_root AS root FROM signed_blocks WHERE pubkey = $1 AND gvr = $2 AND slot BETWEEN $3 AND $4",
            [pk, gvr, col(low), col(high)]
          )
        ).map((b) => ({slot: fromColumn(b.slot), signingRoot: b.root})),
      attestationsNear: async (pk, gvr, {sources: [s0, s1], targets: [t0, t1]}) =>
        (
          await rows<{source: string; target: string; root: string | null}>(
            `SELECT source, target, signing_root AS root FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 AND source BETWEEN $3 AND $4
             UNION ALL SELECT source, target, signing_root FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 AND target BETWEEN $5 AND $6
             UNION ALL (SELECT source, target, signing_root FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 AND source < $3 ORDER BY source DESC, target DESC LIMIT 1)
             UNION ALL (SELECT source, target, signing_root FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 AND source > $4 ORDER BY source, target LIMIT 1)`,
            [pk, gvr, col(s0), col(s1), col(t0), col(t1)]
          )
        ).map((a) => ({source: fromColumn(a.source), target: fromColumn(a.target), signingRoot: a.root})),
      histories: async () =>
        rows<{pubkey: string; gvr: string}>(
          "SELECT DISTINCT pubkey, gvr FROM signed_attestations UNION SELECT DISTINCT pubkey, gvr FROM signed_blocks",
          []
        ),
      highest: async (pk, gvr) => {
        const [row] = await rows<{t: string | null; s: string | null}>(
          `SELECT (SELECT MAX(target) FROM signed_attestations WHERE pubkey = $1 AND gvr = $2) AS t,
                  (SELECT MAX(slot) FROM signed_blocks WHERE pubkey = $1 AND gvr = $2) AS s`,
          [pk, gvr]
        );
        return {highestTarget: orNull(row.t), highestSlot: orNull(row.s)};
      },
      deleteAttestationsBelow: async (pk, gvr, target) =>
        (await named(c, "DELETE FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 AND target < $3", [pk, gvr, col(target)]))
          .rowCount ?? 0,
      deleteBlocksBelow: async (pk, gvr, slot) =>
        (await named(c, "DELETE FROM signed_blocks WHERE pubkey = $1 AND gvr = $2 AND slot < $3", [pk, gvr, col(slot)])).rowCount ?? 0,
      isSurrounded: async (pk, gvr) =>
        (await rows("SELECT 1 FROM surrounded_histories WHERE pubkey = $1 AND gvr = $2", [pk, gvr])).length > 0,
      blocksOf: async (pk, gvr) =>
        (
          await rows<{slot: string; root: string | null}>(
            "SELECT slot, signing_root AS root FROM signed_blocks WHERE pubkey = $1 AND gvr = $2 ORDER BY slot",
            [pk, gvr]
          )
        ).map((b) => ({
          slot: fromColumn(b.slot),
          signingRoot: b.root,
        })),
      attestationsOf: async (pk, gvr) =>
        (
          await rows<{source: string; target: string; root: string | null}>(
            "SELECT source, target, signing_root AS root FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 ORDER BY target",
            [pk, gvr]
          )
        ).map((a) => ({source: fromColumn(a.source), target: fromColumn(a.target), signingRoot: a.root})),
      insertBlocks: async (pk, gvr, blocks) => {
        for (let i = 0; i < blocks.length; i += INSERT_ROWS) {
          const rows = blocks.slice(i, i + INSERT_ROWS);
          await named(
            c,
            "INSERT INTO signed_blocks (pubkey, gvr, slot, signing_root) SELECT $1, $2, * FROM unnest($3::bigint[], $4::text[])",
            [pk, gvr, rows.map((b) => col(b.slot)), rows.map((b) => b.signingRoot)]
          );
        }
      },
      insertAttestations: async (pk, gvr, votes) => {
        for (let i = 0; i < votes.length; i += INSERT_ROWS) {
          const rows = votes.slice(i, i + INSERT_ROWS);
          await named(
            c,
            "INSERT INTO signed_attestations (pubkey, gvr, source, target, signing_root) SELECT $1, $2, * FROM unnest($3::bigint[], $4::bigint[], $5::text[])",
            [pk, gvr, rows.map((v) => col(v.source)), rows.map((v) => col(v.target)), rows.map((v) => v.signingRoot)]
          );
        }
      },
      markSurrounded: async (pk, gvr) => {
        await named(c, "INSERT INTO surrounded_histories (pubkey, gvr) VALUES ($1, $2) ON CONFLICT DO NOTHING", [pk, gvr]);
      },
      hasHistory: async (pk) =>
        (
          await rows(
            "SELECT 1 FROM signed_blocks WHERE pubkey = $1 UNION ALL SELECT 1 FROM signed_attestations WHERE pubkey = $1 LIMIT 1",
            [pk]
          )
        ).length > 0,
      inactiveAmong: async (pks) =>
        (await rows<{pubkey: string}>("SELECT pubkey FROM inactive_keys WHERE pubkey = ANY($1::text[])", [pks])).map((r) => r.pubkey),
      setInactive: async (pks, inactive) => {
        if (inactive) await named(c, "INSERT INTO inactive_keys (pubkey) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", [pks]);
        else await named(c, "DELETE FROM inactive_keys WHERE pubkey = ANY($1::text[])", [pks]);
      },
      bindGenesisRoot: async (root) => {
        // A signer binding concurrently waits on the row's key here, then reads the winner's root.
        await named(c, "INSERT INTO genesis (id, genesis_validators_root) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", [root]);
        return (await genesisRoot())!;
      },
      genesisRoot,
    };
  };

  return {
    async transaction(pubkeys, fn, deadline) {
      const budget = deadline - Date.now();
      if (budget <= 0) throw new Error("no time was left before the request's deadline");
      let c: pg.Client | undefined;
      let timedOut = false;
      const attempt = async () => {
        c = await connect();
        if (timedOut) throw new Error("deadline passed"); // nothing may use `c` from here: the next transaction will
        await c.query("BEGIN");
        const keys = [...new Set(pubkeys)].sort();
        if (keys.length) {
          await named(
            c,
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) AS sorted",
            [keys]
          );
        }
        const result = await fn(tablesOf(c));
        await c.query("COMMIT");
        return result;
      };
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new Error(`no answer within ${budget} ms`));
        }, budget);
      });
      try {
        return await Promise.race([attempt(), late]);
      } catch (e) {
        drop(c);
        // A transaction that had time and still got no answer: the database is in trouble.
        if (timedOut && budget >= 1000) markDown();
        throw e;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}

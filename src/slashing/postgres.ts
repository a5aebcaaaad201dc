import pg from "pg";
import {SCHEMA, type SlashingBackend, type SlashingTables, fromColumn, toColumn} from "./rules.js";

/** Advisory lock key for creating the schema, so signers starting together do not race. */
const SCHEMA_LOCK = 3076;

/**
 * Slashing protection in PostgreSQL, which several signers can share. Each thread keeps one
 * connection. A transaction takes a transaction-scoped advisory lock per key (in sorted order, so
 * two batches never deadlock), which serializes everything written for a key across connections and
 * signers; reads then see every earlier transaction's records. A lost connection, or a query not
 * answered within 10 s, fails the transaction in hand (its requests get 503) and the next one
 * reconnects.
 */
export async function openPostgres(url: string, setUp: boolean): Promise<SlashingBackend> {
  let client: pg.Client | undefined;
  const connect = async () => {
    if (client) return client;
    // Bounded waits: a database that stops answering costs a request a 503, never a hung request.
    const c = new pg.Client({connectionString: url, connectionTimeoutMillis: 10_000, query_timeout: 10_000});
    // Without a listener, a dropped connection would be an uncaught 'error' that ends the process.
    c.on("error", () => {
      if (client === c) client = undefined;
    });
    await c.connect();
    client = c;
    return c;
  };
  const fail = (c: pg.Client) => {
    if (client === c) client = undefined;
    void c.end().catch(() => undefined);
  };

  if (setUp) {
    // At start, on the main thread: a bad URL fails the start, and the tables exist before any
    // worker connects (workers connect on their first batch, so nothing can fail as they load).
    const first = await connect().catch((e: Error) => {
      throw new Error(`--slashing-protection: cannot connect to PostgreSQL: ${e.message}`);
    });
    await first.query("BEGIN");
    await first.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
    await first.query(SCHEMA);
    await first.query("COMMIT");
  }

  // Named statements are parsed and planned once per connection, not on every call: that planning
  // was most of the server's CPU per request.
  const names = new Map<string, string>();
  const run = (c: pg.Client, text: string, values: unknown[]) => {
    let name = names.get(text);
    if (!name) names.set(text, (name = `ts3signer_${names.size}`));
    return c.query({name, text, values});
  };

  const tablesOf = (c: pg.Client): SlashingTables => {
    const rows = async <T>(sql: string, params: unknown[]) => (await run(c, sql, params)).rows as T[];
    const col = (v: bigint) => toColumn(v).toString();
    const orNull = (v: string | null) => (v === null ? null : fromColumn(v));
    const genesisRoot = async () => (await rows<{root: string}>("SELECT genesis_validators_root AS root FROM genesis WHERE id = 1", []))[0]?.root ?? null;
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
        await run(c, "INSERT INTO signed_blocks (pubkey, gvr, slot, signing_root) VALUES ($1, $2, $3, $4)", [pk, gvr, col(slot), root]);
      },
      attestationHistory: async (pk, gvr, source, target) => {
        const [row] = await rows<{roots: (string | null)[]; s: string | null; t: string | null; low_s: string | null; low_t: string | null}>(
          `SELECT ARRAY(SELECT signing_root FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 AND target = $4) AS roots,
                  other.source AS s, other.target AS t, lowest.s AS low_s, lowest.t AS low_t
           FROM (SELECT MIN(source) AS s, MIN(target) AS t FROM signed_attestations WHERE pubkey = $1 AND gvr = $2) AS lowest
           LEFT JOIN LATERAL (SELECT source, target FROM signed_attestations WHERE pubkey = $1 AND gvr = $2
                              AND ((source < $3 AND target > $4) OR (source > $3 AND target < $4)) LIMIT 1) AS other ON true`,
          [pk, gvr, col(source), col(target)]
        );
        return {
          rootsForTarget: row.roots,
          surrounding: row.s === null || row.t === null ? undefined : {source: fromColumn(row.s), target: fromColumn(row.t)},
          lowestSource: orNull(row.low_s),
          lowestTarget: orNull(row.low_t),
        };
      },
      insertAttestation: async (pk, gvr, source, target, root) => {
        await run(c, "INSERT INTO signed_attestations (pubkey, gvr, source, target, signing_root) VALUES ($1, $2, $3, $4, $5)", [pk, gvr, col(source), col(target), root]);
      },
      blocksOf: async (pk, gvr) =>
        (await rows<{slot: string; root: string | null}>("SELECT slot, signing_root AS root FROM signed_blocks WHERE pubkey = $1 AND gvr = $2 ORDER BY slot", [pk, gvr])).map((b) => ({
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
      hasAttestation: async (pk, gvr, source, target, root) =>
        (
          await rows(
            "SELECT 1 FROM signed_attestations WHERE pubkey = $1 AND gvr = $2 AND source = $3 AND target = $4 AND signing_root IS NOT DISTINCT FROM $5",
            [pk, gvr, col(source), col(target), root]
          )
        ).length > 0,
      hasHistory: async (pk) => (await rows("SELECT 1 FROM signed_blocks WHERE pubkey = $1 UNION ALL SELECT 1 FROM signed_attestations WHERE pubkey = $1 LIMIT 1", [pk])).length > 0,
      bindGenesisRoot: async (root) => {
        // A signer binding concurrently waits on the row's key here, then reads the winner's root.
        await run(c, "INSERT INTO genesis (id, genesis_validators_root) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", [root]);
        return (await genesisRoot())!;
      },
      genesisRoot,
    };
  };

  return {
    async transaction(pubkeys, fn) {
      const c = await connect();
      try {
        await c.query("BEGIN");
        const keys = [...new Set(pubkeys)].sort();
        if (keys.length) {
          await run(c, "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) AS sorted", [keys]);
        }
        const result = await fn(tablesOf(c));
        await c.query("COMMIT");
        return result;
      } catch (e) {
        // Dropping the connection rolls the transaction back on the server, and unlike a ROLLBACK
        // it cannot hang on a connection that stopped answering; the next batch reconnects.
        fail(c);
        throw e;
      }
    },
    async close() {
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}

import {execFileSync, spawnSync} from "node:child_process";
import {chownSync, existsSync, mkdtempSync, readdirSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import pg from "pg";

/**
 * A throwaway PostgreSQL server for the tests and benches, from the machine's own PostgreSQL binaries (Debian's
 * postgresql package), on a Unix socket in a temporary folder: nothing listens on the network.
 * Run as root, the server runs as the `postgres` user. Undefined, with the reason, where it can't.
 */
export type TestPostgres = {
  /** A new empty database: its connection URL. */
  createDatabase(): Promise<string>;
  /** A new empty schema in one shared database: its connection URL. Far quicker than a database. */
  createSchema(): Promise<string>;
  stop(): void;
};

export function postgresBinaries(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root)
    .sort((a, b) => Number(b) - Number(a))
    .find((v) => existsSync(join(root, v, "bin", "pg_ctl")));
  return version && join(root, version, "bin");
}

export function startTestPostgres(): TestPostgres | {unavailable: string} {
  const bin = postgresBinaries();
  if (!bin) return {unavailable: "no PostgreSQL server binaries (Debian: apt-get install postgresql)"};
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number(spawnSync("id", ["-u", "postgres"]).stdout?.toString().trim()) : undefined;
  if (asRoot && !Number.isInteger(uid)) return {unavailable: "running as root and there is no postgres user to run the server as"};
  const dir = mkdtempSync(join(tmpdir(), "ts3signer-pg-"));
  if (asRoot) chownSync(dir, uid!, uid!);
  const run = (cmd: string, args: string[]) =>
    execFileSync(asRoot ? "runuser" : join(bin, cmd), asRoot ? ["-u", "postgres", "--", join(bin, cmd), ...args] : args, {stdio: "pipe"});
  const data = join(dir, "data");
  try {
    run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync"]);
    run("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-w", "-o", `-c listen_addresses='' -k ${dir} -c fsync=off`, "start"]);
  } catch (e) {
    rmSync(dir, {recursive: true, force: true});
    return {unavailable: `could not start PostgreSQL: ${(e as {stderr?: Buffer}).stderr?.toString() || (e as Error).message}`};
  }
  // The server trusts local connections; the password is there so tests can check it is never logged.
  const url = (db: string) => `postgres://postgres:pg-secret@localhost/${db}?host=${encodeURIComponent(dir)}`;
  let n = 0;
  const inDatabase = async (db: string, sql: string) => {
    const admin = new pg.Client({connectionString: url(db)});
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  const createDatabase = async () => {
    const name = `t${process.pid}_${n++}`;
    await inDatabase("postgres", `CREATE DATABASE ${name}`);
    return name;
  };
  let schemas: Promise<string> | undefined;
  return {
    createDatabase: async () => url(await createDatabase()),
    async createSchema() {
      const db = await (schemas ??= createDatabase());
      const name = `s${n++}`;
      await inDatabase(db, `CREATE SCHEMA ${name}`);
      return `${url(db)}&options=${encodeURIComponent(`-c search_path=${name}`)}`;
    },
    stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
      } finally {
        rmSync(dir, {recursive: true, force: true});
      }
    },
  };
}

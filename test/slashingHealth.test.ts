/**
 * What an operator sees of the slashing protection database: /healthcheck names its check and
 * answers 503 while it is unreachable (as Web3Signer's does), and the log has one line when it
 * goes away and one when it is back, with how long it was gone.
 */
import {mkdtempSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import Database from "better-sqlite3";
import {afterAll, describe, expect, it} from "vitest";
import {errorClass} from "../src/slashing/health.js";
import {startTestPostgres} from "./helpers/postgres.js";
import {request, startTestSigner} from "./helpers/signer.js";
import {startTcpProxy} from "./helpers/tcpProxy.js";

const postgres = startTestPostgres();
afterAll(() => ("stop" in postgres ? postgres.stop() : undefined));
if ("unavailable" in postgres) console.warn(`PostgreSQL health tests skipped: ${postgres.unavailable}`);

const health = async (url: string) => {
  const r = await request(`${url}/healthcheck`);
  return {status: r.status, body: r.json()};
};

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the slashing protection database, seen from outside", () => {
  it.runIf("createDatabase" in postgres)(
    "PostgreSQL cut off: /healthcheck 503 naming the check, one log line down (no password) and one back up",
    async () => {
      const url = new URL(await (postgres as {createDatabase(): Promise<string>}).createDatabase());
      const proxy = await startTcpProxy({path: join(url.searchParams.get("host")!, ".s.PGSQL.5432")});
      const s = await startTestSigner({
        network: "minimal",
        interopKeys: "1",
        slashingProtection: `postgres://postgres:pg-secret@127.0.0.1:${proxy.port}${url.pathname}`,
      });
      const logged = (msg: RegExp) => s.lines.map((l) => JSON.parse(l)).filter((l) => msg.test(l.msg));
      try {
        expect(await health(s.url)).toEqual({
          status: 200,
          body: {
            status: "UP",
            outcome: "UP",
            checks: [
              {id: "keys-check", status: "UP", keys_loaded: 1},
              {id: "slashing-protection-db-health-check", status: "UP"},
            ],
          },
        });

        proxy.cut(); // a network split: the server hears nothing and answers nothing
        const down = await until(
          () => health(s.url),
          (h) => h.status === 503,
          "the database check to fail"
        );
        expect(down.body).toEqual({
          status: "DOWN",
          outcome: "DOWN",
          checks: [
            {id: "keys-check", status: "UP", keys_loaded: 1},
            {id: "slashing-protection-db-health-check", status: "DOWN"},
          ],
        });
        await new Promise((r) => setTimeout(r, 3000)); // several more failed probes: still one line
        expect(logged(/database unreachable/)).toEqual([
          expect.objectContaining({level: "error", error: "timeout", database: expect.stringContaining(`127.0.0.1:${proxy.port}`)}),
        ]);
        expect(s.lines.join("\n")).not.toContain("pg-secret");

        proxy.heal();
        await until(
          () => health(s.url),
          (h) => h.status === 200,
          "the database check to pass again"
        );
        const [back, ...more] = logged(/reachable again/);
        expect(more).toEqual([]);
        expect(back).toMatchObject({level: "info"});
        expect(back.down_seconds).toBeGreaterThanOrEqual(3);
        expect(back.down_seconds).toBeLessThan(20);
        expect(logged(/database unreachable/)).toHaveLength(1);
      } finally {
        await s.close();
        proxy.heal();
        await proxy.close();
      }
    }
  );

  it("SQLite: /healthcheck names the check; a Keymanager transaction that fails marks it DOWN until a probe gets through", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts3signer-health-"));
    const path = join(dir, "s.sqlite");
    // One worker, which has opened the file once the keys are loaded (they are made on it): a worker
    // still opening it when the lock below is taken would fail to start (SQLITE_BUSY).
    const s = await startTestSigner({network: "minimal", interopKeys: "1", dataDir: dir, slashingProtection: `sqlite:${path}`, workers: 1});
    const locker = new Database(path);
    try {
      const checks = async () => (await health(s.url)).body.checks.map((c: {id: string; status: string}) => `${c.id} ${c.status}`);
      expect(await checks()).toEqual(["keys-check UP", "slashing-protection-db-health-check UP"]);
      locker.exec("BEGIN IMMEDIATE"); // holds the write lock past the signer's 2 s busy timeout
      const token = readFileSync(join(dir, "api-token.txt"), "utf8").trim();
      const failed = await request(`${s.url}/eth/v1/keystores`, {
        method: "DELETE",
        headers: {authorization: `Bearer ${token}`, "content-type": "application/json"},
        body: JSON.stringify({pubkeys: [`0x${"ab".repeat(48)}`]}),
      });
      expect(failed.status).toBe(503);
      expect(await health(s.url)).toMatchObject({status: 503, body: {status: "DOWN"}});
      const lines = () => s.lines.map((l) => JSON.parse(l));
      expect(lines().filter((l) => /database unreachable/.test(l.msg))).toEqual([expect.objectContaining({error: "SQLITE_BUSY"})]);
      locker.exec("ROLLBACK");
      await until(
        () => health(s.url),
        (h) => h.status === 200,
        "the probe to get through",
        15_000
      );
      expect(lines().filter((l) => /database reachable again/.test(l.msg))).toHaveLength(1);
    } finally {
      if (locker.inTransaction) locker.exec("ROLLBACK");
      locker.close();
      await s.close();
    }
  });

  it("names an error by its class, never by its message", () => {
    expect(errorClass(Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:5432"), {code: "ECONNREFUSED"}))).toBe("ECONNREFUSED");
    expect(errorClass(Object.assign(new Error('password authentication failed for user "signer"'), {code: "28P01"}))).toBe("28P01");
    expect(errorClass(new Error("no answer within 2000 ms"))).toBe("timeout");
    expect(errorClass(new Error("Connection terminated unexpectedly"))).toBe("connection lost");
  });
});

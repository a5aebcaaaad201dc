/**
 * PostgreSQL slashing protection when the database is not there: a server that resets every
 * connection (down), and one that accepts and then says nothing (hung). Both are fakes on
 * loopback; the store must bound every wait and not hammer the server.
 */
import net from "node:net";
import {afterEach, describe, expect, it} from "vitest";
import {SlashingStore} from "../src/slashing/store.js";

const item = {
  pubkey: "0x" + "a1".repeat(48),
  check: {kind: "block" as const, genesisValidatorsRoot: "0x" + "42".repeat(32), slot: 1n},
  signingRoot: "0x" + "01".repeat(32),
};

/** A TCP server on loopback that counts connections and treats each with `handle`. */
async function fakeServer(handle: (socket: net.Socket) => void) {
  const state = {connections: 0, sockets: [] as net.Socket[]};
  const server = net.createServer((socket) => {
    state.connections++;
    state.sockets.push(socket);
    socket.on("error", () => undefined);
    handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `postgres://signer:pw@127.0.0.1:${(server.address() as net.AddressInfo).port}/slashing`;
  const close = () => {
    for (const s of state.sockets) s.destroy();
    return new Promise((resolve) => server.close(resolve));
  };
  return {state, url, close};
}

describe("PostgreSQL slashing protection without a database", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0)) await fn();
  });

  it("backs off while the database refuses: a few connection attempts a second, each call answered at once", async () => {
    const server = await fakeServer((socket) => socket.resetAndDestroy());
    const store = await SlashingStore.open(server.url);
    cleanup.push(() => store.close(), server.close);
    const started = performance.now();
    let calls = 0;
    while (performance.now() - started < 2000) {
      const t0 = performance.now();
      const error = await store.checkBatch([item]).catch((e: Error & {code?: string}) => e);
      expect(error).toMatchObject({code: "UNAVAILABLE", message: expect.stringMatching(/^slashing protection database unavailable/)});
      expect(performance.now() - t0).toBeLessThan(1000);
      calls++;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(calls).toBeGreaterThan(50);
    // Backing off from 50 ms to 1 s (±50%): about 6 attempts in 2 s, not one per call.
    expect(server.state.connections).toBeGreaterThanOrEqual(2);
    expect(server.state.connections).toBeLessThanOrEqual(12);
  });

  it("fails a transaction by its deadline when the database hangs, and the ones queued behind it at once", async () => {
    const server = await fakeServer(() => undefined); // accepts, then never answers
    const store = await SlashingStore.open(server.url);
    cleanup.push(() => store.close(), server.close);
    const t0 = performance.now();
    const first = store.checkBatch([item], Date.now() + 1200).catch((e: Error) => ({e, ms: performance.now() - t0}));
    const queued = store.checkBatch([item], Date.now() + 5000).catch((e: Error) => ({e, ms: performance.now() - t0}));
    const [a, b] = await Promise.all([first, queued]);
    expect(a).toMatchObject({e: {code: "UNAVAILABLE"}});
    expect(b).toMatchObject({e: {code: "UNAVAILABLE"}});
    expect((a as {ms: number}).ms).toBeGreaterThanOrEqual(1100);
    expect((a as {ms: number}).ms).toBeLessThan(2000);
    // Known down after the first got no answer: the second does not wait out its own 5 s.
    expect((b as {ms: number}).ms).toBeLessThan(2000);
  });
});

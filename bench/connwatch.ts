/**
 * What the stalled-connection sweep (native/connwatch, src/server/stalledConnections.ts) costs as
 * connections grow: a signer with N kept-alive connections open (64, 640, 6,400: 1×, 10×, 100× a
 * validator client's pool in the tests), the time of one sweep.
 *   node dist/bench/connwatch.js
 * The connections' client ends are in this process too, so the sweep walks 2N descriptors.
 */
import {createRequire} from "node:module";
import {connect, type Socket} from "node:net";
import {defaultConfig} from "../src/config/args.js";
import {createLogger} from "../src/log.js";
import {startSigner} from "../src/signer.js";

const addon = createRequire(import.meta.url)("../../native/connwatch/build/Release/connwatch.node") as {
  sweep(port: number, quietMs: number): number;
};
const signer = await startSigner(
  {...defaultConfig, port: 0, metricsPort: 0, workers: 1, interopKeys: "1"},
  createLogger({level: "error", format: "json", write: () => {}})
);
await signer.ready;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const n of [64, 640, 6400]) {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const socket = connect(signer.port, "127.0.0.1", () => socket.write("GET /upcheck HTTP/1.1\r\nHost: bench\r\n\r\n"));
    socket.on("error", () => {});
    socket.resume();
    sockets.push(socket);
    if (i % 200 === 199) await sleep(20);
  }
  await sleep(1000);
  const runs = 20;
  const t0 = performance.now();
  let ended = 0;
  for (let i = 0; i < runs; i++) ended += addon.sweep(signer.port, 60_000);
  const ms = (performance.now() - t0) / runs;
  console.log(
    `${String(n).padStart(5)} kept connections: one sweep ${ms.toFixed(2)} ms (${((1000 * ms) / (2 * n)).toFixed(1)} µs a descriptor), ${ended} ended; spaced to 1%: a sweep every ${Math.max(200, ms * 99).toFixed(0)} ms`
  );
  for (const s of sockets) s.destroy();
  await sleep(500);
}
await signer.close();

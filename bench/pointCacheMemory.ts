/**
 * What one worker's point cache holds in memory at its cap: a fresh process fills a cache with
 * POINT_CACHE_ROOTS distinct roots and reports how much its RSS, its heap and its ArrayBuffers
 * grew over signing as much with one root; then it makes TABLE_ROOTS roots hot, and more, and
 * reports what the hot-root tables added. Fresh, so the growth is not hidden in pages an earlier
 * measurement freed.
 */
import {execFileSync} from "node:child_process";
import {
  createSigner,
  POINT_CACHE_ROOTS,
  signEngine,
  signingKey,
  TABLE_AFTER_SIGNATURES,
  TABLE_ROOTS,
  tableBytes,
} from "../src/signing/fastSign.js";

export type PointCacheMemory = {
  roots: number;
  rssBytes: number;
  heapBytes: number;
  pointBytes: number;
  /** The tables at their cap: how many, what they added to RSS, and what the addon allocated for them. */
  tables: number;
  tableRssBytes: number;
  tableBytes: number;
};

export function measurePointCacheMemory(): PointCacheMemory | undefined {
  if (signEngine !== "native-point-cache") return undefined;
  return JSON.parse(execFileSync(process.execPath, ["--expose-gc", new URL(import.meta.url).pathname], {encoding: "utf8"}));
}

function fill(): PointCacheMemory {
  const gc = (globalThis as {gc?: () => void}).gc!;
  const sign = createSigner();
  const key = signingKey(Buffer.alloc(32, 7));
  const root = new Uint8Array(32);
  // The same signing with one root first, so the heaps grow to their working size before.
  for (let i = 0; i <= POINT_CACHE_ROOTS + 16; i++) sign(key, root);
  gc();
  const before = process.memoryUsage();
  for (let i = 1; i <= POINT_CACHE_ROOTS + 16; i++) {
    new DataView(root.buffer).setUint32(0, i);
    sign(key, root);
  }
  gc();
  const after = process.memoryUsage();
  // A second signer, with no table yet (the first built one for its warm-up root).
  const hotSign = createSigner();
  for (let i = 1; i <= TABLE_ROOTS + 4; i++) {
    new DataView(root.buffer).setUint32(4, i);
    for (let n = 0; n < TABLE_AFTER_SIGNATURES; n++) hotSign(key, root);
  }
  gc();
  const hot = process.memoryUsage();
  // Both signers are used after the measurements, so the collector cannot free their caches before them.
  sign(key, root);
  hotSign(key, root);
  return {
    roots: POINT_CACHE_ROOTS,
    rssBytes: after.rss - before.rss,
    heapBytes: after.heapUsed - before.heapUsed,
    pointBytes: after.arrayBuffers - before.arrayBuffers,
    tables: TABLE_ROOTS,
    tableRssBytes: hot.rss - after.rss,
    tableBytes: TABLE_ROOTS * tableBytes(), // what the addon allocates for them (outside V8's heap and ArrayBuffers)
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(JSON.stringify(fill()));

import {createHash} from "node:crypto";

/**
 * Spec functions written out with node:crypto, independent of the signer's SSZ and sha256 code,
 * to check what it computes.
 */
export const sha256 = (...parts: Uint8Array[]) => new Uint8Array(createHash("sha256").update(Buffer.concat(parts)).digest());
export const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");
export const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/^0x/, ""), "hex"));

/** A uint64 as an SSZ chunk (little endian, zero padded). */
export function uint64Chunk(n: bigint): Uint8Array {
  const chunk = new Uint8Array(32);
  new DataView(chunk.buffer).setBigUint64(0, n, true);
  return chunk;
}

/** merkleize(chunks) for a container of fewer than 2^k fields: pad to a power of two, hash pairs. */
export function merkleize(chunks: Uint8Array[]): Uint8Array {
  let layer = [...chunks];
  let width = 1;
  while (width < layer.length) width *= 2;
  while (layer.length < width) layer.push(new Uint8Array(32));
  while (layer.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < layer.length; i += 2) next.push(sha256(layer[i], layer[i + 1]));
    layer = next;
  }
  return layer[0];
}

export function computeDomain(domainType: string, forkVersion: Uint8Array, genesisValidatorsRoot: Uint8Array): Uint8Array {
  const forkVersionChunk = new Uint8Array(32);
  forkVersionChunk.set(forkVersion);
  const forkDataRoot = sha256(forkVersionChunk, genesisValidatorsRoot);
  return new Uint8Array([...bytes(domainType), ...forkDataRoot.subarray(0, 28)]);
}

export const computeSigningRoot = (objectRoot: Uint8Array, domain: Uint8Array) => sha256(objectRoot, domain);

export const DOMAIN = {
  BEACON_PROPOSER: "00000000",
  BEACON_ATTESTER: "01000000",
  RANDAO: "02000000",
  DEPOSIT: "03000000",
  VOLUNTARY_EXIT: "04000000",
  SELECTION_PROOF: "05000000",
  AGGREGATE_AND_PROOF: "06000000",
  SYNC_COMMITTEE: "07000000",
  SYNC_COMMITTEE_SELECTION_PROOF: "08000000",
  CONTRIBUTION_AND_PROOF: "09000000",
  APPLICATION_BUILDER: "00000001",
} as const;

/** A small seeded PRNG (mulberry32), so generated cases are the same on every run. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    bytes: (n: number) => Uint8Array.from({length: n}, () => Math.floor(next() * 256)),
  };
}

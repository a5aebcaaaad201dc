import type {NetworkConfig} from "../config/networks.js";
import type {ErrorCode} from "../errors.js";
import type {PointCacheOutcome} from "../metrics/metrics.js";
import type {RequestType} from "../signing/requestTypeNames.js";

/**
 * The protocol between the main thread (pool.ts) and the signing workers (worker.ts): plain data
 * both sides import, since class instances do not survive postMessage.
 */
export type SignerWorkerData = {
  network: NetworkConfig;
  /** The shared KeyTable buffer (src/keys/keyTable.ts). */
  keyTable: SharedArrayBuffer;
  /** The slashing protection database URL (--slashing-protection), when enabled. */
  slashingProtection?: string;
};

/**
 * One batch of requests: the n-th request is `bodies[ends[n-1] .. ends[n])`, signed with key
 * `refs[2n]` (slot) / `refs[2n+1]` (state). Slashing protection must have answered by `deadline`
 * (epoch ms: the earliest of its requests'), else they get a 503.
 */
export type SignTask = {refs: Int32Array; bodies: Uint8Array; ends: Uint32Array; deadline: number};

/**
 * `type` is the request type when it could be read (for metrics), else "unknown". `pointCache`: how
 * the worker found H(signing root) (src/signing/fastSign.ts); absent with the fallback.
 */
export type SignResult =
  | {type: RequestType; signature: string; pointCache?: PointCacheOutcome}
  | {type: RequestType | "unknown"; code: ErrorCode; message: string};

/** Public keys (48 bytes each) of secret keys (32 bytes each), derived in a worker. */
export type DeriveTask = {secretKeys: Uint8Array};

/** Keys generated in a worker: interop keys, or EIP-2334 signing keys of a mnemonic's seed. */
export type GenerateTask =
  | {kind: "interop"; start: number; count: number}
  | {kind: "mnemonic"; seed: Uint8Array; start: number; count: number};
/** What generateKeys yields on the main thread (the worker moves one buffer: secret keys, then public keys). */
export type GeneratedKeys = {secretKeys: Uint8Array; publicKeys: Uint8Array};

declare const movedBrand: unique symbol;
/** A value a worker task moves (transfers) to the main thread, which receives it as `T` itself. */
export type Moved<T> = {readonly [movedBrand]: T};

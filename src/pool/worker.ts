/**
 * A signing worker: a module of plain functions that Piscina calls by name (pool.ts takes the names,
 * and what each takes and returns, from this module's exports: every export is a task). It holds the network's
 * SSZ types; the keys live in the shared KeyTable, which the main thread updates, and the worker
 * signs from it directly: it keeps nothing per key, so a million keys cost a worker nothing.
 */
import {workerData} from "node:worker_threads";
import {SecretKey} from "@chainsafe/blst";
import {move} from "piscina";
import {SignerError, unknownKeyMessage} from "../errors.js";
import {bytesToHex} from "../hex.js";
import {interopSecretKey} from "../keys/interop.js";
import {type KeyRef, KeyTable} from "../keys/keyTable.js";
import {deriveChildSk, deriveMasterSk} from "../keys/mnemonic.js";
import {copySecret, scalarToBytes, secretBuffer} from "../keys/scalar.js";
import {FieldError} from "../signing/errors.js";
import {createSigner, signingKey} from "../signing/fastSign.js";
import type {RequestType} from "../signing/requestTypeNames.js";
import {routingTypeOf} from "../signing/requestTypeNames.js";
import {createSigningContext, parseRequestBody, requestTypeOf, type SigningMessage, signingMessageOf} from "../signing/signingRoot.js";
import {SlashingStore} from "../slashing/store.js";
import type {DeriveTask, GenerateTask, Moved, SignerWorkerData, SignResult, SignTask} from "./protocol.js";

const {network, keyTable, slashingProtection} = workerData as SignerWorkerData;
const ctx = createSigningContext(network);
const table = KeyTable.attach(keyTable);
const slashing = slashingProtection ? await SlashingStore.open(slashingProtection) : undefined;

/** A request whose key was removed while it waited; the HTTP thread names the key. */
const keyGone = (type: RequestType): SignResult => ({type, code: "UNKNOWN_KEY", message: unknownKeyMessage("this public key")});

/** A request ready to sign: its type (for metrics) and its signing root. */
type Prepared = SigningMessage & {type: RequestType};

/** Signs with this worker's cache of H(root) (src/signing/fastSign.ts). */
const sign = createSigner();
/** The one place a secret key is copied to in this worker, for one signature at a time; wiped after each. */
const secret = secretBuffer(32);

/** Signs a batch; with slashing protection, after one database transaction has cleared it. */
export function signBatch(task: SignTask): SignResult[] | Promise<SignResult[]> {
  const n = task.ends.length;
  const bodies = Buffer.from(task.bodies.buffer, task.bodies.byteOffset, task.bodies.byteLength);
  const results = new Array<SignResult | undefined>(n);
  const messages = new Array<Prepared | undefined>(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = task.ends[i];
    const parsed = prepare(bodies, start, end);
    if ("code" in parsed) results[i] = parsed;
    else messages[i] = parsed;
    start = end;
  }
  if (!slashing) return signAll(task, messages, results);
  return checkSlashing(slashing, task, messages, results).then(() => signAll(task, messages, results));
}

/**
 * Signs every prepared request that has no result yet. Requests that share a signing root share
 * one H(root): the first hashes it into the worker's cache, the rest of the batch (and later
 * batches) only multiply, and once the root is hot, sum entries of its table.
 */
function signAll(task: SignTask, messages: (Prepared | undefined)[], results: (SignResult | undefined)[]): SignResult[] {
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (results[i] || !message) continue;
    results[i] = signWith({slot: task.refs[2 * i], state: task.refs[2 * i + 1]}, message);
  }
  return results as SignResult[];
}

/** Parse, validate, signing root: a message to sign, or the reason there is none. */
function prepare(bodies: Buffer, start: number, end: number): Prepared | Extract<SignResult, {code: string}> {
  let type: RequestType | "unknown" = "unknown";
  try {
    const body = parseRequestBody(bodies.toString("utf8", start, end));
    const known = requestTypeOf(body);
    type = known;
    // The HTTP thread picked this request's lane (and labels) by the first "type" in the text: a
    // nested "type" before the real one would have sent a block where nothing waits for the database.
    const routed = routingTypeOf(bodies, start, end);
    if (routed !== "unknown" && routed !== known) {
      throw new FieldError(
        "type",
        `the first "type" in the body (${routed}) is not the request's own (${known}); send the request's type before any nested "type"`
      );
    }
    return {type: known, ...signingMessageOf(body, known, ctx)};
  } catch (e) {
    if (e instanceof SignerError) return {type, code: e.code, message: e.message};
    // A bug, not bad input; the message is ours (never a key) and the main thread logs it.
    return {type, code: "INTERNAL", message: `internal error: ${(e as Error)?.message ?? String(e)}`};
  }
}

/**
 * Slashing protection for a batch: every block and attestation in it is checked and recorded in
 * one transaction, before anything is signed. If the database fails, nothing slashable is signed.
 * Each request's key is resolved first from the slot and state it was queued with: a key deleted
 * while its request waited is not checked, so nothing is recorded under a key that took its slot.
 */
async function checkSlashing(
  store: SlashingStore,
  task: SignTask,
  messages: (Prepared | undefined)[],
  results: (SignResult | undefined)[]
): Promise<void> {
  const slashable: number[] = [];
  const pubkeys: string[] = [];
  messages.forEach((m, i) => {
    if (!m?.slashing) return;
    const pubkey = table.readPubkey({slot: task.refs[2 * i], state: task.refs[2 * i + 1]});
    if (!pubkey) {
      results[i] = keyGone(m.type);
      return;
    }
    slashable.push(i);
    pubkeys.push(bytesToHex(pubkey));
  });
  if (!slashable.length) return;
  try {
    const refusals = await store.checkBatch(
      slashable.map((i, k) => ({pubkey: pubkeys[k], check: messages[i]!.slashing!, signingRoot: bytesToHex(messages[i]!.signingRoot)})),
      task.deadline
    );
    refusals.forEach((refusal, k) => {
      const i = slashable[k];
      if (refusal) results[i] = {type: messages[i]!.type, code: "SLASHING", message: `refused by slashing protection: ${refusal}`};
    });
  } catch (e) {
    for (const i of slashable) {
      results[i] ??= {type: messages[i]!.type, code: "UNAVAILABLE", message: (e as Error).message};
    }
  }
}

/**
 * Signs with the key of `ref` read from the table (copying 32 bytes costs nothing beside a
 * signature, and a per-worker map of keys cost ~200 bytes a key per worker); a key removed since
 * the request was queued is not there any more.
 */
function signWith(ref: KeyRef, message: Prepared): SignResult {
  if (!table.readSecretInto(ref, secret)) return keyGone(message.type);
  try {
    return {type: message.type, ...sign(signingKey(secret), message.signingRoot)};
  } finally {
    secret.fill(0);
  }
}

/** Key loading: public keys for a batch of secret keys (a scalar multiplication each). */
export function derivePublicKeys(task: DeriveTask): Uint8Array {
  const n = task.secretKeys.length / 32;
  const out = new Uint8Array(n * 48);
  for (let i = 0; i < n; i++) {
    out.set(
      SecretKey.fromBytes(task.secretKeys.subarray(i * 32, i * 32 + 32))
        .toPublicKey()
        .toBytes(),
      i * 48
    );
  }
  task.secretKeys.fill(0);
  return out;
}

/**
 * Key loading: interop or mnemonic keys for a range of validator indices, as one buffer of the
 * secret keys (32 bytes each) then the public keys (48 bytes each). The buffer is moved to the
 * main thread, so no copy of the secrets stays in this worker.
 */
export function generateKeys(task: GenerateTask): Moved<ArrayBuffer> {
  const n = task.count;
  const out = new Uint8Array(n * (32 + 48));
  const secretKeys = out.subarray(0, n * 32);
  // EIP-2334 signing keys m/12381/3600/i/0/0 share their first levels: walked once, not per key.
  const purposeCoinSk = task.kind === "mnemonic" ? deriveChildSk(deriveChildSk(deriveMasterSk(task.seed), 12381), 3600) : 0n;
  for (let i = 0; i < n; i++) {
    const index = task.start + i;
    const secret =
      task.kind === "interop"
        ? interopSecretKey(index)
        : scalarToBytes(deriveChildSk(deriveChildSk(deriveChildSk(purposeCoinSk, index), 0), 0));
    secretKeys.set(secret, i * 32);
    secret.fill(0);
  }
  out.set(derivePublicKeys({secretKeys: copySecret(secretKeys)}), n * 32);
  return move(out.buffer) as unknown as Moved<ArrayBuffer>;
}

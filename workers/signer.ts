/**
 * A signing worker: a module of plain functions that Piscina calls by name. It holds the network's
 * SSZ types and a cache of deserialized secret keys; the keys themselves live in the shared
 * KeyTable, which the main thread updates.
 */
import {workerData} from "node:worker_threads";
import {SecretKey} from "@chainsafe/blst";
import {KeyTable} from "../src/keys/keyTable.js";
import {SignError} from "../src/signing/errors.js";
import {interopSecretKey} from "../src/keys/interop.js";
import {deriveSecretKey, signingKeyPath} from "../src/keys/mnemonic.js";
import type {DeriveTask, GenerateTask, GeneratedKeys, SignResult, SignTask, SignerWorkerData} from "../src/signing/protocol.js";
import {createSigningContext, parseRequestBody, requestTypeOf, signingRootOf} from "../src/signing/signingRoot.js";

const {network, keyTable} = workerData as SignerWorkerData;
const ctx = createSigningContext(network);
const table = KeyTable.attach(keyTable);

/** slot → the deserialized key for one state of that slot. */
const secretKeys = new Map<number, {state: number; key: SecretKey}>();
let removalsSeen = 0;

export function signBatch(task: SignTask): SignResult[] {
  dropRemovedKeys();
  const n = task.ends.length;
  const bodies = Buffer.from(task.bodies.buffer, task.bodies.byteOffset, task.bodies.byteLength);
  const results = new Array<SignResult>(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = task.ends[i];
    results[i] = signOne(task.refs[2 * i], task.refs[2 * i + 1], bodies.toString("utf8", start, end));
    start = end;
  }
  return results;
}

function signOne(slot: number, state: number, text: string): SignResult {
  let type = "unknown";
  try {
    const body = parseRequestBody(text);
    type = requestTypeOf(body);
    const signingRoot = signingRootOf(body, type as never, ctx);
    const key = secretKeyFor(slot, state);
    if (!key) return {type, code: "UNKNOWN_KEY", message: "no key with that public key is loaded"};
    return {type, signature: key.sign(signingRoot).toHex()};
  } catch (e) {
    if (e instanceof SignError) return {type, code: e.code, message: e.message};
    // A bug, not bad input; the message is ours (never a key) and the main thread logs it.
    return {type, code: "INTERNAL", message: `internal error: ${(e as Error)?.message ?? String(e)}`};
  }
}

function secretKeyFor(slot: number, state: number): SecretKey | null {
  const cached = secretKeys.get(slot);
  if (cached && cached.state === state && table.state(slot) === state) return cached.key;
  const bytes = table.readSecret({slot, state});
  if (!bytes) return null;
  const key = SecretKey.fromBytes(bytes);
  bytes.fill(0);
  secretKeys.set(slot, {state, key});
  return key;
}

/** After a removal, forget deserialized keys whose slot changed, so deleted keys leave memory. */
function dropRemovedKeys(): void {
  const removals = table.removals();
  if (removals === removalsSeen) return;
  removalsSeen = removals;
  for (const [slot, {state}] of secretKeys) {
    if (table.state(slot) !== state) secretKeys.delete(slot);
  }
}

/** Key loading: public keys for a batch of secret keys (a scalar multiplication each). */
export function derivePublicKeys(task: DeriveTask): Uint8Array {
  const n = task.secretKeys.length / 32;
  const out = new Uint8Array(n * 48);
  for (let i = 0; i < n; i++) {
    out.set(SecretKey.fromBytes(task.secretKeys.subarray(i * 32, i * 32 + 32)).toPublicKey().toBytes(), i * 48);
  }
  task.secretKeys.fill(0);
  return out;
}

/** Key loading: interop or mnemonic keys, secret and public, for a range of validator indices. */
export function generateKeys(task: GenerateTask): GeneratedKeys {
  const secretKeys = new Uint8Array(task.count * 32);
  for (let i = 0; i < task.count; i++) {
    const index = task.start + i;
    secretKeys.set(task.kind === "interop" ? interopSecretKey(index) : deriveSecretKey(task.seed, signingKeyPath(index)), i * 32);
  }
  return {secretKeys, publicKeys: derivePublicKeys({secretKeys: secretKeys.slice()})};
}

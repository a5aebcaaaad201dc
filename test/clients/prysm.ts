/**
 * Prysm's Web3Signer keymanager: validator/keymanager/remote-web3signer/keymanager.go,
 * types/requests.go, types/custom_mappers.go, internal/client.go (OffchainLabs/prysm v7.1).
 * - Go's net/http with only `Content-Type: application/json`: no Accept header. The reply: 404 →
 *   "public key not found", 412 → slashing refusal, 400 and 500 → errors; then a content type starting
 *   with `application/json` → JSON `signature`, else the body through hexutil.Decode (0x, even length,
 *   nothing else).
 * - `signingRoot` always; fork_info = `params.Fork(epoch of the signing slot)`, the chain's Fork
 *   (activation epoch); an exit's signing slot is its own epoch's first slot.
 * - BLOCK with the whole block in phase0; BLOCK_V2 from ALTAIR (`block`, then `block_header` from
 *   BELLATRIX); AGGREGATE_AND_PROOF_V2 in every fork, version = the fork name upper-cased; no deposits.
 * - Keys: GET /api/v1/eth2/publicKeys decoded as a JSON string array, the first checked to be 48 bytes.
 */
import {config, type Duty, messageSlot} from "./duties.js";
import {epochOfSlot, forkInfoAt, json, plainBody, signingRootHex} from "./payloads.js";
import {type ClientShape, publicKeysPath, signPath, strictHex} from "./wire.js";

function body(d: Duty): Record<string, unknown> | undefined {
  switch (d.kind) {
    case "block":
      if (d.fork === "phase0") return {type: "BLOCK", block: json.block(d)};
      return {
        type: "BLOCK_V2",
        beacon_block: {
          version: d.fork.toUpperCase(),
          ...(d.fork === "altair" ? {block: json.block(d)} : {block_header: json.blockHeader(d)}),
        },
      };
    case "aggregate":
      return {
        type: "AGGREGATE_AND_PROOF_V2",
        aggregate_and_proof: {version: config.getForkName(d.slot).toUpperCase(), data: json.aggregate(d)},
      };
    case "deposit":
      return undefined;
    default:
      return plainBody(d);
  }
}

export const prysm: ClientShape = {
  name: "Prysm",
  versions: "5.3 – 7.1",
  source: "validator/keymanager/remote-web3signer",
  answerType: "text/plain",
  forks: ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"],
  signRequest(pubkey, d) {
    const b = body(d);
    if (!b) return undefined;
    const request = {
      ...b,
      signingRoot: signingRootHex(d),
      ...(d.kind === "registration" ? {} : {fork_info: forkInfoAt(epochOfSlot(messageSlot(d)))}),
    };
    return {
      method: "POST",
      path: signPath(pubkey),
      headers: {"content-type": "application/json", "user-agent": "Go-http-client/1.1"},
      body: JSON.stringify(request),
    };
  },
  readSignature(res) {
    if (res.status === 404) throw new Error("public key not found");
    if (res.status === 412) throw new Error("signing operation failed due to slashing protection rules");
    if (res.status === 400 || res.status === 500) throw new Error(`Web3Signer request failed: ${res.status}`);
    if ((res.contentType ?? "").startsWith("application/json")) return strictHex(JSON.parse(res.body).signature);
    return strictHex(res.body);
  },
  publicKeys: {
    request: {method: "GET", path: publicKeysPath, headers: {"content-type": "application/json"}},
    read(res) {
      const keys: string[] = JSON.parse(res.body);
      if (keys.length > 0 && strictHex(keys[0]).length !== 2 + 96) throw new Error("invalid public key length");
      return keys;
    },
  },
};

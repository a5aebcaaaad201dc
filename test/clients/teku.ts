/**
 * Teku's external signer: validator/client/src/main/java/tech/pegasys/teku/validator/client/signer/
 * ExternalSigner.java, SigningRequestBody.java, ExternalSignerBlockRequestProvider.java (26.8).
 * - java.net.http with only `Content-Type: application/json`: no Accept header, so Web3Signer answers
 *   text/plain. The reply: 412 → "refused to sign … slashing condition"; any other non-200 is an
 *   error; a content type starting with `application/json` → JSON `signature`, else the body is the
 *   hex signature (Bytes.fromHexString).
 * - `signingRoot` always; fork_info is the chain's Fork at the current slot (activation epoch); an
 *   exit's root follows that fork (26.8+: Capella's version on a chain past Deneb, whatever the
 *   exit's epoch).
 * - BLOCK with the whole phase0 block in PHASE0; BLOCK_V2 from ALTAIR (`block` there, `block_header`
 *   from BELLATRIX); AGGREGATE_AND_PROOF with the shape of fork_info's fork; no deposits.
 * - Keys: GET /api/v1/eth2/publicKeys read as a JSON string array; /upcheck: status 200 only.
 */
import type {Duty} from "./duties.js";
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
      return {type: "AGGREGATE_AND_PROOF", aggregate_and_proof: json.aggregate(d)};
    case "deposit":
      return undefined;
    default:
      return plainBody(d);
  }
}

export const teku: ClientShape = {
  name: "Teku",
  versions: "24.x – 26.8",
  source: "validator/client/…/signer/ExternalSigner.java",
  answerType: "text/plain",
  forks: ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"],
  signRequest(pubkey, d) {
    const b = body(d);
    if (!b) return undefined;
    const request = {
      signingRoot: signingRootHex(d),
      ...b,
      ...(d.kind === "registration" ? {} : {fork_info: forkInfoAt(epochOfSlot(d.slot))}),
    };
    return {method: "POST", path: signPath(pubkey), headers: {"content-type": "application/json"}, body: JSON.stringify(request)};
  },
  readSignature(res) {
    if (res.status === 412) throw new Error("External signer refused to sign because it may violate a slashing condition");
    if (res.status !== 200) throw new Error(`Invalid response status code: ${res.status}`);
    if ((res.contentType ?? "").startsWith("application/json")) return JSON.parse(res.body).signature;
    return strictHex(res.body);
  },
  publicKeys: {
    request: {method: "GET", path: publicKeysPath, headers: {}},
    read: (res) => JSON.parse(res.body),
  },
};

// Grandine's Web3Signer client: signer/src/web3signer/api.rs and types.rs, signer/src/types.rs (2.0).
// - reqwest with `.json(&request)` and its default `accept: */*`; the reply is read with
//   `.json::<SigningResponse>()` whatever its status or content type, so only a JSON `{signature}`
//   works: with `*/*`, Web3Signer answers JSON.
// - `signingRoot` always; fork_info = the head state's `fork()` (activation epoch).
// - BLOCK_V2 for every fork, `{version, block}` for PHASE0/ALTAIR and `{version, block_header}` after
//   (serde tag "version", UPPERCASE); AGGREGATE_AND_PROOF, untagged, so Electra's shape from Electra
//   on; no fork_info for registrations; no deposits.
// - Keys: GET /api/v1/eth2/publicKeys read as JSON.
import type {Duty} from "./duties.js";
import {epochOfSlot, forkInfoAt, json, plainBody, signingRootHex} from "./payloads.js";
import {type ClientShape, publicKeysPath, signPath} from "./wire.js";

function body(d: Duty): Record<string, unknown> | undefined {
  switch (d.kind) {
    case "block": {
      const early = d.fork === "phase0" || d.fork === "altair";
      return {
        type: "BLOCK_V2",
        beacon_block: {version: d.fork.toUpperCase(), ...(early ? {block: json.block(d)} : {block_header: json.blockHeader(d)})},
      };
    }
    case "aggregate":
      return {type: "AGGREGATE_AND_PROOF", aggregate_and_proof: json.aggregate(d)};
    case "deposit":
      return undefined;
    default:
      return plainBody(d);
  }
}

export const grandine: ClientShape = {
  name: "Grandine",
  versions: "1.x – 2.0",
  source: "signer/src/web3signer",
  answerType: "application/json",
  forks: ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"],
  signRequest(pubkey, d) {
    const b = body(d);
    if (!b) return undefined;
    const request = {
      type: b.type,
      ...(d.kind === "registration" ? {} : {fork_info: forkInfoAt(epochOfSlot(d.slot))}),
      signingRoot: signingRootHex(d),
      ...b,
    };
    return {
      method: "POST",
      path: signPath(pubkey),
      headers: {"content-type": "application/json", accept: "*/*"},
      body: JSON.stringify(request),
    };
  },
  readSignature(res) {
    const {signature} = JSON.parse(res.body);
    if (typeof signature !== "string") throw new Error("missing field `signature`");
    return signature;
  },
  publicKeys: {
    request: {method: "GET", path: publicKeysPath, headers: {accept: "*/*"}},
    read: (res) => JSON.parse(res.body),
  },
};

/**
 * Nimbus's Web3Signer client: beacon_chain/spec/eth2_apis/rest_remote_signer_calls.nim,
 * eth2_rest_serialization.nim (Web3SignerRequest, Web3SignerForkedBeaconBlock),
 * validators/validator_pool.nim, spec/signatures.nim (v24.9).
 * - presto with `Accept: application/json`, `Content-Type: application/json`. A 200 needs a content
 *   type that is not a wildcard: text/plain → hex, else decoded as JSON `{signature}` (decodeBytes
 *   takes application/json only). 404, 412, 500 and connection errors are retried; 400 and other
 *   statuses (503 among them) are final.
 * - No signing root is sent. fork_info is the chain's Fork (activation epoch); registrations get the
 *   genesis Fork and a zero root; an exit on a chain past Deneb gets {capella, capella, epoch 0} (voluntary_exit_signature_fork).
 * - BLOCK_V2 with `block_header` and the fork name upper-cased, whatever the fork; blocks before
 *   Capella are not signed remotely. AGGREGATE_AND_PROOF takes phase0's AggregateAndProof only, so
 *   Electra aggregates are not signed remotely in this release. DEPOSIT with genesis_fork_version.
 * - Keys: GET /api/v1/eth2/publicKeys with Accept: application/json, status 200 and a JSON body.
 */

import {hex} from "../helpers/reference.js";
import {config, type Duty, isPost} from "./duties.js";
import {epochOfSlot, forkInfoAt, json, plainBody} from "./payloads.js";
import {type ClientShape, publicKeysPath, signPath, strictHex} from "./wire.js";

function body(d: Duty): Record<string, unknown> | undefined {
  switch (d.kind) {
    case "block":
      return isPost(d.fork, "capella")
        ? {type: "BLOCK_V2", beacon_block: {version: d.fork.toUpperCase(), block_header: json.blockHeader(d)}}
        : undefined;
    case "aggregate":
      return isPost(d.fork, "electra") ? undefined : {type: "AGGREGATE_AND_PROOF", aggregate_and_proof: json.aggregate(d)};
    default:
      return plainBody(d);
  }
}

function forkInfo(d: Duty) {
  const gvr = hex(config.genesisValidatorsRoot);
  if (d.kind === "registration") {
    // getBuilderSignature(cfg.genesisFork, …) with a zero genesis validators root.
    const genesis = hex(config.GENESIS_FORK_VERSION);
    return {fork: {previous_version: genesis, current_version: genesis, epoch: "0"}, genesis_validators_root: hex(new Uint8Array(32))};
  }
  if (d.kind === "exit" && isPost(d.fork, "deneb")) {
    const capella = hex(config.forks.capella.version);
    return {fork: {previous_version: capella, current_version: capella, epoch: "0"}, genesis_validators_root: gvr};
  }
  return forkInfoAt(epochOfSlot(d.slot));
}

const mediaType = (contentType: string | undefined) => (contentType ?? "").split(";")[0].trim().toLowerCase();

export const nimbus: ClientShape = {
  name: "Nimbus",
  versions: "24.9",
  source: "beacon_chain/spec/eth2_apis/rest_remote_signer_calls.nim",
  answerType: "application/json",
  forks: ["phase0", "altair", "bellatrix", "capella", "deneb", "electra"],
  signRequest(pubkey, d) {
    const b = body(d);
    if (!b) return undefined;
    const request = {...b, ...(d.kind === "deposit" ? {} : {fork_info: forkInfo(d)})};
    return {
      method: "POST",
      path: signPath(pubkey),
      headers: {accept: "application/json", "content-type": "application/json"},
      body: JSON.stringify(request),
    };
  },
  readSignature(res) {
    if (res.status !== 200) throw new Error(`Remote signer returns ${res.status}`);
    const type = mediaType(res.contentType);
    if (type === "" || type.includes("*")) throw new Error("Unable to decode signature from missing or incorrect content");
    if (type === "text/plain") return strictHex(res.body);
    if (type !== "application/json") throw new Error(`Unable to decode remote signer response (${type})`);
    return strictHex(JSON.parse(res.body).signature);
  },
  publicKeys: {
    request: {method: "GET", path: publicKeysPath, headers: {accept: "application/json"}},
    read(res) {
      if (res.status !== 200 || mediaType(res.contentType) !== "application/json")
        throw new Error("Unable to obtain validator's source response");
      return JSON.parse(res.body);
    },
  },
};

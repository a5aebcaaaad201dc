/**
 * Lighthouse's Web3Signer client: validator_client/src/signing_method.rs and
 * signing_method/web3signer.rs (v5.3.0; the same shapes in validator_client/signing_method/src/
 * web3signer.rs of later releases, which add FULU), validator_store.rs for fork_info.
 * - reqwest with `.header(ACCEPT, "application/json").json(&request)`; `error_for_status()`, then
 *   `.json::<SigningResponse>()`: any non-2xx is an error, the body is read as JSON `{signature}`
 *   whatever its content type.
 * - `signingRoot` (camelCase) always; fork_info = `spec.fork_at_epoch(signing epoch)`, the chain's Fork
 *   with its activation epoch; for an exit from Deneb on, {capella, capella, exit epoch} (EIP-7044).
 * - BLOCK_V2 for every fork (`block` for PHASE0/ALTAIR, `block_header` after); AGGREGATE_AND_PROOF
 *   (never V2) whose payload has Electra's shape from Electra on; no fork_info for registrations;
 *   deposits are never sent (dead code).
 */

import {hex} from "../helpers/reference.js";
import {config, type Duty} from "./duties.js";
import {epochOfSlot, forkInfoAt, json, plainBody, signingRootHex} from "./payloads.js";
import {type ClientShape, signPath} from "./wire.js";

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

function forkInfo(d: Duty) {
  if (d.kind === "exit" && d.value.epoch >= config.forks.deneb.epoch) {
    const capella = hex(config.forks.capella.version);
    return {
      fork: {previous_version: capella, current_version: capella, epoch: String(d.value.epoch)},
      genesis_validators_root: hex(config.genesisValidatorsRoot),
    };
  }
  // The signing epoch: the exit's own epoch, else the duty's.
  return forkInfoAt(d.kind === "exit" ? d.value.epoch : epochOfSlot(d.slot));
}

export const lighthouse: ClientShape = {
  name: "Lighthouse",
  versions: "5.3 – 8.x",
  source: "validator_client/signing_method",
  answerType: "application/json",
  forks: ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"],
  signRequest(pubkey, d) {
    const b = body(d);
    if (!b) return undefined;
    const request = {...b, signingRoot: signingRootHex(d), ...(d.kind === "registration" ? {} : {fork_info: forkInfo(d)})};
    return {
      method: "POST",
      path: signPath(pubkey),
      headers: {accept: "application/json", "content-type": "application/json"},
      body: JSON.stringify(request),
    };
  },
  readSignature(res) {
    if (res.status < 200 || res.status > 299) throw new Error(`Web3SignerRequestFailed: HTTP status ${res.status}`);
    return JSON.parse(res.body).signature;
  },
};

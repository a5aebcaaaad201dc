// Lodestar's external signer client: packages/validator/src/util/externalSignerClient.ts and
// services/validatorStore.ts (v1.22 and the current source; v1.17 before PR #6587 for the older
// shape). Bodies are Lodestar's own `toJson` of its SSZ types, as the client writes them.
// - `signingRoot` always. fork_info: the fork at the signing slot with `epoch` = the signing epoch,
//   not the fork's activation epoch; the signing slot is the duty's (an attestation's target epoch,
//   an exit's own epoch). The current source sends Capella's Fork for an exit past Deneb.
// - BLOCK_V2 for every fork (`block` before Bellatrix, `block_header` after); AGGREGATE_AND_PROOF
//   before Electra, AGGREGATE_AND_PROOF_V2 `{version: "ELECTRA", data}` from it; no fork_info for
//   registrations. Deposits and BLS_TO_EXECUTION_CHANGE are in its enum but never sent.
// - ≥ 1.18 sends `Accept: application/json` and needs an application/json answer; ≤ 1.17 sent no
//   Accept (fetch adds `*/*`) and ran JSON.parse on the body whatever its type.
import {ssz} from "@lodestar/types";
import {hex} from "../helpers/reference.js";
import {config, type Duty, type Fork, isPost, messageSlot, SLOTS_PER_EPOCH} from "./duties.js";
import {json, signingRootHex, typeOf} from "./payloads.js";
import {type ClientShape, publicKeysPath, signPath, type WireResponse} from "./wire.js";

function body(d: Duty, electraAware: boolean): Record<string, unknown> | undefined {
  switch (d.kind) {
    case "block": {
      const early = d.fork === "phase0" || d.fork === "altair";
      return {beacon_block: {version: d.fork.toUpperCase(), ...(early ? {block: json.block(d)} : {block_header: json.blockHeader(d)})}};
    }
    case "aggregate":
      if (electraAware && isPost(d.fork, "electra")) {
        return {aggregate_and_proof: {version: d.fork.toUpperCase(), data: ssz[d.fork].AggregateAndProof.toJson(d.value)}};
      }
      return {aggregate_and_proof: json.aggregate(d)};
    case "deposit":
      return undefined;
    default:
      return {[typeOf[d.kind][1]]: json[d.kind](d)};
  }
}

const typeName = (d: Duty) =>
  d.kind === "block"
    ? "BLOCK_V2"
    : d.kind === "aggregate"
      ? isPost(d.fork, "electra")
        ? "AGGREGATE_AND_PROOF_V2"
        : "AGGREGATE_AND_PROOF"
      : typeOf[d.kind as keyof typeof typeOf][0];

/** getForkInfoForSigning: the fork at the signing slot, with the signing epoch. */
function forkInfo(d: Duty, exitPinnedToCapella: boolean) {
  const signingSlot = d.kind === "attestation" ? d.value.target.epoch * SLOTS_PER_EPOCH : messageSlot(d);
  const info = config.getForkInfo(signingSlot);
  let fork = {
    previous_version: hex(info.prevVersion),
    current_version: hex(info.version),
    epoch: String(Math.floor(signingSlot / SLOTS_PER_EPOCH)),
  };
  if (exitPinnedToCapella && d.kind === "exit" && isPost(info.name as Fork, "deneb")) {
    const capella = config.forks.capella;
    fork = {previous_version: hex(capella.prevVersion), current_version: hex(capella.version), epoch: String(capella.epoch)};
  }
  return {fork, genesis_validators_root: hex(config.genesisValidatorsRoot)};
}

function lodestar(name: string, versions: string, forks: readonly Fork[], current: boolean): ClientShape {
  return {
    name,
    versions,
    source: "packages/validator/src/util/externalSignerClient.ts",
    answerType: "application/json",
    forks,
    signRequest(pubkey, d) {
      const b = body(d, current);
      if (!b) return undefined;
      const request = {
        ...b,
        type: typeName(d),
        signingRoot: signingRootHex(d),
        ...(d.kind === "registration" ? {} : {fork_info: forkInfo(d, current)}),
      };
      const headers: Record<string, string> = current
        ? {accept: "application/json", "content-type": "application/json"}
        : {accept: "*/*", "content-type": "application/json"};
      return {method: "POST", path: signPath(pubkey), headers, body: JSON.stringify(request)};
    },
    readSignature: (res) => (current ? readJsonStrict(res) : readJsonAnyType(res)).signature,
    publicKeys: {
      request: {method: "GET", path: publicKeysPath, headers: current ? {accept: "application/json"} : {accept: "*/*"}},
      read: (res) => (current ? readJsonStrict(res) : readJsonAnyType(res)),
    },
  };
}

/** handleExternalSignerResponse (≥ 1.18): a 2xx with an application/json body. */
function readJsonStrict(res: WireResponse): any {
  if (res.status < 200 || res.status > 299) throw new Error(res.body || String(res.status));
  if (res.contentType === undefined) throw new Error("No Content-Type header found in response");
  const mediaType = res.contentType.split(";", 1)[0].trim().toLowerCase();
  if (mediaType !== "application/json") throw new Error(`Unsupported response media type: ${mediaType}`);
  return JSON.parse(res.body);
}

/** handlerExternalSignerResponse (≤ 1.17): JSON.parse of any 2xx body. */
function readJsonAnyType(res: WireResponse): any {
  if (res.status < 200 || res.status > 299) throw new Error(res.body);
  return JSON.parse(res.body);
}

export const lodestarCurrent = lodestar(
  "Lodestar",
  "1.18 – 1.4x",
  ["phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu"],
  true
);
export const lodestarOld = lodestar("Lodestar (before 1.18)", "≤ 1.17", ["phase0", "altair", "bellatrix", "capella", "deneb"], false);

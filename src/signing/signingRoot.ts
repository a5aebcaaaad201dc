import type {NetworkConfig} from "../config/networks.js";
import {bytesToHex} from "../hex.js";
import {computeSigningRoot, DomainCache, type DomainType, ZERO_ROOT} from "./domain.js";
import {badRequest, FieldError} from "./errors.js";
import {describe, fieldFromJson, parseHex, parseJsonExact, requireField} from "./json.js";
import {isRequestType, type RequestType, requestTypeNames} from "./requestTypeNames.js";
import {type Message, requestTypes} from "./requestTypes.js";
import "./hasher.js";
import type {SlashingCheck} from "../slashing/rules.js";
import {createSszTypes, type SszTypes} from "./sszTypes.js";

/** Per-thread state for computing signing roots on one network. */
export type SigningContext = {
  network: NetworkConfig;
  types: SszTypes;
  slotsPerEpoch: bigint;
  domains: DomainCache;
};

export function createSigningContext(network: NetworkConfig): SigningContext {
  return {
    network,
    types: createSszTypes(network.preset),
    slotsPerEpoch: BigInt(network.preset.SLOTS_PER_EPOCH),
    domains: new DomainCache(),
  };
}

/** Parses a request body; anything but a JSON object is a 400. */
export function parseRequestBody(bodyText: string): Record<string, unknown> {
  const body = parseJsonExact(bodyText);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(`the request body must be a JSON object, got ${describe(body)}`);
  }
  return body as Record<string, unknown>;
}

export function requestTypeOf(body: Record<string, unknown>): RequestType {
  const type = body.type;
  if (type === undefined || type === null) throw new FieldError("type", "missing");
  if (!isRequestType(type)) {
    throw new FieldError("type", `unknown request type ${describe(type)} (known: ${requestTypeNames.join(", ")})`);
  }
  return type;
}

export type SigningMessage = {
  signingRoot: Uint8Array;
  /** For slashing protection: set for blocks and attestations. */
  slashing?: SlashingCheck;
};

/**
 * The signing root of a Web3Signer eth2 signing request, computed from its typed data. A
 * `signing_root` in the request is only checked against it: a signer that signed a client-supplied
 * root would sign anything.
 */
export function signingMessageOf(body: Record<string, unknown>, type: RequestType, ctx: SigningContext): SigningMessage {
  const row = requestTypes[type];
  const payload = requireField(body, row.field);
  let message: Message;
  try {
    message = row.message(payload, ctx.types, ctx.slotsPerEpoch);
  } catch (e) {
    throw e instanceof FieldError ? e.within(row.field) : e;
  }
  const {domain, forkInfo} = domainOf(row.domainType, message, body, ctx);
  const signingRoot = computeSigningRoot(message.objectRoot, domain);

  const supplied = body.signing_root ?? body.signingRoot;
  if (supplied !== undefined && supplied !== null) {
    let suppliedRoot: Uint8Array;
    try {
      suppliedRoot = parseHex(supplied, 32);
    } catch (e) {
      throw (e as FieldError).within("signing_root");
    }
    if (Buffer.compare(suppliedRoot, signingRoot) !== 0) {
      throw new FieldError(
        "signing_root",
        `${bytesToHex(suppliedRoot)} does not match the signing root computed from the request, ${bytesToHex(signingRoot)}`
      );
    }
  }
  const slashable = "slashable" in message ? message.slashable : undefined;
  if (!slashable || !forkInfo) return {signingRoot};
  const genesisValidatorsRoot = bytesToHex(forkInfo.genesis_validators_root);
  const slashing: SlashingCheck =
    "slot" in slashable
      ? {kind: "block", genesisValidatorsRoot, slot: slashable.slot}
      : {kind: "attestation", genesisValidatorsRoot, ...slashable};
  return {signingRoot, slashing};
}

export const signingRootOf = (body: Record<string, unknown>, type: RequestType, ctx: SigningContext): Uint8Array =>
  signingMessageOf(body, type, ctx).signingRoot;

type ForkInfo = ReturnType<typeof readForkInfo>;

/** The domain a message is signed in, by its domain rule; and the request's fork_info where the rule reads it. */
function domainOf(domainType: DomainType, message: Message, body: object, ctx: SigningContext): {domain: Uint8Array; forkInfo?: ForkInfo} {
  const {network, domains} = ctx;
  switch (message.domainRule) {
    case "deposit":
      return {domain: domains.get(domainType, message.forkVersion, ZERO_ROOT)};
    case "builder":
      return {domain: domains.get(domainType, network.forks.phase0.version, ZERO_ROOT)};
    case "voluntaryExit":
    case "fork": {
      const forkInfo = readForkInfo(body, ctx);
      const {fork, genesis_validators_root} = forkInfo;
      const {epoch} = message;
      // EIP-7044: from Deneb on, exits are signed over the Capella fork version, forever valid. A
      // chain past Deneb verifies every exit so, whatever epoch it names: an exit for an earlier
      // epoch is pinned too when fork_info's fork is Deneb's or later (as Teku signs it, 26.8+).
      const denebEpoch = network.forks.deneb.epoch;
      if (message.domainRule === "voluntaryExit" && (epoch >= denebEpoch || fork.epoch >= denebEpoch)) {
        return {domain: domains.get(domainType, network.forks.capella.version, genesis_validators_root), forkInfo};
      }
      // get_domain: the previous version before the fork epoch, the current one from it on.
      const version = epoch < fork.epoch ? fork.previous_version : fork.current_version;
      return {domain: domains.get(domainType, version, genesis_validators_root), forkInfo};
    }
  }
}

const readForkInfo = (body: object, ctx: SigningContext) => fieldFromJson(ctx.types.ForkInfo, body, "fork_info");

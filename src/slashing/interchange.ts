import {jsonSyntaxError, SignerError} from "../errors.js";

/**
 * EIP-3076 slashing protection interchange, format version 5: what is exchanged between signers
 * and clients (Keymanager API imports and deletes).
 */
export type Interchange = {
  metadata: {interchange_format_version: "5"; genesis_validators_root: string};
  data: {
    pubkey: string;
    signed_blocks: {slot: string; signing_root?: string}[];
    signed_attestations: {source_epoch: string; target_epoch: string; signing_root?: string}[];
  }[];
};

/** A string matching `pattern` (RegExp.test alone would accept the number 5 as "5"). */
const matcher = (pattern: RegExp) => ({test: (v: unknown) => typeof v === "string" && pattern.test(v)});
const hexOf = (bytes: number) => matcher(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`));
const root = hexOf(32);
const pubkey = hexOf(48);
const uint64 = {test: (v: unknown) => matcher(/^\d{1,20}$/).test(v) && BigInt(v as string) < 2n ** 64n};

/** A slashing protection document that can't be imported (the Keymanager request gets a 400). */
/** An interchange document that can't be imported: the whole import is refused (400). */
export class InterchangeError extends SignerError {
  constructor(message: string) {
    super("BAD_REQUEST", message);
  }
}

/** Parses an interchange document, or throws with a message naming what is wrong. */
export function parseInterchange(text: string): Interchange {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InterchangeError(`slashing_protection: not JSON: ${jsonSyntaxError(e)}`);
  }
  const fail = (what: string) => {
    throw new InterchangeError(`slashing_protection: ${what}`);
  };
  if (doc?.metadata?.interchange_format_version !== "5") fail('metadata.interchange_format_version must be "5"');
  if (!root.test(doc.metadata.genesis_validators_root)) fail("metadata.genesis_validators_root must be 32 bytes of 0x hex");
  if (!Array.isArray(doc.data)) fail("data must be an array");
  doc.data.forEach((entry: any, i: number) => {
    if (!pubkey.test(entry?.pubkey)) fail(`data[${i}].pubkey must be 48 bytes of 0x hex`);
    for (const [j, b] of (entry.signed_blocks ?? []).entries()) {
      if (!uint64.test(b?.slot)) fail(`data[${i}].signed_blocks[${j}].slot must be a decimal uint64 string`);
      if (b.signing_root !== undefined && !root.test(b.signing_root))
        fail(`data[${i}].signed_blocks[${j}].signing_root must be 32 bytes of 0x hex`);
    }
    for (const [j, a] of (entry.signed_attestations ?? []).entries()) {
      if (!uint64.test(a?.source_epoch) || !uint64.test(a?.target_epoch)) {
        fail(`data[${i}].signed_attestations[${j}]: source_epoch and target_epoch must be decimal uint64 strings`);
      }
      if (a.signing_root !== undefined && !root.test(a.signing_root))
        fail(`data[${i}].signed_attestations[${j}].signing_root must be 32 bytes of 0x hex`);
    }
  });
  return doc as Interchange;
}

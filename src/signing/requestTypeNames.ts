/**
 * The Web3Signer eth2 request types, by name only: the main thread reads them (metric labels)
 * without loading the SSZ machinery that requestTypes.ts brings.
 */
export const requestTypeNames = [
  "AGGREGATION_SLOT",
  "AGGREGATE_AND_PROOF",
  "AGGREGATE_AND_PROOF_V2",
  "ATTESTATION",
  "BLOCK",
  "BLOCK_V2",
  "DEPOSIT",
  "RANDAO_REVEAL",
  "VOLUNTARY_EXIT",
  "SYNC_COMMITTEE_MESSAGE",
  "SYNC_COMMITTEE_SELECTION_PROOF",
  "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF",
  "VALIDATOR_REGISTRATION",
] as const;
export type RequestType = (typeof requestTypeNames)[number];

export function isRequestType(type: unknown): type is RequestType {
  return typeof type === "string" && (requestTypeNames as readonly string[]).includes(type);
}

/** The types slashing protection checks (requestTypes.ts: their rows' `message` sets `slashable`). */
export const slashableTypes: ReadonlySet<string> = new Set<RequestType>(["ATTESTATION", "BLOCK", "BLOCK_V2"]);

/** Only the first 4 KiB is searched: `type` comes near the start in every client's requests. */
const ROUTING_PREFIX_BYTES = 4096;
const typeKey = /"type"\s*:\s*"([A-Z0-9_]{1,64})"/;

/**
 * The request type read without parsing (a search for the first `"type"` key): how the HTTP thread
 * picks a request's pool lane and labels the metrics of requests it answers itself (404, 503).
 * The worker reads it the same way and refuses a request whose parsed type differs, so the lane and
 * the signature always agree on one type.
 */
export function routingTypeOf(body: Buffer, start = 0, end = body.length): string {
  const m = typeKey.exec(body.toString("latin1", start, Math.min(end, start + ROUTING_PREFIX_BYTES)));
  return m && isRequestType(m[1]) ? m[1] : "unknown";
}

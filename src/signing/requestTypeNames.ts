/**
 * The Web3Signer eth2 request types, and whether slashing protection checks each (a block's slot,
 * an attestation's epochs): the one place that fact is stated. requestTypes.ts's rows are typed
 * from it (a slashable type's row must yield what is checked, no other row may), and the HTTP
 * thread reads it (metric labels, the pool's lane) without loading the SSZ machinery.
 */
export const requestTypeInfo = {
  AGGREGATION_SLOT: {slashable: false},
  AGGREGATE_AND_PROOF: {slashable: false},
  AGGREGATE_AND_PROOF_V2: {slashable: false},
  ATTESTATION: {slashable: true},
  BLOCK: {slashable: true},
  BLOCK_V2: {slashable: true},
  DEPOSIT: {slashable: false},
  RANDAO_REVEAL: {slashable: false},
  VOLUNTARY_EXIT: {slashable: false},
  SYNC_COMMITTEE_MESSAGE: {slashable: false},
  SYNC_COMMITTEE_SELECTION_PROOF: {slashable: false},
  SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF: {slashable: false},
  VALIDATOR_REGISTRATION: {slashable: false},
} as const satisfies Record<string, {slashable: boolean}>;

export type RequestType = keyof typeof requestTypeInfo;
export const requestTypeNames = Object.keys(requestTypeInfo) as RequestType[];

/** The types slashing protection checks. */
export type SlashableType = {[K in RequestType]: (typeof requestTypeInfo)[K]["slashable"] extends true ? K : never}[RequestType];

export function isRequestType(type: unknown): type is RequestType {
  return typeof type === "string" && Object.hasOwn(requestTypeInfo, type);
}

export function isSlashable(type: string): type is SlashableType {
  return isRequestType(type) && requestTypeInfo[type].slashable;
}

/** Only the first 4 KiB is searched: `type` comes near the start in every client's requests. */
const ROUTING_PREFIX_BYTES = 4096;
const typeKey = /"type"\s*:\s*"([A-Z0-9_]{1,64})"/;

/**
 * The request type read without parsing (a search for the first `"type"` key): how the HTTP thread
 * picks a request's pool lane and labels the metrics of requests it answers itself (404, 503).
 * The worker reads it the same way and refuses a request whose parsed type differs, so the lane and
 * the signature always agree on one type.
 */
export function routingTypeOf(body: Buffer, start = 0, end = body.length): RequestType | "unknown" {
  const m = typeKey.exec(body.toString("latin1", start, Math.min(end, start + ROUTING_PREFIX_BYTES)));
  return m && isRequestType(m[1]) ? m[1] : "unknown";
}

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

import type {SignErrorCode} from "../signing/errors.js";

/** The HTTP status of each signing failure; a new code without a status does not compile. */
export const statusOf: Record<SignErrorCode, number> = {
  BAD_REQUEST: 400,
  UNKNOWN_KEY: 404,
  SLASHING: 412,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/**
 * Every reason a request is refused or fails, on either thread, with its HTTP status: one list.
 * Codes cross from the workers as plain data (class instances do not survive postMessage); the
 * HTTP thread answers every one of them through replyError (src/server/reply.ts).
 */
export const statusOf = {
  /** Malformed JSON, unknown type, a missing or ill-typed field, a signing_root that differs. */
  BAD_REQUEST: 400,
  /** A Keymanager call without the right bearer token. */
  UNAUTHORIZED: 401,
  /** An unknown path, or the Keymanager API when it is not enabled. */
  NOT_FOUND: 404,
  UNKNOWN_KEY: 404,
  METHOD_NOT_ALLOWED: 405,
  /** A client that stalled mid-body past --request-timeout. */
  REQUEST_TIMEOUT: 408,
  /** Refused by slashing protection (EIP-3076). */
  SLASHING: 412,
  TOO_LARGE: 413,
  /** A bug, never bad input. */
  INTERNAL: 500,
  /** Keys are still loading. */
  NOT_READY: 503,
  SHUTTING_DOWN: 503,
  /** Past --max-in-flight: load is shed instead of queued without end. */
  OVERLOADED: 503,
  /** Something the answer needs is down: the slashing protection database, or a worker twice. */
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof statusOf;

/** A refusal or failure that knows its code; anything else that is thrown counts as INTERNAL. */
export class SignerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string
  ) {
    super(message);
  }
}

export const codeOf = (e: unknown): ErrorCode => (e instanceof SignerError ? e.code : "INTERNAL");

/** Answers after which the connection is closed: the client's body is neither read nor kept, or never came. */
export const closesConnection = (code: ErrorCode): boolean => code === "TOO_LARGE" || code === "UNAUTHORIZED" || code === "REQUEST_TIMEOUT";

/** The one message for a key that is not loaded, whichever thread finds out. */
export const unknownKeyMessage = (pubkey: string): string => `no key for ${pubkey.slice(0, 100)} is loaded`;

/**
 * Where JSON.parse failed, without its message: that quotes the text's first characters (a
 * password file's, a request's passwords), which must reach no log and no answer.
 */
export function jsonSyntaxError(e: unknown): string {
  const at = /at position (\d+)/.exec((e as Error)?.message ?? "");
  return at ? `a syntax error at position ${at[1]}` : "a syntax error or the end of the text too early";
}

/**
 * Why a signing request failed. Crosses from worker to main thread as plain data (class instances
 * do not survive postMessage); src/server/errors.ts maps each code to its HTTP status.
 */
export type SignErrorCode = "BAD_REQUEST" | "UNKNOWN_KEY" | "SLASHING" | "UNAVAILABLE" | "INTERNAL";

export class SignError extends Error {
  constructor(
    readonly code: SignErrorCode,
    message: string
  ) {
    super(message);
  }
}

/** A field of the request body is missing or wrong; `path` grows as the error leaves nested objects. */
export class FieldError extends SignError {
  constructor(
    public path: string,
    readonly problem: string
  ) {
    super("BAD_REQUEST", path ? `${path}: ${problem}` : problem);
  }

  /** Called as the error leaves a container or list, so the message names the whole path. */
  within(key: string): this {
    this.path = !this.path ? key : this.path.startsWith("[") ? key + this.path : `${key}.${this.path}`;
    this.message = `${this.path}: ${this.problem}`;
    return this;
  }
}

export const badRequest = (message: string) => new SignError("BAD_REQUEST", message);

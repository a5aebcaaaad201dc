import {SignerError} from "../errors.js";

/** A field of the request body is missing or wrong; `path` grows as the error leaves nested objects. */
export class FieldError extends SignerError {
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

export const badRequest = (message: string) => new SignerError("BAD_REQUEST", message);

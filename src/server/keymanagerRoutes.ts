import type {HttpRequest, HttpResponse} from "uWebSockets.js";
import {codeOf, jsonSyntaxError} from "../errors.js";
import type {KeyManager} from "../keys/keymanager.js";
import {authorized} from "../keys/token.js";
import {duplicateKeyMessage} from "../signing/duplicateKeys.js";
import {readBody} from "./body.js";
import type {Lifecycle} from "./lifecycle.js";
import {type Exchange, exchange, replyError, replyJson} from "./reply.js";

/** Keystore imports are large (about 1 KiB a key); the signing API's body limit does not apply. */
const MAX_KEYMANAGER_BODY = 64 * 1024 * 1024;

type Handler = (res: HttpResponse, req: HttpRequest) => void;

/**
 * GET/POST/DELETE /eth/v1/keystores (ethereum/keymanager-APIs), behind a bearer token.
 * Request bodies are checked for shape here; the key work is KeyManager's.
 */
export function keymanagerRoutes(km: KeyManager, token: string, lifecycle: Lifecycle): {get: Handler; post: Handler; delete: Handler} {
  const guarded = bearerGuard(token, lifecycle);
  const withJsonBody = (ex: Exchange, handle: (body: Record<string, unknown>) => void) => readJsonObject(ex, MAX_KEYMANAGER_BODY, handle);

  return {
    get: guarded((ex) => replyJson(ex, 200, {data: km.list()})),
    post: guarded((ex) =>
      withJsonBody(ex, ({keystores, passwords, slashing_protection}) => {
        if (!isStringArray(keystores)) return replyError(ex, "BAD_REQUEST", "keystores: expected an array of keystore JSON strings");
        if (!isStringArray(passwords)) return replyError(ex, "BAD_REQUEST", "passwords: expected an array of strings");
        if (keystores.length !== passwords.length) {
          return replyError(ex, "BAD_REQUEST", `keystores and passwords differ in length (${keystores.length} vs ${passwords.length})`);
        }
        if (slashing_protection !== undefined && typeof slashing_protection !== "string") {
          return replyError(ex, "BAD_REQUEST", "slashing_protection: expected an EIP-3076 interchange document as a JSON string");
        }
        km.import(keystores, passwords, slashing_protection).then(
          (data) => replyJson(ex, 200, {data}),
          (e: Error) => replyError(ex, codeOf(e), codeOf(e) === "INTERNAL" ? `import failed: ${e.message}` : e.message)
        );
      })
    ),
    delete: guarded((ex) =>
      withJsonBody(ex, ({pubkeys}) => {
        if (!isStringArray(pubkeys)) return replyError(ex, "BAD_REQUEST", "pubkeys: expected an array of 0x-prefixed public keys");
        km.delete(pubkeys).then(
          (result) => replyJson(ex, 200, result),
          (e: Error) => replyError(ex, codeOf(e), codeOf(e) === "INTERNAL" ? `delete failed: ${e.message}` : e.message)
        );
      })
    ),
  };
}

/**
 * Wraps a handler of the token-guarded APIs (Keymanager, faults): 401 without the bearer token.
 * It answers before reading any body, and closes: nothing an unauthenticated client sends is kept.
 */
export function bearerGuard(token: string, lifecycle: Lifecycle) {
  return (handle: (ex: Exchange) => void): Handler =>
    (res, req) => {
      const auth = req.getHeader("authorization");
      const ex = exchange(res, req, lifecycle);
      if (!authorized(auth, token)) return replyError(ex, "UNAUTHORIZED", "missing or wrong bearer token (Authorization: Bearer <token>)");
      handle(ex);
    };
}

/** Reads a body that must be one JSON object; 400 or 413 otherwise. */
export function readJsonObject(ex: Exchange, maxBytes: number, handle: (body: Record<string, unknown>) => void): void {
  readBody(
    ex,
    maxBytes,
    (raw) => {
      let body: unknown;
      const text = raw.toString("utf8");
      try {
        body = JSON.parse(text);
      } catch (e) {
        return replyError(ex, "BAD_REQUEST", `malformed JSON: ${jsonSyntaxError(e)}`);
      }
      if (typeof body !== "object" || body === null || Array.isArray(body))
        return replyError(ex, "BAD_REQUEST", "the body must be a JSON object");
      const duplicate = duplicateKeyMessage(text, body);
      if (duplicate) return replyError(ex, "BAD_REQUEST", duplicate);
      handle(body as Record<string, unknown>);
    },
    () => replyError(ex, "TOO_LARGE", `the request body is over the ${maxBytes}-byte limit`)
  );
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

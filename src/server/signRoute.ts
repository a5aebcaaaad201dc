import type {HttpRequest, HttpResponse} from "uWebSockets.js";
import {signRecorder} from "../metrics/metrics.js";
import {isRequestType} from "../signing/requestTypes.js";
import type {AppContext} from "./app.js";
import {readBody} from "./body.js";
import {statusOf} from "./errors.js";
import {type Exchange, exchange, reply} from "./reply.js";

/**
 * POST /api/v1/eth2/sign/{identifier}. The main thread only routes: it reads the body, checks the
 * key is loaded (404 without touching a worker) and hands the raw bytes to the pool. Parsing,
 * validation, the signing root and the signature happen in a worker.
 */
export function signHandler(ctx: AppContext) {
  const {keys, pool, metrics, lifecycle, maxBodyBytes} = ctx;

  const record = signRecorder(metrics);
  const finish = (ex: Exchange, startedMs: number, type: string, status: number, contentType: string, body: string) => {
    reply(ex, status, contentType, body, status === 413);
    record(type, status, (performance.now() - startedMs) / 1000);
    lifecycle.requestDone();
  };
  const fail = (ex: Exchange, startedMs: number, type: string, status: number, message: string) =>
    finish(ex, startedMs, type, status, "application/json", JSON.stringify({message}));

  return (res: HttpResponse, req: HttpRequest) => {
    const startedMs = performance.now();
    // HttpRequest is only valid until this function returns: read everything now.
    const identifier = req.getParameter(0) ?? "";
    const wantsJson = req.getHeader("accept").includes("application/json");
    const declaredLength = Number(req.getHeader("content-length") || 0);
    const ex = exchange(res);
    lifecycle.requestStarted();

    if (lifecycle.stopping) return fail(ex, startedMs, "unknown", 503, "the signer is shutting down");
    if (declaredLength > maxBodyBytes) return tooLarge(ex, startedMs);

    readBody(
      ex,
      maxBodyBytes,
      (body) => {
        const key = keys.get(identifier);
        if (!key) {
          const type = typeIn(body);
          if (lifecycle.loading) return fail(ex, startedMs, type, 503, "keys are still loading; try again shortly");
          return fail(ex, startedMs, type, 404, `no key for ${identifier.slice(0, 100)} is loaded`);
        }
        pool.sign(key, body).then((result) => {
          if ("signature" in result) {
            if (wantsJson) finish(ex, startedMs, result.type, 200, "application/json", `{"signature":"${result.signature}"}`);
            else finish(ex, startedMs, result.type, 200, "text/plain", result.signature);
          } else {
            if (result.code === "INTERNAL") ctx.log.error("signing failed", {error: result.message});
            fail(ex, startedMs, result.type, statusOf[result.code], result.message);
          }
        });
      },
      () => tooLarge(ex, startedMs)
    );
  };

  function tooLarge(ex: Exchange, startedMs: number) {
    fail(ex, startedMs, "unknown", 413, `the request body is over the ${maxBodyBytes}-byte limit`);
  }
}

/** The request type for metric labels, on paths that do not parse the body (404, 503). */
function typeIn(body: Buffer): string {
  const m = /"type"\s*:\s*"([A-Z0-9_]{1,64})"/.exec(body.toString("latin1", 0, Math.min(body.length, 4096)));
  return m && isRequestType(m[1]) ? m[1] : "unknown";
}


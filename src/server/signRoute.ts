import type {HttpRequest, HttpResponse} from "uWebSockets.js";
import {pointCacheRecorder, signRecorder} from "../metrics/metrics.js";
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
  const {keys, pool, metrics, lifecycle, maxBodyBytes, maxInFlight, timeouts} = ctx;

  const record = signRecorder(metrics);
  const recordPointCache = pointCacheRecorder(metrics);
  const finish = (ex: Exchange, type: string, status: number, contentType: string, body: string) => {
    reply(ex, status, contentType, body, status === 413);
    record(type, status, (performance.now() - ex.startedMs) / 1000);
  };
  const fail = (ex: Exchange, type: string, status: number, message: string) =>
    finish(ex, type, status, "application/json", JSON.stringify({message}));

  return (res: HttpResponse, req: HttpRequest) => {
    // HttpRequest is only valid until this function returns: read everything now.
    const identifier = req.getParameter(0) ?? "";
    const wantsJson = req.getHeader("accept").includes("application/json");
    const declaredLength = Number(req.getHeader("content-length") || 0);
    const ex = exchange(res, lifecycle);

    if (lifecycle.stopping) return fail(ex, "unknown", 503, "the signer is shutting down");
    if (declaredLength > maxBodyBytes) return tooLarge(ex);
    // Bounded memory under overload: past the cap, shed load instead of queueing without end.
    if (lifecycle.requestsInFlight > maxInFlight) {
      return fail(ex, "unknown", 503, `too many requests in flight (limit ${maxInFlight}); retry shortly`);
    }

    readBody(
      ex,
      maxBodyBytes,
      (body) => {
        const key = keys.get(identifier);
        if (!key) {
          const type = typeIn(body);
          if (lifecycle.loading) return fail(ex, type, 503, "keys are still loading; try again shortly");
          return fail(ex, type, 404, `no key for ${identifier.slice(0, 100)} is loaded`);
        }
        pool.sign(key, body).then((result) => {
          if ("signature" in result) {
            recordPointCache(result.cacheHit);
            if (wantsJson) finish(ex, result.type, 200, "application/json", `{"signature":"${result.signature}"}`);
            else finish(ex, result.type, 200, "text/plain", result.signature);
          } else {
            if (result.code === "INTERNAL") ctx.log.error("signing failed", {error: result.message});
            fail(ex, result.type, statusOf[result.code], result.message);
          }
        });
      },
      () => tooLarge(ex),
      timeouts
    );
  };

  function tooLarge(ex: Exchange) {
    fail(ex, "unknown", 413, `the request body is over the ${maxBodyBytes}-byte limit`);
  }
}

/** The request type for metric labels, on paths that do not parse the body (404, 503). */
function typeIn(body: Buffer): string {
  const m = /"type"\s*:\s*"([A-Z0-9_]{1,64})"/.exec(body.toString("latin1", 0, Math.min(body.length, 4096)));
  return m && isRequestType(m[1]) ? m[1] : "unknown";
}


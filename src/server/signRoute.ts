import type {HttpRequest, HttpResponse} from "uWebSockets.js";
import {type ErrorCode, statusOf, unknownKeyMessage} from "../errors.js";
import {normalizePubkey} from "../hex.js";
import {pointCacheRecorder, signRecorder} from "../metrics/metrics.js";
import {isSlashable, routingTypeOf as typeIn} from "../signing/requestTypeNames.js";
import {readBody} from "./body.js";
import type {AppContext} from "./context.js";
import type {FaultKind} from "./faults.js";
import {drop, type Exchange, exchange, isOpen, reply, replyError, replyJson} from "./reply.js";

/**
 * POST /api/v1/eth2/sign/{identifier}. The main thread only routes: it reads the body, checks the
 * key is loaded (404 without touching a worker) and hands the raw bytes to the pool. Parsing,
 * validation, the signing root and the signature happen in a worker.
 */
export function signHandler(ctx: AppContext) {
  const {keys, pool, metrics, lifecycle, maxBodyBytes, maxInFlight, timeouts, faults} = ctx;

  const record = signRecorder(metrics);
  const recordPointCache = pointCacheRecorder(metrics);
  const seconds = (ex: Exchange) => (performance.now() - ex.startedMs) / 1000;
  const signed = (ex: Exchange, type: string, contentType: string, body: string) => {
    reply(ex, 200, contentType, body);
    record(type, 200, seconds(ex));
  };
  const fail = (ex: Exchange, type: string, code: ErrorCode, message: string) => {
    replyError(ex, code, message);
    record(type, statusOf[code], seconds(ex));
  };

  return (res: HttpResponse, req: HttpRequest) => {
    // HttpRequest is only valid until this function returns: read everything now.
    const identifier = req.getParameter(0) ?? "";
    const wantsJson = acceptsJson(req.getHeader("accept"));
    const declaredLength = Number(req.getHeader("content-length") || 0);
    const ex = exchange(res, req, lifecycle);

    if (lifecycle.stopping) return fail(ex, "unknown", "SHUTTING_DOWN", "the signer is shutting down");
    if (declaredLength > maxBodyBytes) return tooLarge(ex);
    // Bounded memory under overload: past the cap, shed load instead of queueing without end.
    if (lifecycle.requestsHeld > maxInFlight) {
      return fail(ex, "unknown", "OVERLOADED", `too many requests in flight (limit ${maxInFlight}); retry shortly`);
    }

    readBody(
      ex,
      maxBodyBytes,
      (body) => (faults.on ? withFaults(ex, identifier, body, wantsJson) : handle(ex, identifier, body, wantsJson)),
      () => tooLarge(ex),
      timeouts
    );
  };

  function handle(ex: Exchange, identifier: string, body: Buffer, wantsJson: boolean) {
    const key = keys.get(identifier);
    if (!key) {
      const type = typeIn(body);
      if (lifecycle.loading) return fail(ex, type, "NOT_READY", "keys are still loading; try again shortly");
      return fail(ex, type, "UNKNOWN_KEY", unknownKeyMessage(identifier));
    }
    // The type read here only picks the pool's lane; the worker parses it, decides what is checked,
    // and refuses a body whose parsed type differs. One it cannot read here may be a block: it goes
    // where requests wait for the database, so the other lane never does.
    const routed = typeIn(body);
    const slashable = pool.slashingProtection && (routed === "unknown" || isSlashable(routed));
    // The body stays in the pool until a worker is done with it, even if the client leaves.
    ex.onAbort = lifecycle.abandoned;
    pool.sign(key, body, slashable).then((result) => {
      if (ex.state === "aborted") lifecycle.abandonedReleased(); // it was open when handed over
      if ("signature" in result) {
        recordPointCache(result.pointCache);
        if (wantsJson) signed(ex, result.type, "application/json", `{"signature":"${result.signature}"}`);
        else signed(ex, result.type, "text/plain", result.signature);
      } else {
        if (result.code === "INTERNAL") ctx.log.error("signing failed", {error: result.message});
        // A key removed while its request waited: named as the client named it.
        fail(ex, result.type, result.code, result.code === "UNKNOWN_KEY" ? unknownKeyMessage(identifier) : result.message);
      }
    });
  }

  /** The request after the injected faults (--faults): delayed, then handled, failed, dropped or left hanging. */
  function withFaults(ex: Exchange, identifier: string, body: Buffer, wantsJson: boolean) {
    const type = typeIn(body);
    const {delayMs, outcome} = faults.plan(type, normalizePubkey(identifier) ?? identifier);
    const count = (kind: FaultKind) => metrics.faultsInjected.inc({kind, type});
    if (delayMs > 0) count("delay");
    const act = () => {
      if (!isOpen(ex)) return; // the client gave up while it was delayed: sign nothing for it
      if (outcome === "pass") return handle(ex, identifier, body, wantsJson);
      if (outcome === "drop") {
        count("drop");
        return drop(ex);
      }
      if (outcome === "timeout") {
        count("timeout");
        // No answer until the client gives up, or --request-timeout ends it.
        const held = faults.hold(timeouts.timeoutMs, () => drop(ex));
        ex.onAbort = () => faults.cancel(held);
        return;
      }
      count("error");
      // Any status the SPEC names, not one of the signer's own codes: replied as is.
      replyJson(ex, outcome.status, {message: `injected fault: a ${outcome.status} made on purpose (ts3signer --faults)`});
      record(type, outcome.status, seconds(ex));
    };
    if (delayMs <= 0) return act();
    // --request-timeout bounds a delay as it bounds a hung request: past it, the request is dropped.
    const timedOut = delayMs >= timeouts.timeoutMs;
    const held = faults.hold(Math.min(delayMs, timeouts.timeoutMs), timedOut ? () => drop(ex) : act);
    // A client that leaves takes its request out now: its body and timer are not kept until the delay ends.
    ex.onAbort = () => faults.cancel(held);
  }

  function tooLarge(ex: Exchange) {
    fail(ex, "unknown", "TOO_LARGE", `the request body is over the ${maxBodyBytes}-byte limit`);
  }
}

/**
 * Whether a signature goes out as JSON: when the Accept header lists `application/json` or the
 * any-type wildcard (any parameters, any position, any case), as Web3Signer decides it; otherwise the
 * bare hex as text/plain. Most HTTP clients send the wildcard by default and parse JSON.
 */
export function acceptsJson(accept: string): boolean {
  for (const range of accept.split(",")) {
    const semicolon = range.indexOf(";");
    const mediaType = (semicolon < 0 ? range : range.slice(0, semicolon)).trim().toLowerCase();
    if (mediaType === "application/json" || mediaType === "*/*") return true;
  }
  return false;
}

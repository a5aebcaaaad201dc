import type {HttpRequest, HttpResponse} from "uWebSockets.js";
import type {Logger} from "../log.js";
import {describeRule, FaultSpecError, type Faults} from "./faults.js";
import {bearerGuard, readJsonObject} from "./keymanagerRoutes.js";
import type {Lifecycle} from "./lifecycle.js";
import {type Exchange, replyError, replyJson} from "./reply.js";

type Handler = (res: HttpResponse, req: HttpRequest) => void;

/** A SPEC is a short line; this bounds what a client can make the signer hold. */
const MAX_FAULTS_BODY = 64 * 1024;

/** What GET and PUT answer: the SPEC as given and the rules it parsed to. */
export const faultsState = (faults: Faults) => ({faults: faults.spec, rules: faults.rules.map(describeRule)});

/** Logs the faults in force: a warning while any are on, since the signer then fails on purpose. */
export function logFaults(log: Logger, faults: Faults, change: boolean): void {
  if (faults.on)
    log.warn(`fault injection ${change ? "changed" : "on"}: requests are delayed, failed or dropped on purpose`, {faults: faults.spec});
  else if (change) log.info("fault injection off");
}

/** GET/PUT /ts3signer/v1/faults: the faults in force, and changing them at run time (Keymanager token). */
export function faultRoutes(faults: Faults, token: string, lifecycle: Lifecycle, log: Logger): {get: Handler; put: Handler} {
  const guarded = bearerGuard(token, lifecycle);
  return {
    get: guarded((ex) => replyJson(ex, 200, faultsState(faults))),
    put: guarded((ex: Exchange) =>
      readJsonObject(ex, MAX_FAULTS_BODY, ({faults: spec}) => {
        if (typeof spec !== "string")
          return replyError(
            ex,
            "BAD_REQUEST",
            'faults: expected a SPEC string, e.g. {"faults": "delay=50ms..400ms;error=0.05:503"}, or "" to clear'
          );
        try {
          faults.set(spec);
        } catch (e) {
          if (e instanceof FaultSpecError) return replyError(ex, "BAD_REQUEST", `faults: ${e.message}`);
          throw e;
        }
        logFaults(log, faults, true);
        replyJson(ex, 200, faultsState(faults));
      })
    ),
  };
}

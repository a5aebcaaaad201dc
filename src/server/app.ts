import type {HttpRequest, HttpResponse, TemplatedApp} from "uWebSockets.js";
import type {AppContext} from "./context.js";
import {uWS} from "./engine.js";
import {faultRoutes} from "./faultRoutes.js";
import {keymanagerRoutes} from "./keymanagerRoutes.js";
import {type Exchange, exchange, reply, replyError, replyJson} from "./reply.js";
import {signHandler} from "./signRoute.js";

type Handler = (res: HttpResponse, req: HttpRequest) => void;
type Method = "get" | "post" | "put" | "delete";

/** The signing API's routes (Web3Signer eth2 paths). */
export function createApp(ctx: AppContext, tls?: {cert: string; key: string}): TemplatedApp {
  const app = tls ? uWS.SSLApp({cert_file_name: tls.cert, key_file_name: tls.key}) : uWS.App();
  /** A handler that needs nothing from the request but to answer it. */
  const simple =
    (fn: (ex: Exchange) => void): Handler =>
    (res, req) =>
      fn(exchange(res, req, ctx.lifecycle));

  const keymanagerDisabled = simple((ex) =>
    replyError(ex, "NOT_FOUND", "the Keymanager API is disabled; start the signer with --data-dir DIR to enable it")
  );
  const faultsApiDisabled = simple((ex) =>
    replyError(ex, "NOT_FOUND", "the faults API needs the Keymanager token; start the signer with --data-dir DIR to enable it")
  );
  const routes: Record<string, Partial<Record<Method, Handler>>> = {
    "/api/v1/eth2/sign/:identifier": {post: signHandler(ctx)},
    "/api/v1/eth2/publicKeys": {get: simple((ex) => reply(ex, 200, "application/json", ctx.keys.publicKeysJson()))},
    "/upcheck": {get: simple((ex) => reply(ex, 200, "text/plain", "OK"))},
    "/healthcheck": {get: simple((ex) => healthcheck(ex, ctx))},
    "/reload": {
      post: simple((ex) => {
        ctx.reloader.start();
        replyJson(ex, 202, ctx.reloader.status());
      }),
      get: simple((ex) => replyJson(ex, 200, ctx.reloader.status())),
    },
    "/eth/v1/keystores": ctx.keymanager
      ? keymanagerRoutes(ctx.keymanager.km, ctx.keymanager.token, ctx.lifecycle)
      : {get: keymanagerDisabled, post: keymanagerDisabled, delete: keymanagerDisabled},
    "/ts3signer/v1/faults": ctx.keymanager
      ? faultRoutes(ctx.faults, ctx.keymanager.token, ctx.lifecycle, ctx.log)
      : {get: faultsApiDisabled, put: faultsApiDisabled},
  };

  for (const [path, methods] of Object.entries(routes)) {
    for (const [method, handler] of Object.entries(methods) as [Method, Handler][])
      app[method === "delete" ? "del" : method](path, handler);
    // HEAD runs the GET handler; its exchange knows to leave the body out.
    if (methods.get) app.head(path, methods.get);
    // uWS prefers a method's own route over `any`, so this only sees the other methods.
    const allowed = [...Object.keys(methods), ...(methods.get ? ["head"] : [])].map((m) => m.toUpperCase()).join(", ");
    app.any(
      path,
      simple((ex) => replyError(ex, "METHOD_NOT_ALLOWED", `method not allowed; use ${allowed}`))
    );
  }
  app.any(
    "/*",
    simple((ex) => replyError(ex, "NOT_FOUND", "not found"))
  );
  return app;
}

/**
 * Web3Signer's health check: `status` UP (200) when every check is UP, else DOWN or LOADING (503),
 * with one entry per check: the keys, and the slashing protection database when there is one.
 */
function healthcheck(ex: Exchange, ctx: AppContext): void {
  const keys = ctx.lifecycle.stopping ? "DOWN" : ctx.lifecycle.loading ? "LOADING" : "UP";
  const checks: {id: string; status: string; keys_loaded?: number}[] = [{id: "keys-check", status: keys, keys_loaded: ctx.keys.size}];
  if (ctx.slashingHealth) checks.push({id: "slashing-protection-db-health-check", status: ctx.slashingHealth.isUp ? "UP" : "DOWN"});
  const status = checks.find((c) => c.status !== "UP")?.status ?? "UP";
  replyJson(ex, status === "UP" ? 200 : 503, {status, outcome: status, checks});
}

import type {HttpRequest, HttpResponse} from "uWebSockets.js";
import type {Lifecycle} from "./lifecycle.js";

const statusLines: Record<number, string> = {
  200: "200 OK",
  202: "202 Accepted",
  400: "400 Bad Request",
  401: "401 Unauthorized",
  404: "404 Not Found",
  405: "405 Method Not Allowed",
  412: "412 Precondition Failed",
  413: "413 Payload Too Large",
  500: "500 Internal Server Error",
  503: "503 Service Unavailable",
};

/**
 * One request, from its first callback to its answer: the state that outlives uWS's HttpRequest
 * (which is gone after the first callback). Every field is set up front, so all requests share
 * one object shape.
 */
export type Exchange = {
  res: HttpResponse;
  /** The response may no longer be written: answered already, or the client is gone. */
  aborted: boolean;
  /** When the request started (performance.now()), for the latency histogram. */
  startedMs: number;
  /** Still counted by the lifecycle (shutdown waits for it; --max-in-flight counts it). */
  inFlight: boolean;
  /** While the body is being read: the RequestTimeouts bucket holding this exchange, and where. */
  readingIn: Exchange[] | undefined;
  readingIndex: number;
  lifecycle: Lifecycle;
  /** A HEAD request: answered with the status and headers its GET would have, and no body (RFC 9110). */
  head: boolean;
};

/** Starts an exchange; call it while `req` is still valid (in the route handler itself). */
export function exchange(res: HttpResponse, req: HttpRequest, lifecycle: Lifecycle): Exchange {
  const head = req.getMethod() === "head";
  const ex: Exchange = {res, aborted: false, startedMs: performance.now(), inFlight: true, readingIn: undefined, readingIndex: 0, lifecycle, head};
  lifecycle.requestStarted();
  res.onAborted(() => {
    ex.aborted = true;
    settle(ex);
  });
  return ex;
}

/** The request no longer needs an answer (answered, or its client gone). */
function settle(ex: Exchange): void {
  if (!ex.inFlight) return;
  ex.inFlight = false;
  ex.lifecycle.requestDone();
}

/** Drops the connection without an answer (a client that stalled). */
export function drop(ex: Exchange): void {
  if (ex.aborted) return;
  ex.aborted = true;
  ex.res.close();
  settle(ex);
}

/**
 * Writes a whole response. Corked, because a write after an await would otherwise go out in
 * several syscalls; skipped when the client has gone (writing to an aborted uWS response throws).
 */
export function reply(ex: Exchange, status: number, contentType: string, body: string, closeConnection = false): void {
  if (ex.aborted) return;
  ex.aborted = true; // answered: nothing may be written after this
  ex.res.cork(() => {
    ex.res.writeStatus(statusLines[status] ?? String(status)).writeHeader("content-type", contentType);
    // A body after a HEAD answer would be read as the start of the next response on the connection.
    // The length goes in as a plain header: given to endWithoutBody, uWS would wait for that many
    // bytes and never answer the connection's next request. (No argument at all: an explicit
    // undefined becomes a bogus length. A HEAD has no body to refuse, so the connection stays.)
    if (ex.head) ex.res.writeHeader("content-length", String(Buffer.byteLength(body))).endWithoutBody();
    else ex.res.end(body, closeConnection);
  });
  settle(ex);
}

export const replyJson = (ex: Exchange, status: number, value: unknown, closeConnection = false) =>
  reply(ex, status, "application/json", JSON.stringify(value), closeConnection);

export const replyError = (ex: Exchange, status: number, message: string, closeConnection = false) =>
  replyJson(ex, status, {message}, closeConnection);

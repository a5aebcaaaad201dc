import type {HttpRequest, HttpResponse} from "uWebSockets.js";
import {STATUS_CODES} from "node:http";
import {closesConnection, type ErrorCode, statusOf} from "../errors.js";
import {type CloseReason, type ConnectionEnd, connectionEnd, keepAliveHint} from "./connection.js";
import type {Lifecycle} from "./lifecycle.js";

const statusLines: Record<number, string> = {
  200: "200 OK",
  202: "202 Accepted",
  400: "400 Bad Request",
  401: "401 Unauthorized",
  404: "404 Not Found",
  405: "405 Method Not Allowed",
  408: "408 Request Timeout",
  412: "412 Precondition Failed",
  413: "413 Payload Too Large",
  500: "500 Internal Server Error",
  503: "503 Service Unavailable",
};

/**
 * Where a request is in its life: its body being read, then queued for its answer (a worker, the
 * Keymanager), then answered; or aborted from either of the first two (the client went away, or
 * was dropped for stalling). Only `reading` and `queued` count as in flight: shutdown waits for
 * them and --max-in-flight counts them.
 */
export type ExchangeState = "reading" | "queued" | "answered" | "aborted";

/**
 * One request, from its first callback to its answer: the state that outlives uWS's HttpRequest
 * (which is gone after the first callback). Every field is set up front, so all requests share
 * one object shape.
 */
export type Exchange = {
  res: HttpResponse;
  state: ExchangeState;
  /** When the request started (performance.now()), for the latency histogram. */
  startedMs: number;
  lifecycle: Lifecycle;
  /** A HEAD request: answered with the status and headers its GET would have, and no body (RFC 9110). */
  head: boolean;
  /** What the request's Connection header leaves of the connection after the answer. */
  connection: ConnectionEnd;
  /** The InFlightAges generation it started in. */
  generation: number;
  /** RequestTimeouts' bookkeeping while the body is read: the bucket holding this exchange, and where. */
  timeoutBucket: Exchange[] | undefined;
  timeoutIndex: number;
  /** Set by a route that holds something for the request (a fault's timer, a worker's batch): run if the client goes away first. */
  onAbort: (() => void) | undefined;
};

/** The request still wants an answer: nothing has been written and the client is still there. */
export const isOpen = (ex: Exchange): boolean => ex.state === "reading" || ex.state === "queued";

/** Starts an exchange; call it while `req` is still valid (in the route handler itself). */
export function exchange(res: HttpResponse, req: HttpRequest, lifecycle: Lifecycle): Exchange {
  const head = req.getMethod() === "head";
  const connection = connectionEnd(req.getHeader("connection"));
  const generation = lifecycle.ages.started();
  const ex: Exchange = {
    res,
    state: "reading",
    startedMs: performance.now(),
    lifecycle,
    head,
    connection,
    generation,
    timeoutBucket: undefined,
    timeoutIndex: 0,
    onAbort: undefined,
  };
  lifecycle.requestStarted();
  res.onAborted(() => close(ex, "aborted"));
  return ex;
}

/** Leaves the in-flight states for good; false if it had already left them. */
function close(ex: Exchange, state: "answered" | "aborted"): boolean {
  if (!isOpen(ex)) return false;
  ex.state = state;
  ex.lifecycle.requestDone();
  ex.lifecycle.ages.done(ex.generation);
  if (state === "aborted") ex.onAbort?.();
  return true;
}

/** Drops the connection without an answer (an injected fault). */
export function drop(ex: Exchange): void {
  if (!close(ex, "aborted")) return;
  ex.res.close();
  ex.lifecycle.connectionClosed("fault");
}

/**
 * Writes a whole response, once. Corked, because a write after an await would otherwise go out in
 * several syscalls. Whenever the connection closes after it, the response says `Connection: close`
 * (src/server/connection.ts).
 */
export function reply(ex: Exchange, status: number, contentType: string, body: string, closeFor?: CloseReason): void {
  // Skipped when the client has gone: writing to an aborted uWS response throws.
  if (!close(ex, "answered")) return;
  const {res, connection} = ex;
  // A HEAD has no body to refuse, so a refusal leaves its connection open.
  const closes = connection === "uws-closes" || (!ex.head && (connection === "close" || closeFor !== undefined));
  res.cork(() => {
    res.writeStatus(statusLines[status] ?? `${status} ${STATUS_CODES[status] ?? "Error"}`).writeHeader("content-type", contentType);
    // uWS writes this header itself for end(body, true), except when it closes on its own.
    if (connection === "uws-closes") res.writeHeader("connection", "close");
    else if (!closes) res.writeHeader("keep-alive", keepAliveHint);
    // A body after a HEAD answer would be read as the start of the next response on the connection.
    // The length goes in as a plain header: given to endWithoutBody, uWS would wait for that many
    // bytes and never answer the connection's next request. (No argument at all: an explicit
    // undefined becomes a bogus length.) So a HEAD that asked to close in a way uWS does not
    // recognise ("keep-alive, close") keeps its connection; its client closes it.
    if (ex.head) res.writeHeader("content-length", String(Buffer.byteLength(body))).endWithoutBody();
    else res.end(body, closes);
  });
  if (closes) ex.lifecycle.connectionClosed(closeFor ?? "client_asked");
}

export const replyJson = (ex: Exchange, status: number, value: unknown, closeFor?: CloseReason) =>
  reply(ex, status, "application/json", JSON.stringify(value), closeFor);

/** Every refusal and failure goes out here: the code decides the status and whether the connection closes. */
export const replyError = (ex: Exchange, code: ErrorCode, message: string) =>
  replyJson(
    ex,
    statusOf[code],
    {message},
    !closesConnection(code) ? undefined : code === "REQUEST_TIMEOUT" ? "request_timeout" : "refused_body"
  );

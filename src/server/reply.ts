import type {HttpResponse} from "uWebSockets.js";

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
 * Per-request state that outlives uWS's HttpRequest (which is gone after the first callback).
 * `aborted` is set once the response may no longer be written: the client went away, or it was
 * answered already.
 */
export type Exchange = {
  res: HttpResponse;
  aborted: boolean;
  /** When the request started (performance.now()), for the latency histogram. */
  startedMs: number;
  /** Still counted as in flight (for shutdown and --max-in-flight). */
  inFlight: boolean;
  /** Set while the body is being read (see RequestTimeouts). */
  readingSince: number | undefined;
};

/** `onAbort` runs if the client goes away (or is dropped) before it is answered. */
export function exchange(res: HttpResponse, onAbort?: () => void): Exchange {
  // Every field up front: one object shape for every request.
  const ex: Exchange = {res, aborted: false, startedMs: performance.now(), inFlight: false, readingSince: undefined};
  res.onAborted(() => {
    ex.aborted = true;
    onAbort?.();
  });
  return ex;
}

/**
 * Writes a whole response. Corked, because a write after an await would otherwise go out in
 * several syscalls; skipped when the client has gone (writing to an aborted uWS response throws).
 */
export function reply(ex: Exchange, status: number, contentType: string, body: string, closeConnection = false): void {
  if (ex.aborted) return;
  ex.aborted = true; // answered: nothing may be written after this
  ex.res.cork(() => {
    ex.res
      .writeStatus(statusLines[status] ?? String(status))
      .writeHeader("content-type", contentType)
      .end(body, closeConnection);
  });
}

export const replyJson = (ex: Exchange, status: number, value: unknown, closeConnection = false) =>
  reply(ex, status, "application/json", JSON.stringify(value), closeConnection);

export const replyError = (ex: Exchange, status: number, message: string, closeConnection = false) =>
  replyJson(ex, status, {message}, closeConnection);

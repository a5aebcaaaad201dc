/**
 * What happens to a connection after an answer (RFC 9112 §9.3, §9.6). A server that closes after a
 * response must say so with `Connection: close`, or a client that pools connections (Node's
 * keep-alive agent, Go's Transport) sends its next request into the closed socket and fails with
 * "socket hang up" / EOF, a failure the signer never sees.
 *
 * uWS 20.30 closes after answering any request whose Connection header is exactly five characters
 * long (its test for "close") and then writes no `Connection: close` of its own; it writes one only
 * when asked to close (`end(body, true)`) a connection the request did not ask to close.
 */
export type ConnectionEnd =
  /** Kept open for the client's next request. */
  | "keep-alive"
  /** The request asked to close and uWS does not know it: closed by passing `true` to end(). */
  | "close"
  /** uWS closes it on its own after the answer (a five-character Connection header) and says nothing. */
  | "uws-closes";

/**
 * uWS closes a keep-alive connection after 8–12 s without a request (a 10 s timeout on a 4 s
 * timer), with a clean FIN, and offers no setting for it. Clients that pool sockets longer (Node's
 * agent: forever; Go, hyper: 90 s; java.net.http: 30 s) see that FIN only when it arrives, so a
 * request sent just then fails. Node's agent and undici read this hint and retire the socket a
 * second before it, long before uWS closes; the others drop the socket when they see the FIN.
 */
export const keepAliveHint = "timeout=5";

const closeOption = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;

/** The request's Connection header → what becomes of the connection after the answer. */
export function connectionEnd(header: string): ConnectionEnd {
  if (header.length === 5) return "uws-closes";
  return header !== "" && closeOption.test(header) ? "close" : "keep-alive";
}

/**
 * Why the server closed a connection (ts3signer_http_connections_closed_total{reason}). uWS's own
 * closes of idle connections are not seen from JavaScript and not counted (README, "HTTP").
 */
export type CloseReason =
  /** The request asked for it (`Connection: close`, as node-fetch 2 sends on every request). */
  | "client_asked"
  /** An answer that refuses the body (413, 401): the body is neither read nor kept. */
  | "refused_body"
  /** A client that stalled mid-body past --request-timeout. */
  | "request_timeout"
  /** An injected fault (--faults drop or timeout) hung up without an answer. */
  | "fault"
  /** A request uWS cannot parse and would never answer, e.g. HTTP/1.0 (src/server/stalledConnections.ts). */
  | "stalled";

export const closeReasons: readonly CloseReason[] = ["client_asked", "refused_body", "request_timeout", "fault", "stalled"];

// A request's life on the HTTP thread (src/server/reply.ts), over a stand-in for uWS's response.
import {describe, expect, it} from "vitest";
import {Lifecycle} from "../dist/src/server/lifecycle.js";
import {drop, exchange, isOpen, reply} from "../dist/src/server/reply.js";

function fakeResponse() {
  const log: string[] = [];
  let onAborted = () => {};
  const res = {
    onAborted: (fn: () => void) => ((onAborted = fn), res),
    cork: (fn: () => void) => (fn(), res),
    writeStatus: (s: string) => (log.push(`status ${s}`), res),
    writeHeader: (k: string, v: string) => (log.push(`${k}: ${v}`), res),
    end: (body: string) => (log.push(`body ${body}`), res),
    endWithoutBody: () => (log.push("no body"), res),
    close: () => (log.push("closed"), res),
  };
  return {res, log, clientGone: () => onAborted()};
}
const start = (method: string, lifecycle: Lifecycle) => {
  const f = fakeResponse();
  return {...f, ex: exchange(f.res as never, {getMethod: () => method} as never, lifecycle)};
};

describe("an exchange", () => {
  it("goes reading → queued → answered, is counted in flight until answered, and is answered once", () => {
    const lifecycle = new Lifecycle();
    const {ex, log} = start("post", lifecycle);
    expect([ex.state, lifecycle.requestsInFlight]).toEqual(["reading", 1]);
    ex.state = "queued"; // as readBody does once the body is complete
    expect(isOpen(ex)).toBe(true);
    reply(ex, 200, "text/plain", "0xabc");
    reply(ex, 500, "text/plain", "second answer");
    expect([ex.state, lifecycle.requestsInFlight]).toEqual(["answered", 0]);
    expect(log).toEqual(["status 200 OK", "content-type: text/plain", "body 0xabc"]);
  });

  it("writes nothing once its client has gone, and stops counting it", () => {
    const lifecycle = new Lifecycle();
    const {ex, log, clientGone} = start("post", lifecycle);
    clientGone();
    reply(ex, 200, "text/plain", "0xabc");
    drop(ex);
    expect([ex.state, lifecycle.requestsInFlight, log]).toEqual(["aborted", 0, []]);
  });

  it("is dropped without an answer (closed once), after which no answer is written", () => {
    const lifecycle = new Lifecycle();
    const {ex, log} = start("post", lifecycle);
    drop(ex);
    drop(ex);
    reply(ex, 200, "text/plain", "late");
    expect([ex.state, lifecycle.requestsInFlight, log]).toEqual(["aborted", 0, ["closed"]]);
  });

  it("answers HEAD with the headers and the length the body would have, and no body", () => {
    const {ex, log} = start("head", new Lifecycle());
    reply(ex, 200, "application/json", '{"status":"UP"}');
    expect(log).toEqual(["status 200 OK", "content-type: application/json", "content-length: 15", "no body"]);
  });
});

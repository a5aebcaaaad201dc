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
    end: (body: string, close?: boolean) => (log.push(`body ${body}${close ? " (closes)" : ""}`), res),
    endWithoutBody: () => (log.push("no body"), res),
    close: () => (log.push("closed"), res),
  };
  return {res, log, clientGone: () => onAborted()};
}
const start = (method: string, lifecycle: Lifecycle, connection = "") => {
  const f = fakeResponse();
  const req = {getMethod: () => method, getHeader: (name: string) => (name === "connection" ? connection : "")};
  return {...f, ex: exchange(f.res as never, req as never, lifecycle)};
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
    expect(log).toEqual(["status 200 OK", "content-type: text/plain", "keep-alive: timeout=5", "body 0xabc"]);
  });

  it("writes nothing once its client has gone, and stops counting it", () => {
    const lifecycle = new Lifecycle();
    const {ex, log, clientGone} = start("post", lifecycle);
    clientGone();
    reply(ex, 200, "text/plain", "0xabc");
    drop(ex);
    expect([ex.state, lifecycle.requestsInFlight, log]).toEqual(["aborted", 0, []]);
  });

  it("is dropped without an answer (closed once, counted as a fault), after which no answer is written", () => {
    const lifecycle = new Lifecycle();
    const closes: string[] = [];
    lifecycle.connectionClosed = (reason) => closes.push(reason);
    const {ex, log} = start("post", lifecycle);
    drop(ex);
    drop(ex);
    reply(ex, 200, "text/plain", "late");
    expect([ex.state, lifecycle.requestsInFlight, log, closes]).toEqual(["aborted", 0, ["closed"], ["fault"]]);
  });

  it("answers HEAD with the headers and the length the body would have, and no body", () => {
    const {ex, log} = start("head", new Lifecycle());
    reply(ex, 200, "application/json", '{"status":"UP"}');
    expect(log).toEqual(["status 200 OK", "content-type: application/json", "keep-alive: timeout=5", "content-length: 15", "no body"]);
  });

  it("says Connection: close whenever the connection closes after the answer, and counts why", () => {
    const closes: string[] = [];
    const lifecycle = new Lifecycle();
    lifecycle.connectionClosed = (reason) => closes.push(reason);
    const answer = (connection: string, closeFor?: "refused_body", method = "post") => {
      const {ex, log} = start(method, lifecycle, connection);
      reply(ex, 200, "text/plain", "x", closeFor);
      return log.slice(2);
    };
    // uWS closes a five-character Connection header on its own and says nothing: the header is ours.
    expect(answer("close")).toEqual(["connection: close", "body x (closes)"]);
    expect(answer("CLOSE")).toEqual(["connection: close", "body x (closes)"]);
    // Other ways of asking: uWS closes and writes the header when told to.
    expect(answer("keep-alive, Close")).toEqual(["body x (closes)"]);
    expect(answer("", "refused_body")).toEqual(["body x (closes)"]);
    expect(answer("keep-alive")).toEqual(["keep-alive: timeout=5", "body x"]);
    expect(answer("closed")).toEqual(["keep-alive: timeout=5", "body x"]);
    // HEAD: nothing to refuse, so a refusal keeps the connection; a five-character header still closes it.
    expect(answer("", "refused_body", "head")).toEqual(["keep-alive: timeout=5", "content-length: 1", "no body"]);
    expect(answer("close", undefined, "head")).toEqual(["connection: close", "content-length: 1", "no body"]);
    expect(closes).toEqual(["client_asked", "client_asked", "client_asked", "refused_body", "client_asked"]);
  });
});

describe("in-flight ages", () => {
  it("bounds how long the oldest request in flight has run, and knows when it is beyond its window", async () => {
    const {InFlightAges} = await import("../dist/src/server/inFlightAges.js");
    const ages = new InFlightAges();
    expect(ages.oldestMs(1000)).toBe(0);
    ages.tick(1000);
    const first = ages.started();
    ages.tick(1200);
    ages.tick(1400);
    const second = ages.started();
    expect(ages.oldestMs(1500)).toBe(500);
    ages.done(first);
    expect(ages.oldestMs(1500)).toBe(100);
    for (let i = 1; i <= 16; i++) ages.tick(1400 + i * 200);
    expect(ages.oldestMs(5000)).toBe(Infinity); // older than the 16 generations it tells apart
    ages.done(second);
    expect(ages.oldestMs(5000)).toBe(0);
  });
});

import {afterEach, beforeEach, describe, expect, it, vi} from "vitest";
import {Lifecycle} from "../dist/src/server/lifecycle.js";
import {type Exchange, exchange} from "../dist/src/server/reply.js";
import {RequestTimeouts} from "../dist/src/server/requestTimeouts.js";

/** An exchange over a stand-in for uWS's response that records whether it was answered with a close. */
function fakeExchange(lifecycle: Lifecycle): Exchange & {closed: () => boolean} {
  let closed = false;
  const res = {
    onAborted: () => res,
    cork: (fn: () => void) => (fn(), res),
    writeStatus: () => res,
    writeHeader: () => res,
    end: (_body: string, close: boolean) => ((closed = close), res),
  };
  const req = {getMethod: () => "post", getHeader: () => ""};
  return Object.assign(exchange(res as never, req as never, lifecycle), {closed: () => closed});
}

describe("request body timeouts", () => {
  // The sweep runs on the (fake) clock: overdue means overdue by the clock, whatever the machine's load.
  beforeEach(() => vi.useFakeTimers({toFake: ["setInterval", "clearInterval", "setTimeout", "clearTimeout", "performance", "Date"]}));
  afterEach(() => vi.useRealTimers());

  it("holds only the exchanges still reading, and answers exactly those (408, closing) once they are overdue", () => {
    const lifecycle = new Lifecycle();
    let timeouts = 0;
    const t = new RequestTimeouts(100, () => timeouts++);
    try {
      const all = Array.from({length: 500}, () => fakeExchange(lifecycle));
      for (const ex of all) t.start(ex);
      // Finish most of them out of order (half from the end, the other half from the start), to
      // exercise the swap-removal; every third stalls.
      const finished = all.filter((_, i) => i % 3 !== 0);
      for (let i = finished.length - 1; i >= 0; i -= 2) t.done(finished[i]);
      for (let i = finished.length % 2 === 0 ? 0 : 1; i < finished.length; i += 2) t.done(finished[i]);
      t.done(finished[0]); // a second done() is harmless
      const stalled = all.filter((_, i) => i % 3 === 0);
      expect(t.reading).toBe(stalled.length);

      vi.advanceTimersByTime(99);
      expect([t.reading, timeouts]).toEqual([stalled.length, 0]); // not yet overdue
      vi.advanceTimersByTime(101); // the sweep finds them within one tick of the timeout
      expect(t.reading).toBe(0);
      expect(timeouts).toBe(stalled.length);
      expect(stalled.every((ex) => ex.closed())).toBe(true);
      expect(finished.some((ex) => ex.closed())).toBe(false);
      expect(lifecycle.requestsInFlight).toBe(finished.length);
    } finally {
      t.stop();
    }
  });
});

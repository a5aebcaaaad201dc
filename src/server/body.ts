import type {Exchange} from "./reply.js";
import type {RequestTimeouts} from "./requestTimeouts.js";

/**
 * Collects a request body. uWS hands out chunks that are emptied when the callback returns, so
 * each is copied. Past `maxBytes` the rest is not stored and `onTooLarge` runs once. With
 * `timeouts`, a client that stalls mid-body is dropped.
 */
export function readBody(
  ex: Exchange,
  maxBytes: number,
  onBody: (body: Buffer) => void,
  onTooLarge: () => void,
  timeouts?: RequestTimeouts
): void {
  let chunks: Buffer[] | undefined;
  let length = 0;
  let tooLarge = false;
  timeouts?.start(ex);
  ex.res.onData((chunk, isLast) => {
    if (tooLarge) return;
    length += chunk.byteLength;
    if (length > maxBytes) {
      tooLarge = true;
      timeouts?.done(ex);
      onTooLarge();
      return;
    }
    const copy = Buffer.from(new Uint8Array(chunk)); // Buffer.from(Uint8Array) copies
    if (isLast) {
      timeouts?.done(ex);
      ex.state = "queued"; // read: now it waits for its answer
      onBody(chunks ? Buffer.concat([...chunks, copy], length) : copy);
    } else {
      (chunks ??= []).push(copy);
    }
  });
}

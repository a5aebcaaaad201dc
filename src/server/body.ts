import type {Exchange} from "./reply.js";

/**
 * Collects a request body. uWS hands out chunks that are emptied when the callback returns, so
 * each is copied. Past `maxBytes` the rest is not stored and `onTooLarge` runs once.
 */
export function readBody(ex: Exchange, maxBytes: number, onBody: (body: Buffer) => void, onTooLarge: () => void): void {
  let chunks: Buffer[] | undefined;
  let length = 0;
  let tooLarge = false;
  ex.res.onData((chunk, isLast) => {
    if (tooLarge) return;
    length += chunk.byteLength;
    if (length > maxBytes) {
      tooLarge = true;
      onTooLarge();
      return;
    }
    const copy = Buffer.from(new Uint8Array(chunk)); // Buffer.from(Uint8Array) copies
    if (isLast) {
      onBody(chunks ? Buffer.concat([...chunks, copy], length) : copy);
    } else {
      (chunks ??= []).push(copy);
    }
  });
}

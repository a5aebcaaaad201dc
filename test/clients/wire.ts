// The HTTP exchange as a validator client makes it: node:http sends exactly the headers given (fetch
// would add `accept: */*`, which some clients do not send), and each client reads the answer its
// own way.
import {request as httpRequest} from "node:http";
import type {Duty} from "./duties.js";

export type WireRequest = {method: "GET" | "POST"; path: string; headers: Record<string, string>; body?: string};
export type WireResponse = {status: number; contentType: string | undefined; body: string};

/** One validator client's remote-signer code, as read in its sources. */
export type ClientShape = {
  name: string;
  /** Releases whose code this shape follows, and where that code is. */
  versions: string;
  source: string;
  /** The answer's content type Web3Signer gives this client's Accept header (its own rule). */
  answerType: "application/json" | "text/plain";
  /** Forks whose duties this shape covers. */
  forks: readonly string[];
  /** The signing request the client sends for a duty; undefined where it never asks a remote signer for it. */
  signRequest(pubkey: string, duty: Duty): WireRequest | undefined;
  /** The signature as the client reads it from the answer; throws where the client would fail. */
  readSignature(res: WireResponse): string;
  /** How the client lists the signer's keys, if it does. */
  publicKeys?: {request: WireRequest; read(res: WireResponse): string[]};
};

export function send(baseUrl: string, req: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    const headers = body ? {...req.headers, "content-length": String(body.length)} : req.headers;
    const r = httpRequest(new URL(req.path, baseUrl), {method: req.method, headers}, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({status: res.statusCode ?? 0, contentType: res.headers["content-type"], body: Buffer.concat(chunks).toString("utf8")})
      );
    });
    r.on("error", reject);
    r.end(body);
  });
}

export const signPath = (pubkey: string) => `/api/v1/eth2/sign/${pubkey}`;
export const publicKeysPath = "/api/v1/eth2/publicKeys";

/** A 0x hex string that a strict decoder (Go's hexutil.Decode, Java's Bytes.fromHexString) takes: no whitespace. */
export function strictHex(text: string): string {
  if (!/^0x(?:[0-9a-fA-F]{2})+$/.test(text)) throw new Error(`not 0x-prefixed hex: ${JSON.stringify(text.slice(0, 40))}`);
  return text;
}

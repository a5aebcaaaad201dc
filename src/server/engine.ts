import uWS from "uWebSockets.js";

export {uWS};

/**
 * The uWebSockets.js package falls back, silently, to a slow pure-JS polyfill when its native
 * binary does not load (or when UWS_USE_FALLBACK is set). The polyfill exports only App,
 * us_listen_socket_close and _cfg; the native module also has SSLApp, getParts, …
 */
export type HttpEngine = "uws-native" | "uws-js-fallback";
export const httpEngine: HttpEngine =
  typeof (uWS as {SSLApp?: unknown}).SSLApp === "function" && typeof (uWS as {getParts?: unknown}).getParts === "function"
    ? "uws-native"
    : "uws-js-fallback";

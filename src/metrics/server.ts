import {createServer, type Server} from "node:http";
import type {Metrics} from "./metrics.js";

/**
 * GET (and HEAD) /metrics on its own port (node:http: scraped every few seconds, it needs no uWS). `refresh`
 * sets the gauges that are read rather than counted, just before each scrape.
 */
export function createMetricsServer(metrics: Metrics, refresh: () => void): Server {
  return createServer((req, res) => {
    if ((req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, {"content-type": "application/json"}).end(JSON.stringify({message: "not found; use GET /metrics"}));
      return;
    }
    // HEAD answers the GET's status and headers; node:http sends no body for it.
    if (req.method !== "GET" && req.method !== "HEAD") {
      res
        .writeHead(405, {"content-type": "application/json", allow: "GET, HEAD"})
        .end(JSON.stringify({message: "method not allowed; use GET /metrics"}));
      return;
    }
    refresh();
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, {"content-type": metrics.registry.contentType}).end(text),
      (e: Error) => res.writeHead(500, {"content-type": "text/plain"}).end(`metrics failed: ${e.message}`)
    );
  });
}

# connwatch.c: ends the signing port's connections that uWS will never answer (see the file). Linux
# only: elsewhere nothing is built and the signer goes without it (src/server/stalledConnections.ts).
{
  "targets": [
    {
      "target_name": "connwatch",
      "conditions": [["OS=='linux'", {"sources": ["connwatch.c"], "cflags": ["-O2"]}]],
    },
  ],
}

# The fast signing addon (fastsign.c, and comb.c: fixed-base tables for hot roots), compiled at `npm ci` from the blst C sources that ship in
# the @chainsafe/blst-swig package (src/server.c is blst's single-file build). That package is an
# optional dependency (its own install script fails where it has no prebuilt binary); where it or a
# C compiler is missing, the signer signs with @chainsafe/blst's sign() (src/signing/fastSign.ts).
{
  "variables": {
    "blst": "<!(node -p \"require('path').relative('.', require('path').dirname(require.resolve('@chainsafe/blst-swig/package.json')))\")/blst",
    # blst's own build picks the MULX/ADX code where the CPU has it; the addon runs where it is built.
    "adx": "<!(grep -qw adx /proc/cpuinfo 2>/dev/null && echo 1 || echo 0)",
  },
  "targets": [
    {
      "target_name": "fastsign",
      "sources": ["fastsign.c", "comb.c", "inverse.c", "<(blst)/src/server.c", "<(blst)/build/assembly.S"],
      "include_dirs": ["<(blst)/bindings", "<(blst)/src"],
      "cflags": ["-O2", "-fno-builtin"],
      "conditions": [
        ["target_arch=='x64'", {"cflags": ["-mno-avx"]}],
        ["target_arch=='x64' and adx==1", {"defines": ["__ADX__"]}],
        ["OS=='linux'", {"ldflags": ["-Wl,-Bsymbolic"]}],
      ],
    },
  ],
}

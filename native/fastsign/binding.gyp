# The fast signing addon (fastsign.c, and comb.c: fixed-base tables for hot roots), compiled at `npm ci` from the blst C sources that ship in
# the @chainsafe/blst-swig package (src/server.c is blst's single-file build). That package is an
# optional dependency (its own install script fails where it has no prebuilt binary); where it or a
# C compiler is missing, the signer signs with @chainsafe/blst's sign() (src/signing/fastSign.ts).
#
# Two builds of the same source, so an image built on one CPU runs on any other:
# - fastsign: blst's portable build (__BLST_PORTABLE__: no MULX/ADX, no SHA extensions); runs on
#   any CPU of its architecture.
# - fastsign_adx (x86-64): MULX/ADCX/ADOX, about 20% less CPU a signature (npm run bench); it checks
#   the CPU when it loads and refuses where BMI2 or ADX is missing, and the portable build is used.
{
  "variables": {
    "blst": "<!(node -p \"require('path').relative('.', require('path').dirname(require.resolve('@chainsafe/blst-swig/package.json')))\")/blst",
  },
  "target_defaults": {
    "sources": ["fastsign.c", "comb.c", "inverse.c", "<(blst)/src/server.c", "<(blst)/build/assembly.S"],
    "include_dirs": ["<(blst)/bindings", "<(blst)/src"],
    "cflags": ["-O2", "-fno-builtin"],
    "conditions": [
      ["target_arch=='x64'", {"cflags": ["-mno-avx"]}],
      ["OS=='linux'", {"ldflags": ["-Wl,-Bsymbolic"]}],
    ],
  },
  "targets": [
    {"target_name": "fastsign", "defines": ["__BLST_PORTABLE__"]},
  ],
  "conditions": [
    ["target_arch=='x64' and OS!='win'", {
      "targets": [{"target_name": "fastsign_adx", "defines": ["__ADX__"]}],
    }],
  ],
}

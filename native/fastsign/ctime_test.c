/*
 * Constant-time check of the signing path, run under valgrind by test/fastSign.ctime.test.ts.
 * Memcheck reports every branch and every memory address that depends on an undefined value;
 * marking the secret key undefined (the bytes are still there to compute with) turns each
 * secret-dependent branch or table index on the way to the signature into a reported error.
 * The signature is public output: comb.c, built with COMB_CTGRIND, marks it defined again
 * before compressing it, and so does this program for blst's own signing.
 *
 * Prints one line per key signed and exits 0 when every signature matches blst's (checked with
 * the key defined again); the test runs it with --error-exitcode, so any report fails it.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <valgrind/memcheck.h>
#include "blst.h"
#include "comb.h"

static const byte DST[] = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/* 1, 2, r - 1 (even), r - 2 (odd), a key with its top bits set, and two arbitrary ones. */
static const char *const KEYS[] = {
    "0000000000000000000000000000000000000000000000000000000000000001",
    "0000000000000000000000000000000000000000000000000000000000000002",
    "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000",
    "73eda753299d7d483339d80809a1d80553bda402fffe5bfefffffffeffffffff",
    "7000000000000000000000000000000000000000000000000000000000000000",
    "2b1f0b7e6d9a4c5e8f0123456789abcdef0123456789abcdef0123456789abcd",
    "5a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f40516273848",
};

static void fromHex(byte *out, const char *hex) {
  for (int i = 0; i < 32; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

int main(int argc, char **argv) {
  const unsigned w = argc > 1 ? (unsigned)atoi(argv[1]) : 6;
  const byte root[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  blst_p2 point;
  blst_hash_to_g2(&point, root, sizeof(root), DST, sizeof(DST) - 1, NULL, 0);
  blst_p2_affine *table = aligned_alloc(64, (comb_table_bytes(w) + 63) / 64 * 64);
  if (!table) return 2;
  if (comb_build(table, &point, w) != 0) return 2;

  int failures = 0;
  for (size_t n = 0; n < sizeof(KEYS) / sizeof(KEYS[0]); n++) {
    byte sk[32], fromTable[96], fromBlst[96];
    blst_scalar scalar;
    blst_p2 signature;
    fromHex(sk, KEYS[n]);

    VALGRIND_MAKE_MEM_UNDEFINED(sk, sizeof(sk));
    comb_sign(fromTable, table, w, sk);
    /* blst's own path, the one signWithPoint takes, under the same check */
    blst_scalar_from_bendian(&scalar, sk);
    blst_sign_pk_in_g1(&signature, &point, &scalar);
    VALGRIND_MAKE_MEM_DEFINED(&signature, sizeof(signature));
    blst_p2_compress(fromBlst, &signature);
    VALGRIND_MAKE_MEM_DEFINED(sk, sizeof(sk));

    const int same = memcmp(fromTable, fromBlst, sizeof(fromTable)) == 0;
    failures += !same;
    printf("key %zu: %s\n", n, same ? "same signature" : "DIFFERENT signature");
  }
  free(table);
  return failures ? 1 : 0;
}

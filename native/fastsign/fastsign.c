/*
 * Signing in two halves: a BLS signature is sk · H(root), and H(root) (hash to G2) depends on the
 * root alone, costs about as much as the multiplication, and is public. The caller keeps H(root)
 * for roots many keys sign and only multiplies per key. Built from blst's C sources at install.
 *
 *   hashToG2(root: Uint8Array, out: Uint8Array(POINT_BYTES))             H(root), blst's own layout
 *   signWithPoint(point: Uint8Array, secretKey: Uint8Array(32), out: Uint8Array(96))
 *                                                   compressed sk · H(root); secretKey big-endian
 *
 *   tableBytes(w: number): number                   bytes of a fixed-base table with w-bit windows
 *   buildTable(point: Uint8Array(POINT_BYTES), table: Uint8Array(tableBytes(w)))
 *   signWithTable(table: Uint8Array, secretKey: Uint8Array(32), out: Uint8Array(96))
 *                                                   the same signature from the table (comb.c)
 *
 * The point stays in blst's in-memory layout (projective, no inversion), so hashing then signing
 * costs what blst_sign does in one call. Nothing is allocated: the caller owns every buffer.
 */
#include <stdint.h>
#include <string.h>
#include <node_api.h>
#include "blst.h"
#include "comb.h"

/* Ethereum's BLS ciphersuite (proof of possession), as in the consensus specs. */
static const byte DST[] = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* The bytes of a TypedArray argument, or NULL if it is not one of `length` bytes (0: any). */
static byte *bytesOf(napi_env env, napi_value value, size_t length, size_t *actual) {
  bool is_typedarray = false;
  if (napi_is_typedarray(env, value, &is_typedarray) != napi_ok || !is_typedarray) return NULL;
  napi_typedarray_type type;
  size_t count;
  void *data;
  if (napi_get_typedarray_info(env, value, &type, &count, &data, NULL, NULL) != napi_ok) return NULL;
  if (type != napi_uint8_array || (length && count != length)) return NULL;
  if (actual) *actual = count;
  return data;
}

static napi_value hashToG2(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t rootLength = 0;
  const byte *root = argc == 2 ? bytesOf(env, argv[0], 0, &rootLength) : NULL;
  byte *out = argc == 2 ? bytesOf(env, argv[1], sizeof(blst_p2), NULL) : NULL;
  if (!root || !out) return fail(env, "hashToG2(root: Uint8Array, out: Uint8Array(POINT_BYTES))");
  blst_p2 point;
  blst_hash_to_g2(&point, root, rootLength, DST, sizeof(DST) - 1, NULL, 0);
  memcpy(out, &point, sizeof(point));
  return NULL;
}

static napi_value signWithPoint(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const byte *pointBytes = argc == 3 ? bytesOf(env, argv[0], sizeof(blst_p2), NULL) : NULL;
  const byte *secretKey = argc == 3 ? bytesOf(env, argv[1], 32, NULL) : NULL;
  byte *out = argc == 3 ? bytesOf(env, argv[2], 96, NULL) : NULL;
  if (!pointBytes || !secretKey || !out) {
    return fail(env, "signWithPoint(point: Uint8Array(POINT_BYTES), secretKey: Uint8Array(32), out: Uint8Array(96))");
  }
  blst_p2 point, signature;
  blst_scalar scalar;
  memcpy(&point, pointBytes, sizeof(point));
  blst_scalar_from_bendian(&scalar, secretKey);
  blst_sign_pk_in_g1(&signature, &point, &scalar);
  blst_p2_compress(out, &signature);
  /* The scalar is a copy of the secret: wipe it (volatile, so the compiler keeps the stores). */
  volatile byte *wipe = scalar.b;
  for (size_t i = 0; i < sizeof(scalar.b); i++) wipe[i] = 0;
  return NULL;
}

/* The window width of a table of `bytes` bytes, or 0 when no width gives that size. */
static unsigned windowOf(size_t bytes) {
  for (unsigned w = COMB_MIN_WINDOW; w <= COMB_MAX_WINDOW; w++) {
    if (comb_table_bytes(w) == bytes) return w;
  }
  return 0;
}

/* A table argument: its bytes if 8-byte aligned (blst reads it as 64-bit limbs) with a known width. */
static const blst_p2_affine *tableOf(napi_env env, napi_value value, unsigned *w) {
  size_t bytes = 0;
  byte *table = bytesOf(env, value, 0, &bytes);
  if (!table || (uintptr_t)table % 8 != 0) return NULL;
  *w = windowOf(bytes);
  return *w ? (const blst_p2_affine *)table : NULL;
}

static napi_value tableBytes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  uint32_t w = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_uint32(env, argv[0], &w) != napi_ok || !comb_table_bytes(w)) {
    return fail(env, "tableBytes(w: number), w from 2 to 8");
  }
  napi_create_uint32(env, (uint32_t)comb_table_bytes(w), &result);
  return result;
}

static napi_value buildTable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  unsigned w = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const byte *pointBytes = argc == 2 ? bytesOf(env, argv[0], sizeof(blst_p2), NULL) : NULL;
  const blst_p2_affine *table = argc == 2 ? tableOf(env, argv[1], &w) : NULL;
  if (!pointBytes || !table) return fail(env, "buildTable(point: Uint8Array(POINT_BYTES), table: Uint8Array(tableBytes(w)), 8-byte aligned)");
  blst_p2 point;
  memcpy(&point, pointBytes, sizeof(point));
  if (comb_build((blst_p2_affine *)table, &point, w) != 0) napi_throw_error(env, NULL, "buildTable: out of memory");
  return NULL;
}

static napi_value signWithTable(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  unsigned w = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const blst_p2_affine *table = argc == 3 ? tableOf(env, argv[0], &w) : NULL;
  const byte *secretKey = argc == 3 ? bytesOf(env, argv[1], 32, NULL) : NULL;
  byte *out = argc == 3 ? bytesOf(env, argv[2], 96, NULL) : NULL;
  if (!table || !secretKey || !out) {
    return fail(env, "signWithTable(table: Uint8Array(tableBytes(w)), secretKey: Uint8Array(32), out: Uint8Array(96))");
  }
  comb_sign(out, table, w, secretKey);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, size;
  napi_create_function(env, "hashToG2", NAPI_AUTO_LENGTH, hashToG2, NULL, &fn);
  napi_set_named_property(env, exports, "hashToG2", fn);
  napi_create_function(env, "signWithPoint", NAPI_AUTO_LENGTH, signWithPoint, NULL, &fn);
  napi_set_named_property(env, exports, "signWithPoint", fn);
  napi_create_function(env, "tableBytes", NAPI_AUTO_LENGTH, tableBytes, NULL, &fn);
  napi_set_named_property(env, exports, "tableBytes", fn);
  napi_create_function(env, "buildTable", NAPI_AUTO_LENGTH, buildTable, NULL, &fn);
  napi_set_named_property(env, exports, "buildTable", fn);
  napi_create_function(env, "signWithTable", NAPI_AUTO_LENGTH, signWithTable, NULL, &fn);
  napi_set_named_property(env, exports, "signWithTable", fn);
  napi_create_uint32(env, sizeof(blst_p2), &size);
  napi_set_named_property(env, exports, "POINT_BYTES", size);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }

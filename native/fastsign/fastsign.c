/*
 * Signing in two halves: a BLS signature is sk · H(root), and H(root) (hash to G2) depends on the
 * root alone, costs about as much as the multiplication, and is public. The caller keeps H(root)
 * for roots many keys sign and only multiplies per key. Built from blst's C sources at install.
 *
 *   hashToG2(root: Uint8Array(32), reuse?: Point): Point
 *                              H(root), written into `reuse` if given (an evicted cache entry)
 *   signWithPoint(point: Point, secretKey: Uint8Array(32), out: Uint8Array(96))
 *                              compressed sk · H(root); secretKey big-endian, in [1, r)
 *   tableBytes(window: number): number    memory of a fixed-base table with `window`-bit windows
 *   buildTable(point: Point, window: number, reuse?: Table): Table
 *                              a hot root's table of H(root)'s multiples (comb.c), written into
 *                              `reuse` if given (an evicted table of the same window)
 *   signWithTable(table: Table, secretKey: Uint8Array(32), out: Uint8Array(96))
 *                              the same signature as signWithPoint, summed from the table
 *   BUILD: "adx" | "portable"  which of the two builds this is (binding.gyp)
 *
 * A Point is an external: JavaScript can hold it but not read or forge its bytes, so only a point
 * this addon hashed is ever multiplied by a secret key. A Table is one too, built from a Point. It stays in blst's in-memory layout
 * (projective, no inversion), so hashing then signing costs what blst_sign does in one call.
 *
 * Two builds: `fastsign_adx` multiplies with MULX/ADCX/ADOX and refuses to load on a CPU without
 * BMI2 and ADX (instead of dying with SIGILL at the first signature); `fastsign` is blst's
 * portable build (__BLST_PORTABLE__), for any x86-64 or arm64 CPU. src/signing/fastSign.ts loads
 * the first that loads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <node_api.h>
#include "blst.h"
#include "comb.h"
#if defined(__ADX__)
#include <cpuid.h>
#endif

/* Ethereum's BLS ciphersuite (proof of possession), as in the consensus specs. */
static const byte DST[] = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/* Marks the externals this addon made, so a foreign external is never read as a point. */
static const napi_type_tag POINT_TAG = {0x6a3c1e0f5b2d4a97ULL, 0x8e41d7c2f09b3a65ULL};

/* Every napi call is checked: on failure the call throws (if nothing is pending yet) and returns. */
#define CHECK(call)                                                                  \
  do {                                                                               \
    if ((call) != napi_ok) return napiFailed(env, #call);                            \
  } while (0)

static napi_value napiFailed(napi_env env, const char *call) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending) napi_throw_error(env, NULL, call);
  return NULL;
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* The bytes of a Uint8Array argument of exactly `length` bytes, or NULL. */
static byte *bytesOf(napi_env env, napi_value value, size_t length) {
  bool is_typedarray = false;
  if (napi_is_typedarray(env, value, &is_typedarray) != napi_ok || !is_typedarray) return NULL;
  napi_typedarray_type type;
  size_t count;
  void *data;
  if (napi_get_typedarray_info(env, value, &type, &count, &data, NULL, NULL) != napi_ok) return NULL;
  return type == napi_uint8_array && count == length ? data : NULL;
}

/* The point inside an external this addon made, or NULL. */
static blst_p2 *pointOf(napi_env env, napi_value value) {
  bool ours = false;
  void *point;
  if (napi_check_object_type_tag(env, value, &POINT_TAG, &ours) != napi_ok || !ours) return NULL;
  return napi_get_value_external(env, value, &point) == napi_ok ? point : NULL;
}

static void freePoint(napi_env env, void *point, void *hint) {
  (void)env, (void)hint;
  free(point);
}

/* A new external holding one point, freed when the GC collects it. */
static blst_p2 *newPoint(napi_env env, napi_value *external) {
  blst_p2 *point = malloc(sizeof(blst_p2));
  if (!point) {
    fail(env, "hashToG2: out of memory");
    return NULL;
  }
  if (napi_create_external(env, point, freePoint, NULL, external) != napi_ok) {
    free(point);
    napiFailed(env, "napi_create_external");
    return NULL;
  }
  if (napi_type_tag_object(env, *external, &POINT_TAG) != napi_ok) {
    napiFailed(env, "napi_type_tag_object"); /* the external frees the point when collected */
    return NULL;
  }
  return point;
}

/* The scalar is a copy of the secret: wipe it (volatile, so the compiler keeps the stores). */
static void wipeScalar(blst_scalar *scalar) {
  volatile byte *wipe = scalar->b;
  for (size_t i = 0; i < sizeof(scalar->b); i++) wipe[i] = 0;
}

/*
 * Reads a secret key into `scalar` if it is in [1, r): 0 would sign to the point at infinity, and
 * >= r is no key. Otherwise wipes the scalar and throws a RangeError saying `refusal` (never the
 * key's bytes). Whether a key is valid is all this branches on.
 */
static bool readKey(napi_env env, const byte *secretKey, blst_scalar *scalar, const char *refusal) {
  blst_scalar_from_bendian(scalar, secretKey);
  if (blst_sk_check(scalar)) return true;
  wipeScalar(scalar);
  napi_throw_range_error(env, NULL, refusal);
  return false;
}

static napi_value hashToG2(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype reuseType; /* a missing argument reads as undefined */
  CHECK(napi_typeof(env, argv[1], &reuseType));
  const byte *root = argc >= 1 && argc <= 2 ? bytesOf(env, argv[0], 32) : NULL;
  blst_p2 *point = reuseType == napi_undefined ? NULL : pointOf(env, argv[1]);
  if (!root || (reuseType != napi_undefined && !point)) {
    return fail(env, "hashToG2(root: Uint8Array(32), reuse?: Point from hashToG2())");
  }
  napi_value result = argv[1];
  if (!point && !(point = newPoint(env, &result))) return NULL;
  blst_hash_to_g2(point, root, 32, DST, sizeof(DST) - 1, NULL, 0);
  return result;
}

static napi_value signWithPoint(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const blst_p2 *point = argc == 3 ? pointOf(env, argv[0]) : NULL;
  const byte *secretKey = argc == 3 ? bytesOf(env, argv[1], 32) : NULL;
  byte *out = argc == 3 ? bytesOf(env, argv[2], 96) : NULL;
  if (!point || !secretKey || !out) {
    return fail(env, "signWithPoint(point: Point from hashToG2(), secretKey: Uint8Array(32), out: Uint8Array(96))");
  }
  blst_scalar scalar;
  if (!readKey(env, secretKey, &scalar, "signWithPoint: the secret key is not in [1, r)")) return NULL;
  blst_p2 signature;
  blst_sign_pk_in_g1(&signature, point, &scalar);
  blst_p2_compress(out, &signature);
  wipeScalar(&scalar);
  return NULL;
}

/* Marks table externals, as POINT_TAG marks points. */
static const napi_type_tag TABLE_TAG = {0x2c7e91b4d3f05a16ULL, 0x95d0a3e7481f6bc2ULL};

/* A fixed-base table: its window width and its entries (comb.c's layout). */
typedef struct {
  unsigned window;
  size_t bytes;
  blst_p2_affine *entries;
} Table;

static Table *tableOf(napi_env env, napi_value value) {
  bool ours = false;
  void *table;
  if (napi_check_object_type_tag(env, value, &TABLE_TAG, &ours) != napi_ok || !ours) return NULL;
  return napi_get_value_external(env, value, &table) == napi_ok ? table : NULL;
}

static void freeTable(napi_env env, void *data, void *hint) {
  (void)hint;
  Table *table = data;
  int64_t total;
  napi_adjust_external_memory(env, -(int64_t)table->bytes, &total);
  free(table->entries);
  free(table);
}

/* A new external holding an unfilled table; V8 is told of its memory, so it counts toward GC pressure. */
static Table *newTable(napi_env env, unsigned window, napi_value *external) {
  Table *table = malloc(sizeof(Table));
  const size_t bytes = comb_table_bytes(window);
  blst_p2_affine *entries = aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!table || !entries) {
    free(table);
    free(entries);
    fail(env, "buildTable: out of memory");
    return NULL;
  }
  *table = (Table){window, bytes, entries};
  if (napi_create_external(env, table, freeTable, NULL, external) != napi_ok) {
    free(entries);
    free(table);
    napiFailed(env, "napi_create_external");
    return NULL;
  }
  int64_t total;
  napi_adjust_external_memory(env, (int64_t)bytes, &total);
  if (napi_type_tag_object(env, *external, &TABLE_TAG) != napi_ok) {
    napiFailed(env, "napi_type_tag_object"); /* the external frees the table when collected */
    return NULL;
  }
  return table;
}

static napi_value tableBytes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  uint32_t window = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_get_value_uint32(env, argv[0], &window) != napi_ok || !comb_table_bytes(window)) {
    return fail(env, "tableBytes(window: 2 to 8)");
  }
  CHECK(napi_create_uint32(env, (uint32_t)comb_table_bytes(window), &result));
  return result;
}

static napi_value buildTable(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  uint32_t window = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype reuseType; /* a missing argument reads as undefined */
  CHECK(napi_typeof(env, argv[2], &reuseType));
  const blst_p2 *point = argc >= 2 && argc <= 3 ? pointOf(env, argv[0]) : NULL;
  const bool windowOk = argc >= 2 && napi_get_value_uint32(env, argv[1], &window) == napi_ok && comb_table_bytes(window);
  Table *table = reuseType == napi_undefined ? NULL : tableOf(env, argv[2]);
  if (!point || !windowOk || (reuseType != napi_undefined && (!table || table->window != window))) {
    return fail(env, "buildTable(point: Point from hashToG2(), window: 2 to 8, reuse?: Table of that window)");
  }
  napi_value result = argv[2];
  if (!table && !(table = newTable(env, window, &result))) return NULL;
  if (comb_build(table->entries, point, window) != 0) return fail(env, "buildTable: out of memory");
  return result;
}

static napi_value signWithTable(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const Table *table = argc == 3 ? tableOf(env, argv[0]) : NULL;
  const byte *secretKey = argc == 3 ? bytesOf(env, argv[1], 32) : NULL;
  byte *out = argc == 3 ? bytesOf(env, argv[2], 96) : NULL;
  if (!table || !secretKey || !out) {
    return fail(env, "signWithTable(table: Table from buildTable(), secretKey: Uint8Array(32), out: Uint8Array(96))");
  }
  /* comb_sign reads the key's bytes itself: the scalar serves only the range check. */
  blst_scalar scalar;
  if (!readKey(env, secretKey, &scalar, "signWithTable: the secret key is not in [1, r)")) return NULL;
  wipeScalar(&scalar);
  comb_sign(out, table->entries, table->window, secretKey);
  return NULL;
}

#if defined(__ADX__)
/* MULX is BMI2, ADCX/ADOX are ADX: CPUID leaf 7, EBX. */
static bool cpuHasBmi2AndAdx(void) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  return (ebx & bit_BMI2) && (ebx & bit_ADX);
}
#define BUILD "adx"
#else
#define BUILD "portable"
#endif

static napi_value init(napi_env env, napi_value exports) {
#if defined(__ADX__)
  if (!cpuHasBmi2AndAdx()) {
    napi_throw_error(env, "FASTSIGN_CPU", "this build needs a CPU with BMI2 and ADX (MULX, ADCX/ADOX), which this one lacks");
    return NULL;
  }
#endif
  static const struct {
    const char *name;
    napi_callback fn;
  } functions[] = {{"hashToG2", hashToG2},     {"signWithPoint", signWithPoint}, {"tableBytes", tableBytes},
                   {"buildTable", buildTable}, {"signWithTable", signWithTable}};
  napi_value value;
  for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
    CHECK(napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &value));
    CHECK(napi_set_named_property(env, exports, functions[i].name, value));
  }
  CHECK(napi_create_string_utf8(env, BUILD, NAPI_AUTO_LENGTH, &value));
  CHECK(napi_set_named_property(env, exports, "BUILD", value));
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }

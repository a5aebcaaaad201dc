/*
 * Fixed-base multiplication for one hot G2 point P = H(root): sk · P with no doublings, as a sum
 * of precomputed multiples of P. Signing with a cached point costs one variable-base multiplication
 * (~64 doublings and ~50 additions); a root that many keys sign pays once for a table instead, and
 * every signature then costs one table scan and one mixed addition per w-bit window.
 *
 * Table: n = ceil(255 / w) windows of 2^(w-1) affine entries, T[i][j] = (2j+1) · 2^(w·i) · P,
 * entry (i, j) at table[i · 2^(w-1) + j]. Affine, so each addition is a mixed one.
 *
 * Recoding: every scalar k in [1, r) becomes n odd digits d_i in [-(2^w - 1), 2^w - 1] with
 * k = sum d_i · 2^(w·i), so every digit names an entry (no zero digit, no point at infinity):
 *   - an odd k' is sum (2·t_i - (2^w - 1)) · 2^(w·i) where t_i are the w-bit digits of
 *     t = (k' - 1)/2 + 2^(b-1), b = w·n (t < 2^b because k' < r < 2^255 <= 2^b);
 *   - k is odd, or k' = r - k is (r is odd) and k · P = -(k' · P): then every digit is negated.
 *   Digit t_i >= 2^(w-1) is +(2·(t_i - 2^(w-1)) + 1), entry t_i - 2^(w-1); otherwise it is
 *   -(2·(2^(w-1) - 1 - t_i) + 1), entry 2^(w-1) - 1 - t_i: both are t_i's low w-1 bits, the second
 *   complemented.
 *
 * Why the incomplete mixed addition is safe for every window but the last: after windows 0..i-1
 * the sum is S · P with S odd and |S| < 2^(w·i); the entry added is D · P with |D| >= 2^(w·i).
 * blst's incomplete addition fails only for S ≡ 0 or S ≡ ±D (mod r); S and S ∓ D are non-zero
 * integers below 2^(w·(i+1)) in magnitude, which is <= 2^254 < r while w·(i+1) <= 254, true for
 * i <= n-2 since w·(n-1) < 255. The last window can meet its own negation (the result may be
 * anything, including infinity for k ≡ 0), so it uses blst's complete addition.
 *
 * Constant time (no branch and no memory address depends on the secret; checked by
 * test/fastSign.ctime.test.ts, which runs this code under valgrind with the secret marked undefined):
 *   - reduction mod r, the choice of k or r - k, and the digits use only limb arithmetic and masks
 *     (borrows become masks; nothing compares the secret in a branch);
 *   - which windows run, in which order, and which bits make each digit are fixed by w alone;
 *   - each window reads all 2^(w-1) entries of its column in order and keeps one with a mask
 *     computed arithmetically from the index, so the addresses read are the same for every key;
 *   - the sign is applied by blst_fp2_cneg, the additions are blst's, which select with masks
 *     (vec_select) rather than branch on infinity or doubling;
 *   - the final 1/Z is blst's constant-time binary GCD without the result check that blst's own
 *     inversion adds, a branch on the (secret-derived) value (inverse.c); without blst's assembly,
 *     Fermat's a^(p-2), whose exponent is public;
 *   - only the finished signature, public by definition, is compressed (blst's compression
 *     branches on the point at infinity).
 * The table itself is public (a multiple of a public point), so building it may branch freely.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "comb.h"

#ifdef COMB_CTGRIND
/* In the constant-time test: values that are public output become "defined" again. */
#include <valgrind/memcheck.h>
#define DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)
#else
#define DECLASSIFY(p, n) ((void)0)
#endif

/* The group order r, little-endian 64-bit limbs. */
static const uint64_t R[4] = {0xffffffff00000001, 0x53bda402fffe5bfe, 0x3339d80809a1d805, 0x73eda753299d7d48};

static unsigned windows_of(unsigned w) { return (255 + w - 1) / w; }
static size_t entries_of(unsigned w) { return (size_t)1 << (w - 1); }

size_t comb_table_bytes(unsigned w) {
  if (w < COMB_MIN_WINDOW || w > COMB_MAX_WINDOW) return 0;
  return windows_of(w) * entries_of(w) * sizeof(blst_p2_affine);
}

/* Zeroes secret-derived memory; the empty asm that may read it keeps the compiler from dropping the stores. */
static void wipe(void *p, size_t n) {
  memset(p, 0, n);
  __asm__ __volatile__("" : : "r"(p) : "memory");
}

/* ---- Building the table (public data) ---- */

/* out = P1 + P2 for affine points with x1 != x2, given inv = 1 / (x2 - x1). */
static void add_affine_with_inverse(blst_p2_affine *out, const blst_p2_affine *p1, const blst_p2_affine *p2,
                                    const blst_fp2 *inv) {
  blst_fp2 lambda, t, x3;
  blst_fp2_sub(&lambda, &p2->y, &p1->y);
  blst_fp2_mul(&lambda, &lambda, inv);
  blst_fp2_sqr(&x3, &lambda);
  blst_fp2_sub(&x3, &x3, &p1->x);
  blst_fp2_sub(&x3, &x3, &p2->x);
  blst_fp2_sub(&t, &p1->x, &x3);
  blst_fp2_mul(&t, &t, &lambda);
  blst_fp2_sub(&out->y, &t, &p1->y);
  out->x = x3;
}

/*
 * Window bases B_i = 2^(w·i) · P and their doubles by doublings, normalised together; then column
 * j = 1, 2, ... as T[i][j] = T[i][j-1] + 2·B_i for every window at once: n affine additions that
 * share one inversion (Montgomery's trick). Same points as Jacobian additions, a third the cost.
 */
int comb_build(blst_p2_affine *table, const blst_p2 *point, unsigned w) {
  const unsigned n = windows_of(w);
  const size_t half = entries_of(w);
  blst_p2 *jacobian = malloc(2 * n * sizeof(blst_p2));
  const blst_p2 **pointers = malloc(2 * n * sizeof(blst_p2 *));
  blst_p2_affine *affine = malloc(2 * n * sizeof(blst_p2_affine));
  blst_fp2 *differences = malloc(n * sizeof(blst_fp2));
  blst_fp2 *prefix = malloc(n * sizeof(blst_fp2));
  if (!jacobian || !pointers || !affine || !differences || !prefix) {
    free(jacobian);
    free(pointers);
    free(affine);
    free(differences);
    free(prefix);
    return -1;
  }

  for (unsigned i = 0; i < n; i++) {
    if (i == 0) {
      jacobian[0] = *point;
    } else {
      blst_p2_double(&jacobian[2 * i], &jacobian[2 * i - 1]); /* 2^w · B_{i-1} from 2 · B_{i-1} */
      for (unsigned d = 2; d < w; d++) blst_p2_double(&jacobian[2 * i], &jacobian[2 * i]);
    }
    blst_p2_double(&jacobian[2 * i + 1], &jacobian[2 * i]);
  }
  for (unsigned i = 0; i < 2 * n; i++) pointers[i] = &jacobian[i];
  blst_p2s_to_affine(affine, pointers, 2 * n);
  for (unsigned i = 0; i < n; i++) table[i * half] = affine[2 * i];

  for (size_t j = 1; j < half; j++) {
    for (unsigned i = 0; i < n; i++) {
      blst_fp2_sub(&differences[i], &affine[2 * i + 1].x, &table[i * half + j - 1].x);
      if (i == 0) prefix[0] = differences[0];
      else blst_fp2_mul(&prefix[i], &prefix[i - 1], &differences[i]);
    }
    blst_fp2 inv, inv_i;
    blst_fp2_inverse(&inv, &prefix[n - 1]);
    for (unsigned i = n; i-- > 0;) {
      if (i > 0) {
        blst_fp2_mul(&inv_i, &inv, &prefix[i - 1]);
        blst_fp2_mul(&inv, &inv, &differences[i]);
      } else {
        inv_i = inv;
      }
      add_affine_with_inverse(&table[i * half + j], &table[i * half + j - 1], &affine[2 * i + 1], &inv_i);
    }
  }
  free(jacobian);
  free(pointers);
  free(affine);
  free(differences);
  free(prefix);
  return 0;
}

/* ---- Signing (secret scalar: constant time) ---- */

/* d = a - b over 4 limbs; returns the borrow (0 or 1). */
static uint64_t sub4(uint64_t d[4], const uint64_t a[4], const uint64_t b[4]) {
  uint64_t borrow = 0;
  for (int i = 0; i < 4; i++) {
    unsigned __int128 t = (unsigned __int128)a[i] - b[i] - borrow;
    d[i] = (uint64_t)t;
    borrow = (uint64_t)(t >> 64) & 1;
  }
  return borrow;
}

/* d = mask ? a : b, mask all ones or zero. */
static void select4(uint64_t d[4], const uint64_t a[4], const uint64_t b[4], uint64_t mask) {
  for (int i = 0; i < 4; i++) d[i] = (a[i] & mask) | (b[i] & ~mask);
}

/* out = column[index], reading every entry of the column (see the argument above). */
static void lookup(blst_p2_affine *restrict out, const blst_p2_affine *restrict column, size_t entries, uint64_t index) {
#ifdef COMB_LEAKY_LOOKUP_FOR_TEST
  /* The constant-time test builds this variant once to show that valgrind catches it. */
  (void)entries;
  *out = column[index];
  return;
#endif
  enum { LIMBS = sizeof(blst_p2_affine) / sizeof(uint64_t) };
  uint64_t *restrict acc = (uint64_t *)out; /* the caller wipes `out` when done */
  for (int l = 0; l < LIMBS; l++) acc[l] = 0;
  for (size_t j = 0; j < entries; j++) {
    /* all ones when j == index: (x - 1) >> 63 is 1 only for x = 0 (x < 2^63 here) */
    const uint64_t mask = 0 - ((((uint64_t)j ^ index) - 1) >> 63);
    const uint64_t *entry = (const uint64_t *)&column[j];
    for (int l = 0; l < LIMBS; l++) acc[l] |= entry[l] & mask;
  }
}

#ifdef __BLST_NO_ASM__
/* out = a^-1 (0 for 0) by Fermat, a^(p-2): the exponent is public, so its branches are too.
 * Used where blst has no assembly; elsewhere inverse.c's binary GCD is quicker. */
static const uint64_t P_MINUS_2[6] = {0xb9feffffffffaaa9, 0x1eabfffeb153ffff, 0x6730d2a0f6b0f624,
                                      0x64774b84f38512bf, 0x4b1ba7b6434bacd7, 0x1a0111ea397fe69a};
static void fermat_inverse(blst_fp *out, const blst_fp *a) {
  blst_fp powers[16], acc;
  powers[1] = *a;
  for (int e = 2; e < 16; e++) blst_fp_mul(&powers[e], &powers[e - 1], a);
  int started = 0;
  for (int nibble = 95; nibble >= 0; nibble--) {
    const unsigned e = (P_MINUS_2[nibble / 16] >> (4 * (nibble % 16))) & 15;
    if (started) {
      for (int s = 0; s < 4; s++) blst_fp_sqr(&acc, &acc);
      if (e) blst_fp_mul(&acc, &acc, &powers[e]);
    } else if (e) {
      acc = powers[e];
      started = 1;
    }
  }
  *out = acc;
  wipe(powers, sizeof(powers));
}
#endif

#ifndef __BLST_NO_ASM__
void fastsign_fp_inverse(blst_fp *out, const blst_fp *in); /* inverse.c: blst's GCD, no check */
#define fp_inverse fastsign_fp_inverse
#else
#define fp_inverse fermat_inverse
#endif

/* 1/(a + b·i) = (a - b·i) / (a² + b²) */
static void fp2_inverse(blst_fp2 *out, const blst_fp2 *a) {
  blst_fp norm, t;
  blst_fp_sqr(&norm, &a->fp[0]);
  blst_fp_sqr(&t, &a->fp[1]);
  blst_fp_add(&norm, &norm, &t);
  fp_inverse(&norm, &norm);
  blst_fp_mul(&out->fp[0], &a->fp[0], &norm);
  blst_fp_mul(&t, &a->fp[1], &norm);
  blst_fp_cneg(&out->fp[1], &t, true);
}

void comb_sign(byte out[96], const blst_p2_affine *table, unsigned w, const byte sk[32]) {
  const unsigned n = windows_of(w);
  const size_t half = entries_of(w);
  uint64_t k[4], t[4];
  for (int i = 0; i < 4; i++) {
    k[i] = 0;
    for (int b = 0; b < 8; b++) k[i] |= (uint64_t)sk[31 - 8 * i - b] << (8 * b);
  }
  /* k mod r: k < 2^256 < 3r, so at most two subtractions, each kept only without a borrow */
  for (int round = 0; round < 2; round++) {
    const uint64_t borrow = sub4(t, k, R);
    select4(k, t, k, borrow - 1);
  }
  /* an even k signs as -((r - k) · P), r - k being odd */
  const uint64_t even = (k[0] & 1) ^ 1;
  sub4(t, R, k);
  select4(k, t, k, 0 - even);
  /* digits source: (k - 1)/2 + 2^(b-1), six limbs so every window's bits can be read past the top */
  uint64_t digits[6] = {0};
  for (int i = 0; i < 4; i++) digits[i] = (k[i] >> 1) | (i < 3 ? k[i + 1] << 63 : 0);
  const unsigned b = w * n;
  digits[(b - 1) / 64] |= (uint64_t)1 << ((b - 1) % 64);

  blst_p2 sum;
  blst_p2_affine entry;
  for (unsigned i = 0; i < n; i++) {
    const unsigned bit = w * i, shift = bit % 64;
    uint64_t d = digits[bit / 64] >> shift;
    if (shift) d |= digits[bit / 64 + 1] << (64 - shift); /* public: depends on w and i only */
    d &= ((uint64_t)1 << w) - 1;
    const uint64_t top = d >> (w - 1);
    const uint64_t index = (d ^ (top - 1)) & (half - 1);
    lookup(&entry, table + i * half, half, index);
    blst_fp2_cneg(&entry.y, &entry.y, (top ^ 1 ^ even) != 0);
    if (i == 0) blst_p2_from_affine(&sum, &entry);
    else if (i + 1 < n) blst_p2_add_affine(&sum, &sum, &entry);
    else blst_p2_add_or_double_affine(&sum, &sum, &entry);
  }

  blst_fp2 zi, zi2;
  blst_p2_affine signature;
  fp2_inverse(&zi, &sum.z);
  blst_fp2_sqr(&zi2, &zi);
  blst_fp2_mul(&signature.x, &sum.x, &zi2);
  blst_fp2_mul(&zi2, &zi2, &zi);
  blst_fp2_mul(&signature.y, &sum.y, &zi2);
  DECLASSIFY(&signature, sizeof(signature));
  blst_p2_affine_compress(out, &signature);

  wipe(k, sizeof(k));
  wipe(t, sizeof(t));
  wipe(digits, sizeof(digits));
  wipe(&sum, sizeof(sum));
  wipe(&entry, sizeof(entry));
  wipe(&zi, sizeof(zi));
  wipe(&zi2, sizeof(zi2));
}

/*
 * Fixed-base multiplication for a hot H(root): a table of multiples of one G2 point, and signing
 * as a sum of table entries (no doublings). See comb.c for the layout and the constant-time argument.
 */
#ifndef FASTSIGN_COMB_H
#define FASTSIGN_COMB_H
#include <stddef.h>
#include "blst.h"

/* Window widths the table supports; each adds one table entry read per window to every signature. */
#define COMB_MIN_WINDOW 2
#define COMB_MAX_WINDOW 8

/* Bytes of the table for window width `w` (0 when w is out of range). */
size_t comb_table_bytes(unsigned w);

/* Fills `table` (comb_table_bytes(w) bytes, 8-byte aligned) for the public point `point`, in G2.
 * Returns 0, or -1 when its scratch memory could not be allocated. */
int comb_build(blst_p2_affine *table, const blst_p2 *point, unsigned w);

/* out = compressed sk · point, sk 32 bytes big-endian, constant time in sk: byte-identical to
 * blst_sign_pk_in_g1 + blst_p2_compress for sk < r, every key the signer loads (larger values are
 * reduced mod r, where blst reads only the low 255 bits). */
void comb_sign(byte out[96], const blst_p2_affine *table, unsigned w, const byte sk[32]);

#endif

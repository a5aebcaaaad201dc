/*
 * Field inversion in constant time for comb.c's last step (1/Z of the signature, derived from the
 * secret). blst's own inversion (blst_fp_inverse) runs a constant-time binary GCD, then checks its
 * result with a branch on the value: harmless in outcome, but a branch on secret-derived data all
 * the same. This calls the same GCD (blst's assembly, private to its build, so this file sees
 * blst's src/ headers and not blst.h) and converts its result back to Montgomery form, no check:
 * ~14 µs less than Fermat's a^(p-2). Without blst's assembly (__BLST_NO_ASM__) comb.c uses Fermat.
 */
#ifndef __BLST_NO_ASM__
#pragma GCC diagnostic ignored "-Wunused-function" /* vect.h declares helpers this file does not use */
#include "vect.h"
#include "consts.h"

void fastsign_fp_inverse(vec384 out, const vec384 in) {
  /* p << 3 (the modulus left-aligned in 384 bits) and (4 << 768) mod p, as the GCD expects */
  static const vec384 P_SHIFTED = {0xcff7fffffffd5558, 0xf55ffff58a9ffffd, 0x39869507b587b120,
                                   0x23ba5c279c2895fb, 0x58dd3db21a5d66bb, 0xd0088f51cbff34d2};
  static const vec384 RR_TIMES_4 = {0x5f7e7cd070d107c2, 0xec839a9ac49c13c8, 0x6933786f44f4ef0b,
                                    0xd6bf8b9c676be983, 0xd3adaaaa4dcefb06, 0x12601bc1d82bc175};
  vec768 wide;
  ct_inverse_mod_383(wide, in, BLS12_381_P, P_SHIFTED);
  redc_mont_384(out, wide, BLS12_381_P, p0);
  mul_mont_384(out, out, RR_TIMES_4, BLS12_381_P, p0);
  vec_zero(wide, sizeof(wide));
}
#endif

/*
 * fmacheck.c - the driver of tests/test_gen_fma.c, compiled at test time with three
 * generated networks of the same shape (19 inputs, dense 16, dense 8, identity
 * activations, MSE): fm (float) and fmd (double) looped, fu (float) unrolled.
 *
 * Each is run forward and backward on inputs and weights that make a·b + c rounded once
 * differ from a·b rounded and then added, and its z of both layers, the first layer's
 * d = ∂C/∂x from the second, and the gradients of both weight matrices are compared
 * with sums computed here in the order gen_kernels.c defines: the looped layers' with
 * fma (lane k of a dot product fuses inputs k, k + 8, ... from +0, the lanes combined
 * pairwise, the bias added last; each ∂x and ∂W element fused from +0 in order), the
 * unrolled one's with each product rounded.  Sample 0's first output is a case where
 * the sum in double rounded to float is a tie (fmaf through double, as newlib's, gets
 * it wrong).  Prints one line per network; exit status 0 when all agree and the fused
 * and separate roundings differ somewhere.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fm.h"
#include "fmd.h"
#include "fu.h"

/* the sums here are rounded as written, as the generated files' (gcc's GNU modes and
 * clang would fuse them otherwise) */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

enum { N = 5, IN = 19, H = 16, OUT = 8, LANES = 8 };

/* A small deterministic generator, in [-1, 1). */
static double rnd(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (double)(*state >> 11) / 9007199254740992.0 * 2 - 1;
}

#define R float
#define NET fm
#define UP FM
#define FMA fmaf
#define EPS FLT_EPSILON
#define FUSED 1
#include "fmacheck_net.h"
#undef NET
#undef UP
#undef FUSED
#define NET fu
#define UP FU
#define FUSED 0
#include "fmacheck_net.h"
#undef R
#undef NET
#undef UP
#undef FMA
#undef EPS
#undef FUSED
#define R double
#define NET fmd
#define UP FMD
#define FMA fma
#define EPS DBL_EPSILON
#define FUSED 1
#include "fmacheck_net.h"

int main(void)
{
    int fails = check_fm() + check_fu() + check_fmd();
    return fails != 0;
}

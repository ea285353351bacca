/*
 * statecheck.c - the driver of tests/test_gen_optim.c's check that optimizer state never
 * goes subnormal, compiled at test time with generated networks.
 *
 * The test writes nets.h, which includes statecheck_net.h once per network with NET, UP
 * (its upper case), KIND, the hyperparameters, FLUSH_V, STEPS and DESC defined.  Each
 * network takes one step from a gradient of normal size, then STEPS − 1 steps from
 * zero gradients, so that its momentum or moments decay towards 0 (as those of an
 * MNIST pixel that is always 0).  After every step the driver checks that no state
 * value is subnormal (Adam's v only when FLUSH_V: bpc keeps it as PyTorch does when
 * eps is too small to hide it), that every parameter is finite, and that the
 * parameters are bit for bit those of ref_step below: the generated update written
 * out without the flush, in the model's type.  It also checks that the reference's
 * state did go subnormal, so that the run tested something.  Exit status 0 when all
 * agree.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* KIND: the optimizer, as a macro so that the per-network header can #if on it */
#define SGD 0
#define ADAM 1

#include "nets.h"

int main(void)
{
    int fails = 0;
#define X(b) fails += CAT(check_, b)();
    NET_LIST(X)
#undef X
    printf("%d failed\n", fails);
    return fails ? 1 : 0;
}

/*
 * fusecheck.c - the fused-training driver of tests/test_gen_optim.c, compiled at test
 * time with generated networks.
 *
 * NET_train fuses backward and step when the gradients are known to be zero.  For each
 * network (nets.h includes fusecheck_net.h once per network with NET and UP defined)
 * the driver trains four models from the same parameters over steps of varying sample
 * counts (1, 3, 5, BATCH: every tile of the forward and both branches of the fused
 * update) and checks, bit for bit:
 *   a (NET_train, fused)            == b (NET_backward then NET_step)
 *   c (NET_backward, then NET_train: the unfused path, as the gradients are not zero)
 *                                   == d (NET_backward twice, then NET_step)
 * the losses returned, then the parameters, gradients and optimizer state after every
 * step; with parameters edited through NET_params between some steps (the fused path
 * keeps no copy of them) and a gradient written through NET_grads before one step
 * (which must turn the fusion off for that step).  Exit status 0 when all agree.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* A small deterministic generator, in [0, 1). */
static double rnd(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (double)(*state >> 11) / 9007199254740992.0;
}

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

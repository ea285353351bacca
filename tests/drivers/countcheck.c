/*
 * countcheck.c - the driver of the sample-count test in tests/test_gen_train.c: calls one
 * API function of examples/xor.bp (batch 4), built with -DNDEBUG, with the n given on
 * the command line, and prints "returned" if the call comes back.
 *
 *   countcheck forward|loss|backward|train N
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xor.h"

/* abort() ends here, exit status 3: the shell that ran the driver then prints no
 * "Aborted" among the tests' output. */
static void on_abort(int sig)
{
    (void)sig;
    _Exit(3);
}

int main(int argc, char **argv)
{
    signal(SIGABRT, on_abort);
    /* one sample more than the batch: a missing check still writes only inside these */
    static xor_model m;
    static xor_real x[(XOR_BATCH + 1) * XOR_INPUTS], t[(XOR_BATCH + 1) * XOR_OUTPUTS];
    static xor_real y[(XOR_BATCH + 1) * XOR_OUTPUTS];
    if (argc != 3)
        return 2;
    const int n = atoi(argv[2]);
    xor_init(&m, 1);
    if (!strcmp(argv[1], "forward"))
        xor_forward(&m, x, y, n);
    else if (!strcmp(argv[1], "loss"))
        xor_loss(&m, x, t, n);
    else if (!strcmp(argv[1], "backward"))
        xor_backward(&m, x, t, n);
    else if (!strcmp(argv[1], "train"))
        xor_train(&m, x, t, n);
    else
        return 2;
    printf("returned\n");
    return 0;
}

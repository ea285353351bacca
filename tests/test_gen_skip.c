/*
 * test_gen_skip.c - the looped forward and the fused SGD step at batch 1 skip the chunks
 * of 8 inputs that are all zero (gen_kernels.c).  That must change no bit: the networks
 * below are trained and run on inputs full of zero chunks (tests/drivers/skipcheck.c)
 * in builds with and without -DBPC_NO_SKIP (which visits every chunk), with the GNU C
 * vectors and with plain loops, and every parameter and output must be the same.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"

/* 43 inputs: 5 chunks and 3 left over; plain SGD (whose batch-1 step skips) and SGD
 * with momentum (whose step visits every input). */
static const char skipa_bp[] = "network skipa {\n"
                               "    input 43;\n"
                               "    h1: dense 20 relu;\n"
                               "    h2: dense 17 tanh;\n"
                               "    out: dense 3 softmax;\n"
                               "    loss cross_entropy;\n"
                               "    optimizer sgd(lr = 0.1);\n"
                               "    batch 6;\n"
                               "}\n";
static const char skipb_bp[] = "network skipb {\n"
                               "    input 43;\n"
                               "    h1: dense 24 tanh;\n"
                               "    out: dense 3 sigmoid;\n"
                               "    loss binary_cross_entropy;\n"
                               "    optimizer sgd(lr = 0.05, momentum = 0.9, nesterov = 1);\n"
                               "    batch 6;\n"
                               "}\n";

/* skipa in double: its chunks are 8 doubles, 64 bytes */
static const char skipd_bp[] = "network skipd {\n"
                               "    input 43;\n"
                               "    h1: dense 20 relu;\n"
                               "    out: dense 3 softmax;\n"
                               "    loss cross_entropy;\n"
                               "    optimizer sgd(lr = 0.1);\n"
                               "    batch 6;\n"
                               "    precision double;\n"
                               "}\n";

Test(gen, skipping_zero_chunks_changes_nothing)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    cr_assert(gen_model(&d, "skipa", skipa_bp, 0));
    cr_assert(gen_model(&d, "skipb", skipb_bp, 0));
    cr_assert(gen_model(&d, "skipd", skipd_bp, 0));
    cr_assert(gen_copy(&d, "tests/drivers/skipcheck.c"));
    static const char *const builds[][2] = {
        {"-O2", "-O2 -DBPC_NO_SKIP"},
        {"-O2 -DBPC_NO_VECTOR", "-O2 -DBPC_NO_VECTOR -DBPC_NO_SKIP"},
    };
    int failed = 0;
    for (size_t b = 0; b < sizeof builds / sizeof builds[0]; b++) {
        char *out[2] = {NULL, NULL};
        for (int k = 0; k < 2; k++) {
            cr_assert_eq(gen_build(&d, "cc", builds[b][k], "skipcheck.c skipa.c skipb.c skipd.c",
                                   "skipcheck"), 0);
            cr_assert_eq(gen_run(&d, "skipcheck", &out[k]), 0);
            cr_assert(out[k] && strstr(out[k], "a.params:"), "no output from skipcheck");
        }
        failed |= strcmp(out[0], out[1]) != 0;
        cr_expect_str_eq(out[0], out[1], "'%s' and '%s' differ", builds[b][0], builds[b][1]);
        free(out[0]);
        free(out[1]);
    }
    if (!failed)
        gen_dir_remove(&d);
}

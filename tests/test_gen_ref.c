/*
 * test_gen_ref.c - the generated code against PyTorch's numbers stored in the repository
 * (tests/reference/: cnn.bp, cnn_ref.py, which wrote cnn_ref.h and cnn_ties_ref.h): a
 * small CNN with both poolings, forward, loss, gradients and parameters after steps
 * (tests/drivers/cnnref.c), on data whose max-pooling windows hold ties too.
 * No Python is needed to run it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "genutil.h"
#include "testutil.h"

Test(gen, cnn_matches_pytorch)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char *bp = read_file(BPC_TOP "/tests/reference/cnn.bp", NULL);
    cr_assert(bp);
    cr_assert(gen_model(&d, "cnn", bp, 256));
    free(bp);
    cr_assert(gen_copy(&d, "tests/reference/cnn_ref.h"));
    cr_assert(gen_copy(&d, "tests/reference/cnn_ties_ref.h"));
    cr_assert(gen_copy(&d, "tests/drivers/cnnref.c"));
    /* both data sets; the second full of exact ties in the max pooling's windows */
    static const char *const flag_sets[] = {
        "-O0 -DREF_HEADER='\"cnn_ref.h\"'", "-O2 -DBPC_NO_DISPATCH -DREF_HEADER='\"cnn_ref.h\"'",
        "-O0 -DREF_HEADER='\"cnn_ties_ref.h\"'", NULL};
    int status = 0;
    for (int f = 0; flag_sets[f]; f++) {
        cr_assert_eq(gen_build(&d, "cc", flag_sets[f], "cnnref.c cnn.c", "cnnref"), 0);
        char *out = NULL;
        int st = gen_run(&d, "cnnref", &out);
        cr_expect_eq(st, 0, "against PyTorch (%s):\n%s", flag_sets[f], out ? out : "(no output)");
        if (getenv("BPC_TEST_VERBOSE"))
            fputs(out ? out : "", stderr);
        free(out);
        status |= st;
    }
    if (status == 0)
        gen_dir_remove(&d);
}

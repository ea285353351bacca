/*
 * test_gen_files.c - the generated save/load/checkpoint/restore (the format itself is
 * the runtime's, tested in test_runtime.c): round trips, training resumed from a
 * checkpoint bit-identical to uninterrupted training, and every kind of bad file
 * rejected with its own error code and the model untouched (tests/drivers/filecheck.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "genutil.h"

Test(gen, weight_files)
{
    static const struct {
        const char *name, *bp;
    } nets[] = {
        {"fa", "network fa { input 3; h: dense 4 tanh; dense 2; loss mse;"
               " optimizer adam(lr = 0.01); batch 4; }"},
        {"fs", "network fs { input 3; h: dense 4 tanh; dense 2; loss mse;"
               " optimizer sgd(lr = 0.05, momentum = 0.9); batch 4; }"},
        {"fb", "network fb { input 5; dense 3; dense 2; loss mse; batch 4; }"},
        {"fd", "network fd { input 3; h: dense 4 tanh; dense 2; loss mse;"
               " optimizer adam; batch 4; precision double; }"},
    };
    GenDir d;
    cr_assert(gen_dir_make(&d));
    for (int i = 0; i < 4; i++)
        cr_assert(gen_model(&d, nets[i].name, nets[i].bp, 256), "%s", nets[i].name);
    cr_assert(gen_copy(&d, "tests/drivers/filecheck.c"));
    cr_assert_eq(gen_build(&d, "cc", "-O0", "filecheck.c fa.c fs.c fb.c fd.c", "filecheck"), 0);
    char *out = NULL;
    int status = gen_run(&d, "filecheck", &out);
    cr_expect_eq(status, 0, "weight-file checks failed:\n%s", out ? out : "(no output)");
    if (getenv("BPC_TEST_VERBOSE"))
        fputs(out ? out : "", stderr);
    free(out);
    if (status == 0)
        gen_dir_remove(&d);
}

/* The header's named parameter views (NAME_L_T, NAME_L_T_size) tile the parameter
 * buffer in order, and index it as the layers read it. */
Test(gen, parameter_views)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    cr_assert(gen_model(&d, "views",
                        "network views { input 3; h: dense 4 tanh; out: dense 2; loss mse; }", 256));
    cr_assert(gen_copy(&d, "tests/drivers/viewcheck.c"));
    cr_assert_eq(gen_build(&d, "cc", "-O0", "viewcheck.c views.c", "viewcheck"), 0);
    char *out = NULL;
    int status = gen_run(&d, "viewcheck", &out);
    cr_expect_eq(status, 0, "parameter views:\n%s", out ? out : "(no output)");
    free(out);
    if (status == 0)
        gen_dir_remove(&d);
}

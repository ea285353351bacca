/*
 * test_gen_train.c - training the generated code end to end (examples/xor.bp):
 * XOR learns below a loss of 0.01 from its fixed seed, the unrolled and the looped
 * forms train bit-identically, two models in two threads equal one trained alone
 * (tests/drivers/traincheck.c), and the demo of `make demo` runs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"
#include "testutil.h"

/* examples/xor.bp with its network renamed to `name`. */
static char *xor_source(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/examples/xor.bp", BPC_TOP);
    char *text = read_file(path, NULL);
    cr_assert(text, "cannot read %s", path);
    char *at = strstr(text, "network xor ");
    cr_assert(at, "examples/xor.bp does not define 'network xor'");
    size_t need = strlen(text) + strlen(name) + 1;
    char *out = malloc(need);
    snprintf(out, need, "%.*snetwork %s %s", (int)(at - text), text, name,
             at + strlen("network xor "));
    free(text);
    return out;
}

Test(gen, xor_trains_unrolled_looped_and_threaded)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char *u = xor_source("xor"), *l = xor_source("xorl");
    cr_assert(gen_model(&d, "xor", u, 256));
    cr_assert(gen_model(&d, "xorl", l, 0));
    free(u);
    free(l);
    cr_assert(gen_copy(&d, "tests/drivers/traincheck.c"));
    cr_assert_eq(gen_build(&d, "cc", "-O0 -pthread", "traincheck.c xor.c xorl.c", "traincheck"), 0);
    char *out = NULL;
    int status = gen_run(&d, "traincheck", &out);
    cr_expect_eq(status, 0, "training checks failed:\n%s", out ? out : "(no output)");
    if (getenv("BPC_TEST_VERBOSE"))
        fputs(out ? out : "", stderr);
    free(out);
    if (status == 0)
        gen_dir_remove(&d);
}

/* The demo driver of `make demo`, at -O2 like a user would build it. */
Test(gen, xor_demo)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char *u = xor_source("xor");
    cr_assert(gen_model(&d, "xor", u, 256));
    free(u);
    cr_assert(gen_copy(&d, "examples/xor_demo.c"));
    cr_assert_eq(gen_build(&d, "cc", "-O2", "xor_demo.c xor.c", "xor_demo"), 0);
    char *out = NULL;
    int status = gen_run(&d, "xor_demo", &out);
    cr_expect_eq(status, 0, "the demo did not reach a loss below 0.01:\n%s", out ? out : "");
    cr_expect(out && strstr(out, "1 xor 1 = "), "no predictions printed:\n%s", out ? out : "");
    free(out);
    if (status == 0)
        gen_dir_remove(&d);
}

/*
 * test_gen_train.c - training the generated code end to end (examples/xor.bp):
 * XOR learns below a loss of 0.01 from its fixed seed, the unrolled and the looped
 * forms train bit-identically, two models in two threads equal one trained alone
 * (tests/drivers/traincheck.c), a wrong sample count stops every API function, and the
 * demo of `make demo` runs.
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

/* A directory with examples/xor.bp generated (unrolled) and `driver` built with it into
 * `exe` with cc `flags`. */
static void xor_build(GenDir *d, const char *driver, const char *flags, const char *exe)
{
    cr_assert(gen_dir_make(d));
    char *u = xor_source("xor");
    cr_assert(gen_model(d, "xor", u, 256));
    free(u);
    cr_assert(gen_copy(d, driver));
    char sources[256];
    snprintf(sources, sizeof sources, "%s xor.c", strrchr(driver, '/') + 1);
    cr_assert_eq(gen_build(d, "cc", flags, sources, exe), 0);
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

/* A sample count outside 1..BATCH stops every API function with a message, also with
 * NDEBUG (tests/drivers/countcheck.c), where it would read and write past the buffers. */
Test(gen, bad_sample_count_aborts_with_a_message)
{
    GenDir d;
    xor_build(&d, "tests/drivers/countcheck.c", "-O2 -DNDEBUG", "countcheck");
    static const char *const functions[] = {"forward", "loss", "backward", "train"};
    bool ok = true;
    for (size_t f = 0; f < sizeof functions / sizeof functions[0]; f++) {
        char cmd[64], want[64];
        char *out = NULL;
        snprintf(cmd, sizeof cmd, "countcheck %s 4 2>&1", functions[f]);
        int status = gen_run(&d, cmd, &out);
        cr_expect(status == 0 && out && strstr(out, "returned"), "%s with n = 4: %s",
                  functions[f], out ? out : "");
        ok &= status == 0;
        free(out);
        for (int n = -1; n <= 5; n += 6) { /* n = -1 and n = BATCH + 1 */
            out = NULL;
            snprintf(cmd, sizeof cmd, "countcheck %s %d 2>&1", functions[f], n);
            snprintf(want, sizeof want, "xor_%s: n = %d is outside 1..4", functions[f], n);
            status = gen_run(&d, cmd, &out);
            bool stopped = status != 0 && out && strstr(out, want) && !strstr(out, "returned");
            cr_expect(stopped, "%s with n = %d: status %d, output:\n%s", functions[f], n, status,
                      out ? out : "");
            ok &= stopped;
            free(out);
        }
    }
    if (ok)
        gen_dir_remove(&d);
}

/* The demo driver of `make demo`, at -O2 like a user would build it. */
Test(gen, xor_demo)
{
    GenDir d;
    xor_build(&d, "examples/xor_demo.c", "-O2", "xor_demo");
    char *out = NULL;
    int status = gen_run(&d, "xor_demo", &out);
    cr_expect_eq(status, 0, "the demo did not reach a loss below 0.01:\n%s", out ? out : "");
    cr_expect(out && strstr(out, "1 xor 1 = "), "no predictions printed:\n%s", out ? out : "");
    free(out);
    if (status == 0)
        gen_dir_remove(&d);
}

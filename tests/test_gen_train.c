/*
 * test_gen_train.c - training the generated code end to end (examples/xor.bp):
 * XOR learns below a loss of 0.01 from its fixed seed, the unrolled and the looped
 * forms train alike (within rounding: the looped one fuses its products), two models in two threads equal one trained alone
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

/* The planned d buffers (ir.c plan_d_slots): layers whose backward steps do not overlap
 * keep their d in one union of the model.  The same network with every union made a
 * struct (each d its own storage, the same names) must train to the same bits, in a
 * larger model: a d shared while it was still needed would change the gradients. */
Test(gen, shared_d_buffers_train_as_separate_ones)
{
    static const char body[] =
        "    input 2x6x6;\n"
        "    c1: conv2d 3 kernel = 3 padding = 1 relu;\n"
        "    p1: maxpool 2;\n"
        "    c2: conv2d 4 kernel = 2 tanh;\n"
        "    flatten;\n"
        "    h: dense 5 relu;\n"
        "    out: dense 3 softmax;\n"
        "    loss cross_entropy;\n"
        "    optimizer sgd(lr = 0.1, momentum = 0.9);\n"
        "    batch 4;\n";
    static const char driver[] =
        "#include <stdio.h>\n#include <string.h>\n#include \"shr.h\"\n#include \"sep.h\"\n"
        "static shr_model a;\nstatic sep_model b;\n"
        "int main(void)\n{\n"
        "    float x[4 * 72], t[4 * 3] = {0};\n"
        "    for (int i = 0; i < 4 * 72; i++)\n"
        "        x[i] = (float)((i * 37 % 101) - 50) / 25;\n"
        "    for (int s = 0; s < 4; s++)\n"
        "        t[s * 3 + s % 3] = 1;\n"
        "    shr_init(&a, 3);\n    sep_init(&b, 3);\n"
        "    for (int k = 0; k < 6; k++) {\n"
        "        shr_train(&a, x, t, 1 + k % 4);\n        sep_train(&b, x, t, 1 + k % 4);\n"
        "        shr_backward(&a, x, t, 4);\n        sep_backward(&b, x, t, 4);\n"
        "        shr_step(&a);\n        sep_step(&b);\n    }\n"
        "    printf(\"%zu %zu %d\\n\", sizeof a, sizeof b,\n"
        "           memcmp(a.params, b.params, sizeof a.params) == 0);\n"
        "    return 0;\n}\n";
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char bp[1024], path[256];
    for (int k = 0; k < 2; k++) {
        snprintf(bp, sizeof bp, "network %s {\n%s}\n", k ? "sep" : "shr", body);
        cr_assert(gen_model(&d, k ? "sep" : "shr", bp, 256));
    }
    /* sep: each union a struct */
    char *h = read_file(gen_path(&d, "sep.h", path, sizeof path), NULL);
    cr_assert(h);
    size_t len = strlen(h);
    char *out = malloc(2 * len + 1), *o = out;
    int unions = 0;
    for (const char *p = h; *p;) {
        if (!strncmp(p, "union {", 7)) {
            o += sprintf(o, "struct {");
            p += 7;
            unions++;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    cr_assert_eq(unions, 2, "a chain shares its d in two unions, not %d", unions);
    cr_assert(write_text(gen_path(&d, "sep.h", path, sizeof path), out));
    free(out);
    free(h);
    cr_assert(write_text(gen_path(&d, "drv.c", path, sizeof path), driver));
    cr_assert_eq(gen_build(&d, "cc", "-O1", "drv.c shr.c sep.c", "drv"), 0);
    char *res = NULL;
    cr_assert_eq(gen_run(&d, "drv", &res), 0);
    size_t shared = 0, separate = 0;
    int same = 0;
    cr_assert_eq(sscanf(res, "%zu %zu %d", &shared, &separate, &same), 3, "%s", res);
    cr_expect_eq(same, 1, "the shared and the separate d buffers trained differently");
    cr_expect_lt(shared, separate, "%s", res);
    free(res);
    gen_dir_remove(&d);
}

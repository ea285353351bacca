/*
 * test_gen_math.c - bpc's own float e^x and tanh, the static helpers NAME_exp and
 * NAME_tanh that act.c emits into float models (the sigmoid, softmax and tanh
 * activations and the cross-entropy loss call them; double models call the C library).
 *
 * tests/drivers/mathcheck.c includes a generated file and checks the helpers against
 * double exp and tanh: the error bounds measured over all 2^32 inputs (0.80 ulp for
 * e^x, 1.02 for tanh) on every 251st bit pattern and on every float of the ranges
 * where the errors are largest, and the special cases (NaN, ±inf, ±0, overflow,
 * subnormal results, the first float where tanh rounds to ±1) bit for bit.  Its
 * results must be the same bits from gcc and clang at -O0 and -O2, and built with
 * -DBPC_LIBM the helpers must be the C library's expf and tanhf.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"
#include "testutil.h"

/* Every caller of the helpers: the tanh, sigmoid and softmax activations. */
#define MATH_BP(name, precision)                                                          \
    "network " name " {\n"                                                                \
    "    input 3;\n"                                                                      \
    "    hidden: dense 4 tanh;\n"                                                         \
    "    gate: dense 4 sigmoid;\n"                                                        \
    "    out: dense 3 softmax;\n"                                                         \
    "    loss cross_entropy;\n"                                                           \
    "    optimizer sgd(lr = 0.1);\n"                                                      \
    "    precision " precision ";\n"                                                      \
    "    batch 2;\n"                                                                      \
    "}\n"

/* The line of `out` that starts with `prefix`, or "" (into buf). */
static const char *line_of(const char *out, const char *prefix, char *buf, size_t size)
{
    buf[0] = '\0';
    const char *at = out ? strstr(out, prefix) : NULL;
    if (at) {
        size_t n = strcspn(at, "\n");
        if (n >= size)
            n = size - 1;
        memcpy(buf, at, n);
        buf[n] = '\0';
    }
    return buf;
}

Test(gen, float_exp_and_tanh_are_accurate_and_the_same_everywhere, .timeout = 120)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    cr_assert(gen_model(&d, "mathf", MATH_BP("mathf", "float"), 256));
    cr_assert(gen_copy(&d, "tests/drivers/mathcheck.c"));

    /* the accuracy and the special cases */
    cr_assert_eq(gen_build(&d, "cc", "-O2", "mathcheck.c", "mathcheck"), 0);
    char *out = NULL;
    const int status = gen_run(&d, "mathcheck", &out);
    cr_expect_eq(status, 0, "mathcheck failed:\n%s", out ? out : "");
    cr_expect(out && strstr(out, "\nok\n"), "mathcheck:\n%s", out ? out : "");
    char hash[64], other[64];
    line_of(out, "hash ", hash, sizeof hash);
    cr_assert(hash[0], "no hash from mathcheck:\n%s", out ? out : "");
    free(out);

    /* the same bits at -O0 and from clang (whose contraction the file turns off) */
    static const struct {
        const char *cc, *flags;
    } builds[] = {{"cc", "-O0"}, {"clang", "-O2"}};
    for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++) {
        if (strcmp(builds[i].cc, "clang") == 0 &&
            system("command -v clang >/dev/null 2>&1") != 0)
            continue;
        cr_assert_eq(gen_build(&d, builds[i].cc, builds[i].flags, "mathcheck.c", "mathhash"), 0);
        out = NULL;
        cr_assert_eq(gen_run(&d, "mathhash hash", &out), 0);
        line_of(out, "hash ", other, sizeof other);
        cr_expect_str_eq(other, hash, "%s %s gives other bits than cc -O2", builds[i].cc,
                         builds[i].flags);
        free(out);
    }

    /* -DBPC_LIBM: the C library's functions */
    cr_assert_eq(gen_build(&d, "cc", "-O2 -DBPC_LIBM", "mathcheck.c", "mathlibm"), 0);
    out = NULL;
    cr_expect_eq(gen_run(&d, "mathlibm", &out), 0, "mathcheck -DBPC_LIBM:\n%s", out ? out : "");
    cr_expect(out && strstr(out, "libm: the helpers are expf and tanhf"), "%s", out ? out : "");
    free(out);
    if (status == 0)
        gen_dir_remove(&d);
}

/* Float models call the helpers and nothing else for e^x and tanh where they are used;
 * double models call the C library and get no helper. */
Test(gen, float_models_call_bpcs_exp_and_tanh)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    cr_assert(gen_model(&d, "mf", MATH_BP("mf", "float"), 256));
    cr_assert(gen_model(&d, "md", MATH_BP("md", "double"), 256));
    char path[256];
    char *f = read_file(gen_path(&d, "mf.c", path, sizeof path), NULL);
    char *dbl = read_file(gen_path(&d, "md.c", path, sizeof path), NULL);
    cr_assert(f && dbl);

    cr_expect(strstr(f, "static float mf_exp(float x)"), "no mf_exp");
    cr_expect(strstr(f, "static float mf_tanh(float x)"), "no mf_tanh");
    cr_expect(strstr(f, "#define mf_exp expf"), "no BPC_LIBM form of mf_exp");
    cr_expect(strstr(f, "#define mf_tanh tanhf"), "no BPC_LIBM form of mf_tanh");
    cr_expect(strstr(f, "= mf_tanh(z"), "the tanh layer does not call mf_tanh");
    cr_expect(strstr(f, "return 1 / (1 + mf_exp(-z));"), "the sigmoid does not call mf_exp");
    cr_expect(strstr(f, "= mf_exp(z["), "the softmax does not call mf_exp");
    cr_expect(!strstr(f, "expf(") && !strstr(f, "tanhf("), "a call of expf or tanhf is left");

    cr_expect(!strstr(dbl, "md_exp") && !strstr(dbl, "md_tanh"), "a helper in a double model");
    cr_expect(strstr(dbl, "= tanh(z"), "the double tanh layer does not call tanh");
    cr_expect(strstr(dbl, "return 1 / (1 + exp(-z));"), "the double sigmoid does not call exp");
    free(f);
    free(dbl);
    gen_dir_remove(&d);
}

/*
 * test_gen_fma.c - the looped layers fuse their products as gen_kernels.c defines, and
 * the unrolled ones do not: tests/drivers/fmacheck.c compares a float and a double looped
 * network and a float unrolled one with sums computed in the defined order (fmaf where it
 * fuses), on values where fusing changes the results, in every build that takes another
 * path: the run-time chosen clones (intrinsics), -march=native (the plain tiles fused),
 * the plain loops with the C library's fmaf and with the code's own (BPC_OWN_FMA, what
 * newlib builds without FMA hardware use), at -O0 and -O2, from gcc and clang.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"
#include "testutil.h"

/* The networks of fmacheck.c */
#define NET_BP(name, precision)                                                           \
    "network " name " {\n"                                                                \
    "    input 19;\n"                                                                     \
    "    h: dense 16 identity;\n"                                                         \
    "    out: dense 8 identity;\n"                                                        \
    "    loss mse;\n"                                                                     \
    "    optimizer sgd(lr = 0.1);\n"                                                      \
    "    precision " precision ";\n"                                                      \
    "    batch 5;\n"                                                                      \
    "}\n"

/* Up to ten compilations of generated code: 64 s alone on Zen 3, but
 * past 240 s in CI's sanitized run on a slower, shared machine, so the timeout
 * only guards against a hang. */
Test(gen, looped_layers_fuse_and_unrolled_ones_do_not, .timeout = 900)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    cr_assert(gen_model(&d, "fm", NET_BP("fm", "float"), 0));
    cr_assert(gen_model(&d, "fmd", NET_BP("fmd", "double"), 0));
    cr_assert(gen_model(&d, "fu", NET_BP("fu", "float"), 512));
    cr_assert(gen_copy(&d, "tests/drivers/fmacheck.c"));
    cr_assert(gen_copy(&d, "tests/drivers/fmacheck_net.h"));
    __builtin_cpu_init();
    const bool fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool clang = system("command -v clang >/dev/null 2>&1") == 0;
    static const struct {
        const char *cc, *flags;
        bool fma;
    } builds[] = {
        {"cc", "-O2", false},
        {"cc", "-O0", false},
        {"cc", "-std=gnu11 -O3 -march=native", true},
        {"cc", "-O2 -DBPC_NO_DISPATCH", false},
        {"cc", "-O2 -DBPC_NO_VECTOR", false},
        {"cc", "-O2 -DBPC_NO_VECTOR -DBPC_OWN_FMA", false},
        {"cc", "-O0 -DBPC_NO_VECTOR -DBPC_OWN_FMA", false},
        {"clang", "-O2", false},
        {"clang", "-O2 -DBPC_NO_VECTOR -DBPC_OWN_FMA", false},
        {"clang", "-O3 -march=native", true},
    };
    bool ok = true;
    for (size_t i = 0; i < sizeof builds / sizeof *builds; i++) {
        if ((builds[i].fma && !fma) || (!clang && !strcmp(builds[i].cc, "clang")))
            continue;
        char exe[16];
        snprintf(exe, sizeof exe, "fma%zu", i);
        cr_assert_eq(gen_build(&d, builds[i].cc, builds[i].flags, "fmacheck.c fm.c fmd.c fu.c",
                               exe), 0, "%s %s", builds[i].cc, builds[i].flags);
        char *out = NULL;
        int status = gen_run(&d, exe, &out);
        cr_expect_eq(status, 0, "%s %s:\n%s", builds[i].cc, builds[i].flags, out ? out : "");
        ok &= status == 0;
        free(out);
    }
    if (ok)
        gen_dir_remove(&d);
    else
        fprintf(stderr, "files kept in %s\n", d.path);
}

/*
 * test_gen_bits.c - the generated code owns its arithmetic: one training run gives the
 * same bits from every build (docs/API.md, "Rounding").
 *
 * A dense network (looped and unrolled layers, the first skipping zero chunks; SGD with
 * momentum), one with rows of 48 inputs (∂W's tiles aligned to x, which each step
 * shifts; Adam) and a convolutional one (conv2d in both forms, maxpool, dense; Adam) are
 * trained for several steps by tests/drivers/bitcheck.c, fused (NAME_train) and unfused
 * (NAME_backward then NAME_step).  Its output, a hash of the losses, parameters, grads
 * and optimizer state, must be the same bits from gcc and clang at -O0, -O2 and -O3, in
 * ISO C and in the GNU modes (where gcc contracts a·b + c into FMA unless the file
 * forbids it), built for plain x86-64 (the run-time chosen AVX2 and AVX-512 clones,
 * fused by intrinsics, and the C library's fmaf elsewhere), with -mfma, -mavx2 -mfma
 * and -march=native (the plain tiles fused), with the code's own fma (BPC_OWN_FMA, what
 * newlib builds without FMA hardware use), and with each of the switches that turn a
 * code path off: BPC_NO_AVX512, BPC_NO_DISPATCH, BPC_NO_VECTOR, BPC_NO_SKIP.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"
#include "testutil.h"

/* h1's 13 outputs: at one sample a tile of 8 and one of the 5 left (AVX2, AVX-512) or
 * 3 of 4 and one of 1 (plain) */
static const char dense_bp[] =
    "network bd {\n"
    "    input 44;\n"
    "    h1: dense 13 relu;\n"
    "    out: dense 3 softmax;\n"
    "    loss cross_entropy;\n"
    "    optimizer sgd(lr = 0.05, momentum = 0.9);\n"
    "    batch 16;\n"
    "}\n";

/* rows of 48 inputs, 192 bytes: all start alike modulo 64, so ∂W's tiles start past
 * x's first inputs, with the rest in partial tiles */
static const char wide_bp[] =
    "network bw {\n"
    "    input 48;\n"
    "    h1: dense 9 relu;\n"
    "    out: dense 2 softmax;\n"
    "    loss cross_entropy;\n"
    "    optimizer adam(lr = 0.01);\n"
    "    batch 8;\n"
    "}\n";

/* the convolution's both forms: the direct one first (one channel; its rows of zeros
 * skipped), then the filters in lanes with and without padding, each with ∂x; c1's 17
 * filters take two vectors of 16 and its rows of 19 positions two tiles (AVX-512's),
 * or four (AVX2's), the last over the one before */
static const char cnn_bp[] =
    "network bc {\n"
    "    input 1x8x19;\n"
    "    c0: conv2d 2 kernel = 3 padding = 1 relu;\n"
    "    c1: conv2d 17 kernel = 3 padding = 1 tanh;\n"
    "    p1: maxpool 2;\n"
    "    c2: conv2d 3 kernel = 2 relu;\n"
    "    out: dense 3 softmax;\n"
    "    loss cross_entropy;\n"
    "    optimizer adam(lr = 0.01);\n"
    "    batch 16;\n"
    "}\n";

/* In `make test-sanitize` every `cc` and `clang` is the same clang with the sanitizers
 * (its wrappers), so comparing builds there compares one compiler with itself: the
 * sanitized suite runs the first two builds, to check the code under the sanitizers, and
 * the plain suite compares them all. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

typedef struct Build {
    const char *cc, *flags;
} Build;

/* Sixteen compilations of generated code; the ten of test_gen_fma.c ran past
 * 240 s in CI's sanitized run on a slower, shared machine, so the timeout only
 * guards against a hang. */
Test(gen, one_training_run_gives_the_same_bits_from_every_build, .timeout = 900)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    /* the dense layers out (13 × 3) unrolled, the others looped */
    cr_assert(gen_model(&d, "bd", dense_bp, 64));
    cr_assert(gen_model(&d, "bc", cnn_bp, 64));
    cr_assert(gen_model(&d, "bw", wide_bp, 64));
    cr_assert(gen_copy(&d, "tests/drivers/bitcheck.c"));

    __builtin_cpu_init();
    const bool fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool clang = system("command -v clang >/dev/null 2>&1") == 0;
    /* fma: needs a machine with AVX2 and FMA; gen_build passes -std=c99 before the
     * flags, which a -std among them overrides */
    static const struct {
        Build b;
        bool fma;
    } all[] = {
        {{"cc", "-O2"}, false},
        {{"cc", "-O3"}, false},
        {{"cc", "-O0"}, false},
        /* gcc's GNU mode with FMA and the plain (not cloned) tiles in 32-byte vectors:
         * where it would contract */
        {{"cc", "-std=gnu99 -O3 -mavx2 -mfma -DBPC_NO_AVX512"}, true},
        {{"cc", "-std=gnu11 -O2 -march=native"}, true},
        /* FMA without AVX2: the plain tiles fused, no AVX2 clones */
        {{"cc", "-O2 -mfma"}, true},
        {{"cc", "-O2 -DBPC_NO_AVX512"}, false},
        /* the plain path: the C library's fmaf (or the code's own) per term */
        {{"cc", "-O2 -DBPC_NO_DISPATCH"}, false},
        {{"cc", "-O2 -DBPC_NO_VECTOR"}, false},
        {{"cc", "-O2 -DBPC_NO_VECTOR -DBPC_OWN_FMA"}, false},
        {{"cc", "-O2 -DBPC_NO_SKIP"}, false},
        {{"clang", "-O2"}, false},
        {{"clang", "-O0 -DBPC_NO_VECTOR -DBPC_OWN_FMA"}, false},
        {{"clang", "-std=gnu17 -O3 -mavx2 -mfma"}, true},
        {{"clang", "-O3 -march=native"}, true},
    };
    Build builds[sizeof all / sizeof *all];
    int nb = 0;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if ((fma || !all[i].fma) && (clang || strcmp(all[i].b.cc, "clang")) &&
            !(SANITIZED && nb == 2))
            builds[nb++] = all[i].b;

    char *want = NULL;
    bool ok = true;
    for (int i = 0; i < nb; i++) {
        char exe[16];
        snprintf(exe, sizeof exe, "bits%d", i);
        cr_assert_eq(gen_build(&d, builds[i].cc, builds[i].flags, "bitcheck.c bd.c bc.c bw.c", exe), 0,
                     "%s %s", builds[i].cc, builds[i].flags);
        char *out = NULL;
        cr_assert_eq(gen_run(&d, exe, &out), 0, "%s %s", builds[i].cc, builds[i].flags);
        cr_assert(out);
        /* fused and unfused training agree within the build */
        cr_expect(!strstr(out, "differ"), "%s %s: NAME_train and NAME_backward + NAME_step "
                  "differ:\n%s", builds[i].cc, builds[i].flags, out);
        ok &= !strstr(out, "differ");
        if (!want) {
            want = out;
            continue;
        }
        cr_expect_str_eq(out, want, "%s %s gives other bits than %s %s", builds[i].cc,
                         builds[i].flags, builds[0].cc, builds[0].flags);
        ok &= !strcmp(out, want);
        free(out);
    }
    free(want);
    if (ok)
        gen_dir_remove(&d);
    else
        fprintf(stderr, "files kept in %s\n", d.path);
}

/*
 * test_gen_warnings.c - the generated code of every example (examples/NAME.bp), and of
 * networks that use every activation, loss, optimizer and init scheme in both
 * precisions and both forms, and of a CNN with every layer kind, compiles without a single warning under gcc and clang, at -O0 and -O3
 * (also with AVX2, and with the plain loops that replace the GNU C vectors elsewhere), with
 * -std=c99 -Wall -Wextra -pedantic -Werror (and a few stricter warnings besides).
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"
#include "testutil.h"

/* Every activation, one layer each; the first layer has 40·8 = 320 weights, more than
 * the default --unroll, so it is looped while the others are unrolled.  The --unroll 0
 * variants are batch-1 models. */
static const char coverage_layers[] =
    "    input 40;\n"
    "    dense 8 identity;\n"
    "    dense 6 sigmoid init = he_normal;\n"
    "    dense 6 tanh init = lecun_uniform;\n"
    "    dense 6 relu init = he_uniform;\n"
    "    dense 6 leaky_relu(alpha = 0.2) init = lecun_normal;\n"
    "    dense 6 elu init = xavier_normal;\n"
    "    dense 6 softplus init = uniform(a = 0.1);\n"
    "    dense 6 silu init = normal(std = 0.2);\n"
    "    dense 6 gelu;\n"
    "    dense 6 softmax;\n";

static const struct {
    const char *name, *out, *loss, *opt, *precision;
    bool also_looped; /* generate a --unroll 0 variant too */
} coverage[] = {
    {"cov_mse", "identity", "mse", "sgd(lr = 0.1)", "float", true},
    {"cov_mae", "tanh", "mae", "sgd(lr = 0.1, momentum = 0.9, weight_decay = 0.1)", "double",
     true},
    {"cov_huber", "softmax", "huber(delta = 2)", "sgd(lr = 0.1, momentum = 0.5, nesterov = 1)",
     "float", false},
    {"cov_ce", "softmax", "cross_entropy", "adam(weight_decay = 0.01)", "double", false},
    {"cov_bce", "sigmoid", "binary_cross_entropy", "adamw", "float", false},
};

/* Convolution and both poolings in double with Adam, the first layer without ∂C/∂x, and
 * a layer of each kind after another (examples/lenet.bp covers float and SGD). */
static const char coverage_cnn[] =
    "network cov_cnn {\n"
    "    input 3x9x7;\n"
    "    maxpool 2 stride = 1;\n"
    "    c1: conv2d 5 kernel = 3x2 stride = 2 padding = 1 gelu;\n"
    "    avgpool 2;\n"
    "    c2: conv2d 4 kernel = 1 softmax;\n"
    "    flatten;\n"
    "    dense 3 softmax;\n"
    "    loss cross_entropy;\n"
    "    optimizer adam;\n"
    "    precision double;\n"
    "    batch 3;\n"
    "}\n";

/* Generates every example and coverage network into d; their .c files into sources. */
static void generate_all(const GenDir *d, char *sources, size_t size)
{
    glob_t g;
    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s/examples/*.bp", BPC_TOP);
    cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no examples/*.bp");
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *text = read_file(g.gl_pathv[i], NULL);
        cr_assert(text);
        /* The files are named after the network, as `bpc FILE.bp` names them after the
         * file: the network name is what the test knows without parsing. */
        char name[128] = "";
        const char *at = strstr(text, "network ");
        cr_assert(at && sscanf(at, "network %127[A-Za-z0-9_]", name) == 1, "%s", g.gl_pathv[i]);
        cr_assert(gen_model(d, name, text, 256), "%s", g.gl_pathv[i]);
        free(text);
        size_t len = strlen(sources);
        snprintf(sources + len, size - len, " %s.c", name);
    }
    globfree(&g);
    cr_assert(gen_model(d, "cov_cnn", coverage_cnn, 256));
    size_t used = strlen(sources);
    snprintf(sources + used, size - used, " cov_cnn.c");
    for (size_t i = 0; i < sizeof coverage / sizeof coverage[0]; i++) {
        for (int looped = 0; looped < (coverage[i].also_looped ? 2 : 1); looped++) {
            char name[64], bp[2048];
            snprintf(name, sizeof name, "%s%s", coverage[i].name, looped ? "_l" : "");
            snprintf(bp, sizeof bp,
                     "network %s {\n%s    dense 4 %s;\n    loss %s;\n    optimizer %s;\n"
                     "    precision %s;\n    batch %d;\n}\n",
                     name, coverage_layers, coverage[i].out, coverage[i].loss, coverage[i].opt,
                     coverage[i].precision, looped ? 1 : 16);
            cr_assert(gen_model(d, name, bp, looped ? 0 : 256), "%s", name);
            size_t len = strlen(sources);
            snprintf(sources + len, size - len, " %s.c", name);
        }
    }
}

static void compile_all(const char *cc)
{
    /* only compiled, never run: the sanitized suite would repeat the plain one's check */
    if (getenv("BPC_SANITIZED"))
        cr_skip_test("compile-only; make test checks it");
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char sources[8192] = "";
    generate_all(&d, sources, sizeof sources);
    /* -O0 and -O3; the AVX form of the forward tiles; their plain-loop fallback, and
     * without asserts (batch-1 models do not use n then) */
    static const char *const levels[] = {"-O0", "-O3", "-O3 -mavx2 -mfma",
                                         "-O2 -DBPC_NO_VECTOR -DNDEBUG"};
    bool ok = true;
    for (int i = 0; i < 4; i++) {
        char flags[256];
        snprintf(flags, sizeof flags,
                 "%s -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wdouble-promotion "
                 "-Wcast-qual -Wvla -c",
                 levels[i]);
        /* only compiled (-c): gen_build links */
        char cmd[9000];
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && %s -std=c99 -Wall -Wextra -pedantic -Werror %s -I. -I'%s/runtime' %s",
                 d.path, cc, flags, BPC_TOP, sources);
        char *out = NULL, *err = NULL;
        int status = run_cmd(cmd, &out, &err);
        cr_expect_eq(status, 0, "%s %s:\n%s%s", cc, levels[i], out ? out : "", err ? err : "");
        ok &= status == 0;
        free(out);
        free(err);
    }
    if (ok)
        gen_dir_remove(&d);
}

Test(gen, warning_free_gcc)
{
    compile_all("gcc");
}

Test(gen, warning_free_clang)
{
    if (system("command -v clang >/dev/null 2>&1") != 0)
        cr_skip_test("clang is not installed");
    compile_all("clang");
}

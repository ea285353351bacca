/*
 * test_gen.c - the generated code's gradients: for every activation, every loss with
 * its allowed output activations, both precisions and both the unrolled and the looped
 * form, the backward pass bpc derives equals finite differences of the loss
 * (tests/drivers/gradcheck.c says exactly what is compared and how closely).
 *
 * Most configurations are a 3 -> 5 -> 4 -> 3 network with two hidden layers, n = 3;
 * gradients_shapes uses awkward widths (1, 3, 7, 17, 33, 129) and sample counts that the
 * forward tiles (4 samples × 2 outputs, 1 × 8) do not divide, so that every remainder
 * path of gen_kernels.c runs, looped and unrolled, at batch 1 and batched.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"

enum { T_ANY, T_PROB, T_UNIT }; /* as in tests/drivers/gradcheck.c */

typedef struct NetConfig {
    const char *h1, *h2, *out, *loss; /* activations and the loss, as written in .bp */
    int targets;
} NetConfig;

/* The widths and samples per call of gradients_shapes; the others use Shape3543. */
typedef struct Shape {
    int in, w1, w2, w3; /* input, h1, h2, out */
    int n;              /* samples per call */
} Shape;

static const Shape Shape3543 = {3, 5, 4, 3, 3};

/* Writes the four variants of configuration `cfg` named <base>du, dl, fu, fl and their
 * part of nets.h. */
static bool gen_variants(const GenDir *d, const char *base, const NetConfig *cfg,
                         const char *body, const Shape *sh, FILE *nets, char *sources, size_t size)
{
    static const char *const suffix[] = {"du", "dl", "fu", "fl"};
    for (int v = 0; v < 4; v++) {
        char name[32], bp[1024];
        snprintf(name, sizeof name, "%s%s", base, suffix[v]);
        if (body)
            snprintf(bp, sizeof bp, "network %s {\n%s    loss %s;\n    batch %d;\n"
                     "    precision %s;\n}\n", name, body, cfg->loss, sh->n + 1,
                     v < 2 ? "double" : "float");
        else
            snprintf(bp, sizeof bp,
                 "network %s {\n"
                 "    input %d;\n"
                 "    h1: dense %d %s;\n"
                 "    h2: dense %d %s;\n"
                 "    out: dense %d %s;\n"
                 "    loss %s;\n"
                 "    batch %d;\n"
                 "    precision %s;\n"
                 "}\n",
                 name, sh->in, sh->w1, cfg->h1, sh->w2, cfg->h2, sh->w3, cfg->out, cfg->loss,
                 sh->n + 1, v < 2 ? "double" : "float");
        if (!gen_model(d, name, bp, suffix[v][1] == 'u' ? 256 : 0))
            return false;
        fprintf(nets, "#include \"%s.h\"\n", name);
        size_t len = strlen(sources);
        snprintf(sources + len, size - len, " %s.c", name);
    }
    char upper[32];
    size_t i = 0;
    for (; base[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)toupper((unsigned char)base[i]);
    upper[i] = '\0';
    if (body)
        fprintf(nets, "/* %s: a network of its own, + %s */\n", base, cfg->loss);
    else
        fprintf(nets, "/* %s: %s, %s, %s + %s */\n", base, cfg->h1, cfg->h2, cfg->out, cfg->loss);
    fprintf(nets, "#define NET %s\n#define UP %s\n#define TARGETS %d\n#define NSAMP %d\n", base,
            upper, cfg->targets, sh->n);
    fprintf(nets, "#include \"gradcheck_net.h\"\n#undef NET\n#undef UP\n#undef TARGETS\n"
                  "#undef NSAMP\n\n");
    return true;
}

/* Generates, builds and runs the gradient check of `n` configurations, of the shapes
 * `shapes` (NULL: all Shape3543), once per set of extra cc flags in `flag_sets`
 * (NULL-terminated). */
static void run_gradcheck(const char *prefix, const NetConfig *cfgs, const Shape *shapes, int n,
                          const char *const *flag_sets, const char *const *bodies)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char path[128], sources[4096] = "gradcheck.c";
    FILE *nets = fopen(gen_path(&d, "nets.h", path, sizeof path), "w");
    cr_assert(nets);
    for (int i = 0; i < n; i++) {
        char base[16];
        snprintf(base, sizeof base, "%s%d", prefix, i);
        cr_assert(gen_variants(&d, base, &cfgs[i], bodies ? bodies[i] : NULL,
                               shapes ? &shapes[i] : &Shape3543, nets, sources, sizeof sources),
                  "generating %s", base);
    }
    fprintf(nets, "#define NET_LIST(X)");
    for (int i = 0; i < n; i++)
        fprintf(nets, " X(%s%d)", prefix, i);
    fprintf(nets, "\n");
    cr_assert(fclose(nets) == 0);
    cr_assert(gen_copy(&d, "tests/drivers/gradcheck.c"));
    int status = 0;
    for (int f = 0; flag_sets[f]; f++) {
        char flags[128], exe[32];
        snprintf(flags, sizeof flags, "-O0 %s", flag_sets[f]);
        snprintf(exe, sizeof exe, "gradcheck%d", f);
        cr_assert_eq(gen_build(&d, "cc", flags, sources, exe), 0);
        char *out = NULL;
        int st = gen_run(&d, exe, &out);
        cr_expect_eq(st, 0, "gradient checks failed (cc %s):\n%s", flags,
                     out ? out : "(no output)");
        if (getenv("BPC_TEST_VERBOSE"))
            fputs(out ? out : "", stderr);
        free(out);
        status |= st;
    }
    if (status == 0)
        gen_dir_remove(&d);
    else
        fprintf(stderr, "files kept in %s\n", d.path);
}

/* The builds every gradient check runs in: the tiles' GNU C vectors, 16 bytes. */
static const char *const default_flags[] = {"", NULL};

/* Every activation in a hidden layer; the classification losses. */
Test(gen, gradients_activations)
{
    static const NetConfig cfgs[] = {
        {"sigmoid", "tanh", "softmax", "cross_entropy", T_PROB},
        {"relu", "leaky_relu(alpha = 0.1)", "sigmoid", "binary_cross_entropy", T_UNIT},
        {"elu(alpha = 0.7)", "softplus", "identity", "mse", T_ANY},
        {"silu", "gelu", "tanh", "mse", T_ANY},
        {"softmax", "identity", "softmax", "mse", T_UNIT},
    };
    run_gradcheck("ga", cfgs, NULL, (int)(sizeof cfgs / sizeof cfgs[0]), default_flags, NULL);
}

/* Every loss with the output activations it allows, more hidden pairs. */
Test(gen, gradients_losses)
{
    static const NetConfig cfgs[] = {
        {"tanh", "relu", "identity", "mae", T_ANY},
        {"gelu", "elu", "identity", "huber(delta = 0.5)", T_ANY},
        {"leaky_relu", "silu", "sigmoid", "mse", T_UNIT},
        {"softplus", "sigmoid", "softmax", "huber", T_UNIT},
        {"identity", "softmax", "tanh", "mae", T_ANY},
        {"elu", "tanh", "softmax", "cross_entropy", T_PROB},
    };
    run_gradcheck("gl", cfgs, NULL, (int)(sizeof cfgs / sizeof cfgs[0]), default_flags, NULL);
}

/* Awkward widths and sample counts: every tile and remainder path of the looped forward
 * (4 × 2, 4 × 1, 1 × 8, 1 × 1; inputs that are not a multiple of the 8 partial sums, or
 * fewer than 8), the unrolled sums of wide rows, and n = 1. */
Test(gen, gradients_shapes)
{
    static const NetConfig cfgs[] = {
        {"relu", "tanh", "softmax", "cross_entropy", T_PROB},
        {"sigmoid", "elu", "sigmoid", "binary_cross_entropy", T_UNIT},
        {"leaky_relu", "identity", "identity", "mse", T_ANY},
        {"gelu", "silu", "softmax", "cross_entropy", T_PROB},
        {"tanh", "relu", "identity", "huber", T_ANY},
    };
    static const Shape shapes[] = {
        {17, 33, 7, 3, 5}, {129, 1, 17, 1, 6}, {3, 129, 3, 7, 1}, {33, 17, 129, 3, 7},
        {7, 3, 1, 33, 4},
    };
    /* every path of the tiles: as built for plain x86-64 (the AVX-512VL or AVX2 clones,
     * the best this machine has), without the AVX-512VL ones, without any clones
     * (16-byte vectors), the plain loops of other compilers, and built for AVX2 (32-byte
     * vectors, FMA contraction off in ISO C) */
    const char *flag_sets[] = {"",   "-DBPC_NO_AVX512", "-DBPC_NO_DISPATCH", "-DBPC_NO_VECTOR",
                               NULL, NULL};
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        flag_sets[4] = "-mavx2 -mfma";
    run_gradcheck("gs", cfgs, shapes, (int)(sizeof cfgs / sizeof cfgs[0]), flag_sets, NULL);
}

/* Convolution and pooling on awkward shapes: kernels 1, 2, 3 and 5, strides 1, 2 and 3,
 * padding 0 to K − 1, rectangular inputs, kernels and strides, 1, 3 and 7 channels,
 * overlapping pooling windows, sample counts that do not divide the tiles; every path of
 * the tiles the convolutions' products lower to. */
Test(gen, gradients_conv_pool)
{
    static const NetConfig cfgs[] = {
        {NULL, NULL, NULL, "cross_entropy", T_PROB},
        {NULL, NULL, NULL, "mse", T_ANY},
        {NULL, NULL, NULL, "huber", T_ANY},
        {NULL, NULL, NULL, "binary_cross_entropy", T_UNIT},
        {NULL, NULL, NULL, "mse", T_ANY},
        {NULL, NULL, NULL, "mse", T_ANY},
        {NULL, NULL, NULL, "cross_entropy", T_PROB},
        {NULL, NULL, NULL, "mse", T_ANY},
    };
    static const char *const bodies[] = {
        "    input 3x7x6;\n"
        "    c1: conv2d 4 kernel = 3x2 stride = 2x1 padding = 1 relu;\n"
        "    p1: maxpool 2 stride = 1;\n"
        "    c2: conv2d 3 kernel = 2 tanh;\n"
        "    out: dense 3 softmax;\n",
        "    input 1x9x8;\n"
        "    c1: conv2d 7 kernel = 5 padding = 4 stride = 3 sigmoid init = he_normal;\n"
        "    p1: avgpool 2x3 stride = 1x2;\n"
        "    c2: conv2d 2 kernel = 1 elu;\n"
        "    flatten;\n"
        "    out: dense 2;\n",
        "    input 7x5x5;\n"
        "    c1: conv2d 3 kernel = 2x3 padding = 0x2 stride = 1x2 gelu;\n"
        "    p1: maxpool 3x2 stride = 2x1;\n"
        "    h: dense 9 tanh;\n"
        "    out: dense 2;\n",
        "    input 2x4x4;\n"
        "    c1: conv2d 9 kernel = 3 padding = 2 silu;\n"
        "    c2: conv2d 8 kernel = 3;\n"
        "    out: conv2d 1 kernel = 3 sigmoid;\n",
        /* layers of the same products or geometry, whose kernels are shared
         * (Node.tiles_of): c3 calls c2's (c1 has no ∂x), h2 and h3 h1's */
        "    input 2x5x5;\n"
        "    c1: conv2d 2 kernel = 3 padding = 1 tanh;\n"
        "    c2: conv2d 2 kernel = 3 padding = 1 elu;\n"
        "    c3: conv2d 2 kernel = 3 padding = 1 relu;\n"
        "    h1: dense 12 tanh;\n"
        "    h2: dense 12 sigmoid;\n"
        "    h3: dense 12 tanh;\n"
        "    out: dense 2;\n",
        /* the direct form (one input channel) with ∂x: flat rows at stride 1, strided
         * rows at 2x3, padding and none */
        "    input 2x6x7;\n"
        "    c1: conv2d 1 kernel = 2 padding = 1 tanh;\n"
        "    c2: conv2d 1 kernel = 3x2 padding = 1x0 elu;\n"
        "    c3: conv2d 3 kernel = 3 stride = 2x3 padding = 1 sigmoid;\n"
        "    out: dense 2;\n",
        "    input 1x8x9;\n"
        "    c1: conv2d 1 kernel = 3 stride = 1x2 relu;\n"
        "    p1: maxpool 2 stride = 1;\n"
        "    c2: conv2d 2 kernel = 2 padding = 1 stride = 2x1 tanh;\n"
        "    out: dense 3 softmax;\n",
        /* the filters in lanes: 17 filters in vectors of 8 doubles (the last padded), and
         * rows of 19 positions in tiles, the last over the one before */
        "    input 2x3x20;\n"
        "    c1: conv2d 17 kernel = 2 tanh;\n"
        "    out: dense 2;\n",
    };
    static const Shape shapes[] = {{0, 0, 0, 0, 5}, {0, 0, 0, 0, 1}, {0, 0, 0, 0, 6},
                                   {0, 0, 0, 0, 3}, {0, 0, 0, 0, 7}, {0, 0, 0, 0, 2},
                                   {0, 0, 0, 0, 4}, {0, 0, 0, 0, 3}};
    const char *flag_sets[] = {"", "-DBPC_NO_AVX512", "-DBPC_NO_DISPATCH", "-DBPC_NO_VECTOR", NULL};
    run_gradcheck("gc", cfgs, shapes, (int)(sizeof cfgs / sizeof cfgs[0]), flag_sets, bodies);
}

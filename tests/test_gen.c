/*
 * test_gen.c - the generated code's gradients: for every activation, every loss with
 * its allowed output activations, both precisions and both the unrolled and the looped
 * form, the backward pass bpc derives equals finite differences of the loss
 * (tests/drivers/gradcheck.c says exactly what is compared and how closely).
 *
 * Every configuration is a 3 -> 5 -> 4 -> 3 network with two hidden layers, n = 3.
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

/* Writes the four variants of configuration `cfg` named <base>du, dl, fu, fl and their
 * part of nets.h. */
static bool gen_variants(const GenDir *d, const char *base, const NetConfig *cfg, FILE *nets,
                         char *sources, size_t size)
{
    static const char *const suffix[] = {"du", "dl", "fu", "fl"};
    for (int v = 0; v < 4; v++) {
        char name[32], bp[1024];
        snprintf(name, sizeof name, "%s%s", base, suffix[v]);
        snprintf(bp, sizeof bp,
                 "network %s {\n"
                 "    input 3;\n"
                 "    h1: dense 5 %s;\n"
                 "    h2: dense 4 %s;\n"
                 "    out: dense 3 %s;\n"
                 "    loss %s;\n"
                 "    batch 4;\n"
                 "    precision %s;\n"
                 "}\n",
                 name, cfg->h1, cfg->h2, cfg->out, cfg->loss, v < 2 ? "double" : "float");
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
    fprintf(nets, "/* %s: %s, %s, %s + %s */\n", base, cfg->h1, cfg->h2, cfg->out, cfg->loss);
    fprintf(nets, "#define NET %s\n#define UP %s\n#define TARGETS %d\n", base, upper,
            cfg->targets);
    fprintf(nets, "#include \"gradcheck_net.h\"\n#undef NET\n#undef UP\n#undef TARGETS\n\n");
    return true;
}

/* Generates, builds and runs the gradient check of `n` configurations. */
static void run_gradcheck(const char *prefix, const NetConfig *cfgs, int n)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char path[128], sources[4096] = "gradcheck.c";
    FILE *nets = fopen(gen_path(&d, "nets.h", path, sizeof path), "w");
    cr_assert(nets);
    for (int i = 0; i < n; i++) {
        char base[16];
        snprintf(base, sizeof base, "%s%d", prefix, i);
        cr_assert(gen_variants(&d, base, &cfgs[i], nets, sources, sizeof sources),
                  "generating %s", base);
    }
    fprintf(nets, "#define NET_LIST(X)");
    for (int i = 0; i < n; i++)
        fprintf(nets, " X(%s%d)", prefix, i);
    fprintf(nets, "\n");
    cr_assert(fclose(nets) == 0);
    char cp[512];
    snprintf(cp, sizeof cp, "cp '%s/tests/drivers/gradcheck.c' '%s/'", BPC_TOP, d.path);
    cr_assert(system(cp) == 0);
    cr_assert_eq(gen_build(&d, "cc", "-O0", sources, "gradcheck"), 0);
    char *out = NULL;
    int status = gen_run(&d, "gradcheck", &out);
    cr_expect_eq(status, 0, "gradient checks failed:\n%s", out ? out : "(no output)");
    if (getenv("BPC_TEST_VERBOSE"))
        fputs(out ? out : "", stderr);
    free(out);
    if (status == 0)
        gen_dir_remove(&d);
    else
        fprintf(stderr, "files kept in %s\n", d.path);
}

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
    run_gradcheck("ga", cfgs, (int)(sizeof cfgs / sizeof cfgs[0]));
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
    run_gradcheck("gl", cfgs, (int)(sizeof cfgs / sizeof cfgs[0]));
}

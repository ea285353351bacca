/*
 * test_gen_optim.c - every optimizer's generated step against a hand-written reference
 * over five steps, the last two at another learning rate set in the model's lr
 * (tests/drivers/optcheck.c): SGD plain, with momentum, nesterov and weight decay; Adam
 * with its bias correction and L2 weight decay; AdamW with its decoupled decay.  Double
 * models must agree to 1e-12, float ones to 1e-6.  Then the fused training step against
 * the unfused one, and optimizer state that decays without going subnormal.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"

typedef struct OptConfig {
    const char *optimizer; /* as written in .bp */
    const char *hyper;     /* the same as a Hyper initializer for the reference */
    bool dbl;
} OptConfig;

static const OptConfig configs[] = {
    {"sgd(lr = 0.1)", "{SGD, 0.1, 0, 0, 0, 0, 0, 0}", true},
    {"sgd(lr = 0.1, momentum = 0.9)", "{SGD, 0.1, 0.9, 0, 0, 0, 0, 0}", true},
    {"sgd(lr = 0.1, momentum = 0.9, nesterov = 1)", "{SGD, 0.1, 0.9, 1, 0, 0, 0, 0}", true},
    {"sgd(lr = 0.05, weight_decay = 0.1)", "{SGD, 0.05, 0, 0, 0.1, 0, 0, 0}", true},
    {"sgd(lr = 0.1, momentum = 0.5, nesterov = 1, weight_decay = 0.01)",
     "{SGD, 0.1, 0.5, 1, 0.01, 0, 0, 0}", true},
    {"adam(lr = 0.01)", "{ADAM, 0.01, 0, 0, 0, 0.9, 0.999, 1e-8}", true},
    {"adam(lr = 0.02, beta1 = 0.8, beta2 = 0.99, eps = 1e-6, weight_decay = 0.1)",
     "{ADAM, 0.02, 0, 0, 0.1, 0.8, 0.99, 1e-6}", true},
    {"adamw(lr = 0.01)", "{ADAMW, 0.01, 0, 0, 0.01, 0.9, 0.999, 1e-8}", true},
    {"adamw(lr = 0.03, beta1 = 0.5, beta2 = 0.9, eps = 1e-4, weight_decay = 0.2)",
     "{ADAMW, 0.03, 0, 0, 0.2, 0.5, 0.9, 1e-4}", true},
    {"sgd(lr = 0.1, momentum = 0.5, nesterov = 1, weight_decay = 0.01)",
     "{SGD, 0.1, 0.5, 1, 0.01, 0, 0, 0}", false},
    {"adam(lr = 0.01, weight_decay = 0.1)", "{ADAM, 0.01, 0, 0, 0.1, 0.9, 0.999, 1e-8}", false},
    {"adamw(lr = 0.01)", "{ADAMW, 0.01, 0, 0, 0.01, 0.9, 0.999, 1e-8}", false},
};

Test(gen, optimizers)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char path[128], sources[2048] = "optcheck.c";
    FILE *nets = fopen(gen_path(&d, "nets.h", path, sizeof path), "w");
    cr_assert(nets);
    int n = (int)(sizeof configs / sizeof configs[0]);
    for (int i = 0; i < n; i++) {
        const OptConfig *c = &configs[i];
        char name[16], bp[512];
        snprintf(name, sizeof name, "o%d", i);
        snprintf(bp, sizeof bp,
                 "network %s { input 3; dense 2; loss mse; optimizer %s; precision %s; }\n",
                 name, c->optimizer, c->dbl ? "double" : "float");
        cr_assert(gen_model(&d, name, bp, 256));
        fprintf(nets, "#include \"%s.h\"\n#define NET %s\n#define UP O%d\n", name, name, i);
        fprintf(nets, "#define HYPER %s\n#define DESC \"%s %s\"\n#define TOL %s\n", c->hyper,
                c->optimizer, c->dbl ? "double" : "float", c->dbl ? "1e-12" : "1e-6");
        fprintf(nets, "#include \"optcheck_net.h\"\n#undef NET\n#undef UP\n#undef HYPER\n"
                      "#undef DESC\n#undef TOL\n\n");
        size_t len = strlen(sources);
        snprintf(sources + len, sizeof sources - len, " %s.c", name);
    }
    fprintf(nets, "#define NET_LIST(X)");
    for (int i = 0; i < n; i++)
        fprintf(nets, " X(o%d)", i);
    fprintf(nets, "\n");
    cr_assert(fclose(nets) == 0);
    cr_assert(gen_copy(&d, "tests/drivers/optcheck.c"));
    cr_assert_eq(gen_build(&d, "cc", "-O0", sources, "optcheck"), 0);
    char *out = NULL;
    int status = gen_run(&d, "optcheck", &out);
    cr_expect_eq(status, 0, "optimizer checks failed:\n%s", out ? out : "(no output)");
    if (getenv("BPC_TEST_VERBOSE"))
        fputs(out ? out : "", stderr);
    free(out);
    if (status == 0)
        gen_dir_remove(&d);
    else
        fprintf(stderr, "files kept in %s\n", d.path);
}

/* NAME_train's fused backward + step equals NAME_backward then NAME_step to the bit, for
 * every optimizer, both precisions, looped and unrolled layers, convolution and pooling,
 * batch 1 and batched (tests/drivers/fusecheck.c). */
Test(gen, fused_train)
{
    static const char *const layers[] = {
        /* looped (--unroll 0): widths that no tile divides */
        "input 17; h: dense 33 relu; h2: dense 7 tanh; dense 3 softmax; loss cross_entropy;",
        /* unrolled: small layers, sigmoid + mse */
        "input 3; h: dense 5 tanh; dense 2 sigmoid; loss mse;",
        /* convolutions (their own fused step) around a max pooling */
        "input 2x6x5; c1: conv2d 3 kernel = 3 padding = 1 relu; maxpool 2 stride = 1;"
        " c2: conv2d 2 kernel = 2x3 stride = 2 tanh; dense 3 softmax; loss cross_entropy;",
    };
    static const char form_names[] = "luc", form_upper[] = "LUC";
    static const char *const form_desc[] = {"looped", "unrolled, batch 1", "conv, batch 4"};
    static const int form_batch[] = {6, 1, 4};
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char path[128], sources[4096] = "fusecheck.c";
    FILE *nets = fopen(gen_path(&d, "nets.h", path, sizeof path), "w");
    cr_assert(nets);
    int n = (int)(sizeof configs / sizeof configs[0]), count = 0;
    for (int i = 0; i < n; i++) {
        for (int form = 0; form < 3; form++) {
            const OptConfig *c = &configs[i];
            char name[16], bp[768];
            snprintf(name, sizeof name, "u%d%c", i, form_names[form]);
            snprintf(bp, sizeof bp, "network %s { %s optimizer %s; precision %s; batch %d; }\n",
                     name, layers[form], c->optimizer, c->dbl ? "double" : "float",
                     form_batch[form]);
            cr_assert(gen_model(&d, name, bp, form ? 256 : 0));
            fprintf(nets, "#include \"%s.h\"\n#define NET %s\n#define UP U%d%c\n", name, name,
                    i, form_upper[form]);
            fprintf(nets, "#define DESC \"%s %s %s\"\n", c->optimizer,
                    c->dbl ? "double" : "float", form_desc[form]);
            fprintf(nets, "#include \"fusecheck_net.h\"\n#undef NET\n#undef UP\n#undef DESC\n\n");
            size_t len = strlen(sources);
            snprintf(sources + len, sizeof sources - len, " %s.c", name);
            count++;
        }
    }
    fprintf(nets, "#define NET_LIST(X)");
    for (int i = 0; i < n; i++)
        fprintf(nets, " X(u%dl) X(u%du) X(u%dc)", i, i, i);
    fprintf(nets, "\n");
    cr_assert(fclose(nets) == 0);
    (void)count;
    cr_assert(gen_copy(&d, "tests/drivers/fusecheck.c"));
    /* as built for plain x86-64 (the AVX2 clones when this machine has AVX2), then
     * without them */
    static const char *const flag_sets[] = {"-O1", "-O1 -DBPC_NO_DISPATCH"};
    int status = 0;
    for (int f = 0; f < 2; f++) {
        char exe[32];
        snprintf(exe, sizeof exe, "fusecheck%d", f);
        cr_assert_eq(gen_build(&d, "cc", flag_sets[f], sources, exe), 0);
        char *out = NULL;
        int st = gen_run(&d, exe, &out);
        cr_expect_eq(st, 0, "fused training checks failed (%s):\n%s", flag_sets[f],
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

/* Optimizer state never goes subnormal (arithmetic on subnormals is slow on x86): one
 * step from a gradient, then zero gradients until the momentum or moments have decayed
 * past the smallest normal number, with NAME_step as the vectorizing build compiles it
 * (tests/drivers/statecheck.c).  The parameters stay bit for bit those of the update
 * without the flush, as docs/LANGUAGE.md says. */
typedef struct StateConfig {
    const char *optimizer; /* as written in .bp */
    const char *defines;   /* KIND and its hyperparameters for the reference */
    bool dbl, flush_v;     /* flush_v: Adam's v is flushed too (eps large enough) */
    long steps;            /* enough for the unflushed state to go subnormal */
} StateConfig;

static const StateConfig state_configs[] = {
    {"sgd(lr = 0.1, momentum = 0.9)", "SGD\n#define LR 0.1\n#define MU 0.9\n#define NESTEROV 0",
     false, false, 2000},
    {"sgd(lr = 0.1, momentum = 0.9)", "SGD\n#define LR 0.1\n#define MU 0.9\n#define NESTEROV 0",
     true, false, 10000},
    {"sgd(lr = 0.05, momentum = 0.5, nesterov = 1)",
     "SGD\n#define LR 0.05\n#define MU 0.5\n#define NESTEROV 1", false, false, 1000},
    {"adam(lr = 0.01)", "ADAM\n#define LR 0.01\n#define B1 0.9\n#define B2 0.999\n#define EPS 1e-8",
     false, true, 100000},
    {"adam(lr = 0.01)", "ADAM\n#define LR 0.01\n#define B1 0.9\n#define B2 0.999\n#define EPS 1e-8",
     true, true, 800000},
    {"adam(lr = 0.01, beta2 = 0.99, eps = 1e-6)",
     "ADAM\n#define LR 0.01\n#define B1 0.9\n#define B2 0.99\n#define EPS 1e-6", false, true, 10000},
    /* eps = 0: v is kept as PyTorch keeps it (a flushed v would divide m by 0) */
    {"adam(lr = 0.01, eps = 0)", "ADAM\n#define LR 0.01\n#define B1 0.9\n#define B2 0.999\n#define EPS 0",
     false, false, 100000},
};

Test(gen, optimizer_state_not_subnormal)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char path[128], sources[1024] = "statecheck.c";
    FILE *nets = fopen(gen_path(&d, "nets.h", path, sizeof path), "w");
    cr_assert(nets);
    int n = (int)(sizeof state_configs / sizeof state_configs[0]);
    for (int i = 0; i < n; i++) {
        const StateConfig *c = &state_configs[i];
        char name[16], bp[512];
        snprintf(name, sizeof name, "s%d", i);
        snprintf(bp, sizeof bp,
                 "network %s { input 3; dense 2; loss mse; optimizer %s; precision %s; }\n",
                 name, c->optimizer, c->dbl ? "double" : "float");
        cr_assert(gen_model(&d, name, bp, 256));
        fprintf(nets, "#include \"%s.h\"\n#define NET %s\n#define UP S%d\n#define KIND %s\n", name,
                name, i, c->defines);
        fprintf(nets, "#define FLUSH_V %d\n#define STEPS %ld\n#define DESC \"%s %s\"\n",
                c->flush_v, c->steps, c->optimizer, c->dbl ? "double" : "float");
        fprintf(nets, "#include \"statecheck_net.h\"\n#undef NET\n#undef UP\n#undef KIND\n"
                      "#undef LR\n#undef MU\n#undef NESTEROV\n#undef B1\n#undef B2\n#undef EPS\n"
                      "#undef FLUSH_V\n#undef STEPS\n#undef DESC\n\n");
        size_t len = strlen(sources);
        snprintf(sources + len, sizeof sources - len, " %s.c", name);
    }
    fprintf(nets, "#define NET_LIST(X)");
    for (int i = 0; i < n; i++)
        fprintf(nets, " X(s%d)", i);
    fprintf(nets, "\n");
    cr_assert(fclose(nets) == 0);
    cr_assert(gen_copy(&d, "tests/drivers/statecheck.c"));
    cr_assert_eq(gen_build(&d, "cc", "-O2", sources, "statecheck"), 0);
    char *out = NULL;
    int status = gen_run(&d, "statecheck", &out);
    cr_expect_eq(status, 0, "optimizer state checks failed:\n%s", out ? out : "(no output)");
    if (getenv("BPC_TEST_VERBOSE"))
        fputs(out ? out : "", stderr);
    free(out);
    if (status == 0)
        gen_dir_remove(&d);
    else
        fprintf(stderr, "files kept in %s\n", d.path);
}

/*
 * test_hygiene.c - the names a .bp file chooses cannot break the generated C.
 *
 * The network's name and the layer labels reach C as parts of identifiers (NAME_init,
 * NAME_LABEL_forward, struct members LABEL_z, macros UPPER_INPUTS); docs/LANGUAGE.md,
 * "Names", says which ones the checker refuses.  Everything else must compile and link
 * with `cc -std=c99 -Wall -Wextra -pedantic -Werror` beside the headers a program
 * usually includes, and must not take over a function of the C library: networks and
 * labels named after libc and libm functions and macros (exp, printf, malloc, errno,
 * NULL, ...), after the generated code's own locals and helpers (W, x, s, sigmoid,
 * update, ...), with and without bpc --main, several such models linked into one
 * program, and names whose public functions would be those of POSIX or C11
 * (sem -> sem_init).
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"
#include "testutil.h"

/* The headers a program around a generated model plausibly includes, before the
 * model's own, so that their macros (errno, NULL, EOF, stdin, assert) are defined. */
#define LIBC_HEADERS                                                                    \
    "#include <assert.h>\n#include <ctype.h>\n#include <errno.h>\n#include <float.h>\n"  \
    "#include <limits.h>\n#include <math.h>\n#include <stdarg.h>\n#include <stddef.h>\n" \
    "#include <stdbool.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n" \
    "#include <string.h>\n#include <time.h>\n"

/* Writes `text` to <dir>/<file>. */
static void put_file(const GenDir *d, const char *file, const char *text)
{
    char path[256];
    cr_assert(write_text(gen_path(d, file, path, sizeof path), text), "writing %s", file);
}

// ---- labels ----

/* One network whose labels are names of libc and libm functions and macros, of the
 * generated code's locals, parameters and helpers, and of the activations; every
 * activation appears so that every helper is emitted. */
static const char labels_bp[] =
    "network exp {\n"
    "    input 3;\n"
    "    printf: dense 4 sigmoid;\n"
    "    sin: dense 4 tanh;\n"
    "    malloc: dense 3 relu;\n"
    "    exit: dense 3 leaky_relu(alpha = 0.1);\n"
    "    free: dense 3 elu;\n"
    "    memcpy: dense 3 softplus;\n"
    "    errno: dense 3 silu;\n"
    "    stdin: dense 3 gelu;\n"
    "    NULL: dense 3 identity;\n"
    "    EOF: dense 3 linear;\n"
    "    assert: dense 3 tanh;\n"
    "    exp: dense 3 sigmoid;\n"
    "    expf: dense 3 tanh;\n"
    "    tanhf: dense 3 relu;\n"
    "    sqrt: dense 3 gelu;\n"
    "    W: dense 3 silu;\n"
    "    b: dense 3 elu;\n"
    "    z: dense 3 softplus;\n"
    "    a: dense 3 sigmoid;\n"
    "    d: dense 3 tanh;\n"
    "    dx: dense 3 relu;\n"
    "    dW: dense 3 tanh;\n"
    "    db: dense 3 tanh;\n"
    "    s: dense 3 tanh;\n"
    "    in: dense 3 tanh;\n"
    "    target: dense 3 tanh;\n"
    "    path: dense 3 tanh;\n"
    "    rng: dense 3 tanh;\n"
    "    ez: dense 3 tanh;\n"
    "    sigmoid: dense 3 tanh;\n"
    "    softmax: dense 3 tanh;\n"
    "    update: dense 3 tanh;\n"
    "    powi: dense 3 tanh;\n"
    "    dd_mul: dense 3 tanh;\n"
    "    forward_pass: dense 3 tanh;\n"
    "    loss_value: dense 3 tanh;\n"
    "    loss_grad: dense 3 tanh;\n"
    "    momentum_buf: dense 3 tanh;\n"
    "    exp_model: dense 3 tanh;\n"
    "    main_init: dense 3 tanh;\n"
    "    main_layers: dense 3 tanh;\n"
    "    argv: dense 3 tanh;\n"
    "    dense2: dense 3 softmax;\n"
    "    loss cross_entropy;\n"
    "    optimizer adam(lr = 0.01);\n"
    "    batch 2;\n"
    "}\n";

static const char labels_driver[] =
    LIBC_HEADERS
    "#include \"labels.h\"\n"
    "\n"
    "static exp_model net;\n"
    "\n"
    "int main(void)\n"
    "{\n"
    "    const exp_real x[2 * EXP_INPUTS] = {1, 0, -1, 0.5f, 0.25f, 2};\n"
    "    const exp_real t[2 * EXP_OUTPUTS] = {1, 0, 0, 0, 0, 1};\n"
    "    exp_real y[2 * EXP_OUTPUTS];\n"
    "    exp_init(&net, 1);\n"
    "    exp_real loss = 0;\n"
    "    for (int i = 0; i < 20; i++)\n"
    "        loss = exp_train(&net, x, t, 2);\n"
    "    exp_forward(&net, x, y, 2);\n"
    "    /* libc and libm still answer under their own names */\n"
    "    char *p = malloc(8);\n"
    "    assert(p != NULL);\n"
    "    memcpy(p, \"ok\", 3);\n"
    "    errno = 0;\n"
    "    printf(\"%s %.3f %.3f %d %d\\n\", p, exp(0.0), sin(0.0), isfinite(loss) != 0, isfinite(y[5]) != 0);\n"
    "    free(p);\n"
    "    return getc(stdin) != EOF;\n"
    "}\n";

Test(hygiene, labels_named_after_libc_and_locals, .timeout = 120)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    cr_assert(gen_model(&d, "labels", labels_bp, 256), "the model must compile");
    put_file(&d, "driver.c", labels_driver);
    cr_assert_eq(gen_build(&d, "cc", "", "driver.c labels.c", "driver"), 0);
    char *out = NULL;
    cr_assert_eq(gen_run(&d, "driver </dev/null", &out), 0);
    cr_expect_str_eq(out, "ok 1.000 0.000 1 1\n");
    free(out);

    /* The looped form names the same things differently. */
    cr_assert(gen_model(&d, "labels", labels_bp, 0));
    cr_assert_eq(gen_build(&d, "cc", "", "driver.c labels.c", "driver"), 0);
    cr_assert_eq(gen_run(&d, "driver </dev/null", NULL), 0);

    /* bpc --main adds a main() and wrappers named NAME_main_*. */
    char path[256], cmd[1024];
    cr_assert(write_text(gen_path(&d, "labels.bp", path, sizeof path), labels_bp));
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/build/bpc' --main labels.bp -o trainer.c", d.path,
             BPC_TOP);
    cr_assert_eq(run_cmd(cmd, NULL, NULL), 0, "%s", cmd);
    cr_assert_eq(gen_build(&d, "cc", "", "trainer.c", "trainer"), 0);
    cr_assert_eq(gen_run(&d, "trainer --help", NULL), 0);
    gen_dir_remove(&d);
}

/* With --main, a layer labelled 'main' had static functions NAME_main_forward and
 * NAME_main_backward, the names of the trainer's wrappers: the label is reserved. */
Test(hygiene, label_main_is_reserved)
{
    FrontResult r = front_run_str("network n { input 2; main: dense 1; loss mse; }", true);
    cr_expect(!r.checked);
    cr_expect(r.diags && strstr(r.diags, "t.bp:1:22: error: label 'main' is reserved"), "%s",
              r.diags);
    front_free(&r);
    /* The network may be called main: everything it names is main_something. */
    r = front_run_str("network main { input 2; dense 1; loss mse; }", true);
    cr_expect(r.checked, "%s", r.diags);
    front_free(&r);
}

// ---- network names ----

/* Network names that are names of libc and libm functions, macros and types, all
 * linked into one program (which also shows that models do not clash). */
static const char *const network_names[] = {
    "printf", "main", "sin", "malloc", "exp", "expf", "errno", "NULL", "EOF", "stdin",
    "assert", "FILE", "memcpy", "size_t", "int64_t", "uint64_t", "bool", "true", "model",
    "net", "free", "abs", "time", "signal", "tanh", "sqrt", "log", "isfinite", "INFINITY",
    "NAN", "M_PI", "RAND_MAX", "rand", "strlen",
};
enum { NNAMES = sizeof network_names / sizeof *network_names };

Test(hygiene, networks_named_after_libc, .timeout = 180)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char sources[4096] = "driver.c";
    size_t cap = 64 * 1024, len = 0;
    char *driver = malloc(cap);
    cr_assert(driver);
    len += (size_t)snprintf(driver + len, cap - len, "%s", LIBC_HEADERS);
    for (int i = 0; i < NNAMES; i++) {
        const char *n = network_names[i];
        char bp[512], base[32];
        snprintf(base, sizeof base, "net%d", i);
        snprintf(bp, sizeof bp,
                 "network %s {\n    input 2;\n    hidden: dense 3 tanh;\n    dense 1 sigmoid;\n"
                 "    loss binary_cross_entropy;\n    batch 4;\n%s}\n",
                 n, i % 2 ? "    precision double;\n" : "");
        cr_assert(gen_model(&d, base, bp, i % 3 ? 256 : 0), "network '%s' must compile", n);
        len += (size_t)snprintf(driver + len, cap - len, "#include \"%s.h\"\n", base);
        size_t sl = strlen(sources);
        snprintf(sources + sl, sizeof sources - sl, " %s.c", base);
    }
    len += (size_t)snprintf(driver + len, cap - len, "\nint main(void)\n{\n    int bad = 0;\n");
    for (int i = 0; i < NNAMES; i++) {
        const char *n = network_names[i];
        char upper[64]; /* the macros' prefix */
        size_t k = 0;
        for (; n[k] && k + 1 < sizeof upper; k++)
            upper[k] = (char)toupper((unsigned char)n[k]);
        upper[k] = '\0';
        len += (size_t)snprintf(
            driver + len, cap - len,
            "    {\n"
            "        static %s_model m;\n"
            "        const %s_real x[4 * 2] = {0, 0, 0, 1, 1, 0, 1, 1}, t[4] = {0, 1, 1, 0};\n"
            "        %s_real y[4];\n"
            "        %s_init(&m, %d);\n"
            "        for (int e = 0; e < 5; e++)\n"
            "            (void)%s_train(&m, x, t, 4);\n"
            "        %s_forward(&m, x, y, 4);\n"
            "        bad |= !(y[0] > 0 && y[0] < 1) || %s_PARAMS != 13 || %s_BATCH != 4;\n"
            "    }\n",
            n, n, n, n, i, n, n, upper, upper);
    }
    len += (size_t)snprintf(driver + len, cap - len,
                            "    printf(\"%%d %%g %%zu\\n\", bad, floor(exp(1.0)), strlen(\"abc\"));\n"
                            "    return bad;\n}\n");
    cr_assert(len < cap);
    put_file(&d, "driver.c", driver);
    free(driver);

    cr_assert_eq(gen_build(&d, "cc", "", sources, "driver"), 0);
    char *out = NULL;
    cr_assert_eq(gen_run(&d, "driver", &out), 0);
    cr_expect_str_eq(out, "0 2 3\n");
    free(out);
    gen_dir_remove(&d);
}

// ---- names whose functions would be the system's ----

/* A network NAME defines the external functions NAME_init, NAME_load, NAME_step, ...
 * For these names one of them is a POSIX or C11 function (sem_init, pthread_mutex_init,
 * mtx_init, cnd_init, atomic_init and atomic_load, thrd_..., tss_..., posix_...): the
 * generated definition would clash with the system header, or, without it, silently
 * replace the library's function in the whole program.  bpc refuses them. */
Test(hygiene, names_of_system_functions_refused)
{
    static const char *const refused[] = {"sem", "pthread_mutex", "pthread_attr", "pthread", "mtx",
                                          "cnd", "atomic", "thrd", "tss", "posix", "posix_spawn"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char bp[256], want[128];
        snprintf(bp, sizeof bp, "network %s { input 2; dense 1 sigmoid; loss mse; }", refused[i]);
        snprintf(want, sizeof want, "error: network name '%s' is reserved for the C library\n",
                 refused[i]);
        FrontResult r = front_run_str(bp, true);
        cr_expect(!r.checked && r.diags && strstr(r.diags, want),
                  "'%s' must be refused with \"%s\":\n%s", refused[i], want, r.diags);
        front_free(&r);
    }
}

/* Names that only begin like those (no '_' after the prefix) are the user's: bpc accepts
 * them, and their code builds beside the system's header and leaves its functions
 * working. */
typedef struct SystemNeighbour {
    const char *name, *header, *std, *use;
} SystemNeighbour;

static const SystemNeighbour neighbours[] = {
    {"semaphore", "<semaphore.h>", "-std=c99", "sem_t s; ok = sem_init(&s, 0, 1) == 0 && sem_destroy(&s) == 0;"},
    {"pthreads", "<pthread.h>", "-std=c99",
     "pthread_mutex_t mu; ok = pthread_mutex_init(&mu, NULL) == 0 && pthread_mutex_destroy(&mu) == 0;"},
    {"mtxs", "<threads.h>", "-std=c11", "mtx_t mu; ok = mtx_init(&mu, mtx_plain) == thrd_success;"},
    {"cnds", "<threads.h>", "-std=c11", "cnd_t cv; ok = cnd_init(&cv) == thrd_success;"},
    {"atomics", "<stdatomic.h>", "-std=c11", "atomic_int v; atomic_init(&v, 3); ok = atomic_load(&v) == 3;"},
};

Test(hygiene, names_beside_system_functions, .timeout = 120)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    bool ok = true;
    for (size_t i = 0; i < sizeof neighbours / sizeof *neighbours; i++) {
        const SystemNeighbour *s = &neighbours[i];
        char bp[256];
        snprintf(bp, sizeof bp,
                 "network %s {\n    input 2;\n    dense 1 sigmoid;\n    loss mse;\n}\n", s->name);
        /* files named sys.*: a header named semaphore.h would hide the system's */
        cr_assert(gen_model(&d, "sys", bp, 256), "network '%s' must be accepted", s->name);
        char driver[1024];
        snprintf(driver, sizeof driver,
                 "#include %s\n#include <stdio.h>\n#include \"sys.h\"\n\n"
                 "int main(void)\n{\n    int ok;\n    %s\n"
                 "    static %s_model m;\n    %s_init(&m, 1);\n"
                 "    return !(ok && m.params[0] != 0);\n}\n",
                 s->header, s->use, s->name, s->name);
        put_file(&d, "driver.c", driver);
        char flags[64];
        snprintf(flags, sizeof flags, "%s -D_POSIX_C_SOURCE=200809L", s->std);
        int built = gen_build(&d, "cc", flags, "driver.c sys.c", "driver");
        cr_expect_eq(built, 0, "network '%s': its code does not build beside %s", s->name, s->header);
        int ran = built == 0 ? gen_run(&d, "driver", NULL) : -1;
        cr_expect_eq(ran, 0, "network '%s': %s's functions or the model's init failed", s->name,
                     s->header);
        ok &= built == 0 && ran == 0;
    }
    if (ok)
        gen_dir_remove(&d);
}

// ---- names the checker keeps out ----

/* Keywords, reserved identifiers and the runtime's name space. */
Test(hygiene, reserved_names_refused)
{
    static const char *const refused[] = {
        "int", "while", "restrict", "_Bool", "_x", "__y", "bprt", "bprt_rng", "bprt_file_read",
        "bprt_",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char bp[256];
        snprintf(bp, sizeof bp, "network %s { input 2; dense 1; loss mse; }", refused[i]);
        FrontResult r = front_run_str(bp, true);
        cr_expect(!r.checked, "network name '%s' must be refused", refused[i]);
        front_free(&r);
        snprintf(bp, sizeof bp, "network n { input 2; %s: dense 1; loss mse; }", refused[i]);
        r = front_run_str(bp, true);
        cr_expect(!r.checked, "label '%s' must be refused", refused[i]);
        front_free(&r);
    }
}

/*
 * test_hostile.c - inputs written to break bpc and the runtime's loaders: numbers at
 * and beyond the limits of the model's precision, and every input of the fuzz corpora
 * (tests/fuzz/corpus/), replayed through the fuzz targets themselves, so that each
 * crash fuzzing ever found stays fixed (docs/TESTING.md).
 *
 * The fuzz targets are included here with their entry point renamed: the replay runs
 * exactly the checks the fuzzer ran, under `make test` and `make test-sanitize`.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"
#include "testutil.h"

#define LLVMFuzzerTestOneInput fuzz_front_one
#include "fuzz/fuzz_front.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_gen_one
#include "fuzz/fuzz_gen.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_wfile_one
#include "fuzz/fuzz_wfile.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_csv_one
#include "fuzz/fuzz_csv.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_idx_one
#include "fuzz/fuzz_idx.c"
#undef LLVMFuzzerTestOneInput

// ---- the fuzz corpora, replayed ----

typedef int FuzzFn(const uint8_t *data, size_t size);

/* Every file of tests/fuzz/corpus/<target>/ through `fn`; returns how many. */
static int replay(const char *target, FuzzFn *fn)
{
    char dir_path[512];
    snprintf(dir_path, sizeof dir_path, "%s/tests/fuzz/corpus/%s", BPC_TOP, target);
    DIR *dir = opendir(dir_path);
    cr_assert(dir, "no corpus %s", dir_path);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/%s", dir_path, e->d_name);
        size_t len;
        char *data = read_file(file, &len);
        cr_assert(data, "cannot read %s", file);
        /* One name per input in the log, so a crash names its file. */
        fn((const uint8_t *)data, len);
        free(data);
        n++;
    }
    closedir(dir);
    return n;
}

Test(hostile, corpus_front, .timeout = 300)
{
    cr_expect_gt(replay("front", fuzz_front_one), 0);
}

Test(hostile, corpus_gen, .timeout = 300)
{
    cr_expect_gt(replay("gen", fuzz_gen_one), 0);
}

Test(hostile, corpus_wfile, .timeout = 300)
{
    cr_expect_gt(replay("wfile", fuzz_wfile_one), 0);
}

Test(hostile, corpus_csv, .timeout = 300)
{
    cr_expect_gt(replay("csv", fuzz_csv_one), 0);
}

Test(hostile, corpus_idx, .timeout = 300)
{
    cr_expect_gt(replay("idx", fuzz_idx_one), 0);
}

// ---- numbers and the model's precision ----

/* A model with one argument to try; `col` is the column of the value in `bp`. */
typedef struct ArgCase {
    const char *bp;
    int col;
} ArgCase;

/* Runs the front end on `bp` and, when it accepts it, the code generator (into
 * memory): the generator must never meet a constant it cannot write.  Returns whether
 * the checker accepted; *diags gets its messages. */
static bool compile(const char *bp, char **diags)
{
    FrontResult r = front_run_str(bp, true);
    bool ok = r.checked;
    if (ok) {
        char *c_text = NULL, *h_text = NULL;
        size_t c_size, h_size;
        FILE *c_out = open_memstream(&c_text, &c_size), *h_out = open_memstream(&h_text, &h_size);
        GenOptions opt = {.unroll = 256, .header_name = "t.h"};
        cr_assert(gen_c(&r.model, &opt, c_out, h_out));
        fclose(c_out);
        fclose(h_out);
        free(c_text);
        free(h_text);
    }
    *diags = r.diags ? strdup(r.diags) : strdup("");
    front_free(&r);
    return ok;
}

static void expect_refused_at(const ArgCase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *diags, at[32];
        bool ok = compile(cases[i].bp, &diags);
        snprintf(at, sizeof at, "t.bp:1:%d: error: ", cases[i].col);
        cr_expect(!ok && strstr(diags, at), "expected an error at %s for\n%s\ngot:\n%s", at,
                  cases[i].bp, diags);
        free(diags);
    }
}

/* Values a float model cannot hold: bpc aborted in gen_lit ("internal error: constant
 * 1e+39 does not fit in a float") where the checker should refuse the value. */
Test(hostile, float_model_arguments_beyond_float)
{
    static const ArgCase cases[] = {
        {"network a { input 2; dense 1; loss mse; optimizer sgd(lr = 1e39); }", 60},
        {"network a { input 2; dense 1; loss mse; optimizer sgd(lr = 99999999999999999999999999999999999999999); }", 60},
        {"network a { input 2; dense 1; loss huber(delta = 3.5e38); }", 50},
        {"network a { input 2; dense 1 leaky_relu(alpha = 1e300); loss mse; }", 49},
        {"network a { input 2; dense 1 elu(alpha = 1e40); loss mse; }", 42},
        {"network a { input 2; dense 1; loss mse; optimizer adam(eps = 1e39); }", 62},
        {"network a { input 2; dense 1; loss mse; optimizer adamw(weight_decay = 1e39); }", 72},
        {"network a { input 2; dense 1; loss mse; optimizer sgd(lr = 0.1, weight_decay = 1e39); }", 80},
        {"network a { input 2; dense 1 init = uniform(a = 1e39); loss mse; }", 49},
        {"network a { input 2; dense 1 init = normal(std = 1e39); loss mse; }", 50},
    };
    expect_refused_at(cases, sizeof cases / sizeof *cases);
}

/* Values that must be greater than 0 but are 0 once the generated code holds them as
 * floats: the model would silently not train (lr), or divide by nothing. */
Test(hostile, float_model_arguments_that_round_to_zero)
{
    static const ArgCase cases[] = {
        {"network a { input 2; dense 1; loss mse; optimizer sgd(lr = 1e-310); }", 60},
        {"network a { input 2; dense 1; loss mse; optimizer adam(lr = 1e-50); }", 61},
        {"network a { input 2; dense 1; loss huber(delta = 1e-46); }", 50},
    };
    expect_refused_at(cases, sizeof cases / sizeof *cases);
}

/* The same values are fine in a double model. */
Test(hostile, double_model_takes_them)
{
    static const char *const ok[] = {
        "network a { input 2; dense 1; loss mse; optimizer sgd(lr = 1e39); precision double; }",
        "network a { input 2; dense 1; loss mse; optimizer sgd(lr = 1e-310); precision double; }",
        "network a { input 2; dense 1; loss huber(delta = 3.5e38); precision double; }",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char *diags;
        cr_expect(compile(ok[i], &diags), "refused:\n%s\n%s", ok[i], diags);
        free(diags);
    }
}

/* An initialization bound so large that U(-a, a) or N(0, std) is infinite: refused at
 * the value, or else the weights the generated code draws are all finite. */
Test(hostile, init_scale_overflow, .timeout = 120)
{
    static const ArgCase cases[] = {
        {"network a { input 2; dense 3 init = uniform(a = 1.7e308); dense 1; loss mse; precision double; }", 49},
        {"network a { input 2; dense 3 init = normal(std = 1e308); dense 1; loss mse; precision double; }", 50},
    };
    static const char driver[] =
        "#include <math.h>\n#include <stdio.h>\n#include \"a.h\"\n"
        "static a_model m;\n"
        "int main(void)\n{\n    a_init(&m, 1);\n    int bad = 0;\n"
        "    for (int i = 0; i < A_PARAMS; i++)\n        bad += !isfinite(m.params[i]);\n"
        "    printf(\"%d\\n\", bad);\n    return bad != 0;\n}\n";
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *diags, at[32];
        bool ok = compile(cases[i].bp, &diags);
        snprintf(at, sizeof at, "t.bp:1:%d: error: ", cases[i].col);
        if (!ok) {
            cr_expect(strstr(diags, at), "expected an error at %s, got:\n%s", at, diags);
            free(diags);
            continue;
        }
        free(diags);
        GenDir d;
        char file[256], cmd[512];
        cr_assert(gen_dir_make(&d));
        cr_assert(gen_model(&d, "a", cases[i].bp, 256));
        cr_assert(write_text(gen_path(&d, "driver.c", file, sizeof file), driver));
        cr_assert_eq(gen_build(&d, "cc", "", "driver.c a.c", "driver"), 0);
        /* bprt_rng_uniform looped forever on an infinite range: a time limit. */
        snprintf(cmd, sizeof cmd, "cd '%s' && timeout 20 ./driver", d.path);
        int status = run_cmd(cmd, NULL, NULL);
        cr_expect_neq(status, 124, "a_init did not finish for\n%s", cases[i].bp);
        cr_expect_eq(status, 0, "non-finite initial weights from\n%s", cases[i].bp);
        gen_dir_remove(&d);
    }
}

// ---- checkpoints from elsewhere ----

/* A checkpoint is a file another program may have written: its step counter is
 * restored into the model, and Adam goes on from it.  A negative step made the bias
 * correction negative and the parameters NaN; INT64_MAX overflowed (undefined
 * behaviour) at the next step.  NAME_restore must refuse them, or training must go on
 * with finite parameters. */
Test(hostile, checkpoint_step_out_of_range, .timeout = 120)
{
    static const char bp[] =
        "network ad {\n    input 2;\n    dense 3 tanh;\n    dense 1 sigmoid;\n    loss mse;\n"
        "    optimizer adam(lr = 0.01);\n}\n";
    static const char driver[] =
        "#include <math.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
        "#include \"ad.h\"\n"
        "static ad_model m, r;\n"
        "int main(int argc, char **argv)\n{\n"
        "    (void)argc;\n"
        "    ad_init(&m, 1);\n"
        "    m.step = strtoll(argv[1], NULL, 10);\n"
        "    if (ad_checkpoint(&m, \"ck.bin\") != 0)\n        return 3;\n"
        "    ad_init(&r, 2);\n"
        "    if (ad_restore(&r, \"ck.bin\") != 0)\n        return 0; /* refused */\n"
        "    const ad_real x[2] = {1, 2}, t[1] = {1};\n"
        "    for (int i = 0; i < 3; i++)\n        ad_train(&r, x, t, 1);\n"
        "    for (int i = 0; i < AD_PARAMS; i++)\n"
        "        if (!isfinite(r.params[i]))\n            return 1;\n"
        "    return 0;\n}\n";
    GenDir d;
    char file[256], cmd[512];
    cr_assert(gen_dir_make(&d));
    cr_assert(gen_model(&d, "ad", bp, 256));
    cr_assert(write_text(gen_path(&d, "driver.c", file, sizeof file), driver));
    cr_assert_eq(gen_build(&d, "cc", "", "driver.c ad.c", "driver"), 0);
    static const char *const steps[] = {"0", "12345", "-3", "-9223372036854775808",
                                        "9223372036854775807"};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        snprintf(cmd, sizeof cmd, "cd '%s' && ./driver %s", d.path, steps[i]);
        cr_expect_eq(run_cmd(cmd, NULL, NULL), 0,
                     "a checkpoint with step %s was restored and training went wrong", steps[i]);
    }
    gen_dir_remove(&d);
}

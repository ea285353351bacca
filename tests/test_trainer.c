/*
 * test_trainer.c - the generated command-line trainer end to end: `build/bpc --main`
 * writes the C, cc builds it with libbprt.a (warnings as errors), and the program is run
 * as a user would: train, save, eval, predict and gradcheck on xor, iris, digits and sine,
 * asserting the accuracy or loss each reaches; IDX input; the stop on a NaN or infinite
 * loss; data and usage errors.  Runs take well under a second each; MNIST is not here
 * (make mnist).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bprt.h"
#include "genutil.h"
#include "testutil.h"

#ifndef TRAINER_BPC
#define TRAINER_BPC BPC_TOP "/build/bpc"
#endif
#define DATA BPC_TOP "/examples/data/"

// ---- helpers ----

/* Compiles `bp_path` with bpc --main into d/NAME.c and builds d/NAME. */
static void build_trainer(const GenDir *d, const char *bp_path, const char *name)
{
    char cmd[1024], *err = NULL;
    snprintf(cmd, sizeof cmd, "'%s' --main '%s' -o '%s/%s.c'", TRAINER_BPC, bp_path, d->path,
             name);
    int status = run_cmd(cmd, NULL, &err);
    cr_assert_eq(status, 0, "%s failed:\n%s", cmd, err ? err : "");
    free(err);
    char src[128];
    snprintf(src, sizeof src, "%s.c", name);
    cr_assert_eq(gen_build(d, "cc", "-O1", src, name), 0);
}

/* Writes `bp` to d/NAME.bp, then build_trainer. */
static void build_trainer_text(const GenDir *d, const char *bp, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.bp", d->path, name);
    cr_assert(write_text(path, bp));
    build_trainer(d, path, name);
}

/* Runs "cd DIR && ./ARGS", ARGS a printf format; returns the exit status. */
static int run(const GenDir *d, char **out, char **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int run(const GenDir *d, char **out, char **err, const char *fmt, ...)
{
    char args[2048], cmd[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && ./%s", d->path, args);
    return run_cmd(cmd, out, err);
}

/* The percentage after the last "<what> accuracy " in `text`, or -1. */
static double accuracy(const char *text, const char *what)
{
    char key[64];
    snprintf(key, sizeof key, "%s accuracy ", what);
    const char *p = text, *last = NULL;
    while ((p = strstr(p, key)) != NULL)
        last = p++;
    return last ? atof(last + strlen(key)) : -1;
}

/* The number after the last "<what> loss " in `text`, or -1. */
static double loss(const char *text, const char *what)
{
    char key[64];
    snprintf(key, sizeof key, "%s loss ", what);
    const char *p = text, *last = NULL;
    while ((p = strstr(p, key)) != NULL)
        last = p++;
    return last ? atof(last + strlen(key)) : -1;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

// ---- xor ----

Test(trainer, xor_end_to_end)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/xor.bp", "xor");
    char *out, *err;

    int status = run(&d, &out, &err, "xor train --data '%sxor.csv' --epochs 300 --every 100 "
                                     "--save xor.w", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect_eq(accuracy(out, "train"), 100, "%s", out);
    cr_expect(strstr(out, "epoch 300/300  lr 0.5  train loss "), "%s", out);
    cr_expect(strstr(out, "saved the weights to xor.w\n"), "%s", out);
    free(out);
    free(err);

    status = run(&d, &out, &err, "xor eval --data '%sxor.csv' --load xor.w", DATA);
    cr_assert_eq(status, 0, "%s", err);
    cr_expect(strstr(out, "accuracy 100.00% (4/4)"), "%s", out);
    free(out);
    free(err);

    /* binary_cross_entropy: 0 or 1 per row; --outputs gives the probabilities */
    char path[256];
    cr_assert(write_text(gen_path(&d, "in.txt", path, sizeof path), "0 0\n0 1\n1,0\n# c\n\n1 1\n"));
    status = run(&d, &out, &err, "xor predict --load xor.w < in.txt");
    cr_assert_eq(status, 0, "%s", err);
    cr_expect_str_eq(out, "0\n1\n1\n0\n");
    free(out);
    free(err);
    status = run(&d, &out, &err, "xor predict --outputs --load xor.w < in.txt");
    cr_assert_eq(status, 0, "%s", err);
    cr_expect_lt(atof(out), 0.1, "%s", out);
    cr_expect_gt(atof(strchr(out, '\n') + 1), 0.9, "%s", out);
    free(out);
    free(err);

    status = run(&d, &out, &err, "xor gradcheck");
    cr_expect_eq(status, 0, "%s%s", out, err);
    cr_expect(strstr(out, "gradcheck of 'xor' (float)"), "%s", out);
    cr_expect(strstr(out, "\nhidden "), "%s", out);
    cr_expect(strstr(out, "\nok: worst error "), "%s", out);
    free(out);
    free(err);
    gen_dir_remove(&d);
}

/* The first place of `text` in the len bytes at p, or NULL. */
static const char *find_bytes(const char *p, size_t len, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(p + i, text, n) == 0)
            return p + i;
    return NULL;
}

/* A network too deep for its tensor table to be one string literal (ISO C99 promises
 * 4095 characters; gen_build warns as an error beyond): the trainer builds and writes
 * the whole table into its weight file. */
Test(trainer, deep_network_tensor_table)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    char bp[16384] = "network deep {\n    input 2;\n";
    for (int i = 0; i < 150; i++)
        snprintf(bp + strlen(bp), sizeof bp - strlen(bp), "    layer%d: dense 2 tanh;\n", i);
    strcat(bp, "    dense 1 sigmoid;\n    loss binary_cross_entropy;\n"
               "    optimizer sgd(lr = 0.1);\n    batch 4;\n}\n");
    build_trainer_text(&d, bp, "deep");
    char *out, *err;
    int status = run(&d, &out, &err, "deep train --data '%sxor.csv' --epochs 1 --save deep.w",
                     DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    char path[256];
    size_t len;
    char *file = read_file(gen_path(&d, "deep.w", path, sizeof path), &len);
    cr_assert(file);
    /* the table from its first entry to its last, one piece after the other */
    const char *first = find_bytes(file, len, "layer0.weight=2x2@0;layer0.bias=2@4;layer1.");
    cr_assert(first, "no tensor table in the weight file");
    const char *last = find_bytes(file, len, "dense151.weight=1x2@900;dense151.bias=1@902;");
    cr_expect(last && last > first + 4095, "the table is not whole");
    free(file);
    gen_dir_remove(&d);
}

// ---- iris ----

Test(trainer, iris_end_to_end)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    char *out, *err;

    int status = run(&d, &out, &err, "iris train --data '%siris.csv' --valid 0.2 --epochs 100 "
                                     "--every 50 --save iris.w --log log.csv", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect(strstr(out, "iris.csv (header line skipped): 120 samples, valid set 30 samples"),
              "%s", out);
    cr_expect_geq(accuracy(out, "valid"), 95, "%s", out);
    free(out);
    free(err);

    char path[256];
    char *log = read_file(gen_path(&d, "log.csv", path, sizeof path), NULL);
    cr_assert(log);
    cr_expect_eq(strncmp(log, "epoch,train_loss,valid_loss,valid_accuracy,seconds,samples_per_second,"
                              "lr\n1,", 74), 0, "%s", log);
    cr_expect_eq(count_lines(log), 101);
    free(log);

    status = run(&d, &out, &err, "iris eval --data '%siris.csv' --load iris.w", DATA);
    cr_assert_eq(status, 0, "%s", err);
    cr_expect(strstr(out, "150 samples (header line skipped)  loss "), "%s", out);
    cr_expect_geq(accuracy(out, ""), 95, "%s", out);
    free(out);
    free(err);

    /* rows as in the training file: the header is skipped, the label column ignored */
    status = run(&d, &out, &err, "iris predict --load iris.w < '%siris.csv'", DATA);
    cr_assert_eq(status, 0, "%s", err);
    cr_expect_eq(count_lines(out), 150);
    cr_expect_eq(strncmp(out, "0\n0\n0\n0\n0\n", 10), 0, "%.40s", out);
    free(out);
    free(err);
    cr_assert(write_text(gen_path(&d, "in.txt", path, sizeof path), "6.3 3.3 6.0 2.5\n"));
    status = run(&d, &out, &err, "iris predict --load iris.w < in.txt");
    cr_expect_eq(status, 0, "%s", err);
    cr_expect_str_eq(out, "2\n");
    free(out);
    free(err);

    status = run(&d, &out, &err, "iris gradcheck --samples 8");
    cr_expect_eq(status, 0, "%s%s", out, err);
    cr_expect(strstr(out, "\nok: worst error "), "%s", out);
    free(out);
    free(err);
    gen_dir_remove(&d);
}

/* Training from IDX files (the MNIST format), the labels file found by its name. */
Test(trainer, iris_from_idx)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    /* 6 samples of 2x2 bytes, labels 0, 1, 2, 0, 1, 2 */
    unsigned char images[16 + 24], labels[8 + 6];
    memcpy(images, "\0\0\x08\x03\0\0\0\x06\0\0\0\x02\0\0\0\x02", 16);
    memcpy(labels, "\0\0\x08\x01\0\0\0\x06", 8);
    for (int i = 0; i < 6; i++) {
        labels[8 + i] = (unsigned char)(i % 3);
        for (int k = 0; k < 4; k++)
            images[16 + 4 * i + k] = (unsigned char)(80 * (i % 3) + 10 * k);
    }
    char path[256];
    FILE *f = fopen(gen_path(&d, "tiny-images-idx3-ubyte", path, sizeof path), "wb");
    cr_assert(f && fwrite(images, 1, sizeof images, f) == sizeof images && fclose(f) == 0);
    f = fopen(gen_path(&d, "tiny-labels-idx1-ubyte", path, sizeof path), "wb");
    cr_assert(f && fwrite(labels, 1, sizeof labels, f) == sizeof labels && fclose(f) == 0);

    char *out, *err;
    int status = run(&d, &out, &err, "iris train --data tiny-images-idx3-ubyte --epochs 200 "
                                     "--every 200 --save w");
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect(strstr(out, ": 6 samples;"), "%s", out);
    cr_expect_eq(accuracy(out, "train"), 100, "%s", out);
    free(out);
    free(err);
    status = run(&d, &out, &err, "iris eval --data tiny-images-idx3-ubyte "
                                 "--labels tiny-labels-idx1-ubyte --load w");
    cr_expect_eq(status, 0, "%s", err);
    cr_expect(strstr(out, "accuracy 100.00% (6/6)"), "%s", out);
    free(out);
    free(err);

    /* a truncated images file: the loader's message, exit status 1 */
    f = fopen(gen_path(&d, "bad-images-idx3-ubyte", path, sizeof path), "wb");
    cr_assert(f && fwrite(images, 1, sizeof images - 1, f) == sizeof images - 1 && fclose(f) == 0);
    status = run(&d, &out, &err, "iris train --data bad-images-idx3-ubyte --labels "
                                 "tiny-labels-idx1-ubyte");
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "iris: error: bad-images-idx3-ubyte: truncated: the header's dimensions "
                          "need 24 bytes of data, the file has 23\n");
    free(out);
    free(err);
    gen_dir_remove(&d);
}

// ---- digits and sine ----

/* Digits with standardized inputs: the statistics saved beside the weights are applied
 * again by eval. */
Test(trainer, digits_standardized)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/digits.bp", "digits");
    char *out, *err;
    int status = run(&d, &out, &err, "digits train --data '%sdigits.csv' --valid 0.2 "
                                     "--standardize --epochs 30 --every 10 --save w", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect(strstr(out, "1438 samples, valid set 359 samples"), "%s", out);
    cr_expect_geq(accuracy(out, "valid"), 95, "%s", out);
    cr_expect(strstr(out, "saved the weights and the standardization statistics to w\n"), "%s",
              out);
    free(out);
    free(err);

    status = run(&d, &out, &err, "digits eval --data '%sdigits.csv' --load w", DATA);
    cr_assert_eq(status, 0, "%s", err);
    cr_expect_geq(accuracy(out, ""), 97, "%s", out);
    free(out);
    free(err);
    gen_dir_remove(&d);
}

/* The header of weight file `path` as an expectation, and its parameters (float). */
static bprt_file_info header_of(const char *path, float *params, size_t max)
{
    size_t len;
    unsigned char *data = (unsigned char *)read_file(path, &len);
    cr_assert(data && len >= 52);
    uint64_t f[6];
    for (int k = 0; k < 6; k++) {
        f[k] = 0;
        for (int i = 7; i >= 0; i--)
            f[k] = f[k] << 8 | data[8 + 8 * k + i];
    }
    bprt_file_info info = {.kind = (uint32_t)(f[0] >> 32), .elem_size = (uint32_t)f[1],
                           .nbuffers = (uint32_t)(f[1] >> 32), .count = f[2],
                           .fingerprint = f[3]};
    cr_assert(info.elem_size == 4 && info.count <= max);
    memcpy(params, data + 48, info.count * 4);
    free(data);
    return info;
}

/* Issue 11: eval without the statistics gave 33% and no warning.  They are in the
 * weight file now; a file without them (format version 1) still takes an old W.stats. */
Test(trainer, standardized_statistics_in_the_weight_file)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    char *out, *err, path[256];
    int status = run(&d, &out, &err, "iris train --data '%siris.csv' --standardize --epochs 100 "
                                     "--every 100 --save w && test ! -e w.stats", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    status = run(&d, &out, &err, "iris eval --data '%siris.csv' --load w", DATA);
    cr_assert_eq(status, 0, "%s", err);
    cr_expect_geq(accuracy(out, ""), 95, "%s", out);
    free(out);
    free(err);
    /* predict applies them: the last row of iris.csv is class 2 */
    cr_assert(write_text(gen_path(&d, "in.txt", path, sizeof path), "5.9,3.0,5.1,1.8\n"));
    status = run(&d, &out, &err, "iris predict --load w < in.txt");
    cr_expect_eq(status, 0, "%s", err);
    cr_expect_str_eq(out, "2\n");
    free(out);
    free(err);

    /* the statistics as a program of one's own reads them */
    double mean[4], std[4];
    bprt_stats st = {.inputs = 4, .mean = mean, .std = std};
    cr_assert_eq(bprt_stats_read(gen_path(&d, "w", path, sizeof path), &st), BPRT_OK);
    cr_expect_eq(st.found, 1);
    cr_expect(mean[0] > 5.8 && mean[0] < 5.9 && std[0] > 0.8 && std[0] < 0.9, "%g %g", mean[0],
              std[0]);

    /* statistics for another number of inputs, in a well-formed file: refused */
    float params[1000];
    bprt_file_info info = header_of(path, params, 1000);
    const void *bufs[1] = {params};
    bprt_stats three = {.inputs = 3, .mean = mean, .std = std};
    cr_assert_eq(bprt_file_write_stats(gen_path(&d, "w3", path, sizeof path), &info, bufs, &three),
                 BPRT_OK);
    status = run(&d, &out, &err, "iris eval --data '%siris.csv' --load w3", DATA);
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "iris: error: w3: the standardization statistics are for another "
                          "number of inputs, or a mean is not finite or a deviation not "
                          "positive\n");
    free(out);
    free(err);

    /* a corrupted byte of the statistics: refused */
    size_t len;
    char *data = read_file(gen_path(&d, "w", path, sizeof path), &len);
    cr_assert(data);
    data[len - 10] ^= 0x40;
    FILE *f = fopen(gen_path(&d, "bad", path, sizeof path), "wb");
    cr_assert(f && fwrite(data, 1, len, f) == len && fclose(f) == 0);
    free(data);
    status = run(&d, &out, &err, "iris predict --load bad < in.txt");
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "iris: error: bad: checksum mismatch: the file is corrupt\n");
    free(out);
    free(err);

    /* weights of format version 1 with the W.stats earlier versions wrote beside them */
    cr_assert_eq(bprt_file_write(gen_path(&d, "old", path, sizeof path), &info, bufs), BPRT_OK);
    char stats[512];
    int at = snprintf(stats, sizeof stats, "# bpc standardization\ninputs 4\n");
    for (int j = 0; j < 4; j++)
        at += snprintf(stats + at, sizeof stats - at, "%.17g %.17g\n", mean[j], std[j]);
    cr_assert(write_text(gen_path(&d, "old.stats", path, sizeof path), stats));
    status = run(&d, &out, &err, "iris eval --data '%siris.csv' --load old", DATA);
    cr_assert_eq(status, 0, "%s", err);
    cr_expect_geq(accuracy(out, ""), 95, "%s", out);
    free(out);
    free(err);

    /* retraining removes such a W.stats, which would not fit the new weights */
    status = run(&d, &out, &err, "iris train --data '%siris.csv' --epochs 1 --save old && "
                                 "test ! -e old.stats", DATA);
    cr_expect_eq(status, 0, "%s%s", out, err);
    cr_expect(strstr(out, "removed old.stats, the statistics of the weights replaced\n"), "%s",
              out);
    free(out);
    free(err);
    gen_dir_remove(&d);
}

Test(trainer, sine_regression)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/sine.bp", "sine");
    char *out, *err;
    int status = run(&d, &out, &err, "sine train --data '%ssine-train.csv' --test "
                                     "'%ssine-test.csv' --epochs 200 --every 100 --save w",
                     DATA, DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    double test_loss = loss(out, "test");
    cr_expect(test_loss >= 0 && test_loss < 1e-3, "%s", out);
    cr_expect_null(strstr(out, "accuracy"), "%s", out);
    free(out);
    free(err);
    char path[256];
    cr_assert(write_text(gen_path(&d, "in.txt", path, sizeof path), "0.5\n-2\n"));
    status = run(&d, &out, &err, "sine predict --load w < in.txt");
    cr_assert_eq(status, 0, "%s", err);
    double y1, y2;
    cr_assert_eq(sscanf(out, "%lf %lf", &y1, &y2), 2, "%s", out);
    cr_expect(y1 > 0.479 - 0.05 && y1 < 0.479 + 0.05, "sin(0.5) = 0.479, got %g", y1);
    cr_expect(y2 > -0.909 - 0.05 && y2 < -0.909 + 0.05, "sin(-2) = -0.909, got %g", y2);
    free(out);
    free(err);
    gen_dir_remove(&d);
}

// ---- the NaN stop, errors ----

Test(trainer, nan_stops_training)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer_text(&d,
                       "network boom {\n    input 2;\n    dense 1 identity;\n    loss mse;\n"
                       "    optimizer sgd(lr = 1e30);\n    batch 2;\n    seed 1;\n}\n",
                       "boom");
    char *out, *err, path[256];
    int status = run(&d, &out, &err, "boom train --data '%sxor.csv' --epochs 5 --save w", DATA);
    cr_expect_eq(status, 1, "%s%s", out, err);
    cr_expect_str_eq(err, "boom: error: the loss became infinite at epoch 1, step 2 of 2: training "
                          "stopped.\nThe weights are no longer usable and were not saved; a "
                          "smaller learning rate (--lr, or the optimizer's lr in the .bp file) or "
                          "--standardize may help.\n");
    cr_expect_null(read_file(gen_path(&d, "w", path, sizeof path), NULL), "no weights saved");
    free(out);
    free(err);

    /* a value the model's float cannot hold would make the loss infinite from the start */
    cr_assert(write_text(gen_path(&d, "big.csv", path, sizeof path), "1,2,0\n1e39,0,0\n"));
    status = run(&d, &out, &err, "boom train --data big.csv");
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "boom: error: big.csv: row 2: 1e+39 is out of the range of float\n");
    free(out);
    free(err);
    gen_dir_remove(&d);
}

Test(trainer, data_errors)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    char path[256];
    cr_assert(write_text(gen_path(&d, "short.csv", path, sizeof path), "a,b,c,d,e\n1,2,3,4,0\n1,2,3,0\n"));
    cr_assert(write_text(gen_path(&d, "bad.csv", path, sizeof path), "1,2,3,4,0\n1,abc,3,4,0\n"));
    cr_assert(write_text(gen_path(&d, "wide.csv", path, sizeof path), "1,2,3,4,5,0\n"));
    cr_assert(write_text(gen_path(&d, "label.csv", path, sizeof path), "1,2,3,4,3\n"));
    cr_assert(write_text(gen_path(&d, "frac.csv", path, sizeof path), "0.5,2,3,4,0\n"));
    cr_assert(write_text(gen_path(&d, "nan1.csv", path, sizeof path), "nan,2,3,4,0\n1,2,3,4,0\n"));
    cr_assert(write_text(gen_path(&d, "big1.csv", path, sizeof path), "1,1e400,3,4,0\n1,2,3,4,0\n"));
    cr_assert(write_text(gen_path(&d, "semi1.csv", path, sizeof path), "1;2;3;4;0\n1;2;3;4;0\n"));
    static const struct {
        const char *args, *message;
    } cases[] = {
        {"train --data short.csv", "iris: error: short.csv:3: expected 5 columns, found 4\n"},
        {"train --data bad.csv", "iris: error: bad.csv:2: column 2: not a number: 'abc'\n"},
        {"train --data wide.csv",
         "iris: error: wide.csv:1: expected 5 columns (4 inputs, 1 label), found 6\n"},
        {"train --data label.csv", "iris: error: label.csv:1: column 5: class label 3 is out of "
                                   "range: there are 3 classes, 0 to 2\n"},
        {"train --data missing.csv",
         "iris: error: missing.csv: cannot open: No such file or directory\n"},
        {"train --data frac.csv --label-column 1",
         "iris: error: frac.csv:1: column 1: a class label must be a whole number, not '0.5'\n"},
        {"eval --data bad.csv --load missing.w",
         "iris: error: missing.w: cannot open the file: No such file or directory\n"},
        {"eval --data bad.csv --load .", "iris: error: .: read or write error: Is a directory\n"},
        {"train --data .", "iris: error: .: cannot read: Is a directory\n"},
        /* issue 11: bad first rows were skipped as "headers" */
        {"train --data nan1.csv", "iris: error: nan1.csv:1: column 1: not a finite number: 'nan'\n"},
        {"train --data big1.csv",
         "iris: error: big1.csv:1: column 2: not a finite number: '1e400'\n"},
        {"train --data semi1.csv",
         "iris: error: semi1.csv:1: expected 5 columns (4 inputs, 1 label), found 1\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out, *err;
        int status = run(&d, &out, &err, "iris %s", cases[i].args);
        cr_expect_eq(status, 1, "%s", cases[i].args);
        cr_expect_str_eq(err, cases[i].message, "%s", cases[i].args);
        free(out);
        free(err);
    }
    gen_dir_remove(&d);
}

/* A header is said so in the first line of the run; predict says so on standard error. */
Test(trainer, header_line_is_reported)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/xor.bp", "xor");
    char path[256], *out, *err;
    cr_assert(write_text(gen_path(&d, "h.csv", path, sizeof path), "a,b,y\n0,0,0\n0,1,1\n"));
    cr_assert(write_text(gen_path(&d, "n.csv", path, sizeof path), "0,0,0\n0,1,1\n"));
    int status = run(&d, &out, &err, "xor train --data h.csv --test n.csv --epochs 1 --save w");
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect_eq(strncmp(out, "training 'xor' on h.csv (header line skipped): 2 samples, test set "
                              "2 samples; ", 76), 0, "%s", out);
    free(out);
    free(err);
    status = run(&d, &out, &err, "xor train --data n.csv --test h.csv --epochs 1");
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect_eq(strncmp(out, "training 'xor' on n.csv: 2 samples, test set 2 samples (header "
                              "line skipped); ", 78), 0, "%s", out);
    free(out);
    free(err);
    status = run(&d, &out, &err, "xor predict --load w < h.csv");
    cr_assert_eq(status, 0, "%s", err);
    cr_expect_eq(count_lines(out), 2, "%s", out);
    cr_expect_str_eq(err, "xor: note: <stdin>:1: a header line, skipped\n");
    free(out);
    free(err);
    /* and a bad first row given to predict is an error, not a header */
    cr_assert(write_text(gen_path(&d, "bad.csv", path, sizeof path), "nan,0\n0,1\n"));
    status = run(&d, &out, &err, "xor predict --load w < bad.csv");
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "xor: error: <stdin>:1: column 1: not a finite number: 'nan'\n");
    free(out);
    free(err);
    gen_dir_remove(&d);
}

/* Issue 11: an unwritable --save was found after all the training, and said "cannot
 * open the file" without a reason.  Every output is checked before the first epoch,
 * and no existing file is touched by the check or by a failed run. */
Test(trainer, outputs_checked_before_training)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/xor.bp", "xor");
    char path[256], *out, *err;
    cr_assert(write_text(gen_path(&d, "log.csv", path, sizeof path), "an earlier log\n"));
    cr_assert(write_text(gen_path(&d, "xor.csv", path, sizeof path), "0,0,0\n0,1,1\n1,0,1\n1,1,0\n"));
    cr_assert(write_text(gen_path(&d, "w", path, sizeof path), "earlier weights\n"));
    cr_assert_eq(mkfifo(gen_path(&d, "pipe", path, sizeof path), 0666), 0);
    static const struct {
        const char *args, *message;
    } cases[] = {
        {"--save nodir/x.w --log log.csv",
         "xor: error: nodir/x.w: cannot write: No such file or directory\n"},
        {"--save w --log nodir/log.csv",
         "xor: error: nodir/log.csv: cannot write: No such file or directory\n"},
        {"--save . --log log.csv", "xor: error: .: is a directory (given to --save)\n"},
        {"--log . --save w", "xor: error: .: is a directory (given to --log)\n"},
        {"--save pipe", "xor: error: pipe: is not a regular file (given to --save); the trainer "
                        "writes files\n"},
        {"--log pipe --save w", "xor: error: pipe: is not a regular file (given to --log); the "
                                "trainer writes files\n"},
        {"--save xor.csv", "xor: error: xor.csv: --save would overwrite the --data file\n"},
        {"--save ./xor.csv", "xor: error: ./xor.csv: --save would overwrite the --data file\n"},
        {"--log xor.csv", "xor: error: xor.csv: --log would overwrite the --data file\n"},
        {"--save w --log w", "xor: error: w: given to both --save and --log\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int status = run(&d, &out, &err, "xor train --data xor.csv --epochs 2 %s", cases[i].args);
        cr_expect_eq(status, 1, "%s", cases[i].args);
        cr_expect_str_eq(out, "", "%s: trained anyway", cases[i].args);
        cr_expect_str_eq(err, cases[i].message, "%s", cases[i].args);
        free(out);
        free(err);
    }
    char *text = read_file(gen_path(&d, "log.csv", path, sizeof path), NULL);
    cr_expect_str_eq(text, "an earlier log\n");
    free(text);
    text = read_file(gen_path(&d, "w", path, sizeof path), NULL);
    cr_expect_str_eq(text, "earlier weights\n");
    free(text);
    text = read_file(gen_path(&d, "xor.csv", path, sizeof path), NULL);
    cr_expect_str_eq(text, "0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
    free(text);
    struct stat st;
    cr_expect(stat(gen_path(&d, "pipe", path, sizeof path), &st) == 0 && S_ISFIFO(st.st_mode),
              "the pipe was replaced");
    /* a stale temporary file of a killed run is left as it is by the check */
    cr_assert(write_text(gen_path(&d, "w.tmp", path, sizeof path), "stale\n"));
    int status = run(&d, &out, &err, "xor train --data xor.csv --epochs 2 --save w --log log.csv "
                                     "&& test ! -e w.tmp && test ! -e log.csv.tmp");
    cr_expect_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    text = read_file(gen_path(&d, "log.csv", path, sizeof path), NULL);
    cr_expect(text && !strncmp(text, "epoch,train_loss,train_accuracy,", 32), "%s", text);
    cr_expect_eq(count_lines(text), 3);
    free(text);
    gen_dir_remove(&d);
}

/* Issue 11: vague messages.  A weight file of other shapes names both; one of another
 * element type says which is which; IDX images of another width are refused for their
 * width, not for a label of theirs. */
Test(trainer, messages_say_what_differs)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/xor.bp", "xor");
    build_trainer_text(&d,
                       "network xor {\n    input 2;\n    dense 3 tanh;\n    dense 1 sigmoid;\n"
                       "    loss binary_cross_entropy;\n    optimizer sgd(lr = 0.5);\n    batch 4;\n}\n",
                       "xor3");
    build_trainer_text(&d,
                       "network xor {\n    input 2;\n    dense 4 tanh;\n    dense 1 sigmoid;\n"
                       "    loss binary_cross_entropy;\n    optimizer sgd(lr = 0.5);\n    batch 4;\n"
                       "    precision double;\n}\n",
                       "xord");
    char *out, *err;
    int status = run(&d, &out, &err, "xor train --data '%sxor.csv' --epochs 1 --save w", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    status = run(&d, &out, &err, "xor3 eval --data '%sxor.csv' --load w", DATA);
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "xor3: error: w: written for a network with different shapes: the file's "
                          "are in=2;dense=4;dense=1 (17 parameters), this network's "
                          "in=2;dense=3;dense=1 (13)\n");
    free(out);
    free(err);
    /* a convolutional network records its shapes too, whichever way the refusal goes */
    build_trainer_text(&d,
                       "network xor {\n    input 1x1x2;\n    conv2d 4 kernel = 1x2 tanh;\n"
                       "    dense 1 sigmoid;\n    loss binary_cross_entropy;\n"
                       "    optimizer sgd(lr = 0.5);\n    batch 4;\n}\n",
                       "xorc");
    status = run(&d, &out, &err, "xorc eval --data '%sxor.csv' --load w", DATA);
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "xorc: error: w: written for a network with different shapes: the file's "
                          "are in=2;dense=4;dense=1 (17 parameters), this network's "
                          "in=1x1x2;conv2d=4x1x1x2s1x1p0x0;dense=1 (17)\n");
    free(out);
    free(err);
    status = run(&d, &out, &err, "xorc train --data '%sxor.csv' --epochs 1 --save wc", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    status = run(&d, &out, &err, "xor eval --data '%sxor.csv' --load wc", DATA);
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "xor: error: wc: written for a network with different shapes: the file's "
                          "are in=1x1x2;conv2d=4x1x1x2s1x1p0x0;dense=1 (17 parameters), this "
                          "network's in=2;dense=4;dense=1 (17)\n");
    free(out);
    free(err);
    status = run(&d, &out, &err, "xord eval --data '%sxor.csv' --load w", DATA);
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "xord: error: w: element type differs (float or double): the file holds "
                          "float values, the network is double\n");
    free(out);
    free(err);

    /* 4 values per sample, and labels up to 2 where xor has 1 output */
    unsigned char images[16 + 12], labels[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2};
    memcpy(images, "\0\0\x08\x03\0\0\0\x03\0\0\0\x02\0\0\0\x02", 16);
    memset(images + 16, 7, 12);
    char path[256];
    FILE *f = fopen(gen_path(&d, "t-images-idx3-ubyte", path, sizeof path), "wb");
    cr_assert(f && fwrite(images, 1, sizeof images, f) == sizeof images && fclose(f) == 0);
    f = fopen(gen_path(&d, "t-labels-idx1-ubyte", path, sizeof path), "wb");
    cr_assert(f && fwrite(labels, 1, sizeof labels, f) == sizeof labels && fclose(f) == 0);
    status = run(&d, &out, &err, "xor train --data t-images-idx3-ubyte");
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "xor: error: t-images-idx3-ubyte: 4 values per sample, the network "
                          "takes 2\n");
    free(out);
    free(err);
    images[11] = 1; /* 2 x 1: the width fits, a label does not */
    f = fopen(gen_path(&d, "t-images-idx3-ubyte", path, sizeof path), "wb");
    cr_assert(f && fwrite(images, 1, 16 + 6, f) == 16 + 6 && fclose(f) == 0);
    status = run(&d, &out, &err, "xor train --data t-images-idx3-ubyte");
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "xor: error: t-labels-idx1-ubyte: sample 2: class label 1 is out of "
                          "range: there are 1 classes, 0 to 0\n");
    free(out);
    free(err);
    gen_dir_remove(&d);
}

Test(trainer, usage)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/xor.bp", "xor");
    static const struct {
        const char *args, *first_line;
    } cases[] = {
        {"", "xor: a command is needed: train, eval, predict or gradcheck\n"},
        {"fit", "xor: unknown command 'fit' (train, eval, predict or gradcheck)\n"},
        {"train", "xor: train needs --data FILE\n"},
        {"train --data", "xor: --data needs a value\n"},
        {"train --data x --epochs 0", "xor: --epochs takes a whole number, 1 or more, not '0'\n"},
        {"train --data x --batch 5", "xor: --batch takes a whole number from 1 to 4, not '5'\n"},
        {"train --data x --valid 1", "xor: --valid takes a fraction between 0 and 1, not '1'\n"},
        {"train --data x --frobnicate", "xor: unknown option '--frobnicate'\n"},
        {"train --dat x", "xor: unknown option '--dat'; did you mean '--data'?\n"},
        {"train --data x --epoch=3", "xor: unknown option '--epoch'; did you mean '--epochs'?\n"},
        {"train --data x --standardise",
         "xor: unknown option '--standardise'; did you mean '--standardize'?\n"},
        {"eval --lod w", "xor: unknown option '--lod'; did you mean '--load'?\n"},
        {"trian --data x", "xor: unknown command 'trian'; did you mean 'train'?\n"},
        {"eval --data x", "xor: eval needs --load FILE (weights written by train --save)\n"},
        {"predict --load w --epochs=3", "xor: --epochs does not apply to 'predict'\n"},
        {"train --data x --test y --valid 0.5",
         "xor: --test and --valid both choose the evaluation set: give one\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out, *err;
        int status = run(&d, &out, &err, "xor %s", cases[i].args);
        cr_expect_eq(status, 2, "'%s'", cases[i].args);
        cr_expect_eq(strncmp(err, cases[i].first_line, strlen(cases[i].first_line)), 0,
                     "'%s': %s", cases[i].args, err);
        cr_expect(strstr(err, "Try 'xor --help' for more information.\n"), "%s", err);
        free(out);
        free(err);
    }
    char *out, *err;
    int status = run(&d, &out, &err, "xor --help");
    cr_expect_eq(status, 0);
    for (const char *const *w = (const char *const[]){"train ", "eval ", "predict ", "gradcheck ",
                                                      "--data", "--label-column", "--test",
                                                      "--epochs", "--seed", "--save", "--log",
                                                      "--load", "--standardize", NULL};
         *w; w++)
        cr_expect(strstr(out, *w), "--help lacks %s", *w);
    free(out);
    free(err);
    gen_dir_remove(&d);
}

// ---- issue 12: fine-tuning, checkpoints, the learning rate, early stopping, metrics ----

/* Whether files a and b in d hold the same bytes. */
static bool same_file(const GenDir *d, const char *a, const char *b)
{
    char pa[256], pb[256];
    size_t la, lb;
    char *x = read_file(gen_path(d, a, pa, sizeof pa), &la);
    char *y = read_file(gen_path(d, b, pb, sizeof pb), &lb);
    bool same = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

/* A small CNN on the 8x8 digits (the lenet kinds: conv2d, maxpool, dense). */
static const char cnn_bp[] = "network cnn {\n"
                             "    input 1x8x8;\n"
                             "    c1: conv2d 4 kernel = 3 padding = 1 relu;\n"
                             "    maxpool 2;\n"
                             "    dense 10 softmax;\n"
                             "    loss cross_entropy;\n"
                             "    optimizer sgd(lr = 0.01, momentum = 0.9);\n"
                             "    batch 16;\n"
                             "    seed 1;\n"
                             "}\n";

/* Resuming after k of N epochs gives the weights, and the last checkpoint, of N epochs
 * without a stop, bit for bit: Adam's moments and step count, the shuffles, a step
 * schedule and early stopping's record all go through the checkpoint. */
Test(trainer, resume_is_bit_identical)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    build_trainer_text(&d, cnn_bp, "cnn");
    static const struct {
        const char *prog, *data;
    } runs[] = {{"iris", "--data '" DATA "iris.csv' --valid 0.2 --standardize"},
                {"cnn", "--data '" DATA "digits.csv' --test '" DATA "digits.csv'"}};
    for (int i = 0; i < 2; i++) {
        const char *p = runs[i].prog, *data = runs[i].data;
        char *out, *err;
        const char *opts = "--lr 0.02 --schedule step:3:0.5 --patience 50 --quiet";
        int status = run(&d, &out, &err, "%s train %s --epochs 7 %s --checkpoint full.ck "
                                         "--save full.w", p, data, opts);
        cr_assert_eq(status, 0, "%s%s", out, err);
        free(out);
        free(err);
        status = run(&d, &out, &err, "%s train %s --epochs 3 %s --checkpoint part.ck", p, data,
                     opts);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_expect(strstr(out, "wrote the checkpoint of epoch 3 to part.ck\n"), "%s", out);
        free(out);
        free(err);
        cr_expect(!same_file(&d, "full.ck", "part.ck"));
        /* the options come from the checkpoint; it goes on being written */
        status = run(&d, &out, &err, "%s train %s --resume part.ck --epochs 7 --quiet --save res.w",
                     p, data);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_expect(strstr(out, "resuming from part.ck after epoch 3\n"), "%s", out);
        cr_expect(strstr(out, "epochs 4 to 7, resumed from part.ck"), "%s", out);
        cr_expect(strstr(out, "learning rate 0.02, times 0.5 every 3 epochs"), "%s", out);
        free(out);
        free(err);
        cr_expect(same_file(&d, "full.w", "res.w"), "%s: resumed weights differ", p);
        cr_expect(same_file(&d, "full.ck", "part.ck"), "%s: the last checkpoints differ", p);
    }
    gen_dir_remove(&d);
}

/* A resume refuses what does not continue the checkpoint, and overwrites nothing. */
Test(trainer, resume_errors)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    char *out, *err, path[256];
    int status = run(&d, &out, &err, "iris train --data '%siris.csv' --epochs 2 --quiet "
                                     "--checkpoint c.ck --save w.w", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    cr_assert(write_text(gen_path(&d, "keep.w", path, sizeof path), "precious"));
    static const struct {
        const char *args, *message;
    } cases[] = {
        {"--resume w.w", "iris: error: w.w: weights file where a checkpoint was expected, or the "
                         "reverse: the file is a weights file, a checkpoint was expected\n"},
        {"--resume c.ck --epochs 2", "iris: error: c.ck: 2 epochs are done already; give --epochs"
                                     " N with N above 2 to train on\n"},
        {"--resume c.ck --epochs 4 --valid 0.5",
         "iris: error: c.ck: the checkpoint was trained on 150 samples; give the same data (and "
         "--valid or --test) to resume\n"},
        {"--resume c.ck --epochs 4 --seed 3",
         "iris: error: --seed 3: the checkpoint c.ck was trained with seed 7, which its shuffles "
         "follow\n"},
        {"--resume missing.ck --epochs 4", "iris: error: missing.ck: cannot open the file: No "
                                           "such file or directory\n"},
        {"--load c.ck", "iris: error: c.ck: weights file where a checkpoint was expected, or the "
                        "reverse: the file is a checkpoint, a weights file was expected\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        status = run(&d, &out, &err, "iris train --data '%siris.csv' %s --save keep.w --quiet",
                     DATA, cases[i].args);
        cr_expect_neq(status, 0, "'%s'", cases[i].args);
        cr_expect_str_eq(err, cases[i].message, "'%s'", cases[i].args);
        free(out);
        free(err);
        char *kept = read_file(path, NULL);
        cr_expect(kept && !strcmp(kept, "precious"), "'%s' overwrote --save", cases[i].args);
        free(kept);
    }
    gen_dir_remove(&d);
}

/* The learning rate of every epoch, from the log (%.17g), against PyTorch 1.13's
 * StepLR(step_size=3, gamma=0.1) and CosineAnnealingLR(T_max=7) stepped once per epoch
 * from lr 0.05 (torch.optim.SGD's param_groups[0]['lr'] before each epoch). */
Test(trainer, learning_rate_schedules_as_pytorch)
{
    static const double step[8] = {0.05, 0.05, 0.05, 0.005000000000000001, 0.005000000000000001,
                                   0.005000000000000001, 0.0005000000000000001,
                                   0.0005000000000000001};
    static const double cosine[7] = {0.05, 0.04752422169756048, 0.040587245046468344,
                                     0.030563023348907863, 0.019436976651092144,
                                     0.009412754953531664, 0.002475778302439524};
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    static const struct {
        const char *schedule;
        const double *want;
        int epochs;
    } cases[] = {{"step:3:0.1", step, 8}, {"cosine", cosine, 7}};
    for (int c = 0; c < 2; c++) {
        char *out, *err, path[256];
        int status = run(&d, &out, &err, "iris train --data '%siris.csv' --epochs %d --lr 0.05 "
                                         "--schedule %s --quiet --log lr.csv", DATA,
                         cases[c].epochs, cases[c].schedule);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_expect(strstr(out, "\nepoch 1/"), "%s", out);
        cr_expect(strstr(out, "  lr 0.05  train loss"), "%s", out);
        free(out);
        free(err);
        char *log = read_file(gen_path(&d, "lr.csv", path, sizeof path), NULL);
        cr_assert(log);
        int rows = 0;
        for (char *line = strchr(log, '\n') + 1; *line; rows++) {
            char *nl = strchr(line, '\n');
            cr_assert(nl);
            *nl = 0;
            const char *last = strrchr(line, ',');
            cr_assert(last && rows < cases[c].epochs, "%s", line);
            cr_expect_eq(strtod(last + 1, NULL), cases[c].want[rows], "%s epoch %d: %s",
                         cases[c].schedule, rows + 1, last + 1);
            line = nl + 1;
        }
        cr_expect_eq(rows, cases[c].epochs, "%s", log);
        free(log);
    }
    /* --lr alone: a rate other than the file's changes the training */
    char *a, *b, *err;
    cr_assert_eq(run(&d, &a, &err, "iris train --data '%siris.csv' --epochs 2 --quiet", DATA), 0);
    free(err);
    cr_assert_eq(run(&d, &b, &err, "iris train --data '%siris.csv' --epochs 2 --quiet --lr 0.002",
                     DATA), 0);
    free(err);
    cr_expect(strstr(a, "learning rate 0.01\n"), "%s", a);
    cr_expect(strstr(b, "learning rate 0.002\n"), "%s", b);
    cr_expect_neq(loss(a, "result  train"), loss(b, "result  train"));
    free(a);
    free(b);
    gen_dir_remove(&d);
}

/* train --load starts from saved weights: the first epoch starts where they left off. */
Test(trainer, fine_tune_from_saved_weights)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    char *out, *err;
    int status = run(&d, &out, &err, "iris train --data '%siris.csv' --epochs 60 --quiet "
                                     "--save a.w", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    const double trained = loss(out, "result  train");
    free(out);
    free(err);
    status = run(&d, &out, &err, "iris train --data '%siris.csv' --epochs 1 --quiet", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    const double fresh = loss(out, "epoch 1/1  lr 0.01  train");
    free(out);
    free(err);
    status = run(&d, &out, &err, "iris train --data '%siris.csv' --epochs 1 --quiet --load a.w "
                                 "--lr 0.001 --save b.w", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect(strstr(out, "fine-tuning the weights of a.w\n"), "%s", out);
    const double tuned = loss(out, "epoch 1/1  lr 0.001  train");
    free(out);
    free(err);
    cr_expect_lt(tuned, 2 * trained, "fine-tuned %g, trained %g", tuned, trained);
    cr_expect_gt(fresh, 4 * trained, "fresh %g, trained %g", fresh, trained);
    cr_expect(!same_file(&d, "a.w", "b.w"));
    gen_dir_remove(&d);
}

/* --patience stops when the evaluated loss stops improving, and --save keeps the best
 * epoch's weights: the run's result is that epoch's loss, the log's smallest. */
Test(trainer, early_stopping_keeps_the_best_epoch)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    char *out, *err, path[256];
    int status = run(&d, &out, &err, "iris train --data '%siris.csv' --valid 0.2 --epochs 300 "
                                     "--lr 0.05 --patience 4 --quiet --log log.csv --save best.w",
                     DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    const char *stop = strstr(out, "early stop after epoch ");
    cr_assert(stop, "%s", out);
    long stopped = atol(stop + strlen("early stop after epoch "));
    const char *at = strstr(stop, "at epoch ");
    cr_assert(at, "%s", out);
    long best = atol(at + 9);
    cr_expect_eq(stopped, best + 4, "%s", out);
    cr_expect_lt(stopped, 300);
    char want[96];
    snprintf(want, sizeof want, "saved the weights of epoch %ld (the best valid loss) to best.w",
             best);
    cr_expect(strstr(out, want), "%s", out);
    const double result = loss(out, "result  valid");
    free(out);
    free(err);
    char *log = read_file(gen_path(&d, "log.csv", path, sizeof path), NULL);
    cr_assert(log);
    cr_expect_eq(count_lines(log), stopped + 1, "%s", log);
    double smallest = INFINITY;
    long smallest_at = 0;
    for (char *line = strchr(log, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        long epoch = atol(line + 1);
        const char *c = strchr(strchr(line + 1, ',') + 1, ',');
        double l = atof(c + 1);
        if (l < smallest) {
            smallest = l;
            smallest_at = epoch;
        }
    }
    free(log);
    cr_expect_eq(smallest_at, best);
    cr_expect_float_eq(result, smallest, 1e-5 * smallest, "result %g, log %g", result, smallest);
    gen_dir_remove(&d);
}

/* eval --confusion: the matrix and per class precision, recall and F1 for a classifier
 * whose labels are names; the regression scores of eval. */
Test(trainer, eval_metrics)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    build_trainer(&d, BPC_TOP "/examples/sine.bp", "sine");
    char *out, *err, path[256];
    cr_assert(write_text(gen_path(&d, "t.csv", path, sizeof path),
                         "a,b,c,d,label\n1,0,0,0,0\n0,1,0,0,1\n0,0,1,0,2\n0,0,0,1,2\n"));
    int status = run(&d, &out, &err, "iris train --data t.csv --epochs 1 --quiet --save t.w");
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    /* the counts against the predictions, computed here */
    status = run(&d, &out, &err, "iris predict --load t.w --data t.csv");
    cr_assert_eq(status, 0, "%s", err);
    int pred[4], cm[3][3] = {{0}};
    const int truth[4] = {0, 1, 2, 2};
    cr_assert_eq(sscanf(out, "%d %d %d %d", &pred[0], &pred[1], &pred[2], &pred[3]), 4, "%s", out);
    for (int i = 0; i < 4; i++)
        cm[truth[i]][pred[i]]++;
    free(out);
    free(err);
    status = run(&d, &out, &err, "iris eval --load t.w --data t.csv --confusion");
    cr_assert_eq(status, 0, "%s", err);
    char want[512];
    snprintf(want, sizeof want,
             "confusion matrix (rows: the true class, columns: the predicted one)\n"
             "          0     1     2\n"
             "0     %5d %5d %5d\n1     %5d %5d %5d\n2     %5d %5d %5d\n"
             "class precision    recall        f1   support\n",
             cm[0][0], cm[0][1], cm[0][2], cm[1][0], cm[1][1], cm[1][2], cm[2][0], cm[2][1],
             cm[2][2]);
    cr_expect(strstr(out, want), "%s\nwanted:\n%s", out, want);
    /* class 2: precision = right / predicted 2, recall = right / 2 */
    int predicted2 = cm[0][2] + cm[1][2] + cm[2][2];
    double p = predicted2 ? (double)cm[2][2] / predicted2 : 0, r = cm[2][2] / 2.0;
    snprintf(want, sizeof want, "\n2        %6.4f    %6.4f    %6.4f         2\n", p, r,
             p + r > 0 ? 2 * p * r / (p + r) : 0);
    cr_expect(strstr(out, want), "%s\nwanted:%s", out, want);
    free(out);
    free(err);

    /* regression: MAE, RMSE and R² against the outputs that predict gives */
    cr_assert(write_text(gen_path(&d, "s.csv", path, sizeof path), "x,y\n0,0.5\n1,0.25\n2,-1\n"));
    status = run(&d, &out, &err, "sine train --data s.csv --epochs 1 --quiet --save s.w");
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    status = run(&d, &out, &err, "sine predict --load s.w --data s.csv");
    cr_assert_eq(status, 0, "%s", err);
    double y[3], t[3] = {0.5, 0.25, -1}, ae = 0, se = 0, dev = 0, mean = (0.5 + 0.25 - 1) / 3;
    cr_assert_eq(sscanf(out, "%lf %lf %lf", &y[0], &y[1], &y[2]), 3, "%s", out);
    for (int i = 0; i < 3; i++) {
        ae += fabs(y[i] - t[i]);
        se += (y[i] - t[i]) * (y[i] - t[i]);
        dev += (t[i] - mean) * (t[i] - mean);
    }
    free(out);
    free(err);
    status = run(&d, &out, &err, "sine eval --load s.w --data s.csv");
    cr_assert_eq(status, 0, "%s", err);
    const char *m = strstr(out, "  MAE ");
    cr_assert(m, "%s", out);
    double mae, rmse, r2;
    cr_assert_eq(sscanf(m, "  MAE %lf  RMSE %lf  R^2 %lf", &mae, &rmse, &r2), 3, "%s", out);
    cr_expect_float_eq(mae, ae / 3, 1e-5, "%s", out);
    cr_expect_float_eq(rmse, sqrt(se / 3), 1e-5, "%s", out);
    cr_expect_float_eq(r2, 1 - se / dev, 1e-5, "%s", out);
    free(out);
    free(err);
    gen_dir_remove(&d);
}

/* A label column of names: sorted into classes, kept in the weight file, printed by
 * predict (from --data or standard input), taken by eval; an unknown name is refused. */
Test(trainer, named_classes)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/iris.bp", "iris");
    char path[256];
    char *iris = read_file(DATA "iris.csv", NULL);
    cr_assert(iris);
    /* iris.csv with its labels 0, 1, 2 written as names */
    FILE *f = fopen(gen_path(&d, "names.csv", path, sizeof path), "w");
    cr_assert(f);
    static const char *const names[] = {"setosa", "versicolor", "virginica"};
    for (char *line = strtok(iris, "\n"); line; line = strtok(NULL, "\n")) {
        char *comma = strrchr(line, ',');
        if (comma && comma[1] >= '0' && comma[1] <= '2' && !comma[2]) {
            *comma = 0;
            fprintf(f, "%s,%s\n", line, names[comma[1] - '0']);
        } else {
            fprintf(f, "%s\n", line);
        }
    }
    cr_assert(fclose(f) == 0);
    free(iris);
    char *out, *err;
    int status = run(&d, &out, &err, "iris train --data names.csv --valid 0.2 --epochs 60 "
                                     "--quiet --save n.w");
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect(strstr(out, "classes: 0 setosa, 1 versicolor, 2 virginica\n"), "%s", out);
    cr_expect(strstr(out, "saved the weights and the class names to n.w\n"), "%s", out);
    cr_expect_geq(accuracy(out, "valid"), 90, "%s", out);
    free(out);
    free(err);

    /* the names are in the file (section 3) */
    char buf[64];
    bprt_extra x = {.names = buf, .names_size = sizeof buf};
    cr_assert_eq(bprt_file_read_extra(gen_path(&d, "n.w", path, sizeof path), NULL, NULL, NULL,
                                      NULL, &x),
                 BPRT_OK);
    cr_expect_eq(x.nclasses, 3);
    cr_expect_eq(x.names_size, sizeof "setosa\0versicolor\0virginica");
    cr_expect_eq(memcmp(buf, "setosa\0versicolor\0virginica", x.names_size), 0);

    status = run(&d, &out, &err, "iris predict --load n.w --data names.csv");
    cr_assert_eq(status, 0, "%s", err);
    cr_expect_eq(count_lines(out), 150);
    cr_expect_eq(strncmp(out, "setosa\nsetosa\n", 14), 0, "%.40s", out);
    cr_expect(strstr(out, "virginica\n"), "%s", out);
    char *from_file = out;
    free(err);
    status = run(&d, &out, &err, "iris predict --load n.w < names.csv");
    cr_assert_eq(status, 0, "%s", err);
    cr_expect_str_eq(out, from_file, "predict --data and standard input differ");
    free(from_file);
    free(out);
    free(err);

    status = run(&d, &out, &err, "iris eval --load n.w --data names.csv --confusion");
    cr_assert_eq(status, 0, "%s", err);
    cr_expect(strstr(out, "               setosa versicolor  virginica\nsetosa             50 "),
              "%s", out);
    cr_expect(strstr(out, "\nversicolor "), "%s", out);
    free(out);
    free(err);

    cr_assert(write_text(gen_path(&d, "bad.csv", path, sizeof path),
                         "5.1,3.5,1.4,0.2,setosa\n6,3,5,2,rose\n"));
    status = run(&d, &out, &err, "iris eval --load n.w --data bad.csv");
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "iris: error: bad.csv:2: column 5: unknown class 'rose': the classes "
                          "are setosa, versicolor, virginica\n");
    free(out);
    free(err);
    /* weights trained on indexes, evaluated on names: the order taken is said */
    status = run(&d, &out, &err, "iris train --data '%siris.csv' --epochs 1 --quiet --save i.w",
                 DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    status = run(&d, &out, &err, "iris eval --load i.w --data names.csv");
    cr_expect_eq(status, 0, "%s", err);
    cr_expect_str_eq(err, "iris: warning: i.w holds no class names (trained on class indexes); "
                          "names.csv's names are taken as classes in sorted order: 0 setosa, "
                          "1 versicolor, 2 virginica\n");
    free(out);
    free(err);
    status = run(&d, &out, &err, "iris eval --load n.w --data names.csv");
    cr_expect_str_eq(err, "", "weights with names: no warning");
    free(out);
    free(err);
    status = run(&d, &out, &err, "iris predict --load n.w --data missing.csv");
    cr_expect_eq(status, 1);
    cr_expect_str_eq(err, "iris: error: missing.csv: cannot open: No such file or directory\n");
    free(out);
    free(err);
    gen_dir_remove(&d);
}

Test(trainer, usage_of_the_new_options)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, BPC_TOP "/examples/xor.bp", "xor");
    static const struct {
        const char *args, *first_line;
    } cases[] = {
        {"train --data x --lr 0", "xor: --lr takes a learning rate, a number above 0, not '0'\n"},
        {"train --data x --lr nan", "xor: --lr takes a learning rate, a number above 0, not 'nan'\n"},
        {"train --data x --schedule step:2", "xor: --schedule takes step:K:G (every K epochs the "
                                             "rate times G, K 1 or more, G above 0), cosine or "
                                             "none, not 'step:2'\n"},
        {"train --data x --schedule linear", "xor: --schedule takes step:K:G"},
        {"train --data x --patience 0", "xor: --patience takes a whole number of epochs, 1 or "
                                        "more, not '0'\n"},
        {"train --data x --load w --resume c",
         "xor: --load and --resume both give the starting weights: give one\n"},
        {"eval --data x --load w --confusion",
         "xor: --confusion is for classifiers (loss cross_entropy), not for binary_cross_entropy\n"},
        {"predict --load w --checkpoint c", "xor: --checkpoint does not apply to 'predict'\n"},
        {"eval --load w --data x --patience 3", "xor: --patience does not apply to 'eval'\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out, *err;
        int status = run(&d, &out, &err, "xor %s", cases[i].args);
        cr_expect_eq(status, 2, "'%s'", cases[i].args);
        cr_expect_eq(strncmp(err, cases[i].first_line, strlen(cases[i].first_line)), 0,
                     "'%s': %s", cases[i].args, err);
        free(out);
        free(err);
    }
    char *out, *err;
    int status = run(&d, &out, &err, "xor --help");
    cr_expect_eq(status, 0);
    for (const char *const *w = (const char *const[]){"--load FILE         start from",
                                                      "--checkpoint", "--resume", "--lr",
                                                      "--schedule", "step:K:G", "cosine",
                                                      "--patience", "--confusion", "MAE",
                                                      "or --data FILE", NULL};
         *w; w++)
        cr_expect(strstr(out, *w), "--help lacks %s", *w);
    free(out);
    free(err);
    gen_dir_remove(&d);
}

/*
 * test_mpi.c - data-parallel training over MPI (docs/DISTRIBUTED.md): the generated
 * trainer built with mpicc and build/libbprt_mpi.a and run under mpirun, and the C API
 * (tests/drivers/mpicheck.c).  A run gives the same bits every time with the same rank
 * count; 2 ranks at batch B equal one process at batch 2B within 1e-12 (relative, in
 * double); 1 rank equals the plain trainer bit for bit; the sums through shared memory
 * (ranks on one machine) give the bits of those by messages (across machines, here
 * with BPRT_MPI_SHARED=0); evaluation is sharded with its counts summed; rank 0 alone
 * prints and writes; a NaN stops every rank.
 *
 * Skipped, saying so, without mpirun and mpicc or build/libbprt_mpi.a (make mpi builds
 * it; make test does when Open MPI is installed).  mpirun gets --allow-run-as-root (CI
 * runs as root) and --oversubscribe (more ranks than cores), and no standard input.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "genutil.h"
#include "testutil.h"

#define DATA BPC_TOP "/examples/data/"
#define MPI_LIB BPC_TOP "/build/libbprt_mpi.a"
#define MPIRUN "mpirun --allow-run-as-root --oversubscribe -np"

/* examples/iris.bp in double precision, batch 16. */
static const char iris_double[] =
    "network irisd {\n    input 4;\n    hidden: dense 16 relu init = he_uniform;\n"
    "    dense 3 softmax;\n    loss cross_entropy;\n    optimizer adam(lr = 0.01);\n"
    "    precision double;\n    batch 16;\n    seed 7;\n}\n";

static void skip_without_mpi(void)
{
    if (run_cmd("command -v mpirun && command -v mpicc", NULL, NULL) != 0)
        cr_skip_test("mpirun or mpicc not found: make mpi installs Open MPI");
    if (access(MPI_LIB, R_OK) != 0)
        cr_skip_test("no build/libbprt_mpi.a: make mpi builds it");
}

/* bpc --main on `bp` (text) into d/NAME.c; then d/NAME (cc, libbprt.a) and d/NAME_mpi
 * (mpicc, libbprt_mpi.a before libbprt.a). */
static void build_trainers(const GenDir *d, const char *bp, const char *name)
{
    char path[256], cmd[1024], *err = NULL;
    snprintf(path, sizeof path, "%s/%s.bp", d->path, name);
    cr_assert(write_text(path, bp));
    snprintf(cmd, sizeof cmd, "'%s/build/bpc' --main '%s' -o '%s/%s.c'", BPC_TOP, path, d->path,
             name);
    cr_assert_eq(run_cmd(cmd, NULL, &err), 0, "%s failed:\n%s", cmd, err ? err : "");
    free(err);
    char src[256], exe[128];
    snprintf(src, sizeof src, "%s.c", name);
    cr_assert_eq(gen_build(d, "cc", "-O1", src, name), 0);
    snprintf(src, sizeof src, "%s.c '%s'", name, MPI_LIB);
    snprintf(exe, sizeof exe, "%s_mpi", name);
    cr_assert_eq(gen_build(d, "mpicc", "-O1", src, exe), 0);
}

/* Runs "cd DIR && ARGS" (a printf format) with no standard input; the exit status. */
static int run(const GenDir *d, char **out, char **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int run(const GenDir *d, char **out, char **err, const char *fmt, ...)
{
    char args[2048], cmd[2400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s </dev/null", d->path, args);
    return run_cmd(cmd, out, err);
}

/* Trains d/EXE on iris (--valid 0.1: 135 samples, whose last step splits unevenly)
 * with `ranks` processes (0: run alone, without mpirun), saving to d/WEIGHTS; `env`
 * (VAR=value, or "") in their environment. */
static void train_env(const GenDir *d, const char *env, int ranks, const char *exe, long batch,
                      const char *weights)
{
    char launch[64] = "";
    if (ranks > 0)
        snprintf(launch, sizeof launch, "%s %d ", MPIRUN, ranks);
    char *out, *err;
    int status = run(d, &out, &err,
                     "%s %s./%s train --data '%siris.csv' --valid 0.1 --epochs 10 --every 10 "
                     "--batch %ld --save %s",
                     env, launch, exe, DATA, batch, weights);
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
}

static void train(const GenDir *d, int ranks, const char *exe, long batch, const char *weights)
{
    train_env(d, "", ranks, exe, batch, weights);
}

/* A weights file's parameters (docs/WEIGHTS.md: a 48-byte header, then the elements;
 * in version 2 the sections follow them). */
static double *read_params(const GenDir *d, const char *weights, long *count)
{
    char path[256];
    size_t len;
    unsigned char *f = (unsigned char *)read_file(gen_path(d, weights, path, sizeof path), &len);
    cr_assert(f && len > 52 && f[16] == 8, "%s: no double weights file", weights);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | f[24 + i];
    cr_assert(len >= 52 + 8 * n, "%s: %zu bytes for %llu parameters", weights, len,
              (unsigned long long)n);
    double *p = malloc(8 * n);
    memcpy(p, f + 48, 8 * n); /* little-endian, as this host */
    free(f);
    *count = (long)n;
    return p;
}

/* max |a - b| / max |b| over two weights files of the same network. */
static double relative_difference(const GenDir *d, const char *a, const char *b)
{
    long na, nb;
    double *pa = read_params(d, a, &na), *pb = read_params(d, b, &nb);
    cr_assert_eq(na, nb);
    double worst = 0, largest = 0;
    for (long i = 0; i < na; i++) {
        worst = fmax(worst, fabs(pa[i] - pb[i]));
        largest = fmax(largest, fabs(pb[i]));
    }
    free(pa);
    free(pb);
    return worst / largest;
}

static bool same_file(const GenDir *d, const char *a, const char *b)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd '%s' && cmp -s %s %s", d->path, a, b);
    return run_cmd(cmd, NULL, NULL) == 0;
}

static int count_of(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p++)
        n++;
    return n;
}

Test(mpi, same_bits_every_run, .timeout = 120)
{
    skip_without_mpi();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainers(&d, "network iris {\n    input 4;\n    hidden: dense 16 relu;\n"
                       "    dense 3 softmax;\n    loss cross_entropy;\n"
                       "    optimizer adam(lr = 0.01);\n    batch 16;\n    seed 7;\n}\n",
                   "iris");
    train(&d, 2, "iris_mpi", 8, "a2.w");
    train(&d, 2, "iris_mpi", 8, "b2.w");
    cr_expect(same_file(&d, "a2.w", "b2.w"), "two runs with 2 ranks differ");
    train(&d, 3, "iris_mpi", 5, "a3.w");
    train(&d, 3, "iris_mpi", 5, "b3.w");
    cr_expect(same_file(&d, "a3.w", "b3.w"), "two runs with 3 ranks differ");
    /* one rank takes backward, step; the plain trainer the fused train: the same bits */
    train(&d, 1, "iris_mpi", 16, "a1.w");
    train(&d, 0, "iris", 16, "alone.w");
    cr_expect(same_file(&d, "a1.w", "alone.w"), "1 rank differs from the plain trainer");
    gen_dir_remove(&d);
}

/* Ranks on one machine sum through shared memory, on several by messages: the same
 * bits.  A hidden layer of 16,384 makes 131,075 parameters, more than two of the sums'
 * pieces (65,536 floats). */
Test(mpi, shared_memory_and_messages_give_the_same_bits, .timeout = 120)
{
    skip_without_mpi();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainers(&d, "network wide {\n    input 4;\n    hidden: dense 16384 relu;\n"
                       "    dense 3 softmax;\n    loss cross_entropy;\n"
                       "    optimizer adam(lr = 0.001);\n    batch 16;\n    seed 7;\n}\n",
                   "wide");
    for (int ranks = 2; ranks <= 3; ranks++) {
        train_env(&d, "", ranks, "wide_mpi", 5, "shared.w");
        train_env(&d, "BPRT_MPI_SHARED=0", ranks, "wide_mpi", 5, "messages.w");
        cr_expect(same_file(&d, "shared.w", "messages.w"),
                  "%d ranks: shared memory and messages differ", ranks);
    }
    gen_dir_remove(&d);
}

Test(mpi, two_ranks_equal_one_process_at_twice_the_batch, .timeout = 120)
{
    skip_without_mpi();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainers(&d, iris_double, "irisd");
    train(&d, 2, "irisd_mpi", 8, "r2.w");
    train(&d, 0, "irisd", 16, "alone16.w");
    double diff = relative_difference(&d, "r2.w", "alone16.w");
    cr_expect_leq(diff, 1e-12, "2 ranks at batch 8 against 1 process at 16: %g", diff);
    /* the comparison can fail: at batch 8 alone the steps are others */
    train(&d, 0, "irisd", 8, "alone8.w");
    diff = relative_difference(&d, "r2.w", "alone8.w");
    cr_expect_gt(diff, 1e-6, "2 ranks at batch 8 against 1 process at 8: %g", diff);
    gen_dir_remove(&d);
}

Test(mpi, rank_0_prints_and_evaluation_is_sharded, .timeout = 120)
{
    skip_without_mpi();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainers(&d, iris_double, "irisd");
    char *out, *err;
    int status = run(&d, &out, &err,
                     MPIRUN " 3 ./irisd_mpi train --data '%siris.csv' --valid 0.2 --epochs 5 "
                            "--batch 4 --every 5 --save w --log log.csv",
                     DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect(strstr(out, "3 processes, each on its shard of every step's 12 samples\n"), "%s",
              out);
    cr_expect_eq(count_of(out, "training 'irisd'"), 1, "%s", out);
    cr_expect_eq(count_of(out, "epoch 5/5"), 1, "%s", out);
    cr_expect_eq(count_of(out, "epoch "), 1, "%s", out);
    cr_expect_eq(count_of(out, "saved the weights to w\n"), 1, "%s", out);
    free(out);
    free(err);
    char path[256];
    char *log = read_file(gen_path(&d, "log.csv", path, sizeof path), NULL);
    cr_assert(log);
    cr_expect_eq(count_of(log, "\n"), 6, "%s", log);
    free(log);

    /* 150 samples over 3 ranks and alone: the same count, the loss to rounding */
    char *alone;
    status = run(&d, &alone, NULL, "./irisd eval --data '%siris.csv' --load w", DATA);
    cr_assert_eq(status, 0);
    status = run(&d, &out, &err, MPIRUN " 3 ./irisd_mpi eval --data '%siris.csv' --load w", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect_eq(count_of(out, "150 samples"), 1, "%s", out);
    const char *acc = strstr(alone, "accuracy");
    cr_assert(acc, "%s", alone);
    cr_expect(strstr(out, acc), "alone: %s3 ranks: %s", alone, out);
    double la = atof(strstr(alone, "loss ") + 5), lr = atof(strstr(out, "loss ") + 5);
    cr_expect(fabs(la - lr) <= 1e-5 * la, "loss alone %g, 3 ranks %g", la, lr);
    free(alone);
    free(out);
    free(err);
    gen_dir_remove(&d);
}

/* The trainer's state goes through a checkpoint under MPI too (rank 0 writes it, every
 * rank reads it), early stopping decides alike on every rank, and eval --confusion sums
 * the shards' matrices. */
Test(mpi, resume_patience_and_confusion, .timeout = 180)
{
    skip_without_mpi();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainers(&d, iris_double, "irisd");
    static const char opts[] = "--valid 0.2 --batch 4 --schedule step:2:0.5 --patience 20 --quiet";
    char *out, *err;
    int status = run(&d, &out, &err, MPIRUN " 2 ./irisd_mpi train --data '%siris.csv' %s "
                                     "--epochs 6 --checkpoint full.ck --save full.w", DATA, opts);
    cr_assert_eq(status, 0, "%s%s", out, err);
    cr_expect_eq(count_of(out, "wrote the checkpoint of epoch 6 to full.ck"), 1, "%s", out);
    free(out);
    free(err);
    status = run(&d, &out, &err, MPIRUN " 2 ./irisd_mpi train --data '%siris.csv' %s "
                                 "--epochs 2 --checkpoint part.ck", DATA, opts);
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    status = run(&d, &out, &err, MPIRUN " 2 ./irisd_mpi train --data '%siris.csv' --valid 0.2 "
                                 "--resume part.ck --epochs 6 --save res.w", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    free(out);
    free(err);
    cr_expect(same_file(&d, "full.w", "res.w"), "resumed weights differ");
    cr_expect(same_file(&d, "full.ck", "part.ck"), "the last checkpoints differ");

    char *alone;
    status = run(&d, &alone, NULL, "./irisd eval --data '%siris.csv' --load full.w --confusion",
                 DATA);
    cr_assert_eq(status, 0);
    status = run(&d, &out, &err, MPIRUN " 3 ./irisd_mpi eval --data '%siris.csv' --load full.w "
                                 "--confusion", DATA);
    cr_assert_eq(status, 0, "%s%s", out, err);
    const char *a = strstr(alone, "confusion matrix"), *b = strstr(out, "confusion matrix");
    cr_assert(a && b, "alone: %s3 ranks: %s", alone, out);
    cr_expect_str_eq(b, a);
    free(alone);
    free(out);
    free(err);
    gen_dir_remove(&d);
}

Test(mpi, nan_stops_every_rank, .timeout = 120)
{
    skip_without_mpi();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainers(&d,
                   "network boom {\n    input 2;\n    dense 1 identity;\n    loss mse;\n"
                   "    optimizer sgd(lr = 1e30);\n    batch 1;\n    seed 1;\n}\n",
                   "boom");
    char *out, *err, path[256];
    int status = run(&d, &out, &err, MPIRUN " 2 ./boom_mpi train --data '%sxor.csv' --save w",
                     DATA);
    cr_expect_neq(status, 0, "%s%s", out, err);
    cr_expect(strstr(err, "boom_mpi: error: the loss became infinite at epoch 1, step 2 of 2"), "%s",
              err);
    cr_expect_null(read_file(gen_path(&d, "w", path, sizeof path), NULL), "no weights saved");
    free(out);
    free(err);
    gen_dir_remove(&d);
}

Test(mpi, c_api, .timeout = 120)
{
    skip_without_mpi();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    cr_assert(gen_model(&d, "mpinet",
                        "network mpinet {\n    input 2;\n    hidden: dense 8 tanh;\n"
                        "    out: dense 1 sigmoid;\n    loss binary_cross_entropy;\n"
                        "    optimizer sgd(lr = 0.5, momentum = 0.9);\n    precision double;\n"
                        "    batch 12;\n    seed 3;\n}\n",
                        256));
    cr_assert_eq(gen_build(&d, "mpicc", "-O1",
                           "'" BPC_TOP "/tests/drivers/mpicheck.c' mpinet.c '" MPI_LIB "'",
                           "mpicheck"),
                 0);
    for (int shared = 1; shared >= 0; shared--) { /* through shared memory, by messages */
        char *out, *err;
        int status = run(&d, &out, &err, "BPRT_MPI_SHARED=%d " MPIRUN " 3 ./mpicheck", shared);
        cr_expect_eq(status, 0, "%s%s", out, err);
        cr_expect_eq(count_of(out, " ok\n"), 5, "%s", out);
        cr_expect_eq(count_of(out, "FAIL"), 0, "%s", out);
        free(out);
        free(err);
    }
    gen_dir_remove(&d);
}

/*
 * test_gen_embedded.c - on the host, what `make test-mcu` relies on (docs/EMBEDDED.md):
 * the MCU test's driver (tests/mcu/driver.c, with examples/xor.bp, tests/mcu/blobs.bp and dreg.bp)
 * prints the same bits whatever the flags (gcc's default GNU mode with FMA at -O3,
 * clang, -std=c99 -O0), as the generated file turns FMA contraction off itself and
 * fuses only the products it says (its looped layers'); its own
 * bprt_bad_count replaces the runtime's although it links util.o; and a model built
 * with -DBPC_NO_FILES references no file function.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"
#include "testutil.h"

static const char *const models[] = {"examples/xor.bp", "tests/mcu/blobs.bp", "tests/mcu/dreg.bp"};
static const char *const bases[] = {"xor", "blobs", "dreg"};

/* A directory with the driver, the platform file for the host and the three models. */
static void mcu_dir(GenDir *d)
{
    cr_assert(gen_dir_make(d));
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", BPC_TOP, models[i]);
        char *bp = read_file(path, NULL);
        cr_assert(bp, "cannot read %s", path);
        cr_assert(gen_model(d, bases[i], bp, 256));
        free(bp);
    }
    cr_assert(gen_copy(d, "tests/mcu/driver.c"));
    cr_assert(gen_copy(d, "tests/mcu/host.c"));
    cr_assert(gen_copy(d, "tests/mcu/mcu.h"));
}

/* Builds the driver with `cc flags` and returns what it printed. */
static char *mcu_run(const GenDir *d, const char *cc, const char *flags, const char *exe)
{
    cr_assert_eq(gen_build(d, cc, flags, "driver.c host.c xor.c blobs.c dreg.c", exe), 0,
                 "%s %s", cc, flags);
    char *out = NULL;
    int status = gen_run(d, exe, &out);
    cr_assert_eq(status, 0, "%s %s:\n%s", cc, flags, out ? out : "");
    return out;
}

Test(gen, mcu_driver_prints_the_same_bits_under_any_flags, .timeout = 120)
{
    GenDir d;
    mcu_dir(&d);
    char *want = mcu_run(&d, "cc", "-O0", "plain");
    /* the driver's own bprt_bad_count caught the wrong sample count at the end */
    cr_expect(strstr(want, "xor_forward: n = 0 is outside 1..4, caught by the driver's "
                           "bprt_bad_count\nall ok\n"),
              "%s", want);
    __builtin_cpu_init();
    const char *fma = __builtin_cpu_supports("fma") ? "-mfma" : "";
    char gnu[64], clang[64];
    snprintf(gnu, sizeof gnu, "-std=gnu99 -O3 %s", fma);
    snprintf(clang, sizeof clang, "-O3 %s", fma);
    const struct {
        const char *cc, *flags;
    } builds[] = {{"cc", gnu}, {"cc", "-std=gnu11 -O2 -march=native"}, {"clang", clang}};
    bool ok = true;
    for (size_t i = 0; i < sizeof builds / sizeof *builds; i++) {
        char exe[16];
        snprintf(exe, sizeof exe, "build%zu", i);
        char *got = mcu_run(&d, builds[i].cc, builds[i].flags, exe);
        cr_expect_str_eq(got, want, "%s %s", builds[i].cc, builds[i].flags);
        ok &= !strcmp(got, want);
        free(got);
    }
    free(want);
    if (ok)
        gen_dir_remove(&d);
}

/* The number of lines of `cat FILES` in the directory that match the regex. */
static int count_lines(const GenDir *d, const char *files, const char *regex)
{
    char cmd[512], *out = NULL;
    snprintf(cmd, sizeof cmd, "cd '%s' && cat %s | grep -cE '%s'", d->path, files, regex);
    run_cmd(cmd, &out, NULL);
    int n = out ? atoi(out) : -1;
    free(out);
    return n;
}

/* Whatever the machine runs: gcc in its GNU mode with FMA enabled fuses only the
 * products the code fuses itself: none in xor and dreg (all their layers unrolled,
 * whose sums round each product), some in blobs (whose hidden layer is looped). */
Test(gen, gcc_gnu_mode_fuses_only_the_looped_products)
{
    GenDir d;
    mcu_dir(&d);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && cc -std=gnu99 -O3 -mfma -mavx2 -I'%s/runtime' -S xor.c blobs.c dreg.c",
             d.path, BPC_TOP);
    cr_assert_eq(run_cmd(cmd, NULL, NULL), 0, "%s", cmd);
    /* the multiplications are there, none of them fused */
    int n = count_lines(&d, "xor.s dreg.s", "vmul[sp][sd]");
    cr_assert(n > 100, "multiplications: %d", n);
    n = count_lines(&d, "xor.s dreg.s", "vfn?m(add|sub)");
    cr_expect(n == 0, "FMA instructions in the unrolled models: %d", n);
    n = count_lines(&d, "blobs.s", "vfmadd");
    cr_expect(n > 0, "FMA instructions in the looped one: %d", n);
    gen_dir_remove(&d);
}

/* -DBPC_NO_FILES: no NAME_save/load/checkpoint/restore, nothing of bprt_file_*. */
Test(gen, no_files_build_references_no_file_function)
{
    GenDir d;
    mcu_dir(&d);
    char cmd[512], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "cd '%s' && cc -std=c99 -Wall -Wextra -pedantic -Werror -DBPC_NO_FILES "
             "-I'%s/runtime' -c xor.c -o xor.o && nm xor.o",
             d.path, BPC_TOP);
    cr_assert_eq(run_cmd(cmd, &out, NULL), 0);
    cr_expect(out && !strstr(out, "bprt_file_") && !strstr(out, " xor_save\n") &&
                  !strstr(out, " xor_restore\n") && strstr(out, " xor_save_mem\n") &&
                  strstr(out, " bprt_mem_read\n"),
              "symbols:\n%s", out ? out : "");
    free(out);
    gen_dir_remove(&d);
}

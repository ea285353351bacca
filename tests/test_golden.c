/*
 * test_golden.c - the generated code held byte for byte: every network of examples/,
 * bench/ and tests/golden/models/ is compiled by build/bpc, and what it writes must
 * equal the files stored in tests/golden/:
 *
 *   DIR-NAME.c, DIR-NAME.h   bpc FILE.bp -o NAME.c
 *   DIR-NAME.main.c          what bpc --main FILE.bp -o NAME.c writes after the plain
 *                            NAME.c, which it must start with (its header must be NAME.h)
 *   DIR-NAME.u0.c            bpc --unroll 0 FILE.bp -o NAME.c (tests/golden/models only:
 *                            every layer looped)
 *
 * DIR is the source's directory: examples, bench or models.  A change to the compiler
 * that is meant to leave the generated code alone must leave these files alone; one
 * that changes it on purpose regenerates them with `make golden` (BPC_UPDATE_GOLDEN=1),
 * in a commit of its own that says why, and the diff shows what changed.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "genutil.h"
#include "testutil.h"

#define GOLDEN_DIR BPC_TOP "/tests/golden"
#define BPC BPC_TOP "/build/bpc"

/* Fixed-size fields: the parameters are copied into each test's process. */
typedef struct Golden {
    char source[160]; /* relative to the top: "examples/xor.bp" */
    char name[96];    /* "examples-xor" */
    bool unroll0;     /* also the --unroll 0 form */
} Golden;

static const struct {
    const char *dir, *tag;
    bool unroll0;
} source_dirs[] = {
    {"examples", "examples", false},
    {"bench", "bench", false},
    {"tests/golden/models", "models", true},
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const Golden *)a)->name, ((const Golden *)b)->name);
}

ParameterizedTestParameters(golden, code)
{
    size_t n = 0, cap = 32;
    Golden *list = malloc(cap * sizeof *list);
    for (size_t k = 0; list && k < sizeof source_dirs / sizeof source_dirs[0]; k++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", BPC_TOP, source_dirs[k].dir);
        DIR *dir = opendir(path);
        struct dirent *e;
        while (dir && list && (e = readdir(dir))) {
            size_t len = strlen(e->d_name);
            if (len <= 3 || strcmp(e->d_name + len - 3, ".bp") || len > 60)
                continue;
            if (n == cap) {
                Golden *grown = realloc(list, (cap *= 2) * sizeof *list);
                if (!grown)
                    break;
                list = grown;
            }
            Golden *g = &list[n++];
            snprintf(g->source, sizeof g->source, "%s/%s", source_dirs[k].dir, e->d_name);
            snprintf(g->name, sizeof g->name, "%s-%.*s", source_dirs[k].tag, (int)(len - 3),
                     e->d_name);
            g->unroll0 = source_dirs[k].unroll0;
        }
        if (dir)
            closedir(dir);
    }
    if (!list)
        n = 0;
    qsort(list, n, sizeof *list, by_name);
    Golden *params = cr_malloc((n ? n : 1) * sizeof *params);
    if (n)
        memcpy(params, list, n * sizeof *params);
    free(list);
    return cr_make_param_array(Golden, params, n);
}

/* The first line where `actual` differs from `expected`, with the two versions of it. */
static void report_difference(const char *what, const char *expected, const char *actual)
{
    int line = 1;
    const char *a = expected, *b = actual, *sa = a, *sb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            sa = a + 1;
            sb = b + 1;
        }
        a++, b++;
    }
    int la = (int)strcspn(sa, "\n"), lb = (int)strcspn(sb, "\n");
    cr_expect_fail("%s differs from its golden file at line %d:\n- %.*s\n+ %.*s\n"
                   "(make golden regenerates the golden files; review them with git diff)",
                   what, line, la, sa, lb, sb);
}

/* Compares the generated file `dir/file`, after its first `skip` bytes, with
 * tests/golden/<golden>, or stores it there under BPC_UPDATE_GOLDEN. */
static void compare_from(const GenDir *dir, const char *file, size_t skip, const char *golden)
{
    char path[256], gpath[256];
    gen_path(dir, file, path, sizeof path);
    snprintf(gpath, sizeof gpath, "%s/%s", GOLDEN_DIR, golden);
    size_t len;
    char *text = read_file(path, &len);
    cr_assert(text, "cannot read %s", path);
    cr_assert(len >= skip);
    const char *actual = text + skip;
    if (getenv("BPC_UPDATE_GOLDEN")) {
        char *old = read_file(gpath, NULL);
        if (!old || strcmp(old, actual))
            cr_assert(write_text(gpath, actual), "cannot write %s", gpath);
        free(old);
    } else {
        char *expected = read_file(gpath, NULL);
        if (!expected)
            cr_expect_fail("%s: no golden file %s (make golden writes it)", file, golden);
        else if (strcmp(expected, actual))
            report_difference(golden, expected, actual);
        free(expected);
    }
    free(text);
}

static void compare(const GenDir *dir, const char *file, const char *golden)
{
    compare_from(dir, file, 0, golden);
}

/* bpc OPTIONS SOURCE -o dir/OUT, which must succeed. */
static void run_bpc(const GenDir *dir, const char *options, const char *source, const char *out)
{
    char cmd[768], path[256];
    gen_path(dir, out, path, sizeof path);
    snprintf(cmd, sizeof cmd, "%s %s %s/%s -o %s", BPC, options, BPC_TOP, source, path);
    char *err = NULL;
    int status = run_cmd(cmd, NULL, &err);
    cr_assert_eq(status, 0, "%s failed (%d):\n%s", cmd, status, err ? err : "");
    free(err);
}

ParameterizedTest(Golden *g, golden, code)
{
    GenDir dir;
    cr_assert(gen_dir_make(&dir));
    char golden[160];

    run_bpc(&dir, "", g->source, "plain.c");
    snprintf(golden, sizeof golden, "%s.c", g->name);
    compare(&dir, "plain.c", golden);
    snprintf(golden, sizeof golden, "%s.h", g->name);
    compare(&dir, "plain.h", golden);

    /* in a subdirectory, under the same file names: the header must be the same file */
    char sub[256];
    cr_assert_eq(mkdir(gen_path(&dir, "main", sub, sizeof sub), 0700), 0);
    run_bpc(&dir, "--main", g->source, "main/plain.c");
    char p1[256], p2[256];
    size_t plain_len, main_len;
    char *plain = read_file(gen_path(&dir, "plain.c", p1, sizeof p1), &plain_len);
    char *with_main = read_file(gen_path(&dir, "main/plain.c", p2, sizeof p2), &main_len);
    cr_assert(plain && with_main);
    cr_expect(main_len >= plain_len && !memcmp(plain, with_main, plain_len),
              "%s: the --main output does not start with the plain output", g->source);
    free(plain);
    free(with_main);
    snprintf(golden, sizeof golden, "%s.main.c", g->name);
    compare_from(&dir, "main/plain.c", plain_len, golden);
    snprintf(golden, sizeof golden, "%s.h", g->name);
    compare(&dir, "main/plain.h", golden);

    if (g->unroll0) {
        run_bpc(&dir, "--unroll 0", g->source, "u0.c");
        snprintf(golden, sizeof golden, "%s.u0.c", g->name);
        compare(&dir, "u0.c", golden);
    }
    gen_dir_remove(&dir);
}

/* Every golden file belongs to a network that is still there: a renamed or removed
 * example leaves none behind. */
Test(golden, no_stale_files)
{
    DIR *dir = opendir(GOLDEN_DIR);
    cr_assert(dir);
    struct dirent *e;
    while ((e = readdir(dir))) {
        const char *dash = strchr(e->d_name, '-');
        const char *dot = strchr(e->d_name, '.');
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "models"))
            continue;
        cr_expect(dash && dot && dot > dash, "unexpected file tests/golden/%s", e->d_name);
        if (!dash || !dot || dot < dash)
            continue;
        const char *tag = e->d_name;
        size_t taglen = (size_t)(dash - tag);
        const char *srcdir = NULL;
        for (size_t k = 0; k < sizeof source_dirs / sizeof source_dirs[0]; k++)
            if (strlen(source_dirs[k].tag) == taglen && !strncmp(source_dirs[k].tag, tag, taglen))
                srcdir = source_dirs[k].dir;
        char path[512];
        snprintf(path, sizeof path, "%s/%s/%.*s.bp", BPC_TOP, srcdir ? srcdir : "?",
                 (int)(dot - dash - 1), dash + 1);
        FILE *f = fopen(path, "r");
        cr_expect(f, "tests/golden/%s has no source (%s); remove it", e->d_name, path);
        if (f)
            fclose(f);
    }
    closedir(dir);
}

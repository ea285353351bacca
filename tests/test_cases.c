/*
 * test_cases.c - the golden cases: every tests/cases/NAME.bp is run through the front
 * end in-process (parse, then check when the parse succeeded, as `bpc --check` does)
 * and what the diagnostics printed must equal tests/cases/NAME.err byte for byte.  A
 * missing or empty .err means the file must produce no diagnostics at all.
 *
 * The file name in the diagnostics is NAME.bp, as `bpc --check NAME.bp` run inside
 * tests/cases prints it.  To add a case, write NAME.bp and run the tests with
 * BPC_UPDATE_CASES=1 in the environment: the .err files are then (re)written from the
 * actual output, to be reviewed with git diff.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define CASES_DIR BPC_TOP "/tests/cases"

/* Fixed-size names: the parameters are copied into each test's process. */
typedef struct Case {
    char name[128]; /* without .bp */
} Case;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const Case *)a)->name, ((const Case *)b)->name);
}

ParameterizedTestParameters(cases, golden)
{
    size_t n = 0, cap = 16;
    Case *list = malloc(cap * sizeof *list);
    DIR *dir = opendir(CASES_DIR);
    struct dirent *e;
    while (dir && list && (e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len <= 3 || strcmp(e->d_name + len - 3, ".bp") || len - 3 >= sizeof list->name)
            continue;
        if (n == cap) {
            Case *grown = realloc(list, (cap *= 2) * sizeof *list);
            if (!grown)
                break;
            list = grown;
        }
        memcpy(list[n].name, e->d_name, len - 3);
        list[n].name[len - 3] = '\0';
        n++;
    }
    if (dir)
        closedir(dir);
    if (!list)
        n = 0;
    qsort(list, n, sizeof *list, by_name);
    Case *params = cr_malloc((n ? n : 1) * sizeof *params);
    if (n)
        memcpy(params, list, n * sizeof *params);
    free(list);
    return cr_make_param_array(Case, params, n);
}

// ---- a line diff for the failure message ----

typedef struct Lines {
    const char **start;
    int *len;
    int n;
} Lines;

static Lines split_lines(const char *s)
{
    Lines l = {0};
    int cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == '\n';
    l.start = malloc((size_t)cap * sizeof *l.start);
    l.len = malloc((size_t)cap * sizeof *l.len);
    while (*s) {
        const char *nl = strchr(s, '\n');
        int len = nl ? (int)(nl - s) : (int)strlen(s);
        l.start[l.n] = s;
        l.len[l.n++] = len;
        s += len + (nl != NULL);
    }
    return l;
}

static bool same_line(const Lines *a, int i, const Lines *b, int j)
{
    return a->len[i] == b->len[j] && !memcmp(a->start[i], b->start[j], (size_t)a->len[i]);
}

/* Expected against actual, line by line from a longest common subsequence:
 * "  " unchanged, "- " expected only, "+ " actual only. */
static char *line_diff(const char *expected, const char *actual)
{
    Lines a = split_lines(expected), b = split_lines(actual);
    int (*lcs)[b.n + 1] = calloc((size_t)(a.n + 1), sizeof *lcs);
    for (int i = a.n - 1; i >= 0; i--)
        for (int j = b.n - 1; j >= 0; j--)
            lcs[i][j] = same_line(&a, i, &b, j) ? lcs[i + 1][j + 1] + 1
                        : lcs[i + 1][j] > lcs[i][j + 1] ? lcs[i + 1][j]
                                                        : lcs[i][j + 1];
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    fputs("--- expected\n+++ actual\n", f);
    int i = 0, j = 0;
    while (i < a.n || j < b.n) {
        if (i < a.n && j < b.n && same_line(&a, i, &b, j)) {
            fprintf(f, "  %.*s\n", a.len[i], a.start[i]);
            i++, j++;
        } else if (j < b.n && (i == a.n || lcs[i][j + 1] >= lcs[i + 1][j])) {
            fprintf(f, "+ %.*s\n", b.len[j], b.start[j]);
            j++;
        } else {
            fprintf(f, "- %.*s\n", a.len[i], a.start[i]);
            i++;
        }
    }
    fclose(f);
    free(lcs);
    free(a.start);
    free(a.len);
    free(b.start);
    free(b.len);
    return out;
}

// ---- the test ----

ParameterizedTest(Case *c, cases, golden)
{
    char path[sizeof c->name + sizeof CASES_DIR + 8], name[sizeof c->name + 4];
    snprintf(path, sizeof path, "%s/%s.bp", CASES_DIR, c->name);
    snprintf(name, sizeof name, "%s.bp", c->name);
    size_t len;
    char *text = read_file(path, &len);
    cr_assert(text, "%s: cannot read %s", c->name, path);

    FrontResult r = front_run(name, text, len, true);
    const char *actual = r.diags ? r.diags : "";
    snprintf(path, sizeof path, "%s/%s.err", CASES_DIR, c->name);
    char *expected = read_file(path, NULL);

    if (getenv("BPC_UPDATE_CASES")) {
        if (*actual || expected)
            cr_assert(write_text(path, actual), "%s: cannot write %s", c->name, path);
    } else if (strcmp(expected ? expected : "", actual)) {
        char *diff = line_diff(expected ? expected : "", actual);
        cr_expect_fail("case '%s': the diagnostics differ from %s.err\n%s", c->name, c->name, diff);
        free(diff);
    }
    free(expected);
    front_free(&r);
    free(text);
}

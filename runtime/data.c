/*
 * data.c - data sets for training programs: the CSV and IDX (MNIST) loaders and what a
 * trainer does to a loaded set (shuffle, split off a validation part, standardize the
 * features, one-hot class labels).  The command-line trainer (trainer.c) is built on it.
 *
 * Unlike the rest of the runtime this file allocates: it serves desktop programs that
 * read files.  The generated model code itself never allocates.  Nothing here prints or
 * exits: every function returns BPRT_OK or an error code and writes a message naming
 * the file, line and column into the caller's err[BPRT_ERR_SIZE].  Parsers work on
 * (pointer, length) ranges and never read past them, so a file may hold any bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bprt.h"

/* A field longer than this cannot be a number anyone wrote by hand or program. */
enum { MAX_NUMBER_TEXT = 400, QUOTE_MAX = 24 };

static int fail(char *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, BPRT_ERR_SIZE, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Sizes that must not overflow: a * b elements of `size` bytes. */
static void *alloc_array(size_t a, size_t b, size_t size)
{
    if (a == 0 || b == 0)
        return malloc(1);
    if (a > SIZE_MAX / b || a * b > SIZE_MAX / size)
        return NULL;
    return malloc(a * b * size);
}

void bprt_data_free(bprt_data *d)
{
    free(d->x);
    free(d->t);
    free(d->label);
    free(d->names);
    *d = (bprt_data){0};
}

/* The whole file in memory, with a NUL after the last byte for the messages' sake. */
static int read_all(const char *path, unsigned char **buf, size_t *len, char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, BPRT_E_OPEN, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    for (;;) {
        if (!b) {
            fclose(f);
            return fail(err, BPRT_E_NOMEM, "%s: out of memory", path);
        }
        n += fread(b + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        unsigned char *grown = cap <= SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
        if (!grown)
            free(b);
        b = grown;
        cap *= 2;
    }
    bool bad = ferror(f);
    int why = errno;
    fclose(f);
    if (bad) {
        free(b);
        return fail(err, BPRT_E_IO, "%s: cannot read: %s", path, strerror(why));
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return BPRT_OK;
}

// ---- CSV: fields, numbers, rows ----

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Writes `len` bytes of `s` for a message: at most QUOTE_MAX of them, unprintable ones
 * as '?', "..." when cut. */
static const char *quote(char buf[QUOTE_MAX + 4], const char *s, size_t len)
{
    size_t n = len < QUOTE_MAX ? len : QUOTE_MAX;
    for (size_t i = 0; i < n; i++)
        buf[i] = (s[i] >= ' ' && s[i] < 127) ? s[i] : '?';
    strcpy(buf + n, len > n ? "..." : "");
    return buf;
}

/* One field, [s, s + len): a finite number in the whole field.  0 when it is one;
 * otherwise -1 (not a number) or -2 (infinite or NaN). */
static int parse_number(const char *s, size_t len, double *out)
{
    char text[MAX_NUMBER_TEXT + 1];
    if (len == 0 || len > MAX_NUMBER_TEXT)
        return -1;
    memcpy(text, s, len);
    text[len] = 0;
    /* strtod also takes "nan(chars)", hex floats and leading blanks: accept the numbers
     * a C program would write, refuse what merely starts like one. */
    if (is_blank(text[0]))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end != text + len)
        return -1;
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1))
        return -2;
    *out = v;
    return 0;
}

/* The fields of one line.  `sep` is ',' or 0 for runs of blanks.  A field is
 * [start[i], start[i] + len[i]), trimmed of blanks.  Returns the number of fields,
 * storing at most `max` of them (count them all: the caller reports the count). */
static long split_fields(const char *line, size_t n, char sep, const char **start, size_t *len,
                         long max)
{
    long count = 0;
    size_t i = 0;
    if (sep == 0) {
        for (;;) {
            while (i < n && is_blank(line[i]))
                i++;
            if (i == n)
                return count;
            size_t b = i;
            while (i < n && !is_blank(line[i]))
                i++;
            if (count < max) {
                start[count] = line + b;
                len[count] = i - b;
            }
            count++;
        }
    }
    for (;;) {
        size_t b = i;
        while (i < n && line[i] != sep)
            i++;
        size_t e = i;
        while (b < e && is_blank(line[b]))
            b++;
        while (e > b && is_blank(line[e - 1]))
            e--;
        if (count < max) {
            start[count] = line + b;
            len[count] = e - b;
        }
        count++;
        if (i == n)
            return count;
        i++; /* past the separator */
    }
}

/* The message for field `col` (0-based) that is not a number, with `where` as prefix. */
static int bad_number(char *err, const char *where, long col, const char *s, size_t len, int why)
{
    char q[QUOTE_MAX + 4];
    if (len == 0)
        return fail(err, BPRT_E_DATA, "%scolumn %ld: empty field", where, col + 1);
    if (s[0] == '"' || s[0] == '\'')
        return fail(err, BPRT_E_DATA,
                    "%scolumn %ld: quoted fields are not supported (%s); remove the quotes",
                    where, col + 1, quote(q, s, len));
    if (why == -2)
        return fail(err, BPRT_E_DATA, "%scolumn %ld: not a finite number: '%s'", where, col + 1,
                    quote(q, s, len));
    return fail(err, BPRT_E_DATA, "%scolumn %ld: not a number: '%s'", where, col + 1,
                quote(q, s, len));
}

int bprt_csv_row(const char *line, size_t len, double *values, int max, int *count, char *err)
{
    return bprt_csv_row_skip(line, len, -1, values, max, count, err);
}

int bprt_csv_row_skip(const char *line, size_t len, int skip, double *values, int max, int *count,
                      char *err)
{
    char sep = memchr(line, ',', len) ? ',' : 0;
    if (max < 0)
        max = 0;
    const char **start = malloc(((size_t)max + 1) * sizeof *start);
    size_t *flen = malloc(((size_t)max + 1) * sizeof *flen);
    if (!start || !flen) {
        free(start);
        free(flen);
        return fail(err, BPRT_E_NOMEM, "out of memory");
    }
    long n = split_fields(line, len, sep, start, flen, max);
    int rc = BPRT_OK;
    if (n > max) {
        rc = fail(err, BPRT_E_DATA, "expected %d columns, found %ld", max, n);
    } else {
        for (long i = 0; i < n && rc == BPRT_OK; i++) {
            if (i == skip) {
                values[i] = 0;
                continue;
            }
            int why = parse_number(start[i], flen[i], &values[i]);
            if (why)
                rc = bad_number(err, "", i, start[i], flen[i], why);
        }
    }
    *count = (int)(n < INT_MAX ? n : INT_MAX);
    free(start);
    free(flen);
    return rc;
}

// ---- CSV: the loader ----

/* What a parse grows as rows come. */
typedef struct Table {
    double *x, *t;
    int *label;
    size_t rows, cap;
} Table;

static bool table_grow(Table *tb, int inputs, int targets, bool labels)
{
    if (tb->rows < tb->cap)
        return true;
    size_t cap = tb->cap ? tb->cap * 2 : 256;
    if (cap > (size_t)INT_MAX)
        cap = (size_t)INT_MAX;
    if (cap <= tb->rows)
        return false;
    double *x = (size_t)inputs > SIZE_MAX / sizeof(double) / cap
                    ? NULL
                    : realloc(tb->x, cap * (size_t)(inputs ? inputs : 1) * sizeof(double));
    if (!x)
        return false;
    tb->x = x;
    if (targets > 0 && !labels) {
        double *t = (size_t)targets > SIZE_MAX / sizeof(double) / cap
                        ? NULL
                        : realloc(tb->t, cap * (size_t)targets * sizeof(double));
        if (!t)
            return false;
        tb->t = t;
    }
    if (labels) {
        int *l = realloc(tb->label, cap * sizeof(int));
        if (!l)
            return false;
        tb->label = l;
    }
    tb->cap = cap;
    return true;
}

/* The layout of the columns, fixed by the first row. */
typedef struct Layout {
    long cols;
    int inputs, targets;
    long first_target; /* 0-based */
    bool labels;
} Layout;

static int resolve_layout(const char *where, long cols, const bprt_csv_spec *spec, Layout *lay,
                          char *err)
{
    int targets = spec->classes > 0 ? 1 : spec->targets;
    lay->cols = cols;
    lay->targets = targets;
    lay->labels = spec->classes > 0;
    if (spec->inputs > 0) {
        if (cols != (long)spec->inputs + targets) {
            if (targets == 0)
                return fail(err, BPRT_E_DATA, "%sexpected %d columns (the inputs), found %ld", where,
                            spec->inputs, cols);
            return fail(err, BPRT_E_DATA, "%sexpected %d columns (%d inputs, %d %s), found %ld",
                        where, spec->inputs + targets, spec->inputs, targets,
                        lay->labels ? "label" : targets == 1 ? "target" : "targets", cols);
        }
        lay->inputs = spec->inputs;
    } else {
        if (cols <= targets)
            return fail(err, BPRT_E_DATA, "%sfound %ld columns: too few for %d target%s and an input",
                        where, cols, targets, targets == 1 ? "" : "s");
        if (cols - targets > INT_MAX)
            return fail(err, BPRT_E_DATA, "%stoo many columns (%ld)", where, cols);
        lay->inputs = (int)(cols - targets);
    }
    lay->first_target = spec->label_column <= 0 ? cols - targets : spec->label_column - 1L;
    if (targets > 0 && lay->first_target + targets > cols) {
        if (targets == 1)
            return fail(err, BPRT_E_DATA, "%slabel column %ld is out of range: the file has %ld columns",
                        where, lay->first_target + 1, cols);
        return fail(err, BPRT_E_DATA,
                    "%slabel columns %ld to %ld are out of range: the file has %ld columns", where,
                    lay->first_target + 1, lay->first_target + targets, cols);
    }
    return BPRT_OK;
}

/* A class label: a whole number in [0, classes). */
static int parse_label(char *err, const char *where, long col, const char *s, size_t len,
                       int classes, int *out)
{
    double v;
    int why = parse_number(s, len, &v);
    if (why)
        return bad_number(err, where, col, s, len, why);
    char q[QUOTE_MAX + 4];
    if (v != floor(v))
        return fail(err, BPRT_E_DATA, "%scolumn %ld: a class label must be a whole number, not '%s'",
                    where, col + 1, quote(q, s, len));
    if (v < 0 || v >= classes)
        return fail(err, BPRT_E_DATA,
                    "%scolumn %ld: class label %s is out of range: there are %d classes, 0 to %d",
                    where, col + 1, quote(q, s, len), classes, classes - 1);
    *out = (int)v;
    return BPRT_OK;
}

/* The class names of a label column that holds names: those given (spec->names), or
 * those found, in the order first seen, sorted at the end. */
typedef struct Names {
    const char *given; /* packed: each name ended by a NUL */
    int ngiven;
    char **found;
    int nfound, cap;
} Names;

static void names_free(Names *nm)
{
    for (int i = 0; i < nm->nfound; i++)
        free(nm->found[i]);
    free(nm->found);
}

/* "setosa, versicolor, virginica" into buf (cut short when it is full). */
static const char *names_list(const Names *nm, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    const char *g = nm->given;
    int n = nm->given ? nm->ngiven : nm->nfound;
    for (int i = 0; i < n && len < size; i++) {
        const char *name = nm->given ? g : nm->found[i];
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", name);
        if (nm->given)
            g += strlen(g) + 1;
    }
    return buf;
}

/* The class of label field [s, s + len), a name: its index among the given names, or
 * among those found so far (a new one is added while there are fewer than `classes`). */
static int name_label(char *err, const char *where, long col, const char *s, size_t len,
                      int classes, Names *nm, int *out)
{
    char q[QUOTE_MAX + 4], list[BPRT_ERR_SIZE / 2];
    if (nm->given) {
        const char *g = nm->given;
        for (int i = 0; i < nm->ngiven; i++, g += strlen(g) + 1)
            if (strlen(g) == len && !memcmp(g, s, len)) {
                *out = i;
                return BPRT_OK;
            }
        return fail(err, BPRT_E_DATA, "%scolumn %ld: unknown class '%s': the classes are %s", where,
                    col + 1, quote(q, s, len), names_list(nm, list, sizeof list));
    }
    for (int i = 0; i < nm->nfound; i++)
        if (strlen(nm->found[i]) == len && !memcmp(nm->found[i], s, len)) {
            *out = i;
            return BPRT_OK;
        }
    if (nm->nfound == classes)
        return fail(err, BPRT_E_DATA,
                    "%scolumn %ld: a class name more than the network's %d classes: '%s' (after %s)",
                    where, col + 1, classes, quote(q, s, len), names_list(nm, list, sizeof list));
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
            return fail(err, BPRT_E_DATA, "%scolumn %ld: a class name with a control character",
                        where, col + 1);
    if (nm->nfound == nm->cap) {
        int cap = nm->cap ? 2 * nm->cap : 8;
        char **f = realloc(nm->found, (size_t)cap * sizeof *f);
        if (!f)
            return fail(err, BPRT_E_NOMEM, "%sout of memory", where);
        nm->found = f;
        nm->cap = cap;
    }
    char *name = malloc(len + 1);
    if (!name)
        return fail(err, BPRT_E_NOMEM, "%sout of memory", where);
    memcpy(name, s, len);
    name[len] = 0;
    nm->found[nm->nfound] = name;
    *out = nm->nfound++;
    return BPRT_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* The names found, sorted (byte order, as Keras's and scikit-learn's label encoders
 * sort them), into d->names, and the labels renumbered to match. */
static int names_finish(const char *name, Names *nm, int classes, bprt_data *d, char *err)
{
    char list[BPRT_ERR_SIZE / 2];
    if (nm->nfound != classes)
        return fail(err, BPRT_E_DATA, "%s: %d class name%s (%s), the network has %d classes", name,
                    nm->nfound, nm->nfound == 1 ? "" : "s", names_list(nm, list, sizeof list),
                    classes);
    char ***order = malloc((size_t)classes * sizeof *order);
    int *rank = malloc((size_t)classes * sizeof *rank);
    size_t size = 0;
    for (int i = 0; i < classes; i++)
        size += strlen(nm->found[i]) + 1;
    d->names = malloc(size);
    if (!order || !rank || !d->names) {
        free(order);
        free(rank);
        return fail(err, BPRT_E_NOMEM, "%s: out of memory", name);
    }
    for (int i = 0; i < classes; i++)
        order[i] = &nm->found[i];
    qsort(order, (size_t)classes, sizeof *order, compare_names);
    size_t at = 0;
    for (int k = 0; k < classes; k++) {
        rank[order[k] - nm->found] = k;
        size_t len = strlen(*order[k]) + 1;
        memcpy(d->names + at, *order[k], len);
        at += len;
    }
    d->names_size = size;
    for (int i = 0; i < d->rows; i++)
        d->label[i] = rank[d->label[i]];
    free(order);
    free(rank);
    return BPRT_OK;
}

/* A column's name: it has a letter (any non-ASCII byte counts, for UTF-8 names) and is
 * no number of any kind: "nan", "inf" and "1e400" are values that went wrong, and
 * quotes around a field are looked through. */
static bool is_name(const char *s, size_t len)
{
    if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
        s++;
        len -= 2;
    }
    double v;
    if (parse_number(s, len, &v) != -1)
        return false;
    for (size_t i = 0; i < len; i++)
        if (isalpha((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

/* A header names its columns: a first line is one only when every field is a name,
 * so that a first row with a bad value is reported like any other row. */
static bool is_header(const char **start, const size_t *len, long n)
{
    for (long i = 0; i < n; i++)
        if (!is_name(start[i], len[i]))
            return false;
    return true;
}

int bprt_csv_header(const char *line, size_t len)
{
    char sep = memchr(line, ',', len) ? ',' : 0;
    long n = split_fields(line, len, sep, NULL, NULL, 0);
    const char **start = malloc(((size_t)n + 1) * sizeof *start);
    size_t *flen = malloc(((size_t)n + 1) * sizeof *flen);
    int header = start && flen && n > 0 && (split_fields(line, len, sep, start, flen, n),
                                            is_header(start, flen, n));
    free(start);
    free(flen);
    return header;
}

int bprt_csv_parse(const char *name, const char *text, size_t size, const bprt_csv_spec *spec,
                   bprt_data *d, char *err)
{
    *d = (bprt_data){0};
    if (spec->classes < 0 || spec->targets < 0 || spec->inputs < 0)
        return fail(err, BPRT_E_ARG, "%s: invalid column specification", name);
    size_t pos = 0;
    if (size >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        pos = 3; /* the UTF-8 byte order mark some spreadsheets write */
    char sep = 0;              /* ',' or 0 for blanks, */
    bool sep_known = false;    /* decided on the first line that is not blank */
    bool seen_first = false;   /* that line was read (as header or data) */
    long header_cols = -1;
    Layout lay = {.cols = -1};
    Table tb = {0};
    Names nm = {.given = spec->classes > 0 ? spec->names : NULL,
                .ngiven = spec->names ? spec->classes : 0};
    int named = -1; /* the labels are names (1) or indexes (0): as the first row's */
    const char **fstart = NULL;
    size_t *flen = NULL;
    long fcap = 0;
    int rc = BPRT_OK;
    char where[BPRT_ERR_SIZE];

    for (long line_no = 1; pos < size && rc == BPRT_OK; line_no++) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', size - pos);
        size_t n = nl ? (size_t)(nl - line) : size - pos;
        pos += n + (nl != NULL);
        if (memchr(line, '\0', n)) {
            rc = fail(err, BPRT_E_DATA, "%s:%ld: a NUL byte: this is not a text file", name, line_no);
            break;
        }
        size_t b = 0;
        while (b < n && is_blank(line[b]))
            b++;
        if (b == n || line[b] == '#')
            continue; /* blank lines (a trailing one, CRLF's \r) and comments */
        if (!sep_known) {
            sep = memchr(line, ',', n) ? ',' : 0;
            sep_known = true;
        }
        snprintf(where, sizeof where, "%s:%ld: ", name, line_no);

        /* Room for every field of the line, counted first. */
        long nf = split_fields(line, n, sep, fstart, flen, 0);
        if (nf > fcap) {
            const char **s2 = realloc(fstart, (size_t)nf * sizeof *s2);
            if (s2)
                fstart = s2;
            size_t *l2 = s2 ? realloc(flen, (size_t)nf * sizeof *l2) : NULL;
            if (!s2 || !l2) {
                rc = fail(err, BPRT_E_NOMEM, "%sout of memory", where);
                break;
            }
            flen = l2;
            fcap = nf;
        }
        split_fields(line, n, sep, fstart, flen, nf);

        if (!seen_first) {
            seen_first = true;
            bool header = spec->header == BPRT_HEADER_YES ||
                          (spec->header == BPRT_HEADER_AUTO && is_header(fstart, flen, nf));
            if (header) {
                header_cols = nf;
                continue;
            }
        }
        if (lay.cols < 0) {
            if (header_cols >= 0 && nf != header_cols) {
                rc = fail(err, BPRT_E_DATA, "%sexpected %ld columns (as the header), found %ld", where,
                          header_cols, nf);
                break;
            }
            rc = resolve_layout(where, nf, spec, &lay, err);
            if (rc != BPRT_OK)
                break;
        } else if (nf != lay.cols) {
            rc = fail(err, BPRT_E_DATA, "%sexpected %ld columns, found %ld", where, lay.cols, nf);
            break;
        }
        if (!table_grow(&tb, lay.inputs, lay.targets, lay.labels)) {
            rc = fail(err, tb.rows >= (size_t)INT_MAX ? BPRT_E_DATA : BPRT_E_NOMEM,
                      "%s%s", where, tb.rows >= (size_t)INT_MAX ? "too many rows" : "out of memory");
            break;
        }
        double *x = tb.x + tb.rows * (size_t)lay.inputs;
        double *t = lay.labels || !lay.targets ? NULL : tb.t + tb.rows * (size_t)lay.targets;
        for (long c = 0; c < nf && rc == BPRT_OK; c++) {
            bool is_target = lay.targets > 0 && c >= lay.first_target &&
                             c < lay.first_target + lay.targets;
            if (is_target && lay.labels) {
                double v;
                bool label_name = flen[c] > 0 && parse_number(fstart[c], flen[c], &v) == -1 &&
                                  fstart[c][0] != '"' && fstart[c][0] != '\'';
                if (named < 0)
                    named = label_name;
                char q[QUOTE_MAX + 4];
                if (label_name != (named == 1))
                    rc = fail(err, BPRT_E_DATA,
                              "%scolumn %ld: class label '%s' is %s, the first row's is %s", where,
                              c + 1, quote(q, fstart[c], flen[c]),
                              label_name ? "a name" : "not a name",
                              label_name ? "an index" : "a name");
                else if (label_name)
                    rc = name_label(err, where, c, fstart[c], flen[c], spec->classes, &nm,
                                    &tb.label[tb.rows]);
                else
                    rc = parse_label(err, where, c, fstart[c], flen[c], spec->classes,
                                     &tb.label[tb.rows]);
                continue;
            }
            double v;
            int why = parse_number(fstart[c], flen[c], &v);
            if (why)
                rc = bad_number(err, where, c, fstart[c], flen[c], why);
            else if (is_target)
                t[c - lay.first_target] = v;
            else
                *x++ = v;
        }
        tb.rows++;
    }
    free(fstart);
    free(flen);
    if (rc == BPRT_OK && tb.rows == 0)
        rc = fail(err, BPRT_E_DATA, "%s: no data rows", name);
    if (rc != BPRT_OK) {
        free(tb.x);
        free(tb.t);
        free(tb.label);
        names_free(&nm);
        return rc;
    }
    d->rows = (int)tb.rows;
    d->inputs = lay.inputs;
    d->outputs = lay.labels ? 0 : lay.targets;
    d->x = tb.x;
    d->t = tb.t;
    d->label = tb.label;
    d->header = header_cols >= 0;
    if (named == 1 && !nm.given)
        rc = names_finish(name, &nm, spec->classes, d, err);
    names_free(&nm);
    if (rc == BPRT_OK && lay.labels)
        rc = bprt_data_one_hot(d, spec->classes, err);
    if (rc != BPRT_OK)
        bprt_data_free(d);
    return rc;
}

int bprt_csv_load(const char *path, const bprt_csv_spec *spec, bprt_data *d, char *err)
{
    *d = (bprt_data){0};
    unsigned char *buf;
    size_t len;
    int rc = read_all(path, &buf, &len, err);
    if (rc != BPRT_OK)
        return rc;
    rc = bprt_csv_parse(path, (const char *)buf, len, spec, d, err);
    free(buf);
    return rc;
}

// ---- IDX (the MNIST files) ----

/* The IDX format (LeCun): two zero bytes, an element type (0x08: unsigned byte), the
 * number of dimensions, each dimension as a big-endian uint32, then the elements. */
typedef struct Idx {
    int ndims;
    uint32_t dims[255];
    uint64_t count; /* elements: the product of the dimensions */
    const unsigned char *data;
} Idx;

static int idx_parse(const char *name, const unsigned char *buf, size_t len, Idx *idx, char *err)
{
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
        return fail(err, BPRT_E_MAGIC, "%s: compressed with gzip; decompress it first (gunzip)",
                    name);
    if (len < 4)
        return fail(err, BPRT_E_TRUNCATED, "%s: truncated IDX header (%zu bytes)", name, len);
    if (buf[0] != 0 || buf[1] != 0)
        return fail(err, BPRT_E_MAGIC, "%s: not an IDX file (magic %02x %02x %02x %02x)", name,
                    buf[0], buf[1], buf[2], buf[3]);
    if (buf[2] != 0x08)
        return fail(err, BPRT_E_DATA,
                    "%s: IDX element type 0x%02x is not supported (only unsigned bytes, 0x08)", name,
                    buf[2]);
    idx->ndims = buf[3];
    if (idx->ndims == 0)
        return fail(err, BPRT_E_DATA, "%s: the IDX header has no dimensions", name);
    size_t header = 4 + 4 * (size_t)idx->ndims;
    if (len < header)
        return fail(err, BPRT_E_TRUNCATED, "%s: truncated IDX header: %d dimensions need %zu bytes, the file has %zu",
                    name, idx->ndims, header, len);
    uint64_t count = 1;
    for (int i = 0; i < idx->ndims; i++) {
        const unsigned char *p = buf + 4 + 4 * i;
        idx->dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (idx->dims[i] == 0)
            return fail(err, BPRT_E_DATA, "%s: IDX dimension %d is 0", name, i + 1);
        if (count > UINT64_MAX / idx->dims[i])
            return fail(err, BPRT_E_DATA, "%s: the IDX dimensions are too large", name);
        count *= idx->dims[i];
    }
    uint64_t have = len - header;
    if (have < count)
        return fail(err, BPRT_E_TRUNCATED,
                    "%s: truncated: the header's dimensions need %llu bytes of data, the file has %llu",
                    name, (unsigned long long)count, (unsigned long long)have);
    if (have > count)
        return fail(err, BPRT_E_DATA,
                    "%s: the header's dimensions need %llu bytes of data, the file has %llu more",
                    name, (unsigned long long)count, (unsigned long long)(have - count));
    idx->count = count;
    idx->data = buf + header;
    return BPRT_OK;
}

int bprt_is_idx(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    unsigned char h[4];
    int idx = fread(h, 1, 4, f) == 4 && h[0] == 0 && h[1] == 0 && h[3] > 0 &&
               (h[2] == 0x08 || h[2] == 0x09 || (h[2] >= 0x0b && h[2] <= 0x0e));
    fclose(f);
    return idx;
}

int bprt_idx_parse(const char *images_name, const unsigned char *images, size_t images_len,
                   const char *labels_name, const unsigned char *labels, size_t labels_len,
                   int classes, bprt_data *d, char *err)
{
    *d = (bprt_data){0};
    Idx im, lb;
    int rc = idx_parse(images_name, images, images_len, &im, err);
    if (rc != BPRT_OK)
        return rc;
    rc = idx_parse(labels_name, labels, labels_len, &lb, err);
    if (rc != BPRT_OK)
        return rc;
    if (lb.ndims != 1)
        return fail(err, BPRT_E_DATA, "%s: expected labels (1 dimension), found %d dimensions",
                    labels_name, lb.ndims);
    uint64_t features = im.count / im.dims[0];
    if (im.dims[0] > INT_MAX || features > INT_MAX)
        return fail(err, BPRT_E_DATA, "%s: too large (%lu samples of %llu values)", images_name,
                    (unsigned long)im.dims[0], (unsigned long long)features);
    if (lb.dims[0] != im.dims[0])
        return fail(err, BPRT_E_DATA, "%s: %lu labels for the %lu images of %s", labels_name,
                    (unsigned long)lb.dims[0], (unsigned long)im.dims[0], images_name);
    int rows = (int)im.dims[0];
    int max_label = 0;
    for (int i = 0; i < rows; i++) {
        if (classes > 0 && lb.data[i] >= classes)
            return fail(err, BPRT_E_DATA,
                        "%s: label %d of sample %d is out of range: there are %d classes, 0 to %d",
                        labels_name, lb.data[i], i + 1, classes, classes - 1);
        if (lb.data[i] > max_label)
            max_label = lb.data[i];
    }
    if (classes <= 0)
        classes = max_label + 1;
    d->x = alloc_array((size_t)rows, (size_t)features, sizeof(double));
    d->label = alloc_array((size_t)rows, 1, sizeof(int));
    if (!d->x || !d->label) {
        bprt_data_free(d);
        return fail(err, BPRT_E_NOMEM, "%s: out of memory", images_name);
    }
    d->rows = rows;
    d->inputs = (int)features;
    for (uint64_t i = 0; i < im.count; i++)
        d->x[i] = im.data[i] / 255.0;
    for (int i = 0; i < rows; i++)
        d->label[i] = lb.data[i];
    return bprt_data_one_hot(d, classes, err);
}

int bprt_idx_load(const char *images, const char *labels, int classes, bprt_data *d, char *err)
{
    *d = (bprt_data){0};
    unsigned char *ib, *lb;
    size_t il, ll;
    int rc = read_all(images, &ib, &il, err);
    if (rc != BPRT_OK)
        return rc;
    rc = read_all(labels, &lb, &ll, err);
    if (rc != BPRT_OK) {
        free(ib);
        return rc;
    }
    rc = bprt_idx_parse(images, ib, il, labels, lb, ll, classes, d, err);
    free(ib);
    free(lb);
    return rc;
}

// ---- what trainers do to a data set ----

int bprt_data_one_hot(bprt_data *d, int classes, char *err)
{
    if (!d->label || classes <= 0)
        return fail(err, BPRT_E_ARG, "one-hot targets need class labels and a class count");
    for (int i = 0; i < d->rows; i++)
        if (d->label[i] < 0 || d->label[i] >= classes)
            return fail(err, BPRT_E_DATA,
                        "sample %d: class label %d is out of range: there are %d classes, 0 to %d",
                        i + 1, d->label[i], classes, classes - 1);
    double *t = alloc_array((size_t)d->rows, (size_t)classes, sizeof(double));
    if (!t)
        return fail(err, BPRT_E_NOMEM, "out of memory");
    for (int i = 0; i < d->rows; i++)
        bprt_one_hot_d(t + (size_t)i * classes, classes, d->label[i]);
    free(d->t);
    d->t = t;
    d->outputs = classes;
    d->classes = classes;
    return BPRT_OK;
}

/* Rows `order[0..count)` of `src` into a new set. */
static int gather(const bprt_data *src, const int *order, int count, bprt_data *out, char *err)
{
    bprt_data d = {.rows = count, .inputs = src->inputs, .outputs = src->outputs,
                   .classes = src->classes};
    size_t xi = (size_t)src->inputs, to = (size_t)src->outputs;
    d.x = alloc_array((size_t)count, xi, sizeof(double));
    d.t = src->t ? alloc_array((size_t)count, to, sizeof(double)) : NULL;
    d.label = src->label ? alloc_array((size_t)count, 1, sizeof(int)) : NULL;
    if (!d.x || (src->t && !d.t) || (src->label && !d.label)) {
        bprt_data_free(&d);
        return fail(err, BPRT_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < count; i++) {
        size_t r = (size_t)order[i];
        memcpy(d.x + i * xi, src->x + r * xi, xi * sizeof(double));
        if (d.t)
            memcpy(d.t + i * to, src->t + r * to, to * sizeof(double));
        if (d.label)
            d.label[i] = src->label[r];
    }
    *out = d;
    return BPRT_OK;
}

int bprt_data_shuffle(bprt_data *d, uint64_t seed, char *err)
{
    int *order = alloc_array((size_t)d->rows, 1, sizeof(int));
    if (!order)
        return fail(err, BPRT_E_NOMEM, "out of memory");
    for (int i = 0; i < d->rows; i++)
        order[i] = i;
    bprt_rng r;
    bprt_rng_seed(&r, seed);
    bprt_shuffle(order, d->rows, &r);
    bprt_data shuffled;
    int rc = gather(d, order, d->rows, &shuffled, err);
    free(order);
    if (rc == BPRT_OK) {
        shuffled.names = d->names; /* the class names stay */
        shuffled.names_size = d->names_size;
        shuffled.header = d->header;
        d->names = NULL;
        bprt_data_free(d);
        *d = shuffled;
    }
    return rc;
}

int bprt_data_slice(const bprt_data *d, int first, int count, bprt_data *out, char *err)
{
    *out = (bprt_data){0};
    if (first < 0 || count < 0 || first > d->rows || count > d->rows - first)
        return fail(err, BPRT_E_ARG, "rows %d to %d are outside the %d rows", first + 1,
                    first + count, d->rows);
    int *order = alloc_array((size_t)count, 1, sizeof(int));
    if (!order)
        return fail(err, BPRT_E_NOMEM, "out of memory");
    for (int i = 0; i < count; i++)
        order[i] = first + i;
    int rc = gather(d, order, count, out, err);
    free(order);
    return rc;
}

int bprt_data_split(const bprt_data *d, double valid_fraction, bprt_data *train, bprt_data *valid,
                    char *err)
{
    *train = *valid = (bprt_data){0};
    if (!(valid_fraction > 0 && valid_fraction < 1))
        return fail(err, BPRT_E_ARG, "the validation fraction must be between 0 and 1, not %g",
                    valid_fraction);
    int nvalid = (int)lround(d->rows * valid_fraction);
    if (nvalid < 1 || nvalid >= d->rows)
        return fail(err, BPRT_E_DATA,
                    "cannot hold out %g of %d rows: both parts need at least one row",
                    valid_fraction, d->rows);
    int rc = bprt_data_slice(d, 0, d->rows - nvalid, train, err);
    if (rc == BPRT_OK)
        rc = bprt_data_slice(d, d->rows - nvalid, nvalid, valid, err);
    if (rc != BPRT_OK)
        bprt_data_free(train);
    return rc;
}

/* Two passes (the mean, then the squared deviations) rather than sums of squares,
 * which cancel catastrophically for features with a large mean. */
void bprt_data_stats(const bprt_data *d, double *mean, double *std)
{
    size_t in = (size_t)d->inputs;
    for (size_t j = 0; j < in; j++) {
        double sum = 0;
        for (size_t i = 0; i < (size_t)d->rows; i++)
            sum += d->x[i * in + j];
        mean[j] = d->rows > 0 ? sum / d->rows : 0;
        double var = 0;
        for (size_t i = 0; i < (size_t)d->rows; i++) {
            double dev = d->x[i * in + j] - mean[j];
            var += dev * dev;
        }
        var = d->rows > 0 ? var / d->rows : 0;
        /* A constant feature (an MNIST border pixel) is only centred. */
        std[j] = var > 1e-24 ? sqrt(var) : 1;
    }
}

void bprt_data_standardize(bprt_data *d, const double *mean, const double *std)
{
    bprt_standardize_d(d->x, d->rows, d->inputs, mean, std);
}

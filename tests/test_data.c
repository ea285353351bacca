/*
 * test_data.c - tests of the runtime's data sets (runtime/data.c): the CSV loader on
 * good files and on each malformed case (messages checked exactly), the IDX loader
 * against hand-built files and each way the header and the length can disagree, and the
 * shuffle, split, standardization and one-hot encoding that trainers apply.
 *
 * Parsers are given exactly-sized heap copies of their input (no NUL after the last
 * byte), so a sanitizer build (make test-sanitize) catches any read past the end.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bprt.h"

// ---- helpers ----

/* Parses `text` (its strlen bytes, copied to a buffer of exactly that size) as "t.csv". */
static int parse(const char *text, bprt_csv_spec spec, bprt_data *d, char *err)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    cr_assert(copy);
    memcpy(copy, text, len);
    err[0] = 0;
    int rc = bprt_csv_parse("t.csv", copy, len, &spec, d, err);
    free(copy);
    return rc;
}

/* Expects the parse to fail with BPRT_E_DATA and exactly `message`. */
static void expect_error(const char *text, bprt_csv_spec spec, const char *message)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    int rc = parse(text, spec, &d, err);
    cr_expect_eq(rc, BPRT_E_DATA, "for %s", text);
    cr_expect_str_eq(err, message);
    cr_expect_null(d.x);
    cr_expect_eq(d.rows, 0);
}

static const bprt_csv_spec regression = {.targets = 1};
static const bprt_csv_spec three_classes = {.classes = 3};

/* A temporary file holding `len` bytes. */
static char *temp_file(const void *bytes, size_t len)
{
    char *path = strdup("/tmp/bpc-data-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, bytes, len), (ssize_t)len);
    close(fd);
    return path;
}

// ---- CSV: good files ----

Test(data, csv_header_and_last_column_target)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse("a,b,y\n1,2,3\n4.5, -6e1 ,7\n", regression, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.rows, 2);
    cr_expect_eq(d.inputs, 2);
    cr_expect_eq(d.outputs, 1);
    cr_expect_null(d.label);
    cr_expect_eq(d.classes, 0);
    const double x[] = {1, 2, 4.5, -60}, t[] = {3, 7};
    for (int i = 0; i < 4; i++)
        cr_expect_eq(d.x[i], x[i]);
    for (int i = 0; i < 2; i++)
        cr_expect_eq(d.t[i], t[i]);
    bprt_data_free(&d);
    cr_expect_null(d.x);
}

Test(data, csv_whitespace_crlf_bom_comments_blank_lines)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    const char *text = "\xEF\xBB\xBF# a comment\r\n\r\n  1\t2   0\r\n3 4 1\r\n\r\n\n   \n";
    cr_assert_eq(parse(text, regression, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.rows, 2);
    cr_expect_eq(d.inputs, 2);
    cr_expect_eq(d.x[3], 4);
    cr_expect_eq(d.t[1], 1);
    bprt_data_free(&d);
}

Test(data, csv_no_final_newline_and_no_header)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    bprt_csv_spec spec = regression;
    spec.header = BPRT_HEADER_NO;
    cr_assert_eq(parse("1,2\n3,4", spec, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.rows, 2);
    cr_expect_eq(d.t[1], 4);
    bprt_data_free(&d);
}

Test(data, csv_forced_header_skips_a_numeric_first_line)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    bprt_csv_spec spec = regression;
    spec.header = BPRT_HEADER_YES;
    cr_assert_eq(parse("1,2\n3,4\n", spec, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.rows, 1);
    cr_expect_eq(d.x[0], 3);
    bprt_data_free(&d);
}

Test(data, csv_class_labels_one_hot)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse("f1,f2,class\n0.5,1,2\n1.5,2,0\n", three_classes, &d, err), BPRT_OK, "%s",
                 err);
    cr_expect_eq(d.rows, 2);
    cr_expect_eq(d.inputs, 2);
    cr_expect_eq(d.outputs, 3);
    cr_expect_eq(d.classes, 3);
    cr_expect_eq(d.label[0], 2);
    cr_expect_eq(d.label[1], 0);
    const double t[] = {0, 0, 1, 1, 0, 0};
    for (int i = 0; i < 6; i++)
        cr_expect_eq(d.t[i], t[i]);
    bprt_data_free(&d);
}

Test(data, csv_label_column_in_the_middle_and_several_targets)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    bprt_csv_spec spec = {.targets = 2, .label_column = 2, .header = BPRT_HEADER_AUTO};
    cr_assert_eq(parse("1,10,20,2,3\n4,40,50,5,6\n", spec, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.inputs, 3);
    cr_expect_eq(d.outputs, 2);
    const double x[] = {1, 2, 3, 4, 5, 6}, t[] = {10, 20, 40, 50};
    for (int i = 0; i < 6; i++)
        cr_expect_eq(d.x[i], x[i]);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(d.t[i], t[i]);
    bprt_data_free(&d);

    spec = (bprt_csv_spec){.classes = 3, .label_column = 1, .inputs = 2};
    cr_assert_eq(parse("2,7,8\n", spec, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.label[0], 2);
    cr_expect_eq(d.x[0], 7);
    bprt_data_free(&d);
}

Test(data, csv_no_targets_for_prediction)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    bprt_csv_spec spec = {.inputs = 3};
    cr_assert_eq(parse("1 2 3\n", spec, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.inputs, 3);
    cr_expect_eq(d.outputs, 0);
    bprt_data_free(&d);
}

/* One line of 100000 columns (about 600 KB): no line length limit. */
Test(data, csv_very_long_line)
{
    enum { COLS = 100000 };
    size_t cap = (size_t)COLS * 8 + 16, len = 0;
    char *text = malloc(cap);
    for (int i = 0; i < COLS; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s%d", i ? "," : "", i % 1000);
    text[len++] = '\n';
    text[len] = 0;
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse(text, regression, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.inputs, COLS - 1);
    cr_expect_eq(d.x[COLS - 2], (COLS - 2) % 1000);
    cr_expect_eq(d.t[0], (COLS - 1) % 1000);
    bprt_data_free(&d);
    free(text);
}

Test(data, csv_many_rows)
{
    size_t cap = 20000 * 16, len = 0;
    char *text = malloc(cap);
    for (int i = 0; i < 20000; i++)
        len += (size_t)snprintf(text + len, cap - len, "%d,%d\n", i, i % 3);
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse(text, three_classes, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.rows, 20000);
    cr_expect_eq(d.x[19999], 19999);
    cr_expect_eq(d.label[19999], 19999 % 3);
    bprt_data_free(&d);
    free(text);
}

Test(data, csv_load_from_file)
{
    char *path = temp_file("x,y\n1,2\n", 8);
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(bprt_csv_load(path, &regression, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.rows, 1);
    bprt_data_free(&d);
    remove(path);
    free(path);
}

// ---- CSV: malformed files ----

Test(data, csv_short_and_long_rows)
{
    expect_error("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n", regression, "t.csv:3: expected 5 columns, found 4");
    expect_error("1,2,3\n1,2,3,4\n", regression, "t.csv:2: expected 3 columns, found 4");
    expect_error("a,b,c\n1,2\n", regression, "t.csv:2: expected 3 columns (as the header), found 2");
    expect_error("1 2 3\n\n4 5\n", regression, "t.csv:3: expected 3 columns, found 2");
}

Test(data, csv_bad_numbers)
{
    expect_error("x,y\n1,2\n3,abc\n", regression, "t.csv:3: column 2: not a number: 'abc'");
    expect_error("1,2\n3x,4\n", regression, "t.csv:2: column 1: not a number: '3x'");
    expect_error("1,2\n1,,2\n", regression, "t.csv:2: expected 2 columns, found 3");
    expect_error("1,2,3\n1,,2\n", regression, "t.csv:2: column 2: empty field");
    expect_error("1,2\n1,inf\n", regression, "t.csv:2: column 2: not a finite number: 'inf'");
    expect_error("1,2\nnan,1\n", regression, "t.csv:2: column 1: not a finite number: 'nan'");
    expect_error("1,2\n1e999,1\n", regression, "t.csv:2: column 1: not a finite number: '1e999'");
    expect_error("1,2\n1,0123456789012345678901234567890123456789x\n", regression,
                 "t.csv:2: column 2: not a number: '012345678901234567890123...'");
}

Test(data, csv_quoted_fields_are_refused)
{
    expect_error("1,2\n\"1\",2\n", regression,
                 "t.csv:2: column 1: quoted fields are not supported (\"1\"); remove the quotes");
}

Test(data, csv_header_with_quotes_is_fine)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse("\"a\",\"b\"\n1,2\n", regression, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.rows, 1);
    bprt_data_free(&d);
}

/* Issue 11: a bad first row was dropped as a "header" and training went on without it.
 * A first line is a header only when every field names a column. */
Test(data, csv_bad_first_row_is_data_not_a_header)
{
    expect_error("nan,2,3\n1,2,3\n", regression, "t.csv:1: column 1: not a finite number: 'nan'");
    expect_error("1,inf,3\n1,2,3\n", regression, "t.csv:1: column 2: not a finite number: 'inf'");
    expect_error("1e400,2,3\n1,2,3\n", regression,
                 "t.csv:1: column 1: not a finite number: '1e400'");
    expect_error(",2,3\n1,2,3\n", regression, "t.csv:1: column 1: empty field");
    expect_error("a,,c\n1,2,3\n", regression, "t.csv:1: column 1: not a number: 'a'");
    expect_error("\"1\",\"2\",\"3\"\n1,2,3\n", regression,
                 "t.csv:1: column 1: quoted fields are not supported (\"1\"); remove the quotes");
    expect_error("1;2;3\n1;2;3\n", regression, "t.csv:1: found 1 columns: too few for 1 target "
                                               "and an input");
    expect_error("x,2,y\n1,2,3\n", regression, "t.csv:1: column 1: not a number: 'x'");
    expect_error("NaN,Inf,y\n1,2,3\n", regression, "t.csv:1: column 1: not a finite number: 'NaN'");
}

Test(data, csv_header_detection)
{
    static const struct {
        const char *line;
        int header;
    } cases[] = {
        {"a,b,y", 1},
        {"sepal_length, sepal width ,class", 1},
        {"\"a\",'b',\"c d\"", 1},
        {"x1 x2 label", 1},
        {"l\xc3\xa4nge,breite", 1},
        {"1,2,3", 0},
        {"nan,2,3", 0},
        {"nan,inf,infinity", 0},
        {"a,1e400", 0},
        {",a,b", 0},
        {"\"1\",\"2\"", 0},
        {"1;2;3", 0},
        {"a,-,b", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        cr_expect_eq(bprt_csv_header(cases[i].line, strlen(cases[i].line)), cases[i].header,
                     "'%s'", cases[i].line);
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse("a,b,y\n1,2,3\n", regression, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.header, 1);
    cr_expect_eq(d.rows, 1);
    bprt_data_free(&d);
    cr_assert_eq(parse("1,2,3\n", regression, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.header, 0);
    bprt_data_free(&d);
}

Test(data, csv_bad_class_labels)
{
    expect_error("1,2,3\n", three_classes,
                 "t.csv:1: column 3: class label 3 is out of range: there are 3 classes, 0 to 2");
    expect_error("1,2,-1\n", three_classes,
                 "t.csv:1: column 3: class label -1 is out of range: there are 3 classes, 0 to 2");
    expect_error("1,2,1.5\n", three_classes,
                 "t.csv:1: column 3: a class label must be a whole number, not '1.5'");
    expect_error("1,2,0\n1,2,two\n", three_classes,
                 "t.csv:2: column 3: class label 'two' is a name, the first row's is an index");
}

/* A label column of names: sorted into classes (label k the k-th name), or read
 * against given names; the names kept by shuffles. */
Test(data, csv_class_names)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse("x,y,species\n1,2,virginica\n3,4,setosa\n5,6,versicolor\n7,8,setosa\n",
                       three_classes, &d, err),
                 BPRT_OK, "%s", err);
    cr_expect_eq(d.rows, 4);
    cr_assert(d.names);
    cr_expect_eq(d.names_size, sizeof "setosa\0versicolor\0virginica");
    cr_expect_eq(memcmp(d.names, "setosa\0versicolor\0virginica", d.names_size), 0);
    cr_expect(d.label[0] == 2 && d.label[1] == 0 && d.label[2] == 1 && d.label[3] == 0);
    cr_expect(d.t[0 * 3 + 2] == 1 && d.t[1 * 3 + 0] == 1 && d.t[2 * 3 + 1] == 1);
    cr_assert_eq(bprt_data_shuffle(&d, 5, err), BPRT_OK, "%s", err);
    cr_expect(d.names && !memcmp(d.names, "setosa\0versicolor\0virginica", d.names_size));
    bprt_data_free(&d);

    bprt_csv_spec given = {.classes = 3, .names = "b\0a\0c\0"};
    cr_assert_eq(parse("1,2,a\n3,4,c\n", given, &d, err), BPRT_OK, "%s", err);
    cr_expect(d.label[0] == 1 && d.label[1] == 2, "the given order, not sorted");
    cr_expect(!d.names, "the names are the caller's");
    bprt_data_free(&d);
    cr_assert_eq(parse("1,2,0\n3,4,2\n", given, &d, err), BPRT_OK, "%s", err);
    cr_expect(d.label[0] == 0 && d.label[1] == 2, "indexes still work");
    bprt_data_free(&d);

    expect_error("1,2,a\n3,4,z\n", given,
                 "t.csv:2: column 3: unknown class 'z': the classes are b, a, c");
    expect_error("1,2,a\n3,4,b\n5,6,c\n7,8,d\n", three_classes,
                 "t.csv:4: column 3: a class name more than the network's 3 classes: 'd' (after "
                 "a, b, c)");
    expect_error("1,2,a\n3,4,b\n", three_classes, "t.csv: 2 class names (a, b), the network has 3 "
                                                 "classes");
    expect_error("1,2,a\n3,4,1\n", three_classes,
                 "t.csv:2: column 3: class label '1' is not a name, the first row's is a name");
}

Test(data, csv_columns_disagree_with_the_network)
{
    bprt_csv_spec spec = {.inputs = 4, .classes = 3};
    expect_error("h1,h2,h3,h4,h5,h6\n1,2,3,4,5,0\n", spec,
                 "t.csv:2: expected 5 columns (4 inputs, 1 label), found 6");
    spec = (bprt_csv_spec){.inputs = 2, .targets = 2};
    expect_error("1,2,3\n", spec, "t.csv:1: expected 4 columns (2 inputs, 2 targets), found 3");
    spec = (bprt_csv_spec){.inputs = 2};
    expect_error("1,2,3\n", spec, "t.csv:1: expected 2 columns (the inputs), found 3");
    spec = (bprt_csv_spec){.targets = 1};
    expect_error("1\n", spec, "t.csv:1: found 1 columns: too few for 1 target and an input");
}

Test(data, csv_label_column_out_of_range)
{
    bprt_csv_spec spec = {.classes = 3, .label_column = 8};
    expect_error("1,2,0\n", spec, "t.csv:1: label column 8 is out of range: the file has 3 columns");
    spec = (bprt_csv_spec){.targets = 2, .label_column = 3};
    expect_error("1,2,3\n", spec,
                 "t.csv:1: label columns 3 to 4 are out of range: the file has 3 columns");
}

Test(data, csv_no_rows)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_expect_eq(parse("", regression, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "t.csv: no data rows");
    cr_expect_eq(parse("a,b\n\n", regression, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "t.csv: no data rows");
    cr_expect_eq(parse("\xEF\xBB\xBF", regression, &d, err), BPRT_E_DATA);
}

Test(data, csv_binary_file)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    const char text[] = "1,2\n3,\0\n";
    char *copy = malloc(sizeof text - 1);
    memcpy(copy, text, sizeof text - 1);
    cr_expect_eq(bprt_csv_parse("t.csv", copy, sizeof text - 1, &regression, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "t.csv:2: a NUL byte: this is not a text file");
    free(copy);
}

Test(data, csv_missing_file)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_expect_eq(bprt_csv_load("/nonexistent/x.csv", &regression, &d, err), BPRT_E_OPEN);
    cr_expect_str_eq(err, "/nonexistent/x.csv: cannot open: No such file or directory");
}

Test(data, csv_row)
{
    double v[4];
    int count;
    char err[BPRT_ERR_SIZE];
    cr_expect_eq(bprt_csv_row("1, 2,3", 6, v, 4, &count, err), BPRT_OK);
    cr_expect_eq(count, 3);
    cr_expect_eq(v[2], 3);
    cr_expect_eq(bprt_csv_row(" 4  5 ", 6, v, 4, &count, err), BPRT_OK);
    cr_expect_eq(count, 2);
    cr_expect_eq(v[1], 5);
    cr_expect_eq(bprt_csv_row("1 2 3 4 5", 9, v, 4, &count, err), BPRT_E_DATA);
    cr_expect_eq(count, 5);
    cr_expect_str_eq(err, "expected 4 columns, found 5");
    cr_expect_eq(bprt_csv_row("1,x", 3, v, 4, &count, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "column 2: not a number: 'x'");
    /* the length bounds the line: "1,2" of "1,2,3" */
    cr_expect_eq(bprt_csv_row("1,2,3", 3, v, 4, &count, err), BPRT_OK);
    cr_expect_eq(count, 2);
}

// ---- IDX ----

/* An IDX header of unsigned bytes with the given dimensions, then `data_len` bytes
 * counting up from `first`.  Returns the total length. */
static size_t idx_build(unsigned char *buf, int ndims, const uint32_t *dims, size_t data_len,
                        int first)
{
    buf[0] = buf[1] = 0;
    buf[2] = 0x08;
    buf[3] = (unsigned char)ndims;
    for (int i = 0; i < ndims; i++)
        for (int k = 0; k < 4; k++)
            buf[4 + 4 * i + k] = (unsigned char)(dims[i] >> (24 - 8 * k));
    size_t h = 4 + 4 * (size_t)ndims;
    for (size_t i = 0; i < data_len; i++)
        buf[h + i] = (unsigned char)(first + i);
    return h + data_len;
}

/* Parses exactly-sized copies of the two buffers. */
static int idx_parse(const unsigned char *im, size_t il, const unsigned char *lb, size_t ll,
                     int classes, bprt_data *d, char *err)
{
    unsigned char *a = malloc(il ? il : 1), *b = malloc(ll ? ll : 1);
    memcpy(a, im, il);
    memcpy(b, lb, ll);
    err[0] = 0;
    int rc = bprt_idx_parse("img", a, il, "lbl", b, ll, classes, d, err);
    free(a);
    free(b);
    return rc;
}

Test(data, idx_good)
{
    unsigned char im[64], lb[16];
    size_t il = idx_build(im, 3, (const uint32_t[]){3, 2, 2}, 12, 250);
    size_t ll = idx_build(lb, 1, (const uint32_t[]){3}, 3, 0); /* labels 0, 1, 2 */
    im[16] = 0;
    im[17] = 255;
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(idx_parse(im, il, lb, ll, 4, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.rows, 3);
    cr_expect_eq(d.inputs, 4);
    cr_expect_eq(d.outputs, 4);
    cr_expect_eq(d.classes, 4);
    cr_expect_eq(d.x[0], 0);
    cr_expect_eq(d.x[1], 1);
    cr_expect(fabs(d.x[2] - 252 / 255.0) < 1e-15);
    cr_expect_eq(d.label[2], 2);
    cr_expect_eq(d.t[2 * 4 + 2], 1);
    cr_expect_eq(d.t[2 * 4 + 3], 0);
    bprt_data_free(&d);

    /* classes 0: the largest label + 1 */
    cr_assert_eq(idx_parse(im, il, lb, ll, 0, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.classes, 3);
    bprt_data_free(&d);
}

Test(data, idx_malformed)
{
    unsigned char im[64], lb[16];
    size_t il = idx_build(im, 3, (const uint32_t[]){3, 2, 2}, 12, 0);
    size_t ll = idx_build(lb, 1, (const uint32_t[]){3}, 3, 0);
    bprt_data d;
    char err[BPRT_ERR_SIZE];

    cr_expect_eq(idx_parse(im, 3, lb, ll, 10, &d, err), BPRT_E_TRUNCATED);
    cr_expect_str_eq(err, "img: truncated IDX header (3 bytes)");
    cr_expect_eq(idx_parse(im, 10, lb, ll, 10, &d, err), BPRT_E_TRUNCATED);
    cr_expect_str_eq(err, "img: truncated IDX header: 3 dimensions need 16 bytes, the file has 10");
    cr_expect_eq(idx_parse(im, il - 1, lb, ll, 10, &d, err), BPRT_E_TRUNCATED);
    cr_expect_str_eq(err, "img: truncated: the header's dimensions need 12 bytes of data, the file has 11");

    unsigned char bad[64];
    memcpy(bad, im, il);
    bad[0] = 'P';
    cr_expect_eq(idx_parse(bad, il, lb, ll, 10, &d, err), BPRT_E_MAGIC);
    cr_expect_str_eq(err, "img: not an IDX file (magic 50 00 08 03)");
    memcpy(bad, "\x1f\x8b\x08\x00", 4);
    cr_expect_eq(idx_parse(bad, il, lb, ll, 10, &d, err), BPRT_E_MAGIC);
    cr_expect_str_eq(err, "img: compressed with gzip; decompress it first (gunzip)");
    memcpy(bad, im, il);
    bad[2] = 0x0d;
    cr_expect_eq(idx_parse(bad, il, lb, ll, 10, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "img: IDX element type 0x0d is not supported (only unsigned bytes, 0x08)");
    bad[2] = 0x08;
    bad[3] = 0;
    cr_expect_eq(idx_parse(bad, il, lb, ll, 10, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "img: the IDX header has no dimensions");

    /* dimensions that disagree with the length: 3x2x2 said to be 4x2x2, or 2x2x2 */
    size_t n = idx_build(bad, 3, (const uint32_t[]){4, 2, 2}, 12, 0);
    cr_expect_eq(idx_parse(bad, n, lb, ll, 10, &d, err), BPRT_E_TRUNCATED);
    cr_expect_str_eq(err, "img: truncated: the header's dimensions need 16 bytes of data, the file has 12");
    n = idx_build(bad, 3, (const uint32_t[]){2, 2, 2}, 12, 0);
    cr_expect_eq(idx_parse(bad, n, lb, ll, 10, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "img: the header's dimensions need 8 bytes of data, the file has 4 more");
    n = idx_build(bad, 3, (const uint32_t[]){3, 0, 2}, 12, 0);
    cr_expect_eq(idx_parse(bad, n, lb, ll, 10, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "img: IDX dimension 2 is 0");
    /* a product that overflows 64 bits must not wrap around to the length */
    n = idx_build(bad, 3, (const uint32_t[]){0xffffffffu, 0xffffffffu, 0xffffffffu}, 12, 0);
    cr_expect_eq(idx_parse(bad, n, lb, ll, 10, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "img: the IDX dimensions are too large");
}

Test(data, idx_labels_disagree)
{
    unsigned char im[64], lb[32];
    size_t il = idx_build(im, 3, (const uint32_t[]){3, 2, 2}, 12, 0);
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    size_t ll = idx_build(lb, 1, (const uint32_t[]){2}, 2, 0);
    cr_expect_eq(idx_parse(im, il, lb, ll, 10, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "lbl: 2 labels for the 3 images of img");
    ll = idx_build(lb, 2, (const uint32_t[]){3, 1}, 3, 0);
    cr_expect_eq(idx_parse(im, il, lb, ll, 10, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "lbl: expected labels (1 dimension), found 2 dimensions");
    ll = idx_build(lb, 1, (const uint32_t[]){3}, 3, 8); /* 8, 9, 10 */
    cr_expect_eq(idx_parse(im, il, lb, ll, 10, &d, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "lbl: label 10 of sample 3 is out of range: there are 10 classes, 0 to 9");
    cr_expect_null(d.x);
}

Test(data, idx_files)
{
    unsigned char im[64], lb[16];
    size_t il = idx_build(im, 2, (const uint32_t[]){2, 3}, 6, 0);
    size_t ll = idx_build(lb, 1, (const uint32_t[]){2}, 2, 1);
    char *ip = temp_file(im, il), *lp = temp_file(lb, ll), *cp = temp_file("1,2\n", 4);
    cr_expect(bprt_is_idx(ip));
    cr_expect(bprt_is_idx(lp));
    cr_expect(!bprt_is_idx(cp));
    cr_expect(!bprt_is_idx("/nonexistent"));
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(bprt_idx_load(ip, lp, 3, &d, err), BPRT_OK, "%s", err);
    cr_expect_eq(d.rows, 2);
    cr_expect_eq(d.inputs, 3);
    cr_expect_eq(d.label[1], 2);
    bprt_data_free(&d);
    cr_expect_eq(bprt_idx_load(ip, "/nonexistent/l", 3, &d, err), BPRT_E_OPEN);
    cr_expect_str_eq(err, "/nonexistent/l: cannot open: No such file or directory");
    remove(ip);
    remove(lp);
    remove(cp);
    free(ip);
    free(lp);
    free(cp);
}

// ---- shuffle, split, standardize, one-hot ----

/* Ten rows: x = (i, 10 i), label i % 3, one-hot. */
static bprt_data ten_rows(void)
{
    char text[256];
    size_t len = 0;
    for (int i = 0; i < 10; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%d,%d,%d\n", i, 10 * i, i % 3);
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse(text, three_classes, &d, err), BPRT_OK, "%s", err);
    return d;
}

Test(data, shuffle_keeps_rows_whole)
{
    bprt_data d = ten_rows(), e = ten_rows();
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(bprt_data_shuffle(&d, 1, err), BPRT_OK);
    cr_assert_eq(bprt_data_shuffle(&e, 1, err), BPRT_OK);
    int seen = 0, moved = 0;
    for (int r = 0; r < 10; r++) {
        int i = (int)d.x[2 * r];
        cr_expect_eq(d.x[2 * r + 1], 10 * i);
        cr_expect_eq(d.label[r], i % 3);
        cr_expect_eq(d.t[3 * r + i % 3], 1);
        cr_expect_eq(e.x[2 * r], d.x[2 * r], "the same seed, the same order");
        seen |= 1 << i;
        moved += i != r;
    }
    cr_expect_eq(seen, 0x3ff, "a permutation");
    cr_expect_gt(moved, 0);
    bprt_data_free(&d);
    bprt_data_free(&e);
}

Test(data, split_and_slice)
{
    bprt_data d = ten_rows(), train, valid;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(bprt_data_split(&d, 0.2, &train, &valid, err), BPRT_OK, "%s", err);
    cr_expect_eq(train.rows, 8);
    cr_expect_eq(valid.rows, 2);
    cr_expect_eq(valid.x[0], 8);
    cr_expect_eq(valid.label[1], 9 % 3);
    cr_expect_eq(valid.classes, 3);
    cr_expect_eq(d.rows, 10, "the source is left as it was");
    bprt_data_free(&train);
    bprt_data_free(&valid);

    cr_expect_eq(bprt_data_split(&d, 0.01, &train, &valid, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "cannot hold out 0.01 of 10 rows: both parts need at least one row");
    cr_expect_eq(bprt_data_split(&d, 1, &train, &valid, err), BPRT_E_ARG);
    cr_expect_eq(bprt_data_slice(&d, 8, 3, &train, err), BPRT_E_ARG);
    cr_expect_str_eq(err, "rows 9 to 11 are outside the 10 rows");
    cr_expect_eq(bprt_data_slice(&d, 10, 0, &train, err), BPRT_OK);
    cr_expect_eq(train.rows, 0);
    bprt_data_free(&train);
    bprt_data_free(&d);
}

Test(data, standardize)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse("1,5,0\n2,5,0\n3,5,0\n4,5,0\n", regression, &d, err), BPRT_OK);
    double mean[2], std[2];
    bprt_data_stats(&d, mean, std);
    cr_expect_eq(mean[0], 2.5);
    cr_expect(fabs(std[0] - sqrt(1.25)) < 1e-15);
    cr_expect_eq(mean[1], 5);
    cr_expect_eq(std[1], 1, "a constant input is only centred");
    bprt_data_standardize(&d, mean, std);
    double sum = 0, sq = 0;
    for (int r = 0; r < 4; r++) {
        sum += d.x[2 * r];
        sq += d.x[2 * r] * d.x[2 * r];
        cr_expect_eq(d.x[2 * r + 1], 0);
    }
    cr_expect(fabs(sum) < 1e-15);
    cr_expect(fabs(sq / 4 - 1) < 1e-15);
    bprt_data_free(&d);
}

/* A large mean does not cancel the variance away (two passes, not sums of squares). */
Test(data, standardize_large_offset)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse("1e9,0\n1000000001,0\n1000000002,0\n", regression, &d, err), BPRT_OK);
    double mean, std;
    bprt_data_stats(&d, &mean, &std);
    cr_expect_eq(mean, 1000000001);
    cr_expect(fabs(std - sqrt(2.0 / 3)) < 1e-9);
    bprt_data_free(&d);
}

Test(data, one_hot)
{
    bprt_data d;
    char err[BPRT_ERR_SIZE];
    cr_assert_eq(parse("1,2\n3,4\n", regression, &d, err), BPRT_OK);
    cr_expect_eq(bprt_data_one_hot(&d, 3, err), BPRT_E_ARG, "no labels");
    d.label = malloc(2 * sizeof(int));
    d.label[0] = 2;
    d.label[1] = 0;
    cr_assert_eq(bprt_data_one_hot(&d, 3, err), BPRT_OK);
    cr_expect_eq(d.outputs, 3);
    cr_expect_eq(d.t[2], 1);
    cr_expect_eq(d.t[3], 1);
    cr_expect_eq(d.t[4], 0);
    cr_expect_eq(bprt_data_one_hot(&d, 2, err), BPRT_E_DATA);
    cr_expect_str_eq(err, "sample 1: class label 2 is out of range: there are 2 classes, 0 to 1");
    bprt_data_free(&d);
}

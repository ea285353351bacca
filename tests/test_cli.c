/*
 * test_cli.c - the bpc command line: options, exit statuses (0 success, 1 errors in
 * the model, 2 usage or I/O errors), output files, and that a failed run writes
 * nothing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define BPC BPC_TOP "/build/bpc"

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/bpc-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(cli, .init = make_dir, .fini = remove_dir);

static int bpc(const char *args, char **out, char **err)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s && %s %s", dir, BPC, args);
    return run_cmd(cmd, out, err);
}

static const char good[] = "network tiny { input 2; dense 3 tanh; dense 1 sigmoid; "
                           "loss binary_cross_entropy; }\n";

static void put(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cr_assert(write_text(path, text));
}

static bool exists(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

Test(cli, help_and_version)
{
    char *out, *err;
    cr_assert_eq(bpc("--help", &out, &err), 0);
    cr_assert(strstr(out, "usage: bpc [options] FILE.bp"));
    cr_assert(strstr(out, "--unroll N"));
    free(out);
    free(err);
    cr_assert_eq(bpc("-h", NULL, NULL), 0);
    cr_assert_eq(bpc("--version", &out, NULL), 0);
    cr_assert_str_eq(out, "bpc " BPC_VERSION "\n");
    free(out);
}

Test(cli, usage_errors_exit_2)
{
    char *err;
    cr_assert_eq(bpc("", NULL, &err), 2);
    cr_assert(strstr(err, "bpc: error: no input file"));
    free(err);
    cr_assert_eq(bpc("--frobnicate x.bp", NULL, &err), 2);
    cr_assert(strstr(err, "bpc: error: unknown option '--frobnicate'"));
    free(err);
    cr_assert_eq(bpc("--unroll", NULL, &err), 2);
    cr_assert(strstr(err, "option '--unroll' needs an argument"));
    free(err);
    cr_assert_eq(bpc("--unroll -3 x.bp", NULL, &err), 2);
    cr_assert(strstr(err, "--unroll takes a whole number >= 0, not '-3'"));
    free(err);
    cr_assert_eq(bpc("a.bp b.bp", NULL, &err), 2);
    cr_assert(strstr(err, "more than one input file ('b.bp')"));
    free(err);
    cr_assert_eq(bpc("- < /dev/null", NULL, &err), 2);
    cr_assert(strstr(err, "reading standard input needs -o FILE"));
    free(err);
}

Test(cli, missing_file_exits_2)
{
    char *err;
    cr_assert_eq(bpc("nope.bp", NULL, &err), 2);
    cr_assert_str_eq(err, "bpc: error: cannot open 'nope.bp': No such file or directory\n");
    free(err);
    cr_assert_eq(bpc(".", NULL, &err), 2);
    cr_assert(strstr(err, "bpc: error: cannot read '.'"));
    free(err);
}

Test(cli, check_only_writes_nothing)
{
    put("tiny.bp", good);
    char *out, *err;
    cr_assert_eq(bpc("--check tiny.bp", &out, &err), 0);
    cr_assert_str_eq(out, "");
    cr_assert_str_eq(err, "");
    cr_assert(!exists("tiny.c"));
    cr_assert(!exists("tiny.h"));
    free(out);
    free(err);
}

Test(cli, model_errors_exit_1_and_write_nothing)
{
    put("bad.bp", "network bad { input 2; dense 3 rellu; loss mse; }\n");
    char *err;
    cr_assert_eq(bpc("bad.bp", NULL, &err), 1);
    cr_assert(strstr(err, "bad.bp:1:32: error: unknown activation 'rellu'\n"));
    cr_assert(!exists("bad.c"));
    cr_assert(!exists("bad.h"));
    free(err);
}

Test(cli, standard_input)
{
    char *err;
    cr_assert_eq(bpc("--check - < /dev/null", NULL, &err), 1);
    cr_assert_str_eq(err, "<stdin>:1:1: error: no network in this file\n");
    free(err);
    put("tiny.bp", good);
    cr_assert_eq(bpc("--check - < tiny.bp", NULL, NULL), 0);
}

Test(cli, writes_c_and_header)
{
    put("tiny.bp", good);
    cr_assert_eq(bpc("tiny.bp", NULL, NULL), 0);
    cr_assert(exists("tiny.c"));
    cr_assert(exists("tiny.h"));
    cr_assert_eq(bpc("tiny.bp -o out/../named.c", NULL, NULL), 2); /* no such directory */
    cr_assert(!exists("named.c"));
    cr_assert_eq(bpc("tiny.bp -o named.c", NULL, NULL), 0);
    cr_assert(exists("named.c"));
    cr_assert(exists("named.h"));
    char path[128];
    snprintf(path, sizeof path, "%s/named.c", dir);
    char *c = read_file(path, NULL);
    cr_assert(strstr(c, "#include \"named.h\""));
    free(c);
    cr_assert_eq(bpc("- -o fromstdin.c < tiny.bp", NULL, NULL), 0);
    cr_assert(exists("fromstdin.h"));
}

Test(cli, werror)
{
    put("w.bp", "network w { input 2; dense 1 softmax; loss mse; }\n");
    char *err;
    cr_assert_eq(bpc("--check w.bp", NULL, &err), 0);
    cr_assert(strstr(err, "warning:"));
    free(err);
    cr_assert_eq(bpc("--check -Werror w.bp", NULL, &err), 1);
    cr_assert(strstr(err, "error:"));
    free(err);
}

Test(cli, dump_ast)
{
    put("tiny.bp", good);
    char *out;
    cr_assert_eq(bpc("--dump-ast tiny.bp", &out, NULL), 0);
    cr_assert(!strncmp(out, "network tiny 1:9\n1:16 input 2\n", 30));
    free(out);
}

/* The IR as a table: the header line, then one row per node with its input, shape,
 * tensors at their offsets, buffers (d@K: the union its d shares) and the decisions
 * made for it. */
Test(cli, dump_ir)
{
    put("ir.bp", "network ir { input 3; h: dense 4 tanh; dense 2; loss mse; }\n");
    char *out;
    cr_assert_eq(bpc("--dump-ir ir.bp", &out, NULL), 0);
    cr_expect_str_eq(out,
        "network ir: input 3, 26 parameters, batch 1, float, scratch 4, chunks 0\n"
        "#   label            kind     input        shape        params                     "
        "        buffers    flags\n"
        "0   h                dense    input        4            W[4][3]@0 b[4]@12          "
        "        z,a,d@1    unrolled act-backward act=tanh scratch=4\n"
        "1   dense2           dense    h            2            W[2][4]@16 b[2]@24         "
        "        z,a,d@0    unrolled needs-dx act=identity scratch=4\n");
    free(out);
    cr_assert_eq(bpc("--dump-ir --unroll 0 ir.bp", &out, NULL), 0);
    cr_expect(strstr(out, "z,a,d@1    act-backward dw-tiles act=tanh"), "%s", out);
    cr_expect(strstr(out, "z,a,d@0    needs-dx dx-tiles dw-tiles act=identity"), "%s", out);
    free(out);
}

/* --check -v: each layer's output shape and parameter count. */
Test(cli, check_verbose)
{
    put("v.bp", "network v { input 1x6x6; c: conv2d 2 kernel = 3 relu; maxpool 2; dense 3;"
                " loss mse; }\n");
    char *out;
    cr_assert_eq(bpc("--check -v v.bp", &out, NULL), 0);
    cr_expect_str_eq(out, "layer            kind     output       parameters\n"
                          "(input)                   1x6x6        0\n"
                          "c                conv2d   2x4x4        20\n"
                          "maxpool2         maxpool  2x2x2        0\n"
                          "dense3           dense    3            27\n"
                          "3 layers, 47 parameters\n");
    free(out);
}

Test(cli, examples_pass_check)
{
    char *out, *err;
    int status = run_cmd("for f in " BPC_TOP "/examples/*.bp; do " BPC " --check \"$f\" || exit 1; done",
                         &out, &err);
    cr_assert_eq(status, 0, "%s", err);
    cr_assert_str_eq(err, "");
    free(out);
    free(err);
}

/* Reads a file of the test directory back (freed by the caller). */
static char *get(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return read_file(path, NULL);
}

/* An output that is the input, under any name, or a C file named as a header: exit 2,
 * and the input is as it was, nothing written. */
Test(cli, refuses_outputs_that_replace_the_input)
{
    put("same.bp", good);
    char link_cmd[256];
    snprintf(link_cmd, sizeof link_cmd, "cd %s && ln -s same.bp link.c && ln same.bp hard.h && "
                                        "cp same.bp in.c.tmp && : > a.c && ln a.c a.h", dir);
    cr_assert_eq(system(link_cmd), 0);
    static const struct {
        const char *args, *message;
    } refused[] = {
        {"same.bp -o same.bp", "bpc: error: writing 'same.bp' would overwrite the input 'same.bp'\n"},
        {"same.bp -o ./same.bp", "bpc: error: writing './same.bp' would overwrite the input 'same.bp'\n"},
        {"same.bp -o link.c", "bpc: error: writing 'link.c' would overwrite the input 'same.bp'\n"},
        {"same.bp -o hard.c", "bpc: error: writing 'hard.h' would overwrite the input 'same.bp'\n"},
        {"- -o same.bp < same.bp", "bpc: error: writing 'same.bp' would overwrite the input '<stdin>'\n"},
        {"in.c.tmp -o in.c", "bpc: error: writing 'in.c.tmp' would overwrite the input 'in.c.tmp'\n"},
        {"same.bp -o x.h", "bpc: error: '-o x.h' would write the C source into a header's name; "
                           "give the .c file's name (the header is written beside it)\n"},
        {"same.bp -o a.c", "bpc: error: 'a.c' and 'a.h' are the same file; the C source and "
                           "the header need one each\n"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char *err;
        cr_expect_eq(bpc(refused[i].args, NULL, &err), 2, "bpc %s", refused[i].args);
        cr_expect_str_eq(err, refused[i].message, "bpc %s", refused[i].args);
        free(err);
        char *text = get("same.bp");
        cr_assert_str_eq(text, good, "bpc %s changed the input", refused[i].args);
        free(text);
        text = get("a.c");
        cr_assert_str_eq(text, "", "bpc %s wrote a.c", refused[i].args);
        free(text);
    }
    static const char *const never_written[] = {"same.bp.h", "hard.c", "x.h", "x.h.h", "in.c", "in.h"};
    for (size_t i = 0; i < sizeof never_written / sizeof *never_written; i++)
        cr_expect(!exists(never_written[i]), "%s was written", never_written[i]);
    /* Under another name the same input compiles. */
    cr_assert_eq(bpc("same.bp -o other.c", NULL, NULL), 0);
    cr_assert(exists("other.h"));
}

/* An output that is not a file (a pipe here; /dev/null as root once) is refused: the
 * temporary file renamed into place would have replaced it with a file. */
Test(cli, refuses_outputs_that_are_not_files)
{
    put("same.bp", good);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cd %s && mkfifo pipe.c && mkfifo p2.h", dir);
    cr_assert_eq(system(cmd), 0);
    static const struct {
        const char *args, *path;
    } refused[] = {{"same.bp -o pipe.c", "pipe.c"}, {"same.bp -o p2.c", "p2.h"}};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char *err, expected[256];
        snprintf(expected, sizeof expected, "bpc: error: '%s' is not a regular file; bpc writes "
                 "the C source and its header as files (--check checks a model without "
                 "writing)\n", refused[i].path);
        cr_expect_eq(bpc(refused[i].args, NULL, &err), 2, "bpc %s", refused[i].args);
        cr_expect_str_eq(err, expected, "bpc %s", refused[i].args);
        free(err);
        struct stat st;
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, refused[i].path);
        cr_assert_eq(stat(path, &st), 0);
        cr_expect(S_ISFIFO(st.st_mode), "bpc %s replaced the pipe", refused[i].args);
    }
    cr_expect(!exists("p2.c"), "p2.c was written");
}

/* --unroll has a ceiling, and the unrolled layers of a model hold at most BPC_MAX_UNROLL
 * weights in all: a model that would unroll more gets its largest layers as loops. */
Test(cli, unroll_is_capped)
{
    put("tiny.bp", good);
    char *err;
    cr_assert_eq(bpc("--unroll 4097 tiny.bp", NULL, &err), 2);
    cr_assert_str_eq(err, "bpc: error: --unroll is at most 4096, not '4097': straight-line code "
                          "of that size takes C compilers minutes\n"
                          "Try 'bpc --help' for more information.\n");
    free(err);
    cr_assert(!exists("tiny.c"));

    /* 64·64 + 64·64 + 64·10 = 8832 weights: only the last layer stays unrolled. */
    put("w.bp", "network w { input 64; dense 64 relu; dense 64 relu; dense 10 softmax; "
                "loss cross_entropy; }\n");
    cr_assert_eq(bpc("--unroll 4096 w.bp", NULL, &err), 0);
    cr_assert_str_eq(err, "bpc: warning: --unroll 4096 would unroll 8832 weights, more than the "
                          "limit of 4096; layers of more than 640 weights are loops\n");
    free(err);
    char *c = get("w.c");
    cr_assert(strstr(c, " * Layers with at most 640 weights are unrolled"));
    cr_assert(strstr(c, "// ---- layer dense1: 64 -> 64, relu ----\n"));
    cr_assert(strstr(c, "// ---- layer dense3: 64 -> 10, softmax, unrolled ----\n"));
    free(c);

    /* Within the limit (63·64 + 64 = 4096), --unroll is as given. */
    put("v.bp", "network v { input 63; dense 64 relu; dense 1 sigmoid; loss binary_cross_entropy; }\n");
    cr_assert_eq(bpc("--unroll 4096 v.bp", NULL, &err), 0);
    cr_assert_str_eq(err, "");
    free(err);
    c = get("v.c");
    cr_assert(strstr(c, "// ---- layer dense1: 63 -> 64, relu, unrolled ----\n"));
    free(c);
}

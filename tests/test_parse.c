/*
 * test_parse.c - the scanner and the grammar: every statement and option parsed into
 * the expected syntax tree, syntax errors with their exact messages and positions,
 * error recovery, and hostile inputs that must end in a clean error.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void expect_ast(const char *src, const char *ast)
{
    FrontResult r = front_run_str(src, false);
    cr_assert_str_eq(r.diags, "");
    cr_assert(r.parsed);
    cr_assert_str_eq(r.ast, ast);
    front_free(&r);
}

static void expect_diags(const char *src, const char *diags)
{
    FrontResult r = front_run_str(src, false);
    cr_assert_str_eq(r.diags, diags);
    cr_assert(!r.parsed);
    front_free(&r);
}

Test(parse, every_statement)
{
    expect_ast("network mnist {\n"
               "    input 784;\n"
               "    hidden: dense 128 relu init = he_normal;\n"
               "    dense 10 softmax;\n"
               "    loss cross_entropy;\n"
               "    optimizer sgd(lr = 0.1, momentum = 0.9, nesterov = 1);\n"
               "    init uniform(a = 0.5);\n"
               "    batch 32;\n"
               "    precision double;\n"
               "    seed 42;\n"
               "}\n",
               "network mnist 1:9\n"
               "2:5 input 784\n"
               "3:13 dense 128 relu init=he_normal label=hidden\n"
               "4:5 dense 10 softmax\n"
               "5:5 loss cross_entropy\n"
               "6:5 optimizer sgd(lr=0.1, momentum=0.9, nesterov=1)\n"
               "7:5 init uniform(a=0.5)\n"
               "8:5 batch 32\n"
               "9:5 precision double\n"
               "10:5 seed 42\n");
}

Test(parse, dense_forms)
{
    expect_ast("network n { input 2; dense 3; dense 4 leaky_relu(alpha = 0.2); "
               "out: dense 1 init = normal(std = 1e-3); dense 5 elu() init = xavier_uniform; }",
               "network n 1:9\n"
               "1:13 input 2\n"
               "1:22 dense 3\n"
               "1:31 dense 4 leaky_relu(alpha=0.2)\n"
               "1:69 dense 1 init=normal(std=0.001) label=out\n"
               "1:104 dense 5 elu init=xavier_uniform\n");
}

Test(parse, numbers)
{
    expect_ast("network n { seed 18446744073709551615; batch 1e3; "
               "optimizer adam(lr = .5, eps = 1E-8, beta1 = 0., weight_decay = -2.5e+1); }",
               "network n 1:9\n"
               "1:13 seed 18446744073709551615\n"
               "1:40 batch 1e+03\n"
               "1:51 optimizer adam(lr=0.5, eps=1e-08, beta1=0, weight_decay=-25)\n");
}

Test(parse, huge_numbers_are_flagged_not_crashing)
{
    FrontResult r = front_run_str("network n { seed 99999999999999999999999; batch 1e999; }", false);
    cr_assert(r.parsed);
    cr_assert_str_eq(r.ast, "network n 1:9\n1:13 seed 1e+23\n1:43 batch inf\n");
    front_free(&r);
}

Test(parse, comments)
{
    expect_ast("# hash\n// slashes\nnetwork /* inline */ n {\n/* multi\n line */ input 1; # end\n}\n",
               "network n 3:22\n5:10 input 1\n");
}

/* Reported just after the token the ';' should follow, as Clang does, not at the start
 * of the next line. */
Test(parse, missing_semicolon)
{
    expect_diags("network x {\n  input 784\n  dense 3 relu;\n}\n",
                 "t.bp:2:12: error: expected ';' after number '784'\n"
                 "    2 |   input 784\n"
                 "      |            ^\n");
    expect_diags("network x {\n  input 4;\n  dense 3 relu // a comment\n  loss mse;\n}\n",
                 "t.bp:3:15: error: expected ';', 'init' or '(' after identifier 'relu'\n"
                 "    3 |   dense 3 relu // a comment\n"
                 "      |               ^\n");
}

/* A word that starts no statement, or no layer after a label, is named as such, with
 * the likely typo; the parser goes on at the next ';'. */
Test(parse, unknown_statement_and_layer_kind)
{
    expect_diags("network x {\n"
                 "  input 4;\n"
                 "  optimiser sgd(lr = 0.1);\n"
                 "  dens 10;\n"
                 "  hidden: dens 10 relu;\n"
                 "  frobnicate;\n"
                 "  out: conv 3;\n"
                 "  dense 3\n"
                 "}\n",
                 "t.bp:3:3: error: unknown statement 'optimiser'\n"
                 "    3 |   optimiser sgd(lr = 0.1);\n"
                 "      |   ^~~~~~~~~\n"
                 "t.bp:3:3: note: did you mean 'optimizer'?\n"
                 "t.bp:4:3: error: unknown statement 'dens'\n"
                 "    4 |   dens 10;\n"
                 "      |   ^~~~\n"
                 "t.bp:4:3: note: did you mean 'dense'?\n"
                 "t.bp:5:11: error: unknown layer kind 'dens'\n"
                 "    5 |   hidden: dens 10 relu;\n"
                 "      |           ^~~~\n"
                 "t.bp:5:11: note: did you mean 'dense'?\n"
                 "t.bp:6:3: error: unknown statement 'frobnicate'\n"
                 "    6 |   frobnicate;\n"
                 "      |   ^~~~~~~~~~\n"
                 "t.bp:6:3: note: a statement begins with one of: input, dense, loss, optimizer, "
                 "init, batch, precision, seed\n"
                 "t.bp:7:8: error: unknown layer kind 'conv'\n"
                 "    7 |   out: conv 3;\n"
                 "      |        ^~~~\n"
                 "t.bp:7:8: note: the layer kinds are: dense\n"
                 "t.bp:8:10: error: expected ';', 'init' or identifier after number '3'\n"
                 "    8 |   dense 3\n"
                 "      |          ^\n");
    /* A label without its ':' is still a missing ':'. */
    expect_diags("network x { hidden dense 3; }",
                 "t.bp:1:20: error: expected ':' before 'dense'\n"
                 "    1 | network x { hidden dense 3; }\n"
                 "      |                    ^~~~~\n");
}

Test(parse, expected_list_names_tokens)
{
    expect_diags("network x { optimizer sgd(lr=); }",
                 "t.bp:1:30: error: expected number or '-' before ')'\n"
                 "    1 | network x { optimizer sgd(lr=); }\n"
                 "      |                              ^\n");
    expect_diags("network x { loss mse }",
                 "t.bp:1:21: error: expected ';' or '(' after identifier 'mse'\n"
                 "    1 | network x { loss mse }\n"
                 "      |                     ^\n");
    expect_diags("network { }",
                 "t.bp:1:9: error: expected identifier before '{'\n"
                 "    1 | network { }\n"
                 "      |         ^\n");
    expect_diags("network x { input 3; dense 4;\n",
                 "t.bp:2:1: error: expected a statement or '}' before end of file\n"
                 "    2 | \n"
                 "      | ^\n");
    expect_diags("network x { input 2; dense 2 relu = 3; }",
                 "t.bp:1:34: error: expected ';', 'init' or '(' after identifier 'relu'\n"
                 "    1 | network x { input 2; dense 2 relu = 3; }\n"
                 "      |                                  ^\n");
}

Test(parse, several_errors_in_one_run)
{
    expect_diags("network x {\n"
                 "  input 4\n"
                 "  dense 3 relu;\n"
                 "  dense 12abc;\n"
                 "  loss @@ mse;\n"
                 "  optimizer sgd(lr=);\n"
                 "}\n",
                 "t.bp:2:10: error: expected ';' after number '4'\n"
                 "    2 |   input 4\n"
                 "      |          ^\n"
                 "t.bp:4:9: error: invalid number '12abc'\n"
                 "    4 |   dense 12abc;\n"
                 "      |         ^~~~~\n"
                 "t.bp:5:8: error: invalid characters '@@'\n"
                 "    5 |   loss @@ mse;\n"
                 "      |        ^~\n"
                 "t.bp:6:20: error: expected number or '-' before ')'\n"
                 "    6 |   optimizer sgd(lr=);\n"
                 "      |                    ^\n");
}

Test(parse, error_limit)
{
    char src[4096] = "network x {\n";
    for (int i = 0; i < 30; i++)
        strcat(src, "  dense $;\n");
    strcat(src, "}\n");
    FrontResult r = front_run_str(src, false);
    cr_assert_eq(r.errors, 20);
    cr_assert(strstr(r.diags, "t.bp: error: too many errors (20); stopping\n"));
    cr_assert(!strstr(r.diags, "t.bp:22:"));
    front_free(&r);
}

Test(parse, one_network_per_file)
{
    expect_diags("network x { input 1; }\nnetwork y { input 2; }\n",
                 "t.bp:2:9: error: only one network per file\n"
                 "    2 | network y { input 2; }\n"
                 "      |         ^\n"
                 "t.bp:1:9: note: the first network is 'x'\n"
                 "    1 | network x { input 1; }\n"
                 "      |         ^\n");
}

Test(parse, keywords_are_reserved)
{
    expect_diags("network x { loss: dense 3; }",
                 "t.bp:1:17: error: expected identifier before ':'\n"
                 "    1 | network x { loss: dense 3; }\n"
                 "      |                 ^\n");
}

// ---- hostile input ----

Test(parse, empty_file)
{
    /* At 1:1 like every other error, for editors and CI; a file without a line quotes none. */
    expect_diags("", "t.bp:1:1: error: no network in this file\n");
    expect_diags("\xEF\xBB\xBF", "t.bp:1:1: error: no network in this file\n");
    expect_diags("# only a comment\n\n",
                 "t.bp:1:1: error: no network in this file\n"
                 "    1 | # only a comment\n"
                 "      | ^\n");
    expect_diags("\xEF\xBB\xBF  \n/* nothing */\n",
                 "t.bp:1:1: error: no network in this file\n"
                 "    1 |   \n"
                 "      | ^\n");
}

/* A UTF-8 byte order mark at the start is skipped: columns count from the first byte
 * after it, and the quoted line leaves it out so the caret stays under the token. */
Test(parse, byte_order_mark)
{
    expect_ast("\xEF\xBB\xBFnetwork x { input 1; }\n", "network x 1:9\n1:13 input 1\n");
    expect_diags("\xEF\xBB\xBFnetwork x { input; }",
                 "t.bp:1:18: error: expected number or '-' before ';'\n"
                 "    1 | network x { input; }\n"
                 "      |                  ^\n");
    /* Only at the start of the file: elsewhere it is an invalid character. */
    expect_diags("network x { \xEF\xBB\xBF }",
                 "t.bp:1:13: error: invalid characters '\\xEF\\xBB\\xBF'\n"
                 "    1 | network x { \xEF\xBB\xBF }\n"
                 "      |             ^~~\n");
}

Test(parse, unterminated_comment)
{
    expect_diags("network x { input 3; /* never closed\n\n",
                 "t.bp:1:22: error: unterminated comment\n"
                 "    1 | network x { input 3; /* never closed\n"
                 "      |                      ^~\n");
}

Test(parse, nul_byte)
{
    const char src[] = "network x {\0 input 3; }";
    FrontResult r = front_run("t.bp", src, sizeof src - 1, false);
    cr_assert_str_eq(r.diags, "t.bp:1:12: error: invalid character '\\x00'\n"
                              "    1 | network x {  input 3; }\n"
                              "      |            ^\n");
    front_free(&r);
}

Test(parse, control_bytes_are_not_echoed)
{
    FrontResult r = front_run_str("network x { \x1b[31m }", false);
    cr_assert(strstr(r.diags, "error: invalid characters '\\x1B['"));
    cr_assert(!strchr(r.diags, '\x1b'));
    front_free(&r);
}

Test(parse, long_identifier)
{
    size_t n = 100000;
    char *src = malloc(n + 64);
    strcpy(src, "network ");
    memset(src + 8, 'a', n);
    strcpy(src + 8 + n, " { input 3; }");
    FrontResult r = front_run_str(src, false);
    cr_assert(!strncmp(r.diags, "t.bp:1:9: error: identifier is 100000 bytes long; the limit is 63\n", 66));
    /* The quoted line is cut around the caret, not 100 KB long. */
    cr_assert_lt(strlen(r.diags), 400);
    front_free(&r);
    free(src);
}

Test(parse, binary_garbage, .timeout = 30)
{
    size_t n = 10 * 1024 * 1024;
    char *src = malloc(n + 1);
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        src[i] = (char)(s >> 56);
    }
    src[n] = '\0';
    FrontResult r = front_run("t.bp", src, n, false);
    cr_assert(!r.parsed);
    cr_assert_gt(r.errors, 0);
    cr_assert_leq(r.errors, 20);
    front_free(&r);
    free(src);
}

Test(parse, ten_megabytes_of_statements, .timeout = 30)
{
    const char *stmt = "dense 4 relu;\n";
    size_t count = 10 * 1024 * 1024 / strlen(stmt);
    char *src = malloc(count * strlen(stmt) + 64);
    char *p = src + sprintf(src, "network x {\n");
    for (size_t i = 0; i < count; i++)
        p += sprintf(p, "%s", stmt);
    sprintf(p, "}\n");
    FrontResult r = front_run_str(src, false);
    cr_assert(r.parsed);
    cr_assert_str_eq(r.diags, "");
    front_free(&r);
    free(src);
}

Test(parse, reentrant)
{
    /* Two front ends alive at once, interleaved, and again after both are freed. */
    FrontResult a = front_run_str("network a { input 1; dense 2; }", false);
    FrontResult b = front_run_str("network b { input 3 }", false);
    cr_assert(a.parsed);
    cr_assert(!b.parsed);
    cr_assert_str_eq(a.ast, "network a 1:9\n1:13 input 1\n1:22 dense 2\n");
    front_free(&a);
    front_free(&b);
    expect_ast("network c { input 5; }", "network c 1:9\n1:13 input 5\n");
}

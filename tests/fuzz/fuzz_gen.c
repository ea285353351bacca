/*
 * fuzz_gen.c - libFuzzer target: the full pipeline, arbitrary bytes to emitted C text
 * (parse, check, gen_c into memory), as `bpc [--main] FILE.bp` runs it.  The oracle
 * besides the sanitizers: a model the checker accepted must generate, and its C text
 * must have balanced braces and parentheses outside comments and string literals.
 *
 * Built and run by `make fuzz` (docs/TESTING.md); seeds in tests/fuzz/corpus/gen/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Braces and parentheses balance outside comments, strings and character constants. */
static bool balanced(const char *s, size_t n)
{
    long brace = 0, paren = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *end = strstr(s + i + 2, "*/");
            if (!end)
                return false;
            i = (size_t)(end - s) + 1;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (c == '"' || c == '\'') {
            for (i++; i < n && s[i] != c; i++)
                if (s[i] == '\\')
                    i++;
            if (i >= n)
                return false;
        } else if (c == '{' || c == '}') {
            brace += c == '{' ? 1 : -1;
        } else if (c == '(' || c == ')') {
            paren += c == '(' ? 1 : -1;
        }
        if (brace < 0 || paren < 0)
            return false;
    }
    return brace == 0 && paren == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w")))
        abort();

    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    Source src = {.name = "fuzz.bp", .text = text, .size = size};
    Diag d;
    diag_init(&d, &src, sink);
    Arena arena = {0};

    Network *net = parse_network(&arena, &d, &src);
    Model m;
    if (net && !diag_failed(&d) && check_network(&arena, &d, net, &m) && !diag_failed(&d)) {
        char *c_text = NULL, *h_text = NULL;
        size_t c_size = 0, h_size = 0;
        FILE *c_out = open_memstream(&c_text, &c_size);
        FILE *h_out = open_memstream(&h_text, &h_size);
        if (!c_out || !h_out)
            abort();
        /* The unroll threshold and --main from the input's last bytes, so that every
         * shape of the output is reached. */
        GenOptions opt = {.unroll = size > 1 && (data[size - 1] & 1) ? 0 : 256,
                          .header_name = "fuzz.h",
                          .main = size > 2 && (data[size - 2] & 1)};
        bool ok = gen_c(&m, &opt, c_out, h_out);
        if (fclose(c_out) != 0 || fclose(h_out) != 0)
            abort();
        if (!ok) {
            fprintf(stderr, "fuzz_gen: gen_c failed on a model the checker accepted\n");
            abort();
        }
        if (!balanced(c_text, c_size) || !balanced(h_text, h_size)) {
            fprintf(stderr, "fuzz_gen: unbalanced braces or parentheses in the output\n");
            abort();
        }
        free(c_text);
        free(h_text);
    }
    arena_free(&arena);
    free(text);
    return 0;
}

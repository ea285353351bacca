/*
 * fuzz_front.c - libFuzzer target: the whole front end (scan, parse, check) on
 * arbitrary bytes, as `bpc --check` runs it.  Diagnostics are formatted for real (into
 * /dev/null), so the quoting of source lines and carets is exercised too.
 *
 * Built and run by `make fuzz` (docs/TESTING.md); seeds in tests/fuzz/corpus/front/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w")))
        abort();

    /* The source as bpc's read_source gives it: the bytes, then a NUL. */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    Source src = {.name = "fuzz.bp", .text = text, .size = size};
    Diag d;
    diag_init(&d, &src, sink);
    d.werror = size > 0 && (data[0] & 1); /* either way: warnings turned into errors */
    Arena arena = {0};

    Network *net = parse_network(&arena, &d, &src);
    if (net && !diag_failed(&d)) {
        ast_dump(sink, net);
        Model m;
        bool ok = check_network(&arena, &d, net, &m);
        /* check_network's answer must agree with what it reported. */
        if (ok != (d.errors == 0))
            abort();
    }
    arena_free(&arena);
    free(text);
    return 0;
}

/*
 * badcount.c - what the generated functions call when given a sample count outside
 * 1..BATCH: a message on stderr, then abort.  Alone in its object file and a weak
 * symbol, so that a firmware defines its own (docs/API.md) and links no stdio.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bprt.h"

#if defined(__GNUC__)
__attribute__((weak))
#endif
void bprt_bad_count(const char *function, int n, int batch)
{
    fprintf(stderr, "%s: n = %d is outside 1..%d\n", function, n, batch);
    abort();
}

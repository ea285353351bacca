/*
 * emitcheck.c - the driver of tests/test_emit.c: misuses the emitter of compiler/emit.c
 * (built with -DNDEBUG, as a release bpc may be) in the way a bug in an emitter would,
 * and prints "returned" if it comes back instead of stopping with an internal error.
 *
 *   emitcheck balanced|close|close_with|long_close_with
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpc.h"

/* abort() ends here, exit status 3 (see countcheck.c). */
static void on_abort(int sig)
{
    (void)sig;
    _Exit(3);
}

int main(int argc, char **argv)
{
    signal(SIGABRT, on_abort);
    if (argc != 2)
        return 2;
    Emit e;
    emit_init(&e, stdout);
    char text[512];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    if (!strcmp(argv[1], "balanced")) {
        emit_open(&e, "if (a)");
        emit_close_with(&e, " else {");
        emit_close(&e);
        emit_end(&e);
    } else if (!strcmp(argv[1], "close")) {
        emit_close(&e); /* a '}' without its '{' */
    } else if (!strcmp(argv[1], "close_with")) {
        emit_close_with(&e, " else {");
    } else if (!strcmp(argv[1], "long_close_with")) {
        emit_open(&e, "if (a)");
        emit_close_with(&e, "%s", text); /* longer than the emitter's buffer */
    } else {
        return 2;
    }
    printf("returned\n");
    return 0;
}

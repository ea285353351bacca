/*
 * test_emit.c - the emitter (compiler/emit.c): what a bug in an emitter does to it (a
 * '}' without its '{', text too long for emit_close_with) stops bpc with an internal
 * error, also when bpc is built with -DNDEBUG, where an assert would let it write
 * before or past its buffers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genutil.h"

Test(emit, misuse_is_an_internal_error_under_ndebug)
{
    GenDir d;
    cr_assert(gen_dir_make(&d));
    cr_assert(gen_copy(&d, "tests/drivers/emitcheck.c"));
    cr_assert_eq(gen_build(&d, "cc", "-O2 -DNDEBUG -D_POSIX_C_SOURCE=200809L -I'" BPC_TOP "/compiler'",
                           "emitcheck.c '" BPC_TOP "/compiler/emit.c' '" BPC_TOP "/compiler/diag.c'",
                           "emitcheck"),
                 0);
    char *out = NULL;
    int status = gen_run(&d, "emitcheck balanced 2>&1", &out);
    cr_expect(status == 0 && out && strstr(out, "} else {\n") && strstr(out, "returned"),
              "balanced: status %d, output:\n%s", status, out ? out : "");
    bool ok = status == 0;
    free(out);
    static const struct {
        const char *use, *message;
    } misuses[] = {
        {"close", "a '}' without its '{'"},
        {"close_with", "a '}' without its '{'"},
        {"long_close_with", "the text after a '}' is 511 bytes; the limit is 255"},
    };
    for (size_t i = 0; i < sizeof misuses / sizeof *misuses; i++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "emitcheck %s 2>&1", misuses[i].use);
        out = NULL;
        status = gen_run(&d, cmd, &out);
        bool stopped = status == 3 && out && strstr(out, "bpc: internal error at ") &&
                       strstr(out, misuses[i].message) && !strstr(out, "returned");
        cr_expect(stopped, "%s: status %d, output:\n%s", misuses[i].use, status, out ? out : "");
        ok &= stopped;
        free(out);
    }
    if (ok)
        gen_dir_remove(&d);
}

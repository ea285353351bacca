/*
 * testutil.h - helpers shared by the Criterion tests: run the front end in-process
 * on a string and capture what it printed, run a command and capture its output.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "bpc.h"

/* What one run of the front end produced; free with front_free. */
typedef struct FrontResult {
    char *diags;  /* everything the diagnostics printed */
    char *ast;    /* ast_dump of the network, or NULL when none was parsed */
    bool parsed;  /* a network was parsed without errors */
    bool checked; /* ... and check_network succeeded (only when asked to check) */
    Model model;  /* valid when checked, until front_free */
    int errors, warnings;
    Arena arena;
} FrontResult;

/* Parses `len` bytes of `text` as file `name`; checks the model too when `check`. */
FrontResult front_run(const char *name, const char *text, size_t len, bool check);
FrontResult front_run_str(const char *text, bool check); /* name "t.bp", strlen(text) */
void front_free(FrontResult *r);

/* Runs `cmd` with sh -c, returns its exit status, stores its stdout and stderr
 * (either may be NULL when not wanted; free them). */
int run_cmd(const char *cmd, char **out, char **err);

/* Reads a whole file, NUL-terminated; NULL if it cannot. */
char *read_file(const char *path, size_t *len);
bool write_text(const char *path, const char *text);

#endif

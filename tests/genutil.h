/*
 * genutil.h - helpers for the tests of the generated code: compile .bp text to C in a
 * temporary directory (in-process: parse, check, gen_c), build it with cc and a driver
 * from tests/drivers/, run it and capture what it printed.
 */
#ifndef GENUTIL_H
#define GENUTIL_H

#include <stdbool.h>

/* A temporary directory for one test's files. */
typedef struct GenDir {
    char path[64];
} GenDir;

bool gen_dir_make(GenDir *d);     /* /tmp/bpc-gen-XXXXXX */
void gen_dir_remove(GenDir *d);   /* and everything in it */

/* "<dir>/<file>" into a static-free caller buffer of `size` bytes. */
const char *gen_path(const GenDir *d, const char *file, char *buf, unsigned size);

/* Copies <top>/<file> (a driver, an example's C file) into the directory. */
bool gen_copy(const GenDir *d, const char *file);

/* Writes <dir>/<base>.c and <dir>/<base>.h from `bp` (the network must be named so that
 * its files are <base>.*).  `unroll` as bpc's --unroll.  On failure prints the
 * diagnostics to stderr and returns false. */
bool gen_model(const GenDir *d, const char *base, const char *bp, long unroll);

/* Runs, in the directory, `cc -std=c99 -Wall -Wextra -pedantic -Werror FLAGS -I. -I<top>/runtime
 * -I<top>/tests/drivers SOURCES <top>/build/libbprt.a -lm -lpthread -o EXE`.  Returns cc's
 * exit status; on failure its output goes to stderr. */
int gen_build(const GenDir *d, const char *cc, const char *flags, const char *sources,
              const char *exe);

/* Runs `<dir>/<cmd>` in the directory; returns its exit status and its standard output
 * in *out (free it; may be NULL when not wanted).  Standard error passes through. */
int gen_run(const GenDir *d, const char *cmd, char **out);

#endif

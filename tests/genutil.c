/*
 * genutil.c - helpers for the tests of the generated code (see genutil.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "genutil.h"
#include "testutil.h"

bool gen_dir_make(GenDir *d)
{
    snprintf(d->path, sizeof d->path, "/tmp/bpc-gen-XXXXXX");
    return mkdtemp(d->path) != NULL;
}

void gen_dir_remove(GenDir *d)
{
    char cmd[128];
    if (!d->path[0] || strncmp(d->path, "/tmp/bpc-gen-", 13))
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    if (system(cmd) != 0)
        fprintf(stderr, "genutil: could not remove %s\n", d->path);
}

bool gen_copy(const GenDir *d, const char *file)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp '%s/%s' '%s/'", BPC_TOP, file, d->path);
    return system(cmd) == 0;
}

const char *gen_path(const GenDir *d, const char *file, char *buf, unsigned size)
{
    snprintf(buf, size, "%s/%s", d->path, file);
    return buf;
}

bool gen_model(const GenDir *d, const char *base, const char *bp, long unroll)
{
    FrontResult r = front_run_str(bp, true);
    if (!r.checked) {
        fprintf(stderr, "genutil: the test network does not compile:\n%s\n%s", bp,
                r.diags ? r.diags : "");
        front_free(&r);
        return false;
    }
    char c_path[256], h_path[256], h_name[128];
    snprintf(c_path, sizeof c_path, "%s/%s.c", d->path, base);
    snprintf(h_path, sizeof h_path, "%s/%s.h", d->path, base);
    snprintf(h_name, sizeof h_name, "%s.h", base);
    FILE *c = fopen(c_path, "w"), *h = fopen(h_path, "w");
    GenOptions opt = {.unroll = unroll, .header_name = h_name};
    bool ok = c && h && gen_c(&r.model, &opt, c, h);
    if (c && fclose(c) != 0)
        ok = false;
    if (h && fclose(h) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "genutil: gen_c failed for %s\n", base);
    front_free(&r);
    return ok;
}

int gen_build(const GenDir *d, const char *cc, const char *flags, const char *sources,
              const char *exe)
{
    size_t need = strlen(sources) + strlen(flags) + 1024;
    char *cmd = malloc(need);
    snprintf(cmd, need,
             "cd '%s' && %s -std=c99 -Wall -Wextra -pedantic -Werror %s -I. -I'%s/runtime' "
             "-I'%s/tests/drivers' %s '%s/build/libbprt.a' -lm -lpthread -o %s",
             d->path, cc, flags, BPC_TOP, BPC_TOP, sources, BPC_TOP, exe);
    char *out = NULL, *err = NULL;
    int status = run_cmd(cmd, &out, &err);
    if (status != 0)
        fprintf(stderr, "genutil: build failed (%d): %s\n%s%s", status, cmd, out ? out : "",
                err ? err : "");
    free(out);
    free(err);
    free(cmd);
    return status;
}

int gen_run(const GenDir *d, const char *cmd, char **out)
{
    size_t need = strlen(cmd) + 256;
    char *full = malloc(need);
    snprintf(full, need, "cd '%s' && ./%s", d->path, cmd);
    char *err = NULL;
    int status = run_cmd(full, out, &err);
    if (err && *err)
        fputs(err, stderr);
    free(err);
    free(full);
    return status;
}

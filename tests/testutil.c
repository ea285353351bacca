/*
 * testutil.c - helpers shared by the tests (see testutil.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

FrontResult front_run(const char *name, const char *text, size_t len, bool check)
{
    FrontResult r = {0};
    size_t diag_len = 0, ast_len = 0;
    FILE *diag_out = open_memstream(&r.diags, &diag_len);
    Source src = {.name = name, .text = text, .size = len};
    Diag d;
    diag_init(&d, &src, diag_out);
    Network *net = parse_network(&r.arena, &d, &src);
    if (net && !diag_failed(&d)) {
        r.parsed = true;
        FILE *ast_out = open_memstream(&r.ast, &ast_len);
        ast_dump(ast_out, net);
        fclose(ast_out);
        if (check)
            r.checked = check_network(&r.arena, &d, net, &r.model) && !diag_failed(&d);
    }
    fclose(diag_out);
    r.errors = d.errors;
    r.warnings = d.warnings;
    return r;
}

FrontResult front_run_str(const char *text, bool check)
{
    return front_run("t.bp", text, strlen(text), check);
}

void front_free(FrontResult *r)
{
    free(r->diags);
    free(r->ast);
    arena_free(&r->arena);
}

char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, mem);
    fclose(f);
    fclose(mem);
    if (len)
        *len = size;
    return buf;
}

bool write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

int run_cmd(const char *cmd, char **out, char **err)
{
    char out_path[] = "/tmp/bpc-test-outXXXXXX", err_path[] = "/tmp/bpc-test-errXXXXXX";
    int fo = mkstemp(out_path), fe = mkstemp(err_path);
    close(fo);
    close(fe);
    size_t need = strlen(cmd) + sizeof out_path + sizeof err_path + 32;
    char *full = malloc(need);
    snprintf(full, need, "(%s) >%s 2>%s", cmd, out_path, err_path);
    int status = system(full);
    free(full);
    if (out)
        *out = read_file(out_path, NULL);
    if (err)
        *err = read_file(err_path, NULL);
    remove(out_path);
    remove(err_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

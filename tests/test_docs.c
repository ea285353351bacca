/*
 * test_docs.c - what docs/HOW-IT-WORKS.md quotes is what bpc emits.  Every network of the
 * page (a fenced block beginning with "network") is compiled as `bpc NAME.bp` would
 * (default --unroll), and every ```c block must appear, line for line, in the C source or
 * the header of one of them.  A line "... words ..." in a block is a cut: it stands for
 * any number of lines.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define PAGE BPC_TOP "/docs/HOW-IT-WORKS.md"

enum { MAX_BLOCKS = 64, MAX_NETS = 8 };

typedef struct Lines {
    char **line;
    int n;
} Lines;

/* Splits `text` (NUL-terminated, modified) into its lines. */
static Lines split(char *text)
{
    Lines l = {0};
    int cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    l.line = malloc((size_t)cap * sizeof *l.line);
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        l.line[l.n++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    return l;
}

static bool is_cut(const char *line)
{
    line += strspn(line, " ");
    size_t n = strlen(line);
    return n >= 6 && !strncmp(line, "... ", 4) && !strcmp(line + n - 4, " ...");
}

/* Whether block lines [b, end) match output lines from o on, cuts matching any run. */
static bool match_from(const Lines *blk, int b, int end, const Lines *out, int o)
{
    if (b == end)
        return true;
    if (is_cut(blk->line[b])) {
        for (int k = o; k <= out->n; k++)
            if (match_from(blk, b + 1, end, out, k))
                return true;
        return false;
    }
    return o < out->n && !strcmp(blk->line[b], out->line[o]) && match_from(blk, b + 1, end, out, o + 1);
}

static bool appears(const Lines *blk, int begin, int end, const Lines *out)
{
    for (int o = 0; o < out->n; o++)
        if (match_from(blk, begin, end, out, o))
            return true;
    return false;
}

/* The C source and the header of `bp` as `bpc` writes them by default, one after the
 * other. */
static char *emit(const char *bp)
{
    FrontResult r = front_run_str(bp, true);
    cr_assert(r.checked, "a network of the page does not compile:\n%s\n%s", bp, r.diags);
    char *text = NULL, *h_text = NULL;
    size_t size = 0, h_size = 0;
    FILE *c = open_memstream(&text, &size), *h = open_memstream(&h_text, &h_size);
    GenOptions opt = {.unroll = 256, .header_name = "model.h"};
    cr_assert(gen_c(&r.model, &opt, c, h));
    fputs(h_text ? h_text : "", c);
    fclose(c);
    fclose(h);
    free(h_text);
    front_free(&r);
    return text;
}

Test(docs, how_it_works_quotes_what_bpc_emits)
{
    char *page = read_file(PAGE, NULL);
    cr_assert(page, "cannot read %s", PAGE);
    Lines doc = split(page);
    char *emitted[MAX_NETS];
    Lines out[MAX_NETS];
    int nnets = 0, nblocks = 0;
    int begin[MAX_BLOCKS], end[MAX_BLOCKS];
    for (int i = 0; i < doc.n; i++) {
        if (strncmp(doc.line[i], "```", 3))
            continue;
        const char *lang = doc.line[i] + 3;
        int close = i + 1;
        while (close < doc.n && strcmp(doc.line[close], "```"))
            close++;
        cr_assert_lt(close, doc.n, "%s:%d: the block is not closed", PAGE, i + 1);
        if (!strcmp(lang, "c")) {
            cr_assert_lt(nblocks, MAX_BLOCKS);
            begin[nblocks] = i + 1;
            end[nblocks++] = close;
        } else if (!*lang && close > i + 1 && !strncmp(doc.line[i + 1], "network ", 8)) {
            cr_assert_lt(nnets, MAX_NETS);
            char *bp = NULL;
            size_t size = 0;
            FILE *f = open_memstream(&bp, &size);
            for (int k = i + 1; k < close; k++)
                fprintf(f, "%s\n", doc.line[k]);
            fclose(f);
            emitted[nnets] = emit(bp);
            out[nnets] = split(emitted[nnets]);
            nnets++;
            free(bp);
        }
        i = close;
    }
    /* at least the page's three networks and twelve quotes: a broken fence must not hide one */
    cr_assert_geq(nnets, 3, "%d networks found in %s", nnets, PAGE);
    cr_assert_geq(nblocks, 12, "%d C blocks found in %s", nblocks, PAGE);
    for (int b = 0; b < nblocks; b++) {
        bool found = false;
        for (int k = 0; k < nnets && !found; k++)
            found = appears(&doc, begin[b], end[b], &out[k]);
        cr_expect(found, "%s:%d: this block is not what bpc emits for the page's networks:\n%s",
                  PAGE, begin[b], doc.line[begin[b]]);
    }
    for (int k = 0; k < nnets; k++) {
        free(out[k].line);
        free(emitted[k]);
    }
    free(doc.line);
    free(page);
}

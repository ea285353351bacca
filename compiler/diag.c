/*
 * diag.c - the one diagnostics sink, in the format of GCC and Clang:
 *
 *   model.bp:3:23: error: unknown activation 'rellu'
 *       3 |     hidden: dense 128 rellu;
 *         |                       ^~~~~
 *   model.bp:3:23: note: did you mean 'relu'?
 *
 * It counts errors and warnings and never exits; after BPC_MAX_ERRORS errors it says
 * so once and drops everything that follows (the parser then stops).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bpc.h"

/* Source lines longer than this are shown as a window around the caret. */
enum { SHOW_CONTEXT = 60 };

void diag_init(Diag *d, const Source *src, FILE *out)
{
    *d = (Diag){.src = src, .out = out};
}

size_t diag_source_start(const Source *src)
{
    return src->size >= 3 && !memcmp(src->text, "\xEF\xBB\xBF", 3) ? 3 : 0;
}

bool diag_failed(const Diag *d)
{
    return d->errors > 0 || (d->werror && d->warnings > 0);
}

/* Prints bytes of the source line as they are, but control bytes as spaces so that
 * a NUL or an escape sequence cannot garble the terminal or the caret line. */
static void show_bytes(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c < 0x20 && c != '\t' ? ' ' : c == 0x7f ? ' ' : c, out);
    }
}

static void show_source(const Diag *d, Loc loc)
{
    const char *text = d->src->text;
    size_t size = d->src->size;
    if (loc.offset > size)
        return;
    size_t first = diag_source_start(d->src);
    if (size == first)
        return; /* no line to quote */
    size_t start = loc.offset, end = loc.offset;
    while (start > first && text[start - 1] != '\n')
        start--;
    while (end < size && text[end] != '\n')
        end++;
    size_t len = loc.len;
    if (len > end - loc.offset)
        len = end > loc.offset ? end - loc.offset : 1; /* a token spanning lines */

    /* A window of the line around the token, with "..." where it is cut. */
    size_t from = loc.offset - start > SHOW_CONTEXT ? loc.offset - SHOW_CONTEXT : start;
    size_t shown_len = len > SHOW_CONTEXT ? SHOW_CONTEXT : len;
    size_t to = end - (loc.offset + shown_len) > SHOW_CONTEXT && end > loc.offset + shown_len
                    ? loc.offset + shown_len + SHOW_CONTEXT
                    : end;
    const char *lead = from > start ? "..." : "";

    fprintf(d->out, "%5d | %s", loc.line, lead);
    show_bytes(d->out, text + from, to - from);
    fprintf(d->out, "%s\n      | %s", to < end ? "..." : "", *lead ? "   " : "");
    for (size_t i = from; i < loc.offset; i++)
        fputc(text[i] == '\t' ? '\t' : ' ', d->out);
    fputc('^', d->out);
    for (size_t i = 1; i < shown_len; i++)
        fputc('~', d->out);
    fputc('\n', d->out);
}

typedef enum { ERROR, WARNING, NOTE } Severity;

/* The location of the last diagnostic shown, so a note about the same token does not
 * quote the source line twice. */
static bool same_loc(Loc a, Loc b)
{
    return a.offset == b.offset && a.len == b.len;
}

static void report(Diag *d, Severity sev, Loc loc, const char *fmt, va_list ap)
{
    static const char *const names[] = {"error", "warning", "note"};
    if (sev == ERROR && d->errors >= BPC_MAX_ERRORS) {
        if (!d->stopped)
            fprintf(d->out, "%s: error: too many errors (%d); stopping\n", d->src->name,
                    BPC_MAX_ERRORS);
        d->stopped = true;
    }
    if (d->stopped)
        return;
    if (sev == ERROR)
        d->errors++;
    if (sev == WARNING)
        d->warnings++;
    if (sev == WARNING && d->werror)
        sev = ERROR;

    fprintf(d->out, "%s:%d:%d: ", d->src->name, loc.line, loc.col);
    fprintf(d->out, "%s: ", names[sev]);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    if (!(sev == NOTE && d->has_last && same_loc(loc, d->last)))
        show_source(d, loc);
    if (sev != NOTE) {
        d->last = loc;
        d->has_last = true;
    }
}

#define REPORT(d, sev, loc, fmt)       \
    do {                               \
        va_list ap;                    \
        va_start(ap, fmt);             \
        report(d, sev, loc, fmt, ap);  \
        va_end(ap);                    \
    } while (0)

void diag_error(Diag *d, Loc loc, const char *fmt, ...) { REPORT(d, ERROR, loc, fmt); }
void diag_warning(Diag *d, Loc loc, const char *fmt, ...) { REPORT(d, WARNING, loc, fmt); }
void diag_note(Diag *d, Loc loc, const char *fmt, ...) { REPORT(d, NOTE, loc, fmt); }

void internal_error(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bpc: internal error at %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputs("\nplease report this as a bug\n", stderr);
    va_end(ap);
    abort();
}

// ---- did you mean ----

/* Edit distance (insertions, deletions, substitutions, adjacent transpositions),
 * ignoring case.  Words are identifiers, at most BPC_MAX_IDENT bytes apart from the
 * user's, which is cut there. */
static int distance(const char *a, const char *b)
{
    enum { N = BPC_MAX_IDENT + 1 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= N)
        la = N - 1;
    if (lb >= N)
        lb = N - 1;
    int dp[N + 1][N + 1];
    for (size_t i = 0; i <= la; i++)
        dp[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        dp[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int best = dp[i - 1][j - 1] + cost;
            if (dp[i - 1][j] + 1 < best)
                best = dp[i - 1][j] + 1;
            if (dp[i][j - 1] + 1 < best)
                best = dp[i][j - 1] + 1;
            if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                dp[i - 2][j - 2] + 1 < best)
                best = dp[i - 2][j - 2] + 1;
            dp[i][j] = best;
        }
    }
    return dp[la][lb];
}

const char *diag_closest(const char *word, const char *const *names)
{
    const char *best = NULL;
    int best_d = 0;
    int limit = (int)strlen(word) / 3;
    if (limit < 1)
        limit = 1;
    for (const char *const *n = names; *n; n++) {
        int dist = distance(word, *n);
        if (dist <= limit && (!best || dist < best_d)) {
            best = *n;
            best_d = dist;
        }
    }
    return best;
}

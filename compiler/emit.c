/*
 * emit.c - the printing helper of the code generator.
 *
 * Every line of generated C goes through one Emit context, which owns the indentation:
 * emitters never type leading spaces.  emit_open/emit_close put the braces and move the
 * indentation; emit_end checks that a top-level definition closed every brace it opened.
 * A failed write is remembered in `failed` and reported by gen_c at the end.
 */
#include <stdarg.h>

#include "bpc.h"

enum { INDENT_WIDTH = 4 };

void emit_init(Emit *e, FILE *out)
{
    *e = (Emit){.out = out};
}

/* A '}' without its '{' is a bug in an emitter, never the user's. */
static void check_open(const Emit *e, int line)
{
    if (e->indent <= 0)
        internal_error(__FILE__, line, "a '}' without its '{'");
}

static void put_indent(Emit *e, int levels)
{
    if (e->heading && fprintf(e->out, "%s\n\n", e->heading) < 0)
        e->failed = true;
    e->heading = NULL;
    if (fprintf(e->out, "%*s", levels * INDENT_WIDTH, "") < 0)
        e->failed = true;
}

void emit_heading(Emit *e, const char *text)
{
    e->heading = text;
}

static void put_text(Emit *e, const char *fmt, va_list ap)
{
    if (vfprintf(e->out, fmt, ap) < 0)
        e->failed = true;
}

static void put_newline(Emit *e)
{
    if (fputc('\n', e->out) == EOF)
        e->failed = true;
}

void emit_line(Emit *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_indent(e, e->indent);
    put_text(e, fmt, ap);
    put_newline(e);
    va_end(ap);
}

void emit_cont(Emit *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_indent(e, e->indent + 1);
    put_text(e, fmt, ap);
    put_newline(e);
    va_end(ap);
}

void emit_blank(Emit *e)
{
    put_newline(e);
}

void emit_open(Emit *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_indent(e, e->indent);
    put_text(e, fmt, ap);
    if (fputs(" {\n", e->out) == EOF)
        e->failed = true;
    va_end(ap);
    e->indent++;
}

void emit_brace(Emit *e)
{
    put_indent(e, e->indent);
    if (fputs("{\n", e->out) == EOF)
        e->failed = true;
    e->indent++;
}

void emit_close(Emit *e)
{
    check_open(e, __LINE__);
    e->indent--;
    put_indent(e, e->indent);
    if (fputs("}\n", e->out) == EOF)
        e->failed = true;
}

void emit_close_with(Emit *e, const char *fmt, ...)
{
    check_open(e, __LINE__);
    e->indent--;
    put_indent(e, e->indent);
    if (fputc('}', e->out) == EOF)
        e->failed = true;
    /* Format once into a small buffer to see whether the text opens a new block. */
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof text)
        internal_error(__FILE__, __LINE__, "the text after a '}' is %d bytes; the limit is %d", len,
                       (int)sizeof text - 1);
    if (fputs(text, e->out) == EOF)
        e->failed = true;
    put_newline(e);
    if (len > 0 && text[len - 1] == '{')
        e->indent++;
}

void emit_end(Emit *e)
{
    if (e->indent != 0)
        internal_error(__FILE__, __LINE__, "a generated definition left %d brace(s) open",
                       e->indent);
    emit_blank(e);
}

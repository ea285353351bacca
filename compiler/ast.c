/*
 * ast.c - the syntax tree: constructors for the grammar's actions and a printer
 * (bpc --dump-ast) that the parser's tests compare against.
 */
#include <stdlib.h>

#include "bpc.h"

Stmt *ast_stmt(Arena *a, StmtKind kind, Loc loc)
{
    Stmt *s = arena_alloc(a, sizeof *s);
    s->kind = kind;
    s->loc = loc;
    return s;
}

Call *ast_call(Arena *a, Ident name, Arg *args)
{
    Call *c = arena_alloc(a, sizeof *c);
    c->name = name;
    c->args = args;
    return c;
}

Arg *ast_arg(Arena *a, Ident key, Number value)
{
    Arg *arg = arena_alloc(a, sizeof *arg);
    arg->key = key;
    arg->value = value;
    return arg;
}

/* Lists are built back to front while parsing (prepending is O(1), so a file with a
 * million statements stays fast) and reversed once complete. */
Arg *ast_arg_prepend(Arg *list, Arg *arg)
{
    arg->next = list;
    return arg;
}

Arg *ast_arg_reverse(Arg *list)
{
    Arg *done = NULL;
    while (list) {
        Arg *next = list->next;
        list->next = done;
        done = list;
        list = next;
    }
    return done;
}

/* NULL statements come from error recovery and are dropped. */
Stmt *ast_stmt_prepend(Stmt *list, Stmt *stmt)
{
    if (!stmt)
        return list;
    stmt->next = list;
    return stmt;
}

Stmt *ast_stmt_reverse(Stmt *list)
{
    Stmt *done = NULL;
    while (list) {
        Stmt *next = list->next;
        list->next = done;
        done = list;
        list = next;
    }
    return done;
}

/* In StmtKind order, then NULL. */
static const char *const stmt_keywords[] = {
    [STMT_INPUT] = "input",         [STMT_DENSE] = "dense",         [STMT_LOSS] = "loss",
    [STMT_OPTIMIZER] = "optimizer", [STMT_INIT] = "init",           [STMT_BATCH] = "batch",
    [STMT_PRECISION] = "precision", [STMT_SEED] = "seed",           NULL,
};

const char *ast_stmt_keyword(StmtKind kind)
{
    return stmt_keywords[kind];
}

const char *const *ast_stmt_keywords(void)
{
    return stmt_keywords;
}

// ---- printing ----

/* The shortest %g form that reads back as the same double. */
void ast_format_double(char buf[32], double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
}

static void dump_number(FILE *out, const Number *n)
{
    if (n->is_int && !n->overflow) {
        fprintf(out, "%s%llu", n->negative ? "-" : "", (unsigned long long)n->ivalue);
    } else {
        char buf[32];
        ast_format_double(buf, n->value);
        fputs(buf, out);
    }
}

static void dump_call(FILE *out, const Call *c)
{
    fprintf(out, "%s", c->name.name);
    if (!c->args)
        return;
    fputc('(', out);
    for (const Arg *a = c->args; a; a = a->next) {
        fprintf(out, "%s=", a->key.name);
        dump_number(out, &a->value);
        fputs(a->next ? ", " : "", out);
    }
    fputc(')', out);
}

/* One line per statement, each with its line:column:
 *   network xor 1:9
 *   3:5 dense 4 tanh init=he_normal label=hidden */
void ast_dump(FILE *out, const Network *net)
{
    fprintf(out, "network %s %d:%d\n", net->name.name, net->name.loc.line, net->name.loc.col);
    for (const Stmt *s = net->stmts; s; s = s->next) {
        fprintf(out, "%d:%d %s", s->loc.line, s->loc.col, ast_stmt_keyword(s->kind));
        switch (s->kind) {
        case STMT_INPUT:
        case STMT_BATCH:
        case STMT_SEED:
            fputc(' ', out);
            dump_number(out, &s->size);
            break;
        case STMT_DENSE:
            fputc(' ', out);
            dump_number(out, &s->size);
            if (s->call) {
                fputc(' ', out);
                dump_call(out, s->call);
            }
            if (s->init) {
                fputs(" init=", out);
                dump_call(out, s->init);
            }
            if (s->label.name)
                fprintf(out, " label=%s", s->label.name);
            break;
        case STMT_LOSS:
        case STMT_OPTIMIZER:
        case STMT_INIT:
        case STMT_PRECISION:
            fputc(' ', out);
            dump_call(out, s->call);
            break;
        }
        fputc('\n', out);
    }
}

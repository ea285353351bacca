/*
 * bp.y - the grammar of .bp files.
 *
 * A pure (reentrant) LALR parser with locations.  Actions only build the AST through
 * ast_* calls; all meaning is checked later, in check.c.  Syntax errors are reported
 * through diag.c with the tokens that were expected; the parser then recovers at the
 * next ';' or '}', so one run reports several errors.
 */
%code requires {
#include "bpc.h"

#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* What the scanner and the parser share for one file. */
typedef struct ParseCtx {
    Arena *arena;
    Diag *diag;
    int line, col;        /* where the scanner is */
    size_t offset;
    Loc comment_start;    /* of an open block comment */
    Network *net;         /* the first network in the file */
} ParseCtx;

/* A rule's location spans its first token to the end of its last. */
#define YYLLOC_DEFAULT(cur, rhs, n)                                                \
    do {                                                                           \
        if (n) {                                                                   \
            (cur) = YYRHSLOC(rhs, 1);                                              \
            (cur).len = YYRHSLOC(rhs, n).offset + YYRHSLOC(rhs, n).len - (cur).offset; \
        } else {                                                                   \
            (cur) = YYRHSLOC(rhs, 0);                                              \
            (cur).offset += (cur).len;                                             \
            (cur).col += (int)(cur).len;                                           \
            (cur).len = 1;                                                         \
        }                                                                          \
    } while (0)
}

%code {
#include <string.h>

#include "lex.yy.h"

static void yyerror(const Loc *loc, yyscan_t scanner, ParseCtx *p, const char *msg);
}

%define api.pure full
%define api.location.type {Loc}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {yyscan_t scanner}
%parse-param {ParseCtx *p}

%union {
    const LayerDef *layer;
    Number number;
    Ident ident;
    Arg *arg;
    Call *call;
    Stmt *stmt;
}

%token NETWORK "'network'" INPUT "'input'" LOSS "'loss'"
       OPTIMIZER "'optimizer'" INIT "'init'" BATCH "'batch'"
       PRECISION "'precision'" SEED "'seed'"
/* A name of the layer table (layer.c), as the scanner found it: of a kind that takes a
 * number after its name (dense N), or of one that does not. */
%token <layer> LAYER_SIZED "layer" LAYER "layer without size"
%token <ident> IDENT "identifier"
%token <number> NUMBER "number"

%type <number> number
%type <call> call activation_opt init_opt
%type <arg> args args_opt arg layer_opts
%type <stmt> stmts stmt layer

%%

file
    : %empty            { diag_file_error(p->diag, "no network in this file"); }
    | networks
    ;

/* One network per file: a second one is an error, but is still parsed. */
networks
    : network
    | networks network
    ;

network
    : NETWORK IDENT '{' stmts '}'
        {
            if (p->net) {
                diag_error(p->diag, $2.loc, "only one network per file");
                diag_note(p->diag, p->net->name.loc, "the first network is '%s'", p->net->name.name);
            } else {
                p->net = arena_alloc(p->arena, sizeof *p->net);
                p->net->name = $2;
                p->net->stmts = ast_stmt_reverse($4);
                p->net->close = @5;
            }
        }
    | NETWORK error '}'   { yyerrok; if (p->diag->stopped) YYABORT; }
    ;

stmts
    : %empty            { $$ = NULL; }
    | stmts stmt        { $$ = ast_stmt_prepend($1, $2); }
    ;

stmt
    : INPUT number ';'          { $$ = ast_stmt(p->arena, STMT_INPUT, @1); $$->size = $2; }
    | layer ';'
    | IDENT ':' layer ';'       { $$ = $3; $$->label = $1; }
    | LOSS call ';'             { $$ = ast_stmt(p->arena, STMT_LOSS, @1); $$->call = $2; }
    | OPTIMIZER call ';'        { $$ = ast_stmt(p->arena, STMT_OPTIMIZER, @1); $$->call = $2; }
    | INIT call ';'             { $$ = ast_stmt(p->arena, STMT_INIT, @1); $$->call = $2; }
    | BATCH number ';'          { $$ = ast_stmt(p->arena, STMT_BATCH, @1); $$->size = $2; }
    | PRECISION call ';'        { $$ = ast_stmt(p->arena, STMT_PRECISION, @1); $$->call = $2; }
    | SEED number ';'           { $$ = ast_stmt(p->arena, STMT_SEED, @1); $$->size = $2; }
    | error ';'                 { $$ = NULL; yyerrok; if (p->diag->stopped) YYABORT; }
    ;

/* KIND [N] [key = value ...] [activation] [init = scheme]; which options a kind takes
 * is its row's business (check.c) */
layer
    : LAYER_SIZED number layer_opts activation_opt init_opt
                                { $$ = ast_layer(p->arena, $1, @1, &$2, $3, $4, $5); }
    | LAYER layer_opts activation_opt init_opt
                                { $$ = ast_layer(p->arena, $1, @1, NULL, $2, $3, $4); }
    ;

layer_opts
    : %empty            { $$ = NULL; }
    | layer_opts arg    { $$ = ast_arg_prepend($1, $2); }
    ;

activation_opt
    : %empty            { $$ = NULL; }
    | call
    ;

init_opt
    : %empty            { $$ = NULL; }
    | INIT '=' call     { $$ = $3; }
    ;

/* name | name(key = value, ...) */
call
    : IDENT                     { $$ = ast_call(p->arena, $1, NULL); }
    | IDENT '(' args_opt ')'    { $$ = ast_call(p->arena, $1, ast_arg_reverse($3)); }
    ;

args_opt
    : %empty            { $$ = NULL; }
    | args
    ;

args
    : arg
    | args ',' arg      { $$ = ast_arg_prepend($1, $3); }
    ;

arg
    : IDENT '=' number  { $$ = ast_arg(p->arena, $1, $3); }
    ;

number
    : NUMBER
    | '-' NUMBER
        {
            $$ = $2;
            $$.value = -$$.value;
            $$.negative = true;
            $$.loc = @$;
        }
    ;

%%

/* "expected A, B or C before X", with the expected tokens from LAC.  Where a whole
 * statement could start, the list of keywords is summed up as "a statement". */
static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, ParseCtx *p)
{
    (void)scanner;
    enum { MAX_LISTED = 5 };
    yysymbol_kind_t expected[YYNTOKENS];
    int n = yypcontext_expected_tokens(ctx, expected, YYNTOKENS);
    yysymbol_kind_t got = yypcontext_token(ctx);
    const Loc *loc = yypcontext_location(ctx);

    char list[512] = "";
    size_t len = 0;
    bool statement = false;
    for (int i = 0; i < n; i++)
        statement |= expected[i] == YYSYMBOL_LAYER_SIZED;
    if (statement || n > MAX_LISTED) {
        bool close = false;
        for (int i = 0; i < n; i++)
            close |= !strcmp(yysymbol_name(expected[i]), "'}'");
        snprintf(list, sizeof list, "a statement%s", close ? " or '}'" : "");
        n = 1;
    } else {
        for (int i = 0; i < n && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                    i == 0 ? "" : i == n - 1 ? " or " : ", ",
                                    yysymbol_name(expected[i]));
    }

    const char *got_name = yysymbol_name(got);
    char got_text[BPC_MAX_IDENT + 40];
    const char *src = p->diag->src->text + loc->offset;
    int shown = loc->len > BPC_MAX_IDENT ? BPC_MAX_IDENT : (int)loc->len;
    if (got == YYSYMBOL_IDENT || got == YYSYMBOL_NUMBER) {
        snprintf(got_text, sizeof got_text, "%s '%.*s'", got_name, shown, src);
        got_name = got_text;
    } else if (got == YYSYMBOL_LAYER_SIZED || got == YYSYMBOL_LAYER) {
        snprintf(got_text, sizeof got_text, "'%.*s'", shown, src); /* as a keyword */
        got_name = got_text;
    }
    if (n > 0)
        diag_error(p->diag, *loc, "expected %s before %s", list, got_name);
    else
        diag_error(p->diag, *loc, "unexpected %s", got_name);
    return 0;
}

static void yyerror(const Loc *loc, yyscan_t scanner, ParseCtx *p, const char *msg)
{
    (void)scanner;
    diag_error(p->diag, *loc, "%s", msg);
}

Network *parse_network(Arena *a, Diag *d, const Source *src)
{
    ParseCtx p = {.arena = a, .diag = d, .line = 1, .col = 1};
    yyscan_t scanner;
    if (yylex_init_extra(&p, &scanner) != 0)
        internal_error(__FILE__, __LINE__, "cannot create the scanner");
    YY_BUFFER_STATE buf = yy_scan_bytes(src->text, (int)src->size, scanner);
    yyparse(scanner, &p);
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    return p.net;
}

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
    Loc look, prev;       /* the lookahead token and the one before it, for syntax errors */
    int look_token, prev_token;
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

/* The parser reads its tokens through next_token, which keeps the one before the
 * lookahead: "expected ';' after number '784'" names it. */
static int next_token(YYSTYPE *lval, Loc *loc, yyscan_t scanner, ParseCtx *p);
#define yylex(lval, loc, scanner) next_token(lval, loc, scanner, p)

/* 1:1, for an error about the whole file. */
static Loc file_start(const ParseCtx *p)
{
    return (Loc){.line = 1, .col = 1, .offset = diag_source_start(p->diag->src), .len = 1};
}
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
    Number number;
    Ident ident;
    Arg *arg;
    Call *call;
    Stmt *stmt;
}

%token NETWORK "'network'" INPUT "'input'" DENSE "'dense'" LOSS "'loss'"
       OPTIMIZER "'optimizer'" INIT "'init'" BATCH "'batch'"
       PRECISION "'precision'" SEED "'seed'"
%token <ident> IDENT "identifier"
%token <number> NUMBER "number"

%type <number> number
%type <call> call activation_opt init_opt
%type <arg> args args_opt arg
%type <stmt> stmts stmt dense

%%

file
    : %empty            { diag_error(p->diag, file_start(p), "no network in this file"); }
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
    | dense ';'
    | IDENT ':' dense ';'       { $$ = $3; $$->label = $1; }
    | LOSS call ';'             { $$ = ast_stmt(p->arena, STMT_LOSS, @1); $$->call = $2; }
    | OPTIMIZER call ';'        { $$ = ast_stmt(p->arena, STMT_OPTIMIZER, @1); $$->call = $2; }
    | INIT call ';'             { $$ = ast_stmt(p->arena, STMT_INIT, @1); $$->call = $2; }
    | BATCH number ';'          { $$ = ast_stmt(p->arena, STMT_BATCH, @1); $$->size = $2; }
    | PRECISION call ';'        { $$ = ast_stmt(p->arena, STMT_PRECISION, @1); $$->call = $2; }
    | SEED number ';'           { $$ = ast_stmt(p->arena, STMT_SEED, @1); $$->size = $2; }
    | error ';'                 { $$ = NULL; yyerrok; if (p->diag->stopped) YYABORT; }
    ;

/* dense N [activation] [init = scheme] */
dense
    : DENSE number activation_opt init_opt
        {
            $$ = ast_stmt(p->arena, STMT_DENSE, @1);
            $$->size = $2;
            $$->call = $3;
            $$->init = $4;
        }
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

static int next_token(YYSTYPE *lval, Loc *loc, yyscan_t scanner, ParseCtx *p)
{
    p->prev = p->look;
    p->prev_token = p->look_token;
    p->look_token = (yylex)(lval, loc, scanner);
    p->look = *loc;
    return p->look_token;
}

/* "identifier 'sgd'", "number '784'", "';'", "end of file". */
static const char *token_name(const ParseCtx *p, yysymbol_kind_t kind, Loc loc, char *buf,
                              size_t size)
{
    if (kind != YYSYMBOL_IDENT && kind != YYSYMBOL_NUMBER)
        return yysymbol_name(kind);
    int shown = loc.len > BPC_MAX_IDENT ? BPC_MAX_IDENT : (int)loc.len;
    snprintf(buf, size, "%s '%.*s'", yysymbol_name(kind), shown, p->diag->src->text + loc.offset);
    return buf;
}

/* "unknown statement 'optimiser'" and the like: `word` was read where `names` can be,
 * with the likely typo or, when none is close, what can be there. */
static void unknown_word(ParseCtx *p, const char *what, Loc loc, const char *const *names,
                         const char *which)
{
    char word[BPC_MAX_IDENT + 1];
    int shown = loc.len > BPC_MAX_IDENT ? BPC_MAX_IDENT : (int)loc.len;
    snprintf(word, sizeof word, "%.*s", shown, p->diag->src->text + loc.offset);
    diag_error(p->diag, loc, "unknown %s '%s'", what, word);
    const char *close = diag_closest(word, names);
    if (close) {
        diag_note(p->diag, loc, "did you mean '%s'?", close);
        return;
    }
    char list[256];
    size_t len = 0;
    list[0] = '\0';
    for (const char *const *n = names; *n && len < sizeof list; n++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", n == names ? "" : ", ", *n);
    diag_note(p->diag, loc, "%s: %s", which, list);
}

/* "expected A, B or C before X", with the expected tokens from LAC.  Where a whole
 * statement could start, the list of keywords is summed up as "a statement".  A missing
 * ';' is reported just after the token it should follow, as Clang does; a word that
 * cannot start a statement or a layer is an unknown statement or layer kind. */
static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, ParseCtx *p)
{
    (void)scanner;
    enum { MAX_LISTED = 5 };
    yysymbol_kind_t expected[YYNTOKENS];
    int n = yypcontext_expected_tokens(ctx, expected, YYNTOKENS);
    yysymbol_kind_t got = yypcontext_token(ctx);
    const Loc *loc = yypcontext_location(ctx);

    /* Only a label's ':' may follow a statement's first identifier, and only 'dense'
     * the label ("hidden dense 10" is a missing ':'). */
    if (n == 1 && !strcmp(yysymbol_name(expected[0]), "':'") && got != YYSYMBOL_DENSE) {
        unknown_word(p, "statement", p->prev, ast_stmt_keywords(),
                     "a statement begins with one of");
        return 0;
    }
    if (n == 1 && expected[0] == YYSYMBOL_DENSE && got == YYSYMBOL_IDENT) {
        const char *const kinds[] = {ast_stmt_keyword(STMT_DENSE), NULL};
        unknown_word(p, "layer kind", *loc, kinds, "the layer kinds are");
        return 0;
    }

    char list[512] = "";
    size_t len = 0;
    /* The ';' first when it is one of them: it is what is most often missing. */
    bool statement = false, semicolon = false;
    for (int i = 0; i < n; i++) {
        statement |= expected[i] == YYSYMBOL_DENSE;
        if (!strcmp(yysymbol_name(expected[i]), "';'")) {
            yysymbol_kind_t semi = expected[i];
            memmove(expected + 1, expected, (size_t)i * sizeof *expected);
            expected[0] = semi;
            semicolon = true;
        }
    }
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

    char text[BPC_MAX_IDENT + 40];
    if (n > 0 && semicolon) {
        Loc after = p->prev;
        after.col += (int)after.len;
        after.offset += after.len;
        after.len = 1;
        diag_error(p->diag, after, "expected %s after %s", list,
                   token_name(p, YYTRANSLATE(p->prev_token), p->prev, text, sizeof text));
    } else if (n > 0) {
        diag_error(p->diag, *loc, "expected %s before %s", list,
                   token_name(p, got, *loc, text, sizeof text));
    } else {
        diag_error(p->diag, *loc, "unexpected %s", token_name(p, got, *loc, text, sizeof text));
    }
    return 0;
}

static void yyerror(const Loc *loc, yyscan_t scanner, ParseCtx *p, const char *msg)
{
    (void)scanner;
    diag_error(p->diag, *loc, "%s", msg);
}

Network *parse_network(Arena *a, Diag *d, const Source *src)
{
    size_t start = diag_source_start(src);
    ParseCtx p = {.arena = a, .diag = d, .line = 1, .col = 1, .offset = start};
    yyscan_t scanner;
    if (yylex_init_extra(&p, &scanner) != 0)
        internal_error(__FILE__, __LINE__, "cannot create the scanner");
    YY_BUFFER_STATE buf = yy_scan_bytes(src->text + start, (int)(src->size - start), scanner);
    yyparse(scanner, &p);
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    return p.net;
}

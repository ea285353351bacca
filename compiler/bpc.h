/*
 * bpc.h - the compiler's one internal header, a section per module.
 *
 * The pipeline is  read source -> parse (grammar/bp.y, an AST) -> check (check.c, a
 * resolved Model) -> generate C (gen.c and the op tables).  Each stage only knows the
 * data structures of the stages before it.  The op tables (act.c, loss.c, optim.c,
 * init.c) hold one row per activation, loss, optimizer and init scheme: its name, its
 * named parameters with defaults and ranges, and the functions that emit its code.
 */
#ifndef BPC_H
#define BPC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BPC_VERSION "0.1.0"

/* ---- limits (docs/LANGUAGE.md, "Limits") ---- */
#define BPC_MAX_SOURCE_BYTES (64L * 1024 * 1024) /* largest .bp file read */
#define BPC_MAX_IDENT 63                           /* longest identifier, in bytes */
#define BPC_MAX_UNITS (1L << 24)                   /* widest layer (and input) */
#define BPC_MAX_LAYERS 1024
#define BPC_MAX_PARAMS (1L << 30)                  /* trainable parameters in a model */
#define BPC_MAX_BATCH (1L << 20)
#define BPC_MAX_ERRORS 20                          /* errors reported before stopping */
/* Weights emitted as straight-line code, in all layers together (and so the largest
 * --unroll): each costs the C compiler milliseconds, and a file of 100000 takes gcc -O2
 * more than five minutes. */
#define BPC_MAX_UNROLL 4096L

/* ---- arena.c: all front-end memory, freed at once ---- */
typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
    ArenaBlock *head;
} Arena;
void *arena_alloc(Arena *a, size_t size); /* zeroed; aborts on out-of-memory */
char *arena_strndup(Arena *a, const char *s, size_t n);
void arena_free(Arena *a);

/* ---- diag.c: the one diagnostics sink ---- */
typedef struct Source {
    const char *name; /* as shown in diagnostics: "model.bp" or "<stdin>" */
    const char *text; /* the bytes; may contain NULs; text[size] == '\0' */
    size_t size;
} Source;

/* A position in the source: 1-based line and column (in bytes), the byte offset
 * of the first character and the length of the token it marks (>= 1). */
typedef struct Loc {
    int line, col;
    size_t offset;
    size_t len;
} Loc;

typedef struct Diag {
    const Source *src;
    FILE *out;
    int errors, warnings;
    bool werror;    /* warnings count as errors */
    bool stopped;   /* the error limit was reached; further diagnostics are dropped */
    Loc last;       /* of the last error or warning, so a note there does not repeat it */
    bool has_last;
} Diag;

void diag_init(Diag *d, const Source *src, FILE *out);
/* Where the text begins: after a UTF-8 byte order mark, which some editors write at the
 * start of a file (line 1's columns count from the byte after it). */
size_t diag_source_start(const Source *src);
void diag_error(Diag *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_warning(Diag *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_note(Diag *d, Loc loc, const char *fmt, ...) /* attaches to the last error/warning */
    __attribute__((format(printf, 3, 4)));
void diag_note_noloc(Diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool diag_failed(const Diag *d); /* errors, or warnings under -Werror */

/* The name in `names` (NULL-terminated) closest to `word`, or NULL when none is close
 * enough to be a likely typo; for "did you mean 'relu'?". */
const char *diag_closest(const char *word, const char *const *names);

/* Compiler bugs, never user errors: print file:line and abort. */
void internal_error(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
#define unreachable() internal_error(__FILE__, __LINE__, "unreachable")

/* ---- ast.c: the syntax tree the parser builds ---- */
typedef struct Number {
    double value;    /* the literal's value, sign included (inf on overflow) */
    uint64_t ivalue; /* the value for integer literals that fit in 64 bits */
    bool is_int;     /* written without '.' or exponent */
    bool overflow;   /* integer literal too large for 64 bits, or non-finite double */
    bool negative;
    Loc loc;
} Number;

typedef struct Ident {
    const char *name;
    Loc loc;
} Ident;

/* `key = value` inside a call's parentheses. */
typedef struct Arg {
    Ident key;
    Number value;
    struct Arg *next;
} Arg;

/* A named thing with optional arguments: `relu`, `leaky_relu(alpha = 0.2)`,
 * `sgd(lr = 0.1, momentum = 0.9)`. */
typedef struct Call {
    Ident name;
    Arg *args; /* in source order */
} Call;

typedef enum StmtKind {
    STMT_INPUT,     /* input N;                                   size      */
    STMT_DENSE,     /* [label:] dense N [act] [init = scheme];    label, size, act, init */
    STMT_LOSS,      /* loss CALL;                                 call      */
    STMT_OPTIMIZER, /* optimizer CALL;                            call      */
    STMT_INIT,      /* init CALL;                                 call      */
    STMT_BATCH,     /* batch N;                                   size      */
    STMT_PRECISION, /* precision float|double;                    call (no args) */
    STMT_SEED,      /* seed N;                                    size      */
} StmtKind;

typedef struct Stmt {
    StmtKind kind;
    Loc loc;       /* the keyword ('dense', 'loss', ...) */
    Ident label;   /* STMT_DENSE: name == NULL when not labelled */
    Number size;   /* STMT_INPUT, STMT_DENSE, STMT_BATCH, STMT_SEED */
    Call *call;    /* STMT_DENSE: the activation or NULL; LOSS/OPTIMIZER/INIT/PRECISION */
    Call *init;    /* STMT_DENSE: `init = scheme`, or NULL */
    struct Stmt *next;
} Stmt;

typedef struct Network {
    Ident name;
    Stmt *stmts; /* in source order */
    Loc close;   /* the closing brace */
} Network;

Stmt *ast_stmt(Arena *a, StmtKind kind, Loc loc);
Call *ast_call(Arena *a, Ident name, Arg *args);
Arg *ast_arg(Arena *a, Ident key, Number value);
/* The parser builds lists back to front, then reverses them. */
Arg *ast_arg_prepend(Arg *list, Arg *arg);
Arg *ast_arg_reverse(Arg *list);
Stmt *ast_stmt_prepend(Stmt *list, Stmt *stmt);
Stmt *ast_stmt_reverse(Stmt *list);
const char *ast_stmt_keyword(StmtKind kind); /* "input", "dense", ... */
const char *const *ast_stmt_keywords(void);  /* all of them, NULL-terminated */
void ast_dump(FILE *out, const Network *net); /* for --dump-ast and tests */
void ast_format_double(char buf[32], double v); /* shortest form that reads back exactly */

/* ---- grammar/bp.y: the parser ---- */
/* Parses one network; NULL when the file holds none.  Syntax errors go to `d`; the tree
 * may be partial when diag_failed(d).  Reentrant: no global state. */
Network *parse_network(Arena *a, Diag *d, const Source *src);

/* ---- op tables: act.c, loss.c, optim.c, init.c ---- */
#define MAX_OP_PARAMS 6

enum {
    PARAM_BOOL = 1 << 1,    /* 0 or 1 */
    PARAM_LO_OPEN = 1 << 2, /* value > lo rather than >= lo */
    PARAM_HI_OPEN = 1 << 3, /* value < hi rather than <= hi */
    PARAM_REQUIRED = 1 << 4 /* no default */
};

typedef struct ParamDef {
    const char *name; /* NULL ends the list */
    double def;
    double lo, hi;    /* allowed range (see the PARAM_*_OPEN flags) */
    unsigned flags;
} ParamDef;

/* What every row of the op tables starts with, and all that check.c reads of it. */
typedef struct OpInfo {
    const char *name;  /* NULL ends the table */
    const char *alias; /* a second accepted spelling, or NULL */
    ParamDef params[MAX_OP_PARAMS + 1];
} OpInfo;

typedef struct ActDef ActDef;
typedef struct LossDef LossDef;
typedef struct OptDef OptDef;
typedef struct InitDef InitDef;

/* For the code-generation fields of the rows below (emit.c, gen.c). */
typedef struct Emit Emit;
typedef struct GenCtx GenCtx;
struct Layer; /* check.c's, below */

/* Which of a layer's buffers an emitter reads, so gen.c declares only those. */
enum { USES_Z = 1 << 0, USES_A = 1 << 1 };

/* What an activation's emitters compute on.  Elementwise activations get the C
 * lvalues of one element ("z[3]", "a[j]"); row-wise ones (softmax) get row pointers,
 * the row's width and whether to unroll. */
typedef struct ActOperands {
    const char *z, *a; /* pre-activation and activation */
    const char *g;     /* backward: dC/da */
    const char *dz;    /* backward: where dC/dz goes (may be the same as g) */
    long width;        /* row-wise: the row's length */
    bool unroll;       /* row-wise: literal indices instead of loops */
    const char *zmax, *zsum; /* softmax forward: where to keep max z and Σ e^(z − max), or NULL */
} ActOperands;

typedef void ActEmitFn(Emit *e, const GenCtx *g, const double *args, const ActOperands *o);
typedef void HelperEmitFn(Emit *e, const GenCtx *g);

/* Each table ends with a row whose op.name is NULL.  A row's OpInfo (and a loss's
 * needs_act) is what check.c reads; the fields after them are for code generation. */
struct ActDef {
    OpInfo op;
    /* code generation */
    const char *formula;       /* for comments: "tanh(z)", "max(z, 0)" */
    const char *grad_formula;  /* dC/dz from dC/da for comments: "g ⊙ (1 − a²)" */
    bool rowwise;              /* the emitters take whole rows (softmax) */
    unsigned fwd_uses, bwd_uses; /* USES_* of the emitters */
    ActEmitFn *emit_forward;   /* a from z */
    ActEmitFn *emit_backward;  /* dz from g (and z, a) */
    HelperEmitFn *helpers[3];  /* static functions the emitted code calls, NULL-ended */
};

/* A loss's emitters work on one sample: row pointers z, y (the output activation) and
 * t, the output width.  The value emitter adds that sample's loss to `sum`; the
 * gradient emitter writes row `d` using `scale` = 1/(divisor) in scope. */
typedef struct LossOperands {
    const char *z, *y, *t, *d, *sum, *scale;
    const char *zmax, *zsum; /* the forward softmax's kept sums (keeps_softmax_sums) */
    long width;
} LossOperands;
typedef void LossEmitFn(Emit *e, const GenCtx *g, const double *args, const LossOperands *o);

struct LossDef {
    OpInfo op;
    const char *needs_act; /* the output activation this loss requires, or NULL */
    const char *targets;   /* the runtime's bprt_targets value for --main, as C */
    /* code generation */
    const char *formula;      /* for comments: "mean over n×OUT of (y − t)²" */
    const char *grad_formula; /* "2(y − t)/(n·OUT)" */
    bool fused;               /* the gradient is dC/dz through needs_act, not dC/dy */
    bool per_sample;          /* the mean is over samples (divide by n), not elements */
    bool keeps_softmax_sums;  /* the value reuses the forward softmax's max and sum */
    unsigned value_uses, grad_uses; /* USES_Z and/or USES_A (y) of the two emitters */
    LossEmitFn *emit_value;
    LossEmitFn *emit_grad;
    HelperEmitFn *helpers[3];
};

/* An optimizer keeps up to OPT_MAX_STATE buffers of PARAMS elements (momentum,
 * Adam's moments), named here as they are in the model struct. */
#define OPT_MAX_STATE 2
typedef void OptEmitFn(Emit *e, const GenCtx *g, const double *args);
/* The update of element i of p and of the state buffers (pointers of those names in
 * scope) from the gradient, the C expression `grad`. */
typedef void OptUpdateFn(Emit *e, const GenCtx *g, const double *args, const char *grad);

struct OptDef {
    OpInfo op;
    /* code generation */
    int (*nstate)(const double *args);      /* buffers used with these arguments */
    const char *state[OPT_MAX_STATE];       /* their member names */
    bool (*zero_noop)(const double *args);  /* an update with g = 0 changes nothing */
    OptEmitFn *emit_prelude;                /* once per function: comment, constants */
    OptUpdateFn *emit_update;               /* one element */
    HelperEmitFn *helpers[3];               /* static functions the update calls, NULL-ended */
};

typedef void InitEmitFn(Emit *e, const GenCtx *g, const struct Layer *l, const double *args);

struct InitDef {
    OpInfo op;
    /* code generation */
    InitEmitFn *emit; /* the draw of l's weights inside NAME_init (rng `rng` in scope) */
};

extern const ActDef act_table[];
extern const LossDef loss_table[];
extern const OptDef opt_table[];
extern const InitDef init_table[];

/* ---- check.c: names, shapes, compatibility -> a resolved Model ---- */
typedef struct Layer {
    const char *label; /* given or "denseK" */
    Loc loc;           /* the 'dense' keyword (or the label when given) */
    int index;         /* 0-based */
    long in, out;      /* widths */
    const ActDef *act;
    double act_args[MAX_OP_PARAMS]; /* in the order of act->params, defaults filled */
    const InitDef *init;
    double init_args[MAX_OP_PARAMS];
    long w_offset, b_offset; /* into the flat parameter buffer: W is [out][in], then b */
} Layer;

typedef struct Model {
    const char *name;  /* the network's name: a C identifier */
    const char *upper; /* its upper case, for macros */
    long inputs, outputs;
    Layer *layers;
    int nlayers;
    const LossDef *loss;
    double loss_args[MAX_OP_PARAMS];
    const OptDef *opt;
    double opt_args[MAX_OP_PARAMS];
    long batch;
    bool double_precision;
    uint64_t seed; /* the 'seed' statement, 0 when absent */
    long nparams;
} Model;

/* Resolves and checks `net`; fills `m` (allocated in `a`) and returns true when no
 * error was reported. */
bool check_network(Arena *a, Diag *d, const Network *net, Model *m);

/* ---- emit.c: the printing helper every emitter goes through ---- */
struct Emit {
    FILE *out;
    int indent; /* in levels of four spaces */
    bool failed; /* a write failed */
    const char *heading; /* emit_heading's line, not written yet */
};

void emit_init(Emit *e, FILE *out);
/* One line: the indentation, the formatted text, a newline. */
void emit_line(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line indented one level further (the continuation of a long expression). */
void emit_cont(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void emit_blank(Emit *e);
/* A section heading and a blank line, written before the section's first line: a section
 * that stays empty has none.  NULL drops a heading not written yet. */
void emit_heading(Emit *e, const char *text);
/* "text {" and one level in; emit_brace() puts a lone "{" (a function's body). */
void emit_open(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void emit_brace(Emit *e);
/* One level out and "}"; emit_close_with adds text after the brace ("} else {" opens again
 * when the text ends with '{'). */
void emit_close(Emit *e);
void emit_close_with(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The end of a top-level definition: checks the indentation is back to 0.  Misuse (a
 * brace closed that is not open, emit_close_with text over 255 bytes) is an internal_error. */
void emit_end(Emit *e);

/* ---- gen.c: the C generator (emit.c prints, the op tables emit their pieces) ---- */
/* What the op tables' emitters need to know about the model being generated. */
struct GenCtx {
    const struct Model *m;
    const char *name; /* the prefix of every generated name */
    const char *real; /* the element type: "NAME_real" */
    const char *fn;   /* the suffix of <math.h> functions: "f" for float, "" for double */
    bool dbl;
    long chunk_slots; /* length of NAME_model's list of chunks of nonzero inputs, or 0 */
};

#define GEN_LIT_MAX 48
/* Writes `v` as a C literal of the model's type ("0.5f", "0.5") into buf. */
const char *gen_lit(const GenCtx *g, double v, char buf[GEN_LIT_MAX]);
/* Writes `v` as a double literal (%.17g), for constants computed in double. */
const char *gen_dlit(double v, char buf[GEN_LIT_MAX]);

typedef struct GenOptions {
    long unroll;             /* layers with at most this many weights are fully unrolled */
    const char *header_name; /* the header's file name as the .c file #includes it */
    bool main;               /* also emit a main(): the command-line trainer (gen_main.c) */
} GenOptions;

/* Writes the model's C source to `c_out` and its header to `h_out`. */
bool gen_c(const Model *m, const GenOptions *opt, FILE *c_out, FILE *h_out);

/* ---- gen_kernels.c: the blocked loops of the generated code ---- */
#define KERN_LANES 8 /* partial sums per dot product */
long kern_lanes(long in); /* the partial sums of a dot product of length in */
/* Whether layer l skips the chunks of 8 inputs that are all 0: the first layer, when
 * it has 8 inputs or more (its looped forward, and plain SGD's step at batch 1). */
bool kern_skips(const Layer *l);
/* "z[j] = b[j] + (...);" for output j of an unrolled layer, summed as the looped form. */
void kern_unrolled_dot(Emit *e, const Layer *l, long j);
/* The tile functions of a looped layer's forward, and the loops that call them. */
void kern_forward_tiles(Emit *e, const GenCtx *c, const Layer *l);
void kern_forward_call(Emit *e, const GenCtx *c, const Layer *l, const char *z);
/* A preprocessor line ("#ifdef %s_AVX2" with arg), at column 0. */
void kern_pp(Emit *e, const char *fmt, const char *arg);
void kern_end_function(Emit *e, bool avx2); /* after a function or its AVX2 clone */
/* NAME_axpy: y += a·x; NAME_chunks when the first layer skips zero inputs (c->chunk_slots). */
void kern_helpers(Emit *e, const GenCtx *c);

/* ---- gen_main.c: the command-line trainer's main() (bpc --main) ---- */
bool gen_main(Emit *e, const Model *m);

#endif

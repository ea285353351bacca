/*
 * bpc.h - the compiler's one internal header, a section per module.
 *
 * The pipeline is  read source -> parse (grammar/bp.y, an AST) -> check (check.c, a
 * Model: the IR, a list of shaped nodes) -> plan (ir.c: decisions and memory) ->
 * generate C (gen.c, the layer kinds and the op tables).  Each stage only knows the
 * data structures of the stages before it.  The op tables (act.c, loss.c, optim.c,
 * init.c) hold one row per activation, loss, optimizer and init scheme: its name, its
 * named parameters with defaults and ranges, and the functions that emit its code.
 * The layer table (layer.c, one file per family: layer_dense.c, ...) holds one row per
 * layer kind: its options, its shape rule, its parameter tensors and its emitters.
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
    int ndims;       /* 1 for a number; 2 or 3 for dimensions written "5x3", "1x28x28" */
    uint64_t dim[3]; /* the dimensions' values (dim[0] == ivalue); overflow if one overflowed */
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

typedef struct LayerDef LayerDef; /* a row of the layer table (below) */

typedef enum StmtKind {
    STMT_INPUT,     /* input N;                                   size      */
    STMT_LAYER,     /* [label:] KIND [N] [key = value ...] [act] [init = scheme];
                     *                               layer, label, size, opts, act, init */
    STMT_LOSS,      /* loss CALL;                                 call      */
    STMT_OPTIMIZER, /* optimizer CALL;                            call      */
    STMT_INIT,      /* init CALL;                                 call      */
    STMT_BATCH,     /* batch N;                                   size      */
    STMT_PRECISION, /* precision float|double;                    call (no args) */
    STMT_SEED,      /* seed N;                                    size      */
} StmtKind;

typedef struct Stmt {
    StmtKind kind;
    Loc loc;       /* the keyword or the layer kind ('dense', 'loss', ...) */
    const LayerDef *layer; /* STMT_LAYER: the kind, looked up by the scanner */
    Ident label;   /* STMT_LAYER: name == NULL when not labelled */
    Number size;   /* STMT_INPUT, STMT_BATCH, STMT_SEED; STMT_LAYER when layer->size_name */
    Arg *opts;     /* STMT_LAYER: the `key = value` options, in source order */
    Call *call;    /* STMT_LAYER: the activation or NULL; LOSS/OPTIMIZER/INIT/PRECISION */
    Call *init;    /* STMT_LAYER: `init = scheme`, or NULL */
    struct Stmt *next;
} Stmt;

typedef struct Network {
    Ident name;
    Stmt *stmts; /* in source order */
    Loc close;   /* the closing brace */
} Network;

Stmt *ast_stmt(Arena *a, StmtKind kind, Loc loc);
/* KIND [size] opts [act] [init = scheme]: a STMT_LAYER; size is NULL for kinds without one. */
Stmt *ast_layer(Arena *a, const LayerDef *kind, Loc loc, const Number *size, Arg *opts, Call *act,
                Call *init);
Call *ast_call(Arena *a, Ident name, Arg *args);
Arg *ast_arg(Arena *a, Ident key, Number value);
/* The parser builds lists back to front, then reverses them. */
Arg *ast_arg_prepend(Arg *list, Arg *arg);
Arg *ast_arg_reverse(Arg *list);
Stmt *ast_stmt_prepend(Stmt *list, Stmt *stmt);
Stmt *ast_stmt_reverse(Stmt *list);
const char *ast_stmt_keyword(const Stmt *s); /* "input", "dense", "loss", ... */
/* The keywords of the statements other than layers, into names[0..max); returns how many. */
int ast_stmt_keywords(const char **names, int max);
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
    PARAM_REQUIRED = 1 << 4, /* no default */
    PARAM_INT = 1 << 5,      /* a whole number (layer options) */
    PARAM_PAIR = 1 << 6      /* K or HxW (layer options: kernel, stride, padding) */
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
typedef struct Node Node;     /* the IR's, below */
typedef struct Model Model;
typedef struct Tensor Tensor;

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
/* How an update reaches element i: alone (vec NULL), or as the vector of type vec
 * that starts there (gen.c's NAME_update_span), with its square root and flush (v, but
 * 0 in the lanes below the smallest normal number). */
typedef struct UpdateForm {
    const char *vec, *sqrt, *flush;
} UpdateForm;
/* The update of element i of p and of the state buffers (pointers of those names in
 * scope) from the gradient, the C expression `grad`, in form f. */
typedef void OptUpdateFn(Emit *e, const GenCtx *g, const double *args, const char *grad,
                         const UpdateForm *f);

struct OptDef {
    OpInfo op;
    /* code generation */
    int (*nstate)(const double *args);      /* buffers used with these arguments */
    const char *state[OPT_MAX_STATE];       /* their member names */
    bool (*zero_noop)(const double *args);  /* an update with g = 0 changes nothing */
    OptEmitFn *emit_prelude;                /* once per function: comment, constants */
    OptUpdateFn *emit_update;               /* one element or vector */
    HelperEmitFn *helpers[3];               /* static functions the update calls, NULL-ended */
};

typedef void InitEmitFn(Emit *e, const GenCtx *g, const char *label, const Tensor *t,
                        const double *args);

struct InitDef {
    OpInfo op;
    /* code generation */
    InitEmitFn *emit; /* the draw of tensor t of layer `label` inside NAME_init (rng `rng` in scope) */
};

extern const ActDef act_table[];
extern const LossDef loss_table[];
extern const OptDef opt_table[];
extern const InitDef init_table[];

/* The optimizer's state buffers (NAME_model's, after params and grads) with its arguments. */
int opt_nstate(const Model *m);
/* The optimizer's learning rate (its "lr" argument): NAME_init's value of m->lr. */
double opt_lr(const Model *m);

/* ---- the layer table: layer.c, one file per family (layer_dense.c, ...) ---- */
#define LAYER_MAX_OPTS 4 /* `key = value` options of one layer kind */
typedef void NodeEmitFn(Emit *e, const GenCtx *g, const Node *n);

/* One layer kind.  check.c resolves a statement against the row's options, then calls
 * `infer` and `params`; ir.c plans the node with the row's buffers and `plan`; gen.c
 * emits the node's section with its emitters and calls, in the passes over the nodes,
 * the functions they define:
 *   NAME_L_forward(m, in, n)   in: the input rows (n × in), writes L's buffers
 *   NAME_L_backward(m, in, n)  from L's d = ∂C/∂a: adds ∂C/∂params to grads and, with
 *                              NODE_NEEDS_DX, writes the input node's d = ∂C/∂x
 *   NAME_L_train(m, in, n)     NAME_L_backward and the optimizer's update of L's
 *                              parameters fused, when grads are zero (and _avx2 with
 *                              NODE_AVX2_CLONE) */
struct LayerDef {
    const char *name;        /* the statement's first word: "dense" */
    const char *size_name;   /* what the number after the name is ("layer width"), or NULL */
    long size_max;
    bool size_pair;          /* the number may be HxW ("maxpool 2x3") */
    ParamDef opts[LAYER_MAX_OPTS + 1]; /* `key = value` options (PARAM_INT), NULL-ended */
    bool takes_act;          /* an activation and `init = scheme` */
    unsigned buffers;        /* BUF_* its forward writes and its backward reads */
    /* The shape rule and its checks: n->shape (and n->out) from n->in_shape, n->size and
     * n->opts; reports at n->loc what does not fit and returns false. */
    bool (*infer)(Diag *d, Node *n);
    /* The parameter tensors: shapes, fan-in and fan-out (ir.c sets their offsets). */
    void (*params)(Node *n);
    /* The decisions of its own: NODE_UNROLLED, NODE_SKIPS_ZEROS, NODE_AVX2_CLONE, ...,
     * and n->scratch; the generic flags are set before. */
    void (*plan)(const Model *m, Node *n, long unroll);
    /* "dense=4": the node in the weight-file fingerprint (docs/WEIGHTS.md). */
    void (*fingerprint)(char *buf, size_t size, const Node *n);
    /* For the section heading: "tanh" (dense: its activation). */
    void (*describe)(char *buf, size_t size, const Node *n);
    NodeEmitFn *emit_forward;  /* NAME_L_forward (and the kernels it calls) */
    NodeEmitFn *emit_backward; /* NAME_L_backward and NAME_L_train */
    HelperEmitFn *helpers[3];  /* static functions the emitted code calls, NULL-ended */
};

extern const LayerDef *const layer_table[]; /* NULL-terminated */
const LayerDef *layer_find(const char *name); /* NULL when no kind is so called */
/* For the shape rules of kinds over C×H×W: true, or the error for a vector input. */
bool layer_needs_image(Diag *d, const Node *n);

/* ---- the IR: the checked model, a list of shaped nodes (check.c builds it, ir.c plans it) ---- */
#define NODE_MAX_INPUTS 2   /* residual connections will have two */
#define NODE_MAX_PARAMS 2   /* parameter tensors of one node */
#define NODE_INPUT (-1)     /* in Node.inputs: the network's input */

/* A per-sample shape: a vector (rank 1, dim[0] units) or C×H×W (rank 3). */
typedef struct Shape {
    int rank;
    long dim[3];
} Shape;
long shape_numel(const Shape *s);
/* "784" or "1x28x28", as the language writes it. */
void shape_format(char *buf, size_t size, const Shape *s);
/* A tensor's dimensions as C declares them: "[4][2]". */
void tensor_format_dims(char *buf, size_t size, const Tensor *t);

/* One parameter tensor of a node: its place in the flat buffer and how init sees it. */
struct Tensor {
    const char *name; /* "W", "b" */
    const char *torch;/* PyTorch's name of it: "weight", "bias" (the tensor table) */
    int rank;
    long dim[4];      /* as PyTorch's state_dict: W [out][in], b [out] */
    long size;        /* the product of dim */
    long offset;      /* into params, grads and the optimizer state (ir.c) */
    double fan_in, fan_out; /* torch.nn.init's */
    bool drawn;       /* drawn by the init scheme; else zero */
};

/* The decisions made once, by ir_plan, that the emitters read (never recompute). */
enum {
    NODE_UNROLLED = 1 << 0,      /* straight-line code with literal indices */
    NODE_FUSED_OUTPUT = 1 << 1,  /* the loss writes δ = ∂C/∂z directly (fused with act) */
    NODE_ACT_BACKWARD = 1 << 2,  /* δ = d ⊙ act'(...) is computed in the node's backward */
    NODE_NEEDS_DX = 1 << 3,      /* the input is another node's output: ∂C/∂x is computed */
    NODE_SKIPS_ZEROS = 1 << 4,   /* the forward visits only the chunks of 8 nonzero inputs */
    NODE_TRAIN_SKIPS = 1 << 5,   /* ... and so does the fused step at one sample */
    NODE_KEEPS_SUMS = 1 << 6,    /* softmax output: max z and Σ e^(z − max) kept for the loss */
    NODE_AVX2_CLONE = 1 << 7,    /* its fused training step has an AVX2 clone */
    NODE_DX_TILES = 1 << 8,      /* it calls NAME_dx_best (kern_backward_tiles) */
    NODE_DW_TILES = 1 << 9,      /* it calls NAME_dw_best */
    NODE_DIRECT = 1 << 10,       /* conv2d: the direct form, not im2col and the product */
};

/* The buffers of a node, per sample (NAME_model's L_z, L_a, L_d, and L_arg, the index in
 * x of the input each output is, maxpool's): planned by ir.c from what the kind's forward
 * writes and its backward reads. */
enum { BUF_Z = 1 << 0, BUF_A = 1 << 1, BUF_D = 1 << 2, BUF_SUMS = 1 << 3, BUF_ARG = 1 << 4 };

struct Node {
    const LayerDef *kind;
    const char *label; /* given or KIND<index + 1> ("dense2") */
    Loc loc;           /* the kind's name (or the label when given) */
    int index;         /* 0-based, the nodes' topological order */
    int inputs[NODE_MAX_INPUTS]; /* node indices, or NODE_INPUT */
    int ninputs;
    Shape in_shape, shape;       /* per sample: of the (first) input and of the output */
    long in, out;                /* their element counts */
    long size[2];                /* the number after the kind's name (kind->size_name); HxW */
    long opts[LAYER_MAX_OPTS][2];/* the kind's options, defaults filled: [height, width] */
    const ActDef *act;           /* NULL for kinds without an activation */
    double act_args[MAX_OP_PARAMS]; /* in the order of act->params, defaults filled */
    const InitDef *init;
    double init_args[MAX_OP_PARAMS];
    Tensor params[NODE_MAX_PARAMS];
    int nparams;
    unsigned flags;   /* NODE_* (ir_plan) */
    unsigned buffers; /* BUF_* (ir_plan) */
    long scratch;     /* elements of NAME_model's scratch its code uses (ir_plan) */
    /* The blocked product it lowers to, if any (its kind's plan): rows of prod_in values
     * times prod_out outputs, over prod_rows rows (0: the n samples); and the node whose
     * tile functions it calls, the first with the same product (ir_plan), or for a kind
     * with kernels of its own the first it says has the same (its plan): identical
     * tiles are emitted once. */
    long prod_in, prod_out, prod_rows;
    int tiles_of;
    long dw_samples; /* the most samples (n) it passes NAME_dw_best; 0: the batch */
    /* Its d = ∂C/∂a lives in NAME_model's union dK with the d of nodes whose backward
     * steps it does not overlap (ir_plan): dname is "dK.L_d", as the emitters write it. */
    int d_slot;
    char dname[BPC_MAX_IDENT + 16];
};

struct Model {
    const char *name;  /* the network's name: a C identifier */
    const char *upper; /* its upper case, for macros */
    Shape input;       /* per sample */
    long inputs, outputs;
    Node *nodes;       /* in topological order; the last is the output */
    int nnodes;
    const LossDef *loss;
    double loss_args[MAX_OP_PARAMS];
    const OptDef *opt;
    double opt_args[MAX_OP_PARAMS];
    long batch;
    bool double_precision;
    uint64_t seed; /* the 'seed' statement, 0 when absent */
    long nparams;
    /* ir_plan's */
    bool planned;
    long scratch;      /* NAME_model's scratch: the most any node uses (they run one at a time) */
    long chunk_slots;  /* NAME_model's list of chunks of nonzero inputs, or 0 */
    long dw_samples;   /* the most samples any call of NAME_dw_best passes (Node.dw_samples) */
    long unroll;        /* the --unroll threshold used: lowered when the one asked for would
                         * unroll more than BPC_MAX_UNROLL weights in all */
    long unroll_wanted; /* the weights the threshold asked for would have unrolled */
    int d_slots;        /* NAME_model's unions of d buffers (Node.d_slot) */
};

/* Resolves and checks `net`; fills `m` (allocated in `a`) and returns true when no
 * error was reported. */
bool check_network(Arena *a, Diag *d, const Network *net, Model *m);

/* ---- ir.c: the planning pass over the checked model ---- */
/* Lays out every node's parameter tensors in the flat buffer (in node order, each
 * node's in its own order); reports a total beyond BPC_MAX_PARAMS at the node. */
bool ir_layout(Diag *d, Model *m);
/* Decides each node's flags, buffers and scratch from the kinds' rows, the loss, the
 * optimizer and `unroll` (layers with at most that many weights are unrolled). */
void ir_plan(Model *m, long unroll);
/* The planned model as a table (bpc --dump-ir). */
void ir_dump(FILE *out, const Model *m);
/* Each layer's output shape and parameter count, then the totals (bpc --check -v). */
void ir_summary(FILE *out, const Model *m);

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

/* Plans `m` (ir_plan) and writes its C source to `c_out` and its header to `h_out`. */
bool gen_c(Model *m, const GenOptions *opt, FILE *c_out, FILE *h_out);
/* For the layer kinds' emitters (gen.c's helpers). */
void gen_describe_call(char *buf, size_t size, const char *name, const ParamDef *params,
                       const double *args);
void gen_act_formula(char *buf, size_t size, const Node *l);
/* The activation over one sample's row (z, a, d in scope): forward a from z, or
 * backward δ in place in d. */
void gen_emit_act(Emit *e, const GenCtx *c, const Node *l, bool backward);
/* What feeds node l, for comments: "the input" or "hidden's a". */
void gen_input_name(char *buf, size_t size, const Model *m, const Node *l);
/* Points p and the optimizer's state buffers at offset `off` (a C expression). */
void gen_opt_pointers(Emit *e, const GenCtx *c, const char *off);
/* "lhs = first + t1 + t2 + ...;", GEN_TERMS_PER_LINE terms to a line. */
typedef struct GenSum {
    char buf[1024];
    size_t len;
    int terms; /* on the current line */
    bool continued;
} GenSum;
void gen_sum_begin(GenSum *s, const char *lhs, const char *first);
void gen_sum_term(Emit *e, GenSum *s, const char *term);
void gen_sum_end(Emit *e, GenSum *s);

/* ---- gen_kernels.c: the blocked loops of the generated code ---- */
#define KERN_LANES 8 /* partial sums per dot product */
long kern_lanes(long in); /* the partial sums of a dot product of length in */
/* "z[j] = b[j] + (...);" for output j of an unrolled layer, summed in the looped form's
 * order, its products rounded apart (the looped form fuses them). */
void kern_unrolled_dot(Emit *e, const Node *l, long j);
/* The tile functions of a looped layer's forward, and the loops that call them. */
void kern_forward_tiles(Emit *e, const GenCtx *c, const Node *l, long rows);
/* z: the rows' C expression; rows: their number when it is a constant (n in scope
 * holds it), else 0 (n in scope, 1..BATCH). */
void kern_forward_call(Emit *e, const GenCtx *c, const Node *l, const char *z, long rows);
/* A preprocessor line ("#ifdef %s_AVX2" with arg), at column 0. */
void kern_pp(Emit *e, const char *fmt, const char *arg);
void kern_end_function(Emit *e, bool avx2); /* after a function or its AVX2 clone */
/* The backward products' tiles, emitted once for all layers: NAME_dx_best(n, in, out,
 * d, W, dx), dx = δ·W, when dx; NAME_dw_best(n, in, out, j, rows, d, x, g), g += δᵀ·x
 * for rows j..j+rows−1 of δ, when dw. */
void kern_backward_tiles(Emit *e, const GenCtx *c, bool dx, bool dw);
enum { KERN_DW_ROWS = 8 }; /* the rows of ∂W NAME_train sums before their update */
/* static void NAME_L_WHAT(PARAMS), compiled also for each instruction set of the tiles
 * (AVX-512VL, AVX2) and calling the best the processor runs, else doing the work itself:
 * for loops whose every output is its own lane, which every vector width rounds alike.
 * body(e, c, l, target, arg) writes the body, for the instruction set's registers
 * (target, to block by); ARGS are PARAMS' names, to pass them on. */
typedef struct KernTarget {
    int vec_bytes; /* of a vector register */
    int regs;      /* vector registers */
} KernTarget;
typedef void KernBodyFn(Emit *e, const GenCtx *c, const Node *l, const KernTarget *target,
                        const void *arg);
/* "#pragma GCC unroll N" before a loop (gcc and clang read it; gcc does not unroll at -O2) */
void kern_unroll(Emit *e, long n);
void kern_cloned(Emit *e, const GenCtx *c, const Node *l, const char *what, const char *params,
                 const char *args, KernBodyFn *body, const void *arg);
/* NAME_FMA (a·b + c rounded once), the tiles' vector types and the backward tiles;
 * NAME_chunks when the first layer skips zero inputs (c->chunk_slots). */
void kern_helpers(Emit *e, const GenCtx *c);

/* ---- gen_main.c: the command-line trainer's main() (bpc --main) ---- */
bool gen_main(Emit *e, const Model *m);

#endif

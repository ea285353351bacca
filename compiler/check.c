/*
 * check.c - the semantic checks: from the parser's syntax tree to a resolved Model.
 *
 * The parser accepts any statements in any order with any names; this pass gives them
 * meaning.  It looks names up in the op tables (act.c, loss.c, optim.c, init.c), checks
 * each argument and each layer option against its row's ParamDef, checks sizes against
 * the limits in bpc.h, checks labels and the network name against C and the generated
 * API, and checks that the loss suits the output layer.  The layers become the nodes of
 * the IR, in order, each fed by the one before: their kinds' rows (layer.c) give each
 * its shape and its parameter tensors, and ir_layout lays those out in one flat buffer.
 *
 * Every error is reported once, at the token it is about; anything that depends on a
 * part already reported (an unknown activation, a bad width) is not checked again, so
 * one mistake gives one error.  docs/LANGUAGE.md lists every message.
 */
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "bpc.h"

typedef struct Checker {
    Arena *a;
    Diag *d;
    const Network *net;
    Model *m;
    const Stmt *first[STMT_SEED + 1]; /* the first statement of each kind */
    const Stmt **layers;              /* the layer statements, in order */
    long nlayers;
    bool widths_ok;                   /* every width (and the input) is valid */
    bool float_model;                 /* precision float: arguments must fit a float */
} Checker;

/* Room for the names of one table, NULL-terminated. */
enum { MAX_NAMES = 32 };

/* A literal's text as written, for hints ("write 'dense 10 softmax'"): "%.*s". */
#define NUMBER_TEXT(c, n) (int)(n)->loc.len, (c)->d->src->text + (n)->loc.offset

// ---- names ----

/* The four op tables seen alike: rows of `stride` bytes, each starting with an OpInfo. */
typedef struct OpTable {
    const void *rows;
    size_t stride;
} OpTable;

#define OP_TABLE(table) ((OpTable){(table), sizeof (table)[0]})

static const OpInfo *op_row(OpTable t, size_t i)
{
    return (const OpInfo *)((const char *)t.rows + i * t.stride);
}

/* The row called `name` (or so aliased), or NULL. */
static const void *find_op(OpTable t, const char *name)
{
    for (size_t i = 0; op_row(t, i)->name; i++) {
        const OpInfo *r = op_row(t, i);
        if (!strcmp(r->name, name) || (r->alias && !strcmp(r->alias, name)))
            return r;
    }
    return NULL;
}

/* The table's names and aliases into `names`, NULL-terminated. */
static void op_names(OpTable t, const char **names)
{
    int n = 0;
    for (size_t i = 0; op_row(t, i)->name && n < MAX_NAMES - 2; i++) {
        names[n++] = op_row(t, i)->name;
        if (op_row(t, i)->alias)
            names[n++] = op_row(t, i)->alias;
    }
    names[n] = NULL;
}

static const char *const precision_names[] = {"float", "double", NULL};

/* "a, b, c" into buf. */
static void join_names(char *buf, size_t size, const char *const *names)
{
    size_t len = 0;
    buf[0] = '\0';
    for (const char *const *n = names; *n && len < size; n++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", n == names ? "" : ", ", *n);
}

/* The error for a name not in `names`, with the likely typo or the whole list. */
static void unknown_name(Checker *c, const char *what, const Ident *id, const char *const *names)
{
    diag_error(c->d, id->loc, "unknown %s '%s'", what, id->name);
    const char *close = diag_closest(id->name, names);
    if (close) {
        diag_note(c->d, id->loc, "did you mean '%s'?", close);
    } else {
        char list[512];
        join_names(list, sizeof list, names);
        diag_note(c->d, id->loc, "expected one of: %s", list);
    }
}

// ---- arguments ----

static int count_params(const ParamDef *params)
{
    int n = 0;
    while (n < MAX_OP_PARAMS && params[n].name)
        n++;
    return n;
}

static int find_param(const ParamDef *params, const char *name)
{
    for (int k = 0; k < MAX_OP_PARAMS && params[k].name; k++)
        if (!strcmp(params[k].name, name))
            return k;
    return -1;
}

/* Checks one argument value against its definition (flags, then range); a PARAM_PAIR
 * value may be written HxW, each part checked alike. */
static bool check_value_part(Checker *c, const ParamDef *p, const Number *v, double x);

static bool check_value(Checker *c, const ParamDef *p, const Number *v)
{
    if (v->ndims == 1)
        return check_value_part(c, p, v, v->value);
    if (!(p->flags & PARAM_PAIR) || v->ndims > 2) {
        diag_error(c->d, v->loc, "'%s' must be %s", p->name,
                   p->flags & PARAM_PAIR ? "one number or two (HxW)" : "a single number");
        return false;
    }
    if (v->negative) {
        diag_error(c->d, v->loc, "'%s' must not be negative", p->name);
        return false;
    }
    return check_value_part(c, p, v, v->overflow ? INFINITY : (double)v->dim[0]) &&
           check_value_part(c, p, v, v->overflow ? INFINITY : (double)v->dim[1]);
}

static bool check_value_part(Checker *c, const ParamDef *p, const Number *v, double x)
{
    double lo = p->lo, hi = p->hi;
    if (!isfinite(x)) {
        diag_error(c->d, v->loc, "'%s' must be a finite number", p->name);
        return false;
    }
    /* The generated code holds the value as a float: it must not overflow (UB to
     * convert) nor turn a nonzero value into 0. */
    if (c->float_model && (fabs(x) > FLT_MAX || (x != 0 && (float)x == 0))) {
        diag_error(c->d, v->loc, "'%s' is too %s for precision float", p->name,
                   fabs(x) > FLT_MAX ? "large" : "small: it would be 0");
        return false;
    }
    if ((p->flags & PARAM_INT) && x != floor(x)) {
        diag_error(c->d, v->loc, "'%s' must be a whole number", p->name);
        return false;
    }
    if ((p->flags & PARAM_BOOL) && x != 0 && x != 1) {
        diag_error(c->d, v->loc, "'%s' must be 0 or 1", p->name);
        return false;
    }
    if (p->flags & PARAM_INT) { /* whole numbers in [lo, hi] */
        if (x < lo && lo == 0)
            diag_error(c->d, v->loc, "'%s' must not be negative", p->name);
        else if (x < lo)
            diag_error(c->d, v->loc, "'%s' must be at least %.0f", p->name, lo);
        else if (x > hi)
            diag_error(c->d, v->loc, "'%s' must be at most %.0f", p->name, hi);
        return x >= lo && x <= hi;
    }
    bool lo_open = p->flags & PARAM_LO_OPEN, hi_open = p->flags & PARAM_HI_OPEN;
    bool lo_ok = lo_open ? x > lo : x >= lo;
    bool hi_ok = hi_open ? x < hi : x <= hi;
    if (lo_ok && hi_ok)
        return true;
    if (isinf(hi)) {
        if (lo == 0 && !lo_open)
            diag_error(c->d, v->loc, "'%s' must not be negative", p->name);
        else
            diag_error(c->d, v->loc, "'%s' must be %s %g", p->name,
                       lo_open ? "greater than" : "at least", lo);
    } else if (isinf(lo)) {
        diag_error(c->d, v->loc, "'%s' must be %s %g", p->name, hi_open ? "less than" : "at most", hi);
    } else {
        diag_error(c->d, v->loc, "'%s' must be in %c%g, %g%c", p->name, lo_open ? '(' : '[', lo, hi,
                   hi_open ? ')' : ']');
    }
    return false;
}

/* The `key = value` arguments of `call` against `params`: values[] gets the defaults,
 * then each valid argument; given[k] is the argument that set params[k], or NULL.
 * `layer`: the call is a layer statement's options (hints are written as options).
 * Returns false when anything was reported. */
static bool resolve_args(Checker *c, const Call *call, const ParamDef *params, double *values,
                         const Arg **given, bool layer)
{
    const char *what = layer ? "option" : "argument";
    int n = count_params(params);
    const Arg *seen[MAX_OP_PARAMS] = {0};
    for (int k = 0; k < n; k++) {
        values[k] = params[k].def;
        given[k] = NULL;
    }
    bool ok = true;

    /* A required parameter not given, reported first (at the name, before the
     * arguments); but a misspelled key is most likely the missing one, and one error
     * about it is enough. */
    bool unknown = false;
    for (const Arg *arg = call->args; arg; arg = arg->next)
        unknown |= find_param(params, arg->key.name) < 0;
    for (int k = 0; k < n && !unknown; k++) {
        bool found = false;
        for (const Arg *arg = call->args; arg; arg = arg->next)
            found |= !strcmp(arg->key.name, params[k].name);
        if ((params[k].flags & PARAM_REQUIRED) && !found) {
            diag_error(c->d, call->name.loc, "missing %s '%s' for '%s'", what, params[k].name,
                       call->name.name);
            if (layer)
                diag_note(c->d, call->name.loc, "'%s' has no default; write e.g. '%s = %g'",
                          params[k].name, params[k].name, params[k].def);
            else
                diag_note(c->d, call->name.loc, "'%s' has no default; write e.g. '%s(%s = %g)'",
                          params[k].name, call->name.name, params[k].name, params[k].def);
            ok = false;
        }
    }

    for (const Arg *arg = call->args; arg; arg = arg->next) {
        if (n == 0) {
            diag_error(c->d, arg->key.loc, "'%s' takes no %ss", call->name.name, what);
            return false;
        }
        int k = find_param(params, arg->key.name);
        if (k < 0) {
            const char *names[MAX_OP_PARAMS + 1];
            for (int j = 0; j <= n; j++)
                names[j] = j < n ? params[j].name : NULL;
            diag_error(c->d, arg->key.loc, "unknown %s '%s' for '%s'", what, arg->key.name,
                       call->name.name);
            const char *close = diag_closest(arg->key.name, names);
            if (close) {
                diag_note(c->d, arg->key.loc, "did you mean '%s'?", close);
            } else {
                char list[256];
                join_names(list, sizeof list, names);
                diag_note(c->d, arg->key.loc, "'%s' takes: %s", call->name.name, list);
            }
            ok = false;
            continue;
        }
        if (seen[k]) {
            diag_error(c->d, arg->key.loc, "%s '%s' given twice", what, arg->key.name);
            diag_note(c->d, seen[k]->key.loc, "first given here");
            ok = false;
            continue;
        }
        seen[k] = arg;
        if (check_value(c, &params[k], &arg->value)) {
            values[k] = arg->value.value;
            given[k] = arg;
        } else {
            ok = false;
        }
    }
    return ok;
}

/* A call whose name is all there is (precision float): no arguments allowed. */
static bool no_args(Checker *c, const Call *call)
{
    if (!call->args)
        return true;
    diag_error(c->d, call->args->key.loc, "'%s' takes no arguments", call->name.name);
    return false;
}

// ---- sizes ----

/* The largest double below which every integer is exact: for "write '1000'" hints. */
#define EXACT_LIMIT 9007199254740992.0 /* 2^53 */

/* input N, dense N, batch N: an integer in [1, max], written as an integer
 * (so '1e3' and '128.0' are refused, with the spelling to use). */
static bool check_size(Checker *c, const Number *n, const char *what, long max, long *out)
{
    *out = 0;
    if (n->ndims > 1) {
        diag_error(c->d, n->loc, "%s must be a single number", what);
        return false;
    }
    if (n->value <= 0) {
        diag_error(c->d, n->loc, "%s must be at least 1", what);
        return false;
    }
    if (n->value != floor(n->value)) {
        diag_error(c->d, n->loc, "%s must be a whole number", what);
        return false;
    }
    if (n->overflow || n->value > (double)max) {
        diag_error(c->d, n->loc, "%s must be at most %ld", what, max);
        return false;
    }
    if (!n->is_int) {
        diag_error(c->d, n->loc, "%s must be written as an integer", what);
        diag_note(c->d, n->loc, "write '%.0f'", n->value);
        return false;
    }
    *out = (long)n->ivalue;
    return true;
}

/* seed N: any integer in [0, 2^64). */
static bool check_seed(Checker *c, const Number *n, uint64_t *out)
{
    if (n->value < 0) {
        diag_error(c->d, n->loc, "seed must not be negative");
        return false;
    }
    if (n->value != floor(n->value)) {
        diag_error(c->d, n->loc, "seed must be a whole number");
        return false;
    }
    /* An integer literal is exact (ivalue) unless it overflowed; its double may round. */
    if (n->is_int ? n->overflow : n->value >= 18446744073709551616.0) {
        diag_error(c->d, n->loc, "seed must be at most 18446744073709551615");
        return false;
    }
    if (!n->is_int) {
        diag_error(c->d, n->loc, "seed must be written as an integer");
        if (n->value <= EXACT_LIMIT)
            diag_note(c->d, n->loc, "write '%.0f'", n->value);
        return false;
    }
    *out = n->ivalue;
    return true;
}

/* The parts of dimensions "HxW" or "CxHxW" (n->ndims of them), each as check_size
 * checks a size; the product too, against `max`. */
static bool check_dims(Checker *c, const Number *n, const char *what, long max, long *out)
{
    if (n->negative) {
        diag_error(c->d, n->loc, "%s must be at least 1", what);
        return false;
    }
    int64_t product = 1;
    for (int k = 0; k < n->ndims; k++) {
        Number part = {.value = n->overflow ? INFINITY : (double)n->dim[k], .ivalue = n->dim[k],
                       .is_int = true, .overflow = n->overflow, .ndims = 1, .loc = n->loc};
        if (!check_size(c, &part, what, max, &out[k]))
            return false;
        product *= out[k];
        if (product > max) {
            diag_error(c->d, n->loc, "%s has %lld values or more; the limit is %ld", what,
                       (long long)product, max);
            return false;
        }
    }
    return true;
}

// ---- names in the generated C ----

/* C99 and C11 keywords. */
static const char *const c_keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "_Bool", "_Complex", "_Imaginary",
    "_Alignas", "_Alignof", "_Atomic", "_Generic", "_Noreturn", "_Static_assert",
    "_Thread_local", NULL,
};

/* Labels the generated code keeps for itself: the suffixes of its API (NAME_forward,
 * ...), its macros (NAME_INPUTS, ...), and the parameter and local names of its
 * functions.  docs/LANGUAGE.md, "Names", lists them; gen.c may rely on them. */
static const char *const reserved_labels[] = {
    "model", "real", "init", "forward", "loss", "backward", "step", "train", "params",
    "grads", "save", "load", "checkpoint", "restore", "input", "output", "inputs", "outputs",
    "batch", "seed", "x", "y", "t", "n", "m", "i", "j", "k", "main", NULL,
};

static bool in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(name, *list))
            return true;
    return false;
}

/* What a network name and a label share: a C identifier that is not a keyword and not
 * in the implementation's or the runtime's name space.  `what` is "label" or
 * "network name". */
static bool check_c_name(Checker *c, const Ident *id, const char *what)
{
    size_t len = strlen(id->name);
    if (len > BPC_MAX_IDENT) {
        diag_error(c->d, id->loc, "%s is %zu bytes long; the limit is %d", what, len, BPC_MAX_IDENT);
        return false;
    }
    if (in_list(id->name, c_keywords)) {
        diag_error(c->d, id->loc, "%s '%s' is a C keyword", what, id->name);
        return false;
    }
    if (id->name[0] == '_') {
        diag_error(c->d, id->loc, "%s '%s' must not start with '_'", what, id->name);
        diag_note(c->d, id->loc, "such names are reserved in C");
        return false;
    }
    if (!strcmp(id->name, "bprt") || !strncmp(id->name, "bprt_", 5)) {
        diag_error(c->d, id->loc, "%s '%s' is reserved for the bprt runtime", what, id->name);
        return false;
    }
    return true;
}

/* The network's name prefixes external functions (NAME_init, NAME_load): names whose
 * NAME_init would be the C library's (sem_init, pthread_mutex_init, mtx_init,
 * atomic_init) are kept out, with the prefixes POSIX and C11 reserve for them. */
static bool system_name(const char *name)
{
    static const char *const prefixes[] = {"sem", "pthread", "posix", "atomic", "cnd", "mtx",
                                           "thrd", "tss", NULL};
    for (const char *const *p = prefixes; *p; p++) {
        size_t n = strlen(*p);
        if (!strncmp(name, *p, n) && (name[n] == '\0' || name[n] == '_'))
            return true;
    }
    return false;
}

static void check_network_name(Checker *c)
{
    const Ident *id = &c->net->name;
    if (!id->name)
        return;
    if (check_c_name(c, id, "network name") && system_name(id->name))
        diag_error(c->d, id->loc, "network name '%s' is reserved for the C library", id->name);
    size_t len = strlen(id->name);
    char *upper = arena_strndup(c->a, id->name, len);
    for (size_t i = 0; i < len; i++)
        upper[i] = (char)toupper((unsigned char)upper[i]);
    c->m->name = id->name;
    c->m->upper = upper;
}

/* K when `label` is "KINDK" (a layer kind's name, then K >= 1 written without leading
 * zeros), with *kind that kind; else 0. */
static long auto_label_index(const char *label, const LayerDef **kind)
{
    const LayerDef *const *k = layer_table;
    size_t n = 0;
    while (*k && (n = strlen((*k)->name), strncmp(label, (*k)->name, n)))
        k++;
    if (!*k || label[n] < '1' || label[n] > '9')
        return 0;
    *kind = *k;
    long index = 0;
    for (const char *p = label + n; *p; p++) {
        if (!isdigit((unsigned char)*p) || index > BPC_MAX_LAYERS)
            return 0;
        index = index * 10 + (*p - '0');
    }
    return index;
}

/* An explicit label: valid in C, not reserved, and unique among all labels, the
 * automatic ones ("denseK" of unlabelled layers) included. */
static void check_label(Checker *c, int index)
{
    const Stmt *s = c->layers[index];
    const Ident *id = &s->label;
    if (!check_c_name(c, id, "label"))
        return;
    if (in_list(id->name, reserved_labels)) {
        diag_error(c->d, id->loc, "label '%s' is reserved for the generated code", id->name);
        return;
    }
    for (int j = 0; j < index; j++) {
        const Stmt *t = c->layers[j];
        if (t->label.name && !strcmp(t->label.name, id->name)) {
            diag_error(c->d, id->loc, "duplicate label '%s'", id->name);
            diag_note(c->d, t->label.loc, "'%s' first defined here", id->name);
            return;
        }
    }
    const LayerDef *kind = NULL;
    long k = auto_label_index(id->name, &kind);
    if (k > 0 && k <= c->nlayers && k - 1 != index && !c->layers[k - 1]->label.name &&
        c->layers[k - 1]->layer == kind) {
        diag_error(c->d, id->loc, "duplicate label '%s'", id->name);
        diag_note(c->d, c->layers[k - 1]->loc, "this unlabelled layer is '%s' automatically", id->name);
    }
}

// ---- statements ----

/* A second input, loss, ...: reported, and the statement is otherwise ignored. */
static bool first_of_kind(Checker *c, const Stmt *s)
{
    const Stmt *first = c->first[s->kind];
    if (!first) {
        c->first[s->kind] = s;
        return true;
    }
    diag_error(c->d, s->loc, "duplicate '%s' statement", ast_stmt_keyword(s));
    diag_note(c->d, first->loc, "first given here");
    return false;
}

/* input N;  -- the first statement */
static void check_input(Checker *c, const Stmt *s)
{
    if (s != c->net->stmts)
        diag_error(c->d, s->loc, "'input' must be the first statement");
    Shape *in = &c->m->input;
    if (s->size.ndims == 3) {
        in->rank = 3;
        if (!check_dims(c, &s->size, "input size", BPC_MAX_UNITS, in->dim))
            c->widths_ok = false;
    } else if (s->size.ndims != 1) {
        diag_error(c->d, s->size.loc, "input size must be N, or CxHxW for images");
        c->widths_ok = false;
    } else {
        in->rank = 1;
        if (!check_size(c, &s->size, "input size", BPC_MAX_UNITS, &in->dim[0]))
            c->widths_ok = false;
    }
    c->m->inputs = c->widths_ok ? shape_numel(in) : 0;
}

/* The activation of node l (identity when none is written); false when unknown. */
static bool check_activation(Checker *c, const Call *call, Node *l)
{
    if (!call)
        return true;
    const ActDef *act = find_op(OP_TABLE(act_table), call->name.name);
    if (!act) {
        const char *names[MAX_NAMES];
        op_names(OP_TABLE(act_table), names);
        unknown_name(c, "activation", &call->name, names);
        l->act = NULL;
        return false;
    }
    const Arg *given[MAX_OP_PARAMS];
    l->act = act;
    resolve_args(c, call, act->op.params, l->act_args, given, false);
    return true;
}

/* [label:] KIND [N] [key = value ...] [activation] [init = scheme];  -- its row says
 * whether it takes the number, which options, and whether an activation and an init */
static void check_layer(Checker *c, int index)
{
    const Stmt *s = c->layers[index];
    const LayerDef *kind = s->layer;
    Node *l = &c->m->nodes[index];
    l->kind = kind;
    l->index = index;
    l->loc = s->label.name ? s->label.loc : s->loc;
    l->inputs[0] = index > 0 ? index - 1 : NODE_INPUT;
    l->ninputs = 1;
    if (s->label.name) {
        l->label = s->label.name;
        check_label(c, index);
    } else {
        char buf[BPC_MAX_IDENT + 16];
        int n = snprintf(buf, sizeof buf, "%s%d", kind->name, index + 1);
        l->label = arena_strndup(c->a, buf, (size_t)n);
    }

    if (kind->size_name) {
        bool ok;
        if (kind->size_pair && s->size.ndims == 2) {
            ok = check_dims(c, &s->size, kind->size_name, kind->size_max, l->size);
        } else {
            ok = check_size(c, &s->size, kind->size_name, kind->size_max, &l->size[0]);
            l->size[1] = l->size[0];
        }
        c->widths_ok &= ok;
    }

    const Arg *given[MAX_OP_PARAMS];
    double opts[MAX_OP_PARAMS];
    const Call options = {.name = {.name = kind->name, .loc = s->loc}, .args = s->opts};
    if (!resolve_args(c, &options, kind->opts, opts, given, true))
        c->widths_ok = false;
    for (int k = 0; k < count_params(kind->opts); k++) {
        bool pair = given[k] && given[k]->value.ndims == 2;
        l->opts[k][0] = pair ? (long)given[k]->value.dim[0] : (long)opts[k];
        l->opts[k][1] = pair ? (long)given[k]->value.dim[1] : (long)opts[k];
    }

    if (s->call && !kind->takes_act) {
        diag_error(c->d, s->call->name.loc, "'%s' takes no activation", kind->name);
    } else if (kind->takes_act) {
        l->act = find_op(OP_TABLE(act_table), "identity");
        check_activation(c, s->call, l);
    }

    if (s->init && !kind->takes_act) {
        diag_error(c->d, s->init->name.loc, "'%s' has no weights to initialize", kind->name);
    } else if (s->init) {
        const InitDef *init = find_op(OP_TABLE(init_table), s->init->name.name);
        if (!init) {
            const char *names[MAX_NAMES];
            op_names(OP_TABLE(init_table), names);
            unknown_name(c, "init scheme", &s->init->name, names);
        } else {
            l->init = init;
            resolve_args(c, s->init, init->op.params, l->init_args, given, false);
        }
    }
}

/* loss NAME[(args)]; */
static void check_loss(Checker *c, const Stmt *s)
{
    const LossDef *loss = find_op(OP_TABLE(loss_table), s->call->name.name);
    if (!loss) {
        const char *names[MAX_NAMES];
        op_names(OP_TABLE(loss_table), names);
        unknown_name(c, "loss", &s->call->name, names);
        return;
    }
    const Arg *given[MAX_OP_PARAMS];
    c->m->loss = loss;
    resolve_args(c, s->call, loss->op.params, c->m->loss_args, given, false);
}

/* optimizer NAME[(args)]; */
static void check_optimizer(Checker *c, const Stmt *s)
{
    const Call *call = s->call;
    const OptDef *opt = find_op(OP_TABLE(opt_table), call->name.name);
    if (!opt) {
        const char *names[MAX_NAMES];
        op_names(OP_TABLE(opt_table), names);
        unknown_name(c, "optimizer", &call->name, names);
        return;
    }
    const Arg *given[MAX_OP_PARAMS];
    c->m->opt = opt;
    if (!resolve_args(c, call, opt->op.params, c->m->opt_args, given, false))
        return;
    /* Nesterov momentum without momentum is plain SGD in disguise; PyTorch refuses it. */
    int nes = find_param(opt->op.params, "nesterov"), mom = find_param(opt->op.params, "momentum");
    if (nes >= 0 && mom >= 0 && c->m->opt_args[nes] != 0 && c->m->opt_args[mom] == 0) {
        diag_error(c->d, given[nes]->key.loc, "'nesterov' needs a 'momentum' greater than 0");
        if (given[mom])
            diag_note(c->d, given[mom]->value.loc, "'momentum' is 0 here");
        else
            diag_note(c->d, given[nes]->key.loc, "'momentum' defaults to 0; write e.g. 'momentum = 0.9'");
    }
}

/* init NAME[(args)];  -- the default for every layer's weights */
static void check_init(Checker *c, const Stmt *s, const InitDef **init, double *args)
{
    const InitDef *row = find_op(OP_TABLE(init_table), s->call->name.name);
    if (!row) {
        const char *names[MAX_NAMES];
        op_names(OP_TABLE(init_table), names);
        unknown_name(c, "init scheme", &s->call->name, names);
        return;
    }
    const Arg *given[MAX_OP_PARAMS];
    *init = row;
    resolve_args(c, s->call, row->op.params, args, given, false);
}

/* precision float | double; */
static void check_precision(Checker *c, const Stmt *s)
{
    const Ident *id = &s->call->name;
    if (!in_list(id->name, precision_names)) {
        unknown_name(c, "precision", id, precision_names);
        return;
    }
    if (no_args(c, s->call))
        c->m->double_precision = !strcmp(id->name, "double");
}

// ---- the whole network ----

/* The loss must suit the output layer: cross_entropy works on softmax's logits,
 * binary_cross_entropy on sigmoid's. */
static void check_loss_output(Checker *c)
{
    const LossDef *loss = c->m->loss;
    if (!loss || c->nlayers == 0)
        return;
    const Stmt *s = c->layers[c->nlayers - 1];
    if (!s->layer->takes_act && !loss->needs_act) {
        diag_error(c->d, s->loc, "the loss needs a layer with weights at the output, not '%s'",
                   s->layer->name);
        diag_note(c->d, s->loc, "end with e.g. 'dense 10;'");
        return;
    }
    if (!loss->needs_act)
        return;
    const ActDef *act = !s->layer->takes_act ? NULL
                        : s->call            ? find_op(OP_TABLE(act_table), s->call->name.name)
                                             : find_op(OP_TABLE(act_table), "identity");
    if (s->layer->takes_act && (!act || !strcmp(act->op.name, loss->needs_act)))
        return;
    const Call *call = c->first[STMT_LOSS]->call;
    const char *label = s->label.name;
    char buf[BPC_MAX_IDENT + 16];
    if (!label) {
        snprintf(buf, sizeof buf, "%s%ld", s->layer->name, c->nlayers);
        label = buf;
    }
    diag_error(c->d, call->name.loc, "'%s' needs a %s output layer", loss->op.name, loss->needs_act);
    if (!s->layer->takes_act)
        diag_note(c->d, s->loc, "the output layer '%s' is a '%s', which has no activation; end "
                  "with e.g. 'dense 10 %s'", label, s->layer->name, loss->needs_act);
    else if (s->call)
        diag_note(c->d, s->call->name.loc, "the output layer '%s' uses '%s'; write '%s %.*s %s'",
                  label, s->call->name.name, s->layer->name, NUMBER_TEXT(c, &s->size),
                  loss->needs_act);
    else
        diag_note(c->d, s->loc, "the output layer '%s' has no activation; write '%s %.*s %s'",
                  label, s->layer->name, NUMBER_TEXT(c, &s->size), loss->needs_act);
}

/* Each node's shapes from its input's by its kind's rule, its parameter tensors, and
 * their layout (ir_layout); stops at the first node whose shape cannot be had. */
static void infer_shapes(Checker *c)
{
    Model *m = c->m;
    for (int i = 0; i < m->nnodes && c->widths_ok; i++) {
        Node *l = &m->nodes[i];
        l->in_shape = l->inputs[0] == NODE_INPUT ? m->input : m->nodes[l->inputs[0]].shape;
        l->in = shape_numel(&l->in_shape);
        if (!l->kind->infer(c->d, l)) {
            c->widths_ok = false;
            break;
        }
        const Stmt *s = c->layers[i];
        if (l->act && l->act->rowwise && l->out == 1 && s->call) {
            diag_warning(c->d, s->call->name.loc, "softmax over a single unit always outputs 1");
            diag_note(c->d, s->call->name.loc,
                      "for one probability use 'sigmoid' (with 'loss binary_cross_entropy')");
        }
        if (l->kind->params)
            l->kind->params(l);
    }
    if (c->widths_ok && !ir_layout(c->d, m))
        c->widths_ok = false;
    m->outputs = c->widths_ok && m->nnodes > 0 ? m->nodes[m->nnodes - 1].out : 0;
}

/* batch × the widest layer: the size of one activation buffer. */
static void check_buffers(Checker *c)
{
    const Model *m = c->m;
    const Stmt *batch = c->first[STMT_BATCH];
    if (!batch || !c->widths_ok || m->batch == 0)
        return;
    long widest = m->inputs;
    int at = -1;
    for (int i = 0; i < m->nnodes; i++) {
        if (m->nodes[i].out > widest) {
            widest = m->nodes[i].out;
            at = i;
        }
    }
    int64_t values = (int64_t)m->batch * widest;
    if (values <= BPC_MAX_PARAMS)
        return;
    diag_error(c->d, batch->size.loc, "batch %ld needs buffers of %lld values; the limit is %ld",
               m->batch, (long long)values, BPC_MAX_PARAMS);
    if (at >= 0)
        diag_note(c->d, m->nodes[at].loc, "layer '%s' has %ld units", m->nodes[at].label, widest);
    else
        diag_note(c->d, c->first[STMT_INPUT]->size.loc, "the input has %ld units", widest);
}

static void check_missing(Checker *c)
{
    const Network *net = c->net;
    Loc at = net->name.name ? net->name.loc : net->close;
    const char *name = net->name.name ? net->name.name : "";
    if (!c->first[STMT_INPUT]) {
        diag_error(c->d, at, "network '%s' has no 'input' statement", name);
        diag_note(c->d, at, "begin it with 'input N;', N the number of inputs");
    }
    if (c->nlayers == 0) {
        diag_error(c->d, at, "network '%s' has no layers", name);
        diag_note(c->d, at, "add at least one, e.g. 'dense 10 softmax;'");
    }
    if (!c->first[STMT_LOSS]) {
        diag_error(c->d, at, "network '%s' has no 'loss' statement", name);
        diag_note(c->d, at, "add one, e.g. 'loss mse;'");
    }
}

bool check_network(Arena *a, Diag *d, const Network *net, Model *m)
{
    int errors = d->errors;
    *m = (Model){.batch = 1};
    Checker c = {.a = a, .d = d, .net = net, .m = m, .widths_ok = true, .float_model = true};
    for (const Stmt *s = net->stmts; s; s = s->next)
        if (s->kind == STMT_PRECISION && s->call && s->call->name.name) {
            c.float_model = strcmp(s->call->name.name, "double") != 0;
            break;
        }

    check_network_name(&c);

    for (const Stmt *s = net->stmts; s; s = s->next)
        c.nlayers += s->kind == STMT_LAYER;
    c.layers = arena_alloc(a, (size_t)(c.nlayers ? c.nlayers : 1) * sizeof *c.layers);
    long k = 0;
    for (const Stmt *s = net->stmts; s; s = s->next)
        if (s->kind == STMT_LAYER)
            c.layers[k++] = s;
    m->nnodes = (int)(c.nlayers < BPC_MAX_LAYERS ? c.nlayers : BPC_MAX_LAYERS);
    m->nodes = arena_alloc(a, (size_t)(m->nnodes ? m->nnodes : 1) * sizeof *m->nodes);

    const InitDef *init = find_op(OP_TABLE(init_table), "xavier_uniform");
    double init_args[MAX_OP_PARAMS] = {0};
    k = 0;
    for (const Stmt *s = net->stmts; s; s = s->next) {
        bool has_call = s->call && s->call->name.name;
        switch (s->kind) {
        case STMT_INPUT:
            if (first_of_kind(&c, s))
                check_input(&c, s);
            break;
        case STMT_LAYER:
            if (k < BPC_MAX_LAYERS)
                check_layer(&c, (int)k);
            else if (k == BPC_MAX_LAYERS)
                diag_error(d, s->loc, "too many layers; the limit is %d", BPC_MAX_LAYERS);
            k++;
            break;
        case STMT_LOSS:
            if (first_of_kind(&c, s) && has_call)
                check_loss(&c, s);
            break;
        case STMT_OPTIMIZER:
            if (first_of_kind(&c, s) && has_call)
                check_optimizer(&c, s);
            break;
        case STMT_INIT:
            if (first_of_kind(&c, s) && has_call)
                check_init(&c, s, &init, init_args);
            break;
        case STMT_BATCH:
            if (first_of_kind(&c, s) && !check_size(&c, &s->size, "batch size", BPC_MAX_BATCH, &m->batch))
                m->batch = 0;
            break;
        case STMT_PRECISION:
            if (first_of_kind(&c, s) && has_call)
                check_precision(&c, s);
            break;
        case STMT_SEED:
            if (first_of_kind(&c, s))
                check_seed(&c, &s->size, &m->seed);
            break;
        }
    }

    /* Defaults: the network's init scheme for layers without their own, sgd(lr = 0.01). */
    for (int i = 0; i < m->nnodes; i++) {
        Node *l = &m->nodes[i];
        if (!l->init && !c.layers[i]->init) {
            l->init = init;
            memcpy(l->init_args, init_args, sizeof l->init_args);
        }
    }
    if (!c.first[STMT_OPTIMIZER]) {
        m->opt = find_op(OP_TABLE(opt_table), "sgd");
        for (int i = 0; i < count_params(m->opt->op.params); i++)
            m->opt_args[i] = m->opt->op.params[i].def;
    }

    check_missing(&c);
    if (!c.first[STMT_INPUT])
        c.widths_ok = false;
    check_loss_output(&c);
    infer_shapes(&c);
    check_buffers(&c);
    return d->errors == errors;
}

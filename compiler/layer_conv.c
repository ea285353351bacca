/*
 * layer_conv.c - the 2-D convolution, PyTorch's nn.Conv2d (cross-correlation, zero
 * padding, dilation 1, groups 1) followed by the activation.  Its row of the layer table
 * and its emitters, forward and backward side by side.
 *
 * Per sample, x is C×H×W, W is [F][C][KH][KW] and b [F] (state_dict order), and output
 * position p = (oh, ow) of filter f is
 *   z[f][p] = b[f] + Σ_{c,kh,kw} W[f][c][kh][kw] · x[c][oh·SH + kh − PH][ow·SW + kw − PW]
 * (0 outside the input).  The chain rule gives the backward:
 *   δ = d ⊙ act'(z),  ∂C/∂b[f] += Σ_p δ[f][p],
 *   ∂C/∂W[f][c][kh][kw] += Σ_p δ[f][p] · x[c][oh·SH + kh − PH][ow·SW + kw − PW],
 *   ∂C/∂x[c][ih][iw] += Σ δ[f][p] · W[f][c][kh][kw] over the (f, p, kh, kw) whose window
 *   reads x[c][ih][iw] (overlapping windows add).
 * Two lowerings, chosen by conv_plan (NODE_DIRECT):
 * - with several input channels, the filters in vector lanes forward: W packed as Wt[k][f]
 *   (tap k = (c·KH + kh)·KW + kw; F padded to FP), each output position's F sums start
 *   at the bias and take one fused multiply-add per tap, in tap order, of a vector of
 *   filters' weights by the one input the tap reads; a tile of positions along a row in
 *   registers shares each vector of weights loaded.  The rows zt[p] are then transposed
 *   into z (F × P, NCHW).  Backward by im2col and the dense layers' ∂W tiles, which skip
 *   the δ of 0: im2col lays the sample's windows out as rows, col[p] of K = C·KH·KW values
 *   in W's order (C·KH runs of KW values copied from x, within its padding), so that
 *   ∂C/∂W[f] += Σ_p δ[f][p]·col[p] is a dense ∂W over the P = OH·OW positions; then
 *   ∂C/∂col[p] = Σ_f δ[f][p]·W[f] added back where the window read x (col2im).
 * - with one input channel (an image's first layer), a window is only KH·KW values and
 *   im2col would copy each pixel KH·KW times for products of length KH·KW: the direct form
 *   instead, row by row, z[f][oh][·] += W[f][kh][kw] · xp[oh·SH + kh][kw + SW·(·)] over the
 *   taps, xp the input within its padding of zeros; backward the same rows give ∂C/∂x, and
 *   ∂C/∂W is summed per output column (ow) over rows and samples, then over the columns.
 * ∂C/∂b is summed per output column too: the loops over ow vectorize (a float sum in one
 * accumulator does not, as the compiler may not reassociate it).  The scratch of NAME_model
 * holds col, the product's rows, the padded input and the column sums (ir.c sizes it).
 */
#include "bpc.h"

#include <math.h>
#include <string.h>

enum { OPT_KERNEL, OPT_STRIDE, OPT_PADDING };

// ---- the shape rule, the parameters, the plan ----

/* The geometry the emitters use. */
typedef struct Conv {
    long C, H, W;      /* input */
    long F, OH, OW, P; /* output; P = OH·OW positions */
    long KH, KW, SH, SW, PH, PW;
    long K;            /* C·KH·KW, the length of a window */
    long HP, WP;       /* the input within its padding */
    bool padded;       /* PH or PW not 0 */
    bool direct;       /* NODE_DIRECT: the direct form, not im2col */
    bool flat;         /* direct at stride 1: rows of WP values, the last KW − 1 unused */
    long WS;           /* direct: the width of ∂C/∂W's column sums, WP flat, else OW */
    long FP;           /* else: F rounded up to LANE_PAD, the filters of Wt's rows */
} Conv;

/* Wt's rows are whole 64-byte vectors (16 floats, 8 doubles) of filters */
enum { LANE_PAD = 16 };

static Conv geometry(const Node *n)
{
    Conv g = {.C = n->in_shape.dim[0], .H = n->in_shape.dim[1], .W = n->in_shape.dim[2],
              .F = n->size[0],         .KH = n->opts[OPT_KERNEL][0], .KW = n->opts[OPT_KERNEL][1],
              .SH = n->opts[OPT_STRIDE][0], .SW = n->opts[OPT_STRIDE][1],
              .PH = n->opts[OPT_PADDING][0], .PW = n->opts[OPT_PADDING][1]};
    g.OH = (g.H + 2 * g.PH - g.KH) / g.SH + 1;
    g.OW = (g.W + 2 * g.PW - g.KW) / g.SW + 1;
    g.P = g.OH * g.OW;
    g.K = g.C * g.KH * g.KW;
    g.HP = g.H + 2 * g.PH;
    g.WP = g.W + 2 * g.PW;
    g.padded = g.PH || g.PW;
    g.direct = n->flags & NODE_DIRECT;
    g.flat = g.direct && g.SH == 1 && g.SW == 1;
    g.WS = g.flat ? g.WP : g.OW;
    g.FP = (g.F + LANE_PAD - 1) / LANE_PAD * LANE_PAD;
    return g;
}

/* The scratch, in its order.  direct: xp, the input within its padding (HP × WP, and KW
 * of slack for flat rows to read past the end); flat: planes of WP-wide rows (F × OH ×
 * WP), δ in the backward; dxp, ∂C/∂x within its padding (HP × WP); the column sums of
 * ∂C/∂W (F × K × WS).  Else the forward's rows zt (P × FP), Wt (K × FP) and the padded
 * bias (FP), over the backward's col, the windows as rows (P × K), then ∂C/∂col after
 * ∂C/∂W; with padding, xp and dxp (C × HP × WP each).  Then in both the column sums of
 * ∂C/∂b (F × OW).  The plane, the column sums of ∂C/∂W, zt and Wt start on a 64-byte
 * boundary (emit_aligned), with ALIGN elements of slack before each for it.  The
 * offsets: */
enum { AT_XP, AT_PLANE, AT_DXP, AT_WSUM, AT_ROWS, AT_PACKED, AT_BSUM };
enum { ALIGN = 16 };

static long scratch_at(const Conv *g, int what)
{
    long at[AT_BSUM + 1] = {0};
    if (g->direct) {
        at[AT_PLANE] = g->HP * g->WP + g->KW;
        at[AT_DXP] = at[AT_PLANE] + (g->flat ? ALIGN + g->F * g->OH * g->WP : 0);
        at[AT_WSUM] = at[AT_DXP] + g->HP * g->WP;
        at[AT_BSUM] = at[AT_WSUM] + ALIGN + g->F * g->K * g->WS;
    } else {
        long padded = g->padded ? g->C * g->HP * g->WP : 0;
        at[AT_PACKED] = ALIGN + g->P * g->FP;
        long forward = at[AT_PACKED] + ALIGN + (g->K + 1) * g->FP;
        at[AT_XP] = forward > g->P * g->K ? forward : g->P * g->K;
        at[AT_DXP] = at[AT_XP] + padded;
        at[AT_BSUM] = at[AT_DXP] + padded;
    }
    return at[what];
}

static bool conv_infer(Diag *d, Node *n)
{
    if (!layer_needs_image(d, n))
        return false;
    const long *in = n->in_shape.dim, *k = n->opts[OPT_KERNEL], *p = n->opts[OPT_PADDING];
    if (k[0] > in[1] + 2 * p[0] || k[1] > in[2] + 2 * p[1]) {
        diag_error(d, n->loc, "conv2d: kernel %ldx%ld is larger than its padded input %ldx%ld",
                   k[0], k[1], in[1] + 2 * p[0], in[2] + 2 * p[1]);
        return false;
    }
    /* the output, a window and the scratch must stay within the limits; the products
     * are taken in double first, as they may not fit in 64 bits */
    const long *s = n->opts[OPT_STRIDE];
    double oh = (double)((in[1] + 2 * p[0] - k[0]) / s[0] + 1);
    double ow = (double)((in[2] + 2 * p[1] - k[1]) / s[1] + 1);
    double out = (double)n->size[0] * oh * ow, window = (double)in[0] * (double)k[0] * (double)k[1];
    double f = (double)n->size[0], padded = (double)(in[1] + 2 * p[0]) * (double)(in[2] + 2 * p[1]);
    double fp = f + LANE_PAD, forward = 2 * ALIGN + (oh * ow + window + 1) * fp;
    double scratch = f * ow + (in[0] == 1 ? 2 * padded + (double)k[1] + 2 * ALIGN + f * oh * (double)(in[2] + 2 * p[1]) +
                                                f * window * (double)(in[2] + 2 * p[1]) /* scratch_at */
                                          : fmax(oh * ow * window, forward) +
                                                (p[0] || p[1] ? 2 * (double)in[0] * padded : 0));
    if (out > BPC_MAX_UNITS || window > BPC_MAX_UNITS || scratch > BPC_MAX_PARAMS) {
        diag_error(d, n->loc, "conv2d: an output of %ldx%.0fx%.0f with windows of %.0f values is "
                   "beyond the limits", n->size[0], oh, ow, window);
        diag_note(d, n->loc, "at most %ld values out and in a window, and %ld of scratch",
                  BPC_MAX_UNITS, BPC_MAX_PARAMS);
        return false;
    }
    Conv g = geometry(n);
    n->shape = (Shape){.rank = 3, .dim = {g.F, g.OH, g.OW}};
    n->out = g.F * g.P;
    return true;
}

static void conv_params(Node *n)
{
    Conv g = geometry(n);
    n->nparams = 2;
    n->params[0] = (Tensor){.name = "W", .torch = "weight", .rank = 4, .dim = {g.F, g.C, g.KH, g.KW},
                            .size = g.F * g.K, .fan_in = (double)g.K,
                            .fan_out = (double)(g.F * g.KH * g.KW), .drawn = true};
    n->params[1] = (Tensor){.name = "b", .torch = "bias", .rank = 1, .dim = {g.F}, .size = g.F};
}

/* The same input shape, filters and options: the same geometry. */
static bool same_geometry(const Node *a, const Node *b)
{
    return a->kind == b->kind && a->size[0] == b->size[0] &&
           memcmp(a->in_shape.dim, b->in_shape.dim, sizeof a->in_shape.dim) == 0 &&
           memcmp(a->opts, b->opts, sizeof a->opts) == 0;
}

/* Always looped; direct with one input channel (the comment at the top), else the
 * filters in lanes forward, and backward the ∂W tiles over the P positions (∂W) and
 * the F filters (∂C/∂col).  Its kernels of that form (the lanes, im2col and the
 * sample's backward) are the first earlier layer's of the same geometry and ∂x, if
 * any: Node.tiles_of. */
static void conv_plan(const Model *m, Node *n, long unroll)
{
    (void)unroll;
    n->flags |= n->in_shape.dim[0] == 1 ? NODE_DIRECT : NODE_DW_TILES;
    Conv g = geometry(n);
    n->scratch = scratch_at(&g, AT_BSUM) + g.F * g.OW;
    if (g.direct)
        return;
    /* ∂W passes the P positions, ∂C/∂col the F filters */
    n->dw_samples = g.F > g.P && (n->flags & NODE_NEEDS_DX) ? g.F : g.P;
    for (int j = 0; j < n->index; j++) {
        const Node *o = &m->nodes[j];
        if (same_geometry(o, n) && (o->flags & NODE_NEEDS_DX) == (n->flags & NODE_NEEDS_DX)) {
            n->tiles_of = j;
            break;
        }
    }
}

static void conv_fingerprint(char *buf, size_t size, const Node *n)
{
    Conv g = geometry(n);
    snprintf(buf, size, "conv2d=%ldx%ldx%ldx%lds%ldx%ldp%ldx%ld", g.F, g.C, g.KH, g.KW, g.SH, g.SW,
             g.PH, g.PW);
}

static void conv_describe(char *buf, size_t size, const Node *n)
{
    Conv g = geometry(n);
    char act[96];
    gen_describe_call(act, sizeof act, n->act->op.name, n->act->op.params, n->act_args);
    snprintf(buf, size, "conv %ldx%ld stride %ldx%ld padding %ldx%ld, %s", g.KH, g.KW, g.SH, g.SW,
             g.PH, g.PW, act);
}

// ---- the products of this file's own loops ----

/* "acc = NAME_FMA(a, b, acc);": every multiply-add of this file's loops is written here,
 * in one place, fused as the tiles' (gen_kernels.c: a·b + acc rounded once). */
static const char *madd(const GenCtx *c, char *buf, size_t size, const char *acc, const char *a,
                        const char *b)
{
    snprintf(buf, size, "%s = %s_FMA(%s, %s, %s);", acc, c->name, a, b, acc);
    return buf;
}

// ---- im2col and col2im ----

/* NAME_L_im2col: the sample's windows as the rows of col, in W's order, from x within
 * its padding; each window is C·KH runs of KW values that lie side by side in x. */
static void emit_im2col(Emit *e, const GenCtx *c, const Node *l, const Conv *g)
{
    emit_line(e, "/* %s's windows (im2col): col[oh·%ld + ow][(c·%ld + kh)·%ld + kw] = "
                 "x[c][oh·%ld + kh][ow·%ld + kw]%s */", l->label, g->OW, g->KH, g->KW, g->SH,
              g->SW, g->padded ? ", x within its padding" : "");
    emit_line(e, "static void %s_%s_im2col(const %s *restrict x, %s *restrict col)", c->name,
              l->label, c->real, c->real);
    emit_brace(e);
    emit_line(e, "for (int oh = 0; oh < %ld; oh++)", g->OH);
    emit_cont(e, "for (int ow = 0; ow < %ld; ow++)", g->OW);
    emit_cont(e, "    for (int c = 0; c < %ld; c++)", g->C);
    emit_cont(e, "        for (int kh = 0; kh < %ld; kh++)", g->KH);
    emit_cont(e, "            memcpy(col + (((oh * %ld + ow) * %ld + c) * %ld + kh) * %ld, "
                 "x + (c * %ld + oh * %ld + kh) * %ld + ow * %ld, %ld * sizeof *col);", g->OW, g->C,
              g->KH, g->KW, g->HP, g->SH, g->WP, g->SW, g->KW);
    emit_close(e);
    emit_end(e);
}

/* NAME_L_unwindow: the reverse of one window, dx += the row where the window read x
 * (within its padding). */
static void emit_unwindow(Emit *e, const GenCtx *c, const Node *l, const Conv *g)
{
    emit_line(e, "/* the reverse of %s's window at (oh, ow): dx[c][oh·%ld + kh][ow·%ld + kw] += "
                 "drow[(c·%ld + kh)·%ld + kw]%s */", l->label, g->SH, g->SW, g->KH, g->KW,
              g->padded ? ", dx within its padding" : "");
    emit_line(e, "static void %s_%s_unwindow(const %s *restrict drow, int oh, int ow, "
                 "%s *restrict dx)", c->name, l->label, c->real, c->real);
    emit_brace(e);
    emit_open(e, "for (int c = 0; c < %ld; c++)", g->C);
    emit_open(e, "for (int kh = 0; kh < %ld; kh++)", g->KH);
    emit_line(e, "%s *restrict dr = dx + (c * %ld + oh * %ld + kh) * %ld + ow * %ld;", c->real,
              g->HP, g->SH, g->WP, g->SW);
    emit_line(e, "const %s *restrict sr = drow + (c * %ld + kh) * %ld;", c->real, g->KH, g->KW);
    emit_line(e, "for (int kw = 0; kw < %ld; kw++)", g->KW);
    emit_cont(e, "dr[kw] += sr[kw];");
    emit_close(e);
    emit_close(e);
    emit_close(e);
    emit_end(e);
}

// ---- the padded input ----

/* `real *restrict NAME` at scratch offset `at`, moved up to a 64-byte boundary (within
 * the ALIGN elements of slack): whole-vector stores to it then never split a cache line,
 * as stores across two lines are slow (LeNet-5's training step runs about a tenth faster). */
static void emit_aligned(Emit *e, const GenCtx *c, const char *name, long at, const char *dims)
{
    emit_line(e, "%s *restrict %s = (%s *)(((uintptr_t)(m->scratch + %ld) + 63) & ~(uintptr_t)63); "
                 "/* %s */", c->real, name, c->real, at, dims);
}

/* xp, the input within its padding (zeroed once per call: each sample writes only its
 * interior), and with `plane` in the flat form the backward's plane, zeroed too (its δ
 * rows leave its last columns 0). */
static void emit_padded_input(Emit *e, const GenCtx *c, const Conv *g, bool plane)
{
    long size = g->direct ? g->HP * g->WP + g->KW : g->C * g->HP * g->WP;
    if (g->direct)
        emit_line(e, "%s *restrict xp = m->scratch + %ld; /* [%ld][%ld] and %ld: 0 in the padding */",
                  c->real, scratch_at(g, AT_XP), g->HP, g->WP, g->KW);
    else
        emit_line(e, "%s *restrict xp = m->scratch + %ld; /* [%ld][%ld][%ld]: 0 in the padding */",
                  c->real, scratch_at(g, AT_XP), g->C, g->HP, g->WP);
    emit_line(e, "memset(xp, 0, %ld * sizeof *xp);", size);
    if (!plane || !g->flat)
        return;
    char dims[64];
    snprintf(dims, sizeof dims, "[%ld][%ld][%ld]", g->F, g->OH, g->WP);
    emit_aligned(e, c, "plane", scratch_at(g, AT_PLANE), dims);
    emit_line(e, "memset(plane, 0, %ld * sizeof *plane);", g->F * g->OH * g->WP);
}

/* Copies the C·H rows of x (`x`, [C][H][W]) into the interior of xp (`xp`, [C][HP][WP]),
 * or, `out`, back from xp's interior into x. */
static void emit_pad_rows(Emit *e, const Conv *g, const char *x, const char *xp, bool out)
{
    char xr[64], xpr[64];
    if (g->C > 1) {
        emit_line(e, "for (int c = 0; c < %ld; c++)", g->C);
        snprintf(xr, sizeof xr, "(c * %ld + ih) * %ld", g->H, g->W);
        snprintf(xpr, sizeof xpr, "(c * %ld + ih + %ld) * %ld + %ld", g->HP, g->PH, g->WP, g->PW);
    } else {
        snprintf(xr, sizeof xr, "ih * %ld", g->W);
        snprintf(xpr, sizeof xpr, "(ih + %ld) * %ld + %ld", g->PH, g->WP, g->PW);
    }
    (g->C > 1 ? emit_cont : emit_line)(e, "for (int ih = 0; ih < %ld; ih++)", g->H);
    if (out)
        emit_line(e, "%smemcpy(%s + %s, %s + %s, %ld * sizeof *%s);", g->C > 1 ? "        " : "    ",
                  x, xr, xp, xpr, g->W, xp);
    else
        emit_line(e, "%smemcpy(%s + %s, %s + %s, %ld * sizeof *%s);", g->C > 1 ? "        " : "    ",
                  xp, xpr, x, xr, g->W, xp);
}

/* r0, r1 of the direct form: xp's rows [r0, r1) hold the sample's input rows that are
 * not all 0.  The taps skip the other rows: their products are ±0, and adding ±0 changes
 * no sum that starts from a bias or from +0 (none of which is −0), so that skipping them
 * is exact; an MNIST digit leaves about a quarter of its rows 0. */
static void emit_row_scan(Emit *e, const Conv *g, long in)
{
    emit_line(e, "/* r0, r1: xp's rows [r0, r1) hold the input's rows that are not all 0 */");
    emit_line(e, "int r0 = 0, r1 = 0;");
    emit_open(e, "for (int ih = 0; ih < %ld; ih++)", g->H);
    emit_line(e, "int any = 0;");
    emit_line(e, "for (int iw = 0; iw < %ld; iw++)", g->W);
    emit_cont(e, "any |= in[s * %ld + ih * %ld + iw] != 0;", in, g->W);
    emit_line(e, "r0 = any && !r1 ? ih + %ld : r0;", g->PH);
    emit_line(e, "r1 = any ? ih + %ld : r1;", g->PH + 1);
    emit_close(e);
}

/* Opens the loops over the taps (kh, kw), with k, the tap's index in W[f][0], in scope;
 * with `rows`, also lo and hi: the output rows [lo, hi) whose xp row oh·SH + kh is one of
 * [r0, r1). */
static void open_tap_loops(Emit *e, const Conv *g, bool rows)
{
    emit_open(e, "for (int kh = 0; kh < %ld; kh++)", g->KH);
    if (rows && g->SH == 1) {
        emit_line(e, "const int lo = r0 > kh ? r0 - kh : 0, hi = r1 - kh < %ld ? r1 - kh : %ld;",
                  g->OH, g->OH);
    } else if (rows) {
        emit_line(e, "const int lo = r0 > kh ? (r0 - kh + %ld) / %ld : 0;", g->SH - 1, g->SH);
        emit_line(e, "const int end = r1 > kh ? (r1 - kh + %ld) / %ld : 0, hi = end < %ld ? end : %ld;",
                  g->SH - 1, g->SH, g->OH, g->OH);
    }
    emit_open(e, "for (int kw = 0; kw < %ld; kw++)", g->KW);
    emit_line(e, "const int k = kh * %ld + kw;", g->KW);
}

/* The input of column i of a row of outputs, in xp's row xr: "xr[i]", or at stride SW. */
static const char *row_input(char *buf, size_t size, const Conv *g)
{
    if (g->SW == 1)
        snprintf(buf, size, "xr[i]");
    else
        snprintf(buf, size, "xr[i * %ld]", g->SW);
    return buf;
}

// ---- the per-sample kernels ----

/* Their loops over ow are elementwise (no sums carried), so the compiler vectorizes them
 * at whatever width the target has, and every width rounds alike: kern_cloned compiles
 * them for each instruction set of the product tiles and picks the best at run time. */

// ---- forward ----

/* The filters-in-lanes forward of one sample, from x (within its padding): zt[p][f] =
 * bp[f] + Σ_k Wt[k][f]·x_k(p), one fused multiply-add per tap k in tap order, so that
 * every output is its own lane and any vector width rounds alike.  A tile holds T
 * positions along a row × one 64-byte vector of filters in registers (as many as the
 * target has, less a few for the weights and inputs): each vector of weights loaded
 * serves T positions, each input loaded the vector.  (LeNet-5's training step: about a
 * tenth faster than im2col and the dense layers' product tiles.)  A row's tiles are of
 * one size; the last ends at the row's end, over outputs of the one before again, which
 * it writes with the same values.  The loops over the tile's positions are unrolled
 * (its sums then stay in registers), those over a vector's filters are left to the
 * vectorizer (unrolled too, they took clang with the sanitizers 70% longer to compile). */
static void lanes_body(Emit *e, const GenCtx *c, const Node *l, const KernTarget *t,
                       const void *arg)
{
    const Conv *g = arg;
    (void)l;
    const char *R = c->real;
    char buf[BPC_MAX_IDENT + 128], xs[64];
    long FC = c->dbl ? 8 : 16, per = 64 / t->vec_bytes;
    long tmax = (t->regs - 4) / per < 16 ? (t->regs - 4) / per : 16;
    long tiles = (g->OW + tmax - 1) / tmax, T = (g->OW + tiles - 1) / tiles;
    const char *ow0 = tiles > 1 ? " + ow0" : "", *f0 = g->FP > FC ? "f0 + " : "";
    emit_open(e, "for (int oh = 0; oh < %ld; oh++)", g->OH);
    if (tiles > 1) {
        emit_open(e, "for (int t0 = 0; t0 < %ld; t0 += %ld)", g->OW, T);
        if (g->OW % T)
            emit_line(e, "const int ow0 = t0 < %ld ? t0 : %ld;", g->OW - T, g->OW - T);
        else
            emit_line(e, "const int ow0 = t0;");
    }
    if (g->FP > FC)
        emit_open(e, "for (int f0 = 0; f0 < %ld; f0 += %ld)", g->FP, FC);
    emit_line(e, "%s acc[%ld][%ld];", R, T, FC);
    kern_unroll(e, T);
    emit_open(e, "for (int t = 0; t < %ld; t++)", T);
    emit_line(e, "for (int f = 0; f < %ld; f++)", FC);
    emit_cont(e, "acc[t][f] = bp[%sf];", f0);
    emit_close(e);
    emit_open(e, "for (int c = 0; c < %ld; c++)", g->C);
    emit_open(e, "for (int kh = 0; kh < %ld; kh++)", g->KH);
    if (tiles > 1)
        emit_line(e, "const %s *restrict xr = x + (c * %ld + oh * %ld + kh) * %ld + ow0 * %ld;", R,
                  g->HP, g->SH, g->WP, g->SW);
    else
        emit_line(e, "const %s *restrict xr = x + (c * %ld + oh * %ld + kh) * %ld;", R, g->HP,
                  g->SH, g->WP);
    emit_line(e, "const %s *restrict wr = Wt + (c * %ld + kh) * %ld%s;", R, g->KH, g->KW * g->FP,
              g->FP > FC ? " + f0" : "");
    kern_unroll(e, g->KW < 16 ? g->KW : 16);
    emit_open(e, "for (int kw = 0; kw < %ld; kw++)", g->KW);
    kern_unroll(e, T);
    emit_open(e, "for (int t = 0; t < %ld; t++)", T);
    if (g->SW == 1)
        emit_line(e, "const %s v = xr[t + kw];", R);
    else
        emit_line(e, "const %s v = xr[t * %ld + kw];", R, g->SW);
    emit_line(e, "for (int f = 0; f < %ld; f++)", FC);
    snprintf(xs, sizeof xs, "wr[kw * %ld + f]", g->FP);
    emit_cont(e, "%s", madd(c, buf, sizeof buf, "acc[t][f]", xs, "v"));
    for (int k = 0; k < 4; k++)
        emit_close(e);
    emit_line(e, "for (int t = 0; t < %ld; t++)", T);
    emit_cont(e, "memcpy(zt[oh * %ld%s + t]%s, acc[t], sizeof acc[t]);", g->OW, ow0,
              g->FP > FC ? " + f0" : "");
    if (g->FP > FC)
        emit_close(e);
    if (tiles > 1)
        emit_close(e);
    emit_close(e);
}

/* The direct form's forward of one sample: z from the padded input xp, a row of FB
 * filters' outputs at a time, their taps summed into acc, which the compiler keeps in
 * registers (FB as many as fit, less a few for the row and the weights): each row of xp
 * loaded serves FB filters, and the FB·WS sums are independent chains of fused
 * multiply-adds, where one filter's row alone is a chain of KH·KW dependent ones (LeNet-5's
 * inference at batch 256: c1 with FB = 6 (AVX-512) against 1, 11–17% more samples a
 * second; a pass over the whole plane per tap had 10% fewer than rows).  The last block of filters ends at the
 * last filter, over filters of the one before again, which it writes with the same
 * values.  Only the taps whose xp row is one of [r0, r1) are visited.  Flat (stride 1),
 * acc is WP wide, as xp's rows are, so that its loops have no remainder; its last KW − 1
 * columns are not kept. */
static void direct_forward_body(Emit *e, const GenCtx *c, const Node *l, const KernTarget *t,
                                const void *arg)
{
    const Conv *g = arg;
    (void)l;
    const char *R = c->real;
    char buf[BPC_MAX_IDENT + 128], xs[32];
    long row_regs = (g->WS * (c->dbl ? 8 : 4) + t->vec_bytes - 1) / t->vec_bytes;
    long fbmax = (t->regs - 4) / row_regs < 1 ? 1 : (t->regs - 4) / row_regs;
    long blocks = (g->F + fbmax - 1) / fbmax, FB = (g->F + blocks - 1) / blocks;
    emit_open(e, "for (int oh = 0; oh < %ld; oh++)", g->OH);
    emit_line(e, "const int k0 = r0 > oh * %ld ? r0 - oh * %ld : 0;", g->SH, g->SH);
    emit_line(e, "const int k1 = r1 - oh * %ld < %ld ? r1 - oh * %ld : %ld;", g->SH, g->KH, g->SH, g->KH);
    if (blocks > 1) {
        emit_open(e, "for (int b0 = 0; b0 < %ld; b0 += %ld)", g->F, FB);
        if (g->F % FB)
            emit_line(e, "const int f0 = b0 < %ld ? b0 : %ld;", g->F - FB, g->F - FB);
        else
            emit_line(e, "const int f0 = b0;");
    } else {
        emit_line(e, "const int f0 = 0;");
    }
    emit_line(e, "%s acc[%ld][%ld];", R, FB, g->WS);
    kern_unroll(e, FB);
    emit_line(e, "for (int q = 0; q < %ld; q++)", FB);
    emit_cont(e, "for (int i = 0; i < %ld; i++)", g->WS);
    emit_cont(e, "    acc[q][i] = b[f0 + q];");
    emit_open(e, "for (int kh = k0; kh < k1; kh++)");
    emit_open(e, "for (int kw = 0; kw < %ld; kw++)", g->KW);
    emit_line(e, "const %s *restrict xr = xp + (oh * %ld + kh) * %ld + kw;", R, g->SH, g->WP);
    kern_unroll(e, FB);
    emit_open(e, "for (int q = 0; q < %ld; q++)", FB);
    emit_line(e, "const %s w = W[(f0 + q) * %ld + kh * %ld + kw];", R, g->KH * g->KW, g->KW);
    emit_line(e, "for (int i = 0; i < %ld; i++)", g->WS);
    emit_cont(e, "%s", madd(c, buf, sizeof buf, "acc[q][i]", "w", row_input(xs, sizeof xs, g)));
    emit_close(e);
    emit_close(e);
    emit_close(e);
    emit_line(e, "for (int q = 0; q < %ld; q++)", FB);
    emit_cont(e, "memcpy(z + ((f0 + q) * %ld + oh) * %ld, acc[q], %ld * sizeof *z);", g->OH, g->OW,
              g->OW);
    if (blocks > 1)
        emit_close(e);
    emit_close(e);
}

/* The sample's input, x within its padding when the layer has one: `in + s * size`,
 * or xp after the copy. */
static const char *emit_sample_input(Emit *e, const Conv *g, long size, char *buf, size_t len)
{
    snprintf(buf, len, "in + s * %ld", size);
    if (!g->padded && !g->direct)
        return buf;
    emit_pad_rows(e, g, buf, "xp", false);
    return "xp";
}

static void conv_forward(Emit *e, const GenCtx *c, const Node *l)
{
    const char *N = c->name, *R = c->real;
    Conv g = geometry(l);
    char act[128], x[BPC_MAX_IDENT + 16], params[256], input[64];
    if (g.direct) {
        emit_line(e, "/* %s, one sample, direct: z[f][oh][ow] = b[f] + Σ_{kh,kw} W[f][0][kh][kw]·"
                     "xp[oh·%ld + kh][ow·%ld + kw] */", l->label, g.SH, g.SW);
        snprintf(params, sizeof params, "const %s *restrict W, const %s *restrict b, "
                 "const %s *restrict xp, int r0, int r1, %s *restrict z", R, R, R, R);
        kern_cloned(e, c, l, "sample", params, "W, b, xp, r0, r1, z", direct_forward_body, &g);
    } else if (l->tiles_of == l->index) {
        emit_line(e, "/* %s, one sample, the filters in lanes: zt[oh·%ld + ow][f] = bp[f] + "
                     "Σ_{c,kh,kw} Wt[(c·%ld + kh)·%ld + kw][f]·x[c][oh·%ld + kh][ow·%ld + kw]%s */",
                  l->label, g.OW, g.KH, g.KW, g.SH, g.SW, g.padded ? ", x within its padding" : "");
        snprintf(params, sizeof params, "const %s *restrict Wt, const %s *restrict bp, "
                 "const %s *restrict x, %s (*restrict zt)[%ld]", R, R, R, R, g.FP);
        kern_cloned(e, c, l, "lanes", params, "Wt, bp, x, zt", lanes_body, &g);
    }
    gen_act_formula(act, sizeof act, l);
    gen_input_name(x, sizeof x, c->m, l);
    emit_line(e, "/* %s: (n, %ld, %ld, %ld) = %s of conv(x (n, %ld, %ld, %ld), W [%ld][%ld][%ld][%ld])"
                 " + b", l->label, g.F, g.OH, g.OW, l->act->op.name, g.C, g.H, g.W, g.F, g.C, g.KH,
              g.KW);
    emit_line(e, " *   x: %s; stride %ldx%ld, padding %ldx%ld; a = %s; %s */", x, g.SH, g.SW, g.PH,
              g.PW, act, g.direct ? "direct, xp = x within its padding" : "the filters in lanes");
    emit_line(e, "static void %s_%s_forward(%s_model *m, const %s *in, int n)", N, l->label, N, R);
    emit_brace(e);
    emit_line(e, "const %s *restrict W = m->params + %ld; /* [%ld][%ld][%ld][%ld] */", R,
              l->params[0].offset, g.F, g.C, g.KH, g.KW);
    emit_line(e, "const %s *restrict b = m->params + %ld; /* [%ld] */", R, l->params[1].offset, g.F);
    if (!g.direct) {
        char dims[64];
        snprintf(dims, sizeof dims, "[%ld][%ld]", g.P, g.FP);
        emit_aligned(e, c, "rows", scratch_at(&g, AT_ROWS), dims);
        emit_line(e, "%s (*restrict zt)[%ld] = (%s (*)[%ld])rows;", R, g.FP, R, g.FP);
        snprintf(dims, sizeof dims, "[%ld][%ld], then bp [%ld]", g.K, g.FP, g.FP);
        emit_aligned(e, c, "Wt", scratch_at(&g, AT_PACKED), dims);
        emit_line(e, "%s *restrict bp = Wt + %ld;", R, g.K * g.FP);
        if (g.FP > g.F) {
            emit_line(e, "/* Wt[k][f] = W[f][k] and bp[f] = b[f], 0 for the filters f ≥ %ld that "
                         "pad them */", g.F);
            emit_line(e, "for (int k = 0; k < %ld; k++)", g.K);
            emit_cont(e, "for (int f = 0; f < %ld; f++)", g.FP);
            emit_cont(e, "    Wt[k * %ld + f] = f < %ld ? W[f * %ld + k] : 0;", g.FP, g.F, g.K);
            emit_line(e, "for (int f = 0; f < %ld; f++)", g.FP);
            emit_cont(e, "bp[f] = f < %ld ? b[f] : 0;", g.F);
        } else {
            emit_line(e, "/* Wt[k][f] = W[f][k] and bp = b */");
            emit_line(e, "for (int k = 0; k < %ld; k++)", g.K);
            emit_cont(e, "for (int f = 0; f < %ld; f++)", g.F);
            emit_cont(e, "    Wt[k * %ld + f] = W[f * %ld + k];", g.FP, g.K);
            emit_line(e, "memcpy(bp, b, %ld * sizeof *bp);", g.F);
        }
    }
    if (g.direct || g.padded)
        emit_padded_input(e, c, &g, false);
    emit_open(e, "for (int s = 0; s < n; s++)");
    emit_line(e, "%s *restrict z = m->%s_z[s];", R, l->label);
    emit_line(e, "%s *restrict a = m->%s_a[s];", R, l->label);
    const char *xs = emit_sample_input(e, &g, l->in, input, sizeof input);
    if (g.direct) {
        emit_row_scan(e, &g, l->in);
        emit_line(e, "%s_%s_sample(W, b, xp, r0, r1, z);", N, l->label);
    } else {
        emit_line(e, "%s_%s_lanes(Wt, bp, %s, zt);", N, c->m->nodes[l->tiles_of].label, xs);
        emit_line(e, "/* z = the rows transposed: (F, OH, OW) */");
        emit_line(e, "for (int f = 0; f < %ld; f++)", g.F);
        emit_cont(e, "for (int p = 0; p < %ld; p++)", g.P);
        emit_cont(e, "    z[f * %ld + p] = zt[p][f];", g.P);
    }
    emit_line(e, "/* a = %s */", act);
    gen_emit_act(e, c, l, false);
    emit_close(e);
    emit_close(e);
    emit_end(e);
}

// ---- backward ----

/* Column sums: acc[row][ow] += v over a loop the caller opened; the sums of each row
 * over ow into dst[row] once at the end of the call. */
static void emit_column_reduce(Emit *e, const GenCtx *c, const char *acc, long rows, long ow,
                               const char *dst)
{
    emit_open(e, "for (int i = 0; i < %ld; i++)", rows);
    emit_line(e, "%s sum = 0;", c->real);
    emit_line(e, "for (int ow = 0; ow < %ld; ow++)", ow);
    emit_cont(e, "sum += %s[i * %ld + ow];", acc, ow);
    emit_line(e, "%s[i] += sum;", dst);
    emit_close(e);
}

/* The direct form's backward of one sample, δ in d: ∂C/∂W's column sums into wsum, tap
 * by tap, each tap's rows summed over the output rows in acc for a group of filters that
 * share each xp row loaded (flat: δ's rows copied WP wide into `plane`, whose last
 * columns stay 0), only those whose xp row is one of [r0, r1); and with ∂x, ∂C/∂xp
 * into dxp (zeroed by the caller), tap by tap over the plane of each filter, so that
 * consecutive updates are to different rows. */
static void direct_backward_body(Emit *e, const GenCtx *c, const Node *l, const KernTarget *t,
                                 const void *arg)
{
    const Conv *g = arg;
    (void)t;
    const char *R = c->real;
    char buf[BPC_MAX_IDENT + 128], xs[32];
    /* FB filters at a time share each row of xp loaded (LeNet-5's training step 3–4%
     * faster than filter by filter): FB divides F, and their sums take at most 1 KiB
     * (16 of AVX-512's registers) */
    long FB = 1;
    for (long q = 2; q <= g->F; q++)
        if (g->F % q == 0 && q * g->WS * (c->dbl ? 8 : 4) <= 1024)
            FB = q;
    if (g->flat) {
        emit_line(e, "for (int f = 0; f < %ld; f++)", g->F);
        emit_cont(e, "for (int oh = 0; oh < %ld; oh++)", g->OH);
        emit_cont(e, "    memcpy(plane + (f * %ld + oh) * %ld, d + (f * %ld + oh) * %ld, %ld * sizeof *plane);",
                  g->OH, g->WP, g->OH, g->OW, g->OW);
    }
    emit_open(e, "for (int f0 = 0; f0 < %ld; f0 += %ld)", g->F, FB);
    open_tap_loops(e, g, true);
    emit_line(e, "%s acc[%ld][%ld];", R, FB, g->WS);
    emit_line(e, "for (int q = 0; q < %ld; q++)", FB);
    emit_cont(e, "memcpy(acc[q], wsum + ((f0 + q) * %ld + k) * %ld, sizeof acc[q]);", g->KH * g->KW,
              g->WS);
    emit_open(e, "for (int oh = lo; oh < hi; oh++)");
    emit_line(e, "const %s *restrict xr = xp + (oh * %ld + kh) * %ld + kw;", R, g->SH, g->WP);
    emit_open(e, "for (int q = 0; q < %ld; q++)", FB);
    if (g->flat)
        emit_line(e, "const %s *restrict dr = plane + ((f0 + q) * %ld + oh) * %ld;", R, g->OH, g->WP);
    else
        emit_line(e, "const %s *restrict dr = d + ((f0 + q) * %ld + oh) * %ld;", R, g->OH, g->OW);
    emit_line(e, "for (int i = 0; i < %ld; i++)", g->WS);
    emit_cont(e, "%s", madd(c, buf, sizeof buf, "acc[q][i]", "dr[i]", row_input(xs, sizeof xs, g)));
    emit_close(e);
    emit_close(e);
    emit_line(e, "for (int q = 0; q < %ld; q++)", FB);
    emit_cont(e, "memcpy(wsum + ((f0 + q) * %ld + k) * %ld, acc[q], sizeof acc[q]);", g->KH * g->KW,
              g->WS);
    for (int k = 0; k < 3; k++)
        emit_close(e);
    if (!(l->flags & NODE_NEEDS_DX))
        return;
    emit_open(e, "for (int f = 0; f < %ld; f++)", g->F);
    open_tap_loops(e, g, false);
    emit_line(e, "const %s w = W[f * %ld + k];", R, g->KH * g->KW);
    emit_open(e, "for (int oh = 0; oh < %ld; oh++)", g->OH);
    emit_line(e, "%s *restrict dr = dxp + (oh * %ld + kh) * %ld + kw;", R, g->SH, g->WP);
    emit_line(e, "const %s *restrict dd = d + (f * %ld + oh) * %ld;", R, g->OH, g->OW);
    snprintf(xs, sizeof xs, "dr[ow * %ld]", g->SW);
    emit_line(e, "for (int ow = 0; ow < %ld; ow++)", g->OW);
    emit_cont(e, "%s", madd(c, buf, sizeof buf, xs, "w", "dd[ow]"));
    for (int k = 0; k < 4; k++)
        emit_close(e);
}

/* The im2col form's backward of one sample, δ in d and the windows in col, by the dense
 * layers' ∂W tiles (gen_kernels.c), which sum in registers over the δ that are not 0
 * (after a pooling and a ReLU most are 0): ∂C/∂W[f] += Σ_p δ[f][p]·col[p], filter f a
 * row and each position a sample (its δ at stride 1); then, with ∂x, col is no longer
 * needed and takes ∂C/∂col[p] = Σ_f δ[f][p]·W[f], position p a row and each filter a
 * sample (its δ at stride P), added back where the window read x (dx, zeroed by the
 * caller). */
static void emit_im2col_backward(Emit *e, const GenCtx *c, const Node *l, const Conv *g)
{
    const char *N = c->name, *R = c->real;
    bool dx = l->flags & NODE_NEEDS_DX;
    emit_line(e, "/* %s backward, one sample: ∂C/∂W[f] += Σ_p δ[f][p]·col[p]%s */", l->label,
              dx ? "; ∂C/∂col[p] = Σ_f δ[f][p]·W[f] into col, added back where the window read x"
                 : "");
    if (dx)
        emit_line(e, "static void %s_%s_sample_backward(const %s *restrict W, const %s *restrict d, "
                     "%s *restrict col, %s *restrict dx, %s *restrict dW)", N, l->label, R, R, R, R, R);
    else
        emit_line(e, "static void %s_%s_sample_backward(const %s *restrict d, const %s *restrict col, "
                     "%s *restrict dW)", N, l->label, R, R, R);
    emit_brace(e);
    emit_line(e, "for (int f = 0; f < %ld; f++)", g->F);
    emit_cont(e, "%s_dw_best(%ld, %ld, 1, 0, 1, d + f * %ld, col, dW + f * %ld);", N, g->P, g->K,
              g->P, g->K);
    if (dx) {
        emit_line(e, "memset(col, 0, %ld * sizeof *col);", g->P * g->K);
        emit_line(e, "%s_dw_best(%ld, %ld, %ld, 0, %ld, d, W, col);", N, g->F, g->K, g->P, g->P);
        emit_line(e, "for (int oh = 0; oh < %ld; oh++)", g->OH);
        emit_cont(e, "for (int ow = 0; ow < %ld; ow++)", g->OW);
        emit_cont(e, "    %s_%s_unwindow(col + (oh * %ld + ow) * %ld, oh, ow, dx);", N, l->label,
                  g->OW, g->K);
    }
    emit_close(e);
    emit_end(e);
}

/* "T *restrict NAME, " of a kernel's parameter list when `on`, else "". */
static const char *param(char *buf, size_t size, bool on, const char *type, const char *name)
{
    if (on)
        snprintf(buf, size, "%s *restrict %s, ", type, name);
    else
        buf[0] = '\0';
    return buf;
}

static void conv_backward(Emit *e, const GenCtx *c, const Node *l)
{
    const char *N = c->name, *R = c->real, *owner = c->m->nodes[l->tiles_of].label;
    Conv g = geometry(l);
    bool dx = l->flags & NODE_NEEDS_DX, act_step = l->flags & NODE_ACT_BACKWARD;
    const char *prev = dx ? c->m->nodes[l->inputs[0]].dname : NULL;
    char params[640], args[128], cr[BPC_MAX_IDENT + 8], p1[96], p2[96], p3[96], input[64];
    snprintf(cr, sizeof cr, "const %s", R);
    if (g.direct) {
        snprintf(params, sizeof params, "%sconst %s *restrict d, const %s *restrict xp, int r0, "
                 "int r1, %s%s%s *restrict wsum", param(p1, sizeof p1, dx, cr, "W"), R, R,
                 param(p2, sizeof p2, dx, R, "dxp"), param(p3, sizeof p3, g.flat, R, "plane"), R);
        snprintf(args, sizeof args, "%sd, xp, r0, r1, %s%swsum", dx ? "W, " : "", dx ? "dxp, " : "",
                 g.flat ? "plane, " : "");
        emit_line(e, "/* %s backward, one sample, direct: ∂C/∂W[f][0][kh][kw] by column += "
                     "δ[f][oh][ow]·xp[oh·%ld + kh][ow·%ld + kw]%s */", l->label, g.SH, g.SW,
                  dx ? "; ∂C/∂xp[oh·SH + kh][ow·SW + kw] += W[f][0][kh][kw]·δ[f][oh][ow]" : "");
        kern_cloned(e, c, l, "sample_backward", params, args, direct_backward_body, &g);
    } else {
        if (l->tiles_of == l->index) {
            emit_im2col(e, c, l, &g);
            if (dx)
                emit_unwindow(e, c, l, &g);
            emit_im2col_backward(e, c, l, &g);
        }
        snprintf(args, sizeof args, "%sd, col, %sdW", dx ? "W, " : "", dx ? "dx, " : "");
    }
    emit_line(e, "/* %s backward: δ = ∂C/∂z%s in place in d; ∂C/∂b[f] += Σ_p δ[f][p] and the",
              l->label, act_step ? " = d ⊙ act'" : "");
    emit_line(e, " * sample's ∂C/∂W%s by %s_%s_sample_backward */", dx ? " and ∂C/∂x" : "", N,
              owner);
    emit_line(e, "static void %s_%s_backward(%s_model *m, const %s *in, int n)", N, l->label, N, R);
    emit_brace(e);
    if (dx)
        emit_line(e, "const %s *restrict W = m->params + %ld;", R, l->params[0].offset);
    emit_line(e, "%s *restrict dW = m->grads + %ld; /* [%ld][%ld] */", R, l->params[0].offset, g.F,
              g.K);
    emit_line(e, "%s *restrict db = m->grads + %ld;", R, l->params[1].offset);
    if (g.direct) {
        emit_padded_input(e, c, &g, true);
        if (dx)
            emit_line(e, "%s *restrict dxp = m->scratch + %ld; /* [%ld][%ld] */", R,
                      scratch_at(&g, AT_DXP), g.HP, g.WP);
        char dims[96];
        snprintf(dims, sizeof dims, "[%ld][%ld][%ld]: ∂C/∂W by column", g.F, g.K, g.WS);
        emit_aligned(e, c, "wsum", scratch_at(&g, AT_WSUM), dims);
        emit_line(e, "memset(wsum, 0, %ld * sizeof *wsum);", g.F * g.K * g.WS);
    } else {
        emit_line(e, "%s *restrict col = m->scratch; /* [%ld][%ld]: the windows, then ∂C/∂col */",
                  R, g.P, g.K);
        if (g.padded)
            emit_padded_input(e, c, &g, false);
        if (dx && g.padded)
            emit_line(e, "%s *restrict dx = m->scratch + %ld; /* [%ld][%ld][%ld]: ∂C/∂xp */", R,
                      scratch_at(&g, AT_DXP), g.C, g.HP, g.WP);
    }
    emit_line(e, "%s *restrict bsum = m->scratch + %ld; /* [%ld][%ld]: ∂C/∂b by column */", R,
              scratch_at(&g, AT_BSUM), g.F, g.OW);
    emit_line(e, "memset(bsum, 0, %ld * sizeof *bsum);", g.F * g.OW);
    emit_open(e, "for (int s = 0; s < n; s++)");
    unsigned uses = act_step ? l->act->bwd_uses : 0;
    if (uses & USES_Z)
        emit_line(e, "const %s *restrict z = m->%s_z[s];", R, l->label);
    if (uses & USES_A)
        emit_line(e, "const %s *restrict a = m->%s_a[s];", R, l->label);
    emit_line(e, "%s *restrict d = m->%s[s];", R, l->dname);
    if (act_step) {
        emit_line(e, "/* δ = %s */", l->act->grad_formula);
        gen_emit_act(e, c, l, true);
    }
    emit_line(e, "for (int f = 0; f < %ld; f++)", g.F);
    emit_cont(e, "for (int oh = 0; oh < %ld; oh++)", g.OH);
    emit_cont(e, "    for (int ow = 0; ow < %ld; ow++)", g.OW);
    emit_cont(e, "        bsum[f * %ld + ow] += d[(f * %ld + oh) * %ld + ow];", g.OW, g.OH, g.OW);
    const char *xs = emit_sample_input(e, &g, l->in, input, sizeof input);
    if (g.direct)
        emit_row_scan(e, &g, l->in);
    else
        emit_line(e, "%s_%s_im2col(%s, col);", N, owner, xs);
    if (dx && g.direct)
        emit_line(e, "memset(dxp, 0, %ld * sizeof *dxp);", g.HP * g.WP);
    if (dx && !g.direct && !g.padded)
        emit_line(e, "%s *restrict dx = m->%s[s];", R, prev);
    if (dx && !g.direct)
        emit_line(e, "memset(dx, 0, %ld * sizeof *dx);", g.C * g.HP * g.WP);
    emit_line(e, "%s_%s_sample_backward(%s);", N, owner, args);
    if (dx && (g.direct || g.padded)) {
        char to[BPC_MAX_IDENT + 32];
        snprintf(to, sizeof to, "m->%s[s]", prev);
        emit_line(e, "/* ∂C/∂x: the interior of ∂C/∂xp */");
        emit_pad_rows(e, &g, to, g.direct ? "dxp" : "dx", true);
    }
    emit_close(e);
    if (g.direct)
        emit_column_reduce(e, c, "wsum", g.F * g.K, g.WS, "dW");
    emit_column_reduce(e, c, "bsum", g.F, g.OW, "db");
    emit_close(e);
    emit_end(e);

    /* NAME_L_train: the backward into the zero grads, then NAME_step's update of this
     * layer's elements, and the grads zeroed again: the bits of backward then step */
    long off = l->params[0].offset, size = l->params[0].size + l->params[1].size;
    emit_line(e, "/* %s: %s_backward then %s_step fused, grads zero and left so: the gradient",
              l->label, N, N);
    emit_line(e, " * into grads, then the update of W and b from it, then grads zeroed again */");
    emit_line(e, "static void %s_%s_train(%s_model *m, const %s *restrict in, int n)", N, l->label, N,
              R);
    emit_brace(e);
    emit_line(e, "%s_%s_backward(m, in, n);", N, l->label);
    emit_line(e, "%s_update_span(m, %ld, m->grads + %ld, %ld, 1);", N, off, off, size);
    emit_close(e);
    emit_end(e);
}

const LayerDef layer_conv2d = {
    .name = "conv2d",
    .size_name = "filter count",
    .size_max = BPC_MAX_UNITS,
    .opts = {{"kernel", 3, 1, BPC_MAX_UNITS, PARAM_INT | PARAM_PAIR | PARAM_REQUIRED},
             {"stride", 1, 1, BPC_MAX_UNITS, PARAM_INT | PARAM_PAIR},
             {"padding", 0, 0, BPC_MAX_UNITS, PARAM_INT | PARAM_PAIR}},
    .takes_act = true,
    .buffers = BUF_Z | BUF_A | BUF_D,
    .infer = conv_infer,
    .params = conv_params,
    .plan = conv_plan,
    .fingerprint = conv_fingerprint,
    .describe = conv_describe,
    .emit_forward = conv_forward,
    .emit_backward = conv_backward,
};

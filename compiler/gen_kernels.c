/*
 * gen_kernels.c - the emitters of the hot loops of the generated code: the dot products
 * of the forward pass (z = W·x + b), the backward products ∂C/∂x = δ·W and
 * ∂C/∂W += δᵀ·x (dense layers, NAME_backward and NAME_train alike, and the
 * convolutions lowered onto them).  gen.c and the layer kinds decide where they go;
 * this file decides how they are blocked.
 *
 * Every sum of the generated code runs in one order that its source defines, and the
 * source says which products are fused with the addition that follows them (rounded
 * once, an FMA) and which are rounded apart: the results are the same bits from every
 * compiler, flag and instruction set (tests/test_gen_bits.c).  The products of the
 * looped layers are fused: the dot products' terms, the ∂x and ∂W sums and the
 * direct convolutions' taps (layer_conv.c), each `acc = fma(a, b, acc)` in the
 * order below, in vectors by the FMA intrinsics of <immintrin.h>, elsewhere by NAME_FMA, C99's fmaf (fma), which compilers make one
 * instruction where the target has FMA and which the C library computes otherwise
 * (correctly rounded, slowly: plain x86-64 builds reach these loops only without the
 * clones below; newlib builds without FMA hardware get the code's own, NAME_fma).  The
 * file turns the compiler's own contraction off, so nothing else is fused: not the
 * unrolled sums of small layers, which round every product (a call per term would
 * slow down the tiny networks where the machine has no FMA), nor the elementwise
 * updates of the optimizers and activations.  Looped layers fuse, unrolled ones do
 * not: that is part of the order, and a network compiled both ways differs in the last
 * bits.
 *
 * Every dot product of length `in` is summed in KERN_LANES partial sums: lane k fuses
 * the terms of inputs k, k + LANES, k + 2·LANES, ... into it in that order, and the
 * lanes are then combined pairwise (combine_order below), and the bias added last.
 * That order is fixed by the source, so the results are deterministic and the same
 * with or without vectorization, for every batch size and every blocking; it is what
 * lets gcc and clang vectorize the loop without -ffast-math (a single running sum is a
 * chain of dependent adds they may not reorder).  The unrolled form of a small layer
 * writes the same sums as one expression per output, parenthesized in the same order,
 * its products rounded before they are added.
 *
 * The looped form starts every lane at +0.  The first layer's tiles visit only the
 * chunks of LANES inputs that are not zero in every sample of the tile (NAME_chunks
 * lists them once per row of tiles): the skipped terms are fma(w, ±0, acc) = acc + ±0
 * exactly (w·±0 is ±0, and the addition then rounds nothing), and adding ±0 changes
 * no bit of a lane unless the lane is -0.  A lane that started at +0 is -0 only where
 * an fma's exact result was negative and below half the smallest subnormal (2^-150 in
 * float), rounded to -0, which takes terms below about 2^-100 (separate roundings never
 * give -0 from +0); there skipping can leave -0 where the dense product gives +0, the
 * sign of a zero, seen in z only if b is ±0 too.  So the skipping is exact for finite
 * weights but for that, and it pays where inputs are sparse: 81% of MNIST's pixels
 * are 0, and 60% of its chunks.  Later layers' inputs are activations, rarely zero 8 at
 * a time: their tiles visit every chunk.  The unrolled form, whose lanes start with
 * their first term, has no skipping.
 *
 * The looped forward is made of tiles: a static function per tile shape that computes
 * S samples × J outputs, every weight row it loads used for S samples and every input
 * row for J outputs.  A layer uses a 4 × 2 tile (then 4 × 1 for an odd last output)
 * while 4 samples remain, and a 1 × 4 tile (then 1 × 1) for the rest: the batch-1
 * matrix-vector product keeps 4 rows' partial sums in flight.  The AVX2 and AVX-512
 * tiers' one-sample tiles are 1 × 8 (float): 8 chains of FMAs, as two FMA units of
 * 4 cycles' latency need (MNIST's MLP at batch 1: 5–9% faster than 1 × 4).
 *
 * With gcc and clang on x86-64 the tiles hold the 8 lanes in GNU C vectors of 32 bytes
 * (one or two vectors per 8 lanes) where the build has FMA, which both compilers keep
 * in registers at any -O level; elsewhere (other machines, other compilers, or with
 * BPC_NO_VECTOR defined) they are plain loops over the lanes calling NAME_FMA, which
 * compilers vectorize where the target has FMA (AArch64, x86 -mfma).  Both do the
 * same operations in the same order, so they give the same results.  On x86-64 the
 * tiles are also compiled for AVX2 with FMA (in a build without FMA) and for
 * AVX-512VL (float models), and the best the processor has is chosen at run time (the
 * tiers below); all fuse the same products in the same order.  AVX-512's tiles are 8
 * samples × 6 outputs in 64-byte vectors, each holding two samples' 8 lanes, [sample
 * 2p | sample 2p + 1], fused with the weight chunk broadcast to both halves: the same
 * FMAs per lane, so the same bits, with twice the work per instruction (the 1 × 8
 * tiles stay in 32-byte vectors).  A first layer's chunk is skipped there only where
 * it is zero in all 8 samples.
 *
 * The backward products are tiles too, shared by all layers (their sizes are arguments,
 * the widths long so that no index product overflows an int), each output its own lane
 * fused from +0 in a sequential order.  ∂C/∂x = δ·W: BS samples × 16 inputs per tile
 * (8 samples with AVX-512's 32 registers, in 64-byte vectors, 4 with AVX2 and plain),
 * each dx[s][i] = Σ_j δ[s][j]·W[j][i] over j = 0, 1, ..., every W vector loaded
 * serving the BS samples.  ∂C/∂W += δᵀ·x: a row at a time, over the samples whose δ
 * for the row is not 0 (after a ReLU most are 0), a stretch of the row's sums in 8
 * vector registers while the samples' x are fused in, then added to the gradient
 * once: no gradient is loaded and stored per sample.  Skipping δ = 0 is exact, as
 * skipping zero inputs is above.  The lanes being independent, the vector width
 * changes no bit: an AVX-512 vector holds 16 floats, an AVX2 one 8.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bpc.h"

enum { LANES = KERN_LANES, LINE_MAX = 92 };

/* The instruction sets a looped forward is compiled for, tried in this order at run
 * time.  Each has its own tiles (NAME_L_dotSxJ<suffix>): S × J while S samples remain,
 * 1 × J1 for the rest, and S × r and 1 × r for the r outputs left over.  All fuse the same
 * products in the same order, so all round alike.  AVX-512's 8 × 6 tiles hold 4 pairs
 * of samples × 6 rows in 24 of its 32 vector registers (measured best of 8 × 6, 8 × 4,
 * 6 × 8, 6 × 6, 4 × 6, bench/products.c); with 16, 4 × 2. */
typedef struct Tier {
    const char *suffix; /* of the tile names */
    const char *guard;  /* NAME_<guard> is defined where the clones compile; NULL: plain */
    const char *target; /* for __attribute__((target)) */
    const char *cpu;    /* for __builtin_cpu_supports, with "fma" */
    const char *isa;    /* for comments */
    const char *vec;    /* the backward tiles' vectors: NAME_vec<vec> (kern_helpers) */
    bool float_only;    /* double's 8 lanes take twice the registers */
    bool pairs;         /* the S × J tiles hold two samples' lanes per 64-byte vector */
    int S, J;
    int J1;             /* outputs of the one-sample tiles (float; double's take 4) */
    int dx_rows;        /* samples of a ∂x tile (kern_backward_tiles) */
    int dw_bytes;       /* bytes of the row stretch of a wide ∂W tile: 8 vectors */
    KernTarget regs;    /* for kern_cloned's bodies (plain: as AVX2's, the common case) */
    bool own_tuning;    /* gcc: prefer-vector-width=512 and noinline (emit_target_define) */
} Tier;

static const Tier tiers[] = {
    {"_avx512", "AVX512", "avx2,fma,avx512f,avx512vl", "avx512vl", "AVX-512VL", "64", true, true,
     8, 6, 8, 8, 512, {64, 32}, true},
    {"_avx2", "AVX2", "avx2,fma", "avx2", "AVX2", "32", false, false, 4, 2, 8, 4, 256, {32, 16},
     false},
    {"", NULL, NULL, NULL, NULL, "", false, false, 4, 2, 4, 4, 256, {32, 16}, false},
};
enum { NTIERS = sizeof tiers / sizeof tiers[0] };
static const Tier *const plain = &tiers[NTIERS - 1];

/* The names of the vectors NAME_vec<w> (kern_helpers): the type, its length, a·b + c
 * rounded once, and a vector of one value. */
typedef struct Vec {
    char V[BPC_MAX_IDENT + 16], LEN[BPC_MAX_IDENT + 16], FMA[BPC_MAX_IDENT + 16],
        SET[BPC_MAX_IDENT + 16];
} Vec;

static Vec vec_names(const GenCtx *c, const char *w)
{
    Vec v;
    snprintf(v.V, sizeof v.V, "%s_vec%s", c->name, w);
    snprintf(v.LEN, sizeof v.LEN, "%s_VLEN%s", c->name, w);
    snprintf(v.FMA, sizeof v.FMA, "%s_VFMA%s", c->name, w);
    snprintf(v.SET, sizeof v.SET, "%s_VSET%s", c->name, w);
    return v;
}

/* "if (__builtin_cpu_supports(...) && ...)" for tier t: its instruction set and FMA. */
static void emit_cpu_test(Emit *e, const Tier *t, bool open)
{
    if (open)
        emit_open(e, "if (__builtin_cpu_supports(\"%s\") && __builtin_cpu_supports(\"fma\"))",
                  t->cpu);
    else
        emit_line(e, "if (__builtin_cpu_supports(\"%s\") && __builtin_cpu_supports(\"fma\"))",
                  t->cpu);
}

long kern_lanes(long in)
{
    return in < LANES ? in : LANES;
}

/* The pairwise combination of w partial sums a[0..w) into a[0]: while w > 1, with
 * h = ⌈w/2⌉, a[k] += a[k + h] for every k + h < w, then w = h.  `visit` is called with
 * (k, k + h) in that order. */
static void combine_order(long w, void (*visit)(void *ctx, long to, long from), void *ctx)
{
    while (w > 1) {
        long h = (w + 1) / 2;
        for (long k = 0; k + h < w; k++)
            visit(ctx, k, k + h);
        w = h;
    }
}

/* A preprocessor line, at column 0 whatever the indentation. */
void kern_pp(Emit *e, const char *fmt, const char *arg)
{
    int saved = e->indent;
    e->indent = 0;
    emit_line(e, fmt, arg);
    e->indent = saved;
}

/* Ends a generated function; an AVX2 clone also closes the #if that guards it. */
void kern_end_function(Emit *e, bool avx2)
{
    if (avx2)
        kern_pp(e, "#endif%s", "");
    emit_end(e);
}

// ---- growing strings, for the unrolled sums ----

typedef struct Str {
    char *s;
    size_t len, cap;
} Str;

static void str_add(Str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void str_add(Str *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        internal_error(__FILE__, __LINE__, "vsnprintf failed");
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s)
            internal_error(__FILE__, __LINE__, "out of memory");
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Prints "text" over several lines, broken before a " + " once a line is long. */
static void emit_wrapped(Emit *e, const char *text)
{
    const char *p = text;
    bool first = true;
    while (*p) {
        size_t room = (size_t)(LINE_MAX - 4 * (e->indent + (first ? 0 : 1)));
        size_t len = strlen(p), cut = len;
        if (len > room) {
            /* the last " + " that fits, else the first one */
            const char *best = NULL;
            for (const char *q = strstr(p, " + "); q; q = strstr(q + 1, " + ")) {
                if ((size_t)(q - p) > room && best)
                    break;
                best = q;
            }
            if (best && best != p)
                cut = (size_t)(best - p);
        }
        if (first)
            emit_line(e, "%.*s", (int)cut, p);
        else
            emit_cont(e, "%.*s", (int)cut, p);
        first = false;
        p += cut;
        if (*p == ' ')
            p++; /* the continuation starts with "+ " */
    }
}

// ---- the unrolled dot product ----

typedef struct Lanes {
    Str lane[LANES];
    int terms[LANES];
} Lanes;

static void unrolled_visit(void *ctx, long to, long from)
{
    Lanes *l = ctx;
    if (l->terms[from] > 1)
        str_add(&l->lane[to], " + (%s)", l->lane[from].s);
    else
        str_add(&l->lane[to], " + %s", l->lane[from].s);
    l->terms[to] += l->terms[from];
}

void kern_unrolled_dot(Emit *e, const Node *l, long j)
{
    Lanes ln;
    memset(&ln, 0, sizeof ln);
    long w = kern_lanes(l->in);
    for (long i = 0; i < l->in; i++) {
        long k = i % LANES;
        str_add(&ln.lane[k], "%sW[%ld] * x[%ld]", ln.terms[k] ? " + " : "", j * l->in + i, i);
        ln.terms[k]++;
    }
    combine_order(w, unrolled_visit, &ln);
    Str line = {0};
    if (ln.terms[0] > 1)
        str_add(&line, "z[%ld] = b[%ld] + (%s);", j, j, ln.lane[0].s);
    else
        str_add(&line, "z[%ld] = b[%ld] + %s;", j, j, ln.lane[0].s);
    emit_wrapped(e, line.s);
    free(line.s);
    for (int k = 0; k < LANES; k++)
        free(ln.lane[k].s);
}

// ---- the looped dot-product tiles ----

/* "NAME_L_dotSxJ", L the first node with l's product (Node.tiles_of) */
static void tile_name(char *buf, size_t size, const GenCtx *c, const Node *l, int s, int j)
{
    snprintf(buf, size, "%s_%s_dot%dx%d", c->name, c->m->nodes[l->tiles_of].label, s, j);
}

typedef struct CombineCtx {
    Emit *e;
} CombineCtx;

static void looped_visit(void *ctx, long to, long from)
{
    CombineCtx *cc = ctx;
    emit_line(cc->e, "t[%ld] += t[%ld];", to, from);
}

/* Opens the loop over the tile's chunks of 8 inputs, with i the first input of each:
 * those listed in chunk[0..nchunk) (NAME_chunks) when the layer skips zero chunks, else
 * all `full` inputs. */
static void open_chunk_loop(Emit *e, bool skips, long full)
{
    if (skips) {
        emit_open(e, "for (int c = 0; c < nchunk; c++)");
        emit_line(e, "const int i = chunk[c];");
    } else {
        emit_open(e, "for (int i = 0; i < %ld; i += 8)", full);
    }
}

/* "stmt" for every partial sum a[s][r][k] of the tile: s < S, r < J, k < lanes. */
static void emit_lane_loop(Emit *e, int S, int J, long lanes, const char *stmt)
{
    emit_open(e, "for (int s = 0; s < %d; s++)", S);
    emit_open(e, "for (int r = 0; r < %d; r++)", J);
    emit_line(e, "for (int k = 0; k < %ld; k++)", lanes);
    emit_cont(e, "%s", stmt);
    emit_close(e);
    emit_close(e);
}

/* The partial sums of the tile's full chunks of 8 inputs, into a[S][J][8], from +0. */
static void emit_tile_scalar(Emit *e, const GenCtx *c, long in, long full, bool skips, int S,
                             int J)
{
    char stmt[BPC_MAX_IDENT + 128];
    emit_lane_loop(e, S, J, LANES, "a[s][r][k] = 0;");
    open_chunk_loop(e, skips, full);
    snprintf(stmt, sizeof stmt,
             "a[s][r][k] = %s_FMA(W[(j + r) * %ld + i + k], x[s * %ld + i + k], a[s][r][k]);",
             c->name, in, in);
    emit_lane_loop(e, S, J, LANES, stmt);
    emit_close(e);
}

/* A tile of a layer with fewer than 8 inputs: one partial sum per input, each its own
 * product (fma(W, x, +0) but for the sign of a zero product, which the bias makes up
 * for unless it is -0 too). */
static void emit_tile_narrow(Emit *e, long in, int S, int J)
{
    char stmt[128];
    snprintf(stmt, sizeof stmt, "a[s][r][k] = W[(j + r) * %ld + k] * x[s * %ld + k];", in, in);
    emit_lane_loop(e, S, J, in, stmt);
}

/* Full unrolling of a tile's small loops over samples, rows and vectors, which gcc does
 * not do at -O2: the accumulators then stay in registers.  (gcc and clang read the
 * pragma; the vector code is only for them.) */
void kern_unroll(Emit *e, long n)
{
    emit_line(e, "#pragma GCC unroll %ld", n);
}

/* emit_tile_scalar's sums in vectors v (NAME_vec or NAME_vec32, kern_helpers): the 8
 * lanes as 8 / VLEN vectors. */
static void emit_tile_vector(Emit *e, const GenCtx *c, const Vec *vn, long in, long full,
                             bool skips, int S, int J)
{
    const char *N = c->name, *V = vn->V, *VLEN = vn->LEN;
    emit_line(e, "const %s zero = {0};", V);
    emit_line(e, "%s acc[%d][%d][8 / %s];", V, S, J, VLEN);
    kern_unroll(e, 8);
    emit_open(e, "for (int v = 0; v < 8 / %s; v++)", VLEN);
    kern_unroll(e, 8);
    emit_open(e, "for (int s = 0; s < %d; s++)", S);
    kern_unroll(e, 8);
    emit_line(e, "for (int r = 0; r < %d; r++)", J);
    emit_cont(e, "acc[s][r][v] = zero;");
    emit_close(e);
    emit_close(e);
    open_chunk_loop(e, skips, full);
    kern_unroll(e, 8);
    emit_open(e, "for (int v = 0; v < 8 / %s; v++)", VLEN);
    /* one variable per sample (an array of them makes gcc go through memory): each
     * input vector is loaded once for the J rows */
    for (int k = 0; k < S; k++) {
        emit_line(e, "%s x%d;", V, k);
        emit_line(e, "%s_LOAD(x%d, x + %ld + i + v * %s);", N, k, k * in, VLEN);
    }
    kern_unroll(e, 8);
    emit_open(e, "for (int r = 0; r < %d; r++)", J);
    emit_line(e, "%s wv;", V);
    emit_line(e, "%s_LOAD(wv, W + (j + r) * %ld + i + v * %s);", N, in, VLEN);
    for (int k = 0; k < S; k++)
        emit_line(e, "acc[%d][r][v] = %s(wv, x%d, acc[%d][r][v]);", k, vn->FMA, k, k);
    emit_close(e);
    emit_close(e);
    emit_close(e);
}

/* emit_tile_vector's sums for an even number S of float samples, two samples' 8 lanes
 * per 64-byte vector: [sample 2p | sample 2p + 1], each weight chunk broadcast to both
 * halves (NAME_PAIR8, NAME_BCAST8, kern_helpers).  Every lane fuses the same terms in
 * the same order; the halves are then each sample's, v[S][J]. */
static void emit_tile_pairs(Emit *e, const GenCtx *c, long in, long full, bool skips, int S,
                            int J)
{
    const char *N = c->name;
    const int P = S / 2;
    emit_line(e, "__m512 acc[%d][%d];", P, J);
    kern_unroll(e, 8);
    emit_open(e, "for (int p = 0; p < %d; p++)", P);
    kern_unroll(e, 8);
    emit_line(e, "for (int r = 0; r < %d; r++)", J);
    emit_cont(e, "acc[p][r] = _mm512_setzero_ps();");
    emit_close(e);
    open_chunk_loop(e, skips, full);
    for (int k = 0; k < P; k++)
        emit_line(e, "const __m512 x%d = %s_PAIR8(x + %ld + i, x + %ld + i);", k, N,
                  2 * k * in, (2 * k + 1) * in);
    kern_unroll(e, 8);
    emit_open(e, "for (int r = 0; r < %d; r++)", J);
    emit_line(e, "const __m512 wv = %s_BCAST8(W + (j + r) * %ld + i);", N, in);
    for (int k = 0; k < P; k++)
        emit_line(e, "acc[%d][r] = _mm512_fmadd_ps(wv, x%d, acc[%d][r]);", k, k, k);
    emit_close(e);
    emit_close(e);
    emit_line(e, "/* each sample's 8 lanes: the halves */");
    emit_line(e, "__m256 v[%d][%d];", S, J);
    kern_unroll(e, 8);
    emit_open(e, "for (int p = 0; p < %d; p++)", P);
    kern_unroll(e, 8);
    emit_open(e, "for (int r = 0; r < %d; r++)", J);
    emit_line(e, "v[2 * p][r] = _mm512_castps512_ps256(acc[p][r]);");
    emit_line(e, "v[2 * p + 1][r] = %s_HIGH8(acc[p][r]);", N);
    emit_close(e);
    emit_close(e);
}

/* A tile's end from its partial sums a[S][J][w]: the last inputs (those after the whole
 * chunks of 8) fused into lanes 0, 1, ..., then each output's lanes combined pairwise
 * (combine_order) and the bias added. */
static void emit_scalar_end(Emit *e, const GenCtx *c, const Node *l, int S, int J)
{
    const long in = l->in, w = kern_lanes(in), full = in / w * w, rest = in - full;
    if (rest) {
        char stmt[BPC_MAX_IDENT + 160];
        emit_line(e, "/* the last %ld inputs, into lanes 0..%ld */", rest, rest - 1);
        snprintf(stmt, sizeof stmt,
                 "a[s][r][k] = %s_FMA(W[(j + r) * %ld + %ld + k], x[s * %ld + %ld + k], a[s][r][k]);",
                 c->name, in, full, in, full);
        emit_lane_loop(e, S, J, rest, stmt);
    }
    emit_line(e, "/* pairwise, then the bias */");
    emit_open(e, "for (int s = 0; s < %d; s++)", S);
    emit_open(e, "for (int r = 0; r < %d; r++)", J);
    emit_line(e, "%s *t = a[s][r];", c->real);
    CombineCtx cc = {e};
    combine_order(w, looped_visit, &cc);
    emit_line(e, "z[s * %ld + j + r] = b[j + r] + t[0];", l->out);
    emit_close(e);
    emit_close(e);
}

/* emit_scalar_end's sums in 32-byte vectors of 8 floats, one per output: the vector v of
 * sample s and output r is `acc` with s and r in place of its two %s (v[s][r], say).
 * The last inputs are fused into the lanes they go to and blended in (the other lanes
 * keep every bit, -0 too), and 8 outputs at a time are combined by NAME_SUM8: each lane
 * is added to the one it is added to in emit_scalar_end, in the same order, so the
 * results are the same bits. */
static void emit_vector_end(Emit *e, const GenCtx *c, const Node *l, int S, int J,
                            const char *acc)
{
    const char *N = c->name;
    const long in = l->in, full = in / LANES * LANES, rest = in - full;
    char v[64];
    if (rest) {
        emit_line(e, "/* the last %ld inputs, into lanes 0..%ld (those of m) */", rest, rest - 1);
        Str lanes = {0};
        for (int k = 0; k < LANES; k++)
            str_add(&lanes, "%s%s", k ? ", " : "", k < rest ? "-1" : "0");
        emit_line(e, "const __m256i m = _mm256_setr_epi32(%s);", lanes.s);
        free(lanes.s);
        snprintf(v, sizeof v, acc, "s", "r");
        kern_unroll(e, 8);
        emit_open(e, "for (int s = 0; s < %d; s++)", S);
        kern_unroll(e, 8);
        emit_open(e, "for (int r = 0; r < %d; r++)", J);
        emit_line(e, "const __m256 f = _mm256_fmadd_ps(_mm256_maskload_ps(W + (j + r) * %ld + %ld, m),",
                  in, full);
        emit_cont(e, "_mm256_maskload_ps(x + s * %ld + %ld, m), %s);", in, full, v);
        emit_line(e, "%s = _mm256_blendv_ps(%s, f, _mm256_castsi256_ps(m));", v, v);
        emit_close(e);
        emit_close(e);
    }
    const int n = S * J, groups = (n + LANES - 1) / LANES;
    emit_line(e, "/* pairwise (%s_SUM8, 8 outputs at a time), then the bias */", N);
    emit_line(e, "float t[%d];", groups * LANES);
    for (int g = 0; g < groups; g++) {
        Str half[2] = {{0}, {0}}; /* 4 vectors a line */
        for (int k = 0; k < LANES; k++) {
            const int o = g * LANES + k; /* the output: sample o / J, row o % J */
            char s_[16], r_[16];
            snprintf(s_, sizeof s_, "%d", o / J);
            snprintf(r_, sizeof r_, "%d", o % J);
            snprintf(v, sizeof v, acc, s_, r_);
            str_add(&half[k / 4], "%s%s", k % 4 ? ", " : "", o < n ? v : "_mm256_setzero_ps()");
        }
        emit_line(e, "const __m256 g%d[8] = {%s,", g, half[0].s);
        emit_cont(e, "%s};", half[1].s);
        emit_line(e, "%s_SUM8(g%d, t + %d);", N, g, g * LANES);
        free(half[0].s);
        free(half[1].s);
    }
    emit_open(e, "for (int s = 0; s < %d; s++)", S);
    emit_line(e, "for (int r = 0; r < %d; r++)", J);
    emit_cont(e, "z[s * %ld + j + r] = b[j + r] + t[s * %d + r];", l->out, J);
    emit_close(e);
}

/* The end of emit_tile_vector's tile: in vectors for float, else from a. */
static void emit_vector_or_scalar_end(Emit *e, const GenCtx *c, const Node *l, int S, int J)
{
    if (!c->dbl) {
        emit_vector_end(e, c, l, S, J, "acc[%s][%s][0]");
        return;
    }
    emit_line(e, "%s a[%d][%d][%d]; /* the partial sums */", c->real, S, J, LANES);
    emit_line(e, "memcpy(a, acc, sizeof a);");
    emit_scalar_end(e, c, l, S, J);
}

/* "#ifdef NAME_<guard>", which encloses tier t's clones and the code calling them. */
static void tier_ifdef(Emit *e, const GenCtx *c, const Tier *t)
{
    char line[BPC_MAX_IDENT + 32];
    snprintf(line, sizeof line, "#ifdef %s_%s", c->name, t->guard);
    kern_pp(e, "%s", line);
}

/* The attributes of a function of tier t: NAME_TARGET_<guard> (emit_target_define), or
 * nothing for the plain tier. */
static void emit_target(Emit *e, const GenCtx *c, const Tier *t)
{
    if (t->guard)
        emit_line(e, "%s_TARGET_%s", c->name, t->guard);
}

/* NAME_TARGET_<guard>, where tier t's clones compile.  gcc tunes a function for the
 * build's processor and may inline it into a caller of the same instruction set: with
 * -march=native on the Xeons with AVX-512 it then prefers 32-byte vectors, in which
 * conv2d's filters-in-lanes sums spilled (LeNet-5's inference 17% slower than at -O3).
 * So the AVX-512 clones keep their own tuning; clang has no such option. */
static void emit_target_define(Emit *e, const GenCtx *c, const Tier *t)
{
    const char *N = c->name;
    tier_ifdef(e, c, t);
    if (t->own_tuning) {
        emit_line(e, "#if defined(__clang__)");
        emit_line(e, "#define %s_TARGET_%s __attribute__((target(\"%s\")))", N, t->guard, t->target);
        emit_line(e, "#else");
        emit_line(e, "#define %s_TARGET_%s \\", N, t->guard);
        emit_line(e, "    __attribute__((target(\"%s,prefer-vector-width=512\"), noinline))", t->target);
        emit_line(e, "#endif");
    } else {
        emit_line(e, "#define %s_TARGET_%s __attribute__((target(\"%s\")))", N, t->guard, t->target);
    }
    kern_pp(e, "#endif%s", "");
}

/* Whether the loop of pass 0 (S × J tiles while S rows remain) or pass 1 (1 × J1 for the
 * rest) of tier t runs for `rows` rows: always when their number is not known (0); a
 * known one needs no loop that cannot run (gcc warns of those) nor its tiles. */
static bool pass_runs(const Tier *t, int pass, long rows)
{
    return !rows || (pass == 0 ? rows >= t->S : rows % t->S != 0);
}

/* The outputs of tier t's one-sample tiles (pass 1). */
static int one_sample_J(const GenCtx *c, const Tier *t)
{
    return c->dbl ? 4 : t->J1;
}

/* The outputs of a pass's tiles of `width` outputs: whole tiles, then one tile of the
 * out % width left over (a tile of one output each cost LeNet-5's c2, 16 outputs in
 * tiles of 6, a third of its forward). */
static bool pass_has(long out, int width, int J)
{
    return (J == width && out >= width) || J == out % width;
}

/* Whether tier t has an S × J tile (emit_tier_tiles) for `rows` rows of `out` outputs. */
static bool tier_has(const GenCtx *c, const Tier *t, int S, int J, long rows, long out)
{
    return S == 1 ? pass_has(out, one_sample_J(c, t), J) && pass_runs(t, 1, rows)
                  : S == t->S && pass_has(out, t->J, J) && pass_runs(t, 0, rows);
}

/* Whether layer l gets tier t's tiles: clones only where the 8 lanes are vectors. */
static bool tier_used(const GenCtx *c, const Node *l, const Tier *t)
{
    return !t->guard || (kern_lanes(l->in) == LANES && !(t->float_only && c->dbl));
}

/* One tile function of tier t.  The first layer's tiles are passed the chunks of 8
 * inputs to visit (NAME_chunks). */
static void emit_tile(Emit *e, const GenCtx *c, const Node *l, int S, int J, const Tier *t,
                      long rows)
{
    const char *R = c->real, *N = c->name;
    long in = l->in, w = kern_lanes(in), full = in / w * w; /* inputs in whole chunks */
    bool skips = l->flags & NODE_SKIPS_ZEROS;
    char name[BPC_MAX_IDENT * 2 + 32];
    tile_name(name, sizeof name, c, l, S, J);
    if (t->guard)
        tier_ifdef(e, c, t);
    if (t->guard && tier_has(c, plain, S, J, rows, l->out)) { /* described at the plain tile */
        emit_line(e, "/* %s%s: %s compiled for %s", name, t->suffix, name, t->isa);
        emit_line(e, " * (the same FMAs in the same order: the same results) */");
    } else {
        emit_line(e, "/* %s%s: z = W·x + b for %d sample%s × %d output%s from output j: %ld", name,
                  t->suffix, S, S > 1 ? "s" : "", J, J > 1 ? "s" : "", (long)S * J);
        emit_line(e, " * dot products of length %ld, each in %ld partial sums (lane k fuses inputs",
                  in, w);
        emit_line(e, " * k, k + %ld, ... into it), combined pairwise; each weight row loaded is used for",
                  w);
        emit_line(e, " * %d sample%s, each input row for %d output%s.%s", S, S > 1 ? "s" : "", J,
                  J > 1 ? "s" : "", skips || t->guard ? "" : " */");
        if (skips)
            emit_line(e, " * Only the chunks of 8 inputs listed in chunk[0..nchunk).%s",
                      t->guard ? "" : " */");
        if (t->guard)
            emit_line(e, " * Compiled for %s: the same results. */", t->isa);
    }
    emit_target(e, c, t);
    emit_line(e, "static void %s%s(const %s *restrict W, const %s *restrict b,", name, t->suffix, R,
              R);
    if (skips)
        emit_cont(e, "const %s *restrict x, %s *restrict z, int j, const int *chunk, int nchunk)",
                  R, R);
    else
        emit_cont(e, "const %s *restrict x, %s *restrict z, int j)", R, R);
    emit_brace(e);
    const Vec vn = vec_names(c, t->guard ? "32" : "");
    if (t->pairs && S % 2 == 0) {
        emit_tile_pairs(e, c, in, full, skips, S, J);
        emit_vector_end(e, c, l, S, J, "v[%s][%s]");
    } else if (t->guard) {
        emit_tile_vector(e, c, &vn, in, full, skips, S, J);
        emit_vector_or_scalar_end(e, c, l, S, J);
    } else if (w == LANES) {
        kern_pp(e, "#ifdef %s_VLEN", N);
        emit_tile_vector(e, c, &vn, in, full, skips, S, J);
        emit_vector_or_scalar_end(e, c, l, S, J);
        kern_pp(e, "#else%s", "");
        emit_line(e, "%s a[%d][%d][%ld]; /* the partial sums */", R, S, J, w);
        emit_tile_scalar(e, c, in, full, skips, S, J);
        emit_scalar_end(e, c, l, S, J);
        kern_pp(e, "#endif%s", "");
    } else {
        emit_line(e, "%s a[%d][%d][%ld]; /* the partial sums */", R, S, J, w);
        emit_tile_narrow(e, in, S, J);
        emit_scalar_end(e, c, l, S, J);
    }
    emit_close(e);
    kern_end_function(e, t->guard != NULL);
}

/* The tiles of tier t that layer l calls: the wide ones when it has that many outputs,
 * and one of the same samples for the outputs left over (pass_has). */
static void emit_tier_tiles(Emit *e, const GenCtx *c, const Node *l, const Tier *t, long rows)
{
    const int shapes[2][2] = {{t->S, t->J}, {1, one_sample_J(c, t)}};
    for (int k = 0; k < 2; k++) {
        int S = shapes[k][0], J = shapes[k][1];
        if (!pass_runs(t, k, rows))
            continue;
        if (l->out >= J)
            emit_tile(e, c, l, S, J, t, rows);
        if (l->out % J)
            emit_tile(e, c, l, S, (int)(l->out % J), t, rows);
    }
}

void kern_forward_tiles(Emit *e, const GenCtx *c, const Node *l, long rows)
{
    if (l->tiles_of != l->index)
        return; /* emitted with the first node of the same product */
    for (int k = NTIERS - 1; k >= 0; k--)
        if (tier_used(c, l, &tiers[k]))
            emit_tier_tiles(e, c, l, &tiers[k], rows);
}

/* Whether tier t's loops over groups of samples ask for the next group's inputs ahead
 * (NAME_prefetch): in a dense layer of tiles reading the caller's samples, which come
 * from memory, where a call may hold two groups. */
static bool prefetches(const GenCtx *c, const Node *l, const Tier *t)
{
    return l->inputs[0] == NODE_INPUT && l->prod_in && l->out >= t->J &&
           c->m->batch >= 2 * t->S;
}

/* The loops over samples and outputs calling tier t's tiles; W, b, in and z (the
 * layer's z rows, BATCH × out) are in scope. */
static void emit_tile_loops(Emit *e, const GenCtx *c, const Node *l, const char *z,
                            long rows, const Tier *t)
{
    char name[BPC_MAX_IDENT * 2 + 32];
    long out = l->out, in = l->in;
    bool skips = l->flags & NODE_SKIPS_ZEROS;
    emit_brace(e);
    emit_line(e, "int s = 0;");
    for (int pass = 0; pass < 2; pass++) {
        int S = pass == 0 ? t->S : 1, J = pass == 0 ? t->J : one_sample_J(c, t);
        if (!pass_runs(t, pass, rows))
            continue;
        if (pass == 0)
            emit_open(e, "for (; s + %d <= n; s += %d)", S, S);
        else
            emit_open(e, "for (; s < n; s++)");
        const char *args = "";
        if (skips) {
            emit_line(e, "const int nchunk = %s_chunks(in + s * %ld, %d, %ld, m->chunk);", c->name,
                      in, S, in);
            args = ", m->chunk, nchunk";
        }
        long j0 = 0;
        if (J <= out) {
            tile_name(name, sizeof name, c, l, S, J);
            j0 = out / J * J;
            if (pass == 0 && prefetches(c, l, t)) {
                emit_open(e, "for (int j = 0; j < %ld; j += %d)", j0, J);
                emit_line(e, "if (s + %d <= n) /* the next group's inputs, a share per tile */", 2 * S);
                emit_cont(e, "%s_prefetch(in + (s + %d) * %ld, %ld, j / %d, %ld);", c->name, S, in,
                          S * in, J, out / J);
                emit_line(e, "%s%s(W, b, in + s * %ld, %s[s], j%s);", name, t->suffix, in, z, args);
                emit_close(e);
            } else {
                emit_line(e, "for (int j = 0; j < %ld; j += %d)", j0, J);
                emit_cont(e, "%s%s(W, b, in + s * %ld, %s[s], j%s);", name, t->suffix, in, z, args);
            }
        }
        if (j0 < out) {
            tile_name(name, sizeof name, c, l, S, (int)(out - j0));
            emit_line(e, "%s%s(W, b, in + s * %ld, %s[s], %ld%s);", name, t->suffix, in, z, j0, args);
        }
        emit_close(e);
    }
    emit_close(e);
}

/* The best tier the processor has, then the plain tiles. */
void kern_forward_call(Emit *e, const GenCtx *c, const Node *l, const char *z, long rows)
{
    for (const Tier *t = tiers; t != plain; t++) {
        if (!tier_used(c, l, t))
            continue;
        tier_ifdef(e, c, t);
        emit_cpu_test(e, t, false);
        emit_tile_loops(e, c, l, z, rows, t);
        emit_line(e, "else");
        kern_pp(e, "#endif%s", "");
    }
    emit_tile_loops(e, c, l, z, rows, plain);
}

// ---- y += a·x ----

/* NAME_FMA(a, b, c): a·b + c rounded once.  C99's fmaf (fma), which compilers make one
 * instruction where the target has FMA and the C library computes otherwise: correctly
 * rounded in glibc and musl, but newlib's rounds twice (float) or not fused at all
 * (double), so on a target without FMA hardware newlib builds, and builds with
 * BPC_OWN_FMA (the test of this path on a host), get the code's own, NAME_fma; `uses`:
 * whether a kernel calls it (the unrolled layers round every product). */
static void emit_fma(Emit *e, const GenCtx *c, bool uses)
{
    const char *R = c->real, *N = c->name;
    emit_line(e, "/* %s_FMA(a, b, c) = a·b + c rounded once: C99's %s, one instruction where the",
              N, c->dbl ? "fma" : "fmaf");
    emit_line(e, " * target has FMA (x86 with FMA, AArch64%s), correctly rounded by",
              c->dbl ? "" : ", ARMv7 VFPv4 such as Cortex-M4F");
    emit_line(e, " * glibc and musl elsewhere; without FMA hardware newlib's %s, so",
              c->dbl ? "is not fused" : "rounds twice");
    emit_line(e, " * there (and with BPC_OWN_FMA) %s_fma.  The products and sums that the comments", N);
    emit_line(e, " * say \"fused\" are %s_FMA; every other a·b + c is rounded twice. */", N);
    if (!uses) {
        emit_line(e, "#define %s_FMA %s", N, c->dbl ? "fma" : "fmaf");
        emit_blank(e);
        return;
    }
    if (c->dbl)
        emit_line(e, "#if defined(BPC_OWN_FMA) || (defined(_NEWLIB_VERSION) && !defined(__FP_FAST_FMA))");
    else
        emit_line(e, "#if defined(BPC_OWN_FMA) || (defined(_NEWLIB_VERSION) && !defined(__FP_FAST_FMAF) \\");
    if (!c->dbl)
        emit_line(e, "                             && !defined(__ARM_FEATURE_FMA))");
    if (c->dbl) {
        /* Boldo and Melquiond, "Emulation of FMA and correctly rounded sums: proved
         * algorithms using rounding to odd" (IEEE Trans. Computers, 2008), Algorithm 5.4 */
        emit_line(e, "/* a·b = ph + pl exactly (Dekker), c + ph = sh + sl exactly (Knuth), then");
        emit_line(e, " * sh + (sl + pl rounded to odd), rounded once (Boldo and Melquiond, 2008):");
        emit_line(e, " * correctly rounded unless a·b underflows (|a·b| < 2^-969) or a, b, c are");
        emit_line(e, " * beyond 2^995 */");
        emit_line(e, "static %s %s_fma(%s a, %s b, %s c)", R, N, R, R, R);
        emit_brace(e);
        emit_line(e, "const double split = 134217729.0; /* 2^27 + 1: halves of 26 bits */");
        emit_line(e, "const double ta = split * a, ah = ta - (ta - a), al = a - ah;");
        emit_line(e, "const double tb = split * b, bh = tb - (tb - b), bl = b - bh;");
        emit_line(e, "const double ph = a * b, pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl;");
        emit_line(e, "const double sh = c + ph, cv = sh - c, sl = (c - (sh - cv)) + (ph - cv);");
        emit_line(e, "double v = sl + pl;");
        emit_line(e, "const double vv = v - sl, ve = (sl - (v - vv)) + (pl - vv);");
        emit_line(e, "uint64_t u;");
        emit_line(e, "memcpy(&u, &v, sizeof u);");
        emit_line(e, "/* inexact and even: to the odd neighbour on the side of the error */");
        emit_open(e, "if ((ve < 0 || ve > 0) && !(u & 1))");
        emit_line(e, "u += (ve < 0) == (v < 0) ? 1 : (uint64_t)-1;");
        emit_line(e, "memcpy(&v, &u, sizeof v);");
        emit_close(e);
        emit_line(e, "return sh + v;");
        emit_close(e);
    } else {
        emit_line(e, "/* a·b is exact in double; their sum s is, but for its rounding error e");
        emit_line(e, " * (Knuth's two-sum); s rounded to odd where e is not 0 rounds to float as");
        emit_line(e, " * a·b + c would, 53 bits being at least 24 + 2 (Boldo and Melquiond, 2008) */");
        emit_line(e, "static %s %s_fma(%s a, %s b, %s c)", R, N, R, R, R);
        emit_brace(e);
        emit_line(e, "const double p = (double)a * b;");
        emit_line(e, "double s = p + c;");
        emit_line(e, "const double sp = s - p, e = (p - (s - sp)) + (c - sp);");
        emit_line(e, "uint64_t u;");
        emit_line(e, "memcpy(&u, &s, sizeof u);");
        emit_line(e, "/* inexact and even: to the odd neighbour on the side of the error */");
        emit_open(e, "if ((e < 0 || e > 0) && !(u & 1))");
        emit_line(e, "u += (e < 0) == (s < 0) ? 1 : (uint64_t)-1;");
        emit_line(e, "memcpy(&s, &u, sizeof s);");
        emit_close(e);
        emit_line(e, "return (float)s;");
        emit_close(e);
    }
    emit_line(e, "#define %s_FMA %s_fma", N, N);
    emit_line(e, "#else");
    emit_line(e, "#define %s_FMA %s", N, c->dbl ? "fma" : "fmaf");
    emit_line(e, "#endif");
    emit_blank(e);
}

/* NAME_vec<w>, NAME_VLEN<w>, NAME_VFMA<w>, NAME_VSET<w> of `bytes` bytes (Vec). */
static void emit_vec(Emit *e, const GenCtx *c, const char *w, int bytes)
{
    const char *R = c->real, *N = c->name, *sfx = c->dbl ? "pd" : "ps";
    const char *mm = bytes == 64 ? "_mm512" : "_mm256";
    emit_line(e, "#define %s_VLEN%s (%d / (int)sizeof(%s))", N, w, bytes, R);
    emit_line(e, "typedef %s %s_vec%s __attribute__((vector_size(%d)));", R, N, w, bytes);
    emit_line(e, "#define %s_VFMA%s %s_fmadd_%s", N, w, mm, sfx);
    emit_line(e, "#define %s_VSET%s %s_set1_%s", N, w, mm, sfx);
}

/* NAME_SUM8 (AVX): the pairwise combination of the tiles' 8 partial sums for 8 outputs
 * at once, each lane added to the same lane, in the same order, as the scalar code's
 * t[k] += t[k + 4], t[k] += t[k + 2], t[0] += t[1]: the halves of two vectors, then
 * their pairs, then neighbours.  Vectors 0 and 4, 1 and 5, ... share a vector in the
 * first step, so that t[i] is v[i]'s. */
static void emit_sum8(Emit *e, const GenCtx *c)
{
    const char *N = c->name;
    emit_line(e, "/* %s_SUM8(v, t): t[i] = v[i][0..8) combined pairwise, for 8 vectors at once: lane", N);
    emit_line(e, " * by lane t[k] += t[k + 4], t[k] += t[k + 2], t[0] += t[1], as the scalar code */");
    emit_line(e, "#define %s_HALVES(a, b) _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), \\", N);
    emit_line(e, "    _mm256_permute2f128_ps(a, b, 0x31))");
    emit_line(e, "#define %s_SUM8(v, t) do { \\", N);
    emit_line(e, "    const __m256 h0_ = %s_HALVES(v[0], v[4]), h1_ = %s_HALVES(v[1], v[5]); \\", N, N);
    emit_line(e, "    const __m256 h2_ = %s_HALVES(v[2], v[6]), h3_ = %s_HALVES(v[3], v[7]); \\", N, N);
    emit_line(e, "    const __m256 q0_ = _mm256_add_ps(_mm256_shuffle_ps(h0_, h1_, 0x44), \\");
    emit_line(e, "                                     _mm256_shuffle_ps(h0_, h1_, 0xee)); \\");
    emit_line(e, "    const __m256 q1_ = _mm256_add_ps(_mm256_shuffle_ps(h2_, h3_, 0x44), \\");
    emit_line(e, "                                     _mm256_shuffle_ps(h2_, h3_, 0xee)); \\");
    emit_line(e, "    _mm256_storeu_ps(t, _mm256_add_ps(_mm256_shuffle_ps(q0_, q1_, 0x88), \\");
    emit_line(e, "                                      _mm256_shuffle_ps(q0_, q1_, 0xdd))); \\");
    emit_line(e, "} while (0)");
}

void kern_helpers(Emit *e, const GenCtx *c)
{
    const char *R = c->real, *N = c->name;
    /* the tiles where a layer calls them (its plan says so) */
    unsigned flags = 0;
    for (int i = 0; i < c->m->nnodes; i++)
        flags |= c->m->nodes[i].flags;
    emit_fma(e, c, flags & (NODE_DX_TILES | NODE_DW_TILES | NODE_DIRECT));
    emit_line(e, "/* The tiles' vectors (gcc and clang on x86-64): GNU C vector extensions, fused by");
    emit_line(e, " * <immintrin.h>'s FMA intrinsics; %s_LOAD is an unaligned load.  In a build", N);
    emit_line(e, " * with FMA the plain tiles use them too, else (and on other machines) plain");
    emit_line(e, " * loops of %s_FMA, which compilers vectorize where the target has FMA. */", N);
    emit_line(e, "#if defined(__GNUC__) && defined(__x86_64__) && !defined(BPC_NO_VECTOR)");
    emit_line(e, "#include <immintrin.h>");
    emit_line(e, "#define %s_LOAD(v, p) memcpy(&(v), (p), sizeof(v))", N);
    emit_vec(e, c, "32", 32);
    if (!c->dbl)
        emit_sum8(e, c);
    emit_line(e, "#if defined(__FMA__)");
    emit_line(e, "#define %s_VLEN %s_VLEN32", N, N);
    emit_line(e, "typedef %s_vec32 %s_vec;", N, N);
    emit_line(e, "#define %s_VFMA %s_VFMA32", N, N);
    emit_line(e, "#define %s_VSET %s_VSET32", N, N);
    emit_line(e, "#endif");
    emit_line(e, "/* The tiles are also compiled for AVX2 with FMA (in a build without FMA) and for");
    emit_line(e, " * AVX-512VL (float), and the processor's best is chosen at run time.  All fuse");
    emit_line(e, " * the same products in the same order: the same results. */");
    emit_line(e, "#if !defined(BPC_NO_DISPATCH)");
    emit_line(e, "#if !defined(__FMA__)");
    emit_line(e, "#define %s_AVX2 1", N);
    emit_line(e, "#endif");
    emit_line(e, "#if !defined(BPC_NO_AVX512)");
    emit_line(e, "#define %s_AVX512 1", N);
    emit_line(e, "/* the backward tiles' AVX-512 vectors */");
    emit_vec(e, c, "64", 64);
    if (!c->dbl) {
        emit_line(e, "/* the forward tiles' pairs of 8 floats (AVX-512F, through doubles' lanes): p's");
        emit_line(e, " * and q's, p's in both halves, and the upper half */");
        emit_line(e, "#define %s_PAIR8(p, q) _mm512_castpd_ps(_mm512_insertf64x4( \\", N);
        emit_line(e, "    _mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(p))), \\");
        emit_line(e, "    _mm256_castps_pd(_mm256_loadu_ps(q)), 1))");
        emit_line(e, "#define %s_BCAST8(p) \\", N);
        emit_line(e, "    _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(p))))");
        emit_line(e, "#define %s_HIGH8(v) _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))", N);
    }
    emit_line(e, "#endif");
    emit_line(e, "#endif");
    emit_line(e, "#endif");
    emit_line(e, "/* the clones' attributes: gcc keeps the AVX-512 ones' own tuning, not the build's,");
    emit_line(e, " * which may prefer 32-byte vectors (-march=native) */");
    for (const Tier *t = tiers; t != plain; t++)
        emit_target_define(e, c, t);
    emit_blank(e);
    if (c->m->chunk_slots) {
        emit_line(e, "/* The first input of each chunk of 8 inputs in which one of the `rows` rows of");
        emit_line(e, " * x (each len long) is not 0, into chunk[]; returns how many.  The other chunks");
        emit_line(e, " * only add ±0 to the dot products' partial sums and to the SGD update: they");
        emit_line(e, " * are skipped (81%% of MNIST's pixels are 0). */");
        emit_line(e, "static int %s_chunks(const %s *x, int rows, int len, int *chunk)", N, R);
        emit_brace(e);
        const char *U = c->dbl ? "uint64_t" : "uint32_t";
        emit_line(e, "int n = 0;");
        emit_open(e, "for (int i = 0; i + 8 <= len; i += 8)");
        emit_line(e, "/* the bits of the 8 × rows values or'ed, less the sign bits: ±0 sets only");
        emit_line(e, " * the sign bit */");
        emit_line(e, "%s bits = 0;", U);
        kern_pp(e, "#if defined(__GNUC__) && !defined(BPC_NO_VECTOR)%s", "");
        emit_line(e, "/* in GNU C's 16-byte vectors: gcc -O3 made the loop below twice as slow */");
        emit_line(e, "typedef %s %s_bits __attribute__((vector_size(16)));", U, N);
        emit_line(e, "%s_bits v = {0};", N);
        /* one vector per memcpy: gcc -O3 kept an array of them on the stack (MNIST's
         * MLP at batch 1000: 5% slower) */
        emit_open(e, "for (int s = 0; s < rows; s++)");
        emit_open(e, "for (int k = 0; k < 8; k += %d)", c->dbl ? 2 : 4);
        emit_line(e, "%s_bits u;", N);
        emit_line(e, "memcpy(&u, x + s * len + i + k, sizeof u);");
        emit_line(e, "v |= u;");
        emit_close(e);
        emit_close(e);
        emit_line(e, "v <<= 1;");
        emit_line(e, "%s w[%d];", U, c->dbl ? 2 : 4);
        emit_line(e, "memcpy(w, &v, sizeof w);");
        emit_line(e, "bits = %s;", c->dbl ? "w[0] | w[1]" : "(w[0] | w[1]) | (w[2] | w[3])");
        kern_pp(e, "#else%s", "");
        emit_open(e, "for (int s = 0; s < rows; s++)");
        emit_line(e, "%s u[8];", U);
        emit_line(e, "memcpy(u, x + s * len + i, sizeof u);");
        emit_line(e, "for (int k = 0; k < 8; k++)");
        emit_cont(e, "bits |= u[k] << 1;");
        emit_close(e);
        kern_pp(e, "#endif%s", "");
        kern_pp(e, "#ifdef BPC_NO_SKIP%s", "");
        emit_line(e, "bits = 1; /* every chunk: the dense products (the same results) */");
        kern_pp(e, "#endif%s", "");
        emit_line(e, "if (bits)");
        emit_cont(e, "chunk[n++] = i;");
        emit_close(e);
        emit_line(e, "return n;");
        emit_close(e);
        emit_end(e);
    }
    bool prefetch = false;
    for (int i = 0; i < c->m->nnodes; i++)
        for (const Tier *t = tiers; t < tiers + NTIERS; t++)
            prefetch |= tier_used(c, &c->m->nodes[i], t) && prefetches(c, &c->m->nodes[i], t);
    if (prefetch) {
        emit_line(e, "/* Part `part` of `parts` of x[0..len) asked into the cache ahead of its use: the");
        emit_line(e, " * first layer's tiles read the caller's samples, which come from memory, and");
        emit_line(e, " * wait for them unless asked a group ahead (MNIST at batch 1000: a fifth");
        emit_line(e, " * faster).  A hint: it changes no result, and outside GNU C it does nothing. */");
        emit_line(e, "static void %s_prefetch(const %s *x, long len, int part, int parts)", N, R);
        emit_brace(e);
        kern_pp(e, "#if defined(__GNUC__)%s", "");
        emit_line(e, "for (long i = len * part / parts; i < len * (part + 1) / parts; i += 64 / sizeof *x)");
        emit_cont(e, "__builtin_prefetch(x + i);");
        kern_pp(e, "#else%s", "");
        emit_line(e, "(void)x, (void)len, (void)part, (void)parts;");
        kern_pp(e, "#endif%s", "");
        emit_close(e);
        emit_end(e);
    }
    kern_backward_tiles(e, c, flags & NODE_DX_TILES, flags & NODE_DW_TILES);
}

void kern_cloned(Emit *e, const GenCtx *c, const Node *l, const char *what, const char *params,
                 const char *args, KernBodyFn *body, const void *arg)
{
    const char *N = c->name;
    for (const Tier *t = tiers; t != plain; t++) {
        tier_ifdef(e, c, t);
        emit_target(e, c, t);
        emit_line(e, "static void %s_%s_%s%s(%s)", N, l->label, what, t->suffix, params);
        emit_brace(e);
        body(e, c, l, &t->regs, arg);
        emit_close(e);
        kern_end_function(e, true);
    }
    emit_line(e, "static void %s_%s_%s(%s)", N, l->label, what, params);
    emit_brace(e);
    for (const Tier *t = tiers; t != plain; t++) {
        tier_ifdef(e, c, t);
        emit_cpu_test(e, t, true);
        emit_line(e, "%s_%s_%s%s(%s);", N, l->label, what, t->suffix, args);
        emit_line(e, "return;");
        emit_close(e);
        kern_pp(e, "#endif%s", "");
    }
    body(e, c, l, &plain->regs, arg);
    emit_close(e);
    emit_end(e);
}

// ---- the backward products: ∂C/∂x = δ·W and ∂C/∂W += δᵀ·x ----

/* Every output of both is its own lane, summed from +0 in one sequential order (over
 * j = 0, 1, ... for ∂x, over the samples in order for ∂W), so the blocking, the vector
 * width and the instruction set change no bit.  The sizes are arguments, so one set of
 * tiles serves every layer.
 *
 * A ∂x tile holds BS samples × 16 inputs (64 bytes: 16 floats, 8 doubles; one AVX-512
 * vector) of sums in registers, each W vector it loads serving its BS samples.
 *
 * ∂W goes a row at a time, over the samples whose δ for that row is not 0 (after a
 * ReLU most are 0; listed without a branch): a tile holds a stretch of the row in
 * registers (8 vectors: 64 floats in AVX2's and the plain ones, 128 in AVX-512's),
 * fuses δ·x of each listed sample into it, and then adds its sums to the
 * gradient once; then tiles of 64 bytes.  Skipping δ = 0 is exact as skipping zero
 * inputs is (the file's first comment). */
static long back_width(const GenCtx *c)
{
    return c->dbl ? 8 : 16;
}

/* Opens a function of tier t: its #ifdef and target when it is a clone, after the
 * comment's first lines (closed here). */
static void open_clone(Emit *e, const GenCtx *c, const Tier *t)
{
    if (t->guard) {
        emit_line(e, " * Compiled for %s: the same results. */", t->isa);
        emit_target(e, c, t);
    }
}

/* A driver's clone for tier t, NAME_<what><suffix>: its #ifdef, comment and target. */
static void open_driver_clone(Emit *e, const GenCtx *c, const Tier *t, const char *what)
{
    const char *N = c->name;
    tier_ifdef(e, c, t);
    emit_line(e, "/* %s_%s%s: %s_%s compiled for %s (the same results) */", N, what, t->suffix, N,
              what, t->isa);
    emit_target(e, c, t);
}

/* The body of a ∂x tile, sum[BS][KW] from +0; vec: in vectors of tier t. */
static void emit_dx_body(Emit *e, const GenCtx *c, const Tier *t, bool vec, int BS, long KW)
{
    const char *R = c->real, *N = c->name;
    const Vec vn = vec_names(c, t->vec);
    const char *V = vn.V, *VLEN = vn.LEN;
    if (!vec) {
        emit_line(e, "for (int r = 0; r < %d; r++)", BS);
        emit_cont(e, "for (int v = 0; v < %ld; v++)", KW);
        emit_cont(e, "    sum[r][v] = 0;");
        emit_open(e, "for (int k = 0; k < out; k++)");
        emit_open(e, "for (int r = 0; r < %d; r++)", BS);
        emit_line(e, "const %s a = d[r * out + k];", R);
        emit_line(e, "for (int v = 0; v < %ld; v++)", KW);
        emit_cont(e, "sum[r][v] = %s_FMA(W[k * in + i + v], a, sum[r][v]);", N);
        emit_close(e);
        emit_close(e);
        return;
    }
    emit_line(e, "%s acc[%d][%ld / %s];", V, BS, KW, VLEN);
    kern_unroll(e, 8);
    emit_line(e, "for (int r = 0; r < %d; r++)", BS);
    emit_cont(e, "for (int v = 0; v < %ld / %s; v++)", KW, VLEN);
    emit_cont(e, "    acc[r][v] = (%s){0};", V);
    emit_open(e, "for (int k = 0; k < out; k++)");
    emit_line(e, "%s wv[%ld / %s];", V, KW, VLEN);
    kern_unroll(e, 8);
    emit_line(e, "for (int v = 0; v < %ld / %s; v++)", KW, VLEN);
    emit_cont(e, "%s_LOAD(wv[v], W + k * in + i + v * %s);", N, VLEN);
    kern_unroll(e, 8);
    emit_open(e, "for (int r = 0; r < %d; r++)", BS);
    emit_line(e, "const %s a = %s(d[r * out + k]);", V, vn.SET);
    kern_unroll(e, 8);
    emit_line(e, "for (int v = 0; v < %ld / %s; v++)", KW, VLEN);
    emit_cont(e, "acc[r][v] = %s(wv[v], a, acc[r][v]);", vn.FMA);
    emit_close(e);
    emit_close(e);
    emit_line(e, "memcpy(sum, acc, sizeof sum);");
}

/* Tier t's ∂x tile of BS samples, NAME_dxBS<suffix>. */
static void emit_dx_tile(Emit *e, const GenCtx *c, const Tier *t, int BS, long KW)
{
    const char *R = c->real, *N = c->name;
    if (t->guard)
        tier_ifdef(e, c, t);
    emit_line(e, "/* %s_dx%d%s: ∂C/∂x of %d sample%s, %ld inputs from i: dx[s][i] = Σ_j", N, BS,
              t->suffix, BS, BS > 1 ? "s" : "", KW);
    emit_line(e, " * δ[s][j]·W[j][i], each from +0 over j = 0, 1, ... in order; each W");
    emit_line(e, " * vector loaded serves %d sample%s.%s", BS, BS > 1 ? "s" : "",
              t->guard ? "" : " */");
    open_clone(e, c, t);
    emit_line(e, "static void %s_dx%d%s(long in, long out, const %s *restrict d,", N, BS, t->suffix,
              R);
    emit_cont(e, "const %s *restrict W, %s *restrict g, long i)", R, R);
    emit_brace(e);
    emit_line(e, "%s sum[%d][%ld];", R, BS, KW);
    if (t->guard) {
        emit_dx_body(e, c, t, true, BS, KW);
    } else {
        kern_pp(e, "#ifdef %s_VLEN", N);
        emit_dx_body(e, c, t, true, BS, KW);
        kern_pp(e, "#else%s", "");
        emit_dx_body(e, c, t, false, BS, KW);
        kern_pp(e, "#endif%s", "");
    }
    emit_line(e, "for (int r = 0; r < %d; r++)", BS);
    emit_cont(e, "for (int v = 0; v < %ld; v++)", KW);
    emit_cont(e, "    g[r * in + i + v] = sum[r][v];");
    emit_close(e);
    kern_end_function(e, t->guard != NULL);
}

/* Tier t's ∂x driver NAME_dx<suffix>(n, in, out, d, W, dx). */
static void emit_dx_driver(Emit *e, const GenCtx *c, const Tier *t, int BS, long KW)
{
    const char *R = c->real, *N = c->name;
    if (t->guard) {
        open_driver_clone(e, c, t, "dx");
    } else {
        emit_line(e, "/* dx (n × in) = δ·W for δ (n × out) and W (out × in): %d-sample tiles, then", BS);
        emit_line(e, " * 1-sample ones; the last in %% %ld inputs one sum at a time, in the same", KW);
        emit_line(e, " * order */");
    }
    emit_line(e, "static void %s_dx%s(int n, long in, long out, const %s *restrict d,", N, t->suffix,
              R);
    emit_cont(e, "const %s *restrict W, %s *restrict g)", R, R);
    emit_brace(e);
    emit_line(e, "const long full = in / %ld * %ld;", KW, KW);
    emit_line(e, "int r = 0;");
    emit_line(e, "for (; r + %d <= n; r += %d)", BS, BS);
    emit_cont(e, "for (long i = 0; i < full; i += %ld)", KW);
    emit_cont(e, "    %s_dx%d%s(in, out, d + r * out, W, g + r * in, i);", N, BS, t->suffix);
    emit_line(e, "for (; r < n; r++)");
    emit_cont(e, "for (long i = 0; i < full; i += %ld)", KW);
    emit_cont(e, "    %s_dx1%s(in, out, d + r * out, W, g + r * in, i);", N, t->suffix);
    emit_open(e, "for (r = 0; r < n; r++)");
    emit_open(e, "for (long i = full; i < in; i++)");
    emit_line(e, "%s sum = 0;", R);
    emit_line(e, "for (int k = 0; k < out; k++)");
    emit_cont(e, "sum = %s_FMA(W[k * in + i], d[r * out + k], sum);", N);
    emit_line(e, "g[r * in + i] = sum;");
    emit_close(e);
    emit_close(e);
    emit_close(e);
    kern_end_function(e, t->guard != NULL);
}

/* The body of a ∂W tile of KW lanes, sum[KW] from +0; vec: in vectors of tier t. */
static void emit_dw_body(Emit *e, const GenCtx *c, const Tier *t, bool vec, long KW)
{
    const char *R = c->real, *N = c->name;
    const Vec vn = vec_names(c, t->vec);
    const char *V = vn.V, *VLEN = vn.LEN;
    if (!vec) {
        emit_line(e, "for (int v = 0; v < %ld; v++)", KW);
        emit_cont(e, "sum[v] = 0;");
        emit_open(e, "for (int k = 0; k < na; k++)");
        emit_line(e, "const %s a = d[act[k] * out];", R);
        emit_line(e, "const %s *restrict xs = x + act[k] * in + i;", R);
        emit_line(e, "for (int v = 0; v < %ld; v++)", KW);
        emit_cont(e, "sum[v] = %s_FMA(xs[v], a, sum[v]);", N);
        emit_close(e);
        return;
    }
    emit_line(e, "%s acc[%ld / %s];", V, KW, VLEN);
    kern_unroll(e, 8);
    emit_line(e, "for (int v = 0; v < %ld / %s; v++)", KW, VLEN);
    emit_cont(e, "acc[v] = (%s){0};", V);
    emit_open(e, "for (int k = 0; k < na; k++)");
    emit_line(e, "const %s a = %s(d[act[k] * out]);", V, vn.SET);
    emit_line(e, "const %s *restrict xs = x + act[k] * in + i;", R);
    kern_unroll(e, 8);
    emit_open(e, "for (int v = 0; v < %ld / %s; v++)", KW, VLEN);
    emit_line(e, "%s xv;", V);
    emit_line(e, "%s_LOAD(xv, xs + v * %s);", N, VLEN);
    emit_line(e, "acc[v] = %s(xv, a, acc[v]);", vn.FMA);
    emit_close(e);
    emit_close(e);
    emit_line(e, "memcpy(sum, acc, sizeof sum);");
}

/* Tier t's ∂W tile of KW lanes of a row, NAME_dwKW<suffix>. */
static void emit_dw_tile(Emit *e, const GenCtx *c, const Tier *t, long KW)
{
    const char *R = c->real, *N = c->name;
    if (t->guard)
        tier_ifdef(e, c, t);
    emit_line(e, "/* %s_dw%ld%s: ∂C/∂W of one row, %ld inputs from i: g[i] += Σ_s δ[s]·x[s][i]", N,
              KW, t->suffix, KW);
    emit_line(e, " * over the na samples act[0..na) (those whose δ is not 0) in order, each sum");
    emit_line(e, " * from +0 in a register, then added to g once, for the lanes v0..v1.%s",
              t->guard ? "" : " */");
    open_clone(e, c, t);
    emit_line(e, "static void %s_dw%ld%s(int na, const int *act, long in, long out,", N, KW,
              t->suffix);
    emit_cont(e, "const %s *restrict d, const %s *restrict x, %s *restrict g, long i, int v0,", R,
              R, R);
    emit_cont(e, "int v1)");
    emit_brace(e);
    emit_line(e, "%s sum[%ld];", R, KW);
    if (t->guard) {
        emit_dw_body(e, c, t, true, KW);
    } else {
        kern_pp(e, "#ifdef %s_VLEN", N);
        emit_dw_body(e, c, t, true, KW);
        kern_pp(e, "#else%s", "");
        emit_dw_body(e, c, t, false, KW);
        kern_pp(e, "#endif%s", "");
    }
    emit_line(e, "for (int v = v0; v < v1; v++)");
    emit_cont(e, "g[i + v] += sum[v];");
    emit_close(e);
    kern_end_function(e, t->guard != NULL);
}

/* Tier t's ∂W driver NAME_dw<suffix>(n, in, out, j, rows, d, x, g): g (rows × in) +=
 * δᵀ·x for the rows j.. of δ (n × out) and x (n × in). */
static void emit_dw_driver(Emit *e, const GenCtx *c, const Tier *t, long wide, long KW)
{
    const char *R = c->real, *N = c->name;
    if (t->guard) {
        open_driver_clone(e, c, t, "dw");
    } else {
        emit_line(e, "/* g (rows × in) += δᵀ·x for the rows j.. of δ (n × out) and x (n × in), a row");
        emit_line(e, " * at a time over its samples with δ ≠ 0: tiles of %ld inputs, then of %ld,", wide,
                  KW);
        emit_line(e, " * then one sum at a time, in the same order */");
    }
    emit_line(e, "static void %s_dw%s(int n, long in, long out, int j, int rows,", N, t->suffix);
    emit_cont(e, "const %s *restrict d, const %s *restrict x, %s *restrict g)", R, R, R);
    emit_brace(e);
    int vbytes = t->dw_bytes / 8;
    emit_line(e, "/* the tiles start where x's rows reach a multiple of %d bytes, lead inputs in,", vbytes);
    emit_line(e, " * when all rows do: a load across two cache lines takes twice as long (∂W at");
    emit_line(e, " * 1.6 times the time, measured); the inputs before and after go to the first");
    emit_line(e, " * or last lanes of a %ld-input tile, each sum the same */", KW);
    emit_line(e, "const long lead = in >= %ld && in * (long)sizeof *x %% %d == 0", KW, vbytes);
    emit_cont(e, "? (long)((%d - (uintptr_t)x %% %d) %% %d / sizeof *x) : 0;", vbytes, vbytes, vbytes);
    emit_line(e, "const long wide = lead + (in - lead) / %ld * %ld, full = lead + (in - lead) / %ld * %ld;",
              wide, wide, KW, KW);
    emit_open(e, "for (int r = 0; r < rows; r++)");
    emit_line(e, "const %s *restrict dr = d + j + r; /* δ[s][j + r] = dr[s * out] */", R);
    emit_line(e, "%s *restrict gr = g + r * in;", R);
    /* a batch's samples, or a convolution's positions or filters (Node.dw_samples) */
    if (c->m->dw_samples > c->m->batch)
        emit_line(e, "int act[%ld], na = 0;", c->m->dw_samples);
    else
        emit_line(e, "int act[%s_BATCH], na = 0;", c->m->upper);
    emit_open(e, "for (int s = 0; s < n; s++)");
    emit_line(e, "act[na] = s;");
    emit_line(e, "na += dr[s * out] != 0;");
    emit_close(e);
    emit_line(e, "if (lead)");
    emit_cont(e, "%s_dw%ld%s(na, act, in, out, dr, x, gr, 0, 0, (int)lead);", N, KW, t->suffix);
    emit_line(e, "for (long i = lead; i < wide; i += %ld)", wide);
    emit_cont(e, "%s_dw%ld%s(na, act, in, out, dr, x, gr, i, 0, %ld);", N, wide, t->suffix, wide);
    emit_line(e, "for (long i = wide; i < full; i += %ld)", KW);
    emit_cont(e, "%s_dw%ld%s(na, act, in, out, dr, x, gr, i, 0, %ld);", N, KW, t->suffix, KW);
    emit_line(e, "if (full < in && in >= %ld)", KW);
    emit_cont(e, "%s_dw%ld%s(na, act, in, out, dr, x, gr, in - %ld, (int)(full - in + %ld), %ld);", N,
              KW, t->suffix, KW, KW, KW);
    emit_line(e, "/* rows too short for a tile: one sum at a time */");
    emit_open(e, "for (long i = 0; i < (in < %ld ? in : 0); i++)", KW);
    emit_line(e, "%s sum = 0;", R);
    emit_line(e, "for (int k = 0; k < na; k++)");
    emit_cont(e, "sum = %s_FMA(x[act[k] * in + i], dr[act[k] * out], sum);", N);
    emit_line(e, "gr[i] += sum;");
    emit_close(e);
    emit_close(e);
    emit_close(e);
    kern_end_function(e, t->guard != NULL);
}

/* Whether tier t has backward tiles in this model: the AVX-512VL ones for float only,
 * as the forward's. */
static bool back_tier_used(const GenCtx *c, const Tier *t)
{
    return !(t->float_only && c->dbl);
}

/* The dispatcher NAME_dx_best or NAME_dw_best: the best tier the processor has. */
static void emit_back_dispatch(Emit *e, const GenCtx *c, bool dw)
{
    const char *R = c->real, *N = c->name;
    const char *args = dw ? "n, in, out, j, rows, d, x, g" : "n, in, out, d, W, g";
    emit_line(e, "/* %s_d%c_best: %s_d%c of the best instruction set the processor has */", N,
              dw ? 'w' : 'x', N, dw ? 'w' : 'x');
    if (dw)
        emit_line(e, "static void %s_dw_best(int n, long in, long out, int j, int rows,", N);
    else
        emit_line(e, "static void %s_dx_best(int n, long in, long out,", N);
    emit_cont(e, "const %s *restrict d, const %s *restrict %s, %s *restrict g)", R, R,
              dw ? "x" : "W", R);
    emit_brace(e);
    for (const Tier *t = tiers; t != plain; t++) {
        if (!back_tier_used(c, t))
            continue;
        tier_ifdef(e, c, t);
        emit_cpu_test(e, t, true);
        emit_line(e, "%s_d%c%s(%s);", N, dw ? 'w' : 'x', t->suffix, args);
        emit_line(e, "return;");
        emit_close(e);
        kern_pp(e, "#endif%s", "");
    }
    emit_line(e, "%s_d%c(%s);", N, dw ? 'w' : 'x', args);
    emit_close(e);
    emit_end(e);
}

void kern_backward_tiles(Emit *e, const GenCtx *c, bool dx, bool dw)
{
    long KW = back_width(c);
    long size = c->dbl ? 8 : 4;
    for (int i = NTIERS - 1; i >= 0; i--) {
        const Tier *t = &tiers[i];
        if (!back_tier_used(c, t))
            continue;
        if (dx) {
            emit_dx_tile(e, c, t, t->dx_rows, KW);
            emit_dx_tile(e, c, t, 1, KW);
            emit_dx_driver(e, c, t, t->dx_rows, KW);
        }
        if (dw) {
            long wide = t->dw_bytes / size;
            emit_dw_tile(e, c, t, wide);
            emit_dw_tile(e, c, t, KW);
            emit_dw_driver(e, c, t, wide, KW);
        }
    }
    if (dx)
        emit_back_dispatch(e, c, false);
    if (dw)
        emit_back_dispatch(e, c, true);
}

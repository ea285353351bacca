/*
 * mathcheck.c - the driver of tests/test_gen_math.c: includes the generated mathf.c, so
 * that it can call its static helpers mathf_exp and mathf_tanh (act.c), and checks them
 * against the C library's double exp and tanh, the reference for float results.
 *
 *   mathcheck        the accuracy over every 251st float bit pattern and every float
 *                    of the ranges where the errors are largest, and the special cases
 *                    bit for bit; prints the largest errors, exits 1 on a failure
 *   mathcheck hash   only a hash of the results' bits over a sample, so that builds by
 *                    other compilers and at other optimization levels can be compared
 *
 * Built with -DBPC_LIBM, the helpers are the C library's expf and tanhf: then it checks
 * that they give exactly those values.
 *
 * The bounds are those measured over all 2^32 inputs (docs/LANGUAGE.md, "Numbers"):
 * at most 0.79 ulp for e^x (at x = -87.683, a subnormal result) and 1.018 ulp for tanh
 * (at ±0.75247), in units of the last place of the float nearest to the exact result.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mathf.c"

#define EXP_MAX_ULP 0.80
#define TANH_MAX_ULP 1.02

static int failures;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            if (++failures <= 20) {                                                       \
                printf("FAIL: " __VA_ARGS__);                                             \
                printf("\n");                                                             \
            }                                                                             \
        }                                                                                 \
    } while (0)

static float from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static uint32_t to_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

#ifndef BPC_LIBM
/* |y − ref| in units of the last place of floats at ref's magnitude (2^-149 below the
 * normal range). */
static double ulps(float y, double ref)
{
    int e = 0;
    if (ref != 0)
        frexp(ref, &e);
    const double ulp = e - 24 < -149 ? 0x1p-149 : ldexp(1.0, e - 24);
    return fabs((double)y - ref) / ulp;
}

typedef struct Stat {
    const char *name;
    double max; /* the largest error in ulps */
    float at;   /* where */
    long n;     /* inputs checked */
} Stat;

static Stat exp_stat = {"exp", 0, 0, 0}, tanh_stat = {"tanh", 0, 0, 0};

static void account(Stat *s, float x, float y, double ref)
{
    const double err = ulps(y, ref);
    s->n++;
    if (err > s->max) {
        s->max = err;
        s->at = x;
    }
}

static void check_exp(float x)
{
    const float y = mathf_exp(x);
    const double ref = exp((double)x);
    if (x != x) {
        CHECK(y != y, "exp(%a) = %a, not NaN", (double)x, (double)y);
        return;
    }
    const float nearest = (float)ref; /* inf where the correctly rounded e^x is */
    if (isinf(nearest) || isinf(y)) {
        CHECK(y == nearest, "exp(%a) = %a, not %a", (double)x, (double)y, (double)nearest);
        return;
    }
    CHECK(y >= 0 && !signbit(y), "exp(%a) = %a < 0", (double)x, (double)y);
    account(&exp_stat, x, y, ref);
}

static void check_tanh(float x)
{
    const float y = mathf_tanh(x);
    const double ref = tanh((double)x);
    if (x != x) {
        CHECK(y != y, "tanh(%a) = %a, not NaN", (double)x, (double)y);
        return;
    }
    const float nearest = (float)ref;
    CHECK((fabsf(nearest) == 1) == (fabsf(y) == 1), "tanh(%a) = %a, the nearest float is %a",
          (double)x, (double)y, (double)nearest);
    CHECK(signbit(y) == signbit(x), "tanh(%a) = %a: wrong sign", (double)x, (double)y);
    CHECK(fabsf(y) <= 1, "tanh(%a) = %a", (double)x, (double)y);
    account(&tanh_stat, x, y, ref);
}

/* Every float of [lo, hi] (both of one sign) and its negation. */
static void check_range(void (*check)(float), float lo, float hi)
{
    for (uint32_t b = to_bits(lo); b <= to_bits(hi); b++) {
        check(from_bits(b));
        check(-from_bits(b));
    }
}

/* Exactly `want` (bit for bit: the sign of 0, any NaN for NaN). */
static void expect(const char *fn, float x, float y, float want)
{
    CHECK(want != want ? y != y : to_bits(y) == to_bits(want), "%s(%a) = %a, not %a", fn,
          (double)x, (double)y, (double)want);
}

static void special_cases(void)
{
    const float inf = INFINITY, qnan = from_bits(0x7fc00000), nqnan = from_bits(0xffc00000),
                snan = from_bits(0x7f800001);
    static const struct {
        float x, want;
    } exps[] = {
        {0.0f, 1.0f},
        {-0.0f, 1.0f},
        {0x1p-149f, 1.0f},
        {-0x1p-149f, 1.0f},
        {1.0f, 0x1.5bf0a8p1f},          /* e */
        {0x1.62e42ep6f, 0x1.ffff08p127f}, /* the largest finite result */
        {0x1.62e43p6f, INFINITY},        /* and the next float overflows */
        {0x1.fffffep127f, INFINITY},
        {-0x1.fffffep127f, 0.0f},
        {-0x1.9fe368p6f, 0x1p-149f},     /* the smallest result above 0 */
        {-0x1.9fe36ap6f, 0.0f},          /* e^x < 2^-150: rounds to 0 */
        {-0x1.9d1dap6f, 0x1p-149f},
    };
    for (size_t i = 0; i < sizeof exps / sizeof exps[0]; i++)
        expect("exp", exps[i].x, mathf_exp(exps[i].x), exps[i].want);
    expect("exp", inf, mathf_exp(inf), inf);
    expect("exp", -inf, mathf_exp(-inf), 0.0f);
    expect("exp", qnan, mathf_exp(qnan), qnan);
    expect("exp", nqnan, mathf_exp(nqnan), qnan);
    expect("exp", snan, mathf_exp(snan), qnan);

    static const struct {
        float x, want;
    } tanhs[] = {
        {0.0f, 0.0f},
        {0x1p-149f, 0x1p-149f},
        {1e-30f, 1e-30f},
        {0x1p-12f, 0x1p-12f},
        {0x1.205966p3f, 0x1.fffffep-1f}, /* the last float below 1 */
        {0x1.205968p3f, 1.0f},           /* from here the nearest float to tanh is 1 */
        {0x1.fffffep127f, 1.0f},
    };
    for (size_t i = 0; i < sizeof tanhs / sizeof tanhs[0]; i++) {
        expect("tanh", tanhs[i].x, mathf_tanh(tanhs[i].x), tanhs[i].want);
        expect("tanh", -tanhs[i].x, mathf_tanh(-tanhs[i].x), -tanhs[i].want);
    }
    expect("tanh", inf, mathf_tanh(inf), 1.0f);
    expect("tanh", -inf, mathf_tanh(-inf), -1.0f);
    expect("tanh", qnan, mathf_tanh(qnan), qnan);
    expect("tanh", nqnan, mathf_tanh(nqnan), qnan);
    expect("tanh", snan, mathf_tanh(snan), qnan);
}

static int check_all(void)
{
    special_cases();
    for (uint64_t b = 0; b < (uint64_t)1 << 32; b += 251) {
        check_exp(from_bits((uint32_t)b));
        check_tanh(from_bits((uint32_t)b));
    }
    /* where the errors are largest: subnormal results of e^x (and around the under- and
     * overflow thresholds), e^x at its largest normal-range error (near -5.17), tanh
     * on both sides of 0.75, where the polynomial ends */
    check_range(check_exp, 87.0f, 104.0f);
    check_range(check_exp, 5.125f, 5.25f);
    check_range(check_tanh, 0.74f, 0.76f);
    const Stat *stats[] = {&exp_stat, &tanh_stat};
    const double bounds[] = {EXP_MAX_ULP, TANH_MAX_ULP};
    for (int i = 0; i < 2; i++) {
        const Stat *s = stats[i];
        printf("%s: %ld inputs, at most %.4f ulp (at %a)\n", s->name, s->n, s->max,
               (double)s->at);
        CHECK(s->max <= bounds[i], "%s: %.4f ulp at %a, more than %.2f", s->name, s->max,
              (double)s->at, bounds[i]);
    }
    return failures;
}
#else
/* -DBPC_LIBM: the helpers are the C library's functions. */
static int check_all(void)
{
    for (uint64_t b = 0; b < (uint64_t)1 << 32; b += 251) {
        const float x = from_bits((uint32_t)b);
        const float e = mathf_exp(x), le = expf(x), t = mathf_tanh(x), lt = tanhf(x);
        CHECK(e != e ? le != le : to_bits(e) == to_bits(le), "exp(%a) = %a, expf gives %a",
              (double)x, (double)e, (double)le);
        CHECK(t != t ? lt != lt : to_bits(t) == to_bits(lt), "tanh(%a) = %a, tanhf gives %a",
              (double)x, (double)t, (double)lt);
    }
    printf("libm: the helpers are expf and tanhf\n");
    return failures;
}
#endif

/* FNV-1a over the bits of e^x and tanh(x) for every 4099th bit pattern. */
static void print_hash(void)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (uint64_t b = 0; b < (uint64_t)1 << 32; b += 4099) {
        const float x = from_bits((uint32_t)b);
        const uint32_t bits[2] = {to_bits(mathf_exp(x)), to_bits(mathf_tanh(x))};
        for (int k = 0; k < 2; k++) {
            /* all NaNs alike: their payloads are not specified */
            const uint32_t v = from_bits(bits[k]) != from_bits(bits[k]) ? 0x7fc00000u : bits[k];
            for (int byte = 0; byte < 4; byte++) {
                h ^= (v >> (8 * byte)) & 0xff;
                h *= UINT64_C(1099511628211);
            }
        }
    }
    printf("hash %016llx\n", (unsigned long long)h);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "hash") == 0) {
        print_hash();
        return 0;
    }
    const int failed = check_all();
    print_hash();
    if (failed)
        printf("%d failures\n", failed);
    else
        printf("ok\n");
    return failed != 0;
}

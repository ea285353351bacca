/*
 * rng.c - the runtime's random number generator: xoshiro256** (Blackman and Vigna),
 * seeded through splitmix64, and the uniform, normal and bounded-integer draws that
 * weight initialization and data shuffling use.  The whole state is the caller's
 * bprt_rng, so a seed fixes every draw and generated code may keep it on its stack.
 */
#include <math.h>

#include "bprt.h"

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64 spreads any seed, 0 included, over the state; being a bijection of its
 * counter, four consecutive outputs are never all zero, the one state xoshiro forbids. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void bprt_rng_seed(bprt_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

uint64_t bprt_rng_next(bprt_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* The top 53 bits (the better ones) as a double in [0, 1): every value exact. */
static double unit(bprt_rng *r)
{
    return (double)(bprt_rng_next(r) >> 11) * 0x1.0p-53;
}

/* lo + (hi - lo) * u can round up to hi; such a draw is redrawn to keep [lo, hi)
 * half-open.  The `hi > lo` test stops the loop when the interval is empty. */
double bprt_rng_uniform(bprt_rng *r, double lo, double hi)
{
    /* Half the range, twice: hi - lo overflows when lo and hi are near -DBL_MAX and
     * DBL_MAX (and x = inf would never be below hi); the result is the same. */
    double half = hi / 2 - lo / 2, x;
    do {
        double u = unit(r);
        x = lo + (half * u + half * u);
    } while (x >= hi && hi > lo);
    return x;
}

/* Box-Muller, keeping one of the pair: exactly two draws per call, so the stream
 * position never depends on the values drawn, and there is no spare to cache. */
double bprt_rng_normal(bprt_rng *r, double mean, double std)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - unit(r); /* in (0, 1]: log stays finite */
    double u2 = unit(r);
    return mean + std * sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

/* Rejection (as OpenBSD's arc4random_uniform): accepting only x >= 2^64 mod n leaves
 * a range whose size is a multiple of n, so x % n is exactly uniform.  Fewer than
 * half the draws are rejected for any n.  n = 0 would divide by zero: it gives 0. */
uint64_t bprt_rng_below(bprt_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t threshold = (0 - n) % n;
    uint64_t x;
    do
        x = bprt_rng_next(r);
    while (x < threshold);
    return x % n;
}

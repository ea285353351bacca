/*
 * optcheck.c - the optimizer driver of tests/test_gen_optim.c, compiled at test time
 * with generated networks.
 *
 * The test writes nets.h, which includes optcheck_net.h once per network with NET, UP
 * (its upper case), HYPER (its optimizer as a Hyper initializer), DESC (the same as
 * text) and TOL defined.  For each network the driver sets the parameters and, before
 * each of five steps, the gradients by hand (and before the last two the model's lr),
 * calls NET_step, and compares the parameters with ref_step below: PyTorch's update
 * rules written out independently, in double.  Exit status 0 when all agree.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

enum { SGD, ADAM, ADAMW };

typedef struct Hyper {
    int kind;
    double lr, momentum, nesterov, weight_decay; /* sgd */
    double beta1, beta2, eps;                    /* adam, adamw (weight_decay shared) */
} Hyper;

enum { MAXP = 64 };

typedef struct RefState {
    double p[MAXP], buf[MAXP], m[MAXP], v[MAXP];
    int64_t step;
} RefState;

/* torch.optim.SGD / Adam / AdamW, one step, from the documented algorithms. */
static void ref_step(const Hyper *h, RefState *s, const double *grad, int n)
{
    s->step++;
    for (int i = 0; i < n; i++) {
        double g = grad[i];
        if (h->kind == SGD) {
            if (h->weight_decay != 0)
                g += h->weight_decay * s->p[i];
            if (h->momentum != 0) {
                s->buf[i] = h->momentum * s->buf[i] + g; /* buf starts at 0: buf_1 = g */
                g = h->nesterov != 0 ? g + h->momentum * s->buf[i] : s->buf[i];
            }
            s->p[i] -= h->lr * g;
        } else {
            if (h->kind == ADAMW)
                s->p[i] *= 1 - h->lr * h->weight_decay;
            else if (h->weight_decay != 0)
                g += h->weight_decay * s->p[i];
            s->m[i] = h->beta1 * s->m[i] + (1 - h->beta1) * g;
            s->v[i] = h->beta2 * s->v[i] + (1 - h->beta2) * g * g;
            double bias1 = 1 - pow(h->beta1, (double)s->step);
            double bias2 = 1 - pow(h->beta2, (double)s->step);
            /* PyTorch's arrangement of lr · m̂ / (√v̂ + eps), m̂ = m/bias1, v̂ = v/bias2 */
            s->p[i] -= h->lr / bias1 * s->m[i] / (sqrt(s->v[i]) / sqrt(bias2) + h->eps);
        }
    }
}

static double rel_err(double a, double b)
{
    double den = fabs(a) + fabs(b);
    return den > 0 ? fabs(a - b) / den : 0;
}

#include "nets.h"

int main(void)
{
    int fails = 0;
#define X(b) fails += CAT(check_, b)();
    NET_LIST(X)
#undef X
    printf("%d failed\n", fails);
    return fails ? 1 : 0;
}

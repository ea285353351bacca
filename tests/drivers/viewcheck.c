/*
 * viewcheck.c - the named parameter views of the generated header (test_gen_files.c):
 * for network "views" (input 3; h: dense 4 tanh; out: dense 2), each tensor's offset
 * and size constants tile NAME_PARAMS in state_dict order, and writing through them
 * reaches the element the layer's forward reads.
 */
#include <stdio.h>
#include <string.h>

#include "views.h"

static views_model m;

int main(void)
{
    int failed = 0;
#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            printf("failed: %s\n", #cond);                                          \
            failed = 1;                                                             \
        }                                                                           \
    } while (0)
    CHECK(views_h_W == 0 && views_h_W_size == 4 * 3);
    CHECK(views_h_b == views_h_W + views_h_W_size && views_h_b_size == 4);
    CHECK(views_out_W == views_h_b + views_h_b_size && views_out_W_size == 2 * 4);
    CHECK(views_out_b == views_out_W + views_out_W_size && views_out_b_size == 2);
    CHECK(views_out_b + views_out_b_size == VIEWS_PARAMS);

    /* out.b[1] set through its view is output 1 when every weight is 0 */
    views_init(&m, 1);
    views_real *p = views_params(&m);
    memset(p, 0, sizeof(views_real) * VIEWS_PARAMS);
    p[views_out_b + 1] = 0.75f;
    const views_real x[3] = {1, 2, 3};
    views_real y[2];
    views_forward(&m, x, y, 1);
    CHECK(y[0] == 0 && y[1] == 0.75f);
    puts(failed ? "FAILED" : "ok");
    return failed;
}

/*
 * timecmd.c - runs a command N times and prints the median wall-clock time in
 * milliseconds (CLOCK_MONOTONIC around fork, exec and wait).  bench/run.sh times bpc on
 * each example and `cc -O3` on the generated MNIST code with it.
 *
 *   timecmd N COMMAND [ARG...]     exit status 1 if any run fails
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const int n = argc > 2 ? atoi(argv[1]) : 0;
    if (n < 1 || n > 1000) {
        fprintf(stderr, "usage: timecmd N COMMAND [ARG...]\n");
        return 2;
    }
    double *t = malloc((size_t)n * sizeof *t);
    if (!t)
        return 2;
    for (int i = 0; i < n; i++) {
        const double t0 = now();
        const pid_t pid = fork();
        if (pid < 0) {
            perror("timecmd: fork");
            return 2;
        }
        if (pid == 0) {
            execvp(argv[2], argv + 2);
            perror(argv[2]);
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "timecmd: %s failed\n", argv[2]);
            return 1;
        }
        t[i] = now() - t0;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    const double med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    printf("%.2f\n", 1e3 * med);
    free(t);
    return 0;
}

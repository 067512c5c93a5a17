/* sgemm_peak.c - the machine's matrix-multiply ceiling at one shape:
 * repeats C = A B (M x K times K x N, row-major, float) for about a second
 * with OpenBLAS's threads (OPENBLAS_NUM_THREADS) and prints the best
 * GFLOP/s over 5 rounds. Used by bench/run.py as the denominator of cnet's
 * "fraction of the ceiling". */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sgemm_peak M N K\n");
        return 2;
    }
    int M = atoi(argv[1]), N = atoi(argv[2]), K = atoi(argv[3]);
    if (M < 1 || N < 1 || K < 1) {
        fprintf(stderr, "sgemm_peak: sizes must be positive\n");
        return 2;
    }
    float *a = malloc(sizeof(float) * (size_t)M * K), *b = malloc(sizeof(float) * (size_t)K * N);
    float *c = malloc(sizeof(float) * (size_t)M * N);
    if (!a || !b || !c)
        return 1;
    for (size_t i = 0; i < (size_t)M * K; i++)
        a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)K * N; i++)
        b[i] = (float)(i % 5) * 0.1f;
    double flop = 2.0 * M * N * K, best = 0.0;
    for (int round = 0; round < 6; round++) {
        int reps = 0;
        double t0 = now(), t;
        do {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N,
                        0.0f, c, N);
            reps++;
            t = now() - t0;
        } while (t < 0.2);
        if (round > 0 && reps * flop / t / 1e9 > best) /* round 0 warms up */
            best = reps * flop / t / 1e9;
    }
    printf("%.1f\n", best);
    free(a);
    free(b);
    free(c);
    return 0;
}

/* bench_load.c - how long loading an OpenAPI document takes, and how much memory it needs.
 *
 * usage: bench_load FILE [REPEAT]
 * Loads FILE REPEAT times (default 15), each into a fresh docset (parse, $ref check, model), and
 * prints the median, minimum and maximum wall time, then the process's peak RSS (which, with
 * REPEAT loads one after another, is the RSS of one load plus the program itself). */
#include "core/alloc.h"
#include "openapi/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_load FILE [REPEAT]\n");
        return 2;
    }
    int repeat = argc > 2 ? atoi(argv[2]) : 15;
    if (repeat < 1)
        repeat = 1;
    double *t = ct_xcalloc((size_t)repeat, sizeof(double));
    unsigned ops = 0, files = 0;
    size_t bytes = 0, arena = 0;
    for (int i = 0; i < repeat; i++) {
        struct ct_diags diags;
        ct_diags_init(&diags);
        struct ct_docset *ds = NULL;
        double t0 = now_ms();
        struct ct_oas *oas = ct_oas_load(argv[1], NULL, &ds, &diags);
        t[i] = now_ms() - t0;
        if (!oas) {
            fprintf(stderr, "bench_load: %s does not load (%zu errors)\n", argv[1], diags.nerrors);
            return 1;
        }
        ops = oas->nops;
        ct_docset_stats(ds, &files, &bytes);
        arena = ct_docset_arena(ds)->total;
        ct_diags_deinit(&diags);
        ct_docset_free(ds);
    }
    qsort(t, (size_t)repeat, sizeof(double), cmp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s: %zu bytes, %u operations: load median %.2f ms (min %.2f, max %.2f, n=%d), "
           "tree %.1f MB, peak RSS %.1f MB\n",
           argv[1], bytes, ops, t[repeat / 2], t[0], t[repeat - 1], repeat, (double)arena / 1e6,
           (double)ru.ru_maxrss / 1024.0);
    ct_free(t);
    return 0;
}

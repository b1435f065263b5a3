/* bench_validator.c - validator throughput on /work/shared/bench-data (see its README.md).
 *
 * usage: bench_validator BENCH_DATA_DIR [RUNS]
 *
 * Prints instances per second (median over RUNS runs, each about 0.3 s) for: validate-only one
 * object, parse+validate one object, parse+validate the 100-item list, and validate invalid-one
 * collecting all errors; format assertion is on. Beside the wall-clock rate each line gives the
 * rate in this thread's CPU time (median too), which time slices lost to other jobs on a shared
 * machine do not lower. Exit 77 when the data is absent. */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/fs.h"
#include "json/node.h"
#include "openapi/docset.h"
#include "schema/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum mode { VALIDATE_ONLY, PARSE_VALIDATE, PARSE_ONLY };

struct job {
    const char *name;
    const struct ct_schema *schema;
    struct ct_vctx *vc;
    const char *text;
    size_t len;
    const struct ct_node *parsed; /* for VALIDATE_ONLY */
    enum mode mode;
    struct ct_vopts vo;
    bool expect;
};

/* One timed run: as many iterations as fit in ~0.3 s; returns instances per second of wall
 * time, and sets *cpu_rate to instances per second of thread CPU time. */
static double run_once(struct job *j, double *cpu_rate)
{
    struct ct_arena arena;
    ct_arena_init(&arena, 1 << 16);
    struct ct_source src = {"<bench>", j->text, j->len};
    struct ct_diags diags;
    ct_diags_init(&diags);
    unsigned long iters = 0;
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    double t0 = now(), t;
    do {
        for (int k = 0; k < 64; k++) {
            const struct ct_node *in = j->parsed;
            if (j->mode != VALIDATE_ONLY) {
                ct_arena_reset(&arena);
                in = ct_json_parse(&arena, &src, NULL, &diags);
                if (j->mode == PARSE_ONLY) {
                    if (!in)
                        exit(1);
                    continue;
                }
            }
            bool ok = ct_schema_validate_opts(j->schema, j->vc, in, &j->vo, &diags);
            if (ok != j->expect) {
                fprintf(stderr, "%s: unexpected verdict\n", j->name);
                exit(1);
            }
            ct_diags_clear(&diags);
        }
        iters += 64;
        t = now();
    } while (t - t0 < 0.3);
    *cpu_rate = (double)iters / (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
    ct_diags_deinit(&diags);
    ct_arena_deinit(&arena);
    return (double)iters / (t - t0);
}

static void report(struct job *j, int runs)
{
    double v[32], cpu[32];
    for (int i = 0; i < runs; i++)
        v[i] = run_once(j, &cpu[i]);
    qsort(v, (size_t)runs, sizeof(double), cmp_double);
    qsort(cpu, (size_t)runs, sizeof(double), cmp_double);
    double med = v[runs / 2], cmed = cpu[runs / 2];
    if (med >= 1e6)
        printf("%-42s %8.2f M/s  (min %.2f, max %.2f; CPU time %.2f M/s)\n", j->name, med / 1e6,
               v[0] / 1e6, v[runs - 1] / 1e6, cmed / 1e6);
    else
        printf("%-42s %8.1f k/s  (min %.1f, max %.1f; CPU time %.1f k/s)\n", j->name, med / 1e3,
               v[0] / 1e3, v[runs - 1] / 1e3, cmed / 1e3);
}

static char *read_or_die(const char *dir, const char *name, size_t *len)
{
    char *path = ct_xasprintf("%s/%s", dir, name);
    char *text = NULL;
    if (ct_fs_read(path, 0, &text, len)) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(77);
    }
    ct_free(path);
    return text;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s BENCH_DATA_DIR [RUNS]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int runs = argc > 2 ? atoi(argv[2]) : 7; /* NOLINT: a benchmark argument */
    if (runs < 1 || runs > 31)
        runs = 7;
    size_t l1, l2, l3, l4;
    char *one = read_or_die(dir, "valid-one.json", &l1);
    char *list = read_or_die(dir, "valid-list.json", &l2);
    char *bad = read_or_die(dir, "invalid-one.json", &l3);
    char *sl = read_or_die(dir, "schema-list.json", &l4);
    ct_free(sl);

    struct ct_diags diags;
    ct_diags_init(&diags);
    struct ct_docset *ds = ct_docset_new(NULL);
    char *sp = ct_xasprintf("%s/schema.json", dir), *slp = ct_xasprintf("%s/schema-list.json", dir);
    const struct ct_node *sch = ct_docset_load(ds, sp, &diags);
    const struct ct_node *schl = ct_docset_load(ds, slp, &diags);
    struct ct_schema_opts opts = {.dialect = CT_DIALECT_2020_12, .format_assert = true};
    struct ct_schema_set *set = ct_schema_set_new(ds, &opts);
    const struct ct_schema *s = sch ? ct_schema_set_get(set, sch, &diags) : NULL;
    const struct ct_schema *slist = schl ? ct_schema_set_get(set, schl, &diags) : NULL;
    if (!s || !slist) {
        struct ct_buf out;
        ct_buf_init(&out, 0);
        ct_diags_render(&diags, &out, false);
        fprintf(stderr, "%s", ct_buf_cstr(&out));
        return 1;
    }
    struct ct_vctx *vc = ct_vctx_new();
    struct ct_arena arena;
    ct_arena_init(&arena, 1 << 16);
    struct ct_source src = {"valid-one.json", one, l1};
    const struct ct_node *parsed = ct_json_parse(&arena, &src, NULL, &diags);

    /* Check the verdicts the README promises before timing anything. */
    struct ct_vopts all = {CT_DIR_NONE, true, false};
    struct ct_source bsrc = {"invalid-one.json", bad, l3};
    const struct ct_node *bp = ct_json_parse(&arena, &bsrc, NULL, &diags);
    ct_schema_validate_opts(s, vc, bp, &all, &diags);
    printf("invalid-one.json, all errors: %zu errors\n", diags.nerrors);
    ct_diags_clear(&diags);

    printf("validator benchmark (2020-12, format assertion on), median of %d runs\n", runs);
    struct job jobs[] = {
        {"validate-only one object", s, vc, one, l1, parsed, VALIDATE_ONLY, {0}, true},
        {"parse+validate one object", s, vc, one, l1, NULL, PARSE_VALIDATE, {0}, true},
        {"parse+validate 100-item list", slist, vc, list, l2, NULL, PARSE_VALIDATE, {0}, true},
        {"parse+validate invalid-one, all errors", s, vc, bad, l3, NULL, PARSE_VALIDATE, all,
         false},
        {"(reference) parse-only one object", s, vc, one, l1, NULL, PARSE_ONLY, {0}, true},
        {"(reference) parse-only 100-item list", s, vc, list, l2, NULL, PARSE_ONLY, {0}, true},
    };
    /* Warm up (about a second): the first rounds after start ran at half speed here (clock
     * ramp-up, cold caches), which made the first line of the table look slow. */
    double unused;
    for (int i = 0; i < 3; i++)
        run_once(&jobs[0], &unused);
    for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
        report(&jobs[i], runs);

    ct_arena_deinit(&arena);
    ct_vctx_free(vc);
    ct_schema_set_free(set);
    ct_docset_free(ds);
    ct_diags_deinit(&diags);
    ct_free(sp);
    ct_free(slp);
    ct_free(one);
    ct_free(list);
    ct_free(bad);
    return 0;
}

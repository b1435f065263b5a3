/* gen_specs.c - property test: every generated instance validates against its schema.
 *
 * For each OpenAPI document given (files, or directories scanned one level deep for .yaml/.json),
 * every schema under components/schemas (as a response: writeOnly omitted), every response
 * media-type schema (RESPONSE) and every request body schema (REQUEST) is generated with five
 * seeds, and each instance is validated with the project's validator (dialect OAS30 for 3.0
 * documents, OAS31 for 3.1, formats asserted). One TAP line per document prints the counts:
 *   ok 3 - twilio-iam_v1.oas30.json: 140 schemas, 700 generated, 700 valid (21 us/instance)
 *
 * Exceptions live in a file (--exceptions FILE), one per line: `<document basename> <label>`
 * followed by `# reason`. A listed schema may fail; a listed schema that passes fails the test
 * (the list may only shrink). Without any document to read (shared/ absent) the test skips.
 *
 * usage: gen_specs [--exceptions FILE] [--bench LABEL] [--dump LABEL] [--require] PATH...
 *   --bench LABEL  also time that schema (e.g. components/schemas/Prompt): median per instance
 *   --dump LABEL   print the instances generated for that schema (not TAP: for people)
 *   --seeds N      seeds per schema (default 5; more for a soak run)
 *   --require      fail rather than skip when no document is found */
#include "core/alloc.h"
#include "gen/gen.h"
#include "openapi/model.h"
#include "schema/schema.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static unsigned SEEDS = 5; /* seeds per schema; --seeds */

struct strlist {
    char **v;
    size_t n, cap;
};

static void push(struct strlist *l, char *s)
{
    l->v = ct_xgrow(l->v, &l->cap, l->n + 1, sizeof(char *));
    l->v[l->n++] = s;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_doc(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") || !strcmp(dot, ".json"));
}

static void collect(const char *path, struct strlist *out)
{
    struct stat st;
    if (stat(path, &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        push(out, ct_xstrdup(path));
        return;
    }
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    struct strlist here = {0};
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !is_doc(e->d_name)) continue;
        char *p = ct_xasprintf("%s/%s", path, e->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            push(&here, p);
        else
            ct_free(p);
    }
    closedir(d);
    qsort(here.v, here.n, sizeof(char *), cmpstr);
    for (size_t i = 0; i < here.n; i++)
        push(out, here.v[i]);
    ct_free(here.v);
}

/* --- exceptions ------------------------------------------------------------------------- */

struct exc {
    char *doc, *label;
    bool seen_fail;
};

struct excs {
    struct exc *v;
    size_t n, cap;
};

static void load_exceptions(const char *path, struct excs *ex)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return;
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        char *sp = strpbrk(p, " \t");
        if (!*p || *p == '\n' || !sp) continue;
        *sp = 0;
        char *label = sp + 1;
        while (*label == ' ' || *label == '\t')
            label++;
        size_t n = strlen(label);
        while (n && (label[n - 1] == '\n' || label[n - 1] == ' ' || label[n - 1] == '\t'))
            label[--n] = 0;
        ex->v = ct_xgrow(ex->v, &ex->cap, ex->n + 1, sizeof(*ex->v));
        ex->v[ex->n++] = (struct exc){ct_xstrdup(p), ct_xstrdup(label), false};
    }
    fclose(f);
}

static struct exc *find_exc(struct excs *ex, const char *doc, const char *label)
{
    for (size_t i = 0; i < ex->n; i++)
        if (!strcmp(ex->v[i].doc, doc) && !strcmp(ex->v[i].label, label)) return &ex->v[i];
    return NULL;
}

/* --- one document ----------------------------------------------------------------------- */

struct run {
    struct excs *ex;
    const char *bench;
    const char *dump;
    int tap_n, failed;
};

struct counts {
    unsigned schemas, generated, valid, excepted, unexpected;
    double us;
    double slowest_us; /* one instance */
    char slowest[256];
    unsigned shown;
};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void print_diags(const struct ct_diags *d)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_diags_render(d, &b, false);
    for (char *line = b.ptr; line && *line;) {
        char *nl = strchr(line, '\n');
        printf("#   %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
        line = nl ? nl + 1 : NULL;
    }
    ct_buf_deinit(&b);
}

static void one_schema(struct run *run, struct ct_docset *ds, struct ct_schema_set *set,
                       struct ct_gen_cache *cache, const char *doc, const char *label,
                       const struct ct_node *schema, enum ct_direction dir, bool oas30,
                       struct counts *c)
{
    struct ct_diags cd;
    ct_diags_init(&cd);
    const struct ct_schema *cs = ct_schema_set_get(set, schema, &cd);
    if (!cs) {
        /* Not our problem: the validator cannot compile it. Say so once. */
        printf("# %s %s: the validator does not compile this schema (skipped)\n", doc, label);
        print_diags(&cd);
        ct_diags_deinit(&cd);
        return;
    }
    ct_diags_deinit(&cd);
    c->schemas++;
    struct exc *e = find_exc(run->ex, doc, label);
    bool all_ok = true;
    struct ct_arena arena;
    ct_arena_init(&arena, 16384);
    struct ct_vctx *vc = ct_vctx_new();
    for (unsigned seed = 1; seed <= SEEDS; seed++) {
        struct ct_gen_opts o = {.seed = seed,
                                .direction = dir,
                                .oas30 = oas30,
                                .prefer_examples = seed % 2 == 0,
                                .cache = cache};
        struct ct_diags d;
        ct_diags_init(&d);
        double t0 = now_us();
        struct ct_node *inst = ct_gen_instance(ds, schema, &o, &arena, &d);
        double dt = now_us() - t0;
        c->us += dt;
        if (dt > c->slowest_us) {
            c->slowest_us = dt;
            /* Truncating a long label is fine: it only names the slowest schema. */
            size_t n = strlen(label);
            if (n >= sizeof c->slowest)
                n = sizeof c->slowest - 1;
            memcpy(c->slowest, label, n);
            c->slowest[n] = 0;
        }
        bool ok = false;
        if (inst && run->dump && !strcmp(run->dump, label)) {
            struct ct_buf b;
            ct_buf_init(&b, 0);
            ct_json_emit(inst, &b, true);
            printf("# %s seed %u:\n%s\n", label, seed, ct_buf_cstr(&b));
            ct_buf_deinit(&b);
        }
        if (inst) {
            c->generated++;
            struct ct_vopts vo = {.direction = dir, .all_errors = false};
            ok = ct_schema_validate_opts(cs, vc, inst, &vo, &d);
            c->valid += ok;
        }
        if (!ok) {
            all_ok = false;
            c->unexpected += !e;
            if (!e && c->shown < 12) {
                c->shown++;
                printf("# %s %s seed %u: %s\n", doc, label, seed,
                       inst ? "generated instance is invalid" : "no instance generated");
                print_diags(&d);
                if (inst) {
                    struct ct_buf b;
                    ct_buf_init(&b, 0);
                    ct_json_emit(inst, &b, false);
                    printf("#   instance: %.600s\n", ct_buf_cstr(&b));
                    ct_buf_deinit(&b);
                }
            }
        }
        ct_diags_deinit(&d);
        ct_arena_reset(&arena);
    }
    ct_vctx_free(vc);
    ct_arena_deinit(&arena);
    if (e && !all_ok) {
        e->seen_fail = true;
        c->excepted++;
    }
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench(struct ct_docset *ds, const struct ct_node *schema, bool oas30,
                  struct ct_gen_cache *cache, const char *label)
{
    enum { N = 2000 };
    static double t[N];
    struct ct_arena arena;
    ct_arena_init(&arena, 16384);
    for (int with_cache = 0; with_cache < 2; with_cache++) {
        for (int i = 0; i < N; i++) {
            struct ct_gen_opts o = {.seed = (uint64_t)i,
                                    .direction = CT_DIR_RESPONSE,
                                    .oas30 = oas30,
                                    .cache = with_cache ? cache : NULL};
            double t0 = now_us();
            struct ct_node *inst = ct_gen_instance(ds, schema, &o, &arena, NULL);
            t[i] = now_us() - t0;
            (void)inst;
            ct_arena_reset(&arena);
        }
        qsort(t, N, sizeof t[0], cmpd);
        printf("# bench %s (%s): median %.1f us, p90 %.1f us per instance over %d seeds\n", label,
               with_cache ? "with a pattern cache" : "no cache: patterns compiled per call",
               t[N / 2], t[N * 9 / 10], N);
    }
    ct_arena_deinit(&arena);
}

static void one_doc(struct run *run, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset *ds = NULL;
    struct ct_oas *oas = ct_oas_load(path, NULL, &ds, &d);
    if (!oas) {
        printf("ok %d - %s # SKIP not an OpenAPI 3.0/3.1 document this loader accepts\n",
               ++run->tap_n, base);
        ct_diags_deinit(&d);
        ct_docset_free(ds);
        return;
    }
    bool oas30 = oas->minor == 0;
    struct ct_schema_opts so = {.dialect = oas30 ? CT_DIALECT_OAS30 : CT_DIALECT_OAS31,
                                .format_assert = true};
    struct ct_schema_set *set = ct_schema_set_new(ds, &so);
    struct ct_gen_cache *cache = ct_gen_cache_new();
    struct counts c = {0};
    char label[1024];
    const struct ct_node *schemas = ct_obj_get(oas->components, "schemas");
    for (uint32_t i = 0; schemas && schemas->kind == CT_OBJECT && i < schemas->len; i++) {
        snprintf(label, sizeof label, "components/schemas/%s", schemas->u.members[i].key->u.str);
        one_schema(run, ds, set, cache, base, label, schemas->u.members[i].val, CT_DIR_RESPONSE,
                   oas30, &c);
        if (run->bench && !strcmp(run->bench, label))
            bench(ds, schemas->u.members[i].val, oas30, cache, label);
    }
    for (unsigned i = 0; i < oas->nops; i++) {
        const struct ct_oas_op *op = &oas->ops[i];
        const char *m = ct_http_method_name(op->method);
        for (unsigned k = 0; k < op->nbody; k++) {
            if (!op->body[k].schema) continue;
            snprintf(label, sizeof label, "%s %s request %s", m, op->path, op->body[k].type);
            one_schema(run, ds, set, cache, base, label, op->body[k].schema, CT_DIR_REQUEST, oas30,
                       &c);
        }
        for (unsigned r = 0; r < op->nresponses; r++) {
            const struct ct_oas_response *rs = &op->responses[r];
            for (unsigned k = 0; k < rs->nmedia; k++) {
                if (!rs->media[k].schema) continue;
                snprintf(label, sizeof label, "%s %s %s %s", m, op->path, rs->status,
                         rs->media[k].type);
                one_schema(run, ds, set, cache, base, label, rs->media[k].schema, CT_DIR_RESPONSE,
                           oas30, &c);
            }
        }
    }
    unsigned expected = c.schemas * SEEDS;
    bool ok = c.unexpected == 0;
    printf("%s %d - %s: %u schemas, %u generated, %u valid of %u%s (%.0f us/instance)\n",
           ok ? "ok" : "not ok", ++run->tap_n, base, c.schemas, c.generated, c.valid, expected,
           c.excepted ? " (listed exceptions fail)" : "",
           c.generated ? c.us / (c.schemas * SEEDS) : 0.0);
    if (c.slowest_us > 0) printf("# slowest: %s, %.0f us\n", c.slowest, c.slowest_us);
    if (!ok) run->failed++;
    ct_gen_cache_free(cache);
    ct_schema_set_free(set);
    ct_diags_deinit(&d);
    ct_docset_free(ds);
}

int main(int argc, char **argv)
{
    struct strlist files = {0};
    struct excs ex = {0};
    struct run run = {.ex = &ex};
    bool require = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--exceptions") && i + 1 < argc)
            load_exceptions(argv[++i], &ex);
        else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
            run.bench = argv[++i];
        else if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
            SEEDS = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            run.dump = argv[++i];
        else if (!strcmp(argv[i], "--require"))
            require = true;
        else
            collect(argv[i], &files);
    }
    if (files.n == 0) {
        if (require) {
            printf("1..1\nnot ok 1 - no OpenAPI document found\n");
            return 1;
        }
        printf("1..0 # SKIP no documents found (shared/ absent?)\n");
        return 0;
    }
    printf("1..%zu\n", files.n + 1);
    for (size_t i = 0; i < files.n; i++) {
        one_doc(&run, files.v[i]);
        fflush(stdout);
    }
    /* Every listed exception must still fail somewhere in the documents given. */
    unsigned stale = 0;
    for (size_t i = 0; i < ex.n; i++) {
        bool here = false;
        for (size_t k = 0; k < files.n; k++) {
            const char *b = strrchr(files.v[k], '/');
            here |= !strcmp(b ? b + 1 : files.v[k], ex.v[i].doc);
        }
        if (here && !ex.v[i].seen_fail) {
            printf("# stale exception (now passes; remove it): %s %s\n", ex.v[i].doc,
                   ex.v[i].label);
            stale++;
        }
    }
    printf("%s %d - exception list is current (%zu entries, %u stale)\n", stale ? "not ok" : "ok",
           ++run.tap_n, ex.n, stale);
    if (stale) run.failed++;
    for (size_t i = 0; i < files.n; i++)
        ct_free(files.v[i]);
    ct_free(files.v);
    for (size_t i = 0; i < ex.n; i++) {
        ct_free(ex.v[i].doc);
        ct_free(ex.v[i].label);
    }
    ct_free(ex.v);
    return run.failed ? 1 : 0;
}

/* run.c - `runner run` and `runner check`: loading the contract and the suite, starting mockd
 * for --mock, running scenarios on --jobs worker threads, coverage and reports.
 *
 * Workers take the next selected scenario from a shared counter, so a slow scenario never
 * holds up the others; results land in a slot per scenario (suite order for reports) and the
 * human output prints each scenario as it finishes, under a mutex. */
#include "runner.h"

#include "core/alloc.h"
#include "core/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool use_color(int opt, FILE *f)
{
    if (opt >= 0)
        return opt == 1;
    const char *nc = getenv("NO_COLOR");
    return isatty(fileno(f)) && !(nc && *nc);
}

static void render_diags(struct ct_diags *d, bool color)
{
    struct ct_buf out;
    ct_buf_init(&out, 0);
    ct_diags_render(d, &out, color);
    fputs(ct_buf_cstr(&out), stderr);
    ct_buf_deinit(&out);
}

/* Contract and suite: shared by run and check. Returns 0 or an exit status. */
static int load_all(const struct runner_opts *o, struct runner_contract **c, struct ct_docset **ds,
                    struct runner_suite *s, bool color)
{
    struct ct_diags d;
    ct_diags_init(&d);
    *c = NULL;
    *ds = NULL;
    int rc = 0;
    if (o->spec) {
        *c = runner_contract_load(o->spec, ds, &d);
        if (!*c) {
            render_diags(&d, color);
            fprintf(stderr, "runner: the contract '%s' is broken\n", o->spec);
            ct_diags_deinit(&d);
            return RUNNER_BROKEN;
        }
        if (o->asyncapi && runner_contract_load_asyncapi(*c, o->asyncapi, &d)) {
            render_diags(&d, color);
            ct_diags_deinit(&d);
            return RUNNER_BROKEN;
        }
    }
    rc = runner_suite_load(s, o->paths, o->npaths, o, *c, &d);
    render_diags(&d, color);
    ct_diags_deinit(&d);
    if (rc)
        return rc;
    if (s->nbroken) {
        fprintf(stderr, "runner: %zu of %zu scenario file%s broken\n", s->nbroken, s->n,
                s->n == 1 ? " is" : "s are");
        return RUNNER_BROKEN;
    }
    if (s->n == 0) {
        fprintf(stderr, "runner: no scenario files found\n");
        return RUNNER_USAGE;
    }
    return 0;
}

int runner_cmd_check(int argc, char **argv)
{
    struct runner_opts o;
    int rc = runner_opts_parse("check", argc, argv, &o);
    if (rc) {
        runner_opts_deinit(&o);
        return rc < 0 ? RUNNER_OK : rc;
    }
    bool color = use_color(o.color, stderr);
    struct runner_contract *c = NULL;
    struct ct_docset *ds = NULL;
    struct runner_suite s;
    memset(&s, 0, sizeof(s));
    rc = load_all(&o, &c, &ds, &s, color);
    if (!rc || rc == RUNNER_BROKEN) {
        runner_suite_select(&s, &o, true);
        size_t sel = 0, steps = 0;
        for (size_t i = 0; i < s.n; i++) {
            if (!s.v[i]->selected)
                continue;
            sel++;
            steps += s.v[i]->scen->setup.n + s.v[i]->scen->steps.n + s.v[i]->scen->teardown.n;
            if (o.list)
                printf("%s: %s\n", s.v[i]->path, s.v[i]->scen->name);
        }
        if (!rc)
            printf("%zu scenario file%s ok (%zu selected, %zu top-level steps)\n", s.n,
                   s.n == 1 ? "" : "s", sel, steps);
    }
    runner_suite_deinit(&s);
    runner_contract_free(c);
    ct_docset_free(ds);
    runner_opts_deinit(&o);
    return rc;
}

/* --- running -------------------------------------------------------------------------------- */

struct pool {
    struct runner_env *env;
    struct runner_file **todo;
    struct runner_scen_result *results;
    size_t n;
    size_t next; /* atomic */
    pthread_mutex_t lock;
    struct runner_human *human;
};

static void *worker_main(void *arg)
{
    struct pool *p = ((void **)arg)[0];
    unsigned id = (unsigned)(size_t)((void **)arg)[1];
    struct runner_worker w;
    runner_worker_init(&w, p->env, id);
    for (;;) {
        if (p->env->stop)
            break;
        size_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
        if (i >= p->n)
            break;
        struct runner_scen_result *r = &p->results[i];
        runner_exec_scenario(&w, p->todo[i], r);
        pthread_mutex_lock(&p->lock);
        if (p->human)
            runner_human_scenario(p->human, r);
        if (r->unreachable)
            p->env->stop = 1;
        if (r->status == RUNNER_FAIL && p->env->o->fail_fast)
            p->env->stop = 1;
        pthread_mutex_unlock(&p->lock);
    }
    runner_worker_deinit(&w);
    return NULL;
}

static void make_run_id(char *out, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t v = ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 44);
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    size_t i = 0;
    for (; i + 1 < cap && i < 10; i++) {
        out[i] = digits[v % 36];
        v /= 36;
    }
    out[i] = '\0';
}

int runner_cmd_run(int argc, char **argv)
{
    struct runner_opts o;
    int rc = runner_opts_parse("run", argc, argv, &o);
    if (rc) {
        runner_opts_deinit(&o);
        return rc < 0 ? RUNNER_OK : rc;
    }
    bool ecolor = use_color(o.color, stderr);
    if (runner_http_global_init()) {
        fprintf(stderr, "runner: cannot initialise libcurl\n");
        runner_opts_deinit(&o);
        return RUNNER_INTERNAL;
    }
    struct runner_contract *c = NULL;
    struct ct_docset *ds = NULL;
    struct runner_suite s;
    memset(&s, 0, sizeof(s));
    struct runner_mock mock = {.pid = -1, .fd = -1};
    struct runner_run_result rr;
    memset(&rr, 0, sizeof(rr));
    struct runner_env env;
    memset(&env, 0, sizeof(env));
    char *base = NULL;
    rc = load_all(&o, &c, &ds, &s, ecolor);
    if (rc)
        goto out;

    /* The target. */
    if (o.mock) {
        char *found = NULL;
        const char *mockd = o.mockd;
        if (!mockd)
            mockd = found = runner_mock_find();
        char err[512];
        if (!mockd) {
            fprintf(stderr, "runner: --mock: cannot find mockd beside the runner binary; give "
                            "--mockd PATH\n");
            rc = RUNNER_UNREACHABLE;
            goto out;
        }
        /* mockd serves the AsyncAPI channels too when runner checks against them. */
        const char **margs = ct_xcalloc(o.nmockd_args + 3, sizeof(char *));
        size_t nm = 0;
        if (o.asyncapi) {
            margs[nm++] = "--asyncapi";
            margs[nm++] = o.asyncapi;
        }
        for (unsigned i = 0; i < o.nmockd_args; i++)
            margs[nm++] = o.mockd_args[i];
        int mrc = runner_mock_start(mockd, o.spec, margs, nm, &mock, err, sizeof(err));
        ct_free(margs);
        if (mrc) {
            fprintf(stderr, "runner: --mock: %s\n", err);
            ct_free(found);
            rc = RUNNER_UNREACHABLE;
            goto out;
        }
        ct_free(found);
        base = ct_xstrdup(mock.url);
    } else {
        base = ct_xstrdup(o.target);
    }
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        base[--bl] = '\0';
    char msg[512];
    if (runner_http_probe(base, msg, sizeof(msg))) {
        fprintf(stderr, "runner: the target %s is unreachable: %s\n", base, msg);
        rc = RUNNER_UNREACHABLE;
        goto out;
    }

    runner_suite_select(&s, &o, o.mock);
    env.o = &o;
    env.contract = c;
    env.base_url = base;
    env.mock = o.mock;
    make_run_id(env.run_id, sizeof(env.run_id));

    struct pool p;
    memset(&p, 0, sizeof(p));
    p.env = &env;
    p.todo = ct_xcalloc(s.n + 1, sizeof(*p.todo));
    for (size_t i = 0; i < s.n; i++)
        if (s.v[i]->selected)
            p.todo[p.n++] = s.v[i];
    p.results = ct_xcalloc(p.n + 1, sizeof(*p.results));
    pthread_mutex_init(&p.lock, NULL);
    struct runner_human human = {
        .f = stdout,
        .color = use_color(o.color, stdout),
        .verbose = o.verbose,
        .progress = isatty(2) && p.n >= 10 && !o.quiet,
        .total = p.n,
    };
    bool human_to_stdout = true;
    for (unsigned i = 0; i < o.nreports; i++)
        if (!strcmp(o.reports[i].file, "-") && o.reports[i].fmt != RUNNER_FMT_HUMAN)
            human_to_stdout = false; /* stdout carries the machine report */
    if (!human_to_stdout)
        human.f = stderr;
    human.quiet = o.quiet;
    p.human = &human;

    double t0 = runner_now_ms();
    unsigned jobs = o.jobs < p.n ? o.jobs : (unsigned)(p.n ? p.n : 1);
    pthread_t *th = ct_xcalloc(jobs, sizeof(*th));
    void *(*args)[2] = ct_xcalloc(jobs, sizeof(*args));
    for (unsigned i = 0; i < jobs; i++) {
        args[i][0] = &p;
        args[i][1] = (void *)(size_t)i;
        if (jobs == 1)
            worker_main(args[i]);
        else
            pthread_create(&th[i], NULL, worker_main, args[i]);
    }
    if (jobs > 1)
        for (unsigned i = 0; i < jobs; i++)
            pthread_join(th[i], NULL);
    ct_free(th);
    ct_free(args);
    pthread_mutex_destroy(&p.lock);

    /* Results. */
    rr.v = p.results;
    rr.n = p.n;
    rr.ms = runner_now_ms() - t0;
    rr.target = o.mock ? "mockd" : base;
    rr.jobs = jobs;
    for (size_t i = 0; i < p.n; i++) {
        struct runner_scen_result *r = &p.results[i];
        if (!r->file) {
            r->file = p.todo[i];
            r->status = RUNNER_SKIP;
            r->message = ct_xstrdup(env.stop ? "not started: the run stopped early" : "not run");
            runner_human_scenario(&human, r);
        }
        switch (r->status) {
        case RUNNER_PASS:
            rr.passed++;
            break;
        case RUNNER_FAIL:
            rr.failed++;
            break;
        case RUNNER_SKIP:
            rr.skipped++;
            break;
        case RUNNER_ERROR:
            rr.errors++;
            break;
        }
        rr.steps_passed += r->npass;
        rr.steps_failed += r->nfail;
        rr.steps_skipped += r->nskip;
        rr.unreachable = rr.unreachable || r->unreachable;
    }
    rr.cov = runner_contract_coverage(c, &rr.ncov, &rr.cov_ops_total, &rr.cov_ops_hit);
    size_t hit = 0;
    for (size_t i = 0; i < rr.ncov; i++)
        hit += rr.cov[i].hits > 0;
    rr.cov_pct = rr.ncov ? 100.0 * (double)hit / (double)rr.ncov : 100.0;
    runner_human_summary(&human, &rr, o.min_coverage);
    for (unsigned i = 0; i < o.nreports; i++)
        if (runner_report_write(o.reports[i].fmt, o.reports[i].file, &rr)) {
            fprintf(stderr, "runner: cannot write the %s report to '%s'\n",
                    o.reports[i].fmt == RUNNER_FMT_JUNIT  ? "junit"
                    : o.reports[i].fmt == RUNNER_FMT_JSON ? "json"
                    : o.reports[i].fmt == RUNNER_FMT_TAP  ? "tap"
                                                          : "human",
                    o.reports[i].file);
            rc = RUNNER_INTERNAL;
        }
    if (!rc) {
        if (rr.unreachable)
            rc = RUNNER_UNREACHABLE;
        else if (rr.failed || rr.errors)
            rc = RUNNER_FAILED;
        else if (o.min_coverage >= 0 && rr.cov_pct + 1e-9 < o.min_coverage)
            rc = RUNNER_FAILED;
    }
    for (size_t i = 0; i < p.n; i++)
        runner_scen_result_deinit(&p.results[i]);
    ct_free(p.results);
    ct_free(p.todo);
    ct_free(rr.cov);
out:
    runner_mock_stop(&mock);
    ct_free(base);
    runner_suite_deinit(&s);
    runner_contract_free(c);
    ct_docset_free(ds);
    runner_http_global_cleanup();
    runner_opts_deinit(&o);
    return rc;
}

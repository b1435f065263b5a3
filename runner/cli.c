/* cli.c - the options of `runner run` and `runner check`, from one table.
 *
 * The table is the single source for parsing, for `--help` and for the test that checks that
 * runner(1) documents every option (tests/runner/options_documented.sh reads `--help`). */
#include "runner.h"

#include "core/alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { C_RUN = 1, C_CHECK = 2, C_BOTH = 3 };

enum opt_id {
    O_SPEC,
    O_ASYNCAPI,
    O_TARGET,
    O_MOCK,
    O_MOCKD,
    O_MOCKD_ARG,
    O_JOBS,
    O_SHARD,
    O_TAGS,
    O_MIN_COVERAGE,
    O_REPORT,
    O_TIMEOUT,
    O_VAR,
    O_COLOR,
    O_FAIL_FAST,
    O_VERBOSE,
    O_QUIET,
    O_LIST,
    O_HELP,
};

struct opt {
    enum opt_id id;
    const char *name;
    char short_name;
    const char *arg; /* NULL: a flag */
    unsigned cmds;
    const char *help;
};

static const struct opt opts[] = {
    {O_SPEC, "spec", 0, "FILE", C_BOTH,
     "the OpenAPI contract (required by run; check uses it for operationIds)"},
    {O_ASYNCAPI, "asyncapi", 0, "FILE", C_BOTH,
     "the AsyncAPI contract for WebSocket steps and message coverage"},
    {O_TARGET, "target", 0, "URL", C_RUN, "the server to test (e.g. http://127.0.0.1:8000)"},
    {O_MOCK, "mock", 0, NULL, C_RUN, "start mockd on --spec at a free port, test it, stop it"},
    {O_MOCKD, "mockd", 0, "PATH", C_RUN, "the mockd binary (default: ../mockd/mockd beside runner)"},
    {O_MOCKD_ARG, "mockd-arg", 0, "ARG", C_RUN,
     "pass ARG to mockd with --mock, e.g. --mockd-arg=--jwt-secret=S (repeatable)"},
    {O_JOBS, "jobs", 'j', "N", C_RUN, "run N scenarios at once (default 1)"},
    {O_SHARD, "shard", 0, "K/N", C_BOTH, "run the K-th of N slices of the suite (1-based)"},
    {O_TAGS, "tags", 't', "LIST", C_BOTH,
     "comma-separated tags: run scenarios with any of them; '!tag' excludes (repeatable)"},
    {O_MIN_COVERAGE, "min-coverage", 0, "PCT", C_RUN,
     "fail when less than PCT % of the contract's responses were exercised"},
    {O_REPORT, "report", 0, "FORMAT:FILE", C_RUN,
     "also write a report: human, junit, json or tap; FILE '-' is stdout (repeatable)"},
    {O_TIMEOUT, "timeout", 0, "DURATION", C_RUN, "per-request timeout (default 30s)"},
    {O_VAR, "var", 0, "NAME=VALUE", C_BOTH, "set a variable for every scenario (repeatable)"},
    {O_COLOR, "color", 0, "WHEN", C_BOTH, "auto, always or never (default auto)"},
    {O_FAIL_FAST, "fail-fast", 0, NULL, C_RUN, "start no new scenario after a failure"},
    {O_VERBOSE, "verbose", 'v', NULL, C_RUN, "list every step, not only failing ones"},
    {O_QUIET, "quiet", 'q', NULL, C_RUN, "print only failures and the summary"},
    {O_LIST, "list", 0, NULL, C_CHECK, "print the scenarios that would run"},
    {O_HELP, "help", 'h', NULL, C_BOTH, "show this help"},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void runner_opts_help(FILE *f, const char *cmd)
{
    unsigned mask = !strcmp(cmd, "run") ? C_RUN : C_CHECK;
    if (mask == C_RUN)
        fprintf(f, "usage: runner run --spec FILE (--target URL | --mock) [options] PATH...\n\n"
                   "Run the scenarios in PATH (files or directories) and check every exchange\n"
                   "against the contract.\n\noptions:\n");
    else
        fprintf(f, "usage: runner check [--spec FILE] [options] PATH...\n\n"
                   "Check scenarios without running them.\n\noptions:\n");
    for (size_t i = 0; i < NOPTS; i++) {
        if (!(opts[i].cmds & mask))
            continue;
        char left[64];
        int n = 0;
        if (opts[i].short_name)
            n = snprintf(left, sizeof(left), "-%c, ", opts[i].short_name);
        snprintf(left + n, sizeof(left) - (size_t)n, "--%s%s%s", opts[i].name,
                 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        fprintf(f, "  %-26s %s\n", left, opts[i].help);
    }
    fprintf(f, "\nexit status: 0 passed, 1 a scenario failed (or coverage too low), 2 usage,\n"
               "3 broken spec or scenario, 4 target unreachable, 5 internal error\n");
}

static int usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "runner %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'runner %s --help')\n", cmd);
    return RUNNER_USAGE;
}

static bool parse_uint(const char *s, unsigned long max, unsigned *out)
{
    if (!*s || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

/* "250ms", "2s", "1m" or plain milliseconds. */
static bool parse_duration(const char *s, uint32_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return false;
    double mul = !*end ? 1 : !strcmp(end, "ms") ? 1 : !strcmp(end, "s") ? 1000
                         : !strcmp(end, "m") ? 60000 : 0;
    if (mul == 0 || v * mul > 86400000.0)
        return false;
    *ms = (uint32_t)(v * mul + 0.5);
    return true;
}

static int add_tags(const char *cmd, struct runner_opts *o, char *list)
{
    /* Split in place: the value belongs to argv, which lives as long as the options. */
    for (char *t = list; t && *t;) {
        char *comma = strchr(t, ',');
        if (comma)
            *comma = '\0';
        while (*t == ' ')
            t++;
        if (*t == '!' || *t == '~') {
            if (!t[1])
                return usage_err(cmd, "--tags: '%s' names no tag", t);
            if (o->ntags_out == RUNNER_MAX_TAGS)
                return usage_err(cmd, "--tags: more than 32 tags");
            o->tags_out[o->ntags_out++] = t + 1;
        } else if (*t) {
            if (o->ntags_in == RUNNER_MAX_TAGS)
                return usage_err(cmd, "--tags: more than 32 tags");
            o->tags_in[o->ntags_in++] = t;
        }
        t = comma ? comma + 1 : NULL;
    }
    return 0;
}

int runner_opts_parse(const char *cmd, int argc, char **argv, struct runner_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->jobs = 1;
    o->min_coverage = -1;
    o->color = -1;
    o->timeout_ms = 30000;
    unsigned mask = !strcmp(cmd, "run") ? C_RUN : C_CHECK;
    o->paths = ct_xcalloc((size_t)argc + 1, sizeof(char *));
    bool only_paths = false;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (only_paths || a[0] != '-' || !a[1]) {
            o->paths[o->npaths++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_paths = true;
            continue;
        }
        const struct opt *op = NULL;
        char *val = NULL;
        if (a[1] == '-') {
            char *eq = strchr(a + 2, '=');
            size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            for (size_t j = 0; j < NOPTS && !op; j++)
                if (strlen(opts[j].name) == nl && !strncmp(opts[j].name, a + 2, nl))
                    op = &opts[j];
            if (eq)
                val = eq + 1;
        } else if (!a[2]) {
            for (size_t j = 0; j < NOPTS && !op; j++)
                if (opts[j].short_name == a[1])
                    op = &opts[j];
        }
        if (!op || !(op->cmds & mask)) {
            const char *names[NOPTS];
            size_t nn = 0;
            for (size_t j = 0; j < NOPTS; j++)
                if (opts[j].cmds & mask)
                    names[nn++] = opts[j].name;
            char word[64];
            snprintf(word, sizeof(word), "%.*s", (int)strcspn(a + 2, "="), a[1] == '-' ? a + 2 : a + 1);
            const char *best = ct_did_you_mean(word, names, nn);
            if (best)
                return usage_err(cmd, "unknown option '%s' (did you mean '--%s'?)", a, best);
            return usage_err(cmd, "unknown option '%s'", a);
        }
        if (op->arg && !val) {
            if (i + 1 >= argc)
                return usage_err(cmd, "--%s needs a value (%s)", op->name, op->arg);
            val = argv[++i];
        } else if (!op->arg && val) {
            return usage_err(cmd, "--%s takes no value, got '%s'", op->name, val);
        }
        switch (op->id) {
        case O_SPEC:
            o->spec = val;
            break;
        case O_ASYNCAPI:
            o->asyncapi = val;
            break;
        case O_TARGET:
            if (strncmp(val, "http://", 7) && strncmp(val, "https://", 8))
                return usage_err(cmd, "--target: expected an http:// or https:// URL, got '%s'", val);
            o->target = val;
            break;
        case O_MOCK:
            o->mock = true;
            break;
        case O_MOCKD:
            o->mockd = val;
            break;
        case O_MOCKD_ARG:
            o->mockd_args = ct_xrealloc(o->mockd_args, (o->nmockd_args + 1) * sizeof(char *));
            o->mockd_args[o->nmockd_args++] = val;
            break;
        case O_JOBS:
            if (!parse_uint(val, 256, &o->jobs) || o->jobs == 0)
                return usage_err(cmd, "--jobs: expected a number from 1 to 256, got '%s'", val);
            break;
        case O_SHARD: {
            const char *slash = strchr(val, '/');
            char k[16];
            if (!slash || (size_t)(slash - val) >= sizeof(k))
                return usage_err(cmd, "--shard: expected K/N (e.g. 2/4), got '%s'", val);
            memcpy(k, val, (size_t)(slash - val));
            k[slash - val] = '\0';
            if (!parse_uint(k, 100000, &o->shard_k) || !parse_uint(slash + 1, 100000, &o->shard_n) ||
                o->shard_n == 0 || o->shard_k == 0 || o->shard_k > o->shard_n)
                return usage_err(cmd, "--shard: expected K/N with 1 <= K <= N, got '%s'", val);
            break;
        }
        case O_TAGS: {
            int r = add_tags(cmd, o, val);
            if (r)
                return r;
            break;
        }
        case O_MIN_COVERAGE: {
            char *end;
            errno = 0;
            double v = strtod(val, &end);
            if (end == val || (*end && strcmp(end, "%")) || errno || v < 0 || v > 100)
                return usage_err(cmd, "--min-coverage: expected a percentage from 0 to 100, got "
                                      "'%s'", val);
            o->min_coverage = v;
            break;
        }
        case O_REPORT: {
            static const char *const fmts[] = {"human", "junit", "json", "tap"};
            const char *colon = strchr(val, ':');
            if (!colon || !colon[1])
                return usage_err(cmd, "--report: expected FORMAT:FILE (e.g. junit:report.xml), "
                                      "got '%s'", val);
            int f = -1;
            for (int j = 0; j < 4; j++)
                if (strlen(fmts[j]) == (size_t)(colon - val) && !strncmp(fmts[j], val, (size_t)(colon - val)))
                    f = j;
            if (f < 0) {
                char word[32];
                snprintf(word, sizeof(word), "%.*s", (int)(colon - val), val);
                const char *best = ct_did_you_mean(word, fmts, 4);
                if (best)
                    return usage_err(cmd, "--report: unknown format '%s' (did you mean '%s'?)",
                                     word, best);
                return usage_err(cmd, "--report: unknown format '%s': expected human, junit, "
                                      "json or tap",
                                 word);
            }
            if (o->nreports == RUNNER_MAX_REPORTS)
                return usage_err(cmd, "--report: at most 8 reports");
            o->reports[o->nreports].fmt = (enum runner_fmt)f;
            o->reports[o->nreports++].file = colon + 1;
            break;
        }
        case O_TIMEOUT:
            if (!parse_duration(val, &o->timeout_ms) || o->timeout_ms == 0)
                return usage_err(cmd, "--timeout: expected a duration like '10s' or '500ms', got "
                                      "'%s'", val);
            break;
        case O_VAR: {
            const char *eq = strchr(val, '=');
            if (!eq || eq == val)
                return usage_err(cmd, "--var: expected NAME=VALUE, got '%s'", val);
            o->vars = ct_xrealloc(o->vars, (o->nvars + 1) * sizeof(char *));
            o->vars[o->nvars++] = val;
            break;
        }
        case O_COLOR:
            if (!strcmp(val, "auto"))
                o->color = -1;
            else if (!strcmp(val, "always"))
                o->color = 1;
            else if (!strcmp(val, "never"))
                o->color = 0;
            else
                return usage_err(cmd, "--color: expected auto, always or never, got '%s'", val);
            break;
        case O_FAIL_FAST:
            o->fail_fast = true;
            break;
        case O_VERBOSE:
            o->verbose = true;
            break;
        case O_QUIET:
            o->quiet = true;
            break;
        case O_LIST:
            o->list = true;
            break;
        case O_HELP:
            runner_opts_help(stdout, cmd);
            return -1;
        }
    }
    if (o->npaths == 0)
        return usage_err(cmd, "expected at least one scenario file or directory");
    if (mask == C_RUN) {
        if (!o->spec)
            return usage_err(cmd, "--spec FILE is required: every exchange is checked against "
                                  "the contract");
        if (!!o->target == o->mock)
            return usage_err(cmd, "expected exactly one of --target URL or --mock");
    }
    return 0;
}

void runner_opts_deinit(struct runner_opts *o)
{
    ct_free(o->paths);
    ct_free(o->vars);
    ct_free(o->mockd_args);
    o->paths = NULL;
    o->vars = NULL;
    o->mockd_args = NULL;
}

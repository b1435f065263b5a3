/* main.c - mockd's command line: load a spec, report problems like a compiler, serve it. */
#include "mockd.h"

#include "config.h"
#include "core/alloc.h"
#include "core/err.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mockd [options] SPEC\n"
            "\n"
            "Serve an OpenAPI 3.0/3.1 description as a mock server.\n"
            "\n"
            "options:\n"
            "  --spec FILE      the OpenAPI document (same as the SPEC argument)\n"
            "  --host ADDR      address to listen on (default 127.0.0.1)\n"
            "  --port N         port to listen on (default 4010; 0 picks a free port)\n"
            "  --threads N      worker threads (default 2)\n"
            "  --check          load and check the spec, report, and exit\n"
            "  --quiet          print nothing but errors\n"
            "  --help           show this help\n"
            "  --version        show the version\n"
            "\n"
            "exit status: 0 ok, 2 the spec is broken, 64 usage error, 70 cannot serve\n");
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

/* Options take their value as the next argument or after '='. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t nl = strlen(name);
    if (argv[*i][nl] == '=')
        return argv[*i] + nl + 1;
    if (*i + 1 >= argc) {
        fprintf(stderr, "mockd: %s needs a value\n", name);
        return NULL;
    }
    return argv[++*i];
}

static bool is_opt(const char *arg, const char *name)
{
    size_t nl = strlen(name);
    return !strncmp(arg, name, nl) && (arg[nl] == 0 || arg[nl] == '=');
}

static int parse_args(int argc, char **argv, struct mockd_config *cfg)
{
    static const char *const known[] = {"--spec", "--host",  "--port", "--threads",
                                        "--check", "--quiet", "--help", "--version"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--version")) {
            printf("mockd %s\n", CT_VERSION);
            exit(0);
        } else if (!strcmp(a, "--check")) {
            cfg->check_only = true;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            cfg->quiet = true;
        } else if (is_opt(a, "--spec")) {
            if (!(v = opt_value(argc, argv, &i, "--spec")))
                return 64;
            cfg->spec_path = v;
        } else if (is_opt(a, "--host")) {
            if (!(v = opt_value(argc, argv, &i, "--host")))
                return 64;
            cfg->host = v;
        } else if (is_opt(a, "--port")) {
            if (!(v = opt_value(argc, argv, &i, "--port")))
                return 64;
            if (!parse_uint(v, 65535, &cfg->port)) {
                fprintf(stderr, "mockd: --port '%s': expected a number from 0 to 65535\n", v);
                return 64;
            }
        } else if (is_opt(a, "--threads")) {
            if (!(v = opt_value(argc, argv, &i, "--threads")))
                return 64;
            if (!parse_uint(v, 256, &cfg->threads) || !cfg->threads) {
                fprintf(stderr, "mockd: --threads '%s': expected a number from 1 to 256\n", v);
                return 64;
            }
        } else if (a[0] == '-' && a[1]) {
            const char *best = ct_did_you_mean(a, known, sizeof(known) / sizeof(known[0]));
            fprintf(stderr, "mockd: unknown option '%s'%s%s%s\n", a, best ? " (did you mean '" : "",
                    best ? best : "", best ? "'?)" : "");
            return 64;
        } else if (!cfg->spec_path) {
            cfg->spec_path = a;
        } else {
            fprintf(stderr, "mockd: one SPEC expected, got '%s' and '%s'\n", cfg->spec_path, a);
            return 64;
        }
    }
    if (!cfg->spec_path) {
        fprintf(stderr, "mockd: no spec given\n");
        usage(stderr);
        return 64;
    }
    return 0;
}

static int load_spec(const struct mockd_config *cfg, struct mockd_spec *spec)
{
    struct ct_diags diags;
    ct_diags_init(&diags);
    diags.max = 50;
    spec->oas = ct_oas_load(cfg->spec_path, NULL, &spec->ds, &diags);
    if (diags.n) {
        struct ct_buf out;
        ct_buf_init(&out, 0);
        ct_diags_render(&diags, &out, isatty(2));
        fputs(ct_buf_cstr(&out), stderr);
        ct_buf_deinit(&out);
    }
    size_t nerr = diags.nerrors;
    ct_diags_deinit(&diags);
    if (!spec->oas) {
        fprintf(stderr, "mockd: %s: %zu error%s, not serving\n", cfg->spec_path, nerr,
                nerr == 1 ? "" : "s");
        return 2;
    }
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_json_emit(spec->oas->root, &b, false);
    spec->json = ct_buf_steal(&b, &spec->json_len);
    ct_yaml_emit(spec->oas->root, &b);
    spec->yaml = ct_buf_steal(&b, &spec->yaml_len);
    return 0;
}

int main(int argc, char **argv)
{
    struct mockd_config cfg = {.host = "127.0.0.1", .port = 4010, .threads = 2};
    int rc = parse_args(argc, argv, &cfg);
    if (rc)
        return rc;
    struct mockd_spec spec = {0};
    rc = load_spec(&cfg, &spec);
    if (rc)
        goto out;
    if (cfg.check_only) {
        if (!cfg.quiet)
            printf("%s: OpenAPI %s, %u paths, %u operations, %u webhooks: ok\n", cfg.spec_path,
                   spec.oas->version, spec.oas->npaths, spec.oas->nops - spec.oas->nwebhook,
                   spec.oas->nwebhook);
        goto out;
    }

    /* Block the stop signals in every thread; the main thread waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned port = 0;
    struct mockd_server *srv = mockd_http_start(&cfg, &spec, &port);
    if (!srv) {
        rc = 70;
        goto out;
    }
    char hostbuf[300];
    if (strchr(cfg.host, ':'))
        snprintf(hostbuf, sizeof(hostbuf), "[%s]", cfg.host);
    else
        snprintf(hostbuf, sizeof(hostbuf), "%s", cfg.host);
    if (!cfg.quiet) {
        printf("mockd %s: %s (OpenAPI %s, %u operations)\n", CT_VERSION,
               spec.oas->title ? spec.oas->title : cfg.spec_path, spec.oas->version,
               spec.oas->nops);
    }
    /* The URL line is printed even with --quiet: scripts read the port from it. */
    printf("listening on http://%s:%u\n", hostbuf, port);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    if (!cfg.quiet)
        fprintf(stderr, "mockd: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
    mockd_http_stop(srv);
out:
    ct_free(spec.json);
    ct_free(spec.yaml);
    ct_docset_free(spec.ds);
    return rc;
}

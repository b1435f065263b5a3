/* config.c - mockd's options: command-line flags and the equivalent YAML config file.
 *
 * Every flag has a config-file key of the same name without the dashes (`--jwt-secret` is
 * `jwt-secret:`). The file is read first, flags override it. Unknown keys and flags are errors
 * with a did-you-mean hint; file errors are located (file:line:col). */
#include "mockd.h"

#include "config.h"
#include "core/alloc.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mockd_config_defaults(struct mockd_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->host = "127.0.0.1";
    cfg->port = 4010;
    cfg->threads = 2;
    cfg->validate = MOCKD_VALIDATE_ENFORCE;
    cfg->auth = MOCKD_AUTH_AUTO;
    cfg->token_ttl = 3600;
    cfg->refresh_ttl = 7 * 24 * 3600;
    cfg->seed = 1;
    cfg->log_format = MOCKD_LOG_TEXT;
    cfg->max_body = 1 << 20;
    cfg->max_header = 16 << 10;
    cfg->max_conns = 1024;
    cfg->timeout = 30;
    cfg->ws_idle_timeout = 90;
    cfg->ws_max_connections = 10000;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mockd [options] SPEC\n"
            "\n"
            "Serve an OpenAPI 3.0/3.1 description as a mock server.\n"
            "\n"
            "options:\n"
            "  --spec FILE          the OpenAPI document (same as the SPEC argument)\n"
            "  --config FILE        read options from a YAML file (flags override it)\n"
            "  --host ADDR          address to listen on (default 127.0.0.1)\n"
            "  --port N             port (default 4010; 0 picks a free port)\n"
            "  --threads N          worker threads (default 2)\n"
            "  --validate MODE      enforce (default), warn or off\n"
            "  --auth MODE          auto (default), jwt, presence or off\n"
            "  --jwt-secret S       HS256 secret for minted tokens (default: random)\n"
            "  --token-ttl SECONDS  access token lifetime (default 3600)\n"
            "  --refresh-ttl SECONDS refresh token lifetime (default 604800)\n"
            "  --cors ORIGINS       '*' (default: any origin), 'none', or a comma list\n"
            "  --seed N             seed for generated bodies (default 1)\n"
            "  --log-format F       text (default), json or none\n"
            "  --max-body BYTES     largest request body (default 1048576)\n"
            "  --max-header BYTES   largest request head (default 16384)\n"
            "  --max-connections N  concurrent connections (default 1024)\n"
            "  --timeout SECONDS    idle connection timeout (default 30)\n"
            "  --asyncapi FILE      serve the AsyncAPI document's WebSocket channels on the same\n"
            "                       port\n"
            "  --dialogues PATHS    dialogue scripts (files or directories, comma-separated)\n"
            "  --ws-idle-timeout S  close WebSocket connections silent this long (default 90;\n"
            "                       0: never)\n"
            "  --ws-max-connections N  concurrent WebSocket connections (default 10000)\n"
            "  --check              load and check the spec, report, and exit\n"
            "  --quiet              print nothing but errors and the listening line\n"
            "  --help, --version\n");
    mockd_layers_usage(f);
    fprintf(f, "\nexit status: 0 ok, 2 the spec or config is broken, 64 usage error, 70 cannot "
               "serve\n");
}

static const char *const keys[] = {
    "spec",       "config",    "host",       "port",        "threads",        "validate",
    "auth",       "jwt-secret", "token-ttl", "refresh-ttl", "cors",           "seed",
    "log-format", "max-body",  "max-header", "max-connections", "timeout",    "check",
    "quiet",      "help",      "version",   "asyncapi", "dialogues", "ws-idle-timeout",
    "ws-max-connections",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v > max)
        return false;
    *out = v;
    return true;
}

/* Apply one option. Returns NULL on success, or a message saying what was expected. */
static const char *apply(struct mockd_config *cfg, const char *key, const char *v)
{
    uint64_t n;
    if (!strcmp(key, "spec")) {
        cfg->spec_path = v;
    } else if (!strcmp(key, "host")) {
        cfg->host = v;
    } else if (!strcmp(key, "port")) {
        if (!parse_u64(v, 65535, &n))
            return "expected a port number from 0 to 65535";
        cfg->port = (unsigned)n;
    } else if (!strcmp(key, "threads")) {
        if (!parse_u64(v, 256, &n) || !n)
            return "expected a number of threads from 1 to 256";
        cfg->threads = (unsigned)n;
    } else if (!strcmp(key, "validate")) {
        if (!strcmp(v, "enforce"))
            cfg->validate = MOCKD_VALIDATE_ENFORCE;
        else if (!strcmp(v, "warn"))
            cfg->validate = MOCKD_VALIDATE_WARN;
        else if (!strcmp(v, "off"))
            cfg->validate = MOCKD_VALIDATE_OFF;
        else
            return "expected enforce, warn or off";
    } else if (!strcmp(key, "auth")) {
        if (!strcmp(v, "auto"))
            cfg->auth = MOCKD_AUTH_AUTO;
        else if (!strcmp(v, "jwt"))
            cfg->auth = MOCKD_AUTH_JWT;
        else if (!strcmp(v, "presence"))
            cfg->auth = MOCKD_AUTH_PRESENCE;
        else if (!strcmp(v, "off"))
            cfg->auth = MOCKD_AUTH_OFF;
        else
            return "expected auto, jwt, presence or off";
    } else if (!strcmp(key, "jwt-secret")) {
        if (strlen(v) < 8)
            return "expected a secret of at least 8 characters";
        cfg->jwt_secret = v;
    } else if (!strcmp(key, "token-ttl") || !strcmp(key, "refresh-ttl")) {
        if (!parse_u64(v, 10u * 365 * 24 * 3600, &n) || !n)
            return "expected a number of seconds, at least 1";
        if (key[0] == 't')
            cfg->token_ttl = (unsigned)n;
        else
            cfg->refresh_ttl = (unsigned)n;
    } else if (!strcmp(key, "cors")) {
        cfg->cors = v;
    } else if (!strcmp(key, "seed")) {
        if (!parse_u64(v, UINT64_MAX, &n))
            return "expected a non-negative integer";
        cfg->seed = n;
    } else if (!strcmp(key, "log-format")) {
        if (!strcmp(v, "text"))
            cfg->log_format = MOCKD_LOG_TEXT;
        else if (!strcmp(v, "json"))
            cfg->log_format = MOCKD_LOG_JSON;
        else if (!strcmp(v, "none"))
            cfg->log_format = MOCKD_LOG_NONE;
        else
            return "expected text, json or none";
    } else if (!strcmp(key, "max-body") || !strcmp(key, "max-header")) {
        if (!parse_u64(v, (uint64_t)1 << 30, &n) || n < 256)
            return "expected a number of bytes from 256 to 1073741824";
        if (!strcmp(key, "max-body"))
            cfg->max_body = (size_t)n;
        else
            cfg->max_header = (size_t)n;
    } else if (!strcmp(key, "max-connections")) {
        if (!parse_u64(v, 100000, &n) || !n)
            return "expected a number from 1 to 100000";
        cfg->max_conns = (unsigned)n;
    } else if (!strcmp(key, "timeout")) {
        if (!parse_u64(v, 86400, &n) || !n)
            return "expected a number of seconds from 1 to 86400";
        cfg->timeout = (unsigned)n;
    } else if (!strcmp(key, "asyncapi")) {
        cfg->asyncapi_path = v;
    } else if (!strcmp(key, "dialogues")) {
        cfg->dialogue_paths = v;
    } else if (!strcmp(key, "ws-idle-timeout")) {
        if (!parse_u64(v, 86400, &n))
            return "expected a number of seconds from 0 to 86400";
        cfg->ws_idle_timeout = (unsigned)n;
    } else if (!strcmp(key, "ws-max-connections")) {
        if (!parse_u64(v, 1000000, &n) || !n)
            return "expected a number from 1 to 1000000";
        cfg->ws_max_connections = (unsigned)n;
    } else if (!strcmp(key, "check") || !strcmp(key, "quiet")) {
        bool on = !strcmp(v, "true");
        if (!on && strcmp(v, "false") != 0)
            return "expected true or false";
        if (key[0] == 'c')
            cfg->check_only = on;
        else
            cfg->quiet = on;
    } else {
        return mockd_layers_option(cfg, key, v);
    }
    return NULL;
}

static bool known_key(const char *key)
{
    for (size_t j = 0; j < NKEYS; j++)
        if (!strcmp(keys[j], key))
            return true;
    for (size_t j = 0; j < mockd_layers_nkeys; j++)
        if (!strcmp(mockd_layers_keys[j], key))
            return true;
    return false;
}

static const char *suggest(const char *key)
{
    size_t n = NKEYS + mockd_layers_nkeys;
    const char **all = ct_xmalloc(n * sizeof(char *));
    for (size_t j = 0; j < NKEYS; j++)
        all[j] = keys[j];
    for (size_t j = 0; j < mockd_layers_nkeys; j++)
        all[NKEYS + j] = mockd_layers_keys[j];
    const char *best = ct_did_you_mean(key, all, n);
    ct_free(all);
    return best;
}

static int load_file(struct mockd_config *cfg, const char *path, struct ct_docset **cfgdoc)
{
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset *ds = ct_docset_new(NULL);
    *cfgdoc = ds;
    struct ct_node *root = ct_docset_load(ds, path, &d);
    if (root && root->kind != CT_OBJECT)
        ct_diags_add(&d, CT_SEV_ERROR, CT_E_SYNTAX, root->src, root->line, root->col,
                     "expected a mapping of option names to values, got %s",
                     ct_node_type_name(root));
    for (uint32_t i = 0; root && root->kind == CT_OBJECT && i < root->len; i++) {
        const struct ct_node *k = root->u.members[i].key, *v = root->u.members[i].val;
        const char *val = NULL;
        if (v->kind == CT_STRING)
            val = v->u.str;
        else if (v->kind == CT_NUMBER)
            val = ct_arena_strndup(ct_docset_arena(ds), v->u.text, v->len);
        else if (v->kind == CT_BOOL)
            val = (v->flags & CT_NF_TRUE) ? "true" : "false";
        bool known = known_key(k->u.str);
        if (!known || !strcmp(k->u.str, "config") || !strcmp(k->u.str, "help") ||
            !strcmp(k->u.str, "version")) {
            struct ct_diag *g = ct_diags_add(&d, CT_SEV_ERROR, CT_E_INVAL, k->src, k->line, k->col,
                                             "unknown option '%s' in the config file", k->u.str);
            const char *best = suggest(k->u.str);
            if (best)
                ct_diag_set_hint(g, "did you mean '%s'?", best);
            continue;
        }
        if (!val) {
            ct_diags_add(&d, CT_SEV_ERROR, CT_E_INVAL, v->src, v->line, v->col,
                         "option '%s': expected a string, number or boolean, got %s", k->u.str,
                         ct_node_type_name(v));
            continue;
        }
        const char *why = apply(cfg, k->u.str, val);
        if (why)
            ct_diags_add(&d, CT_SEV_ERROR, CT_E_INVAL, v->src, v->line, v->col,
                         "option '%s': %s, got '%s'", k->u.str, why, val);
    }
    int rc = d.nerrors ? 2 : 0;
    if (d.n) {
        struct ct_buf out;
        ct_buf_init(&out, 0);
        ct_diags_render(&d, &out, isatty(2));
        fputs(ct_buf_cstr(&out), stderr);
        ct_buf_deinit(&out);
    }
    ct_diags_deinit(&d);
    return rc;
}

int mockd_config_parse(struct mockd_config *cfg, int argc, char **argv, struct ct_docset **cfgdoc)
{
    *cfgdoc = NULL;
    /* The config file first, so that flags override it. */
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            path = argv[i] + 9;
        if (path) {
            int rc = load_file(cfg, path, cfgdoc);
            if (rc)
                return rc;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--version")) {
            printf("mockd %s\n", CT_VERSION);
            exit(0);
        }
        if (a[0] != '-' || !a[1]) {
            if (cfg->spec_path && strcmp(cfg->spec_path, a) != 0 && i > 0 &&
                strcmp(argv[i - 1], "--spec") != 0) {
                fprintf(stderr, "mockd: one SPEC expected, got '%s' and '%s'\n", cfg->spec_path,
                        a);
                return 64;
            }
            cfg->spec_path = a;
            continue;
        }
        if (a[1] != '-') {
            fprintf(stderr, "mockd: unknown option '%s' (options are long: --port, --spec ...)\n",
                    a);
            return 64;
        }
        const char *eq = strchr(a, '=');
        size_t kl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        char key[64];
        if (kl >= sizeof(key))
            kl = sizeof(key) - 1;
        memcpy(key, a + 2, kl);
        key[kl] = 0;
        bool known = known_key(key);
        bool flag = !strcmp(key, "check") || !strcmp(key, "quiet") || mockd_layers_is_flag(key);
        if (!known) {
            const char *best = suggest(key);
            fprintf(stderr, "mockd: unknown option '%s'%s%s%s\n", a,
                    best ? " (did you mean '--" : "", best ? best : "", best ? "'?)" : "");
            return 64;
        }
        const char *v;
        if (flag && !eq) {
            v = "true";
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            fprintf(stderr, "mockd: %s needs a value\n", a);
            return 64;
        }
        if (!strcmp(key, "config"))
            continue;
        const char *why = apply(cfg, key, v);
        if (why) {
            fprintf(stderr, "mockd: --%s '%s': %s\n", key, v, why);
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

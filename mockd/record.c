/* record.c - --record DIR: write the exchanges that passed through as examples and as a runner
 * scenario.
 *
 *   DIR/scenario.yaml                        one step per exchange, in order, each expecting
 *                                            the status that was answered (runner run replays
 *                                            it; `${` in recorded text is escaped as `$${`);
 *                                            made at the first recorded exchange
 *   DIR/examples/OPERATION/STATUS.json       the latest answer body of each operation and
 *                                            status (pretty JSON; .txt for other media types)
 *   DIR/examples/OPERATION/request.json      the latest JSON request body
 *
 * With --proxy only the backend's answers are recorded (that is the point: real answers to
 * paste into the spec as examples); without it, every answer the mock gave to a routed request.
 * Answers from the admin API, faults and the offline switch are never recorded. Authorization
 * and cookies are left out of the scenario (it says so in a comment): they are secrets and
 * expire. Steps are appended as they happen, so a killed mockd leaves a usable file. */
#include "layers_impl.h"

#include "core/alloc.h"
#include "core/err.h"
#include "openapi/params.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

struct recorder {
    pthread_mutex_t lock;
    char *dir;
    FILE *scenario;
    unsigned steps;
    bool proxy_only;
};

static int mkdir_p(const char *path)
{
    char *p = ct_xstrdup(path);
    int rc = 0;
    for (char *s = p + 1; *s && !rc; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) rc = -1;
            *s = '/';
        }
    if (!rc && mkdir(p, 0777) != 0 && errno != EEXIST) rc = -1;
    ct_free(p);
    return rc;
}

struct recorder *recorder_new(const char *dir, bool proxy_only, struct ct_diags *diags)
{
    char *ex = ct_xasprintf("%s/examples", dir);
    struct recorder *r = NULL;
    if (mkdir_p(ex) != 0) {
        ct_diags_add(diags, CT_SEV_ERROR, CT_E_IO, NULL, 0, 0, "--record '%s': %s", dir,
                     strerror(errno));
    } else {
        r = ct_xcalloc(1, sizeof(*r));
        pthread_mutex_init(&r->lock, NULL);
        r->dir = ct_xstrdup(dir);
        r->proxy_only = proxy_only;
    }
    ct_free(ex);
    return r;
}

/* The scenario file is made at the first step: a recorder that a hot reload discards (the
 * state moves to the next version, recorder included) must not truncate it. Lock held. */
static FILE *scenario(struct recorder *r)
{
    if (r->scenario) return r->scenario;
    char *path = ct_xasprintf("%s/scenario.yaml", r->dir);
    r->scenario = fopen(path, "w");
    ct_free(path);
    if (!r->scenario) return NULL;
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(r->scenario,
            "# Recorded by mockd --record at %s. Authorization headers and cookies were left\n"
            "# out: give the token with `defaults: {auth: ...}` or a login step.\n"
            "name: recorded session %s\n"
            "steps:\n",
            when, when);
    return r->scenario;
}

void recorder_free(struct recorder *r)
{
    if (!r) return;
    if (r->scenario) fclose(r->scenario);
    pthread_mutex_destroy(&r->lock);
    ct_free(r->dir);
    ct_free(r);
}

/* JSON text as a YAML flow value (JSON is YAML), with `${` escaped for runner's templates. */
static void put_flow(FILE *f, const char *json, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (json[i] == '$' && i + 1 < len && json[i + 1] == '{') fputc('$', f);
        fputc(json[i], f);
    }
}

static void put_string(FILE *f, struct ct_arena *a, const char *s, size_t n)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    jx_put_str(&b, s, n);
    put_flow(f, b.ptr, b.len);
    ct_buf_deinit(&b);
}

static char *safe_name(struct ct_arena *a, const char *s)
{
    char *o = ct_arena_strdup(a, s);
    for (char *c = o; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            *c = '_';
    if (o[0] == '.') o[0] = '_';
    return o;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "w");
    if (!f) return;
    fwrite(data, 1, len, f);
    fclose(f);
}

/* Pretty JSON when it parses, else the bytes; returns the extension used. */
static const char *pretty(struct ct_arena *a, const char *body, size_t len, const char *ctype,
                          struct ct_buf *out)
{
    const struct ct_node *n =
        ctype && mockd_media_is_json(ctype) ? jx_parse(a, "body", body, len, NULL) : NULL;
    if (n) {
        ct_json_emit(n, out, true);
        ct_buf_addc(out, '\n');
        return "json";
    }
    ct_buf_add(out, body, len);
    return "txt";
}

void recorder_add(struct recorder *r, const struct mockd_req *req, const struct mockd_resp *resp)
{
    if (!resp->operation_id || !resp->source || !resp->status) return;
    const char *src = resp->source;
    if (!strcmp(src, "admin") || !strcmp(src, "fault") || !strcmp(src, "offline") ||
        resp->fault != MOCKD_FAULT_NONE)
        return;
    if (r->proxy_only && strcmp(src, "proxy") != 0) return;
    struct ct_arena a;
    ct_arena_init(&a, 4096);
    const char *ctype = mockd_req_header(req, "Content-Type");
    bool json_body = req->body_len && ctype && mockd_media_is_json(ctype);

    pthread_mutex_lock(&r->lock);
    FILE *f = scenario(r);
    if (!f) {
        pthread_mutex_unlock(&r->lock);
        ct_arena_deinit(&a);
        return;
    }
    fprintf(f, "  - name: ");
    const char *name =
        jx_fmt(&a, "%s %.*s (%s)", req->method, (int)req->path_len, req->path, resp->operation_id);
    put_string(f, &a, name, strlen(name));
    fprintf(f, "\n    method: %s\n    path: ", req->method);
    put_string(f, &a, req->path, req->path_len);
    fputc('\n', f);
    if (req->nquery) {
        fputs("    query: {", f);
        for (size_t i = 0; i < req->nquery; i++) {
            bool ok;
            size_t kl, vl;
            const char *k =
                ct_pct_decode(&a, req->query[i].key, req->query[i].keylen, true, &kl, &ok);
            const char *v =
                ct_pct_decode(&a, req->query[i].val, req->query[i].vallen, true, &vl, &ok);
            if (i) fputs(", ", f);
            put_string(f, &a, k, kl);
            fputs(": ", f);
            put_string(f, &a, v, vl);
        }
        fputs("}\n", f);
    }
    bool first = true;
    for (size_t i = 0; i < req->nheaders; i++) {
        const char *n = req->headers[i].name;
        static const char *const skip[] = {"host",       "content-length",  "connection",
                                           "user-agent", "accept-encoding", "authorization",
                                           "cookie",     "content-type",    "accept"};
        bool drop = false;
        for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]) && !drop; k++)
            drop = !strcasecmp(n, skip[k]);
        if (drop) continue;
        fputs(first ? "    headers: {" : ", ", f);
        first = false;
        put_string(f, &a, n, strlen(n));
        fputs(": ", f);
        put_string(f, &a, req->headers[i].value, strlen(req->headers[i].value));
    }
    if (!first) fputs("}\n", f);
    if (json_body && jx_parse(&a, "body", req->body, req->body_len, NULL)) {
        fputs("    json: ", f);
        put_flow(f, req->body, req->body_len);
        fputc('\n', f);
    } else if (req->body_len) {
        fputs("    raw: ", f);
        put_string(f, &a, req->body, req->body_len);
        fprintf(f, "\n    content_type: ");
        put_string(f, &a, ctype ? ctype : "application/octet-stream",
                   strlen(ctype ? ctype : "application/octet-stream"));
        fputc('\n', f);
    }
    fprintf(f, "    expect:\n      status: %u\n", resp->status);
    fflush(f);
    r->steps++;

    /* Examples: the latest answer per operation and status, and the latest request body. */
    const char *op = safe_name(&a, resp->operation_id);
    char *dir = jx_fmt(&a, "%s/examples/%s", r->dir, op);
    if (mkdir_p(dir) == 0) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        if (resp->body_len) {
            const char *ext = pretty(&a, resp->body, resp->body_len, resp->content_type, &b);
            write_file(jx_fmt(&a, "%s/%u.%s", dir, resp->status, ext), b.ptr, b.len);
        }
        if (json_body) {
            ct_buf_deinit(&b);
            ct_buf_init(&b, 0);
            pretty(&a, req->body, req->body_len, ctype, &b);
            write_file(jx_fmt(&a, "%s/request.json", dir), b.ptr, b.len);
        }
        ct_buf_deinit(&b);
    }
    pthread_mutex_unlock(&r->lock);
    ct_arena_deinit(&a);
}

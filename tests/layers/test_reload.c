/* test_reload.c - hot reload, in process (mockd_core): a changed spec serves the requests that
 * start afterwards while a request holding the old version finishes on it; overrides, the
 * journal and the JWT signer carry over; a broken edit keeps the old version and gives back the
 * located error; the watcher picks up a change by itself. Under the sanitizers this also checks
 * that a retired version is freed exactly once, after its last request. Output is TAP.
 *
 * usage: test_reload SCRATCH_DIR */
#include "mockd.h"
#include "reload.h"

#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int ntap, nfailed;
static char spec_path[4096];

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        ntap++;                                                                                    \
        if (cond) {                                                                                \
            printf("ok %d - ", ntap);                                                              \
        } else {                                                                                   \
            nfailed++;                                                                             \
            printf("not ok %d - ", ntap);                                                          \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

static void write_spec(const char *greeting, bool extra)
{
    /* Written to a temporary name and renamed, as editors do, so that a watcher never sees
     * half a file. */
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", spec_path);
    FILE *f = fopen(tmp, "w");
    fprintf(f,
            "openapi: 3.1.0\n"
            "info: {title: Reload, version: '1'}\n"
            "servers: [{url: /v1}]\n"
            "paths:\n"
            "  /greeting:\n"
            "    get:\n"
            "      operationId: getGreeting\n"
            "      responses:\n"
            "        '200':\n"
            "          description: ok\n"
            "          content:\n"
            "            application/json:\n"
            "              schema: {type: object, properties: {text: {type: string}}}\n"
            "              example: {text: %s}\n",
            greeting);
    if (extra)
        fprintf(f, "  /extra:\n"
                   "    get:\n"
                   "      operationId: getExtra\n"
                   "      responses:\n"
                   "        '204': {description: nothing}\n");
    fclose(f);
    rename(tmp, spec_path);
}

struct exchange {
    struct ct_arena arena;
    struct mockd_req req;
    struct mockd_resp resp;
};

/* One request answered by `app` (and journaled, as the HTTP server does). */
static struct exchange *ask(const struct mockd_app *app, const char *method, const char *path,
                            const char *body)
{
    struct exchange *x = ct_xcalloc(1, sizeof(*x));
    ct_arena_init(&x->arena, 4096);
    x->req.arena = &x->arena;
    x->req.method = method;
    x->req.path = path;
    x->req.path_len = strlen(path);
    x->req.body = body ? body : "";
    x->req.body_len = body ? strlen(body) : 0;
    x->req.remote = "127.0.0.1";
    if (body)
        x->req.headers[x->req.nheaders++] =
            (struct mockd_header){"Content-Type", "application/json"};
    mockd_handle(app, &x->req, &x->resp);
    mockd_layers_record(app, &x->req, &x->resp, 0);
    return x;
}

static bool body_has(const struct exchange *x, const char *s)
{
    return x->resp.body &&
           strstr(ct_arena_strndup((struct ct_arena *)&x->arena, x->resp.body, x->resp.body_len),
                  s);
}

static void done(struct exchange *x)
{
    ct_arena_deinit(&x->arena);
    ct_free(x);
}

/* GET /v1/greeting on the app in service. */
static unsigned greeting(const char *want, bool *has)
{
    const struct mockd_app *app = mockd_app_acquire(NULL);
    struct exchange *x = ask(app, "GET", "/v1/greeting", NULL);
    unsigned st = x->resp.status;
    *has = body_has(x, want);
    done(x);
    mockd_app_release(app);
    return st;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    snprintf(spec_path, sizeof(spec_path), "%s/reload-%d.yaml", dir, (int)getpid());
    write_spec("one", false);

    struct mockd_config cfg;
    mockd_config_defaults(&cfg);
    mockd_layers_config_init(&cfg);
    cfg.spec_path = spec_path;
    cfg.quiet = true;
    cfg.log_format = MOCKD_LOG_NONE;
    cfg.auth = MOCKD_AUTH_OFF;
    struct mockd_app *first = ct_xcalloc(1, sizeof(*first));
    if (mockd_app_load(first, &cfg) != 0) {
        printf("Bail out! %s does not load\n", spec_path);
        return 1;
    }
    CHECK(mockd_reload_install(&cfg, first) == 0, "install");
    const struct mockd_app *a1 = mockd_app_acquire(NULL);
    CHECK(a1 == first, "acquire gives the installed app");
    const struct mockd_jwt *jwt = a1->jwt;
    struct exchange *x = ask(a1, "GET", "/v1/greeting", NULL);
    CHECK(x->resp.status == 200 && body_has(x, "one"), "the first version answers");
    done(x);
    x = ask(a1, "POST", "/__mockd/overrides",
            "{\"operationId\": \"getGreeting\", \"status\": 418, \"times\": 1}");
    CHECK(x->resp.status == 201, "an override is made before the reload (%u)", x->resp.status);
    done(x);

    /* a1 stays acquired: a request that started before the reload. */
    write_spec("two", true);
    struct ct_buf why;
    ct_buf_init(&why, 0);
    CHECK(mockd_reload_now(&why) == 0, "reload succeeds (%s)", ct_buf_cstr(&why));
    const struct mockd_app *a2 = mockd_app_acquire(NULL);
    CHECK(a2 != a1, "a new version is in service");
    CHECK(a2->jwt == jwt, "the JWT signer (secret and revocations) carries over");
    x = ask(a2, "GET", "/v1/greeting", NULL);
    CHECK(x->resp.status == 418, "the override carries over (%u)", x->resp.status);
    done(x);
    x = ask(a2, "GET", "/v1/greeting", NULL);
    CHECK(x->resp.status == 200 && body_has(x, "two"), "the new example is served");
    done(x);
    x = ask(a2, "GET", "/v1/extra", NULL);
    CHECK(x->resp.status == 204, "a new operation is served (%u)", x->resp.status);
    done(x);
    x = ask(a1, "GET", "/v1/greeting", NULL);
    CHECK(x->resp.status == 200 && body_has(x, "one"),
          "a request holding the old version still gets the old answer");
    done(x);
    x = ask(a2, "GET", "/__mockd/journal", NULL);
    CHECK(body_has(x, "\"total\":5"), "the journal carries over (%.*s)", 60, x->resp.body);
    done(x);
    x = ask(a2, "GET", "/__mockd/status", NULL);
    CHECK(body_has(x, "\"reloads\":1"), "status counts the reload");
    done(x);
    mockd_app_release(a1); /* the old version is freed now (ASan checks it is not used after) */
    mockd_app_release(a2);

    /* A broken edit: the located error comes back, the second version keeps serving. */
    FILE *f = fopen(spec_path, "w");
    fputs("openapi: 3.1.0\ninfo: {title: Broken, version: '1'}\npaths:\n  /x: [\n", f);
    fclose(f);
    ct_buf_deinit(&why);
    ct_buf_init(&why, 0);
    CHECK(mockd_reload_now(&why) != 0, "a broken spec does not reload");
    char where[4200];
    snprintf(where, sizeof(where), "%s:", spec_path);
    CHECK(strstr(ct_buf_cstr(&why), where) && strstr(ct_buf_cstr(&why), "error"),
          "the error is located in the file");
    bool has;
    CHECK(greeting("two", &has) == 200 && has, "the previous version keeps serving");
    const struct mockd_app *a3 = mockd_app_acquire(NULL);
    x = ask(a3, "POST", "/__mockd/reload", NULL);
    CHECK(x->resp.status == 422 && body_has(x, "keeps serving"),
          "POST /__mockd/reload reports the broken spec (%u)", x->resp.status);
    done(x);
    mockd_app_release(a3);
    ct_buf_deinit(&why);
    mockd_reload_uninstall();

    /* --watch: a change is picked up by itself. */
    write_spec("three", false);
    mockd_layers_config_free(&cfg);
    mockd_layers_config_init(&cfg);
    mockd_layers_option(&cfg, "watch", "true");
    mockd_layers_option(&cfg, "watch-interval", "20");
    struct mockd_app *w = ct_xcalloc(1, sizeof(*w));
    CHECK(mockd_app_load(w, &cfg) == 0, "load for watching");
    CHECK(mockd_reload_install(&cfg, w) == 0, "install with a watcher");
    usleep(100 * 1000);
    write_spec("four", false);
    bool seen = false;
    for (int i = 0; i < 300 && !seen; i++) {
        usleep(20 * 1000);
        greeting("four", &seen);
    }
    CHECK(seen, "the watcher reloads a changed spec");
    mockd_reload_uninstall();
    mockd_layers_config_free(&cfg);
    unlink(spec_path);
    printf("1..%d\n", ntap);
    return nfailed ? 1 : 0;
}

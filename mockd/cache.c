/* cache.c - HTTP caching where the spec declares it: ETag, Last-Modified, Cache-Control and
 * conditional requests (304 Not Modified).
 *
 * Only responses that declare the headers get them, so a contract without caching stays
 * without. ETag is a strong validator over the body bytes, so it changes exactly when the body
 * does (a stateful item that was updated, a new example). Last-Modified is the answer's own
 * `updatedAt` (or a sibling name) when the body has one, else the time mockd started.
 * Cache-Control keeps the value the spec gives as an example; a declared one without an
 * example becomes `no-cache` (revalidate every time) instead of a generated word.
 *
 * Conditional GET and HEAD: If-None-Match (strong or weak comparison, lists, `*`) wins over
 * If-Modified-Since, as RFC 9110 says. A match answers 304 with the validators and no body.
 * If-Match on writes is checked by the stored state (state.c), which knows the item. */
#include "layers_impl.h"

#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

char *cache_etag(struct ct_arena *a, const char *body, size_t len)
{
    return jx_fmt(a, "\"%016llx\"", (unsigned long long)jx_hash(body, len, 0));
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static char *http_date(struct ct_arena *a, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    return jx_fmt(a, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
                  months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" (the IMF-fixdate form every client sends); -1 otherwise. */
static time_t parse_http_date(const char *s)
{
    const char *c = strchr(s, ',');
    if (!c) return -1;
    char mon[4] = {0};
    int d, y, hh, mm, ss;
    if (sscanf(c + 1, " %d %3s %d %d:%d:%d GMT", &d, mon, &y, &hh, &mm, &ss) != 6) return -1;
    int m = -1;
    for (int i = 0; i < 12; i++)
        if (!strcmp(mon, months[i])) m = i;
    if (m < 0) return -1;
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = m, .tm_mday = d, .tm_hour = hh, .tm_min = mm, .tm_sec = ss};
    return timegm(&tm);
}

/* "2025-09-27T08:18:02Z" (fraction and offset ignored beyond Z); -1 otherwise. */
static time_t parse_iso(const char *s)
{
    int y, mo, d, hh, mm, ss;
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &hh, &mm, &ss) != 6) return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = hh,
                    .tm_min = mm,
                    .tm_sec = ss};
    return timegm(&tm);
}

/* The body's own modification time: updatedAt (or a sibling name) at the root or in `data`. */
static time_t body_mtime(struct ct_arena *a, const struct mockd_resp *resp)
{
    static const char *const keys[] = {"updatedAt",    "updated_at", "modifiedAt",
                                       "lastModified", "createdAt",  "created_at"};
    if (!resp->body_len || !resp->content_type || !mockd_media_is_json(resp->content_type))
        return -1;
    const struct ct_node *n = jx_parse(a, "answer", resp->body, resp->body_len, NULL);
    const struct ct_node *places[] = {n, ct_obj_get(n, "data")};
    for (size_t p = 0; p < 2; p++)
        for (size_t k = 0; places[p] && k < sizeof(keys) / sizeof(keys[0]); k++) {
            time_t t = parse_iso(ct_obj_str(places[p], keys[k]));
            if (t >= 0) return t;
        }
    return -1;
}

/* Does an If-None-Match list hold the ETag? Weak comparison: W/ prefixes are ignored. */
static bool etag_listed(const char *list, const char *etag)
{
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*') return true;
        if (!strncmp(p, "W/", 2)) p += 2;
        size_t n = strcspn(p, ",");
        while (n && p[n - 1] == ' ')
            n--;
        if (n == strlen(etag) && !memcmp(p, etag, n)) return true;
        p += strcspn(p, ",");
    }
    return false;
}

static const struct ct_node *declared(const struct ct_node *hs, const char *name)
{
    for (uint32_t i = 0; hs && i < hs->len; i++)
        if (!strcasecmp(hs->u.members[i].key->u.str, name)) return hs->u.members[i].val;
    return NULL;
}

void cache_finish(const struct mockd_app *app, const struct mockd_op_plan *p, struct mockd_req *req,
                  struct mockd_resp *resp)
{
    if (resp->status < 200 || resp->status >= 300 || resp->nchunks) return;
    const struct mockd_resp_plan *rp = answer_find_resp(p, resp->status);
    const struct ct_node *hs = rp ? rp->r->headers : NULL;
    if (!hs) return;
    const struct ct_node *h_etag = declared(hs, "ETag");
    const struct ct_node *h_lm = declared(hs, "Last-Modified");
    const struct ct_node *h_cc = declared(hs, "Cache-Control");
    if (!h_etag && !h_lm && !h_cc) return;
    struct ct_arena *a = req->arena;
    const char *etag = NULL;
    time_t mtime = -1;
    if (h_etag) {
        etag = cache_etag(a, resp->body ? resp->body : "", resp->body_len);
        answer_set_header(resp, "ETag", etag);
    }
    if (h_lm) {
        mtime = body_mtime(a, resp);
        if (mtime < 0) {
            struct layers_shared *sh = app->layers->sh;
            mtime = (time_t)((layers_wall_ms() - (double)(mockd_now_ms() - sh->started_ms)) / 1000);
        }
        answer_set_header(resp, "Last-Modified", http_date(a, mtime));
    }
    if (h_cc) {
        const struct ct_node *h = ct_docset_deref(app->ds, h_cc, NULL);
        const struct ct_node *sch = ct_docset_deref(app->ds, ct_obj_get(h, "schema"), NULL);
        if (!ct_obj_get(h, "example") && !ct_obj_get(h, "examples") && !ct_obj_get(sch, "enum") &&
            !ct_obj_get(sch, "example") && !ct_obj_get(sch, "default") && !ct_obj_get(sch, "const"))
            answer_set_header(resp, "Cache-Control", "no-cache");
    }

    /* Conditional requests: only reads are answered 304. */
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) return;
    const char *inm = mockd_req_header(req, "If-None-Match");
    const char *ims = mockd_req_header(req, "If-Modified-Since");
    bool not_modified = false;
    if (inm && etag)
        not_modified = etag_listed(inm, etag);
    else if (!inm && ims && mtime >= 0) {
        time_t since = parse_http_date(ims);
        not_modified = since >= 0 && mtime <= since;
    }
    if (!not_modified) return;
    resp->status = 304;
    resp->body = NULL;
    resp->body_len = 0;
}

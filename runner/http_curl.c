/* http_curl.c - HTTP exchanges over libcurl: the only file that includes curl/curl.h.
 *
 * One easy handle per worker, reused for every request so connections stay alive between
 * steps (libcurl keeps the connection cache in the handle). Redirects are not followed: a 302
 * or 307 is an answer the contract documents and the scenario checks. Response headers of the
 * final answer only are kept (an interim 100 Continue resets them).
 *
 * Lifetime notes: curl_mime and curl_slist objects built for a request are freed before
 * runner_http_send returns; the handle keeps no pointer into them afterwards because every
 * option that referenced them is reset at the start of the next request. */
#include "runner.h"

#include "core/alloc.h"
#include "core/err.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_BODY (64u << 20)
#define MAX_HEADERS 128

struct runner_http {
    CURL *curl;
};

struct sink {
    struct runner_http_resp *resp;
    struct ct_arena *a;
    size_t cap;
    double t0; /* when the request started (runner_now_ms) */
};

int runner_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : CT_E_IO;
}

void runner_http_global_cleanup(void)
{
    curl_global_cleanup();
}

struct runner_http *runner_http_new(void)
{
    struct runner_http *h = ct_xcalloc(1, sizeof(*h));
    h->curl = curl_easy_init();
    if (!h->curl) {
        ct_free(h);
        return NULL;
    }
    return h;
}

void runner_http_free(struct runner_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    ct_free(h);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    if (s->resp->body.len == 0 && len)
        s->resp->first_body_ms = runner_now_ms() - s->t0;
    if (ct_buf_add(&s->resp->body, p, len) != 0)
        return 0; /* over the cap: curl reports a write error */
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    struct runner_http_resp *r = s->resp;
    if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
        /* A new status line: an interim answer's headers are forgotten. */
        r->nheaders = 0;
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    size_t nl = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    if (r->nheaders == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        if (ncap > MAX_HEADERS * 2)
            return len;
        struct runner_header *nh = ct_arena_alloc(s->a, ncap * sizeof(*nh));
        if (r->nheaders)
            memcpy(nh, r->headers, r->nheaders * sizeof(*nh));
        r->headers = nh;
        s->cap = ncap;
    }
    r->headers[r->nheaders].name = ct_arena_strndup(s->a, p, nl);
    r->headers[r->nheaders].value = ct_arena_strndup(s->a, v, (size_t)(end - v));
    r->nheaders++;
    return len;
}

int runner_http_send(struct runner_http *h, const struct runner_http_req *rq,
                     struct runner_http_resp *resp, struct ct_arena *a)
{
    memset(resp, 0, sizeof(*resp));
    ct_buf_init(&resp->body, MAX_BODY);
    struct sink s = {.resp = resp, .a = a, .t0 = runner_now_ms()};
    CURL *c = h->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(rq->timeout_ms ? rq->timeout_ms : 30000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

    struct curl_slist *hl = NULL;
    for (size_t i = 0; i < rq->nheaders; i++)
        hl = curl_slist_append(hl, rq->headers[i]);
    /* curl adds "Expect: 100-continue" to large bodies; servers under test need not do that. */
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

    curl_mime *mime = NULL;
    if (rq->parts) {
        mime = curl_mime_init(c);
        for (size_t i = 0; i < rq->nparts; i++) {
            const struct runner_http_part *p = &rq->parts[i];
            curl_mimepart *mp = curl_mime_addpart(mime);
            curl_mime_name(mp, p->name);
            if (p->file) {
                curl_mime_filedata(mp, p->file);
                if (p->filename)
                    curl_mime_filename(mp, p->filename);
            } else {
                curl_mime_data(mp, p->data, p->len);
            }
            if (p->type)
                curl_mime_type(mp, p->type);
        }
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    } else if (rq->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    } else if (!strcmp(rq->method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    }

    CURLcode rc = curl_easy_perform(c);
    double total = 0, ttfb = 0;
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &total);
    curl_easy_getinfo(c, CURLINFO_STARTTRANSFER_TIME, &ttfb);
    resp->ms = total * 1000.0;
    resp->first_byte_ms = ttfb * 1000.0;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    } else {
        bool conn = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                    rc == CURLE_COULDNT_RESOLVE_PROXY ||
                    (rc == CURLE_OPERATION_TIMEDOUT && resp->status == 0 && ttfb == 0);
        resp->err = conn ? CT_E_UNREACHABLE : CT_E_IO;
        snprintf(resp->errmsg, sizeof(resp->errmsg), "%s",
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
        if (rc == CURLE_WRITE_ERROR)
            snprintf(resp->errmsg, sizeof(resp->errmsg), "the response body is over %u MiB",
                     MAX_BODY >> 20);
    }
    /* The easy handle must not point at freed lists when it is reused. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, NULL);
    curl_slist_free_all(hl);
    curl_mime_free(mime);
    if (resp->body.ptr == NULL)
        ct_buf_init(&resp->body, MAX_BODY); /* the cap freed it */
    return resp->err;
}

void runner_url_encode(struct ct_buf *out, const char *s, size_t len, bool query)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~';
        if (!query && (ch == ':' || ch == '@' || ch == '!' || ch == '$' || ch == '\'' ||
                       ch == '(' || ch == ')' || ch == '*' || ch == ',' || ch == ';'))
            plain = true;
        if (plain) {
            ct_buf_addc(out, (char)ch);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            ct_buf_add(out, e, 3);
        }
    }
}

int runner_http_probe(const char *url, char *msg, size_t msglen)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(msg, msglen, "cannot start libcurl");
        return CT_E_UNREACHABLE;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc == CURLE_OK)
        return 0;
    snprintf(msg, msglen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return CT_E_UNREACHABLE;
}

double runner_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* log.c - the access log: one line per exchange, text or JSON lines, on stderr.
 *
 * Lines are formatted into a stack buffer first and written with one fwrite under the stdio
 * lock, so lines from worker threads never interleave. Bodies and Authorization headers are
 * never logged. */
#include "mockd.h"

#include "core/buf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void mockd_log_access(const struct mockd_config *cfg, const struct mockd_req *req,
                      const struct mockd_resp *resp, double ms)
{
    if (cfg->log_format == MOCKD_LOG_NONE || cfg->quiet)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);
    struct ct_buf b;
    ct_buf_init(&b, 0);
    const char *op = resp->operation_id ? resp->operation_id : "-";
    if (cfg->log_format == MOCKD_LOG_JSON) {
        ct_buf_printf(&b, "{\"time\":\"%s\",\"remote\":", when);
        ct_json_emit_string(&b, req->remote ? req->remote : "-", strlen(req->remote ? req->remote : "-"));
        ct_buf_adds(&b, ",\"method\":");
        ct_json_emit_string(&b, req->method, strlen(req->method));
        ct_buf_adds(&b, ",\"path\":");
        ct_json_emit_string(&b, req->path, req->path_len);
        ct_buf_printf(&b, ",\"status\":%u,\"ms\":%.3f,\"bytes\":%zu,\"operationId\":", resp->status,
                      ms, resp->body_len);
        ct_json_emit_string(&b, op, strlen(op));
        ct_buf_adds(&b, ",\"requestId\":");
        ct_json_emit_string(&b, resp->request_id ? resp->request_id : "",
                            strlen(resp->request_id ? resp->request_id : ""));
        ct_buf_printf(&b, ",\"validationErrors\":%u}\n", resp->nerrors);
    } else {
        ct_buf_printf(&b, "%s %s %s %.*s %u %.2fms %zuB op=%s rid=%s%s\n", when,
                      req->remote ? req->remote : "-", req->method, (int)req->path_len, req->path,
                      resp->status, ms, resp->body_len, op,
                      resp->request_id ? resp->request_id : "-",
                      resp->nerrors ? " invalid-request" : "");
    }
    fwrite(b.ptr, 1, b.len, stderr);
    ct_buf_deinit(&b);
}

/* report.c - the result model and its four writers: human (streamed, colour on a terminal, a
 * progress line on long runs), JUnit XML, JSON and TAP 13. Every writer reads the same
 * struct runner_run_result; none of them has an opinion about what passed. */
#include "runner.h"

#include "config.h"
#include "core/alloc.h"

#include <string.h>

/* --- the model ------------------------------------------------------------------------------ */

struct runner_step_result *runner_scen_result_add(struct runner_scen_result *r)
{
    r->steps = ct_xgrow(r->steps, &r->cap, r->nsteps + 1, sizeof(*r->steps));
    struct runner_step_result *s = &r->steps[r->nsteps++];
    memset(s, 0, sizeof(*s));
    return s;
}

void runner_scen_result_deinit(struct runner_scen_result *r)
{
    for (size_t i = 0; i < r->nsteps; i++) {
        ct_free(r->steps[i].label);
        ct_free(r->steps[i].exchange);
        ct_free(r->steps[i].message);
    }
    ct_free(r->steps);
    ct_free(r->message);
    memset(r, 0, sizeof(*r));
}

static const char *status_word(enum runner_status s)
{
    static const char *const w[] = {"passed", "failed", "skipped", "error"};
    return w[s];
}

/* --- human ---------------------------------------------------------------------------------- */

#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_RESET "\033[0m"

static void indent_block(FILE *f, const char *text, const char *pad)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(f, "%s%.*s\n", pad, (int)len, p);
        p = nl ? nl + 1 : NULL;
    }
}

static void progress_clear(struct runner_human *h)
{
    if (h->progress)
        fputs("\r\033[K", stderr);
}

static void progress_show(struct runner_human *h)
{
    if (h->progress && h->done < h->total) {
        fprintf(stderr, "[%zu/%zu] running...", h->done, h->total);
        fflush(stderr);
    }
}

void runner_human_scenario(struct runner_human *h, const struct runner_scen_result *r)
{
    FILE *f = h->f;
    bool c = h->color;
    h->done++;
    progress_clear(h);
    bool bad = r->status == RUNNER_FAIL || r->status == RUNNER_ERROR;
    if (h->quiet && !bad) {
        progress_show(h);
        return;
    }
    const char *col = r->status == RUNNER_PASS ? C_GREEN : r->status == RUNNER_SKIP ? C_YELLOW
                                                                                   : C_RED;
    static const char *const word[] = {"PASS", "FAIL", "SKIP", "ERROR"};
    fprintf(f, "%s%-5s%s %s%s%s  %s", c ? col : "", word[r->status], c ? C_RESET : "",
            c ? C_BOLD : "", r->file->scen->name, c ? C_RESET : "", r->file->path);
    if (r->status == RUNNER_SKIP && r->message)
        fprintf(f, "  (%s)\n", r->message);
    else
        fprintf(f, "  %s(%.0f ms)%s\n", c ? C_DIM : "", r->ms, c ? C_RESET : "");
    if (r->status != RUNNER_SKIP && r->message)
        indent_block(f, r->message, "      ");
    size_t skipped_after = 0;
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct runner_step_result *s = &r->steps[i];
        bool show = h->verbose || s->status == RUNNER_FAIL || s->status == RUNNER_ERROR;
        if (!show) {
            if (bad && s->status == RUNNER_SKIP)
                skipped_after++;
            continue;
        }
        const char *mark = s->status == RUNNER_PASS ? "ok  " : s->status == RUNNER_SKIP ? "skip"
                                                                                        : "FAIL";
        const char *mc = s->status == RUNNER_PASS ? C_GREEN : s->status == RUNNER_SKIP ? C_YELLOW
                                                                                      : C_RED;
        fprintf(f, "    %s%s%s %s%s%s", c ? mc : "", mark, c ? C_RESET : "",
                strcmp(s->phase, "steps") ? s->phase : "", strcmp(s->phase, "steps") ? ": " : "",
                s->label);
        if (s->exchange)
            fprintf(f, "  %s%s%s", c ? C_DIM : "", s->exchange, c ? C_RESET : "");
        if (s->status == RUNNER_SKIP)
            fprintf(f, "  (%s)\n", s->message ? s->message : "skipped");
        else if (s->attempts > 1)
            fprintf(f, "  %s(%.0f ms, %u attempts)%s\n", c ? C_DIM : "", s->ms, s->attempts,
                    c ? C_RESET : "");
        else
            fprintf(f, "  %s(%.1f ms)%s\n", c ? C_DIM : "", s->ms, c ? C_RESET : "");
        if (s->status != RUNNER_SKIP && s->status != RUNNER_PASS && s->message)
            indent_block(f, s->message, "         ");
    }
    if (skipped_after)
        fprintf(f, "    %s%zu step%s skipped after the failure%s\n", c ? C_DIM : "",
                skipped_after, skipped_after == 1 ? "" : "s", c ? C_RESET : "");
    fflush(f);
    progress_show(h);
}

void runner_human_summary(struct runner_human *h, const struct runner_run_result *rr,
                          double min_coverage)
{
    FILE *f = h->f;
    bool c = h->color;
    progress_clear(h);
    fprintf(f, "\n%s%zu scenario%s%s: ", c ? C_BOLD : "", rr->n, rr->n == 1 ? "" : "s",
            c ? C_RESET : "");
    fprintf(f, "%s%u passed%s, %s%u failed%s, %u skipped", c && rr->passed ? C_GREEN : "",
            rr->passed, c && rr->passed ? C_RESET : "", c && rr->failed ? C_RED : "", rr->failed,
            c && rr->failed ? C_RESET : "", rr->skipped);
    if (rr->errors)
        fprintf(f, ", %s%u error%s%s", c ? C_RED : "", rr->errors, rr->errors == 1 ? "" : "s",
                c ? C_RESET : "");
    fprintf(f, " (steps: %u passed, %u failed, %u skipped) in %.2f s, %u job%s\n",
            rr->steps_passed, rr->steps_failed, rr->steps_skipped, rr->ms / 1000.0, rr->jobs,
            rr->jobs == 1 ? "" : "s");
    if (rr->cov_pct >= 0 && rr->ncov) {
        size_t hit = 0, resp_total = 0, resp_hit = 0, ws_total = 0, ws_hit = 0;
        for (size_t i = 0; i < rr->ncov; i++) {
            hit += rr->cov[i].hits > 0;
            if (rr->cov[i].ws) {
                ws_total++;
                ws_hit += rr->cov[i].hits > 0;
            } else {
                resp_total++;
                resp_hit += rr->cov[i].hits > 0;
            }
        }
        bool low = min_coverage >= 0 && rr->cov_pct + 1e-9 < min_coverage;
        fprintf(f, "coverage: %u/%u operations, %zu/%zu documented responses", rr->cov_ops_hit,
                rr->cov_ops_total, resp_hit, resp_total);
        if (ws_total)
            fprintf(f, ", %zu/%zu message types", ws_hit, ws_total);
        fprintf(f, " = %s%.1f%%%s", c ? (low ? C_RED : C_BOLD) : "", rr->cov_pct,
                c ? C_RESET : "");
        if (min_coverage >= 0)
            fprintf(f, " (minimum %.1f%%%s)", min_coverage, low ? ": too low" : "");
        fputc('\n', f);
        if (hit < rr->ncov && (h->verbose || low)) {
            fprintf(f, "not exercised:");
            size_t shown = 0;
            size_t missing = rr->ncov - hit, limit = h->verbose ? missing : 40;
            for (size_t i = 0; i < rr->ncov && shown < limit; i++) {
                if (rr->cov[i].hits)
                    continue;
                fprintf(f, "%s%s %s", shown % 6 == 0 ? "\n  " : ", ", rr->cov[i].op,
                        rr->cov[i].status);
                shown++;
            }
            if (shown < missing)
                fprintf(f, "\n  ... and %zu more (-v lists them all; --report json:FILE too)",
                        missing - shown);
            fputc('\n', f);
        }
    }
    fflush(f);
}

/* --- JUnit XML ------------------------------------------------------------------------------ */

static void xml_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        switch (*p) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        default:
            /* XML 1.0 allows only tab, newline and carriage return below 0x20. */
            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
                fputc('?', f);
            else
                fputc(*p, f);
        }
    }
}

static void classname(FILE *f, const char *path)
{
    size_t len = strlen(path);
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        len = (size_t)(dot - path);
    for (size_t i = 0; i < len; i++) {
        char ch = path[i] == '/' ? '.' : path[i];
        char s[2] = {ch, 0};
        xml_text(f, s);
    }
}

static void steps_text(FILE *f, const struct runner_scen_result *r, bool failures_only)
{
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct runner_step_result *s = &r->steps[i];
        if (failures_only && s->status != RUNNER_FAIL && s->status != RUNNER_ERROR)
            continue;
        fprintf(f, "%s %s%s", s->status == RUNNER_PASS ? "ok  " : s->status == RUNNER_SKIP
                                                                      ? "skip"
                                                                      : "FAIL",
                strcmp(s->phase, "steps") ? s->phase : "", strcmp(s->phase, "steps") ? ": " : "");
        xml_text(f, s->label);
        if (s->exchange) {
            fputs("  ", f);
            xml_text(f, s->exchange);
        }
        fputc('\n', f);
        if (s->message && s->status != RUNNER_PASS) {
            xml_text(f, s->message);
            if (s->message[0] && s->message[strlen(s->message) - 1] != '\n')
                fputc('\n', f);
        }
    }
}

static const struct runner_step_result *first_failure(const struct runner_scen_result *r)
{
    for (size_t i = 0; i < r->nsteps; i++)
        if (r->steps[i].status == RUNNER_FAIL || r->steps[i].status == RUNNER_ERROR)
            return &r->steps[i];
    return NULL;
}

static void write_junit(FILE *f, const struct runner_run_result *rr)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"runner\" tests=\"%zu\" failures=\"%u\" errors=\"%u\" "
               "skipped=\"%u\" time=\"%.3f\">\n",
            rr->n, rr->failed, rr->errors, rr->skipped, rr->ms / 1000.0);
    fprintf(f, "  <testsuite name=\"runner\" tests=\"%zu\" failures=\"%u\" errors=\"%u\" "
               "skipped=\"%u\" time=\"%.3f\">\n",
            rr->n, rr->failed, rr->errors, rr->skipped, rr->ms / 1000.0);
    fprintf(f, "    <properties>\n      <property name=\"target\" value=\"");
    xml_text(f, rr->target ? rr->target : "");
    fprintf(f, "\"/>\n");
    if (rr->cov_pct >= 0)
        fprintf(f, "      <property name=\"coverage\" value=\"%.1f\"/>\n", rr->cov_pct);
    fprintf(f, "    </properties>\n");
    for (size_t i = 0; i < rr->n; i++) {
        const struct runner_scen_result *r = &rr->v[i];
        fprintf(f, "    <testcase classname=\"");
        classname(f, r->file->path);
        fprintf(f, "\" name=\"");
        xml_text(f, r->file->scen->name);
        fprintf(f, "\" file=\"");
        xml_text(f, r->file->path);
        fprintf(f, "\" time=\"%.3f\"", r->ms / 1000.0);
        if (r->status == RUNNER_PASS && !r->nsteps) {
            fprintf(f, "/>\n");
            continue;
        }
        fprintf(f, ">\n");
        const struct runner_step_result *ff = first_failure(r);
        if (r->status == RUNNER_SKIP) {
            fprintf(f, "      <skipped message=\"");
            xml_text(f, r->message ? r->message : "skipped");
            fprintf(f, "\"/>\n");
        } else if (r->status == RUNNER_FAIL || r->status == RUNNER_ERROR) {
            const char *tag = r->status == RUNNER_FAIL ? "failure" : "error";
            fprintf(f, "      <%s message=\"", tag);
            if (ff) {
                xml_text(f, "step '");
                xml_text(f, ff->label);
                xml_text(f, "' failed");
            } else {
                xml_text(f, r->message ? "the scenario could not start" : "failed");
            }
            fprintf(f, "\" type=\"%s\">", r->status == RUNNER_FAIL ? "contract" : "unreachable");
            if (r->message)
                xml_text(f, r->message);
            steps_text(f, r, true);
            fprintf(f, "</%s>\n", tag);
        }
        fprintf(f, "      <system-out>");
        steps_text(f, r, false);
        fprintf(f, "</system-out>\n    </testcase>\n");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
}

/* --- JSON ----------------------------------------------------------------------------------- */

static void jstr(FILE *f, const char *s)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (s)
        ct_json_emit_string(&b, s, strlen(s));
    else
        ct_buf_adds(&b, "null");
    fputs(ct_buf_cstr(&b), f);
    ct_buf_deinit(&b);
}

static void write_json(FILE *f, const struct runner_run_result *rr)
{
    fprintf(f, "{\n  \"runner\": \"%s\",\n  \"target\": ", CT_VERSION);
    jstr(f, rr->target);
    fprintf(f, ",\n  \"jobs\": %u,\n  \"duration_ms\": %.3f,\n", rr->jobs, rr->ms);
    fprintf(f, "  \"summary\": {\"scenarios\": %zu, \"passed\": %u, \"failed\": %u, \"skipped\": "
               "%u, \"errors\": %u, \"steps\": {\"passed\": %u, \"failed\": %u, \"skipped\": "
               "%u}},\n",
            rr->n, rr->passed, rr->failed, rr->skipped, rr->errors, rr->steps_passed,
            rr->steps_failed, rr->steps_skipped);
    fprintf(f, "  \"scenarios\": [");
    for (size_t i = 0; i < rr->n; i++) {
        const struct runner_scen_result *r = &rr->v[i];
        const struct ct_scen *sc = r->file->scen;
        fprintf(f, "%s\n    {\"file\": ", i ? "," : "");
        jstr(f, r->file->path);
        fprintf(f, ", \"name\": ");
        jstr(f, sc->name);
        fprintf(f, ", \"tags\": [");
        for (unsigned t = 0; t < sc->ntags; t++) {
            fprintf(f, "%s", t ? ", " : "");
            jstr(f, sc->tags[t]);
        }
        fprintf(f, "], \"status\": \"%s\", \"duration_ms\": %.3f, \"message\": ",
                status_word(r->status), r->ms);
        jstr(f, r->message);
        fprintf(f, ",\n     \"steps\": [");
        for (size_t j = 0; j < r->nsteps; j++) {
            const struct runner_step_result *s = &r->steps[j];
            fprintf(f, "%s\n       {\"phase\": \"%s\", \"name\": ", j ? "," : "", s->phase);
            jstr(f, s->label);
            fprintf(f, ", \"line\": %u, \"status\": \"%s\", \"duration_ms\": %.3f, "
                       "\"request_ms\": %.3f, \"attempts\": %u, \"exchange\": ",
                    s->at ? s->at->line : 0, status_word(s->status), s->ms, s->request_ms,
                    s->attempts);
            jstr(f, s->exchange);
            fprintf(f, ", \"message\": ");
            jstr(f, s->message);
            fprintf(f, "}");
        }
        fprintf(f, "%s]}", r->nsteps ? "\n     " : "");
    }
    fprintf(f, "%s],\n", rr->n ? "\n  " : "");
    size_t resp_total = 0, resp_hit = 0, ws_total = 0, ws_hit = 0;
    for (size_t i = 0; i < rr->ncov; i++) {
        if (rr->cov[i].ws) {
            ws_total++;
            ws_hit += rr->cov[i].hits > 0;
        } else {
            resp_total++;
            resp_hit += rr->cov[i].hits > 0;
        }
    }
    fprintf(f, "  \"coverage\": {\"percent\": %.2f, \"operations\": {\"total\": %u, "
               "\"exercised\": %u}, \"responses\": {\"total\": %zu, \"exercised\": %zu}, "
               "\"messages\": {\"total\": %zu, \"exercised\": %zu},\n    \"items\": [",
            rr->cov_pct, rr->cov_ops_total, rr->cov_ops_hit, resp_total, resp_hit, ws_total,
            ws_hit);
    for (size_t i = 0; i < rr->ncov; i++) {
        fprintf(f, "%s\n      {\"operation\": ", i ? "," : "");
        jstr(f, rr->cov[i].op);
        fprintf(f, ", \"%s\": ", rr->cov[i].ws ? "message" : "status");
        jstr(f, rr->cov[i].status);
        fprintf(f, ", \"hits\": %u}", rr->cov[i].hits);
    }
    fprintf(f, "%s]}\n}\n", rr->ncov ? "\n    " : "");
}

/* --- TAP 13 --------------------------------------------------------------------------------- */

static void write_tap(FILE *f, const struct runner_run_result *rr)
{
    fprintf(f, "TAP version 13\n1..%zu\n", rr->n);
    for (size_t i = 0; i < rr->n; i++) {
        const struct runner_scen_result *r = &rr->v[i];
        bool ok = r->status == RUNNER_PASS || r->status == RUNNER_SKIP;
        fprintf(f, "%s %zu - %s: %s", ok ? "ok" : "not ok", i + 1, r->file->path,
                r->file->scen->name);
        if (r->status == RUNNER_SKIP) {
            fprintf(f, " # SKIP ");
            for (const char *p = r->message ? r->message : "skipped"; *p; p++)
                fputc(*p == '\n' ? ' ' : *p, f);
        }
        fputc('\n', f);
        if (!ok) {
            fprintf(f, "  ---\n  status: %s\n  duration_ms: %.3f\n  message: |\n",
                    status_word(r->status), r->ms);
            if (r->message)
                indent_block(f, r->message, "    ");
            for (size_t j = 0; j < r->nsteps; j++) {
                const struct runner_step_result *s = &r->steps[j];
                if (s->status != RUNNER_FAIL && s->status != RUNNER_ERROR)
                    continue;
                fprintf(f, "    step %s%s%s%s%s failed\n", strcmp(s->phase, "steps") ? s->phase : "",
                        strcmp(s->phase, "steps") ? ": " : "", s->label,
                        s->exchange ? ": " : "", s->exchange ? s->exchange : "");
                if (s->message)
                    indent_block(f, s->message, "      ");
            }
            fprintf(f, "  ...\n");
        }
    }
    if (rr->cov_pct >= 0)
        fprintf(f, "# coverage %.1f%% (%u/%u operations)\n", rr->cov_pct, rr->cov_ops_hit,
                rr->cov_ops_total);
    fprintf(f, "# %u passed, %u failed, %u skipped, %u errors\n", rr->passed, rr->failed,
            rr->skipped, rr->errors);
}

int runner_report_write(enum runner_fmt fmt, const char *file, const struct runner_run_result *rr)
{
    FILE *f = !strcmp(file, "-") ? stdout : fopen(file, "w");
    if (!f)
        return -1;
    switch (fmt) {
    case RUNNER_FMT_HUMAN: {
        struct runner_human h = {.f = f, .verbose = true, .total = rr->n};
        for (size_t i = 0; i < rr->n; i++)
            runner_human_scenario(&h, &rr->v[i]);
        runner_human_summary(&h, rr, -1);
        break;
    }
    case RUNNER_FMT_JUNIT:
        write_junit(f, rr);
        break;
    case RUNNER_FMT_JSON:
        write_json(f, rr);
        break;
    case RUNNER_FMT_TAP:
        write_tap(f, rr);
        break;
    }
    int rc = ferror(f) ? -1 : 0;
    if (f != stdout) {
        if (fclose(f) != 0)
            rc = -1;
    } else {
        fflush(f);
    }
    return rc;
}

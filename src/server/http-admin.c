/*
 * http-admin.c — the operational routes: /healthz (liveness), /readyz (the
 * store answers), /metrics (Prometheus text), and the per-sandbox
 * maintenance routes GET /v1/sandboxes/{sb}/stats and
 * POST /v1/sandboxes/{sb}/prune. Stats and prune bodies have the same shape
 * as `agentkv stats --json` and `agentkv prune --json`.
 */
#include <inttypes.h>
#include <string.h>

#include "metrics.h"
#include "server.h"

void http_admin_healthz(struct http_req *r)
{
    static const char ok[] = "{\"status\":\"ok\"}";
    http_reply_json(r, 200, ok, sizeof ok - 1);
}

void http_admin_readyz(struct http_req *r)
{
    /* One cheap store call: the system scope of _global is small, and
     * akv_stats reads it in one snapshot without touching the counters of
     * reads (a get of a missing key would count a miss). */
    akv_scope_stats row[AKV_SCOPE_COUNT];
    size_t n;
    int rc = akv_stats(r->store, AKV_GLOBAL_SANDBOX, AKV_SCOPE_SYSTEM, row, &n);
    if (rc != AKV_OK) {
        const akv_error *e = akv_last_error();
        http_error_status(r, 503, "unavailable", "store not ready: %s",
                          e->message[0] ? e->message : akv_strerror(rc));
        return;
    }
    static const char ready[] = "{\"status\":\"ready\"}";
    http_reply_json(r, 200, ready, sizeof ready - 1);
}

void http_admin_metrics(struct http_req *r)
{
    if (http_query(r, NULL, 0, NULL, NULL, 0) != 0)
        return;
    metrics_render(r->srv->metrics, r->store, &r->resp.body);
    r->resp.status = 200;
    http_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
}

/* ?scope=NAME, or every scope when absent. Returns -1 after a 400. */
static int scope_param(struct http_req *r, int *scope)
{
    static const char *const names[] = {"scope"};
    const char *q[1];
    char buf[64];
    *scope = AKV_SCOPE_ALL;
    if (http_query(r, names, 1, q, buf, sizeof buf) != 0)
        return -1;
    if (q[0]) {
        akv_scope s;
        int rc = akv_scope_parse(q[0], strlen(q[0]), &s);
        if (rc != AKV_OK) {
            http_error_lib(r, rc);
            return -1;
        }
        *scope = (int)s;
    }
    return 0;
}

void http_admin_stats(struct http_req *r)
{
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n = 0;
    int scope;
    if (scope_param(r, &scope) != 0)
        return;
    int rc = akv_stats(r->store, r->sandbox, scope, rows, &n);
    if (rc != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    struct obuf *b = &r->resp.body;
    ob_str(b, "{");
    for (size_t i = 0; i < n; i++) {
        const akv_scope_stats *s = &rows[i];
        double used = s->quota ? 100.0 * (double)s->bytes / (double)s->quota
                               : 0.0;
        ob_printf(b,
                  "%s\"%s\":{\"entries\":%" PRIu64 ",\"bytes\":%" PRIu64
                  ",\"quota\":%" PRIu64 ",\"used_percent\":%.3f,"
                  "\"expired\":%" PRIu64 ",\"expired_bytes\":%" PRIu64
                  ",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
                  ",\"default_ttl\":%" PRId64 "}",
                  i ? "," : "", akv_scope_name(s->scope), s->entries,
                  s->bytes, s->quota, used, s->expired, s->expired_bytes,
                  s->hits, s->misses, s->default_ttl);
    }
    ob_str(b, "}");
    r->resp.status = 200;
    http_header(r, "Content-Type", "application/json");
}

void http_admin_prune(struct http_req *r)
{
    uint64_t pruned[AKV_SCOPE_COUNT] = {0};
    int scope;
    if (scope_param(r, &scope) != 0)
        return;
    int rc = akv_prune(r->store, r->sandbox, scope, pruned);
    if (rc != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    metrics_expired(r->srv->metrics, pruned);
    int first = scope == AKV_SCOPE_ALL ? 0 : scope;
    int last = scope == AKV_SCOPE_ALL ? AKV_SCOPE_COUNT - 1 : scope;
    struct obuf *b = &r->resp.body;
    ob_str(b, "{\"pruned\":{");
    for (int s = first; s <= last; s++)
        ob_printf(b, "%s\"%s\":%" PRIu64, s > first ? "," : "",
                  akv_scope_name(s), pruned[s]);
    ob_str(b, "}}");
    r->resp.status = 200;
    http_header(r, "Content-Type", "application/json");
}

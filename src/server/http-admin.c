/*
 * http-admin.c — the operational routes: /healthz (liveness), /readyz (the
 * store answers, and whether it takes writes), /metrics (Prometheus text), and the per-sandbox
 * maintenance routes GET /v1/sandboxes/{sb}/stats and
 * POST /v1/sandboxes/{sb}/prune. Stats and prune bodies have the same shape
 * as `agentkv stats --json` and `agentkv prune --json`.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "server.h"

void http_admin_healthz(struct http_req *r)
{
    http_reply_json_value(r, 200, json_pack("{s:s}", "status", "ok"));
}

/*
 * 200 while the store answers reads, even when writes fail: a full disk
 * stops writes only, and taking the server out of rotation would stop the
 * reads too (docs/decisions.md). The body says whether writes go through
 * and, when not, why: {"status":"ready","writable":false,"reason":"disk
 * full: ..."}; "note" tells of a degraded but working store.
 */
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
    akv_health h;
    akv_store_health(r->store, &h);
    json_t *o = json_pack("{s:s, s:b}", "status", "ready", "writable",
                          h.writable);
    if (o && h.reason[0])
        json_object_set_new(o, "reason", json_string(h.reason));
    if (o && h.note[0])
        json_object_set_new(o, "note", json_string(h.note));
    http_reply_json_value(r, 200, o);
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
    http_reply_json_text(r, 200, akv_stats_to_json(rows, n));
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
    http_reply_json_text(r, 200, akv_prune_to_json(pruned, scope));
}

/*
 * http-memory.c — POST /v1/sandboxes/{sandbox}/memory: one command of
 * Anthropic's memory tool (memory_20250818), the body being the tool
 * call's input JSON, executed by akv_memory in the sandbox's project scope
 * (or ?scope=NAME). Success is 200 with the tool's result text as
 * text/plain; a failure is the usual error object of SPEC.md §2 whose
 * message is the tool's error text, so that a client hands either text
 * back to the model (the failure as is_error).
 */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "server.h"

void http_memory_post(struct http_req *r)
{
    static const char *const names[] = {"scope"};
    const char *q[1];
    char buf[64];
    akv_scope scope = AKV_SCOPE_PROJECT;
    int rc;
    if (http_query(r, names, 1, q, buf, sizeof buf) != 0)
        return;
    if (q[0] && (rc = akv_scope_parse(q[0], strlen(q[0]), &scope)) != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    char *text = NULL;
    rc = akv_memory(r->store, r->sandbox, scope, r->body, r->body_len, &text);
    if (rc != AKV_OK) {
        if (rc == AKV_EQUOTA)
            metrics_quota_rejected(r->srv->metrics, scope);
        free(text);
        http_error_lib(r, rc);
        return;
    }
    http_header(r, "Content-Type", "text/plain; charset=utf-8");
    r->resp.status = 200;
    r->resp.ext_owned = text;
    r->resp.ext = text;
    r->resp.ext_len = strlen(text);
}

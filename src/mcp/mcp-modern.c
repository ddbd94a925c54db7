/*
 * mcp-modern.c — the stateless protocol revision 2026-07-28 next to the
 * session-based 2024-10-07 … 2025-11-25 ones, on the same session object.
 *
 * A request belongs to 2026-07-28 when its params carry the envelope: in
 * _meta, "io.modelcontextprotocol/protocolVersion" (the revision) and
 * "io.modelcontextprotocol/clientCapabilities" (an object), optionally
 * "io.modelcontextprotocol/clientInfo". Such a request is answered from
 * what it carries alone: no `initialize` is needed, the session's state and
 * negotiated revision are neither read nor changed (the revision is swapped
 * in for the request's duration only, so the handlers that branch on the
 * revision see 2026-07-28), and any number of processes can answer any
 * request. A request without the envelope is served as before, under the
 * session's revision.
 *
 * Checks, in this order (the first that fails answers):
 *   1. over HTTP, MCP-Protocol-Version must agree with the body: a header
 *      naming 2026-07-28 without an envelope, or an envelope with another
 *      header value, is a header mismatch (-32020);
 *   2. a revision other than 2026-07-28 is -32022 with the revisions this
 *      server speaks in the error's data ({supported, requested});
 *   3. a malformed envelope (revision not a string, capabilities or client
 *      info not objects, params not an object) is -32602;
 *   4. over HTTP, Mcp-Method must equal the method and, for tools/call,
 *      prompts/get and resources/read, Mcp-Name must equal params.name or
 *      params.uri (a value outside plain printable ASCII comes as
 *      =?base64?…?=): -32020 otherwise.
 * All four are refusals of the request as a whole (HTTP 400), reported
 * through mcp_modern_enter's MCP_ERA_REFUSED.
 *
 * Every result then carries resultType "complete", the cacheable ones
 * (lists, resources/read, server/discover) ttlMs 0 and cacheScope
 * "private" (entries change at any time and depend on the caller's
 * sandbox), and _meta["io.modelcontextprotocol/serverInfo"].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_CLIENT "io.modelcontextprotocol/clientInfo"
#define META_SERVER "io.modelcontextprotocol/serverInfo"

/* Every revision this server speaks, newest first (server/discover's
 * supportedVersions and the data of -32022). New reference. */
static json_t *supported_versions(void)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string(AKV_MCP_MODERN_VERSION));
    for (size_t i = 0; i < akv_mcp_nversions; i++)
        json_array_append_new(a, json_string(akv_mcp_versions[i]));
    return a;
}

static int span_is(akv_mcp_span h, const char *v, size_t n)
{
    return h.p != NULL && h.len == n && memcmp(h.p, v, n) == 0;
}

/* 1 when header h carries value v[0..n): verbatim, or as the sentinel
 * =?base64?B64?= of its UTF-8 bytes. */
static int header_carries(akv_mcp_span h, const char *v, size_t n)
{
    static const char pre[] = "=?base64?", suf[] = "?=";
    const size_t np = sizeof pre - 1, ns = sizeof suf - 1;
    if (h.p == NULL)
        return 0;
    if (h.len >= np + ns && memcmp(h.p, pre, np) == 0 &&
        memcmp(h.p + h.len - ns, suf, ns) == 0) {
        size_t blen = h.len - np - ns;
        unsigned char *buf = malloc(blen / 4 * 3 + 1);
        size_t olen = 0;
        int ok = buf != NULL &&
                 akvx_base64_decode(h.p + np, blen, buf, &olen) == 0 &&
                 olen == n && memcmp(buf, v, n) == 0;
        free(buf);
        return ok;
    }
    return span_is(h, v, n);
}

static enum mcp_era refuse(struct mcp_rpc_error *err, int code,
                           const char *fmt, const char *arg)
    __attribute__((format(printf, 3, 0)));
static enum mcp_era refuse(struct mcp_rpc_error *err, int code,
                           const char *fmt, const char *arg)
{
    mcp_rpc_fail(err, code, fmt, arg);
    return MCP_ERA_REFUSED;
}

/* The body field Mcp-Name mirrors for method, or NULL. */
static const char *name_field(const char *method)
{
    if (strcmp(method, "tools/call") == 0 ||
        strcmp(method, "prompts/get") == 0)
        return "name";
    if (strcmp(method, "resources/read") == 0)
        return "uri";
    return NULL;
}

static enum mcp_era check_headers(const akv_mcp_headers *h,
                                  const struct mcp_msg *m,
                                  struct mcp_rpc_error *err)
{
    if (h->protocol_version.p == NULL)
        return refuse(err, AKV_MCP_HEADER_MISMATCH,
                      "Header mismatch: a %s request needs the "
                      "MCP-Protocol-Version header",
                      AKV_MCP_MODERN_VERSION);
    if (!span_is(h->method, m->method, strlen(m->method)))
        return refuse(err, AKV_MCP_HEADER_MISMATCH,
                      "Header mismatch: the Mcp-Method header must be "
                      "present and equal to the body's method (%.200s)",
                      m->method);
    const char *field = name_field(m->method);
    json_t *v = field ? json_object_get(m->params, field) : NULL;
    if (json_is_string(v) &&
        !header_carries(h->name, json_string_value(v), json_string_length(v)))
        return refuse(err, AKV_MCP_HEADER_MISMATCH,
                      "Header mismatch: the Mcp-Name header must be present "
                      "and equal to params.%s",
                      field);
    return MCP_ERA_MODERN;
}

enum mcp_era mcp_modern_enter(akv_mcp_session *s, const struct mcp_msg *m,
                              char saved[16], struct mcp_rpc_error *err)
{
    const akv_mcp_headers *h = s->headers;
    json_t *meta = json_is_object(m->params)
                       ? json_object_get(m->params, "_meta")
                       : NULL;
    json_t *pv = json_is_object(meta) ? json_object_get(meta, META_VERSION)
                                      : NULL;
    int header_modern =
        h && span_is(h->protocol_version, AKV_MCP_MODERN_VERSION,
                     strlen(AKV_MCP_MODERN_VERSION));

    if (pv == NULL) {
        if (!header_modern)
            return MCP_ERA_LEGACY;
        return refuse(err, AKV_MCP_INVALID_PARAMS,
                      "Invalid params: MCP-Protocol-Version is %s but the "
                      "request has no _meta[\"" META_VERSION "\"]",
                      AKV_MCP_MODERN_VERSION);
    }
    if (!json_is_string(pv) ||
        strlen(json_string_value(pv)) != json_string_length(pv))
        return refuse(err, AKV_MCP_INVALID_PARAMS,
                      "Invalid params: _meta[\"%s\"] must be a string",
                      META_VERSION);
    const char *want = json_string_value(pv);
    if (h && h->protocol_version.p &&
        !span_is(h->protocol_version, want, strlen(want)))
        return refuse(err, AKV_MCP_HEADER_MISMATCH,
                      "Header mismatch: MCP-Protocol-Version differs from "
                      "_meta[\"%s\"]",
                      META_VERSION);
    if (strcmp(want, AKV_MCP_MODERN_VERSION) != 0) {
        mcp_rpc_fail(err, AKV_MCP_UNSUPPORTED_VERSION,
                     "Unsupported protocol version: %.64s", want);
        err->data = json_pack("{s:o,s:s}", "supported", supported_versions(),
                              "requested", want);
        return MCP_ERA_REFUSED;
    }
    if (!json_is_object(json_object_get(meta, META_CAPS)))
        return refuse(err, AKV_MCP_INVALID_PARAMS,
                      "Invalid params: _meta[\"%s\"] must be an object",
                      META_CAPS);
    json_t *client = json_object_get(meta, META_CLIENT);
    if (client && !json_is_object(client))
        return refuse(err, AKV_MCP_INVALID_PARAMS,
                      "Invalid params: _meta[\"%s\"] must be an object",
                      META_CLIENT);
    if (h) {
        enum mcp_era e = check_headers(h, m, err);
        if (e != MCP_ERA_MODERN)
            return e;
    }
    memcpy(saved, s->version, sizeof s->version);
    snprintf(s->version, sizeof s->version, "%s", AKV_MCP_MODERN_VERSION);
    s->modern = 1;
    return MCP_ERA_MODERN;
}

void mcp_modern_leave(akv_mcp_session *s, const char saved[16])
{
    memcpy(s->version, saved, sizeof s->version);
    s->modern = 0;
}

void mcp_modern_stamp(const char *method, json_t *result)
{
    static const char *const cacheable[] = {
        "tools/list",     "prompts/list",           "resources/list",
        "resources/read", "resources/templates/list", "server/discover",
    };
    json_object_set_new(result, "resultType", json_string("complete"));
    for (size_t i = 0; i < sizeof cacheable / sizeof cacheable[0]; i++)
        if (strcmp(method, cacheable[i]) == 0) {
            json_object_set_new(result, "ttlMs", json_integer(0));
            json_object_set_new(result, "cacheScope", json_string("private"));
        }
    json_t *meta = json_object_get(result, "_meta");
    if (meta == NULL) {
        meta = json_object();
        json_object_set_new(result, "_meta", meta);
    }
    if (json_is_object(meta))
        json_object_set_new(meta, META_SERVER, mcp_server_info());
}

json_t *mcp_server_discover(akv_mcp_session *s, json_t *params,
                            struct mcp_rpc_error *err)
{
    (void)s;
    (void)params;
    json_t *r = json_pack("{s:o,s:o,s:o,s:s}", "supportedVersions",
                          supported_versions(), "capabilities",
                          mcp_server_capabilities(1), "serverInfo",
                          mcp_server_info(), "instructions",
                          mcp_server_instructions);
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/*
 * mcp-resources.c — MCP resources: every instruction set visible to the
 * sandbox as agentkv://instructions/{name} (keys with a '/', a skill's
 * supporting files, are not sets and are not listed), the template
 * agentkv://{scope}/{key} for any entry, and resources/read.
 *
 * A read returns the stored bytes unchanged — as text when they are valid
 * UTF-8, else as a base64 blob — with the same identity the REST API gives
 * them: the entry's sha256, its ETag ("\"<sha256>\"", quotes included),
 * version and expiry travel in the content's _meta. The key part of a URI is
 * percent-decoded and then validated as a key, exactly like the REST path.
 */
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

#define URI_SCHEME "agentkv://"
#define RESOURCES_PAGE 1000

static json_t *time_json(int64_t ms)
{
    char buf[AKV_TIME_BUF];
    return ms ? json_string(akv_time_format(ms, buf)) : json_null();
}

/* The identity of an entry, as REST headers would carry it. */
static json_t *entry_meta(const akv_meta *m)
{
    char etag[AKV_SHA256_HEX + 3];
    snprintf(etag, sizeof etag, "\"%s\"", m->sha256);
    return json_pack("{s:s,s:s,s:I,s:s,s:o}", "agentkv/sha256", m->sha256,
                     "agentkv/etag", etag, "agentkv/version",
                     (json_int_t)m->version, "agentkv/origin", m->origin,
                     "agentkv/expires_at", time_json(m->expires_at));
}

static json_t *instruction_resource(const akv_meta *m)
{
    char *uri = mcp_entry_uri(AKV_SCOPE_INSTRUCTIONS, m->key, m->key_len);
    json_t *r = uri ? json_pack("{s:s,s:s%,s:s,s:I,s:{s:[s],s:o},s:o}",
                                "uri", uri, "name", m->key, m->key_len,
                                "mimeType", m->content_type, "size",
                                (json_int_t)m->size, "annotations",
                                "audience", "assistant", "lastModified",
                                time_json(m->updated_at), "_meta",
                                entry_meta(m))
                    : NULL;
    free(uri);
    if (r && m->metadata) {
        json_t *md = json_loadb(m->metadata, m->metadata_len, JSON_ALLOW_NUL,
                                NULL);
        json_t *d = json_object_get(md, "description");
        if (json_is_string(d))
            json_object_set(r, "description", d);
        json_decref(md);
    }
    return r;
}

json_t *mcp_resources_list(akv_mcp_session *s, json_t *params,
                           struct mcp_rpc_error *err)
{
    json_t *cursor = json_object_get(params, "cursor");
    if (cursor && !json_is_string(cursor))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"cursor\" must be a string");
    akv_list_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.limit = RESOURCES_PAGE;
    if (cursor) {
        lo.cursor = json_string_value(cursor);
        lo.cursor_len = json_string_length(cursor);
    }
    akv_list *list;
    int rc = akv_list_entries(s->store, s->sandbox, AKV_SCOPE_INSTRUCTIONS,
                              &lo, &list);
    if (rc != AKV_OK)
        return mcp_rpc_fail(err, rc == AKV_EINVAL ? AKV_MCP_INVALID_PARAMS
                                                  : AKV_MCP_INTERNAL_ERROR,
                            "%s: %s", akv_err_name(rc),
                            akv_last_error()->message);
    json_t *items = json_array();
    size_t n = akv_list_count(list);
    for (size_t i = 0; items && i < n; i++) {
        const akv_meta *m = akv_list_item(list, i);
        /* NAME/PATH is a file of skill NAME (skill://NAME/PATH), not an
         * instruction set; the template still reaches it. */
        if (memchr(m->key, '/', m->key_len))
            continue;
        if (json_array_append_new(items, instruction_resource(m))) {
            json_decref(items);
            items = NULL;
        }
    }
    const char *next = n > 0 ? akv_list_next_cursor(list) : NULL;
    json_t *r = items ? json_pack("{s:o}", "resources", items) : NULL;
    if (r && next)
        json_object_set_new(r, "nextCursor", json_string(next));
    akv_list_free(list);
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

json_t *mcp_resources_templates(akv_mcp_session *s, json_t *params,
                                struct mcp_rpc_error *err)
{
    (void)s;
    (void)params;
    json_t *r = json_pack(
        "{s:[{s:s,s:s,s:s,s:s}]}", "resourceTemplates", "uriTemplate",
        URI_SCHEME "{scope}/{key}", "name", "entry", "title", "agentkv entry",
        "description",
        "Any entry of this sandbox: scope is one of system, instructions, "
        "project, task, artifacts (system and instructions fall back to the "
        "shared namespace); key is the entry's key, percent-encoded where "
        "needed, '/' kept as is.");
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/* Splits agentkv://SCOPE/KEY into a scope and a percent-decoded key in
 * key[] (AKV_KEY_MAX + 1 bytes). AKV_OK or AKV_EINVAL. */
int mcp_uri_parse(const char *uri, size_t len, akv_scope *scope, char *key,
                  size_t *key_len)
{
    size_t pre = strlen(URI_SCHEME);
    if (len <= pre || memcmp(uri, URI_SCHEME, pre) != 0)
        return AKV_EINVAL;
    const char *p = uri + pre, *end = uri + len;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    if (slash == NULL || akv_scope_parse(p, (size_t)(slash - p), scope))
        return AKV_EINVAL;
    size_t n = 0;
    const char *why;
    p = slash + 1;
    /* No query or fragment in our URIs. */
    if (memchr(p, '?', (size_t)(end - p)) || memchr(p, '#', (size_t)(end - p)))
        return AKV_EINVAL;
    if (akvx_pct_decode(p, (size_t)(end - p), key, AKV_KEY_MAX, &n, &why) != 0)
        return AKV_EINVAL;
    key[n] = '\0';
    *key_len = n;
    return akv_key_check(key, n) == AKV_OK ? AKV_OK : AKV_EINVAL;
}

json_t *mcp_value_content(const char *uri, size_t uri_len,
                          const akv_value *v)
{
    size_t len;
    const void *data = akv_value_data(v, &len);
    json_t *item = json_pack("{s:s%,s:s}", "uri", uri, uri_len, "mimeType",
                             akv_value_meta(v)->content_type);
    json_t *body = NULL;
    if (item && akvx_utf8_valid(data, len)) {
        body = json_stringn(data, len);
    } else if (item) {
        char *b64 = akvx_base64_encode(data, len, NULL);
        body = b64 ? json_string(b64) : NULL;
        free(b64);
    }
    if (body == NULL ||
        json_object_set_new(item, akvx_utf8_valid(data, len) ? "text"
                                                             : "blob",
                            body) != 0) {
        json_decref(item);
        return NULL;
    }
    return item;
}

json_t *mcp_resources_read(akv_mcp_session *s, json_t *params,
                           struct mcp_rpc_error *err)
{
    json_t *juri = json_object_get(params, "uri");
    if (!json_is_string(juri))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"uri\" must be a string");
    const char *uri = json_string_value(juri);
    size_t uri_len = json_string_length(juri);
    if (mcp_skill_uri(uri, uri_len))
        return mcp_skill_read(s, uri, uri_len, err);
    akv_scope scope;
    char key[AKV_KEY_MAX + 1];
    size_t key_len;
    if (mcp_uri_parse(uri, uri_len, &scope, key, &key_len) != AKV_OK) {
        /* No such resource either: the URI goes in the error's data, as
         * for one that parses and is absent (SEP-2164). */
        err->data = json_pack("{s:s%}", "uri", uri, uri_len);
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: not an agentkv://SCOPE/KEY URI "
                            "with a valid scope and key: %.200s", uri);
    }

    akv_value *v;
    int rc = akv_get(s->store, s->sandbox, scope, key, key_len, &v);
    if (rc == AKV_ENOTFOUND && s->modern) {
        /* 2026-07-28: Invalid params, with the URI as the error's data. */
        err->data = json_pack("{s:s%}", "uri", uri, uri_len);
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Resource not found: %.200s", uri);
    }
    if (rc == AKV_ENOTFOUND)
        return mcp_rpc_fail(err, AKV_MCP_RESOURCE_NOT_FOUND,
                            "Resource not found: %.200s", uri);
    if (rc != AKV_OK) {
        mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "%s: %s", akv_err_name(rc),
                     akv_last_error()->message);
        mcp_event_failure(s, rc, scope);
        return NULL;
    }
    if (scope == AKV_SCOPE_INSTRUCTIONS)
        mcp_event(s, AKV_MCP_EVENT_INSTRUCTION, scope, key, key_len);
    json_t *item = mcp_value_content(uri, uri_len, v);
    if (item)
        json_object_set_new(item, "_meta", entry_meta(akv_value_meta(v)));
    akv_value_release(v);
    json_t *r = item ? json_pack("{s:[o]}", "contents", item) : NULL;
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/*
 * mcp-complete.c — completion/complete: argument completion for the
 * resource template agentkv://{scope}/{key} (scope names; the keys of the
 * sandbox's entries in the scope already chosen, given in
 * context.arguments.scope) and for the system_prompt prompt (no argument of
 * it has a closed set of values: an empty completion).
 *
 * At most 100 values, as MCP allows; total and hasMore say when there are
 * more. Key completions are the store's listing with the typed value as
 * the prefix, in key order, so they are as deterministic as kv_list.
 */
#include <string.h>

#include "mcp-internal.h"

#define COMPLETE_MAX 100

static json_t *completion(json_t *values, int more)
{
    size_t n = json_array_size(values);
    return json_pack("{s:{s:o,s:I,s:b}}", "completion", "values", values,
                     "total", (json_int_t)n + (more ? 1 : 0), "hasMore",
                     more);
}

static json_t *complete_scope(const char *value, size_t len)
{
    json_t *values = json_array();
    for (int sc = 0; values && sc < AKV_SCOPE_COUNT; sc++) {
        const char *name = akv_scope_name(sc);
        if (strlen(name) >= len && memcmp(name, value, len) == 0)
            json_array_append_new(values, json_string(name));
    }
    return values ? completion(values, 0) : NULL;
}

static json_t *complete_key(akv_mcp_session *s, json_t *ctx, const char *value,
                            size_t len, struct mcp_rpc_error *err)
{
    json_t *jscope = json_object_get(json_object_get(ctx, "arguments"),
                                     "scope");
    akv_scope scope;
    if (!json_is_string(jscope) ||
        akv_scope_parse(json_string_value(jscope), json_string_length(jscope),
                        &scope) != AKV_OK)
        return completion(json_array(), 0); /* no scope chosen yet */
    akv_list_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.prefix = value;
    lo.prefix_len = len;
    lo.limit = COMPLETE_MAX;
    akv_list *list;
    int rc = akv_list_entries(s->store, s->sandbox, scope, &lo, &list);
    if (rc == AKV_EINVAL)
        return completion(json_array(), 0); /* a prefix no key can have */
    if (rc != AKV_OK)
        return mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "%s: %s",
                            akv_err_name(rc), akv_last_error()->message);
    json_t *values = json_array();
    size_t n = akv_list_count(list);
    for (size_t i = 0; values && i < n; i++) {
        const akv_meta *m = akv_list_item(list, i);
        json_array_append_new(values, json_stringn(m->key, m->key_len));
    }
    int more = n > 0 && akv_list_next_cursor(list) != NULL;
    akv_list_free(list);
    return values ? completion(values, more) : NULL;
}

json_t *mcp_complete(akv_mcp_session *s, json_t *params,
                     struct mcp_rpc_error *err)
{
    json_t *ref = json_object_get(params, "ref");
    json_t *arg = json_object_get(params, "argument");
    json_t *type = json_object_get(ref, "type");
    json_t *aname = json_object_get(arg, "name");
    json_t *aval = json_object_get(arg, "value");
    json_t *ctx = json_object_get(params, "context");
    if (!json_is_object(ref) || !json_is_string(type) ||
        !json_is_object(arg) || !json_is_string(aname) ||
        !json_is_string(aval) || (ctx && !json_is_object(ctx)))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: completion/complete needs "
                            "\"ref\" {type, uri|name} and \"argument\" "
                            "{name, value} (strings)");
    const char *t = json_string_value(type);
    const char *an = json_string_value(aname);
    const char *v = json_string_value(aval);
    size_t vlen = json_string_length(aval);
    json_t *r = NULL;
    if (strcmp(t, "ref/resource") == 0) {
        json_t *uri = json_object_get(ref, "uri");
        if (!json_is_string(uri) ||
            strcmp(json_string_value(uri), "agentkv://{scope}/{key}") != 0)
            return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                                "Invalid params: no resource template %.200s",
                                json_is_string(uri) ? json_string_value(uri)
                                                    : "(not a string)");
        if (strcmp(an, "scope") == 0)
            r = complete_scope(v, vlen);
        else if (strcmp(an, "key") == 0)
            r = complete_key(s, ctx, v, vlen, err);
        else
            return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                                "Invalid params: the template has no "
                                "argument %.100s",
                                an);
        if (r == NULL && err->code)
            return NULL;
    } else if (strcmp(t, "ref/prompt") == 0) {
        json_t *name = json_object_get(ref, "name");
        if (!json_is_string(name) ||
            strcmp(json_string_value(name), "system_prompt") != 0)
            return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                                "Invalid params: no prompt %.200s",
                                json_is_string(name) ? json_string_value(name)
                                                     : "(not a string)");
        r = completion(json_array(), 0);
    } else {
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: ref.type must be ref/resource "
                            "or ref/prompt");
    }
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/*
 * mcp-tools.c — the agent tools of SPEC.md §7 and the memory tool of §9:
 * one table (name, title, description, arguments, hints, handler) from
 * which tools/list, `agentkv tools` and docs/mcp.md are all generated,
 * the handlers, and tools/call.
 *
 * Each handler is a thin call into libagentkv through one of four generic
 * functions (put, get, delete, list: Redis' setGenericCommand pattern), so
 * the fixed-scope tools (put_artifact, get_project_summary, …) and the kv_*
 * tools share every line that touches the store. Results are text: a value
 * as it is stored, everything else as one compact JSON object. A failure is
 * never a protocol error: it is a result with isError set whose text starts
 * with the SPEC.md §2 code ("not_found: no entry …").
 *
 * Fixed places: the project summary lives in scope project under the key
 * "summary"; instructions live in scope instructions under their name.
 * Values written through tools are text, so a write without content_type
 * stores text/plain (text/markdown for instructions and the summary).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "agentkv-tokens.h"
#include "mcp-internal.h"

#define SUMMARY_KEY "summary"
#define LIST_DEFAULT_LIMIT 100

/* ---- result building ---- */

int mcp_call_fail(struct mcp_call *c, int code, const char *fmt, ...)
{
    va_list ap;
    c->err_code = code;
    va_start(ap, fmt);
    vsnprintf(c->err_msg, sizeof c->err_msg, fmt, ap);
    va_end(ap);
    return code;
}

int mcp_call_text(struct mcp_call *c, const char *text, size_t len)
{
    json_t *item = json_pack("{s:s,s:s%}", "type", "text", "text", text, len);
    if (item == NULL || json_array_append_new(c->content, item) != 0)
        return mcp_call_fail(c, AKV_ENOMEM, "out of memory");
    return AKV_OK;
}

int mcp_call_json(struct mcp_call *c, json_t *obj)
{
    size_t len;
    char *text = obj ? mcp_rpc_dump(obj, &len) : NULL;
    int rc = text ? mcp_call_text(c, text, len)
                  : mcp_call_fail(c, AKV_ENOMEM, "out of memory");
    free(text);
    /* Revisions from 2025-06-18 on carry the object itself as well, for
     * clients that read structured results; the text stays for the rest. */
    if (rc == AKV_OK && mcp_version_at_least(c->s, "2025-06-18"))
        json_object_set(c->result, "structuredContent", obj);
    json_decref(obj);
    return rc;
}

int mcp_call_value(struct mcp_call *c, const akv_meta *m, const void *data,
                   size_t len)
{
    int rc;
    if (akvx_utf8_valid(data, len)) {
        rc = mcp_call_text(c, data, len);
    } else {
        /* Bytes that are not UTF-8 cannot be a text item without being
         * altered; an embedded resource carries them exactly. */
        char *b64 = akvx_base64_encode(data, len, NULL);
        char *uri = mcp_entry_uri(m->scope, m->key, m->key_len);
        json_t *item = b64 && uri
                           ? json_pack("{s:s,s:{s:s,s:s,s:s}}", "type",
                                       "resource", "resource", "uri", uri,
                                       "mimeType", m->content_type, "blob",
                                       b64)
                           : NULL;
        free(b64);
        free(uri);
        rc = item && json_array_append_new(c->content, item) == 0
                 ? AKV_OK
                 : mcp_call_fail(c, AKV_ENOMEM, "out of memory");
    }
    /* The entry's metadata travels beside the value, out of the model's
     * way, for clients that want the sha256 or version. */
    json_t *meta = akv_meta_to_json_value(m);
    if (rc == AKV_OK && meta)
        json_object_set_new(c->result, "_meta",
                            json_pack("{s:o}", "agentkv/entry", meta));
    else
        json_decref(meta);
    return rc;
}

/* ---- argument helpers ---- */

static akv_scope arg_scope(const struct mcp_call *c, akv_scope dflt)
{
    size_t n;
    const char *s = mcp_arg_str(c, "scope", &n);
    akv_scope scope = dflt;
    if (s)
        akv_scope_parse(s, n, &scope); /* validated already */
    return scope;
}

static int arg_scope_opt(const struct mcp_call *c)
{
    return mcp_arg_str(c, "scope", NULL) ? (int)arg_scope(c, 0)
                                         : AKV_SCOPE_ALL;
}

/* The ttl argument as seconds, or AKV_TTL_DEFAULT when absent. */
static int64_t arg_ttl(const struct mcp_call *c)
{
    json_t *v = mcp_arg_json(c, "ttl");
    int64_t secs = AKV_TTL_DEFAULT;
    if (json_is_integer(v))
        secs = json_integer_value(v);
    else if (json_is_string(v))
        akv_duration_parse(json_string_value(v), json_string_length(v),
                           &secs); /* validated already */
    return secs;
}

static json_t *time_json(int64_t ms)
{
    char buf[AKV_TIME_BUF];
    return ms ? json_string(akv_time_format(ms, buf)) : json_null();
}

/* Agent tokens write neither the system scope (SPEC.md §1) nor, through
 * the overlay, anything but their own sandbox (the session's). */
static int check_writable(struct mcp_call *c, akv_scope scope)
{
    return c->s->flags & AKV_MCP_AGENT ? akv_scope_check_agent_write(scope)
                                       : AKV_OK;
}

/* ---- the four generic operations ---- */

static int generic_put(struct mcp_call *c, akv_scope scope, const char *key,
                       size_t key_len, const char *value, size_t value_len,
                       const char *default_type, const char *metadata)
{
    int rc = check_writable(c, scope);
    if (rc != AKV_OK)
        return rc;
    akv_put_opts opts;
    akv_put_opts_init(&opts);
    opts.ttl = arg_ttl(c);
    opts.content_type = mcp_arg_str(c, "content_type", NULL);
    if (opts.content_type == NULL)
        opts.content_type = default_type;

    /* The metadata argument arrives parsed; the library takes JSON text
     * and checks the 64 KiB limit itself. */
    char *meta_text = NULL;
    json_t *meta_arg = mcp_arg_json(c, "metadata");
    if (meta_arg)
        meta_text = json_dumps(meta_arg, JSON_COMPACT);
    else if (metadata)
        meta_text = strdup(metadata);
    if ((meta_arg || metadata) && meta_text == NULL)
        return mcp_call_fail(c, AKV_ENOMEM, "out of memory");
    opts.metadata = meta_text;
    opts.metadata_len = meta_text ? strlen(meta_text) : 0;

    akv_meta m;
    int created = 0;
    rc = akv_put(c->s->store, c->s->sandbox, scope, key, key_len, value,
                 value_len, &opts, &m, &created);
    if (rc != AKV_OK)
        mcp_event_failure(c->s, rc, scope);
    if (rc == AKV_OK) {
        json_t *obj = akv_meta_to_json_value(&m); /* before meta_text goes */
        if (obj)
            json_object_set_new(obj, "created", json_boolean(created));
        rc = obj ? mcp_call_json(c, obj)
                 : mcp_call_fail(c, AKV_ENOMEM, "out of memory");
    }
    free(meta_text);
    return rc;
}

static int generic_get(struct mcp_call *c, akv_scope scope, const char *key,
                       size_t key_len)
{
    akv_value *v;
    int rc = akv_get(c->s->store, c->s->sandbox, scope, key, key_len, &v);
    if (rc != AKV_OK) {
        mcp_event_failure(c->s, rc, scope);
        return rc;
    }
    if (scope == AKV_SCOPE_INSTRUCTIONS)
        mcp_event(c->s, AKV_MCP_EVENT_INSTRUCTION, scope, key, key_len);
    size_t len;
    const void *data = akv_value_data(v, &len);
    rc = mcp_call_value(c, akv_value_meta(v), data, len);
    /* The handle pins a read snapshot: give it back at once. */
    akv_value_release(v);
    return rc;
}

static int generic_del(struct mcp_call *c, akv_scope scope, const char *key,
                       size_t key_len)
{
    int rc = check_writable(c, scope);
    if (rc == AKV_OK)
        rc = akv_del(c->s->store, c->s->sandbox, scope, key, key_len);
    if (rc != AKV_OK)
        return rc;
    return mcp_call_json(c, json_pack("{s:b,s:s,s:s%}", "deleted", 1,
                                      "scope", akv_scope_name(scope), "key",
                                      key, key_len));
}

/* One page of a scope's listing. */
static int generic_list(struct mcp_call *c, akv_scope scope)
{
    json_t *limit = mcp_arg_json(c, "limit");
    akv_list_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.prefix = mcp_arg_str(c, "prefix", &lo.prefix_len);
    lo.cursor = mcp_arg_str(c, "cursor", &lo.cursor_len);
    lo.limit = limit ? (size_t)json_integer_value(limit) : LIST_DEFAULT_LIMIT;
    akv_list *list;
    int rc = akv_list_entries(c->s->store, c->s->sandbox, scope, &lo, &list);
    if (rc != AKV_OK)
        return rc;
    json_t *items = json_array();
    size_t n = akv_list_count(list);
    for (size_t i = 0; items && i < n; i++) {
        const akv_meta *m = akv_list_item(list, i);
        json_t *item = json_pack(
            "{s:s%,s:I,s:s,s:I,s:o,s:o}", "key", m->key, m->key_len, "size",
            (json_int_t)m->size, "content_type", m->content_type, "version",
            (json_int_t)m->version, "updated_at", time_json(m->updated_at),
            "expires_at", time_json(m->expires_at));
        /* In overlay scopes the origin says whose entry it is. */
        if (item && akv_scope_is_overlay(scope))
            json_object_set_new(item, "origin", json_string(m->origin));
        if (item == NULL || json_array_append_new(items, item) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    const char *next = n > 0 ? akv_list_next_cursor(list) : NULL;
    json_t *obj = items ? json_pack("{s:s,s:o,s:o}", "scope",
                                    akv_scope_name(scope), "items", items,
                                    "next_cursor",
                                    next ? json_string(next) : json_null())
                        : NULL;
    akv_list_free(list);
    return obj ? mcp_call_json(c, obj)
               : mcp_call_fail(c, AKV_ENOMEM, "out of memory");
}

/* ---- the handlers ---- */

static int tool_get_instruction(struct mcp_call *c)
{
    size_t n;
    const char *name = mcp_arg_str(c, "name", &n);
    int rc = generic_get(c, AKV_SCOPE_INSTRUCTIONS, name, n);
    /* One fetch for the fetch rates of `prompt advise`; a count that cannot
     * be written does not fail the read. */
    if (rc == AKV_OK)
        akv_usage_record(c->s->store, c->s->sandbox, name);
    return rc;
}

/* The catalog exactly as GET /v1/sandboxes/{sb}/instructions gives it. */
static int tool_list_instructions(struct mcp_call *c)
{
    akv_instructions *list;
    int rc = akv_instructions_list(c->s->store, c->s->sandbox, &list);
    if (rc != AKV_OK)
        return rc;
    char *text = akv_instructions_to_json(list, c->s->sandbox);
    akv_instructions_free(list);
    json_t *obj = text ? json_loads(text, JSON_ALLOW_NUL, NULL) : NULL;
    free(text);
    return obj ? mcp_call_json(c, obj)
               : mcp_call_fail(c, AKV_ENOMEM, "out of memory");
}

/* Ranked search of the instruction sets: what GET .../search gives. */
static int tool_search_instructions(struct mcp_call *c)
{
    size_t n;
    const char *q = mcp_arg_str(c, "query", &n);
    json_t *limit = mcp_arg_json(c, "limit");
    akv_search_opts o;
    akv_search_opts_init(&o);
    if (limit) {
        json_int_t l = json_integer_value(limit);
        if (l < 1 || l > AKV_SEARCH_LIMIT_MAX)
            return mcp_call_fail(c, AKV_EINVAL, "limit: 1 to %d results",
                                 AKV_SEARCH_LIMIT_MAX);
        o.limit = (size_t)l;
    }
    akv_search_result *r;
    int rc = akv_search(c->s->store, c->s->sandbox, q, n, &o, &r);
    if (rc != AKV_OK)
        return rc;
    json_t *obj = akv_search_to_json_value(r, c->s->sandbox, o.scope);
    akv_search_free(r);
    return obj ? mcp_call_json(c, obj)
               : mcp_call_fail(c, AKV_ENOMEM, "out of memory");
}

static int tool_put_instruction(struct mcp_call *c)
{
    size_t n, len, dlen;
    const char *name = mcp_arg_str(c, "name", &n);
    const char *content = mcp_arg_str(c, "content", &len);
    const char *desc = mcp_arg_str(c, "description", &dlen);

    /* Metadata as seeding writes it (SPEC.md §5), less what only a file
     * has: the description, "mcp" as the source, and the token count, so
     * that the catalog never has to read the value to count it. Without
     * the tokenizer's data the count is left out; the catalog then counts
     * when it needs to. */
    json_t *md = json_pack("{s:s}", "source", "mcp");
    if (md && desc)
        json_object_set_new(md, "description", json_stringn(desc, dlen));
    const akv_encoding *enc;
    size_t tokens;
    if (md && akv_encoding_load(NULL, &enc) == AKV_OK &&
        akv_tokens_count(enc, content, len, &tokens) == AKV_OK)
        json_object_set_new(md, "tokens", json_integer((json_int_t)tokens));
    char *md_text = md ? json_dumps(md, JSON_COMPACT) : NULL;
    json_decref(md);
    if (md_text == NULL)
        return mcp_call_fail(c, AKV_ENOMEM, "out of memory");
    int rc = generic_put(c, AKV_SCOPE_INSTRUCTIONS, name, n, content, len,
                         "text/markdown", md_text);
    free(md_text);
    return rc;
}

static int tool_put_artifact(struct mcp_call *c)
{
    size_t n, len;
    const char *key = mcp_arg_str(c, "key", &n);
    const char *value = mcp_arg_str(c, "value", &len);
    return generic_put(c, AKV_SCOPE_ARTIFACTS, key, n, value, len,
                       "text/plain", NULL);
}

static int tool_get_artifact(struct mcp_call *c)
{
    size_t n;
    const char *key = mcp_arg_str(c, "key", &n);
    return generic_get(c, AKV_SCOPE_ARTIFACTS, key, n);
}

static int tool_list_artifacts(struct mcp_call *c)
{
    return generic_list(c, AKV_SCOPE_ARTIFACTS);
}

static int tool_delete_artifact(struct mcp_call *c)
{
    size_t n;
    const char *key = mcp_arg_str(c, "key", &n);
    return generic_del(c, AKV_SCOPE_ARTIFACTS, key, n);
}

static int tool_put_project_summary(struct mcp_call *c)
{
    size_t len;
    const char *summary = mcp_arg_str(c, "summary", &len);
    return generic_put(c, AKV_SCOPE_PROJECT, SUMMARY_KEY,
                       strlen(SUMMARY_KEY), summary, len, "text/markdown",
                       NULL);
}

static int tool_get_project_summary(struct mcp_call *c)
{
    return generic_get(c, AKV_SCOPE_PROJECT, SUMMARY_KEY,
                       strlen(SUMMARY_KEY));
}

static int tool_kv_put(struct mcp_call *c)
{
    size_t n, len;
    const char *key = mcp_arg_str(c, "key", &n);
    const char *value = mcp_arg_str(c, "value", &len);
    return generic_put(c, arg_scope(c, AKV_SCOPE_TASK), key, n, value, len,
                       "text/plain", NULL);
}

static int tool_kv_get(struct mcp_call *c)
{
    size_t n;
    const char *key = mcp_arg_str(c, "key", &n);
    return generic_get(c, arg_scope(c, AKV_SCOPE_TASK), key, n);
}

static int tool_kv_delete(struct mcp_call *c)
{
    size_t n;
    const char *key = mcp_arg_str(c, "key", &n);
    return generic_del(c, arg_scope(c, AKV_SCOPE_TASK), key, n);
}

static int tool_kv_list(struct mcp_call *c)
{
    return generic_list(c, arg_scope(c, AKV_SCOPE_TASK));
}

static int tool_cache_stats(struct mcp_call *c)
{
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n = 0;
    int rc = akv_stats(c->s->store, c->s->sandbox, arg_scope_opt(c), rows,
                       &n);
    if (rc != AKV_OK)
        return rc;
    json_t *scopes = akv_stats_to_json_value(rows, n);
    return scopes ? mcp_call_json(c, json_pack("{s:s,s:o}", "sandbox",
                                               c->s->sandbox, "scopes",
                                               scopes))
                  : mcp_call_fail(c, AKV_ENOMEM, "out of memory");
}

static int tool_prune_cache(struct mcp_call *c)
{
    uint64_t pruned[AKV_SCOPE_COUNT] = {0};
    int scope = arg_scope_opt(c);
    int rc = akv_prune(c->s->store, c->s->sandbox, scope, pruned);
    if (rc != AKV_OK)
        return rc;
    json_t *o = akv_prune_to_json_value(pruned, scope);
    return o ? mcp_call_json(c, o)
             : mcp_call_fail(c, AKV_ENOMEM, "out of memory");
}

/* Anthropic's memory tool (memory_20250818) in the project scope: the
 * validated arguments are the command, which akv_memory executes. */
static int tool_memory(struct mcp_call *c)
{
    int rc = check_writable(c, AKV_SCOPE_PROJECT);
    if (rc != AKV_OK)
        return rc;
    size_t len = 2;
    char *cmd = c->args ? mcp_rpc_dump(c->args, &len) : strdup("{}");
    if (cmd == NULL)
        return mcp_call_fail(c, AKV_ENOMEM, "out of memory");
    char *text = NULL;
    rc = akv_memory(c->s->store, c->s->sandbox, AKV_SCOPE_PROJECT, cmd, len,
                    &text);
    free(cmd);
    if (rc == AKV_OK)
        rc = mcp_call_text(c, text, strlen(text));
    else if (text)
        rc = mcp_call_fail(c, rc, "%s", text);
    free(text);
    return rc;
}

/* ---- the table ---- */

#define ARG_END {.name = NULL}
#define KEY_HELP                                                             \
    "key: 1-255 bytes of UTF-8, '/' separates segments (no empty, '.' or "   \
    "'..' segment, no leading or trailing '/', no control characters or "    \
    "backslash)"
#define TTL_HELP                                                             \
    "time to live: \"45s\", \"15m\", \"24h\", \"7d\", whole seconds such as " \
    "\"3600\", or \"never\"; default: the scope's default TTL"
#define SCOPE_HELP                                                           \
    "scope: system and instructions read the sandbox first, then the "       \
    "shared _global namespace; project (default TTL 72h), task (24h) and "   \
    "artifacts (48h) are per sandbox"
#define PREFIX_HELP "only keys that start with this prefix"
#define LIMIT_HELP "at most this many entries (default 100)"
#define CURSOR_HELP "next_cursor of the previous page, to continue a listing"

static const struct mcp_arg args_none[] = {ARG_END};
static const struct mcp_arg args_name_get[] = {
    {.name = "name", .kind = MCP_ARG_KEY, .required = 1,
     .description = "instruction set name, as list_instructions shows it"},
    ARG_END};
static const struct mcp_arg args_search[] = {
    {.name = "query", .kind = MCP_ARG_STRING, .required = 1,
     .description = "words to look for (1-32 words, at most 1024 bytes)"},
    {.name = "limit", .kind = MCP_ARG_INTEGER, .required = 0,
     .description = "at most this many results, 1-100 (default 10)"},
    ARG_END};
static const struct mcp_arg args_put_instruction[] = {
    {.name = "name", .kind = MCP_ARG_NAME, .required = 1,
     .description = "instruction set name: 1-64 of a-z, 0-9, _ and -"},
    {.name = "content", .kind = MCP_ARG_STRING, .required = 1,
     .description = "the instruction text (Markdown)"},
    {.name = "description", .kind = MCP_ARG_STRING, .required = 0,
     .description = "one sentence that tells an agent when to load this set"},
    ARG_END};
static const struct mcp_arg args_put_artifact[] = {
    {.name = "key", .kind = MCP_ARG_KEY, .required = 1,
     .description = KEY_HELP},
    {.name = "value", .kind = MCP_ARG_STRING, .required = 1,
     .description = "the content to store (text)"},
    {.name = "ttl", .kind = MCP_ARG_TTL, .required = 0,
     .description = TTL_HELP},
    {.name = "content_type", .kind = MCP_ARG_CONTENT_TYPE, .required = 0,
     .description = "MIME type of the value; default text/plain"},
    {.name = "metadata", .kind = MCP_ARG_OBJECT, .required = 0,
     .description = "any JSON object (at most 64 KiB) stored with the entry"},
    ARG_END};
static const struct mcp_arg args_key[] = {
    {.name = "key", .kind = MCP_ARG_KEY, .required = 1,
     .description = KEY_HELP},
    ARG_END};
static const struct mcp_arg args_list[] = {
    {.name = "prefix", .kind = MCP_ARG_PREFIX, .required = 0,
     .description = PREFIX_HELP},
    {.name = "limit", .kind = MCP_ARG_LIMIT, .required = 0,
     .description = LIMIT_HELP},
    {.name = "cursor", .kind = MCP_ARG_CURSOR, .required = 0,
     .description = CURSOR_HELP},
    ARG_END};
static const struct mcp_arg args_summary[] = {
    {.name = "summary", .kind = MCP_ARG_STRING, .required = 1,
     .description = "the project summary (Markdown)"},
    ARG_END};
static const struct mcp_arg args_kv_put[] = {
    {.name = "scope", .kind = MCP_ARG_SCOPE, .required = 1,
     .description = SCOPE_HELP},
    {.name = "key", .kind = MCP_ARG_KEY, .required = 1,
     .description = KEY_HELP},
    {.name = "value", .kind = MCP_ARG_STRING, .required = 1,
     .description = "the content to store (text)"},
    {.name = "ttl", .kind = MCP_ARG_TTL, .required = 0,
     .description = TTL_HELP},
    ARG_END};
static const struct mcp_arg args_scope_key[] = {
    {.name = "scope", .kind = MCP_ARG_SCOPE, .required = 1,
     .description = SCOPE_HELP},
    {.name = "key", .kind = MCP_ARG_KEY, .required = 1,
     .description = KEY_HELP},
    ARG_END};
static const struct mcp_arg args_kv_list[] = {
    {.name = "scope", .kind = MCP_ARG_SCOPE, .required = 1,
     .description = SCOPE_HELP},
    {.name = "prefix", .kind = MCP_ARG_PREFIX, .required = 0,
     .description = PREFIX_HELP},
    {.name = "limit", .kind = MCP_ARG_LIMIT, .required = 0,
     .description = LIMIT_HELP},
    {.name = "cursor", .kind = MCP_ARG_CURSOR, .required = 0,
     .description = CURSOR_HELP},
    ARG_END};
static const struct mcp_arg args_scope_opt[] = {
    {.name = "scope", .kind = MCP_ARG_SCOPE, .required = 0,
     .description = "one scope; default: every scope"},
    ARG_END};

static const struct mcp_arg args_memory[] = {
    {.name = "command", .kind = MCP_ARG_STRING, .required = 1,
     .description = "view, create, str_replace, insert, delete or rename"},
    {.name = "path", .kind = MCP_ARG_STRING, .required = 0,
     .description = "/memories or a path under it (all but rename)"},
    {.name = "view_range", .kind = MCP_ARG_RANGE, .required = 0,
     .description = "view: [start, end] lines, 1-based; end -1 = last"},
    {.name = "file_text", .kind = MCP_ARG_STRING, .required = 0,
     .description = "create: the file's content"},
    {.name = "old_str", .kind = MCP_ARG_STRING, .required = 0,
     .description = "str_replace: text that occurs exactly once"},
    {.name = "new_str", .kind = MCP_ARG_STRING, .required = 0,
     .description = "str_replace: its replacement"},
    {.name = "insert_line", .kind = MCP_ARG_INTEGER, .required = 0,
     .description = "insert: after this line (0 = at the top)"},
    {.name = "insert_text", .kind = MCP_ARG_STRING, .required = 0,
     .description = "insert: the text to insert"},
    {.name = "old_path", .kind = MCP_ARG_STRING, .required = 0,
     .description = "rename: the file or directory to move"},
    {.name = "new_path", .kind = MCP_ARG_STRING, .required = 0,
     .description = "rename: its new path (must not exist)"},
    ARG_END};

#define RO (MCP_READ_ONLY | MCP_IDEMPOTENT)
#define WRITE (MCP_DESTRUCTIVE | MCP_IDEMPOTENT)

/* tools/list order: instructions first (what an agent needs first), then
 * artifacts, the project summary, generic access, maintenance. Never
 * reorder casually: clients and provider prompt caches see this order. */
const struct mcp_tool mcp_tools[] = {
    {
        .name = "get_instruction",
        .title = "Get instruction set",
        .description =
        "Returns the full text of one instruction set. Instruction sets are "
        "not in your prompt: load one when the catalog (list_instructions) "
        "says it applies to the task at hand.",
        .args = args_name_get,
        .hints = RO,
        .run = tool_get_instruction,
    },
    {
        .name = "list_instructions",
        .title = "List instruction sets",
        .description =
        "Lists the instruction sets available to you (the sandbox's own and "
        "the shared ones): name, description, version and token count.",
        .args = args_none,
        .hints = RO,
        .run = tool_list_instructions,
    },
    {
        .name = "search_instructions",
        .title = "Search instruction sets",
        .description =
        "Finds instruction sets by words of their name, description and "
        "text, best match first: use it when the catalog in your prompt "
        "does not list a set for the task. Returns name, description, "
        "tokens and score; load one with get_instruction.",
        .args = args_search,
        .hints = RO,
        .run = tool_search_instructions,
    },
    {
        .name = "put_instruction",
        .title = "Save instruction set",
        .description =
        "Creates or replaces an instruction set in this sandbox (scope "
        "instructions, key = name). It then overrides a shared set of the "
        "same name for this sandbox.",
        .args = args_put_instruction,
        .hints = WRITE,
        .run = tool_put_instruction,
    },
    {
        .name = "put_artifact",
        .title = "Save artifact",
        .description =
        "Stores a generated artifact (report, code, data) under a key in "
        "scope artifacts, replacing any previous value. Expires after 48h "
        "unless ttl says otherwise. Returns the entry's metadata.",
        .args = args_put_artifact,
        .hints = WRITE,
        .run = tool_put_artifact,
    },
    {
        .name = "get_artifact",
        .title = "Get artifact",
        .description =
        "Returns the content of an artifact stored with put_artifact.",
        .args = args_key,
        .hints = RO,
        .run = tool_get_artifact,
    },
    {
        .name = "list_artifacts",
        .title = "List artifacts",
        .description =
        "Lists stored artifacts in key order: key, size, content type, "
        "version, update and expiry times. Pages with limit and next_cursor.",
        .args = args_list,
        .hints = RO,
        .run = tool_list_artifacts,
    },
    {
        .name = "delete_artifact",
        .title = "Delete artifact",
        .description =
        "Deletes an artifact. Fails with not_found if there is none.",
        .args = args_key,
        .hints = MCP_DESTRUCTIVE | MCP_IDEMPOTENT,
        .run = tool_delete_artifact,
    },
    {
        .name = "put_project_summary",
        .title = "Save project summary",
        .description =
        "Replaces the project's running summary (scope project, key "
        "\"summary\"): what the project is, decisions taken, open work. Keep "
        "it short and current.",
        .args = args_summary,
        .hints = WRITE,
        .run = tool_put_project_summary,
    },
    {
        .name = "get_project_summary",
        .title = "Get project summary",
        .description =
        "Returns the project's running summary written by "
        "put_project_summary, or not_found if there is none yet.",
        .args = args_none,
        .hints = RO,
        .run = tool_get_project_summary,
    },
    {
        .name = "kv_put",
        .title = "Put value",
        .description =
        "Stores a value under a key in any scope, replacing any previous "
        "value. Use task for working state, project for facts that outlive a "
        "task. Returns the entry's metadata.",
        .args = args_kv_put,
        .hints = WRITE,
        .run = tool_kv_put,
    },
    {
        .name = "kv_get",
        .title = "Get value",
        .description =
        "Returns the value stored under a key in a scope (system and "
        "instructions fall back to the shared namespace).",
        .args = args_scope_key,
        .hints = RO,
        .run = tool_kv_get,
    },
    {
        .name = "kv_delete",
        .title = "Delete value",
        .description =
        "Deletes the sandbox's own entry under a key in a scope. Fails with "
        "not_found if there is none.",
        .args = args_scope_key,
        .hints = MCP_DESTRUCTIVE | MCP_IDEMPOTENT,
        .run = tool_kv_delete,
    },
    {
        .name = "kv_list",
        .title = "List keys",
        .description =
        "Lists the entries of a scope in key order: key, size, content type, "
        "version, update and expiry times. Pages with limit and next_cursor.",
        .args = args_kv_list,
        .hints = RO,
        .run = tool_kv_list,
    },
    {
        .name = "cache_stats",
        .title = "Cache statistics",
        .description =
        "Shows per-scope usage of this sandbox: entries, bytes against quota, "
        "expired entries awaiting pruning, hits and misses, default TTL.",
        .args = args_scope_opt,
        .hints = RO,
        .run = tool_cache_stats,
    },
    {
        .name = "prune_cache",
        .title = "Prune expired entries",
        .description =
        "Removes this sandbox's expired entries (already invisible to reads) "
        "and reports how many per scope.",
        .args = args_scope_opt,
        .hints = MCP_IDEMPOTENT,
        .run = tool_prune_cache,
    },
    {
        .name = "memory",
        .title = "Memory files",
        .description =
        "Anthropic's memory tool (memory_20250818): view, create, "
        "str_replace, insert, delete and rename files under /memories, kept "
        "in this sandbox's project scope. Check /memories before starting a "
        "task; record progress and lessons there as you go. Edits are atomic "
        "and never lose a concurrent change.",
        .args = args_memory,
        .hints = MCP_DESTRUCTIVE,
        .run = tool_memory,
    },
};
const size_t mcp_ntools = sizeof mcp_tools / sizeof mcp_tools[0];

const struct mcp_tool *mcp_tool_find(const char *name)
{
    for (size_t i = 0; i < mcp_ntools; i++)
        if (strcmp(mcp_tools[i].name, name) == 0)
            return &mcp_tools[i];
    return NULL;
}

json_t *mcp_tool_definition(const struct mcp_tool *t)
{
    return json_pack("{s:s,s:s,s:s,s:o,s:{s:s,s:b,s:b,s:b,s:b}}", "name",
                     t->name, "title", t->title, "description",
                     t->description, "inputSchema", mcp_args_schema(t),
                     "annotations", "title", t->title, "readOnlyHint",
                     (t->hints & MCP_READ_ONLY) != 0, "destructiveHint",
                     (t->hints & MCP_DESTRUCTIVE) != 0, "idempotentHint",
                     (t->hints & MCP_IDEMPOTENT) != 0, "openWorldHint", 0);
}

/* ---- the methods ---- */

json_t *mcp_tools_list(akv_mcp_session *s, json_t *params,
                       struct mcp_rpc_error *err)
{
    (void)s;
    /* One page holds every tool, so no cursor was ever issued. */
    if (json_object_get(params, "cursor") != NULL)
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: unknown cursor");
    json_t *tools = json_array();
    for (size_t i = 0; tools && i < mcp_ntools; i++)
        if (json_array_append_new(tools, mcp_tool_definition(&mcp_tools[i]))) {
            json_decref(tools);
            tools = NULL;
        }
    json_t *r = tools ? json_pack("{s:o}", "tools", tools) : NULL;
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/* Replaces whatever the handler added with one error text. */
static void call_error(struct mcp_call *c, int rc)
{
    const akv_error *le = akv_last_error();
    const char *msg = c->err_code == rc && c->err_msg[0] ? c->err_msg
                      : le->code == rc && le->message[0] ? le->message
                                                         : akv_strerror(rc);
    char text[sizeof c->err_msg + 64];
    snprintf(text, sizeof text, "%s: %s", akv_err_name(rc), msg);
    json_array_clear(c->content);
    json_object_del(c->result, "structuredContent");
    json_object_del(c->result, "_meta");
    json_array_append_new(c->content, json_pack("{s:s,s:s}", "type", "text",
                                                 "text", text));
    json_object_set_new(c->result, "isError", json_true());
    /* The same failure as a log message, at its severity: a damaged entry
     * or an unusable store matter more than a missing key. */
    enum mcp_log_level level =
        rc == AKV_EINTEGRITY                         ? MCP_LOG_CRITICAL
        : rc == AKV_EUNAVAILABLE || rc == AKV_ENOMEM ? MCP_LOG_ERROR
        : rc == AKV_EQUOTA                           ? MCP_LOG_WARNING
                                                     : MCP_LOG_INFO;
    mcp_log(c->s, level,
            json_pack("{s:s,s:s,s:s}", "tool", c->tool->name, "error",
                      akv_err_name(rc), "message", msg));
}

json_t *mcp_tools_call(akv_mcp_session *s, json_t *params,
                       struct mcp_rpc_error *err)
{
    json_t *name = json_object_get(params, "name");
    json_t *args = json_object_get(params, "arguments");
    if (!json_is_string(name))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"name\" must be a string");
    const struct mcp_tool *t = mcp_tool_find(json_string_value(name));
    if (t == NULL || strlen(json_string_value(name)) != json_string_length(name))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: unknown tool \"%.64s\"",
                            json_string_value(name));
    if (args != NULL && !json_is_object(args) && !json_is_null(args))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"arguments\" must be an "
                            "object");

    struct mcp_call c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.tool = t;
    c.args = json_is_object(args) ? args : NULL;
    c.content = json_array();
    c.result = json_pack("{s:o}", "content", c.content);
    if (c.result == NULL)
        return mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");

    int rc = mcp_args_check(t, c.args, c.err_msg, sizeof c.err_msg);
    if (rc != AKV_OK)
        c.err_code = rc;
    else
        rc = t->run(&c);
    if (rc != AKV_OK)
        call_error(&c, rc);
    return c.result;
}

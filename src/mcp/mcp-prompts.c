/*
 * mcp-prompts.c — MCP prompts: one prompt, system_prompt, the
 * reference-mode system prompt of SPEC.md §6 for the session's sandbox: a
 * catalog of the visible instruction sets that tells the model to load a
 * set with get_instruction when it needs it, instead of carrying every set
 * in the prompt.
 *
 * The catalog is deterministic (sorted by name, no timestamps) so that
 * provider prompt caches keep hitting.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

#define PROMPT_NAME "system_prompt"

json_t *mcp_prompts_list(akv_mcp_session *s, json_t *params,
                         struct mcp_rpc_error *err)
{
    (void)s;
    if (json_object_get(params, "cursor") != NULL)
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: unknown cursor");
    json_t *r = json_pack(
        "{s:[{s:s,s:s,s:s,s:[]}]}", "prompts", "name", PROMPT_NAME, "title",
        "agentkv system prompt", "description",
        "The reference-mode system prompt: a catalog of the instruction sets "
        "available to this sandbox, each loaded on demand with "
        "get_instruction. Use it as (or append it to) the system prompt.",
        "arguments");
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/* A growing text buffer; on failure it stays NULL and appends are no-ops. */
struct buf {
    char *p;
    size_t len, cap;
    int failed;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* One catalog line: "- name (version V, T tokens): description". Line
 * breaks inside a description are flattened so each set stays one line. */
static void catalog_line(struct buf *b, const akv_meta *m)
{
    char head[128];
    buf_str(b, "- ");
    buf_add(b, m->key, m->key_len);
    json_t *md = m->metadata ? json_loadb(m->metadata, m->metadata_len,
                                          JSON_ALLOW_NUL, NULL)
                             : NULL;
    json_t *tokens = json_object_get(md, "tokens");
    json_t *desc = json_object_get(md, "description");
    if (json_is_integer(tokens))
        snprintf(head, sizeof head, " (version %" PRIu64 ", %" PRId64
                 " tokens)", m->version, (int64_t)json_integer_value(tokens));
    else
        snprintf(head, sizeof head, " (version %" PRIu64 ", %" PRIu64
                 " bytes)", m->version, m->size);
    buf_str(b, head);
    if (json_is_string(desc) && json_string_length(desc) > 0) {
        buf_str(b, ": ");
        const char *d = json_string_value(desc);
        size_t n = json_string_length(desc);
        for (size_t i = 0; i < n; i++)
            buf_add(b, (d[i] == '\n' || d[i] == '\r' || d[i] == '\0') ? " "
                                                                      : d + i,
                    1);
    }
    buf_str(b, "\n");
    json_decref(md);
}

/* The reference-mode prompt of the sandbox. AKV_OK and an owned text. */
static int reference_prompt(akv_mcp_session *s, char **out, size_t *len)
{
    struct buf b = {NULL, 0, 0, 0};
    buf_str(&b,
            "# Instruction sets\n\n"
            "The instruction sets below are not part of this prompt. When a "
            "task matches a set's description, load the set with the "
            "get_instruction tool (argument: its name) and follow it.\n\n");
    char *cursor = NULL;
    size_t listed = 0;
    int rc = AKV_OK;
    do {
        akv_list_opts lo;
        memset(&lo, 0, sizeof lo);
        lo.limit = AKV_LIST_MAX_LIMIT;
        lo.cursor = cursor;
        lo.cursor_len = cursor ? strlen(cursor) : 0;
        akv_list *list;
        rc = akv_list_entries(s->store, s->sandbox, AKV_SCOPE_INSTRUCTIONS,
                              &lo, &list);
        free(cursor);
        cursor = NULL;
        if (rc != AKV_OK)
            break;
        size_t n = akv_list_count(list);
        for (size_t i = 0; i < n; i++)
            catalog_line(&b, akv_list_item(list, i));
        listed += n;
        const char *next = n > 0 ? akv_list_next_cursor(list) : NULL;
        if (next && (cursor = strdup(next)) == NULL)
            rc = AKV_ENOMEM;
        akv_list_free(list);
    } while (rc == AKV_OK && cursor);
    free(cursor);
    if (rc == AKV_OK && listed == 0)
        buf_str(&b, "(none yet)\n");
    if (rc == AKV_OK && b.failed)
        rc = AKV_ENOMEM;
    if (rc != AKV_OK) {
        free(b.p);
        return rc;
    }
    *out = b.p;
    *len = b.len;
    return AKV_OK;
}

json_t *mcp_prompts_get(akv_mcp_session *s, json_t *params,
                        struct mcp_rpc_error *err)
{
    json_t *name = json_object_get(params, "name");
    json_t *args = json_object_get(params, "arguments");
    if (!json_is_string(name))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"name\" must be a string");
    if (strcmp(json_string_value(name), PROMPT_NAME) != 0 ||
        json_string_length(name) != strlen(PROMPT_NAME))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: unknown prompt \"%.64s\"",
                            json_string_value(name));
    if (args && !json_is_object(args))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"arguments\" must be an "
                            "object");
    if (json_object_size(args) > 0)
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: %s takes no arguments",
                            PROMPT_NAME);
    char *text;
    size_t len;
    int rc = reference_prompt(s, &text, &len);
    if (rc != AKV_OK)
        return mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "%s: %s",
                            akv_err_name(rc), akv_last_error()->message);
    /* MCP prompt messages are user or assistant turns; the description
     * says this one is meant as the system prompt. */
    char desc[128];
    snprintf(desc, sizeof desc, "Reference-mode system prompt of sandbox %s",
             s->sandbox);
    json_t *r = json_pack("{s:s,s:[{s:s,s:{s:s,s:s%}}]}", "description",
                          desc, "messages", "role", "user", "content", "type",
                          "text", "text", text, len);
    free(text);
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/*
 * mcp-format.c — the tool table rendered for other consumers: the MCP
 * tools/list array, OpenAI (Chat Completions and the flat form of the
 * Responses API) and Anthropic function-calling definitions
 * (`agentkv tools --format …`, for platforms without MCP), and the Markdown
 * tool reference that docs/mcp.md embeds (a test compares the two, so the
 * document cannot drift from the table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

int akv_mcp_format_parse(const char *name, akv_mcp_format *out)
{
    /* Indexed by akv_mcp_format. */
    static const char *const names[] = {"mcp", "openai", "anthropic",
                                        "markdown", "openai-responses"};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (akv_mcp_format)i;
            return AKV_OK;
        }
    return AKV_EINVAL;
}

static json_t *tool_json(const struct mcp_tool *t, akv_mcp_format format)
{
    switch (format) {
    case AKV_MCP_FORMAT_OPENAI:
        return json_pack("{s:s,s:{s:s,s:s,s:o}}", "type", "function",
                         "function", "name", t->name, "description",
                         t->description, "parameters", mcp_args_schema(t));
    case AKV_MCP_FORMAT_OPENAI_RESPONSES:
        return json_pack("{s:s,s:s,s:s,s:o}", "type", "function", "name",
                         t->name, "description", t->description,
                         "parameters", mcp_args_schema(t));
    case AKV_MCP_FORMAT_ANTHROPIC:
        return json_pack("{s:s,s:s,s:o}", "name", t->name, "description",
                         t->description, "input_schema", mcp_args_schema(t));
    case AKV_MCP_FORMAT_MCP:
    default:
        return mcp_tool_definition(t);
    }
}

static const char *kind_text(enum mcp_arg_kind kind)
{
    switch (kind) {
    case MCP_ARG_KEY: return "key";
    case MCP_ARG_NAME: return "name `[a-z0-9_-]{1,64}`";
    case MCP_ARG_PREFIX: return "string";
    case MCP_ARG_SCOPE: return "scope";
    case MCP_ARG_TTL: return "duration or seconds";
    case MCP_ARG_OBJECT: return "object";
    case MCP_ARG_LIMIT: return "integer 1-10000";
    case MCP_ARG_CURSOR: return "string";
    case MCP_ARG_CONTENT_TYPE: return "MIME type";
    case MCP_ARG_INTEGER: return "integer";
    case MCP_ARG_RANGE: return "[start, end]";
    case MCP_ARG_STRING:
    default: return "string";
    }
}

/* Appends printf output to a growing string; *s is NULL after a failure. */
static void add(char **s, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add(char **s, size_t *len, const char *fmt, ...)
{
    if (*s == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n >= 0 ? realloc(*s, *len + (size_t)n + 1) : NULL;
    if (p == NULL) {
        free(*s);
        *s = NULL;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(p + *len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *s = p;
    *len += (size_t)n;
}

static char *render_markdown(void)
{
    size_t len = 0;
    char *s = calloc(1, 1);
    for (size_t i = 0; i < mcp_ntools; i++) {
        const struct mcp_tool *t = &mcp_tools[i];
        add(&s, &len, "### `%s`\n\n%s. %s\n\n", t->name, t->title,
            t->description);
        add(&s, &len, "Hints: %s%s%s.\n\n",
            (t->hints & MCP_READ_ONLY) ? "read-only" : "writes",
            (t->hints & MCP_DESTRUCTIVE) ? ", destructive" : "",
            (t->hints & MCP_IDEMPOTENT) ? ", idempotent" : "");
        if (t->args[0].name == NULL) {
            add(&s, &len, "No arguments.\n\n");
            continue;
        }
        add(&s, &len, "| argument | type | required | description |\n"
                      "|---|---|---|---|\n");
        for (const struct mcp_arg *a = t->args; a->name; a++)
            add(&s, &len, "| `%s` | %s | %s | %s |\n", a->name,
                kind_text(a->kind), a->required ? "yes" : "no",
                a->description);
        add(&s, &len, "\n");
    }
    return s;
}

char *akv_mcp_tools_render(akv_mcp_format format)
{
    if (format == AKV_MCP_FORMAT_MARKDOWN)
        return render_markdown();
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < mcp_ntools; i++)
        if (json_array_append_new(arr, tool_json(&mcp_tools[i], format))) {
            json_decref(arr);
            arr = NULL;
        }
    char *text = arr ? json_dumps(arr, JSON_INDENT(2)) : NULL;
    json_decref(arr);
    return text;
}

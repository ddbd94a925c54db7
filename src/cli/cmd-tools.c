/*
 * cmd-tools.c — `agentkv tools --format
 * openai|openai-responses|anthropic|mcp|markdown`:
 * prints the agent tools of SPEC.md §7 as function-calling definitions for
 * platforms without MCP. Everything comes from the MCP layer's tool table,
 * the same one tools/list answers from, so the two never differ.
 * --native-memory (with --format anthropic) declares the memory tool as
 * Anthropic's own, {"type":"memory_20250818","name":"memory"}, whose
 * schema the model already knows, instead of as a custom tool.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mcp.h"

const struct cli_opt cmd_tools_opts[] = {
    {"format", "FMT",
     "openai (default, Chat Completions), openai-responses (Responses "
     "API), anthropic, mcp (the tools/list array) or markdown"},
    {"native-memory", NULL,
     "with --format anthropic: declare the memory tool as Anthropic's "
     "memory_20250818"},
    {NULL, NULL, NULL},
};

int cmd_tools(struct cli_ctx *ctx, const struct cli_args *args)
{
    const char *name = cli_flag(args, "format");
    akv_mcp_format format;
    if (name == NULL)
        name = "openai";
    if (akv_mcp_format_parse(name, &format) != AKV_OK) {
        char shown[CLI_QUOTE_BUF];
        return cli_fail(ctx, AKV_EINVAL,
                        "unknown format '%s' (expected openai, "
                        "openai-responses, anthropic, mcp or markdown)",
                        cli_quote(name, shown));
    }
    int native = cli_has(args, "native-memory");
    if (native && format != AKV_MCP_FORMAT_ANTHROPIC)
        return cli_fail(ctx, AKV_EINVAL,
                        "--native-memory goes with --format anthropic");
    char *text = akv_mcp_tools_render(format);
    if (text == NULL)
        return cli_fail(ctx, AKV_ENOMEM, "out of memory");
    if (native) {
        /* The rendered array with the memory row swapped for the
         * declaration of Anthropic's built-in tool. */
        json_t *tools = json_loads(text, 0, NULL);
        free(text);
        text = NULL;
        for (size_t i = 0; i < json_array_size(tools); i++) {
            json_t *t = json_array_get(tools, i);
            const char *n = json_string_value(json_object_get(t, "name"));
            if (n && strcmp(n, "memory") == 0)
                json_array_set_new(tools, i,
                                   json_pack("{s:s,s:s}", "type",
                                             "memory_20250818", "name",
                                             "memory"));
        }
        text = tools ? json_dumps(tools, JSON_INDENT(2)) : NULL;
        json_decref(tools);
        if (text == NULL)
            return cli_fail(ctx, AKV_ENOMEM, "out of memory");
    }
    size_t len = strlen(text);
    int rc = cli_write(ctx, text, len);
    /* JSON gets a final newline; the Markdown already ends with one. */
    if (rc == 0 && format != AKV_MCP_FORMAT_MARKDOWN)
        rc = cli_write(ctx, "\n", 1);
    free(text);
    return rc;
}

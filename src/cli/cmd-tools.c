/*
 * cmd-tools.c — `agentkv tools --format
 * openai|openai-responses|anthropic|mcp|markdown`:
 * prints the agent tools of SPEC.md §7 as function-calling definitions for
 * platforms without MCP. Everything comes from the MCP layer's tool table,
 * the same one tools/list answers from, so the two never differ.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mcp.h"

const struct cli_opt cmd_tools_opts[] = {
    {"format", "FMT",
     "openai (default, Chat Completions), openai-responses (Responses "
     "API), anthropic, mcp (the tools/list array) or markdown"},
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
    char *text = akv_mcp_tools_render(format);
    if (text == NULL)
        return cli_fail(ctx, AKV_ENOMEM, "out of memory");
    size_t len = strlen(text);
    int rc = cli_write(ctx, text, len);
    /* JSON gets a final newline; the Markdown already ends with one. */
    if (rc == 0 && format != AKV_MCP_FORMAT_MARKDOWN)
        rc = cli_write(ctx, "\n", 1);
    free(text);
    return rc;
}

/*
 * cmd-memory.c — `agentkv memory [FILE|-]`: runs one command of Anthropic's
 * memory tool (memory_20250818), read as its JSON input from FILE or stdin,
 * in the sandbox's project scope (or --scope), and prints the tool's result
 * text; a failure is the usual one-line error with the tool's text and the
 * exit code of its error code. With --json the result is {"result":TEXT}.
 * The input is read under twice max_value_size plus
 * AKV_MEMORY_COMMAND_SLACK (64 KiB), the bound akv_memory() sets.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct cli_opt cmd_memory_opts[] = {
    {"scope", "NAME", "scope holding the memory files (default: project)"},
    {NULL, NULL, NULL},
};

int cmd_memory(struct cli_ctx *ctx, const struct cli_args *args)
{
    akv_scope scope = AKV_SCOPE_PROJECT;
    const char *name = cli_flag(args, "scope");
    if (name && cli_parse_scope(ctx, name, &scope))
        return 1;
    const char *path = args->npos ? args->pos[0] : NULL;
    FILE *in;
    akv_store *store;
    if (cli_input_open(ctx, path, &in))
        return 1;
    char *cmd = NULL;
    size_t len = 0;
    int failed = cli_store(ctx, &store);
    if (!failed) {
        uint64_t max = akv_config_max_value_size(akv_store_config(store));
        failed = cli_input_read(ctx, in, 2 * max + AKV_MEMORY_COMMAND_SLACK,
                                &cmd, &len);
    }
    cli_input_close(in);
    if (failed)
        return 1;
    char *text = NULL;
    int rc = akv_memory(store, ctx->sandbox, scope, cmd, len, &text);
    free(cmd);
    if (rc != AKV_OK) {
        free(text);
        return cli_fail_lib(ctx, rc);
    }
    if (ctx->json)
        failed = cli_print_json(ctx, json_pack("{s:s}", "result", text));
    else
        failed = cli_printf(ctx, "%s\n", text);
    free(text);
    return failed;
}

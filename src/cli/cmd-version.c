/*
 * cmd-version.c — `agentkv version`: the program version and the backend
 * that --backend / AGENTKV_BACKEND selects. It never opens a store, so it
 * works anywhere; of a backend URL only the scheme is shown, because the
 * rest may carry a password.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const struct cli_opt cmd_version_opts[] = {{NULL, NULL, NULL}};

int cmd_version(struct cli_ctx *ctx, const struct cli_args *args)
{
    (void)args;
    char backend[64];
    const char *sep = strstr(ctx->backend, "://");
    size_t n = sep ? (size_t)(sep - ctx->backend) : strlen(ctx->backend);
    snprintf(backend, sizeof backend, "%.*s", (int)(n < 63 ? n : 63),
             ctx->backend);
    if (ctx->json)
        return cli_print_json(ctx, json_pack("{s:s,s:s,s:s}", "name",
                                             "agentkv", "version",
                                             AKV_VERSION_STRING, "backend",
                                             backend));
    char shown[CLI_QUOTE_BUF];
    return cli_printf(ctx, "agentkv %s (backend %s)\n", AKV_VERSION_STRING,
                      cli_quote(backend, shown));
}

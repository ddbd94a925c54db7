/*
 * cmd-del.c — `agentkv del SCOPE KEY`: deletes the sandbox's own entry.
 * Quiet on success, like rm; --json prints {"deleted":1} so that scripts
 * always get a JSON document.
 */
#include <string.h>

#include "cli.h"

const struct cli_opt cmd_del_opts[] = {{NULL, NULL, NULL}};

int cmd_del(struct cli_ctx *ctx, const struct cli_args *args)
{
    const char *key = args->pos[1];
    akv_scope scope;
    akv_store *store;

    if (cli_parse_scope(ctx, args->pos[0], &scope) ||
        cli_parse_key(ctx, key) || cli_store(ctx, &store))
        return 1;
    int rc = akv_del(store, ctx->sandbox, scope, key, strlen(key));
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);
    return ctx->json ? cli_print_json(ctx, json_pack("{s:i}", "deleted", 1))
                     : 0;
}

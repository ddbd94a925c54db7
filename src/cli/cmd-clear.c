/*
 * cmd-clear.c — `agentkv clear SCOPE --yes`: deletes every entry of one
 * scope in the sandbox's own namespace. Destructive, so it refuses to run
 * without --yes; prints how many unexpired entries it deleted.
 */
#include <inttypes.h>

#include "cli.h"

const struct cli_opt cmd_clear_opts[] = {
    {"yes", NULL, "confirm: really delete every entry of SCOPE"},
    {NULL, NULL, NULL},
};

int cmd_clear(struct cli_ctx *ctx, const struct cli_args *args)
{
    uint64_t deleted = 0;
    akv_scope scope;
    akv_store *store;

    if (cli_parse_scope(ctx, args->pos[0], &scope))
        return 1;
    if (!cli_has(args, "yes"))
        return cli_fail(ctx, AKV_EINVAL,
                        "clear deletes every entry of scope %s in sandbox %s;"
                        " add --yes to confirm",
                        akv_scope_name(scope), ctx->sandbox);
    if (cli_store(ctx, &store))
        return 1;
    int rc = akv_clear(store, ctx->sandbox, scope, &deleted);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);
    if (ctx->json)
        return cli_print_json(ctx, json_pack("{s:I}", "deleted",
                                             (json_int_t)deleted));
    return cli_printf(ctx, "deleted %" PRIu64 " entries\n", deleted);
}

/*
 * cmd-get.c — `agentkv get SCOPE KEY`: writes the raw value bytes straight
 * from the library's borrowed buffer (no copy) to stdout, or with --meta or
 * --json the entry's metadata. The library verifies the SHA-256 first and
 * never hands out bytes that fail it.
 */
#include <string.h>

#include "cli.h"

const struct cli_opt cmd_get_opts[] = {
    {"meta", NULL, "print the entry metadata as JSON instead of the value"},
    {NULL, NULL, NULL},
};

int cmd_get(struct cli_ctx *ctx, const struct cli_args *args)
{
    const char *key = args->pos[1];
    akv_scope scope;
    akv_store *store;
    akv_value *v;

    if (cli_parse_scope(ctx, args->pos[0], &scope) ||
        cli_parse_key(ctx, key) || cli_store(ctx, &store))
        return 1;
    int rc = akv_get(store, ctx->sandbox, scope, key, strlen(key), &v);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);
    int wrc;
    if (ctx->json || cli_has(args, "meta")) {
        wrc = cli_print_meta(ctx, akv_value_meta(v));
    } else {
        size_t len;
        const void *data = akv_value_data(v, &len);
        wrc = cli_write(ctx, data, len);
    }
    /* The handle pins a read snapshot of the store: release it promptly. */
    akv_value_release(v);
    return wrc;
}

/*
 * cmd-prune.c — `agentkv prune [SCOPE]`: removes expired entries of the
 * current sandbox (or of every sandbox with --all-sandboxes) and prints the
 * count per scope, as a table or {"pruned":{"task":3,...}}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const struct cli_opt cmd_prune_opts[] = {
    {"all-sandboxes", NULL, "prune every sandbox, not only --sandbox"},
    {NULL, NULL, NULL},
};

static const char *const prune_headers[] = {"SCOPE", "PRUNED"};

int cmd_prune(struct cli_ctx *ctx, const struct cli_args *args)
{
    uint64_t pruned[AKV_SCOPE_COUNT] = {0};
    int scope;
    akv_store *store;

    if (cli_parse_scope_opt(ctx, args->npos ? args->pos[0] : NULL, &scope) ||
        cli_store(ctx, &store))
        return 1;
    const char *sandbox = cli_has(args, "all-sandboxes") ? NULL : ctx->sandbox;
    int rc = akv_prune(store, sandbox, scope, pruned);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);

    if (ctx->json) {
        char *text = akv_prune_to_json(pruned, scope);
        int failed = cli_print_json_text(ctx, text);
        free(text);
        return failed;
    }
    int first = scope == AKV_SCOPE_ALL ? 0 : scope;
    int last = scope == AKV_SCOPE_ALL ? AKV_SCOPE_COUNT - 1 : scope;
    struct cli_table t;
    cli_table_init(&t, 2, prune_headers, "lr");
    int failed = 0;
    for (int s = first; s <= last && !failed; s++) {
        char count[32];
        snprintf(count, sizeof count, "%" PRIu64, pruned[s]);
        const char *cells[] = {akv_scope_name(s), count};
        failed = cli_table_row(ctx, &t, cells);
    }
    if (!failed)
        failed = cli_table_flush(ctx, &t);
    cli_table_free(&t);
    return failed;
}

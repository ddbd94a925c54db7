/*
 * cmd-import.c — `agentkv import [FILE|-]`: restores what export wrote.
 * The library validates every line before writing anything and writes all
 * entries in one transaction, so a failed import changes nothing. The count
 * goes to stderr, keeping stdout free (or {"imported":N} with --json).
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"

const struct cli_opt cmd_import_opts[] = {{NULL, NULL, NULL}};

int cmd_import(struct cli_ctx *ctx, const struct cli_args *args)
{
    akv_store *store;
    struct cli_progress bar;
    uint64_t count = 0;
    FILE *in;

    if (cli_input_open(ctx, args->npos ? args->pos[0] : NULL, &in))
        return 1;
    if (cli_store(ctx, &store)) {
        cli_input_close(in);
        return 1;
    }
    cli_progress_init(&bar, "importing", cli_progress_wanted());
    int rc = akv_import(store, in, cli_progress_update, &bar, &count);
    cli_progress_clear(&bar);
    if (rc != AKV_OK)
        cli_fail_lib(ctx, rc);
    cli_input_close(in);
    if (rc != AKV_OK)
        return 1;
    if (ctx->json)
        return cli_print_json(ctx, json_pack("{s:I}", "imported",
                                             (json_int_t)count));
    fprintf(stderr, "imported %" PRIu64 " entries\n", count);
    return 0;
}

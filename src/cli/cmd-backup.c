/*
 * cmd-backup.c — `agentkv backup PATH`: a consistent hot copy of the
 * embedded store into a new directory, taken while other processes keep
 * reading and writing. Quiet on success; --json prints {"backup":PATH}.
 */
#include "cli.h"

const struct cli_opt cmd_backup_opts[] = {{NULL, NULL, NULL}};

int cmd_backup(struct cli_ctx *ctx, const struct cli_args *args)
{
    akv_store *store;

    if (cli_store(ctx, &store))
        return 1;
    struct cli_progress bar;
    cli_progress_init(&bar, "backing up", cli_progress_wanted());
    int rc = akv_backup(store, args->pos[0], cli_progress_update, &bar);
    cli_progress_clear(&bar);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);
    return ctx->json ? cli_print_json(ctx, json_pack("{s:s}", "backup",
                                                     args->pos[0]))
                     : 0;
}

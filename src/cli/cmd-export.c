/*
 * cmd-export.c — `agentkv export [SCOPE]`: JSON Lines of the unexpired
 * entries, written by the library straight to stdout.
 *
 * The data itself goes to stdout, so a bar there would corrupt it when
 * stdout is a terminal: the bar is drawn only when stdout is redirected and
 * stderr is a terminal (`agentkv export > dump.jsonl` in a shell), and
 * scripts and cron jobs, whose stderr is not a terminal, see nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

const struct cli_opt cmd_export_opts[] = {
    {"all-sandboxes", NULL, "export every sandbox, not only --sandbox"},
    {NULL, NULL, NULL},
};

int cmd_export(struct cli_ctx *ctx, const struct cli_args *args)
{
    int scope;
    akv_store *store;
    struct cli_progress bar;

    if (cli_parse_scope_opt(ctx, args->npos ? args->pos[0] : NULL, &scope) ||
        cli_store(ctx, &store))
        return 1;
    const char *sandbox = cli_has(args, "all-sandboxes") ? NULL : ctx->sandbox;
    cli_progress_init(&bar, "exporting",
                      isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO));
    errno = 0;
    int rc = akv_export(store, sandbox, scope, stdout, cli_progress_update,
                        &bar, NULL);
    int write_errno = errno;
    cli_progress_clear(&bar);
    /* The library wrote to stdout itself: a failed write there is an I/O
     * error of ours, reported by main()'s flush with the errno it left. */
    if (ferror(stdout))
        return cli_stdout_failed(ctx, write_errno);
    return rc == AKV_OK ? 0 : cli_fail_lib(ctx, rc);
}

/*
 * cmd-seed.c — `agentkv seed [DIR] [--force] [--prune] [--global]`: loads
 * instruction files into scope `instructions` (SPEC.md §5). The library
 * does the work in one transaction (akv_seed); this handler picks the
 * sandbox, draws the progress bar on a terminal and prints the counts
 * ("added N, updated N, unchanged N, removed N"), or the report as JSON.
 */
#include <stdio.h>
#include <stdlib.h>

#include "agentkv-instructions.h"
#include "cli.h"

const struct cli_opt cmd_seed_opts[] = {
    {"force", NULL, "rewrite every set, changed or not (its version grows)"},
    {"prune", NULL,
     "remove seeded sets of the sandbox whose file is gone from DIR"},
    {"global", NULL, "seed into _global (the same as --sandbox _global)"},
    {NULL, NULL, NULL},
};

int cmd_seed(struct cli_ctx *ctx, const struct cli_args *args)
{
    akv_store *store;
    akv_seed_report *rep = NULL;
    struct cli_progress bar;
    const char *sandbox =
        cli_has(args, "global") ? AKV_GLOBAL_SANDBOX : ctx->sandbox;

    if (cli_store(ctx, &store))
        return 1;
    cli_progress_init(&bar, "seeding", cli_progress_wanted());
    akv_seed_opts opts = {
        .force = cli_has(args, "force"),
        .prune = cli_has(args, "prune"),
        .progress = cli_progress_update,
        .progress_ctx = &bar,
    };
    int rc = akv_seed(store, sandbox, args->npos ? args->pos[0] : NULL, &opts,
                      &rep);
    cli_progress_clear(&bar);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);
    int out;
    if (ctx->json) {
        char *text = akv_seed_report_to_json(rep, sandbox);
        out = text ? cli_print_json_text(ctx, text)
                   : cli_fail(ctx, AKV_ENOMEM, "out of memory");
        free(text);
    } else {
        out = cli_printf(ctx, "added %zu, updated %zu, unchanged %zu, "
                              "removed %zu\n",
                         rep->added, rep->updated, rep->unchanged,
                         rep->removed);
    }
    akv_seed_report_free(rep);
    return out;
}

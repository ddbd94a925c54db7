/*
 * cmd-import.c — `agentkv import [FILE|-]`: restores what export wrote.
 * The library validates every line before writing anything and writes all
 * entries in one transaction, so a failed import changes nothing. The count
 * goes to stderr, keeping stdout free (or {"imported":N} with --json).
 * On a terminal, a progress bar shows the share of the input read when
 * the input is a regular file, and a count of entries otherwise.
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cli.h"

const struct cli_opt cmd_import_opts[] = {{NULL, NULL, NULL}};

/* The library counts entries and knows no total until the end; when the
 * input is a regular file its size is known, so the bar shows how much of
 * it has been read (a percentage) instead of a bare count. */
struct import_progress {
    struct cli_progress bar; /* first: cli_progress_update's contract */
    FILE *in;
    uint64_t size; /* 0: unknown (a pipe), entries are counted instead */
};

static void import_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct import_progress *p = ctx;
    if (p->size == 0) {
        cli_progress_update(&p->bar, done, total);
        return;
    }
    off_t pos = ftello(p->in);
    uint64_t at = total != 0 && done == total ? p->size
                  : pos > 0                     ? (uint64_t)pos
                                                : 0;
    cli_progress_update(&p->bar, at, p->size);
}

int cmd_import(struct cli_ctx *ctx, const struct cli_args *args)
{
    akv_store *store;
    struct import_progress prog;
    uint64_t count = 0;
    FILE *in;

    if (cli_input_open(ctx, args->npos ? args->pos[0] : NULL, &in))
        return 1;
    if (cli_store(ctx, &store)) {
        cli_input_close(in);
        return 1;
    }
    cli_progress_init(&prog.bar, "importing", cli_progress_wanted());
    prog.in = in;
    prog.size = 0;
    struct stat st;
    if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        prog.size = (uint64_t)st.st_size;
        prog.bar.bytes = 1;
    }
    int rc = akv_import(store, in, import_progress, &prog, &count);
    cli_progress_clear(&prog.bar);
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

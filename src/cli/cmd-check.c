/*
 * cmd-check.c — `agentkv check`: verifies the SHA-256 of every entry in the
 * store (all sandboxes, expired entries too), lists each failing entry as
 * SANDBOX/SCOPE/KEY, and ends with "checked N entries, M failed". The exit
 * status is the library's verdict: 5 (integrity_error) if anything failed.
 */
#include <inttypes.h>

#include "cli.h"

const struct cli_opt cmd_check_opts[] = {{NULL, NULL, NULL}};

/* Shared by both library callbacks; the progress bar must come first
 * (cli_progress_update() takes the same pointer). */
struct check_run {
    struct cli_progress bar;
    struct cli_ctx *ctx;
    json_t *bad; /* --json: array of {sandbox, scope, key} */
};

static void check_bad(void *p, const akv_meta *m)
{
    struct check_run *run = p;
    const char *sandbox = m->origin[0] ? m->origin : m->sandbox;
    const char *scope = akv_scope_name(m->scope);
    cli_progress_clear(&run->bar);
    if (run->bad) {
        json_array_append_new(run->bad,
                              json_pack("{s:s,s:s,s:s%}", "sandbox", sandbox,
                                        "scope", scope ? scope : "?", "key",
                                        m->key, m->key_len));
        return;
    }
    cli_printf(run->ctx, "%s/%s/%.*s\n", sandbox, scope ? scope : "?",
               (int)m->key_len, m->key);
}

int cmd_check(struct cli_ctx *ctx, const struct cli_args *args)
{
    (void)args;
    akv_store *store;
    uint64_t checked = 0, failed = 0;

    if (cli_store(ctx, &store))
        return 1;
    struct check_run run = {.ctx = ctx, .bad = NULL};
    cli_progress_init(&run.bar, "checking", cli_progress_wanted());
    if (ctx->json && (run.bad = json_array()) == NULL)
        return cli_fail(ctx, AKV_ENOMEM, "out of memory");
    int rc = akv_check(store, check_bad, cli_progress_update, &run, &checked,
                       &failed);
    cli_progress_clear(&run.bar);
    /* Record the verdict before anything else touches the library's
     * thread-local error. */
    if (rc != AKV_OK)
        cli_fail_lib(ctx, rc);
    if (rc != AKV_OK && rc != AKV_EINTEGRITY) {
        json_decref(run.bad);
        return 1;
    }
    if (ctx->json)
        cli_print_json(ctx, json_pack("{s:I,s:I,s:o}", "checked",
                                      (json_int_t)checked, "failed",
                                      (json_int_t)failed, "bad", run.bad));
    else
        cli_printf(ctx, "checked %" PRIu64 " entries, %" PRIu64 " failed\n",
                   checked, failed);
    return rc != AKV_OK || ctx->out_errno;
}

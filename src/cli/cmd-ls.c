/*
 * cmd-ls.c — `agentkv ls SCOPE`: lists entries in key order, page by page
 * with the library's cursor, as an aligned table or as JSON Lines. Without
 * --limit it walks every page; with --limit N it stops after N entries.
 * Only one page is held in memory at a time.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct cli_opt cmd_ls_opts[] = {
    {"prefix", "P", "only keys that start with P"},
    {"limit", "N", "list at most N entries (default: all)"},
    {"expired", NULL, "include expired entries not yet pruned"},
    {NULL, NULL, NULL},
};

static const char *const ls_headers[] = {"KEY",     "SIZE",    "VERSION",
                                         "UPDATED", "EXPIRES", "ORIGIN"};

static int ls_render(struct cli_ctx *ctx, struct cli_table *t,
                     const akv_meta *m, int64_t now)
{
    if (ctx->json)
        return cli_print_meta(ctx, m);
    char size[32], version[32], updated[AKV_TIME_BUF], expires[64];
    char when[AKV_TIME_BUF];
    cli_human_size(m->size, size);
    snprintf(version, sizeof version, "%" PRIu64, m->version);
    akv_time_format(m->updated_at, updated);
    if (m->expires_at == 0)
        snprintf(expires, sizeof expires, "never");
    else
        snprintf(expires, sizeof expires, "%s%s",
                 akv_time_format(m->expires_at, when),
                 m->expires_at <= now ? " (expired)" : "");
    const char *cells[] = {m->key, size, version, updated, expires, m->origin};
    return cli_table_row(ctx, t, cells);
}

int cmd_ls(struct cli_ctx *ctx, const struct cli_args *args)
{
    const char *prefix = cli_flag(args, "prefix");
    const char *limit_s = cli_flag(args, "limit");
    uint64_t limit = 0, listed = 0;
    akv_scope scope;
    akv_store *store;

    if (cli_parse_scope(ctx, args->pos[0], &scope) ||
        (limit_s && cli_parse_count(ctx, "limit", limit_s, &limit)) ||
        cli_store(ctx, &store))
        return 1;

    akv_list_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.prefix = prefix;
    lo.prefix_len = prefix ? strlen(prefix) : 0;
    lo.include_expired = cli_has(args, "expired");

    struct cli_table t;
    cli_table_init(&t, 6, ls_headers, "lrrlll");
    int64_t now = akv_store_now(store);
    char *cursor = NULL; /* owned copy: the list's cursor dies with it */
    int failed = 0;
    uint64_t damaged = 0;
    do {
        uint64_t want = limit ? limit - listed : 0;
        lo.limit = want > AKV_LIST_MAX_LIMIT ? AKV_LIST_MAX_LIMIT : want;
        lo.cursor = cursor;
        lo.cursor_len = cursor ? strlen(cursor) : 0;
        akv_list *list;
        int rc = akv_list_entries(store, ctx->sandbox, scope, &lo, &list);
        free(cursor);
        cursor = NULL;
        if (rc != AKV_OK) {
            failed = cli_fail_lib(ctx, rc);
            break;
        }
        size_t n = akv_list_count(list);
        damaged += akv_list_damaged(list);
        for (size_t i = 0; i < n && !failed; i++)
            failed = ls_render(ctx, &t, akv_list_item(list, i), now);
        listed += n;
        /* An empty page ends the walk even if a cursor came with it. */
        const char *next = n > 0 ? akv_list_next_cursor(list) : NULL;
        if (!failed && next && (cursor = strdup(next)) == NULL)
            failed = cli_fail(ctx, AKV_ENOMEM, "out of memory");
        akv_list_free(list);
        if (!failed && !ctx->json)
            failed = cli_table_flush(ctx, &t);
    } while (!failed && cursor && (limit == 0 || listed < limit));
    free(cursor);
    cli_table_free(&t);
    /* Damaged entries were skipped (each named in a warning): the listing
     * of the rest stands, and the exit status says it is incomplete. */
    if (!failed && damaged)
        failed = cli_fail(ctx, AKV_EINTEGRITY,
                          "%" PRIu64 " damaged %s skipped; run agentkv check",
                          damaged, damaged == 1 ? "entry" : "entries");
    return failed;
}

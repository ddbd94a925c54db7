/*
 * cmd-stats.c — `agentkv stats [SCOPE]`: usage of the sandbox per scope
 * (entries, bytes against quota, expired entries awaiting prune, hits and
 * misses, default TTL), as a table or as a JSON object keyed by scope.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

const struct cli_opt cmd_stats_opts[] = {{NULL, NULL, NULL}};

static const char *const stats_headers[] = {
    "SCOPE",   "ENTRIES", "BYTES", "QUOTA",  "USED",
    "EXPIRED", "HITS",    "MISSES", "TTL"};

static int stats_row(struct cli_ctx *ctx, struct cli_table *t,
                     const akv_scope_stats *s)
{
    char entries[32], bytes[32], quota[32], used[32], expired[32];
    char hits[32], misses[32], ttl[32];
    snprintf(entries, sizeof entries, "%" PRIu64, s->entries);
    cli_human_size(s->bytes, bytes);
    cli_human_size(s->quota, quota);
    snprintf(used, sizeof used, "%.1f%%", akv_stats_used_percent(s));
    snprintf(expired, sizeof expired, "%" PRIu64, s->expired);
    snprintf(hits, sizeof hits, "%" PRIu64, s->hits);
    snprintf(misses, sizeof misses, "%" PRIu64, s->misses);
    cli_human_duration(s->default_ttl, ttl);
    const char *cells[] = {akv_scope_name(s->scope), entries, bytes, quota,
                           used, expired, hits, misses, ttl};
    return cli_table_row(ctx, t, cells);
}

int cmd_stats(struct cli_ctx *ctx, const struct cli_args *args)
{
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n = 0;
    int scope;
    akv_store *store;

    if (cli_parse_scope_opt(ctx, args->npos ? args->pos[0] : NULL, &scope) ||
        cli_store(ctx, &store))
        return 1;
    int rc = akv_stats(store, ctx->sandbox, scope, rows, &n);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);

    if (ctx->json) {
        char *text = akv_stats_to_json(rows, n);
        int failed = cli_print_json_text(ctx, text);
        free(text);
        return failed;
    }
    struct cli_table t;
    cli_table_init(&t, 9, stats_headers, "lrrrrrrrr");
    int failed = 0;
    for (size_t i = 0; i < n && !failed; i++)
        failed = stats_row(ctx, &t, &rows[i]);
    if (!failed)
        failed = cli_table_flush(ctx, &t);
    cli_table_free(&t);
    return failed;
}

/*
 * cmd-search.c — `agentkv search QUERY [--scope S] [--limit N]`: the
 * entries of a scope (instruction sets by default) ranked by BM25 over
 * name, description and body (akv_search; ranking and tokenisation in
 * src/lib/search.c). Prints SCORE, NAME, TOKENS (instruction sets) and
 * DESCRIPTION as a table, or the object of akv_search_to_json with --json.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct cli_opt cmd_search_opts[] = {
    {"scope", "SCOPE", "scope to search (default instructions)"},
    {"limit", "N", "at most N results, 1 to 100 (default 10)"},
    {NULL, NULL, NULL},
};

static const char *const search_headers[] = {"SCORE", "NAME", "TOKENS",
                                             "DESCRIPTION"};

int cmd_search(struct cli_ctx *ctx, const struct cli_args *args)
{
    akv_search_opts opts;
    akv_search_opts_init(&opts);
    const char *s;
    akv_scope scope;
    uint64_t limit;
    if ((s = cli_flag(args, "scope"))) {
        if (cli_parse_scope(ctx, s, &scope))
            return 1;
        opts.scope = scope;
    }
    if ((s = cli_flag(args, "limit"))) {
        if (cli_parse_count(ctx, "limit", s, &limit))
            return 1;
        if (limit < 1 || limit > AKV_SEARCH_LIMIT_MAX)
            return cli_fail(ctx, AKV_EINVAL, "--limit: 1 to %d results",
                            AKV_SEARCH_LIMIT_MAX);
        opts.limit = (size_t)limit;
    }
    akv_store *store;
    akv_search_result *res;
    if (cli_store(ctx, &store))
        return 1;
    const char *q = args->pos[0];
    int rc = akv_search(store, ctx->sandbox, q, strlen(q), &opts, &res);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);
    int failed;
    if (ctx->json) {
        char *text = akv_search_to_json(res, ctx->sandbox, opts.scope);
        failed = cli_print_json_text(ctx, text);
        free(text);
        akv_search_free(res);
        return failed;
    }
    struct cli_table t;
    cli_table_init(&t, 4, search_headers, "rlrl");
    failed = 0;
    for (size_t i = 0; i < akv_search_count(res) && !failed; i++) {
        const akv_search_hit *h = akv_search_item(res, i);
        char score[32], tokens[32];
        snprintf(score, sizeof score, "%.3f", h->score);
        snprintf(tokens, sizeof tokens, "%" PRIu64, h->tokens);
        const char *cells[] = {score, h->name,
                               opts.scope == AKV_SCOPE_INSTRUCTIONS ? tokens
                                                                    : "-",
                               h->description};
        failed = cli_table_row(ctx, &t, cells);
    }
    if (!failed)
        failed = cli_table_flush(ctx, &t);
    cli_table_free(&t);
    if (!failed && akv_search_truncated(res))
        fprintf(stderr, "agentkv: note: only the first %d entries of the "
                        "scope were searched\n",
                AKV_SEARCH_DOCS_MAX);
    akv_search_free(res);
    return failed;
}

/*
 * http-instructions.c — the instruction routes of SPEC.md §4:
 *   POST /v1/seed                        admin: reseed _global from the
 *                                        server's instruction directory
 *   GET  /v1/sandboxes/{sb}/instructions the catalog as JSON
 *   GET  /v1/sandboxes/{sb}/prompt       the built system prompt
 *   GET  /v1/sandboxes/{sb}/search       ranked full-text search (akv_search)
 * Thin handlers: each parses its query, calls one library function
 * (akv_seed, akv_instructions_list, akv_prompt_build) and renders the
 * result. The bodies have the shapes of `agentkv seed --json` and of the
 * MCP list_instructions tool; the prompt is the bytes `agentkv prompt
 * build` prints, with its token figures in X-Agentkv-Tokens and
 * X-Agentkv-Baseline-Tokens (the inline build of the same base).
 *
 * Reads of instruction bodies by agents (the kv GET route and MCP's
 * get_instruction) are what agentkv_instruction_fetches_total counts; these
 * routes read catalogs and build prompts, so they do not count fetches.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "server.h"

/* A boolean query value: absent, "", "1", "true" are the usual forms. */
static int bool_param(struct http_req *r, const char *name, const char *v,
                      int *out)
{
    *out = 0;
    if (v == NULL)
        return 0;
    if (*v == '\0' || strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        return 0;
    http_error(r, AKV_EINVAL, "%s: expected true or false", name);
    return -1;
}

void http_instructions_seed(struct http_req *r)
{
    static const char *const names[] = {"force", "prune"};
    const char *q[2];
    char buf[64];
    int force, prune;
    if (http_query(r, names, 2, q, buf, sizeof buf) != 0 ||
        bool_param(r, "force", q[0], &force) != 0 ||
        bool_param(r, "prune", q[1], &prune) != 0)
        return;
    akv_seed_opts opts = {.force = force, .prune = prune};
    akv_seed_report *rep;
    int rc = akv_seed(r->store, AKV_GLOBAL_SANDBOX, r->srv->opts.seed_dir,
                      &opts, &rep);
    if (rc != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    char *json = akv_seed_report_to_json(rep, AKV_GLOBAL_SANDBOX);
    akv_seed_report_free(rep);
    if (json == NULL) {
        http_error(r, AKV_ENOMEM, "out of memory rendering the report");
        return;
    }
    http_reply_json(r, 200, json, strlen(json));
    free(json);
}

void http_instructions_list(struct http_req *r)
{
    if (http_query(r, NULL, 0, NULL, NULL, 0) != 0)
        return;
    akv_instructions *list;
    int rc = akv_instructions_list(r->store, r->sandbox, &list);
    if (rc != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    char *json = akv_instructions_to_json(list, r->sandbox);
    akv_instructions_free(list);
    if (json == NULL) {
        http_error(r, AKV_ENOMEM, "out of memory rendering the catalog");
        return;
    }
    http_reply_json(r, 200, json, strlen(json));
    free(json);
}

void http_instructions_prompt(struct http_req *r)
{
    static const char *const names[] = {"mode", "inline", "budget",
                                        "base_key", "cached_input_ratio",
                                        "cache_write_premium"};
    const char *q[6];
    char buf[2048];
    akv_prompt_opts opts;
    int rc;
    if (http_query(r, names, 6, q, buf, sizeof buf) != 0)
        return;
    akv_prompt_opts_init(&opts);
    if ((rc = akv_prompt_opts_set_mode(&opts, q[0], q[1])) != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    if (q[2]) {
        char *end;
        unsigned long long b = strtoull(q[2], &end, 10);
        if (*q[2] < '0' || *q[2] > '9' || *end || b == 0) {
            http_error(r, AKV_EINVAL, "budget: expected a positive number "
                                      "of tokens");
            return;
        }
        opts.budget = b;
    }
    if (q[3] && *q[3])
        opts.base_key = q[3];
    for (int i = 4; i < 6; i++) {
        if (q[i] == NULL)
            continue;
        char *end;
        double v = strtod(q[i], &end);
        if (*q[i] < '0' || *q[i] > '9' || *end) {
            http_error(r, AKV_EINVAL, "%s: expected a number", names[i]);
            return;
        }
        *(i == 4 ? &opts.cached_ratio : &opts.write_premium) = v;
    }
    if (q[5] && !q[4]) {
        http_error(r, AKV_EINVAL, "cache_write_premium goes with "
                                  "cached_input_ratio");
        return;
    }
    opts.count = 1;
    akv_prompt *p;
    if ((rc = akv_prompt_build(r->store, r->sandbox, &opts, &p)) != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    /* One run for the fetch rates (docs/prompts.md); a count that cannot
     * be written does not fail the prompt. */
    akv_usage_record(r->store, r->sandbox, NULL);
    const akv_prompt_info *in = akv_prompt_get_info(p);
    char num[32];
    snprintf(num, sizeof num, "%" PRIu64, in->tokens);
    http_header(r, "X-Agentkv-Tokens", num);
    snprintf(num, sizeof num, "%" PRIu64, in->baseline_tokens);
    http_header(r, "X-Agentkv-Baseline-Tokens", num);
    if (in->runs) {
        /* Figures of `prompt build --report`, rounded to 1 decimal. */
        snprintf(num, sizeof num, "%" PRIu64, in->runs);
        http_header(r, "X-Agentkv-Runs", num);
        snprintf(num, sizeof num, "%" PRIu64, in->fetches);
        http_header(r, "X-Agentkv-Fetches", num);
        snprintf(num, sizeof num, "%.1f", in->expected_tokens);
        http_header(r, "X-Agentkv-Expected-Tokens", num);
        snprintf(num, sizeof num, "%.1f",
                 in->baseline_cost > 0
                     ? 100.0 * in->expected_cost / in->baseline_cost
                     : 0.0);
        http_header(r, "X-Agentkv-Expected-Cost-Percent", num);
    }
    if (opts.budget) {
        snprintf(num, sizeof num, "%zu", in->shortened);
        http_header(r, "X-Agentkv-Descriptions-Shortened", num);
        snprintf(num, sizeof num, "%zu", in->left_out);
        http_header(r, "X-Agentkv-Sets-Left-Out", num);
    }
    http_header(r, "Content-Type", "text/markdown; charset=utf-8");
    size_t len;
    const char *text = akv_prompt_text(p, &len);
    ob_add(&r->resp.body, text, len);
    akv_prompt_free(p);
    if (r->resp.body.oom) {
        http_resp_clear(&r->resp);
        http_error(r, AKV_ENOMEM, "out of memory sending the prompt");
        return;
    }
    r->resp.status = 200;
}

void http_instructions_search(struct http_req *r)
{
    static const char *const names[] = {"q", "scope", "limit"};
    const char *q[3];
    char buf[AKV_SEARCH_QUERY_MAX * 3 + 256];
    if (http_query(r, names, 3, q, buf, sizeof buf) != 0)
        return;
    akv_search_opts opts;
    akv_search_opts_init(&opts);
    if (q[0] == NULL) {
        http_error(r, AKV_EINVAL, "q: the query is missing");
        return;
    }
    if (q[1]) {
        akv_scope scope;
        if (akv_scope_parse(q[1], strlen(q[1]), &scope) != AKV_OK) {
            http_error_lib(r, AKV_EINVAL);
            return;
        }
        opts.scope = scope;
    }
    if (q[2]) {
        char *end;
        unsigned long long n = strtoull(q[2], &end, 10);
        if (*q[2] < '0' || *q[2] > '9' || *end || n < 1 ||
            n > AKV_SEARCH_LIMIT_MAX) {
            http_error(r, AKV_EINVAL, "limit: expected 1 to %d results",
                       AKV_SEARCH_LIMIT_MAX);
            return;
        }
        opts.limit = (size_t)n;
    }
    akv_search_result *res;
    int rc = akv_search(r->store, r->sandbox, q[0], strlen(q[0]), &opts, &res);
    if (rc != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    char *json = akv_search_to_json(res, r->sandbox, opts.scope);
    akv_search_free(res);
    if (json == NULL) {
        http_error(r, AKV_ENOMEM, "out of memory rendering the results");
        return;
    }
    http_reply_json(r, 200, json, strlen(json));
    free(json);
}

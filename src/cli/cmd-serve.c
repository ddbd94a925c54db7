/*
 * cmd-serve.c — `agentkv serve`: turns the command line into server
 * options, opens the store (creating it if needed) and runs the HTTP server
 * (src/server/) until SIGTERM or SIGINT. Its address, event-loop threads
 * and limits (connections, header timeout, upload budget, MCP sessions)
 * come from the [server] section of the config file; --listen and
 * --threads win over the file. The store is closed by main() after
 * the server has stopped, so every acknowledged write is on disk by then.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "server.h"

const struct cli_opt cmd_serve_opts[] = {
    {"listen", "ADDR:PORT",
     "address to listen on (default: [server] listen of the config file, "
     "127.0.0.1:8420; port 0 picks a free port, printed at start)"},
    {"threads", "N",
     "event-loop threads (default: [server] threads of the config file, "
     "auto: one per core; on Redis one per two cores, at most 64)"},
    {"pool-threads", "N",
     "threads for deletes, large writes and scans (a loop sends its "
     "small PUTs to the store itself; concurrent writes share one commit) "
     "(default 64)"},
    {"tokens", "FILE", "tokens file (default DIR/tokens)"},
    {"no-auth", NULL, "serve without tokens, everyone is admin (loopback only)"},
    {"metrics-public", NULL, "serve /metrics without a token"},
    {"log-format", "FMT", "log lines as text (default) or json"},
    {"access-log", "FILE",
     "access log: - for stderr (default), a file to append to, or off"},
    {"idle-timeout", "D",
     "close a connection silent this long between requests (default 60s; "
     "0 = never)"},
    {"request-timeout", "D",
     "a body or response must make progress every D, and a request head "
     "arrive within D or [server] header_timeout if shorter (default 30s; "
     "0 = never)"},
    {"prune-interval", "D",
     "remove expired entries in the background every D (default 60s; "
     "0 = off)"},
    {"seed", "DIR",
     "instruction sets seeded into _global at start-up and by POST "
     "/v1/seed (default: the bundled sets)"},
    {"no-seed", NULL, "do not seed _global at start-up"},
    {"routes", NULL, "print the route table (METHOD PATTERN AUTH) and exit"},
    {NULL, NULL, NULL},
};

/* A duration flag in milliseconds; def when absent. */
static int duration_flag(struct cli_ctx *ctx, const struct cli_args *args,
                         const char *name, int64_t def, int64_t *out)
{
    const char *s = cli_flag(args, name);
    int64_t secs;
    *out = def;
    if (s == NULL)
        return 0;
    int rc = akv_duration_parse(s, strlen(s), &secs);
    if (rc != AKV_OK)
        return cli_fail(ctx, AKV_EINVAL, "invalid --%s '%s': %s", name, s,
                        akv_last_error()->message);
    *out = secs * 1000;
    return 0;
}

static int count_flag(struct cli_ctx *ctx, const struct cli_args *args,
                      const char *name, uint64_t max, int *out)
{
    const char *s = cli_flag(args, name);
    uint64_t n;
    if (s == NULL)
        return 0;
    char flag[64];
    snprintf(flag, sizeof flag, "--%s", name);
    if (cli_parse_count(ctx, flag, s, &n))
        return 1;
    if (n > max)
        return cli_fail(ctx, AKV_EINVAL, "%s: at most %llu", flag,
                        (unsigned long long)max);
    *out = (int)n;
    return 0;
}

int cmd_serve(struct cli_ctx *ctx, const struct cli_args *args)
{
    struct server_opts o;
    char tokens[4096];
    memset(&o, 0, sizeof o);

    if (cli_has(args, "routes")) {
        router_print(stdout);
        return 0;
    }
    /* Flags win over the config file's [server] listen and threads. */
    const akv_config *cfg;
    if (cli_config(ctx, &cfg))
        return 1;
    o.listen = cli_flag(args, "listen");
    if (o.listen == NULL)
        o.listen = akv_config_listen(cfg);
    if (o.listen == NULL || o.listen[0] == '\0')
        o.listen = SERVER_DEFAULT_LISTEN;
    o.threads = (int)akv_config_threads(cfg);
    o.pool_threads = SERVER_DEFAULT_POOL;
    if (count_flag(ctx, args, "threads", 256, &o.threads) ||
        count_flag(ctx, args, "pool-threads", 1024, &o.pool_threads))
        return 1;
    o.tokens_path = cli_flag(args, "tokens");
    if (o.tokens_path == NULL) {
        snprintf(tokens, sizeof tokens, "%s/tokens", ctx->dir);
        o.tokens_path = tokens;
    }
    o.dir = ctx->dir;
    o.seed_dir = cli_flag(args, "seed");
    o.no_seed = cli_has(args, "no-seed");
    o.no_auth = cli_has(args, "no-auth");
    o.metrics_public = cli_has(args, "metrics-public");
    const char *fmt = cli_flag(args, "log-format");
    if (fmt && strcmp(fmt, "json") == 0)
        o.log_json = 1;
    else if (fmt && strcmp(fmt, "text") != 0)
        return cli_fail(ctx, AKV_EINVAL,
                        "invalid --log-format '%s': text or json", fmt);
    o.access_log = cli_flag(args, "access-log");
    if (duration_flag(ctx, args, "idle-timeout", 60000, &o.idle_timeout_ms) ||
        duration_flag(ctx, args, "request-timeout", 30000,
                      &o.request_timeout_ms) ||
        duration_flag(ctx, args, "prune-interval", 60000,
                      &o.prune_interval_ms))
        return 1;

    akv_store *store;
    if (cli_store(ctx, &store))
        return 1;
    /* The limits of the [server] section (docs/config.md). */
    o.max_connections = (size_t)akv_config_max_connections(cfg);
    o.header_timeout_ms = akv_config_header_timeout(cfg) * 1000;
    o.upload_budget = akv_config_upload_budget(cfg);
    o.mcp_sessions = (size_t)akv_config_mcp_sessions(cfg);
    o.mcp_sessions_per_token = (size_t)akv_config_mcp_sessions_per_token(cfg);
    char err[1024];
    int rc = server_run(store, &o, err, sizeof err);
    if (rc != AKV_OK)
        return cli_fail(ctx, rc, "%s", err);
    return 0;
}

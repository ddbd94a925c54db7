/*
 * args.c — splits the command line into global flags, the command, its
 * flags and its positional arguments, in one pass over argv.
 *
 * Rules: flags are long only (`--name value` or `--name=value`), plus `-h`
 * for --help, and `--version`/`-V` before the command, which select the
 * version command. Global flags are accepted anywhere, before or after the
 * command; a command's own flags only after it. `--` ends flag parsing, and
 * a lone `-` is a positional argument (stdin). A flag that takes a value
 * takes the next argument whatever it looks like, so `--ttl -1` reaches the
 * duration parser and is rejected there with a precise message.
 * Environment defaults (AGENTKV_DIR, AGENTKV_BACKEND, AGENTKV_SANDBOX) are
 * applied before parsing; an empty variable counts as unset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static const struct cli_opt *opt_find(const struct cli_opt *opts,
                                      const char *name, size_t len)
{
    for (; opts && opts->name; opts++)
        if (strlen(opts->name) == len && memcmp(opts->name, name, len) == 0)
            return opts;
    return NULL;
}

/* Stores a global flag's value in ctx. */
static void apply_global(struct cli_ctx *ctx, const struct cli_opt *opt,
                         const char *value, int *want_help)
{
    if (strcmp(opt->name, "dir") == 0)
        ctx->dir = value;
    else if (strcmp(opt->name, "backend") == 0)
        ctx->backend = value;
    else if (strcmp(opt->name, "sandbox") == 0)
        ctx->sandbox = value;
    else if (strcmp(opt->name, "config") == 0)
        ctx->config_path = value;
    else if (strcmp(opt->name, "json") == 0)
        ctx->json = 1;
    else if (strcmp(opt->name, "help") == 0)
        *want_help = 1;
}

static int bad_flag(struct cli_ctx *ctx, const char *arg, size_t len)
{
    char shown[CLI_QUOTE_BUF], name[CLI_QUOTE_BUF];
    snprintf(name, sizeof name, "%.*s", (int)(len < 200 ? len : 200), arg);
    cli_quote(name, shown);
    if (ctx->cmd)
        return cli_fail(ctx, AKV_EINVAL,
                        "unknown flag '%s' for '%s' (see 'agentkv help %s')",
                        shown, ctx->cmd->name, ctx->cmd->name);
    return cli_fail(ctx, AKV_EINVAL,
                    "unknown flag '%s' (see 'agentkv help')", shown);
}

/* Parses argv[*i], a flag; may consume argv[*i + 1] as its value. */
static int parse_flag(struct cli_ctx *ctx, int argc, char **argv, int *i,
                      struct cli_args *args, int *want_help)
{
    const char *a = argv[*i];
    if (strcmp(a, "-h") == 0) {
        *want_help = 1;
        return 0;
    }
    /* `agentkv --version` and `-V` before any command are the version
     * command, as in git, curl and redis-cli. */
    if (ctx->cmd == NULL &&
        (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)) {
        ctx->cmd = cli_command_find("version");
        return 0;
    }
    if (a[1] != '-')
        return bad_flag(ctx, a, strlen(a));
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);

    int global = 1;
    const struct cli_opt *opt = opt_find(cli_global_opts, name, len);
    if (opt == NULL && ctx->cmd) {
        opt = opt_find(ctx->cmd->opts, name, len);
        global = 0;
    }
    if (opt == NULL)
        return bad_flag(ctx, a, eq ? (size_t)(eq - a) : strlen(a));

    const char *value = "";
    if (opt->arg) {
        if (eq)
            value = eq + 1;
        else if (*i + 1 < argc)
            value = argv[++*i];
        else
            return cli_fail(ctx, AKV_EINVAL, "--%s needs a value (%s)",
                            opt->name, opt->arg);
    } else if (eq) {
        return cli_fail(ctx, AKV_EINVAL, "--%s takes no value", opt->name);
    }

    if (global) {
        apply_global(ctx, opt, value, want_help);
        return 0;
    }
    if (args->nset == CLI_MAX_SET)
        return cli_fail(ctx, AKV_EINVAL, "too many flags");
    args->set[args->nset].opt = opt;
    args->set[args->nset].value = value;
    args->nset++;
    return 0;
}

int cli_parse_argv(struct cli_ctx *ctx, int argc, char **argv,
                   struct cli_args *args, int *want_help)
{
    char shown[CLI_QUOTE_BUF];
    memset(args, 0, sizeof *args);
    *want_help = 0;
    args->pos = calloc(argc > 0 ? (size_t)argc : 1, sizeof *args->pos);
    if (args->pos == NULL)
        return cli_fail(ctx, AKV_ENOMEM, "out of memory");
    ctx->dir = env_or("AGENTKV_DIR", "./.agentkv");
    ctx->backend = env_or("AGENTKV_BACKEND", "lmdb");
    ctx->sandbox = env_or("AGENTKV_SANDBOX", AKV_DEFAULT_SANDBOX);

    int flags_done = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!flags_done && strcmp(a, "--") == 0) {
            flags_done = 1;
            continue;
        }
        if (!flags_done && a[0] == '-' && a[1] != '\0') {
            if (parse_flag(ctx, argc, argv, &i, args, want_help))
                return 1;
            continue;
        }
        if (ctx->cmd == NULL) {
            ctx->cmd = cli_command_find(a);
            if (ctx->cmd == NULL)
                return cli_fail(ctx, AKV_EINVAL,
                                "unknown command '%s' (see 'agentkv help')",
                                cli_quote(a, shown));
            continue;
        }
        args->pos[args->npos++] = a;
    }
    return 0;
}

void cli_args_free(struct cli_args *args)
{
    free(args->pos);
    args->pos = NULL;
    args->npos = 0;
}

/*
 * cli-util.c — helpers every command shares: recording the one error that
 * main() prints, checked writes to stdout, opening the configuration and the
 * store the way the command's table row asks, and parsing/rendering of the
 * small values that appear on the command line (scope, key, counts, sizes,
 * durations). Argument splitting itself is in args.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* ---- errors ---- */

static int fail_record(struct cli_ctx *ctx, const char *name, int exit_code,
                       const char *fmt, va_list ap)
{
    if (ctx->failed)
        return 1; /* the first error is the one worth reporting */
    ctx->failed = 1;
    ctx->err_name = name;
    ctx->err_exit = exit_code;
    vsnprintf(ctx->err_msg, sizeof ctx->err_msg, fmt, ap);
    /* The error is printed as exactly one line. */
    for (char *p = ctx->err_msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return 1;
}

int cli_fail(struct cli_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_record(ctx, akv_err_name(code), akv_err_exit_code(code), fmt, ap);
    va_end(ap);
    return 1;
}

static int fail_named(struct cli_ctx *ctx, const char *name, int exit_code,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_named(struct cli_ctx *ctx, const char *name, int exit_code,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_record(ctx, name, exit_code, fmt, ap);
    va_end(ap);
    return 1;
}

int cli_fail_lib(struct cli_ctx *ctx, int rc)
{
    const akv_error *e = akv_last_error();
    const char *msg = e->message[0] ? e->message : akv_strerror(rc);
    return cli_fail(ctx, rc, "%s", msg);
}

const char *cli_quote(const char *s, char buf[CLI_QUOTE_BUF])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i = 0;
    for (; s[i] && i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    if (s[i]) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* ---- stdout ---- */

int cli_stdout_failed(struct cli_ctx *ctx, int err)
{
    if (ctx->out_errno == 0)
        ctx->out_errno = err ? err : EIO;
    return 1;
}

static int out_failed(struct cli_ctx *ctx)
{
    return cli_stdout_failed(ctx, errno);
}

int cli_write(struct cli_ctx *ctx, const void *buf, size_t len)
{
    if (ctx->out_errno)
        return 1;
    errno = 0;
    if (len > 0 && fwrite(buf, 1, len, stdout) != len)
        return out_failed(ctx);
    return 0;
}

int cli_printf(struct cli_ctx *ctx, const char *fmt, ...)
{
    if (ctx->out_errno)
        return 1;
    va_list ap;
    va_start(ap, fmt);
    errno = 0;
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return n < 0 ? out_failed(ctx) : 0;
}

int cli_print_json_text(struct cli_ctx *ctx, const char *text)
{
    if (text == NULL)
        return cli_fail(ctx, AKV_ENOMEM, "cannot render JSON (out of memory or invalid UTF-8)");
    int rc = cli_write(ctx, text, strlen(text));
    return rc | cli_write(ctx, "\n", 1);
}

int cli_print_meta(struct cli_ctx *ctx, const akv_meta *m)
{
    char *text = akv_meta_to_json(m);
    int rc = cli_print_json_text(ctx, text);
    free(text);
    return rc;
}

int cli_print_json(struct cli_ctx *ctx, json_t *value)
{
    char *text = value ? json_dumps(value, JSON_COMPACT |
                                               JSON_REAL_PRECISION(
                                                   AKV_JSON_REAL_DIGITS))
                       : NULL;
    json_decref(value);
    int rc = cli_print_json_text(ctx, text);
    free(text);
    return rc;
}

int cli_flush(struct cli_ctx *ctx)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout))
        out_failed(ctx);
    if (ctx->out_errno == 0)
        return 0;
    /* An output failure outranks whatever the handler ran into after it:
     * the handler's own error is usually a consequence. */
    ctx->failed = 0;
    return fail_named(ctx, "io_error", 1, "cannot write to stdout: %s",
                      strerror(ctx->out_errno));
}

/* ---- configuration and store ---- */

/* The config file when neither --config nor AGENTKV_CONFIG names one
 * (docs/config.md): DIR/config.ini, else the user's XDG config file, each
 * only if it exists; NULL when neither does. */
static const char *default_config(struct cli_ctx *ctx)
{
    static char path[4096];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/config.ini", ctx->dir);
    if (n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0)
        return path;
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        n = snprintf(path, sizeof path, "%s/agentkv/config.ini", xdg);
    else if (home && *home)
        n = snprintf(path, sizeof path, "%s/.config/agentkv/config.ini",
                     home);
    else
        return NULL;
    if (n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0)
        return path;
    return NULL;
}

int cli_config(struct cli_ctx *ctx, const akv_config **out)
{
    if (ctx->cfg == NULL) {
        akv_config *cfg;
        int rc = akv_config_new(&cfg);
        if (rc != AKV_OK)
            return cli_fail_lib(ctx, rc);
        if (ctx->config_path == NULL) {
            const char *env = getenv("AGENTKV_CONFIG");
            ctx->config_path = env && *env ? env : default_config(ctx);
        }
        if (ctx->config_path &&
            (rc = akv_config_load(cfg, ctx->config_path)) != AKV_OK) {
            cli_fail_lib(ctx, rc);
            akv_config_free(cfg);
            return 1;
        }
        ctx->cfg = cfg;
    }
    *out = ctx->cfg;
    return 0;
}

int cli_store(struct cli_ctx *ctx, akv_store **out)
{
    if (ctx->store == NULL) {
        const akv_config *cfg = NULL; /* cli_config sets it */
        if (cli_config(ctx, &cfg))
            return 1;
        /* store.write_log is the server's: auto turns it on there and
         * every other command leaves it off. */
        enum cli_store_use use = ctx->cmd->store_use;
        int rc = AKV_OK;
        if (use != CLI_STORE_SERVE)
            rc = akv_config_set(ctx->cfg, "store", "write_log", "false");
        else if (akv_config_write_log(cfg) < 0)
            rc = akv_config_set(ctx->cfg, "store", "write_log", "true");
        if (rc != AKV_OK)
            return cli_fail_lib(ctx, rc);
        unsigned flags = use == CLI_STORE_WRITE || use == CLI_STORE_SERVE
                             ? AKV_OPEN_CREATE
                             : 0;
        rc = akv_store_open(&ctx->store, ctx->backend, ctx->dir, cfg, flags);
        if (rc != AKV_OK) {
            ctx->store = NULL;
            return cli_fail_lib(ctx, rc);
        }
    }
    *out = ctx->store;
    return 0;
}

/* ---- arguments ---- */

const char *cli_flag(const struct cli_args *args, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < args->nset; i++)
        if (strcmp(args->set[i].opt->name, name) == 0)
            v = args->set[i].value;
    return v;
}

int cli_has(const struct cli_args *args, const char *name)
{
    return cli_flag(args, name) != NULL;
}

int cli_parse_scope(struct cli_ctx *ctx, const char *name, akv_scope *out)
{
    int rc = akv_scope_parse(name, strlen(name), out);
    return rc == AKV_OK ? 0 : cli_fail_lib(ctx, rc);
}

int cli_parse_scope_opt(struct cli_ctx *ctx, const char *name, int *out)
{
    akv_scope sc;
    if (name == NULL) {
        *out = AKV_SCOPE_ALL;
        return 0;
    }
    if (cli_parse_scope(ctx, name, &sc))
        return 1;
    *out = (int)sc;
    return 0;
}

int cli_parse_key(struct cli_ctx *ctx, const char *key)
{
    int rc = akv_key_check(key, strlen(key));
    return rc == AKV_OK ? 0 : cli_fail_lib(ctx, rc);
}

int cli_parse_count(struct cli_ctx *ctx, const char *flag, const char *s,
                    uint64_t *out)
{
    char shown[CLI_QUOTE_BUF];
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno || v == 0)
        return cli_fail(ctx, AKV_EINVAL,
                        "--%s: '%s' is not a positive integer", flag,
                        cli_quote(s, shown));
    *out = v;
    return 0;
}

/* ---- rendering ---- */

const char *cli_human_size(uint64_t n, char buf[32])
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (n < 1024) {
        snprintf(buf, 32, "%" PRIu64 " B", n);
        return buf;
    }
    double v = (double)n;
    size_t u = 0;
    for (v /= 1024; v >= 1024 && u + 1 < sizeof units / sizeof units[0]; u++)
        v /= 1024;
    if (v < 10 && v != (double)(uint64_t)v)
        snprintf(buf, 32, "%.1f %s", v, units[u]);
    else
        snprintf(buf, 32, "%.0f %s", v, units[u]);
    return buf;
}

const char *cli_human_duration(int64_t s, char buf[32])
{
    if (s <= 0)
        snprintf(buf, 32, "never");
    else if (s % 86400 == 0 && s >= 7 * 86400)
        snprintf(buf, 32, "%" PRId64 "d", s / 86400);
    else if (s % 3600 == 0)
        snprintf(buf, 32, "%" PRId64 "h", s / 3600);
    else if (s % 60 == 0)
        snprintf(buf, 32, "%" PRId64 "m", s / 60);
    else
        snprintf(buf, 32, "%" PRId64 "s", s);
    return buf;
}

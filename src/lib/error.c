/*
 * error.c — the error table (AKV_ERRNO_MAP) turned into names, messages,
 * HTTP statuses and CLI exit codes, plus the thread-local "last error"
 * detail and the library's log hook. Nothing here knows about backends.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct err_row {
    int code;
    const char *name;
    int http;
    int exit_code;
    const char *message;
};

static const struct err_row err_rows[] = {
#define XX(e, v, name, http, exit, msg) {(v), (name), (http), (exit), (msg)},
    AKV_ERRNO_MAP(XX)
#undef XX
};

static const struct err_row *err_row(int err)
{
    for (size_t i = 0; i < sizeof err_rows / sizeof err_rows[0]; i++)
        if (err_rows[i].code == err)
            return &err_rows[i];
    return NULL;
}

const char *akv_err_name(int err)
{
    if (err == AKV_OK)
        return "ok";
    const struct err_row *r = err_row(err);
    return r ? r->name : "unknown_error";
}

const char *akv_strerror(int err)
{
    if (err == AKV_OK)
        return "success";
    const struct err_row *r = err_row(err);
    return r ? r->message : "unknown error";
}

int akv_err_http_status(int err)
{
    if (err == AKV_OK)
        return 200;
    const struct err_row *r = err_row(err);
    return r ? r->http : 500;
}

int akv_err_exit_code(int err)
{
    if (err == AKV_OK)
        return 0;
    const struct err_row *r = err_row(err);
    return r ? r->exit_code : 1;
}

int akv_err_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof err_rows / sizeof err_rows[0]; i++)
        if (strcmp(err_rows[i].name, name) == 0)
            return err_rows[i].code;
    return AKV_OK;
}

static _Thread_local akv_error last_error;

const akv_error *akv_last_error(void)
{
    if (last_error.code != AKV_OK && last_error.message[0] == '\0')
        snprintf(last_error.message, sizeof last_error.message, "%s",
                 akv_strerror(last_error.code));
    return &last_error;
}

void akv_error_clear(void)
{
    last_error.code = AKV_OK;
    last_error.message[0] = '\0';
    last_error.has_quota = 0;
}

void akv_error_restore(const akv_error *e)
{
    last_error = *e;
}

static void set_message(const char *fmt, va_list ap)
{
    if (fmt)
        vsnprintf(last_error.message, sizeof last_error.message, fmt, ap);
    else
        last_error.message[0] = '\0';
}

int akv_fail(int code, const char *fmt, ...)
{
    va_list ap;
    last_error.code = code;
    last_error.has_quota = 0;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    return code;
}

int akv_fail_quota(akv_scope scope, uint64_t used, uint64_t quota,
                   uint64_t would_be, const char *fmt, ...)
{
    va_list ap;
    last_error.code = AKV_EQUOTA;
    last_error.has_quota = 1;
    snprintf(last_error.scope, sizeof last_error.scope, "%s",
             akv_scope_name(scope));
    last_error.used = used;
    last_error.quota = quota;
    last_error.would_be = would_be;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    return AKV_EQUOTA;
}

static akv_log_fn log_fn;
static void *log_ctx;

void akv_set_log(akv_log_fn fn, void *ctx)
{
    log_fn = fn;
    log_ctx = ctx;
}

void akv_log(const char *level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (log_fn)
        log_fn(log_ctx, level, buf);
    else
        fprintf(stderr, "agentkv: %s: %s\n", level, buf);
}

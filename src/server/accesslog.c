/*
 * accesslog.c — one access-log line per request, and the server's own
 * event lines (start, reload, expiry, errors).
 *
 * Access lines (--log-format text, the default):
 *
 *   2026-11-26T05:27:20.123Z 127.0.0.1:51234 GET /v1/sandboxes/b/kv/task/k 200 1024 0.000153
 *
 * time (RFC 3339 UTC, ms), remote address:port, method, request target
 * (bytes outside printable ASCII, '"' and '\' shown as \xNN), status, body
 * bytes sent, duration in seconds from the request's first byte to its
 * response being handed to the socket. With --log-format json, one object
 * per line with the keys time, remote, method, path, status, bytes,
 * duration.
 *
 * Lines are appended to a per-worker buffer and written with one write(2)
 * per event-loop turn (an event activated during the turn runs after its
 * I/O: server.c, worker_init), or
 * as soon as the buffer holds more than LOG_FLUSH bytes, so a busy server
 * makes far fewer than one system call per request. Each write holds whole
 * lines; below PIPE_BUF bytes, writes from different workers to a pipe do
 * not interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "server.h"

#define LOG_FLUSH 3584

struct accesslog {
    int fd;      /* -1: disabled */
    int owned;   /* opened here, closed on exit */
    int json;
};

uint64_t server_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t server_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int accesslog_open(struct server *srv, char *err, size_t errlen)
{
    struct accesslog *l = calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return AKV_ENOMEM;
    }
    const char *path = srv->opts.access_log;
    l->json = srv->opts.log_json;
    if (path == NULL || strcmp(path, "-") == 0) {
        l->fd = 2;
    } else if (strcmp(path, "off") == 0) {
        l->fd = -1;
    } else {
        l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (l->fd < 0) {
            snprintf(err, errlen, "cannot open access log %s: %s", path,
                     strerror(errno));
            free(l);
            return AKV_EINVAL;
        }
        l->owned = 1;
    }
    srv->log = l;
    return AKV_OK;
}

void accesslog_close(struct server *srv)
{
    if (srv->log && srv->log->owned)
        close(srv->log->fd);
    free(srv->log);
    srv->log = NULL;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* a log that cannot be written is dropped */
        p += w;
        n -= (size_t)w;
    }
}

void accesslog_flush(struct worker *w)
{
    struct accesslog *l = w->srv->log;
    if (w->log.len && l && l->fd >= 0)
        write_all(l->fd, w->log.p, w->log.len);
    ob_reset(&w->log);
}

void accesslog_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    accesslog_flush(arg);
}

/* "2026-11-26T05:27:20.123Z", reformatting the seconds only when they
 * change (per thread). */
static size_t log_time(char out[32])
{
    static _Thread_local int64_t cached_sec = -1;
    static _Thread_local char prefix[AKV_TIME_BUF];
    int64_t ms = server_wall_ms();
    if (ms / 1000 != cached_sec) {
        cached_sec = ms / 1000;
        akv_time_format(cached_sec * 1000, prefix); /* "...:20.000Z" */
    }
    size_t n = strlen(prefix);
    memcpy(out, prefix, n + 1);
    if (n >= 5) { /* replace the milliseconds */
        int f = (int)(ms % 1000);
        out[n - 4] = (char)('0' + f / 100);
        out[n - 3] = (char)('0' + f / 10 % 10);
        out[n - 2] = (char)('0' + f % 10);
    }
    return n;
}

/* Seconds with six decimals, without printf (it runs once per request). */
static void duration(struct obuf *b, uint64_t ns)
{
    uint64_t us = ns / 1000;
    char frac[7];
    ob_u64(b, us / 1000000);
    us %= 1000000;
    for (int i = 5; i >= 0; i--, us /= 10)
        frac[i + 1] = (char)('0' + us % 10);
    frac[0] = '.';
    ob_add(b, frac, sizeof frac);
}

static void escaped_target(struct obuf *b, struct http_span t)
{
    static const char digits[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < t.len; i++) {
        unsigned char c = (unsigned char)t.p[i];
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\')
            continue;
        ob_add(b, t.p + run, i - run);
        char esc[4] = {'\\', 'x', digits[c >> 4], digits[c & 15]};
        ob_add(b, esc, 4);
        run = i + 1;
    }
    ob_add(b, t.p + run, t.len - run);
}

void accesslog_add(struct worker *w, const char *remote, unsigned method,
                   struct http_span method_str, struct http_span target,
                   int status, uint64_t bytes, uint64_t duration_ns)
{
    (void)method;
    struct accesslog *l = w->srv->log;
    if (l == NULL || l->fd < 0)
        return;
    struct obuf *b = &w->log;
    int first = b->len == 0;
    char when[32];
    size_t tn = log_time(when);
    if (l->json) {
        /* Seconds to the microsecond, as the text format prints them. */
        double secs = (double)(duration_ns / 1000) / 1e6;
        char *line = http_json_dump(json_pack(
            "{s:s#,s:o,s:o,s:o,s:I,s:I,s:f}", "time", when, (int)tn,
            "remote", http_json_string(remote, strlen(remote)), "method",
            http_json_string(method_str.p, method_str.len), "path",
            http_json_string(target.p, target.len), "status",
            (json_int_t)status, "bytes", (json_int_t)bytes, "duration",
            secs));
        if (line == NULL) {
            b->oom = 1;
        } else {
            ob_str(b, line);
            ob_add(b, "\n", 1);
            free(line);
        }
    } else {
        ob_add(b, when, tn);
        ob_add(b, " ", 1);
        ob_str(b, remote);
        ob_add(b, " ", 1);
        ob_add(b, method_str.p, method_str.len);
        ob_add(b, " ", 1);
        escaped_target(b, target);
        ob_add(b, " ", 1);
        ob_u64(b, (uint64_t)status);
        ob_add(b, " ", 1);
        ob_u64(b, bytes);
        ob_add(b, " ", 1);
        duration(b, duration_ns);
        ob_add(b, "\n", 1);
    }
    if (b->oom) {
        ob_reset(b);
        return;
    }
    if (b->len > LOG_FLUSH)
        accesslog_flush(w);
    else if (first && w->ev_flush)
        event_active(w->ev_flush, EV_READ, 0);
}

void server_log(struct server *srv, const char *level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct obuf b = {0};
    if (srv && srv->opts.log_json) {
        char when[32];
        size_t tn = log_time(when);
        char *line = http_json_dump(json_pack(
            "{s:s#,s:o,s:o}", "time", when, (int)tn, "level",
            http_json_string(level, strlen(level)), "message",
            http_json_string(msg, strlen(msg))));
        if (line == NULL) {
            b.oom = 1;
        } else {
            ob_str(&b, line);
            ob_str(&b, "\n");
            free(line);
        }
    } else {
        ob_str(&b, "agentkv: ");
        if (strcmp(level, "info") != 0) {
            ob_str(&b, level);
            ob_str(&b, ": ");
        }
        ob_str(&b, msg);
        ob_str(&b, "\n");
    }
    if (!b.oom)
        write_all(2, b.p, b.len);
    ob_free(&b);
}

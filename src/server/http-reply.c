/*
 * http-reply.c — building responses: the growable output buffer, header
 * lines, JSON bodies and the error body of SPEC.md §2,
 *
 *   {"error":{"code":"quota_exceeded","message":"...","scope":"task",
 *             "used":...,"quota":...,"would_be":...}}
 *
 * with the status from akv_err_http_status(). The status line, Date,
 * Content-Length and Connection headers are added when the response is
 * sent (http-conn.c); handlers only add their own headers and the body.
 * Bodies are made with jansson: http_json_string() is the one place that
 * turns request bytes (which may not be UTF-8) into a JSON string.
 * Nothing here writes to a socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <sys/socket.h>

#include "akvx.h"
#include "http-parse.h"
#include "server.h"

/* ---- growable buffer ---------------------------------------------------- */

int ob_reserve(struct obuf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len >= more)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void ob_add(struct obuf *b, const void *data, size_t len)
{
    if (len == 0 || ob_reserve(b, len) != 0)
        return;
    memcpy(b->p + b->len, data, len);
    b->len += len;
}

void ob_str(struct obuf *b, const char *s)
{
    ob_add(b, s, strlen(s));
}

void ob_u64(struct obuf *b, uint64_t v)
{
    char tmp[AKVX_INT_BUF];
    ob_add(b, tmp, akvx_u64_dec(v, tmp));
}

void ob_i64(struct obuf *b, int64_t v)
{
    if (v < 0) {
        ob_add(b, "-", 1);
        ob_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        ob_u64(b, (uint64_t)v);
    }
}

void ob_printf(struct obuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        ob_add(b, small, (size_t)n);
        return;
    }
    if (ob_reserve(b, (size_t)n + 1) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

json_t *http_json_string(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, seq;
    while (i < len && (seq = akvx_utf8_seq(u + i, len - i)))
        i += seq;
    if (i == len)
        return json_stringn(s, len);
    /* Each byte that does not start a valid sequence becomes U+FFFD (3
     * bytes), so the copy is at most three times as long. */
    if (len > SIZE_MAX / 3)
        return NULL;
    char *copy = malloc(len * 3), *o = copy;
    if (copy == NULL)
        return NULL;
    memcpy(o, s, i);
    o += i;
    while (i < len) {
        seq = akvx_utf8_seq(u + i, len - i);
        if (seq) {
            memcpy(o, s + i, seq);
            o += seq;
            i += seq;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    json_t *v = json_stringn(copy, (size_t)(o - copy));
    free(copy);
    return v;
}

char *http_json_dump(json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(
                                                      AKV_JSON_REAL_DIGITS))
                   : NULL;
    json_decref(v);
    return text;
}

void ob_reset(struct obuf *b)
{
    /* Give back big buffers (a large list) so that an idle connection
     * stays small; keep small ones for the next response. */
    if (b->cap > 64 * 1024) {
        free(b->p);
        b->p = NULL;
        b->cap = 0;
    }
    b->len = 0;
    b->oom = 0;
}

void ob_free(struct obuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- headers and bodies ------------------------------------------------- */

void http_header_n(struct http_req *r, const char *name, const char *value,
                   size_t len)
{
    struct obuf *h = &r->resp.hdrs;
    ob_str(h, name);
    ob_add(h, ": ", 2);
    ob_add(h, value, len);
    ob_add(h, "\r\n", 2);
}

void http_header(struct http_req *r, const char *name, const char *value)
{
    http_header_n(r, name, value, strlen(value));
}

void http_reply_json(struct http_req *r, int status, const char *json,
                     size_t len)
{
    r->resp.status = status;
    http_header(r, "Content-Type", "application/json");
    ob_add(&r->resp.body, json, len);
}

void http_reply_json_text(struct http_req *r, int status, char *json)
{
    if (json == NULL) {
        http_error(r, AKV_ENOMEM, "out of memory");
        return;
    }
    http_reply_json(r, status, json, strlen(json));
    free(json);
}

/* jansson's dump callback: appends to the obuf data. A body is dumped in
 * many small pieces (each key, value and punctuation), so the common case,
 * room left in the buffer, is a bare copy. */
static int ob_dump(const char *buf, size_t size, void *data)
{
    struct obuf *b = data;
    if (b->cap - b->len >= size && !b->oom) {
        memcpy(b->p + b->len, buf, size);
        b->len += size;
        return 0;
    }
    ob_add(b, buf, size);
    return b->oom ? -1 : 0;
}

void http_reply_json_value(struct http_req *r, int status, json_t *v)
{
    /* Dumped straight into the body: no text to grow, copy and free. */
    int bad = v == NULL ||
              json_dump_callback(v, ob_dump, &r->resp.body,
                                 JSON_COMPACT | JSON_REAL_PRECISION(
                                                    AKV_JSON_REAL_DIGITS)) != 0;
    json_decref(v);
    if (bad) {
        http_error(r, AKV_ENOMEM, "out of memory");
        return;
    }
    r->resp.status = status;
    http_header(r, "Content-Type", "application/json");
}

void http_resp_clear(struct http_resp *resp)
{
    resp->status = 0;
    resp->streamed = 0;
    resp->streamed_bytes = 0;
    ob_reset(&resp->hdrs);
    ob_reset(&resp->body);
    if (resp->hold) {
        akv_value_release(resp->hold);
        resp->hold = NULL;
    }
    free(resp->ext_owned);
    resp->ext_owned = NULL;
    resp->ext = NULL;
    resp->ext_len = 0;
}

void http_resp_free(struct http_resp *resp)
{
    http_resp_clear(resp);
    ob_free(&resp->hdrs);
    ob_free(&resp->body);
}

/* ---- errors ------------------------------------------------------------- */

static void error_body(struct http_req *r, int status, const char *code,
                       const char *message, const akv_error *quota)
{
    http_resp_clear(&r->resp);
    json_t *err = json_object();
    int bad = err == NULL;
    if (!bad) {
        bad |= json_object_set_new(err, "code", json_string(code));
        bad |= json_object_set_new(err, "message",
                                   http_json_string(message, strlen(message)));
    }
    if (!bad && quota && quota->has_quota) {
        bad |= json_object_set_new(err, "scope",
                                   http_json_string(quota->scope,
                                                    strlen(quota->scope)));
        bad |= json_object_set_new(err, "used",
                                   json_integer((json_int_t)quota->used));
        bad |= json_object_set_new(err, "quota",
                                   json_integer((json_int_t)quota->quota));
        bad |= json_object_set_new(err, "would_be",
                                   json_integer((json_int_t)quota->would_be));
    }
    char *text = bad ? NULL : http_json_dump(json_pack("{s:O}", "error", err));
    json_decref(err);
    r->resp.status = status;
    http_header(r, "Content-Type", "application/json");
    if (text)
        ob_str(&r->resp.body, text);
    else
        r->resp.body.oom = 1; /* handled as any body that ran out of memory */
    free(text);
    if (status == 401)
        http_header(r, "WWW-Authenticate", "Bearer realm=\"agentkv\"");
}

void http_error_lib(struct http_req *r, int rc)
{
    http_error_from(r, rc, akv_last_error());
}

void http_error_from(struct http_req *r, int rc, const akv_error *e)
{
    const char *message = e->code == rc && e->message[0] ? e->message
                                                          : akv_strerror(rc);
    error_body(r, akv_err_http_status(rc), akv_err_name(rc), message,
               e->code == rc ? e : NULL);
}

void http_error(struct http_req *r, int code, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    error_body(r, akv_err_http_status(code), akv_err_name(code), message,
               NULL);
}

void http_error_status(struct http_req *r, int status, const char *code,
                       const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    error_body(r, status, code, message, NULL);
}

/* ---- query parameters --------------------------------------------------- */

int http_query(struct http_req *r, const char *const *names, size_t n,
               const char **out, char *buf, size_t buflen)
{
    struct http_span q = r->head->query, name, value;
    size_t pos = 0, used = 0;
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    while (http_query_next(q, &pos, &name, &value)) {
        char dname[64];
        size_t dlen;
        const char *why;
        if (http_pct_decode(name.p, name.len, dname, sizeof dname - 1, &dlen,
                            &why) != 0) {
            http_error(r, AKV_EINVAL, "invalid query parameter name: %s", why);
            return -1;
        }
        dname[dlen] = '\0';
        size_t i = 0;
        while (i < n && strcmp(names[i], dname) != 0)
            i++;
        if (i == n || strlen(dname) != dlen) {
            char shown[80];
            size_t k;
            /* Show the name as printable text. */
            for (k = 0; k < dlen && k < 64; k++)
                shown[k] = dname[k] >= 0x20 && dname[k] < 0x7f ? dname[k] : '?';
            shown[k] = '\0';
            http_error(r, AKV_EINVAL, "unknown query parameter '%s'", shown);
            return -1;
        }
        if (out[i]) {
            http_error(r, AKV_EINVAL, "query parameter '%s' given twice",
                       names[i]);
            return -1;
        }
        if (used + 1 >= buflen) {
            http_error(r, AKV_EINVAL, "query string too long");
            return -1;
        }
        size_t vlen;
        if (http_pct_decode(value.p ? value.p : "", value.len, buf + used,
                            buflen - used - 1, &vlen, &why) != 0) {
            http_error(r, AKV_EINVAL, "invalid value of query parameter "
                                      "'%s': %s", names[i], why);
            return -1;
        }
        buf[used + vlen] = '\0';
        out[i] = buf + used;
        used += vlen + 1;
    }
    return 0;
}

/* ---- streamed responses ------------------------------------------------- */

static int stream_all(struct http_req *r, const char *p, size_t len)
{
    int64_t wait = r->srv->opts.request_timeout_ms > 0
                       ? r->srv->opts.request_timeout_ms
                       : 30000;
    while (len > 0) {
        ssize_t n = send(r->fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = r->fd, .events = POLLOUT};
            if (poll(&pfd, 1, (int)wait) > 0 &&
                !(pfd.revents & (POLLERR | POLLHUP)))
                continue;
        }
        return -1;
    }
    return 0;
}

int http_stream_begin(struct http_req *r, int status,
                      const char *content_type)
{
    struct obuf b = {0};
    ob_printf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                  "Cache-Control: no-cache\r\nConnection: close\r\n",
              status, http_reason(status), content_type);
    ob_add(&b, r->resp.hdrs.p, r->resp.hdrs.len);
    ob_str(&b, "\r\n");
    r->resp.status = status;
    r->resp.streamed = 1;
    int rc = b.oom ? -1 : stream_all(r, b.p, b.len);
    ob_free(&b);
    return rc;
}

int http_stream_write(struct http_req *r, const void *data, size_t len)
{
    if (stream_all(r, data, len) != 0)
        return -1;
    r->resp.streamed_bytes += len;
    return 0;
}

int http_stream_peer_gone(struct http_req *r)
{
    struct pollfd pfd = {.fd = r->fd, .events = POLLRDHUP};
    return poll(&pfd, 1, 0) > 0 &&
           (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

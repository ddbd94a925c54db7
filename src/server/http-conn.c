/*
 * http-conn.c — HTTP/1.1 connections: reading request heads and bodies,
 * handing requests to the router and then to dispatch.c (which runs the
 * handler), writing responses, keep-alive and pipelining, timeouts, and
 * closing gracefully. Sockets come from accept.c; struct conn is in
 * conn.h.
 *
 * Why not evhttp: libevent 2.1's evhttp answers oversized bodies, oversized
 * heads and malformed requests with its own HTML pages and offers no hook
 * between the head and the body of a server request, so neither the JSON
 * error bodies of SPEC.md §2 nor a 413 before the body is read are possible
 * with it (docs/decisions.md has the measurements). This file does the
 * HTTP/1.1 framing itself on libevent's event loop, with the parsing in
 * http-parse.c.
 *
 * A connection moves through these states:
 *
 *   IDLE ──bytes──▶ HEAD ──head──▶ BODY / CHUNKED ──body──▶ (handler)
 *     ▲                                                        │
 *     └────────────── response written (keep-alive) ◀── BUSY ◀─┤ pool
 *                                                     WRITE ◀──┘ socket full
 *   any error, Connection: close, or shutdown ──▶ LINGER ──▶ closed
 *
 * Buffers: `in` holds the head (and small bodies, and pipelined bytes); it
 * only grows while no parsed head points into it, or together with a
 * re-parse, so the spans in `head` never dangle. Bodies larger than
 * IN_INLINE_MAX go to a separate buffer of exactly Content-Length bytes,
 * read straight from the socket. A response is written with one writev of
 * status line, handler headers and body; what the socket does not take is
 * copied aside (so a store snapshot is never held across event-loop turns).
 *
 * Closing: after the last response the write side is shut down and the
 * connection lingers, reading and discarding, for up to LINGER_MS, so that
 * a client still sending (a refused upload) reads the response instead of a
 * reset.
 *
 * Limits (SPEC.md §4 "Behaviour", docs/operations.md):
 *   - Connections: all workers together hold at most srv->max_conns. At the
 *     cap, or out of descriptors, a new connection takes the place of the
 *     oldest one that never sent a complete request head (else of the
 *     longest idle keep-alive one), so that a flood of silent sockets cannot
 *     lock real clients out; if there is none it is closed at once. A
 *     descriptor kept in reserve lets that one accept happen even at
 *     EMFILE, and the accept loop never spins: out of descriptors with
 *     nothing to close, it pauses and says so at most once a minute.
 *   - Header timeout: a connection that has not sent a complete head within
 *     header_timeout_ms of its start (or of the first byte of a head) is
 *     closed (408 once bytes of a head arrived).
 *   - Upload budget: request bodies held outside `in` (Content-Length
 *     bodies larger than IN_INLINE_MAX, and chunked bodies as they grow)
 *     reserve SERVER_BODY_COPIES times their bytes in srv->body_inflight
 *     (the store copies a value while it writes it) before they are read; one
 *     that does not fit is answered 503 with Retry-After and the connection
 *     closed. Invariant: c->budget is exactly what c reserved, c->body_cap
 *     <= c->budget for a separate body, the sum over connections is
 *     srv->body_inflight, and a connection holds none outside BODY,
 *     CHUNKED, BUSY and WRITE (released in request_done and conn_free, the
 *     only places a body is freed).
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth.h"
#include "conn.h"
#include "metrics.h"
#include "server.h"

#define IN_INITIAL 8192
#define IN_KEEP 16384           /* shrink `in` back when idle and larger */
#define IN_INLINE_MAX (64 * 1024) /* bodies up to this stay in `in` */
#define LINGER_MS 2000
#define STOP_GRACE_MS 10000

/* ---- invariants and the upload budget ----------------------------------- */

/* The state machine's invariants (the diagram above), checked at every
 * step in debug builds. */
static void conn_check(const struct conn *c)
{
    (void)c;
    assert(c->in != NULL && c->in_len <= c->in_cap);
    assert(c->rest <= c->in_len || c->state == C_BUSY ||
           c->state == C_WRITE || c->state == C_LINGER);
    assert(!c->body_inline || c->body == NULL);
    assert(c->body_len <= c->body_cap || c->body_inline);
    assert(c->body_inline || c->body_cap <= c->budget);
    switch (c->state) {
    case C_IDLE:
        assert(c->budget == 0 && c->body == NULL && !c->have_head);
        break;
    case C_HEAD:
        assert(c->budget == 0 && c->body == NULL);
        break;
    case C_BODY:
        assert(c->have_head && c->head.head_len <= c->in_len);
        /* The head's spans point into `in` (re-parsed when it moved). */
        assert(c->head.target.p > c->in &&
               c->head.target.p + c->head.target.len <=
                   c->in + c->head.head_len);
        assert(c->body_inline ? c->head.head_len + c->body_need <= c->in_cap
                              : c->body_need == c->body_cap);
        break;
    case C_CHUNKED:
        assert(c->have_head && !c->body_inline &&
               c->head.head_len <= c->in_len && c->body_len <= c->limit);
        assert(c->head.target.p > c->in &&
               c->head.target.p + c->head.target.len <=
                   c->in + c->head.head_len);
        break;
    case C_BUSY:
    case C_WRITE:
        break;
    case C_LINGER:
        assert(c->budget == 0 && c->body == NULL);
        break;
    }
}

#define ST(x) (1u << (x))
/* The transitions of the diagram above: legal[from] has a bit per state
 * the connection may move to. */
static const unsigned legal[] = {
    [C_IDLE] = ST(C_IDLE) | ST(C_HEAD) | ST(C_LINGER),
    [C_HEAD] = ST(C_IDLE) | ST(C_HEAD) | ST(C_BODY) | ST(C_CHUNKED) |
               ST(C_BUSY) | ST(C_WRITE) | ST(C_LINGER),
    [C_BODY] = ST(C_IDLE) | ST(C_BUSY) | ST(C_WRITE) | ST(C_LINGER),
    [C_CHUNKED] = ST(C_IDLE) | ST(C_BUSY) | ST(C_WRITE) | ST(C_LINGER),
    [C_BUSY] = ST(C_IDLE) | ST(C_WRITE) | ST(C_LINGER),
    [C_WRITE] = ST(C_IDLE) | ST(C_LINGER),
    [C_LINGER] = 0,
};

void conn_to(struct conn *c, enum conn_state to)
{
    (void)legal; /* read by the assert only */
    assert(legal[c->state] & ST(to));
    c->state = to;
}

/* Reserves the upload budget for n more body bytes of c (charged
 * SERVER_BODY_COPIES times); 0, or -1 when they do not fit in what the
 * other requests left. */
static int budget_take(struct conn *c, uint64_t n)
{
    struct server *srv = c->w->srv;
    if (n > UINT64_MAX / SERVER_BODY_COPIES)
        return -1;
    n *= SERVER_BODY_COPIES;
    uint64_t cur = atomic_load(&srv->body_inflight);
    do {
        if (n > srv->body_budget || cur > srv->body_budget - n)
            return -1;
    } while (!atomic_compare_exchange_weak(&srv->body_inflight, &cur,
                                           cur + n));
    c->budget += n;
    return 0;
}

/* Gives back everything c reserved (its body is freed, or about to be). */
static void budget_release(struct conn *c)
{
    if (c->budget == 0)
        return;
    uint64_t old = atomic_fetch_sub(&c->w->srv->body_inflight, c->budget);
    assert(old >= c->budget); /* the sum never goes below zero */
    (void)old;
    c->budget = 0;
}

/* Frees a separate body buffer and its reservation. */
static void body_free(struct conn *c)
{
    if (!c->body_inline) {
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
    }
    budget_release(c);
}

/* ---- lifetime ----------------------------------------------------------- */

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);

void conn_free(struct conn *c)
{
    struct worker *w = c->w;
    atomic_fetch_sub(&w->load, 1);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->ev_read);
    event_free(c->ev_write);
    close(c->fd);
    free(c->in);
    body_free(c);
    http_resp_free(&c->req.resp);
    ob_free(&c->spill);
    auth_memo_wipe(&c->auth_memo);
    free(c);
    w->nconns--;
    metrics_connections(w->metrics, -1);
    if (w->stopping && w->nconns == 0)
        event_base_loopbreak(w->base);
}

void conn_free_all(struct worker *w)
{
    while (w->conns)
        conn_free(w->conns);
}

static void format_remote(const struct sockaddr_storage *ss, char *out,
                          size_t outlen)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
        snprintf(out, outlen, "%s:%d", host, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
        snprintf(out, outlen, "[%s]:%d", host, port);
    } else {
        snprintf(out, outlen, "-");
    }
}

/* Takes ownership of fd; w->load already counts it. */
void conn_new(struct worker *w, int fd, const struct sockaddr_storage *ss)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL || (c->in = malloc(IN_INITIAL)) == NULL) {
        free(c);
        close(fd);
        atomic_fetch_sub(&w->load, 1);
        return;
    }
    c->in_cap = IN_INITIAL;
    c->w = w;
    c->fd = fd;
    c->ev_read = event_new(w->base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->ev_write = event_new(w->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    if (c->ev_read == NULL || c->ev_write == NULL) {
        if (c->ev_read)
            event_free(c->ev_read);
        if (c->ev_write)
            event_free(c->ev_write);
        free(c->in);
        free(c);
        close(fd);
        atomic_fetch_sub(&w->load, 1);
        return;
    }
    format_remote(ss, c->remote, sizeof c->remote);
    c->state = C_IDLE; /* the initial state */
    c->t_activity = c->t_accept = now_ms();
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    metrics_connections(w->metrics, 1);
    event_add(c->ev_read, NULL);
    c->reading = 1;
}

void conn_set_reading(struct conn *c, int on)
{
    if (on && !c->reading)
        event_add(c->ev_read, NULL);
    else if (!on && c->reading)
        event_del(c->ev_read);
    c->reading = on;
}

/* ---- responses ---------------------------------------------------------- */

static int start_close(struct conn *c)
{
    if (c->peer_eof) {
        conn_free(c);
        return -1;
    }
    shutdown(c->fd, SHUT_WR);
    conn_to(c, C_LINGER);
    c->t_activity = now_ms();
    c->in_len = 0;
    conn_set_reading(c, 1);
    return 1;
}

/*
 * Bookkeeping once a response is fully handed to the socket: metrics, the
 * access log, and either the next request (returns 0; the connection is
 * IDLE, possibly with pipelined bytes) or closing (returns 1 or -1).
 */
static int request_done(struct conn *c)
{
    struct worker *w = c->w;
    struct http_req *r = &c->req;
    uint64_t end_ns = w->now_ns, dur = end_ns - c->t_start;
    unsigned method = c->have_head ? c->head.method : HTTP_OTHER;
    static const struct http_span dash = {"-", 1};

    metrics_request(w->metrics, method, router_index(r->route), c->status, dur);
    if (r->hit >= 0 && r->has_scope)
        metrics_read(w->metrics, r->scope, r->hit);
    accesslog_add(w, c->remote, method,
                  c->have_head ? c->head.method_str : dash,
                  c->have_head ? c->head.target : dash, c->status, c->bytes,
                  dur);

    http_resp_clear(&r->resp);
    body_free(c);
    c->body_len = 0;
    c->body_inline = 0;
    if (!c->keep_alive)
        return start_close(c);

    if (c->rest > c->in_len)
        c->rest = c->in_len;
    memmove(c->in, c->in + c->rest, c->in_len - c->rest);
    c->in_len -= c->rest;
    c->rest = 0;
    c->scanned = 0;
    c->line_ok = 0;
    c->have_head = 0;
    conn_to(c, C_IDLE);
    if (c->in_cap > IN_KEEP && c->in_len <= IN_INITIAL) {
        char *p = realloc(c->in, IN_INITIAL);
        if (p) {
            c->in = p;
            c->in_cap = IN_INITIAL;
        }
    }
    c->t_activity = (int64_t)(end_ns / 1000000u);
    conn_set_reading(c, 1);
    conn_check(c);
    return 0;
}

/* The wall clock is read when the second shown is over by the monotonic
 * clock, not for every response: a step of the wall clock shows in the
 * Date header at the next second at the latest. */
static void refresh_date(struct worker *w)
{
    if (w->now_ns < w->date_next_ns)
        return;
    int64_t ms = server_wall_ms(), frac = ms % 1000;
    if (frac < 0)
        frac += 1000;
    w->date_len = http_date(ms, w->date);
    w->date_next_ns = w->now_ns + (uint64_t)(1000 - frac) * 1000000u;
}

/* Appends n decimal digits of v to p; returns the new end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}
#define PUT_LIT(p, s) put_str((p), (s), sizeof(s) - 1)

/*
 * Writes the response in c->req.resp. Returns 0 when it is fully written
 * and the connection is ready for the next request, 1 when waiting (the
 * socket is full, or the connection lingers before closing), -1 when the
 * connection is gone.
 */
int conn_send_response(struct conn *c)
{
    struct worker *w = c->w;
    struct http_resp *resp = &c->req.resp;

    w->now_ns = server_now_ns(); /* the request's end, for request_done() */
    if (resp->streamed) { /* the handler sent it all (http_stream_begin) */
        c->status = resp->status;
        c->bytes = resp->streamed_bytes;
        c->keep_alive = 0;
        return request_done(c);
    }
    if (resp->status == 0)
        http_error(&c->req, AKV_EUNAVAILABLE, "no response was produced");
    if (resp->hdrs.oom || resp->body.oom)
        http_error(&c->req, AKV_ENOMEM, "out of memory building the response");

    int status = resp->status;
    const char *body = resp->ext ? resp->ext : resp->body.p;
    size_t blen = resp->ext ? resp->ext_len : resp->body.len;
    int no_length = status == 204 || status == 304;
    int head_only = c->have_head && c->head.method == HTTP_HEAD;
    size_t send_len = head_only || no_length ? 0 : blen;

    refresh_date(w);
    char *p = c->line;
    p = PUT_LIT(p, "HTTP/1.1 ");
    p = put_u64(p, (uint64_t)status);
    *p++ = ' ';
    const char *reason = http_reason(status);
    p = put_str(p, reason, strlen(reason));
    p = PUT_LIT(p, "\r\nDate: ");
    p = put_str(p, w->date, w->date_len);
    p = PUT_LIT(p, "\r\n");
    if (!no_length) {
        p = PUT_LIT(p, "Content-Length: ");
        p = put_u64(p, blen);
        p = PUT_LIT(p, "\r\n");
    }
    if (!c->keep_alive)
        p = PUT_LIT(p, "Connection: close\r\n");
    else if (c->have_head && c->head.minor == 0)
        p = PUT_LIT(p, "Connection: keep-alive\r\n");

    struct iovec iov[4] = {
        {c->line, (size_t)(p - c->line)},
        {resp->hdrs.p, resp->hdrs.len},
        {(void *)"\r\n", 2},
        {(void *)body, send_len},
    };
    size_t total = 0;
    for (int i = 0; i < 4; i++)
        total += iov[i].iov_len;
    c->status = status;
    c->bytes = send_len;

    ssize_t n;
    do
        n = writev(c->fd, iov, 4);
    while (n < 0 && errno == EINTR);
    if (n >= 0 && (size_t)n == total)
        return request_done(c);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        conn_free(c);
        return -1;
    }
    /* The socket took part of it: keep the rest in our own buffer, so that
     * the value's read snapshot is released now. */
    size_t skip = n > 0 ? (size_t)n : 0;
    ob_reset(&c->spill);
    c->spill_off = 0;
    for (int i = 0; i < 4; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        ob_add(&c->spill, (const char *)iov[i].iov_base + skip,
               iov[i].iov_len - skip);
        skip = 0;
    }
    http_resp_clear(resp);
    if (c->spill.oom) {
        conn_free(c);
        return -1;
    }
    conn_to(c, C_WRITE);
    c->t_activity = now_ms();
    conn_set_reading(c, 0);
    event_add(c->ev_write, NULL);
    return 1;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct conn *c = arg;
    ssize_t n = write(fd, c->spill.p + c->spill_off,
                      c->spill.len - c->spill_off);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        conn_free(c);
        return;
    }
    c->spill_off += (size_t)n;
    c->w->now_ns = server_now_ns(); /* the request's end, when it is */
    c->t_activity = (int64_t)(c->w->now_ns / 1000000u);
    if (c->spill_off < c->spill.len)
        return;
    event_del(c->ev_write);
    ob_reset(&c->spill);
    if (request_done(c) == 0)
        conn_process(c);
}

/* Resets the per-request part of c->req, keeping the response buffers. */
static void req_reset(struct conn *c)
{
    struct http_req *r = &c->req;
    struct http_resp keep = r->resp;
    memset(r, 0, sizeof *r);
    r->resp = keep;
    http_resp_clear(&r->resp);
    r->srv = c->w->srv;
    r->store = c->w->srv->store;
    r->head = &c->head;
    r->hit = -1;
}

/* A request that cannot be processed at the protocol level (bad head,
 * timeout, short body): answer and close. */
static int fail_request(struct conn *c, int status, const char *message,
                        int keep_route)
{
    const struct route *route = c->req.route;
    if (!keep_route)
        req_reset(c);
    else
        http_resp_clear(&c->req.resp);
    c->req.route = keep_route ? route : NULL;
    if (!keep_route)
        c->have_head = 0; /* the log shows "-" for what could not be read */
    http_error_status(&c->req, status,
                      status == 413 ? "value_too_large" : "invalid_argument",
                      "%s", message);
    c->keep_alive = 0;
    return conn_send_response(c);
}

/* ---- requests ----------------------------------------------------------- */

/* Grows `in` so that need bytes fit after the head, re-parsing the head so
 * that its spans point into the new buffer. */
static int room_after_head(struct conn *c, size_t need)
{
    size_t hl = c->head.head_len;
    if (c->in_cap - hl >= need)
        return 0;
    char *p = realloc(c->in, hl + need);
    if (p == NULL)
        return -1;
    c->in = p;
    c->in_cap = hl + need;
    struct http_perr e;
    return http_parse_head_at(c->in, hl, &c->head, &e) == HTTP_PARSE_OK
               ? 0
               : -1;
}

/* "100 Continue" for a client that waits for it, unless the body has
 * started arriving anyway. */
static int maybe_continue(struct conn *c, int body_started)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (!c->head.expect_continue || body_started || c->head.minor < 1)
        return 0;
    ssize_t n = send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL);
    if (n != (ssize_t)(sizeof cont - 1)) {
        conn_free(c);
        return -1;
    }
    return 0;
}

static int out_of_memory(struct conn *c)
{
    http_error(&c->req, AKV_ENOMEM, "out of memory for the request body");
    c->keep_alive = 0;
    return conn_send_response(c);
}

/* The upload budget cannot hold need more body bytes: 503 with
 * Retry-After, before (more of) the body is read; the connection closes
 * after it. */
static int refuse_busy(struct conn *c, uint64_t need)
{
    struct server *srv = c->w->srv;
    http_resp_clear(&c->req.resp);
    http_error(&c->req, AKV_EUNAVAILABLE,
               "the server is busy with uploads: this body needs %llu more "
               "bytes of the upload budget (%d x its size) and %llu of its "
               "%llu bytes are in use; retry later",
               (unsigned long long)(need * SERVER_BODY_COPIES),
               SERVER_BODY_COPIES,
               (unsigned long long)atomic_load(&srv->body_inflight),
               (unsigned long long)srv->body_budget);
    http_header(&c->req, "Retry-After", SERVER_RETRY_AFTER);
    c->keep_alive = 0;
    c->rest = c->in_len; /* the rest of the body is never read */
    return conn_send_response(c);
}

static int begin_request(struct conn *c)
{
    struct worker *w = c->w;
    struct server *srv = w->srv;
    struct http_req *r = &c->req;

    req_reset(c);
    c->keep_alive = c->head.keep_alive && !w->stopping;
    enum route_verdict v = router_prepare(srv, w->auth, &c->auth_memo, r);
    int has_body = c->head.chunked || c->head.content_length > 0;
    if (v == ROUTE_REFUSE) {
        if (has_body)
            c->keep_alive = 0; /* the body is never read */
        c->rest = c->head.head_len;
        return conn_send_response(c);
    }
    c->limit = server_body_limit(srv, r->route->body);
    size_t hl = c->head.head_len, have = c->in_len - hl;

    if (c->head.chunked) {
        if (room_after_head(c, 4096) != 0)
            return out_of_memory(c);
        http_chunked_init(&c->chunk);
        c->body_inline = 0;
        c->body_len = 0;
        conn_to(c, C_CHUNKED);
        return maybe_continue(c, have > 0);
    }
    if (c->head.content_length > 0) {
        uint64_t cl = (uint64_t)c->head.content_length;
        if (hl + cl <= IN_INLINE_MAX) {
            if (room_after_head(c, (size_t)cl) != 0)
                return out_of_memory(c);
            c->body_inline = 1;
        } else {
            /* Reserved before a byte of it is read or allocated. */
            if (budget_take(c, cl) != 0)
                return refuse_busy(c, cl);
            c->body = malloc((size_t)cl);
            if (c->body == NULL)
                return out_of_memory(c);
            size_t take = have < cl ? have : (size_t)cl;
            memcpy(c->body, c->in + hl, take);
            memmove(c->in + hl, c->in + hl + take, have - take);
            c->in_len -= take;
            c->body_len = take;
            c->body_cap = (size_t)cl;
            c->body_inline = 0;
        }
        c->body_need = cl;
        conn_to(c, C_BODY);
        return maybe_continue(c, have > 0);
    }
    c->rest = hl;
    r->body = NULL;
    r->body_len = 0;
    return conn_dispatch(c);
}

static int step_head(struct conn *c)
{
    if (c->in_len == 0) {
        conn_to(c, C_IDLE);
        return 1;
    }
    if (c->state == C_IDLE) {
        conn_to(c, C_HEAD);
        c->t_start = c->w->now_ns; /* when its bytes were read */
        c->t_head = (int64_t)(c->t_start / 1000000u);
        c->have_head = 0;
    }
    struct http_perr e;
    size_t end = http_head_end(c->in, c->in_len, &c->scanned);
    if (end == 0) {
        if (c->in_len >= SERVER_MAX_HEAD)
            return fail_request(c, 431, "request header section too large",
                                0);
        if (!c->line_ok) {
            if (http_parse_head(c->in, c->in_len, SERVER_MAX_HEAD, &c->head,
                                &e) == HTTP_PARSE_ERROR)
                return fail_request(c, e.status, e.message, 0);
            c->line_ok = c->head.method != 0;
        }
        return 1;
    }
    if (end > SERVER_MAX_HEAD)
        return fail_request(c, 431, "request header section too large", 0);
    if (http_parse_head_at(c->in, end, &c->head, &e) != HTTP_PARSE_OK)
        return fail_request(c, e.status, e.message, 0);
    c->have_head = 1;
    c->requests++;
    return begin_request(c);
}

static int step_body(struct conn *c)
{
    size_t hl = c->head.head_len;
    if (c->body_inline) {
        if (c->in_len - hl < c->body_need)
            return 1;
        c->req.body = c->in + hl;
        c->req.body_len = (size_t)c->body_need;
        c->rest = hl + (size_t)c->body_need;
    } else {
        if (c->body_len < c->body_need)
            return 1;
        c->req.body = c->body;
        c->req.body_len = c->body_len;
        c->rest = hl;
    }
    return conn_dispatch(c);
}

static int step_chunked(struct conn *c)
{
    size_t hl = c->head.head_len, pos = hl;
    while (pos < c->in_len) {
        size_t used = 0, off = 0, dlen = 0;
        const char *err = NULL;
        int k = http_chunked_parse(&c->chunk, c->in + pos, c->in_len - pos,
                                   &used, &off, &dlen, &err);
        if (k == HTTP_CHUNK_ERROR)
            return fail_request(c, 400, err, 1);
        if (k == HTTP_CHUNK_DATA) {
            if (c->body_len + dlen > c->limit) {
                http_error(&c->req, AKV_ETOOLARGE,
                           "chunked body over the limit of %llu bytes",
                           (unsigned long long)c->limit);
                c->keep_alive = 0;
                return conn_send_response(c);
            }
            if (c->body_len + dlen > c->body_cap) {
                size_t cap = c->body_cap ? c->body_cap : 16384;
                while (cap < c->body_len + dlen)
                    cap *= 2;
                if (cap > c->limit)
                    cap = (size_t)c->limit;
                /* A chunked body counts as it grows. */
                if (budget_take(c, cap - c->body_cap) != 0)
                    return refuse_busy(c, cap - c->body_cap);
                char *p = realloc(c->body, cap);
                if (p == NULL)
                    return out_of_memory(c);
                c->body = p;
                c->body_cap = cap;
            }
            memcpy(c->body + c->body_len, c->in + pos + off, dlen);
            c->body_len += dlen;
            pos += used;
            continue;
        }
        pos += used;
        if (k == HTTP_CHUNK_DONE) {
            c->rest = pos;
            c->req.body = c->body ? c->body : "";
            c->req.body_len = c->body_len;
            return conn_dispatch(c);
        }
        break; /* MORE */
    }
    /* Keep the head; drop the bytes decoded so far. */
    memmove(c->in + hl, c->in + pos, c->in_len - pos);
    c->in_len = hl + (c->in_len - pos);
    return 1;
}

/* Runs the state machine until it has to wait. */
void conn_process(struct conn *c)
{
    for (;;) {
        int rc;
        conn_check(c);
        switch (c->state) {
        case C_IDLE:
        case C_HEAD:
            rc = step_head(c);
            break;
        case C_BODY:
            rc = step_body(c);
            break;
        case C_CHUNKED:
            rc = step_chunked(c);
            break;
        default:
            return;
        }
        if (rc != 0)
            return;
    }
}

static void on_eof(struct conn *c)
{
    c->peer_eof = 1;
    conn_set_reading(c, 0);
    switch (c->state) {
    case C_HEAD:
        if (c->in_len > 0) {
            fail_request(c, 400,
                         "connection closed before the request head was "
                         "complete",
                         0);
            return;
        }
        break;
    case C_BODY:
        fail_request(c, 400,
                     "request body shorter than its Content-Length "
                     "(connection closed)",
                     1);
        return;
    case C_CHUNKED:
        fail_request(c, 400, "connection closed inside a chunked body", 1);
        return;
    default:
        break;
    }
    conn_free(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct conn *c = arg;
    ssize_t n;

    if (c->state == C_LINGER) {
        char sink[16384];
        n = read(fd, sink, sizeof sink);
        if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
            return;
        conn_free(c);
        return;
    }
    if (c->state == C_BUSY || c->state == C_WRITE) {
        conn_set_reading(c, 0);
        return;
    }
    char *dst;
    size_t room;
    int into_body = c->state == C_BODY && !c->body_inline;
    if (into_body) {
        dst = c->body + c->body_len;
        room = (size_t)(c->body_need - c->body_len);
    } else {
        if (c->in_len == c->in_cap) {
            if ((c->state == C_IDLE || c->state == C_HEAD) &&
                c->in_cap < SERVER_MAX_HEAD) {
                size_t cap = c->in_cap * 2;
                if (cap > SERVER_MAX_HEAD)
                    cap = SERVER_MAX_HEAD;
                char *p = realloc(c->in, cap);
                if (p == NULL) {
                    conn_free(c);
                    return;
                }
                c->in = p;
                c->in_cap = cap;
            } else {
                conn_process(c); /* a full head buffer: 431 */
                return;
            }
        }
        dst = c->in + c->in_len;
        room = c->in_cap - c->in_len;
    }
    n = read(fd, dst, room);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        conn_free(c);
        return;
    }
    if (n == 0) {
        on_eof(c);
        return;
    }
    if (into_body)
        c->body_len += (size_t)n;
    else
        c->in_len += (size_t)n;
    c->w->now_ns = server_now_ns(); /* a new request's start (step_head) */
    c->t_activity = (int64_t)(c->w->now_ns / 1000000u);
    conn_process(c);
}

/* ---- timeouts and shutdown ---------------------------------------------- */

int64_t conn_sweep_interval(const struct server_opts *o)
{
    int64_t t = 500;
    if (o->header_timeout_ms > 0 && o->header_timeout_ms / 4 < t)
        t = o->header_timeout_ms / 4;
    if (o->idle_timeout_ms > 0 && o->idle_timeout_ms / 4 < t)
        t = o->idle_timeout_ms / 4;
    if (o->request_timeout_ms > 0 && o->request_timeout_ms / 4 < t)
        t = o->request_timeout_ms / 4;
    return t < 25 ? 25 : t;
}

void conn_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    const struct server_opts *o = &w->srv->opts;
    int64_t now = now_ms();
    int grace_over = w->stopping && now - w->stop_ms > STOP_GRACE_MS;
    struct conn *next;
    for (struct conn *c = w->conns; c; c = next) {
        next = c->next;
        if (grace_over && c->state != C_BUSY) {
            conn_free(c);
            continue;
        }
        switch (c->state) {
        case C_IDLE:
            if (w->stopping || (o->idle_timeout_ms > 0 &&
                                now - c->t_activity >= o->idle_timeout_ms))
                conn_free(c);
            /* A connection that never sent a request head: closed without
             * a word, as silent sockets of a flood deserve. */
            else if (c->requests == 0 && o->header_timeout_ms > 0 &&
                     now - c->t_accept >= o->header_timeout_ms)
                conn_free(c);
            break;
        case C_HEAD: {
            int64_t limit = o->request_timeout_ms;
            if (o->header_timeout_ms > 0 &&
                (limit <= 0 || o->header_timeout_ms < limit))
                limit = o->header_timeout_ms;
            /* The first request is timed from the accept: a client that
             * trickles its head byte by byte gets no longer than one that
             * sends nothing. */
            int64_t since = c->requests == 0 ? c->t_accept : c->t_head;
            if (limit > 0 && now - since >= limit)
                fail_request(c, 408, "request head not received in time", 0);
            break;
        }
        case C_BODY:
        case C_CHUNKED:
            if (o->request_timeout_ms > 0 &&
                now - c->t_activity >= o->request_timeout_ms)
                fail_request(c, 408, "request body not received in time", 1);
            break;
        case C_WRITE:
            if (o->request_timeout_ms > 0 &&
                now - c->t_activity >= o->request_timeout_ms)
                conn_free(c);
            break;
        case C_LINGER:
            if (now - c->t_activity >= LINGER_MS)
                conn_free(c);
            break;
        case C_BUSY:
            break;
        }
    }
    if (w->stopping && w->nconns == 0)
        event_base_loopbreak(w->base);
}

void conn_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    w->stopping = 1;
    w->stop_ms = now_ms();
    event_del(w->ev_accept);
    if (w->ev_accept_retry)
        event_del(w->ev_accept_retry);
    atomic_fetch_add(&w->srv->accept_stopped, 1);
    struct conn *next;
    for (struct conn *c = w->conns; c; c = next) {
        next = c->next;
        if (c->state == C_IDLE)
            conn_free(c);
        else
            c->keep_alive = 0; /* finish this request, then close */
    }
    if (w->nconns == 0)
        event_base_loopbreak(w->base);
}

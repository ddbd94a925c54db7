/*
 * http-mcp.c — the MCP streamable HTTP transport at /mcp (SPEC.md §7): a
 * thin shell around the MCP layer (src/mcp), which does everything inside a
 * JSON-RPC message. This file does what only HTTP has:
 *
 *   - Origin: a browser page must not drive a local server (DNS
 *     rebinding), so a request with an Origin header is refused (403) unless
 *     the origin is a loopback one (localhost, 127.0.0.1, [::1], any port)
 *     or listed in $AGENTKV_MCP_ORIGINS (comma-separated, or "*").
 *   - Authentication: a bearer token, required unless the server runs with
 *     --no-auth. The route row is public because the router only knows
 *     sandboxes named in the path; the check is done here with the same
 *     token table (auth.h). Missing or unknown token: 401.
 *   - The sandbox: an agent token whose pattern names one sandbox works in
 *     that sandbox; a pattern with wildcards, or an admin token, names the
 *     sandbox with ?sandbox= or X-Agentkv-Sandbox (admins default to
 *     "default"), checked against the pattern (403). Agent sessions cannot
 *     write scope system. The sandbox is fixed for the session's life.
 *   - Sessions: `initialize` (sent without Mcp-Session-Id) creates one and
 *     its id comes back in Mcp-Session-Id; every later request must carry
 *     it (400 without, 404 for an unknown or ended one, also when another
 *     token presents it). MCP-Protocol-Version, when sent, must name a
 *     revision the server speaks (400 otherwise). DELETE /mcp ends a
 *     session.
 *   - Revision 2026-07-28 is stateless: a request carrying its _meta
 *     envelope needs no session and is authorised by its bearer token
 *     alone, so any server process on the same store can answer it. The
 *     MCP layer cross-checks its MCP-Protocol-Version, Mcp-Method and
 *     Mcp-Name headers (handed over as akv_mcp_headers); its refusals
 *     (bad envelope, unsupported revision, header mismatch) are 400.
 *   - Responses: a POST that carries requests is answered 200 with
 *     application/json (never SSE: every answer is ready when the request
 *     is done), or, when the request caused notifications (log messages)
 *     and the client accepts text/event-stream, one SSE stream with those
 *     notifications and then the response; notifications and client
 *     responses alone get 202 with no body; a message refused as a whole
 *     (parse error, invalid request) is 400 with the JSON-RPC error; a
 *     2026-07-28 method the revision lacks is 404.
 *   - GET /mcp with Mcp-Session-Id is the session's server-to-client SSE
 *     stream (resource updates, list changes, log messages): see
 *     http_mcp_get below.
 *
 * Sessions live in this file's table (one server per process): at most
 * [server] mcp_sessions of them, and at most mcp_sessions_per_token for one
 * token, so that one tenant cannot crowd out another. One idle for
 * MCP_HTTP_IDLE_MS is dropped. A token at its cap that initializes again
 * ends its own least recently used idle session to make room (what a client
 * that forgets to DELETE expects: its newest sessions keep working); a
 * token never ends another token's session: when the table is full of
 * other tokens' sessions, initialize is refused with 503 and Retry-After.
 * A session's messages are handled one at a time (its mutex); different
 * sessions run in parallel on the pool threads.
 */
#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "auth.h"
#include "mcp.h"
#include "metrics.h"
#include "server.h"

#define MCP_HTTP_IDLE_MS ((int64_t)24 * 3600 * 1000)
#define MCP_ORIGINS_ENV "AGENTKV_MCP_ORIGINS"
#define SESSION_ID_LEN 32 /* hex digits of 16 random bytes */

struct http_mcp_session {
    char id[SESSION_ID_LEN + 1];
    char token_id[TOKEN_ID_LEN + 1]; /* "" under --no-auth */
    akv_mcp_session *s;
    pthread_mutex_t lock; /* one message at a time */
    int refs;             /* requests using it; guarded by table_lock */
    int dead;             /* removed from the table; freed at refs 0 */
    int streaming;        /* a GET stream is open; guarded by table_lock */
    int64_t last_ms;      /* guarded by table_lock */
    uint64_t used;        /* use_seq at the last use; guarded by table_lock */
};

/* table[0..table_n) once the first session is inserted; guarded by
 * table_lock, like every field of the sessions marked so. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_mcp_session **table;
static size_t table_n;
/* Orders uses for least-recently-used: unlike a clock, never ties. */
static uint64_t use_seq;

/* Who is calling, copied out of the token table. */
struct caller {
    int admin;
    char token_id[TOKEN_ID_LEN + 1];
    char pattern[TOKEN_PATTERN_MAX + 1];
};

/* ---- replies ------------------------------------------------------------ */

/* A JSON-RPC error with a null id as the body of an HTTP error: what the
 * MCP transport specification suggests for refusals at the HTTP level. */
static void rpc_refuse(struct http_req *r, int status, int code,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void rpc_refuse(struct http_req *r, int status, int code,
                       const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    size_t len;
    char *body = akv_mcp_error_response(code, message, &len);
    if (body == NULL) {
        http_error(r, AKV_ENOMEM, "out of memory");
        return;
    }
    http_reply_json(r, status, body, len);
    free(body);
}

/* Hands the layer's answer over without copying it. */
static void reply_owned(struct http_req *r, int status, char *json,
                        size_t len)
{
    r->resp.status = status;
    http_header(r, "Content-Type", "application/json");
    r->resp.ext = json;
    r->resp.ext_len = len;
    r->resp.ext_owned = json;
}

/* ---- headers ------------------------------------------------------------ */

/* The value of a header by name (case-insensitive), or p NULL. */
static struct http_span header(const struct http_req *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->head->nhdr; i++) {
        const struct http_hdr *h = &r->head->hdr[i];
        if (h->name.len == n && strncasecmp(h->name.p, name, n) == 0)
            return h->value;
    }
    struct http_span none = {NULL, 0};
    return none;
}

static int span_eq(struct http_span v, const char *s)
{
    return v.p && v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

/* 1 when the list in v names one of the media types given (ignoring
 * parameters and case). */
static int accepts(struct http_span v, const char *const *types, size_t n)
{
    size_t i = 0;
    while (i < v.len) {
        size_t start = i;
        while (i < v.len && v.p[i] != ',')
            i++;
        size_t end = start;
        while (end < i && v.p[end] != ';')
            end++;
        while (start < end && isspace((unsigned char)v.p[start]))
            start++;
        while (end > start && isspace((unsigned char)v.p[end - 1]))
            end--;
        for (size_t k = 0; k < n; k++)
            if (end - start == strlen(types[k]) &&
                strncasecmp(v.p + start, types[k], end - start) == 0)
                return 1;
        i++;
    }
    return 0;
}

/* ---- Origin ------------------------------------------------------------- */

/* 1 when origin's host is a loopback name: localhost (or *.localhost),
 * 127.0.0.1 or [::1], with any port. */
static int origin_loopback(struct http_span o)
{
    const char *p = o.p, *end = o.p + o.len;
    const char *sep = NULL;
    for (const char *q = p; q + 2 < end; q++)
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            sep = q + 3;
            break;
        }
    if (sep == NULL)
        return 0;
    size_t scheme = (size_t)(sep - 3 - p);
    if (!((scheme == 4 && strncasecmp(p, "http", 4) == 0) ||
          (scheme == 5 && strncasecmp(p, "https", 5) == 0)))
        return 0;
    const char *host = sep, *hend;
    if (host < end && *host == '[') {
        hend = memchr(host, ']', (size_t)(end - host));
        if (hend == NULL)
            return 0;
        hend++;
    } else {
        hend = host;
        while (hend < end && *hend != ':' && *hend != '/')
            hend++;
    }
    /* Nothing but an optional port may follow. */
    const char *rest = hend;
    if (rest < end && *rest == ':') {
        rest++;
        if (rest == end)
            return 0;
        while (rest < end && isdigit((unsigned char)*rest))
            rest++;
    }
    if (rest != end)
        return 0;
    size_t hl = (size_t)(hend - host);
    static const char *const names[] = {"localhost", "127.0.0.1", "[::1]"};
    for (size_t i = 0; i < 3; i++)
        if (hl == strlen(names[i]) && strncasecmp(host, names[i], hl) == 0)
            return 1;
    return hl > 10 && strncasecmp(hend - 10, ".localhost", 10) == 0;
}

/* 1 when origin is listed in $AGENTKV_MCP_ORIGINS (exact, or "*"). */
static int origin_configured(struct http_span o)
{
    const char *list = getenv(MCP_ORIGINS_ENV);
    if (list == NULL)
        return 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        const char *q = p;
        size_t m = n;
        while (m > 0 && *q == ' ')
            q++, m--;
        while (m > 0 && q[m - 1] == ' ')
            m--;
        if ((m == 1 && *q == '*') ||
            (m == o.len && strncasecmp(q, o.p, m) == 0))
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

/* Returns 0, or -1 with a 403 in r->resp. */
static int check_origin(struct http_req *r)
{
    struct http_span o = header(r, "Origin");
    if (o.p == NULL || origin_loopback(o) || origin_configured(o))
        return 0;
    rpc_refuse(r, 403, AKV_MCP_INVALID_REQUEST,
               "Forbidden: Origin %.*s is not allowed (loopback origins "
               "are; list others in %s)",
               (int)(o.len < 100 ? o.len : 100), o.p, MCP_ORIGINS_ENV);
    return -1;
}

/* ---- authentication and the sandbox ------------------------------------- */

/* Returns 0 with who filled, or -1 with a 401 in r->resp. */
static int authenticate(struct http_req *r, struct caller *who)
{
    memset(who, 0, sizeof *who);
    if (auth_disabled(r->srv->auth)) {
        who->admin = 1;
        return 0;
    }
    /* A cache of our own: the worker's belongs to its thread, and this
     * handler runs on a pool thread. */
    struct auth_cache *cache = auth_cache_new(r->srv->auth);
    const char *why = NULL;
    const struct token_entry *tok =
        auth_bearer(cache, NULL, r->head->authorization, &why);
    if (tok) {
        who->admin = tok->role == ROLE_ADMIN;
        memcpy(who->token_id, tok->id, sizeof who->token_id);
        memcpy(who->pattern, tok->pattern, sizeof who->pattern);
    }
    auth_cache_free(cache);
    if (why == NULL)
        return 0;
    http_error(r, AKV_EUNAUTHORIZED, "%s", why); /* adds WWW-Authenticate */
    return -1;
}

/* The sandbox the request names (?sandbox= or X-Agentkv-Sandbox), into
 * out; "" when none. Returns 0, or -1 with a 400 in r->resp. */
static int requested_sandbox(struct http_req *r, char out[AKV_SANDBOX_MAX + 1])
{
    static const char *const names[] = {"sandbox"};
    const char *q[1];
    char buf[AKV_SANDBOX_MAX * 3 + 8];
    out[0] = '\0';
    if (http_query(r, names, 1, q, buf, sizeof buf) != 0)
        return -1;
    struct http_span h = header(r, "X-Agentkv-Sandbox");
    if (q[0] && h.p && !span_eq(h, q[0])) {
        http_error(r, AKV_EINVAL,
                   "?sandbox= and X-Agentkv-Sandbox name different sandboxes");
        return -1;
    }
    const char *v = q[0];
    size_t n = v ? strlen(v) : h.len;
    if (v == NULL && h.p == NULL)
        return 0;
    if (v == NULL)
        v = h.p;
    int rc = akv_sandbox_check(v, n);
    if (rc != AKV_OK) {
        http_error_lib(r, rc);
        return -1;
    }
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

/* Picks the session's sandbox. Returns 0, or -1 with 400/403 in r->resp. */
static int pick_sandbox(struct http_req *r, const struct caller *who,
                        char out[AKV_SANDBOX_MAX + 1])
{
    if (requested_sandbox(r, out) != 0)
        return -1;
    if (who->admin) {
        if (out[0] == '\0')
            snprintf(out, AKV_SANDBOX_MAX + 1, "%s", AKV_DEFAULT_SANDBOX);
        return 0;
    }
    if (out[0] == '\0') {
        /* A pattern without wildcards is one sandbox: the token's own. */
        if (strpbrk(who->pattern, "*?[") ||
            akv_sandbox_check(who->pattern, strlen(who->pattern)) != AKV_OK) {
            http_error(r, AKV_EINVAL,
                       "token %s covers several sandboxes (%s): name one "
                       "with ?sandbox= or X-Agentkv-Sandbox",
                       who->token_id, who->pattern);
            return -1;
        }
        /* The check above bounds it by AKV_SANDBOX_MAX. */
        memcpy(out, who->pattern, strlen(who->pattern) + 1);
    }
    struct token_entry e;
    memset(&e, 0, sizeof e);
    e.role = ROLE_AGENT;
    memcpy(e.pattern, who->pattern, sizeof e.pattern);
    if (!auth_sandbox_allowed(&e, out)) {
        http_error(r, AKV_EFORBIDDEN, "token %s may not access sandbox %s",
                   who->token_id, out);
        return -1;
    }
    return 0;
}

/* ---- the session table -------------------------------------------------- */

static void session_free(struct http_mcp_session *hs)
{
    akv_mcp_session_free(hs->s);
    pthread_mutex_destroy(&hs->lock);
    free(hs);
}

/* Drops a session from the table (table_lock held); freed now if unused,
 * else by the last release. */
static void session_drop(size_t slot)
{
    struct http_mcp_session *hs = table[slot];
    table[slot] = NULL;
    hs->dead = 1;
    if (hs->refs == 0)
        session_free(hs);
}

/* Why session_insert() refused. */
enum insert_refusal {
    INSERT_OK = 0,
    INSERT_TOKEN_BUSY,  /* the token is at its cap, every session in use */
    INSERT_TABLE_FULL,  /* full of other tokens' (or busy) sessions */
    INSERT_NOMEM,
};

/*
 * Inserts hs for its token; returns INSERT_OK or why not. Drops sessions
 * idle past MCP_HTTP_IDLE_MS on the way. A token at its cap loses its own
 * least recently used idle session; no other token's session is ever
 * dropped to make room.
 */
static enum insert_refusal session_insert(struct http_mcp_session *hs,
                                          int64_t now,
                                          const struct server_opts *o)
{
    pthread_mutex_lock(&table_lock);
    if (table == NULL) {
        size_t n = o->mcp_sessions ? o->mcp_sessions
                                   : SERVER_DEFAULT_MCP_SESSIONS;
        table = calloc(n, sizeof *table);
        if (table == NULL) {
            pthread_mutex_unlock(&table_lock);
            return INSERT_NOMEM;
        }
        table_n = n;
    }
    size_t cap = o->mcp_sessions_per_token ? o->mcp_sessions_per_token
                                           : SERVER_DEFAULT_MCP_PER_TOKEN;
    size_t free_slot = table_n, own_lru = table_n, own = 0;
    for (size_t i = 0; i < table_n; i++) {
        struct http_mcp_session *t = table[i];
        if (t && t->refs == 0 && now - t->last_ms > MCP_HTTP_IDLE_MS)
            session_drop(i);
        t = table[i];
        if (t == NULL) {
            if (free_slot == table_n)
                free_slot = i;
            continue;
        }
        if (strcmp(t->token_id, hs->token_id) != 0)
            continue;
        own++;
        if (t->refs == 0 &&
            (own_lru == table_n || t->used < table[own_lru]->used))
            own_lru = i;
    }
    enum insert_refusal why = INSERT_OK;
    if (own >= cap || free_slot == table_n) {
        /* Room comes from this token's own sessions or not at all. */
        if (own_lru != table_n) {
            session_drop(own_lru);
            free_slot = own_lru;
            own--;
        } else {
            why = own >= cap ? INSERT_TOKEN_BUSY : INSERT_TABLE_FULL;
        }
    }
    if (why == INSERT_OK && own >= cap)
        why = INSERT_TOKEN_BUSY; /* over the cap (lowered, or busy ones) */
    if (why == INSERT_OK) {
        assert(free_slot < table_n && table[free_slot] == NULL);
        hs->last_ms = now;
        hs->used = ++use_seq;
        table[free_slot] = hs;
    }
    pthread_mutex_unlock(&table_lock);
    return why;
}

/* Finds and pins a session by id for token_id; NULL when unknown (or
 * another token's: the two are not told apart). remove unlinks it too. */
static struct http_mcp_session *session_get(struct http_span id,
                                            const char *token_id, int remove)
{
    struct http_mcp_session *found = NULL;
    if (id.len != SESSION_ID_LEN)
        return NULL;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < table_n; i++) {
        struct http_mcp_session *t = table[i];
        if (t && memcmp(t->id, id.p, SESSION_ID_LEN) == 0) {
            if (strcmp(t->token_id, token_id) == 0) {
                found = t;
                found->refs++;
                found->last_ms = server_wall_ms();
                found->used = ++use_seq;
                if (remove) {
                    table[i] = NULL;
                    found->dead = 1;
                }
            }
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    return found;
}

static void session_release(struct http_mcp_session *hs)
{
    pthread_mutex_lock(&table_lock);
    int last = --hs->refs == 0 && hs->dead;
    pthread_mutex_unlock(&table_lock);
    if (last)
        session_free(hs);
}

/* ---- metrics ------------------------------------------------------------ */

static void on_event(void *ctx, enum akv_mcp_event event, akv_scope scope,
                     const char *key, size_t key_len)
{
    struct metrics *m = ctx;
    char name[AKV_KEY_MAX + 1];
    switch (event) {
    case AKV_MCP_EVENT_INSTRUCTION:
        snprintf(name, sizeof name, "%.*s", (int)key_len, key);
        metrics_instruction_fetch(m, name);
        break;
    case AKV_MCP_EVENT_QUOTA:
        metrics_quota_rejected(m, scope);
        break;
    case AKV_MCP_EVENT_INTEGRITY:
        metrics_integrity_failure(m);
        break;
    }
}

/* ---- server-sent events ------------------------------------------------- */

/* Adds one JSON-RPC message (one line) to b as an SSE event. */
static void sse_event(struct obuf *b, const char *text, size_t len)
{
    ob_str(b, "event: message\ndata: ");
    ob_add(b, text, len);
    ob_str(b, "\n\n");
}

/* Adds the session's queued notifications to b as SSE events; returns how
 * many. */
static size_t sse_notifications(struct obuf *b, akv_mcp_session *s)
{
    size_t n = 0, len;
    char *text;
    while ((text = akv_mcp_next_notification(s, &len)) != NULL) {
        sse_event(b, text, len);
        free(text);
        n++;
    }
    return n;
}

/* Answers with b (taken over) as a complete text/event-stream body. */
static void reply_sse(struct http_req *r, struct obuf *b)
{
    if (b->oom) {
        ob_free(b);
        http_error(r, AKV_ENOMEM, "out of memory");
        return;
    }
    r->resp.status = 200;
    http_header(r, "Content-Type", "text/event-stream");
    http_header(r, "Cache-Control", "no-cache");
    r->resp.ext = b->p;
    r->resp.ext_len = b->len;
    r->resp.ext_owned = b->p;
}

/* ---- handlers ----------------------------------------------------------- */

/* Runs one message on a session and answers it (the session is locked by
 * the caller, or new and not yet shared). */
static akv_mcp_span to_span(struct http_span h)
{
    akv_mcp_span s = {h.p, h.len};
    return s;
}

static void serve_message(struct http_req *r, akv_mcp_session *s,
                          akv_mcp_outcome *oc)
{
    size_t len;
    /* The headers 2026-07-28 requests are cross-checked against. */
    akv_mcp_headers h = {
        to_span(header(r, "MCP-Protocol-Version")),
        to_span(header(r, "Mcp-Method")),
        to_span(header(r, "Mcp-Name")),
    };
    akv_mcp_session_set_events(s, on_event, r->srv->metrics);
    akv_mcp_session_set_headers(s, &h);
    char *out = akv_mcp_handle_ex(s, r->body ? r->body : "", r->body_len,
                                  &len, oc);
    akv_mcp_session_set_headers(s, NULL);
    if (oc->listen)
        return; /* the caller streams it (stream_listen) */
    if (out == NULL) {
        r->resp.status = 202; /* notifications or responses only; what
                                 they caused waits for the GET stream */
        return;
    }
    /* Notifications the request caused (log messages) go before its
     * response, in one SSE stream, to a client that takes one; the others
     * wait for the session's GET stream. */
    static const char *const sse[] = {"text/event-stream"};
    if (!oc->rejected && !oc->modern && accepts(header(r, "Accept"), sse, 1)) {
        struct obuf b = {0};
        if (sse_notifications(&b, s) > 0) {
            sse_event(&b, out, len);
            free(out);
            reply_sse(r, &b);
            return;
        }
        ob_free(&b);
    }
    /* 2026-07-28 puts a request's fate in the HTTP status too: a refused
     * envelope is 400, a method the revision lacks 404. */
    int status = oc->rejected || oc->modern_refused ? 400
                 : oc->modern_unknown              ? 404
                                                   : 200;
    reply_owned(r, status, out, len);
}

/* Checks the headers every POST must get right. 0, or -1 with a reply. */
static int check_post_headers(struct http_req *r)
{
    static const char *const json_types[] = {"application/json"};
    static const char *const ok_accept[] = {
        "application/json", "text/event-stream", "*/*", "application/*"};
    struct http_span ct = r->head->content_type;
    if (ct.p == NULL || !accepts(ct, json_types, 1)) {
        rpc_refuse(r, 415, AKV_MCP_INVALID_REQUEST,
                   "Unsupported Media Type: POST JSON-RPC messages as "
                   "application/json");
        return -1;
    }
    struct http_span accept = header(r, "Accept");
    if (accept.p && !accepts(accept, ok_accept, 4)) {
        rpc_refuse(r, 406, AKV_MCP_INVALID_REQUEST,
                   "Not Acceptable: responses are application/json");
        return -1;
    }
    return 0;
}

/*
 * A subscriptions/listen stream (revision 2026-07-28), opened by a POST
 * without a session: the response is an SSE stream written as it goes
 * (http_stream_*): the acknowledgement at once, then each notification
 * when akv_mcp_poll() finds the change (it looks every MCP_POLL_MS), a
 * keep-alive comment every MCP_KEEPALIVE_MS, until the client closes it;
 * at shutdown the stream ends with the listen request's response (the
 * graceful close). The stream holds a pool thread: streams (these and GET
 * ones) hold at most a quarter of them, and one token at most
 * mcp_sessions_per_token listen streams; beyond, 503 with Retry-After.
 */
#define MCP_STREAM_TICK_MS 100
#define MCP_POLL_MS 1000
#define MCP_KEEPALIVE_MS 15000
static atomic_int streams;
/* Listen streams per token: the tokens that hold some (at most
 * LISTEN_TOKENS of them at once). Guarded by table_lock. */
#define LISTEN_TOKENS 64
static struct {
    char token_id[TOKEN_ID_LEN + 1];
    size_t n;
} listen_tokens[LISTEN_TOKENS];

static int64_t mono_ms(void)
{
    return (int64_t)(server_now_ns() / 1000000u);
}

static void tick(void)
{
    struct timespec t = {0, MCP_STREAM_TICK_MS * 1000000L};
    nanosleep(&t, NULL);
}

/* Takes a place for a stream among the server's (and, for a listen
 * stream, the token's); 0, or -1 with a 503 in r->resp. */
static int stream_enter(struct http_req *r, const char *token_id)
{
    int most = r->srv->opts.pool_threads / 4;
    if (atomic_fetch_add(&streams, 1) >= (most > 0 ? most : 1)) {
        atomic_fetch_sub(&streams, 1);
        http_error(r, AKV_EUNAVAILABLE,
                   "the server holds as many MCP streams as it may; retry "
                   "later");
        http_header(r, "Retry-After", SERVER_RETRY_AFTER);
        return -1;
    }
    if (token_id == NULL)
        return 0;
    size_t cap = r->srv->opts.mcp_sessions_per_token
                     ? r->srv->opts.mcp_sessions_per_token
                     : SERVER_DEFAULT_MCP_PER_TOKEN;
    size_t slot = LISTEN_TOKENS, i;
    pthread_mutex_lock(&table_lock);
    for (i = 0; i < LISTEN_TOKENS; i++) {
        if (listen_tokens[i].n > 0 &&
            strcmp(listen_tokens[i].token_id, token_id) == 0)
            break;
        if (listen_tokens[i].n == 0 && slot == LISTEN_TOKENS)
            slot = i;
    }
    int ok = 1;
    if (i < LISTEN_TOKENS)
        ok = listen_tokens[i].n < cap;
    else if (slot < LISTEN_TOKENS)
        snprintf(listen_tokens[i = slot].token_id, TOKEN_ID_LEN + 1, "%s",
                 token_id);
    else
        ok = 0;
    if (ok)
        listen_tokens[i].n++;
    pthread_mutex_unlock(&table_lock);
    if (!ok) {
        atomic_fetch_sub(&streams, 1);
        http_error(r, AKV_EUNAVAILABLE,
                   "token %s holds as many subscriptions/listen streams as "
                   "it may ([server] mcp_sessions_per_token); retry later",
                   token_id[0] ? token_id : "(no auth)");
        http_header(r, "Retry-After", SERVER_RETRY_AFTER);
        return -1;
    }
    return 0;
}

static void stream_leave(const char *token_id)
{
    atomic_fetch_sub(&streams, 1);
    if (token_id == NULL)
        return;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < LISTEN_TOKENS; i++)
        if (listen_tokens[i].n > 0 &&
            strcmp(listen_tokens[i].token_id, token_id) == 0) {
            listen_tokens[i].n--;
            break;
        }
    pthread_mutex_unlock(&table_lock);
}

static void stream_listen(struct http_req *r, const struct caller *who,
                          akv_mcp_session *s)
{
    char *end;
    size_t len;
    static const char *const sse[] = {"text/event-stream"};
    http_resp_clear(&r->resp);
    if (!accepts(header(r, "Accept"), sse, 1))
        rpc_refuse(r, 406, AKV_MCP_INVALID_REQUEST,
                   "Not Acceptable: subscriptions/listen answers "
                   "text/event-stream");
    else if (stream_enter(r, who->token_id) == 0) {
        int ok = http_stream_begin(r, 200, "text/event-stream") == 0;
        int64_t last_poll = mono_ms(), last_write = last_poll;
        while (ok) {
            int64_t now = mono_ms();
            if (now - last_poll >= MCP_POLL_MS) {
                akv_mcp_poll(s);
                last_poll = now;
            }
            struct obuf b = {0};
            if (sse_notifications(&b, s) == 0 &&
                now - last_write >= MCP_KEEPALIVE_MS)
                ob_str(&b, ": keep-alive\n\n");
            if (atomic_load(&r->srv->stopping) &&
                (end = akv_mcp_listen_end(s, &len)) != NULL) {
                sse_event(&b, end, len);
                free(end);
                ok = 0;
            }
            if (b.len > 0) {
                if (b.oom || http_stream_write(r, b.p, b.len) != 0)
                    ok = 0;
                last_write = now;
            }
            ob_free(&b);
            if (ok && http_stream_peer_gone(r))
                ok = 0;
            if (ok)
                tick();
        }
        stream_leave(who->token_id);
    }
    while ((end = akv_mcp_listen_end(s, &len)) != NULL)
        free(end);
}

/* POST without Mcp-Session-Id: only initialize may come this way. */
static void post_new(struct http_req *r, const struct caller *who)
{
    char sandbox[AKV_SANDBOX_MAX + 1];
    if (pick_sandbox(r, who, sandbox) != 0)
        return;
    struct http_mcp_session *hs = calloc(1, sizeof *hs);
    unsigned char raw[SESSION_ID_LEN / 2];
    if (hs == NULL || RAND_bytes(raw, sizeof raw) != 1 ||
        akv_mcp_session_new(r->store, sandbox, who->admin ? 0 : AKV_MCP_AGENT,
                            &hs->s) != AKV_OK) {
        free(hs);
        http_error(r, AKV_ENOMEM, "cannot create a session");
        return;
    }
    pthread_mutex_init(&hs->lock, NULL);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hs->id + 2 * i, 3, "%02x", raw[i]);
    memcpy(hs->token_id, who->token_id, sizeof hs->token_id);

    /* A new session serves nothing but initialize and ping, so running the
     * message on it is safe whatever it holds; it is kept only when it
     * got initialized. */
    akv_mcp_outcome oc;
    serve_message(r, hs->s, &oc);
    if (oc.initialized) {
        enum insert_refusal why =
            session_insert(hs, server_wall_ms(), &r->srv->opts);
        if (why != INSERT_OK) {
            session_free(hs);
            http_resp_clear(&r->resp);
            if (why == INSERT_NOMEM) {
                http_error(r, AKV_ENOMEM, "cannot create a session");
                return;
            }
            if (why == INSERT_TOKEN_BUSY)
                http_error(r, AKV_EUNAVAILABLE,
                           "token %s has all of its MCP sessions busy "
                           "([server] mcp_sessions_per_token); retry later",
                           who->token_id[0] ? who->token_id : "(no auth)");
            else
                http_error(r, AKV_EUNAVAILABLE,
                           "the server holds as many MCP sessions as it may "
                           "([server] mcp_sessions); retry later or end "
                           "unused sessions with DELETE /mcp");
            http_header(r, "Retry-After", SERVER_RETRY_AFTER);
            return;
        }
        http_header(r, "Mcp-Session-Id", hs->id);
        return;
    }
    if (oc.listen)
        stream_listen(r, who, hs->s);
    session_free(hs);
    /* 2026-07-28 requests need no session: their answer stands. */
    if (!oc.initialize && !oc.rejected && !oc.modern) {
        http_resp_clear(&r->resp);
        rpc_refuse(r, 400, AKV_MCP_INVALID_REQUEST,
                   "Bad Request: no Mcp-Session-Id: start a session with "
                   "initialize");
    }
}

/* 1 when v names a revision this server speaks. A session accepts any of
 * them, not only the negotiated one, as the reference server does: the
 * body decides how a request is served (a 2026-07-28 one by its _meta,
 * cross-checked with this header by the MCP layer). */
static int version_known(struct http_span v)
{
    char buf[16];
    if (v.len >= sizeof buf)
        return 0;
    memcpy(buf, v.p, v.len);
    buf[v.len] = '\0';
    return akv_mcp_version_supported(buf) ||
           strcmp(buf, AKV_MCP_MODERN_VERSION) == 0;
}

void http_mcp_post(struct http_req *r)
{
    struct caller who;
    if (check_origin(r) != 0 || authenticate(r, &who) != 0 ||
        check_post_headers(r) != 0)
        return;
    struct http_span sid = header(r, "Mcp-Session-Id");
    if (sid.p == NULL) {
        post_new(r, &who);
        return;
    }
    struct http_mcp_session *hs = session_get(sid, who.token_id, 0);
    if (hs == NULL) {
        rpc_refuse(r, 404, AKV_MCP_INVALID_REQUEST,
                   "Not Found: no such session (it ended, or the server "
                   "restarted): initialize again");
        return;
    }
    char asked[AKV_SANDBOX_MAX + 1];
    const char *sandbox = akv_mcp_session_sandbox(hs->s);
    struct http_span pv = header(r, "MCP-Protocol-Version");
    pthread_mutex_lock(&hs->lock);
    const char *version = akv_mcp_session_version(hs->s);
    if (requested_sandbox(r, asked) != 0) {
        /* the 400 is in r->resp */
    } else if (asked[0] && strcmp(asked, sandbox) != 0) {
        http_error(r, AKV_EINVAL,
                   "this session works in sandbox %s, not %s", sandbox,
                   asked);
    } else if (pv.p && !(version && span_eq(pv, version)) &&
               !version_known(pv)) {
        rpc_refuse(r, 400, AKV_MCP_INVALID_REQUEST,
                   "Bad Request: unsupported MCP-Protocol-Version %.*s "
                   "(this session negotiated %s)",
                   (int)(pv.len < 32 ? pv.len : 32), pv.p,
                   version ? version : "none");
    } else {
        akv_mcp_outcome oc;
        serve_message(r, hs->s, &oc);
        if (oc.listen) {
            /* A stream outlives requests: it is opened without a session,
             * never on one (whose messages it would hold up). */
            char *end;
            size_t n;
            while ((end = akv_mcp_listen_end(hs->s, &n)) != NULL)
                free(end);
            rpc_refuse(r, 400, AKV_MCP_INVALID_REQUEST,
                       "Bad Request: send subscriptions/listen without "
                       "Mcp-Session-Id");
        }
    }
    pthread_mutex_unlock(&hs->lock);
    session_release(hs);
}

void http_mcp_delete(struct http_req *r)
{
    struct caller who;
    if (check_origin(r) != 0 || authenticate(r, &who) != 0)
        return;
    struct http_span sid = header(r, "Mcp-Session-Id");
    if (sid.p == NULL) {
        rpc_refuse(r, 400, AKV_MCP_INVALID_REQUEST,
                   "Bad Request: DELETE /mcp needs Mcp-Session-Id");
        return;
    }
    struct http_mcp_session *hs = session_get(sid, who.token_id, 1);
    if (hs == NULL) {
        rpc_refuse(r, 404, AKV_MCP_INVALID_REQUEST,
                   "Not Found: no such session");
        return;
    }
    session_release(hs);
    r->resp.status = 204;
}

/*
 * GET /mcp: the session's server-to-client stream (SSE). The handler holds
 * its pool thread until there is something to send: notifications queued
 * by requests that could not carry them, or changes akv_mcp_poll() finds
 * (it looks every MCP_POLL_MS), at most MCP_GET_HOLD_MS. Then it sends
 * what there is and ends the stream with a retry hint, and the client
 * reconnects: a polling SSE stream, as revision 2025-11-25 allows servers
 * to close streams at will. One stream per session (409 for a second), and
 * at most a quarter of the pool's threads held by streams server-wide
 * (503 beyond), so that streams never starve requests.
 */
#define MCP_GET_HOLD_MS 25000
#define MCP_GET_RETRY "retry: 100\n\n"

static void stream_events(struct http_req *r, struct http_mcp_session *hs)
{
    struct obuf b = {0};
    ob_str(&b, MCP_GET_RETRY);
    int64_t start = mono_ms(), last_poll = start - MCP_POLL_MS;
    for (;;) {
        int64_t now = mono_ms();
        pthread_mutex_lock(&hs->lock);
        if (now - last_poll >= MCP_POLL_MS) {
            akv_mcp_poll(hs->s);
            last_poll = now;
        }
        size_t n = sse_notifications(&b, hs->s);
        pthread_mutex_unlock(&hs->lock);
        pthread_mutex_lock(&table_lock);
        int dead = hs->dead;
        pthread_mutex_unlock(&table_lock);
        if (n > 0 || dead || atomic_load(&r->srv->stopping) ||
            now - start >= MCP_GET_HOLD_MS)
            break;
        tick();
    }
    reply_sse(r, &b);
}

void http_mcp_get(struct http_req *r)
{
    struct caller who;
    if (check_origin(r) != 0 || authenticate(r, &who) != 0)
        return;
    static const char *const sse[] = {"text/event-stream"};
    if (!accepts(header(r, "Accept"), sse, 1)) {
        rpc_refuse(r, 406, AKV_MCP_INVALID_REQUEST,
                   "Not Acceptable: GET /mcp answers text/event-stream");
        return;
    }
    struct http_span sid = header(r, "Mcp-Session-Id");
    if (sid.p == NULL) {
        rpc_refuse(r, 400, AKV_MCP_INVALID_REQUEST,
                   "Bad Request: GET /mcp needs Mcp-Session-Id");
        return;
    }
    struct http_mcp_session *hs = session_get(sid, who.token_id, 0);
    if (hs == NULL) {
        rpc_refuse(r, 404, AKV_MCP_INVALID_REQUEST,
                   "Not Found: no such session");
        return;
    }
    pthread_mutex_lock(&table_lock);
    int busy = hs->streaming;
    hs->streaming = 1;
    pthread_mutex_unlock(&table_lock);
    if (busy) {
        rpc_refuse(r, 409, AKV_MCP_INVALID_REQUEST,
                   "Conflict: this session has a GET stream open already");
    } else if (stream_enter(r, NULL) == 0) {
        stream_events(r, hs);
        stream_leave(NULL);
    }
    if (!busy) {
        pthread_mutex_lock(&table_lock);
        hs->streaming = 0;
        pthread_mutex_unlock(&table_lock);
    }
    session_release(hs);
}

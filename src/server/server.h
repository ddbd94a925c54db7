/*
 * server.h — what the files of the HTTP server share: the options of
 * `agentkv serve`, the server and per-thread worker structures, the request
 * a route handler receives, the route table's row type, and the interfaces
 * of the connection, accept, dispatch, pool, metrics and access-log files.
 *
 * Threads and ownership (the invariants every file relies on):
 *   - N worker threads each run one libevent event_base. Every connection
 *     belongs to the worker that accepted it and is touched only by that
 *     worker's thread, except while it is "busy": then exactly one pool
 *     thread owns its request (struct http_req) until it hands it back
 *     through the worker's done list, or the request waits in its
 *     worker's batch, a flight of PUTs or the responses held for the end
 *     of the turn (dispatch.c). The worker neither reads nor writes the
 *     connection in between.
 *   - Handlers run either on the worker thread (fast, non-blocking reads:
 *     GET of one key, /healthz) or on a pool thread (anything that commits
 *     or scans: PUT, DELETE, list, stats, prune, /metrics, /readyz). The
 *     small PUTs of one loop turn go to the store as one flight
 *     (akv_put_many_start) that the loop does not wait for; the embedded
 *     store's committer thread puts the flights of every worker (and the
 *     other writes) in one transaction and one fsync.
 *   - Handlers touch only their struct http_req, the store, and the
 *     thread-safe counters of metrics.c. Per-worker counters are updated by
 *     the worker thread when the response is sent.
 * The server never caches values: the CLI and other processes write the
 * same store directory, and every read goes to the store.
 */
#ifndef AKV_SERVER_H
#define AKV_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include <jansson.h>

#include "agentkv.h"
#include "http-parse.h"

struct event_base;
struct event;
struct auth;
struct auth_cache;
struct auth_memo;
struct metrics;
struct metrics_local;
struct accesslog;

/* ---- options ------------------------------------------------------------ */

struct server_opts {
    const char *listen;       /* "ADDR:PORT"; port 0 picks a free one */
    int threads;              /* event-loop threads; 0 = one per core */
    int pool_threads;         /* threads for blocking store calls */
    const char *tokens_path;  /* tokens file */
    const char *dir;          /* store directory (for messages) */
    int no_auth;              /* every request acts as admin (loopback only) */
    int metrics_public;       /* /metrics without a token */
    int log_json;             /* --log-format json */
    const char *access_log;   /* NULL or "-": stderr; "off": none; a path */
    int64_t idle_timeout_ms;  /* silence allowed between requests; 0 = none */
    int64_t request_timeout_ms; /* head within, body/response progress within */
    int64_t header_timeout_ms;  /* a request head within; 0 = none of its own */
    size_t max_connections;     /* 0 = from the descriptor limit */
    uint64_t upload_budget;     /* in-flight request-body bytes, all
                                   connections (0 = SERVER_DEFAULT_BUDGET) */
    size_t mcp_sessions;        /* MCP sessions over HTTP (0 = default) */
    size_t mcp_sessions_per_token;
    int64_t prune_interval_ms;  /* background expiry period; 0 = off */
    const char *seed_dir;     /* --seed DIR; NULL = the bundled sets */
    int no_seed;              /* --no-seed: skip the start-up seed */
};

#define SERVER_DEFAULT_LISTEN "127.0.0.1:8420"
#define SERVER_DEFAULT_POOL 64
#define SERVER_REMOTE_THREADS_MAX 64 /* default --threads cap on Redis */
/* Responses the loops together hold for ev_send before they write them:
 * each may hold a read snapshot, one of LMDB's 1,022 reader slots. */
#define SERVER_SEND_HELD 512
/* Flights of PUTs a loop has out at once on the embedded store (one per
 * loop turn: the turns during a commit queue theirs for the next one);
 * each holds a descriptor, which fd_headroom counts. */
#define SERVER_FLIGHTS_MAX 8
#define SERVER_MAX_HEAD (80 * 1024) /* a 64 KiB X-Agentkv-Metadata fits */
#define SERVER_SMALL_BODY (1024 * 1024) /* routes that take no value */
/* A PUT body up to this size on a remote store is written with the other
 * PUTs of the loop's turn (one pipelined round trip); larger ones go to
 * the pool, where hashing them does not hold up the loop. */
#define SERVER_BATCH_PUT_MAX (64 * 1024)
#define SERVER_DEFAULT_BUDGET (256ull * 1024 * 1024)
/* Copies of a request body in memory while its request runs: the body
 * itself and the store's copy of the value until it is committed (LMDB's
 * dirty pages, or hiredis' command buffer on Redis). The upload budget
 * charges each body this many times its size, so that the budget bounds
 * what uploads really cost (bench/bench-uploads.sh). */
#define SERVER_BODY_COPIES 2
#define SERVER_DEFAULT_MCP_SESSIONS 4096
#define SERVER_DEFAULT_MCP_PER_TOKEN 64
/* Seconds a client is told to wait (Retry-After) when a limit refuses it. */
#define SERVER_RETRY_AFTER "1"

/*
 * Runs the server until SIGTERM or SIGINT, then shuts down gracefully.
 * The store stays open (the caller closes it). Returns AKV_OK, or an AKV_E*
 * code with a one-line message in err (bad options, cannot listen, tokens
 * file problems).
 */
int server_run(akv_store *store, const struct server_opts *opts, char *err,
               size_t errlen);

/* ---- growable output buffer (http-reply.c) ------------------------------ */

struct obuf {
    char *p;
    size_t len, cap;
    int oom; /* an append failed: the content is incomplete */
};
/* Room for more bytes after len: 0, or -1 with oom set. */
int ob_reserve(struct obuf *b, size_t more);
void ob_add(struct obuf *b, const void *data, size_t len);
void ob_str(struct obuf *b, const char *s);
/* ob_str of a string literal, whose length the compiler knows. */
#define OB_LIT(b, literal) ob_add((b), "" literal, sizeof literal - 1)
void ob_u64(struct obuf *b, uint64_t v);
void ob_i64(struct obuf *b, int64_t v);
void ob_printf(struct obuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ob_reset(struct obuf *b); /* len = 0, keeps small capacity */
void ob_free(struct obuf *b);

/* ---- requests and responses -------------------------------------------- */

enum auth_role { ROLE_NONE = 0, ROLE_ADMIN = 1, ROLE_AGENT = 2 };

struct http_resp {
    int status;
    struct obuf hdrs; /* extra header lines, each "Name: value\r\n" */
    struct obuf body; /* the body, unless ext is set */
    const char *ext;  /* borrowed body bytes (a value in the store) */
    size_t ext_len;
    akv_value *hold;  /* released once ext is sent or copied */
    char *ext_owned;  /* malloc'ed ext, freed once sent or copied */
    int streamed;     /* the handler wrote the whole response itself
                         (http_stream_begin): nothing is sent after it, the
                         connection closes */
    uint64_t streamed_bytes; /* body bytes it wrote, for the access log */
};

struct server;
struct route;
struct conn;

/* One request, as a handler sees it. Filled by the router before the
 * handler runs; everything a handler needs is here. */
struct http_req {
    struct server *srv;
    akv_store *store;
    const struct route *route;
    const struct http_head *head;
    const char *body;
    size_t body_len;
    /* Path parameters, decoded and validated by the router. */
    char sandbox[AKV_SANDBOX_MAX + 1];
    int has_scope;
    akv_scope scope;
    char key[AKV_KEY_MAX + 1];
    size_t key_len;
    enum auth_role role;
    /* The token's sandbox pattern (auth.h TOKEN_PATTERN_MAX + 1), for
     * routes that filter what they show by it; "*" without auth. */
    char token_pattern[129];
    int blocking;   /* run on a pool thread (the route's choice, or a read
                       that refreshes expiry and so writes) */
    int batched;    /* a read of one key on a remote store, or a small
                       PUT: gathered with the other reads and writes of
                       the loop's turn, which go in one akv_get_many and
                       one flight of PUTs (conn_batch_cb) */
    akv_get_req *fetched; /* that read's outcome while the handler runs;
                             the handler takes the value (sets it NULL) */
    /* Read outcome for the hit/miss counters: -1 none, 0 miss, 1 hit. */
    int hit;
    int fd; /* the connection's socket: for http_stream_* only, from a
               blocking route's handler (no one else touches it then) */
    struct http_resp resp;
};

/*
 * A response written as it is made (server-sent events), by a blocking
 * route's handler on its pool thread while the connection waits for it:
 * http_stream_begin() writes the status line, r->resp.hdrs, Content-Type
 * and Connection: close (the body ends when the connection does);
 * http_stream_write() writes body bytes, waiting up to the request timeout
 * for a slow reader. Both return 0, or -1 when the client is gone (or too
 * slow): the handler stops writing then. http_stream_peer_gone() is 1 once
 * the client closed its end. After the handler returns, the connection
 * only logs the request and closes.
 */
int http_stream_begin(struct http_req *r, int status,
                      const char *content_type);
int http_stream_write(struct http_req *r, const void *data, size_t len);
int http_stream_peer_gone(struct http_req *r);

typedef void (*http_handler)(struct http_req *r);

/* ---- routes (router.c) -------------------------------------------------- */

enum route_auth {
    AUTH_PUBLIC,  /* no token needed */
    AUTH_METRICS, /* admin token, or none with --metrics-public */
    AUTH_READ,    /* a token allowed in the sandbox */
    AUTH_WRITE,   /* same, and agents may not write scope system */
    AUTH_ADMIN,   /* admin token only */
    AUTH_TOKEN,   /* any token; the handler shows only what it may see */
};

enum route_body {
    BODY_SMALL,   /* at most SERVER_SMALL_BODY bytes (ignored) */
    BODY_VALUE,   /* at most the store's max_value_size */
    BODY_COMMAND, /* a JSON command carrying values: at most twice
                     max_value_size plus AKV_MEMORY_COMMAND_SLACK, the
                     bound of akv_memory() */
};

struct route {
    unsigned methods;      /* enum http_method bits */
    const char *pattern;   /* as in docs/openapi.yaml */
    int rest_last;         /* the last parameter takes the rest of the path */
    enum route_auth auth;
    enum route_body body;
    int blocking;          /* runs on a pool thread */
    http_handler handler;
    const char *summary;
};
extern const struct route routes[];
extern const size_t nroutes;

/* What the router decided about a request whose head has arrived. */
enum route_verdict {
    ROUTE_RUN,    /* run route->handler once the body is in */
    ROUTE_REFUSE, /* r->resp holds an error: send it without the body */
};
/*
 * Matches the head against the table, authenticates, decodes and checks
 * the path parameters, authorizes, and checks the declared body size.
 * Fills r (route, parameters, role) or an error response in r->resp.
 * Runs on the worker thread; cache is the worker's view of the tokens,
 * memo the connection's last token (auth.h).
 */
enum route_verdict router_prepare(struct server *srv, struct auth_cache *cache,
                                  struct auth_memo *memo, struct http_req *r);
/* Index of the route in routes[] (nroutes for "no route"), for metrics. */
size_t router_index(const struct route *route);
/* Writes the table to f, one "METHOD PATTERN AUTH" line per method. */
void router_print(FILE *f);

/* ---- replies (http-reply.c) --------------------------------------------- */

/* Adds "Name: value\r\n". */
void http_header(struct http_req *r, const char *name, const char *value);
void http_header_n(struct http_req *r, const char *name, const char *value,
                   size_t len);
/* A JSON body (copied) with status. */
void http_reply_json(struct http_req *r, int status, const char *json,
                     size_t len);
/* The same from a text to free() (owned; NULL answers out of memory). */
void http_reply_json_text(struct http_req *r, int status, char *json);
/* The same from a jansson value (the reference is taken). */
void http_reply_json_value(struct http_req *r, int status, json_t *v);
/* Compact text of v, reals as AKV_JSON_REAL_DIGITS says; takes the
 * reference. Owned: free(). NULL on out-of-memory. */
char *http_json_dump(json_t *v);
/* A JSON string of s[0..len), every byte that does not start a valid UTF-8
 * sequence replaced by U+FFFD. New reference; NULL on out-of-memory. */
json_t *http_json_string(const char *s, size_t len);
/* The error body of SPEC.md §2 for a library result, from akv_last_error()
 * (call it on the thread that made the failing call, right after it). */
void http_error_lib(struct http_req *r, int rc);
/* The same from an error saved earlier (a batched read's own message). */
void http_error_from(struct http_req *r, int rc, const akv_error *e);
/* The error body of SPEC.md §2 with the status of the AKV code. */
void http_error(struct http_req *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same with an explicit HTTP status (for statuses outside the table:
 * 405, 408, 431, 501, 505) and error code name. */
void http_error_status(struct http_req *r, int status, const char *code,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Drops whatever response was built (keeps buffers). */
void http_resp_clear(struct http_resp *resp);
void http_resp_free(struct http_resp *resp);

/* ---- handlers (http-kv.c, http-admin.c, http-instructions.c) ----------- */

void http_kv_get(struct http_req *r);
void http_kv_put(struct http_req *r);
/* http_kv_put in two halves, for PUTs gathered into one akv_put_many
 * (conn_batch_cb): the options from the request's query and headers
 * (0, or -1 with the error response set), then the response from the
 * write's outcome. */
struct kv_put_args {
    akv_put_opts opts; /* points into the buffers below and the head */
    char ct[AKV_CONTENT_TYPE_MAX + 1];
    char want[65];
};
int http_kv_put_parse(struct http_req *r, struct kv_put_args *a);
void http_kv_put_done(struct http_req *r, int rc, const akv_error *e,
                      const akv_meta *m, int created);
void http_kv_delete(struct http_req *r);
void http_kv_list(struct http_req *r);
void http_kv_clear(struct http_req *r);
void http_admin_healthz(struct http_req *r);
void http_admin_readyz(struct http_req *r);
void http_admin_metrics(struct http_req *r);
void http_admin_stats(struct http_req *r);
void http_admin_prune(struct http_req *r);
/* MCP streamable HTTP at /mcp (http-mcp.c). */
void http_mcp_post(struct http_req *r);
void http_mcp_get(struct http_req *r);
void http_mcp_delete(struct http_req *r);
void http_instructions_seed(struct http_req *r);
void http_instructions_list(struct http_req *r);
void http_instructions_prompt(struct http_req *r);
void http_instructions_search(struct http_req *r);
/* The dashboard's embedded files at / and /ui/{asset} (dashboard.c). */
void http_dashboard(struct http_req *r);
/* GET /v1/sandboxes: the sandboxes the token may see (http-sandboxes.c). */
void http_sandboxes_list(struct http_req *r);
/* POST /v1/sandboxes/{sb}/memory: Anthropic's memory tool (http-memory.c). */
void http_memory_post(struct http_req *r);

/*
 * Query parameters of a request, checked against the names a route takes:
 * an unknown or repeated name, or a value that fails to decode, is a 400
 * (left in r->resp). On success out[i] holds the decoded, NUL-terminated
 * value of names[i], or NULL when absent. Values live in buf.
 */
int http_query(struct http_req *r, const char *const *names, size_t n,
               const char **out, char *buf, size_t buflen);

/* ---- workers, pool, server ---------------------------------------------- */

struct worker {
    struct server *srv;
    int id;
    pthread_t thread;
    struct event_base *base;
    struct event *ev_accept, *ev_accept_retry, *ev_sweep, *ev_stop,
        *ev_done, *ev_flush, *ev_batch;
    struct conn *conns; /* doubly linked list of this worker's connections */
    size_t nconns;
    /* Connections owned or about to be handed over: what the acceptor of
     * a new connection compares to pick the least-loaded worker. */
    atomic_size_t load;
    /* Accepted sockets handed over by another worker; guarded by in_lock,
     * taken by ev_incoming. */
    pthread_mutex_t in_lock;
    struct incoming *incoming;
    struct event *ev_incoming;
    int stopping;
    int64_t stop_ms; /* when stopping began (monotonic ms) */
    /* Held open so that, out of descriptors, one accept can still be made
     * (and the connection answered by closing an idle one); -1 if none. */
    int reserve_fd;
    /* Batched reads of this turn (loop thread only), run by ev_batch. */
    struct conn *batch, **batch_tail;
    /* Requests run on the loop this turn whose responses wait, written by
     * ev_send (dispatch.c, conn_send_cb; loop thread only). */
    struct conn *send, **send_tail;
    size_t send_n, send_max;
    /* Loop thread only (dispatch.c): the flights of batched writes sent
     * and not yet answered (nflights of them, at most 1 on a remote store
     * and SERVER_FLIGHTS_MAX on the embedded one); the batched writes that
     * wait to be sent (linked through job_next); put_hold: a flight was
     * just answered and the waiting writes go at the next turn, by
     * ev_next, with those that turn brings. */
    struct put_flight *flight;
    size_t nflights;
    struct conn *put_wait, **put_wait_tail;
    int put_hold;
    size_t put_wait_n, put_want;
    struct event *ev_next;
    struct event *ev_send;
    /* Requests handed back by pool threads; guarded by done_lock. */
    pthread_mutex_t done_lock;
    struct conn *done;
    struct auth_cache *auth;
    struct metrics_local *metrics;
    struct obuf log; /* access-log lines not yet written */
    /* Monotonic ns of the loop's latest clock read: when it last read a
     * socket, or began to send a response. A request's start and end and
     * the Date below are taken from it, one clock read for each. */
    uint64_t now_ns;
    /* Cached "Date:" value, and the monotonic ns at which the wall
     * clock's second it shows is over. */
    uint64_t date_next_ns;
    char date[HTTP_DATE_BUF];
    size_t date_len;
};

/* A job for a pool thread: run(arg). The submitter owns the job and keeps
 * it alive until run has been called; next is the pool's queue link. */
struct pool_job {
    void (*run)(void *arg);
    void *arg;
    struct pool_job *next;
};

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct pool_job *head, *tail;
    int stop;
    pthread_t *threads;
    int n;
};
int pool_start(struct pool *p, int n);
void pool_submit(struct pool *p, struct pool_job *job);
/* Runs the queue dry, then joins the threads. */
void pool_stop(struct pool *p);

struct server {
    struct server_opts opts;
    akv_store *store;
    uint64_t max_value;
    int lfd;
    int loopback;
    char url[128];
    struct worker *workers;
    int nworkers;
    /* Connections all workers hold at most (the sum of their loads). */
    size_t max_conns;
    /* Request-body bytes held in memory by all connections, counted
     * SERVER_BODY_COPIES times, and the most they may hold (>= that many
     * times max_value and SERVER_SMALL_BODY, so that any admissible body
     * fits when nothing else is in flight). */
    _Atomic uint64_t body_inflight;
    uint64_t body_budget;
    struct pool pool;
    struct auth *auth;
    struct metrics *metrics;
    struct accesslog *log;
    atomic_int stopping;
    atomic_int accept_stopped; /* workers that no longer accept */
};

/* ---- accepting (accept.c) ----------------------------------------------- */

/* Accepts pending connections on the shared listening socket and gives
 * each to the least-loaded worker. */
void conn_accept_cb(int fd, short what, void *arg);
/* Takes the connections other workers handed over. */
void conn_incoming_cb(int fd, short what, void *arg);
/* Closes handed-over sockets no loop will take (after the loops ended). */
void conn_incoming_drop(struct worker *w);

/* ---- connections (http-conn.c) ------------------------------------------ */

/* Closes timed-out connections; also ends the loop once stopping and
 * idle. */
void conn_sweep_cb(int fd, short what, void *arg);
/* Stops accepting, closes idle connections, lets in-flight requests end. */
void conn_stop_cb(int fd, short what, void *arg);
/* Frees every connection of a worker (after its loop has ended). */
void conn_free_all(struct worker *w);
/* Interval of the sweep timer for the configured timeouts, in ms. */
int64_t conn_sweep_interval(const struct server_opts *o);

/* ---- dispatch (dispatch.c) ---------------------------------------------- */

/* Sends the responses of requests finished by pool threads. */
void conn_done_cb(int fd, short what, void *arg);
/* Runs the reads and writes batched during the loop's turn (see
 * http_req.batched). */
void conn_batch_cb(int fd, short what, void *arg);
/* ev_send: writes the responses of the turn's requests run on the loop. */
void conn_send_cb(int fd, short what, void *arg);
/* At the worker's end: the flights still out are given up (their
 * connections dropped, their requests left unanswered: their connections
 * are freed). */
void conn_flight_drop(struct worker *w);
/* ev_next: sends the writes that wait (and the turn's batch). */
void conn_next_cb(int fd, short what, void *arg);

/* ---- access log (accesslog.c) ------------------------------------------- */

int accesslog_open(struct server *srv, char *err, size_t errlen);
void accesslog_close(struct server *srv);
/* Appends one line to the worker's buffer; flushed by accesslog_flush at
 * the end of the loop iteration (one write for many requests). */
void accesslog_add(struct worker *w, const char *remote, unsigned method,
                   struct http_span method_str, struct http_span target,
                   int status, uint64_t bytes, uint64_t duration_ns);
void accesslog_flush(struct worker *w);
void accesslog_flush_cb(int fd, short what, void *arg);
/* A server event (start, reload, expiry, errors) in the log format, on
 * stderr. */
void server_log(struct server *srv, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The most bytes a request body of kind body may have (server.c). */
uint64_t server_body_limit(const struct server *srv, enum route_body body);

/* Monotonic and wall clocks. */
uint64_t server_now_ns(void);
int64_t server_wall_ms(void);

#endif /* AKV_SERVER_H */

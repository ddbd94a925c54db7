/*
 * server.c — the life of `agentkv serve`: the listening socket, the tokens
 * policy at start-up, the worker and pool threads, signals (SIGTERM/SIGINT
 * shut down gracefully, SIGHUP reloads the tokens file), background expiry,
 * and the orderly teardown.
 *
 * Threads: the calling thread runs a small event loop of its own for
 * signals and the expiry timer; N workers each run an event loop that
 * accepts from the one shared listening socket and serves its connections;
 * the pool runs blocking handlers. Signals are blocked in every thread but
 * the first, so libevent's signal handling sees them there.
 *
 * Shutdown: each worker stops accepting, closes idle connections, lets
 * requests in flight finish (answering with Connection: close) and ends
 * when it has no connection left (or after a grace period). Then the pool
 * drains, and the caller closes the store. Writes that were acknowledged
 * were committed before their response was sent (akv_put returns after the
 * commit), so they survive the exit.
 *
 * Limits: at start the soft descriptor limit is raised to the hard one, and
 * the connection cap is derived from it (set_limits); the upload budget is
 * at least one largest admissible body. http-conn.c enforces both.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "admin-token.h"
#include "auth.h"
#include "metrics.h"
#include "agentkv-instructions.h"
#include "server.h"

static int failf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int failf(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- listening socket --------------------------------------------------- */

/* Splits "HOST:PORT" or "[V6]:PORT". */
static int split_listen(const char *s, char *host, size_t hostlen, char *port,
                        size_t portlen)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(close - s - 1), s + 1);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(colon - s), s);
    }
    snprintf(port, portlen, "%s", colon + 1);
    if (host[0] == '\0' || port[0] == '\0')
        return -1;
    for (const char *p = port; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return atoi(port) <= 65535 ? 0 : -1;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) &&
               a->sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

static int open_listener(struct server *srv, char *err, size_t errlen)
{
    char host[256], port[16];
    if (split_listen(srv->opts.listen, host, sizeof host, port, sizeof port))
        return failf(err, errlen, AKV_EINVAL,
                     "invalid --listen '%.200s': expected ADDR:PORT, e.g. "
                     "127.0.0.1:8420 or [::1]:8420",
                     srv->opts.listen);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return failf(err, errlen, AKV_EINVAL, "cannot resolve %s: %s", host,
                     gai_strerror(gai));
    srv->loopback = is_loopback(res->ai_addr);
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
                                        SOCK_CLOEXEC,
                    res->ai_protocol);
    int one = 1;
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return failf(err, errlen, AKV_EUNAVAILABLE, "cannot listen on %s: %s",
                     srv->opts.listen, strerror(e));
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char addr[INET6_ADDRSTRLEN] = "?";
    int p = 0;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof addr);
        p = ntohs(a->sin6_port);
        snprintf(srv->url, sizeof srv->url, "http://[%s]:%d", addr, p);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, addr, sizeof addr);
        p = ntohs(a->sin_port);
        snprintf(srv->url, sizeof srv->url, "http://%s:%d", addr, p);
    }
    srv->lfd = fd;
    return AKV_OK;
}

/* ---- tokens policy ------------------------------------------------------ */

/*
 * SPEC.md §4: without a tokens file, a loopback server creates one admin
 * token, prints it once and saves it in DIR/admin-token (mode 0600); a
 * non-loopback server refuses to start without tokens; --no-auth only on
 * loopback.
 */
static int tokens_policy(struct server *srv, char *err, size_t errlen)
{
    const struct server_opts *o = &srv->opts;
    if (o->no_auth) {
        if (!srv->loopback)
            return failf(err, errlen, AKV_EINVAL,
                         "--no-auth is accepted only on a loopback address "
                         "(got %s)",
                         o->listen);
        return AKV_OK;
    }
    struct token_entry *v = NULL;
    size_t n = 0;
    char msg[512];
    int rc = tokens_read(o->tokens_path, &v, &n, msg, sizeof msg);
    free(v);
    if (rc == AKV_ENOTFOUND) {
        if (!srv->loopback)
            return failf(err, errlen, AKV_EINVAL,
                         "no tokens file %s: refusing to listen on a "
                         "non-loopback address without tokens (create one "
                         "with 'agentkv token create --role admin')",
                         o->tokens_path);
        char token[TOKEN_BUF];
        struct token_entry e;
        rc = tokens_create(o->tokens_path, ROLE_ADMIN, "*", "first run", token,
                           &e, msg, sizeof msg);
        if (rc != AKV_OK)
            return failf(err, errlen, rc, "%s", msg);
        /* Saved in plain text, mode 0600, so that it can be found again
         * (admin-token.h); a failure to save is reported, not fatal: the
         * token is printed below either way. */
        char saved[4096];
        admin_token_path(o->tokens_path, saved, sizeof saved);
        if (admin_token_save(o->tokens_path, token, msg, sizeof msg) !=
            AKV_OK) {
            server_log(srv, "warn", "%s", msg);
            saved[0] = '\0';
        }
        server_log(srv, "info",
                   "first run: created admin token %s, stored hashed in %s%s%s",
                   e.id, o->tokens_path,
                   saved[0] ? " and in plain text in " : " and shown only now",
                   saved);
        server_log(srv, "info", "admin token: %s", token);
        return AKV_OK;
    }
    if (rc != AKV_OK)
        return failf(err, errlen, rc, "%s", msg);
    if (n == 0 && !srv->loopback)
        return failf(err, errlen, AKV_EINVAL,
                     "tokens file %s holds no token: refusing to listen on "
                     "a non-loopback address without tokens",
                     o->tokens_path);
    return AKV_OK;
}

/* ---- limits ------------------------------------------------------------- */

uint64_t server_body_limit(const struct server *srv, enum route_body body)
{
    switch (body) {
    case BODY_VALUE:
        return srv->max_value;
    case BODY_COMMAND:
        return 2 * srv->max_value + AKV_MEMORY_COMMAND_SLACK;
    case BODY_SMALL:
        break;
    }
    return SERVER_SMALL_BODY;
}

/* Descriptors kept for what is not a client connection: the store's files,
 * the logs, each loop's epoll and wake-up descriptors, its reserve and its
 * flights' descriptors, and a connection to a remote store for every
 * thread that may hold one. */
static size_t fd_headroom(const struct server *srv)
{
    return 64 + (4 + SERVER_FLIGHTS_MAX) * (size_t)srv->nworkers +
           (size_t)srv->opts.pool_threads;
}

/*
 * Raises the soft RLIMIT_NOFILE to the hard limit (a server that holds
 * connections needs descriptors, and the soft default of 1024 is a legacy
 * of select()), and sets the connection cap and the upload budget.
 */
static void set_limits(struct server *srv)
{
    struct rlimit rl;
    rlim_t was = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        was = rl.rlim_cur;
        if (rl.rlim_cur != rl.rlim_max) {
            struct rlimit up = {rl.rlim_max, rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &up) == 0)
                rl.rlim_cur = rl.rlim_max;
        }
    } else {
        rl.rlim_cur = 1024;
    }
    size_t fds = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 30)
                     ? (size_t)1 << 30
                     : (size_t)rl.rlim_cur;
    size_t room = fd_headroom(srv);
    size_t derived = fds > room + 16 ? fds - room : 16;
    srv->max_conns = srv->opts.max_connections ? srv->opts.max_connections
                                               : derived;
    uint64_t budget = srv->opts.upload_budget ? srv->opts.upload_budget
                                              : SERVER_DEFAULT_BUDGET;
    uint64_t floor = 0;
    for (int k = BODY_SMALL; k <= BODY_COMMAND; k++)
        if (server_body_limit(srv, (enum route_body)k) > floor)
            floor = server_body_limit(srv, (enum route_body)k);
    floor *= SERVER_BODY_COPIES;
    if (budget < floor) {
        server_log(srv, "warning",
                   "upload_budget %llu is below what the largest body a "
                   "request may send costs; using %llu (%d x a memory "
                   "command of twice max_value_size plus %u bytes)",
                   (unsigned long long)budget, (unsigned long long)floor,
                   SERVER_BODY_COPIES, AKV_MEMORY_COMMAND_SLACK);
        budget = floor;
    }
    srv->body_budget = budget;
    atomic_init(&srv->body_inflight, 0);
    if (srv->opts.max_connections && srv->opts.max_connections > derived)
        server_log(srv, "warning",
                   "max_connections %zu leaves little room under the "
                   "descriptor limit of %zu",
                   srv->opts.max_connections, fds);
    char raised[64] = "";
    if ((size_t)was != fds && was != 0)
        snprintf(raised, sizeof raised, ", raised from %llu",
                 (unsigned long long)was);
    server_log(srv, "info",
               "limits: %zu descriptors%s; at most %zu connections, "
               "%llu bytes of request bodies in flight, header timeout %llds",
               fds, raised, srv->max_conns, (unsigned long long)budget,
               (long long)(srv->opts.header_timeout_ms / 1000));
}

/* ---- main-thread events ------------------------------------------------- */

struct main_ctx {
    struct server *srv;
    struct event_base *base;
    int signal;
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct main_ctx *m = arg;
    if (sig == SIGHUP) {
        char msg[512];
        int rc = auth_load(m->srv->auth, msg, sizeof msg);
        if (rc == AKV_OK)
            server_log(m->srv, "info", "SIGHUP: reloaded %zu tokens from %s",
                       auth_count(m->srv->auth), m->srv->opts.tokens_path);
        else
            server_log(m->srv, "error",
                       "SIGHUP: tokens not reloaded, keeping the old ones: %s",
                       msg);
        return;
    }
    m->signal = (int)sig;
    event_base_loopbreak(m->base);
}

static void on_prune(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct server *srv = arg;
    uint64_t counts[AKV_SCOPE_COUNT] = {0};
    int rc = akv_prune(srv->store, NULL, AKV_SCOPE_ALL, counts);
    if (rc != AKV_OK) {
        server_log(srv, "error", "background expiry failed: %s",
                   akv_last_error()->message);
        return;
    }
    metrics_expired(srv->metrics, counts);
    uint64_t total = 0;
    for (int s = 0; s < AKV_SCOPE_COUNT; s++)
        total += counts[s];
    if (total)
        server_log(srv, "info", "background expiry removed %llu entries",
                   (unsigned long long)total);
}

static void lib_log(void *ctx, const char *level, const char *message)
{
    server_log(ctx, level, "%s", message);
}

/* ---- workers ------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    event_base_dispatch(w->base);
    accesslog_flush(w);
    return NULL;
}

static int worker_init(struct server *srv, struct worker *w, int id)
{
    w->srv = srv;
    w->id = id;
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pthread_mutex_init(&w->done_lock, NULL);
    pthread_mutex_init(&w->in_lock, NULL);
    atomic_init(&w->load, 0);
    w->base = event_base_new();
    if (w->base == NULL)
        return -1;
    w->ev_accept = event_new(w->base, srv->lfd, EV_READ | EV_PERSIST,
                             conn_accept_cb, w);
    w->ev_sweep = event_new(w->base, -1, EV_PERSIST, conn_sweep_cb, w);
    w->ev_stop = event_new(w->base, -1, 0, conn_stop_cb, w);
    w->ev_done = event_new(w->base, -1, 0, conn_done_cb, w);
    w->ev_incoming = event_new(w->base, -1, 0, conn_incoming_cb, w);
    w->ev_flush = event_new(w->base, -1, 0, accesslog_flush_cb, w);
    w->ev_batch = event_new(w->base, -1, 0, conn_batch_cb, w);
    w->ev_next = event_new(w->base, -1, 0, conn_next_cb, w);
    w->ev_send = event_new(w->base, -1, 0, conn_send_cb, w);
    w->send_tail = &w->send;
    w->send_max = SERVER_SEND_HELD / (size_t)srv->nworkers;
    if (w->send_max < 1)
        w->send_max = 1;
    w->batch_tail = &w->batch;
    w->put_wait_tail = &w->put_wait;
    w->auth = auth_cache_new(srv->auth);
    w->metrics = metrics_local(srv->metrics, id);
    if (!w->ev_accept || !w->ev_sweep || !w->ev_stop || !w->ev_done ||
        !w->ev_incoming || !w->ev_flush || !w->ev_batch || !w->ev_next ||
        !w->ev_send || !w->auth)
        return -1;
    /* One priority for every event. The access-log flush, a turn's batch
     * (ev_batch), its held responses (ev_send) and the flights' answers
     * are activated while the turn's ready connections are handled, and an
     * event activated goes after those already active: so each runs after
     * the turn's reading. A lower priority would make them wait for a
     * turn with no connection ready at all, which under load may not come
     * for hundreds of milliseconds (a GET held for ev_send waited up to
     * 0.7 s so while the other connections kept the loop busy). */
    int64_t ms = conn_sweep_interval(&srv->opts);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_add(w->ev_sweep, &tv);
    event_add(w->ev_accept, NULL);
    return 0;
}

static void worker_free(struct worker *w)
{
    if (w->base) {
        conn_flight_drop(w);
        conn_incoming_drop(w);
        conn_free_all(w);
    }
    struct event *evs[] = {w->ev_accept, w->ev_accept_retry, w->ev_sweep,
                           w->ev_stop,   w->ev_done,         w->ev_incoming,
                           w->ev_flush,  w->ev_batch,        w->ev_next,
                           w->ev_send};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i])
            event_free(evs[i]);
    auth_cache_free(w->auth);
    if (w->reserve_fd >= 0)
        close(w->reserve_fd);
    ob_free(&w->log);
    if (w->base)
        event_base_free(w->base);
    pthread_mutex_destroy(&w->done_lock);
    pthread_mutex_destroy(&w->in_lock);
}

/* ---- start-up seed -------------------------------------------------------- */

/* SPEC.md §5: at start-up the server seeds the instruction sets (--seed DIR,
 * else the bundled defaults) into _global, on a thread of its own so that
 * requests are served meanwhile. Seeding is idempotent, so a restart costs
 * one read of each file. A failure is logged and the server serves on. */
static void *seed_main(void *arg)
{
    struct server *srv = arg;
    akv_seed_report *rep = NULL;
    akv_seed_opts so = {0};
    int rc = akv_seed(srv->store, AKV_GLOBAL_SANDBOX, srv->opts.seed_dir, &so,
                      &rep);
    if (rc != AKV_OK)
        server_log(srv, "error", "start-up seed of _global failed: %s: %s",
                   akv_err_name(rc), akv_last_error()->message);
    else
        server_log(srv, "info",
                   "seeded _global from %s: added %zu, updated %zu, "
                   "unchanged %zu, removed %zu",
                   rep->dir, rep->added, rep->updated, rep->unchanged,
                   rep->removed);
    akv_seed_report_free(rep);
    return NULL;
}

/* ---- run ---------------------------------------------------------------- */

/* What server_run started, so that stopping and releasing undo exactly
 * that. */
struct run {
    struct server *srv;
    struct main_ctx mc;
    struct event *sig_ev[3], *prune_ev;
    int workers_started, pool_started, seed_started;
    pthread_t seed_thread;
};

/* How many event loops and pool threads to run. */
static void size_threads(struct server *srv)
{
    /* A worker runs a request's store call on its own loop. On a remote
     * store (Redis) a loop sends the reads of a turn in one round trip and
     * waits for it, and its small writes in one flight, which it does not
     * wait for (conn_batch_cb): the fewer the loops, the more requests a
     * batch holds, and a batch's PUTs of one namespace are one script in
     * Redis. One loop per two cores: on two
     * cores it made up to 1.7 times the PUTs per second of four loops
     * (less, or none, when other work crowds the machine), with a third
     * less CPU per PUT in the server and Redis together
     * (docs/performance.md). */
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    if (srv->opts.threads > 0)
        srv->nworkers = srv->opts.threads;
    else if (akv_store_is_remote(srv->store))
        srv->nworkers = cores < 2 ? 1
                        : cores / 2 < SERVER_REMOTE_THREADS_MAX
                            ? cores / 2
                            : SERVER_REMOTE_THREADS_MAX;
    else
        srv->nworkers = cores;
    if (srv->opts.pool_threads < 1)
        srv->opts.pool_threads = SERVER_DEFAULT_POOL;
}

/* Everything before the first thread: the listening socket, the tokens,
 * metrics, the access log and the process limits. */
static int prepare(struct server *srv, char *err, size_t errlen)
{
    const struct server_opts *opts = &srv->opts;
    int rc;
    if (evthread_use_pthreads() != 0)
        return failf(err, errlen, AKV_EUNAVAILABLE,
                     "libevent without thread support");
    if ((rc = open_listener(srv, err, errlen)) != AKV_OK ||
        (rc = tokens_policy(srv, err, errlen)) != AKV_OK)
        return rc;
    srv->auth = auth_new(opts->tokens_path, opts->no_auth);
    srv->metrics = metrics_new(nroutes, srv->nworkers);
    if (srv->auth == NULL || srv->metrics == NULL)
        return failf(err, errlen, AKV_ENOMEM, "out of memory");
    char msg[512];
    if (!opts->no_auth && (rc = auth_load(srv->auth, msg, sizeof msg)) != AKV_OK)
        return failf(err, errlen, rc, "%s", msg);
    if ((rc = accesslog_open(srv, err, errlen)) != AKV_OK)
        return rc;
    akv_set_log(lib_log, srv);
    set_limits(srv); /* before any loop or pool thread exists */
    return AKV_OK;
}

/* The pool and the worker loops, with SIGINT, SIGTERM and SIGHUP blocked
 * in them: only the main thread takes those. */
static int start_threads(struct run *r, char *err, size_t errlen)
{
    struct server *srv = r->srv;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (pool_start(&srv->pool, srv->opts.pool_threads) != AKV_OK) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return failf(err, errlen, AKV_EUNAVAILABLE, "cannot start the pool");
    }
    r->pool_started = 1;
    srv->workers = calloc((size_t)srv->nworkers, sizeof *srv->workers);
    int rc = srv->workers ? AKV_OK : AKV_ENOMEM;
    for (int i = 0; rc == AKV_OK && i < srv->nworkers; i++)
        srv->workers[i].reserve_fd = -1; /* until worker_init opens it */
    /* Every worker is set up before any starts: an acceptor may hand a
     * connection to any of them. */
    for (int i = 0; rc == AKV_OK && i < srv->nworkers; i++)
        if (worker_init(srv, &srv->workers[i], i) != 0)
            rc = AKV_EUNAVAILABLE;
    for (int i = 0; rc == AKV_OK && i < srv->nworkers; i++) {
        if (pthread_create(&srv->workers[i].thread, NULL, worker_main,
                           &srv->workers[i]) != 0) {
            rc = AKV_EUNAVAILABLE;
            break;
        }
        r->workers_started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != AKV_OK)
        failf(err, errlen, rc, "cannot start the worker threads");
    return rc;
}

/* The main thread's loop: signals, the prune timer and the seeding thread,
 * until SIGINT or SIGTERM. */
static int main_loop(struct run *r, char *err, size_t errlen)
{
    struct server *srv = r->srv;
    const struct server_opts *opts = &srv->opts;
    r->mc.base = event_base_new();
    if (r->mc.base == NULL)
        return failf(err, errlen, AKV_EUNAVAILABLE,
                     "cannot create event loop");
    const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        r->sig_ev[i] = evsignal_new(r->mc.base, sigs[i], on_signal, &r->mc);
        if (r->sig_ev[i])
            event_add(r->sig_ev[i], NULL);
    }
    if (opts->prune_interval_ms > 0) {
        r->prune_ev = event_new(r->mc.base, -1, EV_PERSIST, on_prune, srv);
        struct timeval tv = {(time_t)(opts->prune_interval_ms / 1000),
                             (suseconds_t)(opts->prune_interval_ms % 1000) *
                                 1000};
        if (r->prune_ev)
            event_add(r->prune_ev, &tv);
    }
    server_log(srv, "info",
               "listening on %s (%d threads, %d pool threads, auth %s, "
               "store %s)",
               srv->url, srv->nworkers, srv->pool.n,
               opts->no_auth ? "off" : "on", opts->dir ? opts->dir : "?");
    if (!opts->no_seed &&
        pthread_create(&r->seed_thread, NULL, seed_main, srv) == 0)
        r->seed_started = 1;
    event_base_dispatch(r->mc.base);
    server_log(srv, "info", "%s: shutting down, finishing requests in flight",
               r->mc.signal == SIGINT ? "SIGINT" : "SIGTERM");
    return AKV_OK;
}

/* Stops accepting, lets the requests in flight finish, joins every thread
 * that was started. */
static void stop_threads(struct run *r)
{
    struct server *srv = r->srv;
    atomic_store(&srv->stopping, 1);
    for (int i = 0; i < r->workers_started; i++)
        event_active(srv->workers[i].ev_stop, EV_READ, 0);
    /* Once no worker accepts any more, close the listening socket, so that
     * new clients are refused at once instead of waiting in the backlog. */
    for (int i = 0; i < 2000 && atomic_load(&srv->accept_stopped) <
                                    r->workers_started; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    if (atomic_load(&srv->accept_stopped) == r->workers_started &&
        srv->lfd >= 0) {
        close(srv->lfd);
        srv->lfd = -1;
    }
    for (int i = 0; i < r->workers_started; i++)
        pthread_join(srv->workers[i].thread, NULL);
    if (r->pool_started)
        pool_stop(&srv->pool);
    if (r->seed_started)
        pthread_join(r->seed_thread, NULL);
}

/* Frees what prepare, start_threads and main_loop made, and srv. */
static void release(struct run *r)
{
    struct server *srv = r->srv;
    for (int i = 0; i < 3; i++)
        if (r->sig_ev[i])
            event_free(r->sig_ev[i]);
    if (r->prune_ev)
        event_free(r->prune_ev);
    if (r->mc.base)
        event_base_free(r->mc.base);
    for (int i = 0; srv->workers && i < srv->nworkers; i++)
        worker_free(&srv->workers[i]);
    free(srv->workers);
    /* Every connection is gone, and with it every reservation. */
    assert(atomic_load(&srv->body_inflight) == 0);
    akv_set_log(NULL, NULL);
    accesslog_close(srv);
    metrics_free(srv->metrics);
    auth_free(srv->auth);
    if (srv->lfd >= 0)
        close(srv->lfd);
    free(srv);
    libevent_global_shutdown();
}

int server_run(akv_store *store, const struct server_opts *opts, char *err,
               size_t errlen)
{
    struct server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return failf(err, errlen, AKV_ENOMEM, "out of memory");
    srv->opts = *opts;
    srv->store = store;
    srv->lfd = -1;
    srv->max_value = akv_config_max_value_size(akv_store_config(store));
    size_threads(srv);

    struct run r;
    memset(&r, 0, sizeof r);
    r.srv = srv;
    r.mc.srv = srv;
    int rc = prepare(srv, err, errlen);
    if (rc == AKV_OK) {
        if ((rc = start_threads(&r, err, errlen)) == AKV_OK)
            rc = main_loop(&r, err, errlen);
        stop_threads(&r);
        if (rc == AKV_OK)
            server_log(srv, "info", "stopped");
    }
    release(&r);
    return rc;
}

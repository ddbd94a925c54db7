/*
 * accept.c — taking new connections: accepting on the shared listening
 * socket, handing each to the least-loaded worker, and what happens at the
 * connection cap or out of descriptors (http-conn.c's header, "Limits").
 * A connection, once made with conn_new(), lives in http-conn.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "server.h"

#define ACCEPT_BATCH 16

/*
 * The kernel wakes every worker for a connection on the shared socket and
 * whichever runs first accepts it, which left loops with 32 and 18 of 50
 * connections. So the acceptor gives each connection to the worker with the
 * fewest (itself on a tie): a handed-over socket goes through the target's
 * incoming list and a wake-up; the connection's life then stays on that
 * thread.
 */
struct incoming {
    int fd;
    struct sockaddr_storage ss;
    struct incoming *next;
};

static void handover(struct worker *w, int fd, const struct sockaddr_storage *ss)
{
    struct server *srv = w->srv;
    struct worker *target = w;
    size_t least = atomic_load(&w->load);
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *o = &srv->workers[i];
        size_t l = atomic_load(&o->load);
        if (l < least) {
            least = l;
            target = o;
        }
    }
    atomic_fetch_add(&target->load, 1);
    struct incoming *in = target == w ? NULL : malloc(sizeof *in);
    if (in == NULL) {
        if (target != w) { /* no memory to hand over: keep it here */
            atomic_fetch_sub(&target->load, 1);
            atomic_fetch_add(&w->load, 1);
        }
        conn_new(w, fd, ss);
        return;
    }
    in->fd = fd;
    in->ss = *ss;
    pthread_mutex_lock(&target->in_lock);
    in->next = target->incoming;
    target->incoming = in;
    pthread_mutex_unlock(&target->in_lock);
    event_active(target->ev_incoming, EV_READ, 0);
}

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    if (!w->stopping)
        event_add(w->ev_accept, NULL);
}

/* Connections of all workers, including those being handed over. */
static size_t total_conns(const struct server *srv)
{
    size_t n = 0;
    for (int i = 0; i < srv->nworkers; i++)
        n += atomic_load(&srv->workers[i].load);
    return n;
}

/*
 * Closes one of this worker's connections to make room for a new one: the
 * oldest that never sent a complete request head (a silent or slow socket
 * is what a flood is made of), else the one idle longest between requests.
 * Returns 0, or -1 when every connection is in the middle of a request.
 */
static int make_room(struct worker *w)
{
    struct conn *fresh = NULL, *idle = NULL;
    for (struct conn *c = w->conns; c; c = c->next) {
        if (c->requests == 0 && (c->state == C_IDLE || c->state == C_HEAD)) {
            if (fresh == NULL || c->t_accept < fresh->t_accept)
                fresh = c;
        } else if (c->state == C_IDLE) {
            if (idle == NULL || c->t_activity < idle->t_activity)
                idle = c;
        }
    }
    struct conn *victim = fresh ? fresh : idle;
    if (victim == NULL)
        return -1;
    conn_free(victim);
    return 0;
}

/* A warning at most once a minute per loop, for conditions that would
 * otherwise log once per connection. */
static void warn_limited(struct worker *w, int64_t *last, const char *what)
{
    int64_t now = now_ms();
    if (now - *last < 60000)
        return;
    *last = now;
    server_log(w->srv, "warning", "%s (said at most once a minute)", what);
}

static void pause_accepting(struct worker *w)
{
    struct timeval tv = {0, 100000};
    event_del(w->ev_accept);
    if (w->ev_accept_retry)
        evtimer_add(w->ev_accept_retry, &tv);
}

/*
 * Out of descriptors: with the reserve descriptor closed, one connection
 * can still be accepted; it is kept if an idle connection makes room for
 * it, else closed at once (the client sees the connection end instead of
 * waiting in the backlog). Returns the accepted descriptor or -1.
 */
static int accept_with_reserve(struct worker *w, int lfd,
                               struct sockaddr_storage *ss, socklen_t *sl)
{
    if (w->reserve_fd < 0)
        return -1;
    close(w->reserve_fd);
    w->reserve_fd = -1;
    int fd = accept4(lfd, (struct sockaddr *)ss, sl,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0 && make_room(w) != 0) {
        close(fd);
        fd = -1;
    }
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd;
}

void conn_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    struct worker *w = arg;
    struct server *srv = w->srv;
    static _Thread_local int64_t warned_fds = -60000, warned_cap = -60000;
    if (w->ev_accept_retry == NULL)
        w->ev_accept_retry = evtimer_new(w->base, accept_resume, w);
    if (w->reserve_fd < 0) /* lost to another thread at the last EMFILE */
        w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (int i = 0; i < ACCEPT_BATCH && !w->stopping; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                char what_[160];
                snprintf(what_, sizeof what_,
                         "accept: %s; closing idle connections to make "
                         "room, pausing accepts while it lasts",
                         strerror(errno));
                warn_limited(w, &warned_fds, what_);
                sl = sizeof ss;
                fd = accept_with_reserve(w, lfd, &ss, &sl);
                if (fd < 0) {
                    /* The listening socket stays readable: stop watching
                     * it for a moment instead of spinning. */
                    pause_accepting(w);
                    return;
                }
            } else {
                return;
            }
        } else if (total_conns(srv) >= srv->max_conns) {
            char what_[160];
            snprintf(what_, sizeof what_,
                     "%zu connections, the cap ([server] max_connections): "
                     "closing the oldest that sent no request to make room",
                     srv->max_conns);
            warn_limited(w, &warned_cap, what_);
            if (make_room(w) != 0) {
                close(fd);
                continue;
            }
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        handover(w, fd, &ss);
    }
}

void conn_incoming_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    pthread_mutex_lock(&w->in_lock);
    struct incoming *list = w->incoming;
    w->incoming = NULL;
    pthread_mutex_unlock(&w->in_lock);
    while (list) {
        struct incoming *in = list;
        list = in->next;
        if (w->stopping) {
            close(in->fd);
            atomic_fetch_sub(&w->load, 1);
        } else {
            conn_new(w, in->fd, &in->ss);
        }
        free(in);
    }
}

void conn_incoming_drop(struct worker *w)
{
    w->stopping = 1;
    conn_incoming_cb(-1, 0, w);
}

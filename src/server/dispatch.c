/*
 * dispatch.c — what happens to a request once its head (and body) are in:
 * its handler runs on the worker's loop, on a pool thread (anything that
 * commits or scans), or, for a read of one key on a remote store or a
 * small PUT, in the batch of the loop's turn (one akv_get_many for the
 * reads; the writes go in a flight the loop does not wait for); then the
 * response goes back to the connection (http-conn.c) to be written.
 *
 * A connection handed to a pool thread is BUSY: the pool thread owns its
 * request until it puts the connection on the worker's done list, and the
 * worker touches nothing of it meanwhile (server.h, "Threads").
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>

#include "conn.h"
#include "server.h"

/* After a flight, the writes that wait are held for the connections it
 * answered, for at most this fraction of its duration and this long. */
#define HOLD_DIV 2
#define HOLD_MAX_US 1000

/* Hands connections whose responses are made back to their worker, whose
 * loop sends the responses (conn_done_cb). list is linked through job_next
 * and ends at *tail. */
static void hand_back(struct worker *w, struct conn *list, struct conn **tail)
{
    pthread_mutex_lock(&w->done_lock);
    int first = w->done == NULL;
    *tail = w->done;
    w->done = list;
    pthread_mutex_unlock(&w->done_lock);
    /* One wake-up per batch: while the list is non-empty the worker has
     * been woken already and will take these connections with the rest. */
    if (first)
        event_active(w->ev_done, EV_READ, 0);
}

/* Writes the responses of a list of connections whose responses are made
 * (linked through job_next), each then going on to its next request. */
static void send_list(struct conn *list)
{
    while (list) {
        struct conn *c = list;
        list = c->job_next;
        c->job_next = NULL;
        if (conn_send_response(c) == 0)
            conn_process(c);
    }
}

/* A pool thread runs the handler, then hands the connection back. */
static void run_job(void *arg)
{
    struct conn *c = arg;
    c->req.route->handler(&c->req);
    c->job_next = NULL;
    hand_back(c->w, c, &c->job_next);
}

int conn_dispatch(struct conn *c)
{
    c->req.fd = c->fd;
    if (c->req.blocking) {
        conn_to(c, C_BUSY);
        conn_set_reading(c, 0);
        c->job.run = run_job;
        c->job.arg = c;
        pool_submit(&c->w->srv->pool, &c->job);
        return 1;
    }
    if (c->req.batched) {
        struct worker *w = c->w;
        conn_to(c, C_BUSY);
        /* Reading stays on: a client that waits for its answer sends
         * nothing meanwhile, and on_read turns reading off at the first
         * byte (or EOF) that comes while BUSY. That saves the two
         * epoll_ctl calls of turning it off and on again for each
         * request (6% of the server's CPU for a PUT on Redis). */
        c->job_next = NULL;
        *w->batch_tail = c;
        w->batch_tail = &c->job_next;
        if (w->batch == c)
            event_active(w->ev_batch, EV_READ, 0);
        return 1;
    }
    /* Run on the loop; the response waits for the end of the turn. */
    c->req.route->handler(&c->req);
    struct worker *w = c->w;
    if (w->send_n >= w->send_max)
        conn_send_cb(-1, 0, w); /* those held so far (c is not one) */
    conn_to(c, C_BUSY); /* reading stays on, as for a batched request */
    c->job_next = NULL;
    *w->send_tail = c;
    w->send_tail = &c->job_next;
    if (w->send_n++ == 0)
        event_active(w->ev_send, EV_READ, 0);
    return 1;
}

/*
 * ev_send, after the turn's reading: the responses of the requests the
 * turn ran on the loop (GETs of one key above all), written one after the
 * other. Writing each as soon as it was made interleaved the loop's work
 * with its clients' wake-ups: on two cores shared with the load generator
 * a loop lost its core to the client it had just answered, and its other
 * ready connections waited for its next time slice (GET p90 4-5 ms
 * against 0.44 ms so; docs/performance.md). A response
 * of a value holds the value's read snapshot (an LMDB reader slot) until
 * it is written, so a loop holds at most w->send_max: SERVER_SEND_HELD
 * over the loops; then those held are written before the next is held.
 */
void conn_send_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    struct conn *list = w->send;
    w->send = NULL;
    w->send_tail = &w->send;
    w->send_n = 0;
    send_list(list);
}

void conn_done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    pthread_mutex_lock(&w->done_lock);
    struct conn *list = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->done_lock);
    send_list(list);
}

/*
 * The reads and the small writes of one loop turn, in one akv_get_many
 * and one akv_put_many: on a remote store a single round trip for all
 * reads and one for all writes (per node), instead of one each; on the
 * embedded store one trip through the group commit for all writes. Each
 * read's handler then runs with its read's outcome (http_req.fetched),
 * each write's response is made from its outcome, and the responses go
 * out in the batch's order. Writes are independent: each is atomic on its
 * own.
 *
 * A batch runs on the worker's loop: the reads are answered at once (one
 * round trip to a remote store), and the writes go into a flight (struct
 * put_flight) that the loop does not wait for: akv_put_many_start sends
 * them (to Redis, or to the embedded store's committer thread, which
 * queues them for its next group commit), the loop goes on reading
 * requests (and answering reads and other requests) until the flight's
 * descriptor is readable, then akv_put_many_finish takes the answers and
 * the writes get their responses. On a remote store one flight at a time
 * per loop: the writes that arrive meanwhile wait in w->put_wait, and a
 * write is sent only after every write sent before it by the loop was
 * answered. On the embedded store each turn's writes go at once, in a
 * flight of their own, while fewer than SERVER_FLIGHTS_MAX are out (the
 * committer's queue keeps them in order), so that the next commit's
 * writes are queued while one commits; one flight at a time there cost
 * 18-30% of the PUTs a second with one loop (docs/performance.md). No
 * thread sleeps through a commit's fsync on a loop's behalf: handing each
 * turn's writes to a pool thread that waited in the group commit cost
 * about 30% more server CPU per PUT, mostly in the kernel's wake-ups
 * (docs/performance.md).
 *
 * On a remote store, when a flight is answered, the waiting writes are
 * not sent at once but held until as many writes wait as the flight
 * carried (the clients it answered come back with their next ones), for
 * at most half the flight's duration (HOLD_DIV, HOLD_MAX_US): each flight
 * costs Redis one script per namespace and, with appendfsync always, one
 * fsync (0.4-0.6 ms on the test machine), whatever the number of writes.
 * Sending the waiting writes at once, so that the loop's work and the
 * store's overlap, split the clients into two half-size flights and gave
 * 25-40% fewer PUTs a second on two cores (docs/performance.md).
 */
struct batch {
    struct worker *w;
    struct conn *list; /* its requests, linked through job_next */
    size_t n, ngets, nputs;
    akv_get_req *q;
    akv_put_req *p;
    struct kv_put_args *pa;
    /* Per request: its index in q or p; -1: a PUT its parse refused. */
    long *at;
};

static void batch_free(struct batch *b)
{
    free(b->q);
    free(b->p);
    free(b->pa);
    free(b->at);
}

/* Fills b from list: false without memory (b is then empty but for the
 * list, and each handler must run on its own). */
static bool batch_init(struct batch *b, struct worker *w, struct conn *list)
{
    *b = (struct batch){.w = w, .list = list};
    for (struct conn *c = list; c; c = c->job_next)
        b->n++;
    /* Not zeroed: only the entries filled below are read, and each is
     * filled whole (a request's is over 2 KiB; zeroing them all showed in
     * the profile of a PUT). */
    size_t n = b->n ? b->n : 1;
    b->q = malloc(n * sizeof *b->q);
    b->p = malloc(n * sizeof *b->p);
    b->pa = malloc(n * sizeof *b->pa);
    b->at = malloc(n * sizeof *b->at);
    if (!b->q || !b->p || !b->pa || !b->at) {
        batch_free(b);
        *b = (struct batch){.w = w, .list = list};
        return false;
    }
    size_t i = 0;
    for (struct conn *c = list; c; c = c->job_next, i++) {
        struct http_req *r = &c->req;
        if (r->route->handler != http_kv_put) {
            b->at[i] = (long)b->ngets;
            b->q[b->ngets++] = (akv_get_req){.sandbox = r->sandbox,
                                             .scope = r->scope,
                                             .key = r->key,
                                             .key_len = r->key_len};
        } else if (http_kv_put_parse(r, &b->pa[b->nputs]) == 0) {
            b->at[i] = (long)b->nputs;
            b->p[b->nputs] = (akv_put_req){.sandbox = r->sandbox,
                                           .scope = r->scope,
                                           .key = r->key,
                                           .key_len = r->key_len,
                                           .value = r->body,
                                           .value_len = r->body_len,
                                           .opts = &b->pa[b->nputs].opts};
            b->nputs++;
        } else {
            b->at[i] = -1;
        }
    }
    return true;
}

/* Makes each request's response from its outcome in b (each handler on
 * its own when b has no memory, ok false) and sends it. */
static void batch_answer(struct batch *b, bool ok)
{
    struct conn *c = b->list;
    for (size_t i = 0; c; i++) {
        struct conn *next = c->job_next;
        struct http_req *r = &c->req;
        if (!ok) {
            r->route->handler(r);
        } else if (r->route->handler == http_kv_put) {
            if (b->at[i] >= 0) {
                akv_put_req *x = &b->p[b->at[i]];
                http_kv_put_done(r, x->rc, &x->error, &x->meta, x->created);
            }
        } else {
            akv_get_req *x = &b->q[b->at[i]];
            r->fetched = x;
            r->route->handler(r);
            r->fetched = NULL;
            if (x->value) /* the handler refused before using it */
                akv_value_release(x->value);
        }
        c->job_next = NULL;
        if (conn_send_response(c) == 0)
            conn_process(c);
        c = next;
    }
}

/* The whole batch at once on the loop, waiting for the store: a remote
 * store's reads, and writes that could not go in a flight. */
static void batch_run(struct worker *w, struct conn *list)
{
    struct batch b;
    bool ok = batch_init(&b, w, list);
    if (ok) {
        akv_get_many(w->srv->store, b.q, b.ngets);
        akv_put_many(w->srv->store, b.p, b.nputs);
    }
    batch_answer(&b, ok);
    batch_free(&b);
}

/* The writes of a batch while the store works on them; one of the
 * worker's list w->flight. */
struct put_flight {
    struct worker *w;
    struct put_flight *next;
    struct batch b;
    akv_put_flight *f;
    struct event *ev; /* the descriptor readable, or its timeout */
    uint64_t t_sent;  /* monotonic ns */
};

/* The store answered (or timed out): the answered writes get their
 * responses; on a remote store the writes waiting go at the next turn
 * (conn_next_cb). */
static void flight_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct put_flight *pf = arg, **at;
    struct worker *w = pf->w;
    for (at = &w->flight; *at != pf; at = &(*at)->next)
        ;
    *at = pf->next;
    w->nflights--;
    event_free(pf->ev);
    akv_put_many_finish(pf->f, (what & EV_TIMEOUT) && !(what & EV_READ));
    if (!akv_store_is_remote(w->srv->store)) {
        if (w->put_wait) /* writes held for want of a flight */
            event_active(w->ev_next, EV_TIMEOUT, 0);
    } else {
        uint64_t hold = (server_now_ns() - pf->t_sent) / 1000 / HOLD_DIV;
        if (hold > HOLD_MAX_US)
            hold = HOLD_MAX_US;
        struct timeval tv = {0, (suseconds_t)hold};
        w->put_hold = 1;
        w->put_want = pf->b.n;
        event_add(w->ev_next, &tv);
    }
    batch_answer(&pf->b, true);
    batch_free(&pf->b);
    free(pf);
}

/* Sends the writes of w->put_wait (there is no flight) and waits for the
 * store's socket; answers them at once when there is nothing to wait for
 * (or no memory to wait with). */
static void flight_start(struct worker *w)
{
    struct conn *list = w->put_wait;
    w->put_wait = NULL;
    w->put_wait_tail = &w->put_wait;
    w->put_wait_n = 0;
    struct put_flight *pf = calloc(1, sizeof *pf);
    if (pf)
        pf->w = w;
    if (pf == NULL || !batch_init(&pf->b, w, list) ||
        akv_put_many_start(w->srv->store, pf->b.p, pf->b.nputs, &pf->f) !=
            AKV_OK) {
        if (pf)
            batch_free(&pf->b);
        free(pf);
        batch_run(w, list); /* the writes on their own */
        return;
    }
    int64_t ms;
    int fd = akv_put_flight_fd(pf->f, &ms);
    if (fd >= 0)
        pf->ev = event_new(w->base, fd, EV_READ, flight_cb, pf);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    if (pf->ev == NULL || event_add(pf->ev, ms >= 0 ? &tv : NULL) != 0) {
        if (pf->ev)
            event_free(pf->ev);
        akv_put_many_finish(pf->f, 0); /* waits for the answers */
        batch_answer(&pf->b, true);
        batch_free(&pf->b);
        free(pf);
        return;
    }
    pf->t_sent = server_now_ns();
    pf->next = w->flight;
    w->flight = pf;
    w->nflights++;
}

void conn_next_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    w->put_hold = 0;
    conn_batch_cb(-1, 0, w); /* this turn's batch, and what waits */
}

void conn_flight_drop(struct worker *w)
{
    while (w->flight) {
        struct put_flight *pf = w->flight;
        w->flight = pf->next;
        w->nflights--;
        event_free(pf->ev);
        akv_put_many_finish(pf->f, 1);
        batch_free(&pf->b);
        free(pf);
    }
}

void conn_batch_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    struct conn *list = w->batch;
    w->batch = NULL;
    w->batch_tail = &w->batch;
    /* The reads now (one round trip); the writes to the next flight, sent
     * now unless one is out or was just answered. */
    struct conn *reads = NULL, **rt = &reads;
    while (list) {
        struct conn *c = list;
        list = c->job_next;
        c->job_next = NULL;
        if (c->req.route->handler == http_kv_put) {
            *w->put_wait_tail = c;
            w->put_wait_tail = &c->job_next;
            w->put_wait_n++;
        } else {
            *rt = c;
            rt = &c->job_next;
        }
    }
    if (w->put_wait &&
        (akv_store_is_remote(w->srv->store)
             ? w->flight == NULL &&
                   (!w->put_hold || w->put_wait_n >= w->put_want)
             : w->nflights < SERVER_FLIGHTS_MAX)) {
        if (w->put_hold) {
            w->put_hold = 0;
            event_del(w->ev_next);
        }
        flight_start(w);
    }
    if (reads)
        batch_run(w, reads);
}

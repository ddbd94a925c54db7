/*
 * dispatch.c — what happens to a request once its head (and body) are in:
 * its handler runs on the worker's loop, on a pool thread (anything that
 * commits or scans), or, for a read of one key on a remote store or a
 * small PUT, in the batch of the loop's turn (one akv_get_many and one
 * akv_put_many for all of them; on a pool thread for the embedded store);
 * then the response goes back to the connection (http-conn.c) to be
 * written.
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
    c->req.route->handler(&c->req);
    return conn_send_response(c);
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
    while (list) {
        struct conn *c = list;
        list = c->job_next;
        c->job_next = NULL;
        if (conn_send_response(c) == 0)
            conn_process(c);
    }
}

/*
 * The reads and the small writes of one loop turn, in one akv_get_many
 * and one akv_put_many: on a remote store a single round trip for all
 * reads and one for all writes (per node), instead of one each; on the
 * embedded store one trip through the group commit for all writes (and
 * one pool job instead of one per write). Each read's handler then runs
 * with its read's outcome (http_req.fetched), each write's response is
 * made from its outcome, and the responses go out in arrival order.
 * Writes are independent: each is atomic on its own. Runs on the worker's
 * loop (on_pool false: it sends the responses) or on a pool thread (it
 * hands the connections back).
 */
static void batch_run(struct worker *w, struct conn *list, bool on_pool)
{
    size_t n = 0, ngets = 0, nputs = 0;
    for (struct conn *c = list; c; c = c->job_next)
        n++;
    akv_get_req *q = calloc(n, sizeof *q);
    akv_put_req *p = calloc(n, sizeof *p);
    struct kv_put_args *pa = calloc(n, sizeof *pa);
    /* Per request: its index in q or p; -1: a PUT its parse refused. */
    long *at = calloc(n, sizeof *at);
    bool batch = q && p && pa && at;
    size_t i = 0;
    for (struct conn *c = list; batch && c; c = c->job_next, i++) {
        struct http_req *r = &c->req;
        if (r->route->handler != http_kv_put) {
            at[i] = (long)ngets;
            q[ngets++] = (akv_get_req){.sandbox = r->sandbox,
                                       .scope = r->scope,
                                       .key = r->key,
                                       .key_len = r->key_len};
        } else if (http_kv_put_parse(r, &pa[nputs]) == 0) {
            at[i] = (long)nputs;
            p[nputs] = (akv_put_req){.sandbox = r->sandbox,
                                     .scope = r->scope,
                                     .key = r->key,
                                     .key_len = r->key_len,
                                     .value = r->body,
                                     .value_len = r->body_len,
                                     .opts = &pa[nputs].opts};
            nputs++;
        } else {
            at[i] = -1;
        }
    }
    if (batch) {
        akv_get_many(w->srv->store, q, ngets);
        akv_put_many(w->srv->store, p, nputs);
    }
    /* Without memory for the batch each handler runs on its own. */
    struct conn *c = list, *last = NULL;
    for (i = 0; c; i++) {
        struct conn *next = c->job_next;
        struct http_req *r = &c->req;
        if (!batch) {
            r->route->handler(r);
        } else if (r->route->handler == http_kv_put) {
            if (at[i] >= 0) {
                akv_put_req *x = &p[at[i]];
                http_kv_put_done(r, x->rc, &x->error, &x->meta, x->created);
            }
        } else {
            akv_get_req *x = &q[at[i]];
            r->fetched = x;
            r->route->handler(r);
            r->fetched = NULL;
            if (x->value) /* the handler refused before using it */
                akv_value_release(x->value);
        }
        if (!on_pool) {
            c->job_next = NULL;
            if (conn_send_response(c) == 0)
                conn_process(c);
        }
        last = c;
        c = next;
    }
    if (on_pool && last)
        hand_back(w, list, &last->job_next);
    free(q);
    free(p);
    free(pa);
    free(at);
}

/* A loop turn's batch that must not run on the loop: writes to the
 * embedded store wait for the commit's fsync. */
struct batch_job {
    struct pool_job job;
    struct worker *w;
    struct conn *list;
};

static void run_batch_job(void *arg)
{
    struct batch_job *b = arg;
    batch_run(b->w, b->list, true);
    free(b);
}

void conn_batch_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    struct conn *list = w->batch;
    w->batch = NULL;
    w->batch_tail = &w->batch;
    if (list == NULL)
        return;
    if (akv_store_is_remote(w->srv->store)) {
        /* A loop waits one round trip per turn (size_threads). */
        batch_run(w, list, false);
        return;
    }
    struct batch_job *b = malloc(sizeof *b);
    if (b == NULL) {
        /* Without memory for the job, each request is a job of its own. */
        while (list) {
            struct conn *c = list;
            list = c->job_next;
            c->job_next = NULL;
            c->job.run = run_job;
            c->job.arg = c;
            pool_submit(&w->srv->pool, &c->job);
        }
        return;
    }
    *b = (struct batch_job){.job = {.run = run_batch_job, .arg = b},
                            .w = w,
                            .list = list};
    pool_submit(&w->srv->pool, &b->job);
}

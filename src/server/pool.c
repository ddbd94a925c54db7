/*
 * pool.c — the threads that run blocking handlers (writes, scans, stats).
 *
 * An event-loop thread must never wait for an fsync: it serves many
 * connections. Handlers that commit or scan are queued here instead as
 * jobs, a function and its argument: a pool thread runs the handler and
 * hands the connection back to its worker (dispatch.c). Because many pool threads can be inside akv_put at once,
 * the library's group commit folds their writes into one transaction and
 * one fsync: the pool's size bounds how many writes share a commit.
 *
 * The queue is a FIFO of jobs linked through pool_job.next, guarded by
 * one mutex; stopping drains it before the threads exit, so
 * every accepted request gets its answer.
 */
#include <signal.h>
#include <stdlib.h>

#include "server.h"

static void *pool_main(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (p->head == NULL && !p->stop)
            pthread_cond_wait(&p->cond, &p->lock);
        struct pool_job *job = p->head;
        if (job == NULL) {
            pthread_mutex_unlock(&p->lock);
            return NULL; /* stopping and drained */
        }
        p->head = job->next;
        if (p->head == NULL)
            p->tail = NULL;
        job->next = NULL;
        pthread_mutex_unlock(&p->lock);
        job->run(job->arg);
    }
}

int pool_start(struct pool *p, int n)
{
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->head = p->tail = NULL;
    p->stop = 0;
    p->n = 0;
    p->threads = calloc((size_t)n, sizeof *p->threads);
    if (p->threads == NULL)
        return AKV_ENOMEM;
    /* Handlers use little stack; 512 KiB (of address space, not memory)
     * keeps 64 threads cheap and leaves room for sanitizer builds. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&p->threads[i], &attr, pool_main, p) != 0)
            break;
        p->n++;
    }
    pthread_attr_destroy(&attr);
    return p->n > 0 ? AKV_OK : AKV_EUNAVAILABLE;
}

void pool_submit(struct pool *p, struct pool_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void pool_stop(struct pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    p->threads = NULL;
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
}

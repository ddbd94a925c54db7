/*
 * redis-cluster.c — slot routing, redirections and per-node connection
 * pools for the Redis backend (redis-cluster.h), written for agentkv on
 * hiredis' synchronous API, after the Redis Cluster specification: 16384
 * hash slots, a key's slot the CRC16 of its hash tag, MOVED when a slot
 * lives elsewhere for good, ASK while it migrates, TRYAGAIN and
 * CLUSTERDOWN while the cluster cannot serve it.
 *
 * Invariants: node indices are stable (nodes are added, never removed, so
 * an index held by a caller stays valid); slots[s] is the index of the
 * node believed to own slot s, or NO_NODE; rc->lock guards nodes, pools
 * and slots and is never held across network I/O.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "redis-cluster.h"

#define NO_NODE 0xffff
#define MAX_NODES 1024
#define POOL_IDLE_MAX 64     /* idle connections kept per node */
#define MAX_ATTEMPTS 16      /* redirections and retries per command */
#define BACKOFF_FIRST_MS 20  /* TRYAGAIN/CLUSTERDOWN: 20, 40, … ms */
#define BACKOFF_MAX_MS 500
#define REFRESH_MIN_MS 100   /* at most one map refresh per this */

/* A node and its idle connections (a fixed array: handing a connection
 * back never allocates, and so never fails). */
struct node {
    char host[256];
    int port;
    int nidle;
    redisContext *idle[POOL_IDLE_MAX];
};

struct akv_rc {
    const struct akv_redis_url *url;
    const char *where;
    struct timeval timeout;
    pthread_mutex_t lock;
    int mode;              /* -1 unknown, 0 single, 1 cluster */
    bool stale;            /* the map should be refreshed */
    int64_t refreshed_at;  /* monotonic ms of the last refresh */
    struct node *nodes;
    size_t nnodes;
    uint16_t slots[AKV_RC_SLOTS];
};

/* ---- slots ------------------------------------------------------------- */

/* CRC16/XMODEM: polynomial 0x1021, initial value 0, no reflection. */
static unsigned crc16(const unsigned char *p, size_t n)
{
    unsigned crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (unsigned)p[i] << 8;
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) : (crc << 1);
        crc &= 0xffff;
    }
    return crc;
}

unsigned akv_rc_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open + 1 - key);
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return crc16((const unsigned char *)open + 1,
                         (size_t)(close - open - 1)) & (AKV_RC_SLOTS - 1);
    }
    return crc16((const unsigned char *)key, len) & (AKV_RC_SLOTS - 1);
}

/* ---- life cycle -------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The index of HOST:PORT, added when new; NO_NODE when the table is full
 * or out of memory. Called with the lock held. */
static int node_index(akv_rc *rc, const char *host, size_t host_len,
                      int port)
{
    if (host_len >= sizeof rc->nodes[0].host)
        return NO_NODE;
    for (size_t i = 0; i < rc->nnodes; i++)
        if (rc->nodes[i].port == port &&
            strlen(rc->nodes[i].host) == host_len &&
            memcmp(rc->nodes[i].host, host, host_len) == 0)
            return (int)i;
    if (rc->nnodes >= MAX_NODES)
        return NO_NODE;
    struct node *nn = realloc(rc->nodes, (rc->nnodes + 1) * sizeof *nn);
    if (nn == NULL)
        return NO_NODE;
    rc->nodes = nn;
    struct node *n = &rc->nodes[rc->nnodes];
    memset(n, 0, sizeof *n);
    memcpy(n->host, host, host_len);
    n->port = port;
    return (int)rc->nnodes++;
}

int akv_rc_new(const struct akv_redis_url *u, const char *where,
               akv_rc **out)
{
    akv_rc *rc = calloc(1, sizeof *rc);
    if (rc == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    rc->url = u;
    rc->where = where;
    rc->timeout.tv_sec = u->timeout_ms / 1000;
    rc->timeout.tv_usec = (u->timeout_ms % 1000) * 1000;
    rc->mode = -1;
    pthread_mutex_init(&rc->lock, NULL);
    for (size_t s = 0; s < AKV_RC_SLOTS; s++)
        rc->slots[s] = NO_NODE;
    /* The seeds are the first nodes: node 0 is the URL's first host. */
    for (size_t i = 0; i < u->nseeds; i++)
        node_index(rc, u->seeds[i].host, strlen(u->seeds[i].host),
                   u->seeds[i].port);
    if (rc->nnodes == 0) {
        akv_rc_free(rc);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    *out = rc;
    return AKV_OK;
}

static void idle_free(redisContext **idle, int n)
{
    for (int i = 0; i < n; i++)
        redisFree(idle[i]);
}

void akv_rc_free(akv_rc *rc)
{
    if (rc == NULL)
        return;
    for (size_t i = 0; i < rc->nnodes; i++)
        idle_free(rc->nodes[i].idle, rc->nodes[i].nidle);
    free(rc->nodes);
    pthread_mutex_destroy(&rc->lock);
    free(rc);
}

int akv_rc_mode(akv_rc *rc)
{
    pthread_mutex_lock(&rc->lock);
    int m = rc->mode;
    pthread_mutex_unlock(&rc->lock);
    return m;
}

const char *akv_rc_node_name(akv_rc *rc, int node, char *buf, size_t size)
{
    pthread_mutex_lock(&rc->lock);
    if (node >= 0 && (size_t)node < rc->nnodes)
        snprintf(buf, size, "%s:%d", rc->nodes[node].host,
                 rc->nodes[node].port);
    else
        snprintf(buf, size, "?");
    pthread_mutex_unlock(&rc->lock);
    return buf;
}

/* ---- connections ------------------------------------------------------- */

static redisReply *argv_cmd(redisContext *c, int argc, const char **argv,
                            const size_t *lens)
{
    return redisCommandArgv(c, argc, argv, lens);
}

/* Whether host:port answers PING on a new connection (AUTH first when the
 * URL has a password). */
static bool answers_ping(akv_rc *rc, const char *host, int port)
{
    redisContext *c = redisConnectWithTimeout(host, port, rc->timeout);
    bool pong = false;
    if (c && c->err == 0) {
        redisSetTimeout(c, rc->timeout);
        const struct akv_redis_url *u = rc->url;
        redisReply *r = NULL;
        if (u->password)
            r = redisCommand(c, u->user ? "AUTH %s %s" : "AUTH %s",
                             u->user ? u->user : u->password, u->password);
        if (r)
            freeReplyObject(r);
        r = redisCommand(c, "PING");
        pong = r && r->type == REDIS_REPLY_STATUS &&
               strcmp(r->str, "PONG") == 0;
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return pong;
}

/* An endpoint that speaks the protocol but refuses INFO (how = its error
 * reply, or "closed the connection"): a proxy that forwards single-key
 * commands only, such as twemproxy (nutcracker). agentkv cannot run
 * through it: it needs EVAL over a namespace's keys, SCAN of every node
 * for reads across namespaces, INFO and WAIT (docs/operations.md). */
static void proxy_refused(akv_rc *rc, const char *how)
{
    akv_fail(AKV_EINVAL, "%s answers PING but refuses INFO (%s): a proxy "
             "that forwards single-key commands only, such as twemproxy "
             "(nutcracker)? agentkv needs INFO, EVAL, SCAN and WAIT, which "
             "such proxies do not pass on: give it the Redis server or the "
             "Redis Cluster's nodes themselves", rc->where, how);
}

/* A new connection to node: connect, authenticate; the first one learns
 * the mode (INFO cluster) and refuses a proxy (proxy_refused); on a
 * single Redis, select the database. */
static redisContext *connect_node(akv_rc *rc, int node)
{
    char host[256];
    int port;
    pthread_mutex_lock(&rc->lock);
    memcpy(host, rc->nodes[node].host, sizeof host);
    port = rc->nodes[node].port;
    int mode = rc->mode;
    pthread_mutex_unlock(&rc->lock);
    redisContext *c = redisConnectWithTimeout(host, port, rc->timeout);
    if (c == NULL) {
        akv_fail(AKV_ENOMEM, "out of memory");
        return NULL;
    }
    if (c->err) {
        akv_fail(AKV_EUNAVAILABLE, "cannot connect to %s (node %s:%d): %s",
                 rc->where, host, port, c->errstr);
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, rc->timeout);
    redisReply *r = NULL;
    const struct akv_redis_url *u = rc->url;
    if (u->password) {
        const char *av[3] = {"AUTH", u->user ? u->user : u->password,
                             u->password};
        size_t al[3] = {4, strlen(av[1]), strlen(u->password)};
        r = argv_cmd(c, u->user ? 3 : 2, av, al);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            if (r)
                akv_fail(AKV_EUNAVAILABLE, "%s refused the password: %s",
                         rc->where, r->str);
            else
                akv_fail(AKV_EUNAVAILABLE, "authenticating to %s: %s",
                         rc->where, c->errstr);
            goto fail;
        }
        freeReplyObject(r);
    }
    if (mode < 0) {
        r = redisCommand(c, "INFO cluster");
        if (r == NULL) {
            if (c->err != REDIS_ERR_EOF || !answers_ping(rc, host, port))
                akv_fail(AKV_EUNAVAILABLE, "%s: %s", rc->where, c->errstr);
            else
                proxy_refused(rc, "closed the connection");
            goto fail;
        }
        /* ERR: an unknown or unsupported command. (NOAUTH, NOPERM,
         * LOADING: a Redis, saying something else.) */
        if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "ERR", 3) == 0) {
            proxy_refused(rc, r->str);
            goto fail;
        }
        /* A server without the section (or that refuses INFO for another
         * reason: an ACL, a missing password) is taken for a single
         * Redis; its next command says what is wrong. */
        mode = r->type == REDIS_REPLY_STRING &&
               strstr(r->str, "cluster_enabled:1") != NULL;
        freeReplyObject(r);
        pthread_mutex_lock(&rc->lock);
        if (rc->mode < 0) {
            rc->mode = mode;
            rc->stale = mode == 1;
            if (mode == 0)
                for (size_t s = 0; s < AKV_RC_SLOTS; s++)
                    rc->slots[s] = 0;
        }
        mode = rc->mode;
        pthread_mutex_unlock(&rc->lock);
    }
    if (mode == 1 && u->db != 0) {
        akv_fail(AKV_EINVAL, "%s is a Redis Cluster, which has database 0 "
                 "only: drop /%d from the URL", rc->where, u->db);
        goto fail_quiet;
    }
    if (mode == 0 && u->db != 0) {
        r = redisCommand(c, "SELECT %d", u->db);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            akv_fail(AKV_EUNAVAILABLE, "selecting the database: %s: %s",
                     rc->where, r ? r->str : c->errstr);
            goto fail;
        }
        freeReplyObject(r);
    }
    return c;
fail:
    if (r)
        freeReplyObject(r);
fail_quiet:
    redisFree(c);
    return NULL;
}

redisContext *akv_rc_get_node(akv_rc *rc, int node)
{
    pthread_mutex_lock(&rc->lock);
    redisContext *c = NULL;
    bool known = node >= 0 && (size_t)node < rc->nnodes;
    if (known && rc->nodes[node].nidle > 0)
        c = rc->nodes[node].idle[--rc->nodes[node].nidle];
    pthread_mutex_unlock(&rc->lock);
    if (c)
        return c;
    if (!known) {
        akv_fail(AKV_EUNAVAILABLE, "%s: no such node", rc->where);
        return NULL;
    }
    return connect_node(rc, node);
}

static void refresh(akv_rc *rc, bool force);

/* The node believed to own slot (any node when slot < 0 or the slot is
 * not mapped: it answers MOVED or CLUSTERDOWN). */
static int route(akv_rc *rc, int slot)
{
    pthread_mutex_lock(&rc->lock);
    bool want = rc->mode == 1 && rc->stale;
    pthread_mutex_unlock(&rc->lock);
    if (want)
        refresh(rc, false);
    pthread_mutex_lock(&rc->lock);
    int n = slot >= 0 ? rc->slots[slot] : NO_NODE;
    if (n == NO_NODE) {
        /* Round robin over the known nodes, so that one dead node does
         * not stop every unmapped request. */
        static _Atomic unsigned next;
        n = rc->mode == 1 && rc->nnodes ? (int)(next++ % rc->nnodes) : 0;
    }
    pthread_mutex_unlock(&rc->lock);
    return n;
}

redisContext *akv_rc_get(akv_rc *rc, int slot, int *node)
{
    *node = route(rc, slot);
    redisContext *c = akv_rc_get_node(rc, *node);
    if (c == NULL && akv_rc_mode(rc) < 0 &&
        akv_last_error()->code == AKV_EUNAVAILABLE) {
        /* No node reached yet: the other seeds, in turn. */
        akv_error first = *akv_last_error();
        pthread_mutex_lock(&rc->lock);
        size_t n = rc->nnodes;
        pthread_mutex_unlock(&rc->lock);
        for (size_t i = 1; c == NULL && i < n; i++) {
            *node = (int)i;
            c = akv_rc_get_node(rc, *node);
            if (c == NULL && akv_last_error()->code != AKV_EUNAVAILABLE)
                return NULL;
        }
        if (c == NULL) {
            akv_error_restore(&first);
            return NULL;
        }
        if (akv_rc_mode(rc) == 1 && slot >= 0) {
            /* Now the map is known: the slot's owner. */
            akv_rc_put(rc, *node, c);
            *node = route(rc, slot);
            c = akv_rc_get_node(rc, *node);
        }
        return c;
    }
    if (c == NULL && akv_last_error()->code == AKV_EUNAVAILABLE &&
        akv_rc_mode(rc) != 0) {
        /* The node may be gone (failover): a fresh map, then once more. */
        akv_error saved = *akv_last_error();
        refresh(rc, true);
        int again = route(rc, slot);
        if (again != *node) {
            *node = again;
            c = akv_rc_get_node(rc, again);
        } else {
            akv_error_restore(&saved);
        }
    }
    return c;
}

void akv_rc_put(akv_rc *rc, int node, redisContext *c)
{
    if (c == NULL)
        return;
    redisContext *drop[POOL_IDLE_MAX];
    int ndrop = 0;
    pthread_mutex_lock(&rc->lock);
    bool valid = node >= 0 && (size_t)node < rc->nnodes;
    if (c->err == 0 && valid && rc->nodes[node].nidle < POOL_IDLE_MAX) {
        rc->nodes[node].idle[rc->nodes[node].nidle++] = c;
        c = NULL;
    } else if (c->err && valid) {
        /* The node's other idle connections most likely died with it. */
        ndrop = rc->nodes[node].nidle;
        memcpy(drop, rc->nodes[node].idle, (size_t)ndrop * sizeof *drop);
        rc->nodes[node].nidle = 0;
        rc->stale = true;
    }
    pthread_mutex_unlock(&rc->lock);
    if (c)
        redisFree(c);
    idle_free(drop, ndrop);
}

/* ---- the slot map ------------------------------------------------------ */

/* Reads a CLUSTER SLOTS reply r, got from node `from`, into a new map:
 * false when it is not well formed. */
static bool apply_slots(akv_rc *rc, const redisReply *r, int from)
{
    if (r->type != REDIS_REPLY_ARRAY)
        return false;
    uint16_t *map = malloc(sizeof rc->slots);
    if (map == NULL)
        return false;
    for (size_t s = 0; s < AKV_RC_SLOTS; s++)
        map[s] = NO_NODE;
    pthread_mutex_lock(&rc->lock);
    char fhost[256];
    memcpy(fhost, rc->nodes[from].host, sizeof fhost);
    bool ok = true;
    for (size_t i = 0; ok && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[2]->type != REDIS_REPLY_ARRAY ||
            e->element[2]->elements < 2 ||
            e->element[2]->element[0]->type != REDIS_REPLY_STRING ||
            e->element[2]->element[1]->type != REDIS_REPLY_INTEGER) {
            ok = false;
            break;
        }
        long long lo = e->element[0]->integer, hi = e->element[1]->integer;
        const redisReply *m = e->element[2];
        long long port = m->element[1]->integer;
        if (lo < 0 || hi >= AKV_RC_SLOTS || lo > hi || port <= 0 ||
            port > 65535) {
            ok = false;
            break;
        }
        /* An empty host is "the node you asked". */
        const char *h = m->element[0]->len ? m->element[0]->str : fhost;
        size_t hl = m->element[0]->len ? m->element[0]->len : strlen(fhost);
        int n = node_index(rc, h, hl, (int)port);
        if (n == NO_NODE) {
            ok = false;
            break;
        }
        for (long long s = lo; s <= hi; s++)
            map[s] = (uint16_t)n;
    }
    if (ok) {
        memcpy(rc->slots, map, sizeof rc->slots);
        rc->stale = false;
    }
    pthread_mutex_unlock(&rc->lock);
    free(map);
    return ok;
}

/* Asks the known nodes in turn (the one that owns slot 0's neighbour
 * first, then the others, seeds among them) for the slot map. Not more
 * often than every REFRESH_MIN_MS unless forced. */
static void refresh(akv_rc *rc, bool force)
{
    pthread_mutex_lock(&rc->lock);
    int64_t now = mono_ms();
    if (rc->mode != 1 ||
        (!force && now - rc->refreshed_at < REFRESH_MIN_MS)) {
        pthread_mutex_unlock(&rc->lock);
        return;
    }
    rc->refreshed_at = now;
    size_t n = rc->nnodes;
    pthread_mutex_unlock(&rc->lock);
    akv_error saved = *akv_last_error();
    static _Atomic unsigned start;
    unsigned first = start++;
    for (size_t k = 0; k < n; k++) {
        int node = (int)((first + k) % n);
        redisContext *c = akv_rc_get_node(rc, node);
        if (c == NULL)
            continue;
        redisReply *r = redisCommand(c, "CLUSTER SLOTS");
        bool ok = r && apply_slots(rc, r, node);
        if (r)
            freeReplyObject(r);
        akv_rc_put(rc, node, c);
        if (ok)
            break;
    }
    akv_error_restore(&saved);
}

size_t akv_rc_masters(akv_rc *rc, int *nodes, size_t max)
{
    if (akv_rc_mode(rc) < 0) {
        /* Learn the mode (and the map) with a first connection. */
        int node;
        redisContext *c = akv_rc_get(rc, -1, &node);
        akv_rc_put(rc, node, c);
    }
    pthread_mutex_lock(&rc->lock);
    bool want = rc->mode == 1 && rc->stale;
    pthread_mutex_unlock(&rc->lock);
    if (want)
        refresh(rc, false);
    size_t k = 0;
    pthread_mutex_lock(&rc->lock);
    if (rc->mode != 1) {
        nodes[k++] = 0;
    } else {
        for (size_t s = 0; s < AKV_RC_SLOTS && k < max; s++) {
            int n = rc->slots[s];
            if (n == NO_NODE)
                continue;
            bool seen = false;
            for (size_t j = 0; j < k && !seen; j++)
                seen = nodes[j] == n;
            if (!seen)
                nodes[k++] = n;
        }
    }
    pthread_mutex_unlock(&rc->lock);
    return k;
}

/* ---- commands ---------------------------------------------------------- */

/* The target of "MOVED 3999 127.0.0.1:6381" or "ASK …": its node index,
 * NO_NODE when the reply does not parse. */
static int redirect_target(akv_rc *rc, const char *msg, unsigned *slot)
{
    const char *sp = strchr(msg, ' ');
    if (sp == NULL)
        return NO_NODE;
    char *end;
    unsigned long s = strtoul(sp + 1, &end, 10);
    if (*end != ' ' || s >= AKV_RC_SLOTS)
        return NO_NODE;
    const char *addr = end + 1;
    const char *colon = strrchr(addr, ':');
    if (colon == NULL)
        return NO_NODE;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535)
        return NO_NODE;
    *slot = (unsigned)s;
    pthread_mutex_lock(&rc->lock);
    int n = node_index(rc, addr, (size_t)(colon - addr), (int)port);
    pthread_mutex_unlock(&rc->lock);
    return n;
}

static bool is_error(const redisReply *r, const char *prefix)
{
    size_t n = strlen(prefix);
    return r->type == REDIS_REPLY_ERROR && r->len >= n &&
           strncmp(r->str, prefix, n) == 0 &&
           (r->len == n || r->str[n] == ' ');
}

redisReply *akv_rc_exec(akv_rc *rc, redisContext **c, int *node, int slot,
                        bool idempotent, int argc, const char **argv,
                        const size_t *lens)
{
    bool asking = false;
    int backoff = BACKOFF_FIRST_MS;
    redisReply *r = NULL;
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (*c == NULL) {
            *c = asking ? akv_rc_get_node(rc, *node)
                        : akv_rc_get(rc, slot, node);
            if (*c == NULL)
                return NULL;
        }
        if (asking) {
            redisAppendCommand(*c, "ASKING");
            redisAppendCommandArgv(*c, argc, argv, lens);
            void *a = NULL;
            if (redisGetReply(*c, &a) == REDIS_OK) {
                freeReplyObject(a);
                void *b = NULL;
                r = redisGetReply(*c, &b) == REDIS_OK ? b : NULL;
            } else {
                r = NULL;
            }
            asking = false;
        } else {
            r = argv_cmd(*c, argc, argv, lens);
        }
        if (r == NULL) {
            /* I/O error or timeout. A read may go again, to the node a
             * fresh map names; a write may have been applied: reported. */
            if (!idempotent || attempt + 1 == MAX_ATTEMPTS ||
                akv_rc_mode(rc) != 1)
                return NULL;
            akv_rc_put(rc, *node, *c);
            *c = NULL;
            refresh(rc, true);
            continue;
        }
        if (akv_rc_mode(rc) != 1)
            return r;
        unsigned s;
        if (is_error(r, "MOVED")) {
            int to = redirect_target(rc, r->str, &s);
            if (to == NO_NODE)
                return r;
            pthread_mutex_lock(&rc->lock);
            rc->slots[s] = (uint16_t)to;
            rc->stale = true; /* more slots have likely moved with it */
            pthread_mutex_unlock(&rc->lock);
            freeReplyObject(r);
            r = NULL;
            akv_rc_put(rc, *node, *c);
            *c = NULL;
            continue;
        }
        if (is_error(r, "ASK")) {
            int to = redirect_target(rc, r->str, &s);
            if (to == NO_NODE)
                return r;
            freeReplyObject(r);
            r = NULL;
            akv_rc_put(rc, *node, *c);
            *c = NULL;
            *node = to;
            asking = true;
            continue;
        }
        /* READONLY: the node was a master in the map but is a replica
         * now (a failover): the command was not run; a new map names the
         * promoted master. TRYAGAIN, CLUSTERDOWN: not run either. */
        if ((is_error(r, "TRYAGAIN") || is_error(r, "CLUSTERDOWN") ||
             is_error(r, "READONLY")) &&
            attempt + 1 < MAX_ATTEMPTS) {
            freeReplyObject(r);
            r = NULL;
            sleep_ms(backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                   : backoff * 2;
            /* A cluster down may be a failover in progress: a new map
             * names the promoted replica. */
            akv_rc_put(rc, *node, *c);
            *c = NULL;
            refresh(rc, true);
            continue;
        }
        return r;
    }
    return r;
}

/* Appends a command to c's output, as redisAppendCommandArgv does, in RESP
 * ("*argc", then "$len" and the bytes of each argument, each line ended
 * by CRLF) made in one buffer of the exact size with memcpy: hiredis
 * formats each argument's length with its own printf and appends it piece
 * by piece, which was 4% of the server's user-space instructions per PUT
 * on Redis (callgrind). REDIS_OK, or REDIS_ERR with nothing appended (no
 * memory). */
static int append_argv(redisContext *c, int argc, const char *const *argv,
                       const size_t *lens)
{
    char num[AKVX_INT_BUF];
    size_t len = 1 + akvx_u64_dec((unsigned)argc, num) + 2;
    for (int i = 0; i < argc; i++)
        len += 1 + akvx_u64_dec(lens[i], num) + 2 + lens[i] + 2;
    char *buf = malloc(len), *o = buf;
    if (buf == NULL)
        return REDIS_ERR;
    *o++ = '*';
    size_t n = akvx_u64_dec((unsigned)argc, num);
    memcpy(o, num, n);
    o += n;
    memcpy(o, "\r\n", 2);
    o += 2;
    for (int i = 0; i < argc; i++) {
        *o++ = '$';
        n = akvx_u64_dec(lens[i], num);
        memcpy(o, num, n);
        o += n;
        memcpy(o, "\r\n", 2);
        o += 2;
        if (lens[i])
            memcpy(o, argv[i], lens[i]);
        o += lens[i];
        memcpy(o, "\r\n", 2);
        o += 2;
    }
    int rc = redisAppendFormattedCommand(c, buf, len);
    free(buf);
    return rc;
}

/* The commands of akv_rc_send, between their sending and their replies. */
struct akv_rc_sent {
    akv_rc *rc;
    size_t n;
    const unsigned *slots;
    const int *argcs;
    const char *const *const *argvs;
    const size_t *const *lenss;
    bool idempotent;
    /* Per command: -3 - u once sent on ctx[u]; -2 to retry alone
     * (akv_rc_exec); -1 done. */
    int *node;
    /* The connections written to (first command's index, node). */
    size_t *first, nused;
    redisContext **ctx;
    int *ctx_node;
};

static void sent_free(akv_rc_sent *s)
{
    free(s->node);
    free(s->first);
    free(s->ctx);
    free(s->ctx_node);
    free(s);
}

int akv_rc_send(akv_rc *rc, size_t n, const unsigned *slots,
                const int *argcs, const char *const *const *argvs,
                const size_t *const *lenss, bool idempotent,
                akv_rc_sent **out)
{
    size_t m = n ? n : 1;
    akv_rc_sent *s = calloc(1, sizeof *s);
    *out = NULL;
    if (s == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    s->node = malloc(m * sizeof *s->node);
    s->first = malloc(m * sizeof *s->first);
    s->ctx = malloc(m * sizeof *s->ctx);
    s->ctx_node = malloc(m * sizeof *s->ctx_node);
    if (!s->node || !s->first || !s->ctx || !s->ctx_node) {
        sent_free(s);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    s->rc = rc;
    s->n = n;
    s->slots = slots;
    s->argcs = argcs;
    s->argvs = argvs;
    s->lenss = lenss;
    s->idempotent = idempotent;
    int *node = s->node;
    for (size_t i = 0; i < n; i++)
        node[i] = route(rc, (int)slots[i]);
    /* Every node's commands are written first, then (akv_rc_recv) each
     * node's replies read in order: the nodes work at the same time, one
     * round trip in all rather than one per node. */
    for (size_t i = 0; i < n; i++) {
        if (node[i] < 0)
            continue;
        int nd = node[i];
        redisContext *c = akv_rc_get_node(rc, nd);
        if (c == NULL) {
            for (size_t j = i; j < n; j++)
                if (node[j] == nd)
                    node[j] = -2; /* nothing sent: retried alone */
            continue;
        }
        for (size_t j = i; j < n; j++)
            if (node[j] == nd) {
                if (append_argv(c, argcs[j], argvs[j], lenss[j]) != REDIS_OK)
                    node[j] = -2; /* not appended: retried alone */
                else
                    node[j] = -3 - (int)s->nused; /* sent on ctx[nused] */
            }
        int done = 0;
        while (!done && redisBufferWrite(c, &done) == REDIS_OK)
            ;
        s->first[s->nused] = i;
        s->ctx_node[s->nused] = nd;
        s->ctx[s->nused++] = c;
    }
    *out = s;
    return AKV_OK;
}

int akv_rc_sent_fd(const akv_rc_sent *s)
{
    for (size_t u = 0; u < s->nused; u++)
        if (s->ctx[u]->err == 0)
            return s->ctx[u]->fd;
    return -1;
}

void akv_rc_recv(akv_rc_sent *s, bool timed_out, redisReply **replies)
{
    akv_rc *rc = s->rc;
    size_t n = s->n;
    int *node = s->node;
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    for (size_t u = 0; u < s->nused; u++) {
        redisContext *c = s->ctx[u];
        int mark = -3 - (int)u;
        if (timed_out && c->err == 0) {
            /* As a socket timeout reads (SO_RCVTIMEO: EAGAIN): the
             * connection is dropped, so that replies arriving late are
             * never taken for another command's. */
            c->err = REDIS_ERR_IO;
            snprintf(c->errstr, sizeof c->errstr, "%s", strerror(EAGAIN));
        }
        for (size_t j = s->first[u]; j < n; j++) {
            if (node[j] != mark)
                continue;
            void *reply = NULL;
            if (c->err == 0 && redisGetReply(c, &reply) == REDIS_OK)
                replies[j] = reply;
            node[j] = -1;
            if (replies[j] && akv_rc_mode(rc) == 1 &&
                (is_error(replies[j], "MOVED") ||
                 is_error(replies[j], "ASK") ||
                 is_error(replies[j], "TRYAGAIN") ||
                 is_error(replies[j], "CLUSTERDOWN") ||
                 is_error(replies[j], "READONLY"))) {
                freeReplyObject(replies[j]);
                replies[j] = NULL;
                node[j] = -2;
            }
        }
        akv_rc_put(rc, s->ctx_node[u], c);
    }
    akv_error saved = *akv_last_error();
    for (size_t i = 0; i < n; i++) {
        if (node[i] != -2)
            continue;
        redisContext *c = NULL;
        int nd = -1;
        replies[i] = akv_rc_exec(rc, &c, &nd, (int)s->slots[i],
                                 s->idempotent, s->argcs[i],
                                 (const char **)s->argvs[i], s->lenss[i]);
        akv_rc_put(rc, nd, c);
    }
    akv_error_restore(&saved);
    sent_free(s);
}

int akv_rc_pipeline(akv_rc *rc, size_t n, const unsigned *slots,
                    const int *argcs, const char *const *const *argvs,
                    const size_t *const *lenss, bool idempotent,
                    redisReply **replies)
{
    akv_rc_sent *s;
    int r = akv_rc_send(rc, n, slots, argcs, argvs, lenss, idempotent, &s);
    if (r != AKV_OK)
        return r;
    akv_rc_recv(s, false, replies);
    return AKV_OK;
}

/*
 * redis-cluster.h — the routing layer under backend-redis.c: one client
 * for a single Redis and for a Redis Cluster, on hiredis (which has no
 * cluster support of its own in Debian's 0.14).
 *
 * Whether the endpoint is a cluster is learnt from the node itself
 * (INFO cluster) at the first connection. A single Redis is node 0 and
 * owns every slot. On a cluster the slot map comes from CLUSTER SLOTS,
 * asked of any reachable node (known nodes first, then the URL's seeds);
 * commands go to the owner of their key's slot and follow MOVED (the map
 * is refreshed), ASK (ASKING on the named node), TRYAGAIN and CLUSTERDOWN
 * (bounded retries with backoff). Each node keeps a pool of idle
 * connections; a connection is used by one thread at a time.
 *
 * Thread-safe: the map and the pools are guarded by one mutex, never held
 * across network I/O.
 */
#ifndef AKV_REDIS_CLUSTER_H
#define AKV_REDIS_CLUSTER_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "backend.h"

#define AKV_RC_SLOTS 16384

typedef struct akv_rc akv_rc;

/* The hash slot of a key: CRC16 (XMODEM) of its hash tag (the bytes
 * between the first '{' and the next '}', when not empty) or of the whole
 * key, modulo 16384. */
unsigned akv_rc_slot(const char *key, size_t len);

/* A router for the endpoint(s) of u (borrowed; it must outlive the
 * router); where names it in messages ("redis at HOST:PORT/DB"). Does not
 * connect. */
int akv_rc_new(const struct akv_redis_url *u, const char *where,
               akv_rc **out);
void akv_rc_free(akv_rc *rc);

/* 1 on a cluster, 0 on a single Redis, -1 while not known (no node
 * reached yet). */
int akv_rc_mode(akv_rc *rc);

/* A connection to the owner of slot (any node when slot < 0), from the
 * node's pool or new (AUTH; on a single Redis SELECT). NULL with the error
 * set (AKV_EUNAVAILABLE, or AKV_EINVAL for a database number other than 0
 * on a cluster). *node receives the node's index. */
redisContext *akv_rc_get(akv_rc *rc, int slot, int *node);
/* The same for node index node (from akv_rc_masters). */
redisContext *akv_rc_get_node(akv_rc *rc, int node);
/* Hands c back to node's pool, or frees it when it failed (hiredis cannot
 * resynchronise a connection after an I/O error or a timeout); a failed
 * connection also drops the node's idle ones and asks for a map refresh. */
void akv_rc_put(akv_rc *rc, int node, redisContext *c);

/* Runs one command on *c (a connection of *node, or NULL) for slot,
 * following redirections: *c and *node may change to another node's
 * connection. idempotent: the command may be sent again after an I/O
 * error (reads); writes are not, since their first sending may have been
 * applied. Returns the final reply (possibly an error reply the caller
 * maps), or NULL after an I/O error ((*c)->err)
 * or when no node could be reached (*c NULL, error set). */
redisReply *akv_rc_exec(akv_rc *rc, redisContext **c, int *node, int slot,
                        bool idempotent, int argc, const char **argv,
                        const size_t *lens);

/* Runs n commands, command i for slot slots[i], pipelined per node, and
 * stores each reply in replies[i] (NULL when its node failed: for a write,
 * an unknown outcome). Replies that redirect (the command was not run) are
 * retried one by one with akv_rc_exec, passing idempotent on. Returns
 * AKV_OK or AKV_ENOMEM. */
int akv_rc_pipeline(akv_rc *rc, size_t n, const unsigned *slots,
                    const int *argcs, const char *const *const *argvs,
                    const size_t *const *lenss, bool idempotent,
                    redisReply **replies);

/* akv_rc_pipeline in two halves, for a caller that has other work to do
 * while the nodes work. akv_rc_send writes every command to its node's
 * connection (taken from the pool) and returns at once with *out, the
 * commands in flight; AKV_ENOMEM (nothing sent, *out NULL) or AKV_OK.
 * slots, argcs, argvs, lenss and what they point to are borrowed until
 * akv_rc_recv: a redirected command is sent again from them. */
typedef struct akv_rc_sent akv_rc_sent;
int akv_rc_send(akv_rc *rc, size_t n, const unsigned *slots,
                const int *argcs, const char *const *const *argvs,
                const size_t *const *lenss, bool idempotent,
                akv_rc_sent **out);
/* A descriptor that becomes readable when replies arrive (the first
 * node's connection), or -1 when no command is waiting on a connection. */
int akv_rc_sent_fd(const akv_rc_sent *s);
/* Reads the replies of s into replies[0..n) as akv_rc_pipeline does
 * (blocking, under the connections' timeout, for what has not arrived),
 * hands the connections back and frees s. timed_out: the caller waited
 * long enough; the connections that still owe replies are dropped, and
 * their commands have an unknown outcome (replies NULL). */
void akv_rc_recv(akv_rc_sent *s, bool timed_out, redisReply **replies);

/* The nodes that own slots (the masters), at most max, into nodes[];
 * returns their number (on a single Redis: node 0). Refreshes the map
 * first when it is not known. */
size_t akv_rc_masters(akv_rc *rc, int *nodes, size_t max);

/* "HOST:PORT" of node, for messages. */
const char *akv_rc_node_name(akv_rc *rc, int node, char *buf, size_t size);

#endif /* AKV_REDIS_CLUSTER_H */

/*
 * backend.h — the backend vtable: the only thing a storage backend
 * implements. store.c does everything that is the same for every backend
 * (validation, SHA-256, overlay, expiry filtering, integrity checks, JSON);
 * a backend stores and retrieves records atomically and enforces, inside its
 * own transaction, what cannot be checked from outside without a race:
 * preconditions, versions and quotas.
 *
 * Backends never see HTTP, JSON-RPC or the CLI, and never let their own
 * error codes out: they translate them to AKV_E* with akv_fail().
 */
#ifndef AKV_BACKEND_H
#define AKV_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "agentkv.h"

typedef struct akv_backend akv_backend;

/* A record as stored. Pointers are borrowed from the backend: see each op. */
typedef struct akv_rec {
    uint64_t version;
    int64_t created_at, updated_at, expires_at; /* ms; expires_at 0 = never */
    unsigned char sha256[32];
    const char *content_type;
    size_t content_type_len;
    const char *metadata; /* JSON object text or NULL */
    size_t metadata_len;
    const void *value;
    size_t value_len;
    size_t stored_len; /* bytes of the encoded record as stored (set by
                          akv_rec_decode; what the quota counts, with the
                          key) */
    bool damaged;      /* scan only: the stored bytes did not decode; every
                          other field is empty (akv_rec_damaged) */
} akv_rec;

/* A namespace: one sandbox's entries of one scope. */
typedef struct akv_ns {
    const char *sandbox;
    size_t sandbox_len;
    int scope; /* an akv_scope, or AKV_SCOPE_ALL where an op allows it */
} akv_ns;

/* A write as the backend applies it. */
typedef struct akv_write {
    akv_ns ns;
    const char *key;
    size_t key_len;
    akv_rec rec;          /* version/created_at are set by the backend unless
                             restore is true */
    int64_t ttl_ms;       /* expires_at = now + ttl_ms; 0 = never */
    int64_t now;
    uint64_t quota;       /* namespace quota in bytes */
    const unsigned char *if_match; /* 32 bytes or NULL (puts; and deletes
                                      of write_batch) */
    bool create_only;
    bool restore;         /* import: keep rec's version and timestamps */
    bool del;             /* write_batch only: delete the key instead */
} akv_write;

/* Scan callback: return 0 to go on, non-zero to stop (that value is passed
 * back by scan). rec is valid only during the call. */
typedef int (*akv_scan_fn)(void *ctx, const akv_ns *ns, const char *key,
                           size_t key_len, const akv_rec *rec);

typedef struct akv_backend_ops {
    const char *name;
    bool remote; /* operations wait on the network (akv_store_is_remote) */
    void (*close)(akv_backend *be);

    /* Reads a record. On AKV_OK, rec points into backend memory held by
     * *hold until release(be, *hold). AKV_ENOTFOUND when absent (expired or
     * not: the store filters expiry). */
    int (*get)(akv_backend *be, const akv_ns *ns, const char *key,
               size_t key_len, akv_rec *rec, void **hold);
    void (*release)(akv_backend *be, void *hold);

    /* Reads n records in one round trip: for each i, what get(be, &ns[i],
     * keys[i], key_lens[i], &recs[i], &holds[i]) would give, its result in
     * rcs[i]. A failure that is not the record's own (the connection)
     * gives every remaining read that code, with the message in the
     * thread's last error. NULL when the backend has no cheaper way than
     * n gets (the store then calls get n times). */
    void (*get_many)(akv_backend *be, size_t n, const akv_ns *ns,
                     const char *const *keys, const size_t *key_lens,
                     akv_rec *recs, void **holds, int *rcs);

    /* Applies w atomically and durably. Before writing it checks, against
     * the record stored now (expired ones count as absent): w->if_match,
     * w->create_only (AKV_EPRECONDITION), and that the namespace's unexpired
     * bytes after the write stay within w->quota, counting only growth
     * (AKV_EQUOTA via akv_fail_quota). On success *out receives the stored
     * record (pointers into w's buffers) and *created whether no unexpired
     * record was replaced. */
    int (*put)(akv_backend *be, const akv_write *w, akv_rec *out,
               int *created);

    /* Applies n independent puts, each exactly as put would (atomic on
     * its own, not with the others), in one round trip where it can:
     * rcs[i], out[i], created[i] as put's result, outcome and *created,
     * and errs[i] the error a failed one left (the thread's last error
     * is then unspecified). NULL when the backend has no cheaper way than
     * n puts (the store then calls put n times). */
    void (*put_many)(akv_backend *be, size_t n, const akv_write *w,
                     akv_rec *out, int *created, int *rcs, akv_error *errs);

    /* put_many in two halves, for a caller with other work to do while
     * the store works (the server's event loop). put_many_send sends the
     * puts w[0..n) and returns at once with the handle of the puts in
     * flight, owned by the caller until it passes it to put_many_recv
     * (exactly once: that frees it), or NULL when it could not (no memory:
     * nothing was sent; the caller uses put_many). w, and everything it
     * points to, are borrowed until put_many_recv. *fd receives a
     * descriptor that becomes readable when the answers arrive, or -1
     * when nothing is to be waited for (the descriptor is the backend's,
     * valid until put_many_recv, which may keep it open for a later
     * flight: the caller stops watching it first); *timeout_ms how long to wait for it, or
     * -1 for no limit (puts that cannot be abandoned: LMDB's, queued for
     * its committer thread). put_many_recv (on any thread, one call at a
     * time) then gives what put_many would: it takes the answers, waiting
     * for any that are still missing, and applies what was not sent (puts
     * that go alone, retries). timed_out: the caller waited *timeout_ms in
     * vain; the puts still unanswered fail with AKV_EUNAVAILABLE (outcome
     * unknown, as with any lost connection) and their connection is
     * dropped, so that a late answer is never taken for another's (with
     * no limit, timed_out changes nothing: put_many_recv waits). NULL
     * when the backend has no split (the caller calls put_many). Every
     * flight is received before close. */
    void *(*put_many_send)(akv_backend *be, size_t n, const akv_write *w,
                           int *fd, int64_t *timeout_ms);
    void (*put_many_recv)(akv_backend *be, void *sent, bool timed_out,
                          akv_rec *out, int *created, int *rcs,
                          akv_error *errs);

    /* Deletes a record. *was_live (may be NULL) is set when the deleted
     * record had not expired at now. AKV_ENOTFOUND when absent. */
    int (*del)(akv_backend *be, const akv_ns *ns, const char *key,
               size_t key_len, int64_t now, bool *was_live);

    /* Sets a record's expires_at (sliding expiry); absent is AKV_OK. */
    int (*touch)(akv_backend *be, const akv_ns *ns, const char *key,
                 size_t key_len, int64_t expires_at);

    /* Calls fn for each record, in key order, of namespace ns (ns->sandbox
     * NULL = every sandbox; ns->scope AKV_SCOPE_ALL = every scope) whose key
     * starts with prefix and sorts after `after` (both may be NULL). Records
     * are seen in one consistent snapshot. A record that does not decode is
     * passed too, with rec->damaged set (akv_rec_damaged), so that callers
     * can report it. */
    int (*scan)(akv_backend *be, const akv_ns *ns, const char *prefix,
                size_t prefix_len, const char *after, size_t after_len,
                akv_scan_fn fn, void *ctx);

    /* Removes records of namespace ns (sandbox NULL = every sandbox, scope
     * may be AKV_SCOPE_ALL): only those expired at now when expired_only,
     * else all of them. counts[scope] += removed; *live_removed (may be
     * NULL) += removed records that had not expired. One transaction. */
    int (*remove)(akv_backend *be, const akv_ns *ns, bool expired_only,
                  int64_t now, uint64_t counts[AKV_SCOPE_COUNT],
                  uint64_t *live_removed);

    /* Adds every namespace's usage (entry count and stored bytes, see
     * akv_rec_usage in record.h; expired records included) to
     * entries[scope] and bytes[scope]. */
    int (*usage)(akv_backend *be, uint64_t entries[AKV_SCOPE_COUNT],
                 uint64_t bytes[AKV_SCOPE_COUNT]);

    /* Hit/miss counters shared by every process using the store. */
    void (*count)(akv_backend *be, akv_scope scope, bool hit);
    void (*counters)(akv_backend *be, uint64_t hits[AKV_SCOPE_COUNT],
                     uint64_t misses[AKV_SCOPE_COUNT]);

    /* Consistent copy into directory path; NULL if unsupported. */
    int (*backup)(akv_backend *be, const char *path,
                  akv_progress_fn progress, void *ctx);

    /* Applies n writes of any kind, all of one namespace (callers split
     * by namespace: SPEC.md §8, no write spans namespaces, so that a Redis
     * Cluster never sees a cross-slot script), in one transaction, all or
     * nothing:
     * puts exactly as put does (preconditions, quota, versions; restore is
     * honoured), and deletes where w[i].del is set (only ns, key, now and
     * if_match are read; an absent key is not an error unless if_match is
     * set: a conditional delete requires the record to be live with that
     * SHA-256, else AKV_EPRECONDITION and nothing is applied, which is
     * what lets a memory rename move exactly what it read). out (may be
     * NULL) receives one stored record per put (pointers into w's
     * buffers). Import and seeding rely on it being atomic. */
    int (*write_batch)(akv_backend *be, const akv_write *w, size_t n,
                       akv_rec *out);

    /* Fills h as akv_store_health describes (h arrives zeroed with
     * writable = 1); NULL when the backend has nothing to tell. */
    void (*health)(akv_backend *be, akv_health *h);

    /* Calls fn once per namespace that may hold records (LMDB: usage rows
     * with entries; Redis: the namespaces its keys show), in (scope, sandbox)
     * order; fn returning non-zero stops the walk with that code. */
    int (*namespaces)(akv_backend *be,
                      int (*fn)(void *ctx, const akv_ns *ns), void *ctx);

    /* A number that changes whenever a write is committed to the store,
     * by this process or any other (akv_store_generation): a read-only
     * look, no transaction, no I/O beyond the shared map. NULL when the
     * backend has no such number (Redis). */
    uint64_t (*generation)(akv_backend *be);
} akv_backend_ops;

struct akv_backend {
    const akv_backend_ops *ops;
};

/* Opens the backend named by url: NULL or "lmdb" = embedded in dir,
 * "redis://…" = backend-redis.c (dir unused). */
int akv_backend_open(const char *url, const char *dir,
                     const struct akv_config *cfg, unsigned flags,
                     akv_backend **out);
int akv_backend_lmdb_open(const char *dir, const struct akv_config *cfg,
                          unsigned flags, akv_backend **out);
int akv_backend_redis_open(const char *url, const struct akv_config *cfg,
                           unsigned flags, akv_backend **out);

/* A parsed redis:// URL (backend-redis.c). Strings are owned: free with
 * akv_redis_url_free(). user and password are NULL when absent. */
struct akv_redis_seed {
    char *host;
    int port;
};
struct akv_redis_url {
    char *host, *user, *password; /* host, port: the first seed's */
    int port, db;
    int64_t timeout_ms;
    struct akv_redis_seed *seeds; /* every HOST[:PORT] of the list */
    size_t nseeds;
    int wait_replicas;       /* ?wait=N: WAIT N after each write (0: no) */
    int64_t wait_timeout_ms; /* ?wait_timeout=: WAIT's timeout */
};
/* redis://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...][/DB]
 * [?timeout=DURATION&wait=N&wait_timeout=DURATION] (several hosts: seed
 * nodes of a Redis Cluster):
 * AKV_OK,
 * or AKV_EINVAL with a message that never shows the password. */
int akv_redis_url_parse(const char *url, struct akv_redis_url *out);
void akv_redis_url_free(struct akv_redis_url *u);

#endif /* AKV_BACKEND_H */

/*
 * backend-lmdb.c — the embedded backend: one LMDB environment in the store
 * directory, shared by every process that opens it (server, CLI, MCP).
 *
 * On-disk layout (directory DIR):
 *   DIR/data.mdb, DIR/lock.mdb  the LMDB environment, with named databases:
 *     "meta"     "format" → "3"; marks the directory as an agentkv store
 *                whose records may be of format 3 (record.c). "1" is a
 *                store whose usage counted value bytes only: it is
 *                recounted and marked "3" by the first open; "2" (usage
 *                counted as today, records of formats 1 and 2) is only
 *                marked "3" (usage_upgrade), so that versions of agentkv
 *                that do not know record format 3 refuse the store instead
 *                of calling every new record damaged.
 *     "entries"  key   = scope digit ('0'..'4') | sandbox | 0x00 | key
 *                value = the record encoding of record.c
 *                The NUL after the sandbox keeps one sandbox's keys
 *                contiguous and apart from longer sandbox names.
 *     "usage"    key   = scope digit | sandbox
 *                value = two native uint64: stored bytes (akv_rec_usage:
 *                key plus encoded record, so value, metadata, content type
 *                and header) and entry count of the namespace, expired-
 *                but-not-collected and damaged entries included. Kept
 *                exact inside every write transaction: it is the sum of
 *                akv_rec_usage over the namespace's records.
 *     "meta" also holds "log" → u64: how far data.mdb holds the write
 *                log (its records' numbering, wlog.c).
 *   DIR/counters  4 KiB file mapped shared by every process: hit and miss
 *                 counters per scope, updated with atomic adds. Statistics
 *                 only: they are not part of any transaction. Its first
 *                 byte is also the store's lock, and its second the
 *                 lock's knocker (store_lock).
 *   DIR/data.log, DIR/data2.log  the write log's two files
 *                 (store.write_log; wlog.c has the records' format, and
 *                 log_place says which file a record goes to): writes
 *                 acknowledged and not yet in data.mdb, with records
 *                 data.mdb holds already. Empty, or absent, when no
 *                 process with the write log has run.
 * The directory is created 0700 and every file in it 0600, whatever the
 * umask (SPEC.md §3): the store holds every tenant's data.
 *
 * Full disks. Nothing the store maps may ever need a block the filesystem
 * cannot give: a write fault on an unallocated page of a full filesystem is
 * SIGBUS, not an error. So counters and lock.mdb (which LMDB maps shared and
 * writes its reader table through) get all their blocks when they are
 * created or opened (file_alloc); if counters cannot, the process counts in
 * private memory and says so (akv_store_health). data.mdb is only ever read
 * through its map (no MDB_WRITEMAP): LMDB writes it with pwrite and
 * fdatasync, so a full disk there is an error code, which lmdb_fail turns
 * into "disk full: ..." (also when LMDB reports a short write as EIO and the
 * filesystem is indeed out of space). A failed commit leaves the environment
 * usable: writes resume as soon as space is freed.
 *
 * Concurrency: LMDB serialises writers across processes with its lock file
 * and gives readers snapshots without locks. Within one process, concurrent
 * puts are grouped into one transaction and one fsync (group commit, see
 * lmdb_put): the first writer to arrive leads, applies every queued write
 * in one shared write transaction (no nested transactions: put_in_txn
 * decides every refusal before it writes, so a refused put leaves the
 * transaction as it was and the others go on; see apply_group), commits
 * once, and hands each writer its own result. Puts sent in a flight
 * (put_many_send: the server's event loops) join the same queue without
 * waiting; a committer thread, started by the first flight, leads for
 * them and writes each flight's eventfd when its puts are done, so that
 * no thread sleeps through the fsync on a loop's behalf. Read
 * transactions are pooled
 * (MDB_NOTLS + reset/renew) so that a get costs no allocation and no system
 * call. Durability: every write commits with LMDB's default synchronous
 * fsync, so a write acknowledged to a caller survives kill -9 and power loss.
 * With the write log (store.write_log) a write is acknowledged once its
 * group's record in the log is synced instead, and applied to data.mdb
 * later, in large synchronous commits: see "The write log" below.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <lmdb.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "le.h"
#include "record.h"
#include "wlog.h"

#define KEYBUF (1 + AKV_SANDBOX_MAX + 1 + AKV_KEY_MAX)
#define MAX_READERS 1022
/* Size lock.mdb is created with: what LMDB 0.9 asks for MAX_READERS slots
 * (64-byte slots after a 192-byte header). LMDB takes a larger existing
 * file as it is and enlarges a smaller one with ftruncate (those extra
 * pages would have no blocks). */
#define LOCK_SIZE 65536
#define COUNTERS_SIZE 4096
/* An EIO from a write counts as "disk full" only when less than this is
 * left: LMDB reports a short write as EIO, and a short write of a full
 * filesystem leaves next to nothing. */
#define FULL_SLACK (1u << 20)

struct reader {
    MDB_txn *txn;
    struct reader *next;
    struct wgroup *g; /* under the write log: the record a get's value is
                         in (a reference), or NULL */
};

/* What every read touches is kept in shards, one per thread dealt out in
 * turn (thread_shard), so that the server's event loops, which read on
 * every request, do not pass a cache line between the cores for it: the
 * pool of read transactions and the hit and miss counters. */
#define THREAD_SHARDS 8

/* The pool of reset read transactions. A thread takes from and gives back
 * to its own shard. A take that finds its shard empty looks in the others
 * before it begins a transaction, so that the pool holds no more
 * transactions than were ever in use at once, as one list would. */
struct reader_shard {
    _Alignas(64) pthread_mutex_t lock; /* guards head; a line of its own
                                          (lmdb_backend is allocated so) */
    struct reader *head;
};

/* The overlay and the group map: open addressing with linear probing,
 * keyed by database and key, each slot naming the latest change of its
 * key: offset off in the record of g (overlay), or in gbuf (group map, g
 * NULL). hash 0 marks an empty slot. */
struct ov_slot {
    uint64_t hash;
    struct wgroup *g;
    size_t off;
};

struct ov_table {
    struct ov_slot *s;
    size_t cap, n; /* cap a power of two, or 0 */
};

/*
 * One record of the write log: the changes of one group of writes, from
 * the moment it is synced to the log until the applier has put it into
 * data.mdb and no read still points into it. refs: the log's own
 * reference, dropped by the applier, and one per value handle of a get
 * (struct reader's g).
 */
struct wgroup {
    akv_wlog_buf rec; /* sealed */
    uint64_t lsn;     /* its number; the next record's is lsn + rec.len */
    atomic_int refs;
    struct wgroup *next; /* the applier's queue */
};

/* The calling thread's shard: the threads are dealt the THREAD_SHARDS in
 * turn, each the first time it asks. */
static unsigned thread_shard(void)
{
    static atomic_uint dealt;
    static _Thread_local unsigned mine = UINT_MAX;
    if (mine == UINT_MAX)
        mine = atomic_fetch_add_explicit(&dealt, 1, memory_order_relaxed) %
               THREAD_SHARDS;
    return mine;
}

/*
 * DIR/counters, mapped shared by every process that has the store open
 * (COUNTERS_SIZE bytes, zeros when new). A store's hits and misses of a
 * scope are the sum of hits (misses) and of every shard's: a thread adds
 * to its own shard (thread_shard), each on lines of its own; versions
 * before the shards added to hits and misses, which still count.
 */
struct counter_shard {
    _Atomic uint64_t hits[AKV_SCOPE_COUNT];
    _Atomic uint64_t misses[AKV_SCOPE_COUNT];
    char pad[128 - 2 * AKV_SCOPE_COUNT * sizeof(uint64_t)];
};
struct counters {
    _Atomic uint64_t hits[AKV_SCOPE_COUNT];
    _Atomic uint64_t misses[AKV_SCOPE_COUNT];
    /* Bumped, and woken as a futex, by an open that knocks (store_lock):
     * the door of the process with the write log sleeps on it. */
    _Atomic uint32_t knocks;
    /* Bumped by the process with the write log when a knock finds that
     * its log cannot be applied (log_mode): the knockers give up at once
     * rather than wait out handover_ms. */
    _Atomic uint32_t refusals;
    char pad[128 - 2 * AKV_SCOPE_COUNT * sizeof(uint64_t) -
             2 * sizeof(uint32_t)];
    struct counter_shard shard[THREAD_SHARDS];
};
_Static_assert(sizeof(struct counters) <= COUNTERS_SIZE,
               "the counters fit their file");

struct lmdb_flight;

/* A put waiting for the group commit. Lives on its writer's stack, and
 * the writer sleeps until the leader sets done; or in a flight
 * (put_many_send), whose owner waits on the flight's descriptor. */
struct wtx;
struct pending {
    const akv_write *w; /* a put; or NULL, and op runs instead */
    int (*op)(struct wtx *t, void *arg);
    void *arg;
    akv_rec *out;
    int *created;
    int rc;
    akv_error err; /* the thread-local error the writer will see */
    bool done;
    struct pending *next;
    struct lmdb_flight *flight; /* the flight it belongs to, or NULL */
};

/*
 * The puts of one put_many_send until put_many_recv: queued for the group
 * commit like any writer's, led by the committer thread (or by a writer
 * that leads meanwhile). Whoever marks the last of them done writes fd,
 * an eventfd, once, after which it touches the flight no more: the owner
 * reads fd (readable, then, for its event loop) before it frees the
 * flight. left is guarded by group_lock.
 */
struct lmdb_flight {
    int fd;
    size_t n, left;
    struct lmdb_flight *notify_next; /* the leader's list to write to */
    struct flight_put {
        struct pending p;
        akv_rec out;
        int created;
    } puts[];
};

#define GROUP_MAX 256 /* writes in one commit, bounding a batch's latency */
#define FLIGHT_FDS_SPARE 16 /* flights' descriptors kept for reuse */

typedef struct lmdb_backend {
    akv_backend base;
    MDB_env *env;
    MDB_dbi entries, usage;
    uint64_t map_size;
    /* The record format writes use (record.h): format 3 once the store is
     * marked "3"; format 2 while an open on a full disk could not move a
     * store's marker from "2" (lmdb_open), so that versions which read
     * only formats 1 and 2 never find a record they cannot read. Set at
     * open, read-only afterwards. */
    int rec_format;
    struct reader_shard pool[THREAD_SHARDS]; /* reset read transactions
                                                ready to renew */
    struct counters *counters; /* shared mapping, or NULL if unavailable */
    bool counters_private;     /* counters is calloc'ed, not mapped */
    char counters_note[256];   /* why they are private, or "" */
    char lock_note[256];       /* lock.mdb could not be allocated, or "" */
    pthread_mutex_t group_lock; /* guards the group commit's members */
    pthread_cond_t group_done;  /* signalled when a batch completes */
    struct pending *queue, **queue_tail;
    bool leading;               /* a leader is applying a batch */
    /* The committer thread leads for flights (put_many_send), whose
     * senders do not wait; started by the first flight, woken through
     * group_work when writes are queued and nobody leads, stopped by
     * committer_stop at close. */
    pthread_cond_t group_work;
    bool committer_started, committer_stop;
    pthread_t committer;
    /* Descriptors of finished flights, for the next ones: an eventfd
     * whose one write was read back is as good as new, and reusing it
     * spares a flight two system calls (eventfd, close). */
    pthread_mutex_t fd_lock;
    int fd_spare[FLIGHT_FDS_SPARE];
    int fd_nspare;
    /* The store's lock and its knocker (DIR/counters, open file
     * description locks on its first two bytes; store_lock). -1 when
     * counters could not be opened. */
    int lockfd;
    int64_t handover_ms; /* how long an open waits for the lock */
    /* The door thread (door_main), under the write log with counters
     * mapped: door_rang, under group_lock, tells the committer to look
     * for a knock now. */
    pthread_t door;
    bool door_started, door_rang;
    atomic_bool door_stop;
    MDB_dbi meta;
    /* The write log (store.write_log; see "The write log" below). wlog is
     * set at open and read-only afterwards: the log's threads run. log_on:
     * writes go to the log, which needs the store's lock exclusively;
     * written by the committer alone (log_mode), read by others for
     * health. The committer alone touches gbuf and gmap: the record of the
     * group it decides, and the latest change of each key in it. ov holds
     * the latest logged change of each key that the applier has not yet
     * dropped, under ov_lock (the committer's view and every get read it;
     * the committer adds to it, the applier removes). */
    bool wlog;
    atomic_bool log_on;
    int logfd[2]; /* data.log, data2.log (LOG_FILES); -1 when not open */
    akv_wlog_buf gbuf;
    struct ov_table gmap;
    pthread_rwlock_t ov_lock;
    struct ov_table ov;
    /* ov.n, stored under ov_lock after each change (release): a get that
     * loads 0 (acquire) needs neither the lock nor the overlay, since
     * every change dropped from it was committed to data.mdb first. */
    atomic_size_t ov_live;
    /* generation (lmdb_generation): with log_on, gen_base plus logged (the
     * records logged and the direct commits of this process); without,
     * the last commit's id plus gen_off, which keeps it going up across a
     * change of mode. gen_lock guards the change against readers. */
    pthread_mutex_t gen_lock;
    uint64_t gen_base, gen_off;
    atomic_uint_fast64_t logged;
    /* wl_lock guards the log's positions and the applier's queue. Log
     * numbers (log_place): log_cur is the file being written and log_base
     * the number of its first byte; log_end the number after the last
     * record written or being written; other_end the number after the
     * last record of the other file; applied the number up to which
     * data.mdb holds the log (stored in meta under "log" by the same
     * commit). log_high: how far each file has been written since it was
     * last emptied. log_size: store.write_log_size. */
    pthread_mutex_t wl_lock;
    pthread_cond_t wl_cond; /* the applier: work; drainers: applied moved */
    struct wgroup *applyq, **applyq_tail;
    uint64_t log_base, log_end, other_end, applied, log_size;
    uint64_t log_high[2];
    int log_cur;
    int drainers;           /* threads waiting for applied to reach log_end */
    bool apply_stop, applier_started;
    pthread_t applier;
    int apply_rc;           /* the last apply's failure, AKV_OK after a success */
    akv_error apply_err;
    uint64_t apply_tries;   /* applies ended, failed or not */
    char wlog_note[200];    /* why the write log is off though asked for */
    /* The last write that failed for want of space, until a commit
     * succeeds: what akv_store_health reports. write_failed is read without
     * the lock on every commit; the rest only under health_lock. */
    atomic_bool write_failed;
    pthread_mutex_t health_lock;
    char write_error[sizeof(((akv_error *)0)->message)];
    uint64_t free_at_error; /* free bytes when it failed */
#ifndef NDEBUG
    /* Read snapshots taken and not given back, for the assertions only: a
     * shared counter would cost every get a contended atomic in release
     * builds. */
    atomic_long holds;
#endif
    char *dir;
} lmdb_backend;

struct usage {
    uint64_t bytes, entries;
};

/* Forward: pieces of the write log and the group commit used before their
 * sections. */
static void group_unref(struct wgroup *g);
static int log_replay(lmdb_backend *lb, MDB_txn *txn, const int fd[2],
                      uint64_t *at);
static void *committer_main(void *arg);
static void *applier_main(void *arg);

/* Bytes of the filesystem of dir that this process may still fill (root
 * may use the blocks reserved for it), or UINT64_MAX when unknown. */
static uint64_t free_bytes(const char *dir)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) != 0)
        return UINT64_MAX;
    uint64_t blocks = geteuid() == 0 ? sv.f_bfree : sv.f_bavail;
    return blocks * (uint64_t)sv.f_frsize;
}

/* Whether the store's filesystem has room for len more bytes of data
 * beyond what filesystems hold back for their own metadata (ext4: 2% of
 * the disk, at most 4096 blocks, which statvfs counts as free) and
 * FULL_SLACK. */
static bool room_for(const char *dir, uint64_t len)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) != 0)
        return true; /* the write itself will tell */
    uint64_t blocks = geteuid() == 0 ? sv.f_bfree : sv.f_bavail;
    uint64_t held = sv.f_blocks / 50 < 4096 ? sv.f_blocks / 50 : 4096;
    return blocks >= held &&
           (blocks - held) * (uint64_t)sv.f_frsize >= len + FULL_SLACK;
}

/* Remembers the message just recorded as the reason writes fail. */
static void note_write_error(lmdb_backend *lb)
{
    uint64_t fb = free_bytes(lb->dir);
    pthread_mutex_lock(&lb->health_lock);
    snprintf(lb->write_error, sizeof lb->write_error, "%s",
             akv_last_error()->message);
    lb->free_at_error = fb;
    atomic_store(&lb->write_failed, true);
    pthread_mutex_unlock(&lb->health_lock);
}

/* Translates an LMDB or errno code into an AKV code and message. Errors
 * from writing data.mdb that mean the filesystem is out of space become
 * "disk full: ..." (unavailable, as SPEC.md §4 asks) and are remembered for
 * akv_store_health until a commit succeeds. */
static int lmdb_fail(lmdb_backend *lb, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL)
        return akv_fail(AKV_EUNAVAILABLE,
                        "store in %s is full (map_size %llu bytes reached); "
                        "raise store.map_size in the config file",
                        lb->dir, (unsigned long long)lb->map_size);
    if (rc == ENOMEM)
        return akv_fail(AKV_ENOMEM, "%s: out of memory", what);
    const char *full = NULL;
    if (rc == ENOSPC)
        full = "no space left on device";
    else if (rc == EDQUOT)
        full = "disk quota exceeded";
    else if (rc == EIO && free_bytes(lb->dir) < FULL_SLACK)
        full = "no space left on device (short write)";
    if (full) {
        akv_fail(AKV_EUNAVAILABLE,
                 "disk full: %s writing %s/data.mdb (%s); reads still work, "
                 "and writes resume once space is freed",
                 full, lb->dir, what);
        note_write_error(lb);
        return AKV_EUNAVAILABLE;
    }
    if (rc == MDB_PANIC)
        return akv_fail(AKV_EUNAVAILABLE,
                        "store %s: LMDB stopped after a failed write of its "
                        "meta page (%s); restart the process",
                        lb->dir, what);
    return akv_fail(AKV_EUNAVAILABLE, "%s: %s", what, mdb_strerror(rc));
}

/* Commits txn (which is then gone) and reports the outcome; a success
 * means the disk took a write, so an earlier "disk full" is over. */
static int txn_commit(lmdb_backend *lb, MDB_txn *txn, const char *what)
{
    int rc = mdb_txn_commit(txn);
    if (rc)
        return lmdb_fail(lb, rc, what);
    if (atomic_load_explicit(&lb->write_failed, memory_order_relaxed)) {
        pthread_mutex_lock(&lb->health_lock);
        atomic_store(&lb->write_failed, false);
        lb->write_error[0] = '\0';
        pthread_mutex_unlock(&lb->health_lock);
    }
    return AKV_OK;
}

/* ---- where a write reads and writes -------------------------------------- */

/*
 * A write's reads and changes go through a struct wtx: either straight to
 * an LMDB write transaction (txn), or, under the write log (logged), to
 * the committer's view: the changes of the group being decided (gmap, in
 * gbuf), then the logged changes not yet in data.mdb (the overlay), then
 * txn, a read snapshot taken after the overlay's lock. The changes of a
 * logged view go into the group's log record; nothing reaches data.mdb
 * until the applier replays that record there.
 *
 * A view cannot walk a database with a cursor (the overlay is not sorted):
 * the few writes that must (removals, recounts of damaged namespaces, the
 * quota's collection of expired records) call need_direct, which marks the
 * view and fails; the committer then runs that write again in a write
 * transaction of its own once everything logged is in data.mdb
 * (log_group). Each such path marks the view before it changes anything.
 */
struct wtx {
    lmdb_backend *lb;
    MDB_txn *txn;
    bool logged;
    bool direct; /* set by need_direct */
};

static int need_direct(struct wtx *t)
{
    t->direct = true;
    return akv_fail(AKV_EUNAVAILABLE, "write needs a transaction of its own");
}

static uint64_t ov_hash(int db, const void *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)db;
    const unsigned char *p = key;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h ? h : 1;
}

static const unsigned char *ov_base(const struct ov_slot *sl,
                                    const unsigned char *gbuf)
{
    return sl->g ? sl->g->rec.data : gbuf;
}

/* The slot of (db, key), or NULL. gbuf: the group map's record. */
static struct ov_slot *ov_find(const struct ov_table *t, uint64_t h, int db,
                               const void *key, size_t len,
                               const unsigned char *gbuf)
{
    if (t->n == 0)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct ov_slot *sl = &t->s[i];
        if (sl->hash == 0)
            return NULL;
        if (sl->hash != h)
            continue;
        akv_wlog_change c;
        akv_wlog_at(ov_base(sl, gbuf), sl->off, &c);
        if (c.db == db && c.key_len == len && memcmp(c.key, key, len) == 0)
            return sl;
    }
}

/* Makes (g, off), whose change is of (db, key), the latest of its key. */
static int ov_set(struct ov_table *t, uint64_t h, int db, const void *key,
                  size_t len, struct wgroup *g, size_t off,
                  const unsigned char *gbuf)
{
    struct ov_slot *sl = ov_find(t, h, db, key, len, gbuf);
    if (sl) {
        sl->g = g;
        sl->off = off;
        return AKV_OK;
    }
    if ((t->n + 1) * 4 > t->cap * 3) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct ov_slot *s = calloc(cap, sizeof *s);
        if (s == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        for (size_t i = 0; i < t->cap; i++) {
            if (t->s[i].hash == 0)
                continue;
            size_t j = t->s[i].hash & (cap - 1);
            while (s[j].hash)
                j = (j + 1) & (cap - 1);
            s[j] = t->s[i];
        }
        free(t->s);
        t->s = s;
        t->cap = cap;
    }
    size_t mask = t->cap - 1, i = h & mask;
    while (t->s[i].hash)
        i = (i + 1) & mask;
    t->s[i] = (struct ov_slot){h, g, off};
    t->n++;
    return AKV_OK;
}

/* Empties sl, moving back the slots after it that probed past it. */
static void ov_remove(struct ov_table *t, struct ov_slot *sl)
{
    size_t mask = t->cap - 1, i = (size_t)(sl - t->s), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (t->s[j].hash == 0)
            break;
        size_t k = t->s[j].hash & mask; /* where it would like to be */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        t->s[i] = t->s[j];
        i = j;
    }
    t->s[i].hash = 0;
    t->n--;
}

static void ov_clear(struct ov_table *t)
{
    if (t->n)
        memset(t->s, 0, t->cap * sizeof *t->s);
    t->n = 0;
}

static int wlog_db(const lmdb_backend *lb, MDB_dbi dbi)
{
    return dbi == lb->entries ? AKV_WLOG_ENTRIES : AKV_WLOG_USAGE;
}

/* mdb_get through t: 0, MDB_NOTFOUND or LMDB's error. */
static int wtx_get(struct wtx *t, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
    if (t->logged) {
        lmdb_backend *lb = t->lb;
        int db = wlog_db(lb, dbi);
        uint64_t h = ov_hash(db, k->mv_data, k->mv_size);
        struct ov_slot *sl =
            ov_find(&lb->gmap, h, db, k->mv_data, k->mv_size, lb->gbuf.data);
        if (sl == NULL)
            sl = ov_find(&lb->ov, h, db, k->mv_data, k->mv_size, NULL);
        if (sl) {
            akv_wlog_change c;
            akv_wlog_at(ov_base(sl, lb->gbuf.data), sl->off, &c);
            if (c.op == AKV_WLOG_DEL)
                return MDB_NOTFOUND;
            v->mv_data = (void *)c.val;
            v->mv_size = c.val_len;
            return 0;
        }
    }
    return mdb_get(t->txn, dbi, k, v);
}

/* Records a change in the group being decided. ENOMEM or 0; *val (NULL
 * for a delete) is where the value's bytes go. */
static int wtx_log(struct wtx *t, int op, MDB_dbi dbi, const MDB_val *k,
                   size_t val_len, unsigned char **val)
{
    lmdb_backend *lb = t->lb;
    int db = wlog_db(lb, dbi);
    size_t off;
    unsigned char *p = akv_wlog_add(&lb->gbuf, op, db, k->mv_data,
                                    k->mv_size, val_len, &off);
    if (p == NULL)
        return ENOMEM;
    if (ov_set(&lb->gmap, ov_hash(db, k->mv_data, k->mv_size), db,
               k->mv_data, k->mv_size, NULL, off, lb->gbuf.data) != AKV_OK)
        return ENOMEM;
    if (val)
        *val = p;
    return 0;
}

/* mdb_put through t. With MDB_RESERVE, v->mv_data is set to where the
 * caller writes the value, before its next call on t. */
static int wtx_put(struct wtx *t, MDB_dbi dbi, MDB_val *k, MDB_val *v,
                   unsigned flags)
{
    if (!t->logged)
        return mdb_put(t->txn, dbi, k, v, flags);
    unsigned char *p;
    int rc = wtx_log(t, AKV_WLOG_PUT, dbi, k, v->mv_size, &p);
    if (rc)
        return rc;
    if (flags & MDB_RESERVE)
        v->mv_data = p;
    else
        memcpy(p, v->mv_data, v->mv_size);
    return 0;
}

/* mdb_del through t (of a key the caller found present). */
static int wtx_del(struct wtx *t, MDB_dbi dbi, MDB_val *k)
{
    if (!t->logged)
        return mdb_del(t->txn, dbi, k, NULL);
    return wtx_log(t, AKV_WLOG_DEL, dbi, k, 0, NULL);
}

static size_t entry_key(char *buf, int scope, const char *sb,
                        size_t sb_len, const char *key, size_t key_len)
{
    buf[0] = (char)('0' + scope);
    memcpy(buf + 1, sb, sb_len);
    buf[1 + sb_len] = '\0';
    if (key_len)
        memcpy(buf + 2 + sb_len, key, key_len);
    return 2 + sb_len + key_len;
}

static size_t usage_key(char *buf, int scope, const char *sb,
                        size_t sb_len)
{
    buf[0] = (char)('0' + scope);
    memcpy(buf + 1, sb, sb_len);
    return 1 + sb_len;
}

static int usage_get(struct wtx *t, int scope, const char *sb,
                     size_t sb_len, struct usage *u)
{
    lmdb_backend *lb = t->lb;
    char kb[1 + AKV_SANDBOX_MAX];
    MDB_val k = {usage_key(kb, scope, sb, sb_len), kb}, v;
    int rc = wtx_get(t, lb->usage, &k, &v);
    memset(u, 0, sizeof *u);
    if (rc == MDB_NOTFOUND)
        return AKV_OK;
    if (rc != 0)
        return lmdb_fail(lb, rc, "reading usage");
    if (v.mv_size == sizeof *u)
        memcpy(u, v.mv_data, sizeof *u);
    return AKV_OK;
}

static int usage_add(struct wtx *t, int scope, const char *sb, size_t sb_len,
                     int64_t dbytes, int64_t dentries)
{
    lmdb_backend *lb = t->lb;
    if (dbytes == 0 && dentries == 0)
        return AKV_OK;
    struct usage u;
    int rc = usage_get(t, scope, sb, sb_len, &u);
    if (rc != AKV_OK)
        return rc;
    /* Usage is the sum over the namespace's records, so a removal never
     * takes more than is counted. Clamp at zero all the same: usage must
     * never wrap, even if a counter was damaged along with the records it
     * counts. */
    assert(dbytes >= 0 || (uint64_t)-dbytes <= u.bytes);
    assert(dentries >= 0 || (uint64_t)-dentries <= u.entries);
    u.bytes = (int64_t)u.bytes + dbytes < 0 ? 0 : u.bytes + (uint64_t)dbytes;
    u.entries = (int64_t)u.entries + dentries < 0
                    ? 0
                    : u.entries + (uint64_t)dentries;
    char kb[1 + AKV_SANDBOX_MAX];
    MDB_val k = {usage_key(kb, scope, sb, sb_len), kb};
    MDB_val v = {sizeof u, &u};
    rc = wtx_put(t, lb->usage, &k, &v, 0);
    return rc ? lmdb_fail(lb, rc, "writing usage") : AKV_OK;
}

/* Forward: the entries-key helpers below. */
static bool split_key(const MDB_val *k, akv_ns *ns, const char **key,
                      size_t *key_len);

/* Writes one namespace's usage row. */
static int usage_put(struct wtx *t, int scope, const char *sb, size_t sb_len,
                     const struct usage *u)
{
    lmdb_backend *lb = t->lb;
    char kb[1 + AKV_SANDBOX_MAX];
    MDB_val k = {usage_key(kb, scope, sb, sb_len), kb};
    MDB_val v = {sizeof *u, (void *)u};
    int rc = wtx_put(t, lb->usage, &k, &v, 0);
    return rc ? lmdb_fail(lb, rc, "writing usage") : AKV_OK;
}

static size_t ns_prefix(char *buf, const akv_ns *ns);

/* Recomputes one namespace's usage from its records. Needed where a record
 * that does not decode is removed or replaced: damage may have changed its
 * length, so the row may not hold the length it has now, and a delta would
 * leave the row off for good. Rare, hence a full scan of the namespace. */
static int usage_recount(struct wtx *t, int scope, const char *sb,
                         size_t sb_len)
{
    lmdb_backend *lb = t->lb;
    if (t->logged)
        return need_direct(t);
    MDB_txn *txn = t->txn;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lb->entries, &cur);
    if (rc)
        return lmdb_fail(lb, rc, "opening cursor");
    char kb[KEYBUF];
    akv_ns ns = {sb, sb_len, scope};
    size_t plen = ns_prefix(kb, &ns);
    struct usage u = {0, 0};
    MDB_val k = {plen, kb}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, kb, plen) != 0)
            break;
        u.bytes += akv_rec_usage(k.mv_size - plen, v.mv_size);
        u.entries++;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return lmdb_fail(lb, rc, "scanning entries");
    return usage_put(t, scope, sb, sb_len, &u);
}

/* Recomputes every namespace's usage from its records, in one pass over
 * the entries (a namespace's keys are contiguous), replacing the whole
 * usage database. Runs once per store, in the transaction that opens it
 * (usage_upgrade), so that usage counted the format-1 way (value bytes
 * only) is never mixed with usage counted today. */
static int usage_rebuild(lmdb_backend *lb, MDB_txn *txn)
{
    struct wtx t = {.lb = lb, .txn = txn};
    int rc = mdb_drop(txn, lb->usage, 0);
    if (rc)
        return lmdb_fail(lb, rc, "clearing usage");
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, lb->entries, &cur)) != 0)
        return lmdb_fail(lb, rc, "opening cursor");
    akv_ns run = {NULL, 0, -1};
    char run_sb[AKV_SANDBOX_MAX];
    struct usage u = {0, 0};
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        akv_ns got;
        const char *key;
        size_t key_len;
        if (!split_key(&k, &got, &key, &key_len) ||
            got.sandbox_len > AKV_SANDBOX_MAX)
            continue; /* not an entry key: nothing counts it */
        if (run.scope != got.scope || run.sandbox_len != got.sandbox_len ||
            memcmp(run_sb, got.sandbox, got.sandbox_len) != 0) {
            if (run.scope >= 0 &&
                (rc = usage_put(&t, run.scope, run_sb, run.sandbox_len,
                                &u)) != AKV_OK)
                break;
            run.scope = got.scope;
            run.sandbox_len = got.sandbox_len;
            memcpy(run_sb, got.sandbox, got.sandbox_len);
            u.bytes = u.entries = 0;
        }
        u.bytes += akv_rec_usage(key_len, v.mv_size);
        u.entries++;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = run.scope >= 0 ? usage_put(&t, run.scope, run_sb,
                                        run.sandbox_len, &u)
                            : AKV_OK;
    else if (rc > 0)
        rc = lmdb_fail(lb, rc, "scanning entries");
    return rc;
}

/* Brings a format-1 or format-2 store to format 3 inside the opening
 * transaction: a format-1 store's usage is recounted the way it is counted
 * today, then the marker moves, so that every process opening the store
 * after this commit sees exact usage, and versions of agentkv that count
 * the old way or do not read record format 3 refuse the store (their
 * check_format knows only "1", or "1" and "2"). */
static int usage_upgrade(lmdb_backend *lb, MDB_txn *txn, bool mark_3,
                         bool *moved)
{
    *moved = false;
    lb->rec_format = AKV_REC_FORMAT_CRC;
    MDB_dbi meta;
    int rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc)
        return lmdb_fail(lb, rc, "opening store");
    MDB_val k = {6, "format"}, v;
    if ((rc = mdb_get(txn, meta, &k, &v)) != 0)
        return lmdb_fail(lb, rc, "opening store");
    char was = v.mv_size == 1 ? *(const char *)v.mv_data : 0;
    if (was == '3')
        return AKV_OK;
    if (was == '1') {
        akv_log("info", "store in %s: recounting quota usage (value, "
                "metadata and key bytes)", lb->dir);
        if ((rc = usage_rebuild(lb, txn)) != AKV_OK)
            return rc;
    } else if (!mark_3) {
        lb->rec_format = AKV_REC_FORMAT_SHA1;
        return AKV_OK;
    }
    MDB_val nv = {1, "3"};
    rc = mdb_put(txn, meta, &k, &nv, 0);
    if (rc)
        return lmdb_fail(lb, rc, "marking the store upgraded");
    *moved = was == '2';
    return AKV_OK;
}

/* ---- open / close ------------------------------------------------------ */

static const akv_backend_ops lmdb_ops;

/*
 * Refuses a data.mdb shorter than its last commit says it is: LMDB would
 * map it all the same, and the first read of a page past the end of the
 * file is SIGBUS (a copy cut short, a file truncated by hand, a disk that
 * lost writes it had acknowledged). The last page is read from the meta
 * page before the file's size is, so a commit by another process in
 * between can only make the file longer than that page needs.
 */
static int check_length(lmdb_backend *lb, const char *path)
{
    MDB_envinfo info;
    MDB_stat st;
    struct stat fs;
    if (mdb_env_info(lb->env, &info) != 0 || mdb_env_stat(lb->env, &st) != 0)
        return AKV_OK; /* nothing to compare: LMDB reports its own errors */
    if (stat(path, &fs) != 0)
        return akv_fail(AKV_EUNAVAILABLE, "cannot open store %s: %s: %m",
                        lb->dir, path);
    uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    if ((uint64_t)fs.st_size >= need)
        return AKV_OK;
    return akv_fail(AKV_EUNAVAILABLE,
                    "cannot open store %s: data.mdb is %llu bytes, and its "
                    "last commit uses %llu: the file was cut short (a copy "
                    "interrupted, or writes lost by the disk); restore it "
                    "from a backup",
                    lb->dir, (unsigned long long)fs.st_size,
                    (unsigned long long)need);
}

static int check_format(lmdb_backend *lb, MDB_txn *txn)
{
    MDB_dbi meta, main_db;
    int rc = mdb_dbi_open(txn, NULL, 0, &main_db);
    if (rc)
        return lmdb_fail(lb, rc, "opening main database");
    rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == MDB_NOTFOUND) {
        /* A new store, or somebody else's LMDB environment: only an empty
         * main database may become ours. */
        MDB_stat st;
        mdb_stat(txn, main_db, &st);
        if (st.ms_entries != 0)
            return akv_fail(AKV_EUNAVAILABLE,
                            "%s holds an LMDB environment that is not an "
                            "agentkv store",
                            lb->dir);
        if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &meta)) != 0)
            return lmdb_fail(lb, rc, "creating store");
        MDB_val k = {6, "format"}, v = {1, "3"};
        if ((rc = mdb_put(txn, meta, &k, &v, 0)) != 0)
            return lmdb_fail(lb, rc, "creating store");
        return AKV_OK;
    }
    if (rc)
        return lmdb_fail(lb, rc, "opening store");
    MDB_val k = {6, "format"}, v;
    rc = mdb_get(txn, meta, &k, &v);
    if (rc != 0 || v.mv_size != 1 ||
        *(char *)v.mv_data < '1' || *(char *)v.mv_data > '3')
        return akv_fail(AKV_EUNAVAILABLE,
                        "%s holds a store of an unknown format", lb->dir);
    return AKV_OK;
}

/* fsync of directory dir, so that the names just created in it survive a
 * power loss along with the files' contents. */
static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/*
 * Makes DIR/name a file of at least size bytes whose blocks are all
 * allocated, so that stores through a shared mapping of it never need a
 * block (a write fault on a hole of a full filesystem is SIGBUS). A new file
 * is written full of zeros, mode 0600, under a temporary name and linked
 * into place, so no process ever sees it half made; an existing one gets
 * fallocate(2) for its holes and never a write, since other processes may
 * be using it. Returns an open O_RDWR descriptor and sets *created (the
 * file is new, its name not yet fsync'ed into dir), or -1 with errno set.
 */
static int file_alloc(const char *dir, const char *name, off_t size,
                      bool *created)
{
    static atomic_uint seq;
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *created = false;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        snprintf(tmp, sizeof tmp, "%s/.%s.%ld.%u.tmp", dir, name,
                 (long)getpid(), atomic_fetch_add(&seq, 1));
        int t = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (t < 0)
            return -1;
        static const char zeros[4096];
        int err = fchmod(t, 0600) != 0 ? errno : 0;
        for (off_t off = 0; !err && off < size;) {
            size_t n = size - off < (off_t)sizeof zeros ? (size_t)(size - off)
                                                         : sizeof zeros;
            ssize_t w = pwrite(t, zeros, n, off);
            if (w < 0 && errno != EINTR)
                err = errno;
            else if (w > 0)
                off += w;
        }
        if (!err && fsync(t) != 0)
            err = errno;
        if (!err && link(tmp, path) == 0)
            *created = true;
        else if (!err && errno != EEXIST)
            err = errno; /* EEXIST: another process won; use its file */
        unlink(tmp);
        if (err || *created) {
            if (err)
                close(t);
            errno = err;
            return err ? -1 : t;
        }
        close(t);
        fd = open(path, O_RDWR | O_CLOEXEC);
    }
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (st.st_size > size)
        size = st.st_size;
    if ((off_t)st.st_blocks * 512 < size) {
        /* Holes (a file made by ftruncate, as older versions did): allocate
         * them without writing. No fallback to writing zeros here. */
        int rc;
        while ((rc = fallocate(fd, 0, 0, size)) != 0 && errno == EINTR)
            ;
        if (rc != 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
    }
    return fd;
}

/* Maps DIR/counters, or counts in private memory when its blocks cannot
 * all be had (a full disk, a read-only directory): statistics must never
 * cost a crash, and the reason is kept for akv_store_health. */
static void open_counters(lmdb_backend *lb, bool *created)
{
    int fd = file_alloc(lb->dir, "counters", COUNTERS_SIZE, created);
    void *p = MAP_FAILED;
    int err = errno;
    if (fd >= 0) {
        p = mmap(NULL, COUNTERS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                 0);
        err = errno;
        lb->lockfd = fd; /* the store's lock (store_lock) */
    }
    if (p != MAP_FAILED) {
        lb->counters = p;
        return;
    }
    lb->counters = calloc(1, sizeof *lb->counters);
    lb->counters_private = lb->counters != NULL;
    snprintf(lb->counters_note, sizeof lb->counters_note,
             "hit/miss counters are this process's only: cannot allocate "
             "%s/counters: %s",
             lb->dir, strerror(err));
}

/*
 * The store's lock: an open file description lock on the first byte of
 * DIR/counters (LOCK_STORE). Every process that has the store open holds
 * it shared, except one with the write log on (log_on), which holds it
 * exclusively: no other process could see its writes until applied. An
 * open that finds it held exclusively knocks: it holds the second byte
 * (LOCK_KNOCK) shared while it waits. The process with the write log
 * looks for a knock when its door thread hears one (the knocker wakes it
 * through the shared counters) and every LOCK_POLL_MS (log_mode); when it
 * finds one, it applies its log to data.mdb, turns the log off and takes
 * the lock shared, which lets the knocker in. While it writes without the
 * log it tries to take the lock exclusively again, which succeeds once no
 * other process has the store open and none knocks.
 * Open file description locks belong to each open of the file, so two
 * opens in one process exclude each other as two processes do; and they go
 * with the process, so a killed process never leaves the store locked.
 */
enum { LOCK_STORE = 0, LOCK_KNOCK = 1 };
#define LOCK_POLL_MS 50

/* counters is DIR/counters mapped, which other processes share: its knock
 * and refusal words reach them. */
static bool counters_shared(const lmdb_backend *lb)
{
    return lb->counters != NULL && !lb->counters_private;
}

/* Wakes every door sleeping on the knock word (any process's). */
static void knock_wake(lmdb_backend *lb)
{
    syscall(SYS_futex, (uint32_t *)&lb->counters->knocks, FUTEX_WAKE,
            INT_MAX, NULL, NULL, 0);
}

/* The door thread: sleeps on the knock word of the shared counters (a
 * futex any process may wake) and, when it moves, has the committer look
 * for a knock at once rather than at its next poll. */
static void *door_main(void *arg)
{
    lmdb_backend *lb = arg;
    _Atomic uint32_t *w = &lb->counters->knocks;
    uint32_t seen = atomic_load(w);
    while (!atomic_load(&lb->door_stop)) {
        /* Returns at once if the word moved since seen: no knock lost. */
        syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, seen, NULL, NULL, 0);
        uint32_t now = atomic_load(w);
        if (now == seen)
            continue; /* a signal, or a spurious wake-up */
        seen = now;
        pthread_mutex_lock(&lb->group_lock);
        lb->door_rang = true;
        pthread_cond_signal(&lb->group_work);
        pthread_mutex_unlock(&lb->group_lock);
    }
    return NULL;
}

/* fcntl(F_OFD_SETLK) of one byte of the lock: 0, or -1 with errno. */
static int lock_byte(lmdb_backend *lb, int byte, short type)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET,
                       .l_start = byte, .l_len = 1};
    return fcntl(lb->lockfd, F_OFD_SETLK, &fl);
}

/* Another open of the store knocks, waiting for the lock. */
static bool knocked(lmdb_backend *lb)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                       .l_start = LOCK_KNOCK, .l_len = 1};
    return fcntl(lb->lockfd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

/*
 * Takes the store's lock at open: exclusively when *wlog asks for the
 * write log and no other process has the store open (*excl set), else
 * shared, knocking and waiting up to handover_ms for a process with the
 * write log to hand the store over. *wlog is cleared (with the reason in
 * wlog_note) when there is no counters file to lock or its filesystem has
 * no such locks: the store then opens as it did before it had a lock.
 */
static int store_lock(lmdb_backend *lb, bool *wlog, bool *excl)
{
    *excl = false;
    if (lb->lockfd < 0) {
        if (*wlog)
            snprintf(lb->wlog_note, sizeof lb->wlog_note,
                     "write log off: no %.100s/counters to lock", lb->dir);
        *wlog = false;
        return AKV_OK;
    }
    int rc = -1;
    if (*wlog && (rc = lock_byte(lb, LOCK_STORE, F_WRLCK)) == 0) {
        *excl = true;
        return AKV_OK;
    }
    if (rc != 0 && *wlog && errno != EAGAIN && errno != EACCES)
        goto no_locks;
    if (lock_byte(lb, LOCK_KNOCK, F_RDLCK) != 0)
        goto no_locks;
    bool shared = counters_shared(lb), refused = false;
    uint32_t refusals = 0;
    if (shared) {
        refusals = atomic_load(&lb->counters->refusals);
        atomic_fetch_add(&lb->counters->knocks, 1);
        knock_wake(lb);
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long nap_us = 100;
    while ((rc = lock_byte(lb, LOCK_STORE, F_RDLCK)) != 0 &&
           (errno == EAGAIN || errno == EACCES)) {
        if (shared && atomic_load(&lb->counters->refusals) != refusals) {
            refused = true;
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t waited = (now.tv_sec - start.tv_sec) * 1000 +
                         (now.tv_nsec - start.tv_nsec) / 1000000;
        if (waited >= lb->handover_ms)
            break;
        struct timespec nap = {0, nap_us * 1000};
        nanosleep(&nap, NULL);
        if (nap_us < 5000)
            nap_us *= 2;
    }
    int e = errno;
    lock_byte(lb, LOCK_KNOCK, F_UNLCK);
    if (rc == 0)
        return AKV_OK;
    if (e != EAGAIN && e != EACCES)
        goto no_locks;
    if (refused)
        return akv_fail(AKV_EUNAVAILABLE,
                        "store %s is held by a process with store.write_log "
                        "on that cannot hand it over: its write log cannot "
                        "be applied to data.mdb (see its health: agentkv "
                        "serve's /readyz)",
                        lb->dir);
    return akv_fail(AKV_EUNAVAILABLE,
                    "store %s is held by a process with store.write_log on "
                    "that did not hand it over within %lld ms: its write "
                    "log cannot be applied to data.mdb (see its health: "
                    "agentkv serve's /readyz)",
                    lb->dir, (long long)lb->handover_ms);
no_locks:
    /* A filesystem without such locks: the store opens as it did before
     * there was a lock, without the write log. */
    if (*wlog)
        snprintf(lb->wlog_note, sizeof lb->wlog_note,
                 "write log off: cannot lock %.100s/counters: %s", lb->dir,
                 strerror(errno));
    *wlog = false;
    return AKV_OK;
}

/* The write log's two files, in the order a new log fills them. */
static const char *const LOG_FILES[2] = {"data.log", "data2.log"};

/* Opens the write log's files into fd: created with the write log (*made
 * set if one was), else only those there are (to replay); -1 for a file
 * there is none of. On failure none is left open. */
static int log_open(lmdb_backend *lb, bool create, bool *made, int fd[2])
{
    *made = false;
    fd[0] = fd[1] = -1;
    for (int i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", lb->dir, LOG_FILES[i]);
        fd[i] = open(path, O_RDWR | O_CLOEXEC);
        if (fd[i] < 0 && errno == ENOENT && create) {
            fd[i] = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd[i] >= 0) {
                fchmod(fd[i], 0600);
                *made = true;
            }
        }
        if (fd[i] < 0 && (errno != ENOENT || create)) {
            int rc = akv_fail(AKV_EUNAVAILABLE, "%scannot open %s: %m",
                              errno == ENOSPC || errno == EDQUOT ? "disk full: "
                                                                 : "",
                              path);
            if (i == 1 && fd[0] >= 0)
                close(fd[0]);
            fd[0] = fd[1] = -1;
            return rc;
        }
    }
    return AKV_OK;
}

/* Empties the write log's open files: data.mdb holds all they hold. Not
 * synced: records a power loss brings back are ones data.mdb has. */
static int log_empty(lmdb_backend *lb, const int fd[2])
{
    for (int i = 0; i < 2; i++)
        if (fd[i] >= 0 && ftruncate(fd[i], 0) != 0)
            return akv_fail(AKV_EUNAVAILABLE, "cannot empty %s/%s: %m",
                            lb->dir, LOG_FILES[i]);
    return AKV_OK;
}

/* Starts the committer thread, with every signal blocked (the caller's
 * handlers are not the library's thread's to run). group_lock held. */
static int start_committer(lmdb_backend *lb)
{
    sigset_t all, was;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &was);
    int rc = pthread_create(&lb->committer, NULL, committer_main, lb);
    if (rc == 0 && lb->wlog && !lb->applier_started) {
        rc = pthread_create(&lb->applier, NULL, applier_main, lb);
        if (rc == 0) {
            pthread_setname_np(lb->applier, "akv-apply");
            lb->applier_started = true;
        } else {
            lb->committer_stop = true;
            pthread_cond_signal(&lb->group_work);
            pthread_mutex_unlock(&lb->group_lock);
            pthread_join(lb->committer, NULL);
            pthread_mutex_lock(&lb->group_lock);
            lb->committer_stop = false;
        }
    }
    /* Without its door the committer still polls: no failure. */
    if (rc == 0 && lb->wlog && !lb->door_started && counters_shared(lb) &&
        pthread_create(&lb->door, NULL, door_main, lb) == 0) {
        pthread_setname_np(lb->door, "akv-door");
        lb->door_started = true;
    }
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    if (rc != 0)
        return rc;
    pthread_setname_np(lb->committer, "akv-commit");
    lb->committer_started = true;
    return 0;
}

/* Releases what open made of lb, and lb: the end of a failed open and of
 * close (once its threads have stopped and its readers are gone). */
static void backend_free(lmdb_backend *lb)
{
    free(lb->ov.s);
    free(lb->gmap.s);
    akv_wlog_free(&lb->gbuf);
    for (int i = 0; i < 2; i++)
        if (lb->logfd[i] >= 0)
            close(lb->logfd[i]);
    if (lb->counters_private)
        free(lb->counters);
    else if (lb->counters)
        munmap(lb->counters, COUNTERS_SIZE);
    if (lb->env)
        mdb_env_close(lb->env);
    if (lb->lockfd >= 0)
        close(lb->lockfd); /* after LMDB's: the store's lock goes last */
    pthread_rwlock_destroy(&lb->ov_lock);
    pthread_mutex_destroy(&lb->wl_lock);
    pthread_cond_destroy(&lb->wl_cond);
    for (int i = 0; i < THREAD_SHARDS; i++)
        pthread_mutex_destroy(&lb->pool[i].lock);
    pthread_mutex_destroy(&lb->group_lock);
    while (lb->fd_nspare > 0)
        close(lb->fd_spare[--lb->fd_nspare]);
    pthread_mutex_destroy(&lb->fd_lock);
    pthread_mutex_destroy(&lb->health_lock);
    pthread_mutex_destroy(&lb->gen_lock);
    pthread_cond_destroy(&lb->group_done);
    pthread_cond_destroy(&lb->group_work);
    free(lb->dir);
    free(lb);
}

int akv_backend_lmdb_open(const char *dir, const struct akv_config *cfg,
                          unsigned flags, akv_backend **out)
{
    if (dir == NULL || *dir == '\0')
        return akv_fail(AKV_EINVAL, "no store directory given");
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT)
            return akv_fail(AKV_EUNAVAILABLE, "cannot open store %s: %m", dir);
        if (!(flags & AKV_OPEN_CREATE))
            return akv_fail(AKV_EUNAVAILABLE,
                            "no store at %s (nothing has been written there)",
                            dir);
        if (akvx_mkdir_p(dir, 0700) != 0)
            return akv_fail(AKV_EUNAVAILABLE, "%scannot create store %s: %m",
                            errno == ENOSPC || errno == EDQUOT ? "disk full: "
                                                               : "",
                            dir);
    } else if (!S_ISDIR(st.st_mode)) {
        return akv_fail(AKV_EUNAVAILABLE, "cannot open store %s: not a "
                        "directory", dir);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    bool had_data = access(path, F_OK) == 0;
    if (!(flags & AKV_OPEN_CREATE) && !had_data)
        return akv_fail(AKV_EUNAVAILABLE,
                        "no store at %s (nothing has been written there)",
                        dir);

    /* Aligned as its shards ask (struct reader_shard): a lock on the line
     * of the fields every read loads (base, env) would pass that line
     * between the cores at every read. */
    size_t lb_size = (sizeof(lmdb_backend) + 63) & ~(size_t)63;
    lmdb_backend *lb = aligned_alloc(_Alignof(lmdb_backend), lb_size);
    if (lb)
        memset(lb, 0, lb_size);
    if (lb == NULL || (lb->dir = strdup(dir)) == NULL) {
        free(lb);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    lb->base.ops = &lmdb_ops;
    lb->map_size = cfg->map_size;
    for (int i = 0; i < THREAD_SHARDS; i++)
        pthread_mutex_init(&lb->pool[i].lock, NULL);
    pthread_mutex_init(&lb->group_lock, NULL);
    pthread_mutex_init(&lb->fd_lock, NULL);
    pthread_mutex_init(&lb->health_lock, NULL);
    pthread_cond_init(&lb->group_done, NULL);
    lb->queue_tail = &lb->queue;
    lb->lockfd = lb->logfd[0] = lb->logfd[1] = -1;
    pthread_rwlockattr_t rwa;
    pthread_rwlockattr_init(&rwa);
    /* The committer and the applier must not wait behind a stream of gets. */
    pthread_rwlockattr_setkind_np(&rwa,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lb->ov_lock, &rwa);
    pthread_rwlockattr_destroy(&rwa);
    pthread_mutex_init(&lb->wl_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* due_in */
    pthread_cond_init(&lb->wl_cond, &ca);
    pthread_cond_init(&lb->group_work, &ca); /* committer_main */
    pthread_condattr_destroy(&ca);
    lb->applyq_tail = &lb->applyq;
    lb->handover_ms = cfg->handover_ms;
    lb->log_size = cfg->write_log_size;
    pthread_mutex_init(&lb->gen_lock, NULL);
    bool wlog = cfg->write_log > 0, made_log = false, excl;
    int logfd[2] = {-1, -1};

    /* LMDB makes lock.mdb with ftruncate and writes its header and reader
     * slots through a shared mapping: on a full disk that is SIGBUS inside
     * mdb_env_open or a later read. Make the file ourselves, blocks and
     * all, before LMDB opens it (never after: closing any descriptor of
     * lock.mdb drops this process's fcntl locks on it, and another process
     * would then reinitialise the reader table under us). A file that
     * exists with all its blocks is not even opened. */
    bool made_lock = false, made_counters = false;
    int rc;
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    bool had_lock = stat(path, &st) == 0;
    if (!had_lock || (off_t)st.st_blocks * 512 < st.st_size) {
        int lfd = file_alloc(dir, "lock.mdb", LOCK_SIZE, &made_lock);
        if (lfd >= 0) {
            close(lfd);
        } else if (!had_lock && (errno == ENOSPC || errno == EDQUOT)) {
            rc = akv_fail(AKV_EUNAVAILABLE,
                          "disk full: cannot create %s/lock.mdb: %m", dir);
            goto fail;
        } else if (had_lock) {
            /* A lock file with holes (made by an older version) on a full
             * disk: LMDB wrote its first page, which holds the first 61
             * reader slots; refusing to open would stop the reads too. */
            snprintf(lb->lock_note, sizeof lb->lock_note,
                     "%.120s has unallocated pages (%s): keep concurrent "
                     "reads under 61 until space is freed and the store "
                     "reopened",
                     path, strerror(errno));
        }
    }
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    open_counters(lb, &made_counters);
    if ((rc = store_lock(lb, &wlog, &excl)) != AKV_OK)
        goto fail;

    rc = mdb_env_create(&lb->env);
    if (rc) {
        rc = lmdb_fail(lb, rc, "creating LMDB environment");
        goto fail;
    }
    mdb_env_set_maxdbs(lb->env, 4);
    mdb_env_set_maxreaders(lb->env, MAX_READERS);
    mdb_env_set_mapsize(lb->env, (size_t)cfg->map_size);
    rc = mdb_env_open(lb->env, dir, MDB_NOTLS, 0600);
    if (rc) {
        if (rc == ENOSPC || rc == EDQUOT)
            rc = akv_fail(AKV_EUNAVAILABLE, "disk full: cannot create "
                          "store %s: %s", dir, mdb_strerror(rc));
        else
            rc = akv_fail(AKV_EUNAVAILABLE, "cannot open store %s: %s", dir,
                          rc == MDB_INVALID ? "data.mdb is not an LMDB file "
                                              "(corrupt or foreign)"
                                            : mdb_strerror(rc));
        goto fail;
    }
    /* mdb_env_open created data.mdb with 0600 less the umask: make it
     * exactly 0600 (a umask like 0277 would leave it unwritable). */
    if (!had_data)
        chmod(path, 0600);
    if ((rc = check_length(lb, path)) != AKV_OK)
        goto fail;
    /* Readers left behind by processes that died (kill -9) hold slots and
     * pin old pages; clear them. */
    int dead = 0;
    mdb_reader_check(lb->env, &dead);

    if ((rc = log_open(lb, wlog, &made_log, logfd)) != AKV_OK)
        goto fail;
    MDB_txn *txn;
    bool mark_3 = true, moved;
    uint64_t at = 0;
again:
    if ((rc = mdb_txn_begin(lb->env, NULL, 0, &txn)) != 0) {
        rc = akv_fail(AKV_EUNAVAILABLE, "cannot open store %s: %s", dir,
                      mdb_strerror(rc));
        goto fail;
    }
    if ((rc = check_format(lb, txn)) != AKV_OK ||
        (rc = mdb_dbi_open(txn, "entries", MDB_CREATE, &lb->entries)) != 0 ||
        (rc = mdb_dbi_open(txn, "usage", MDB_CREATE, &lb->usage)) != 0 ||
        (rc = usage_upgrade(lb, txn, mark_3, &moved)) != AKV_OK ||
        (rc = mdb_dbi_open(txn, "meta", 0, &lb->meta)) != 0 ||
        (rc = log_replay(lb, txn, logfd, &at)) != AKV_OK) {
        if (rc > 0)
            rc = akv_fail(AKV_EUNAVAILABLE, "cannot open store %s: %s", dir,
                          mdb_strerror(rc));
        mdb_txn_abort(txn);
        goto fail;
    }
    /* A failed commit has freed txn already. On a full disk a store marked
     * "2" opens all the same, without its marker moved: it is read as
     * before, written in format 2, and marked by an open with space. */
    rc = mdb_txn_commit(txn);
    if ((rc == ENOSPC || rc == EDQUOT) && moved) {
        akv_log("warning", "store in %s: disk full, left marked \"2\" "
                "(records are written in format 2 until it is opened with "
                "space)", dir);
        mark_3 = false;
        goto again;
    }
    if (rc) {
        rc = lmdb_fail(lb, rc, "creating store");
        goto fail;
    }
    /* data.mdb holds all of the log now, durably: start it afresh. Only
     * a process with the store's lock exclusively writes it, and it
     * applied all it wrote before it let this one in. A failure leaves
     * records that the next open skips. */
    if (log_empty(lb, logfd) != AKV_OK) {
        akv_log("warning", "store in %s: %s", dir,
                akv_last_error()->message);
        akv_error_clear();
    }
    lb->log_base = lb->log_end = lb->other_end = lb->applied = at;
    if (!had_data || made_lock || made_counters || made_log)
        fsync_dir(dir); /* the new names, durable with the files */
    if (wlog) {
        MDB_envinfo info;
        mdb_env_info(lb->env, &info);
        lb->gen_base = (uint64_t)info.me_last_txnid;
        lb->wlog = true;
        atomic_init(&lb->log_on, excl); /* else log_mode turns it on */
        for (int i = 0; i < 2; i++) {
            lb->logfd[i] = logfd[i];
            logfd[i] = -1;
        }
        pthread_mutex_lock(&lb->group_lock);
        rc = start_committer(lb);
        pthread_mutex_unlock(&lb->group_lock);
        if (rc != 0) {
            rc = akv_fail(AKV_EUNAVAILABLE, "store %s: cannot start the "
                          "write log's threads: %s", dir, strerror(rc));
            lb->wlog = false;
            goto fail;
        }
    }
    for (int i = 0; i < 2; i++)
        if (logfd[i] >= 0)
            close(logfd[i]);
    *out = &lb->base;
    return AKV_OK;
fail:
    for (int i = 0; i < 2; i++)
        if (logfd[i] >= 0)
            close(logfd[i]);
    backend_free(lb);
    return rc;
}

static void lmdb_close(akv_backend *be)
{
    lmdb_backend *lb = (lmdb_backend *)be;
    if (lb->door_started) {
        /* Moving the word wakes every process's door; theirs find no
         * knock and sleep again. */
        atomic_store(&lb->door_stop, true);
        atomic_fetch_add(&lb->counters->knocks, 1);
        knock_wake(lb);
        pthread_join(lb->door, NULL);
    }
    if (lb->committer_started) {
        /* Every flight was received, so nothing is queued for it. */
        pthread_mutex_lock(&lb->group_lock);
        lb->committer_stop = true;
        pthread_cond_signal(&lb->group_work);
        pthread_mutex_unlock(&lb->group_lock);
        pthread_join(lb->committer, NULL);
    }
    if (lb->applier_started) {
        /* It applies what is left first; what it cannot stays in the log
         * for the next open to replay. */
        pthread_mutex_lock(&lb->wl_lock);
        lb->apply_stop = true;
        pthread_cond_broadcast(&lb->wl_cond);
        pthread_mutex_unlock(&lb->wl_lock);
        pthread_join(lb->applier, NULL);
        /* data.mdb holds it all: leave the log's files empty. */
        if (lb->applied == lb->log_end && log_empty(lb, lb->logfd) != AKV_OK)
            akv_error_clear();
    }
    while (lb->applyq) {
        struct wgroup *g = lb->applyq;
        lb->applyq = g->next;
        group_unref(g);
    }
    for (int i = 0; i < THREAD_SHARDS; i++) {
        struct reader *r = lb->pool[i].head;
        while (r) {
            struct reader *next = r->next;
            mdb_txn_abort(r->txn);
            free(r);
            r = next;
        }
    }
    /* Every read snapshot handed out (akv_get's value handles, scans) has
     * been given back: closing under one would unmap what it points into.
     * And no write is queued or being led. */
#ifndef NDEBUG
    assert(atomic_load(&lb->holds) == 0);
#endif
    assert(lb->queue == NULL && !lb->leading);
    backend_free(lb);
}

/* ---- reads ------------------------------------------------------------- */

static struct reader *shard_pop(struct reader_shard *sh)
{
    pthread_mutex_lock(&sh->lock);
    struct reader *r = sh->head;
    if (r)
        sh->head = r->next;
    pthread_mutex_unlock(&sh->lock);
    return r;
}

static int reader_take(lmdb_backend *lb, struct reader **out)
{
    unsigned me = thread_shard();
    struct reader *r = NULL;
    for (unsigned i = 0; i < THREAD_SHARDS && r == NULL; i++)
        r = shard_pop(&lb->pool[(me + i) % THREAD_SHARDS]);
    int rc;
    if (r) {
        rc = mdb_txn_renew(r->txn);
        if (rc) {
            mdb_txn_abort(r->txn);
            free(r);
            return lmdb_fail(lb, rc, "starting read");
        }
    } else {
        r = malloc(sizeof *r);
        if (r == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        r->g = NULL;
        rc = mdb_txn_begin(lb->env, NULL, MDB_RDONLY, &r->txn);
        if (rc) {
            free(r);
            return lmdb_fail(lb, rc, "starting read");
        }
    }
#ifndef NDEBUG
    atomic_fetch_add_explicit(&lb->holds, 1, memory_order_relaxed);
#endif
    *out = r;
    return AKV_OK;
}

static void reader_give(lmdb_backend *lb, struct reader *r)
{
    /* Every give pairs with one take: never more gives than takes. */
#ifndef NDEBUG
    long before = atomic_fetch_sub_explicit(&lb->holds, 1,
                                            memory_order_relaxed);
    assert(before > 0);
#endif
    if (r->g) {
        group_unref(r->g);
        r->g = NULL;
    }
    mdb_txn_reset(r->txn);
    struct reader_shard *sh = &lb->pool[thread_shard()];
    pthread_mutex_lock(&sh->lock);
    r->next = sh->head;
    sh->head = r;
    pthread_mutex_unlock(&sh->lock);
}

/* Under the write log: the latest logged change of the entry k that
 * data.mdb may not hold yet, with a reference to its record in r->g; 0,
 * MDB_NOTFOUND (deleted), or OV_NONE (none: r's snapshot, taken under the
 * same lock, has the entry as it is). */
#define OV_NONE 1 /* neither 0 nor any of LMDB's codes, which are negative */
static int overlay_get(lmdb_backend *lb, struct reader **r, const MDB_val *k,
                       MDB_val *v, int *rc)
{
    pthread_rwlock_rdlock(&lb->ov_lock);
    *rc = reader_take(lb, r);
    int found = OV_NONE;
    struct ov_slot *sl =
        *rc ? NULL
            : ov_find(&lb->ov,
                      ov_hash(AKV_WLOG_ENTRIES, k->mv_data, k->mv_size),
                      AKV_WLOG_ENTRIES, k->mv_data, k->mv_size, NULL);
    if (sl) {
        akv_wlog_change c;
        akv_wlog_at(sl->g->rec.data, sl->off, &c);
        found = c.op == AKV_WLOG_DEL ? MDB_NOTFOUND : 0;
        if (found == 0) {
            atomic_fetch_add_explicit(&sl->g->refs, 1, memory_order_relaxed);
            (*r)->g = sl->g;
            v->mv_data = (void *)c.val;
            v->mv_size = c.val_len;
        }
    }
    pthread_rwlock_unlock(&lb->ov_lock);
    return found;
}

static int lmdb_get(akv_backend *be, const akv_ns *ns, const char *key,
                    size_t key_len, akv_rec *rec, void **hold)
{
    lmdb_backend *lb = (lmdb_backend *)be;
    struct reader *r;
    char kb[KEYBUF];
    MDB_val k = {entry_key(kb, ns->scope, ns->sandbox, ns->sandbox_len, key,
                           key_len),
                 kb},
            v;
    int rc, found = OV_NONE;
    if (lb->wlog &&
        atomic_load_explicit(&lb->ov_live, memory_order_acquire) != 0)
        found = overlay_get(lb, &r, &k, &v, &rc);
    else
        rc = reader_take(lb, &r);
    if (rc)
        return rc;
    rc = found != OV_NONE ? found : mdb_get(r->txn, lb->entries, &k, &v);
    if (rc == 0)
        rc = akv_rec_decode(v.mv_data, v.mv_size, rec);
    else if (rc == MDB_NOTFOUND)
        rc = AKV_ENOTFOUND;
    else
        rc = lmdb_fail(lb, rc, "reading entry");
    if (rc != AKV_OK) {
        reader_give(lb, r);
        return rc;
    }
    *hold = r;
    return AKV_OK;
}

static void lmdb_release(akv_backend *be, void *hold)
{
    reader_give((lmdb_backend *)be, hold);
}

/* ---- writes ------------------------------------------------------------ */

/* The fixed leading bytes of every entries key in ns: scope digit and, if
 * the sandbox is fixed, sandbox and NUL. Empty for every scope. */
static size_t ns_prefix(char *buf, const akv_ns *ns)
{
    if (ns->scope == AKV_SCOPE_ALL)
        return 0;
    if (ns->sandbox == NULL) {
        buf[0] = (char)('0' + ns->scope);
        return 1;
    }
    return entry_key(buf, ns->scope, ns->sandbox, ns->sandbox_len, NULL, 0);
}

/* Splits an entries key into namespace and key; false if malformed. */
static bool split_key(const MDB_val *k, akv_ns *ns, const char **key,
                      size_t *key_len)
{
    const char *kp = k->mv_data;
    if (k->mv_size < 2)
        return false;
    const char *nul = memchr(kp + 1, '\0', k->mv_size - 1);
    int scope = kp[0] - '0';
    if (nul == NULL || scope < 0 || scope >= AKV_SCOPE_COUNT)
        return false;
    ns->sandbox = kp + 1;
    ns->sandbox_len = (size_t)(nul - kp - 1);
    ns->scope = scope;
    *key = nul + 1;
    *key_len = k->mv_size - (size_t)(*key - kp);
    return true;
}

static bool ns_matches(const akv_ns *want, const akv_ns *got)
{
    return want->sandbox == NULL ||
           (got->sandbox_len == want->sandbox_len &&
            memcmp(got->sandbox, want->sandbox, got->sandbox_len) == 0);
}

/* Usage change of one namespace, gathered while a cursor walks the entries
 * and applied after it, so that no other database is written mid-walk. */
struct usage_delta {
    int scope;
    size_t sb_len;
    char sb[AKV_SANDBOX_MAX];
    int64_t bytes, entries;
    bool recount; /* a removed record did not decode: recount instead */
};

/* Removes records of ns; see the remove op in backend.h. */
static int remove_in_txn(struct wtx *t, const akv_ns *ns, bool expired_only,
                         int64_t now, uint64_t counts[AKV_SCOPE_COUNT],
                         uint64_t *live_removed)
{
    lmdb_backend *lb = t->lb;
    if (t->logged)
        return need_direct(t);
    MDB_txn *txn = t->txn;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lb->entries, &cur);
    if (rc)
        return lmdb_fail(lb, rc, "opening cursor");
    struct usage_delta *deltas = NULL;
    size_t ndeltas = 0, cap = 0;
    char kb[KEYBUF];
    size_t plen = ns_prefix(kb, ns);
    MDB_val k = {plen, kb}, v;
    rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, kb, plen) != 0)
            break;
        akv_ns got;
        const char *key;
        size_t key_len;
        if (!split_key(&k, &got, &key, &key_len) || !ns_matches(ns, &got))
            continue;
        akv_rec rec;
        bool decoded = akv_rec_decode(v.mv_data, v.mv_size, &rec) == AKV_OK;
        bool expired = decoded && akv_rec_expired(&rec, now);
        if (expired_only && !expired)
            continue;
        uint64_t bytes = akv_rec_usage(key_len, v.mv_size);
        struct usage_delta *d = ndeltas ? &deltas[ndeltas - 1] : NULL;
        if (d == NULL || d->scope != got.scope || d->sb_len != got.sandbox_len ||
            memcmp(d->sb, got.sandbox, got.sandbox_len) != 0) {
            if (ndeltas == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                void *p = realloc(deltas, ncap * sizeof *deltas);
                if (p == NULL) {
                    rc = akv_fail(AKV_ENOMEM, "out of memory");
                    break;
                }
                deltas = p;
                cap = ncap;
            }
            d = &deltas[ndeltas++];
            d->scope = got.scope;
            d->sb_len = got.sandbox_len;
            memcpy(d->sb, got.sandbox, got.sandbox_len);
            d->bytes = d->entries = 0;
            d->recount = false;
        }
        if ((rc = mdb_cursor_del(cur, 0)) != 0) {
            rc = lmdb_fail(lb, rc, "removing entry");
            break;
        }
        d->bytes -= (int64_t)bytes;
        d->entries--;
        d->recount |= !decoded;
        if (counts)
            counts[got.scope]++;
        if (live_removed && !expired)
            (*live_removed)++;
        /* After mdb_cursor_del, MDB_NEXT yields the record that followed. */
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND || rc == 0) {
        rc = AKV_OK;
        for (size_t i = 0; i < ndeltas && rc == AKV_OK; i++)
            rc = deltas[i].recount
                     ? usage_recount(t, deltas[i].scope, deltas[i].sb,
                                     deltas[i].sb_len)
                     : usage_add(t, deltas[i].scope, deltas[i].sb,
                                 deltas[i].sb_len, deltas[i].bytes,
                                 deltas[i].entries);
    } else if (rc > 0 || rc <= MDB_LAST_ERRCODE) {
        /* The cursor's own failure: an errno or MDB_* code, never AKV's. */
        rc = lmdb_fail(lb, rc, "scanning entries");
    }
    free(deltas);
    return rc;
}

/* Sums the stored bytes (akv_rec_usage) of ns's records that have expired
 * at now. */
static int expired_bytes(struct wtx *t, const akv_ns *ns, int64_t now,
                         uint64_t *out)
{
    lmdb_backend *lb = t->lb;
    if (t->logged)
        return need_direct(t);
    MDB_txn *txn = t->txn;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, lb->entries, &cur);
    if (rc)
        return lmdb_fail(lb, rc, "opening cursor");
    char kb[KEYBUF];
    size_t plen = ns_prefix(kb, ns);
    MDB_val k = {plen, kb}, v;
    *out = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, kb, plen) != 0)
            break;
        akv_rec rec;
        if (akv_rec_decode(v.mv_data, v.mv_size, &rec) == AKV_OK &&
            akv_rec_expired(&rec, now))
            *out += akv_rec_usage(k.mv_size - plen, v.mv_size);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? AKV_OK
                                         : lmdb_fail(lb, rc, "scanning entries");
}

/* Writes one record inside txn; the shared body of put and write_batch.
 *
 * Quota arithmetic, all in stored bytes (akv_rec_usage: key plus encoded
 * record): used is the namespace's usage row, which counts every record,
 * expired and damaged ones included; the write replaces old_bytes (0 when
 * the key is new) with new_bytes. A write that does not grow the
 * namespace, or stays within the quota even counting expired records, is
 * let through at once. Otherwise expired records are set aside (they do
 * not count against the writer): live = used - expired, and the write
 * would make live - replaced + new_bytes, where replaced is the old
 * record's size if it is counted in live (it has not expired; a damaged
 * one has no expiry to read and counts as live). */
static int put_in_txn(struct wtx *t, const akv_write *w, akv_rec *out,
                      int *created)
{
    lmdb_backend *lb = t->lb;
    char kb[KEYBUF];
    MDB_val k = {entry_key(kb, w->ns.scope, w->ns.sandbox, w->ns.sandbox_len,
                           w->key, w->key_len),
                 kb},
            v;
    akv_rec old;
    bool exists, old_live, old_expired;
    uint64_t old_bytes;
    int rc;
again:
    rc = wtx_get(t, lb->entries, &k, &v);
    if (rc == 0) {
        exists = true;
        old_bytes = akv_rec_usage(w->key_len, v.mv_size);
        if (akv_rec_decode(v.mv_data, v.mv_size, &old) == AKV_OK) {
            old_expired = akv_rec_expired(&old, w->now);
            old_live = !old_expired;
        } else {
            /* A record that no longer decodes is replaced like an absent
             * one (version 1, no precondition can match it). Damage may
             * have changed its length: recount the namespace first, so
             * that the row counts the record as it is now. */
            old_expired = old_live = false;
            if ((rc = usage_recount(t, w->ns.scope, w->ns.sandbox,
                                    w->ns.sandbox_len)) != AKV_OK)
                return rc;
        }
    } else if (rc != MDB_NOTFOUND) {
        return lmdb_fail(lb, rc, "reading entry");
    } else {
        exists = old_live = old_expired = false;
        old_bytes = 0;
    }
    akv_error_clear();
    if (!w->restore) {
        if (w->create_only && old_live)
            return akv_fail(AKV_EPRECONDITION,
                            "key already exists (create-only write)");
        if (w->if_match &&
            (!old_live || memcmp(old.sha256, w->if_match, 32) != 0))
            return akv_fail(AKV_EPRECONDITION,
                            old_live ? "current SHA-256 does not match "
                                       "If-Match"
                                     : "no current entry to match If-Match");
    }
    akv_rec rec = w->rec;
    if (!w->restore) {
        rec.version = old_live ? old.version + 1 : 1;
        rec.created_at = old_live ? old.created_at : w->now;
        rec.updated_at = w->now;
        rec.expires_at = w->ttl_ms > 0 ? w->now + w->ttl_ms : 0;
    }
    size_t size = akv_rec_encoded_size(&rec);
    uint64_t new_bytes = akv_rec_usage(w->key_len, size);
    struct usage u;
    if ((rc = usage_get(t, w->ns.scope, w->ns.sandbox,
                        w->ns.sandbox_len, &u)) != AKV_OK)
        return rc;
    /* The usage row counts the record being replaced. */
    assert(old_bytes <= u.bytes);
    uint64_t used_after = u.bytes - (old_bytes > u.bytes ? u.bytes : old_bytes) +
                          new_bytes;
    if (new_bytes > old_bytes && used_after > w->quota) {
        /* Collect this namespace's expired records only if that makes
         * room: a refused write must leave the store as it was, expired
         * entries included. */
        uint64_t expired = 0;
        if ((rc = expired_bytes(t, &w->ns, w->now, &expired)) != AKV_OK)
            return rc;
        uint64_t live = u.bytes > expired ? u.bytes - expired : 0;
        uint64_t replaced = exists && !old_expired && old_bytes <= live
                                ? old_bytes
                                : 0;
        uint64_t would_be = live - replaced + new_bytes;
        if (expired > 0 && would_be <= w->quota) {
            if ((rc = remove_in_txn(t, &w->ns, true, w->now, NULL,
                                    NULL)) != AKV_OK)
                return rc;
            goto again; /* now nothing in ns has expired */
        }
        return akv_fail_quota(
            w->ns.scope, live, w->quota, would_be,
            "%s quota of sandbox %.*s: %llu bytes used, quota %llu, this "
            "write would make %llu (stored bytes count value, metadata and "
            "key)",
            akv_scope_name(w->ns.scope), (int)w->ns.sandbox_len,
            w->ns.sandbox, (unsigned long long)live,
            (unsigned long long)w->quota, (unsigned long long)would_be);
    }

    MDB_val nv = {size, NULL};
    rc = wtx_put(t, lb->entries, &k, &nv, MDB_RESERVE);
    if (rc)
        return lmdb_fail(lb, rc, "writing entry");
    akv_rec_encode(&rec, lb->rec_format, nv.mv_data);
    rc = usage_add(t, w->ns.scope, w->ns.sandbox, w->ns.sandbox_len,
                   (int64_t)new_bytes - (int64_t)old_bytes, exists ? 0 : 1);
    if (rc)
        return rc;
    if (out) {
        *out = rec;
        out->stored_len = size;
    }
    if (created)
        *created = !old_live;
    return AKV_OK;
}

static int run_op(struct wtx *t, struct pending *p)
{
    return p->op ? p->op(t, p->arg) : put_in_txn(t, p->w, p->out, p->created);
}

/* ---- the write log ------------------------------------------------------ */

/*
 * The write log (store.write_log): the committer decides each group of
 * writes in its view (struct wtx), writes the group's changes to the log
 * (DIR/data.log or DIR/data2.log) as one record (wlog.c), syncs it and
 * only then answers: an acknowledged write is in the log. The record
 * joins the overlay, where every get of this process finds it, and the
 * applier's queue; the applier replays what is queued into data.mdb in
 * one synchronous commit every APPLY_MS (sooner when much is queued or a
 * reader needs it all), storing in the same commit the log number it
 * reached, then drops the records from the overlay. The log's two files
 * are written in turn, each started over once data.mdb holds all it had
 * (log_place). A disk then takes one large commit where it took one
 * commit per group (docs/performance.md, "Store writes").
 *
 * Only gets read the overlay. Scans, usage, namespaces and backups first
 * wait until data.mdb holds everything logged (wlog_drain). Another
 * process cannot see the overlay, so writes go to the log only while this
 * process has the store alone, holding the store's lock exclusively; when
 * another open knocks, the committer applies the log and goes on without
 * it until the store is its own again (store_lock, log_mode). Opening a
 * store replays into data.mdb the records it does not hold yet (a process
 * killed or a machine stopped before its applier caught up).
 */
#define APPLY_MS 500
#define APPLY_BYTES (4u << 20)  /* queued: apply now */
#define APPLY_MAX (8u << 20)    /* of records in one commit */
#define LOG_MAX (128u << 20)    /* queued: new writes wait for the applier */

static void group_unref(struct wgroup *g)
{
    if (atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) == 1) {
        akv_wlog_free(&g->rec);
        free(g);
    }
}

/* Applies the changes of rec (checked) to txn. */
static int replay_record(lmdb_backend *lb, MDB_txn *txn,
                         const unsigned char *rec, size_t len)
{
    size_t off = AKV_WLOG_HEADER;
    akv_wlog_change c;
    while (akv_wlog_next(rec, len, &off, &c)) {
        MDB_dbi dbi = c.db == AKV_WLOG_ENTRIES ? lb->entries : lb->usage;
        MDB_val k = {c.key_len, (void *)c.key};
        int rc;
        if (c.op == AKV_WLOG_PUT) {
            MDB_val v = {c.val_len, (void *)c.val};
            rc = mdb_put(txn, dbi, &k, &v, 0);
        } else {
            rc = mdb_del(txn, dbi, &k, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        }
        if (rc)
            return lmdb_fail(lb, rc, "applying the write log");
    }
    return AKV_OK;
}

/* The log number data.mdb holds the log up to (meta "log"), as txn sees
 * it; 0 when never written. */
static int applied_get(lmdb_backend *lb, MDB_txn *txn, uint64_t *out)
{
    MDB_val k = {3, "log"}, v;
    int rc = mdb_get(txn, lb->meta, &k, &v);
    *out = 0;
    if (rc == MDB_NOTFOUND)
        return AKV_OK;
    if (rc)
        return lmdb_fail(lb, rc, "reading the write log's position");
    if (v.mv_size != 8)
        return akv_fail(AKV_EINTEGRITY, "store %s: the write log's position "
                        "is damaged", lb->dir);
    *out = akv_get_le64(v.mv_data);
    return AKV_OK;
}

static int applied_put(lmdb_backend *lb, MDB_txn *txn, uint64_t at)
{
    unsigned char b[8];
    akv_put_le64(b, at);
    MDB_val k = {3, "log"}, v = {8, b};
    int rc = mdb_put(txn, lb->meta, &k, &v, 0);
    return rc ? lmdb_fail(lb, rc, "writing the write log's position") : AKV_OK;
}

/* The records of one of the log's files: from its first byte, each
 * whole, intact record numbered where the one before ended (len bytes of
 * buf, numbered first to end). A file ends at its first record that does
 * not check (a write cut short) or that does not follow the one before
 * (left from before the file was started over). */
struct log_run {
    unsigned char *buf;
    size_t len;
    uint64_t first, end;
};

static int log_run_read(lmdb_backend *lb, int fd, const char *name,
                        struct log_run *run)
{
    *run = (struct log_run){0};
    struct stat st;
    if (fd < 0)
        return AKV_OK;
    if (fstat(fd, &st) != 0)
        return akv_fail(AKV_EUNAVAILABLE, "reading %s/%s: %m", lb->dir, name);
    if (st.st_size == 0)
        return AKV_OK;
    size_t have = 0, size = (size_t)st.st_size;
    if ((run->buf = malloc(size)) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory reading %s/%s", lb->dir,
                        name);
    while (have < size) {
        ssize_t n = pread(fd, run->buf + have, size - have, (off_t)have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    while (run->len < have) {
        uint64_t lsn;
        size_t len;
        if (akv_wlog_check(run->buf + run->len, have - run->len, &lsn,
                           &len) != AKV_OK ||
            (run->len > 0 && lsn != run->end)) {
            akv_error_clear(); /* the end of the file's records */
            break;
        }
        if (run->len == 0)
            run->first = lsn;
        run->end = lsn + len;
        run->len += len;
    }
    return AKV_OK;
}

/* Replays into txn the records of the log's files (fd, -1 for one there is
 * none of) that data.mdb does not hold, and stores how far it now does in
 * *at. Each file's records follow on from one another; taken in the order
 * of their numbers, the two files' records must go on from data.mdb's
 * position without a gap. Records numbered below it are ones data.mdb
 * holds (a file is only ever started over once data.mdb holds all it
 * had). */
static int log_replay(lmdb_backend *lb, MDB_txn *txn, const int fd[2],
                      uint64_t *at)
{
    int rc = applied_get(lb, txn, at);
    if (rc != AKV_OK || (fd[0] < 0 && fd[1] < 0))
        return rc;
    struct log_run run[2];
    if ((rc = log_run_read(lb, fd[0], LOG_FILES[0], &run[0])) != AKV_OK)
        return rc;
    if ((rc = log_run_read(lb, fd[1], LOG_FILES[1], &run[1])) != AKV_OK) {
        free(run[0].buf);
        return rc;
    }
    uint64_t applied = *at;
    size_t replayed = 0;
    bool swap = run[1].len > 0 && (run[0].len == 0 ||
                                   run[1].first < run[0].first);
    for (int i = 0; i < 2 && rc == AKV_OK; i++) {
        const struct log_run *r = &run[i ^ swap];
        const char *name = LOG_FILES[i ^ swap];
        for (size_t off = 0; off < r->len && rc == AKV_OK;) {
            const unsigned char *p = r->buf + off;
            uint64_t lsn = akv_get_le64(p + 8), len = akv_get_le64(p + 16);
            if (lsn + len > *at) {
                if (lsn != *at) {
                    rc = akv_fail(AKV_EINTEGRITY,
                                  "store %s: %s goes on from %llu where "
                                  "data.mdb holds the write log up to "
                                  "%llu: writes are missing",
                                  lb->dir, name, (unsigned long long)lsn,
                                  (unsigned long long)*at);
                    break;
                }
                rc = replay_record(lb, txn, p, (size_t)len);
                *at = lsn + len;
                replayed++;
            }
            off += (size_t)len;
        }
    }
    free(run[0].buf);
    free(run[1].buf);
    if (rc == AKV_OK && *at != applied) {
        rc = applied_put(lb, txn, *at);
        akv_log("info", "store in %s: %zu records of the write log put into "
                "data.mdb", lb->dir, replayed);
    }
    return rc;
}

/* Applies the records of list (in log order, ending at end) in one
 * synchronous commit. */
static int apply_list(lmdb_backend *lb, struct wgroup *list, uint64_t end)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(lb->env, NULL, 0, &txn);
    if (rc)
        return lmdb_fail(lb, rc, "starting to apply the write log");
    for (struct wgroup *g = list; g && rc == AKV_OK; g = g->next)
        rc = replay_record(lb, txn, g->rec.data, g->rec.len);
    if (rc == AKV_OK)
        rc = applied_put(lb, txn, end);
    if (rc != AKV_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    return txn_commit(lb, txn, "applying the write log");
}

/* ms from now, on the clock of wl_cond and group_work. */
static struct timespec due_in(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* The applier thread; see "The write log" above. */
static void *applier_main(void *arg)
{
    lmdb_backend *lb = arg;
    pthread_mutex_lock(&lb->wl_lock);
    for (;;) {
        /* Wait for a record, then until it is due (or needed sooner). */
        while (lb->applyq == NULL && !lb->apply_stop)
            pthread_cond_wait(&lb->wl_cond, &lb->wl_lock);
        if (lb->applyq == NULL)
            break; /* stopping, and nothing left */
        struct timespec due = due_in(APPLY_MS);
        while (!lb->apply_stop && lb->drainers == 0 &&
               lb->log_end - lb->applied < APPLY_BYTES &&
               pthread_cond_timedwait(&lb->wl_cond, &lb->wl_lock, &due) !=
                   ETIMEDOUT)
            ;
        /* At most APPLY_MAX of records in one commit (the first always):
         * LMDB keeps the pages of its largest commit for reuse, so that
         * bounds the memory a backlog costs; the rest goes next turn. */
        struct wgroup *list = lb->applyq, *last = list;
        size_t bytes = last->rec.len;
        while (last->next && bytes + last->next->rec.len <= APPLY_MAX) {
            last = last->next;
            bytes += last->rec.len;
        }
        uint64_t end = last->lsn + last->rec.len;
        lb->applyq = last->next;
        if (lb->applyq == NULL)
            lb->applyq_tail = &lb->applyq;
        last->next = NULL;
        pthread_mutex_unlock(&lb->wl_lock);

        akv_error_clear();
        int rc = apply_list(lb, list, end);
        akv_error err = *akv_last_error();
        if (rc == AKV_OK) {
            /* data.mdb now has what list had: the overlay may forget each
             * change that is still the latest of its key. */
            pthread_rwlock_wrlock(&lb->ov_lock);
            for (struct wgroup *g = list; g; g = g->next) {
                size_t off = AKV_WLOG_HEADER;
                akv_wlog_change c;
                while (akv_wlog_next(g->rec.data, g->rec.len, &off, &c)) {
                    struct ov_slot *sl = ov_find(
                        &lb->ov, ov_hash(c.db, c.key, c.key_len), c.db,
                        c.key, c.key_len, NULL);
                    if (sl && sl->g == g)
                        ov_remove(&lb->ov, sl);
                }
            }
            atomic_store_explicit(&lb->ov_live, lb->ov.n,
                                  memory_order_release);
            pthread_rwlock_unlock(&lb->ov_lock);
            while (list) {
                struct wgroup *g = list;
                list = g->next;
                group_unref(g);
            }
        }

        pthread_mutex_lock(&lb->wl_lock);
        lb->apply_tries++;
        if (rc != AKV_OK) {
            /* Put back, to try again at the next turn; writes are refused
             * meanwhile (log_group), drains fail with this. */
            last->next = lb->applyq;
            if (lb->applyq == NULL)
                lb->applyq_tail = &last->next;
            lb->applyq = list;
            lb->apply_rc = rc;
            lb->apply_err = err;
            pthread_cond_broadcast(&lb->wl_cond);
            if (lb->apply_stop)
                break; /* left in the log, for the next open */
            due = due_in(APPLY_MS);
            pthread_cond_timedwait(&lb->wl_cond, &lb->wl_lock, &due);
            continue;
        }
        lb->apply_rc = AKV_OK;
        lb->applied = end;
        bool caught_up = lb->applied == lb->log_end;
        if (caught_up) {
            /* Caught up, and nothing is being written: the next record
             * starts its file over (log_place). A file a backlog made
             * larger than twice log_size is emptied, so that the disk it
             * took is returned. */
            for (int i = 0; i < 2; i++)
                if (lb->log_high[i] > 2 * lb->log_size &&
                    ftruncate(lb->logfd[i], 0) == 0)
                    lb->log_high[i] = 0;
        }
        pthread_cond_broadcast(&lb->wl_cond);
#ifdef __GLIBC__
        if (caught_up) {
            /* The records just freed were malloc's largest blocks; glibc
             * keeps such memory in its arenas, not returned, and a burst
             * of writes left the server holding tens of MiB it no longer
             * used (docs/performance.md). Returned while nothing waits,
             * not after every apply under load, where it would only be
             * faulted in again. */
            pthread_mutex_unlock(&lb->wl_lock);
            malloc_trim(0);
            pthread_mutex_lock(&lb->wl_lock);
        }
#endif
    }
    pthread_mutex_unlock(&lb->wl_lock);
    return NULL;
}

/* Waits until data.mdb holds every write logged before the call: what a
 * read that walks data.mdb needs. The applier's error if it cannot: that
 * of an apply that ended after the call began, not an older one (the
 * next try may succeed). */
static int wlog_drain(lmdb_backend *lb)
{
    pthread_mutex_lock(&lb->wl_lock);
    uint64_t target = lb->log_end, tries = lb->apply_tries;
    int rc = AKV_OK;
    lb->drainers++;
    pthread_cond_broadcast(&lb->wl_cond);
    while (lb->applied < target) {
        if (lb->apply_rc != AKV_OK && lb->apply_tries != tries) {
            rc = lb->apply_rc;
            akv_error_restore(&lb->apply_err);
            break;
        }
        pthread_cond_wait(&lb->wl_cond, &lb->wl_lock);
    }
    lb->drainers--;
    pthread_mutex_unlock(&lb->wl_lock);
    return rc;
}

/*
 * Where the next record goes (wl_lock held): the file it goes to, whose
 * first byte is then numbered log_base. On in the file being written; back
 * to its start once data.mdb holds every record (none in either file is
 * needed any more); or to the start of the other file once this one holds
 * log_size and data.mdb holds every record of the other. So a file is only
 * started over when data.mdb holds all it has, and the disk takes about
 * twice log_size under steady writes: a sync then rewrites blocks the file
 * has, where an append would change its size too (docs/performance.md).
 * Should the applier fall behind, the file being written grows until it
 * catches up, as far as LOG_MAX allows.
 */
static int log_place(lmdb_backend *lb)
{
    uint64_t at = lb->log_end;
    if (at == lb->log_base)
        return lb->log_cur;
    if (lb->applied == at) {
        lb->log_base = at;
    } else if (at - lb->log_base >= lb->log_size &&
               lb->applied >= lb->other_end) {
        lb->other_end = at;
        lb->log_cur ^= 1;
        lb->log_base = at;
    }
    return lb->log_cur;
}

/* Writes gbuf, sealed, to the log (log_place) and syncs it. */
static int log_append(lmdb_backend *lb)
{
    pthread_mutex_lock(&lb->wl_lock);
    while (lb->log_end - lb->applied > LOG_MAX && lb->apply_rc == AKV_OK) {
        lb->drainers++;
        pthread_cond_broadcast(&lb->wl_cond);
        pthread_cond_wait(&lb->wl_cond, &lb->wl_lock);
        lb->drainers--;
    }
    if (lb->apply_rc != AKV_OK) {
        /* data.mdb cannot take what is logged (full, or its map size
         * reached): take no more. */
        akv_error_restore(&lb->apply_err);
        int rc = lb->apply_rc;
        pthread_mutex_unlock(&lb->wl_lock);
        return rc;
    }
    int f = log_place(lb), fd = lb->logfd[f];
    uint64_t lsn = lb->log_end;
    off_t pos = (off_t)(lsn - lb->log_base);
    akv_wlog_seal(&lb->gbuf, lsn);
    lb->log_end = lsn + lb->gbuf.len; /* reserved: no truncation meanwhile */
    bool inside = (uint64_t)pos < lb->log_high[f];
    if (lb->log_high[f] < (uint64_t)pos + lb->gbuf.len)
        lb->log_high[f] = (uint64_t)pos + lb->gbuf.len;
    pthread_mutex_unlock(&lb->wl_lock);

    /* A record written over blocks the file has needs no new ones, so a
     * full disk would take it; but data.mdb will need room for it. Refuse
     * it, as an append would be refused, when the disk has next to none. */
    size_t done = 0;
    int err = inside && !room_for(lb->dir, lb->gbuf.len) ? ENOSPC : 0;
    while (err == 0 && done < lb->gbuf.len) {
        ssize_t n = pwrite(fd, lb->gbuf.data + done, lb->gbuf.len - done,
                           pos + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? errno : ENOSPC;
            break;
        }
        done += (size_t)n;
    }
    if (err == 0 && fdatasync(fd) != 0)
        err = errno;
    if (err == 0)
        return AKV_OK;
    /* Not acknowledged: take it back out of the file. */
    if (ftruncate(fd, pos) != 0 || fdatasync(fd) != 0)
        akv_log("error", "store in %s: cannot take a failed write back out "
                "of %s: %m", lb->dir, LOG_FILES[f]);
    pthread_mutex_lock(&lb->wl_lock);
    lb->log_end = lsn;
    lb->log_high[f] = (uint64_t)pos;
    pthread_cond_broadcast(&lb->wl_cond);
    pthread_mutex_unlock(&lb->wl_lock);
    if (err == ENOSPC || err == EDQUOT ||
        (err == EIO && free_bytes(lb->dir) < FULL_SLACK)) {
        akv_fail(AKV_EUNAVAILABLE,
                 "disk full: %s writing %s/%s; reads still work, and "
                 "writes resume once space is freed",
                 err == EDQUOT ? "disk quota exceeded"
                               : "no space left on device",
                 lb->dir, LOG_FILES[f]);
        note_write_error(lb);
        return AKV_EUNAVAILABLE;
    }
    errno = err;
    return akv_fail(AKV_EUNAVAILABLE, "writing %s/%s: %m", lb->dir,
                    LOG_FILES[f]);
}

/* The record of gbuf, synced: into the overlay and the applier's queue.
 * g is allocated beforehand (log_group), so that nothing can fail here:
 * the record is in the log already. */
static void log_publish(lmdb_backend *lb, struct wgroup *g)
{
    g->rec = lb->gbuf;
    g->lsn = akv_get_le64(g->rec.data + 8);
    atomic_init(&g->refs, 1);
    g->next = NULL;
    lb->gbuf = (akv_wlog_buf){0};
    int rc = AKV_OK;
    pthread_rwlock_wrlock(&lb->ov_lock);
    size_t off = AKV_WLOG_HEADER, at = off;
    akv_wlog_change c;
    for (; rc == AKV_OK && akv_wlog_next(g->rec.data, g->rec.len, &off, &c);
         at = off)
        rc = ov_set(&lb->ov, ov_hash(c.db, c.key, c.key_len), c.db, c.key,
                    c.key_len, g, at, NULL);
    atomic_store_explicit(&lb->ov_live, lb->ov.n, memory_order_release);
    pthread_rwlock_unlock(&lb->ov_lock);
    pthread_mutex_lock(&lb->wl_lock);
    *lb->applyq_tail = g;
    lb->applyq_tail = &g->next;
    pthread_cond_broadcast(&lb->wl_cond);
    pthread_mutex_unlock(&lb->wl_lock);
    atomic_fetch_add_explicit(&lb->logged, 1, memory_order_relaxed);
    if (rc != AKV_OK) {
        /* Synced, but not all of it in the overlay (out of memory): gets
         * would miss it until data.mdb has it, so answer after that. */
        akv_error_clear();
        wlog_drain(lb);
    }
}

/* Runs p once data.mdb holds everything logged, in a write transaction of
 * its own, committed synchronously as without the log. */
static void run_direct(lmdb_backend *lb, struct pending *p)
{
    akv_error_clear();
    int rc = wlog_drain(lb);
    MDB_txn *txn = NULL;
    if (rc == AKV_OK && (rc = mdb_txn_begin(lb->env, NULL, 0, &txn)) != 0)
        rc = lmdb_fail(lb, rc, "starting write");
    if (rc == AKV_OK) {
        struct wtx t = {.lb = lb, .txn = txn};
        rc = run_op(&t, p);
        if (rc == AKV_OK)
            rc = txn_commit(lb, txn, "committing write");
        else
            mdb_txn_abort(txn);
        if (rc == AKV_OK)
            atomic_fetch_add_explicit(&lb->logged, 1, memory_order_relaxed);
    }
    p->rc = rc;
    p->err = *akv_last_error();
}

/*
 * Leads batch under the write log (on the committer's thread): decides a
 * run of its writes in the view, logs the run's changes as one record and
 * syncs it; only then may any write of the run be answered. A write that
 * needs a transaction of its own ends the run before it and runs directly
 * (run_direct); the writes after it start the next run. A failure of the
 * view (LMDB's, or memory) or of the log fails the whole run, as a failed
 * commit fails its batch without the log.
 */
static void log_group(lmdb_backend *lb, struct pending *batch)
{
    struct pending *p = batch;
    while (p) {
        struct pending *run = p, *direct = NULL;
        struct wgroup *g = malloc(sizeof *g);
        struct reader *r = NULL;
        akv_error_clear();
        int rc = g ? AKV_OK : akv_fail(AKV_ENOMEM, "out of memory");
        pthread_rwlock_rdlock(&lb->ov_lock);
        if (rc == AKV_OK)
            rc = reader_take(lb, &r);
        struct wtx t = {.lb = lb, .txn = r ? r->txn : NULL, .logged = true};
        akv_wlog_reset(&lb->gbuf);
        ov_clear(&lb->gmap);
        if (rc != AKV_OK)
            p = NULL; /* fails the rest of the batch below */
        for (; p && rc == AKV_OK; p = p->next) {
            akv_error_clear();
            t.direct = false;
            uint32_t count = lb->gbuf.count;
            p->rc = run_op(&t, p);
            p->err = *akv_last_error();
            if (t.direct) {
                assert(lb->gbuf.count == count); /* marked before changes */
                (void)count;
                direct = p;
                break;
            }
            if (p->rc == AKV_EUNAVAILABLE || p->rc == AKV_ENOMEM)
                rc = p->rc;
        }
        if (r)
            reader_give(lb, r);
        pthread_rwlock_unlock(&lb->ov_lock);
        struct pending *end = direct ? direct : p; /* the run: [run, end) */
        if (rc == AKV_OK && lb->gbuf.count > 0) {
            akv_error_clear();
            if ((rc = log_append(lb)) == AKV_OK) {
                log_publish(lb, g);
                g = NULL;
            }
        }
        free(g);
        if (rc != AKV_OK) {
            akv_error err = *akv_last_error();
            for (struct pending *q = run; q != end; q = q->next) {
                q->rc = rc;
                q->err = err;
            }
        }
        if (direct) {
            run_direct(lb, direct);
            p = direct->next;
        }
    }
}

/* Applies a batch of queued puts in one transaction. put_in_txn() decides
 * every refusal (precondition, quota) before it writes anything, so a
 * refused put leaves the transaction as it found it and the others go on;
 * the only writes before such a refusal remove expired entries, which no
 * reader can see anyway. (LMDB's nested transactions would isolate puts
 * too, but each one allocates a dirty-page list of megabytes.) A failure of
 * LMDB itself poisons the transaction: then every put of the batch fails.
 * Called by the leader without group_lock held. */
static void apply_group(lmdb_backend *lb, struct pending *batch)
{
    if (atomic_load_explicit(&lb->log_on, memory_order_relaxed)) {
        log_group(lb, batch);
        return;
    }
    MDB_txn *txn;
    akv_error_clear();
    int rc = mdb_txn_begin(lb->env, NULL, 0, &txn);
    if (rc)
        rc = lmdb_fail(lb, rc, "starting write");
    struct wtx t = {.lb = lb, .txn = txn};
    for (struct pending *p = batch; p && rc == AKV_OK; p = p->next) {
        akv_error_clear();
        p->rc = run_op(&t, p);
        p->err = *akv_last_error();
        if (p->rc == AKV_EUNAVAILABLE || p->rc == AKV_ENOMEM) {
            rc = p->rc;
            mdb_txn_abort(txn);
        }
    }
    if (rc == AKV_OK) {
        /* One commit (and fsync) for the whole batch: only now is any of
         * it acknowledged. */
        akv_error_clear();
        rc = txn_commit(lb, txn, "committing write");
    }
    if (rc != AKV_OK) {
        akv_error err = *akv_last_error();
        for (struct pending *p = batch; p; p = p->next) {
            p->rc = rc;
            p->err = err;
        }
    }
}

/*
 * Leads one batch: takes up to GROUP_MAX writes from the head of the
 * queue (which is not empty, and nobody leads), applies and commits them
 * without the lock, marks each done, and wakes whoever waits: writers on
 * group_done, the committer on group_work if more is queued, and the
 * owner of each flight whose last write this was, through its descriptor.
 * Called and returns with group_lock held (it drops it meanwhile).
 *
 * Invariants, under group_lock: at most one thread leads (leading); queue
 * holds the writes not yet taken by a leader, in arrival order, and
 * queue_tail points at the last next field (at queue when empty); a taken
 * write is marked done exactly once, by the leader that took it, after its
 * result is set.
 */
static void lead_batch(lmdb_backend *lb)
{
    assert(!lb->leading);
    assert(lb->queue != NULL);
    lb->leading = true;
    struct pending *batch = lb->queue, **cut = &lb->queue;
    for (int k = 0; *cut && k < GROUP_MAX; k++) {
        assert(!(*cut)->done);
        cut = &(*cut)->next;
    }
    lb->queue = *cut;
    *cut = NULL;
    if (lb->queue == NULL)
        lb->queue_tail = &lb->queue;
    pthread_mutex_unlock(&lb->group_lock);

    apply_group(lb, batch);

    pthread_mutex_lock(&lb->group_lock);
    assert(lb->leading);
    struct lmdb_flight *notify = NULL;
    for (struct pending *p = batch, *next; p; p = next) {
        next = p->next; /* p may vanish once done is set */
        assert(!p->done);
        struct lmdb_flight *f = p->flight;
        p->done = true;
        if (f && --f->left == 0) {
            f->notify_next = notify;
            notify = f;
        }
    }
    assert((lb->queue == NULL) == (lb->queue_tail == &lb->queue));
    lb->leading = false;
    pthread_cond_broadcast(&lb->group_done);
    if (lb->queue && lb->committer_started)
        pthread_cond_signal(&lb->group_work);
    if (notify) {
        pthread_mutex_unlock(&lb->group_lock);
        while (notify) {
            struct lmdb_flight *f = notify;
            notify = f->notify_next; /* f may vanish once fd is written */
            uint64_t one = 1;
            while (write(f->fd, &one, sizeof one) < 0 && errno == EINTR)
                ;
        }
        pthread_mutex_lock(&lb->group_lock);
    }
}

/*
 * Queues the n writes of ps (in order, one after the other) for the group
 * commit and returns when every one of them is done, each with its rc and
 * err set. A writer whose writes are not all done either waits for the
 * current leader or, when there is none, leads. Leaders take writes from
 * the head of the queue, so when the last of ps is done all of ps are.
 */
static void group_commit(lmdb_backend *lb, struct pending *ps, size_t n)
{
    struct pending *last = &ps[n - 1];
    pthread_mutex_lock(&lb->group_lock);
    for (size_t i = 0; i < n; i++) {
        *lb->queue_tail = &ps[i];
        lb->queue_tail = &ps[i].next;
    }
    /* Under the write log only the committer leads: its thread alone may
     * use the group's record and map. */
    if (lb->wlog && !lb->leading)
        pthread_cond_signal(&lb->group_work);
    while (!last->done) {
        if (lb->leading || lb->wlog)
            pthread_cond_wait(&lb->group_done, &lb->group_lock);
        else
            lead_batch(lb);
    }
    pthread_mutex_unlock(&lb->group_lock);
}

/* The id of data.mdb's last commit, as the shared map holds it. */
static uint64_t last_txnid(lmdb_backend *lb)
{
    MDB_envinfo info;
    return mdb_env_info(lb->env, &info) == MDB_SUCCESS
               ? (uint64_t)info.me_last_txnid
               : 0;
}

/* Turns the write log on: its files start afresh after what data.mdb
 * holds (replaying first whatever it does not, which only a process that
 * died with the log could have left). The store's lock is held
 * exclusively. */
static int log_restart(lmdb_backend *lb)
{
    MDB_txn *txn;
    uint64_t at;
    int rc = mdb_txn_begin(lb->env, NULL, 0, &txn);
    if (rc)
        return lmdb_fail(lb, rc, "starting the write log");
    if ((rc = log_replay(lb, txn, lb->logfd, &at)) != AKV_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    if ((rc = txn_commit(lb, txn, "starting the write log")) != AKV_OK ||
        (rc = log_empty(lb, lb->logfd)) != AKV_OK)
        return rc;
    pthread_mutex_lock(&lb->wl_lock);
    assert(lb->applyq == NULL);
    lb->log_base = lb->log_end = lb->other_end = lb->applied = at;
    lb->log_high[0] = lb->log_high[1] = 0;
    pthread_mutex_unlock(&lb->wl_lock);
    return AKV_OK;
}

/*
 * Hands the store over or takes it back (store_lock), on the committer's
 * thread between groups. With the log on and a knock: applies the log
 * (which fails only while data.mdb cannot take it; the knocker is then
 * refused), turns it off, and takes the lock shared. With the log off,
 * no knock and the lock exclusively to be had: turns it on.
 */
static void log_mode(lmdb_backend *lb)
{
    bool on = atomic_load_explicit(&lb->log_on, memory_order_relaxed);
    if (on != knocked(lb))
        return;
    akv_error_clear();
    if (on) {
        if (wlog_drain(lb) != AKV_OK) {
            /* The knocker is told at once (store_lock). */
            akv_error_clear();
            if (counters_shared(lb))
                atomic_fetch_add(&lb->counters->refusals, 1);
            return;
        }
        pthread_mutex_lock(&lb->gen_lock);
        lb->gen_off = lb->gen_base +
                      atomic_load_explicit(&lb->logged,
                                           memory_order_relaxed) -
                      last_txnid(lb);
        atomic_store(&lb->log_on, false);
        pthread_mutex_unlock(&lb->gen_lock);
        if (lock_byte(lb, LOCK_STORE, F_RDLCK) != 0) /* cannot conflict */
            akv_log("error", "store in %s: cannot hand the store over: %m",
                    lb->dir);
        return;
    }
    if (lock_byte(lb, LOCK_STORE, F_WRLCK) != 0)
        return; /* another process has the store open */
    if (log_restart(lb) != AKV_OK) {
        akv_log("warning", "store in %s: write log stays off: %s", lb->dir,
                akv_last_error()->message);
        akv_error_clear();
        lock_byte(lb, LOCK_STORE, F_RDLCK);
        return;
    }
    pthread_mutex_lock(&lb->gen_lock);
    lb->gen_base = last_txnid(lb) + lb->gen_off -
                   atomic_load_explicit(&lb->logged, memory_order_relaxed);
    atomic_store(&lb->log_on, true);
    pthread_mutex_unlock(&lb->gen_lock);
}

/* due (of due_in) has come. */
static bool due_now(const struct timespec *due)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec > due->tv_sec ||
           (t.tv_sec == due->tv_sec && t.tv_nsec >= due->tv_nsec);
}

/* The committer thread: leads whenever writes are queued and nobody else
 * does, until close. Under the write log it also minds the store's lock
 * (log_mode) when its door rings and every LOCK_POLL_MS, between
 * batches: not before each one, which would cost a busy committer a
 * system call a batch. */
static void *committer_main(void *arg)
{
    lmdb_backend *lb = arg;
    struct timespec due = due_in(LOCK_POLL_MS);
    pthread_mutex_lock(&lb->group_lock);
    for (;;) {
        while (lb->leading || (lb->queue == NULL && !lb->committer_stop &&
                               !lb->door_rang)) {
            if (!lb->wlog)
                pthread_cond_wait(&lb->group_work, &lb->group_lock);
            else if (pthread_cond_timedwait(&lb->group_work, &lb->group_lock,
                                            &due) == ETIMEDOUT)
                break;
        }
        if (lb->wlog && !lb->leading && !lb->committer_stop &&
            (lb->door_rang || due_now(&due))) {
            lb->door_rang = false;
            pthread_mutex_unlock(&lb->group_lock);
            log_mode(lb);
            pthread_mutex_lock(&lb->group_lock);
            due = due_in(LOCK_POLL_MS);
        }
        if (lb->queue == NULL) {
            if (lb->committer_stop)
                break; /* stopping, and nothing left */
            continue;
        }
        if (!lb->leading)
            lead_batch(lb);
    }
    pthread_mutex_unlock(&lb->group_lock);
    return NULL;
}

static int lmdb_put(akv_backend *be, const akv_write *w, akv_rec *out,
                    int *created)
{
    struct pending me = {.w = w, .out = out, .created = created};
    group_commit((lmdb_backend *)be, &me, 1);
    akv_error_restore(&me.err);
    return me.rc;
}

/* The n writes join the group commit together: one thread queues them all
 * and sleeps once, where n threads calling lmdb_put would each queue one
 * and sleep (the server's PUTs of one event-loop turn, dispatch.c). */
static void lmdb_put_many(akv_backend *be, size_t n, const akv_write *w,
                          akv_rec *out, int *created, int *rcs,
                          akv_error *errs)
{
    struct pending *ps = calloc(n, sizeof *ps);
    if (ps == NULL) {
        for (size_t i = 0; i < n; i++) {
            rcs[i] = lmdb_put(be, &w[i], &out[i], &created[i]);
            errs[i] = *akv_last_error();
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        ps[i] = (struct pending){.w = &w[i], .out = &out[i],
                                 .created = &created[i]};
    group_commit((lmdb_backend *)be, ps, n);
    for (size_t i = 0; i < n; i++) {
        rcs[i] = ps[i].rc;
        errs[i] = ps[i].err;
    }
    free(ps);
}

/* The n writes join the group commit as one flight, and the caller goes
 * on at once: the committer thread leads for them, so no thread of the
 * caller's sleeps through the commit and its fsync (the server's event
 * loops, dispatch.c). NULL (nothing queued) without memory, a descriptor
 * or a thread; the caller then uses put_many. */
static void *lmdb_put_many_send(akv_backend *be, size_t n, const akv_write *w,
                                int *fd, int64_t *timeout_ms)
{
    lmdb_backend *lb = (lmdb_backend *)be;
    assert(n > 0);
    struct lmdb_flight *f = malloc(sizeof *f + n * sizeof f->puts[0]);
    if (f == NULL)
        return NULL;
    pthread_mutex_lock(&lb->fd_lock);
    f->fd = lb->fd_nspare > 0 ? lb->fd_spare[--lb->fd_nspare] : -1;
    pthread_mutex_unlock(&lb->fd_lock);
    if (f->fd < 0)
        f->fd = eventfd(0, EFD_CLOEXEC);
    if (f->fd < 0) {
        free(f);
        return NULL;
    }
    f->n = f->left = n;
    for (size_t i = 0; i < n; i++) {
        struct flight_put *x = &f->puts[i];
        x->p = (struct pending){.w = &w[i], .out = &x->out,
                                .created = &x->created, .flight = f};
    }
    pthread_mutex_lock(&lb->group_lock);
    if (!lb->committer_started && start_committer(lb) != 0) {
        pthread_mutex_unlock(&lb->group_lock);
        close(f->fd);
        free(f);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        *lb->queue_tail = &f->puts[i].p;
        lb->queue_tail = &f->puts[i].p.next;
    }
    if (!lb->leading)
        pthread_cond_signal(&lb->group_work);
    pthread_mutex_unlock(&lb->group_lock);
    *fd = f->fd;
    *timeout_ms = -1; /* a commit cannot be abandoned */
    return f;
}

/* Waits for the flight's descriptor (its writes are then done: a queued
 * write cannot be taken back, so timed_out changes nothing) and gives
 * their outcomes. */
static void lmdb_put_many_recv(akv_backend *be, void *sent, bool timed_out,
                               akv_rec *out, int *created, int *rcs,
                               akv_error *errs)
{
    lmdb_backend *lb = (lmdb_backend *)be;
    (void)timed_out;
    struct lmdb_flight *f = sent;
    uint64_t v;
    ssize_t got;
    while ((got = read(f->fd, &v, sizeof v)) < 0 && errno == EINTR)
        ;
    for (size_t i = 0; i < f->n; i++) {
        struct flight_put *x = &f->puts[i];
        assert(x->p.done);
        out[i] = x->out;
        created[i] = x->created;
        rcs[i] = x->p.rc;
        errs[i] = x->p.err;
    }
    /* Its one write read back, the descriptor is as new: kept for the
     * next flight (unless the read failed, or enough are kept). */
    pthread_mutex_lock(&lb->fd_lock);
    if (got == sizeof v && lb->fd_nspare < FLIGHT_FDS_SPARE) {
        lb->fd_spare[lb->fd_nspare++] = f->fd;
        f->fd = -1;
    }
    pthread_mutex_unlock(&lb->fd_lock);
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}

/* Deletes one record inside txn. AKV_ENOTFOUND when there is none;
 * *was_live (may be NULL) tells whether it had not expired at now (a record
 * that no longer decodes counts as live: nothing says it had expired).
 * if_match (32 bytes or NULL; batch deletes) requires the record to be live
 * with that SHA-256, else AKV_EPRECONDITION (an absent one included). */
static int del_in_txn(struct wtx *t, const akv_ns *ns, const char *key,
                      size_t key_len, int64_t now,
                      const unsigned char *if_match, bool *was_live)
{
    lmdb_backend *lb = t->lb;
    char kb[KEYBUF];
    MDB_val k = {entry_key(kb, ns->scope, ns->sandbox, ns->sandbox_len, key,
                           key_len),
                 kb},
            v;
    int rc = wtx_get(t, lb->entries, &k, &v);
    if (rc == MDB_NOTFOUND && if_match)
        return akv_fail(AKV_EPRECONDITION,
                        "no current entry to match If-Match");
    if (rc)
        return rc == MDB_NOTFOUND ? akv_fail(AKV_ENOTFOUND, "no such entry")
                                  : lmdb_fail(lb, rc, "reading entry");
    akv_rec rec;
    bool decoded = akv_rec_decode(v.mv_data, v.mv_size, &rec) == AKV_OK;
    if (if_match) {
        bool live = decoded && !akv_rec_expired(&rec, now);
        if (!live || memcmp(rec.sha256, if_match, 32) != 0)
            return akv_fail(AKV_EPRECONDITION,
                            live ? "current SHA-256 does not match If-Match"
                                 : "no current entry to match If-Match");
    }
    if (was_live)
        *was_live = !decoded || !akv_rec_expired(&rec, now);
    int64_t bytes = (int64_t)akv_rec_usage(key_len, v.mv_size);
    if (!decoded && t->logged)
        return need_direct(t); /* the recount below walks a cursor */
    if ((rc = wtx_del(t, lb->entries, &k)) != 0)
        return lmdb_fail(lb, rc, "deleting entry");
    /* A damaged record may not have the length it was counted with. */
    return decoded ? usage_add(t, ns->scope, ns->sandbox, ns->sandbox_len,
                               -bytes, -1)
                   : usage_recount(t, ns->scope, ns->sandbox,
                                   ns->sandbox_len);
}

/* Runs op in a write transaction of its own; under the write log, the
 * committer runs it with the group it leads (in its view, or in a write
 * transaction of its own when op needs one). */
static int run_write(lmdb_backend *lb, int (*op)(struct wtx *t, void *arg),
                     void *arg, const char *what)
{
    if (lb->wlog) {
        struct pending me = {.op = op, .arg = arg};
        group_commit(lb, &me, 1);
        akv_error_restore(&me.err);
        return me.rc;
    }
    MDB_txn *txn;
    int rc = mdb_txn_begin(lb->env, NULL, 0, &txn);
    if (rc)
        return lmdb_fail(lb, rc, "starting write");
    struct wtx t = {.lb = lb, .txn = txn};
    if ((rc = op(&t, arg)) != AKV_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    return txn_commit(lb, txn, what);
}

struct del_args {
    const akv_ns *ns;
    const char *key;
    size_t key_len;
    int64_t now;
    bool *was_live;
};

static int del_op(struct wtx *t, void *arg)
{
    struct del_args *a = arg;
    return del_in_txn(t, a->ns, a->key, a->key_len, a->now, NULL,
                      a->was_live);
}

static int lmdb_del(akv_backend *be, const akv_ns *ns, const char *key,
                    size_t key_len, int64_t now, bool *was_live)
{
    struct del_args a = {ns, key, key_len, now, was_live};
    return run_write((lmdb_backend *)be, del_op, &a, "committing delete");
}

struct touch_args {
    const akv_ns *ns;
    const char *key;
    size_t key_len;
    int64_t expires_at;
};

/* Rewrites the record with only expires_at changed (and its header
 * resealed). Same size: usage does not change. Absent, or damaged since
 * it was read (left for the next read to report): nothing to do. */
static int touch_op(struct wtx *t, void *arg)
{
    struct touch_args *a = arg;
    lmdb_backend *lb = t->lb;
    char kb[KEYBUF];
    MDB_val k = {entry_key(kb, a->ns->scope, a->ns->sandbox,
                           a->ns->sandbox_len, a->key, a->key_len),
                 kb},
            v;
    int rc = wtx_get(t, lb->entries, &k, &v);
    if (rc == MDB_NOTFOUND)
        return AKV_OK;
    if (rc)
        return lmdb_fail(lb, rc, "refreshing expiry");
    void *copy = malloc(v.mv_size);
    if (copy == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    memcpy(copy, v.mv_data, v.mv_size);
    if (akv_rec_set_expiry(copy, v.mv_size, a->expires_at) != AKV_OK) {
        free(copy);
        akv_error_clear();
        return AKV_OK;
    }
    MDB_val nv = {v.mv_size, copy};
    rc = wtx_put(t, lb->entries, &k, &nv, 0);
    free(copy);
    return rc ? lmdb_fail(lb, rc, "refreshing expiry") : AKV_OK;
}

static int lmdb_touch(akv_backend *be, const akv_ns *ns, const char *key,
                      size_t key_len, int64_t expires_at)
{
    struct touch_args a = {ns, key, key_len, expires_at};
    return run_write((lmdb_backend *)be, touch_op, &a, "committing refresh");
}

/* A cursor on dbi in a pooled read snapshot: close the cursor, then
 * reader_give(lb, *r). */
static int read_cursor(lmdb_backend *lb, MDB_dbi dbi, struct reader **r,
                       MDB_cursor **cur)
{
    int rc = reader_take(lb, r);
    if (rc)
        return rc;
    if ((rc = mdb_cursor_open((*r)->txn, dbi, cur)) != 0) {
        reader_give(lb, *r);
        return lmdb_fail(lb, rc, "opening cursor");
    }
    return AKV_OK;
}

static int lmdb_scan(akv_backend *be, const akv_ns *ns, const char *prefix,
                     size_t prefix_len, const char *after, size_t after_len,
                     akv_scan_fn fn, void *ctx)
{
    lmdb_backend *lb = (lmdb_backend *)be;
    struct reader *r;
    MDB_cursor *cur;
    if (lb->wlog) {
        int drc = wlog_drain(lb); /* walks data.mdb: needs all of the log */
        if (drc != AKV_OK)
            return drc;
    }
    int rc = read_cursor(lb, lb->entries, &r, &cur);
    if (rc)
        return rc;
    char fixed[KEYBUF], start[KEYBUF];
    size_t flen = ns_prefix(fixed, ns), slen = flen;
    memcpy(start, fixed, flen);
    /* With one namespace the keys are contiguous: seek straight to the
     * later of prefix and cursor. */
    bool one_ns = ns->sandbox != NULL && ns->scope != AKV_SCOPE_ALL;
    if (one_ns) {
        const char *from = prefix;
        size_t from_len = prefix ? prefix_len : 0;
        if (after && (from == NULL ||
                      akvx_keycmp(after, after_len, from, from_len) > 0)) {
            from = after;
            from_len = after_len;
        }
        if (from_len) {
            memcpy(start + slen, from, from_len);
            slen += from_len;
        }
    }
    MDB_val k = {slen, start}, v;
    int stop = 0;
    rc = mdb_cursor_get(cur, &k, &v, slen ? MDB_SET_RANGE : MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < flen || memcmp(k.mv_data, fixed, flen) != 0)
            break;
        akv_ns got;
        const char *key;
        size_t key_len;
        if (!split_key(&k, &got, &key, &key_len) || !ns_matches(ns, &got))
            continue;
        bool in_prefix = prefix == NULL ||
                         (key_len >= prefix_len &&
                          memcmp(key, prefix, prefix_len) == 0);
        if (!in_prefix) {
            if (one_ns && akvx_keycmp(key, key_len, prefix, prefix_len) > 0)
                break; /* sorted: past the prefix range */
            continue;
        }
        if (after && akvx_keycmp(key, key_len, after, after_len) <= 0)
            continue;
        akv_rec rec;
        if (akv_rec_decode(v.mv_data, v.mv_size, &rec) != AKV_OK) {
            /* Passed on as damaged, so that readers report it instead of
             * skipping it silently. */
            akv_rec_damaged(&rec, v.mv_size);
            akv_error_clear();
        }
        if ((stop = fn(ctx, &got, key, key_len, &rec)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    reader_give(lb, r);
    if (stop)
        return stop;
    if (rc == 0 || rc == MDB_NOTFOUND)
        return AKV_OK;
    return lmdb_fail(lb, rc, "scanning entries");
}

struct remove_args {
    const akv_ns *ns;
    bool expired_only;
    int64_t now;
    uint64_t *counts, *live_removed;
};

static int remove_op(struct wtx *t, void *arg)
{
    struct remove_args *a = arg;
    return remove_in_txn(t, a->ns, a->expired_only, a->now, a->counts,
                         a->live_removed);
}

static int lmdb_remove(akv_backend *be, const akv_ns *ns, bool expired_only,
                       int64_t now, uint64_t counts[AKV_SCOPE_COUNT],
                       uint64_t *live_removed)
{
    struct remove_args a = {ns, expired_only, now, counts, live_removed};
    return run_write((lmdb_backend *)be, remove_op, &a, "committing removal");
}

static int lmdb_usage(akv_backend *be, uint64_t entries[AKV_SCOPE_COUNT],
                      uint64_t bytes[AKV_SCOPE_COUNT])
{
    lmdb_backend *lb = (lmdb_backend *)be;
    struct reader *r;
    MDB_cursor *cur;
    if (lb->wlog) {
        int drc = wlog_drain(lb); /* walks data.mdb: needs all of the log */
        if (drc != AKV_OK)
            return drc;
    }
    int rc = read_cursor(lb, lb->usage, &r, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct usage u;
        int scope = k.mv_size ? ((const char *)k.mv_data)[0] - '0' : -1;
        if (scope < 0 || scope >= AKV_SCOPE_COUNT || v.mv_size != sizeof u)
            continue;
        memcpy(&u, v.mv_data, sizeof u);
        entries[scope] += u.entries;
        bytes[scope] += u.bytes;
    }
    mdb_cursor_close(cur);
    reader_give(lb, r);
    return rc == MDB_NOTFOUND ? AKV_OK : lmdb_fail(lb, rc, "reading usage");
}

static void lmdb_count(akv_backend *be, akv_scope scope, bool hit)
{
    lmdb_backend *lb = (lmdb_backend *)be;
    if (lb->counters == NULL)
        return;
    struct counter_shard *sh = &lb->counters->shard[thread_shard()];
    atomic_fetch_add_explicit(hit ? &sh->hits[scope] : &sh->misses[scope], 1,
                              memory_order_relaxed);
}

static void lmdb_counters(akv_backend *be, uint64_t hits[AKV_SCOPE_COUNT],
                          uint64_t misses[AKV_SCOPE_COUNT])
{
    lmdb_backend *lb = (lmdb_backend *)be;
    const struct counters *c = lb->counters;
    for (int i = 0; i < AKV_SCOPE_COUNT; i++) {
        hits[i] = c ? atomic_load(&c->hits[i]) : 0;
        misses[i] = c ? atomic_load(&c->misses[i]) : 0;
        for (int k = 0; c && k < THREAD_SHARDS; k++) {
            hits[i] += atomic_load(&c->shard[k].hits[i]);
            misses[i] += atomic_load(&c->shard[k].misses[i]);
        }
    }
}

static void lmdb_health(akv_backend *be, akv_health *h)
{
    lmdb_backend *lb = (lmdb_backend *)be;
    const char *notes[] = {
        lb->counters_note, lb->lock_note, lb->wlog_note,
        lb->wlog && !atomic_load(&lb->log_on)
            ? "write log paused: another process has the store open"
            : ""};
    size_t len = 0;
    h->note[0] = '\0';
    for (size_t i = 0; i < sizeof notes / sizeof *notes; i++)
        if (notes[i][0] && len < sizeof h->note)
            len += (size_t)snprintf(h->note + len, sizeof h->note - len,
                                    "%s%.160s", len ? "; " : "", notes[i]);
    if (lb->wlog) {
        /* Logged writes that data.mdb cannot take: writes are refused. */
        pthread_mutex_lock(&lb->wl_lock);
        if (lb->apply_rc != AKV_OK) {
            h->writable = 0;
            snprintf(h->reason, sizeof h->reason, "%s",
                     lb->apply_err.message);
        }
        pthread_mutex_unlock(&lb->wl_lock);
        if (!h->writable)
            return;
    }
    if (!atomic_load(&lb->write_failed))
        return;
    /* A write failed for want of space and none has succeeded since. Space
     * freed meanwhile (the operator's fix) makes writes likely to work
     * again: say so rather than wait for the next write to find out. */
    uint64_t now = free_bytes(lb->dir);
    pthread_mutex_lock(&lb->health_lock);
    if (atomic_load(&lb->write_failed) &&
        (now == UINT64_MAX || lb->free_at_error == UINT64_MAX ||
         now < lb->free_at_error + FULL_SLACK)) {
        h->writable = 0;
        snprintf(h->reason, sizeof h->reason, "%s", lb->write_error);
    }
    pthread_mutex_unlock(&lb->health_lock);
}

/* The compacting copy runs in its own thread and writes into a pipe; the
 * calling thread moves the bytes into the backup file and reports progress
 * against the size of the used part of the map (an upper bound: compaction
 * only shrinks it). */
struct copy_job {
    MDB_env *env;
    int fd;
    int rc;
};

static void *copy_thread(void *arg)
{
    struct copy_job *job = arg;
    job->rc = mdb_env_copyfd2(job->env, job->fd, MDB_CP_COMPACT);
    close(job->fd); /* EOF for the reader */
    return NULL;
}

static int lmdb_backup(akv_backend *be, const char *path,
                       akv_progress_fn progress, void *ctx)
{
    lmdb_backend *lb = (lmdb_backend *)be;
    struct stat st;
    char file[4096];
    if (lb->wlog) {
        int drc = wlog_drain(lb); /* copies data.mdb: needs all of the log */
        if (drc != AKV_OK)
            return drc;
    }
    if (akvx_mkdir_p(path, 0700) != 0)
        return akv_fail(AKV_EUNAVAILABLE, "cannot create %s: %m", path);
    snprintf(file, sizeof file, "%s/data.mdb", path);
    if (stat(file, &st) == 0)
        return akv_fail(AKV_EINVAL, "%s already holds a store", path);
    int out = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return akv_fail(AKV_EUNAVAILABLE, "cannot create %s: %m", file);
    fchmod(out, 0600); /* exactly, whatever the umask: it is the store */
    MDB_envinfo info;
    MDB_stat mst;
    mdb_env_info(lb->env, &info);
    mdb_env_stat(lb->env, &mst);
    uint64_t total = (uint64_t)(info.me_last_pgno + 1) * mst.ms_psize;

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        close(out);
        unlink(file);
        return akv_fail(AKV_EUNAVAILABLE, "backup: %m");
    }
    struct copy_job job = {lb->env, pfd[1], 0};
    pthread_t th;
    if (pthread_create(&th, NULL, copy_thread, &job) != 0) {
        close(pfd[0]);
        close(pfd[1]);
        close(out);
        unlink(file);
        return akv_fail(AKV_EUNAVAILABLE, "backup: cannot start copy");
    }
    char buf[1 << 16];
    uint64_t done = 0;
    int werr = 0;
    ssize_t n;
    while ((n = read(pfd[0], buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            werr = errno;
            break;
        }
        /* After a write error keep draining, so the copy thread finishes. */
        for (ssize_t off = 0; !werr && off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR)
                werr = errno;
            else if (w > 0)
                off += w;
        }
        done += (uint64_t)n;
        if (progress)
            progress(ctx, done, total > done ? total : done);
    }
    close(pfd[0]);
    pthread_join(th, NULL);
    if (!werr && fsync(out) != 0)
        werr = errno;
    close(out);
    if (job.rc || werr) {
        unlink(file);
        if (job.rc)
            return akv_fail(AKV_EUNAVAILABLE, "backup to %s failed: %s",
                            path, mdb_strerror(job.rc));
        errno = werr;
        return akv_fail(AKV_EUNAVAILABLE, "backup to %s failed: %s%m",
                        path,
                        werr == ENOSPC || werr == EDQUOT ? "disk full: " : "");
    }
    fsync_dir(path);
    if (progress)
        progress(ctx, done, done);
    return AKV_OK;
}

/* ---- batches of puts and deletes (akv_batch_write) --------------------- */

struct batch_args {
    const akv_write *w;
    size_t n;
    akv_rec *out;
};

/* The writes of akv_batch_write, all or none: in a transaction of their
 * own, since a view cannot take back the changes of a refused write. */
static int batch_op(struct wtx *t, void *arg)
{
    struct batch_args *a = arg;
    if (t->logged)
        return need_direct(t);
    for (size_t i = 0; i < a->n; i++) {
        const akv_write *w = &a->w[i];
        int rc;
        if (w->del) {
            rc = del_in_txn(t, &w->ns, w->key, w->key_len, w->now,
                            w->if_match, NULL);
            if (rc == AKV_ENOTFOUND)
                rc = AKV_OK; /* deleting what is not there is done */
        } else {
            rc = put_in_txn(t, w, a->out ? &a->out[i] : NULL, NULL);
        }
        if (rc != AKV_OK)
            return rc;
    }
    return AKV_OK;
}

static int lmdb_write_batch(akv_backend *be, const akv_write *w, size_t n,
                            akv_rec *out)
{
    struct batch_args a = {w, n, out};
    return run_write((lmdb_backend *)be, batch_op, &a, "committing write");
}

/* The usage rows: one per namespace that ever held a record; rows whose
 * count fell to zero are skipped. */
static int lmdb_namespaces(akv_backend *be,
                           int (*fn)(void *ctx, const akv_ns *ns), void *ctx)
{
    lmdb_backend *lb = (lmdb_backend *)be;
    struct reader *r;
    MDB_cursor *cur;
    if (lb->wlog) {
        int drc = wlog_drain(lb); /* walks data.mdb: needs all of the log */
        if (drc != AKV_OK)
            return drc;
    }
    int rc = read_cursor(lb, lb->usage, &r, &cur), stop = 0;
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !stop;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct usage u;
        const char *kp = k.mv_data;
        int scope = k.mv_size ? kp[0] - '0' : -1;
        if (scope < 0 || scope >= AKV_SCOPE_COUNT || v.mv_size != sizeof u ||
            k.mv_size < 2 || k.mv_size > 1 + AKV_SANDBOX_MAX)
            continue;
        memcpy(&u, v.mv_data, sizeof u);
        if (u.entries == 0)
            continue;
        akv_ns ns = {kp + 1, k.mv_size - 1, scope};
        stop = fn(ctx, &ns);
    }
    mdb_cursor_close(cur);
    reader_give(lb, r);
    if (stop)
        return stop;
    return rc == MDB_NOTFOUND ? AKV_OK : lmdb_fail(lb, rc, "reading usage");
}

/* The id of the last committed write transaction, as the meta pages of
 * the shared map hold it: every process's commits move it. */
static uint64_t lmdb_generation(akv_backend *be)
{
    lmdb_backend *lb = (lmdb_backend *)be;
    if (!lb->wlog)
        return last_txnid(lb);
    /* With the log on a write is done when logged, and no other process
     * writes: count this process's writes (records logged and direct
     * commits), not the applier's commits, which change nothing a reader
     * sees. */
    pthread_mutex_lock(&lb->gen_lock);
    uint64_t gen =
        atomic_load(&lb->log_on)
            ? lb->gen_base + atomic_load_explicit(&lb->logged,
                                                  memory_order_relaxed)
            : last_txnid(lb) + lb->gen_off;
    pthread_mutex_unlock(&lb->gen_lock);
    return gen;
}

static const akv_backend_ops lmdb_ops = {
    .name = "lmdb",
    .close = lmdb_close,
    .get = lmdb_get,
    .release = lmdb_release,
    .put = lmdb_put,
    .put_many = lmdb_put_many,
    .put_many_send = lmdb_put_many_send,
    .put_many_recv = lmdb_put_many_recv,
    .del = lmdb_del,
    .touch = lmdb_touch,
    .scan = lmdb_scan,
    .remove = lmdb_remove,
    .usage = lmdb_usage,
    .count = lmdb_count,
    .counters = lmdb_counters,
    .backup = lmdb_backup,
    .write_batch = lmdb_write_batch,
    .health = lmdb_health,
    .namespaces = lmdb_namespaces,
    .generation = lmdb_generation,
};

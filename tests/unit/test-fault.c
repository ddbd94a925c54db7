/*
 * test-fault.c — fault injection: every operation of the library is run
 * again and again with its n-th fallible call made to fail, for n = 1, 2, …
 * until a run completes without reaching call n. Three kinds of fault:
 *
 *   alloc    the n-th allocation fails (malloc, calloc, realloc, strdup,
 *            strndup, asprintf, vasprintf and jansson's allocations). The
 *            link wraps those symbols (-Wl,--wrap, tests/CMakeLists.txt), so
 *            every allocation of libagentkv_static in this program passes
 *            through the hooks below; shared libraries (LMDB, hiredis,
 *            OpenSSL, libc's own) are not hooked.
 *   lmdb     the n-th call into LMDB fails the way LMDB fails: a commit
 *            that returns ENOSPC after aborting the transaction, a put that
 *            hits MDB_MAP_FULL and poisons the transaction (every later
 *            call on it then gives MDB_BAD_TXN, as LMDB's MDB_TXN_ERROR
 *            does), a read that finds a corrupt page, a transaction or a
 *            reader slot that cannot be had. Embedded backend only.
 *   backend  a wrapper around the store's backend fails its n-th operation
 *            (get, get_many, put, del, touch, remove, usage, backup,
 *            write_batch, and each record a scan delivers, so that a scan
 *            also fails half-way) with AKV_EUNAVAILABLE. Runs on both
 *            backends (redis-unit-fault on Redis).
 *
 * After every run the test checks what DESIGN.md §3 and SPEC.md promise
 * under failure: the call returns AKV_OK or the expected negative code
 * with a message (never a crash or an abort); a failed call changed
 * nothing (the store's records equal those before the call: no
 * half-applied batch, import or seed); a call that succeeded although a
 * fault was injected gave the same answer and the same store as the run
 * without faults; the store passes akv_check and its usage counters equal
 * a recount of its records. The ASan build (build-asan) finds any leak on
 * those error paths at exit.
 *
 * Each run starts from a fresh store holding the same records, on the
 * test clock, so that runs are deterministic and comparable.
 */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agentkv-instructions.h"
#include "internal.h"
#include "record.h"
#include "testutil.h"

/* ---- the fault switch -------------------------------------------------- */

enum fault_kind { FK_NONE, FK_ALLOC, FK_LMDB, FK_BACKEND };
static const char *const kind_names[] = {"none", "alloc", "lmdb", "backend"};

static _Atomic int fk_armed;   /* the kind being injected, or FK_NONE */
static _Atomic long fk_target; /* fail call number fk_target (1-based) */
static _Atomic long fk_calls;  /* fallible calls seen since arming */
static _Atomic int fk_hit;     /* the fault was injected */

static void fault_arm(enum fault_kind kind, long n)
{
    atomic_store(&fk_calls, 0);
    atomic_store(&fk_hit, 0);
    atomic_store(&fk_target, n);
    atomic_store(&fk_armed, kind);
}

static void fault_disarm(void)
{
    atomic_store(&fk_armed, FK_NONE);
}

/* Called where a fault is injected: `break fault_injected` in gdb shows
 * the failing call (AKV_FAULT_OPS selects the operations to run). */
__attribute__((noinline)) static void fault_injected(void)
{
    atomic_store(&fk_hit, 1);
}

/* Counts one fallible call of kind; true when it is the one to fail. */
static bool fault_now(enum fault_kind kind)
{
    if (atomic_load(&fk_armed) != (int)kind)
        return false;
    long n = atomic_fetch_add(&fk_calls, 1) + 1;
    if (n != atomic_load(&fk_target))
        return false;
    fault_injected();
    return true;
}

/* ---- allocation hooks (the link maps X to __wrap_X) -------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_asprintf(char **out, const char *fmt, ...);

void *__wrap_malloc(size_t n)
{
    if (fault_now(FK_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (fault_now(FK_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (fault_now(FK_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    if (fault_now(FK_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    if (fault_now(FK_ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_strndup(s, n);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    if (fault_now(FK_ALLOC)) {
        errno = ENOMEM;
        return -1;
    }
    return __real_vasprintf(out, fmt, ap);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    if (fault_now(FK_ALLOC)) {
        errno = ENOMEM;
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = __real_vasprintf(out, fmt, ap);
    va_end(ap);
    return rc;
}

/* jansson is a shared library: route its allocations through the hook. */
static void *json_alloc(size_t n)
{
    return __wrap_malloc(n);
}

static void json_release(void *p)
{
    free(p);
}

/* ---- LMDB hooks -------------------------------------------------------- */

/* Transactions a failed call has poisoned, as LMDB marks them with
 * MDB_TXN_ERROR: every later call on them fails, commit aborts. */
#define POISON_MAX 64
static MDB_txn *poisoned[POISON_MAX];
static pthread_mutex_t poison_lock = PTHREAD_MUTEX_INITIALIZER;

static void poison(MDB_txn *txn, bool on)
{
    pthread_mutex_lock(&poison_lock);
    for (int i = 0; i < POISON_MAX; i++) {
        if (on && poisoned[i] == NULL) {
            poisoned[i] = txn;
            break;
        }
        if (!on && poisoned[i] == txn)
            poisoned[i] = NULL;
    }
    pthread_mutex_unlock(&poison_lock);
}

static bool is_poisoned(MDB_txn *txn)
{
    bool p = false;
    pthread_mutex_lock(&poison_lock);
    for (int i = 0; i < POISON_MAX && !p; i++)
        p = poisoned[i] == txn;
    pthread_mutex_unlock(&poison_lock);
    return p;
}

int __real_mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned int flags,
                         MDB_txn **txn);
int __real_mdb_txn_renew(MDB_txn *txn);
int __real_mdb_txn_commit(MDB_txn *txn);
void __real_mdb_txn_abort(MDB_txn *txn);
void __real_mdb_txn_reset(MDB_txn *txn);
int __real_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __real_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data,
                   unsigned int flags);
int __real_mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __real_mdb_cursor_open(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **cursor);
int __real_mdb_cursor_get(MDB_cursor *cursor, MDB_val *key, MDB_val *data,
                          MDB_cursor_op op);
int __real_mdb_cursor_del(MDB_cursor *cursor, unsigned int flags);
int __real_mdb_env_copyfd2(MDB_env *env, mdb_filehandle_t fd,
                           unsigned int flags);
int __wrap_mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned int flags,
                         MDB_txn **txn);
int __wrap_mdb_txn_renew(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn);
void __wrap_mdb_txn_abort(MDB_txn *txn);
void __wrap_mdb_txn_reset(MDB_txn *txn);
int __wrap_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __wrap_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data,
                   unsigned int flags);
int __wrap_mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __wrap_mdb_cursor_open(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **cursor);
int __wrap_mdb_cursor_get(MDB_cursor *cursor, MDB_val *key, MDB_val *data,
                          MDB_cursor_op op);
int __wrap_mdb_cursor_del(MDB_cursor *cursor, unsigned int flags);
int __wrap_mdb_env_copyfd2(MDB_env *env, mdb_filehandle_t fd,
                           unsigned int flags);

int __wrap_mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned int flags,
                         MDB_txn **txn)
{
    if (fault_now(FK_LMDB))
        return (flags & MDB_RDONLY) ? MDB_READERS_FULL : EIO;
    return __real_mdb_txn_begin(env, parent, flags, txn);
}

int __wrap_mdb_txn_renew(MDB_txn *txn)
{
    if (fault_now(FK_LMDB))
        return MDB_READERS_FULL;
    poison(txn, false);
    return __real_mdb_txn_renew(txn);
}

int __wrap_mdb_txn_commit(MDB_txn *txn)
{
    if (is_poisoned(txn) || fault_now(FK_LMDB)) {
        /* LMDB frees the transaction when its commit fails. */
        int rc = is_poisoned(txn) ? MDB_BAD_TXN : ENOSPC;
        poison(txn, false);
        __real_mdb_txn_abort(txn);
        return rc;
    }
    return __real_mdb_txn_commit(txn);
}

void __wrap_mdb_txn_abort(MDB_txn *txn)
{
    poison(txn, false);
    __real_mdb_txn_abort(txn);
}

void __wrap_mdb_txn_reset(MDB_txn *txn)
{
    poison(txn, false);
    __real_mdb_txn_reset(txn);
}

int __wrap_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
    if (is_poisoned(txn))
        return MDB_BAD_TXN;
    if (fault_now(FK_LMDB)) {
        poison(txn, true);
        return MDB_CORRUPTED;
    }
    return __real_mdb_get(txn, dbi, key, data);
}

int __wrap_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data,
                   unsigned int flags)
{
    if (is_poisoned(txn))
        return MDB_BAD_TXN;
    if (fault_now(FK_LMDB)) {
        poison(txn, true);
        return MDB_MAP_FULL;
    }
    return __real_mdb_put(txn, dbi, key, data, flags);
}

int __wrap_mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
    if (is_poisoned(txn))
        return MDB_BAD_TXN;
    if (fault_now(FK_LMDB)) {
        poison(txn, true);
        return MDB_MAP_FULL;
    }
    return __real_mdb_del(txn, dbi, key, data);
}

int __wrap_mdb_cursor_open(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **cursor)
{
    if (is_poisoned(txn))
        return MDB_BAD_TXN;
    if (fault_now(FK_LMDB))
        return ENOMEM;
    return __real_mdb_cursor_open(txn, dbi, cursor);
}

int __wrap_mdb_cursor_get(MDB_cursor *cursor, MDB_val *key, MDB_val *data,
                          MDB_cursor_op op)
{
    MDB_txn *txn = mdb_cursor_txn(cursor);
    if (is_poisoned(txn))
        return MDB_BAD_TXN;
    if (fault_now(FK_LMDB)) {
        poison(txn, true);
        return MDB_CORRUPTED;
    }
    return __real_mdb_cursor_get(cursor, key, data, op);
}

int __wrap_mdb_cursor_del(MDB_cursor *cursor, unsigned int flags)
{
    MDB_txn *txn = mdb_cursor_txn(cursor);
    if (is_poisoned(txn))
        return MDB_BAD_TXN;
    if (fault_now(FK_LMDB)) {
        poison(txn, true);
        return MDB_MAP_FULL;
    }
    return __real_mdb_cursor_del(cursor, flags);
}

int __wrap_mdb_env_copyfd2(MDB_env *env, mdb_filehandle_t fd,
                           unsigned int flags)
{
    if (fault_now(FK_LMDB))
        return EIO;
    return __real_mdb_env_copyfd2(env, fd, flags);
}

/* ---- the failing backend wrapper --------------------------------------- */

typedef struct fault_be {
    akv_backend base;
    akv_backend *inner;
    akv_backend_ops ops;
} fault_be;

static akv_backend *inner_of(akv_backend *be)
{
    return ((fault_be *)be)->inner;
}

static int injected(const char *op)
{
    return akv_fail(AKV_EUNAVAILABLE, "injected backend failure in %s", op);
}

static void fb_close(akv_backend *be)
{
    akv_backend *in = inner_of(be);
    in->ops->close(in);
    free(be);
}

static int fb_get(akv_backend *be, const akv_ns *ns, const char *key,
                  size_t key_len, akv_rec *rec, void **hold)
{
    if (fault_now(FK_BACKEND))
        return injected("get");
    akv_backend *in = inner_of(be);
    return in->ops->get(in, ns, key, key_len, rec, hold);
}

static void fb_release(akv_backend *be, void *hold)
{
    akv_backend *in = inner_of(be);
    in->ops->release(in, hold);
}

static void fb_get_many(akv_backend *be, size_t n, const akv_ns *ns,
                        const char *const *keys, const size_t *key_lens,
                        akv_rec *recs, void **holds, int *rcs)
{
    akv_backend *in = inner_of(be);
    if (fault_now(FK_BACKEND)) {
        injected("get_many");
        for (size_t i = 0; i < n; i++)
            rcs[i] = AKV_EUNAVAILABLE;
        return;
    }
    if (in->ops->get_many) {
        in->ops->get_many(in, n, ns, keys, key_lens, recs, holds, rcs);
        return;
    }
    for (size_t i = 0; i < n; i++)
        rcs[i] = in->ops->get(in, &ns[i], keys[i], key_lens[i], &recs[i],
                              &holds[i]);
}

static int fb_put(akv_backend *be, const akv_write *w, akv_rec *out,
                  int *created)
{
    if (fault_now(FK_BACKEND))
        return injected("put");
    akv_backend *in = inner_of(be);
    return in->ops->put(in, w, out, created);
}

static void fb_put_many(akv_backend *be, size_t n, const akv_write *w,
                        akv_rec *out, int *created, int *rcs, akv_error *errs)
{
    akv_backend *in = inner_of(be);
    if (fault_now(FK_BACKEND)) {
        injected("put_many");
        for (size_t i = 0; i < n; i++) {
            rcs[i] = AKV_EUNAVAILABLE;
            errs[i] = *akv_last_error();
        }
        return;
    }
    in->ops->put_many(in, n, w, out, created, rcs, errs);
}

static int fb_del(akv_backend *be, const akv_ns *ns, const char *key,
                  size_t key_len, int64_t now, bool *was_live)
{
    if (fault_now(FK_BACKEND))
        return injected("del");
    akv_backend *in = inner_of(be);
    return in->ops->del(in, ns, key, key_len, now, was_live);
}

static int fb_touch(akv_backend *be, const akv_ns *ns, const char *key,
                    size_t key_len, int64_t expires_at)
{
    if (fault_now(FK_BACKEND))
        return injected("touch");
    akv_backend *in = inner_of(be);
    return in->ops->touch(in, ns, key, key_len, expires_at);
}

/* A scan fails before it starts or after any record it delivered: each
 * record counts as one call. */
struct fb_scan {
    akv_scan_fn fn;
    void *ctx;
    bool failed;
};

static int fb_scan_one(void *ctx, const akv_ns *ns, const char *key,
                       size_t key_len, const akv_rec *rec)
{
    struct fb_scan *c = ctx;
    if (fault_now(FK_BACKEND)) {
        c->failed = true;
        return 1;
    }
    return c->fn(c->ctx, ns, key, key_len, rec);
}

static int fb_scan(akv_backend *be, const akv_ns *ns, const char *prefix,
                   size_t prefix_len, const char *after, size_t after_len,
                   akv_scan_fn fn, void *ctx)
{
    if (fault_now(FK_BACKEND))
        return injected("scan");
    akv_backend *in = inner_of(be);
    struct fb_scan c = {fn, ctx, false};
    int rc = in->ops->scan(in, ns, prefix, prefix_len, after, after_len,
                           fb_scan_one, &c);
    return c.failed ? injected("scan (midway)") : rc;
}

static int fb_remove(akv_backend *be, const akv_ns *ns, bool expired_only,
                     int64_t now, uint64_t counts[AKV_SCOPE_COUNT],
                     uint64_t *live_removed)
{
    if (fault_now(FK_BACKEND))
        return injected("remove");
    akv_backend *in = inner_of(be);
    return in->ops->remove(in, ns, expired_only, now, counts, live_removed);
}

static int fb_usage(akv_backend *be, uint64_t entries[AKV_SCOPE_COUNT],
                    uint64_t bytes[AKV_SCOPE_COUNT])
{
    if (fault_now(FK_BACKEND))
        return injected("usage");
    akv_backend *in = inner_of(be);
    return in->ops->usage(in, entries, bytes);
}

static void fb_count(akv_backend *be, akv_scope scope, bool hit)
{
    akv_backend *in = inner_of(be);
    in->ops->count(in, scope, hit);
}

static void fb_counters(akv_backend *be, uint64_t hits[AKV_SCOPE_COUNT],
                        uint64_t misses[AKV_SCOPE_COUNT])
{
    akv_backend *in = inner_of(be);
    in->ops->counters(in, hits, misses);
}

static int fb_backup(akv_backend *be, const char *path,
                     akv_progress_fn progress, void *ctx)
{
    if (fault_now(FK_BACKEND))
        return injected("backup");
    akv_backend *in = inner_of(be);
    return in->ops->backup(in, path, progress, ctx);
}

static int fb_write_batch(akv_backend *be, const akv_write *w, size_t n,
                          akv_rec *out)
{
    if (fault_now(FK_BACKEND))
        return injected("write_batch");
    akv_backend *in = inner_of(be);
    return in->ops->write_batch(in, w, n, out);
}

/* Puts the failing wrapper between the store and its backend. */
static void wrap_backend(akv_store *s)
{
    fault_be *fb = calloc(1, sizeof *fb);
    assert_non_null(fb);
    fb->inner = s->be;
    fb->ops = *s->be->ops;
    fb->ops.close = fb_close;
    fb->ops.get = fb_get;
    fb->ops.release = fb_release;
    fb->ops.get_many = fb_get_many;
    fb->ops.put = fb_put;
    fb->ops.put_many = s->be->ops->put_many ? fb_put_many : NULL;
    /* No split: the store then calls put_many, which fails here (Redis'
     * put_many is its send and receive halves in one). */
    fb->ops.put_many_send = NULL;
    fb->ops.put_many_recv = NULL;
    fb->ops.del = fb_del;
    fb->ops.touch = fb_touch;
    fb->ops.scan = fb_scan;
    fb->ops.remove = fb_remove;
    fb->ops.usage = fb_usage;
    fb->ops.count = fb_count;
    fb->ops.counters = fb_counters;
    fb->ops.backup = s->be->ops->backup ? fb_backup : NULL;
    fb->ops.write_batch = fb_write_batch;
    fb->base.ops = &fb->ops;
    s->be = &fb->base;
}

/* The backend below the wrapper: consistency checks read it directly. */
static akv_backend *real_backend(akv_store *s)
{
    return s->be->ops->close == fb_close ? inner_of(s->be) : s->be;
}

/* ---- text accumulation ------------------------------------------------- */

struct text {
    char *p;
    size_t len;
};

static void text_add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
    /* The test's own bookkeeping bypasses the allocation hooks. */
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = __real_vasprintf(&s, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    char *p = __real_realloc(t->p, t->len + (size_t)n + 1);
    assert_non_null(p);
    memcpy(p + t->len, s, (size_t)n + 1);
    t->p = p;
    t->len += (size_t)n;
    free(s);
}

static void text_bytes(struct text *t, const void *data, size_t len)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < len; i++)
        text_add(t, "%02x", b[i]);
}

/* ---- store state: every record, expired ones included ------------------ */

struct dump_ctx {
    struct text *t;
    uint64_t entries[AKV_SCOPE_COUNT], bytes[AKV_SCOPE_COUNT];
};

static int dump_one(void *ctx, const akv_ns *ns, const char *key,
                    size_t key_len, const akv_rec *rec)
{
    struct dump_ctx *c = ctx;
    text_add(c->t, "%d/%.*s/%.*s v%llu c%lld u%lld e%lld ct=%.*s md=%.*s ",
             ns->scope, (int)ns->sandbox_len, ns->sandbox, (int)key_len, key,
             (unsigned long long)rec->version, (long long)rec->created_at,
             (long long)rec->updated_at, (long long)rec->expires_at,
             (int)rec->content_type_len, rec->content_type,
             (int)rec->metadata_len, rec->metadata ? rec->metadata : "");
    text_bytes(c->t, rec->value, rec->value_len);
    text_add(c->t, "\n");
    c->entries[ns->scope]++;
    c->bytes[ns->scope] += akv_rec_usage(key_len, rec->stored_len);
    return 0;
}

/* Every record of the store as text, read below any injected fault; also
 * checks that the usage counters equal a recount and that akv_check
 * passes. Owned result. */
static char *store_state(akv_store *s)
{
    struct text t = {NULL, 0};
    struct dump_ctx c = {&t, {0}, {0}};
    akv_backend *be = real_backend(s);
    akv_ns all = {NULL, 0, AKV_SCOPE_ALL};
    text_add(&t, "records:\n");
    assert_ok(be->ops->scan(be, &all, NULL, 0, NULL, 0, dump_one, &c));
    uint64_t entries[AKV_SCOPE_COUNT] = {0}, bytes[AKV_SCOPE_COUNT] = {0};
    assert_ok(be->ops->usage(be, entries, bytes));
    for (int i = 0; i < AKV_SCOPE_COUNT; i++) {
        if (entries[i] != c.entries[i] || bytes[i] != c.bytes[i])
            fail_msg("usage of scope %s says %llu entries, %llu bytes; the "
                     "records are %llu entries, %llu bytes",
                     akv_scope_name(i), (unsigned long long)entries[i],
                     (unsigned long long)bytes[i],
                     (unsigned long long)c.entries[i],
                     (unsigned long long)c.bytes[i]);
    }
    uint64_t checked = 0, failed = 0;
    assert_ok(akv_check(s, NULL, NULL, NULL, &checked, &failed));
    assert_int_equal(failed, 0);
    return t.p;
}

/* ---- the store every run starts from ----------------------------------- */

#define T0 1795651200000LL /* tu_store_open's clock */
#define SB "sb1"

static char *seed_a, *seed_b; /* instruction directories */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static const char set_alpha[] =
    "---\nname: alpha\ndescription: The first set.\nversion: 1\n---\n"
    "# Alpha\n\nDo the first thing.\n";
static const char set_beta1[] =
    "---\nname: beta\ndescription: The second set.\n---\n# Beta\n\nOld.\n";
static const char set_beta2[] =
    "---\nname: beta\ndescription: The second set.\n---\n# Beta\n\nNew.\n";
static const char set_gamma[] =
    "---\nname: gamma\ndescription: Goes away.\n---\n# Gamma\n";
static const char set_delta[] =
    "---\nname: delta\ndescription: Arrives.\n---\n# Delta\n\nHello.\n";

static void make_seed_dirs(void)
{
    if (seed_a)
        return;
    seed_a = tu_tempdir();
    seed_b = tu_tempdir();
    write_file(seed_a, "alpha.md", set_alpha);
    write_file(seed_a, "beta.md", set_beta1);
    write_file(seed_a, "gamma.md", set_gamma);
    write_file(seed_b, "alpha.md", set_alpha);
    write_file(seed_b, "beta.md", set_beta2);
    write_file(seed_b, "delta.md", set_delta);
}

static void put_one(akv_store *s, const char *sb, akv_scope scope,
                    const char *key, const char *val, int64_t ttl,
                    const char *meta)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.ttl = ttl;
    o.content_type = "text/plain";
    o.metadata = meta;
    o.metadata_len = meta ? strlen(meta) : 0;
    assert_ok(akv_put(s, sb, scope, key, strlen(key), val, strlen(val), &o,
                      NULL, NULL));
}

static const char big[] =
    "expired-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"; /* 100 bytes */

/* Live and expired task entries (the expired ones are big enough that the
 * task quota set below only admits a new write by collecting them), an
 * overlaid system entry and a _global one, other sandboxes, and a seeded
 * instruction set. */
static void baseline(tu_store *ts)
{
    akv_store *s = ts->store;
    put_one(s, SB, AKV_SCOPE_TASK, "k1", "value-one", 0, NULL);
    put_one(s, SB, AKV_SCOPE_TASK, "k2", "value-two", 0, "{\"a\":1}");
    put_one(s, SB, AKV_SCOPE_TASK, "k3", "three", 3600, "{\"b\":[1,2]}");
    put_one(s, SB, AKV_SCOPE_TASK, "e1", big, 1, NULL);
    put_one(s, SB, AKV_SCOPE_TASK, "e2", big, 1, "{\"c\":true}");
    put_one(s, SB, AKV_SCOPE_SYSTEM, "g1", "own-g1", 0, NULL);
    put_one(s, AKV_GLOBAL_SANDBOX, AKV_SCOPE_SYSTEM, "g1", "global-g1", 0,
            NULL);
    put_one(s, AKV_GLOBAL_SANDBOX, AKV_SCOPE_SYSTEM, "g2", "global-g2", 0,
            "{\"d\":\"x\"}");
    put_one(s, "sb2", AKV_SCOPE_PROJECT, "p1", "project-one", 0, NULL);
    put_one(s, "sb2", AKV_SCOPE_TASK, "e3", "gone", 1, NULL);
    assert_ok(akv_seed(s, SB, seed_a, NULL, NULL));
    ts->clock.now_ms += 10 * 1000; /* e1, e2, e3 have expired */
    /* Stored bytes (key + record, 88-byte header included) of sb1's task
     * scope: live about 340, a new put about 130, the two expired entries
     * about 440. So the live bytes plus a new put fit in the quota, the
     * live plus the expired ones do not: a put must collect them. */
    ts->store->cfg.quota[AKV_SCOPE_TASK] = 600;
}

/* ---- the operations under test ----------------------------------------- */

/* An operation returns its result code and appends what it observed (the
 * answer a caller would see) to obs. */
typedef int (*op_fn)(tu_store *ts, struct text *obs);

/* Renders m without faults: only the operation itself is under test. */
static void obs_meta(struct text *obs, const akv_meta *m)
{
    int armed = atomic_exchange(&fk_armed, FK_NONE);
    char *j = akv_meta_to_json(m);
    atomic_store(&fk_armed, armed);
    if (j == NULL) {
        text_add(obs, "meta-json-failed\n");
        return;
    }
    text_add(obs, "%s\n", j);
    free(j);
}

static int op_put_new(tu_store *ts, struct text *obs)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.content_type = "text/plain";
    o.metadata = "{\"why\":\"test\"}";
    o.metadata_len = strlen(o.metadata);
    akv_meta m;
    int created = -1;
    int rc = akv_put(ts->store, SB, AKV_SCOPE_TASK, "new", 3, "new-value-123",
                     13, &o, &m, &created);
    if (rc == AKV_OK) {
        text_add(obs, "created=%d ", created);
        obs_meta(obs, &m);
    }
    return rc;
}

/* The namespaces the last import (or put-many) reported written, as
 * "SCOPE/SANDBOX/" lines: the prefix of their records in store_state. */
static struct text ns_written_list;

/* Two independent puts in two namespaces (akv_put_many, pipelined on
 * Redis): each written or not on its own, as reported. */
static int op_put_many(tu_store *ts, struct text *obs)
{
    free(ns_written_list.p);
    ns_written_list = (struct text){NULL, 0};
    text_add(&ns_written_list, "%s", "");
    akv_put_req q[] = {
        {.sandbox = SB, .scope = AKV_SCOPE_TASK, .key = "pm1", .key_len = 3,
         .value = "one", .value_len = 3},
        {.sandbox = "sb2", .scope = AKV_SCOPE_PROJECT, .key = "pm2",
         .key_len = 3, .value = "two", .value_len = 3},
    };
    int rc = akv_put_many(ts->store, q, 2);
    for (size_t i = 0; i < 2; i++) {
        if (q[i].rc != AKV_OK) {
            if (rc == AKV_OK) {
                akv_error_restore(&q[i].error);
                rc = q[i].rc;
            }
            continue;
        }
        text_add(&ns_written_list, "%d/%s/\n", (int)q[i].scope, q[i].sandbox);
        text_add(obs, "created=%d ", q[i].created);
        obs_meta(obs, &q[i].meta);
    }
    return rc;
}

static int op_put_replace(tu_store *ts, struct text *obs)
{
    akv_meta m;
    int created = -1;
    int rc = akv_put(ts->store, SB, AKV_SCOPE_TASK, "k1", 2, "v1b", 3, NULL,
                     &m, &created);
    if (rc == AKV_OK) {
        text_add(obs, "created=%d ", created);
        obs_meta(obs, &m);
    }
    return rc;
}

static int get_into(tu_store *ts, const char *sb, akv_scope scope,
                    const char *key, struct text *obs)
{
    akv_value *v = NULL;
    int rc = akv_get(ts->store, sb, scope, key, strlen(key), &v);
    if (rc != AKV_OK)
        return rc;
    size_t len;
    const void *d = akv_value_data(v, &len);
    text_bytes(obs, d, len);
    text_add(obs, " ");
    obs_meta(obs, akv_value_meta(v));
    akv_value_release(v);
    return AKV_OK;
}

static int op_get(tu_store *ts, struct text *obs)
{
    int rc;
    if ((rc = get_into(ts, SB, AKV_SCOPE_SYSTEM, "g1", obs)) != AKV_OK ||
        (rc = get_into(ts, SB, AKV_SCOPE_SYSTEM, "g2", obs)) != AKV_OK ||
        (rc = get_into(ts, SB, AKV_SCOPE_TASK, "k2", obs)) != AKV_OK)
        return rc;
    rc = get_into(ts, SB, AKV_SCOPE_TASK, "e1", obs); /* expired */
    return rc == AKV_ENOTFOUND ? AKV_OK : rc == AKV_OK ? AKV_EINVAL : rc;
}

/* A request that got another answer than without faults turns into the
 * call's result, so that the loop checks its code and message. */
static int op_get_many(tu_store *ts, struct text *obs)
{
    akv_get_req r[4] = {
        {.sandbox = SB, .scope = AKV_SCOPE_SYSTEM, .key = "g1", .key_len = 2},
        {.sandbox = SB, .scope = AKV_SCOPE_SYSTEM, .key = "g2", .key_len = 2},
        {.sandbox = SB, .scope = AKV_SCOPE_TASK, .key = "k3", .key_len = 2},
        {.sandbox = SB, .scope = AKV_SCOPE_TASK, .key = "no", .key_len = 2},
    };
    static const int want[4] = {AKV_OK, AKV_OK, AKV_OK, AKV_ENOTFOUND};
    int rc = akv_get_many(ts->store, r, 4);
    if (rc != AKV_OK)
        return rc; /* the requests were not served */
    int first_bad = AKV_OK;
    for (int i = 0; i < 4; i++) {
        if (r[i].rc == AKV_OK) {
            size_t len;
            const void *d = akv_value_data(r[i].value, &len);
            text_bytes(obs, d, len);
            text_add(obs, " ");
            obs_meta(obs, akv_value_meta(r[i].value));
            akv_value_release(r[i].value);
        }
        if (r[i].rc != want[i] && first_bad == AKV_OK) {
            first_bad = r[i].rc;
            /* The request's own error becomes the thread's. */
            akv_error_restore(&r[i].error);
        }
    }
    return first_bad;
}

static int list_pages(tu_store *ts, akv_scope scope, size_t limit,
                      int include_expired, struct text *obs)
{
    char cursor[AKV_KEY_MAX + 1] = "";
    for (int page = 0; page < 20; page++) {
        akv_list_opts o = {0};
        o.limit = limit;
        o.include_expired = include_expired;
        if (page) {
            o.cursor = cursor;
            o.cursor_len = strlen(cursor);
        }
        akv_list *l = NULL;
        int rc = akv_list_entries(ts->store, SB, scope, &o, &l);
        if (rc != AKV_OK)
            return rc;
        for (size_t i = 0; i < akv_list_count(l); i++)
            obs_meta(obs, akv_list_item(l, i));
        const char *next = akv_list_next_cursor(l);
        text_add(obs, "page end %s\n", next ? next : "-");
        if (next)
            snprintf(cursor, sizeof cursor, "%s", next);
        akv_list_free(l);
        if (next == NULL)
            return AKV_OK;
    }
    fail_msg("list does not end");
    return AKV_EINVAL;
}

static int op_list(tu_store *ts, struct text *obs)
{
    int rc = list_pages(ts, AKV_SCOPE_SYSTEM, 1, 0, obs);
    if (rc == AKV_OK)
        rc = list_pages(ts, AKV_SCOPE_TASK, 2, 1, obs);
    return rc;
}

static int op_del(tu_store *ts, struct text *obs)
{
    (void)obs;
    return akv_del(ts->store, SB, AKV_SCOPE_TASK, "k2", 2);
}

static int op_clear(tu_store *ts, struct text *obs)
{
    uint64_t n = 0;
    int rc = akv_clear(ts->store, SB, AKV_SCOPE_TASK, &n);
    text_add(obs, "deleted %llu\n", (unsigned long long)n);
    return rc;
}

static int op_prune(tu_store *ts, struct text *obs)
{
    uint64_t pruned[AKV_SCOPE_COUNT] = {0};
    int rc = akv_prune(ts->store, NULL, AKV_SCOPE_ALL, pruned);
    for (int i = 0; i < AKV_SCOPE_COUNT; i++)
        text_add(obs, "%llu ", (unsigned long long)pruned[i]);
    return rc;
}

static int op_batch(tu_store *ts, struct text *obs)
{
    akv_batch_op ops[3];
    memset(ops, 0, sizeof ops);
    ops[0].key = "b1";
    ops[0].key_len = 2;
    ops[0].value = "batch-one";
    ops[0].value_len = 9;
    akv_put_opts_init(&ops[0].opts);
    ops[0].opts.metadata = "{\"batch\":1}";
    ops[0].opts.metadata_len = strlen(ops[0].opts.metadata);
    ops[1].key = "k2";
    ops[1].key_len = 2;
    ops[1].value = "two-again";
    ops[1].value_len = 9;
    akv_put_opts_init(&ops[1].opts);
    ops[2].del = 1;
    ops[2].key = "k1";
    ops[2].key_len = 2;
    akv_meta out[3];
    int rc = akv_batch_write(ts->store, SB, AKV_SCOPE_TASK, ops, 3, out);
    if (rc == AKV_OK) {
        obs_meta(obs, &out[0]);
        obs_meta(obs, &out[1]);
    }
    return rc;
}

/* JSON Lines over four namespaces (one of them replaces an entry). */
static const char import_text[] =
    "{\"sandbox\":\"sb3\",\"scope\":\"task\",\"key\":\"i1\",\"origin\":\"sb3\","
    "\"size\":2,\"content_type\":\"text/plain\",\"sha256\":"
    "\"8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4\","
    "\"version\":4,\"created_at\":\"2026-11-25T10:00:00.000Z\","
    "\"updated_at\":\"2026-11-25T11:00:00.000Z\",\"expires_at\":null,"
    "\"metadata\":{\"m\":1},\"value\":\"aGk=\"}\n"
    "\n"
    "{\"sandbox\":\"sb3\",\"scope\":\"project\",\"key\":\"i2\","
    "\"content_type\":\"application/octet-stream\",\"sha256\":"
    "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
    "\"version\":1,\"created_at\":\"2026-11-25T10:00:00Z\","
    "\"updated_at\":\"2026-11-25T10:00:00Z\",\"expires_at\":"
    "\"2027-01-01T00:00:00Z\",\"metadata\":null,\"value\":\"\"}\n"
    "{\"sandbox\":\"_global\",\"scope\":\"system\",\"key\":\"i3\","
    "\"content_type\":\"text/plain\",\"sha256\":"
    "\"8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4\","
    "\"version\":2,\"created_at\":\"2026-11-25T10:00:00Z\","
    "\"updated_at\":\"2026-11-25T10:00:00Z\",\"expires_at\":null,"
    "\"metadata\":{},\"value\":\"aGk=\"}\n"
    "{\"sandbox\":\"sb2\",\"scope\":\"project\",\"key\":\"p1\","
    "\"content_type\":\"text/plain\",\"sha256\":"
    "\"8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4\","
    "\"version\":9,\"created_at\":\"2026-11-25T10:00:00Z\","
    "\"updated_at\":\"2026-11-25T10:00:00Z\",\"expires_at\":null,"
    "\"metadata\":{\"x\":[true,null]},\"value\":\"aGk=\"}\n";

static void import_report(void *ctx, const akv_import_ns *ns)
{
    struct text *obs = ctx;
    static const char *const status[] = {"written", "failed", "not tried"};
    text_add(obs, "%s/%s %llu %s\n", ns->sandbox, akv_scope_name(ns->scope),
             (unsigned long long)ns->entries, status[ns->status]);
    if (ns->status == AKV_IMPORT_WRITTEN)
        text_add(&ns_written_list, "%d/%s/\n", (int)ns->scope, ns->sandbox);
}

static int op_import(tu_store *ts, struct text *obs)
{
    FILE *in = fmemopen((void *)import_text, sizeof import_text - 1, "r");
    assert_non_null(in);
    uint64_t n = 99;
    free(ns_written_list.p);
    ns_written_list = (struct text){NULL, 0};
    text_add(&ns_written_list, "%s", "");
    int rc = akv_import_each(ts->store, in, NULL, NULL, import_report, obs,
                             &n);
    fclose(in);
    text_add(obs, "imported %llu\n", (unsigned long long)n);
    return rc;
}

static int op_export(tu_store *ts, struct text *obs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    uint64_t n = 0;
    int rc = akv_export(ts->store, NULL, AKV_SCOPE_ALL, out, NULL, NULL, &n);
    fclose(out);
    if (rc == AKV_OK)
        text_add(obs, "%llu\n%s", (unsigned long long)n, buf);
    free(buf);
    return rc;
}

static int op_seed(tu_store *ts, struct text *obs)
{
    akv_seed_opts o = {0};
    o.prune = 1;
    akv_seed_report *rep = NULL;
    int rc = akv_seed(ts->store, SB, seed_b, &o, &rep);
    if (rc == AKV_OK) {
        assert_non_null(rep);
        text_add(obs, "%zu %zu %zu %zu\n", rep->added, rep->updated,
                 rep->unchanged, rep->removed);
        for (size_t i = 0; i < rep->nitems; i++)
            text_add(obs, "%s %d %llu %llu %s\n", rep->items[i].name,
                     (int)rep->items[i].action,
                     (unsigned long long)rep->items[i].version,
                     (unsigned long long)rep->items[i].tokens,
                     rep->items[i].source);
    } else {
        assert_null(rep);
    }
    akv_seed_report_free(rep);
    return rc;
}

static int op_instructions(tu_store *ts, struct text *obs)
{
    akv_instructions *l = NULL;
    int rc = akv_instructions_list(ts->store, SB, &l);
    if (rc != AKV_OK)
        return rc;
    char *j = akv_instructions_to_json(l, SB);
    akv_instructions_free(l);
    if (j == NULL)
        return akv_fail(AKV_ENOMEM, "instructions JSON: out of memory");
    text_add(obs, "%s\n", j);
    free(j);
    return AKV_OK;
}

static int op_check(tu_store *ts, struct text *obs)
{
    uint64_t checked = 0, failed = 0;
    int rc = akv_check(ts->store, NULL, NULL, NULL, &checked, &failed);
    if (rc == AKV_OK)
        text_add(obs, "%llu %llu\n", (unsigned long long)checked,
                 (unsigned long long)failed);
    return rc;
}

static int op_stats(tu_store *ts, struct text *obs)
{
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n = 0;
    int rc = akv_stats(ts->store, SB, AKV_SCOPE_ALL, rows, &n);
    if (rc != AKV_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        text_add(obs, "%d %llu %llu %llu %llu\n", rows[i].scope,
                 (unsigned long long)rows[i].entries,
                 (unsigned long long)rows[i].bytes,
                 (unsigned long long)rows[i].expired,
                 (unsigned long long)rows[i].expired_bytes);
    uint64_t entries[AKV_SCOPE_COUNT], bytes[AKV_SCOPE_COUNT];
    if ((rc = akv_store_usage(ts->store, entries, bytes)) != AKV_OK)
        return rc;
    for (int i = 0; i < AKV_SCOPE_COUNT; i++)
        text_add(obs, "%llu/%llu ", (unsigned long long)entries[i],
                 (unsigned long long)bytes[i]);
    return AKV_OK;
}

static int op_backup(tu_store *ts, struct text *obs)
{
    (void)obs;
    char path[4096];
    snprintf(path, sizeof path, "%s/backup", ts->dir);
    return akv_backup(ts->store, path, NULL, NULL);
}

/* A backup either succeeded with a copy that holds the same records, or
 * left no store behind. */
static void verify_backup(tu_store *ts, int rc)
{
    char path[4096], file[4200];
    snprintf(path, sizeof path, "%s/backup", ts->dir);
    snprintf(file, sizeof file, "%s/data.mdb", path);
    struct stat st;
    if (rc != AKV_OK) {
        assert_int_not_equal(stat(file, &st), 0);
        return;
    }
    akv_store *copy = NULL;
    assert_ok(akv_store_open(&copy, NULL, path, NULL, 0));
    akv_store_set_clock(copy, tu_clock, &ts->clock);
    char *a = store_state(copy), *b = store_state(ts->store);
    assert_string_equal(a, b);
    free(a);
    free(b);
    akv_store_close(copy);
}

struct op {
    const char *name;
    op_fn fn;
    bool lmdb_only;
    void (*verify)(tu_store *ts, int rc); /* after the fault is disarmed */
    /* Applied one namespace at a time (import, put-many): a failed call
     * may have written the namespaces it reported written
     * (ns_written_list), and only those, each whole. */
    bool per_namespace;
};

static const struct op ops[] = {
    {.name = "put", .fn = op_put_new},
    {.name = "put-replace", .fn = op_put_replace},
    {.name = "put-many", .fn = op_put_many, .per_namespace = true},
    {.name = "get", .fn = op_get},
    {.name = "get-many", .fn = op_get_many},
    {.name = "list", .fn = op_list},
    {.name = "delete", .fn = op_del},
    {.name = "clear", .fn = op_clear},
    {.name = "prune", .fn = op_prune},
    {.name = "batch", .fn = op_batch},
    {.name = "import", .fn = op_import, .per_namespace = true},
    {.name = "export", .fn = op_export},
    {.name = "seed", .fn = op_seed},
    {.name = "instructions", .fn = op_instructions},
    {.name = "check", .fn = op_check},
    {.name = "stats", .fn = op_stats},
    {.name = "backup", .fn = op_backup, .lmdb_only = true,
     .verify = verify_backup},
};

/* ---- the loop ---------------------------------------------------------- */

/* An upper bound on the fallible calls of one operation: a loop that
 * reaches it has stopped making progress. */
#define MAX_CALLS 5000

struct run {
    int rc;
    akv_error err; /* the thread's last error right after the call */
    char *obs, *before, *after;
    bool hit;
    long calls;
};

static void run_free(struct run *r)
{
    free(r->obs);
    free(r->before);
    free(r->after);
}

/* One run of op on a fresh store, with fault kind armed at call n (n 0 =
 * no fault). */
static struct run run_once(const struct op *op, enum fault_kind kind, long n)
{
    tu_store ts;
    tu_store_open(&ts, NULL);
    baseline(&ts);
    if (kind == FK_BACKEND)
        wrap_backend(ts.store);
    struct run r = {0};
    r.before = store_state(ts.store);
    struct text obs = {NULL, 0};
    text_add(&obs, "%s: ", op->name);
    akv_error_clear();
    if (n > 0)
        fault_arm(kind, n);
    r.rc = op->fn(&ts, &obs);
    fault_disarm();
    r.hit = atomic_load(&fk_hit) != 0 && n > 0;
    r.calls = atomic_load(&fk_calls);
    r.err = *akv_last_error();
    if (r.rc != AKV_OK) {
        const akv_error *e = &r.err;
        if (r.rc >= 0 || strcmp(akv_err_name(r.rc), "unknown_error") == 0)
            fail_msg("%s, %s fault at call %ld: result %d is no AKV_E* code",
                     op->name, kind_names[kind], n, r.rc);
        if (e->code != r.rc || e->message[0] == '\0')
            fail_msg("%s, %s fault at call %ld: %s without its message "
                     "(last error %s: \"%s\")",
                     op->name, kind_names[kind], n, akv_err_name(r.rc),
                     akv_err_name(e->code), e->message);
    }
    r.obs = obs.p;
    if (op->verify)
        op->verify(&ts, r.rc);
    r.after = store_state(ts.store);
    tu_store_close(&ts);
    return r;
}

/* The result codes a fault of kind may turn into. */
static bool expected_code(enum fault_kind kind, int rc)
{
    switch (kind) {
    case FK_ALLOC:
        return rc == AKV_ENOMEM;
    case FK_LMDB:
        return rc == AKV_EUNAVAILABLE || rc == AKV_ENOMEM;
    default:
        return rc == AKV_EUNAVAILABLE;
    }
}

/* The lines of state whose record is in namespace ns ("SCOPE/SANDBOX/"),
 * in order. Owned result. */
static char *ns_lines(const char *state, const char *ns, size_t ns_len)
{
    struct text t = {NULL, 0};
    text_add(&t, "%s", "");
    for (const char *l = state; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) + 1 : strlen(l);
        if (len >= ns_len && memcmp(l, ns, ns_len) == 0)
            text_add(&t, "%.*s", (int)len, l);
        l += len;
    }
    return t.p;
}

/* Whether namespace ns (as in ns_lines, with its '\n') is listed in
 * ns_written_list. */
static bool ns_written(const char *ns, size_t ns_len)
{
    for (const char *l = ns_written_list.p; l && *l;) {
        const char *e = strchr(l, '\n');
        if (e && (size_t)(e - l) == ns_len && memcmp(l, ns, ns_len) == 0)
            return true;
        l = e ? e + 1 : l + strlen(l);
    }
    return false;
}

/* A failed per-namespace operation: every namespace of the store is either
 * as before the call or, if the call reported it written, exactly as the
 * run without faults left it. */
static void check_per_namespace(const struct op *op, enum fault_kind kind,
                                long n, const struct run *r,
                                const struct run *ref)
{
    const char *states[] = {r->before, r->after, ref->after};
    for (size_t s = 0; s < 3; s++)
        for (const char *l = states[s]; *l;) {
            const char *e = strchr(l, '\n');
            size_t len = e ? (size_t)(e - l) + 1 : strlen(l);
            const char *s1 = memchr(l, '/', len);
            const char *s2 = s1 ? memchr(s1 + 1, '/', len - (size_t)(s1 - l) - 1)
                                : NULL;
            if (s2) {
                size_t ns_len = (size_t)(s2 - l) + 1;
                bool written = ns_written(l, ns_len);
                char *want = ns_lines(written ? ref->after : r->before, l,
                                      ns_len);
                char *got = ns_lines(r->after, l, ns_len);
                if (strcmp(want, got) != 0) {
                    fprintf(stderr, "--- namespace %.*s, expected:\n%s\n"
                            "--- got:\n%s\n", (int)ns_len, l, want, got);
                    fail_msg("%s, %s fault at call %ld: failed with %s (%s); "
                             "namespace %.*s is neither as before nor as "
                             "written, or not as reported (see above)",
                             op->name, kind_names[kind], n,
                             akv_err_name(r->rc), r->err.message,
                             (int)ns_len, l);
                }
                free(want);
                free(got);
            }
            l += len;
        }
}

static void torture(const struct op *op, enum fault_kind kind)
{
    struct run ref = run_once(op, kind, 0);
    if (ref.rc != AKV_OK)
        fail_msg("%s fails without faults: %s: %s", op->name,
                 akv_err_name(ref.rc), ref.err.message);
    long n = 1, failures = 0;
    for (; n <= MAX_CALLS; n++) {
        struct run r = run_once(op, kind, n);
        if (!r.hit) {
            /* Past the last fallible call: the run was a clean one. */
            assert_int_equal(r.rc, ref.rc);
            assert_string_equal(r.obs, ref.obs);
            assert_string_equal(r.after, ref.after);
            run_free(&r);
            break;
        }
        if (r.rc == AKV_OK) {
            /* The fault was absorbed (a retry, an optional feature): the
             * caller must not be able to tell. */
            if (strcmp(r.obs, ref.obs) != 0 ||
                strcmp(r.after, ref.after) != 0) {
                /* cmocka cuts long messages: the states go to stderr. */
                fprintf(stderr, "--- got:\n%s\n%s\n--- without faults:\n"
                        "%s\n%s\n", r.obs, r.after, ref.obs, ref.after);
                fail_msg("%s, %s fault at call %ld: succeeded with another "
                         "result (see above)",
                         op->name, kind_names[kind], n);
            }
        } else {
            failures++;
            if (!expected_code(kind, r.rc))
                fail_msg("%s, %s fault at call %ld: %s (%s), expected %s",
                         op->name, kind_names[kind], n, akv_err_name(r.rc),
                         r.err.message,
                         kind == FK_ALLOC ? "out_of_memory" : "unavailable");
            if (op->per_namespace)
                check_per_namespace(op, kind, n, &r, &ref);
            else if (strcmp(r.before, r.after) != 0) {
                fprintf(stderr, "--- before:\n%s\n--- after:\n%s\n",
                        r.before, r.after);
                fail_msg("%s, %s fault at call %ld: failed with %s (%s) but "
                         "changed the store (see above)",
                         op->name, kind_names[kind], n, akv_err_name(r.rc),
                         r.err.message);
            }
        }
        run_free(&r);
    }
    if (n > MAX_CALLS)
        fail_msg("%s: still failing at call %d", op->name, MAX_CALLS);
    print_message("%-12s %-7s %4ld fallible calls, %ld runs failed cleanly\n",
                  op->name, kind_names[kind], n - 1, failures);
    run_free(&ref);
}

static void torture_all(enum fault_kind kind)
{
    make_seed_dirs();
    /* AKV_FAULT_OPS=put,seed runs only those (to debug one failure). */
    const char *only = getenv("AKV_FAULT_OPS");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (ops[i].lmdb_only && tu_backend() != NULL)
            continue;
        if (only && *only) {
            char pat[64];
            snprintf(pat, sizeof pat, ",%s,", ops[i].name);
            char list[1024];
            snprintf(list, sizeof list, ",%s,", only);
            if (strstr(list, pat) == NULL)
                continue;
        }
        torture(&ops[i], kind);
    }
}

static void allocation_failures(void **state)
{
    (void)state;
    torture_all(FK_ALLOC);
}

static void lmdb_failures(void **state)
{
    (void)state;
    tu_lmdb_only();
    torture_all(FK_LMDB);
}

/* A store marked "2" (written before record format 3) opened while the
 * disk is full: the opening commit, which would move the marker to "3",
 * fails with ENOSPC. The store opens all the same, still marked "2", reads
 * as before and writes records of format 2 (which versions that know only
 * formats 1 and 2 read); the next open with space marks it "3". Every
 * other LMDB call of that open failing fails the open or not, and leaves
 * the store as it was. */
static void full_disk_when_marking_a_format_2_store(void **state)
{
    (void)state;
    tu_lmdb_only();
    bool stayed_2 = false;
    for (long n = 1;; n++) {
        tu_store ts;
        tu_store_open(&ts, NULL);
        put_one(ts.store, "sb", AKV_SCOPE_TASK, "k", "old", 0, NULL);
        akv_store_close(ts.store);
        ts.store = NULL;
        tu_damage_record(ts.dir, AKV_SCOPE_TASK, "sb", "k", TU_REWRITE_V2);
        tu_lmdb_marker(ts.dir, "2");

        fault_arm(FK_LMDB, n);
        int rc = akv_store_open(&ts.store, NULL, ts.dir, NULL, 0);
        fault_disarm();
        bool hit = atomic_load(&fk_hit);
        if (rc == AKV_OK) {
            akv_store_set_clock(ts.store, tu_clock, &ts.clock);
            char buf[8];
            size_t len = sizeof buf;
            assert_ok(akv_get_copy(ts.store, "sb", AKV_SCOPE_TASK, "k", 1,
                                   buf, &len, NULL));
            assert_memory_equal(buf, "old", 3);
            put_one(ts.store, "sb", AKV_SCOPE_TASK, "new", "v", 0, NULL);
            akv_store_close(ts.store);
            ts.store = NULL;
            char marker = tu_lmdb_marker(ts.dir, NULL);
            int format = tu_lmdb_record_format(ts.dir, AKV_SCOPE_TASK, "sb",
                                               "new");
            /* Marked "3" and written in format 3, or still "2" and
             * written in format 2: never format 3 in a store marked 2. */
            assert_int_equal(format, marker == '3' ? 3 : 2);
            if (marker == '2')
                stayed_2 = true;
        } else {
            assert_true(hit);
            assert_int_equal(tu_lmdb_marker(ts.dir, NULL), '2');
        }
        assert_ok(akv_store_open(&ts.store, NULL, ts.dir, NULL, 0));
        akv_store_close(ts.store);
        ts.store = NULL;
        assert_int_equal(tu_lmdb_marker(ts.dir, NULL), '3');
        tu_rmtree(ts.dir);
        free(ts.dir);
        if (!hit)
            break;
    }
    assert_true(stayed_2);
}

static void backend_failures(void **state)
{
    (void)state;
    torture_all(FK_BACKEND);
}

int main(void)
{
    json_set_alloc_funcs(json_alloc, json_release);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocation_failures),
        cmocka_unit_test(lmdb_failures),
        cmocka_unit_test(backend_failures),
        cmocka_unit_test(full_disk_when_marking_a_format_2_store),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (seed_a) {
        tu_rmtree(seed_a);
        tu_rmtree(seed_b);
        free(seed_a);
        free(seed_b);
    }
    return rc;
}

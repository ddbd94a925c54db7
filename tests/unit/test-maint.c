/*
 * test-maint.c — whole-namespace operations: stats (per scope and for one
 * scope: entries, bytes, expired, quota, default TTL, hits and misses),
 * clear (one scope of one sandbox, returning the live count), check on a
 * sound store, and backup (an openable copy; never over an existing store).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define T0 1795651200000LL /* 2026-11-26T00:00:00Z, tu_store_open's clock */
#define MiB (1024ULL * 1024)

/* ---- helpers ----------------------------------------------------------- */

static void put_ttl(tu_store *ts, const char *sb, akv_scope scope,
                    const char *key, const char *val, int64_t ttl)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.ttl = ttl;
    assert_ok(akv_put(ts->store, sb, scope, key, strlen(key), val,
                      strlen(val), &o, NULL, NULL));
}

static akv_scope_stats stats_row(tu_store *ts, const char *sb,
                                 akv_scope scope)
{
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n = 0;
    assert_ok(akv_stats(ts->store, sb, scope, rows, &n));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].scope, scope);
    return rows[0];
}

static char *export_all(akv_store *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_ok(akv_export(s, NULL, AKV_SCOPE_ALL, f, NULL, NULL, NULL));
    fclose(f);
    return buf;
}

static int read_rc(tu_store *ts, const char *sb, akv_scope scope,
                   const char *key)
{
    akv_value *v = NULL;
    int rc = akv_get(ts->store, sb, scope, key, strlen(key), &v);
    akv_value_release(v);
    return rc;
}

static size_t list_all_count(tu_store *ts, const char *sb, akv_scope scope)
{
    akv_list_opts o = {0};
    o.include_expired = 1;
    akv_list *l;
    assert_ok(akv_list_entries(ts->store, sb, scope, &o, &l));
    size_t n = akv_list_count(l);
    akv_list_free(l);
    return n;
}

/* sb1: system 10 B; project 7 B; task 5 B + 3 B live and 4 B expired;
 * artifacts 6 B expired. Plus entries elsewhere that sb1 must not count. */
static void fill_stats(tu_store *ts)
{
    put_ttl(ts, "sb1", AKV_SCOPE_SYSTEM, "s", "0123456789", AKV_TTL_DEFAULT);
    put_ttl(ts, "sb1", AKV_SCOPE_PROJECT, "p", "project", AKV_TTL_DEFAULT);
    put_ttl(ts, "sb1", AKV_SCOPE_TASK, "t1", "12345", AKV_TTL_DEFAULT);
    put_ttl(ts, "sb1", AKV_SCOPE_TASK, "t2", "abc", 0);
    put_ttl(ts, "sb1", AKV_SCOPE_TASK, "t3", "gone", 1);
    put_ttl(ts, "sb1", AKV_SCOPE_ARTIFACTS, "a", "gone!!", 1);
    put_ttl(ts, "_global", AKV_SCOPE_SYSTEM, "g", "global text", 0);
    put_ttl(ts, "sb2", AKV_SCOPE_TASK, "t1", "other sandbox", 0);
    put_ttl(ts, "sb10", AKV_SCOPE_TASK, "t1", "similar name", 0);
    ts->clock.now_ms = T0 + 2000;
}

/* ---- stats ------------------------------------------------------------- */

static void stats_have_one_row_per_scope_with_spec_defaults(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_stats(&ts);
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    memset(rows, 0xab, sizeof rows);
    size_t n = 0;
    assert_ok(akv_stats(ts.store, "sb1", AKV_SCOPE_ALL, rows, &n));
    assert_int_equal(n, AKV_SCOPE_COUNT);
    /* Bytes are stored bytes: key, record header, content type, value. */
    const struct {
        uint64_t quota;
        int64_t ttl;
        uint64_t entries, bytes, expired, expired_bytes;
    } want[AKV_SCOPE_COUNT] = {
        {10 * MiB, 0, 1, tu_cost(1, 10), 0, 0},       /* system */
        {5 * MiB, 0, 0, 0, 0, 0},                     /* instructions */
        {20 * MiB, 72 * 3600, 1, tu_cost(1, 7), 0, 0}, /* project */
        {100 * MiB, 24 * 3600, 2, tu_cost(2, 5) + tu_cost(2, 3), 1,
         tu_cost(2, 4)},                               /* task */
        {200 * MiB, 48 * 3600, 0, 0, 1, tu_cost(1, 6)}, /* artifacts */
    };
    for (int i = 0; i < AKV_SCOPE_COUNT; i++) {
        assert_int_equal(rows[i].scope, i);
        assert_int_equal(rows[i].quota, want[i].quota);
        assert_int_equal(rows[i].default_ttl, want[i].ttl);
        assert_int_equal(rows[i].entries, want[i].entries);
        assert_int_equal(rows[i].bytes, want[i].bytes);
        assert_int_equal(rows[i].expired, want[i].expired);
        assert_int_equal(rows[i].expired_bytes, want[i].expired_bytes);
    }
    tu_store_close(&ts);
}

static void stats_for_one_scope_match_the_full_table(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_stats(&ts);
    akv_scope_stats all[AKV_SCOPE_COUNT];
    size_t n;
    assert_ok(akv_stats(ts.store, "sb1", AKV_SCOPE_ALL, all, &n));
    for (int sc = 0; sc < AKV_SCOPE_COUNT; sc++) {
        akv_scope_stats one = stats_row(&ts, "sb1", (akv_scope)sc);
        assert_int_equal(one.entries, all[sc].entries);
        assert_int_equal(one.bytes, all[sc].bytes);
        assert_int_equal(one.expired, all[sc].expired);
        assert_int_equal(one.quota, all[sc].quota);
        assert_int_equal(one.default_ttl, all[sc].default_ttl);
    }
    /* Other sandboxes count their own namespace only. */
    akv_scope_stats g = stats_row(&ts, "_global", AKV_SCOPE_SYSTEM);
    assert_int_equal(g.entries, 1);
    assert_int_equal(g.bytes, tu_cost(1, 11));
    akv_scope_stats s2 = stats_row(&ts, "sb2", AKV_SCOPE_TASK);
    assert_int_equal(s2.entries, 1);
    assert_int_equal(s2.bytes, tu_cost(2, 13));
    akv_scope_stats none = stats_row(&ts, "nobody", AKV_SCOPE_TASK);
    assert_int_equal(none.entries + none.bytes + none.expired, 0);
    tu_store_close(&ts);
}

static void stats_show_the_configured_quota_and_ttl(void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.task", "quota", "1KiB"));
    assert_ok(akv_config_set(cfg, "scope.task", "ttl", "2h"));
    assert_ok(akv_config_set(cfg, "scope.system", "ttl", "7d"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    akv_scope_stats t = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(t.quota, 1024);
    assert_int_equal(t.default_ttl, 7200);
    akv_scope_stats s = stats_row(&ts, "sb1", AKV_SCOPE_SYSTEM);
    assert_int_equal(s.default_ttl, 7 * 24 * 3600);
    assert_int_equal(s.quota, 10 * MiB);
    tu_store_close(&ts);
    akv_config_free(cfg);
}

static void stats_count_hits_and_misses_per_scope(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_stats(&ts);
    akv_scope_stats t0 = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    akv_scope_stats p0 = stats_row(&ts, "sb1", AKV_SCOPE_PROJECT);
    assert_int_equal(t0.hits, 0);
    assert_int_equal(t0.misses, 0);

    assert_ok(read_rc(&ts, "sb1", AKV_SCOPE_TASK, "t1"));
    assert_ok(read_rc(&ts, "sb1", AKV_SCOPE_TASK, "t2"));
    char buf[8];
    size_t len = sizeof buf;
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "t1", 2, buf, &len,
                           NULL));
    assert_akv(read_rc(&ts, "sb1", AKV_SCOPE_TASK, "missing"), AKV_ENOTFOUND);
    assert_akv(read_rc(&ts, "sb1", AKV_SCOPE_TASK, "t3"), AKV_ENOTFOUND);

    akv_scope_stats t1 = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(t1.hits, 3);
    assert_int_equal(t1.misses, 2);
    akv_scope_stats p1 = stats_row(&ts, "sb1", AKV_SCOPE_PROJECT);
    assert_int_equal(p1.hits, p0.hits);
    assert_int_equal(p1.misses, p0.misses);
    /* Counters are per store, not per sandbox. */
    akv_scope_stats other = stats_row(&ts, "sb2", AKV_SCOPE_TASK);
    assert_int_equal(other.hits, 3);
    assert_int_equal(other.misses, 2);
    /* Listing is not a read of an entry. */
    (void)list_all_count(&ts, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(stats_row(&ts, "sb1", AKV_SCOPE_TASK).hits, 3);

    /* They are shared by every process: a reopened store still sees them. */
    akv_store_close(ts.store);
    assert_ok(akv_store_open(&ts.store, tu_backend(), ts.dir, NULL, 0));
    akv_store_set_clock(ts.store, tu_clock, &ts.clock);
    akv_scope_stats t2 = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(t2.hits, 3);
    assert_int_equal(t2.misses, 2);
    tu_store_close(&ts);
}

/* Reads of one thread for the test below: READS hits of t1 and READS / 2
 * misses, in the task scope of sb1. */
#define READS 50
static void *read_some(void *arg)
{
    tu_store *ts = arg;
    for (int i = 0; i < READS; i++) {
        akv_value *v = NULL;
        if (akv_get(ts->store, "sb1", AKV_SCOPE_TASK, "t1", 2, &v) != AKV_OK)
            return "hit failed";
        akv_value_release(v);
        if (i % 2 == 0 &&
            akv_get(ts->store, "sb1", AKV_SCOPE_TASK, "missing", 7, &v) !=
                AKV_ENOTFOUND)
            return "miss failed";
    }
    return NULL;
}

static void stats_count_the_reads_of_every_thread(void **state)
{
    (void)state;
    /* The embedded store counts each thread's reads apart (a shard of
     * DIR/counters per thread in turn, so that readers on several cores
     * do not share one counter): the counts are the sums. */
    if (tu_backend() != NULL)
        skip();
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_stats(&ts);
    akv_scope_stats t0 = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    enum { THREADS = 4 };
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, read_some, &ts), 0);
    for (int i = 0; i < THREADS; i++) {
        void *failed;
        assert_int_equal(pthread_join(th[i], &failed), 0);
        assert_null(failed);
    }
    akv_scope_stats t1 = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(t1.hits, t0.hits + THREADS * READS);
    assert_int_equal(t1.misses, t0.misses + THREADS * READS / 2);

    /* In the shared file: a reopened store sees them all. */
    akv_store_close(ts.store);
    assert_ok(akv_store_open(&ts.store, tu_backend(), ts.dir, NULL, 0));
    akv_store_set_clock(ts.store, tu_clock, &ts.clock);
    akv_scope_stats t2 = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(t2.hits, t1.hits);
    assert_int_equal(t2.misses, t1.misses);
    tu_store_close(&ts);
}

/* ---- store-wide usage --------------------------------------------------- */

static void want_usage(tu_store *ts, akv_scope scope, uint64_t entries,
                       uint64_t bytes)
{
    uint64_t e[AKV_SCOPE_COUNT], b[AKV_SCOPE_COUNT];
    assert_ok(akv_store_usage(ts->store, e, b));
    if (e[scope] != entries || b[scope] != bytes)
        fail_msg("%s usage: %llu entries, %llu bytes; expected %llu, %llu",
                 akv_scope_name(scope), (unsigned long long)e[scope],
                 (unsigned long long)b[scope], (unsigned long long)entries,
                 (unsigned long long)bytes);
}

/* The totals cover every sandbox and follow writes, overwrites, deletes,
 * clear and prune; expired entries count until collected. */
static void store_usage_totals_every_sandbox(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    for (int s = 0; s < AKV_SCOPE_COUNT; s++)
        want_usage(&ts, (akv_scope)s, 0, 0);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "a", "12345", 0);
    put_ttl(&ts, "sb2", AKV_SCOPE_TASK, "a", "123", 0);
    put_ttl(&ts, "sb2", AKV_SCOPE_TASK, "short", "1234567", 60);
    put_ttl(&ts, "_global", AKV_SCOPE_INSTRUCTIONS, "g", "xy", 0);
    want_usage(&ts, AKV_SCOPE_TASK, 3,
               tu_cost(1, 5) + tu_cost(1, 3) + tu_cost(5, 7));
    want_usage(&ts, AKV_SCOPE_INSTRUCTIONS, 1, tu_cost(1, 2));
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "a", "1", 0); /* overwrite: shrinks */
    want_usage(&ts, AKV_SCOPE_TASK, 3,
               tu_cost(1, 1) + tu_cost(1, 3) + tu_cost(5, 7));
    assert_ok(akv_del(ts.store, "sb2", AKV_SCOPE_TASK, "a", 1));
    want_usage(&ts, AKV_SCOPE_TASK, 2, tu_cost(1, 1) + tu_cost(5, 7));
    ts.clock.now_ms += 61 * 1000; /* "short" expires: counted until pruned */
    want_usage(&ts, AKV_SCOPE_TASK, 2, tu_cost(1, 1) + tu_cost(5, 7));
    uint64_t pruned[AKV_SCOPE_COUNT];
    assert_ok(akv_prune(ts.store, NULL, AKV_SCOPE_ALL, pruned));
    want_usage(&ts, AKV_SCOPE_TASK, 1, tu_cost(1, 1));
    assert_ok(akv_clear(ts.store, "sb1", AKV_SCOPE_TASK, NULL));
    want_usage(&ts, AKV_SCOPE_TASK, 0, 0);
    want_usage(&ts, AKV_SCOPE_INSTRUCTIONS, 1, tu_cost(1, 2));
    uint64_t e[AKV_SCOPE_COUNT];
    assert_akv(akv_store_usage(ts.store, e, NULL), AKV_EINVAL);
    tu_store_close(&ts);
}

/* ---- clear ------------------------------------------------------------- */

static void clear_deletes_one_scope_of_one_sandbox(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_stats(&ts);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "t4", "more", AKV_TTL_DEFAULT);
    uint64_t deleted = 99;
    assert_ok(akv_clear(ts.store, "sb1", AKV_SCOPE_TASK, &deleted));
    assert_int_equal(deleted, 3); /* t1, t2, t4; the expired t3 is not live */
    assert_int_equal(list_all_count(&ts, "sb1", AKV_SCOPE_TASK), 0);
    akv_scope_stats t = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(t.entries + t.bytes + t.expired + t.expired_bytes, 0);
    /* Everything else is still there. */
    assert_ok(read_rc(&ts, "sb1", AKV_SCOPE_PROJECT, "p"));
    assert_ok(read_rc(&ts, "sb1", AKV_SCOPE_SYSTEM, "s"));
    assert_int_equal(list_all_count(&ts, "sb1", AKV_SCOPE_ARTIFACTS), 1);
    assert_ok(read_rc(&ts, "sb2", AKV_SCOPE_TASK, "t1"));
    assert_ok(read_rc(&ts, "sb10", AKV_SCOPE_TASK, "t1"));
    /* Clearing again deletes nothing; a NULL count is allowed. */
    assert_ok(akv_clear(ts.store, "sb1", AKV_SCOPE_TASK, &deleted));
    assert_int_equal(deleted, 0);
    assert_ok(akv_clear(ts.store, "sb1", AKV_SCOPE_ARTIFACTS, NULL));
    assert_int_equal(list_all_count(&ts, "sb1", AKV_SCOPE_ARTIFACTS), 0);
    tu_store_close(&ts);
}

static void clear_of_global_leaves_sandboxes_alone(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "_global", AKV_SCOPE_INSTRUCTIONS, "a", "g", 0);
    put_ttl(&ts, "_global", AKV_SCOPE_INSTRUCTIONS, "b", "g", 0);
    put_ttl(&ts, "S", AKV_SCOPE_INSTRUCTIONS, "a", "s", 0);
    uint64_t deleted = 0;
    assert_ok(akv_clear(ts.store, "_global", AKV_SCOPE_INSTRUCTIONS,
                        &deleted));
    assert_int_equal(deleted, 2);
    assert_ok(read_rc(&ts, "S", AKV_SCOPE_INSTRUCTIONS, "a"));
    assert_akv(read_rc(&ts, "S", AKV_SCOPE_INSTRUCTIONS, "b"), AKV_ENOTFOUND);
    tu_store_close(&ts);
}

/* ---- check ------------------------------------------------------------- */

struct progress {
    int calls;
    uint64_t last_done, last_total;
};
static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct progress *p = ctx;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

static void check_counts_every_entry_and_reports_progress(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_stats(&ts);
    struct progress p = {0};
    uint64_t checked = 0, failed = 9;
    assert_ok(akv_check(ts.store, NULL, on_progress, &p, &checked, &failed));
    assert_int_equal(checked, 9); /* expired entries are checked too */
    assert_int_equal(failed, 0);
    assert_true(p.calls >= 1);
    assert_int_equal(p.last_done, 9);
    assert_int_equal(p.last_total, 9);
    tu_store_close(&ts);
}

/* ---- backup ------------------------------------------------------------ */

static void backup_to_a_new_directory_is_an_openable_copy(void **state)
{
    (void)state;
    tu_lmdb_only();
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_stats(&ts);
    char *base = tu_tempdir(), *path;
    assert_true(asprintf(&path, "%s/nested/copy", base) > 0);
    assert_ok(akv_backup(ts.store, path, NULL, NULL));
    /* Writes after the backup are not in it. */
    char *before = export_all(ts.store);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "later", "x", 0);

    akv_store *copy;
    assert_ok(akv_store_open(&copy, NULL, path, NULL, 0));
    akv_store_set_clock(copy, tu_clock, &ts.clock);
    char *in_copy = export_all(copy);
    assert_string_equal(before, in_copy);
    akv_value *v;
    assert_ok(akv_get(copy, "sb1", AKV_SCOPE_SYSTEM, "s", 1, &v));
    size_t len;
    assert_memory_equal(akv_value_data(v, &len), "0123456789", 10);
    assert_int_equal(len, 10);
    akv_value_release(v);
    assert_akv(akv_get(copy, "sb1", AKV_SCOPE_TASK, "later", 5, &v),
               AKV_ENOTFOUND);
    /* The copy is a store of its own: writable, independent. */
    assert_ok(akv_put(copy, "sb1", AKV_SCOPE_TASK, "only-in-copy", 12, "c", 1,
                      NULL, NULL, NULL));
    assert_akv(read_rc(&ts, "sb1", AKV_SCOPE_TASK, "only-in-copy"),
               AKV_ENOTFOUND);
    /* Expired-but-uncollected entries are kept as they were. */
    akv_list_opts o = {0};
    o.include_expired = 1;
    akv_list *l;
    assert_ok(akv_list_entries(copy, "sb1", AKV_SCOPE_ARTIFACTS, &o, &l));
    assert_int_equal(akv_list_count(l), 1);
    akv_list_free(l);
    akv_store_close(copy);
    free(before);
    free(in_copy);
    tu_rmtree(base);
    free(base);
    free(path);
    tu_store_close(&ts);
}

static void backup_into_an_existing_store_fails_and_keeps_it(void **state)
{
    (void)state;
    tu_lmdb_only();
    tu_store src, dst;
    tu_store_open(&src, NULL);
    tu_store_open(&dst, NULL);
    put_ttl(&src, "sb1", AKV_SCOPE_TASK, "k", "from source", 0);
    put_ttl(&dst, "sb1", AKV_SCOPE_TASK, "k", "the target's own", 0);
    char *before = export_all(dst.store);
    akv_store_close(dst.store);
    dst.store = NULL;

    int rc = akv_backup(src.store, dst.dir, NULL, NULL);
    if (rc == AKV_OK)
        fail_msg("backup over the store in %s succeeded", dst.dir);
    assert_true(rc < 0);
    assert_int_equal(akv_last_error()->code, rc);
    assert_true(akv_last_error()->message[0] != '\0');

    assert_ok(akv_store_open(&dst.store, NULL, dst.dir, NULL, 0));
    akv_store_set_clock(dst.store, tu_clock, &dst.clock);
    char *after = export_all(dst.store);
    assert_string_equal(before, after);
    free(before);
    free(after);
    tu_store_close(&dst);
    tu_store_close(&src);
}

/* The change generation moves with every commit, this process's and
 * another's (the CLI writing the same directory), and not with reads; on
 * Redis there is none. */
static void generation_moves_with_every_commit_of_any_process(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    uint64_t g0, g1, g2, g3;
    if (tu_backend() != NULL) {
        assert_akv(akv_store_generation(ts.store, &g0), AKV_EUNAVAILABLE);
        tu_store_close(&ts);
        return;
    }
    assert_ok(akv_store_generation(ts.store, &g0));
    put_ttl(&ts, "sb", AKV_SCOPE_TASK, "k", "v1", 0);
    assert_ok(akv_store_generation(ts.store, &g1));
    assert_true(g1 > g0);
    akv_value *v;
    assert_ok(akv_get(ts.store, "sb", AKV_SCOPE_TASK, "k", 1, &v));
    akv_value_release(v);
    akv_list *l;
    assert_ok(akv_list_entries(ts.store, "sb", AKV_SCOPE_TASK, NULL, &l));
    akv_list_free(l);
    assert_ok(akv_store_generation(ts.store, &g2));
    assert_true(g2 == g1);
    const char *bin = getenv("AGENTKV_BIN");
    assert_non_null(bin);
    char *cmd;
    assert_true(asprintf(&cmd,
                         "printf v2 | '%s' --dir '%s' --sandbox sb put task "
                         "k - >/dev/null",
                         bin, ts.dir) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    assert_ok(akv_store_generation(ts.store, &g3));
    assert_true(g3 > g2);
    assert_akv(akv_store_generation(ts.store, NULL), AKV_EINVAL);
    tu_store_close(&ts);
}

/* A backend without a backup of its own (Redis) refuses with a pointer to
 * export, and writes nothing. */
static void backup_without_backend_support_points_to_export(void **state)
{
    (void)state;
    if (tu_backend() == NULL)
        skip(); /* the embedded store has backup */
    tu_store ts;
    tu_store_open(&ts, NULL);
    char *base = tu_tempdir(), *path;
    assert_true(asprintf(&path, "%s/copy", base) > 0);
    assert_akv(akv_backup(ts.store, path, NULL, NULL), AKV_EINVAL);
    assert_non_null(strstr(akv_last_error()->message, "export"));
    assert_int_equal(access(path, F_OK), -1);
    free(path);
    tu_rmtree(base);
    free(base);
    tu_store_close(&ts);
}

static void backup_to_a_file_or_empty_path_fails(void **state)
{
    (void)state;
    tu_lmdb_only();
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v", 0);
    char *base = tu_tempdir(), *file;
    assert_true(asprintf(&file, "%s/plain-file", base) > 0);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("not a directory\n", f);
    fclose(f);
    assert_true(akv_backup(ts.store, file, NULL, NULL) < 0);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 16);
    assert_akv(akv_backup(ts.store, "", NULL, NULL), AKV_EINVAL);
    assert_akv(akv_backup(ts.store, NULL, NULL, NULL), AKV_EINVAL);
    tu_rmtree(base);
    free(base);
    free(file);
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stats_have_one_row_per_scope_with_spec_defaults),
        cmocka_unit_test(stats_for_one_scope_match_the_full_table),
        cmocka_unit_test(stats_show_the_configured_quota_and_ttl),
        cmocka_unit_test(stats_count_hits_and_misses_per_scope),
        cmocka_unit_test(stats_count_the_reads_of_every_thread),
        cmocka_unit_test(store_usage_totals_every_sandbox),
        cmocka_unit_test(clear_deletes_one_scope_of_one_sandbox),
        cmocka_unit_test(clear_of_global_leaves_sandboxes_alone),
        cmocka_unit_test(check_counts_every_entry_and_reports_progress),
        cmocka_unit_test(backup_to_a_new_directory_is_an_openable_copy),
        cmocka_unit_test(backup_into_an_existing_store_fails_and_keeps_it),
        cmocka_unit_test(generation_moves_with_every_commit_of_any_process),
        cmocka_unit_test(backup_to_a_file_or_empty_path_fails),
        cmocka_unit_test(backup_without_backend_support_points_to_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test-ttl.c — expiry, driven by the injected clock (no test sleeps):
 * default TTLs per scope, explicit and "never" TTLs, the exact expiry
 * instant, invisibility of expired entries on every read path (get,
 * get_copy, list, stats, export), rewrites of expired keys, sliding expiry
 * (refresh_on_read) and prune.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"

#define T0 1795651200000LL /* 2026-11-26T00:00:00Z, tu_store_open's clock */
#define SEC_MS 1000LL
#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)

/* ---- helpers ----------------------------------------------------------- */

/* Puts val under key with ttl (seconds, or AKV_TTL_DEFAULT); returns the
 * new entry's expires_at. */
static int64_t put_ttl(tu_store *ts, const char *sb, akv_scope scope,
                       const char *key, const char *val, int64_t ttl)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.ttl = ttl;
    akv_meta m;
    assert_ok(akv_put(ts->store, sb, scope, key, strlen(key), val,
                      strlen(val), &o, &m, NULL));
    return m.expires_at;
}

static int get_rc(tu_store *ts, const char *sb, akv_scope scope,
                  const char *key)
{
    akv_value *v = NULL;
    int rc = akv_get(ts->store, sb, scope, key, strlen(key), &v);
    akv_value_release(v);
    return rc;
}

/* Reads key and returns its expires_at (fails the test if absent). */
static int64_t get_expiry(tu_store *ts, const char *sb, akv_scope scope,
                          const char *key)
{
    akv_value *v;
    assert_ok(akv_get(ts->store, sb, scope, key, strlen(key), &v));
    int64_t e = akv_value_meta(v)->expires_at;
    akv_value_release(v);
    return e;
}

static size_t list_count(tu_store *ts, const char *sb, akv_scope scope,
                         int include_expired)
{
    akv_list_opts o = {0};
    o.include_expired = include_expired;
    akv_list *l;
    assert_ok(akv_list_entries(ts->store, sb, scope, &o, &l));
    size_t n = akv_list_count(l);
    akv_list_free(l);
    return n;
}

static akv_scope_stats stats_row(tu_store *ts, const char *sb,
                                 akv_scope scope)
{
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n = 0;
    assert_ok(akv_stats(ts->store, sb, scope, rows, &n));
    assert_int_equal(n, 1);
    return rows[0];
}

/* Whole-store export as a string; owned. */
static char *export_all(tu_store *ts, uint64_t *count)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_ok(akv_export(ts->store, NULL, AKV_SCOPE_ALL, f, NULL, NULL,
                         count));
    fclose(f);
    return buf;
}

/* ---- default and explicit TTLs ----------------------------------------- */

static void task_default_ttl_is_visible_until_24h_minus_1ms(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    int64_t e = put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v",
                        AKV_TTL_DEFAULT);
    assert_int_equal(e, T0 + DAY_MS);
    ts.clock.now_ms = T0 + DAY_MS - 1;
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"));
    ts.clock.now_ms = T0 + DAY_MS;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"), AKV_ENOTFOUND);
    ts.clock.now_ms = T0 + 30 * DAY_MS;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"), AKV_ENOTFOUND);
    tu_store_close(&ts);
}

static void each_scope_has_its_spec_default_ttl(void **state)
{
    (void)state;
    static const struct {
        akv_scope scope;
        int64_t ttl_ms;
    } want[] = {
        {AKV_SCOPE_SYSTEM, 0},
        {AKV_SCOPE_INSTRUCTIONS, 0},
        {AKV_SCOPE_PROJECT, 72 * HOUR_MS},
        {AKV_SCOPE_TASK, 24 * HOUR_MS},
        {AKV_SCOPE_ARTIFACTS, 48 * HOUR_MS},
    };
    tu_store ts;
    tu_store_open(&ts, NULL);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int64_t e = put_ttl(&ts, "sb1", want[i].scope, "k", "v",
                            AKV_TTL_DEFAULT);
        assert_int_equal(e, want[i].ttl_ms ? T0 + want[i].ttl_ms : 0);
    }
    tu_store_close(&ts);
}

static void default_ttl_comes_from_the_config(void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.task", "ttl", "2h"));
    assert_ok(akv_config_set(cfg, "scope.system", "ttl", "45s"));
    assert_ok(akv_config_set(cfg, "scope.artifacts", "ttl", "never"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    assert_int_equal(put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v",
                             AKV_TTL_DEFAULT),
                     T0 + 2 * HOUR_MS);
    assert_int_equal(put_ttl(&ts, "sb1", AKV_SCOPE_SYSTEM, "k", "v",
                             AKV_TTL_DEFAULT),
                     T0 + 45 * SEC_MS);
    assert_int_equal(put_ttl(&ts, "sb1", AKV_SCOPE_ARTIFACTS, "k", "v",
                             AKV_TTL_DEFAULT),
                     0);
    ts.clock.now_ms = T0 + 2 * HOUR_MS - 1;
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"));
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_SYSTEM, "k"), AKV_ENOTFOUND);
    ts.clock.now_ms = T0 + 2 * HOUR_MS;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"), AKV_ENOTFOUND);
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_ARTIFACTS, "k"));
    tu_store_close(&ts);
    akv_config_free(cfg);
}

static void explicit_ttl_overrides_the_scope_default(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_int_equal(put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "short", "v", 45),
                     T0 + 45 * SEC_MS);
    /* Longer than the default, and on a scope that never expires. */
    assert_int_equal(put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "long", "v",
                             7 * 24 * 3600),
                     T0 + 7 * DAY_MS);
    assert_int_equal(put_ttl(&ts, "sb1", AKV_SCOPE_SYSTEM, "sys", "v", 60),
                     T0 + 60 * SEC_MS);
    ts.clock.now_ms = T0 + 45 * SEC_MS - 1;
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "short"));
    ts.clock.now_ms = T0 + 45 * SEC_MS;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "short"), AKV_ENOTFOUND);
    ts.clock.now_ms = T0 + 60 * SEC_MS;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_SYSTEM, "sys"), AKV_ENOTFOUND);
    ts.clock.now_ms = T0 + 7 * DAY_MS - 1;
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "long"));
    ts.clock.now_ms = T0 + 7 * DAY_MS;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "long"), AKV_ENOTFOUND);
    tu_store_close(&ts);
}

static void ttl_of_100_years_is_kept(void **state)
{
    (void)state;
    const int64_t secs = 100LL * 366 * 24 * 3600; /* the duration maximum */
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_int_equal(put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v", secs),
                     T0 + secs * 1000);
    ts.clock.now_ms = T0 + secs * 1000 - 1;
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"));
    ts.clock.now_ms = T0 + secs * 1000;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"), AKV_ENOTFOUND);
    tu_store_close(&ts);
}

static void ttl_zero_never_expires_and_renders_null(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_int_equal(put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v", 0), 0);
    ts.clock.now_ms = T0 + 3650 * DAY_MS;
    akv_value *v;
    assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, &v));
    assert_int_equal(akv_value_meta(v)->expires_at, 0);
    char *text = akv_meta_to_json(akv_value_meta(v));
    assert_non_null(text);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    json_t *e = json_object_get(j, "expires_at");
    assert_non_null(e);
    assert_true(json_is_null(e));
    json_decref(j);
    free(text);
    akv_value_release(v);
    tu_store_close(&ts);
}

static void overwrite_recomputes_expiry_from_now(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v1", 60);
    ts.clock.now_ms = T0 + 50 * SEC_MS;
    assert_int_equal(put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v2", 60),
                     T0 + 110 * SEC_MS);
    ts.clock.now_ms = T0 + 100 * SEC_MS;
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"));
    /* A later write with ttl 0 makes it permanent. */
    assert_int_equal(put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v3", 0), 0);
    ts.clock.now_ms = T0 + 400 * DAY_MS;
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"));
    tu_store_close(&ts);
}

/* ---- expired entries are invisible ------------------------------------- */

static void expired_entry_is_invisible_to_every_read_path(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "gone", "12345", 10);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "kept", "xy", 0);
    ts.clock.now_ms = T0 + 10 * SEC_MS;

    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "gone"), AKV_ENOTFOUND);
    char buf[16];
    size_t len = sizeof buf;
    assert_akv(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "gone", 4, buf,
                            &len, NULL),
               AKV_ENOTFOUND);

    akv_list *l;
    assert_ok(akv_list_entries(ts.store, "sb1", AKV_SCOPE_TASK, NULL, &l));
    assert_int_equal(akv_list_count(l), 1);
    assert_string_equal(akv_list_item(l, 0)->key, "kept");
    akv_list_free(l);

    akv_list_opts o = {0};
    o.include_expired = 1;
    assert_ok(akv_list_entries(ts.store, "sb1", AKV_SCOPE_TASK, &o, &l));
    assert_int_equal(akv_list_count(l), 2);
    assert_string_equal(akv_list_item(l, 0)->key, "gone");
    assert_int_equal(akv_list_item(l, 0)->expires_at, T0 + 10 * SEC_MS);
    assert_string_equal(akv_list_item(l, 1)->key, "kept");
    akv_list_free(l);

    akv_scope_stats st = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.bytes, tu_cost(4, 2));
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.expired_bytes, tu_cost(4, 5));

    uint64_t count = 0;
    char *text = export_all(&ts, &count);
    assert_int_equal(count, 1);
    assert_non_null(strstr(text, "\"key\":\"kept\""));
    assert_null(strstr(text, "\"gone\""));
    free(text);

    /* Deleting an expired entry is "not found" too. */
    assert_akv(akv_del(ts.store, "sb1", AKV_SCOPE_TASK, "gone", 4),
               AKV_ENOTFOUND);
    tu_store_close(&ts);
}

static void put_over_expired_key_starts_again_at_version_1(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "a", 10);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "b", 10);
    ts.clock.now_ms = T0 + 20 * SEC_MS;
    akv_put_opts o;
    akv_put_opts_init(&o);
    akv_meta m;
    int created = -1;
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, "c", 1, &o, &m,
                      &created));
    assert_int_equal(created, 1);
    assert_int_equal(m.version, 1);
    assert_int_equal(m.created_at, T0 + 20 * SEC_MS);
    assert_int_equal(m.updated_at, T0 + 20 * SEC_MS);
    char buf[4];
    size_t len = sizeof buf;
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, buf, &len,
                           &m));
    assert_int_equal(len, 1);
    assert_int_equal(buf[0], 'c');
    assert_int_equal(m.version, 1);
    tu_store_close(&ts);
}

/* ---- sliding expiry ---------------------------------------------------- */

static void refresh_on_read_slides_expiry(void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.task", "refresh_on_read", "true"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v", AKV_TTL_DEFAULT);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "unread", "v", AKV_TTL_DEFAULT);

    ts.clock.now_ms = T0 + 20 * HOUR_MS;
    /* The read that slides already reports the new expiry... */
    assert_int_equal(get_expiry(&ts, "sb1", AKV_SCOPE_TASK, "k"),
                     T0 + 44 * HOUR_MS);
    /* ...and it is stored: visible past the original expiry. */
    ts.clock.now_ms = T0 + 44 * HOUR_MS - 1;
    assert_int_equal(list_count(&ts, "sb1", AKV_SCOPE_TASK, 0), 1);
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "unread"), AKV_ENOTFOUND);
    ts.clock.now_ms = T0 + 44 * HOUR_MS;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"), AKV_ENOTFOUND);
    tu_store_close(&ts);
    akv_config_free(cfg);
}

static void refresh_on_read_via_get_copy_and_not_for_other_scopes(
    void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.task", "refresh_on_read", "true"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v", AKV_TTL_DEFAULT);
    put_ttl(&ts, "sb1", AKV_SCOPE_PROJECT, "k", "v", 24 * 3600);
    ts.clock.now_ms = T0 + 23 * HOUR_MS;
    char buf[2];
    size_t len = sizeof buf;
    akv_meta m;
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, buf, &len,
                           &m));
    assert_int_equal(m.expires_at, T0 + 47 * HOUR_MS);
    /* project has no refresh_on_read: reading it does not slide. */
    assert_int_equal(get_expiry(&ts, "sb1", AKV_SCOPE_PROJECT, "k"),
                     T0 + 24 * HOUR_MS);
    ts.clock.now_ms = T0 + 30 * HOUR_MS;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_PROJECT, "k"), AKV_ENOTFOUND);
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"));
    tu_store_close(&ts);
    akv_config_free(cfg);
}

static void without_refresh_on_read_reads_do_not_slide(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "v", AKV_TTL_DEFAULT);
    ts.clock.now_ms = T0 + 20 * HOUR_MS;
    assert_int_equal(get_expiry(&ts, "sb1", AKV_SCOPE_TASK, "k"),
                     T0 + DAY_MS);
    ts.clock.now_ms = T0 + DAY_MS;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "k"), AKV_ENOTFOUND);
    tu_store_close(&ts);
}

static void refresh_on_read_does_not_resurrect_or_limit_permanent_entries(
    void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.task", "refresh_on_read", "true"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "forever", "v", 0);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "old", "v", AKV_TTL_DEFAULT);
    ts.clock.now_ms = T0 + DAY_MS;
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "old"), AKV_ENOTFOUND);
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "old"), AKV_ENOTFOUND);
    assert_int_equal(get_expiry(&ts, "sb1", AKV_SCOPE_TASK, "forever"), 0);
    ts.clock.now_ms = T0 + 100 * DAY_MS;
    assert_int_equal(get_expiry(&ts, "sb1", AKV_SCOPE_TASK, "forever"), 0);
    tu_store_close(&ts);
    akv_config_free(cfg);
}

/* ---- prune ------------------------------------------------------------- */

/* sb1: task 2 expired + 1 live, artifacts 1 expired, project 1 live;
 * sb2: task 1 expired, artifacts 1 live. Clock ends past every short TTL. */
static void fill_for_prune(tu_store *ts)
{
    put_ttl(ts, "sb1", AKV_SCOPE_TASK, "t1", "a", 10);
    put_ttl(ts, "sb1", AKV_SCOPE_TASK, "t2", "bb", 20);
    put_ttl(ts, "sb1", AKV_SCOPE_TASK, "t3", "live", 0);
    put_ttl(ts, "sb1", AKV_SCOPE_ARTIFACTS, "a1", "x", 10);
    put_ttl(ts, "sb1", AKV_SCOPE_PROJECT, "p1", "live", AKV_TTL_DEFAULT);
    put_ttl(ts, "sb2", AKV_SCOPE_TASK, "t1", "y", 10);
    put_ttl(ts, "sb2", AKV_SCOPE_ARTIFACTS, "a1", "live", AKV_TTL_DEFAULT);
    ts->clock.now_ms = T0 + 30 * SEC_MS;
}

static void prune_removes_only_expired_and_counts_per_scope(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_for_prune(&ts);
    uint64_t pruned[AKV_SCOPE_COUNT];
    memset(pruned, 0xee, sizeof pruned);
    assert_ok(akv_prune(ts.store, "sb1", AKV_SCOPE_ALL, pruned));
    assert_int_equal(pruned[AKV_SCOPE_SYSTEM], 0);
    assert_int_equal(pruned[AKV_SCOPE_INSTRUCTIONS], 0);
    assert_int_equal(pruned[AKV_SCOPE_PROJECT], 0);
    assert_int_equal(pruned[AKV_SCOPE_TASK], 2);
    assert_int_equal(pruned[AKV_SCOPE_ARTIFACTS], 1);

    /* The expired ones are really gone, the live ones stay. */
    assert_int_equal(list_count(&ts, "sb1", AKV_SCOPE_TASK, 1), 1);
    assert_int_equal(list_count(&ts, "sb1", AKV_SCOPE_ARTIFACTS, 1), 0);
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "t3"));
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_PROJECT, "p1"));
    akv_scope_stats st = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(st.expired, 0);
    assert_int_equal(st.expired_bytes, 0);
    assert_int_equal(st.entries, 1);
    /* Another sandbox is not touched. */
    st = stats_row(&ts, "sb2", AKV_SCOPE_TASK);
    assert_int_equal(st.expired, 1);

    /* A second prune finds nothing. */
    assert_ok(akv_prune(ts.store, "sb1", AKV_SCOPE_ALL, pruned));
    for (int i = 0; i < AKV_SCOPE_COUNT; i++)
        assert_int_equal(pruned[i], 0);
    tu_store_close(&ts);
}

static void prune_of_one_scope_leaves_other_scopes(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_for_prune(&ts);
    uint64_t pruned[AKV_SCOPE_COUNT];
    assert_ok(akv_prune(ts.store, "sb1", AKV_SCOPE_TASK, pruned));
    assert_int_equal(pruned[AKV_SCOPE_TASK], 2);
    assert_int_equal(pruned[AKV_SCOPE_ARTIFACTS], 0);
    assert_int_equal(stats_row(&ts, "sb1", AKV_SCOPE_ARTIFACTS).expired, 1);
    assert_int_equal(stats_row(&ts, "sb1", AKV_SCOPE_TASK).expired, 0);
    tu_store_close(&ts);
}

static void prune_with_null_sandbox_covers_every_sandbox(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_for_prune(&ts);
    put_ttl(&ts, "_global", AKV_SCOPE_INSTRUCTIONS, "i", "z", 1);
    ts.clock.now_ms = T0 + 60 * SEC_MS;
    uint64_t pruned[AKV_SCOPE_COUNT];
    assert_ok(akv_prune(ts.store, NULL, AKV_SCOPE_ALL, pruned));
    assert_int_equal(pruned[AKV_SCOPE_TASK], 3);
    assert_int_equal(pruned[AKV_SCOPE_ARTIFACTS], 1);
    assert_int_equal(pruned[AKV_SCOPE_INSTRUCTIONS], 1);
    assert_int_equal(pruned[AKV_SCOPE_PROJECT], 0);
    assert_int_equal(pruned[AKV_SCOPE_SYSTEM], 0);
    assert_int_equal(stats_row(&ts, "sb2", AKV_SCOPE_TASK).expired, 0);
    assert_int_equal(stats_row(&ts, "sb2", AKV_SCOPE_ARTIFACTS).entries, 1);
    assert_int_equal(list_count(&ts, "sb1", AKV_SCOPE_TASK, 1), 1);
    /* With a scope: only that scope, across sandboxes. */
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "n1", "q", 1);
    put_ttl(&ts, "sb2", AKV_SCOPE_TASK, "n2", "q", 1);
    put_ttl(&ts, "sb2", AKV_SCOPE_ARTIFACTS, "n3", "q", 1);
    ts.clock.now_ms += 2 * SEC_MS;
    assert_ok(akv_prune(ts.store, NULL, AKV_SCOPE_TASK, pruned));
    assert_int_equal(pruned[AKV_SCOPE_TASK], 2);
    assert_int_equal(pruned[AKV_SCOPE_ARTIFACTS], 0);
    assert_int_equal(stats_row(&ts, "sb2", AKV_SCOPE_ARTIFACTS).expired, 1);
    tu_store_close(&ts);
}

static void pruned_space_is_reflected_in_stats_and_reusable(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "k", "12345", 10);
    ts.clock.now_ms = T0 + 10 * SEC_MS;
    assert_int_equal(stats_row(&ts, "sb1", AKV_SCOPE_TASK).expired_bytes,
                     tu_cost(1, 5));
    assert_ok(akv_prune(ts.store, "sb1", AKV_SCOPE_TASK, NULL));
    akv_scope_stats st = stats_row(&ts, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(st.bytes + st.expired_bytes, 0);
    akv_meta m;
    int created = 0;
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, "n", 1, NULL,
                      &m, &created));
    assert_int_equal(created, 1);
    assert_int_equal(m.version, 1);
    tu_store_close(&ts);
}

/* A clock that counts its readings. */
struct counted_clock {
    tu_clock_state clock;
    int reads;
};
static int64_t counted(void *ctx)
{
    struct counted_clock *c = ctx;
    c->reads++;
    return tu_clock(&c->clock);
}

/* A read looks at the clock only for a record that can expire, and once
 * even when an overlay read falls through an expired entry to _global. */
static void reads_look_at_the_clock_only_for_entries_that_expire(
    void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "forever", "v", 0);
    put_ttl(&ts, "sb1", AKV_SCOPE_TASK, "hour", "v", 3600);
    put_ttl(&ts, "sb1", AKV_SCOPE_SYSTEM, "style", "own", 60);
    put_ttl(&ts, AKV_GLOBAL_SANDBOX, AKV_SCOPE_SYSTEM, "style", "global",
            3600);
    struct counted_clock c = {.clock = ts.clock};
    akv_store_set_clock(ts.store, counted, &c);
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "forever"));
    assert_int_equal(c.reads, 0);
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "hour"));
    assert_int_equal(c.reads, 1);
    c.clock.now_ms += 3600 * 1000; /* "hour" has expired, "forever" not */
    assert_akv(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "hour"), AKV_ENOTFOUND);
    assert_int_equal(c.reads, 2);
    assert_ok(get_rc(&ts, "sb1", AKV_SCOPE_TASK, "forever"));
    assert_int_equal(c.reads, 2);
    c.clock.now_ms -= 1800 * 1000; /* sb1's style expired, _global's not */
    akv_value *v;
    assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_SYSTEM, "style", 5, &v));
    assert_string_equal(akv_value_meta(v)->origin, AKV_GLOBAL_SANDBOX);
    akv_value_release(v);
    assert_int_equal(c.reads, 3);
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(task_default_ttl_is_visible_until_24h_minus_1ms),
        cmocka_unit_test(
            reads_look_at_the_clock_only_for_entries_that_expire),
        cmocka_unit_test(each_scope_has_its_spec_default_ttl),
        cmocka_unit_test(default_ttl_comes_from_the_config),
        cmocka_unit_test(explicit_ttl_overrides_the_scope_default),
        cmocka_unit_test(ttl_of_100_years_is_kept),
        cmocka_unit_test(ttl_zero_never_expires_and_renders_null),
        cmocka_unit_test(overwrite_recomputes_expiry_from_now),
        cmocka_unit_test(expired_entry_is_invisible_to_every_read_path),
        cmocka_unit_test(put_over_expired_key_starts_again_at_version_1),
        cmocka_unit_test(refresh_on_read_slides_expiry),
        cmocka_unit_test(
            refresh_on_read_via_get_copy_and_not_for_other_scopes),
        cmocka_unit_test(without_refresh_on_read_reads_do_not_slide),
        cmocka_unit_test(
            refresh_on_read_does_not_resurrect_or_limit_permanent_entries),
        cmocka_unit_test(prune_removes_only_expired_and_counts_per_scope),
        cmocka_unit_test(prune_of_one_scope_leaves_other_scopes),
        cmocka_unit_test(prune_with_null_sandbox_covers_every_sandbox),
        cmocka_unit_test(pruned_space_is_reflected_in_stats_and_reusable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

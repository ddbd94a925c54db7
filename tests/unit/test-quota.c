/*
 * test-quota.c — namespace quotas: a write may fill a namespace exactly to
 * its quota; the write that would cross it fails with quota_exceeded, the
 * figures in akv_last_error(), and no change; overwrites count only growth;
 * deletes and expiry free space; each (sandbox, scope) namespace, _global
 * included, has its own quota. Quotas and stats count stored bytes: key,
 * value, metadata, content type and the record header (tu_cost), so that
 * metadata and keys cannot bypass them; a store whose usage was counted
 * the old way (value bytes only) is recounted when it is opened.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define T0 1795651200000LL /* 2026-11-26T00:00:00Z, tu_store_open's clock */
#define QUOTA 4096

/* ---- helpers ----------------------------------------------------------- */

/* A config whose task and instructions quotas are 4 KiB. */
static akv_config *small_quota_config(void)
{
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.task", "quota", "4KiB"));
    assert_ok(akv_config_set(cfg, "scope.instructions", "quota", "4KiB"));
    return cfg;
}

typedef struct fixture {
    akv_config *cfg;
    tu_store ts;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->cfg = small_quota_config();
    tu_store_open(&f->ts, f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_store_close(&f->ts);
    akv_config_free(f->cfg);
    free(f);
    return 0;
}

/* Puts n bytes of fill under key (ttl in seconds or AKV_TTL_DEFAULT). */
static int put_n(fixture *f, const char *sb, akv_scope scope, const char *key,
                 size_t n, char fill, int64_t ttl)
{
    char *val = malloc(n + 1);
    assert_non_null(val);
    memset(val, fill, n);
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.ttl = ttl;
    int rc = akv_put(f->ts.store, sb, scope, key, strlen(key), val, n, &o,
                     NULL, NULL);
    free(val);
    return rc;
}

/* The value length that makes key's entry cost exactly cost stored bytes
 * (default content type, no metadata). */
static size_t value_for(const char *key, uint64_t cost)
{
    uint64_t fixed = tu_cost(strlen(key), 0);
    if (cost < fixed)
        fail_msg("an entry under %s costs at least %llu bytes", key,
                 (unsigned long long)fixed);
    return (size_t)(cost - fixed);
}

/* Puts an entry under key that costs exactly cost stored bytes. */
static int put_cost(fixture *f, const char *sb, akv_scope scope,
                    const char *key, uint64_t cost, char fill, int64_t ttl)
{
    return put_n(f, sb, scope, key, value_for(key, cost), fill, ttl);
}

/* Asserts key holds n bytes of fill at the given version. */
static void want_entry(fixture *f, const char *sb, akv_scope scope,
                       const char *key, size_t n, char fill, uint64_t version)
{
    akv_value *v;
    assert_ok(akv_get(f->ts.store, sb, scope, key, strlen(key), &v));
    size_t len;
    const unsigned char *d = akv_value_data(v, &len);
    assert_int_equal(len, n);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(d[i], (unsigned char)fill);
    assert_int_equal(akv_value_meta(v)->version, version);
    akv_value_release(v);
}

static void want_missing(fixture *f, const char *sb, akv_scope scope,
                         const char *key)
{
    akv_value *v = NULL;
    assert_akv(akv_get(f->ts.store, sb, scope, key, strlen(key), &v),
               AKV_ENOTFOUND);
}

/* Asserts the thread's last error is a quota error with these figures. */
static void want_quota_error(const char *scope, uint64_t used, uint64_t quota,
                             uint64_t would_be)
{
    const akv_error *e = akv_last_error();
    assert_int_equal(e->code, AKV_EQUOTA);
    assert_int_equal(e->has_quota, 1);
    assert_string_equal(e->scope, scope);
    assert_int_equal(e->used, used);
    assert_int_equal(e->quota, quota);
    assert_int_equal(e->would_be, would_be);
    assert_true(e->message[0] != '\0');
}

static uint64_t stored_bytes(fixture *f, const char *sb, akv_scope scope)
{
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n;
    assert_ok(akv_stats(f->ts.store, sb, scope, rows, &n));
    return rows[0].bytes;
}

/* ---- tests ------------------------------------------------------------- */

static void config_quota_is_the_store_quota(void **state)
{
    fixture *f = *state;
    const akv_config *c = akv_store_config(f->ts.store);
    assert_int_equal(akv_config_scope_quota(c, AKV_SCOPE_TASK), QUOTA);
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n;
    assert_ok(akv_stats(f->ts.store, "sb1", AKV_SCOPE_TASK, rows, &n));
    assert_int_equal(rows[0].quota, QUOTA);
}

static void write_exactly_at_quota_succeeds(void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "a", 3000, 'a',
                       AKV_TTL_DEFAULT));
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "b", 1096, 'b',
                       AKV_TTL_DEFAULT));
    assert_int_equal(stored_bytes(f, "sb1", AKV_SCOPE_TASK), QUOTA);
    /* An empty value still costs its key and its record. */
    assert_akv(put_n(f, "sb1", AKV_SCOPE_TASK, "empty", 0, 'e',
                     AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("task", QUOTA, QUOTA, QUOTA + tu_cost(5, 0));
    want_entry(f, "sb1", AKV_SCOPE_TASK, "b", value_for("b", 1096), 'b', 1);
}

static void write_crossing_quota_fails_with_figures_and_changes_nothing(
    void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k1", 3900, 'a',
                       AKV_TTL_DEFAULT));
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k1", 3900, 'b',
                       AKV_TTL_DEFAULT));

    /* A new key that would cross. */
    assert_akv(put_cost(f, "sb1", AKV_SCOPE_TASK, "k2", 197, 'c',
                        AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("task", 3900, QUOTA, 4097);
    /* The message shows the figures too. */
    assert_non_null(strstr(akv_last_error()->message, "3900 bytes used"));
    assert_non_null(strstr(akv_last_error()->message, "quota 4096"));
    assert_non_null(strstr(akv_last_error()->message, "would make 4097"));
    want_missing(f, "sb1", AKV_SCOPE_TASK, "k2");

    /* An overwrite that would cross: old value and version intact. */
    assert_akv(put_cost(f, "sb1", AKV_SCOPE_TASK, "k1", 4097, 'd',
                        AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("task", 3900, QUOTA, 4097);
    want_entry(f, "sb1", AKV_SCOPE_TASK, "k1", value_for("k1", 3900), 'b', 2);
    assert_int_equal(stored_bytes(f, "sb1", AKV_SCOPE_TASK), 3900);

    /* The quota detail does not leak into the next, unrelated error. */
    want_missing(f, "sb1", AKV_SCOPE_TASK, "nope");
    assert_int_equal(akv_last_error()->has_quota, 0);
}

static void overwrite_counts_only_growth(void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k1", 2000, 'a',
                       AKV_TTL_DEFAULT));
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k2", 2096, 'a',
                       AKV_TTL_DEFAULT));
    /* Full: a same-size overwrite and a shrinking one are fine. */
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k1", 2000, 'b',
                       AKV_TTL_DEFAULT));
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k1", 500, 'c',
                       AKV_TTL_DEFAULT));
    assert_int_equal(stored_bytes(f, "sb1", AKV_SCOPE_TASK), 2596);
    /* Growth up to the quota is fine, one byte more is not. */
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k2", 3596, 'd',
                       AKV_TTL_DEFAULT));
    assert_akv(put_cost(f, "sb1", AKV_SCOPE_TASK, "k2", 3597, 'e',
                        AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("task", QUOTA, QUOTA, QUOTA + 1);
    want_entry(f, "sb1", AKV_SCOPE_TASK, "k1", value_for("k1", 500), 'c', 3);
    want_entry(f, "sb1", AKV_SCOPE_TASK, "k2", value_for("k2", 3596), 'd', 2);
}

static void delete_frees_space(void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k1", QUOTA, 'a',
                       AKV_TTL_DEFAULT));
    assert_akv(put_n(f, "sb1", AKV_SCOPE_TASK, "k2", 1, 'b', AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("task", QUOTA, QUOTA, QUOTA + tu_cost(2, 1));
    assert_ok(akv_del(f->ts.store, "sb1", AKV_SCOPE_TASK, "k1", 2));
    assert_int_equal(stored_bytes(f, "sb1", AKV_SCOPE_TASK), 0);
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k2", QUOTA, 'b',
                       AKV_TTL_DEFAULT));
    want_entry(f, "sb1", AKV_SCOPE_TASK, "k2", value_for("k2", QUOTA), 'b', 1);
}

static void clear_frees_space(void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k1", 2048, 'a',
                       AKV_TTL_DEFAULT));
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k2", 2048, 'a',
                       AKV_TTL_DEFAULT));
    assert_akv(put_n(f, "sb1", AKV_SCOPE_TASK, "k3", 1, 'b', AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    assert_ok(akv_clear(f->ts.store, "sb1", AKV_SCOPE_TASK, NULL));
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k3", QUOTA, 'b',
                       AKV_TTL_DEFAULT));
}

static void expired_entries_do_not_count_against_the_writer(void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "old1", 2400, 'a', 10));
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "old2", 1696, 'a', 20));
    assert_akv(put_n(f, "sb1", AKV_SCOPE_TASK, "new", 1, 'b',
                     AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    /* old1 expires: its 2400 bytes are free although nobody pruned. */
    f->ts.clock.now_ms = T0 + 10 * 1000;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "new", 2400, 'b',
                       AKV_TTL_DEFAULT));
    assert_akv(put_n(f, "sb1", AKV_SCOPE_TASK, "more", 1, 'c',
                     AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("task", QUOTA, QUOTA, QUOTA + tu_cost(4, 1));
    want_entry(f, "sb1", AKV_SCOPE_TASK, "old2", value_for("old2", 1696), 'a',
               1);
    /* Everything expires: a full-quota write succeeds. */
    f->ts.clock.now_ms = T0 + 25 * 3600 * 1000LL;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "all", QUOTA, 'd',
                       AKV_TTL_DEFAULT));
    want_entry(f, "sb1", AKV_SCOPE_TASK, "all", value_for("all", QUOTA), 'd',
               1);
}

/* "A failed put changes nothing": not even the expired entries it looked
 * at to make room are collected when it is refused after all. */
static void refused_write_leaves_expired_entries_in_place(void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "old", 2400, 'a', 10));
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "live", 1696, 'b', 0));
    f->ts.clock.now_ms = T0 + 10 * 1000;
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n;
    assert_ok(akv_stats(f->ts.store, "sb1", AKV_SCOPE_TASK, rows, &n));
    assert_int_equal(rows[0].expired, 1);
    /* Too big even with the expired entry gone. */
    assert_akv(put_cost(f, "sb1", AKV_SCOPE_TASK, "new", 2401, 'c',
                        AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("task", 1696, QUOTA, QUOTA + 1);
    assert_ok(akv_stats(f->ts.store, "sb1", AKV_SCOPE_TASK, rows, &n));
    assert_int_equal(rows[0].entries, 1);
    assert_int_equal(rows[0].expired, 1);
    assert_int_equal(rows[0].expired_bytes, 2400);
    akv_list_opts o = {0};
    o.include_expired = 1;
    akv_list *l;
    assert_ok(akv_list_entries(f->ts.store, "sb1", AKV_SCOPE_TASK, &o, &l));
    assert_int_equal(akv_list_count(l), 2);
    akv_list_free(l);
}

static void quota_is_per_sandbox(void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "sbA", AKV_SCOPE_TASK, "k", QUOTA, 'a',
                       AKV_TTL_DEFAULT));
    assert_akv(put_n(f, "sbA", AKV_SCOPE_TASK, "k2", 1, 'a', AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    assert_ok(put_cost(f, "sbB", AKV_SCOPE_TASK, "k", QUOTA, 'b',
                       AKV_TTL_DEFAULT));
    /* A sandbox whose name extends the other's is a namespace of its own. */
    assert_ok(put_cost(f, "sbAA", AKV_SCOPE_TASK, "k", QUOTA, 'c',
                       AKV_TTL_DEFAULT));
    assert_akv(put_n(f, "sbB", AKV_SCOPE_TASK, "k2", 1, 'b', AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_entry(f, "sbA", AKV_SCOPE_TASK, "k", value_for("k", QUOTA), 'a', 1);
}

static void quota_is_per_scope(void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k", QUOTA, 'a',
                       AKV_TTL_DEFAULT));
    /* project keeps its 20 MiB default: unaffected by a full task. */
    assert_ok(put_n(f, "sb1", AKV_SCOPE_PROJECT, "k", 4096, 'b',
                    AKV_TTL_DEFAULT));
    assert_akv(put_n(f, "sb1", AKV_SCOPE_TASK, "k2", 1, 'c', AKV_TTL_DEFAULT),
               AKV_EQUOTA);
}

static void global_namespace_has_its_own_quota(void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "_global", AKV_SCOPE_INSTRUCTIONS, "g", QUOTA, 'g',
                       AKV_TTL_DEFAULT));
    assert_akv(put_n(f, "_global", AKV_SCOPE_INSTRUCTIONS, "g2", 1, 'g',
                     AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("instructions", QUOTA, QUOTA, QUOTA + tu_cost(2, 1));
    /* The sandbox's own instructions are counted apart from _global's,
     * although reads overlay the two. */
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_INSTRUCTIONS, "s", QUOTA, 's',
                       AKV_TTL_DEFAULT));
    assert_akv(put_n(f, "sb1", AKV_SCOPE_INSTRUCTIONS, "s2", 1, 's',
                     AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("instructions", QUOTA, QUOTA, QUOTA + tu_cost(2, 1));
    want_entry(f, "sb1", AKV_SCOPE_INSTRUCTIONS, "g", value_for("g", QUOTA),
               'g', 1);
}

static void quota_survives_reopen(void **state)
{
    fixture *f = *state;
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k", 3900, 'a',
                       AKV_TTL_DEFAULT));
    akv_store_close(f->ts.store);
    assert_ok(akv_store_open(&f->ts.store, tu_backend(), f->ts.dir, f->cfg,
                             0));
    akv_store_set_clock(f->ts.store, tu_clock, &f->ts.clock);
    assert_akv(put_cost(f, "sb1", AKV_SCOPE_TASK, "k2", 197, 'b',
                        AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("task", 3900, QUOTA, 4097);
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k2", 196, 'b',
                       AKV_TTL_DEFAULT));
}

/* ---- metadata and keys count ------------------------------------------- */

/* A metadata JSON object of exactly len bytes: {"pad":"xxx…"}. Owned. */
static char *metadata_of(size_t len)
{
    char *m = malloc(len + 1);
    assert_non_null(m);
    assert_true(len >= 10);
    memcpy(m, "{\"pad\":\"", 8);
    memset(m + 8, 'x', len - 10);
    memcpy(m + len - 2, "\"}", 3);
    return m;
}

static int put_meta(fixture *f, const char *key, const void *val,
                    size_t val_len, const char *meta)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.metadata = meta;
    o.metadata_len = meta ? strlen(meta) : 0;
    return akv_put(f->ts.store, "sb1", AKV_SCOPE_TASK, key, strlen(key), val,
                   val_len, &o, NULL, NULL);
}

static void metadata_and_key_bytes_count_and_show_in_stats(void **state)
{
    fixture *f = *state;
    char *meta = metadata_of(1000);
    const char *longkey = "a/rather/long/key/that/costs/its/own/bytes";
    assert_ok(put_meta(f, "k", "", 0, meta));
    assert_ok(put_meta(f, longkey, "", 0, NULL));
    uint64_t want = tu_cost_full(1, 0, 24, 1000) + tu_cost(strlen(longkey), 0);
    assert_int_equal(stored_bytes(f, "sb1", AKV_SCOPE_TASK), want);
    uint64_t e[AKV_SCOPE_COUNT], b[AKV_SCOPE_COUNT];
    assert_ok(akv_store_usage(f->ts.store, e, b));
    assert_int_equal(b[AKV_SCOPE_TASK], want);
    /* Two more entries like k fit in 4 KiB, a third does not. */
    assert_ok(put_meta(f, "l", "", 0, meta));
    assert_ok(put_meta(f, "m", "", 0, meta));
    want += 2 * tu_cost_full(1, 0, 24, 1000);
    assert_akv(put_meta(f, "n", "", 0, meta), AKV_EQUOTA);
    want_quota_error("task", want, QUOTA,
                     want + tu_cost_full(1, 0, 24, 1000));
    /* Growing only the metadata of an entry is growth too. */
    char *bigger = metadata_of(1000 + (QUOTA - want) + 1);
    assert_akv(put_meta(f, "k", "", 0, bigger), AKV_EQUOTA);
    want_quota_error("task", want, QUOTA, QUOTA + 1);
    free(bigger);
    bigger = metadata_of(1000 + (QUOTA - want));
    assert_ok(put_meta(f, "k", "", 0, bigger));
    assert_int_equal(stored_bytes(f, "sb1", AKV_SCOPE_TASK), QUOTA);
    free(bigger);
    free(meta);
}

/* The reproduction of the issue: 2,000 empty values, each with 63 KiB of
 * metadata, under a 1 MiB quota. Before metadata counted, every one of
 * them was accepted (123 MiB in data.mdb, stats said 0 bytes); now the
 * quota stops them once it is full. */
static void metadata_flood_stops_at_the_quota(void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.task", "quota", "1MiB"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    char *meta = metadata_of(63 * 1024);
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.metadata = meta;
    o.metadata_len = strlen(meta);
    int accepted = 0, refused = 0;
    for (int i = 0; i < 2000; i++) {
        char key[16];
        snprintf(key, sizeof key, "m%04d", i);
        int rc = akv_put(ts.store, "sb1", AKV_SCOPE_TASK, key, strlen(key),
                         "", 0, &o, NULL, NULL);
        if (rc == AKV_OK)
            accepted++;
        else if (rc == AKV_EQUOTA)
            refused++;
        else
            fail_msg("put %d: %s", i, akv_last_error()->message);
    }
    uint64_t each = tu_cost_full(5, 0, 24, 63 * 1024);
    print_message("metadata flood: %d of 2000 accepted under a 1 MiB quota "
                  "(%llu stored bytes each)\n",
                  accepted, (unsigned long long)each);
    assert_int_equal(accepted, (1u << 20) / each);
    assert_int_equal(accepted + refused, 2000);
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n;
    assert_ok(akv_stats(ts.store, "sb1", AKV_SCOPE_TASK, rows, &n));
    assert_int_equal(rows[0].bytes, accepted * each);
    assert_true(rows[0].bytes <= (1u << 20));
    free(meta);
    tu_store_close(&ts);
    akv_config_free(cfg);
}

/* A store whose usage was counted the old way (value bytes only) is
 * recounted when it is opened: quota and store usage then count every
 * byte, with no write needed first. */
static void old_usage_is_recounted_on_open(void **state)
{
    fixture *f = *state;
    char *meta = metadata_of(1000);
    assert_ok(put_meta(f, "k1", "12345", 5, meta));
    assert_ok(put_meta(f, "k2", "", 0, meta));
    uint64_t want = tu_cost_full(2, 5, 24, 1000) + tu_cost_full(2, 0, 24, 1000);
    akv_store_close(f->ts.store);
    f->ts.store = NULL;
    tu_usage_make_old(f->ts.dir);
    assert_ok(akv_store_open(&f->ts.store, tu_backend(), f->ts.dir, f->cfg,
                             0));
    akv_store_set_clock(f->ts.store, tu_clock, &f->ts.clock);
    uint64_t e[AKV_SCOPE_COUNT], b[AKV_SCOPE_COUNT];
    assert_ok(akv_store_usage(f->ts.store, e, b));
    assert_int_equal(e[AKV_SCOPE_TASK], 2);
    assert_int_equal(b[AKV_SCOPE_TASK], want);
    /* The quota sees the recounted figure. */
    assert_akv(put_cost(f, "sb1", AKV_SCOPE_TASK, "k3", QUOTA - want + 1, 'x',
                        AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("task", want, QUOTA, QUOTA + 1);
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k3", QUOTA - want, 'x',
                       AKV_TTL_DEFAULT));
    assert_int_equal(stored_bytes(f, "sb1", AKV_SCOPE_TASK), QUOTA);
    free(meta);
}

/* Redis: a namespace whose usage hash lacks the acct marker (written by an
 * older agentkv after the store was upgraded, say) is recounted by the
 * write script itself before it decides on the quota. */
static void redis_write_recounts_an_unmarked_namespace(void **state)
{
    fixture *f = *state;
    if (tu_backend() == NULL) {
        print_message("skipped on LMDB: a Redis usage hash only\n");
        skip();
    }
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k1", 3000, 'a',
                       AKV_TTL_DEFAULT));
    tu_redis_command("HSET akv:{3:sb1}:u bytes 1");
    tu_redis_command("HDEL akv:{3:sb1}:u acct");
    assert_akv(put_cost(f, "sb1", AKV_SCOPE_TASK, "k2", 1097, 'b',
                        AKV_TTL_DEFAULT),
               AKV_EQUOTA);
    want_quota_error("task", 3000, QUOTA, QUOTA + 1);
    assert_ok(put_cost(f, "sb1", AKV_SCOPE_TASK, "k2", 1096, 'b',
                       AKV_TTL_DEFAULT));
    uint64_t e[AKV_SCOPE_COUNT], b[AKV_SCOPE_COUNT];
    assert_ok(akv_store_usage(f->ts.store, e, b));
    assert_int_equal(b[AKV_SCOPE_TASK], QUOTA);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(config_quota_is_the_store_quota),
        T(write_exactly_at_quota_succeeds),
        T(write_crossing_quota_fails_with_figures_and_changes_nothing),
        T(overwrite_counts_only_growth),
        T(delete_frees_space),
        T(clear_frees_space),
        T(expired_entries_do_not_count_against_the_writer),
        T(refused_write_leaves_expired_entries_in_place),
        T(quota_is_per_sandbox),
        T(quota_is_per_scope),
        T(global_namespace_has_its_own_quota),
        T(quota_survives_reopen),
        T(metadata_and_key_bytes_count_and_show_in_stats),
        cmocka_unit_test(metadata_flood_stops_at_the_quota),
        T(old_usage_is_recounted_on_open),
        T(redis_write_recounts_an_unmarked_namespace),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

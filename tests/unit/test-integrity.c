/*
 * test-integrity.c — damaged records are never served. The test closes the
 * store, damages one record below the library (tu_damage_record: with the
 * plain LMDB API, or in Redis: a flipped value byte, or a record truncated
 * inside its header), reopens, and checks that get,
 * get_copy, check and export report integrity_error, that other keys stay
 * readable, that the failure is logged and counted, and that the entry can
 * be repaired by writing it again.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define T0 1795651200000LL /* 2026-11-26T00:00:00Z, tu_store_open's clock */

enum damage {
    FLIP_VALUE_BYTE, /* last byte of the value: the digest no longer fits */
    TRUNCATE_HEADER, /* record cut to 10 bytes, inside its 80-byte header */
};

/* The store (and config) of the running test. Tests close them at the end;
 * the teardown closes whatever a failed test left open. */
static tu_store cur;
static akv_config *cur_cfg;

/* ---- helpers ----------------------------------------------------------- */

/* Damages the stored record of (scope, sb, key) in the LMDB environment
 * of dir. The store must be closed. */
static void reopen(tu_store *ts, const akv_config *cfg)
{
    assert_ok(akv_store_open(&ts->store, tu_backend(), ts->dir, cfg, 0));
    akv_store_set_clock(ts->store, tu_clock, &ts->clock);
}

/* Closes ts's store, damages one record, reopens. */
static void damage(tu_store *ts, const akv_config *cfg, akv_scope scope,
                   const char *sb, const char *key, enum damage how)
{
    akv_store_close(ts->store);
    ts->store = NULL;
    tu_damage_record(ts->dir, scope, sb, key,
                     how == FLIP_VALUE_BYTE ? 0 : 10);
    reopen(ts, cfg);
}

static void put_str(tu_store *ts, const char *sb, akv_scope scope,
                    const char *key, const char *val)
{
    assert_ok(akv_put(ts->store, sb, scope, key, strlen(key), val,
                      strlen(val), NULL, NULL, NULL));
}

static void want_value(tu_store *ts, const char *sb, akv_scope scope,
                       const char *key, const char *val)
{
    akv_value *v;
    assert_ok(akv_get(ts->store, sb, scope, key, strlen(key), &v));
    size_t len;
    const char *d = akv_value_data(v, &len);
    assert_int_equal(len, strlen(val));
    assert_memory_equal(d, val, len);
    akv_value_release(v);
}

/* Asserts both read forms refuse key with integrity_error and leave the
 * caller's handle and buffer untouched. */
static void want_integrity_error(tu_store *ts, const char *sb,
                                 akv_scope scope, const char *key)
{
    akv_value *v = (akv_value *)&v; /* sentinel: must not be replaced */
    assert_akv(akv_get(ts->store, sb, scope, key, strlen(key), &v),
               AKV_EINTEGRITY);
    assert_ptr_equal(v, (akv_value *)&v);
    assert_int_equal(akv_last_error()->code, AKV_EINTEGRITY);

    char buf[256];
    memset(buf, '#', sizeof buf);
    size_t len = sizeof buf;
    assert_akv(akv_get_copy(ts->store, sb, scope, key, strlen(key), buf, &len,
                            NULL),
               AKV_EINTEGRITY);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], '#');

    /* Several reads at once: the damaged one fails alone. */
    akv_get_req q[2] = {
        {.sandbox = sb, .scope = scope, .key = key, .key_len = strlen(key)},
        {.sandbox = sb, .scope = scope, .key = key, .key_len = strlen(key)},
    };
    assert_ok(akv_get_many(ts->store, q, 2));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(q[i].rc, AKV_EINTEGRITY);
        assert_null(q[i].value);
        assert_int_equal(q[i].error.code, AKV_EINTEGRITY);
    }
}

/* Log capture. */
static char logbuf[4096];
static int log_lines;
static void capture_log(void *ctx, const char *level, const char *msg)
{
    (void)ctx;
    size_t used = strlen(logbuf);
    snprintf(logbuf + used, sizeof logbuf - used, "%s: %s\n", level, msg);
    log_lines++;
}

static int log_setup(void **state)
{
    (void)state;
    logbuf[0] = '\0';
    log_lines = 0;
    akv_set_log(capture_log, NULL);
    return 0;
}

static int log_teardown(void **state)
{
    (void)state;
    akv_set_log(NULL, NULL);
    if (cur.dir != NULL)
        tu_store_close(&cur);
    akv_config_free(cur_cfg);
    cur_cfg = NULL;
    return 0;
}

/* akv_check's bad callback: records the keys it was given. */
struct bad_seen {
    int n;
    char key[4][AKV_KEY_MAX + 1];
    char sandbox[4][AKV_SANDBOX_MAX + 1];
    akv_scope scope[4];
};
static void on_bad(void *ctx, const akv_meta *m)
{
    struct bad_seen *b = ctx;
    if (b->n < 4) {
        memcpy(b->key[b->n], m->key, m->key_len + 1);
        strcpy(b->sandbox[b->n], m->sandbox);
        b->scope[b->n] = m->scope;
    }
    b->n++;
}

static akv_scope_stats stats_row(tu_store *ts, const char *sb,
                                 akv_scope scope)
{
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n;
    assert_ok(akv_stats(ts->store, sb, scope, rows, &n));
    return rows[0];
}

static int export_rc(tu_store *ts)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int rc = akv_export(ts->store, NULL, AKV_SCOPE_ALL, f, NULL, NULL, NULL);
    fclose(f);
    free(buf);
    return rc;
}

/* Three entries in sb1/task; "bad" is damaged in the way given. */
static void setup_damaged(tu_store *ts, enum damage how)
{
    tu_store_open(ts, NULL);
    put_str(ts, "sb1", AKV_SCOPE_TASK, "a-good", "first good value");
    put_str(ts, "sb1", AKV_SCOPE_TASK, "bad", "the value that gets damaged");
    put_str(ts, "sb1", AKV_SCOPE_TASK, "z-good", "last good value");
    damage(ts, NULL, AKV_SCOPE_TASK, "sb1", "bad", how);
}

/* ---- tests, run once per kind of damage --------------------------------- */

static void reads_of_damaged_entry_are_integrity_errors(enum damage how)
{
    setup_damaged(&cur, how);
    want_integrity_error(&cur, "sb1", AKV_SCOPE_TASK, "bad");
    want_value(&cur, "sb1", AKV_SCOPE_TASK, "a-good", "first good value");
    want_value(&cur, "sb1", AKV_SCOPE_TASK, "z-good", "last good value");
    /* Repeated reads keep failing: nothing is "healed" by reading. */
    want_integrity_error(&cur, "sb1", AKV_SCOPE_TASK, "bad");
    /* The failure was logged, naming the key. */
    assert_true(log_lines >= 1);
    assert_non_null(strstr(logbuf, "bad"));
    tu_store_close(&cur);
}

static void flipped_byte_get_is_integrity_error(void **state)
{
    (void)state;
    reads_of_damaged_entry_are_integrity_errors(FLIP_VALUE_BYTE);
}

static void truncated_header_get_is_integrity_error(void **state)
{
    (void)state;
    reads_of_damaged_entry_are_integrity_errors(TRUNCATE_HEADER);
}

static void check_finds_exactly_the_damaged_entry(enum damage how)
{
    setup_damaged(&cur, how);
    put_str(&cur, "sb2", AKV_SCOPE_ARTIFACTS, "other", "fine");
    struct bad_seen seen = {0};
    uint64_t checked = 0, failed = 0;
    assert_akv(akv_check(cur.store, on_bad, NULL, &seen, &checked, &failed),
               AKV_EINTEGRITY);
    assert_int_equal(checked, 4);
    assert_int_equal(failed, 1);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.key[0], "bad");
    assert_string_equal(seen.sandbox[0], "sb1");
    assert_int_equal(seen.scope[0], AKV_SCOPE_TASK);
    tu_store_close(&cur);
}

static void flipped_byte_check_reports_it(void **state)
{
    (void)state;
    check_finds_exactly_the_damaged_entry(FLIP_VALUE_BYTE);
}

static void truncated_header_check_reports_it(void **state)
{
    (void)state;
    check_finds_exactly_the_damaged_entry(TRUNCATE_HEADER);
}

static void check_counts_expired_entries_too(void **state)
{
    (void)state;
    setup_damaged(&cur, FLIP_VALUE_BYTE);
    cur.clock.now_ms = T0 + 400 * 24 * 3600 * 1000LL; /* all expired */
    uint64_t checked = 0, failed = 0;
    assert_akv(akv_check(cur.store, NULL, NULL, NULL, &checked, &failed),
               AKV_EINTEGRITY);
    assert_int_equal(checked, 3);
    assert_int_equal(failed, 1);
    tu_store_close(&cur);
}

static void check_of_a_sound_store_is_ok(void **state)
{
    (void)state;
    tu_store_open(&cur, NULL);
    put_str(&cur, "sb1", AKV_SCOPE_TASK, "a", "1");
    put_str(&cur, "_global", AKV_SCOPE_SYSTEM, "b", "2");
    struct bad_seen seen = {0};
    uint64_t checked = 0, failed = 9;
    assert_ok(akv_check(cur.store, on_bad, NULL, &seen, &checked, &failed));
    assert_int_equal(checked, 2);
    assert_int_equal(failed, 0);
    assert_int_equal(seen.n, 0);
    tu_store_close(&cur);
}

static void export_refuses_a_damaged_store(enum damage how)
{
    setup_damaged(&cur, how);
    assert_akv(export_rc(&cur), AKV_EINTEGRITY);
    assert_non_null(strstr(akv_last_error()->message, "bad"));
    tu_store_close(&cur);
}

static void flipped_byte_export_fails(void **state)
{
    (void)state;
    export_refuses_a_damaged_store(FLIP_VALUE_BYTE);
}

static void truncated_header_export_fails(void **state)
{
    (void)state;
    export_refuses_a_damaged_store(TRUNCATE_HEADER);
}

/* A read that fails its integrity check is a read that served nothing: it
 * is counted as a miss of its scope, never as a hit. */
static void integrity_failures_count_as_misses(enum damage how)
{
    setup_damaged(&cur, how);
    akv_scope_stats before = stats_row(&cur, "sb1", AKV_SCOPE_TASK);
    want_value(&cur, "sb1", AKV_SCOPE_TASK, "a-good", "first good value");
    akv_scope_stats mid = stats_row(&cur, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(mid.hits, before.hits + 1);
    assert_int_equal(mid.misses, before.misses);
    akv_value *v;
    assert_akv(akv_get(cur.store, "sb1", AKV_SCOPE_TASK, "bad", 3, &v),
               AKV_EINTEGRITY);
    akv_scope_stats after = stats_row(&cur, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(after.hits, mid.hits);
    assert_int_equal(after.misses, mid.misses + 1);
    tu_store_close(&cur);
}

static void flipped_byte_read_counts_as_miss(void **state)
{
    (void)state;
    integrity_failures_count_as_misses(FLIP_VALUE_BYTE);
}

static void truncated_header_read_counts_as_miss(void **state)
{
    (void)state;
    integrity_failures_count_as_misses(TRUNCATE_HEADER);
}

static void damaged_overlay_entry_is_not_masked_by_global(void **state)
{
    (void)state;
    tu_store_open(&cur, NULL);
    put_str(&cur, "_global", AKV_SCOPE_INSTRUCTIONS, "style", "global copy");
    put_str(&cur, "S", AKV_SCOPE_INSTRUCTIONS, "style", "sandbox copy");
    damage(&cur, NULL, AKV_SCOPE_INSTRUCTIONS, "S", "style", FLIP_VALUE_BYTE);
    want_integrity_error(&cur, "S", AKV_SCOPE_INSTRUCTIONS, "style");
    want_value(&cur, "_global", AKV_SCOPE_INSTRUCTIONS, "style",
               "global copy");
    want_value(&cur, "T", AKV_SCOPE_INSTRUCTIONS, "style", "global copy");
    tu_store_close(&cur);
}

static void writing_again_repairs_a_damaged_entry(enum damage how)
{
    setup_damaged(&cur, how);
    put_str(&cur, "sb1", AKV_SCOPE_TASK, "bad", "repaired");
    want_value(&cur, "sb1", AKV_SCOPE_TASK, "bad", "repaired");
    uint64_t failed = 9;
    assert_ok(akv_check(cur.store, NULL, NULL, NULL, NULL, &failed));
    assert_int_equal(failed, 0);
    tu_store_close(&cur);
}

static void flipped_byte_entry_is_repaired_by_a_write(void **state)
{
    (void)state;
    writing_again_repairs_a_damaged_entry(FLIP_VALUE_BYTE);
}

static void truncated_entry_is_repaired_by_a_write(void **state)
{
    (void)state;
    writing_again_repairs_a_damaged_entry(TRUNCATE_HEADER);
}

/* Clearing a namespace that holds a damaged record leaves it empty: its
 * whole quota is available again. */
static void clearing_damaged_entries_frees_their_quota(enum damage how)
{
    assert_ok(akv_config_new(&cur_cfg));
    akv_config *cfg = cur_cfg;
    assert_ok(akv_config_set(cfg, "scope.task", "quota", "1KiB"));
    tu_store_open(&cur, cfg);
    char val[1000];
    memset(val, 'v', sizeof val);
    assert_ok(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k", 1, val,
                      sizeof val, NULL, NULL, NULL));
    damage(&cur, cfg, AKV_SCOPE_TASK, "sb1", "k", how);
    assert_ok(akv_clear(cur.store, "sb1", AKV_SCOPE_TASK, NULL));
    akv_scope_stats st = stats_row(&cur, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(st.entries + st.expired, 0);
    char full[1024];
    memset(full, 'f', sizeof full);
    assert_ok(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k2", 2, full,
                      sizeof full, NULL, NULL, NULL));
    tu_store_close(&cur);
    akv_config_free(cfg);
    cur_cfg = NULL;
}

/* Deleting a damaged entry removes it (it was there: nothing says it had
 * expired), and its bytes no longer count against the quota. */
static void deleting_damaged_entry_frees_its_quota(enum damage how)
{
    assert_ok(akv_config_new(&cur_cfg));
    akv_config *cfg = cur_cfg;
    assert_ok(akv_config_set(cfg, "scope.task", "quota", "1KiB"));
    tu_store_open(&cur, cfg);
    char val[1000];
    memset(val, 'v', sizeof val);
    assert_ok(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k", 1, val,
                      sizeof val, NULL, NULL, NULL));
    damage(&cur, cfg, AKV_SCOPE_TASK, "sb1", "k", how);
    int del_rc = akv_del(cur.store, "sb1", AKV_SCOPE_TASK, "k", 1);
    char del_msg[sizeof akv_last_error()->message];
    strcpy(del_msg, akv_last_error()->message);
    assert_akv(akv_del(cur.store, "sb1", AKV_SCOPE_TASK, "k", 1),
               AKV_ENOTFOUND);
    uint64_t checked = 9;
    assert_ok(akv_check(cur.store, NULL, NULL, NULL, &checked, NULL));
    assert_int_equal(checked, 0);
    char full[1024];
    memset(full, 'f', sizeof full);
    assert_ok(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k2", 2, full,
                      sizeof full, NULL, NULL, NULL));
    /* Checked last, so that the effects above are verified either way. */
    if (del_rc != AKV_OK)
        fail_msg("deleting the damaged entry returned %s: %s",
                 akv_err_name(del_rc), del_msg);
    tu_store_close(&cur);
    akv_config_free(cfg);
    cur_cfg = NULL;
}

static void flipped_byte_delete_frees_quota(void **state)
{
    (void)state;
    deleting_damaged_entry_frees_its_quota(FLIP_VALUE_BYTE);
}

static void truncated_header_delete_frees_quota(void **state)
{
    (void)state;
    deleting_damaged_entry_frees_its_quota(TRUNCATE_HEADER);
}

/* Writing over a damaged entry counts the new value exactly: afterwards
 * the namespace holds that value and nothing else. */
static void overwriting_damaged_entry_keeps_usage_exact(enum damage how)
{
    assert_ok(akv_config_new(&cur_cfg));
    akv_config *cfg = cur_cfg;
    assert_ok(akv_config_set(cfg, "scope.task", "quota", "1KiB"));
    tu_store_open(&cur, cfg);
    char val[1000];
    memset(val, 'v', sizeof val);
    assert_ok(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k", 1, val,
                      sizeof val, NULL, NULL, NULL));
    damage(&cur, cfg, AKV_SCOPE_TASK, "sb1", "k", how);
    assert_ok(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k", 1, val, 24, NULL,
                      NULL, NULL));
    /* 24 bytes used: exactly 1000 more fit, 1001 do not. */
    assert_ok(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k2", 2, val, 1000,
                      NULL, NULL, NULL));
    assert_akv(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k3", 2, val, 1, NULL,
                       NULL, NULL),
               AKV_EQUOTA);
    assert_int_equal(akv_last_error()->used, 1024);
    tu_store_close(&cur);
    akv_config_free(cfg);
    cur_cfg = NULL;
}

static void flipped_byte_overwrite_keeps_usage_exact(void **state)
{
    (void)state;
    overwriting_damaged_entry_keeps_usage_exact(FLIP_VALUE_BYTE);
}

static void truncated_header_overwrite_keeps_usage_exact(void **state)
{
    (void)state;
    overwriting_damaged_entry_keeps_usage_exact(TRUNCATE_HEADER);
}

static void flipped_byte_clear_frees_quota(void **state)
{
    (void)state;
    clearing_damaged_entries_frees_their_quota(FLIP_VALUE_BYTE);
}

static void truncated_header_clear_frees_quota(void **state)
{
    (void)state;
    clearing_damaged_entries_frees_their_quota(TRUNCATE_HEADER);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, log_setup, log_teardown)
    const struct CMUnitTest tests[] = {
        T(flipped_byte_get_is_integrity_error),
        T(truncated_header_get_is_integrity_error),
        T(flipped_byte_check_reports_it),
        T(truncated_header_check_reports_it),
        T(check_counts_expired_entries_too),
        T(check_of_a_sound_store_is_ok),
        T(flipped_byte_export_fails),
        T(truncated_header_export_fails),
        T(flipped_byte_read_counts_as_miss),
        T(truncated_header_read_counts_as_miss),
        T(damaged_overlay_entry_is_not_masked_by_global),
        T(flipped_byte_entry_is_repaired_by_a_write),
        T(truncated_entry_is_repaired_by_a_write),
        T(flipped_byte_clear_frees_quota),
        T(truncated_header_clear_frees_quota),
        T(flipped_byte_delete_frees_quota),
        T(truncated_header_delete_frees_quota),
        T(flipped_byte_overwrite_keeps_usage_exact),
        T(truncated_header_overwrite_keeps_usage_exact),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

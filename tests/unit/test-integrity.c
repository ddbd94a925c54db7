/*
 * test-integrity.c — damaged records are never served. The test closes the
 * store, damages one record below the library (tu_damage_record, with the
 * plain LMDB API or in Redis: a flipped value byte, a record truncated
 * inside its header, a flipped header or metadata byte, a flipped header
 * byte of a record of the older format 2, and records of the older format 1
 * with an impossible timestamp or metadata that is no longer JSON),
 * reopens, and checks that get, get_copy, check, list and export report it
 * as integrity_error for that entry only (list and export skip it and go
 * on), that other keys stay readable, that the failure is logged and
 * counted, that the entry can be repaired by writing it again, and that
 * usage stays exact when it is deleted, cleared or overwritten.
 * Every test runs once per kind of damage (its prestate).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define T0 1795651200000LL /* 2026-11-26T00:00:00Z, tu_store_open's clock */

#define META "{\"author\":\"ci\",\"tags\":[\"x\"]}"

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
                   const char *sb, const char *key, tu_damage how)
{
    akv_store_close(ts->store);
    ts->store = NULL;
    tu_damage_record(ts->dir, scope, sb, key, how);
    reopen(ts, cfg);
}

/* Every entry the tests write carries metadata, so that each kind of
 * damage has something to hit. */
static void put_str(tu_store *ts, const char *sb, akv_scope scope,
                    const char *key, const char *val)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.metadata = META;
    o.metadata_len = strlen(META);
    assert_ok(akv_put(ts->store, sb, scope, key, strlen(key), val,
                      strlen(val), &o, NULL, NULL));
}

static tu_damage kind(void **state)
{
    return *(const tu_damage *)*state;
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
    (void)state; /* the kind of damage, read by the test */
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

/* Exports everything; *text (owned) receives the lines, *count their
 * number. */
static int export_rc(tu_store *ts, char **text, uint64_t *count)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int rc = akv_export(ts->store, NULL, AKV_SCOPE_ALL, f, NULL, NULL, count);
    fclose(f);
    *text = buf;
    return rc;
}

/* Three entries in sb1/task; "bad" is damaged in the way given. */
static void setup_damaged(tu_store *ts, tu_damage how)
{
    tu_store_open(ts, NULL);
    put_str(ts, "sb1", AKV_SCOPE_TASK, "a-good", "first good value");
    put_str(ts, "sb1", AKV_SCOPE_TASK, "bad", "the value that gets damaged");
    put_str(ts, "sb1", AKV_SCOPE_TASK, "z-good", "last good value");
    damage(ts, NULL, AKV_SCOPE_TASK, "sb1", "bad", how);
}

/* ---- tests, run once per kind of damage --------------------------------- */

static void get_is_integrity_error(void **state)
{
    setup_damaged(&cur, kind(state));
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

static void check_finds_exactly_the_damaged_entry(void **state)
{
    setup_damaged(&cur, kind(state));
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

/* A list skips the damaged entry, counts it, and lists the others with
 * their metadata: one bad record never hides a scope. */
static void list_skips_and_counts_the_damaged_entry(void **state)
{
    tu_damage how = kind(state);
    setup_damaged(&cur, how);
    akv_list *l = NULL;
    assert_ok(akv_list_entries(cur.store, "sb1", AKV_SCOPE_TASK, NULL, &l));
    /* Value damage is not visible without reading the value, which a list
     * does not do; every other kind is found. */
    bool seen_by_list = how != TU_DAMAGE_VALUE;
    assert_int_equal(akv_list_damaged(l), seen_by_list ? 1 : 0);
    assert_int_equal(akv_list_count(l), seen_by_list ? 2 : 3);
    for (size_t i = 0; i < akv_list_count(l); i++) {
        const akv_meta *m = akv_list_item(l, i);
        char *json = akv_meta_to_json(m);
        assert_non_null(json);
        assert_non_null(strstr(json, "\"metadata\":{\"author\":\"ci\""));
        free(json);
    }
    assert_string_equal(akv_list_item(l, 0)->key, "a-good");
    assert_null(akv_list_next_cursor(l));
    akv_list_free(l);
    if (seen_by_list)
        assert_non_null(strstr(logbuf, "sb1/task/bad"));
    /* Paging one item at a time steps over it too. */
    akv_list_opts o = {0};
    o.limit = 1;
    o.cursor = "a-good";
    o.cursor_len = 6;
    assert_ok(akv_list_entries(cur.store, "sb1", AKV_SCOPE_TASK, &o, &l));
    assert_int_equal(akv_list_count(l), 1);
    assert_string_equal(akv_list_item(l, 0)->key,
                        seen_by_list ? "z-good" : "bad");
    akv_list_free(l);
    tu_store_close(&cur);
}

/* Export writes every sound entry, skips the damaged one with a warning,
 * and then reports integrity_error naming it. */
static void export_skips_the_damaged_entry_and_fails_at_the_end(
    void **state)
{
    setup_damaged(&cur, kind(state));
    char *text = NULL;
    uint64_t count = 0;
    assert_akv(export_rc(&cur, &text, &count), AKV_EINTEGRITY);
    assert_non_null(strstr(akv_last_error()->message, "sb1/task/bad"));
    assert_non_null(strstr(akv_last_error()->message, "1 damaged entry"));
    assert_int_equal(count, 2);
    assert_non_null(strstr(text, "\"key\":\"a-good\""));
    assert_non_null(strstr(text, "\"key\":\"z-good\""));
    assert_null(strstr(text, "\"key\":\"bad\""));
    assert_non_null(strstr(logbuf, "warning: integrity error: sb1/task/bad"));
    free(text);
    tu_store_close(&cur);
}

/* A read that fails its integrity check is a read that served nothing: it
 * is counted as a miss of its scope, never as a hit. */
static void read_counts_as_miss(void **state)
{
    setup_damaged(&cur, kind(state));
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

static void writing_again_repairs_the_entry(void **state)
{
    setup_damaged(&cur, kind(state));
    put_str(&cur, "sb1", AKV_SCOPE_TASK, "bad", "repaired");
    want_value(&cur, "sb1", AKV_SCOPE_TASK, "bad", "repaired");
    uint64_t failed = 9;
    assert_ok(akv_check(cur.store, NULL, NULL, NULL, NULL, &failed));
    assert_int_equal(failed, 0);
    tu_store_close(&cur);
}

/* A 1 KiB task quota and one entry "k" that fills all of it. */
static void setup_full(tu_damage how)
{
    assert_ok(akv_config_new(&cur_cfg));
    assert_ok(akv_config_set(cur_cfg, "scope.task", "quota", "1KiB"));
    tu_store_open(&cur, cur_cfg);
    size_t n = 1024 - tu_cost_full(1, 0, 24, strlen(META));
    char *val = malloc(n);
    assert_non_null(val);
    memset(val, 'v', n);
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.metadata = META;
    o.metadata_len = strlen(META);
    assert_ok(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k", 1, val, n, &o,
                      NULL, NULL));
    free(val);
    assert_int_equal(stats_row(&cur, "sb1", AKV_SCOPE_TASK).bytes, 1024);
    damage(&cur, cur_cfg, AKV_SCOPE_TASK, "sb1", "k", how);
}

/* An entry "k2" that costs exactly the whole quota. */
static int put_full_k2(void)
{
    size_t n = 1024 - tu_cost(2, 0);
    char *val = malloc(n);
    assert_non_null(val);
    memset(val, 'f', n);
    int rc = akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k2", 2, val, n, NULL,
                     NULL, NULL);
    free(val);
    return rc;
}

/* Clearing a namespace that holds a damaged record leaves it empty: its
 * whole quota is available again. */
static void clear_frees_its_quota(void **state)
{
    setup_full(kind(state));
    assert_ok(akv_clear(cur.store, "sb1", AKV_SCOPE_TASK, NULL));
    akv_scope_stats st = stats_row(&cur, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(st.entries + st.expired, 0);
    assert_ok(put_full_k2());
    tu_store_close(&cur);
}

/* Deleting a damaged entry removes it (it was there: nothing says it had
 * expired), and its bytes no longer count against the quota, whatever
 * length the damage left it. */
static void delete_frees_its_quota(void **state)
{
    setup_full(kind(state));
    int del_rc = akv_del(cur.store, "sb1", AKV_SCOPE_TASK, "k", 1);
    char del_msg[sizeof akv_last_error()->message];
    strcpy(del_msg, akv_last_error()->message);
    assert_akv(akv_del(cur.store, "sb1", AKV_SCOPE_TASK, "k", 1),
               AKV_ENOTFOUND);
    uint64_t checked = 9;
    assert_ok(akv_check(cur.store, NULL, NULL, NULL, &checked, NULL));
    assert_int_equal(checked, 0);
    uint64_t e[AKV_SCOPE_COUNT], b[AKV_SCOPE_COUNT];
    assert_ok(akv_store_usage(cur.store, e, b));
    assert_int_equal(e[AKV_SCOPE_TASK], 0);
    assert_int_equal(b[AKV_SCOPE_TASK], 0);
    assert_ok(put_full_k2());
    /* Checked last, so that the effects above are verified either way. */
    if (del_rc != AKV_OK)
        fail_msg("deleting the damaged entry returned %s: %s",
                 akv_err_name(del_rc), del_msg);
    tu_store_close(&cur);
}

/* Writing over a damaged entry counts the new value exactly: afterwards
 * the namespace holds that entry and nothing else. */
static void overwrite_keeps_usage_exact(void **state)
{
    setup_full(kind(state));
    assert_ok(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k", 1, "small", 5,
                      NULL, NULL, NULL));
    uint64_t used = tu_cost(1, 5);
    uint64_t e[AKV_SCOPE_COUNT], b[AKV_SCOPE_COUNT];
    assert_ok(akv_store_usage(cur.store, e, b));
    assert_int_equal(b[AKV_SCOPE_TASK], used);
    /* Exactly the rest fits, one byte more does not. */
    size_t n = 1024 - used - tu_cost(2, 0);
    char *val = malloc(n + 1);
    assert_non_null(val);
    memset(val, 'r', n + 1);
    assert_akv(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k2", 2, val, n + 1,
                       NULL, NULL, NULL),
               AKV_EQUOTA);
    assert_int_equal(akv_last_error()->used, used);
    assert_int_equal(akv_last_error()->would_be, 1025);
    assert_ok(akv_put(cur.store, "sb1", AKV_SCOPE_TASK, "k2", 2, val, n, NULL,
                      NULL, NULL));
    free(val);
    tu_store_close(&cur);
}

/* ---- tests of one kind ------------------------------------------------- */

static void check_counts_expired_entries_too(void **state)
{
    (void)state;
    setup_damaged(&cur, TU_DAMAGE_VALUE);
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

static void damaged_overlay_entry_is_not_masked_by_global(void **state)
{
    (void)state;
    tu_store_open(&cur, NULL);
    put_str(&cur, "_global", AKV_SCOPE_INSTRUCTIONS, "style", "global copy");
    put_str(&cur, "S", AKV_SCOPE_INSTRUCTIONS, "style", "sandbox copy");
    damage(&cur, NULL, AKV_SCOPE_INSTRUCTIONS, "S", "style",
           TU_DAMAGE_VALUE);
    want_integrity_error(&cur, "S", AKV_SCOPE_INSTRUCTIONS, "style");
    want_value(&cur, "_global", AKV_SCOPE_INSTRUCTIONS, "style",
               "global copy");
    want_value(&cur, "T", AKV_SCOPE_INSTRUCTIONS, "style", "global copy");
    tu_store_close(&cur);
}

/* Records written by an older agentkv (format 1: no header checksum) are
 * read, listed, exported, checked and overwritten as before. */
static void format_1_records_are_still_read(void **state)
{
    (void)state;
    tu_store_open(&cur, NULL);
    put_str(&cur, "sb1", AKV_SCOPE_TASK, "old", "written long ago");
    damage(&cur, NULL, AKV_SCOPE_TASK, "sb1", "old", TU_REWRITE_V1);
    /* A store of that age also counted usage the old way. */
    akv_store_close(cur.store);
    tu_usage_make_old(cur.dir);
    reopen(&cur, NULL);
    want_value(&cur, "sb1", AKV_SCOPE_TASK, "old", "written long ago");
    akv_value *v;
    assert_ok(akv_get(cur.store, "sb1", AKV_SCOPE_TASK, "old", 3, &v));
    assert_int_equal(akv_value_meta(v)->metadata_len, strlen(META));
    assert_memory_equal(akv_value_meta(v)->metadata, META, strlen(META));
    assert_int_equal(akv_value_meta(v)->created_at, T0);
    akv_value_release(v);
    uint64_t checked = 0;
    assert_ok(akv_check(cur.store, NULL, NULL, NULL, &checked, NULL));
    assert_int_equal(checked, 1);
    char *text = NULL;
    uint64_t count = 0;
    assert_ok(export_rc(&cur, &text, &count));
    assert_int_equal(count, 1);
    free(text);
    /* Its stored bytes are its own (80-byte header): stats and usage agree
     * before and after an overwrite. */
    akv_scope_stats st = stats_row(&cur, "sb1", AKV_SCOPE_TASK);
    assert_int_equal(st.bytes,
                     tu_cost_full(3, 16, 24, strlen(META)) - 8);
    put_str(&cur, "sb1", AKV_SCOPE_TASK, "old", "new");
    uint64_t e[AKV_SCOPE_COUNT], b[AKV_SCOPE_COUNT];
    assert_ok(akv_store_usage(cur.store, e, b));
    assert_int_equal(b[AKV_SCOPE_TASK], tu_cost_full(3, 3, 24, strlen(META)));
    assert_int_equal(stats_row(&cur, "sb1", AKV_SCOPE_TASK).bytes,
                     b[AKV_SCOPE_TASK]);
    tu_store_close(&cur);
}

/* Format 2 (SHA-1 header checksum) as the LMDB backend wrote it before
 * format 3: read, checked, exported, its expiry rewritten in its own
 * format, and overwritten in the backend's current format. */
static void format_2_records_are_still_read(void **state)
{
    (void)state;
    akv_config *cfg = NULL;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.task", "refresh_on_read", "true"));
    tu_store_open(&cur, cfg);
    put_str(&cur, "sb1", AKV_SCOPE_TASK, "old", "written long ago");
    damage(&cur, cfg, AKV_SCOPE_TASK, "sb1", "old", TU_REWRITE_V2);
    want_value(&cur, "sb1", AKV_SCOPE_TASK, "old", "written long ago");
    akv_value *v;
    assert_ok(akv_get(cur.store, "sb1", AKV_SCOPE_TASK, "old", 3, &v));
    assert_int_equal(akv_value_meta(v)->metadata_len, strlen(META));
    assert_memory_equal(akv_value_meta(v)->metadata, META, strlen(META));
    assert_int_equal(akv_value_meta(v)->created_at, T0);
    akv_value_release(v);
    /* A read an hour later slid its expiry: the rewritten header (still
     * format 2) reads back. */
    cur.clock.now_ms += 3600 * 1000;
    want_value(&cur, "sb1", AKV_SCOPE_TASK, "old", "written long ago");
    assert_ok(akv_get(cur.store, "sb1", AKV_SCOPE_TASK, "old", 3, &v));
    assert_int_equal(akv_value_meta(v)->expires_at,
                     T0 + (int64_t)25 * 3600 * 1000);
    akv_value_release(v);
    uint64_t checked = 0;
    assert_ok(akv_check(cur.store, NULL, NULL, NULL, &checked, NULL));
    assert_int_equal(checked, 1);
    char *text = NULL;
    uint64_t count = 0;
    assert_ok(export_rc(&cur, &text, &count));
    assert_int_equal(count, 1);
    free(text);
    /* Same header size as format 3: usage is the same either way. */
    assert_int_equal(stats_row(&cur, "sb1", AKV_SCOPE_TASK).bytes,
                     tu_cost_full(3, 16, 24, strlen(META)));
    put_str(&cur, "sb1", AKV_SCOPE_TASK, "old", "new");
    want_value(&cur, "sb1", AKV_SCOPE_TASK, "old", "new");
    tu_store_close(&cur);
    akv_config_free(cfg);
}

static const tu_damage kinds[] = {
    TU_DAMAGE_VALUE,       TU_DAMAGE_TRUNCATE, TU_DAMAGE_HEADER,
    TU_DAMAGE_METADATA,    TU_DAMAGE_V1_TIME,  TU_DAMAGE_V1_METADATA,
    TU_DAMAGE_V2_HEADER,
};

int main(void)
{
#define K(name, i)                                                           \
    cmocka_unit_test_prestate_setup_teardown(name, log_setup, log_teardown, \
                                             (void *)&kinds[i])
#define ALL(name)                                                            \
    K(name, 0), K(name, 1), K(name, 2), K(name, 3), K(name, 4), K(name, 5), \
        K(name, 6)
#define T(name) cmocka_unit_test_setup_teardown(name, log_setup, log_teardown)
    const struct CMUnitTest tests[] = {
        ALL(get_is_integrity_error),
        ALL(check_finds_exactly_the_damaged_entry),
        ALL(list_skips_and_counts_the_damaged_entry),
        ALL(export_skips_the_damaged_entry_and_fails_at_the_end),
        ALL(read_counts_as_miss),
        ALL(writing_again_repairs_the_entry),
        ALL(clear_frees_its_quota),
        ALL(delete_frees_its_quota),
        ALL(overwrite_keeps_usage_exact),
        T(check_counts_expired_entries_too),
        T(check_of_a_sound_store_is_ok),
        T(damaged_overlay_entry_is_not_masked_by_global),
        T(format_1_records_are_still_read),
        T(format_2_records_are_still_read),
    };
#undef T
#undef ALL
#undef K
    return cmocka_run_group_tests(tests, NULL, NULL);
}

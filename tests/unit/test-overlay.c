/*
 * test-overlay.c — the system/instructions overlay: reads in sandbox S
 * return S's entry, else _global's, with meta.origin saying which; lists
 * merge both (S wins on equal keys); an expired S entry falls through to
 * _global; deletes in S never touch _global; project, task and artifacts
 * have no overlay.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define T0 1795651200000LL /* 2026-11-26T00:00:00Z, tu_store_open's clock */

static const akv_scope overlay_scopes[] = {AKV_SCOPE_SYSTEM,
                                           AKV_SCOPE_INSTRUCTIONS};
static const akv_scope plain_scopes[] = {AKV_SCOPE_PROJECT, AKV_SCOPE_TASK,
                                         AKV_SCOPE_ARTIFACTS};

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

static void put_str(tu_store *ts, const char *sb, akv_scope scope,
                    const char *key, const char *val)
{
    put_ttl(ts, sb, scope, key, val, AKV_TTL_DEFAULT);
}

/* Reads key in sb and asserts value and origin (borrowed and copy forms). */
static void want_read(tu_store *ts, const char *sb, akv_scope scope,
                      const char *key, const char *val, const char *origin)
{
    akv_value *v;
    assert_ok(akv_get(ts->store, sb, scope, key, strlen(key), &v));
    size_t len;
    const char *d = akv_value_data(v, &len);
    assert_int_equal(len, strlen(val));
    assert_memory_equal(d, val, len);
    const akv_meta *m = akv_value_meta(v);
    assert_string_equal(m->sandbox, sb);
    assert_string_equal(m->origin, origin);
    assert_int_equal(m->scope, scope);
    akv_value_release(v);

    char buf[64];
    size_t blen = sizeof buf;
    akv_meta cm;
    assert_ok(akv_get_copy(ts->store, sb, scope, key, strlen(key), buf, &blen,
                           &cm));
    assert_int_equal(blen, strlen(val));
    assert_memory_equal(buf, val, blen);
    assert_string_equal(cm.sandbox, sb);
    assert_string_equal(cm.origin, origin);
}

static void want_missing(tu_store *ts, const char *sb, akv_scope scope,
                         const char *key)
{
    akv_value *v = NULL;
    assert_akv(akv_get(ts->store, sb, scope, key, strlen(key), &v),
               AKV_ENOTFOUND);
    assert_null(v);
}

/* One expected list row. */
struct row {
    const char *key;
    const char *origin;
    uint64_t size;
};

static void want_list(tu_store *ts, const char *sb, akv_scope scope,
                      const struct row *rows, size_t n)
{
    akv_list *l;
    assert_ok(akv_list_entries(ts->store, sb, scope, NULL, &l));
    assert_int_equal(akv_list_count(l), n);
    for (size_t i = 0; i < n; i++) {
        const akv_meta *m = akv_list_item(l, i);
        assert_string_equal(m->key, rows[i].key);
        assert_string_equal(m->origin, rows[i].origin);
        assert_string_equal(m->sandbox, sb);
        assert_int_equal(m->size, rows[i].size);
    }
    assert_null(akv_list_next_cursor(l));
    akv_list_free(l);
}

/* ---- tests ------------------------------------------------------------- */

static void overlay_reads_sandbox_first_then_global(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    for (size_t i = 0; i < 2; i++) {
        akv_scope sc = overlay_scopes[i];
        put_str(&ts, "_global", sc, "style", "global");
        want_read(&ts, "S", sc, "style", "global", "_global");
        want_read(&ts, "_global", sc, "style", "global", "_global");
        put_str(&ts, "S", sc, "style", "sandbox");
        want_read(&ts, "S", sc, "style", "sandbox", "S");
        /* Another sandbox still sees _global's. */
        want_read(&ts, "T", sc, "style", "global", "_global");
        /* _global itself never sees a sandbox's entry. */
        want_read(&ts, "_global", sc, "style", "global", "_global");
        put_str(&ts, "S", sc, "own-only", "mine");
        want_missing(&ts, "_global", sc, "own-only");
        want_missing(&ts, "T", sc, "own-only");
    }
    tu_store_close(&ts);
}

static void overlay_list_merges_with_sandbox_winning(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    for (size_t i = 0; i < 2; i++) {
        akv_scope sc = overlay_scopes[i];
        put_str(&ts, "_global", sc, "a", "g");
        put_str(&ts, "_global", sc, "b", "gg");
        put_str(&ts, "_global", sc, "c", "ggg");
        put_str(&ts, "S", sc, "b", "ssss");
        put_str(&ts, "S", sc, "d", "sssss");
        put_str(&ts, "T", sc, "a", "tttttt"); /* another sandbox: unseen */
        const struct row want[] = {
            {"a", "_global", 1},
            {"b", "S", 4},
            {"c", "_global", 3},
            {"d", "S", 5},
        };
        want_list(&ts, "S", sc, want, 4);
        const struct row global_only[] = {
            {"a", "_global", 1},
            {"b", "_global", 2},
            {"c", "_global", 3},
        };
        want_list(&ts, "_global", sc, global_only, 3);
    }
    tu_store_close(&ts);
}

static void expired_sandbox_entry_falls_through_to_global(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "_global", AKV_SCOPE_INSTRUCTIONS, "k", "global", 0);
    put_ttl(&ts, "S", AKV_SCOPE_INSTRUCTIONS, "k", "sandbox", 10);
    want_read(&ts, "S", AKV_SCOPE_INSTRUCTIONS, "k", "sandbox", "S");
    ts.clock.now_ms = T0 + 10 * 1000;
    want_read(&ts, "S", AKV_SCOPE_INSTRUCTIONS, "k", "global", "_global");
    const struct row want[] = {{"k", "_global", 6}};
    want_list(&ts, "S", AKV_SCOPE_INSTRUCTIONS, want, 1);
    /* With both expired there is nothing. */
    put_ttl(&ts, "_global", AKV_SCOPE_SYSTEM, "x", "g", 5);
    put_ttl(&ts, "S", AKV_SCOPE_SYSTEM, "x", "s", 5);
    ts.clock.now_ms += 5 * 1000;
    want_missing(&ts, "S", AKV_SCOPE_SYSTEM, "x");
    want_list(&ts, "S", AKV_SCOPE_SYSTEM, NULL, 0);
    tu_store_close(&ts);
}

static void delete_in_sandbox_never_deletes_global(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    for (size_t i = 0; i < 2; i++) {
        akv_scope sc = overlay_scopes[i];
        put_str(&ts, "_global", sc, "k", "global");
        /* Visible through the overlay, but not S's to delete. */
        assert_akv(akv_del(ts.store, "S", sc, "k", 1), AKV_ENOTFOUND);
        want_read(&ts, "S", sc, "k", "global", "_global");
        /* S's own copy is deleted; _global's shows again. */
        put_str(&ts, "S", sc, "k", "sandbox");
        assert_ok(akv_del(ts.store, "S", sc, "k", 1));
        want_read(&ts, "S", sc, "k", "global", "_global");
        want_read(&ts, "_global", sc, "k", "global", "_global");
        /* Clearing S's namespace leaves _global's alone too. */
        put_str(&ts, "S", sc, "k", "sandbox");
        uint64_t deleted = 0;
        assert_ok(akv_clear(ts.store, "S", sc, &deleted));
        assert_int_equal(deleted, 1);
        want_read(&ts, "S", sc, "k", "global", "_global");
    }
    tu_store_close(&ts);
}

static void per_sandbox_scopes_have_no_overlay(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    for (size_t i = 0; i < 3; i++) {
        akv_scope sc = plain_scopes[i];
        put_str(&ts, "_global", sc, "k", "global");
        want_read(&ts, "_global", sc, "k", "global", "_global");
        want_missing(&ts, "S", sc, "k");
        char buf[16];
        size_t len = sizeof buf;
        assert_akv(akv_get_copy(ts.store, "S", sc, "k", 1, buf, &len, NULL),
                   AKV_ENOTFOUND);
        want_list(&ts, "S", sc, NULL, 0);
        assert_akv(akv_del(ts.store, "S", sc, "k", 1), AKV_ENOTFOUND);
        want_read(&ts, "_global", sc, "k", "global", "_global");
    }
    tu_store_close(&ts);
}

static void overlay_write_goes_to_the_sandbox_only(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_str(&ts, "_global", AKV_SCOPE_INSTRUCTIONS, "k", "global");
    /* A write in S over a key S only sees through the overlay creates S's
     * own entry, version 1; _global's is untouched. */
    akv_meta m;
    int created = -1;
    assert_ok(akv_put(ts.store, "S", AKV_SCOPE_INSTRUCTIONS, "k", 1, "mine", 4,
                      NULL, &m, &created));
    assert_int_equal(created, 1);
    assert_int_equal(m.version, 1);
    assert_string_equal(m.origin, "S");
    want_read(&ts, "_global", AKV_SCOPE_INSTRUCTIONS, "k", "global",
              "_global");
    want_read(&ts, "S", AKV_SCOPE_INSTRUCTIONS, "k", "mine", "S");
    tu_store_close(&ts);
}

static void overlay_stats_count_the_sandbox_namespace_only(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_str(&ts, "_global", AKV_SCOPE_INSTRUCTIONS, "a", "1234567");
    put_str(&ts, "S", AKV_SCOPE_INSTRUCTIONS, "b", "12");
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n;
    assert_ok(akv_stats(ts.store, "S", AKV_SCOPE_INSTRUCTIONS, rows, &n));
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].entries, 1);
    assert_int_equal(rows[0].bytes, tu_cost(1, 2));
    assert_ok(akv_stats(ts.store, "_global", AKV_SCOPE_INSTRUCTIONS, rows,
                        &n));
    assert_int_equal(rows[0].entries, 1);
    assert_int_equal(rows[0].bytes, tu_cost(1, 7));
    tu_store_close(&ts);
}

/* A handle's metadata is complete whenever it is asked for: the sandbox
 * and key the caller lent for the read may be gone by then, and the
 * metadata (from akv_get and from akv_get_many) is the same on every ask. */
static void handle_metadata_outlives_the_caller_s_strings(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_str(&ts, AKV_GLOBAL_SANDBOX, AKV_SCOPE_SYSTEM, "style", "global");
    put_str(&ts, "sb1", AKV_SCOPE_SYSTEM, "own", "mine");
    for (int many = 0; many < 2; many++) {
        char sb[8], key[2][8];
        strcpy(sb, "sb1");
        strcpy(key[0], "style");
        strcpy(key[1], "own");
        akv_value *v[2];
        if (many) {
            akv_get_req q[2] = {
                {.sandbox = sb, .scope = AKV_SCOPE_SYSTEM, .key = key[0],
                 .key_len = 5},
                {.sandbox = sb, .scope = AKV_SCOPE_SYSTEM, .key = key[1],
                 .key_len = 3},
            };
            assert_ok(akv_get_many(ts.store, q, 2));
            for (int i = 0; i < 2; i++) {
                assert_ok(q[i].rc);
                v[i] = q[i].value;
            }
        } else {
            assert_ok(akv_get(ts.store, sb, AKV_SCOPE_SYSTEM, key[0], 5,
                              &v[0]));
            assert_ok(akv_get(ts.store, sb, AKV_SCOPE_SYSTEM, key[1], 3,
                              &v[1]));
        }
        memset(sb, 'x', sizeof sb);
        memset(key, 'y', sizeof key);
        for (int ask = 0; ask < 2; ask++) {
            const akv_meta *m = akv_value_meta(v[0]);
            assert_string_equal(m->sandbox, "sb1");
            assert_string_equal(m->origin, AKV_GLOBAL_SANDBOX);
            assert_string_equal(m->key, "style");
            assert_int_equal(m->key_len, 5);
            assert_int_equal(m->size, 6);
            assert_int_equal(m->created_at, T0);
            m = akv_value_meta(v[1]);
            assert_string_equal(m->sandbox, "sb1");
            assert_string_equal(m->origin, "sb1");
            assert_string_equal(m->key, "own");
            assert_int_equal(m->size, 4);
        }
        akv_value_release(v[0]);
        akv_value_release(v[1]);
    }
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(overlay_reads_sandbox_first_then_global),
        cmocka_unit_test(overlay_list_merges_with_sandbox_winning),
        cmocka_unit_test(expired_sandbox_entry_falls_through_to_global),
        cmocka_unit_test(delete_in_sandbox_never_deletes_global),
        cmocka_unit_test(per_sandbox_scopes_have_no_overlay),
        cmocka_unit_test(overlay_write_goes_to_the_sandbox_only),
        cmocka_unit_test(overlay_stats_count_the_sandbox_namespace_only),
        cmocka_unit_test(handle_metadata_outlives_the_caller_s_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

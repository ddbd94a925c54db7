/*
 * test-cas.c — conditional writes: if_match (the current entry's SHA-256)
 * and create_only (absence). A failed precondition is precondition_failed
 * and changes nothing; a malformed if_match is invalid_argument; expired
 * entries count as absent.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define T0 1795651200000LL /* 2026-11-26T00:00:00Z, tu_store_open's clock */
#define SHA_HELLO                                                            \
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

/* ---- helpers ----------------------------------------------------------- */

/* Conditional put of a string; returns the akv_put code. */
static int cput(tu_store *ts, const char *key, const char *val,
                const char *if_match, int create_only, int64_t ttl,
                akv_meta *out, int *created)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.if_match = if_match;
    o.create_only = create_only;
    o.ttl = ttl;
    return akv_put(ts->store, "sb1", AKV_SCOPE_TASK, key, strlen(key), val,
                   strlen(val), &o, out, created);
}

static void put_plain(tu_store *ts, const char *key, const char *val,
                      akv_meta *out)
{
    assert_ok(cput(ts, key, val, NULL, 0, AKV_TTL_DEFAULT, out, NULL));
}

static void want_entry(tu_store *ts, const char *key, const char *val,
                       uint64_t version)
{
    akv_value *v;
    assert_ok(akv_get(ts->store, "sb1", AKV_SCOPE_TASK, key, strlen(key),
                      &v));
    size_t len;
    const char *d = akv_value_data(v, &len);
    assert_int_equal(len, strlen(val));
    assert_memory_equal(d, val, len);
    assert_int_equal(akv_value_meta(v)->version, version);
    akv_value_release(v);
}

static void want_missing(tu_store *ts, const char *key)
{
    akv_value *v = NULL;
    assert_akv(akv_get(ts->store, "sb1", AKV_SCOPE_TASK, key, strlen(key),
                       &v),
               AKV_ENOTFOUND);
}

/* ---- if_match ---------------------------------------------------------- */

static void if_match_with_current_sha_succeeds(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_meta m;
    put_plain(&ts, "k", "hello", &m);
    assert_string_equal(m.sha256, SHA_HELLO);
    int created = -1;
    assert_ok(cput(&ts, "k", "world", m.sha256, 0, AKV_TTL_DEFAULT, &m,
                   &created));
    assert_int_equal(created, 0);
    assert_int_equal(m.version, 2);
    want_entry(&ts, "k", "world", 2);
    /* Chains: the new sha is now the one to match. */
    char sha2[AKV_SHA256_HEX + 1];
    memcpy(sha2, m.sha256, sizeof sha2);
    assert_ok(cput(&ts, "k", "third", sha2, 0, AKV_TTL_DEFAULT, NULL, NULL));
    want_entry(&ts, "k", "third", 3);
    tu_store_close(&ts);
}

static void if_match_with_stale_sha_fails_and_changes_nothing(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_meta first;
    put_plain(&ts, "k", "hello", &first);
    put_plain(&ts, "k", "newer", NULL);
    ts.clock.now_ms = T0 + 1000;
    assert_akv(cput(&ts, "k", "lost update", first.sha256, 0, AKV_TTL_DEFAULT,
                    NULL, NULL),
               AKV_EPRECONDITION);
    want_entry(&ts, "k", "newer", 2);
    akv_value *v;
    assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, &v));
    assert_int_equal(akv_value_meta(v)->updated_at, T0);
    akv_value_release(v);
    tu_store_close(&ts);
}

static void if_match_on_missing_key_fails(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_akv(cput(&ts, "k", "hello", SHA_HELLO, 0, AKV_TTL_DEFAULT, NULL,
                    NULL),
               AKV_EPRECONDITION);
    want_missing(&ts, "k");
    /* Present in another sandbox does not help. */
    assert_ok(akv_put(ts.store, "sb2", AKV_SCOPE_TASK, "k", 1, "hello", 5,
                      NULL, NULL, NULL));
    assert_akv(cput(&ts, "k", "hello", SHA_HELLO, 0, AKV_TTL_DEFAULT, NULL,
                    NULL),
               AKV_EPRECONDITION);
    want_missing(&ts, "k");
    tu_store_close(&ts);
}

static void if_match_on_expired_key_fails(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_meta m;
    assert_ok(cput(&ts, "k", "hello", NULL, 0, 10, &m, NULL));
    ts.clock.now_ms = T0 + 10 * 1000;
    assert_akv(cput(&ts, "k", "again", m.sha256, 0, AKV_TTL_DEFAULT, NULL,
                    NULL),
               AKV_EPRECONDITION);
    want_missing(&ts, "k");
    tu_store_close(&ts);
}

static void malformed_if_match_is_invalid_argument(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        /* 63 hex digits */
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982",
        /* 65 hex digits */
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b98244",
        /* 64 characters, one not hex */
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982g",
        /* 64 characters with a blank */
        "2cf24dba5fb0a30e26e83b2ac5b9e29e 1b161e5c1fa7425e73043362938b982",
        "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b98\"",
    };
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_plain(&ts, "k", "hello", NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_akv(cput(&ts, "k", "changed", bad[i], 0, AKV_TTL_DEFAULT, NULL,
                        NULL),
                   AKV_EINVAL);
        assert_int_equal(akv_last_error()->code, AKV_EINVAL);
        /* Also on a key that does not exist: still a bad argument. */
        assert_akv(cput(&ts, "new", "x", bad[i], 0, AKV_TTL_DEFAULT, NULL,
                        NULL),
                   AKV_EINVAL);
    }
    want_entry(&ts, "k", "hello", 1);
    want_missing(&ts, "new");
    tu_store_close(&ts);
}

/* ---- create_only ------------------------------------------------------- */

static void create_only_on_missing_key_succeeds(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    int created = -1;
    akv_meta m;
    assert_ok(cput(&ts, "k", "first", NULL, 1, AKV_TTL_DEFAULT, &m, &created));
    assert_int_equal(created, 1);
    assert_int_equal(m.version, 1);
    want_entry(&ts, "k", "first", 1);
    tu_store_close(&ts);
}

static void create_only_on_existing_key_fails_and_changes_nothing(
    void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_plain(&ts, "k", "first", NULL);
    assert_akv(cput(&ts, "k", "second", NULL, 1, AKV_TTL_DEFAULT, NULL, NULL),
               AKV_EPRECONDITION);
    want_entry(&ts, "k", "first", 1);
    /* Even when the value would be identical. */
    assert_akv(cput(&ts, "k", "first", NULL, 1, AKV_TTL_DEFAULT, NULL, NULL),
               AKV_EPRECONDITION);
    want_entry(&ts, "k", "first", 1);
    tu_store_close(&ts);
}

static void create_only_on_expired_key_succeeds(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_ok(cput(&ts, "k", "old", NULL, 0, 10, NULL, NULL));
    assert_ok(cput(&ts, "k", "old2", NULL, 0, 10, NULL, NULL));
    ts.clock.now_ms = T0 + 10 * 1000;
    int created = -1;
    akv_meta m;
    assert_ok(cput(&ts, "k", "fresh", NULL, 1, AKV_TTL_DEFAULT, &m, &created));
    assert_int_equal(created, 1);
    assert_int_equal(m.version, 1);
    want_entry(&ts, "k", "fresh", 1);
    tu_store_close(&ts);
}

static void create_only_after_delete_succeeds(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_plain(&ts, "k", "first", NULL);
    assert_ok(akv_del(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1));
    assert_ok(cput(&ts, "k", "again", NULL, 1, AKV_TTL_DEFAULT, NULL, NULL));
    want_entry(&ts, "k", "again", 1);
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(if_match_with_current_sha_succeeds),
        cmocka_unit_test(if_match_with_stale_sha_fails_and_changes_nothing),
        cmocka_unit_test(if_match_on_missing_key_fails),
        cmocka_unit_test(if_match_on_expired_key_fails),
        cmocka_unit_test(malformed_if_match_is_invalid_argument),
        cmocka_unit_test(create_only_on_missing_key_succeeds),
        cmocka_unit_test(create_only_on_existing_key_fails_and_changes_nothing),
        cmocka_unit_test(create_only_on_expired_key_succeeds),
        cmocka_unit_test(create_only_after_delete_succeeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

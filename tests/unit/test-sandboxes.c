/*
 * test-sandboxes.c — akv_sandboxes(): the sandboxes that hold entries, each
 * once and in byte order whatever scopes they use; one whose entries are
 * all deleted drops out; expired entries keep their sandbox listed until
 * prune collects them (they still count against quotas until then). Runs
 * on LMDB and, as redis-unit-sandboxes, on Redis.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void put(tu_store *ts, const char *sb, akv_scope scope,
                const char *key, int64_t ttl)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.ttl = ttl;
    assert_ok(akv_put(ts->store, sb, scope, key, strlen(key), "v", 1, &o,
                      NULL, NULL));
}

/* The list as one string, "a,b,c", for comparisons that print both. */
static char *listed(tu_store *ts)
{
    char **v;
    size_t n;
    assert_ok(akv_sandboxes(ts->store, &v, &n));
    assert_non_null(v);
    assert_null(v[n]);
    char *out = calloc(1, n * (AKV_SANDBOX_MAX + 1) + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, v[i]);
    }
    akv_sandboxes_free(v);
    return out;
}

static void an_empty_store_has_no_sandbox(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    char *s = listed(&ts);
    assert_string_equal(s, "");
    free(s);
    tu_store_close(&ts);
}

static void each_sandbox_once_in_byte_order(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put(&ts, "sb-b", AKV_SCOPE_PROJECT, "k", 0);
    put(&ts, "sb-a", AKV_SCOPE_TASK, "k", 0);
    put(&ts, "sb-a", AKV_SCOPE_ARTIFACTS, "k", 0);
    put(&ts, "sb-a", AKV_SCOPE_SYSTEM, "k", 0);
    put(&ts, AKV_GLOBAL_SANDBOX, AKV_SCOPE_INSTRUCTIONS, "k", 0);
    put(&ts, "Sb-c", AKV_SCOPE_TASK, "k", 0);
    char *s = listed(&ts);
    assert_string_equal(s, "Sb-c,_global,sb-a,sb-b");
    free(s);
    tu_store_close(&ts);
}

static void a_sandbox_emptied_by_deletes_drops_out(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put(&ts, "sb-a", AKV_SCOPE_TASK, "k1", 0);
    put(&ts, "sb-b", AKV_SCOPE_TASK, "k1", 0);
    put(&ts, "sb-b", AKV_SCOPE_ARTIFACTS, "k2", 0);
    assert_ok(akv_del(ts.store, "sb-b", AKV_SCOPE_TASK, "k1", 2));
    char *s = listed(&ts);
    assert_string_equal(s, "sb-a,sb-b");
    free(s);
    uint64_t n;
    assert_ok(akv_clear(ts.store, "sb-b", AKV_SCOPE_ARTIFACTS, &n));
    s = listed(&ts);
    assert_string_equal(s, "sb-a");
    free(s);
    tu_store_close(&ts);
}

static void expired_entries_keep_their_sandbox_until_pruned(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put(&ts, "sb-a", AKV_SCOPE_TASK, "k", 0);
    put(&ts, "sb-t", AKV_SCOPE_TASK, "k", 60);
    ts.clock.now_ms += 61 * 1000;
    char *s = listed(&ts);
    assert_string_equal(s, "sb-a,sb-t");
    free(s);
    uint64_t pruned[AKV_SCOPE_COUNT];
    assert_ok(akv_prune(ts.store, NULL, AKV_SCOPE_ALL, pruned));
    assert_int_equal(pruned[AKV_SCOPE_TASK], 1);
    s = listed(&ts);
    assert_string_equal(s, "sb-a");
    free(s);
    tu_store_close(&ts);
}

static void no_output_is_invalid(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    size_t n;
    char **v;
    assert_akv(akv_sandboxes(ts.store, NULL, &n), AKV_EINVAL);
    assert_akv(akv_sandboxes(ts.store, &v, NULL), AKV_EINVAL);
    akv_sandboxes_free(NULL);
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_empty_store_has_no_sandbox),
        cmocka_unit_test(each_sandbox_once_in_byte_order),
        cmocka_unit_test(a_sandbox_emptied_by_deletes_drops_out),
        cmocka_unit_test(expired_entries_keep_their_sandbox_until_pruned),
        cmocka_unit_test(no_output_is_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

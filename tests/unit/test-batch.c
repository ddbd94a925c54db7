/*
 * test-batch.c — akv_batch_write: puts and deletes on one namespace in one
 * transaction. Versions grow as with akv_put; deleting an absent key is
 * fine; and a batch that fails anywhere — validation, a duplicate key, a
 * precondition, the quota, the size limit — changes nothing at all, the
 * puts before the failing operation and the deletes included. A delete
 * with if_match deletes only the entry with that SHA-256.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "testutil.h"

#define SB "sb1"
#define SC AKV_SCOPE_INSTRUCTIONS

static akv_batch_op put_op(const char *key, const char *val)
{
    akv_batch_op op;
    memset(&op, 0, sizeof op);
    op.key = key;
    op.key_len = strlen(key);
    op.value = val;
    op.value_len = strlen(val);
    akv_put_opts_init(&op.opts);
    op.opts.content_type = "text/markdown";
    return op;
}

static akv_batch_op del_op(const char *key)
{
    akv_batch_op op;
    memset(&op, 0, sizeof op);
    op.del = 1;
    op.key = key;
    op.key_len = strlen(key);
    return op;
}

/* "key=value@version;…" of the sandbox's own namespace, in key order. */
static char *dump(tu_store *ts)
{
    akv_list *l;
    assert_ok(akv_list_entries(ts->store, SB, SC, NULL, &l));
    char *out = calloc(1, 4096);
    for (size_t i = 0; i < akv_list_count(l); i++) {
        const akv_meta *m = akv_list_item(l, i);
        char buf[256];
        size_t len = sizeof buf;
        assert_ok(akv_get_copy(ts->store, SB, SC, m->key, m->key_len, buf,
                               &len, NULL));
        snprintf(out + strlen(out), 4096 - strlen(out), "%s=%.*s@%llu;",
                 m->key, (int)len, buf, (unsigned long long)m->version);
    }
    akv_list_free(l);
    return out;
}

static void expect_dump(tu_store *ts, const char *want)
{
    char *got = dump(ts);
    assert_string_equal(got, want);
    free(got);
}

static int setup(void **state)
{
    tu_store *ts = calloc(1, sizeof *ts);
    akv_config *cfg;
    akv_config_new(&cfg);
    /* Stored bytes (tu_cost_full: key, header, "text/markdown", value):
     * three small entries fit, the failure test below does not. */
    akv_config_set(cfg, "scope.instructions", "quota", "350");
    akv_config_set(cfg, "store", "max_value_size", "40");
    tu_store_open(ts, cfg);
    akv_config_free(cfg);
    *state = ts;
    return 0;
}

static int teardown(void **state)
{
    tu_store_close(*state);
    free(*state);
    return 0;
}

static void test_puts_then_updates(void **state)
{
    tu_store *ts = *state;
    akv_batch_op ops[3] = {put_op("a", "one"), put_op("b", "two"),
                           put_op("c", "three")};
    akv_meta out[3];
    assert_ok(akv_batch_write(ts->store, SB, SC, ops, 3, out));
    expect_dump(ts, "a=one@1;b=two@1;c=three@1;");
    assert_string_equal(out[1].key, "b");
    assert_int_equal(out[1].version, 1);
    assert_string_equal(out[1].content_type, "text/markdown");
    int64_t created = out[0].created_at;

    ts->clock.now_ms += 5000;
    ops[0] = put_op("a", "ONE");
    assert_ok(akv_batch_write(ts->store, SB, SC, ops, 1, out));
    assert_int_equal(out[0].version, 2);
    assert_int_equal(out[0].created_at, created);
    assert_int_equal(out[0].updated_at, created + 5000);
    expect_dump(ts, "a=ONE@2;b=two@1;c=three@1;");
}

static void test_puts_and_deletes(void **state)
{
    tu_store *ts = *state;
    akv_batch_op ops[3] = {put_op("a", "1"), put_op("b", "2"),
                           put_op("c", "3")};
    assert_ok(akv_batch_write(ts->store, SB, SC, ops, 3, NULL));
    akv_batch_op mix[3] = {del_op("a"), put_op("b", "22"),
                           del_op("never-there")};
    akv_meta out[3];
    assert_ok(akv_batch_write(ts->store, SB, SC, mix, 3, out));
    expect_dump(ts, "b=22@2;c=3@1;");
    assert_int_equal(out[0].version, 0);
    assert_string_equal(out[0].key, "a");
    assert_int_equal(out[1].version, 2);
    /* The namespace's usage followed: the quota sees b and c in use. */
    akv_scope_stats st[AKV_SCOPE_COUNT];
    size_t n;
    assert_ok(akv_stats(ts->store, SB, SC, st, &n));
    assert_int_equal(st[0].entries, 2);
    assert_int_equal(st[0].bytes,
                     tu_cost_full(1, 2, 13, 0) + tu_cost_full(1, 1, 13, 0));
}

static void test_nothing_on_quota_failure(void **state)
{
    tu_store *ts = *state;
    akv_batch_op ops[2] = {put_op("a", "0123456789"), put_op("gone", "x")};
    assert_ok(akv_batch_write(ts->store, SB, SC, ops, 2, NULL));
    /* a (10-byte value) + b and c (30 each) are 376 stored bytes > 350:
     * the last write fails, after a delete and puts that fit. */
    char big[31];
    memset(big, 'z', 30);
    big[30] = '\0';
    akv_batch_op bad[4] = {del_op("gone"), put_op("b", big),
                           put_op("a", "abcdefghij"),
                           put_op("c", big)};
    assert_akv(akv_batch_write(ts->store, SB, SC, bad, 4, NULL), AKV_EQUOTA);
    assert_true(akv_last_error()->has_quota);
    expect_dump(ts, "a=0123456789@1;gone=x@1;");
}

static void test_nothing_on_precondition_failure(void **state)
{
    tu_store *ts = *state;
    akv_batch_op ops[1] = {put_op("a", "1")};
    assert_ok(akv_batch_write(ts->store, SB, SC, ops, 1, NULL));
    akv_batch_op bad[3] = {put_op("b", "2"), del_op("a"), put_op("c", "3")};
    bad[2].opts.if_match =
        "0000000000000000000000000000000000000000000000000000000000000000";
    assert_akv(akv_batch_write(ts->store, SB, SC, bad, 3, NULL),
               AKV_EPRECONDITION);
    expect_dump(ts, "a=1@1;");
    bad[2].opts.if_match = NULL;
    bad[2].opts.create_only = 1;
    bad[2].key = "a";
    bad[2].key_len = 1;
    bad[1] = put_op("d", "4");
    assert_akv(akv_batch_write(ts->store, SB, SC, bad, 3, NULL),
               AKV_EPRECONDITION);
    expect_dump(ts, "a=1@1;");
}

static void test_conditional_deletes(void **state)
{
    tu_store *ts = *state;
    akv_batch_op ops[2] = {put_op("a", "1"), put_op("b", "2")};
    akv_meta m[2];
    assert_ok(akv_batch_write(ts->store, SB, SC, ops, 2, m));
    /* A stale SHA-256 (of another value) fails the batch whole. */
    akv_batch_op bad[2] = {put_op("c", "3"), del_op("a")};
    bad[1].opts.if_match = m[1].sha256;
    assert_akv(akv_batch_write(ts->store, SB, SC, bad, 2, NULL),
               AKV_EPRECONDITION);
    expect_dump(ts, "a=1@1;b=2@1;");
    /* An absent key with if_match is a failure too (not a no-op). */
    bad[1] = del_op("gone");
    bad[1].opts.if_match = m[0].sha256;
    assert_akv(akv_batch_write(ts->store, SB, SC, bad, 2, NULL),
               AKV_EPRECONDITION);
    expect_dump(ts, "a=1@1;b=2@1;");
    bad[1].opts.if_match = "not hex";
    assert_akv(akv_batch_write(ts->store, SB, SC, bad, 2, NULL), AKV_EINVAL);
    expect_dump(ts, "a=1@1;b=2@1;");
    /* The current SHA-256 deletes. */
    akv_batch_op ok[2] = {put_op("c", "3"), del_op("a")};
    ok[1].opts.if_match = m[0].sha256;
    assert_ok(akv_batch_write(ts->store, SB, SC, ok, 2, NULL));
    expect_dump(ts, "b=2@1;c=3@1;");
    /* An expired entry is absent, whatever its SHA-256. */
    akv_batch_op t[1] = {put_op("t", "4")};
    t[0].opts.ttl = 10;
    assert_ok(akv_batch_write(ts->store, SB, SC, t, 1, m));
    ts->clock.now_ms += 11000;
    akv_batch_op dt[1] = {del_op("t")};
    dt[0].opts.if_match = m[0].sha256;
    assert_akv(akv_batch_write(ts->store, SB, SC, dt, 1, NULL),
               AKV_EPRECONDITION);
}

static void test_validation_before_anything(void **state)
{
    tu_store *ts = *state;
    akv_batch_op ops[2] = {put_op("ok", "1"), put_op("bad/../key", "2")};
    assert_akv(akv_batch_write(ts->store, SB, SC, ops, 2, NULL), AKV_EINVAL);
    assert_non_null(strstr(akv_last_error()->message, "bad/../key"));
    ops[1] = put_op("ok", "again");
    assert_akv(akv_batch_write(ts->store, SB, SC, ops, 2, NULL), AKV_EINVAL);
    assert_non_null(strstr(akv_last_error()->message, "twice"));
    ops[1] = put_op("big", "0123456789012345678901234567890123456789X");
    assert_akv(akv_batch_write(ts->store, SB, SC, ops, 2, NULL),
               AKV_ETOOLARGE);
    ops[1] = put_op("meta", "x");
    ops[1].opts.metadata = "[1]";
    ops[1].opts.metadata_len = 3;
    assert_akv(akv_batch_write(ts->store, SB, SC, ops, 2, NULL), AKV_EINVAL);
    ops[1] = put_op("ct", "x");
    ops[1].opts.content_type = "bad\ntype";
    assert_akv(akv_batch_write(ts->store, SB, SC, ops, 2, NULL), AKV_EINVAL);
    ops[1] = put_op("ttl", "x");
    ops[1].opts.ttl = -5;
    assert_akv(akv_batch_write(ts->store, SB, SC, ops, 2, NULL), AKV_EINVAL);
    assert_akv(akv_batch_write(ts->store, "bad sandbox", SC, ops, 1, NULL),
               AKV_EINVAL);
    assert_akv(akv_batch_write(ts->store, SB, (akv_scope)9, ops, 1, NULL),
               AKV_EINVAL);
    expect_dump(ts, "");
    assert_ok(akv_batch_write(ts->store, SB, SC, NULL, 0, NULL));
}

static void test_deletes_stay_in_own_namespace(void **state)
{
    tu_store *ts = *state;
    akv_batch_op g[1] = {put_op("shared", "global")};
    assert_ok(akv_batch_write(ts->store, AKV_GLOBAL_SANDBOX, SC, g, 1, NULL));
    akv_batch_op d[1] = {del_op("shared")};
    assert_ok(akv_batch_write(ts->store, SB, SC, d, 1, NULL));
    char buf[16];
    size_t len = sizeof buf;
    akv_meta m;
    assert_ok(akv_get_copy(ts->store, SB, SC, "shared", 6, buf, &len, &m));
    assert_string_equal(m.origin, AKV_GLOBAL_SANDBOX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_puts_then_updates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_puts_and_deletes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nothing_on_quota_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nothing_on_precondition_failure,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditional_deletes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_validation_before_anything,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_deletes_stay_in_own_namespace,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

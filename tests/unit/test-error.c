/*
 * test-error.c — the error table (AKV_ERRNO_MAP) against SPEC.md §2: every
 * code's wire name, HTTP status and CLI exit code, the reverse lookup by
 * name, the values for AKV_OK and unknown codes, the thread-local
 * akv_last_error() detail and the log hook.
 *
 * The expected values are written out here by hand from SPEC.md rather than
 * generated from the macro, so that a wrong row in agentkv.h fails the test;
 * a row added to the macro without a line here fails it too.
 */
#include <pthread.h>
#include <string.h>

#include "testutil.h"
#include "internal.h"

static const struct {
    int code;
    const char *name;
    int http;
    int exit_code;
} spec[] = {
    /* SPEC.md §2 */
    {AKV_EINVAL, "invalid_argument", 400, 2},
    {AKV_EUNAUTHORIZED, "unauthorized", 401, 1},  /* exit "—": generic 1 */
    {AKV_EFORBIDDEN, "forbidden", 403, 1},        /* exit "—": generic 1 */
    {AKV_ENOTFOUND, "not_found", 404, 1},
    {AKV_EPRECONDITION, "precondition_failed", 412, 4},
    {AKV_ETOOLARGE, "value_too_large", 413, 3},
    {AKV_EQUOTA, "quota_exceeded", 507, 3},
    {AKV_EINTEGRITY, "integrity_error", 500, 5},
    {AKV_EUNAVAILABLE, "unavailable", 503, 6},
    /* Library-level conditions SPEC.md does not name (agentkv.h). */
    {AKV_ENOMEM, "out_of_memory", 503, 6},
    {AKV_ENOBUFS, "buffer_too_small", 500, 1},
};
#define NSPEC (sizeof spec / sizeof spec[0])

static void test_every_row_matches_spec(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSPEC; i++) {
        const char *name = akv_err_name(spec[i].code);
        if (strcmp(name, spec[i].name) != 0)
            fail_msg("code %d: name '%s', expected '%s'", spec[i].code, name,
                     spec[i].name);
        if (akv_err_http_status(spec[i].code) != spec[i].http)
            fail_msg("%s: HTTP %d, expected %d", spec[i].name,
                     akv_err_http_status(spec[i].code), spec[i].http);
        if (akv_err_exit_code(spec[i].code) != spec[i].exit_code)
            fail_msg("%s: exit %d, expected %d", spec[i].name,
                     akv_err_exit_code(spec[i].code), spec[i].exit_code);
        const char *msg = akv_strerror(spec[i].code);
        assert_non_null(msg);
        assert_true(strlen(msg) > 0);
        assert_string_not_equal(msg, "unknown error");
    }
}

static void test_macro_rows_are_all_known(void **state)
{
    (void)state;
    size_t rows = 0;
    /* Every row of the macro appears in the table above with the same
     * values, and codes are negative and unique. */
#define XX(e, v, row_name, row_http, row_exit, row_msg)                       \
    do {                                                                      \
        size_t k;                                                             \
        rows++;                                                               \
        assert_true((v) < 0);                                                 \
        assert_int_equal(AKV_##e, (v));                                       \
        for (k = 0; k < NSPEC; k++)                                           \
            if (spec[k].code == (v))                                          \
                break;                                                        \
        if (k == NSPEC)                                                       \
            fail_msg("AKV_" #e " (%d) is not in this test's table", (v));     \
        assert_string_equal(spec[k].name, (row_name));                        \
        assert_int_equal(spec[k].http, (row_http));                           \
        assert_int_equal(spec[k].exit_code, (row_exit));                      \
        assert_string_equal(akv_strerror(v), (row_msg));                      \
    } while (0);
    AKV_ERRNO_MAP(XX)
#undef XX
    assert_int_equal(rows, NSPEC);
    for (size_t i = 0; i < NSPEC; i++)
        for (size_t j = i + 1; j < NSPEC; j++) {
            assert_int_not_equal(spec[i].code, spec[j].code);
            assert_string_not_equal(spec[i].name, spec[j].name);
        }
}

static void test_codes_are_append_only(void **state)
{
    (void)state;
    /* Values are part of the ABI: they never move. */
    assert_int_equal(AKV_OK, 0);
    assert_int_equal(AKV_EINVAL, -1);
    assert_int_equal(AKV_EUNAUTHORIZED, -2);
    assert_int_equal(AKV_EFORBIDDEN, -3);
    assert_int_equal(AKV_ENOTFOUND, -4);
    assert_int_equal(AKV_EPRECONDITION, -5);
    assert_int_equal(AKV_ETOOLARGE, -6);
    assert_int_equal(AKV_EQUOTA, -7);
    assert_int_equal(AKV_EINTEGRITY, -8);
    assert_int_equal(AKV_EUNAVAILABLE, -9);
    assert_int_equal(AKV_ENOMEM, -10);
    assert_int_equal(AKV_ENOBUFS, -11);
}

static void test_ok_and_unknown(void **state)
{
    (void)state;
    assert_string_equal(akv_err_name(AKV_OK), "ok");
    assert_string_equal(akv_strerror(AKV_OK), "success");
    assert_int_equal(akv_err_http_status(AKV_OK), 200);
    assert_int_equal(akv_err_exit_code(AKV_OK), 0);
    const int unknown[] = {-12, -999, 1, 42, -2147483647 - 1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_string_equal(akv_err_name(unknown[i]), "unknown_error");
        assert_string_equal(akv_strerror(unknown[i]), "unknown error");
        assert_int_equal(akv_err_http_status(unknown[i]), 500);
        assert_int_equal(akv_err_exit_code(unknown[i]), 1);
    }
}

static void test_from_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSPEC; i++) {
        assert_int_equal(akv_err_from_name(spec[i].name), spec[i].code);
        assert_int_equal(akv_err_from_name(akv_err_name(spec[i].code)),
                         spec[i].code);
    }
    assert_int_equal(akv_err_from_name("nope"), AKV_OK);
    assert_int_equal(akv_err_from_name(""), AKV_OK);
    assert_int_equal(akv_err_from_name(NULL), AKV_OK);
    assert_int_equal(akv_err_from_name("ok"), AKV_OK);
    assert_int_equal(akv_err_from_name("Not_Found"), AKV_OK);
    assert_int_equal(akv_err_from_name("not_found "), AKV_OK);
    assert_int_equal(akv_err_from_name("unknown_error"), AKV_OK);
}

static void test_last_error(void **state)
{
    (void)state;
    assert_akv(akv_key_check("", 0), AKV_EINVAL);
    const akv_error *e = akv_last_error();
    assert_int_equal(e->code, AKV_EINVAL);
    assert_true(strlen(e->message) > 0);
    assert_int_equal(e->has_quota, 0);
    /* The handle is stable and shows the newest failure. */
    assert_akv(akv_sandbox_check("a b", 3), AKV_EINVAL);
    assert_ptr_equal(akv_last_error(), e);
    assert_non_null(strstr(e->message, "sandbox"));
}

static void test_fail_helpers(void **state)
{
    (void)state;
    assert_int_equal(akv_fail(AKV_ENOTFOUND, "no entry %s", "x"),
                     AKV_ENOTFOUND);
    assert_int_equal(akv_last_error()->code, AKV_ENOTFOUND);
    assert_string_equal(akv_last_error()->message, "no entry x");

    assert_int_equal(akv_fail_quota(AKV_SCOPE_TASK, 10, 20, 30, "over"),
                     AKV_EQUOTA);
    const akv_error *e = akv_last_error();
    assert_int_equal(e->code, AKV_EQUOTA);
    assert_int_equal(e->has_quota, 1);
    assert_string_equal(e->scope, "task");
    assert_int_equal(e->used, 10);
    assert_int_equal(e->quota, 20);
    assert_int_equal(e->would_be, 30);
    assert_string_equal(e->message, "over");

    /* A later failure without figures clears has_quota. */
    akv_fail(AKV_EINVAL, "bad");
    assert_int_equal(akv_last_error()->has_quota, 0);

    /* Without a message, the table's message stands in. */
    akv_fail(AKV_EINTEGRITY, NULL);
    assert_string_equal(akv_last_error()->message,
                        akv_strerror(AKV_EINTEGRITY));

    akv_error_clear();
    assert_int_equal(akv_last_error()->code, AKV_OK);
    assert_string_equal(akv_last_error()->message, "");
}

static void *fail_in_thread(void *arg)
{
    (void)arg;
    akv_fail(AKV_EUNAVAILABLE, "from the other thread");
    return (void *)akv_last_error();
}

static void test_last_error_is_per_thread(void **state)
{
    (void)state;
    akv_fail(AKV_ENOTFOUND, "from the main thread");
    pthread_t t;
    void *theirs;
    assert_int_equal(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &theirs), 0);
    assert_ptr_not_equal(theirs, akv_last_error());
    assert_int_equal(akv_last_error()->code, AKV_ENOTFOUND);
    assert_string_equal(akv_last_error()->message, "from the main thread");
}

struct log_capture {
    int calls;
    char level[16];
    char message[256];
};

static void capture_log(void *ctx, const char *level, const char *message)
{
    struct log_capture *c = ctx;
    c->calls++;
    snprintf(c->level, sizeof c->level, "%s", level);
    snprintf(c->message, sizeof c->message, "%s", message);
}

static void test_log_hook(void **state)
{
    (void)state;
    struct log_capture c = {0};
    akv_set_log(capture_log, &c);
    akv_log("warning", "integrity failure on %s/%d", "key", 7);
    akv_set_log(NULL, NULL);
    assert_int_equal(c.calls, 1);
    assert_string_equal(c.level, "warning");
    assert_string_equal(c.message, "integrity failure on key/7");
    /* After restoring the default the hook is no longer called. */
    akv_log("info", "to stderr");
    assert_int_equal(c.calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_matches_spec),
        cmocka_unit_test(test_macro_rows_are_all_known),
        cmocka_unit_test(test_codes_are_append_only),
        cmocka_unit_test(test_ok_and_unknown),
        cmocka_unit_test(test_from_name),
        cmocka_unit_test(test_last_error),
        cmocka_unit_test(test_fail_helpers),
        cmocka_unit_test(test_last_error_is_per_thread),
        cmocka_unit_test(test_log_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

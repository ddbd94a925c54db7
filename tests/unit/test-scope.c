/*
 * test-scope.c — the five scopes of SPEC.md §1: exact, case-sensitive
 * parsing (akv_scope_parse), names (akv_scope_name) and which scopes are
 * overlays of _global (akv_scope_is_overlay).
 */
#include <string.h>

#include "testutil.h"

#define NAME(lit) (lit), (sizeof(lit) - 1)

static const struct {
    const char *name;
    akv_scope scope;
    int overlay;
} scopes[] = {
    {"system", AKV_SCOPE_SYSTEM, 1},
    {"instructions", AKV_SCOPE_INSTRUCTIONS, 1},
    {"project", AKV_SCOPE_PROJECT, 0},
    {"task", AKV_SCOPE_TASK, 0},
    {"artifacts", AKV_SCOPE_ARTIFACTS, 0},
};

static void expect_unknown(const char *name, size_t len, const char *why)
{
    akv_scope out;
    int rc = akv_scope_parse(name, len, &out);
    if (rc != AKV_EINVAL)
        fail_msg("scope case '%s': got %s, expected invalid_argument", why,
                 akv_err_name(rc));
    const akv_error *e = akv_last_error();
    assert_int_equal(e->code, AKV_EINVAL);
    /* The message tells the user what would have been accepted. */
    assert_non_null(strstr(e->message, "artifacts"));
    assert_null(strchr(e->message, '\n'));
}

static void test_parse_and_name(void **state)
{
    (void)state;
    assert_int_equal(AKV_SCOPE_COUNT, 5);
    for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++) {
        akv_scope out = (akv_scope)99;
        assert_ok(akv_scope_parse(scopes[i].name, strlen(scopes[i].name),
                                  &out));
        assert_int_equal(out, scopes[i].scope);
        assert_string_equal(akv_scope_name(scopes[i].scope), scopes[i].name);
        assert_int_equal(akv_scope_is_overlay(scopes[i].scope),
                         scopes[i].overlay);
    }
}

static void test_enum_values_are_stable(void **state)
{
    (void)state;
    /* Scope numbers index arrays and may be stored: they must not move. */
    assert_int_equal(AKV_SCOPE_SYSTEM, 0);
    assert_int_equal(AKV_SCOPE_INSTRUCTIONS, 1);
    assert_int_equal(AKV_SCOPE_PROJECT, 2);
    assert_int_equal(AKV_SCOPE_TASK, 3);
    assert_int_equal(AKV_SCOPE_ARTIFACTS, 4);
}

static void test_name_out_of_range(void **state)
{
    (void)state;
    assert_null(akv_scope_name(-1));
    assert_null(akv_scope_name(AKV_SCOPE_ALL));
    assert_null(akv_scope_name(5));
    assert_null(akv_scope_name(1000));
}

static void test_unknown(void **state)
{
    (void)state;
    expect_unknown(NAME("unknown"), "unknown");
    expect_unknown(NAME(""), "empty");
    expect_unknown(NULL, 0, "NULL");
    expect_unknown(NAME("Task"), "capitalised");
    expect_unknown(NAME("TASK"), "upper case");
    expect_unknown(NAME("tas"), "prefix");
    expect_unknown(NAME("t"), "one letter");
    expect_unknown(NAME("task "), "trailing space");
    expect_unknown(NAME(" task"), "leading space");
    expect_unknown(NAME("tasks"), "plural");
    expect_unknown(NAME("artifact"), "singular");
    expect_unknown(NAME("task\0"), "trailing NUL counted");
    expect_unknown(NAME("task\n"), "trailing newline");
    expect_unknown(NAME("all"), "all is not a scope");
    expect_unknown(NAME("global"), "global is not a scope");
    expect_unknown(NAME("systemsystem"), "repeated name");
}

static void test_length_bounds_the_name(void **state)
{
    (void)state;
    akv_scope out;
    /* Only len bytes are the name: "taskX" with len 4 is "task". */
    assert_ok(akv_scope_parse("taskX", 4, &out));
    assert_int_equal(out, AKV_SCOPE_TASK);
    assert_ok(akv_scope_parse("projection", 7, &out));
    assert_int_equal(out, AKV_SCOPE_PROJECT);
    expect_unknown("task", 3, "length cuts the name short");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_name),
        cmocka_unit_test(test_enum_values_are_stable),
        cmocka_unit_test(test_name_out_of_range),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_length_bounds_the_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

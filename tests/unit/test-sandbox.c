/*
 * test-sandbox.c — akv_sandbox_check(): sandbox ids are [A-Za-z0-9_-]{1,64}
 * (SPEC.md §1), "_global" included. Anything else is AKV_EINVAL with a
 * message that quotes the id safely (no raw control bytes reach a terminal
 * or a log line).
 */
#include <string.h>

#include "testutil.h"

#define SB_BYTES(lit) (lit), (sizeof(lit) - 1)

static void expect_invalid(const char *sb, size_t len, const char *why)
{
    int rc = akv_sandbox_check(sb, len);
    if (rc != AKV_EINVAL)
        fail_msg("sandbox case '%s' (%zu bytes): got %s, expected "
                 "invalid_argument",
                 why, len, akv_err_name(rc));
    const akv_error *e = akv_last_error();
    assert_int_equal(e->code, AKV_EINVAL);
    assert_non_null(strstr(e->message, "sandbox"));
    for (const char *p = e->message; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            fail_msg("sandbox case '%s': raw control byte 0x%02x in message",
                     why, (unsigned char)*p);
}

static void test_valid(void **state)
{
    (void)state;
    assert_ok(akv_sandbox_check(SB_BYTES("default")));
    assert_ok(akv_sandbox_check(SB_BYTES("_global")));
    assert_ok(akv_sandbox_check(SB_BYTES(AKV_DEFAULT_SANDBOX)));
    assert_ok(akv_sandbox_check(SB_BYTES(AKV_GLOBAL_SANDBOX)));
    assert_ok(akv_sandbox_check(SB_BYTES("a")));
    assert_ok(akv_sandbox_check(SB_BYTES("Sb-1_x")));
    assert_ok(akv_sandbox_check(SB_BYTES("-")));
    assert_ok(akv_sandbox_check(SB_BYTES("_")));
    assert_ok(akv_sandbox_check(SB_BYTES("0123456789")));
    assert_ok(akv_sandbox_check(
        SB_BYTES("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")));
}

static void test_length(void **state)
{
    (void)state;
    char buf[80];
    memset(buf, 'x', sizeof buf);
    expect_invalid("", 0, "empty");
    expect_invalid(NULL, 0, "NULL");
    expect_invalid("abc", 0, "length 0");
    assert_ok(akv_sandbox_check(buf, 64));
    expect_invalid(buf, 65, "65 characters");
    assert_non_null(strstr(akv_last_error()->message, "65"));
    expect_invalid(buf, 80, "80 characters");
}

static void test_bad_characters(void **state)
{
    (void)state;
    expect_invalid(SB_BYTES("a/b"), "slash");
    expect_invalid(SB_BYTES("a b"), "space");
    expect_invalid(SB_BYTES(" a"), "leading space");
    expect_invalid(SB_BYTES("a "), "trailing space");
    expect_invalid(SB_BYTES("a.b"), "dot");
    expect_invalid(SB_BYTES(".."), "dot dot");
    expect_invalid(SB_BYTES("a\\b"), "backslash");
    expect_invalid(SB_BYTES("a%2fb"), "percent");
    expect_invalid(SB_BYTES("a:b"), "colon");
    expect_invalid(SB_BYTES("caf\xc3\xa9"), "unicode letter");
    expect_invalid(SB_BYTES("\xef\xbd\x81"), "fullwidth a");
    expect_invalid(SB_BYTES("\xff"), "invalid UTF-8");
    expect_invalid(SB_BYTES("sb\0x"), "NUL inside");
    expect_invalid(SB_BYTES("sb\n"), "newline");
    expect_invalid(SB_BYTES("\x1b[31mred"), "escape sequence");
    expect_invalid(SB_BYTES("a*"), "glob star");
    /* Every byte outside the allowed set is refused on its own. */
    for (int c = 0; c < 256; c++) {
        int allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_' || c == '-';
        char sb[3] = {'s', (char)c, 'b'};
        int rc = akv_sandbox_check(sb, 3);
        if (rc != (allowed ? AKV_OK : AKV_EINVAL))
            fail_msg("byte 0x%02x: got %s", c, akv_err_name(rc));
    }
}

static void test_length_bounds_the_check(void **state)
{
    (void)state;
    assert_ok(akv_sandbox_check("sb/x", 2));
    assert_ok(akv_sandbox_check("sb\0", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_bad_characters),
        cmocka_unit_test(test_length_bounds_the_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test-key.c — akv_key_check(): the key rules of SPEC.md §1.
 *
 * Keys are 1–255 bytes of valid UTF-8 without control characters or
 * backslash, made of non-empty '/'-separated segments that are not "." or
 * "..". Every hostile case below must come back as AKV_EINVAL with a message,
 * and every valid one as AKV_OK: a key is rejected, never rewritten.
 */
#include <string.h>

#include "testutil.h"

/* Checks a key given as a byte array (NULs count). */
#define KEY_BYTES(lit) (lit), (sizeof(lit) - 1)

static void expect_invalid(const char *key, size_t len, const char *why)
{
    int rc = akv_key_check(key, len);
    if (rc != AKV_EINVAL)
        fail_msg("key case '%s' (%zu bytes): got %s, expected "
                 "invalid_argument",
                 why, len, akv_err_name(rc));
    const akv_error *e = akv_last_error();
    assert_int_equal(e->code, AKV_EINVAL);
    assert_non_null(strstr(e->message, "key"));
    /* The message is one line even when the key holds control bytes. */
    assert_null(strchr(e->message, '\n'));
}

static void expect_valid(const char *key, size_t len, const char *why)
{
    int rc = akv_key_check(key, len);
    if (rc != AKV_OK)
        fail_msg("key case '%s' (%zu bytes): got %s (%s), expected ok", why,
                 len, akv_err_name(rc), akv_last_error()->message);
}

static void test_empty(void **state)
{
    (void)state;
    expect_invalid("", 0, "empty");
    expect_invalid(NULL, 0, "NULL");
    /* A non-empty buffer with length 0 is still empty. */
    expect_invalid("abc", 0, "length 0");
    assert_non_null(strstr(akv_last_error()->message, "empty"));
}

static void test_length_limit(void **state)
{
    (void)state;
    char buf[300];
    memset(buf, 'a', sizeof buf);
    assert_ok(akv_key_check(buf, 1));
    assert_ok(akv_key_check(buf, 255));
    expect_invalid(buf, 256, "256 bytes");
    assert_non_null(strstr(akv_last_error()->message, "256"));
    expect_invalid(buf, 300, "300 bytes");

    /* The limit is in bytes, not characters: 251 + a 4-byte character is
     * 255 bytes (ok), 252 + 4 is 256 (too long). */
    memcpy(buf + 251, "\xf0\x9f\x94\x91", 4);
    assert_ok(akv_key_check(buf, 255));
    memset(buf, 'a', sizeof buf);
    memcpy(buf + 252, "\xf0\x9f\x94\x91", 4);
    expect_invalid(buf, 256, "256 bytes ending in a 4-byte character");

    /* Segments in a 255-byte key are fine too. */
    memset(buf, 'a', sizeof buf);
    for (int i = 10; i < 255; i += 10)
        buf[i] = '/';
    assert_ok(akv_key_check(buf, 255));
}

static void test_traversal_and_segments(void **state)
{
    (void)state;
    expect_invalid(KEY_BYTES("../x"), "../x");
    expect_invalid(KEY_BYTES("/abs"), "/abs");
    expect_invalid(KEY_BYTES("a//b"), "a//b");
    expect_invalid(KEY_BYTES("a/./b"), "a/./b");
    expect_invalid(KEY_BYTES("a/.."), "a/..");
    expect_invalid(KEY_BYTES("a/../b"), "a/../b");
    expect_invalid(KEY_BYTES("./a"), "./a");
    expect_invalid(KEY_BYTES("a/."), "a/.");
    expect_invalid(KEY_BYTES("."), ".");
    expect_invalid(KEY_BYTES(".."), "..");
    expect_invalid(KEY_BYTES("/"), "/");
    expect_invalid(KEY_BYTES("//"), "//");
    expect_invalid(KEY_BYTES("a/"), "trailing /");
    expect_invalid(KEY_BYTES("a/b/"), "trailing / after segments");
    expect_invalid(KEY_BYTES("/a/"), "leading and trailing /");
}

static void test_nul_and_control(void **state)
{
    (void)state;
    /* The NUL counts: "a\0b" is three bytes and invalid, not "a". */
    expect_invalid(KEY_BYTES("a\0b"), "NUL inside");
    expect_invalid(KEY_BYTES("\0"), "lone NUL");
    expect_invalid(KEY_BYTES("ab\0"), "trailing NUL");
    expect_invalid(KEY_BYTES("a\x01"), "0x01");
    expect_invalid(KEY_BYTES("\x1f" "a"), "0x1f");
    expect_invalid(KEY_BYTES("a\x7f" "b"), "0x7f");
    expect_invalid(KEY_BYTES("a\tb"), "tab");
    expect_invalid(KEY_BYTES("a\nb"), "newline");
    expect_invalid(KEY_BYTES("a\rb"), "carriage return");
    expect_invalid(KEY_BYTES("\x1b[31mred"), "escape sequence");
    for (int c = 0; c < 0x20; c++) {
        char k[3] = {'k', (char)c, 'k'};
        expect_invalid(k, 3, "every C0 control");
    }
    /* Bytes 0x20..0x7e other than backslash are all allowed. */
    for (int c = 0x20; c < 0x7f; c++) {
        char k[3] = {'k', (char)c, 'k'};
        if (c == '\\')
            continue;
        expect_valid(k, 3, "printable ASCII");
    }
}

static void test_backslash(void **state)
{
    (void)state;
    expect_invalid(KEY_BYTES("a\\b"), "backslash");
    expect_invalid(KEY_BYTES("\\"), "lone backslash");
    expect_invalid(KEY_BYTES("..\\x"), "windows traversal");
    expect_invalid(KEY_BYTES("C:\\x"), "windows path");
    assert_non_null(strstr(akv_last_error()->message, "backslash"));
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    expect_invalid(KEY_BYTES("\xff"), "lone 0xff");
    expect_invalid(KEY_BYTES("a\xfe"), "0xfe");
    expect_invalid(KEY_BYTES("x\xe2\x82"), "truncated 3-byte sequence");
    expect_invalid(KEY_BYTES("\xc3"), "truncated 2-byte sequence");
    expect_invalid(KEY_BYTES("\xf0\x9f\x94"), "truncated 4-byte sequence");
    expect_invalid(KEY_BYTES("\xc0\xaf"), "overlong '/'");
    expect_invalid(KEY_BYTES("\xc1\xbf"), "overlong 0x7f");
    expect_invalid(KEY_BYTES("\xe0\x80\xaf"), "overlong 3-byte '/'");
    expect_invalid(KEY_BYTES("\xf0\x80\x80\xaf"), "overlong 4-byte '/'");
    expect_invalid(KEY_BYTES("\xed\xa0\x80"), "surrogate U+D800");
    expect_invalid(KEY_BYTES("\xed\xbf\xbf"), "surrogate U+DFFF");
    expect_invalid(KEY_BYTES("\xf4\x90\x80\x80"), "above U+10FFFF");
    expect_invalid(KEY_BYTES("\x80"), "lone continuation byte");
    expect_invalid(KEY_BYTES("a\xc3(b"), "bad continuation byte");
    /* "\xc0\xae\xc0\xae" is an overlong "..": must not pass as a segment. */
    expect_invalid(KEY_BYTES("\xc0\xae\xc0\xae/x"), "overlong ..");
}

static void test_valid_keys(void **state)
{
    (void)state;
    expect_valid(KEY_BYTES("a"), "one byte");
    expect_valid(KEY_BYTES("reports/q1.md"), "path");
    expect_valid(KEY_BYTES("a/b/c/d"), "deep path");
    expect_valid(KEY_BYTES("a.b"), "dot inside");
    expect_valid(KEY_BYTES("..a"), "..a");
    expect_valid(KEY_BYTES("a.."), "a..");
    expect_valid(KEY_BYTES("..."), "three dots");
    expect_valid(KEY_BYTES(".hidden/x"), "leading dot in a segment");
    expect_valid(KEY_BYTES("my notes/first draft.txt"), "spaces");
    expect_valid(KEY_BYTES(" "), "single space");
    expect_valid(KEY_BYTES("caf\xc3\xa9/r\xc3\xa9sum\xc3\xa9"), "2-byte UTF-8");
    expect_valid(KEY_BYTES("\xe6\x97\xa5\xe6\x9c\xac/\xe3\x82\xad"),
                 "3-byte UTF-8");
    expect_valid(KEY_BYTES("\xf0\x9f\x94\x91"), "4-byte UTF-8");
    expect_valid(KEY_BYTES("\xf4\x8f\xbf\xbf"), "U+10FFFF");
    expect_valid(KEY_BYTES("\xc2\x80"), "U+0080 (C1 controls are not C0)");
    expect_valid(KEY_BYTES("%2e%2e/x"), "percent signs are plain bytes");
    expect_valid(KEY_BYTES("a:b@c?d#e"), "punctuation");
}

static void test_length_bounds_the_check(void **state)
{
    (void)state;
    /* Only len bytes are examined: what follows does not matter. */
    assert_ok(akv_key_check("ab\\", 2));
    assert_ok(akv_key_check("a/", 1));
    assert_ok(akv_key_check("a\xff", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_traversal_and_segments),
        cmocka_unit_test(test_nul_and_control),
        cmocka_unit_test(test_backslash),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_valid_keys),
        cmocka_unit_test(test_length_bounds_the_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test-akvx.c — the shared helpers of src/common/akvx.h: hex, base64,
 * decimal integers, UTF-8, percent-decoding, mkdir -p, atomic file replacement, key order.
 *
 * The decoders face hostile input (URLs, MCP URIs, export and tokens
 * files), so besides round trips every test feeds them what must be
 * refused: odd lengths, bytes outside the alphabet, non-canonical
 * encodings, truncated escapes, encoded NULs, overlong UTF-8, surrogates.
 * The encoders are checked against RFC 4648's test vectors.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "akvx.h"

#define LIT(s) (s), (sizeof(s) - 1)

static void test_hex(void **state)
{
    (void)state;
    char out[9];
    akvx_hex_encode("\x00\x7f\xab\xff", 4, out);
    assert_string_equal(out, "007fabff");
    unsigned char b[4];
    assert_int_equal(akvx_hex_decode(LIT("007FabfF"), b), 0);
    assert_memory_equal(b, "\x00\x7f\xab\xff", 4);
    assert_int_equal(akvx_hex_decode("", 0, b), 0);
    /* Hostile: odd length, non-hex bytes, a NUL inside. */
    assert_int_equal(akvx_hex_decode(LIT("abc"), b), -1);
    assert_int_equal(akvx_hex_decode(LIT("0g"), b), -1);
    assert_int_equal(akvx_hex_decode(LIT("0\0"), b), -1);
    assert_int_equal(akvx_hex_decode(LIT(" 1"), b), -1);
    assert_int_equal(akvx_hexval('f'), 15);
    assert_int_equal(akvx_hexval('F'), 15);
    assert_int_equal(akvx_hexval('g'), -1);
    assert_int_equal(akvx_hexval(0x10 | 0x20), 0); /* '0' itself */
    assert_int_equal(akvx_hexval(0x10), -1);
    assert_int_equal(akvx_hexval(-1), -1);
    assert_true(akvx_hex_lower(LIT("0123456789abcdef")));
    assert_false(akvx_hex_lower(LIT("ABCDEF")));
    assert_false(akvx_hex_lower(LIT("0x")));
}

/* The decimal writers agree with printf on the edges of their types. */
static void test_int_dec(void **state)
{
    (void)state;
    static const unsigned long long u[] = {0, 1, 9, 10, 99, 100,
                                           1795651200123ULL, ULLONG_MAX};
    static const long long i[] = {0, -1, 1, -9, -10, 1795651200123LL,
                                  LLONG_MAX, LLONG_MIN};
    char out[AKVX_INT_BUF], want[32];
    for (size_t k = 0; k < sizeof u / sizeof u[0]; k++) {
        memset(out, 'x', sizeof out);
        size_t n = akvx_u64_dec(u[k], out);
        snprintf(want, sizeof want, "%llu", u[k]);
        assert_string_equal(out, want);
        assert_int_equal(n, strlen(want));
    }
    for (size_t k = 0; k < sizeof i / sizeof i[0]; k++) {
        memset(out, 'x', sizeof out);
        size_t n = akvx_i64_dec(i[k], out);
        snprintf(want, sizeof want, "%lld", i[k]);
        assert_string_equal(out, want);
        assert_int_equal(n, strlen(want));
    }
}

static void test_base64_vectors(void **state)
{
    (void)state;
    /* RFC 4648 §10. */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob",
                                        "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        size_t n;
        char *e = akvx_base64_encode(plain[i], strlen(plain[i]), &n);
        assert_non_null(e);
        assert_string_equal(e, enc[i]);
        assert_int_equal(n, strlen(enc[i]));
        unsigned char d[8];
        size_t dn;
        assert_int_equal(akvx_base64_decode(e, n, d, &dn), 0);
        assert_int_equal(dn, strlen(plain[i]));
        assert_memory_equal(d, plain[i], dn);
        free(e);
    }
    /* Every byte value survives a round trip, at every length mod 3. */
    unsigned char all[256], back[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    for (size_t len = 253; len <= 256; len++) {
        size_t n, dn;
        char *e = akvx_base64_encode(all, len, &n);
        assert_non_null(e);
        assert_int_equal(akvx_base64_decode(e, n, back, &dn), 0);
        assert_int_equal(dn, len);
        assert_memory_equal(back, all, len);
        free(e);
    }
    /* base64url, no padding: the token alphabet. */
    char u[8];
    akvx_base64url_encode("\xfb\xff", 2, u);
    assert_string_equal(u, "-_8");
    akvx_base64url_encode("f", 1, u);
    assert_string_equal(u, "Zg");
    akvx_base64url_encode("foo", 3, u);
    assert_string_equal(u, "Zm9v");
    unsigned char secret[32];
    memset(secret, 0xff, sizeof secret);
    char tok[44];
    akvx_base64url_encode(secret, sizeof secret, tok);
    assert_int_equal(strlen(tok), 43);
}

static void test_base64_hostile(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg=",      /* not a multiple of 4 */
        "Zg",       /* padding missing */
        "Z===",     /* three '=' */
        "====",     /* nothing but padding */
        "Zg==Zg==", /* padding inside */
        "Z=g=",     /* '=' before data */
        "Zh==",     /* non-canonical: unused bits set */
        "Zm9=",     /* non-canonical: unused bits set */
        "Zm9v\n",   /* blanks are not skipped */
        "Zm 9",     /* blank */
        "Zm-_",     /* the url alphabet is not the standard one */
        "Zm9v====", /* padding after a full group */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char d[8];
        size_t dn = 99;
        if (akvx_base64_decode(bad[i], strlen(bad[i]), d, &dn) != -1)
            fail_msg("base64 \"%s\" was accepted", bad[i]);
    }
    unsigned char d[4];
    size_t dn;
    assert_int_equal(akvx_base64_decode("Zg\0=", 4, d, &dn), -1);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(akvx_utf8_valid(LIT("")));
    assert_true(akvx_utf8_valid(LIT("plain ascii\0with NUL")));
    assert_true(akvx_utf8_valid(LIT("\xc2\x80 \xdf\xbf \xe0\xa0\x80 "
                                     "\xef\xbf\xbf \xf0\x90\x80\x80 "
                                     "\xf4\x8f\xbf\xbf")));
    static const char *const bad[] = {
        "\x80",             /* lone continuation */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x9f\xbf",     /* overlong 3-byte */
        "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\xf5\x80\x80\x80", /* lead byte past F4 */
        "\xf8\x88\x80\x80", /* 5-byte form */
        "\xff",
        "\xe2\x82",         /* truncated */
        "a\xc3",            /* truncated at the end */
        "\xc3(",            /* bad continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (akvx_utf8_valid(bad[i], strlen(bad[i])))
            fail_msg("UTF-8 case %zu was accepted", i);
    /* Only len bytes are read: a sequence cut by len is invalid. */
    assert_false(akvx_utf8_valid("\xe2\x82\xac", 2));
    assert_true(akvx_utf8_valid("\xe2\x82\xac", 3));
    /* One character at a time: its length, or 0 where none starts. */
    assert_int_equal(akvx_utf8_seq("a", 1), 1);
    assert_int_equal(akvx_utf8_seq("\xc3\xa9x", 3), 2);
    assert_int_equal(akvx_utf8_seq("\xe2\x82\xac", 3), 3);
    assert_int_equal(akvx_utf8_seq("\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(akvx_utf8_seq("\xe2\x82\xac", 2), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (akvx_utf8_seq(bad[i], strlen(bad[i])) == strlen(bad[i]))
            fail_msg("UTF-8 case %zu was taken as one character", i);
}

static void test_pct(void **state)
{
    (void)state;
    char out[16];
    size_t n;
    const char *why = NULL;
    assert_int_equal(akvx_pct_decode(LIT("a%2Fb%2fc+d"), out, sizeof out, &n,
                                     &why), 0);
    assert_int_equal(n, 7);
    assert_memory_equal(out, "a/b/c+d", 7);
    assert_int_equal(akvx_pct_decode(LIT("%e2%82%AC"), out, sizeof out, &n,
                                     &why), 0);
    assert_int_equal(n, 3);
    /* Decoded exactly once. */
    assert_int_equal(akvx_pct_decode(LIT("%2541"), out, sizeof out, &n, &why),
                     0);
    assert_memory_equal(out, "%41", 3);
    assert_int_equal(n, 3);

    struct {
        const char *in;
        const char *why;
    } bad[] = {
        {"%", "truncated percent-encoding"},
        {"ab%4", "truncated percent-encoding"},
        {"%zz", "invalid percent-encoding"},
        {"%4g", "invalid percent-encoding"},
        {"%g4", "invalid percent-encoding"},
        {"% 1", "invalid percent-encoding"},
        {"a%00b", "encoded NUL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        if (akvx_pct_decode(bad[i].in, strlen(bad[i].in), out, sizeof out, &n,
                            &why) != -1)
            fail_msg("percent-encoding \"%s\" was accepted", bad[i].in);
        assert_non_null(why);
        if (strncmp(why, bad[i].why, strlen(bad[i].why)) != 0)
            fail_msg("\"%s\": reason \"%s\"", bad[i].in, why);
    }
    /* cap bounds the output, never overrun. */
    char small[4] = {'x', 'x', 'x', 'x'};
    assert_int_equal(akvx_pct_decode(LIT("abc%41"), small, 3, &n, &why), -1);
    assert_string_equal(why, "too long");
    assert_int_equal(small[3], 'x');
    assert_int_equal(akvx_pct_decode(LIT("ab%41"), small, 3, &n, &why), 0);
    assert_memory_equal(small, "abA", 3);
}

static void test_keycmp(void **state)
{
    (void)state;
    assert_int_equal(akvx_keycmp("a", 1, "a", 1), 0);
    assert_true(akvx_keycmp("a", 1, "ab", 2) < 0);
    assert_true(akvx_keycmp("ab", 2, "a", 1) > 0);
    assert_true(akvx_keycmp("a\xff", 2, "b", 1) < 0);
    assert_true(akvx_keycmp("\xff", 1, "a", 1) > 0); /* bytes are unsigned */
    assert_true(akvx_keycmp("a\0b", 3, "a\0c", 3) < 0);
    assert_int_equal(akvx_keycmp("", 0, "", 0), 0);
}

static void test_mkdir_p(void **state)
{
    (void)state;
    char base[] = "/tmp/akv-akvx.XXXXXX", path[256];
    assert_non_null(mkdtemp(base));
    mode_t old = umask(077);
    snprintf(path, sizeof path, "%s/a/b/c/", base);
    assert_int_equal(akvx_mkdir_p(path, 0750), 0);
    struct stat st;
    snprintf(path, sizeof path, "%s/a/b/c", base);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0750); /* exactly, whatever umask */
    snprintf(path, sizeof path, "%s/a", base);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700); /* 0755 less the umask */
    /* Existing: left as it is. */
    assert_int_equal(chmod(path, 0711), 0);
    assert_int_equal(akvx_mkdir_p(path, 0700), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0711);
    /* -1: the leaf like the parents. */
    snprintf(path, sizeof path, "%s/d/e", base);
    assert_int_equal(akvx_mkdir_p(path, -1), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    umask(old);
    /* A file in the way. */
    snprintf(path, sizeof path, "%s/f", base);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(path, sizeof path, "%s/f/g", base);
    errno = 0;
    assert_int_equal(akvx_mkdir_p(path, 0700), -1);
    assert_int_equal(errno, ENOTDIR);
    assert_int_equal(akvx_mkdir_p("", 0700), -1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
}

static void test_replace_file(void **state)
{
    (void)state;
    char base[] = "/tmp/akv-akvx.XXXXXX", path[256], buf[300];
    assert_non_null(mkdtemp(base));
    snprintf(path, sizeof path, "%s/file", base);
    const char *step = NULL;
    assert_int_equal(akvx_replace_file(path, "first", 5, 0600, &step), 0);
    assert_int_equal(akvx_replace_file(path, "second", 6, 0640, &step), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "second", 6);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    /* No temporary left behind. */
    snprintf(buf, sizeof buf, "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(access(buf, F_OK), -1);
    /* Failure: a missing directory names the step and keeps errno. */
    snprintf(path, sizeof path, "%s/missing/file", base);
    assert_int_equal(akvx_replace_file(path, "x", 1, 0600, &step), -1);
    assert_int_equal(errno, ENOENT);
    assert_string_equal(step, "create");
    /* A directory where the file should go: the rename fails and the
     * temporary is removed. */
    snprintf(path, sizeof path, "%s/dir", base);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(buf, sizeof buf, "%s/keep", path);
    assert_int_equal(mkdir(buf, 0700), 0);
    assert_int_equal(akvx_replace_file(path, "x", 1, 0600, &step), -1);
    assert_string_equal(step, "write");
    snprintf(buf, sizeof buf, "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(access(buf, F_OK), -1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
}

/* Comma lists: items trimmed of blanks and tabs, empty items kept (as
 * length 0), the end reported once the last item is taken. */
static void test_list_next(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want; /* the items joined with '|' */
    } cases[] = {
        {.in = "a,b", .want = "a|b"},
        {.in = " a ,\tb\t, c d ", .want = "a|b|c d"},
        {.in = "a,,b,", .want = "a||b"}, /* nothing after the last comma */
        {.in = ",", .want = ""},
        {.in = "  ", .want = ""},
        {.in = "", .want = NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[64] = "";
        size_t n = 0, items = 0, len;
        const char *item;
        for (const char *p = cases[i].in; akvx_list_next(&p, &item, &len);) {
            if (items++)
                got[n++] = '|';
            memcpy(got + n, item, len);
            n += len;
            got[n] = '\0';
        }
        if (cases[i].want == NULL)
            assert_int_equal(items, 0);
        else
            assert_string_equal(got, cases[i].want);
    }
    const char *p = NULL, *item;
    size_t len;
    assert_false(akvx_list_next(&p, &item, &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_int_dec),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_hostile),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_pct),
        cmocka_unit_test(test_keycmp),
        cmocka_unit_test(test_list_next),
        cmocka_unit_test(test_mkdir_p),
        cmocka_unit_test(test_replace_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

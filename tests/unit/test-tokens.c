/*
 * test-tokens.c — unit tests of the tokenizer API (agentkv-tokens.h): ids
 * of known strings for both encodings (values taken from the npm tiktoken
 * package), count == number of ids, decode as the inverse of encode,
 * invalid UTF-8 read as U+FFFD, the caller-buffer contract of decode,
 * argument errors, and one handle shared by threads that load and encode
 * at the same time. Exactness on a large corpus is tests/cli/test-tokens.sh.
 *
 * Needs the encoding data (make deps); found through the build tree.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-tokens.h"
#include "testutil.h"

static const akv_encoding *load(const char *name)
{
    const akv_encoding *e = NULL;
    assert_ok(akv_encoding_load(name, &e));
    assert_non_null(e);
    return e;
}

/* Encodes text and compares with the expected ids, printing both. */
static void expect_ids(const char *enc_name, const char *text, size_t len,
                       const uint32_t *want, size_t nwant)
{
    const akv_encoding *e = load(enc_name);
    uint32_t *ids;
    size_t n, count;
    assert_ok(akv_tokens_encode(e, text, len, &ids, &n));
    assert_ok(akv_tokens_count(e, text, len, &count));
    assert_int_equal(count, n);
    int same = n == nwant && (n == 0 || memcmp(ids, want, n * 4) == 0);
    if (!same) {
        char got[512] = "", exp[512] = "";
        for (size_t i = 0; i < n && strlen(got) < 480; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), " %u",
                     ids[i]);
        for (size_t i = 0; i < nwant && strlen(exp) < 480; i++)
            snprintf(exp + strlen(exp), sizeof exp - strlen(exp), " %u",
                     want[i]);
        akv_tokens_free(ids);
        fail_msg("%s: ids of '%.*s' are [%s ], expected [%s ]", enc_name,
                 (int)len, text, got, exp);
    }
    akv_tokens_free(ids);
}

#define IDS(...) ((const uint32_t[]){__VA_ARGS__}), \
    sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)

static void test_known_ids(void **state)
{
    (void)state;
    expect_ids("o200k_base", "Hello, world!", 13, IDS(13225, 11, 2375, 0));
    expect_ids("cl100k_base", "Hello, world!", 13, IDS(9906, 11, 1917, 0));
    expect_ids(NULL, "Hello, world!", 13, IDS(13225, 11, 2375, 0));
    /* Special tokens are text (encode_ordinary). */
    expect_ids("o200k_base", "<|endoftext|> hi", 16,
               IDS(27, 91, 419, 1440, 919, 91, 29, 5911));
    /* Digits go in groups of at most three. */
    expect_ids("o200k_base", "1234567", 7, IDS(7633, 19354, 22));
}

/* `times` copies of word, one piece of over 256 bytes (the longest-match
 * encoder's), must give `times` copies of ids[0..n). */
static void expect_repeated(const char *enc_name, const char *word,
                            int times, const uint32_t *ids, size_t n)
{
    size_t wl = strlen(word);
    char text[1024];
    uint32_t want[512];
    assert_true(wl * times < sizeof text && n * times <= 512);
    assert_true(wl * times > 256);
    for (int k = 0; k < times; k++) {
        memcpy(text + wl * k, word, wl);
        memcpy(want + n * k, ids, n * sizeof *ids);
    }
    expect_ids(enc_name, text, wl * times, want, n * times);
}

/* Words whose longest token match is not BPE's first token, repeated into
 * long pieces: the longest-match encoder must turn the longest match down
 * when BPE would merge across it (docs/tokenizer.md, "Longest match"), and
 * go back a token when nothing shorter fits either. Ids from the npm
 * tiktoken package. */
static void test_longest_match_backtracks(void **state)
{
    (void)state;
    /* Longest match gives 60910 2401 8732 (па ни еть) for each word. */
    expect_repeated("o200k_base", "паниеть", 20, IDS(666, 12677, 14195));
    expect_repeated("o200k_base", "привет", 22, IDS(9501, 131903));
    expect_repeated("o200k_base", "сегодня", 20, IDS(369, 31483));
    /* "zzz" is a token, but BPE pairs the z's first, from the left; the
     * cross pair wins its tie with the right token's own merge. */
    expect_repeated("o200k_base", "zz", 150, IDS(8013));
    expect_repeated("cl100k_base", "паниеть", 20,
                    IDS(8164, 14332, 8341, 4929));
    expect_repeated("cl100k_base", "привет", 22,
                    IDS(8164, 2233, 28089, 8341));
    expect_repeated("cl100k_base", "сегодня", 20,
                    IDS(2297, 25698, 9706, 40251));
    expect_repeated("cl100k_base", "zz", 150, IDS(10616));
}

static void test_empty(void **state)
{
    (void)state;
    const akv_encoding *e = load(NULL);
    uint32_t *ids = (uint32_t *)1;
    size_t n = 99, count = 99;
    assert_ok(akv_tokens_encode(e, NULL, 0, &ids, &n));
    assert_null(ids);
    assert_int_equal(n, 0);
    assert_ok(akv_tokens_count(e, "", 0, &count));
    assert_int_equal(count, 0);
    akv_tokens_free(NULL);
}

/* Decoding the ids of valid UTF-8 gives the bytes back; invalid bytes come
 * back as U+FFFD, one per maximal ill-formed subsequence. */
static void test_decode(void **state)
{
    (void)state;
    const char *names[] = {"o200k_base", "cl100k_base"};
    const char text[] = "Ünïcödé 👨‍👩‍👧 中文 \t\r\n  x = 42; // ok\x00 end";
    size_t len = sizeof text - 1;
    for (int k = 0; k < 2; k++) {
        const akv_encoding *e = load(names[k]);
        uint32_t *ids;
        size_t n;
        assert_ok(akv_tokens_encode(e, text, len, &ids, &n));
        size_t need = 0;
        assert_akv(akv_tokens_decode(e, ids, n, NULL, &need), AKV_ENOBUFS);
        assert_int_equal(need, len);
        char buf[128];
        size_t got = 5;
        memset(buf, 'Z', sizeof buf);
        assert_akv(akv_tokens_decode(e, ids, n, buf, &got), AKV_ENOBUFS);
        assert_int_equal(got, len);
        assert_int_equal(buf[5], 'Z'); /* nothing past the size given */
        got = sizeof buf;
        assert_ok(akv_tokens_decode(e, ids, n, buf, &got));
        assert_int_equal(got, len);
        assert_memory_equal(buf, text, len);
        akv_tokens_free(ids);
    }

    const akv_encoding *e = load(NULL);
    /* a, FF, b, truncated E2 82, c, surrogate ED A0 80 */
    const char bad[] = "a\xff" "b\xe2\x82" "c\xed\xa0\x80";
    const char fixed[] = "a\xef\xbf\xbd"
                         "b\xef\xbf\xbd"
                         "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd";
    uint32_t *ids, *ids2;
    size_t n, n2;
    assert_ok(akv_tokens_encode(e, bad, sizeof bad - 1, &ids, &n));
    assert_ok(akv_tokens_encode(e, fixed, sizeof fixed - 1, &ids2, &n2));
    assert_int_equal(n, n2);
    assert_memory_equal(ids, ids2, n * 4);
    char buf[64];
    size_t got = sizeof buf;
    assert_ok(akv_tokens_decode(e, ids, n, buf, &got));
    assert_int_equal(got, sizeof fixed - 1);
    assert_memory_equal(buf, fixed, got);
    akv_tokens_free(ids);
    akv_tokens_free(ids2);

    /* Special ids decode to their text; unknown ids are refused. */
    uint32_t special[] = {199999};
    got = sizeof buf;
    assert_ok(akv_tokens_decode(e, special, 1, buf, &got));
    assert_int_equal(got, 13);
    assert_memory_equal(buf, "<|endoftext|>", 13);
    uint32_t unknown[] = {13225, 4000000};
    got = sizeof buf;
    assert_akv(akv_tokens_decode(e, unknown, 2, buf, &got), AKV_EINVAL);
}

static void test_errors(void **state)
{
    (void)state;
    const akv_encoding *e = (const akv_encoding *)1;
    assert_akv(akv_encoding_load("p50k_base", &e), AKV_EINVAL);
    assert_null(e);
    assert_akv(akv_encoding_load("", &e), AKV_EINVAL);
    assert_akv(akv_encoding_load(NULL, NULL), AKV_EINVAL);
    e = load(NULL);
    size_t count;
    uint32_t *ids;
    assert_akv(akv_tokens_count(NULL, "x", 1, &count), AKV_EINVAL);
    assert_akv(akv_tokens_count(e, NULL, 1, &count), AKV_EINVAL);
    assert_akv(akv_tokens_count(e, "x", 1, NULL), AKV_EINVAL);
    assert_akv(akv_tokens_encode(e, "x", 1, NULL, &count), AKV_EINVAL);
    assert_akv(akv_tokens_encode(e, "x", 1, &ids, NULL), AKV_EINVAL);
    assert_string_equal(akv_encoding_name(e), "o200k_base");
    assert_string_equal(akv_encoding_name(load("cl100k_base")),
                        "cl100k_base");
}

/* Long pieces (the heap merge) and a long run of one byte. */
static void test_long_pieces(void **state)
{
    (void)state;
    const akv_encoding *e = load(NULL);
    size_t len = 200000;
    char *s = malloc(len);
    assert_non_null(s);
    for (size_t i = 0; i < len; i++)
        s[i] = (char)('a' + (i * 7 + i / 13) % 26);
    uint32_t *ids;
    size_t n, count;
    assert_ok(akv_tokens_encode(e, s, len, &ids, &n));
    assert_ok(akv_tokens_count(e, s, len, &count));
    assert_int_equal(n, count);
    char *back = malloc(len);
    size_t got = len;
    assert_ok(akv_tokens_decode(e, ids, n, back, &got));
    assert_int_equal(got, len);
    assert_memory_equal(back, s, len);
    akv_tokens_free(ids);
    memset(s, ' ', len);
    assert_ok(akv_tokens_count(e, s, len, &count));
    assert_true(count > 0 && count < len / 4);
    free(back);
    free(s);
}

/* Ill-formed UTF-8 anywhere in a longer text (long enough for the
 * sixteen-byte checks, at every offset from a block's start): the ids are
 * those of the text with each maximal ill-formed subsequence replaced by
 * U+FFFD; well-formed sequences at the edges of the ranges stay as they
 * are. */
static void test_invalid_everywhere(void **state)
{
    (void)state;
#define FFFD "\xef\xbf\xbd"
    static const struct {
        const char *bad, *fixed;
    } cases[] = {
        {"\xff", FFFD},
        {"\x80", FFFD},
        {"\xbf\x80", FFFD FFFD},
        {"\xc0\xaf", FFFD FFFD},
        {"\xc1\xbf", FFFD FFFD},
        {"\xc3", FFFD},
        {"\xe2\x82", FFFD},
        {"\xe2\x82\xe2\x82\xac", FFFD "\xe2\x82\xac"},
        {"\xe0\x80\x80", FFFD FFFD FFFD},
        {"\xe0\x9f\xbf", FFFD FFFD FFFD},
        {"\xed\xa0\x80", FFFD FFFD FFFD},
        {"\xed\xbf\xbf", FFFD FFFD FFFD},
        {"\xf0\x80\x80\x80", FFFD FFFD FFFD FFFD},
        {"\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD},
        {"\xf0\x9f\x98", FFFD},
        {"\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD},
        {"\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD},
        {"\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD},
        {"\xc2\x80", "\xc2\x80"},
        {"\xe0\xa0\x80", "\xe0\xa0\x80"},
        {"\xed\x9f\xbf", "\xed\x9f\xbf"},
        {"\xee\x80\x80", "\xee\x80\x80"},
        {"\xf0\x90\x80\x80", "\xf0\x90\x80\x80"},
        {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},
    };
#undef FFFD
    /* One-, two-, three- and four-byte characters; and ASCII only, where
     * the checks first look for bytes of 80 or above. */
    const char *texts[] = {
        "Zürich 中文 😀 naïve x=1; Ελλάδα ไทย\n end 👍🏽 ok",
        "The quick brown fox jumps over the lazy dog; x = 42 // done.\n"
        "More plain text.",
    };
    const char *names[] = {"o200k_base", "cl100k_base"};
    char a[160], b[160];
    for (int k = 0; k < 2; k++) {
        const akv_encoding *e = load(names[k]);
        for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
            const char *text = texts[t];
            size_t tl = strlen(text);
            for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                size_t bl = strlen(cases[c].bad);
                size_t fl = strlen(cases[c].fixed);
                for (size_t at = 0; at <= tl; at++) {
                    if ((text[at] & 0xc0) == 0x80)
                        continue; /* inside a character */
                    memcpy(a, text, at);
                    memcpy(a + at, cases[c].bad, bl);
                    memcpy(a + at + bl, text + at, tl - at);
                    memcpy(b, text, at);
                    memcpy(b + at, cases[c].fixed, fl);
                    memcpy(b + at + fl, text + at, tl - at);
                    uint32_t *ia, *ib;
                    size_t na, nb;
                    assert_ok(akv_tokens_encode(e, a, tl + bl, &ia, &na));
                    assert_ok(akv_tokens_encode(e, b, tl + fl, &ib, &nb));
                    if (na != nb || memcmp(ia, ib, na * 4) != 0)
                        fail_msg("%s: text %zu, case %zu at byte %zu: ids "
                                 "differ from those of the replaced text",
                                 names[k], t, c, at);
                    akv_tokens_free(ia);
                    akv_tokens_free(ib);
                }
            }
        }
    }
}

struct thread_arg {
    const char *name;
    const akv_encoding *enc;
    size_t count;
    int rc;
};

static void *worker(void *p)
{
    struct thread_arg *a = p;
    a->rc = akv_encoding_load(a->name, &a->enc);
    const char text[] = "Threads share one immutable encoding. 共有される。";
    for (int i = 0; i < 200 && a->rc == AKV_OK; i++)
        a->rc = akv_tokens_count(a->enc, text, sizeof text - 1, &a->count);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    enum { N = 8 };
    pthread_t t[N];
    struct thread_arg a[N];
    for (int i = 0; i < N; i++) {
        a[i] = (struct thread_arg){i % 2 ? "cl100k_base" : "o200k_base",
                                   NULL, 0, -1};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &a[i]), 0);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        assert_ok(a[i].rc);
        /* One handle per encoding, the same count everywhere. */
        assert_ptr_equal(a[i].enc, a[i % 2].enc);
        assert_int_equal(a[i].count, a[i % 2].count);
    }
    assert_ptr_not_equal(a[0].enc, a[1].enc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads), /* first: concurrent first loads */
        cmocka_unit_test(test_known_ids),
        cmocka_unit_test(test_longest_match_backtracks),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_long_pieces),
        cmocka_unit_test(test_invalid_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

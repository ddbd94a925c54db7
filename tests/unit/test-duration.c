/*
 * test-duration.c — the small parsers of ttl.c: TTL durations
 * (akv_duration_parse, SPEC.md §1), byte sizes (akv_size_parse, used by the
 * config file) and RFC 3339 UTC timestamps with milliseconds
 * (akv_time_format / akv_time_parse, the form of every timestamp in the
 * entry metadata).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#define TEXT(lit) (lit), (sizeof(lit) - 1)

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

/* 100 years; the library counts 366-day years, so any reading of "100
 * years" is accepted and 36601 days is not. */
#define HUNDRED_YEARS (36600LL * 86400)

static void expect_duration(const char *s, size_t len, int64_t want)
{
    int64_t got = -12345;
    int rc = akv_duration_parse(s, len, &got);
    if (rc != AKV_OK)
        fail_msg("duration '%.*s': got %s (%s), expected %lld", (int)len, s,
                 akv_err_name(rc), akv_last_error()->message,
                 (long long)want);
    if (got != want)
        fail_msg("duration '%.*s': got %lld, expected %lld", (int)len, s,
                 (long long)got, (long long)want);
}

static void expect_bad_duration(const char *s, size_t len)
{
    int64_t got;
    int rc = akv_duration_parse(s, len, &got);
    if (rc != AKV_EINVAL)
        fail_msg("duration '%.*s' (%zu bytes): got %s, expected "
                 "invalid_argument",
                 (int)len, s ? s : "", len, akv_err_name(rc));
    assert_int_equal(akv_last_error()->code, AKV_EINVAL);
    assert_non_null(strstr(akv_last_error()->message, "duration"));
}

static void test_duration_valid(void **state)
{
    (void)state;
    expect_duration(TEXT("45s"), 45);
    expect_duration(TEXT("15m"), 15 * 60);
    expect_duration(TEXT("24h"), 24 * 3600);
    expect_duration(TEXT("7d"), 7 * 86400);
    expect_duration(TEXT("3600"), 3600);
    expect_duration(TEXT("1"), 1);
    expect_duration(TEXT("0"), 0);
    expect_duration(TEXT("0s"), 0);
    expect_duration(TEXT("0d"), 0);
    expect_duration(TEXT("never"), 0);
    expect_duration(TEXT("72h"), 259200);
    expect_duration(TEXT("48h"), 172800);
}

static void test_duration_hundred_years(void **state)
{
    (void)state;
    expect_duration(TEXT("36500d"), 36500LL * 86400);
    expect_duration(TEXT("36600d"), HUNDRED_YEARS);
    expect_duration(TEXT("878400h"), HUNDRED_YEARS);
    expect_duration(TEXT("52704000m"), HUNDRED_YEARS);
    expect_duration(TEXT("3162240000s"), HUNDRED_YEARS);
    expect_duration(TEXT("3162240000"), HUNDRED_YEARS);
    expect_bad_duration(TEXT("36601d"));
    expect_bad_duration(TEXT("878401h"));
    expect_bad_duration(TEXT("52704001m"));
    expect_bad_duration(TEXT("3162240001"));
    assert_non_null(strstr(akv_last_error()->message, "100 years"));
}

static void test_duration_invalid(void **state)
{
    (void)state;
    expect_bad_duration(TEXT("-1"));
    expect_bad_duration(TEXT("1.5h"));
    expect_bad_duration(TEXT("99999999999d"));
    expect_bad_duration(TEXT("abc"));
    expect_bad_duration(TEXT(""));
    expect_bad_duration(NULL, 0);
    expect_bad_duration(TEXT("10x"));
    expect_bad_duration(TEXT(" 10"));
    expect_bad_duration(TEXT("10 "));
    expect_bad_duration(TEXT("+10"));
    expect_bad_duration(TEXT("s"));
    expect_bad_duration(TEXT("h"));
    expect_bad_duration(TEXT("10S"));
    expect_bad_duration(TEXT("10H"));
    expect_bad_duration(TEXT("10hh"));
    expect_bad_duration(TEXT("1h30m"));
    expect_bad_duration(TEXT("0x10"));
    expect_bad_duration(TEXT("1e3"));
    expect_bad_duration(TEXT("Never"));
    expect_bad_duration(TEXT("NEVER"));
    expect_bad_duration(TEXT("never "));
    expect_bad_duration(TEXT("nevers"));
    expect_bad_duration(TEXT("10\0"));
    expect_bad_duration(TEXT("1\0" "0"));
    expect_bad_duration(TEXT("9999999999999999999"));
    expect_bad_duration(TEXT("18446744073709551616"));
    expect_bad_duration(TEXT("18446744073709551616s"));
    expect_bad_duration(TEXT("213503982334601d")); /* wraps int64 seconds */
}

static void test_duration_length_bounds(void **state)
{
    (void)state;
    expect_duration("45sXYZ", 3, 45);
    expect_duration("10x", 2, 10);
    expect_duration("nevermore", 5, 0);
    expect_bad_duration("45s", 0);
}

static void expect_size(const char *s, size_t len, uint64_t want)
{
    uint64_t got = 12345;
    int rc = akv_size_parse(s, len, &got);
    if (rc != AKV_OK)
        fail_msg("size '%.*s': got %s (%s)", (int)len, s, akv_err_name(rc),
                 akv_last_error()->message);
    if (got != want)
        fail_msg("size '%.*s': got %llu, expected %llu", (int)len, s,
                 (unsigned long long)got, (unsigned long long)want);
}

static void expect_bad_size(const char *s, size_t len)
{
    uint64_t got;
    int rc = akv_size_parse(s, len, &got);
    if (rc != AKV_EINVAL)
        fail_msg("size '%.*s': got %s, expected invalid_argument", (int)len,
                 s ? s : "", akv_err_name(rc));
    assert_non_null(strstr(akv_last_error()->message, "size"));
}

static void test_size(void **state)
{
    (void)state;
    expect_size(TEXT("0"), 0);
    expect_size(TEXT("1048576"), 1048576);
    expect_size(TEXT("100B"), 100);
    expect_size(TEXT("512KiB"), 512 * 1024);
    expect_size(TEXT("10MiB"), 10 * MiB);
    expect_size(TEXT("1GiB"), GiB);
    expect_size(TEXT("2TiB"), 2 * 1024 * GiB);
    expect_size(TEXT("4K"), 4096);
    expect_size(TEXT("50M"), 50 * MiB);
    expect_size(TEXT("8G"), 8 * GiB);
    expect_size(TEXT("1KB"), 1000);
    expect_size(TEXT("5MB"), 5000000);
    expect_size(TEXT("2GB"), 2000000000);
    expect_size(TEXT("3TB"), 3000000000000ULL);
    /* 2^64 - 2^30 fits, 2^64 does not. */
    expect_size(TEXT("17179869183GiB"), 17179869183ULL * GiB);
    expect_bad_size(TEXT("17179869184GiB"));
    expect_bad_size(TEXT("18446744073709551616"));
    expect_bad_size(TEXT("99999999999999999999"));

    expect_bad_size(TEXT(""));
    expect_bad_size(NULL, 0);
    expect_bad_size(TEXT("MiB"));
    expect_bad_size(TEXT("-1"));
    expect_bad_size(TEXT("1.5MiB"));
    expect_bad_size(TEXT("1 MiB"));
    expect_bad_size(TEXT(" 1MiB"));
    expect_bad_size(TEXT("1MiB "));
    expect_bad_size(TEXT("1mib"));
    expect_bad_size(TEXT("1kb"));
    expect_bad_size(TEXT("1KiBx"));
    expect_bad_size(TEXT("1PiB"));
    expect_bad_size(TEXT("1Mi"));
    expect_bad_size(TEXT("1\0MiB"));
    expect_size("10MiB!", 5, 10 * MiB);
}

static void expect_format(int64_t ms, const char *want)
{
    char buf[AKV_TIME_BUF];
    char *r = akv_time_format(ms, buf);
    assert_ptr_equal(r, buf);
    if (strcmp(buf, want) != 0)
        fail_msg("format %lld: got '%s', expected '%s'", (long long)ms, buf,
                 want);
}

static void expect_time(const char *s, int64_t want)
{
    int64_t got = 12345;
    int rc = akv_time_parse(s, strlen(s), &got);
    if (rc != AKV_OK)
        fail_msg("time '%s': got %s (%s)", s, akv_err_name(rc),
                 akv_last_error()->message);
    if (got != want)
        fail_msg("time '%s': got %lld, expected %lld", s, (long long)got,
                 (long long)want);
}

static void expect_bad_time(const char *s, size_t len)
{
    int64_t got;
    int rc = akv_time_parse(s, len, &got);
    if (rc != AKV_EINVAL)
        fail_msg("time '%.*s': got %s (%lld), expected invalid_argument",
                 (int)len, s ? s : "", akv_err_name(rc),
                 rc == AKV_OK ? (long long)got : 0LL);
    assert_non_null(strstr(akv_last_error()->message, "timestamp"));
}

/* ms since the epoch of well-known instants (checked with Python's
 * datetime). */
#define T_SPEC 1795670840123LL      /* 2026-11-26T05:27:20.123Z */
#define T_2026_11_26 1795651200000LL /* 2026-11-26T00:00:00Z */
#define T_LEAPDAY 1709208000000LL   /* 2024-02-29T12:00:00Z */
#define T_Y2K 946684800000LL        /* 2000-01-01T00:00:00Z */
#define T_2100 4107542400000LL      /* 2100-03-01T00:00:00Z */
#define T_MAX 253402300799999LL     /* 9999-12-31T23:59:59.999Z */

static void test_time_format(void **state)
{
    (void)state;
    expect_format(0, "1970-01-01T00:00:00.000Z");
    expect_format(1, "1970-01-01T00:00:00.001Z");
    expect_format(999, "1970-01-01T00:00:00.999Z");
    expect_format(T_SPEC, "2026-11-26T05:27:20.123Z");
    expect_format(T_2026_11_26, "2026-11-26T00:00:00.000Z");
    expect_format(T_LEAPDAY, "2024-02-29T12:00:00.000Z");
    expect_format(T_Y2K, "2000-01-01T00:00:00.000Z");
    expect_format(T_2100, "2100-03-01T00:00:00.000Z");
    expect_format(T_MAX, "9999-12-31T23:59:59.999Z");
    expect_format(-1, "1969-12-31T23:59:59.999Z");
    expect_format(-1000, "1969-12-31T23:59:59.000Z");
    expect_format(-1001, "1969-12-31T23:59:58.999Z");
}

static void test_time_parse(void **state)
{
    (void)state;
    expect_time("2026-11-26T05:27:20.123Z", T_SPEC);
    expect_time("2026-11-26T05:27:20Z", T_SPEC - 123);
    expect_time("2026-11-26T05:27:20.1Z", T_SPEC - 23);
    expect_time("2026-11-26T05:27:20.12Z", T_SPEC - 3);
    expect_time("2026-11-26T05:27:20.123999Z", T_SPEC); /* truncated */
    expect_time("2026-11-26t05:27:20.123z", T_SPEC);
    expect_time("2026-11-26T06:27:20.123+01:00", T_SPEC);
    expect_time("2026-11-25T23:57:20.123-05:30", T_SPEC);
    expect_time("2026-11-26T05:27:20.123+00:00", T_SPEC);
    expect_time("2026-11-26T05:27:20.123-00:00", T_SPEC);
    expect_time("1970-01-01T00:00:00.000Z", 0);
    expect_time("1969-12-31T23:59:59.999Z", -1);
    expect_time("2024-02-29T12:00:00Z", T_LEAPDAY);
    expect_time("2000-01-01T00:00:00Z", T_Y2K);
    expect_time("2100-03-01T00:00:00Z", T_2100);
    expect_time("9999-12-31T23:59:59.999Z", T_MAX);
}

static void test_time_parse_invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "2026",
        "2026-11-26",
        "2026-11-26T05:27:20",        /* no zone */
        "2026-11-26T05:27Z",          /* no seconds */
        "2026-11-26 05:27:20Z",       /* space instead of T */
        "2026-11-26T05:27:20.Z",      /* empty fraction */
        "2026-11-26T05:27:20Zjunk",
        "2026-11-26T05:27:20Z ",
        " 2026-11-26T05:27:20Z",
        "2026-11-26T05:27:20+0100",   /* offset without colon */
        "2026-11-26T05:27:20+01",
        "2026-11-26T05:27:20+24:00",
        "2026-11-26T05:27:20+01:60",
        "2026-00-26T05:27:20Z",
        "2026-13-26T05:27:20Z",
        "2026-11-00T05:27:20Z",
        "2026-11-32T05:27:20Z",
        "2026-04-31T05:27:20Z",
        "2026-02-30T05:27:20Z",
        "2026-11-26T24:00:00Z",
        "2026-11-26T23:60:00Z",
        "2026-11-26T23:59:61Z",
        /* A leap second: ms since the epoch cannot hold it, and turning
         * it into the next minute's :00 would not round-trip. */
        "2016-12-31T23:59:60Z",
        "2016-12-31T23:59:60.500Z",
        "26-11-26T05:27:20Z",
        "+2026-11-26T05:27:20Z",
        "2026/11/26T05:27:20Z",
        "2026-1-26T05:27:20Z",
        "2026-11-26T5:27:20Z",
        "2026-11-26T05:27:20.12a3Z",
        "1795670840123",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_bad_time(bad[i], strlen(bad[i]));
    expect_bad_time(NULL, 0);
    expect_bad_time(TEXT("2026-11-26T05:27:20\0Z"));
    /* The length bounds the input: the zone is cut off here. */
    expect_bad_time("2026-11-26T05:27:20Z", 19);
}

static void test_time_parse_calendar(void **state)
{
    (void)state;
    /* 2026, 2100 and 1900 are not leap years: there is no February 29th
     * in them, and RFC 3339 §5.7 makes such a date invalid. */
    expect_bad_time(TEXT("2026-02-29T00:00:00Z"));
    expect_bad_time(TEXT("2100-02-29T00:00:00Z"));
    expect_bad_time(TEXT("1900-02-29T00:00:00Z"));
    expect_time("2000-02-29T00:00:00Z", 951782400000LL);
}

static void test_time_year_zero(void **state)
{
    (void)state;
    /* Year 0000 (1 BC, a leap year) is the first the 4-digit form can
     * write; format and parse must agree on it like on any other year. */
    expect_format(-62167219200000LL, "0000-01-01T00:00:00.000Z");
    expect_time("0000-01-01T00:00:00.000Z", -62167219200000LL);
    expect_time("0000-02-29T00:00:00Z", -62162121600000LL);
    expect_time("0000-03-01T00:00:00Z", -62162035200000LL);
    expect_time("0001-01-01T00:00:00Z", -62135596800000LL);
}

/* akv_time_format agrees with gmtime_r (and "%04u-...", the fields as
 * unsigned, the year modulo 10000 as the format always had it) for any
 * int64: the extremes, far years both ways, leap days and a sweep. */
static void expect_like_gmtime(int64_t ms)
{
    int frac = (int)(ms % 1000);
    time_t secs = (time_t)(ms / 1000 - (frac < 0));
    if (frac < 0)
        frac += 1000;
    struct tm tm;
    assert_non_null(gmtime_r(&secs, &tm));
    char want[64], got[AKV_TIME_BUF];
    snprintf(want, sizeof want, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1), (unsigned)tm.tm_mday,
             (unsigned)tm.tm_hour, (unsigned)tm.tm_min, (unsigned)tm.tm_sec,
             (unsigned)frac);
    akv_time_format(ms, got);
    if (strcmp(got, want) != 0)
        fail_msg("format %lld: got '%s', gmtime_r gives '%s'", (long long)ms,
                 got, want);
}

static void test_time_format_like_gmtime(void **state)
{
    (void)state;
    static const int64_t edge[] = {
        INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 999,
        -62167219200001LL, /* the last instant of 1 BC's eve */
        -62135596800000LL, 951782400000LL /* 2000-02-29 */,
        4107542400000LL /* 2100-03-01 */, 253402300799999LL,
        253402300800000LL /* 10000-01-01 */, -86400000LL, -86400001LL,
        -12219292800000LL /* 1582-10-15 */, 0, -1, 1};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        expect_like_gmtime(edge[i]);
    /* Steps of a prime number of milliseconds over +-300,000 years, and
     * over +-290 million years (what an int64 of milliseconds reaches). */
    for (int64_t ms = -9467280000000000LL; ms < 9467280000000000LL;
         ms += 189345600007LL)
        expect_like_gmtime(ms);
    for (int64_t ms = INT64_MIN / 1000 * 999; ms < INT64_MAX / 1000 * 999;
         ms += INT64_MAX / 4999 + 7)
        expect_like_gmtime(ms);
}

static void test_time_round_trip(void **state)
{
    (void)state;
    /* Every 7919 minutes and a few odd milliseconds from 1970 to beyond
     * 2100: format, then parse, gives the same instant back. */
    char buf[AKV_TIME_BUF];
    for (int64_t ms = 0; ms < 4200000000000LL; ms += 7919LL * 60000 + 7) {
        int64_t back = -1;
        akv_time_format(ms, buf);
        assert_int_equal(strlen(buf), 24);
        assert_ok(akv_time_parse(buf, strlen(buf), &back));
        if (back != ms)
            fail_msg("%lld -> %s -> %lld", (long long)ms, buf,
                     (long long)back);
    }
    /* Year 1 to 1969 too: a timestamp carried by an import may be old. */
    for (int64_t ms = -62135596800000LL; ms < 0; ms += 86400001LL * 97) {
        int64_t back = -1;
        akv_time_format(ms, buf);
        assert_ok(akv_time_parse(buf, strlen(buf), &back));
        if (back != ms)
            fail_msg("%lld -> %s -> %lld", (long long)ms, buf,
                     (long long)back);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_valid),
        cmocka_unit_test(test_duration_hundred_years),
        cmocka_unit_test(test_duration_invalid),
        cmocka_unit_test(test_duration_length_bounds),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_time_parse_invalid),
        cmocka_unit_test(test_time_parse_calendar),
        cmocka_unit_test(test_time_year_zero),
        cmocka_unit_test(test_time_round_trip),
        cmocka_unit_test(test_time_format_like_gmtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

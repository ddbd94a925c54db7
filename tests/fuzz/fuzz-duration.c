/*
 * fuzz-duration.c — libFuzzer harness for the three small parsers of
 * ttl.c, all fed the same bytes: akv_duration_parse(), akv_size_parse() and
 * akv_time_parse(), plus akv_time_format() on a number taken from the input.
 *
 * Each parser is compared with an independent model of the documented
 * grammar written here (SPEC.md §1 and agentkv.h), in both directions: what
 * the model accepts must be accepted with the same value, what the library
 * accepts must be accepted by the model. On top of that:
 *   - an accepted duration or size re-parses to the same value, also from its
 *     canonical text ("<seconds>", "<bytes>");
 *   - a parsed time formats to 24 characters and parses back to the same ms;
 *   - any ms between 0000-01-01 and 9999-12-31 formats and parses back.
 * A broken invariant aborts with the input in hex.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv.h"

#define MAX_TTL (100LL * 366 * 86400) /* "at most 100 years", generously */
#define MS_MIN (-62167219200000LL)    /* 0000-01-01T00:00:00.000Z */
#define MS_MAX (253402300799999LL)    /* 9999-12-31T23:59:59.999Z */

static const uint8_t *cur_data;
static size_t cur_size;

static void broken(const char *what)
{
    fprintf(stderr, "fuzz-duration: invariant broken: %s; input (%zu bytes):",
            what, cur_size);
    for (size_t i = 0; i < cur_size && i < 80; i++)
        fprintf(stderr, " %02x", cur_data[i]);
    fprintf(stderr, "%s\n", cur_size > 80 ? " ..." : "");
    abort();
}

static int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Leading decimal digits of s (at most 18 are taken as a number). */
static size_t lead_digits(const uint8_t *s, size_t n, uint64_t *v)
{
    size_t i = 0;
    *v = 0;
    while (i < n && is_digit(s[i])) {
        if (i < 18)
            *v = *v * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    return i;
}

/* ---- durations -------------------------------------------------------- */

/* 1 = valid with *out, 0 = invalid, -1 = too many digits (either verdict is
 * defensible as long as it is not a wrong value). */
static int model_duration(const uint8_t *s, size_t n, int64_t *out)
{
    if (n == 5 && memcmp(s, "never", 5) == 0) {
        *out = 0;
        return 1;
    }
    uint64_t v, mult = 1;
    size_t d = lead_digits(s, n, &v);
    if (d == 0)
        return 0;
    if (d + 1 == n) {
        switch (s[d]) {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        default: return 0;
        }
    } else if (d != n) {
        return 0;
    }
    if (d > 18)
        return -1;
    if (v > (uint64_t)MAX_TTL / mult)
        return 0;
    *out = (int64_t)(v * mult);
    return 1;
}

static void check_duration(const uint8_t *data, size_t size)
{
    int64_t got = -7, want = -7, again = -7;
    int rc = akv_duration_parse((const char *)data, size, &got);
    int m = model_duration(data, size, &want);
    if (rc != AKV_OK && rc != AKV_EINVAL)
        broken("duration: result is neither AKV_OK nor AKV_EINVAL");
    if (m == 1 && rc != AKV_OK)
        broken("duration: valid duration rejected");
    if (m == 0 && rc == AKV_OK)
        broken("duration: invalid duration accepted");
    if (rc != AKV_OK)
        return;
    if (m == 1 && got != want)
        broken("duration: wrong value");
    if (got < 0 || got > MAX_TTL)
        broken("duration: value outside 0..100 years");
    if (akv_duration_parse((const char *)data, size, &again) != AKV_OK ||
        again != got)
        broken("duration: second parse differs");
    char text[32];
    int len = snprintf(text, sizeof text, "%" PRId64, got);
    again = -7;
    if (akv_duration_parse(text, (size_t)len, &again) != AKV_OK ||
        again != got)
        broken("duration: canonical seconds do not re-parse identically");
    if (got > 0 && got % 86400 == 0) {
        len = snprintf(text, sizeof text, "%" PRId64 "d", got / 86400);
        again = -7;
        if (akv_duration_parse(text, (size_t)len, &again) != AKV_OK ||
            again != got)
            broken("duration: whole days do not re-parse identically");
    }
}

/* ---- sizes ------------------------------------------------------------ */

static int model_size(const uint8_t *s, size_t n, uint64_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"B", 1},
        {"K", 1024ULL},
        {"KiB", 1024ULL},
        {"KB", 1000ULL},
        {"M", 1024ULL * 1024},
        {"MiB", 1024ULL * 1024},
        {"MB", 1000ULL * 1000},
        {"G", 1024ULL * 1024 * 1024},
        {"GiB", 1024ULL * 1024 * 1024},
        {"GB", 1000ULL * 1000 * 1000},
        {"T", 1024ULL * 1024 * 1024 * 1024},
        {"TiB", 1024ULL * 1024 * 1024 * 1024},
        {"TB", 1000ULL * 1000 * 1000 * 1000},
    };
    uint64_t v;
    size_t d = lead_digits(s, n, &v);
    if (d == 0)
        return 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t sl = strlen(units[i].suffix);
        if (d + sl == n && memcmp(s + d, units[i].suffix, sl) == 0) {
            if (d > 18)
                return -1;
            if (__builtin_mul_overflow(v, units[i].mult, out))
                return 0;
            return 1;
        }
    }
    return 0;
}

static void check_size(const uint8_t *data, size_t size)
{
    uint64_t got = 7, want = 7, again = 7;
    int rc = akv_size_parse((const char *)data, size, &got);
    int m = model_size(data, size, &want);
    if (rc != AKV_OK && rc != AKV_EINVAL)
        broken("size: result is neither AKV_OK nor AKV_EINVAL");
    if (m == 1 && rc != AKV_OK)
        broken("size: valid size rejected");
    if (m == 0 && rc == AKV_OK)
        broken("size: invalid size accepted");
    if (rc != AKV_OK)
        return;
    if (m == 1 && got != want)
        broken("size: wrong value");
    if (akv_size_parse((const char *)data, size, &again) != AKV_OK ||
        again != got)
        broken("size: second parse differs");
    if (got < 1000000000000000000ULL) { /* 18 digits or fewer */
        char text[32];
        int len = snprintf(text, sizeof text, "%" PRIu64, got);
        again = 7;
        if (akv_size_parse(text, (size_t)len, &again) != AKV_OK ||
            again != got)
            broken("size: canonical bytes do not re-parse identically");
    }
}

/* ---- RFC 3339 time ---------------------------------------------------- */

static int fixed(const uint8_t *s, size_t n, size_t at, size_t width, int *v)
{
    if (at + width > n)
        return 0;
    *v = 0;
    for (size_t i = at; i < at + width; i++) {
        if (!is_digit(s[i]))
            return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, by counting. */
static int64_t days_since_epoch(int y, int m, int d)
{
    static const int before[] = {0, 31, 59, 90, 120, 151,
                                 181, 212, 243, 273, 304, 334};
    int64_t days = 0;
    if (y >= 1970)
        for (int k = 1970; k < y; k++)
            days += leap(k) ? 366 : 365;
    else
        for (int k = y; k < 1970; k++)
            days -= leap(k) ? 366 : 365;
    days += before[m - 1] + (m > 2 && leap(y)) + (d - 1);
    return days;
}

/* The grammar agentkv.h documents: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM),
 * 'T' and 'Z' in either case, a real calendar date, seconds 0..59 (a leap
 * second, :60, is refused: milliseconds since the epoch cannot hold it). */
static int model_time(const uint8_t *s, size_t n, int64_t *ms)
{
    int Y, M, D, h, mi, se, frac = 0;
    if (!fixed(s, n, 0, 4, &Y) || n < 19 || s[4] != '-' ||
        !fixed(s, n, 5, 2, &M) || s[7] != '-' || !fixed(s, n, 8, 2, &D) ||
        (s[10] != 'T' && s[10] != 't') || !fixed(s, n, 11, 2, &h) ||
        s[13] != ':' || !fixed(s, n, 14, 2, &mi) || s[16] != ':' ||
        !fixed(s, n, 17, 2, &se))
        return 0;
    size_t p = 19;
    if (p < n && s[p] == '.') {
        size_t k = 0;
        p++;
        while (p < n && is_digit(s[p])) {
            if (k < 3)
                frac = frac * 10 + (s[p] - '0');
            k++;
            p++;
        }
        if (k == 0)
            return 0;
        for (; k < 3; k++)
            frac *= 10;
    }
    int offset = 0;
    if (p < n && (s[p] == 'Z' || s[p] == 'z')) {
        p++;
    } else if (p < n && (s[p] == '+' || s[p] == '-')) {
        int oh, om;
        int sign = s[p] == '-' ? -1 : 1;
        if (!fixed(s, n, p + 1, 2, &oh) || p + 3 >= n || s[p + 3] != ':' ||
            !fixed(s, n, p + 4, 2, &om) || oh > 23 || om > 59)
            return 0;
        offset = sign * (oh * 60 + om);
        p += 6;
    } else {
        return 0;
    }
    static const int mdays[] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    if (p != n || M < 1 || M > 12 || D < 1 ||
        D > mdays[M - 1] + (M == 2 && leap(Y)) || h > 23 || mi > 59 ||
        se > 59)
        return 0;
    int64_t secs = days_since_epoch(Y, M, D) * 86400 + h * 3600 + mi * 60 +
                   se - (int64_t)offset * 60;
    *ms = secs * 1000 + frac;
    return 1;
}

static void round_trip(int64_t ms, const char *what)
{
    char buf[AKV_TIME_BUF];
    int64_t back = 0;
    memset(buf, 'x', sizeof buf);
    const char *text = akv_time_format(ms, buf);
    if (text != buf)
        broken("time: akv_time_format does not return buf");
    if (memchr(buf, '\0', sizeof buf) == NULL || strlen(buf) != 24 ||
        buf[23] != 'Z')
        broken("time: formatted time is not 24 characters ending in Z");
    if (akv_time_parse(buf, strlen(buf), &back) != AKV_OK)
        broken(what);
    if (back != ms)
        broken(what);
}

static void check_time(const uint8_t *data, size_t size)
{
    int64_t got = 0, want = 0;
    int rc = akv_time_parse((const char *)data, size, &got);
    int m = model_time(data, size, &want);
    if (rc != AKV_OK && rc != AKV_EINVAL)
        broken("time: result is neither AKV_OK nor AKV_EINVAL");
    if (m && rc != AKV_OK)
        broken("time: valid RFC 3339 time rejected");
    if (!m && rc == AKV_OK)
        broken("time: invalid time accepted (not a real date or bad form)");
    if (rc == AKV_OK && got != want)
        broken("time: wrong ms value");
    if (rc == AKV_OK && got >= MS_MIN && got <= MS_MAX)
        round_trip(got, "time: a parsed time does not format and parse back");

    /* Any ms in the 4-digit-year range survives format + parse. */
    if (size >= 8) {
        uint64_t raw;
        memcpy(&raw, data, 8);
        int64_t span = MS_MAX - MS_MIN + 1;
        int64_t ms = MS_MIN + (int64_t)(raw % (uint64_t)span);
        round_trip(ms, "time: formatted ms does not parse back to the same");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cur_data = data;
    cur_size = size;
    check_duration(data, size);
    check_size(data, size);
    check_time(data, size);
    return 0;
}

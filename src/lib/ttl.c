/*
 * ttl.c — parsing of durations and byte sizes, and RFC 3339 timestamps.
 * Parsers take (pointer, length) and accept nothing but the documented
 * forms: no signs, no fractions, no surrounding blanks, no overflow.
 */
#include <string.h>
#include <time.h>

#include "internal.h"


/* Parses 1..18 decimal digits; returns the number of digits consumed. */
static size_t parse_digits(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (i == 18)
            return 0; /* too many digits: refuse rather than wrap */
        v = v * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    *out = v;
    return i;
}

int akv_duration_parse(const char *s, size_t len, int64_t *out)
{
    char shown[AKV_QUOTE_BUF];
    if (s == NULL || len == 0)
        return akv_fail(AKV_EINVAL, "invalid duration: empty");
    if (len == 5 && memcmp(s, "never", 5) == 0) {
        *out = 0;
        return AKV_OK;
    }
    uint64_t n;
    size_t digits = parse_digits(s, len, &n);
    uint64_t mult = 1;
    if (digits == 0)
        goto bad;
    if (digits + 1 == len) {
        switch (s[digits]) {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        default: goto bad;
        }
    } else if (digits != len) {
        goto bad;
    }
    if (n > (uint64_t)AKV_TTL_MAX_SECONDS / mult)
        return akv_fail(AKV_EINVAL,
                        "invalid duration '%s': longer than 100 years",
                        akv_quote(shown, s, len));
    *out = (int64_t)(n * mult);
    return AKV_OK;
bad:
    return akv_fail(AKV_EINVAL,
                    "invalid duration '%s' (expected e.g. 45s, 15m, 24h, 7d, "
                    "a number of seconds, 0 or never)",
                    akv_quote(shown, s, len));
}

int akv_size_parse(const char *s, size_t len, uint64_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"B", 1},
        {"K", 1ULL << 10},  {"KiB", 1ULL << 10}, {"KB", 1000},
        {"M", 1ULL << 20},  {"MiB", 1ULL << 20}, {"MB", 1000000},
        {"G", 1ULL << 30},  {"GiB", 1ULL << 30}, {"GB", 1000000000},
        {"T", 1ULL << 40},  {"TiB", 1ULL << 40}, {"TB", 1000000000000ULL},
    };
    char shown[AKV_QUOTE_BUF];
    uint64_t n;
    size_t digits = s ? parse_digits(s, len, &n) : 0;
    if (digits == 0)
        goto bad;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t sl = strlen(units[i].suffix);
        if (digits + sl == len && memcmp(s + digits, units[i].suffix, sl) == 0) {
            if (n > UINT64_MAX / units[i].mult)
                goto bad;
            *out = n * units[i].mult;
            return AKV_OK;
        }
    }
bad:
    return akv_fail(AKV_EINVAL,
                    "invalid size '%s' (expected e.g. 1048576, 512KiB, 10MiB, "
                    "1GiB)",
                    akv_quote(shown, s, s ? len : 0));
}

char *akv_time_format(int64_t ms, char buf[AKV_TIME_BUF])
{
    /* Floor division without overflow, for any int64 (INT64_MIN too). */
    int frac = (int)(ms % 1000);
    time_t secs = (time_t)(ms / 1000 - (frac < 0));
    if (frac < 0)
        frac += 1000;
    /* The date and time of day without gmtime_r (its time-zone lock and
     * bookkeeping cost more than the arithmetic): the same fields for
     * any int64 (years up to about 292 million, which gmtime_r gives
     * too). */
    long long days = (long long)(secs / 86400 - (secs % 86400 < 0));
    int sod = (int)(secs - (time_t)days * 86400);
    long long year;
    int month, mday;
    akvx_civil_date(days, &year, &month, &mday);
    /* "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", two digits at a time: every
     * PUT's answer formats three of these and every GET's one, and
     * snprintf took 5% of the server's CPU for a PUT (perf). */
    unsigned y = (unsigned)(int)year % 10000u, f = (unsigned)frac;
    char *o = akvx_dec2(buf, y / 100);
    o = akvx_dec2(o, y % 100);
    *o++ = '-';
    o = akvx_dec2(o, (unsigned)month);
    *o++ = '-';
    o = akvx_dec2(o, (unsigned)mday);
    *o++ = 'T';
    o = akvx_dec2(o, (unsigned)(sod / 3600));
    *o++ = ':';
    o = akvx_dec2(o, (unsigned)(sod / 60 % 60));
    *o++ = ':';
    o = akvx_dec2(o, (unsigned)(sod % 60));
    *o++ = '.';
    *o++ = (char)('0' + f / 100);
    o = akvx_dec2(o, f % 100);
    *o++ = 'Z';
    *o = '\0';
    return buf;
}

/* Reads exactly n digits at *p as an int; advances *p. */
static bool fixed_digits(const char **p, const char *end, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || **p < '0' || **p > '9')
            return false;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return true;
}

static bool expect(const char **p, const char *end, char c)
{
    if (*p >= end || (**p != c && !(c == 'T' && **p == 't')))
        return false;
    (*p)++;
    return true;
}

int akv_time_parse(const char *s, size_t len, int64_t *ms)
{
    char shown[AKV_QUOTE_BUF];
    if (s == NULL)
        return akv_fail(AKV_EINVAL, "invalid timestamp: empty");
    const char *p = s, *end = s + len;
    int Y, M, D, h, m, sec, frac = 0;
    if (!fixed_digits(&p, end, 4, &Y) || !expect(&p, end, '-') ||
        !fixed_digits(&p, end, 2, &M) || !expect(&p, end, '-') ||
        !fixed_digits(&p, end, 2, &D) || !expect(&p, end, 'T') ||
        !fixed_digits(&p, end, 2, &h) || !expect(&p, end, ':') ||
        !fixed_digits(&p, end, 2, &m) || !expect(&p, end, ':') ||
        !fixed_digits(&p, end, 2, &sec))
        goto bad;
    if (p < end && *p == '.') {
        p++;
        int digits = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (digits == 0)
            goto bad;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    int offset_min = 0;
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (!fixed_digits(&p, end, 2, &oh) || !expect(&p, end, ':') ||
            !fixed_digits(&p, end, 2, &om) || oh > 23 || om > 59)
            goto bad;
        offset_min = sign * (oh * 60 + om);
    } else {
        goto bad;
    }
    if (p != end || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59)
        goto bad;
    /* ms since the epoch have no room for a leap second: :60 would come
     * back as the next minute's :00, so it is refused, not rewritten. */
    if (sec == 60)
        return akv_fail(AKV_EINVAL,
                        "invalid timestamp '%s': a leap second (:60) cannot "
                        "be stored; use :59.999",
                        akv_quote(shown, s, len));
    if (sec > 60)
        goto bad;
    /* Days from civil date (proleptic Gregorian), valid for year >= 0. */
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (D > mdays[M - 1] + (M == 2 && leap))
        goto bad;
    int y = M <= 2 ? Y - 1 : Y;
    int era = (y >= 0 ? y : y - 399) / 400; /* floor, for year 0 */
    int yoe = y - era * 400;
    int doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    int64_t t = ((days * 24 + h) * 60 + m) * 60 + sec - offset_min * 60;
    *ms = t * 1000 + frac;
    return AKV_OK;
bad:
    return akv_fail(AKV_EINVAL,
                    "invalid timestamp '%s' (expected RFC 3339, e.g. "
                    "2026-11-26T05:27:20.123Z)",
                    akv_quote(shown, s, s ? len : 0));
}

/*
 * akvx.c — the shared helpers of akvx.h (hex, base64, UTF-8, percent-
 * decoding, mkdir -p, atomic file replacement, key order). Each exists once
 * here; the library and the front ends call these instead of keeping
 * copies. The decoders are strict because their input is often hostile.
 */
#include "akvx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Both hex digits of each byte value, and both decimal digits of each
 * value below 100, built by the compiler: one look-up writes two digits
 * (hashes and timestamps are written for every response). */
#define HEX_DIGIT(n) ((n) < 10 ? '0' + (n) : 'a' + (n) - 10)
#define HEX_PAIR(b) HEX_DIGIT((b) >> 4), HEX_DIGIT((b) & 15)
#define HEX_4(b)                                                            \
    HEX_PAIR(b), HEX_PAIR((b) + 1), HEX_PAIR((b) + 2), HEX_PAIR((b) + 3)
#define HEX_16(b) HEX_4(b), HEX_4((b) + 4), HEX_4((b) + 8), HEX_4((b) + 12)
#define HEX_64(b)                                                           \
    HEX_16(b), HEX_16((b) + 16), HEX_16((b) + 32), HEX_16((b) + 48)
static const char hex_pairs[512] = {HEX_64(0), HEX_64(64), HEX_64(128),
                                    HEX_64(192)};
#define DEC_PAIR(n) '0' + (n) / 10, '0' + (n) % 10
#define DEC_10(n) DEC_PAIR(n), DEC_PAIR((n) + 1), DEC_PAIR((n) + 2),          \
    DEC_PAIR((n) + 3), DEC_PAIR((n) + 4), DEC_PAIR((n) + 5),                  \
    DEC_PAIR((n) + 6), DEC_PAIR((n) + 7), DEC_PAIR((n) + 8), DEC_PAIR((n) + 9)
const char akvx_dec_pairs[200] = {DEC_10(0),  DEC_10(10), DEC_10(20),
                                  DEC_10(30), DEC_10(40), DEC_10(50),
                                  DEC_10(60), DEC_10(70), DEC_10(80),
                                  DEC_10(90)};
static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ---- hex ---------------------------------------------------------------- */

int akvx_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool akvx_hex_lower(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

void akvx_hex_encode(const void *in, size_t n, char *out)
{
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++)
        memcpy(out + 2 * i, hex_pairs + 2 * p[i], 2);
    out[2 * n] = '\0';
}

/* The digits of v, written backwards ending before end; returns the first. */
static char *dec_back(unsigned long long v, char *end)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

size_t akvx_u64_dec(unsigned long long v, char out[AKVX_INT_BUF])
{
    char tmp[20]; /* ULLONG_MAX has 20 digits */
    const char *p = dec_back(v, tmp + sizeof tmp);
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

size_t akvx_i64_dec(long long v, char out[AKVX_INT_BUF])
{
    char tmp[20]; /* "-" and the 19 digits of LLONG_MIN's magnitude */
    char *p = dec_back(v < 0 ? 0ULL - (unsigned long long)v
                             : (unsigned long long)v,
                       tmp + sizeof tmp);
    if (v < 0)
        *--p = '-';
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

void akvx_civil_date(long long days, long long *year, int *month, int *day)
{
    /* Days counted from 0000-03-01, in eras of 400 years (146097 days),
     * each starting in March so that a leap day ends its year. Floor
     * division for days before 0000-03-01. The shift cannot overflow:
     * |days| stays far below LLONG_MAX - 719468 for any caller's time. */
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;                       /* 0-146096 */
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* 0-365 */
    long long mp = (5 * doy + 2) / 153;                      /* 0 = March */
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

int akvx_hex_decode(const char *hex, size_t len, unsigned char *out)
{
    if (len % 2 != 0)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = akvx_hexval((unsigned char)hex[2 * i]);
        int lo = akvx_hexval((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* ---- base64 ------------------------------------------------------------- */

/* Encodes in[0..n) with the alphabet tab; pad adds '=' to a multiple of 4.
 * Returns the number of characters written (a NUL follows). */
static size_t b64_encode(const unsigned char *in, size_t n, const char *tab,
                         bool pad, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = tab[v >> 6 & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

char *akvx_base64_encode(const void *in, size_t len, size_t *olen)
{
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    size_t n = b64_encode(in, len, b64_std, true, out);
    if (olen)
        *olen = n;
    return out;
}

void akvx_base64url_encode(const void *in, size_t n, char *out)
{
    b64_encode(in, n, b64_url, false, out);
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int akvx_base64_decode(const char *in, size_t len, unsigned char *out,
                       size_t *olen)
{
    if (len % 4 != 0)
        return -1;
    size_t pad = 0;
    if (len && in[len - 1] == '=')
        pad = len > 1 && in[len - 2] == '=' ? 2 : 1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        uint32_t w = 0;
        for (size_t k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)in[i + k];
            int v = last && k >= 4 - pad ? (c == '=' ? 0 : -1) : b64_value(c);
            if (v < 0)
                return -1;
            w = w << 6 | (uint32_t)v;
        }
        /* Canonical only: the bits the padding leaves unused are zero. */
        if (last && ((pad == 2 && (w & 0xffff)) || (pad == 1 && (w & 0xff))))
            return -1;
        out[o++] = (unsigned char)(w >> 16);
        if (!last || pad < 2)
            out[o++] = (unsigned char)(w >> 8);
        if (!last || pad < 1)
            out[o++] = (unsigned char)w;
    }
    *olen = o;
    return 0;
}

/* ---- UTF-8 -------------------------------------------------------------- */

size_t akvx_utf8_seq(const void *str, size_t len)
{
    const unsigned char *s = str;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp, min;
    if ((c & 0xe0) == 0xc0) {
        n = 2; cp = c & 0x1f; min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3; cp = c & 0x0f; min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool akvx_utf8_valid(const void *str, size_t len)
{
    const unsigned char *s = str;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) { /* ASCII, most text: no call for it */
            i++;
            continue;
        }
        size_t n = akvx_utf8_seq(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* ---- percent-decoding --------------------------------------------------- */

int akvx_pct_decode(const char *in, size_t len, char *out, size_t cap,
                    size_t *out_len, const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            int hi = i + 1 < len ? akvx_hexval((unsigned char)in[i + 1]) : -1;
            int lo = i + 2 < len ? akvx_hexval((unsigned char)in[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = i + 2 >= len && (i + 1 >= len || hi >= 0)
                           ? "truncated percent-encoding"
                           : "invalid percent-encoding (expected %XX with "
                             "two hex digits)";
                return -1;
            }
            c = (unsigned char)(hi * 16 + lo);
            if (c == 0) {
                *why = "encoded NUL (%00) is not allowed";
                return -1;
            }
            i += 2;
        }
        if (o == cap) {
            *why = "too long";
            return -1;
        }
        out[o++] = (char)c;
    }
    *out_len = o;
    return 0;
}

/* ---- files -------------------------------------------------------------- */

int akvx_mkdir_p(const char *dir, int leaf_mode)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) {
        errno = n ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(buf, dir, n + 1);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        bool leaf = c == '\0';
        mode_t mode = leaf && leaf_mode >= 0 ? (mode_t)leaf_mode : 0755;
        if (mkdir(buf, mode) == 0) {
            if (leaf && leaf_mode >= 0 && chmod(buf, mode) != 0)
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        }
        buf[i] = c;
    }
    return 0;
}

int akvx_replace_file(const char *path, const void *data, size_t len,
                      mode_t mode, const char **step)
{
    char tmp[4200];
    *step = "create";
    int w = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (w < 0 || (size_t)w >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    *step = "write";
    /* Exactly mode whatever the umask or a stale temporary's mode. */
    int bad = fchmod(fd, mode) != 0;
    const char *p = data;
    for (size_t off = 0; !bad && off < len;) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            bad = 1;
            break;
        }
        off += (size_t)n;
    }
    if (!bad && fsync(fd) != 0)
        bad = 1;
    int e = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad || rename(tmp, path) != 0) {
        if (!bad)
            e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    /* Make the rename itself durable. */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* ---- keys --------------------------------------------------------------- */

int akvx_keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

const char *akvx_guess_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".md", "text/markdown"},     {".markdown", "text/markdown"},
        {".json", "application/json"}, {".txt", "text/plain"},
    };
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base + 1 : path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

bool akvx_list_next(const char **p, const char **item, size_t *len)
{
    if (*p == NULL || **p == '\0')
        return false;
    const char *comma = strchr(*p, ',');
    const char *s = *p, *e = comma ? comma : *p + strlen(*p);
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *item = s;
    *len = (size_t)(e - s);
    *p = comma ? comma + 1 : NULL;
    return true;
}

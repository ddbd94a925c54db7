/*
 * util.c — small helpers every part of the library uses: SHA-256 (OpenSSL
 * libcrypto), hex, strict UTF-8, metadata and content-type checks, quoting of
 * untrusted input for messages, and the wall clock.
 */
/* The one-shot SHA256() is the fastest path (no context allocation) and
 * uses SHA-NI where the CPU has it; OpenSSL 3 marks it deprecated only. */
#define OPENSSL_API_COMPAT 0x10100000L
#include <openssl/sha.h>

#include <jansson.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void akv_sha256(const void *data, size_t len, unsigned char out[32])
{
    SHA256(data, len, out);
}

void akv_hex_encode(const unsigned char in[32], char out[AKV_SHA256_HEX + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[AKV_SHA256_HEX] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int akv_hex_decode(const char *hex, size_t len, unsigned char out[32])
{
    if (hex == NULL || len != AKV_SHA256_HEX)
        return akv_fail(AKV_EINVAL, "invalid SHA-256: expected 64 hex digits");
    for (int i = 0; i < 32; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return akv_fail(AKV_EINVAL,
                            "invalid SHA-256: expected 64 hex digits");
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return AKV_OK;
}

bool akv_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 2; cp = c & 0x1f; min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3; cp = c & 0x0f; min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4; cp = c & 0x07; min = 0x10000;
        } else {
            return false;
        }
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n;
    }
    return true;
}

int akv_metadata_check(const char *json, size_t len)
{
    if (len > AKV_METADATA_MAX)
        return akv_fail(AKV_EINVAL, "invalid metadata: %zu bytes (at most %d)",
                        len, AKV_METADATA_MAX);
    json_error_t jerr;
    json_t *v = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        return akv_fail(AKV_EINVAL,
                        "invalid metadata: not JSON (%s at line %d, column %d)",
                        jerr.text, jerr.line, jerr.column);
    bool obj = json_is_object(v);
    json_decref(v);
    if (!obj)
        return akv_fail(AKV_EINVAL, "invalid metadata: not a JSON object");
    return AKV_OK;
}

int akv_content_type_check(const char *ct, size_t len)
{
    if (len == 0 || len > AKV_CONTENT_TYPE_MAX)
        return akv_fail(AKV_EINVAL,
                        "invalid content type: 1 to %d bytes expected",
                        AKV_CONTENT_TYPE_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)ct[i] < 0x20 || (unsigned char)ct[i] > 0x7e)
            return akv_fail(AKV_EINVAL,
                            "invalid content type: byte 0x%02x at %zu",
                            (unsigned char)ct[i], i);
    return AKV_OK;
}

const char *akv_quote(char buf[AKV_QUOTE_BUF], const char *s, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0, shown = len > 64 ? 64 : len;
    for (size_t i = 0; s && i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = digits[c >> 4];
            buf[o++] = digits[c & 15];
        }
    }
    if (len > shown) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

int64_t akv_realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

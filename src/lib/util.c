/*
 * util.c — small helpers every part of the library uses: SHA-256 (OpenSSL
 * libcrypto), CRC-32C, hex, strict UTF-8, metadata and content-type
 * checks, quoting of untrusted input for messages, and the wall clock.
 */
/* OpenSSL 3 routes the one-shot SHA256() and EVP_Digest() through an
 * algorithm fetch that takes a lock on every call; the low-level
 * SHA256_Init/Update/Final go straight to the (SHA-NI) block function and
 * cost about a third less for 1 KiB. They are deprecated, not removed. */
#define OPENSSL_API_COMPAT 0x10100000L
#include <pthread.h>
#include <openssl/sha.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void akv_sha256(const void *data, size_t len, unsigned char out[32])
{
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data, len);
    SHA256_Final(out, &ctx);
}

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), four bits per
 * step: the portable form, for CPUs without a CRC-32C instruction. */
static const uint32_t crc32c_nibble[16] = {
    0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3,
    0x61c69362, 0x7198540d, 0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
    0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

uint32_t akv_crc32c_portable(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t c = ~crc;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        c = (c >> 4) ^ crc32c_nibble[c & 15];
        c = (c >> 4) ^ crc32c_nibble[c & 15];
    }
    return ~c;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

/* SSE4.2's crc32 instruction, eight bytes at a time. */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const unsigned char *p, size_t len)
{
    uint64_t c = ~crc;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof w); /* x86 is little-endian, as CRC-32C reads */
        c = _mm_crc32_u64(c, w);
    }
    uint32_t c32 = (uint32_t)c;
    for (; len > 0; p++, len--)
        c32 = _mm_crc32_u8(c32, *p);
    return ~c32;
}
#endif

uint32_t akv_crc32c(uint32_t crc, const void *data, size_t len)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2"))
        return crc32c_sse42(crc, data, len);
#endif
    return akv_crc32c_portable(crc, data, len);
}

/* Two hex digits per byte value: the read path renders a digest per get. */
int akv_hex_decode(const char *hex, size_t len, unsigned char out[32])
{
    if (hex == NULL || len != AKV_SHA256_HEX ||
        akvx_hex_decode(hex, len, out) != 0)
        return akv_fail(AKV_EINVAL, "invalid SHA-256: expected 64 hex digits");
    return AKV_OK;
}

/*
 * jansson does not always stop when an allocation fails. Its lexer ignores
 * a failure to grow its token buffer and goes on with a character missing:
 * the value it returns is then not the text's (a content type
 * "application/ocet-stream"), or, when the lost character was a quote, it
 * reads past its buffer or stops on an assertion. Its dumper can likewise
 * return text with a character missing. Only jansson's allocator sees such
 * a failure, so the first guarded call puts a hook in front of whatever
 * allocator is installed; within a guard (akv_json_guard_begin/_end) it
 * notes the first failure and fails every later allocation too, so that
 * jansson gives up early and the caller drops the result.
 */
static json_malloc_t json_next_malloc;
static _Thread_local bool json_guarded, json_alloc_failed;
static pthread_once_t json_hook_once = PTHREAD_ONCE_INIT;

static void *json_hook_malloc(size_t n)
{
    if (json_guarded && json_alloc_failed)
        return NULL;
    void *p = json_next_malloc(n);
    if (p == NULL)
        json_alloc_failed = true;
    return p;
}

static void json_hook_install(void)
{
    json_free_t next_free;
    json_get_alloc_funcs(&json_next_malloc, &next_free);
    json_set_alloc_funcs(json_hook_malloc, next_free);
}

void akv_json_guard_begin(void)
{
    pthread_once(&json_hook_once, json_hook_install);
    json_alloc_failed = false;
    json_guarded = true;
}

bool akv_json_guard_end(void)
{
    json_guarded = false;
    return json_alloc_failed;
}

int akv_json_parse(const char *text, size_t len, size_t flags, json_t **out,
                   json_error_t *jerr)
{
    akv_json_guard_begin();
    *out = json_loadb(text, len, flags, jerr);
    if (akv_json_guard_end()) {
        json_decref(*out);
        *out = NULL;
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    return *out ? AKV_OK : AKV_EINVAL;
}

char *akv_json_dumps(const json_t *o, size_t flags)
{
    akv_json_guard_begin();
    char *text = json_dumps(o, flags);
    if (akv_json_guard_end()) {
        free(text);
        return NULL;
    }
    return text;
}

int akv_metadata_check(const char *json, size_t len)
{
    if (len > AKV_METADATA_MAX)
        return akv_fail(AKV_EINVAL, "invalid metadata: %zu bytes (at most %d)",
                        len, AKV_METADATA_MAX);
    json_error_t jerr;
    json_t *v;
    int rc = akv_json_parse(json, len, JSON_REJECT_DUPLICATES, &v, &jerr);
    if (rc == AKV_ENOMEM)
        return rc;
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

void akv_buf_add(struct akv_buf *b, const void *s, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 1024;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void akv_buf_str(struct akv_buf *b, const char *s)
{
    akv_buf_add(b, s, strlen(s));
}

int64_t akv_realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

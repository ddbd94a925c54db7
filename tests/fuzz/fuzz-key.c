/*
 * fuzz-key.c — libFuzzer harness for akv_key_check().
 *
 * The input bytes are the key. The harness compares the library's verdict
 * with an independent model of SPEC.md §1 written here (its own UTF-8
 * decoder and segment walk), and aborts when they disagree in either
 * direction: an accepted key that breaks a rule, or a key that follows every
 * rule but was rejected. It also checks that a rejection is AKV_EINVAL with a
 * one-line message, and that the verdict does not depend on the bytes after
 * the given length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv.h"

/* Strict UTF-8: shortest form, no surrogates, nothing above U+10FFFF. */
static int model_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t need;
        uint32_t cp;
        if (c <= 0x7f) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07u;
        } else {
            return 0; /* continuation byte, 0xc0/0xc1, 0xf5..0xff */
        }
        if (n - i - 1 < need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* 1 when s[0..n) is a valid key according to SPEC.md §1. */
static int model_key(const uint8_t *s, size_t n)
{
    if (n < 1 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')
            return 0;
    if (!model_utf8(s, n))
        return 0;
    /* Segments between slashes; a leading or trailing slash makes an
     * empty first or last segment. */
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '/')
            continue;
        size_t len = i - start;
        if (len == 0)
            return 0;
        if (len == 1 && s[start] == '.')
            return 0;
        if (len == 2 && s[start] == '.' && s[start + 1] == '.')
            return 0;
        start = i + 1;
    }
    return 1;
}

static void broken(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz-key: invariant broken: %s; input (%zu bytes):",
            what, size);
    for (size_t i = 0; i < size && i < 64; i++)
        fprintf(stderr, " %02x", data[i]);
    fprintf(stderr, "%s\n", size > 64 ? " ..." : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int rc = akv_key_check((const char *)data, size);
    int expect_ok = model_key(data, size);

    if (rc != AKV_OK && rc != AKV_EINVAL)
        broken("result is neither AKV_OK nor AKV_EINVAL", data, size);
    if (rc == AKV_OK && !expect_ok)
        broken("accepted a key that breaks SPEC.md rules", data, size);
    if (rc != AKV_OK && expect_ok)
        broken("rejected a key that follows SPEC.md rules", data, size);
    if (rc == AKV_EINVAL) {
        const akv_error *e = akv_last_error();
        if (e->code != AKV_EINVAL)
            broken("last error code differs from the result", data, size);
        if (e->message[0] == '\0' || strchr(e->message, '\n') ||
            strlen(e->message) >= sizeof e->message)
            broken("rejection message is empty or not one line", data,
                   size);
    }

    /* The verdict depends on the first size bytes only: a copy followed by
     * a byte that would be invalid must get the same answer. */
    uint8_t *copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    if (size)
        memcpy(copy, data, size);
    copy[size] = '\\';
    if (akv_key_check((const char *)copy, size) != rc)
        broken("verdict depends on bytes beyond the length", data, size);
    free(copy);
    return 0;
}

/*
 * key.c — validation of keys and sandbox ids (SPEC.md §1). Invalid input is
 * rejected with a message saying what is wrong and where; it is never
 * rewritten, because rewriting makes distinct keys collide.
 */
#include <string.h>

#include "internal.h"

int akv_key_check(const char *key, size_t len)
{
    if (key == NULL || len == 0)
        return akv_fail(AKV_EINVAL, "invalid key: empty");
    if (len > AKV_KEY_MAX)
        return akv_fail(AKV_EINVAL, "invalid key: %zu bytes (at most %d)",
                        len, AKV_KEY_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c == 0x7f)
            return akv_fail(AKV_EINVAL,
                            "invalid key: control character 0x%02x at byte %zu",
                            c, i);
        if (c == '\\')
            return akv_fail(AKV_EINVAL, "invalid key: backslash at byte %zu",
                            i);
    }
    if (!akvx_utf8_valid(key, len))
        return akv_fail(AKV_EINVAL, "invalid key: not valid UTF-8");
    if (key[0] == '/')
        return akv_fail(AKV_EINVAL, "invalid key: leading '/'");
    if (key[len - 1] == '/')
        return akv_fail(AKV_EINVAL, "invalid key: trailing '/'");
    /* Walk the '/'-separated segments. */
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && key[i] != '/')
            continue;
        size_t seg = i - start;
        if (seg == 0)
            return akv_fail(AKV_EINVAL,
                            "invalid key: empty segment at byte %zu", start);
        if ((seg == 1 && key[start] == '.') ||
            (seg == 2 && key[start] == '.' && key[start + 1] == '.'))
            return akv_fail(AKV_EINVAL,
                            "invalid key: '%.*s' segment at byte %zu",
                            (int)seg, key + start, start);
        start = i + 1;
    }
    return AKV_OK;
}

int akv_sandbox_check(const char *sb, size_t len)
{
    char shown[AKV_QUOTE_BUF];
    if (sb == NULL || len == 0)
        return akv_fail(AKV_EINVAL, "invalid sandbox: empty");
    if (len > AKV_SANDBOX_MAX)
        return akv_fail(AKV_EINVAL,
                        "invalid sandbox: %zu characters (at most %d)", len,
                        AKV_SANDBOX_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)sb[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return akv_fail(AKV_EINVAL,
                            "invalid sandbox '%s': only A-Z a-z 0-9 _ - "
                            "are allowed",
                            akv_quote(shown, sb, len));
    }
    return AKV_OK;
}

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
    /* One pass (every read validates its key): bytes, and the
     * '/'-separated segments, whose first fault is reported only after the
     * byte, UTF-8 and leading/trailing '/' rules, as each rule is ranked. */
    bool ascii = true;
    size_t start = 0, bad_seg = 0, bad_len = 0;
    bool seg_bad = false;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)key[i] : '/';
        if (c != '/') {
            if (c < 0x20 || c == 0x7f)
                return akv_fail(AKV_EINVAL, "invalid key: control character "
                                "0x%02x at byte %zu", c, i);
            if (c == '\\')
                return akv_fail(AKV_EINVAL,
                                "invalid key: backslash at byte %zu", i);
            ascii &= c < 0x80;
            continue;
        }
        size_t seg = i - start;
        if (!seg_bad &&
            (seg == 0 || (seg == 1 && key[start] == '.') ||
             (seg == 2 && key[start] == '.' && key[start + 1] == '.'))) {
            seg_bad = true;
            bad_seg = start;
            bad_len = seg;
        }
        start = i + 1;
    }
    if (!ascii && !akvx_utf8_valid(key, len))
        return akv_fail(AKV_EINVAL, "invalid key: not valid UTF-8");
    if (key[0] == '/')
        return akv_fail(AKV_EINVAL, "invalid key: leading '/'");
    if (key[len - 1] == '/')
        return akv_fail(AKV_EINVAL, "invalid key: trailing '/'");
    if (seg_bad && bad_len == 0)
        return akv_fail(AKV_EINVAL, "invalid key: empty segment at byte %zu",
                        bad_seg);
    if (seg_bad)
        return akv_fail(AKV_EINVAL, "invalid key: '%.*s' segment at byte %zu",
                        (int)bad_len, key + bad_seg, bad_seg);
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

/*
 * mcp-util.c — small helpers the MCP handlers share: base64 for binary
 * values, a strict UTF-8 check (a value goes out as MCP text only when it
 * is valid UTF-8, otherwise as a base64 blob, so bytes are never altered),
 * and the agentkv:// URI of an entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

char *mcp_base64(const void *data, size_t len)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
    if (out == NULL)
        return NULL;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned long w = (unsigned long)p[i] << 16 |
                          (unsigned long)p[i + 1] << 8 | p[i + 2];
        *o++ = digits[w >> 18 & 63];
        *o++ = digits[w >> 12 & 63];
        *o++ = digits[w >> 6 & 63];
        *o++ = digits[w & 63];
    }
    if (i < len) {
        unsigned long w = (unsigned long)p[i] << 16;
        if (i + 1 < len)
            w |= (unsigned long)p[i + 1] << 8;
        *o++ = digits[w >> 18 & 63];
        *o++ = digits[w >> 12 & 63];
        *o++ = i + 1 < len ? digits[w >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

int mcp_utf8_valid(const void *data, size_t len)
{
    const unsigned char *s = data;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t need;
        unsigned long cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i - 1 < need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        /* Shortest form only, no surrogates, nothing past U+10FFFF. */
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* agentkv://SCOPE/KEY with the key percent-encoded except for unreserved
 * characters and '/', which keeps segments readable. Owned. */
char *mcp_entry_uri(akv_scope scope, const char *key, size_t len)
{
    const char *sname = akv_scope_name(scope);
    char *uri = malloc(strlen("agentkv://") + strlen(sname) + 1 + len * 3 + 1);
    if (uri == NULL)
        return NULL;
    char *o = uri + sprintf(uri, "agentkv://%s/", sname);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)key[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || (ch && strchr("-._~/", ch)))
            *o++ = (char)ch;
        else
            o += sprintf(o, "%%%02X", ch);
    }
    *o = '\0';
    return uri;
}

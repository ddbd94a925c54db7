/*
 * mcp-util.c — the agentkv:// URI of an entry and the skill:// URI of a
 * skill's file, shared by the MCP handlers.
 * (A value goes out as MCP text only when it is valid UTF-8, otherwise as a
 * base64 blob, so bytes are never altered: akvx.h has both helpers; the
 * metadata object comes from the library, akv_meta_to_json_value.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

/* prefix followed by key, percent-encoded except for unreserved characters
 * and '/', which keeps segments readable. Owned. */
char *mcp_key_uri(const char *prefix, const char *key, size_t len)
{
    size_t pl = strlen(prefix);
    char *uri = malloc(pl + len * 3 + 1);
    if (uri == NULL)
        return NULL;
    memcpy(uri, prefix, pl);
    char *o = uri + pl;
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

char *mcp_entry_uri(akv_scope scope, const char *key, size_t len)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "agentkv://%s/", akv_scope_name(scope));
    return mcp_key_uri(prefix, key, len);
}

/*
 * mcp-util.c — the agentkv:// URI of an entry, shared by the MCP handlers.
 * (A value goes out as MCP text only when it is valid UTF-8, otherwise as a
 * base64 blob, so bytes are never altered: akvx.h has both helpers; the
 * metadata object comes from the library, akv_meta_to_json_value.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

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

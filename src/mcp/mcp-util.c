/*
 * mcp-util.c — small helpers the MCP handlers share: the entry metadata
 * as a JSON object and the agentkv:// URI of an entry. (A value goes out as
 * MCP text only when it is valid UTF-8, otherwise as a base64 blob, so
 * bytes are never altered: akvx.h has both helpers.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

json_t *mcp_meta_json(const akv_meta *m)
{
    /* One renderer for the metadata object everywhere (SPEC.md §1): the
     * library's. Parsing its text back costs little next to a store read. */
    char *text = akv_meta_to_json(m);
    if (text == NULL)
        return NULL;
    json_t *v = json_loads(text, JSON_ALLOW_NUL, NULL);
    free(text);
    return v;
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

/*
 * backend.c — picks a backend from its URL. Only this file knows the list
 * of backends; front ends pass the URL through untouched.
 */
#include <string.h>

#include "internal.h"

int akv_backend_open(const char *url, const char *dir,
                     const struct akv_config *cfg, unsigned flags,
                     akv_backend **out)
{
    char shown[AKV_QUOTE_BUF];
    if (url == NULL || *url == '\0' || strcmp(url, "lmdb") == 0)
        return akv_backend_lmdb_open(dir, cfg, flags, out);
    if (strncmp(url, "redis://", 8) == 0)
        return akv_backend_redis_open(url, cfg, flags, out);
    return akv_fail(AKV_EINVAL,
                    "unknown backend '%s' (lmdb, or redis://HOST:PORT/DB)",
                    akv_quote(shown, url, strlen(url)));
}

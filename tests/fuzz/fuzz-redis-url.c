/*
 * fuzz-redis-url.c — libFuzzer harness for akv_redis_url_parse(), the
 * parser of --backend redis://… URLs.
 *
 * The input is "redis://" followed by the fuzz bytes (up to the first NUL).
 * Invariants, each an abort when broken: the verdict is AKV_OK or
 * AKV_EINVAL; a rejection leaves a one-line message that never shows the
 * credentials of the input, and nothing owned behind; an accepted URL
 * has a non-empty host of URL characters, a port in 1..65535, a database
 * of at least 0, a timeout of 1 ms to 1 h, and parsing is repeatable.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "internal.h"

static void broken(const char *what, const char *url)
{
    fprintf(stderr, "fuzz-redis-url: invariant broken: %s; url:", what);
    for (size_t i = 0; url[i] && i < 120; i++)
        fprintf(stderr, " %02x", (unsigned char)url[i]);
    fprintf(stderr, "\n");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *url = malloc(8 + size + 1);
    if (url == NULL)
        return 0;
    memcpy(url, "redis://", 8);
    memcpy(url + 8, data, size);
    url[8 + size] = '\0';

    struct akv_redis_url u;
    int rc = akv_redis_url_parse(url, &u);
    if (rc == AKV_EINVAL) {
        const char *msg = akv_last_error()->message;
        if (msg[0] == '\0' || strchr(msg, '\n'))
            broken("rejection without a one-line message", url);
        if (u.host || u.user || u.password)
            broken("a rejection left owned strings behind", url);
        /* With credentials (text before the last '@' of the authority)
         * the URL in the message must be exactly the scheme, "***@" and
         * the quoted rest: the credentials are never shown, whatever they
         * are. */
        const char *auth = url + 8, *end = auth + strcspn(auth, "/?");
        const char *at = memrchr(auth, '@', (size_t)(end - auth));
        const char *shown = strstr(msg, "redis://");
        if (at) {
            char rest[AKV_QUOTE_BUF];
            akv_quote(rest, at + 1, strlen(at + 1));
            if (shown == NULL || strncmp(shown, "redis://***@", 12) != 0 ||
                strncmp(shown + 12, rest, strlen(rest)) != 0)
                broken("a message shows more of the URL than the part after "
                       "the credentials", url);
        }
    } else if (rc == AKV_OK) {
        if (u.host == NULL || u.host[0] == '\0')
            broken("accepted without a host", url);
        for (const char *c = u.host; *c; c++)
            if (!(*c == '.' || *c == '-' || *c == '_' || *c == ':' ||
                  (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= 'A' && *c <= 'Z')))
                broken("host with a character URLs do not allow", url);
        if (u.port < 1 || u.port > 65535 || u.db < 0)
            broken("port or database out of range", url);
        if (u.timeout_ms < 1 || u.timeout_ms > 3600000)
            broken("timeout out of range", url);
        struct akv_redis_url again;
        if (akv_redis_url_parse(url, &again) != AKV_OK ||
            strcmp(again.host, u.host) != 0 || again.port != u.port ||
            again.db != u.db || again.timeout_ms != u.timeout_ms)
            broken("parsing is not repeatable", url);
        akv_redis_url_free(&again);
        akv_redis_url_free(&u);
    } else {
        broken("verdict other than ok or invalid_argument", url);
    }
    free(url);
    return 0;
}

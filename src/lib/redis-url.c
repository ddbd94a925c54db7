/*
 * redis-url.c — the parser of the Redis backend's URL (docs/cli.md,
 * docs/operations.md):
 *
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...][/DB]
 *           [?timeout=DURATION&wait=N&wait_timeout=DURATION]
 *
 * (several hosts: the seed nodes of a Redis Cluster, redis-cluster.c)
 *
 * Its input comes from flags, the environment and config files, so it is
 * strict: percent-encoding is decoded once (akvx_pct_decode, no %00), the
 * host is [A-Za-z0-9.-_:] or a bracketed IPv6 address, numbers are bounded,
 * and an unknown parameter is an error. A message never shows the
 * password. Separate from backend-redis.c, which only connects with the
 * result; tests/fuzz/fuzz-redis-url.c fuzzes this file alone.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Copies [s, s+n) percent-decoded into a new string; NULL on bad input. */
static char *pct_dup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    size_t len;
    const char *why;
    if (d == NULL)
        return NULL;
    if (akvx_pct_decode(s, n, d, n, &len, &why) != 0) {
        free(d);
        return NULL;
    }
    d[len] = '\0';
    return d;
}

static int parse_uint(const char *s, size_t n, long max, long *out)
{
    long v = 0;
    if (n == 0 || n > 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_url(struct akv_redis_url *u, const char *url);

/* A duration in the syntax of TTLs, or N"ms": 1 ms to 1 h. */
static int parse_duration_ms(const char *s, size_t n, int64_t *out)
{
    long v;
    int64_t secs = 0;
    if (n > 2 && strncmp(s + n - 2, "ms", 2) == 0 &&
        parse_uint(s, n - 2, 3600000, &v) == 0)
        *out = v;
    else if (akv_duration_parse(s, n, &secs) == AKV_OK && secs <= 3600)
        *out = secs * 1000;
    else
        return -1;
    return *out > 0 ? 0 : -1;
}

/* One HOST[:PORT] of the list, [p, end), appended to u->seeds. */
static int parse_host(struct akv_redis_url *u, const char *p, const char *end,
                      const char *shown)
{
    const char *hs = p, *he;
    if (*p == '[') {
        he = memchr(p, ']', (size_t)(end - p));
        if (he == NULL)
            return akv_fail(AKV_EINVAL, "invalid backend URL %s: unclosed [",
                            shown);
        hs = p + 1;
        p = he + 1;
    } else {
        he = p;
        while (he < end && *he != ':')
            he++;
        p = he;
    }
    if (he == hs)
        return akv_fail(AKV_EINVAL, "invalid backend URL %s: no host", shown);
    for (const char *c = hs; c < he; c++)
        if (!isalnum((unsigned char)*c) && !strchr(".-_:", *c))
            return akv_fail(AKV_EINVAL, "invalid backend URL %s: bad host",
                            shown);
    long v = 6379;
    if (p < end && *p == ':') {
        if (parse_uint(p + 1, (size_t)(end - p - 1), 65535, &v) != 0 || v == 0)
            return akv_fail(AKV_EINVAL, "invalid backend URL %s: bad port",
                            shown);
        p = end;
    }
    if (p != end)
        return akv_fail(AKV_EINVAL, "invalid backend URL %s", shown);
    if (u->nseeds >= 64)
        return akv_fail(AKV_EINVAL, "invalid backend URL %s: more than 64 "
                        "hosts", shown);
    struct akv_redis_seed *ns =
        realloc(u->seeds, (u->nseeds + 1) * sizeof *ns);
    if (ns == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    u->seeds = ns;
    if ((ns[u->nseeds].host = strndup(hs, (size_t)(he - hs))) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    ns[u->nseeds].port = (int)v;
    u->nseeds++;
    return AKV_OK;
}

void akv_redis_url_free(struct akv_redis_url *u)
{
    free(u->host);
    free(u->user);
    free(u->password);
    for (size_t i = 0; i < u->nseeds; i++)
        free(u->seeds[i].host);
    free(u->seeds);
    memset(u, 0, sizeof *u);
}

int akv_redis_url_parse(const char *url, struct akv_redis_url *u)
{
    memset(u, 0, sizeof *u);
    if (url == NULL || strncmp(url, "redis://", 8) != 0)
        return akv_fail(AKV_EINVAL, "a Redis URL starts with redis://");
    int rc = parse_url(u, url);
    if (rc != AKV_OK)
        akv_redis_url_free(u);
    return rc;
}

/* redis://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...][/DB]
 * [?timeout=DURATION] */
static int parse_url(struct akv_redis_url *u, const char *url)
{
    char shown[AKV_QUOTE_BUF];
    const char *p = url + strlen("redis://");
    const char *end = p + strcspn(p, "/?");
    /* The credentials end at the last '@' of the authority, as in
     * browsers and curl: a password with an unencoded '@' stays whole,
     * and no part of it is taken for the host (and shown in a message). */
    const char *at = memrchr(p, '@', (size_t)(end - p));
    akv_quote(shown, url, strlen(url));
    /* Never echo a password: show the URL only after the credentials. */
    if (at) {
        char rest[AKV_QUOTE_BUF];
        snprintf(shown, sizeof shown, "redis://***@%s",
                 akv_quote(rest, at + 1, strlen(at + 1)));
    }
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL)
            return akv_fail(AKV_EINVAL, "invalid backend URL %s: credentials "
                            "are [USER]:PASSWORD@", shown);
        if (colon > p && (u->user = pct_dup(p, (size_t)(colon - p))) == NULL)
            return akv_fail(AKV_EINVAL, "invalid backend URL %s: bad user",
                            shown);
        if ((u->password = pct_dup(colon + 1, (size_t)(at - colon - 1))) ==
            NULL)
            return akv_fail(AKV_EINVAL, "invalid backend URL %s: bad "
                            "percent-encoding in the password", shown);
        p = at + 1;
    }
    /* HOST[:PORT], separated by commas: the seeds. */
    while (p < end) {
        const char *item_end = memchr(p, ',', (size_t)(end - p));
        if (item_end == NULL)
            item_end = end;
        int rc = parse_host(u, p, item_end, shown);
        if (rc != AKV_OK)
            return rc;
        p = item_end;
        if (p < end) {
            p++; /* the comma */
            if (p == end)
                return akv_fail(AKV_EINVAL, "invalid backend URL %s: no host "
                                "after ','", shown);
        }
    }
    if (u->nseeds == 0)
        return akv_fail(AKV_EINVAL, "invalid backend URL %s: no host", shown);
    if ((u->host = strdup(u->seeds[0].host)) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    u->port = u->seeds[0].port;
    long v;

    u->db = 0;
    if (*p == '/') {
        size_t n = strcspn(p + 1, "?");
        if (n && parse_uint(p + 1, n, 1 << 20, &v) != 0)
            return akv_fail(AKV_EINVAL, "invalid backend URL %s: the database "
                            "must be a number", shown);
        u->db = n ? (int)v : 0;
        p += 1 + n;
    }
    int64_t timeout_ms = 2000;
    u->wait_timeout_ms = 1000;
    if (*p == '?') {
        p++;
        while (*p) {
            size_t n = strcspn(p, "&");
            if (n > 8 && strncmp(p, "timeout=", 8) == 0) {
                if (parse_duration_ms(p + 8, n - 8, &timeout_ms) != 0)
                    return akv_fail(AKV_EINVAL, "invalid backend URL %s: "
                                    "timeout must be like 500ms or 2s (at "
                                    "most 1h, above 0)", shown);
            } else if (n > 13 && strncmp(p, "wait_timeout=", 13) == 0) {
                if (parse_duration_ms(p + 13, n - 13, &u->wait_timeout_ms) !=
                    0)
                    return akv_fail(AKV_EINVAL, "invalid backend URL %s: "
                                    "wait_timeout must be like 500ms or 2s "
                                    "(at most 1h, above 0)", shown);
            } else if (n > 5 && strncmp(p, "wait=", 5) == 0) {
                if (parse_uint(p + 5, n - 5, 64, &v) != 0)
                    return akv_fail(AKV_EINVAL, "invalid backend URL %s: "
                                    "wait must be a number of replicas, 0 "
                                    "to 64", shown);
                u->wait_replicas = (int)v;
            } else {
                return akv_fail(AKV_EINVAL, "invalid backend URL %s: unknown "
                                "parameter (only timeout=, wait=, "
                                "wait_timeout=)", shown);
            }
            p += n;
            if (*p == '&')
                p++;
        }
    }
    u->timeout_ms = timeout_ms;
    return AKV_OK;
}

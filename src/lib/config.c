/*
 * config.c — the store's settings: SPEC.md §1 defaults, the INI file that
 * overrides them, and one table of every setting from which --help text and
 * docs/config.md are generated. Front ends map flags and environment
 * variables onto akv_config_set(); nothing else parses settings.
 */
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define MiB (1024ULL * 1024)

static const akv_config_item items[] = {
    {"store", "max_value_size", "50MiB", "largest value a write may store"},
    {"store", "map_size", "8GiB",
     "largest size the embedded store's file may grow to (LMDB map size)"},
    {"scope.system", "ttl", "never", "default TTL of system entries"},
    {"scope.system", "quota", "10MiB", "bytes per sandbox namespace"},
    {"scope.system", "refresh_on_read", "false", "sliding expiry on read"},
    {"scope.instructions", "ttl", "never", "default TTL of instructions"},
    {"scope.instructions", "quota", "5MiB", "bytes per sandbox namespace"},
    {"scope.instructions", "refresh_on_read", "false",
     "sliding expiry on read"},
    {"scope.project", "ttl", "72h", "default TTL of project entries"},
    {"scope.project", "quota", "20MiB", "bytes per sandbox"},
    {"scope.project", "refresh_on_read", "false", "sliding expiry on read"},
    {"scope.task", "ttl", "24h", "default TTL of task entries"},
    {"scope.task", "quota", "100MiB", "bytes per sandbox"},
    {"scope.task", "refresh_on_read", "false", "sliding expiry on read"},
    {"scope.artifacts", "ttl", "48h", "default TTL of artifacts"},
    {"scope.artifacts", "quota", "200MiB", "bytes per sandbox"},
    {"scope.artifacts", "refresh_on_read", "false", "sliding expiry on read"},
    {"server", "listen", "127.0.0.1:8420",
     "ADDR:PORT `serve` listens on (port 0 picks a free one); --listen "
     "overrides"},
    {"server", "threads", "auto",
     "event-loop threads of `serve`; auto = one per core (two on Redis), at "
     "most 64; --threads overrides"},
    {"server", "max_connections", "auto",
     "open connections `serve` keeps at most; auto = the descriptor limit "
     "less room for the store, logs and outgoing connections"},
    {"server", "header_timeout", "10s",
     "a connection must send a complete request head within this (0 = the "
     "request timeout only)"},
    {"server", "upload_budget", "256MiB",
     "request-body memory all connections may hold at once, each body "
     "counted twice (itself and the store's copy); raised to 2 x "
     "max_value_size if smaller"},
    {"server", "mcp_sessions", "4096", "MCP sessions over HTTP, all tokens"},
    {"server", "mcp_sessions_per_token", "64",
     "MCP sessions over HTTP one token may hold"},
};

const akv_config_item *akv_config_items(size_t *n)
{
    *n = sizeof items / sizeof items[0];
    return items;
}

void akv_config_defaults(struct akv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        int rc = akv_config_set(cfg, items[i].section, items[i].name,
                                items[i].default_value);
        (void)rc; /* the table's defaults are valid by construction */
    }
}

int akv_config_new(akv_config **out)
{
    akv_config *cfg = malloc(sizeof *cfg);
    if (cfg == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    akv_config_defaults(cfg);
    *out = cfg;
    return AKV_OK;
}

void akv_config_free(akv_config *cfg)
{
    free(cfg);
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") ||
        !strcmp(v, "1")) {
        *out = 1;
        return AKV_OK;
    }
    if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") ||
        !strcmp(v, "0")) {
        *out = 0;
        return AKV_OK;
    }
    return akv_fail(AKV_EINVAL, "invalid boolean '%s' (true or false)", v);
}

/* A count from 1 to max ("auto" maps to 0 where allowed). */
static int parse_count(const char *name, const char *v, uint64_t max,
                       int allow_auto, uint64_t *out)
{
    if (allow_auto && strcmp(v, "auto") == 0) {
        *out = 0;
        return AKV_OK;
    }
    uint64_t n = 0;
    const char *p = v;
    for (; *p >= '0' && *p <= '9' && n <= max; p++)
        n = n * 10 + (uint64_t)(*p - '0');
    if (p == v || *p != '\0' || n < 1 || n > max)
        return akv_fail(AKV_EINVAL, "%s must be %sa number from 1 to %llu",
                        name, allow_auto ? "auto or " : "",
                        (unsigned long long)max);
    *out = n;
    return AKV_OK;
}

/* [server]: limits of `agentkv serve` (src/server). */
static int set_server(akv_config *cfg, const char *name, const char *value)
{
    char s1[AKV_QUOTE_BUF];
    size_t vlen = strlen(value);
    int rc;
    if (strcmp(name, "listen") == 0) {
        /* Only the shape is checked here; the server resolves the address
         * and reports what it cannot bind. */
        const char *colon = strrchr(value, ':');
        if (vlen == 0 || vlen >= sizeof cfg->listen || colon == NULL ||
            colon == value || colon[1] == '\0' ||
            strspn(colon + 1, "0123456789") != strlen(colon + 1))
            return akv_fail(AKV_EINVAL,
                            "listen must be ADDR:PORT, got '%s'",
                            akv_quote(s1, value, vlen));
        memcpy(cfg->listen, value, vlen + 1);
        return AKV_OK;
    }
    if (strcmp(name, "threads") == 0)
        return parse_count(name, value, 256, 1, &cfg->threads);
    if (strcmp(name, "max_connections") == 0)
        return parse_count(name, value, 1000000, 1, &cfg->max_connections);
    if (strcmp(name, "mcp_sessions") == 0)
        return parse_count(name, value, 1000000, 0, &cfg->mcp_sessions);
    if (strcmp(name, "mcp_sessions_per_token") == 0)
        return parse_count(name, value, 1000000, 0,
                           &cfg->mcp_sessions_per_token);
    if (strcmp(name, "header_timeout") == 0) {
        int64_t v;
        if ((rc = akv_duration_parse(value, vlen, &v)) == AKV_OK)
            cfg->header_timeout = v;
        return rc;
    }
    if (strcmp(name, "upload_budget") == 0) {
        uint64_t v;
        rc = akv_size_parse(value, vlen, &v);
        if (rc == AKV_OK && v < MiB)
            rc = akv_fail(AKV_EINVAL, "upload_budget must be at least 1MiB");
        if (rc == AKV_OK)
            cfg->upload_budget = v;
        return rc;
    }
    return akv_fail(AKV_EINVAL, "config: unknown setting '%s' in [server]",
                    akv_quote(s1, name, strlen(name)));
}

int akv_config_set(akv_config *cfg, const char *section, const char *name,
                   const char *value)
{
    char s1[AKV_QUOTE_BUF], s2[AKV_QUOTE_BUF];
    if (!section || !name || !value)
        return akv_fail(AKV_EINVAL, "config: missing section, name or value");
    size_t vlen = strlen(value);
    if (strcmp(section, "store") == 0) {
        if (strcmp(name, "max_value_size") == 0) {
            uint64_t v;
            int rc = akv_size_parse(value, vlen, &v);
            if (rc == AKV_OK && (v == 0 || v > 1024 * MiB))
                rc = akv_fail(AKV_EINVAL,
                              "max_value_size must be 1 byte to 1GiB");
            if (rc == AKV_OK)
                cfg->max_value_size = v;
            return rc;
        }
        if (strcmp(name, "map_size") == 0) {
            uint64_t v;
            int rc = akv_size_parse(value, vlen, &v);
            if (rc == AKV_OK && v < 16 * MiB)
                rc = akv_fail(AKV_EINVAL, "map_size must be at least 16MiB");
            if (rc == AKV_OK)
                cfg->map_size = v;
            return rc;
        }
    } else if (strcmp(section, "server") == 0) {
        return set_server(cfg, name, value);
    } else if (strncmp(section, "scope.", 6) == 0) {
        akv_scope sc;
        if (akv_scope_parse(section + 6, strlen(section + 6), &sc) != AKV_OK)
            return akv_fail(AKV_EINVAL, "config: unknown section [%s]",
                            akv_quote(s1, section, strlen(section)));
        if (strcmp(name, "ttl") == 0) {
            int64_t v;
            int rc = akv_duration_parse(value, vlen, &v);
            if (rc == AKV_OK)
                cfg->ttl[sc] = v;
            return rc;
        }
        if (strcmp(name, "quota") == 0) {
            uint64_t v;
            int rc = akv_size_parse(value, vlen, &v);
            if (rc == AKV_OK)
                cfg->quota[sc] = v;
            return rc;
        }
        if (strcmp(name, "refresh_on_read") == 0)
            return parse_bool(value, &cfg->refresh[sc]);
    } else {
        return akv_fail(AKV_EINVAL, "config: unknown section [%s]",
                        akv_quote(s1, section, strlen(section)));
    }
    return akv_fail(AKV_EINVAL, "config: unknown setting '%s' in [%s]",
                    akv_quote(s2, name, strlen(name)),
                    akv_quote(s1, section, strlen(section)));
}

struct load_ctx {
    akv_config *cfg;
    int rc;
    char message[512];
};

static int config_ini_accept(void *user, const char *section,
                             const char *name, const char *value)
{
    (void)user;
    (void)section;
    (void)name;
    (void)value;
    return 1;
}

/* inih calls this per entry; returning 0 makes ini_parse_file() report the
 * entry's line number as the first error. */
static int config_ini_entry(void *user, const char *section,
                            const char *name, const char *value)
{
    struct load_ctx *lc = user;
    if (lc->rc != AKV_OK)
        return 0;
    int rc = akv_config_set(lc->cfg, section, name, value);
    if (rc != AKV_OK) {
        lc->rc = rc;
        snprintf(lc->message, sizeof lc->message, "%s",
                 akv_last_error()->message);
        return 0;
    }
    return 1;
}

int akv_config_load(akv_config *cfg, const char *path)
{
    struct akv_config copy = *cfg;
    struct load_ctx lc = {&copy, AKV_OK, ""};
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return akv_fail(AKV_EUNAVAILABLE, "cannot read config file %s: %m",
                        path);
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return akv_fail(AKV_EUNAVAILABLE,
                        "cannot read config file %s: not a regular file",
                        path);
    }
    /* inih reports the line of the first entry a handler refused, but
     * goes on after syntax errors; a first pass that accepts every entry
     * finds the first syntax error, so that the message names the first
     * problem in the file, whichever kind it is. */
    int r = ini_parse_file(f, config_ini_accept, NULL);
    if (r == 0) {
        rewind(f);
        r = ini_parse_file(f, config_ini_entry, &lc);
    }
    fclose(f);
    if (r < 0)
        return akv_fail(AKV_EUNAVAILABLE, "cannot read config file %s",
                        path);
    if (lc.rc != AKV_OK)
        return akv_fail(lc.rc, "%s:%d: %s", path, r, lc.message);
    if (r != 0)
        return akv_fail(AKV_EINVAL, "%s:%d: syntax error (expected "
                        "[section] or name = value)", path, r);
    *cfg = copy;
    return AKV_OK;
}

int64_t akv_config_scope_ttl(const akv_config *cfg, akv_scope scope)
{
    return cfg->ttl[scope];
}
uint64_t akv_config_scope_quota(const akv_config *cfg, akv_scope scope)
{
    return cfg->quota[scope];
}
int akv_config_scope_refresh(const akv_config *cfg, akv_scope scope)
{
    return cfg->refresh[scope];
}
uint64_t akv_config_max_value_size(const akv_config *cfg)
{
    return cfg->max_value_size;
}
uint64_t akv_config_map_size(const akv_config *cfg)
{
    return cfg->map_size;
}
uint64_t akv_config_max_connections(const akv_config *cfg)
{
    return cfg->max_connections;
}
int64_t akv_config_header_timeout(const akv_config *cfg)
{
    return cfg->header_timeout;
}
uint64_t akv_config_upload_budget(const akv_config *cfg)
{
    return cfg->upload_budget;
}
uint64_t akv_config_mcp_sessions(const akv_config *cfg)
{
    return cfg->mcp_sessions;
}
uint64_t akv_config_mcp_sessions_per_token(const akv_config *cfg)
{
    return cfg->mcp_sessions_per_token;
}
const char *akv_config_listen(const akv_config *cfg)
{
    return cfg->listen;
}
uint64_t akv_config_threads(const akv_config *cfg)
{
    return cfg->threads;
}

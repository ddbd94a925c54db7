/*
 * config.c — the store's settings: SPEC.md §1 defaults, the INI file that
 * overrides them, and one table of every setting from which --help text and
 * docs/config.md are generated. Front ends map flags and environment
 * variables onto akv_config_set(); nothing else parses settings.
 */
#include <ini.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define MiB (1024ULL * 1024)

/* How a setting's text is read into its field. */
enum kind {
    SIZE,     /* akv_size_parse() into a uint64_t */
    DURATION, /* akv_duration_parse() into an int64_t (seconds) */
    BOOL,     /* true/false, yes/no, on/off, 1/0 into an int; "auto" = -1 */
    COUNT,    /* a number from min to max into a uint64_t; "auto" = 0 */
    ADDRESS,  /* ADDR:PORT into a char[AKV_CONFIG_ADDRESS_MAX] */
};

/*
 * One row per setting: its INI section and name, default and meaning (the
 * public akv_config_item, from which docs/config.md is checked), how its
 * value is parsed, the bounds it must keep, and the field of struct
 * akv_config it lands in. akv_config_set(), akv_config_defaults() and
 * akv_config_items() all walk this table; nothing else lists a setting.
 * Bounds: a SIZE or COUNT outside [min, max] (max 0 = unbounded) is
 * refused with bounds_msg, or for a COUNT with "NAME must be a number from
 * 1 to MAX".
 */
struct setting {
    akv_config_item doc;
    enum kind kind;
    size_t field; /* offsetof(struct akv_config, ...) */
    uint64_t min, max;
    int allow_auto;         /* COUNT, BOOL: "auto" (0, -1) is allowed */
    const char *bounds_msg; /* SIZE: the message when out of bounds */
};

#define FIELD(f) offsetof(struct akv_config, f)

static const struct setting settings[] = {
    {.doc = {"store", "max_value_size", "50MiB",
             "largest value a write may store"},
     .kind = SIZE, .field = FIELD(max_value_size), .min = 1,
     .max = 1024 * MiB,
     .bounds_msg = "max_value_size must be 1 byte to 1GiB"},
    {.doc = {"store", "map_size", "8GiB",
             "largest size the embedded store's file may grow to (LMDB map "
             "size)"},
     .kind = SIZE, .field = FIELD(map_size), .min = 16 * MiB,
     .bounds_msg = "map_size must be at least 16MiB"},
    {.doc = {"store", "write_log", "auto",
             "`serve` on the embedded store: acknowledge writes once they "
             "are synced to a log (DIR/data.log, DIR/data2.log) and apply "
             "them to data.mdb in large commits (faster durable writes), "
             "while no other process has the store open; auto: on for "
             "`serve`, off for the other commands (docs/operations.md)"},
     .kind = BOOL, .field = FIELD(write_log), .allow_auto = 1},
    {.doc = {"store", "write_log_size", "8MiB",
             "size at which the write log moves on to its other file "
             "(DIR/data.log, DIR/data2.log), once data.mdb holds all of that "
             "one, and starts it over: the log takes about twice this on "
             "disk under steady writes (docs/operations.md)"},
     .kind = SIZE, .field = FIELD(write_log_size), .min = 4096,
     .max = 1024 * MiB,
     .bounds_msg = "write_log_size must be 4KiB to 1GiB"},
    {.doc = {"scope.system", "ttl", "never", "default TTL of system entries"},
     .kind = DURATION, .field = FIELD(ttl[AKV_SCOPE_SYSTEM])},
    {.doc = {"scope.system", "quota", "10MiB", "bytes per sandbox namespace"},
     .kind = SIZE, .field = FIELD(quota[AKV_SCOPE_SYSTEM])},
    {.doc = {"scope.system", "refresh_on_read", "false",
             "sliding expiry on read"},
     .kind = BOOL, .field = FIELD(refresh[AKV_SCOPE_SYSTEM])},
    {.doc = {"scope.instructions", "ttl", "never",
             "default TTL of instructions"},
     .kind = DURATION, .field = FIELD(ttl[AKV_SCOPE_INSTRUCTIONS])},
    {.doc = {"scope.instructions", "quota", "5MiB",
             "bytes per sandbox namespace"},
     .kind = SIZE, .field = FIELD(quota[AKV_SCOPE_INSTRUCTIONS])},
    {.doc = {"scope.instructions", "refresh_on_read", "false",
             "sliding expiry on read"},
     .kind = BOOL, .field = FIELD(refresh[AKV_SCOPE_INSTRUCTIONS])},
    {.doc = {"scope.project", "ttl", "72h", "default TTL of project entries"},
     .kind = DURATION, .field = FIELD(ttl[AKV_SCOPE_PROJECT])},
    {.doc = {"scope.project", "quota", "20MiB", "bytes per sandbox"},
     .kind = SIZE, .field = FIELD(quota[AKV_SCOPE_PROJECT])},
    {.doc = {"scope.project", "refresh_on_read", "false",
             "sliding expiry on read"},
     .kind = BOOL, .field = FIELD(refresh[AKV_SCOPE_PROJECT])},
    {.doc = {"scope.task", "ttl", "24h", "default TTL of task entries"},
     .kind = DURATION, .field = FIELD(ttl[AKV_SCOPE_TASK])},
    {.doc = {"scope.task", "quota", "100MiB", "bytes per sandbox"},
     .kind = SIZE, .field = FIELD(quota[AKV_SCOPE_TASK])},
    {.doc = {"scope.task", "refresh_on_read", "false",
             "sliding expiry on read"},
     .kind = BOOL, .field = FIELD(refresh[AKV_SCOPE_TASK])},
    {.doc = {"scope.artifacts", "ttl", "48h", "default TTL of artifacts"},
     .kind = DURATION, .field = FIELD(ttl[AKV_SCOPE_ARTIFACTS])},
    {.doc = {"scope.artifacts", "quota", "200MiB", "bytes per sandbox"},
     .kind = SIZE, .field = FIELD(quota[AKV_SCOPE_ARTIFACTS])},
    {.doc = {"scope.artifacts", "refresh_on_read", "false",
             "sliding expiry on read"},
     .kind = BOOL, .field = FIELD(refresh[AKV_SCOPE_ARTIFACTS])},
    {.doc = {"server", "listen", "127.0.0.1:8420",
             "ADDR:PORT `serve` listens on (port 0 picks a free one); "
             "--listen overrides"},
     .kind = ADDRESS, .field = FIELD(listen)},
    {.doc = {"server", "threads", "auto",
             "event-loop threads of `serve`; auto = one per core (on "
             "Redis one per two cores), at most 64; --threads overrides"},
     .kind = COUNT, .field = FIELD(threads), .min = 1, .max = 256,
     .allow_auto = 1},
    {.doc = {"server", "max_connections", "auto",
             "open connections `serve` keeps at most; auto = the descriptor "
             "limit less room for the store, logs and outgoing connections"},
     .kind = COUNT, .field = FIELD(max_connections), .min = 1,
     .max = 1000000, .allow_auto = 1},
    {.doc = {"server", "header_timeout", "10s",
             "a connection must send a complete request head within this (0 "
             "= the request timeout only)"},
     .kind = DURATION, .field = FIELD(header_timeout)},
    {.doc = {"server", "upload_budget", "256MiB",
             "request-body memory all connections may hold at once, each "
             "body counted twice (itself and the store's copy); raised if "
             "smaller to 2 x the largest body a route admits (a memory "
             "command: 2 x max_value_size + 64KiB)"},
     .kind = SIZE, .field = FIELD(upload_budget), .min = MiB,
     .bounds_msg = "upload_budget must be at least 1MiB"},
    {.doc = {"server", "mcp_sessions", "4096",
             "MCP sessions over HTTP, all tokens"},
     .kind = COUNT, .field = FIELD(mcp_sessions), .min = 1, .max = 1000000},
    {.doc = {"server", "mcp_sessions_per_token", "64",
             "MCP sessions over HTTP one token may hold"},
     .kind = COUNT, .field = FIELD(mcp_sessions_per_token), .min = 1,
     .max = 1000000},
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

/* The public rows, copied once from settings[] (akv_config_item is the
 * public part of a row; the table's other columns stay internal). */
static akv_config_item items[NSETTINGS];
static pthread_once_t items_once = PTHREAD_ONCE_INIT;

static void items_fill(void)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        items[i] = settings[i].doc;
}

const akv_config_item *akv_config_items(size_t *n)
{
    pthread_once(&items_once, items_fill);
    *n = NSETTINGS;
    return items;
}

void akv_config_defaults(struct akv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NSETTINGS; i++) {
        int rc = akv_config_set(cfg, settings[i].doc.section,
                                settings[i].doc.name,
                                settings[i].doc.default_value);
        (void)rc; /* the table's defaults are valid by construction */
    }
    cfg->handover_ms = 10000;
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

/* Parses value as row st says and stores it in cfg; cfg is unchanged on
 * error. */
static int setting_apply(const struct setting *st, akv_config *cfg,
                         const char *value)
{
    void *field = (char *)cfg + st->field;
    size_t vlen = strlen(value);
    int rc;
    switch (st->kind) {
    case SIZE: {
        uint64_t v = 0;
        rc = akv_size_parse(value, vlen, &v);
        if (rc == AKV_OK && (v < st->min || (st->max && v > st->max)))
            rc = akv_fail(AKV_EINVAL, "%s", st->bounds_msg);
        if (rc == AKV_OK)
            memcpy(field, &v, sizeof v);
        return rc;
    }
    case DURATION: {
        int64_t v = 0;
        rc = akv_duration_parse(value, vlen, &v);
        if (rc == AKV_OK)
            memcpy(field, &v, sizeof v);
        return rc;
    }
    case BOOL: {
        int v = -1;
        rc = st->allow_auto && strcmp(value, "auto") == 0
                 ? AKV_OK
                 : parse_bool(value, &v);
        if (rc == AKV_OK)
            memcpy(field, &v, sizeof v);
        return rc;
    }
    case COUNT: {
        uint64_t v = 0;
        rc = parse_count(st->doc.name, value, st->max, st->allow_auto, &v);
        if (rc == AKV_OK)
            memcpy(field, &v, sizeof v);
        return rc;
    }
    case ADDRESS: {
        /* Only the shape is checked here; the server resolves the address
         * and reports what it cannot bind. */
        char q[AKV_QUOTE_BUF];
        const char *colon = strrchr(value, ':');
        if (vlen == 0 || vlen >= AKV_CONFIG_ADDRESS_MAX || colon == NULL ||
            colon == value || colon[1] == '\0' ||
            strspn(colon + 1, "0123456789") != strlen(colon + 1))
            return akv_fail(AKV_EINVAL, "%s must be ADDR:PORT, got '%s'",
                            st->doc.name, akv_quote(q, value, vlen));
        memcpy(field, value, vlen + 1);
        return AKV_OK;
    }
    }
    return akv_fail(AKV_EINVAL, "config: bad table row");
}

int akv_config_set(akv_config *cfg, const char *section, const char *name,
                   const char *value)
{
    char s1[AKV_QUOTE_BUF], s2[AKV_QUOTE_BUF];
    if (!section || !name || !value)
        return akv_fail(AKV_EINVAL, "config: missing section, name or value");
    int known_section = 0;
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (strcmp(settings[i].doc.section, section) != 0)
            continue;
        known_section = 1;
        if (strcmp(settings[i].doc.name, name) == 0)
            return setting_apply(&settings[i], cfg, value);
    }
    if (!known_section)
        return akv_fail(AKV_EINVAL, "config: unknown section [%s]",
                        akv_quote(s1, section, strlen(section)));
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

int akv_config_write_log(const akv_config *cfg)
{
    return cfg->write_log;
}

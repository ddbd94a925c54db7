/*
 * maint.c — whole-namespace operations: stats, prune, clear, check and
 * backup. Each is one backend scan or one backend transaction. The JSON
 * of stats and prune is rendered here too, for every front end.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "record.h"

struct stats_ctx {
    akv_scope_stats *row;
    int64_t now;
};

/* Bytes are stored bytes (akv_rec_usage), the figure the quota counts. A
 * damaged record has no expiry to read: it counts as an entry, as it does
 * against the quota. */
static int stats_one(void *ctx, const akv_ns *ns, const char *key,
                     size_t key_len, const akv_rec *rec)
{
    (void)ns;
    (void)key;
    struct stats_ctx *c = ctx;
    uint64_t bytes = akv_rec_usage(key_len, rec->stored_len);
    if (akv_rec_expired(rec, c->now)) {
        c->row->expired++;
        c->row->expired_bytes += bytes;
    } else {
        c->row->entries++;
        c->row->bytes += bytes;
    }
    return 0;
}

static int check_sandbox(const char *sandbox)
{
    if (sandbox == NULL)
        return akv_fail(AKV_EINVAL, "invalid sandbox: empty");
    return akv_sandbox_check(sandbox, strlen(sandbox));
}

static int check_scope_arg(int scope)
{
    if (scope != AKV_SCOPE_ALL && (scope < 0 || scope >= AKV_SCOPE_COUNT))
        return akv_fail(AKV_EINVAL, "invalid scope %d", scope);
    return AKV_OK;
}

int akv_stats(akv_store *s, const char *sandbox, int scope,
              akv_scope_stats out[AKV_SCOPE_COUNT], size_t *n)
{
    int rc;
    akv_error_clear();
    if ((rc = check_sandbox(sandbox)) != AKV_OK ||
        (rc = check_scope_arg(scope)) != AKV_OK)
        return rc;
    uint64_t hits[AKV_SCOPE_COUNT], misses[AKV_SCOPE_COUNT];
    s->be->ops->counters(s->be, hits, misses);
    int first = scope == AKV_SCOPE_ALL ? 0 : scope;
    int last = scope == AKV_SCOPE_ALL ? AKV_SCOPE_COUNT - 1 : scope;
    size_t rows = 0;
    for (int sc = first; sc <= last; sc++) {
        akv_scope_stats *row = &out[rows++];
        memset(row, 0, sizeof *row);
        row->scope = (akv_scope)sc;
        row->quota = s->cfg.quota[sc];
        row->default_ttl = s->cfg.ttl[sc];
        row->hits = hits[sc];
        row->misses = misses[sc];
        struct stats_ctx c = {row, akv_store_now(s)};
        akv_ns ns = {sandbox, strlen(sandbox), sc};
        rc = s->be->ops->scan(s->be, &ns, NULL, 0, NULL, 0, stats_one, &c);
        if (rc != AKV_OK)
            return rc;
    }
    *n = rows;
    return AKV_OK;
}

int akv_store_usage(akv_store *s, uint64_t entries[AKV_SCOPE_COUNT],
                    uint64_t bytes[AKV_SCOPE_COUNT])
{
    akv_error_clear();
    if (entries == NULL || bytes == NULL)
        return akv_fail(AKV_EINVAL, "no output arrays given");
    memset(entries, 0, AKV_SCOPE_COUNT * sizeof *entries);
    memset(bytes, 0, AKV_SCOPE_COUNT * sizeof *bytes);
    return s->be->ops->usage(s->be, entries, bytes);
}

struct sandbox_set {
    char **v;
    size_t n, cap;
};

static int sandbox_add(void *ctx, const akv_ns *ns)
{
    struct sandbox_set *set = ctx;
    /* Namespaces come in (scope, sandbox) order: the same sandbox repeats
     * once per scope, removed after sorting. */
    if (set->n + 1 >= set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        char **v = realloc(set->v, cap * sizeof *v);
        if (v == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory listing sandboxes");
        set->v = v;
        set->cap = cap;
    }
    char *sb = strndup(ns->sandbox, ns->sandbox_len);
    if (sb == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory listing sandboxes");
    set->v[set->n++] = sb;
    set->v[set->n] = NULL;
    return 0;
}

static int sandbox_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void akv_sandboxes_free(char **list)
{
    if (list == NULL)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

int akv_sandboxes(akv_store *s, char ***out, size_t *n)
{
    akv_error_clear();
    if (out == NULL || n == NULL)
        return akv_fail(AKV_EINVAL, "no output given");
    *out = NULL;
    *n = 0;
    struct sandbox_set set = {calloc(1, sizeof(char *)), 0, 1};
    if (set.v == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory listing sandboxes");
    int rc = s->be->ops->namespaces
                 ? s->be->ops->namespaces(s->be, sandbox_add, &set)
                 : AKV_OK;
    if (rc != AKV_OK) {
        akv_sandboxes_free(set.v);
        return rc;
    }
    qsort(set.v, set.n, sizeof *set.v, sandbox_cmp);
    size_t k = 0;
    for (size_t i = 0; i < set.n; i++) {
        if (k && strcmp(set.v[k - 1], set.v[i]) == 0)
            free(set.v[i]);
        else
            set.v[k++] = set.v[i];
    }
    set.v[k] = NULL;
    *out = set.v;
    *n = k;
    return AKV_OK;
}

int akv_store_health(akv_store *s, akv_health *out)
{
    akv_error_clear();
    if (out == NULL)
        return akv_fail(AKV_EINVAL, "no output given");
    memset(out, 0, sizeof *out);
    out->writable = 1;
    if (s->be->ops->health)
        s->be->ops->health(s->be, out);
    return AKV_OK;
}

int akv_store_generation(akv_store *s, uint64_t *out)
{
    if (s == NULL || out == NULL)
        return akv_fail(AKV_EINVAL, "no store or output given");
    if (s->be->ops->generation == NULL)
        return akv_fail(AKV_EUNAVAILABLE,
                        "the %s backend keeps no change generation",
                        s->be->ops->name);
    *out = s->be->ops->generation(s->be);
    return AKV_OK;
}

int akv_prune(akv_store *s, const char *sandbox, int scope,
              uint64_t pruned[AKV_SCOPE_COUNT])
{
    int rc;
    akv_error_clear();
    if ((sandbox && (rc = check_sandbox(sandbox)) != AKV_OK) ||
        (rc = check_scope_arg(scope)) != AKV_OK)
        return rc;
    uint64_t counts[AKV_SCOPE_COUNT] = {0};
    akv_ns ns = {sandbox, sandbox ? strlen(sandbox) : 0, scope};
    rc = s->be->ops->remove(s->be, &ns, true, akv_store_now(s), counts, NULL);
    if (rc == AKV_OK && pruned)
        memcpy(pruned, counts, sizeof counts);
    return rc;
}

/* ---- renderers ---------------------------------------------------------
 * One place for the JSON of stats and prune, so that the CLI, the HTTP
 * server and the MCP server print the same figures the same way. */

double akv_stats_used_percent(const akv_scope_stats *s)
{
    if (s->quota == 0)
        return 0.0;
    double pct = 100.0 * (double)s->bytes / (double)s->quota;
    /* Rounded to 3 decimals without libm; pct is never negative. */
    return (double)(uint64_t)(pct * 1000.0 + 0.5) / 1000.0;
}

json_t *akv_stats_to_json_value(const akv_scope_stats *rows, size_t n)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < n; i++) {
        const akv_scope_stats *r = &rows[i];
        json_t *row = json_pack(
            "{s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:I}", "entries",
            (json_int_t)r->entries, "bytes", (json_int_t)r->bytes, "quota",
            (json_int_t)r->quota, "used_percent", akv_stats_used_percent(r),
            "expired", (json_int_t)r->expired, "expired_bytes",
            (json_int_t)r->expired_bytes, "hits", (json_int_t)r->hits,
            "misses", (json_int_t)r->misses, "default_ttl",
            (json_int_t)r->default_ttl);
        if (row == NULL ||
            json_object_set_new(obj, akv_scope_name(r->scope), row) != 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

json_t *akv_prune_to_json_value(const uint64_t pruned[AKV_SCOPE_COUNT],
                                int scope)
{
    if (scope != AKV_SCOPE_ALL && (scope < 0 || scope >= AKV_SCOPE_COUNT))
        return NULL;
    int first = scope == AKV_SCOPE_ALL ? 0 : scope;
    int last = scope == AKV_SCOPE_ALL ? AKV_SCOPE_COUNT - 1 : scope;
    json_t *counts = json_object();
    for (int s = first; counts && s <= last; s++)
        if (json_object_set_new(counts, akv_scope_name((akv_scope)s),
                                json_integer((json_int_t)pruned[s])) != 0) {
            json_decref(counts);
            counts = NULL;
        }
    return counts ? json_pack("{s:o}", "pruned", counts) : NULL;
}

/* The text of a value made above, reals as AKV_JSON_REAL_DIGITS says. */
static char *dump(json_t *v)
{
    char *text = v ? akv_json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                           JSON_REAL_PRECISION(
                                               AKV_JSON_REAL_DIGITS))
                   : NULL;
    json_decref(v);
    return text;
}

char *akv_stats_to_json(const akv_scope_stats *rows, size_t n)
{
    return dump(akv_stats_to_json_value(rows, n));
}

char *akv_prune_to_json(const uint64_t pruned[AKV_SCOPE_COUNT], int scope)
{
    return dump(akv_prune_to_json_value(pruned, scope));
}

int akv_clear(akv_store *s, const char *sandbox, akv_scope scope,
              uint64_t *deleted)
{
    int rc;
    akv_error_clear();
    if ((rc = check_sandbox(sandbox)) != AKV_OK)
        return rc;
    if (scope < 0 || scope >= AKV_SCOPE_COUNT)
        return akv_fail(AKV_EINVAL, "invalid scope %d", (int)scope);
    uint64_t live = 0;
    akv_ns ns = {sandbox, strlen(sandbox), scope};
    rc = s->be->ops->remove(s->be, &ns, false, akv_store_now(s), NULL, &live);
    if (rc == AKV_OK && deleted)
        *deleted = live;
    return rc;
}

struct check_ctx {
    akv_check_fn bad;
    akv_progress_fn progress;
    void *ctx;
    uint64_t checked, failed;
};

static int check_one(void *ctx, const akv_ns *ns, const char *key,
                     size_t key_len, const akv_rec *rec)
{
    struct check_ctx *c = ctx;
    c->checked++;
    /* A damaged record (header, content type or metadata: it did not
     * decode) fails here too: its placeholder's digest never matches. */
    if (rec->damaged || !akv_rec_verify(rec)) {
        c->failed++;
        char sb[AKV_SANDBOX_MAX + 1];
        memcpy(sb, ns->sandbox, ns->sandbox_len);
        sb[ns->sandbox_len] = '\0';
        akv_log("error", "integrity error: %s/%s/%.*s %s", sb,
                akv_scope_name(ns->scope), (int)key_len, key,
                rec->damaged ? "has a damaged record (header or metadata)"
                             : "fails its SHA-256");
        if (c->bad) {
            akv_meta m;
            akv_meta_fill(&m, sb, sb, ns->scope, key, key_len, rec);
            c->bad(c->ctx, &m);
        }
    }
    if (c->progress && (c->checked & 255) == 0)
        c->progress(c->ctx, c->checked, 0);
    return 0;
}

int akv_check(akv_store *s, akv_check_fn bad, akv_progress_fn progress,
              void *ctx, uint64_t *checked, uint64_t *failed)
{
    akv_error_clear();
    struct check_ctx c = {bad, progress, ctx, 0, 0};
    akv_ns all = {NULL, 0, AKV_SCOPE_ALL};
    int rc = s->be->ops->scan(s->be, &all, NULL, 0, NULL, 0, check_one, &c);
    if (progress)
        progress(ctx, c.checked, c.checked);
    if (checked)
        *checked = c.checked;
    if (failed)
        *failed = c.failed;
    if (rc != AKV_OK)
        return rc;
    if (c.failed)
        return akv_fail(AKV_EINTEGRITY,
                        "%llu of %llu entries are damaged or fail their "
                        "SHA-256",
                        (unsigned long long)c.failed,
                        (unsigned long long)c.checked);
    return AKV_OK;
}

int akv_backup(akv_store *s, const char *path, akv_progress_fn progress,
               void *ctx)
{
    akv_error_clear();
    if (path == NULL || *path == '\0')
        return akv_fail(AKV_EINVAL, "no backup path given");
    if (s->be->ops->backup == NULL)
        return akv_fail(AKV_EINVAL,
                        "backup is for the embedded store; use export");
    return s->be->ops->backup(s->be, path, progress, ctx);
}

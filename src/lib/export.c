/*
 * export.c — JSON Lines export and import, the lossless way to move data
 * between stores and backends.
 *
 * Format: one JSON object per line, the entry metadata of SPEC.md §1 plus
 * "value", the value bytes in standard base64 with padding:
 *
 *   {"sandbox":"sb1","scope":"task","key":"k","origin":"sb1","size":2,
 *    "content_type":"text/plain","sha256":"…","version":3,
 *    "created_at":"…","updated_at":"…","expires_at":null,
 *    "metadata":{},"value":"aGk="}
 *
 * Import restores version, timestamps, content type and metadata exactly, so
 * export → import → export is byte-identical. It validates every line before
 * it writes anything, then writes the entries one namespace at a time, each
 * namespace in one transaction (write_by_namespace).
 *
 * A damaged entry (its value fails its SHA-256, or its record does not
 * decode) is never exported: it is skipped with a warning naming it, the
 * rest of the export goes on, and the export then fails with
 * integrity_error saying how many were skipped, so that a backup script
 * notices while still getting every sound entry (docs/decisions.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "akvx.h"
#include "internal.h"
#include "record.h"

/* ---- export ------------------------------------------------------------ */

struct export_ctx {
    FILE *out;
    int64_t now;
    akv_progress_fn progress;
    void *pctx;
    uint64_t count;
    uint64_t damaged;    /* skipped */
    char first_bad[AKV_SANDBOX_MAX + AKV_KEY_MAX + 24]; /* for the message */
    int rc;
};

static int export_one(void *ctx, const akv_ns *ns, const char *key,
                      size_t key_len, const akv_rec *rec)
{
    struct export_ctx *c = ctx;
    if (!rec->damaged && akv_rec_expired(rec, c->now))
        return 0;
    char sb[AKV_SANDBOX_MAX + 1];
    memcpy(sb, ns->sandbox, ns->sandbox_len);
    sb[ns->sandbox_len] = '\0';
    if (rec->damaged || !akv_rec_verify(rec)) {
        if (c->damaged++ == 0)
            snprintf(c->first_bad, sizeof c->first_bad, "%s/%s/%.*s", sb,
                     akv_scope_name(ns->scope), (int)key_len, key);
        akv_log("warning", "integrity error: %s/%s/%.*s %s; not exported",
                sb, akv_scope_name(ns->scope), (int)key_len, key,
                rec->damaged ? "has a damaged record" : "fails its SHA-256");
        return 0;
    }
    akv_meta m;
    akv_meta_fill(&m, sb, sb, ns->scope, key, key_len, rec);
    json_t *o = akv_meta_json(&m);
    size_t blen;
    char *b64 = akvx_base64_encode(rec->value, rec->value_len, &blen);
    if (o == NULL || b64 == NULL ||
        json_object_set_new(o, "value", json_stringn_nocheck(b64, blen)) != 0) {
        json_decref(o);
        free(b64);
        c->rc = akv_fail(AKV_ENOMEM, "out of memory");
        return 1;
    }
    free(b64);
    akv_json_guard_begin();
    int w = json_dumpf(o, c->out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    bool oom = akv_json_guard_end();
    json_decref(o);
    if (oom || w != 0 || fputc('\n', c->out) == EOF) {
        /* json_dumpf fails alike, or not at all, when it cannot allocate. */
        c->rc = oom || errno == ENOMEM
                    ? akv_fail(AKV_ENOMEM, "export: out of memory")
                    : akv_fail(AKV_EUNAVAILABLE, "export: write failed: %m");
        return 1;
    }
    c->count++;
    if (c->progress && (c->count & 63) == 0)
        c->progress(c->pctx, c->count, 0);
    return 0;
}

int akv_export(akv_store *s, const char *sandbox, int scope, FILE *out,
               akv_progress_fn progress, void *ctx, uint64_t *count)
{
    akv_error_clear();
    if (sandbox && akv_sandbox_check(sandbox, strlen(sandbox)) != AKV_OK)
        return AKV_EINVAL;
    if (scope != AKV_SCOPE_ALL && (scope < 0 || scope >= AKV_SCOPE_COUNT))
        return akv_fail(AKV_EINVAL, "invalid scope %d", scope);
    struct export_ctx c = {out, akv_store_now(s), progress, ctx, 0, 0, "",
                           AKV_OK};
    akv_ns ns = {sandbox, sandbox ? strlen(sandbox) : 0, scope};
    int rc = s->be->ops->scan(s->be, &ns, NULL, 0, NULL, 0, export_one, &c);
    if (c.rc != AKV_OK)
        rc = c.rc;
    if (rc == AKV_OK && fflush(out) != 0)
        rc = akv_fail(AKV_EUNAVAILABLE, "export: write failed: %m");
    if (rc == AKV_OK && c.damaged)
        rc = akv_fail(AKV_EINTEGRITY,
                      "%llu damaged %s skipped (first: %s), %llu exported; "
                      "run agentkv check",
                      (unsigned long long)c.damaged,
                      c.damaged == 1 ? "entry" : "entries", c.first_bad,
                      (unsigned long long)c.count);
    if (progress)
        progress(ctx, c.count, c.count);
    if (count)
        *count = c.count;
    return rc < 0 ? rc : AKV_OK;
}

/* ---- import ------------------------------------------------------------ */

/* One parsed line: the write plus the buffers it points into. */
struct import_item {
    akv_write w;
    char sandbox[AKV_SANDBOX_MAX + 1];
    char *key;
    char *content_type;
    char *metadata;
    unsigned char *value;
};

static void item_free(struct import_item *it)
{
    free(it->key);
    free(it->content_type);
    free(it->metadata);
    free(it->value);
}

static int get_str(json_t *o, const char *name, const char **s, size_t *len)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v))
        return akv_fail(AKV_EINVAL, "field \"%s\" missing or not a string",
                        name);
    *s = json_string_value(v);
    *len = json_string_length(v);
    return AKV_OK;
}

/* A timestamp a record can hold (record.c): from the epoch to the end of
 * year 9999; expires_at may be null (never). akv_time_parse refuses leap
 * seconds, which ms since the epoch cannot represent. */
static int get_time(json_t *o, const char *name, int64_t *ms, bool nullable)
{
    json_t *v = json_object_get(o, name);
    if (nullable && json_is_null(v)) {
        *ms = 0;
        return AKV_OK;
    }
    if (!json_is_string(v))
        return akv_fail(AKV_EINVAL, "field \"%s\" missing or not a timestamp",
                        name);
    int rc = akv_time_parse(json_string_value(v), json_string_length(v), ms);
    if (rc != AKV_OK)
        return rc;
    if (*ms < 0 || *ms > AKV_TIME_MAX || (nullable && *ms == 0))
        return akv_fail(AKV_EINVAL, "field \"%s\" is out of range (1970 to "
                        "9999)", name);
    return AKV_OK;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Parses and validates one line into it. */
static int parse_line(akv_store *s, const char *line, size_t len,
                      struct import_item *it)
{
    json_error_t jerr;
    json_t *o;
    if (akv_json_parse(line, len, JSON_REJECT_DUPLICATES, &o, &jerr) ==
        AKV_ENOMEM)
        return AKV_ENOMEM;
    if (o == NULL)
        return akv_fail(AKV_EINVAL, "not JSON (%s)", jerr.text);
    int rc = AKV_OK;
    const char *str = NULL; /* get_str sets both */
    size_t slen = 0;
    akv_scope scope = AKV_SCOPE_TASK;
    memset(it, 0, sizeof *it);
    if (!json_is_object(o)) {
        rc = akv_fail(AKV_EINVAL, "not a JSON object");
        goto out;
    }
    if ((rc = get_str(o, "sandbox", &str, &slen)) != AKV_OK ||
        (rc = akv_sandbox_check(str, slen)) != AKV_OK)
        goto out;
    memcpy(it->sandbox, str, slen);
    it->sandbox[slen] = '\0';
    if ((rc = get_str(o, "scope", &str, &slen)) != AKV_OK ||
        (rc = akv_scope_parse(str, slen, &scope)) != AKV_OK)
        goto out;
    if ((rc = get_str(o, "key", &str, &slen)) != AKV_OK ||
        (rc = akv_key_check(str, slen)) != AKV_OK)
        goto out;
    if ((it->key = dup_n(str, slen)) == NULL)
        goto oom;
    it->w.key = it->key;
    it->w.key_len = slen;
    if ((rc = get_str(o, "content_type", &str, &slen)) != AKV_OK ||
        (rc = akv_content_type_check(str, slen)) != AKV_OK)
        goto out;
    if ((it->content_type = dup_n(str, slen)) == NULL)
        goto oom;
    it->w.rec.content_type = it->content_type;
    it->w.rec.content_type_len = slen;
    if ((rc = get_str(o, "sha256", &str, &slen)) != AKV_OK ||
        (rc = akv_hex_decode(str, slen, it->w.rec.sha256)) != AKV_OK)
        goto out;
    json_t *ver = json_object_get(o, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
        rc = akv_fail(AKV_EINVAL, "field \"version\" must be an integer >= 1");
        goto out;
    }
    it->w.rec.version = (uint64_t)json_integer_value(ver);
    if ((rc = get_time(o, "created_at", &it->w.rec.created_at, false)) ||
        (rc = get_time(o, "updated_at", &it->w.rec.updated_at, false)) ||
        (rc = get_time(o, "expires_at", &it->w.rec.expires_at, true)))
        goto out;
    json_t *meta = json_object_get(o, "metadata");
    if (meta && !json_is_null(meta)) {
        if (!json_is_object(meta)) {
            rc = akv_fail(AKV_EINVAL, "field \"metadata\" must be an object");
            goto out;
        }
        if (json_object_size(meta)) {
            it->metadata = akv_json_dumps(meta, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (it->metadata == NULL)
                goto oom;
            size_t ml = strlen(it->metadata);
            if (ml > AKV_METADATA_MAX) {
                rc = akv_fail(AKV_EINVAL, "metadata over %d bytes",
                              AKV_METADATA_MAX);
                goto out;
            }
            it->w.rec.metadata = it->metadata;
            it->w.rec.metadata_len = ml;
        }
    }
    if ((rc = get_str(o, "value", &str, &slen)) != AKV_OK)
        goto out;
    size_t vlen;
    if ((it->value = malloc(slen / 4 * 3 + 1)) == NULL)
        goto oom;
    if (akvx_base64_decode(str, slen, it->value, &vlen) != 0) {
        rc = akv_fail(AKV_EINVAL, "field \"value\" is not base64");
        goto out;
    }
    if (vlen > s->cfg.max_value_size) {
        rc = akv_fail(AKV_ETOOLARGE, "value of %zu bytes is over "
                      "max_value_size", vlen);
        goto out;
    }
    json_t *size = json_object_get(o, "size");
    if (size && (!json_is_integer(size) ||
                 (uint64_t)json_integer_value(size) != vlen)) {
        rc = akv_fail(AKV_EINVAL, "field \"size\" does not match the value");
        goto out;
    }
    it->w.rec.value = it->value;
    it->w.rec.value_len = vlen;
    if (!akv_rec_verify(&it->w.rec)) {
        rc = akv_fail(AKV_EINVAL, "value does not match its sha256");
        goto out;
    }
    it->w.ns.sandbox = NULL; /* set by akv_import: items move */
    it->w.ns.sandbox_len = strlen(it->sandbox);
    it->w.ns.scope = scope;
    it->w.now = akv_store_now(s);
    it->w.quota = s->cfg.quota[scope];
    it->w.restore = true;
    json_decref(o);
    return AKV_OK;
oom:
    rc = akv_fail(AKV_ENOMEM, "out of memory");
out:
    json_decref(o);
    item_free(it);
    memset(it, 0, sizeof *it);
    return rc;
}

/* Orders items by namespace (sandbox, then scope), then by line: the
 * writes of one namespace keep the input's order. */
static int item_cmp(const void *a, const void *b)
{
    const struct import_item *x = *(const struct import_item *const *)a;
    const struct import_item *y = *(const struct import_item *const *)b;
    int c = strcmp(x->sandbox, y->sandbox);
    if (c == 0)
        c = x->w.ns.scope - y->w.ns.scope;
    return c ? c : (x < y ? -1 : x > y);
}

/* One namespace: a run of the sorted item pointers, and its first item
 * (the earliest line, as items are in line order). */
struct ns_run {
    size_t first, n;
    const struct import_item *line;
};

static int run_cmp_by_line(const void *a, const void *b)
{
    const struct ns_run *x = a, *y = b;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Writes the n parsed items one namespace at a time (akv_import_each). */
static int write_by_namespace(akv_store *s, struct import_item *items,
                              size_t n, akv_import_fn report, void *rctx,
                              uint64_t *written)
{
    int rc = AKV_OK;
    struct import_item **by = malloc(n * sizeof *by);
    struct ns_run *runs = malloc(n * sizeof *runs);
    akv_write *ws = malloc(n * sizeof *ws);
    akv_import_ns *res = NULL;
    size_t nruns = 0;
    if (by == NULL || runs == NULL || ws == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        by[i] = &items[i];
    qsort(by, n, sizeof *by, item_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(by[i]->sandbox, by[i - 1]->sandbox) != 0 ||
            by[i]->w.ns.scope != by[i - 1]->w.ns.scope)
            runs[nruns++] = (struct ns_run){i, 0, by[i]};
        runs[nruns - 1].n++;
    }
    qsort(runs, nruns, sizeof *runs, run_cmp_by_line);
    if ((res = calloc(nruns, sizeof *res)) == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto out;
    }
    size_t failed = nruns, done_ns = 0;
    for (size_t r = 0; r < nruns; r++) {
        struct import_item *const *run = &by[runs[r].first];
        snprintf(res[r].sandbox, sizeof res[r].sandbox, "%s", run[0]->sandbox);
        res[r].scope = run[0]->w.ns.scope;
        res[r].entries = runs[r].n;
        res[r].status = AKV_IMPORT_NOT_TRIED;
        if (failed < nruns)
            continue;
        for (size_t i = 0; i < runs[r].n; i++) {
            ws[i] = run[i]->w;
            ws[i].ns.sandbox = run[i]->sandbox;
        }
        int wrc = s->be->ops->write_batch(s->be, ws, runs[r].n, NULL);
        if (wrc == AKV_OK) {
            res[r].status = AKV_IMPORT_WRITTEN;
            *written += runs[r].n;
            done_ns++;
            continue;
        }
        res[r].status = AKV_IMPORT_FAILED;
        res[r].rc = wrc;
        snprintf(res[r].message, sizeof res[r].message, "%s",
                 akv_last_error()->message);
        failed = r;
    }
    if (failed < nruns) {
        /* The summary keeps the failure's quota fields (akv_fail_quota). */
        akv_error e = *akv_last_error();
        rc = akv_fail(res[failed].rc,
                      "import of %s/%s failed: %s; %zu of %zu namespaces "
                      "written (%llu entries), the others not",
                      res[failed].sandbox, akv_scope_name(res[failed].scope),
                      res[failed].message, done_ns, nruns,
                      (unsigned long long)*written);
        snprintf(e.message, sizeof e.message, "%s", akv_last_error()->message);
        akv_error_restore(&e);
    }
    /* In order: the written ones, the failed one, the ones not tried. */
    for (size_t r = 0; report && r < nruns; r++)
        report(rctx, &res[r]);
out:
    free(by);
    free(runs);
    free(ws);
    free(res);
    return rc;
}

int akv_import(akv_store *s, FILE *in, akv_progress_fn progress, void *ctx,
               uint64_t *count)
{
    return akv_import_each(s, in, progress, ctx, NULL, NULL, count);
}

int akv_import_each(akv_store *s, FILE *in, akv_progress_fn progress,
                    void *ctx, akv_import_fn report, void *report_ctx,
                    uint64_t *count)
{
    akv_error_clear();
    struct import_item *items = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t got;
    int rc = AKV_OK;
    uint64_t written = 0;
    while ((got = getline(&line, &linecap, in)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue; /* blank lines are allowed, e.g. a trailing one */
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            void *p = realloc(items, ncap * sizeof *items);
            if (p == NULL) {
                rc = akv_fail(AKV_ENOMEM, "out of memory");
                break;
            }
            items = p;
            cap = ncap;
        }
        if ((rc = parse_line(s, line, len, &items[n])) != AKV_OK) {
            char msg[sizeof akv_last_error()->message];
            snprintf(msg, sizeof msg, "%s", akv_last_error()->message);
            rc = akv_fail(rc, "import line %zu: %s", lineno, msg);
            break;
        }
        n++;
        if (progress && (n & 63) == 0)
            progress(ctx, n, 0);
    }
    if (rc == AKV_OK && ferror(in))
        rc = akv_fail(AKV_EUNAVAILABLE, "import: read failed");
    free(line);
    if (rc == AKV_OK && n)
        rc = write_by_namespace(s, items, n, report, report_ctx, &written);
    if (progress)
        progress(ctx, written, n);
    for (size_t i = 0; i < n; i++)
        item_free(&items[i]);
    free(items);
    if (count)
        *count = written;
    return rc;
}

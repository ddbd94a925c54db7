/*
 * store.c — the core of libagentkv: open/close, put, get, delete.
 *
 * Everything that is the same for every backend happens here, once:
 * validation of sandbox, key, size, metadata and content type; the SHA-256
 * computed at write and verified on every read; the overlay of system and
 * instructions (sandbox first, then _global); expiry filtering (an expired
 * record is invisible even before it is collected); sliding expiry; hit and
 * miss counting. Backends only store records atomically (backend.h).
 * Listing lives in list.c, maintenance in maint.c, export/import in
 * export.c.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

static int64_t realtime_clock(void *ctx)
{
    (void)ctx;
    return akv_realtime_ms();
}

int akv_store_open(akv_store **out, const char *backend, const char *dir,
                   const akv_config *cfg, unsigned flags)
{
    akv_error_clear();
    if (out == NULL)
        return akv_fail(AKV_EINVAL, "no output handle");
    akv_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    if (cfg)
        s->cfg = *cfg;
    else
        akv_config_defaults(&s->cfg);
    s->clock = realtime_clock;
    int rc = akv_backend_open(backend, dir, &s->cfg, flags, &s->be);
    if (rc != AKV_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return AKV_OK;
}

void akv_store_close(akv_store *s)
{
    if (s == NULL)
        return;
    s->be->ops->close(s->be);
    akv_search_cache_free(s->search);
    free(s);
}

const char *akv_store_backend(const akv_store *s)
{
    return s->be->ops->name;
}

int akv_store_is_remote(const akv_store *s)
{
    return s->be->ops->remote;
}

const akv_config *akv_store_config(const akv_store *s)
{
    return &s->cfg;
}

void akv_store_set_clock(akv_store *s, akv_clock_fn fn, void *ctx)
{
    s->clock = fn ? fn : realtime_clock;
    s->clock_ctx = fn ? ctx : NULL;
}

int64_t akv_store_now(const akv_store *s)
{
    return s->clock(s->clock_ctx);
}

/* ---- shared helpers ---------------------------------------------------- */

static size_t copy_str(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
}

/* The fields of m that come from the record. */
static void meta_fill_rec(akv_meta *m, const akv_rec *rec)
{
    m->size = rec->value_len;
    if (rec->content_type_len)
        copy_str(m->content_type, sizeof m->content_type, rec->content_type,
                 rec->content_type_len);
    else
        copy_str(m->content_type, sizeof m->content_type,
                 AKV_DEFAULT_CONTENT_TYPE, strlen(AKV_DEFAULT_CONTENT_TYPE));
    akvx_hex_encode(rec->sha256, 32, m->sha256);
    m->version = rec->version;
    m->created_at = rec->created_at;
    m->updated_at = rec->updated_at;
    m->expires_at = rec->expires_at;
    m->metadata = rec->metadata;
    m->metadata_len = rec->metadata_len;
}

void akv_meta_fill(akv_meta *m, const char *sandbox, const char *origin,
                   akv_scope scope, const char *key, size_t key_len,
                   const akv_rec *rec)
{
    copy_str(m->sandbox, sizeof m->sandbox, sandbox, strlen(sandbox));
    copy_str(m->origin, sizeof m->origin, origin, strlen(origin));
    m->scope = scope;
    m->key_len = copy_str(m->key, sizeof m->key, key, key_len);
    meta_fill_rec(m, rec);
}

bool akv_rec_verify(const akv_rec *rec)
{
    unsigned char digest[32];
    if (rec->value == NULL && rec->value_len != 0)
        return false;
    akv_sha256(rec->value, rec->value_len, digest);
    return memcmp(digest, rec->sha256, 32) == 0;
}

/* Sets o's members to m's fields, in the order of SPEC.md §1. -1: no
 * memory or a field that is not UTF-8 (o is then incomplete). */
static int meta_json_fill(json_t *o, const akv_meta *m)
{
    const char *scope = akv_scope_name(m->scope);
    int bad = 0;
    bad |= json_object_set_new(o, "sandbox", json_string(m->sandbox));
    bad |= json_object_set_new(o, "scope", json_string(scope));
    bad |= json_object_set_new(o, "key", json_stringn(m->key, m->key_len));
    bad |= json_object_set_new(o, "origin", json_string(m->origin));
    bad |= json_object_set_new(o, "size", json_integer((json_int_t)m->size));
    bad |= json_object_set_new(o, "content_type",
                               json_string(m->content_type));
    bad |= json_object_set_new(o, "sha256", json_string(m->sha256));
    bad |= json_object_set_new(o, "version",
                               json_integer((json_int_t)m->version));
    char when[AKV_TIME_BUF];
    bad |= json_object_set_new(o, "created_at",
                               json_string(akv_time_format(m->created_at,
                                                           when)));
    bad |= json_object_set_new(o, "updated_at",
                               json_string(akv_time_format(m->updated_at,
                                                           when)));
    bad |= json_object_set_new(
        o, "expires_at",
        m->expires_at ? json_string(akv_time_format(m->expires_at, when))
                      : json_null());
    json_t *meta = NULL;
    if (m->metadata && m->metadata_len) {
        json_error_t jerr;
        if (akv_json_parse(m->metadata, m->metadata_len, 0, &meta, &jerr) !=
            AKV_OK)
            return -1;
    } else {
        meta = json_object();
    }
    bad |= json_object_set_new(o, "metadata", meta);
    return bad ? -1 : 0;
}

json_t *akv_meta_json(const akv_meta *m)
{
    json_t *o = json_object();
    /* A field that could not be made or added (out of memory) would be
     * missing: never hand out an object without every field. */
    if (o && meta_json_fill(o, m) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *akv_meta_to_json_value(const akv_meta *m)
{
    return akv_meta_json(m);
}

/*
 * The same object as text, written here rather than dumped from a jansson
 * object: a PUT's answer is one, and building and dumping the object cost
 * as many instructions as the SHA-256 of its 1 KiB value (jansson decodes
 * every character of every string as it dumps it, and formats an address
 * for each object to catch cycles). The text is byte for byte what
 * json_dumps(akv_meta_to_json_value(m), JSON_COMPACT) gives
 * (tests/unit/test-crud.c compares them on hostile fields).
 */
struct jtext {
    char *p;
    size_t cap, len; /* len may pass cap: the length it needs */
};

static void jt_add(struct jtext *t, const char *s, size_t n)
{
    if (t->len <= t->cap && n <= t->cap - t->len)
        memcpy(t->p + t->len, s, n);
    t->len += n;
}
#define JT_LIT(t, literal) jt_add((t), "" literal, sizeof literal - 1)

/* s[0..n) as a JSON string, escaped as jansson escapes (the two-character
 * escapes where JSON has one, \u00XX for the other controls, UTF-8 as it
 * is). -1 when s is not UTF-8. */
static int jt_str(struct jtext *t, const char *s, size_t n)
{
    if (!akvx_utf8_valid(s, n))
        return -1;
    JT_LIT(t, "\"");
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jt_add(t, s + from, i - from);
        from = i + 1;
        static const char hex[] = "0123456789ABCDEF";
        char esc[6] = {'\\', (char)c};
        size_t len = 2;
        switch (c) {
        case '"':
        case '\\':
            break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        jt_add(t, esc, len);
    }
    jt_add(t, s + from, n - from);
    JT_LIT(t, "\"");
    return 0;
}

static void jt_int(struct jtext *t, uint64_t v)
{
    char digits[AKVX_INT_BUF];
    /* As json_integer((json_int_t)v) prints it. */
    jt_add(t, digits, akvx_i64_dec((long long)(json_int_t)v, digits));
}

static void jt_time(struct jtext *t, int64_t ms)
{
    char when[AKV_TIME_BUF];
    akv_time_format(ms, when);
    JT_LIT(t, "\"");
    jt_add(t, when, strlen(when));
    JT_LIT(t, "\"");
}

int akv_meta_format_json(const akv_meta *m, char *buf, size_t cap,
                         size_t *len)
{
    struct jtext t = {.p = buf, .cap = buf ? cap : 0};
    const char *scope = akv_scope_name(m->scope);
    int bad = 0;
    JT_LIT(&t, "{\"sandbox\":");
    bad |= jt_str(&t, m->sandbox, strlen(m->sandbox));
    JT_LIT(&t, ",\"scope\":");
    bad |= scope ? jt_str(&t, scope, strlen(scope)) : -1;
    JT_LIT(&t, ",\"key\":");
    bad |= jt_str(&t, m->key, m->key_len);
    JT_LIT(&t, ",\"origin\":");
    bad |= jt_str(&t, m->origin, strlen(m->origin));
    JT_LIT(&t, ",\"size\":");
    jt_int(&t, m->size);
    JT_LIT(&t, ",\"content_type\":");
    bad |= jt_str(&t, m->content_type, strlen(m->content_type));
    JT_LIT(&t, ",\"sha256\":");
    bad |= jt_str(&t, m->sha256, strlen(m->sha256));
    JT_LIT(&t, ",\"version\":");
    jt_int(&t, m->version);
    JT_LIT(&t, ",\"created_at\":");
    jt_time(&t, m->created_at);
    JT_LIT(&t, ",\"updated_at\":");
    jt_time(&t, m->updated_at);
    JT_LIT(&t, ",\"expires_at\":");
    if (m->expires_at)
        jt_time(&t, m->expires_at);
    else
        JT_LIT(&t, "null");
    JT_LIT(&t, ",\"metadata\":");
    if (m->metadata && m->metadata_len) {
        /* As stored it may have any spacing: the parsed object, dumped. */
        json_t *meta;
        json_error_t jerr;
        int rc = akv_json_parse(m->metadata, m->metadata_len, 0, &meta, &jerr);
        if (rc == AKV_EINVAL)
            return akv_fail(rc, "cannot render the entry: its metadata is "
                                "not JSON (%s)", jerr.text);
        if (rc != AKV_OK)
            return rc;
        char *text = akv_json_dumps(meta, JSON_COMPACT |
                                              JSON_REAL_PRECISION(
                                                  AKV_JSON_REAL_DIGITS));
        json_decref(meta);
        if (text == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        jt_add(&t, text, strlen(text));
        free(text);
    } else {
        JT_LIT(&t, "{}");
    }
    JT_LIT(&t, "}");
    if (bad)
        return akv_fail(AKV_EINVAL, "cannot render the entry: a text field "
                                    "is not UTF-8");
    *len = t.len;
    return AKV_OK;
}

char *akv_meta_to_json(const akv_meta *m)
{
    size_t cap = 512, len;
    char *text = malloc(cap);
    while (text && akv_meta_format_json(m, text, cap - 1, &len) == AKV_OK) {
        if (len < cap) {
            text[len] = '\0';
            return text;
        }
        char *bigger = realloc(text, len + 1);
        if (bigger == NULL)
            break;
        text = bigger;
        cap = len + 1;
    }
    free(text);
    return NULL;
}

static int check_target(const char *sandbox, const char *key, size_t key_len)
{
    int rc;
    if (sandbox == NULL)
        return akv_fail(AKV_EINVAL, "invalid sandbox: empty");
    if ((rc = akv_sandbox_check(sandbox, strlen(sandbox))) != AKV_OK)
        return rc;
    return akv_key_check(key, key_len);
}

static int check_scope(int scope)
{
    if (scope < 0 || scope >= AKV_SCOPE_COUNT)
        return akv_fail(AKV_EINVAL, "invalid scope %d", scope);
    return AKV_OK;
}

/* ---- put --------------------------------------------------------------- */

void akv_put_opts_init(akv_put_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->ttl = AKV_TTL_DEFAULT;
}

/* Validates a put and fills the backend's write w (match: If-Match's
 * bytes, which w points at). */
static int put_prepare(akv_store *s, const char *sandbox, akv_scope scope,
                       const char *key, size_t key_len, const void *value,
                       size_t value_len, const akv_put_opts *opts,
                       akv_write *w, unsigned char match[32])
{
    akv_put_opts defaults;
    int rc;
    if (opts == NULL) {
        akv_put_opts_init(&defaults);
        opts = &defaults;
    }
    if ((rc = check_scope(scope)) != AKV_OK ||
        (rc = check_target(sandbox, key, key_len)) != AKV_OK)
        return rc;
    if (value == NULL && value_len != 0)
        return akv_fail(AKV_EINVAL, "value is NULL");
    if (value_len > s->cfg.max_value_size)
        return akv_fail(AKV_ETOOLARGE,
                        "value of %zu bytes is over max_value_size (%llu "
                        "bytes)",
                        value_len, (unsigned long long)s->cfg.max_value_size);
    if (opts->ttl < AKV_TTL_DEFAULT || opts->ttl > AKV_TTL_MAX_SECONDS)
        return akv_fail(AKV_EINVAL,
                        "invalid TTL %lld s (0 = never, at most 100 years)",
                        (long long)opts->ttl);
    const char *ct = opts->content_type ? opts->content_type
                                        : AKV_DEFAULT_CONTENT_TYPE;
    if ((rc = akv_content_type_check(ct, strlen(ct))) != AKV_OK)
        return rc;
    if (opts->metadata &&
        (rc = akv_metadata_check(opts->metadata, opts->metadata_len)) !=
            AKV_OK)
        return rc;
    if (opts->if_match &&
        (rc = akv_hex_decode(opts->if_match, strlen(opts->if_match),
                             match)) != AKV_OK)
        return akv_fail(AKV_EINVAL, "invalid If-Match: expected the 64-hex "
                                    "SHA-256 of the current value");

    int64_t ttl = opts->ttl == AKV_TTL_DEFAULT ? s->cfg.ttl[scope] : opts->ttl;
    *w = (akv_write){
        .ns = {sandbox, strlen(sandbox), scope},
        .key = key,
        .key_len = key_len,
        .ttl_ms = ttl * 1000,
        .now = akv_store_now(s),
        .quota = s->cfg.quota[scope],
        .if_match = opts->if_match ? match : NULL,
        .create_only = opts->create_only != 0,
    };
    w->rec.content_type = ct;
    w->rec.content_type_len = strlen(ct);
    w->rec.metadata = opts->metadata && opts->metadata_len ? opts->metadata
                                                           : NULL;
    w->rec.metadata_len = w->rec.metadata ? opts->metadata_len : 0;
    w->rec.value = value;
    w->rec.value_len = value_len;
    akv_sha256(value, value_len, w->rec.sha256);
    return AKV_OK;
}

int akv_put(akv_store *s, const char *sandbox, akv_scope scope,
            const char *key, size_t key_len, const void *value,
            size_t value_len, const akv_put_opts *opts, akv_meta *out,
            int *created)
{
    akv_error_clear();
    akv_write w;
    unsigned char match[32];
    int rc = put_prepare(s, sandbox, scope, key, key_len, value, value_len,
                         opts, &w, match);
    if (rc != AKV_OK)
        return rc;
    akv_rec stored;
    rc = s->be->ops->put(s->be, &w, &stored, created);
    if (rc != AKV_OK)
        return rc;
    if (out)
        akv_meta_fill(out, sandbox, sandbox, scope, key, key_len, &stored);
    return AKV_OK;
}

/* Each request on its own, with akv_put. */
static void put_each(akv_store *s, akv_put_req *reqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        akv_put_req *q = &reqs[i];
        akv_error_clear();
        q->created = 0;
        q->rc = akv_put(s, q->sandbox, q->scope, q->key, q->key_len,
                        q->value, q->value_len, q->opts, &q->meta,
                        &q->created);
        q->error = *akv_last_error();
    }
}

/* The puts of akv_put_many_start until akv_put_many_finish: the checked
 * writes (ws[j] for request req[j], pointing at match[j]) and the
 * backend's answers. */
struct akv_put_flight {
    akv_store *s;
    akv_put_req *reqs;
    size_t m; /* writes passed to the backend */
    akv_write *ws;
    unsigned char (*match)[32];
    akv_rec *recs;
    int *rcs, *created;
    akv_error *errs;
    size_t *req;
    void *sent; /* the backend's handle (put_many_send), or NULL */
    int fd;
    int64_t timeout_ms;
};

static void flight_free(akv_put_flight *f)
{
    free(f->ws);
    free(f->match);
    free(f->recs);
    free(f->rcs);
    free(f->created);
    free(f->errs);
    free(f->req);
    free(f);
}

/* akv_put_many_start; split false: the backend's put_many at once, as
 * akv_put_many wants (no descriptor, nothing left for the finish). */
static int put_many_begin(akv_store *s, akv_put_req *reqs, size_t n,
                          bool split, akv_put_flight **out)
{
    akv_error_clear();
    if (out == NULL)
        return akv_fail(AKV_EINVAL, "no flight given");
    *out = NULL;
    if (n > 0 && (s == NULL || reqs == NULL))
        return akv_fail(AKV_EINVAL, "no requests given");
    akv_put_flight *f = calloc(1, sizeof *f);
    if (f == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    size_t k = n ? n : 1;
    *f = (akv_put_flight){.s = s, .reqs = reqs, .fd = -1};
    f->ws = malloc(k * sizeof *f->ws);
    f->match = malloc(k * sizeof *f->match);
    f->recs = malloc(k * sizeof *f->recs);
    f->rcs = malloc(k * sizeof *f->rcs);
    f->created = malloc(k * sizeof *f->created);
    f->errs = malloc(k * sizeof *f->errs);
    f->req = malloc(k * sizeof *f->req);
    if (!f->ws || !f->match || !f->recs || !f->rcs || !f->created ||
        !f->errs || !f->req) {
        flight_free(f);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    if (n > 0 && s->be->ops->put_many == NULL) {
        put_each(s, reqs, n); /* no cheaper way */
        *out = f;
        return AKV_OK;
    }
    for (size_t i = 0; i < n; i++) {
        akv_put_req *q = &reqs[i];
        akv_error_clear();
        q->created = 0;
        q->rc = put_prepare(s, q->sandbox, q->scope, q->key, q->key_len,
                            q->value, q->value_len, q->opts, &f->ws[f->m],
                            f->match[f->m]);
        /* ws[m] points at match[m], which stays where it is. */
        if (q->rc == AKV_OK)
            f->req[f->m++] = i;
        q->error = *akv_last_error();
    }
    akv_error_clear();
    if (f->m > 0 && split && s->be->ops->put_many_send)
        f->sent = s->be->ops->put_many_send(s->be, f->m, f->ws, &f->fd,
                                            &f->timeout_ms);
    if (f->m > 0 && f->sent == NULL) {
        s->be->ops->put_many(s->be, f->m, f->ws, f->recs, f->created,
                             f->rcs, f->errs);
        f->fd = -1;
    }
    *out = f;
    akv_error_clear();
    return AKV_OK;
}

int akv_put_many_start(akv_store *s, akv_put_req *reqs, size_t n,
                       akv_put_flight **out)
{
    return put_many_begin(s, reqs, n, true, out);
}

int akv_put_flight_fd(const akv_put_flight *f, int64_t *timeout_ms)
{
    if (timeout_ms)
        *timeout_ms = f->timeout_ms;
    return f->fd;
}

void akv_put_many_finish(akv_put_flight *f, int timed_out)
{
    akv_store *s = f->s;
    akv_error_clear();
    if (f->sent)
        s->be->ops->put_many_recv(s->be, f->sent, timed_out != 0, f->recs,
                                  f->created, f->rcs, f->errs);
    for (size_t j = 0; j < f->m; j++) {
        akv_put_req *q = &f->reqs[f->req[j]];
        q->rc = f->rcs[j];
        q->error = f->errs[j];
        if (q->rc == AKV_OK) {
            q->created = f->created[j];
            akv_meta_fill(&q->meta, q->sandbox, q->sandbox, q->scope,
                          q->key, q->key_len, &f->recs[j]);
        }
    }
    flight_free(f);
    akv_error_clear();
}

int akv_put_many(akv_store *s, akv_put_req *reqs, size_t n)
{
    akv_put_flight *f;
    int rc = put_many_begin(s, reqs, n, false, &f);
    if (rc == AKV_ENOMEM) {
        put_each(s, reqs, n); /* one at a time, with less memory */
        akv_error_clear();
        return AKV_OK;
    }
    if (rc != AKV_OK)
        return rc;
    akv_put_many_finish(f, 0);
    return AKV_OK;
}

/* ---- get --------------------------------------------------------------- */

/*
 * A read's handle. Most reads use the value alone, so the metadata is
 * rendered on the first akv_value_meta(): at the read, only what the
 * caller lent for the call (sandbox, key) is copied, with the record
 * itself, whose pointers stay valid while hold is held. One thread at a
 * time uses a handle (agentkv.h), so the lazy fill needs no lock.
 */
struct akv_value {
    akv_store *store;
    void *hold;
    akv_rec rec;      /* the visible record, pointing into hold */
    bool global;      /* found in _global rather than meta.sandbox */
    bool meta_filled; /* meta complete (else: sandbox, scope, key only) */
    akv_meta meta;
};

/* The handle's metadata, completed on first use. */
static const akv_meta *value_meta(akv_value *v)
{
    if (!v->meta_filled) {
        const char *origin = v->global ? AKV_GLOBAL_SANDBOX : v->meta.sandbox;
        copy_str(v->meta.origin, sizeof v->meta.origin, origin,
                 strlen(origin));
        meta_fill_rec(&v->meta, &v->rec);
        v->meta_filled = true;
    }
    return &v->meta;
}

/* Logs a record the backend could not decode; its get returned
 * AKV_EINTEGRITY with the message already set. */
static void log_damaged(const char *sandbox, akv_scope scope,
                        const char *key, size_t key_len)
{
    akv_log("error", "integrity error: %s/%s/%.*s has a damaged record",
            sandbox, akv_scope_name(scope), (int)key_len, key);
}

/*
 * Decides on a record the backend found in ns: AKV_OK when it is visible
 * (unexpired and verified; sliding expiry refreshed where the scope asks
 * for it), AKV_ENOTFOUND when it has expired, AKV_EINTEGRITY (logged) when
 * its bytes fail their SHA-256. Anything but AKV_OK releases hold. now is
 * used only when rec->expires_at != 0.
 */
static int examine(akv_store *s, const akv_ns *ns, akv_scope scope,
                   const char *key, size_t key_len, int64_t now, akv_rec *rec,
                   void *hold)
{
    if (akv_rec_expired(rec, now)) {
        s->be->ops->release(s->be, hold);
        return AKV_ENOTFOUND;
    }
    if (!akv_rec_verify(rec)) {
        s->be->ops->release(s->be, hold);
        akv_log("error", "integrity error: %s/%s/%.*s fails its SHA-256",
                ns->sandbox, akv_scope_name(scope), (int)key_len, key);
        return akv_fail(AKV_EINTEGRITY,
                        "stored bytes of %s/%.*s fail their SHA-256",
                        akv_scope_name(scope), (int)key_len, key);
    }
    if (s->cfg.refresh[scope] && rec->expires_at != 0) {
        /* Sliding expiry: the entry lives ttl past its last read. */
        int64_t ttl = s->cfg.ttl[scope] * 1000;
        if (ttl > 0 && now + ttl > rec->expires_at) {
            int trc = s->be->ops->touch(s->be, ns, key, key_len, now + ttl);
            if (trc == AKV_OK)
                rec->expires_at = now + ttl;
        }
    }
    return AKV_OK;
}

/* Whether a miss in sandbox falls through to _global. */
static bool overlays(const char *sandbox, akv_scope scope)
{
    return akv_scope_is_overlay(scope) &&
           strcmp(sandbox, AKV_GLOBAL_SANDBOX) != 0;
}

static int not_found(const char *sandbox, akv_scope scope, const char *key,
                     size_t key_len)
{
    return akv_fail(AKV_ENOTFOUND, "no entry %s/%.*s in sandbox %s",
                    akv_scope_name(scope), (int)key_len, key, sandbox);
}

/*
 * Finds the visible record for (sandbox, scope, key): the sandbox's own
 * unexpired one, else (overlay scopes) _global's. On AKV_OK the record is
 * held (release with be->ops->release) and *origin says where it was found.
 */
static int lookup(akv_store *s, const char *sandbox, akv_scope scope,
                  const char *key, size_t key_len, akv_rec *rec, void **hold,
                  const char **origin)
{
    const char *spaces[2] = {sandbox, AKV_GLOBAL_SANDBOX};
    int n = overlays(sandbox, scope) ? 2 : 1;
    /* The clock is read once, and only for a record that can expire
     * (examine uses now for nothing else). */
    int64_t now = 0;
    bool have_now = false;
    for (int i = 0; i < n; i++) {
        akv_ns ns = {spaces[i], strlen(spaces[i]), scope};
        int rc = s->be->ops->get(s->be, &ns, key, key_len, rec, hold);
        if (rc == AKV_OK) {
            if (rec->expires_at != 0 && !have_now) {
                now = akv_store_now(s);
                have_now = true;
            }
            rc = examine(s, &ns, scope, key, key_len, now, rec, *hold);
        } else if (rc == AKV_EINTEGRITY) {
            /* Name the entry; keep the reason the decoder gave. */
            char why[sizeof akv_last_error()->message];
            snprintf(why, sizeof why, "%s", akv_last_error()->message);
            log_damaged(spaces[i], scope, key, key_len);
            akv_fail(AKV_EINTEGRITY, "stored record of %s/%.*s is damaged: "
                     "%s", akv_scope_name(scope), (int)key_len, key, why);
        }
        if (rc == AKV_ENOTFOUND)
            continue;
        if (rc == AKV_OK)
            *origin = spaces[i];
        return rc;
    }
    return not_found(sandbox, scope, key, key_len);
}

/* A value handle for a visible record; NULL (hold released) when out of
 * memory. Counts the read as a hit. origin is sandbox itself or
 * AKV_GLOBAL_SANDBOX, as lookup and akv_get_many find it. */
static akv_value *value_new(akv_store *s, const char *sandbox,
                            const char *origin, akv_scope scope,
                            const char *key, size_t key_len,
                            const akv_rec *rec, void *hold)
{
    akv_value *v = malloc(sizeof *v);
    if (v == NULL) {
        s->be->ops->release(s->be, hold);
        akv_fail(AKV_ENOMEM, "out of memory");
        return NULL;
    }
    s->be->ops->count(s->be, scope, true);
    v->store = s;
    v->hold = hold;
    v->rec = *rec;
    v->global = origin != sandbox;
    v->meta_filled = false;
    copy_str(v->meta.sandbox, sizeof v->meta.sandbox, sandbox,
             strlen(sandbox));
    v->meta.scope = scope;
    v->meta.key_len = copy_str(v->meta.key, sizeof v->meta.key, key, key_len);
    return v;
}

int akv_get(akv_store *s, const char *sandbox, akv_scope scope,
            const char *key, size_t key_len, akv_value **out)
{
    int rc;
    akv_error_clear();
    if ((rc = check_scope(scope)) != AKV_OK ||
        (rc = check_target(sandbox, key, key_len)) != AKV_OK)
        return rc;
    akv_rec rec;
    void *hold;
    const char *origin = sandbox;
    rc = lookup(s, sandbox, scope, key, key_len, &rec, &hold, &origin);
    if (rc != AKV_OK) {
        /* A read that served nothing is a miss, including one refused for
         * failing its integrity check. */
        if (rc == AKV_ENOTFOUND || rc == AKV_EINTEGRITY)
            s->be->ops->count(s->be, scope, false);
        return rc;
    }
    akv_value *v = value_new(s, sandbox, origin, scope, key, key_len, &rec,
                             hold);
    if (v == NULL)
        return AKV_ENOMEM;
    *out = v;
    return AKV_OK;
}

/* The reads of one round of akv_get_many: parallel arrays, as the backend's
 * get_many takes them, and which request each read serves. */
struct reads {
    akv_ns *ns;
    const char **keys;
    size_t *lens;
    akv_rec *recs;
    void **holds;
    int *rcs;
    size_t *req;
    size_t n;
};

static int reads_alloc(struct reads *r, size_t n)
{
    memset(r, 0, sizeof *r);
    r->ns = calloc(n, sizeof *r->ns);
    r->keys = calloc(n, sizeof *r->keys);
    r->lens = calloc(n, sizeof *r->lens);
    r->recs = calloc(n, sizeof *r->recs);
    r->holds = calloc(n, sizeof *r->holds);
    r->rcs = calloc(n, sizeof *r->rcs);
    r->req = calloc(n, sizeof *r->req);
    return r->ns && r->keys && r->lens && r->recs && r->holds && r->rcs &&
                   r->req
               ? AKV_OK
               : AKV_ENOMEM;
}

static void reads_free(struct reads *r)
{
    free(r->ns);
    free(r->keys);
    free(r->lens);
    free(r->recs);
    free(r->holds);
    free(r->rcs);
    free(r->req);
}

static void reads_add(struct reads *r, size_t req, const char *sandbox,
                      const akv_get_req *q)
{
    r->ns[r->n] = (akv_ns){sandbox, strlen(sandbox), q->scope};
    r->keys[r->n] = q->key;
    r->lens[r->n] = q->key_len;
    r->req[r->n] = req;
    r->n++;
}

/* Records a request's outcome, as akv_get would have left it. */
static void get_done(akv_store *s, akv_get_req *q, int rc, const char *origin,
                     const akv_rec *rec, void *hold)
{
    if (rc == AKV_OK) {
        q->value = value_new(s, q->sandbox, origin, q->scope, q->key,
                             q->key_len, rec, hold);
        if (q->value == NULL)
            rc = AKV_ENOMEM;
    } else if (rc == AKV_ENOTFOUND || rc == AKV_EINTEGRITY) {
        s->be->ops->count(s->be, q->scope, false);
        if (rc == AKV_ENOTFOUND)
            not_found(q->sandbox, q->scope, q->key, q->key_len);
    }
    q->rc = rc;
    q->error = *akv_last_error();
}

int akv_get_many(akv_store *s, akv_get_req *reqs, size_t n)
{
    akv_error_clear();
    if (n == 0)
        return AKV_OK;
    if (reqs == NULL)
        return akv_fail(AKV_EINVAL, "no requests given");
    struct reads r[2] = {0}; /* this round, the next (overlay fall-through);
                              * zeroed: freed even if never allocated */
    if (reads_alloc(&r[0], n) != AKV_OK || reads_alloc(&r[1], n) != AKV_OK) {
        reads_free(&r[0]);
        reads_free(&r[1]);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        akv_get_req *q = &reqs[i];
        int rc;
        akv_error_clear();
        q->value = NULL;
        if ((rc = check_scope(q->scope)) != AKV_OK ||
            (rc = check_target(q->sandbox, q->key, q->key_len)) != AKV_OK) {
            q->rc = rc;
            q->error = *akv_last_error();
            continue;
        }
        reads_add(&r[0], i, q->sandbox, q);
    }
    int64_t now = akv_store_now(s);
    for (int round = 0; round < 2 && r[round].n > 0; round++) {
        struct reads *cur = &r[round];
        akv_error_clear();
        if (s->be->ops->get_many)
            s->be->ops->get_many(s->be, cur->n, cur->ns, cur->keys,
                                 cur->lens, cur->recs, cur->holds, cur->rcs);
        else
            for (size_t j = 0; j < cur->n; j++)
                cur->rcs[j] = s->be->ops->get(s->be, &cur->ns[j],
                                              cur->keys[j], cur->lens[j],
                                              &cur->recs[j], &cur->holds[j]);
        /* A failure of the backend itself carries its message here. */
        akv_error failed = *akv_last_error();
        for (size_t j = 0; j < cur->n; j++) {
            akv_get_req *q = &reqs[cur->req[j]];
            int rc = cur->rcs[j];
            akv_error_clear();
            if (rc == AKV_OK) {
                rc = examine(s, &cur->ns[j], q->scope, q->key, q->key_len,
                             now, &cur->recs[j], cur->holds[j]);
            } else if (rc == AKV_EINTEGRITY) {
                log_damaged(cur->ns[j].sandbox, q->scope, q->key,
                            q->key_len);
                akv_fail(AKV_EINTEGRITY, "stored record of %s/%.*s is "
                         "damaged", akv_scope_name(q->scope),
                         (int)q->key_len, q->key);
            } else if (rc != AKV_ENOTFOUND) {
                akv_error_restore(&failed);
            }
            if (rc == AKV_ENOTFOUND && round == 0 &&
                overlays(q->sandbox, q->scope)) {
                reads_add(&r[1], cur->req[j], AKV_GLOBAL_SANDBOX, q);
                continue;
            }
            get_done(s, q, rc, cur->ns[j].sandbox, &cur->recs[j],
                     cur->holds[j]);
        }
    }
    reads_free(&r[0]);
    reads_free(&r[1]);
    akv_error_clear();
    return AKV_OK;
}

const void *akv_value_data(const akv_value *v, size_t *len)
{
    if (len)
        *len = v->rec.value_len;
    return v->rec.value;
}

const akv_meta *akv_value_meta(const akv_value *v)
{
    /* The handle is the caller's (not const memory): const only says the
     * caller does not change it. */
    return value_meta((akv_value *)v);
}

void akv_value_release(akv_value *v)
{
    if (v == NULL)
        return;
    v->store->be->ops->release(v->store->be, v->hold);
    free(v);
}

int akv_get_copy(akv_store *s, const char *sandbox, akv_scope scope,
                 const char *key, size_t key_len, void *buf, size_t *len,
                 akv_meta *meta)
{
    akv_value *v;
    if (len == NULL)
        return akv_fail(AKV_EINVAL, "no length given");
    int rc = akv_get(s, sandbox, scope, key, key_len, &v);
    if (rc != AKV_OK)
        return rc;
    size_t cap = *len;
    *len = v->rec.value_len;
    if (meta) {
        *meta = *value_meta(v);
        meta->metadata = NULL;
    }
    if (cap < v->rec.value_len) {
        akv_value_release(v);
        return akv_fail(AKV_ENOBUFS, "buffer of %zu bytes is too small for "
                        "%zu", cap, *len);
    }
    if (v->rec.value_len)
        memcpy(buf, v->rec.value, v->rec.value_len);
    akv_value_release(v);
    return AKV_OK;
}

/* ---- delete ------------------------------------------------------------ */

int akv_del(akv_store *s, const char *sandbox, akv_scope scope,
            const char *key, size_t key_len)
{
    int rc;
    akv_error_clear();
    if ((rc = check_scope(scope)) != AKV_OK ||
        (rc = check_target(sandbox, key, key_len)) != AKV_OK)
        return rc;
    akv_ns ns = {sandbox, strlen(sandbox), scope};
    bool live = false;
    rc = s->be->ops->del(s->be, &ns, key, key_len, akv_store_now(s), &live);
    if (rc == AKV_OK && !live)
        rc = AKV_ENOTFOUND; /* it had expired: gone, but it was not there */
    if (rc == AKV_ENOTFOUND)
        return akv_fail(AKV_ENOTFOUND, "no entry %s/%.*s in sandbox %s",
                        akv_scope_name(scope), (int)key_len, key, sandbox);
    return rc;
}

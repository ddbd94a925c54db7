/*
 * search.c — akv_search: full-text ranked search over the entries of one
 * scope a sandbox sees (instruction sets by default), BM25 over each
 * entry's name (its key), description (metadata.description) and body
 * (its value, when it is UTF-8 text).
 *
 * Tokenisation (the same for documents and queries): a term is a maximal
 * run of bytes that are ASCII letters or digits, or bytes >= 0x80 (so a
 * word of any script, written in UTF-8, is one term and its accents are
 * part of it); every other byte separates terms (`_` and `-` too, so that
 * the key `billing_questions` holds the terms billing and questions).
 * ASCII letters are folded to lower case; other letters are compared as
 * bytes (no Unicode case folding or normalisation). Terms are compared by
 * a 64-bit FNV-1a hash of their bytes (a collision would merge two terms;
 * at 64 bits it is not a practical concern).
 *
 * Ranking: BM25F with the fields weighted name 3, description 2, body 1:
 * a term's weighted frequency in an entry is 3·tf(name) + 2·tf(description)
 * + tf(body), the entry's length the same sum of term counts, and
 *   score = Σ_query terms idf · wtf·(k1+1) / (wtf + k1·(1 − b + b·len/avglen))
 * with k1 = 1.2, b = 0.75 and idf = ln(1 + (N − df + 0.5)/(df + 0.5)) over
 * the N entries searched. Entries that hold no query term are not results.
 * Order: score descending, then name in byte order (the scores of equal
 * entries are computed the same way, so the order is the same on every
 * run for the same store). A query term that repeats counts once.
 *
 * Bounded work: a query is at most AKV_SEARCH_QUERY_MAX bytes of UTF-8 and
 * at most AKV_SEARCH_TERMS_MAX distinct terms (more is an error, not a
 * silent cut); at most AKV_SEARCH_DOCS_MAX entries are searched (the first
 * in key order; `truncated` says so); results are at most
 * AKV_SEARCH_LIMIT_MAX.
 *
 * The term counts of each entry are cached in the store handle, keyed by
 * (scope, origin, key, version, updated_at), so that a query reads entry
 * metadata (the listing) and only the values that changed since an earlier
 * query; the cache holds at most SEARCH_CACHE_DOCS entries and is emptied
 * when full. It lives and dies with the handle and is guarded by a mutex.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentkv-tokens.h"
#include "akvx.h"
#include "internal.h"

#define SEARCH_CACHE_DOCS 50000
#define K1 1.2
#define B 0.75

static const unsigned weight[3] = {3, 2, 1}; /* name, description, body */

/* ---- terms --------------------------------------------------------------- */

static bool term_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

/* Calls fn(hash, ctx) for each term of s[0..len). */
static void each_term(const char *s, size_t len,
                      void (*fn)(uint64_t hash, void *ctx), void *ctx)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && !term_byte((unsigned char)s[i]))
            i++;
        if (i == len)
            break;
        uint64_t h = 1469598103934665603ull;
        while (i < len && term_byte((unsigned char)s[i])) {
            unsigned char c = (unsigned char)s[i++];
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c + 32);
            h = (h ^ c) * 1099511628211ull;
        }
        fn(h, ctx);
    }
}

/* ---- the per-entry counts ------------------------------------------------- */

struct term {
    uint64_t hash;
    uint32_t wtf; /* weighted term frequency */
};

struct doc {
    int scope;
    char origin[AKV_SANDBOX_MAX + 1];
    char key[AKV_KEY_MAX + 1];
    uint64_t version;
    int64_t updated_at;
    char *description; /* metadata.description, "" when none */
    uint64_t tokens;   /* metadata.tokens, 0 when none */
    struct term *terms; /* sorted by hash, distinct */
    size_t nterms;
    uint64_t len;      /* weighted length */
};

struct akv_search_cache {
    pthread_mutex_t lock;
    struct doc **docs; /* sorted by (scope, origin, key) */
    size_t n, cap;
};

struct collect {
    struct term *t;
    size_t n, cap;
    unsigned w;
    uint64_t len;
    bool oom;
};

static void collect_term(uint64_t hash, void *ctx)
{
    struct collect *c = ctx;
    c->len += c->w;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        void *p = realloc(c->t, ncap * sizeof *c->t);
        if (p == NULL) {
            c->oom = true;
            return;
        }
        c->t = p;
        c->cap = ncap;
    }
    c->t[c->n++] = (struct term){.hash = hash, .wtf = c->w};
}

static int term_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct term *)a)->hash,
             y = ((const struct term *)b)->hash;
    return (x > y) - (x < y);
}

static void doc_free(struct doc *d)
{
    if (d) {
        free(d->description);
        free(d->terms);
        free(d);
    }
}

/* Builds the counts of one entry from its key, metadata and value. */
static int doc_build(const akv_meta *m, const char *data, size_t len,
                     struct doc **out)
{
    struct doc *d = calloc(1, sizeof *d);
    if (d == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    d->scope = m->scope;
    snprintf(d->origin, sizeof d->origin, "%s", m->origin);
    snprintf(d->key, sizeof d->key, "%s", m->key);
    d->version = m->version;
    d->updated_at = m->updated_at;
    const char *desc = "";
    json_t *o = NULL;
    json_error_t jerr;
    if (m->metadata && m->metadata_len &&
        akv_json_parse(m->metadata, m->metadata_len, 0, &o, &jerr) ==
            AKV_ENOMEM) {
        free(d);
        return AKV_ENOMEM;
    }
    if (json_is_string(json_object_get(o, "description")))
        desc = json_string_value(json_object_get(o, "description"));
    json_t *tok = json_object_get(o, "tokens");
    bool counted = json_is_integer(tok) && json_integer_value(tok) >= 0;
    if (counted)
        d->tokens = (uint64_t)json_integer_value(tok);
    d->description = strdup(desc);
    json_decref(o);
    int rc = AKV_OK;
    if (m->scope == AKV_SCOPE_INSTRUCTIONS && !counted) {
        /* As akv_instructions_list: an entry put without a count. */
        const akv_encoding *enc;
        size_t n = 0;
        if ((rc = akv_encoding_load(NULL, &enc)) == AKV_OK)
            rc = akv_tokens_count(enc, data, len, &n);
        d->tokens = n;
    }
    if (rc != AKV_OK) {
        doc_free(d);
        return rc;
    }
    struct collect c = {0};
    c.w = weight[0];
    each_term(m->key, m->key_len, collect_term, &c);
    c.w = weight[1];
    each_term(d->description ? d->description : "",
              d->description ? strlen(d->description) : 0, collect_term, &c);
    c.w = weight[2];
    if (akvx_utf8_valid(data, len))
        each_term(data, len, collect_term, &c);
    if (c.oom || d->description == NULL) {
        free(c.t);
        doc_free(d);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    /* Merge equal hashes. */
    if (c.n)
        qsort(c.t, c.n, sizeof *c.t, term_cmp);
    size_t k = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (k && c.t[k - 1].hash == c.t[i].hash)
            c.t[k - 1].wtf += c.t[i].wtf;
        else
            c.t[k++] = c.t[i];
    }
    d->terms = c.t;
    d->nterms = k;
    d->len = c.len;
    *out = d;
    return AKV_OK;
}

static uint32_t doc_tf(const struct doc *d, uint64_t hash)
{
    size_t lo = 0, hi = d->nterms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->terms[mid].hash == hash)
            return d->terms[mid].wtf;
        if (d->terms[mid].hash < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int doc_order(int scope, const char *origin, const char *key,
                     const struct doc *d)
{
    if (scope != d->scope)
        return scope < d->scope ? -1 : 1;
    int c = strcmp(origin, d->origin);
    return c ? c : strcmp(key, d->key);
}

/* Index of the cached entry (scope, origin, key), or where it would go. */
static size_t cache_find(const struct akv_search_cache *c, int scope,
                         const char *origin, const char *key, bool *found)
{
    size_t lo = 0, hi = c->n;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int o = doc_order(scope, origin, key, c->docs[mid]);
        if (o == 0) {
            *found = true;
            return mid;
        }
        if (o > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void cache_clear(struct akv_search_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        doc_free(c->docs[i]);
    c->n = 0;
}

void akv_search_cache_free(struct akv_search_cache *c)
{
    if (c == NULL)
        return;
    cache_clear(c);
    free(c->docs);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static struct akv_search_cache *store_cache(akv_store *s)
{
    static pthread_mutex_t init = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&init);
    if (s->search == NULL && (s->search = calloc(1, sizeof *s->search)))
        pthread_mutex_init(&s->search->lock, NULL);
    pthread_mutex_unlock(&init);
    return s->search;
}

/* ---- the query -------------------------------------------------------------- */

struct akv_search_result {
    akv_search_hit *hits;
    size_t n;
    size_t matched;   /* entries that hold a query term */
    size_t searched;  /* entries searched */
    int truncated;
    char *strings;    /* names, origins and descriptions of the hits */
};

struct query {
    uint64_t hash[AKV_SEARCH_TERMS_MAX];
    size_t n;
    bool too_many;
};

static void query_term(uint64_t hash, void *ctx)
{
    struct query *q = ctx;
    for (size_t i = 0; i < q->n; i++)
        if (q->hash[i] == hash)
            return;
    if (q->n == AKV_SEARCH_TERMS_MAX)
        q->too_many = true;
    else
        q->hash[q->n++] = hash;
}

/* Natural logarithm of x >= 1, without libm: x = m·2^k with m in [1, 2),
 * ln m by the atanh series (converges fast for m < 2). */
static double ln(double x)
{
    int k = 0;
    while (x >= 2.0) {
        x /= 2.0;
        k++;
    }
    double y = (x - 1.0) / (x + 1.0), y2 = y * y, term = y, sum = 0;
    for (int i = 1; i < 60; i += 2) {
        sum += term / i;
        term *= y2;
    }
    return 2.0 * sum + k * 0.69314718055994530942;
}

struct scored {
    const struct doc *d;
    double score;
};

static int scored_cmp(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->d->key, y->d->key);
}

/* Makes sure the cache holds the counts of the entry m lists; *out is the
 * cached entry. Called with the cache locked. */
static int cache_get(akv_store *store, const char *sandbox,
                     struct akv_search_cache *c, const akv_meta *m,
                     const struct doc **out)
{
    bool found;
    size_t at = cache_find(c, m->scope, m->origin, m->key, &found);
    if (found && c->docs[at]->version == m->version &&
        c->docs[at]->updated_at == m->updated_at) {
        *out = c->docs[at];
        return AKV_OK;
    }
    akv_value *v;
    int rc = akv_get(store, sandbox, m->scope, m->key, m->key_len, &v);
    if (rc != AKV_OK)
        return rc;
    size_t len;
    const char *data = akv_value_data(v, &len);
    const akv_meta *vm = akv_value_meta(v);
    struct doc *d = NULL;
    rc = doc_build(vm, data, len, &d);
    akv_value_release(v);
    if (rc != AKV_OK)
        return rc;
    /* The read may see a newer version than the listing: key it by what
     * was read. */
    at = cache_find(c, d->scope, d->origin, d->key, &found);
    if (found) {
        doc_free(c->docs[at]);
        c->docs[at] = d;
    } else {
        if (c->n == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 256;
            void *p = realloc(c->docs, ncap * sizeof *c->docs);
            if (p == NULL) {
                doc_free(d);
                return akv_fail(AKV_ENOMEM, "out of memory");
            }
            c->docs = p;
            c->cap = ncap;
        }
        memmove(c->docs + at + 1, c->docs + at, (c->n - at) * sizeof *c->docs);
        c->docs[at] = d;
        c->n++;
    }
    *out = d;
    return AKV_OK;
}

void akv_search_opts_init(akv_search_opts *o)
{
    memset(o, 0, sizeof *o);
    o->scope = AKV_SCOPE_INSTRUCTIONS;
    o->limit = AKV_SEARCH_LIMIT_DEFAULT;
}

static int run_query(akv_store *store, const char *sandbox,
                     const akv_search_opts *o, const struct query *q,
                     struct akv_search_cache *c, struct akv_search_result *res)
{
    const struct doc **docs = NULL;
    struct scored *sc = NULL;
    size_t n = 0, cap = 0;
    akv_list_opts lo = {.limit = AKV_LIST_MAX_LIMIT};
    char cursor[AKV_KEY_MAX + 1];
    int rc = AKV_OK;
    /* A query never meets a full cache half-way: at most DOCS_MAX new
     * entries are added per query. */
    if (c->n + AKV_SEARCH_DOCS_MAX > SEARCH_CACHE_DOCS)
        cache_clear(c);
    for (;;) {
        akv_list *page;
        if ((rc = akv_list_entries(store, sandbox, (akv_scope)o->scope, &lo,
                                   &page)) != AKV_OK)
            break;
        for (size_t i = 0; rc == AKV_OK && i < akv_list_count(page); i++) {
            if (n == AKV_SEARCH_DOCS_MAX) {
                res->truncated = 1;
                break;
            }
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                void *p = realloc(docs, ncap * sizeof *docs);
                if (p == NULL) {
                    rc = akv_fail(AKV_ENOMEM, "out of memory");
                    break;
                }
                docs = p;
                cap = ncap;
            }
            rc = cache_get(store, sandbox, c, akv_list_item(page, i),
                           &docs[n]);
            if (rc == AKV_ENOTFOUND) { /* gone since the listing */
                akv_error_clear();
                rc = AKV_OK;
                continue;
            }
            n += rc == AKV_OK;
        }
        const char *next = akv_list_next_cursor(page);
        if (rc == AKV_OK && next && !res->truncated) {
            snprintf(cursor, sizeof cursor, "%s", next);
            lo.cursor = cursor;
            lo.cursor_len = strlen(cursor);
        } else {
            next = NULL;
        }
        akv_list_free(page);
        if (rc != AKV_OK || next == NULL)
            break;
    }
    if (rc != AKV_OK)
        goto out;
    res->searched = n;
    if (n == 0)
        goto out;
    double avg = 0, idf[AKV_SEARCH_TERMS_MAX];
    for (size_t i = 0; i < n; i++)
        avg += (double)docs[i]->len;
    avg = avg / (double)n;
    if (avg <= 0)
        avg = 1;
    for (size_t t = 0; t < q->n; t++) {
        size_t df = 0;
        for (size_t i = 0; i < n; i++)
            df += doc_tf(docs[i], q->hash[t]) > 0;
        idf[t] = ln(1.0 + ((double)n - (double)df + 0.5) / ((double)df + 0.5));
    }
    if ((sc = malloc(n * sizeof *sc)) == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto out;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        bool any = false;
        for (size_t t = 0; t < q->n; t++) {
            uint32_t tf = doc_tf(docs[i], q->hash[t]);
            if (tf == 0)
                continue;
            any = true;
            double norm = K1 * (1.0 - B + B * (double)docs[i]->len / avg);
            s += idf[t] * tf * (K1 + 1.0) / (tf + norm);
        }
        if (any)
            sc[m++] = (struct scored){.d = docs[i], .score = s};
    }
    res->matched = m;
    if (m)
        qsort(sc, m, sizeof *sc, scored_cmp);
    size_t k = m < o->limit ? m : o->limit, need = 0;
    for (size_t i = 0; i < k; i++)
        need += strlen(sc[i].d->key) + strlen(sc[i].d->origin) +
                strlen(sc[i].d->description) + 3;
    res->hits = calloc(k ? k : 1, sizeof *res->hits);
    res->strings = malloc(need ? need : 1);
    if (res->hits == NULL || res->strings == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto out;
    }
    char *p = res->strings;
    for (size_t i = 0; i < k; i++) {
        const struct doc *d = sc[i].d;
        akv_search_hit *h = &res->hits[i];
        h->name = p;
        p = stpcpy(p, d->key) + 1;
        h->origin = p;
        p = stpcpy(p, d->origin) + 1;
        h->description = p;
        p = stpcpy(p, d->description) + 1;
        h->version = d->version;
        h->tokens = d->tokens;
        h->score = sc[i].score;
    }
    res->n = k;
out:
    free(docs);
    free(sc);
    return rc;
}

int akv_search(akv_store *store, const char *sandbox, const char *query,
               size_t query_len, const akv_search_opts *opts,
               akv_search_result **out)
{
    akv_search_opts defaults;
    akv_error_clear();
    if (store == NULL || sandbox == NULL || out == NULL ||
        (query == NULL && query_len))
        return akv_fail(AKV_EINVAL, "search: NULL argument");
    *out = NULL;
    int rc = akv_sandbox_check(sandbox, strlen(sandbox));
    if (rc != AKV_OK)
        return rc;
    if (opts == NULL) {
        akv_search_opts_init(&defaults);
        opts = &defaults;
    }
    if (opts->scope < 0 || opts->scope >= AKV_SCOPE_COUNT)
        return akv_fail(AKV_EINVAL, "search: invalid scope %d", opts->scope);
    if (opts->limit < 1 || opts->limit > AKV_SEARCH_LIMIT_MAX)
        return akv_fail(AKV_EINVAL, "search: limit must be 1 to %d",
                        AKV_SEARCH_LIMIT_MAX);
    if (query_len > AKV_SEARCH_QUERY_MAX)
        return akv_fail(AKV_EINVAL,
                        "search: the query is %zu bytes; at most %d",
                        query_len, AKV_SEARCH_QUERY_MAX);
    if (!akvx_utf8_valid(query, query_len))
        return akv_fail(AKV_EINVAL, "search: the query is not UTF-8 text");
    struct query q = {0};
    each_term(query, query_len, query_term, &q);
    if (q.too_many)
        return akv_fail(AKV_EINVAL,
                        "search: the query has more than %d distinct words",
                        AKV_SEARCH_TERMS_MAX);
    if (q.n == 0)
        return akv_fail(AKV_EINVAL, "search: the query has no words to "
                                    "search for");
    struct akv_search_cache *c = store_cache(store);
    struct akv_search_result *res = calloc(1, sizeof *res);
    if (c == NULL || res == NULL) {
        free(res);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    pthread_mutex_lock(&c->lock);
    rc = run_query(store, sandbox, opts, &q, c, res);
    pthread_mutex_unlock(&c->lock);
    if (rc != AKV_OK) {
        akv_search_free(res);
        return rc;
    }
    *out = res;
    return AKV_OK;
}

size_t akv_search_count(const akv_search_result *r)
{
    return r ? r->n : 0;
}

const akv_search_hit *akv_search_item(const akv_search_result *r, size_t i)
{
    return r && i < r->n ? &r->hits[i] : NULL;
}

size_t akv_search_matched(const akv_search_result *r)
{
    return r ? r->matched : 0;
}

int akv_search_truncated(const akv_search_result *r)
{
    return r ? r->truncated : 0;
}

void akv_search_free(akv_search_result *r)
{
    if (r == NULL)
        return;
    free(r->hits);
    free(r->strings);
    free(r);
}

json_t *akv_search_to_json_value(const akv_search_result *r, const char *sandbox,
                                 int scope)
{
    akv_json_guard_begin();
    json_t *items = json_array();
    json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:b,s:o}", "sandbox", sandbox,
                          "scope", akv_scope_name(scope), "matched",
                          (json_int_t)r->matched, "searched",
                          (json_int_t)r->searched, "truncated",
                          r->truncated, "items", items);
    for (size_t i = 0; o && i < r->n; i++) {
        const akv_search_hit *h = &r->hits[i];
        /* Scores to 3 decimals, as printed (no float noise in JSON). */
        double score =
            (double)(long long)(h->score * 1000.0 + 0.5) / 1000.0;
        json_t *it = json_pack("{s:s,s:s,s:I,s:f,s:s}", "name", h->name,
                               "origin", h->origin, "version",
                               (json_int_t)h->version, "score", score,
                               "description", h->description);
        if (it && scope == AKV_SCOPE_INSTRUCTIONS)
            json_object_set_new(it, "tokens",
                                json_integer((json_int_t)h->tokens));
        json_array_append_new(items, it);
    }
    if (akv_json_guard_end()) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *akv_search_to_json(const akv_search_result *r, const char *sandbox, int scope)
{
    json_t *o = akv_search_to_json_value(r, sandbox, scope);
    char *s = o ? akv_json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                        JSON_REAL_PRECISION(
                                            AKV_JSON_REAL_DIGITS))
                : NULL;
    json_decref(o);
    return s;
}

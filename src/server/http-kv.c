/*
 * http-kv.c — the key-value routes of SPEC.md §4:
 *
 *   GET|HEAD /v1/sandboxes/{sb}/kv/{scope}/{key}   read (conditional)
 *   PUT      /v1/sandboxes/{sb}/kv/{scope}/{key}   write (CAS, TTL, type)
 *   DELETE   /v1/sandboxes/{sb}/kv/{scope}/{key}   delete
 *   GET      /v1/sandboxes/{sb}/kv/{scope}         list
 *   DELETE   /v1/sandboxes/{sb}/kv/{scope}         clear
 *
 * Each handler parses what the router left (headers, query), makes one
 * library call and renders the result. Sandbox, scope and key have been
 * decoded and validated by the router. The GET path builds no JSON and
 * copies no value: the body is sent straight from the store's memory map
 * while the read snapshot is held.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "server.h"

/* ETag, Last-Modified and the X-Agentkv-* headers of an entry. */
static void entity_headers(struct http_req *r, const akv_meta *m)
{
    struct obuf *h = &r->resp.hdrs;
    char date[HTTP_DATE_BUF], when[AKV_TIME_BUF];
    OB_LIT(h, "ETag: \"");
    ob_add(h, m->sha256, sizeof m->sha256 - 1);
    OB_LIT(h, "\"\r\nLast-Modified: ");
    ob_add(h, date, http_date(m->updated_at, date));
    OB_LIT(h, "\r\nX-Agentkv-Version: ");
    ob_u64(h, m->version);
    OB_LIT(h, "\r\nX-Agentkv-Expires-At: ");
    if (m->expires_at)
        ob_str(h, akv_time_format(m->expires_at, when));
    else
        OB_LIT(h, "never");
    OB_LIT(h, "\r\nX-Agentkv-Origin: ");
    ob_str(h, m->origin);
    OB_LIT(h, "\r\n");
}

/* Metadata goes out as a header only when it is one line of printable
 * text (it came in that way through PUT; the CLI may store other text). */
static void metadata_header(struct http_req *r, const akv_meta *m)
{
    if (m->metadata == NULL || m->metadata_len == 0)
        return;
    for (size_t i = 0; i < m->metadata_len; i++) {
        unsigned char c = (unsigned char)m->metadata[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return;
    }
    http_header_n(r, "X-Agentkv-Metadata", m->metadata, m->metadata_len);
}

static int no_query(struct http_req *r)
{
    return http_query(r, NULL, 0, NULL, NULL, 0);
}

void http_kv_get(struct http_req *r)
{
    struct http_span inm = r->head->if_none_match;
    if (no_query(r) != 0)
        return;
    if (inm.p && http_if_none_match(inm, "") < 0) {
        http_error(r, AKV_EINVAL,
                   "malformed If-None-Match: expected * or a list of "
                   "entity tags");
        return;
    }
    akv_value *v = NULL;
    int rc;
    if (r->fetched) { /* read already, with the rest of its batch */
        rc = r->fetched->rc;
        v = r->fetched->value;
        r->fetched->value = NULL;
    } else {
        rc = akv_get(r->store, r->sandbox, r->scope, r->key, r->key_len, &v);
    }
    if (rc != AKV_OK) {
        if (rc == AKV_ENOTFOUND)
            r->hit = 0;
        else if (rc == AKV_EINTEGRITY)
            metrics_integrity_failure(r->srv->metrics);
        if (r->fetched)
            http_error_from(r, rc, &r->fetched->error);
        else
            http_error_lib(r, rc);
        return;
    }
    r->hit = 1;
    if (r->scope == AKV_SCOPE_INSTRUCTIONS)
        metrics_instruction_fetch(r->srv->metrics, r->key);
    const akv_meta *m = akv_value_meta(v);
    entity_headers(r, m);
    if (inm.p && http_if_none_match(inm, m->sha256) == 1) {
        r->resp.status = 304;
        akv_value_release(v);
        return;
    }
    OB_LIT(&r->resp.hdrs, "Content-Type: ");
    ob_str(&r->resp.hdrs, m->content_type);
    OB_LIT(&r->resp.hdrs, "\r\n");
    metadata_header(r, m);
    size_t len;
    r->resp.ext = akv_value_data(v, &len);
    r->resp.ext_len = len;
    r->resp.hold = v;
    r->resp.status = 200;
}

/* Copies a header value into a NUL-terminated buffer; -1 if too long. */
static int header_copy(struct http_span v, char *out, size_t cap)
{
    if (v.len >= cap)
        return -1;
    if (v.len)
        memcpy(out, v.p, v.len);
    out[v.len] = '\0';
    return 0;
}

int http_kv_put_parse(struct http_req *r, struct kv_put_args *a)
{
    static const char *const names[] = {"ttl"};
    const struct http_head *h = r->head;
    const char *q[1];
    char qbuf[128];
    akv_put_opts *o = &a->opts;
    int rc;

    akv_put_opts_init(o);
    if (http_query(r, names, 1, q, qbuf, sizeof qbuf) != 0)
        return -1;
    if (q[0] && (rc = akv_duration_parse(q[0], strlen(q[0]), &o->ttl)) !=
                    AKV_OK) {
        http_error_lib(r, rc);
        return -1;
    }
    if (h->content_type.p) {
        if (header_copy(h->content_type, a->ct, sizeof a->ct) != 0) {
            http_error(r, AKV_EINVAL,
                       "invalid content type: 1 to %d bytes expected",
                       AKV_CONTENT_TYPE_MAX);
            return -1;
        }
        o->content_type = a->ct;
    }
    if (h->metadata.p) {
        o->metadata = h->metadata.p;
        o->metadata_len = h->metadata.len;
    }
    if (h->if_match.p) {
        int k = http_if_match_parse(h->if_match, a->want);
        if (k < 0) {
            http_error(r, AKV_EINVAL,
                       "malformed If-Match: expected one entity tag, "
                       "\"<sha256>\"");
            return -1;
        }
        if (k == 0) {
            /* A weak or foreign tag never matches an entry's SHA-256. */
            http_error(r, AKV_EPRECONDITION,
                       "If-Match does not name the current entry");
            return -1;
        }
        o->if_match = a->want;
    }
    if (h->if_none_match.p) {
        if (!http_is_star(h->if_none_match)) {
            http_error(r, AKV_EINVAL,
                       "on PUT, If-None-Match supports only * (create "
                       "only)");
            return -1;
        }
        o->create_only = 1;
    }
    return 0;
}

void http_kv_put_done(struct http_req *r, int rc, const akv_error *e,
                      const akv_meta *m, int created)
{
    if (rc != AKV_OK) {
        if (rc == AKV_EQUOTA)
            metrics_quota_rejected(r->srv->metrics, r->scope);
        http_error_from(r, rc, e);
        return;
    }
    /* Straight into the body, grown once when it has no room. */
    struct obuf *b = &r->resp.body;
    size_t len;
    rc = akv_meta_format_json(m, b->p ? b->p + b->len : NULL, b->cap - b->len,
                              &len);
    if (rc == AKV_OK && len > b->cap - b->len) {
        if (ob_reserve(b, len) != 0)
            rc = AKV_ENOMEM;
        else
            rc = akv_meta_format_json(m, b->p + b->len, b->cap - b->len,
                                      &len);
    }
    if (rc != AKV_OK) {
        /* The write is done; only its answer could not be made. */
        http_error(r, AKV_ENOMEM, "the entry was written, but its answer "
                                  "could not be rendered: %s",
                   rc == AKV_ENOMEM ? "out of memory"
                                    : akv_last_error()->message);
        return;
    }
    b->len += len;
    r->resp.status = created ? 201 : 200;
    entity_headers(r, m);
    http_header(r, "Content-Type", "application/json");
}

void http_kv_put(struct http_req *r)
{
    struct kv_put_args a;
    if (http_kv_put_parse(r, &a) != 0)
        return;
    akv_meta m;
    int created = 0;
    int rc = akv_put(r->store, r->sandbox, r->scope, r->key, r->key_len,
                     r->body, r->body_len, &a.opts, &m, &created);
    http_kv_put_done(r, rc, akv_last_error(), &m, created);
}

void http_kv_delete(struct http_req *r)
{
    if (no_query(r) != 0)
        return;
    if (r->head->if_match.p || r->head->if_none_match.p) {
        http_error(r, AKV_EINVAL,
                   "conditional DELETE is not supported (If-Match, "
                   "If-None-Match)");
        return;
    }
    int rc = akv_del(r->store, r->sandbox, r->scope, r->key, r->key_len);
    if (rc != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    r->resp.status = 204;
}

/* "true"/"1" → 1, "false"/"0"/"" → 0, else -1. */
static int parse_bool(const char *s)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        return 1;
    if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || s[0] == '\0')
        return 0;
    return -1;
}

void http_kv_list(struct http_req *r)
{
    static const char *const names[] = {"prefix", "limit", "cursor",
                                        "include_expired"};
    const char *q[4];
    char qbuf[4 * (AKV_KEY_MAX + 1) + 64];
    akv_list_opts o;

    if (http_query(r, names, 4, q, qbuf, sizeof qbuf) != 0)
        return;
    memset(&o, 0, sizeof o);
    if (q[0]) {
        o.prefix = q[0];
        o.prefix_len = strlen(q[0]);
    }
    if (q[1]) {
        char *end;
        unsigned long long n = strtoull(q[1], &end, 10);
        if (q[1][0] < '0' || q[1][0] > '9' || *end || n == 0 ||
            n > AKV_LIST_MAX_LIMIT) {
            http_error(r, AKV_EINVAL, "invalid limit: an integer from 1 to %d",
                       AKV_LIST_MAX_LIMIT);
            return;
        }
        o.limit = (size_t)n;
    }
    if (q[2]) {
        o.cursor = q[2];
        o.cursor_len = strlen(q[2]);
    }
    if (q[3] && (o.include_expired = parse_bool(q[3])) < 0) {
        http_error(r, AKV_EINVAL, "invalid include_expired: true or false");
        return;
    }

    akv_list *list;
    int rc = akv_list_entries(r->store, r->sandbox, r->scope, &o, &list);
    if (rc != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    json_t *items = json_array();
    size_t n = akv_list_count(list);
    for (size_t i = 0; items && i < n; i++)
        if (json_array_append_new(
                items, akv_meta_to_json_value(akv_list_item(list, i))) != 0) {
            json_decref(items);
            items = NULL;
        }
    const char *next = akv_list_next_cursor(list);
    /* damaged: entries skipped because their stored record is damaged
     * (logged by the library; `agentkv check` lists them). */
    json_t *page = items ? json_pack("{s:o,s:o,s:I}", "items", items,
                                     "next_cursor",
                                     next ? http_json_string(next, strlen(next))
                                          : json_null(),
                                     "damaged",
                                     (json_int_t)akv_list_damaged(list))
                         : NULL;
    akv_list_free(list);
    http_reply_json_value(r, 200, page);
}

void http_kv_clear(struct http_req *r)
{
    uint64_t deleted = 0;
    if (no_query(r) != 0)
        return;
    int rc = akv_clear(r->store, r->sandbox, r->scope, &deleted);
    if (rc != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    http_reply_json_value(r, 200, json_pack("{s:I}", "deleted",
                                            (json_int_t)deleted));
}

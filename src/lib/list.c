/*
 * list.c — akv_list_entries: one page of a namespace in key order, with the
 * overlay merge of system/instructions (the sandbox's entries win over
 * _global's on equal keys) and expiry filtering. The cursor is the last key
 * returned; the next page starts after it.
 *
 * A page is bounded twice: by the item limit and by AKV_LIST_MAX_BYTES of
 * metadata (item_bytes), so that a page of entries with 64 KiB of metadata
 * each stays a few MiB in memory and on the wire instead of hundreds. It
 * always holds at least one item, so paging always advances. Damaged
 * records (they did not decode) are skipped and counted, never the failure
 * of the whole page: one bad record must not hide a scope.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct akv_list {
    akv_meta *items;
    size_t count, cap;
    size_t bytes;   /* sum of item_bytes over items */
    size_t damaged; /* damaged records skipped */
    char cursor[AKV_KEY_MAX + 1];
    int has_cursor;
};

/* One source of the merge: the visible entries of one namespace, up to a
 * page (limit items or the byte budget). Invariant: when more is set, the
 * source holds every visible entry of its namespace with a key up to its
 * last item's, and at least one more follows. */
struct collect {
    akv_list *list;      /* destination */
    const char *sandbox; /* the sandbox asked for */
    size_t limit;
    int64_t now;
    int include_expired;
    bool more;
    int rc;
};

/* What an item costs against the byte budget: roughly its JSON size. */
static size_t item_bytes(const akv_meta *m)
{
    return m->key_len + strlen(m->content_type) + m->metadata_len +
           AKV_LIST_ITEM_BYTES;
}

static int push(akv_list *l, const akv_meta *m)
{
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        akv_meta *p = realloc(l->items, ncap * sizeof *p);
        if (p == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        l->items = p;
        l->cap = ncap;
    }
    l->items[l->count++] = *m;
    l->bytes += item_bytes(m);
    return AKV_OK;
}

static int collect_one(void *ctx, const akv_ns *ns, const char *key,
                       size_t key_len, const akv_rec *rec)
{
    struct collect *c = ctx;
    char origin[AKV_SANDBOX_MAX + 1];
    memcpy(origin, ns->sandbox, ns->sandbox_len);
    origin[ns->sandbox_len] = '\0';
    if (rec->damaged) {
        c->list->damaged++;
        akv_log("warning", "integrity error: %s/%s/%.*s has a damaged "
                "record; skipped in a list (run agentkv check)", origin,
                akv_scope_name(ns->scope), (int)key_len, key);
        return 0;
    }
    if (!c->include_expired && akv_rec_expired(rec, c->now))
        return 0;
    if (c->list->count >= c->limit || c->list->bytes >= AKV_LIST_MAX_BYTES) {
        c->more = true; /* a page is full and this entry starts the next */
        return 1;
    }
    akv_meta m;
    akv_meta_fill(&m, c->sandbox, origin, ns->scope, key, key_len, rec);
    if (rec->metadata_len) {
        char *copy = malloc(rec->metadata_len);
        if (copy == NULL) {
            c->rc = akv_fail(AKV_ENOMEM, "out of memory");
            return 1;
        }
        memcpy(copy, rec->metadata, rec->metadata_len);
        m.metadata = copy;
    }
    if ((c->rc = push(c->list, &m)) != AKV_OK) {
        free((void *)m.metadata);
        return 1;
    }
    return 0;
}

void akv_list_free(akv_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->count; i++)
        free((void *)l->items[i].metadata);
    free(l->items);
    free(l);
}

static int scan_ns(akv_store *s, const char *ns_sandbox, const char *sandbox,
                   akv_scope scope, const akv_list_opts *o, size_t limit,
                   akv_list *dst, bool *more)
{
    struct collect c = {dst,   sandbox, limit, akv_store_now(s),
                        o->include_expired, false, AKV_OK};
    akv_ns ns = {ns_sandbox, strlen(ns_sandbox), scope};
    int rc = s->be->ops->scan(s->be, &ns, o->prefix,
                              o->prefix ? o->prefix_len : 0, o->cursor,
                              o->cursor ? o->cursor_len : 0, collect_one, &c);
    *more = c.more;
    if (c.rc != AKV_OK)
        return c.rc;
    return rc < 0 ? rc : AKV_OK;
}

static int keycmp(const akv_meta *a, const akv_meta *b)
{
    return akvx_keycmp(a->key, a->key_len, b->key, b->key_len);
}

/* Merges own and global (both in key order) into a new list; own wins on
 * equal keys. Items move: both sources give up their metadata. */
static int merge(akv_list *own, akv_list *global, akv_list **out)
{
    akv_list *res = calloc(1, sizeof *res);
    if (res == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    res->damaged = own->damaged + global->damaged;
    size_t i = 0, j = 0;
    int rc = AKV_OK;
    while (rc == AKV_OK && (i < own->count || j < global->count)) {
        akv_meta *pick;
        if (j == global->count)
            pick = &own->items[i++];
        else if (i == own->count)
            pick = &global->items[j++];
        else {
            int c = keycmp(&own->items[i], &global->items[j]);
            if (c == 0)
                j++; /* shadowed by the sandbox's own entry */
            pick = c <= 0 ? &own->items[i++] : &global->items[j++];
        }
        rc = push(res, pick);
        if (rc == AKV_OK)
            pick->metadata = NULL; /* ownership moved to res */
    }
    if (rc != AKV_OK) {
        akv_list_free(res);
        return rc;
    }
    *out = res;
    return AKV_OK;
}

int akv_list_entries(akv_store *s, const char *sandbox, akv_scope scope,
                     const akv_list_opts *opts, akv_list **out)
{
    akv_list_opts o = {0};
    int rc;
    akv_error_clear();
    if (opts)
        o = *opts;
    if (scope < 0 || scope >= AKV_SCOPE_COUNT)
        return akv_fail(AKV_EINVAL, "invalid scope %d", (int)scope);
    if (sandbox == NULL)
        return akv_fail(AKV_EINVAL, "invalid sandbox: empty");
    if ((rc = akv_sandbox_check(sandbox, strlen(sandbox))) != AKV_OK)
        return rc;
    if (o.prefix && o.prefix_len > AKV_KEY_MAX)
        return akv_fail(AKV_EINVAL, "prefix longer than a key can be");
    if (o.prefix && o.prefix_len == 0)
        o.prefix = NULL;
    if (o.cursor && (akv_key_check(o.cursor, o.cursor_len) != AKV_OK))
        return akv_fail(AKV_EINVAL, "invalid cursor");
    size_t limit = o.limit ? o.limit : AKV_LIST_DEFAULT_LIMIT;
    if (limit > AKV_LIST_MAX_LIMIT)
        limit = AKV_LIST_MAX_LIMIT;

    akv_list *own = calloc(1, sizeof *own), *global = NULL;
    if (own == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    bool own_more = false, global_more = false;
    rc = scan_ns(s, sandbox, sandbox, scope, &o, limit, own, &own_more);
    bool overlay = akv_scope_is_overlay(scope) &&
                   strcmp(sandbox, AKV_GLOBAL_SANDBOX) != 0;
    if (rc == AKV_OK && overlay) {
        if ((global = calloc(1, sizeof *global)) == NULL)
            rc = akv_fail(AKV_ENOMEM, "out of memory");
        else
            rc = scan_ns(s, AKV_GLOBAL_SANDBOX, sandbox, scope, &o, limit,
                         global, &global_more);
    }
    /* A source that stopped early is complete only up to its last key
     * (struct collect): the page must not reach past the smaller such key,
     * or an entry of that source beyond it would be skipped. */
    akv_meta bound;
    bool has_bound = false;
    if (rc == AKV_OK && own_more) {
        bound = own->items[own->count - 1];
        has_bound = true;
    }
    if (rc == AKV_OK && global_more &&
        (!has_bound || keycmp(&global->items[global->count - 1], &bound) < 0)) {
        bound = global->items[global->count - 1];
        has_bound = true;
    }
    akv_list *res = own;
    if (rc == AKV_OK && global && (global->count || global->damaged)) {
        rc = merge(own, global, &res);
        akv_list_free(own);
        own = NULL;
    }
    akv_list_free(global);
    if (rc != AKV_OK) {
        akv_list_free(own);
        return rc;
    }
    size_t keep = 0, bytes = 0;
    for (; keep < res->count && keep < limit; keep++) {
        const akv_meta *m = &res->items[keep];
        size_t b = item_bytes(m);
        if (keep > 0 && bytes + b > AKV_LIST_MAX_BYTES)
            break; /* over the budget: the first item is always kept */
        if (has_bound && keycmp(m, &bound) > 0)
            break;
        bytes += b;
    }
    res->bytes = bytes;
    if (keep < res->count || own_more || global_more) {
        for (size_t k = keep; k < res->count; k++)
            free((void *)res->items[k].metadata);
        res->count = keep;
        /* keep > 0: a source that stopped early holds an item, and the
         * merge's first item is never past any source's last. */
        if (keep > 0) {
            memcpy(res->cursor, res->items[keep - 1].key,
                   res->items[keep - 1].key_len + 1);
            res->has_cursor = 1;
        }
    }
    *out = res;
    return AKV_OK;
}

size_t akv_list_count(const akv_list *l)
{
    return l->count;
}

const akv_meta *akv_list_item(const akv_list *l, size_t i)
{
    return i < l->count ? &l->items[i] : NULL;
}

const char *akv_list_next_cursor(const akv_list *l)
{
    return l->has_cursor ? l->cursor : NULL;
}

size_t akv_list_damaged(const akv_list *l)
{
    return l->damaged;
}

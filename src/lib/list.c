/*
 * list.c — akv_list_entries: one page of a namespace in key order, with the
 * overlay merge of system/instructions (the sandbox's entries win over
 * _global's on equal keys) and expiry filtering. The cursor is the last key
 * returned; the next page starts after it.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct akv_list {
    akv_meta *items;
    size_t count, cap;
    char cursor[AKV_KEY_MAX + 1];
    int has_cursor;
};

/* One source of the merge: up to `want` visible entries of one namespace. */
struct collect {
    akv_list *list;      /* destination */
    const char *sandbox; /* the sandbox asked for */
    size_t want;
    int64_t now;
    int include_expired;
    int rc;
};

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
    return AKV_OK;
}

static int collect_one(void *ctx, const akv_ns *ns, const char *key,
                       size_t key_len, const akv_rec *rec)
{
    struct collect *c = ctx;
    if (!c->include_expired && akv_rec_expired(rec, c->now))
        return 0;
    char origin[AKV_SANDBOX_MAX + 1];
    memcpy(origin, ns->sandbox, ns->sandbox_len);
    origin[ns->sandbox_len] = '\0';
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
    return c->list->count >= c->want;
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
                   akv_scope scope, const akv_list_opts *o, size_t want,
                   akv_list *dst)
{
    struct collect c = {dst, sandbox, want, akv_store_now(s),
                        o->include_expired, AKV_OK};
    akv_ns ns = {ns_sandbox, strlen(ns_sandbox), scope};
    int rc = s->be->ops->scan(s->be, &ns, o->prefix,
                              o->prefix ? o->prefix_len : 0, o->cursor,
                              o->cursor ? o->cursor_len : 0, collect_one, &c);
    if (c.rc != AKV_OK)
        return c.rc;
    return rc < 0 ? rc : AKV_OK;
}

static int keycmp(const akv_meta *a, const akv_meta *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    return c ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
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
    /* Collect one more than a page from each source: if anything is left
     * after the merge, there is a next page. */
    rc = scan_ns(s, sandbox, sandbox, scope, &o, limit + 1, own);
    bool overlay = akv_scope_is_overlay(scope) &&
                   strcmp(sandbox, AKV_GLOBAL_SANDBOX) != 0;
    if (rc == AKV_OK && overlay) {
        if ((global = calloc(1, sizeof *global)) == NULL)
            rc = akv_fail(AKV_ENOMEM, "out of memory");
        else
            rc = scan_ns(s, AKV_GLOBAL_SANDBOX, sandbox, scope, &o, limit + 1,
                         global);
    }
    if (rc != AKV_OK) {
        akv_list_free(own);
        akv_list_free(global);
        return rc;
    }
    akv_list *res = own;
    if (global && global->count) {
        res = calloc(1, sizeof *res);
        if (res == NULL) {
            akv_list_free(own);
            akv_list_free(global);
            return akv_fail(AKV_ENOMEM, "out of memory");
        }
        size_t i = 0, j = 0;
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
        akv_list_free(own);
        akv_list_free(global);
        if (rc != AKV_OK) {
            akv_list_free(res);
            return rc;
        }
    } else {
        akv_list_free(global);
    }
    if (res->count > limit) {
        for (size_t k = limit; k < res->count; k++)
            free((void *)res->items[k].metadata);
        res->count = limit;
        memcpy(res->cursor, res->items[limit - 1].key,
               res->items[limit - 1].key_len + 1);
        res->has_cursor = 1;
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

/*
 * test-list.c — akv_list_entries: key order, prefixes, limits (default and
 * capped), cursor paging over thousands of keys (every key exactly once),
 * paging of merged overlay lists, include_expired, and invalid cursors.
 * Large namespaces are loaded with one akv_import instead of thousands of
 * fsynced puts. Pages are bounded in bytes too: entries with 63 KiB of
 * metadata each come back about 4 MiB at a time, however high the limit,
 * and paging still returns every key once (also through an overlay merge
 * whose sources stop at different keys).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define T0 1795651200000LL /* 2026-11-26T00:00:00Z, tu_store_open's clock */
#define SHA_EMPTY                                                            \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- helpers ----------------------------------------------------------- */

/* Appends one import line for an empty, never-expiring value. */
static void add_line(FILE *f, const char *sb, const char *scope,
                     const char *key)
{
    fprintf(f,
            "{\"sandbox\":\"%s\",\"scope\":\"%s\",\"key\":\"%s\","
            "\"content_type\":\"text/plain\",\"sha256\":\"" SHA_EMPTY "\","
            "\"version\":1,\"created_at\":\"2026-11-26T00:00:00.000Z\","
            "\"updated_at\":\"2026-11-26T00:00:00.000Z\","
            "\"expires_at\":null,\"metadata\":{},\"value\":\"\"}\n",
            sb, scope, key);
}

/* Imports keys[0..n) into sb/scope in one transaction. */
static void import_keys(tu_store *ts, const char *sb, const char *scope,
                        char **keys, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *w = open_memstream(&text, &len);
    assert_non_null(w);
    for (size_t i = 0; i < n; i++)
        add_line(w, sb, scope, keys[i]);
    fclose(w);
    FILE *r = fmemopen(text, len, "r");
    assert_non_null(r);
    uint64_t count = 0;
    assert_ok(akv_import(ts->store, r, NULL, NULL, &count));
    assert_int_equal(count, n);
    fclose(r);
    free(text);
}

/* n keys made from fmt and an index; owned, free with free_keys(). */
static char **make_keys(const char *fmt, size_t n)
{
    char **keys = calloc(n, sizeof *keys);
    assert_non_null(keys);
    for (size_t i = 0; i < n; i++)
        if (asprintf(&keys[i], fmt, (int)i) < 0)
            fail_msg("out of memory");
    return keys;
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_ttl(tu_store *ts, const char *sb, akv_scope scope,
                    const char *key, int64_t ttl)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.ttl = ttl;
    assert_ok(akv_put(ts->store, sb, scope, key, strlen(key), "v", 1, &o,
                      NULL, NULL));
}

/* Lists one page; *out owned by the caller. */
static akv_list *page(tu_store *ts, const char *sb, akv_scope scope,
                      const char *prefix, size_t limit, const char *cursor,
                      int include_expired)
{
    akv_list_opts o = {0};
    o.prefix = prefix;
    o.prefix_len = prefix ? strlen(prefix) : 0;
    o.limit = limit;
    o.cursor = cursor;
    o.cursor_len = cursor ? strlen(cursor) : 0;
    o.include_expired = include_expired;
    akv_list *l = NULL;
    assert_ok(akv_list_entries(ts->store, sb, scope, &o, &l));
    assert_non_null(l);
    return l;
}

/* Asserts one page holds exactly keys want[0..n) in order. */
static void want_keys(const akv_list *l, const char *const *want, size_t n)
{
    assert_int_equal(akv_list_count(l), n);
    for (size_t i = 0; i < n; i++) {
        const akv_meta *m = akv_list_item(l, i);
        assert_non_null(m);
        assert_string_equal(m->key, want[i]);
        assert_int_equal(m->key_len, strlen(want[i]));
    }
    assert_null(akv_list_item(l, n));
}

/* Pages through sb/scope with limit, collecting every key and origin;
 * asserts the result is exactly want[0..n) (with origins if given). */
static void page_through(tu_store *ts, const char *sb, akv_scope scope,
                         size_t limit, char *const *want,
                         const char *const *origins, size_t n)
{
    char cursor[AKV_KEY_MAX + 1];
    int have_cursor = 0;
    size_t seen = 0, pages = 0;
    for (;;) {
        akv_list *l = page(ts, sb, scope, NULL, limit,
                           have_cursor ? cursor : NULL, 0);
        size_t c = akv_list_count(l);
        assert_true(c <= limit);
        for (size_t i = 0; i < c; i++, seen++) {
            const akv_meta *m = akv_list_item(l, i);
            if (seen >= n)
                fail_msg("extra key %s after %zu keys", m->key, n);
            if (strcmp(m->key, want[seen]) != 0)
                fail_msg("item %zu is %s, expected %s", seen, m->key,
                         want[seen]);
            if (origins)
                assert_string_equal(m->origin, origins[seen]);
        }
        pages++;
        const char *next = akv_list_next_cursor(l);
        if (next == NULL) {
            akv_list_free(l);
            break;
        }
        assert_int_equal(c, limit); /* only full pages have a next one */
        assert_string_equal(next, akv_list_item(l, c - 1)->key);
        strcpy(cursor, next);
        have_cursor = 1;
        akv_list_free(l);
        assert_true(pages <= n + 1);
    }
    assert_int_equal(seen, n);
    assert_int_equal(pages, n / limit + (n % limit ? 1 : 0) + (n == 0));
}

/* ---- tests ------------------------------------------------------------- */

static void list_is_in_key_order_and_scoped_to_the_namespace(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    char *keys[] = {"b", "a/2", "a", "ab", "a/1", "B", "\xc3\xa9"};
    import_keys(&ts, "sb", "task", keys, 7);
    char *other[] = {"a0", "zz"};
    import_keys(&ts, "sb2", "task", other, 2);
    import_keys(&ts, "s", "task", other, 2);
    import_keys(&ts, "sb", "artifacts", other, 2);
    akv_list *l = page(&ts, "sb", AKV_SCOPE_TASK, NULL, 0, NULL, 0);
    const char *want[] = {"B", "a", "a/1", "a/2", "ab", "b", "\xc3\xa9"};
    want_keys(l, want, 7);
    assert_null(akv_list_next_cursor(l));
    const akv_meta *m = akv_list_item(l, 0);
    assert_string_equal(m->sandbox, "sb");
    assert_string_equal(m->origin, "sb");
    assert_int_equal(m->scope, AKV_SCOPE_TASK);
    assert_string_equal(m->content_type, "text/plain");
    assert_string_equal(m->sha256, SHA_EMPTY);
    assert_int_equal(m->version, 1);
    akv_list_free(l);
    /* An empty namespace lists nothing and has no cursor. */
    l = page(&ts, "nobody", AKV_SCOPE_TASK, NULL, 0, NULL, 0);
    assert_int_equal(akv_list_count(l), 0);
    assert_null(akv_list_next_cursor(l));
    akv_list_free(l);
    tu_store_close(&ts);
}

static void prefix_selects_keys_that_start_with_it(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    char *keys[] = {"a", "a/1", "a/2", "ab", "b/1", "b/2"};
    import_keys(&ts, "sb", "task", keys, 6);

    akv_list *l = page(&ts, "sb", AKV_SCOPE_TASK, "a/", 0, NULL, 0);
    const char *w1[] = {"a/1", "a/2"};
    want_keys(l, w1, 2);
    akv_list_free(l);

    l = page(&ts, "sb", AKV_SCOPE_TASK, "a", 0, NULL, 0);
    const char *w2[] = {"a", "a/1", "a/2", "ab"};
    want_keys(l, w2, 4);
    akv_list_free(l);

    l = page(&ts, "sb", AKV_SCOPE_TASK, "b/2", 0, NULL, 0);
    const char *w3[] = {"b/2"};
    want_keys(l, w3, 1);
    akv_list_free(l);

    l = page(&ts, "sb", AKV_SCOPE_TASK, "c", 0, NULL, 0);
    want_keys(l, NULL, 0);
    akv_list_free(l);

    /* An empty prefix is no prefix. */
    akv_list_opts o = {0};
    o.prefix = "";
    assert_ok(akv_list_entries(ts.store, "sb", AKV_SCOPE_TASK, &o, &l));
    assert_int_equal(akv_list_count(l), 6);
    akv_list_free(l);

    /* Prefix and cursor together page within the prefix. */
    l = page(&ts, "sb", AKV_SCOPE_TASK, "a", 2, NULL, 0);
    const char *p1[] = {"a", "a/1"};
    want_keys(l, p1, 2);
    assert_string_equal(akv_list_next_cursor(l), "a/1");
    akv_list_free(l);
    l = page(&ts, "sb", AKV_SCOPE_TASK, "a", 2, "a/1", 0);
    const char *p2[] = {"a/2", "ab"};
    want_keys(l, p2, 2);
    assert_null(akv_list_next_cursor(l));
    akv_list_free(l);
    /* A cursor before the prefix range starts at the prefix. */
    l = page(&ts, "sb", AKV_SCOPE_TASK, "b/", 0, "a", 0);
    const char *p3[] = {"b/1", "b/2"};
    want_keys(l, p3, 2);
    akv_list_free(l);
    tu_store_close(&ts);
}

static void paging_2500_keys_returns_every_key_once_in_order(void **state)
{
    (void)state;
    const size_t n = 2500;
    tu_store ts;
    tu_store_open(&ts, NULL);
    /* "k%d" does not sort numerically: k0, k1, k10, k100, k1000, k1001 ... */
    char **keys = make_keys("docs/k%d", n);
    import_keys(&ts, "sb", "task", keys, n);
    /* Neighbouring namespaces must not leak into the pages. */
    char **decoys = make_keys("docs/k%d", 50);
    import_keys(&ts, "sb2", "task", decoys, 50);
    import_keys(&ts, "s", "task", decoys, 50);
    import_keys(&ts, "sb", "project", decoys, 50);
    import_keys(&ts, "sb", "artifacts", decoys, 50);
    free_keys(decoys, 50);

    qsort(keys, n, sizeof *keys, cmp_str);
    page_through(&ts, "sb", AKV_SCOPE_TASK, 97, keys, NULL, n);
    page_through(&ts, "sb", AKV_SCOPE_TASK, 500, keys, NULL, n);
    page_through(&ts, "sb", AKV_SCOPE_TASK, 1, keys, NULL, n);
    free_keys(keys, n);
    tu_store_close(&ts);
}

static void default_limit_is_1000_and_limits_are_capped_at_max(void **state)
{
    (void)state;
    const size_t n = AKV_LIST_MAX_LIMIT + 50;
    tu_store ts;
    tu_store_open(&ts, NULL);
    char **keys = make_keys("k%06d", n); /* zero-padded: sorts as made */
    import_keys(&ts, "sb", "artifacts", keys, n);

    akv_list *l = page(&ts, "sb", AKV_SCOPE_ARTIFACTS, NULL, 0, NULL, 0);
    assert_int_equal(akv_list_count(l), AKV_LIST_DEFAULT_LIMIT);
    assert_string_equal(akv_list_next_cursor(l),
                        keys[AKV_LIST_DEFAULT_LIMIT - 1]);
    akv_list_free(l);

    l = page(&ts, "sb", AKV_SCOPE_ARTIFACTS, NULL, 1000000, NULL, 0);
    assert_int_equal(akv_list_count(l), AKV_LIST_MAX_LIMIT);
    assert_string_equal(akv_list_item(l, AKV_LIST_MAX_LIMIT - 1)->key,
                        keys[AKV_LIST_MAX_LIMIT - 1]);
    const char *next = akv_list_next_cursor(l);
    assert_non_null(next);
    assert_string_equal(next, keys[AKV_LIST_MAX_LIMIT - 1]);
    akv_list *rest = page(&ts, "sb", AKV_SCOPE_ARTIFACTS, NULL, (size_t)-1,
                          next, 0);
    assert_int_equal(akv_list_count(rest), 50);
    assert_string_equal(akv_list_item(rest, 0)->key,
                        keys[AKV_LIST_MAX_LIMIT]);
    assert_null(akv_list_next_cursor(rest));
    akv_list_free(rest);
    akv_list_free(l);
    free_keys(keys, n);
    tu_store_close(&ts);
}

static void full_last_page_has_no_next_cursor(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    char *keys[] = {"a", "b", "c", "d", "e", "f"};
    import_keys(&ts, "sb", "task", keys, 6);
    akv_list *l = page(&ts, "sb", AKV_SCOPE_TASK, NULL, 6, NULL, 0);
    assert_int_equal(akv_list_count(l), 6);
    assert_null(akv_list_next_cursor(l));
    akv_list_free(l);
    l = page(&ts, "sb", AKV_SCOPE_TASK, NULL, 3, "c", 0);
    const char *w[] = {"d", "e", "f"};
    want_keys(l, w, 3);
    assert_null(akv_list_next_cursor(l));
    akv_list_free(l);
    l = page(&ts, "sb", AKV_SCOPE_TASK, NULL, 5, NULL, 0);
    assert_int_equal(akv_list_count(l), 5);
    assert_string_equal(akv_list_next_cursor(l), "e");
    akv_list_free(l);
    /* A cursor past the last key gives an empty last page. */
    l = page(&ts, "sb", AKV_SCOPE_TASK, NULL, 5, "zzz", 0);
    assert_int_equal(akv_list_count(l), 0);
    assert_null(akv_list_next_cursor(l));
    akv_list_free(l);
    tu_store_close(&ts);
}

static void overlay_list_pages_with_cursor(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    /* _global has g/0..g/299 and s/0..s/99; S has s/0..s/199 and u/0..9. */
    char **g1 = make_keys("g/%d", 300), **g2 = make_keys("s/%d", 100);
    char **s1 = make_keys("s/%d", 200), **s2 = make_keys("u/%d", 10);
    import_keys(&ts, "_global", "instructions", g1, 300);
    import_keys(&ts, "_global", "instructions", g2, 100);
    import_keys(&ts, "S", "instructions", s1, 200);
    import_keys(&ts, "S", "instructions", s2, 10);
    import_keys(&ts, "T", "instructions", g1, 300); /* unseen from S */

    size_t n = 300 + 200 + 10;
    char **want = calloc(n, sizeof *want);
    const char **origin = calloc(n, sizeof *origin);
    assert_non_null(want);
    assert_non_null(origin);
    for (size_t i = 0; i < 300; i++)
        want[i] = g1[i];
    for (size_t i = 0; i < 200; i++)
        want[300 + i] = s1[i];
    for (size_t i = 0; i < 10; i++)
        want[500 + i] = s2[i];
    qsort(want, n, sizeof *want, cmp_str);
    for (size_t i = 0; i < n; i++)
        origin[i] = want[i][0] == 'g' ? "_global" : "S";

    page_through(&ts, "S", AKV_SCOPE_INSTRUCTIONS, 7, want, origin, n);
    page_through(&ts, "S", AKV_SCOPE_INSTRUCTIONS, 100, want, origin, n);
    page_through(&ts, "S", AKV_SCOPE_INSTRUCTIONS, 1000, want, origin, n);

    free(want);
    free(origin);
    free_keys(g1, 300);
    free_keys(g2, 100);
    free_keys(s1, 200);
    free_keys(s2, 10);
    tu_store_close(&ts);
}

static void include_expired_lists_expired_entries(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "sb", AKV_SCOPE_TASK, "a", 10);
    put_ttl(&ts, "sb", AKV_SCOPE_TASK, "b", 0);
    put_ttl(&ts, "sb", AKV_SCOPE_TASK, "c", 10);
    put_ttl(&ts, "sb", AKV_SCOPE_TASK, "d", 0);
    ts.clock.now_ms = T0 + 10 * 1000;

    akv_list *l = page(&ts, "sb", AKV_SCOPE_TASK, NULL, 0, NULL, 0);
    const char *live[] = {"b", "d"};
    want_keys(l, live, 2);
    akv_list_free(l);

    l = page(&ts, "sb", AKV_SCOPE_TASK, NULL, 0, NULL, 1);
    const char *all[] = {"a", "b", "c", "d"};
    want_keys(l, all, 4);
    assert_int_equal(akv_list_item(l, 0)->expires_at, T0 + 10 * 1000);
    assert_int_equal(akv_list_item(l, 1)->expires_at, 0);
    akv_list_free(l);

    /* Expired entries take no room in a page. */
    l = page(&ts, "sb", AKV_SCOPE_TASK, NULL, 2, NULL, 0);
    want_keys(l, live, 2);
    assert_null(akv_list_next_cursor(l));
    akv_list_free(l);
    l = page(&ts, "sb", AKV_SCOPE_TASK, NULL, 2, NULL, 1);
    want_keys(l, all, 2);
    assert_string_equal(akv_list_next_cursor(l), "b");
    akv_list_free(l);
    l = page(&ts, "sb", AKV_SCOPE_TASK, NULL, 2, "b", 1);
    want_keys(l, all + 2, 2);
    assert_null(akv_list_next_cursor(l));
    akv_list_free(l);
    tu_store_close(&ts);
}

static void list_items_carry_their_metadata(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.metadata = "{\"n\":1}";
    o.metadata_len = 7;
    o.content_type = "text/markdown";
    assert_ok(akv_put(ts.store, "sb", AKV_SCOPE_ARTIFACTS, "m", 1, "abc", 3,
                      &o, NULL, NULL));
    assert_ok(akv_put(ts.store, "sb", AKV_SCOPE_ARTIFACTS, "n", 1, "de", 2,
                      NULL, NULL, NULL));
    akv_list *l = page(&ts, "sb", AKV_SCOPE_ARTIFACTS, NULL, 0, NULL, 0);
    assert_int_equal(akv_list_count(l), 2);
    const akv_meta *m = akv_list_item(l, 0);
    assert_int_equal(m->metadata_len, 7);
    assert_memory_equal(m->metadata, "{\"n\":1}", 7);
    assert_string_equal(m->content_type, "text/markdown");
    assert_int_equal(m->size, 3);
    assert_int_equal(m->created_at, T0);
    assert_int_equal(m->expires_at, T0 + 48 * 3600 * 1000LL);
    m = akv_list_item(l, 1);
    assert_int_equal(m->metadata_len, 0);
    assert_int_equal(m->size, 2);
    assert_string_equal(m->content_type, AKV_DEFAULT_CONTENT_TYPE);
    akv_list_free(l);
    tu_store_close(&ts);
}

/* Large values: a backend that reads in pages bounded by bytes (Redis:
 * 8 MiB) must still return every key once, in order, across its pages. */
static void large_values_are_listed_across_byte_bounded_pages(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    size_t big = 3u << 20;
    char *val = malloc(big);
    assert_non_null(val);
    memset(val, 'v', big);
    static const char *const keys[] = {"big/0", "big/1", "big/2", "big/3",
                                       "big/4", "big/5", "big/6"};
    for (size_t i = 0; i < 7; i++)
        assert_ok(akv_put(ts.store, "sb", AKV_SCOPE_ARTIFACTS, keys[i],
                          strlen(keys[i]), val, big, NULL, NULL, NULL));
    assert_ok(akv_put(ts.store, "sb", AKV_SCOPE_ARTIFACTS, "small", 5, "s", 1,
                      NULL, NULL, NULL));
    akv_list_opts o = {0};
    o.prefix = "big/";
    o.prefix_len = 4;
    akv_list *l = NULL;
    assert_ok(akv_list_entries(ts.store, "sb", AKV_SCOPE_ARTIFACTS, &o, &l));
    want_keys(l, keys, 7);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(akv_list_item(l, i)->size, big);
    akv_list_free(l);
    o.cursor = "big/2";
    o.cursor_len = 5;
    assert_ok(akv_list_entries(ts.store, "sb", AKV_SCOPE_ARTIFACTS, &o, &l));
    want_keys(l, keys + 3, 4);
    akv_list_free(l);
    /* Without a prefix the small key follows the big ones. */
    memset(&o, 0, sizeof o);
    assert_ok(akv_list_entries(ts.store, "sb", AKV_SCOPE_ARTIFACTS, &o, &l));
    assert_int_equal(akv_list_count(l), 8);
    assert_string_equal(akv_list_item(l, 7)->key, "small");
    akv_list_free(l);
    free(val);
    tu_store_close(&ts);
}

/* A metadata JSON object of len bytes; owned. */
static char *big_metadata(size_t len)
{
    char *m = malloc(len + 1);
    assert_non_null(m);
    memcpy(m, "{\"pad\":\"", 8);
    memset(m + 8, 'm', len - 10);
    memcpy(m + len - 2, "\"}", 3);
    return m;
}

static void put_meta(tu_store *ts, const char *sb, akv_scope scope,
                     const char *key, const char *meta)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.metadata = meta;
    o.metadata_len = meta ? strlen(meta) : 0;
    assert_ok(akv_put(ts->store, sb, scope, key, strlen(key), "", 0, &o, NULL,
                      NULL));
}

/* Pages through sb/scope with the highest limit; returns the keys seen
 * (owned, NUL-separated in one string) and checks every page's size. */
static size_t page_all(tu_store *ts, const char *sb, akv_scope scope,
                       char **keys_out, size_t *pages_out)
{
    char cursor[AKV_KEY_MAX + 1];
    int have = 0;
    size_t n = 0, pages = 0;
    char *keys = NULL;
    size_t klen = 0;
    FILE *w = open_memstream(&keys, &klen);
    assert_non_null(w);
    for (;;) {
        akv_list *l = page(ts, sb, scope, NULL, AKV_LIST_MAX_LIMIT,
                           have ? cursor : NULL, 0);
        size_t c = akv_list_count(l), bytes = 0;
        assert_true(c >= 1 || akv_list_next_cursor(l) == NULL);
        for (size_t i = 0; i < c; i++) {
            const akv_meta *m = akv_list_item(l, i);
            bytes += m->key_len + strlen(m->content_type) + m->metadata_len +
                     AKV_LIST_ITEM_BYTES;
            fprintf(w, "%s\n", m->key);
        }
        /* At most the budget, unless one item alone is over it. */
        assert_true(bytes <= AKV_LIST_MAX_BYTES || c == 1);
        n += c;
        pages++;
        const char *next = akv_list_next_cursor(l);
        if (next == NULL) {
            akv_list_free(l);
            break;
        }
        assert_string_equal(next, akv_list_item(l, c - 1)->key);
        strcpy(cursor, next);
        have = 1;
        akv_list_free(l);
        assert_true(pages < 1000);
    }
    fclose(w);
    *keys_out = keys;
    *pages_out = pages;
    return n;
}

/* The case: a limit of 10,000 over entries with 63 KiB of
 * metadata once returned 124 MiB of JSON in one page. */
static void pages_are_bounded_in_bytes(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    char *meta = big_metadata(63 * 1024);
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%03d", i);
        put_meta(&ts, "sb", AKV_SCOPE_ARTIFACTS, key, meta);
    }
    size_t each = 4 + strlen(AKV_DEFAULT_CONTENT_TYPE) + 63 * 1024 +
                  AKV_LIST_ITEM_BYTES;
    akv_list *l = page(&ts, "sb", AKV_SCOPE_ARTIFACTS, NULL,
                       AKV_LIST_MAX_LIMIT, NULL, 0);
    assert_int_equal(akv_list_count(l), AKV_LIST_MAX_BYTES / each);
    print_message("a page of 63 KiB-metadata entries: %zu items (limit %d)\n",
                  akv_list_count(l), AKV_LIST_MAX_LIMIT);
    assert_non_null(akv_list_next_cursor(l));
    akv_list_free(l);
    char *keys;
    size_t pages;
    assert_int_equal(page_all(&ts, "sb", AKV_SCOPE_ARTIFACTS, &keys, &pages),
                     100);
    assert_int_equal(pages, 2);
    for (int i = 0; i < 100; i++) {
        char line[16];
        snprintf(line, sizeof line, "k%03d\n", i);
        assert_memory_equal(keys + 5 * i, line, 5);
    }
    free(keys);
    /* A small limit still wins over the byte budget. */
    l = page(&ts, "sb", AKV_SCOPE_ARTIFACTS, NULL, 3, NULL, 0);
    assert_int_equal(akv_list_count(l), 3);
    assert_string_equal(akv_list_next_cursor(l), "k002");
    akv_list_free(l);
    free(meta);
    tu_store_close(&ts);
}

/* Overlay: _global holds entries with large metadata (its page stops
 * early, by bytes), the sandbox small ones interleaved with them, some on
 * the same keys. Paging the merge returns every visible key once, in
 * order, the sandbox's copy where both have one. */
static void overlay_pages_bounded_in_bytes_miss_nothing(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    char *meta = big_metadata(63 * 1024);
    char want[200][8];
    size_t nwant = 0;
    for (int i = 0; i < 150; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%03d", i);
        bool global = i % 3 != 0, own = i % 5 == 0 || !global;
        if (global)
            put_meta(&ts, "_global", AKV_SCOPE_SYSTEM, key, meta);
        if (own)
            put_meta(&ts, "S", AKV_SCOPE_SYSTEM, key, "{\"own\":1}");
        strcpy(want[nwant++], key);
    }
    char *keys;
    size_t pages;
    assert_int_equal(page_all(&ts, "S", AKV_SCOPE_SYSTEM, &keys, &pages),
                     nwant);
    assert_true(pages >= 2);
    for (size_t i = 0; i < nwant; i++)
        assert_memory_equal(keys + 5 * i, want[i], 4);
    free(keys);
    free(meta);
    tu_store_close(&ts);
}

static void invalid_cursor_or_prefix_is_invalid_argument(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_ttl(&ts, "sb", AKV_SCOPE_TASK, "a", 0);
    static const char *const bad_cursor[] = {"../x", "/abs", "a//b", "a/",
                                             "a\\b", "a\x01", "\xff"};
    for (size_t i = 0; i < sizeof bad_cursor / sizeof bad_cursor[0]; i++) {
        akv_list_opts o = {0};
        o.cursor = bad_cursor[i];
        o.cursor_len = strlen(bad_cursor[i]);
        akv_list *l = NULL;
        assert_akv(akv_list_entries(ts.store, "sb", AKV_SCOPE_TASK, &o, &l),
                   AKV_EINVAL);
        assert_null(l);
    }
    /* Empty cursor text and an over-long one. */
    char longc[300];
    memset(longc, 'c', sizeof longc);
    akv_list_opts o = {0};
    akv_list *l = NULL;
    o.cursor = longc;
    o.cursor_len = 0;
    assert_akv(akv_list_entries(ts.store, "sb", AKV_SCOPE_TASK, &o, &l),
               AKV_EINVAL);
    o.cursor_len = sizeof longc;
    assert_akv(akv_list_entries(ts.store, "sb", AKV_SCOPE_TASK, &o, &l),
               AKV_EINVAL);
    /* A prefix longer than any key can be. */
    o.cursor = NULL;
    o.cursor_len = 0;
    o.prefix = longc;
    o.prefix_len = sizeof longc;
    assert_akv(akv_list_entries(ts.store, "sb", AKV_SCOPE_TASK, &o, &l),
               AKV_EINVAL);
    assert_null(l);
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(list_is_in_key_order_and_scoped_to_the_namespace),
        cmocka_unit_test(prefix_selects_keys_that_start_with_it),
        cmocka_unit_test(paging_2500_keys_returns_every_key_once_in_order),
        cmocka_unit_test(default_limit_is_1000_and_limits_are_capped_at_max),
        cmocka_unit_test(full_last_page_has_no_next_cursor),
        cmocka_unit_test(overlay_list_pages_with_cursor),
        cmocka_unit_test(include_expired_lists_expired_entries),
        cmocka_unit_test(list_items_carry_their_metadata),
        cmocka_unit_test(large_values_are_listed_across_byte_bounded_pages),
        cmocka_unit_test(invalid_cursor_or_prefix_is_invalid_argument),
        cmocka_unit_test(pages_are_bounded_in_bytes),
        cmocka_unit_test(overlay_pages_bounded_in_bytes_miss_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test-search.c — akv_search: BM25 ranking over name, description and
 * body; ties by name; the overlay (the sandbox's set over _global's);
 * other scopes on request; values rewritten between queries (the cache
 * follows versions); limits; and hostile queries (empty, too long, too many
 * words, not UTF-8, NUL bytes, unicode).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void put_set(tu_store *ts, const char *sb, const char *name,
                    const char *desc, const char *body)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    char meta[512];
    snprintf(meta, sizeof meta, "{\"description\":\"%s\",\"tokens\":7}",
             desc);
    o.metadata = meta;
    o.metadata_len = strlen(meta);
    assert_ok(akv_put(ts->store, sb, AKV_SCOPE_INSTRUCTIONS, name,
                      strlen(name), body, strlen(body), &o, NULL, NULL));
}

static akv_search_result *search(tu_store *ts, const char *sb, const char *q,
                                 int scope, size_t limit)
{
    akv_search_opts o;
    akv_search_opts_init(&o);
    o.scope = scope;
    if (limit)
        o.limit = limit;
    akv_search_result *r;
    assert_ok(akv_search(ts->store, sb, q, strlen(q), &o, &r));
    return r;
}

static const char *name_at(const akv_search_result *r, size_t i)
{
    const akv_search_hit *h = akv_search_item(r, i);
    assert_non_null(h);
    return h->name;
}

static void store_with_sets(tu_store *ts)
{
    tu_store_open(ts, NULL);
    put_set(ts, "_global", "billing_questions", "Load for invoices.",
            "Look up the invoice before any amount. A refund goes to billing.");
    put_set(ts, "_global", "refund_rules", "Load before a refund.",
            "Refund within 30 days. A refund needs the invoice number. "
            "Refund, refund, refund.");
    put_set(ts, "_global", "outage_handling", "Load when something is down.",
            "Check the status page first.");
    put_set(ts, "_global", "zz_twin_b", "twin", "identical twin text");
    put_set(ts, "_global", "zz_twin_a", "twin", "identical twin text");
}

static void ranks_by_bm25_with_ties_by_name(void **state)
{
    (void)state;
    tu_store ts;
    store_with_sets(&ts);
    akv_search_result *r = search(&ts, "S", "refund", AKV_SCOPE_INSTRUCTIONS,
                                  0);
    assert_int_equal(akv_search_count(r), 2);
    assert_int_equal(akv_search_matched(r), 2);
    /* The name, the description and the body all say refund. */
    assert_string_equal(name_at(r, 0), "refund_rules");
    assert_string_equal(name_at(r, 1), "billing_questions");
    const akv_search_hit *h = akv_search_item(r, 0);
    assert_true(h->score > akv_search_item(r, 1)->score);
    assert_string_equal(h->description, "Load before a refund.");
    assert_string_equal(h->origin, "_global");
    assert_int_equal(h->tokens, 7);
    assert_null(akv_search_item(r, 2));
    akv_search_free(r);

    /* Case and separators: "BILLING-Questions" finds the name's words. */
    r = search(&ts, "S", "BILLING-Questions", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_string_equal(name_at(r, 0), "billing_questions");
    akv_search_free(r);

    /* Equal scores: name order. */
    r = search(&ts, "S", "twin", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 2);
    assert_string_equal(name_at(r, 0), "zz_twin_a");
    assert_string_equal(name_at(r, 1), "zz_twin_b");
    assert_true(akv_search_item(r, 0)->score ==
                akv_search_item(r, 1)->score);
    akv_search_free(r);

    /* No match: an empty result, not an error. */
    r = search(&ts, "S", "kangaroo", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 0);
    char *json = akv_search_to_json(r, "S", AKV_SCOPE_INSTRUCTIONS);
    assert_string_equal(json, "{\"sandbox\":\"S\",\"scope\":\"instructions\","
                              "\"matched\":0,\"searched\":5,\"truncated\":"
                              "false,\"items\":[]}");
    free(json);
    akv_search_free(r);

    /* The limit keeps the best. */
    r = search(&ts, "S", "refund invoice status twin", AKV_SCOPE_INSTRUCTIONS,
               1);
    assert_int_equal(akv_search_count(r), 1);
    assert_int_equal(akv_search_matched(r), 5);
    akv_search_free(r);
    tu_store_close(&ts);
}

static void same_store_same_result(void **state)
{
    (void)state;
    if (tu_write_log())
        skip(); /* LMDB's own locks are per process: a handover needs
                 * two processes, not two handles */
    tu_store ts;
    store_with_sets(&ts);
    akv_search_result *r1 = search(&ts, "S", "refund invoice",
                                   AKV_SCOPE_INSTRUCTIONS, 0);
    char *j1 = akv_search_to_json(r1, "S", AKV_SCOPE_INSTRUCTIONS);
    /* A second handle on the same store (no cache) gives the same bytes. */
    akv_store *other;
    assert_ok(akv_store_open(&other, tu_backend(), ts.dir, NULL, 0));
    akv_search_opts o;
    akv_search_opts_init(&o);
    akv_search_result *r2;
    assert_ok(akv_search(other, "S", "refund invoice", 14, &o, &r2));
    char *j2 = akv_search_to_json(r2, "S", AKV_SCOPE_INSTRUCTIONS);
    assert_string_equal(j1, j2);
    /* Scores are rounded in JSON: no float noise. */
    assert_non_null(strstr(j1, "\"score\":"));
    const char *s = strstr(j1, "\"score\":") + 8;
    const char *dot = strchr(s, '.');
    assert_true(strspn(dot + 1, "0123456789") <= 3);
    free(j1);
    free(j2);
    akv_search_free(r1);
    akv_search_free(r2);
    akv_store_close(other);
    tu_store_close(&ts);
}

static void overlay_and_rewrites(void **state)
{
    (void)state;
    tu_store ts;
    store_with_sets(&ts);
    akv_search_result *r = search(&ts, "S", "status", AKV_SCOPE_INSTRUCTIONS,
                                  0);
    assert_int_equal(akv_search_count(r), 1);
    akv_search_free(r);
    /* The sandbox's own outage_handling hides _global's. */
    put_set(&ts, "S", "outage_handling", "Sandbox copy.", "Page the on-call.");
    r = search(&ts, "S", "status", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 0);
    akv_search_free(r);
    r = search(&ts, "S", "on-call", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 1);
    assert_string_equal(akv_search_item(r, 0)->origin, "S");
    akv_search_free(r);
    /* Another sandbox still sees _global's. */
    r = search(&ts, "T", "status", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 1);
    akv_search_free(r);
    /* A rewrite is seen by the next query. */
    put_set(&ts, "_global", "outage_handling", "Rewritten.", "Call the NOC.");
    r = search(&ts, "T", "status", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 0);
    akv_search_free(r);
    r = search(&ts, "T", "noc", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 1);
    akv_search_free(r);
    /* A deleted set is gone. */
    assert_ok(akv_del(ts.store, "_global", AKV_SCOPE_INSTRUCTIONS,
                      "outage_handling", 15));
    r = search(&ts, "T", "noc", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 0);
    akv_search_free(r);
    tu_store_close(&ts);
}

static void other_scopes_text_values_only(void **state)
{
    (void)state;
    tu_store ts;
    store_with_sets(&ts);
    akv_put_opts o;
    akv_put_opts_init(&o);
    assert_ok(akv_put(ts.store, "S", AKV_SCOPE_PROJECT, "notes", 5,
                      "The deploy window is Friday.", 28, &o, NULL, NULL));
    const char bin[] = "deploy\xff\xfe window";
    assert_ok(akv_put(ts.store, "S", AKV_SCOPE_PROJECT, "blob", 4, bin,
                      sizeof bin - 1, &o, NULL, NULL));
    akv_search_result *r = search(&ts, "S", "deploy", AKV_SCOPE_PROJECT, 0);
    /* The binary value's body is not searched. */
    assert_int_equal(akv_search_count(r), 1);
    assert_string_equal(name_at(r, 0), "notes");
    assert_string_equal(akv_search_item(r, 0)->description, "");
    akv_search_free(r);
    /* Its name is. */
    r = search(&ts, "S", "blob", AKV_SCOPE_PROJECT, 0);
    assert_int_equal(akv_search_count(r), 1);
    akv_search_free(r);
    /* Instruction sets are not in scope project. */
    r = search(&ts, "S", "refund", AKV_SCOPE_PROJECT, 0);
    assert_int_equal(akv_search_count(r), 0);
    akv_search_free(r);
    tu_store_close(&ts);
}

static void unicode_words(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_set(&ts, "_global", "cafe", "Für Café-Fragen.",
            "Über den Kaffee. 東京 の 天気");
    akv_search_result *r = search(&ts, "S", "café", AKV_SCOPE_INSTRUCTIONS,
                                  0);
    assert_int_equal(akv_search_count(r), 1);
    akv_search_free(r);
    r = search(&ts, "S", "東京", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 1);
    akv_search_free(r);
    /* ASCII folding only: "ÜBER" is "Über", "über" is not. */
    r = search(&ts, "S", "ÜBER", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 1);
    akv_search_free(r);
    r = search(&ts, "S", "über", AKV_SCOPE_INSTRUCTIONS, 0);
    assert_int_equal(akv_search_count(r), 0);
    akv_search_free(r);
    tu_store_close(&ts);
}

static void hostile_queries(void **state)
{
    (void)state;
    tu_store ts;
    store_with_sets(&ts);
    akv_search_opts o;
    akv_search_opts_init(&o);
    akv_search_result *r = NULL;
    assert_akv(akv_search(ts.store, "S", "", 0, &o, &r), AKV_EINVAL);
    assert_null(r);
    assert_akv(akv_search(ts.store, "S", " ,;-_ ", 6, &o, &r), AKV_EINVAL);
    assert_akv(akv_search(ts.store, "S", NULL, 3, &o, &r), AKV_EINVAL);
    /* Not UTF-8. */
    assert_akv(akv_search(ts.store, "S", "ab\xff", 3, &o, &r), AKV_EINVAL);
    assert_akv(akv_search(ts.store, "S", "\xc0\x80", 2, &o, &r), AKV_EINVAL);
    /* NUL separates words like any other byte that is not a letter. */
    assert_ok(akv_search(ts.store, "S", "zzz\0refund", 10, &o, &r));
    assert_int_equal(akv_search_count(r), 2);
    akv_search_free(r);
    /* Too long, at the limit. */
    char *big = malloc(AKV_SEARCH_QUERY_MAX + 2);
    memset(big, 'a', AKV_SEARCH_QUERY_MAX + 1);
    big[AKV_SEARCH_QUERY_MAX + 1] = '\0';
    assert_akv(akv_search(ts.store, "S", big, AKV_SEARCH_QUERY_MAX + 1, &o,
                          &r),
               AKV_EINVAL);
    assert_ok(akv_search(ts.store, "S", big, AKV_SEARCH_QUERY_MAX, &o, &r));
    assert_int_equal(akv_search_count(r), 0);
    akv_search_free(r);
    /* Too many distinct words; repeats count once. */
    size_t n = 0;
    for (int i = 0; i <= AKV_SEARCH_TERMS_MAX; i++)
        n += (size_t)sprintf(big + n, "w%d ", i);
    assert_akv(akv_search(ts.store, "S", big, n, &o, &r), AKV_EINVAL);
    n = 0;
    for (int i = 0; i < 140; i++)
        n += (size_t)sprintf(big + n, "refund ");
    assert_ok(akv_search(ts.store, "S", big, n, &o, &r));
    assert_int_equal(akv_search_count(r), 2);
    akv_search_free(r);
    free(big);
    /* Bad options and sandbox. */
    o.limit = 0;
    assert_akv(akv_search(ts.store, "S", "x", 1, &o, &r), AKV_EINVAL);
    o.limit = AKV_SEARCH_LIMIT_MAX + 1;
    assert_akv(akv_search(ts.store, "S", "x", 1, &o, &r), AKV_EINVAL);
    akv_search_opts_init(&o);
    o.scope = AKV_SCOPE_COUNT;
    assert_akv(akv_search(ts.store, "S", "x", 1, &o, &r), AKV_EINVAL);
    akv_search_opts_init(&o);
    assert_akv(akv_search(ts.store, "bad sandbox!", "x", 1, &o, &r),
               AKV_EINVAL);
    assert_akv(akv_search(NULL, "S", "x", 1, &o, &r), AKV_EINVAL);
    /* Defaults when opts is NULL. */
    assert_ok(akv_search(ts.store, "S", "refund", 6, NULL, &r));
    assert_int_equal(akv_search_count(r), 2);
    akv_search_free(r);
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranks_by_bm25_with_ties_by_name),
        cmocka_unit_test(same_store_same_result),
        cmocka_unit_test(overlay_and_rewrites),
        cmocka_unit_test(other_scopes_text_values_only),
        cmocka_unit_test(unicode_words),
        cmocka_unit_test(hostile_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test-usage.c — observed fetch rates: get_instruction calls and
 * system_prompt prompts made through a real MCP session record fetches and
 * runs in the store; akv_prompt_build's expected figures and
 * akv_prompt_advise's advice follow from them exactly (formulas of
 * docs/prompts.md, "Honest savings"); concurrent-safe counting; bad
 * pricing is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "mcp.h"
#include "testutil.h"

static void put_set(tu_store *ts, const char *name, unsigned tokens)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    char meta[128], body[64];
    snprintf(meta, sizeof meta, "{\"description\":\"Load for %s.\","
                                "\"tokens\":%u}", name, tokens);
    snprintf(body, sizeof body, "# %s\n", name);
    o.metadata = meta;
    o.metadata_len = strlen(meta);
    assert_ok(akv_put(ts->store, "_global", AKV_SCOPE_INSTRUCTIONS, name,
                      strlen(name), body, strlen(body), &o, NULL, NULL));
}

static void rpc(akv_mcp_session *s, const char *msg, const char *want)
{
    char *out = akv_mcp_handle(s, msg, strlen(msg), NULL);
    assert_non_null(out);
    if (strstr(out, want) == NULL)
        fail_msg("response %s lacks %s", out, want);
    free(out);
}

static void fetch(akv_mcp_session *s, const char *name, int times)
{
    char msg[256];
    for (int i = 0; i < times; i++) {
        snprintf(msg, sizeof msg,
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
                 "\"params\":{\"name\":\"get_instruction\",\"arguments\":{"
                 "\"name\":\"%s\"}}}", name);
        rpc(s, msg, "\"text\":\"# ");
    }
}

static void runs(akv_mcp_session *s, int times)
{
    for (int i = 0; i < times; i++)
        rpc(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/get\","
               "\"params\":{\"name\":\"system_prompt\"}}",
            "get_instruction");
}

/* Sets: always (200 tokens, fetched on 9 of 10 runs), often (100, 5 of
 * 10), never (300, 0), over 10 runs. */
static akv_mcp_session *store_with_fetches(tu_store *ts)
{
    tu_store_open(ts, NULL);
    put_set(ts, "always", 200);
    put_set(ts, "often", 100);
    put_set(ts, "never", 300);
    akv_mcp_session *s;
    assert_ok(akv_mcp_session_new(ts->store, "S", AKV_MCP_AGENT, &s));
    rpc(s, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\","
           "\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":"
           "{},\"clientInfo\":{\"name\":\"t\",\"version\":\"0\"}}}",
        "2025-06-18");
    runs(s, 10);
    fetch(s, "always", 9);
    fetch(s, "often", 5);
    /* A failed fetch counts nothing. */
    rpc(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
           "\"params\":{\"name\":\"get_instruction\",\"arguments\":{"
           "\"name\":\"missing\"}}}",
        "\"isError\":true");
    return s;
}

static void expected_figures_follow_the_fetch_rates(void **state)
{
    (void)state;
    tu_store ts;
    akv_mcp_session *s = store_with_fetches(&ts);
    akv_prompt_opts o;
    akv_prompt_opts_init(&o);
    o.count = 1;
    akv_prompt *p;
    assert_ok(akv_prompt_build(ts.store, "S", &o, &p));
    const akv_prompt_info *in = akv_prompt_get_info(p);
    assert_int_equal(in->runs, 10);
    assert_int_equal(in->fetches, 14);
    /* built + 0.9 × (200 + 60) + 0.5 × (100 + 60) + 0 × (300 + 60) */
    double want = (double)in->tokens + 0.9 * 260 + 0.5 * 160;
    assert_true(in->expected_tokens > want - 1e-9 &&
                in->expected_tokens < want + 1e-9);
    /* No cache: cost = tokens. */
    assert_true(in->expected_cost == in->expected_tokens);
    assert_true(in->baseline_cost == (double)in->baseline_tokens);
    akv_prompt_free(p);

    /* Cached input at 0.1, writes +25%: the prompt costs 0.1 a token plus
     * one write (1.25 - 0.1) spread over the 10 runs; fetched text 1. */
    o.cached_ratio = 0.1;
    o.write_premium = 0.25;
    assert_ok(akv_prompt_build(ts.store, "S", &o, &p));
    in = akv_prompt_get_info(p);
    double t = (double)in->tokens, b = (double)in->baseline_tokens;
    want = t * 0.1 + t * 1.15 / 10 + 0.9 * 260 + 0.5 * 160;
    assert_true(in->expected_cost > want - 1e-9 &&
                in->expected_cost < want + 1e-9);
    want = b * 0.1 + b * 1.15 / 10;
    assert_true(in->baseline_cost > want - 1e-9 &&
                in->baseline_cost < want + 1e-9);
    akv_prompt_free(p);

    /* Given runs replace the recorded ones; inlined sets are not fetched. */
    akv_prompt_opts_init(&o);
    o.count = 1;
    o.runs = 18;
    o.fetch_overhead = 40;
    assert_ok(akv_prompt_opts_set_mode(&o, NULL, "always"));
    assert_ok(akv_prompt_build(ts.store, "S", &o, &p));
    in = akv_prompt_get_info(p);
    assert_int_equal(in->runs, 18);
    assert_int_equal(in->fetches, 5);
    want = (double)in->tokens + 5.0 / 18 * 140;
    assert_true(in->expected_tokens > want - 1e-9 &&
                in->expected_tokens < want + 1e-9);
    akv_prompt_free(p);

    /* Another sandbox has recorded nothing: no expected figures. */
    akv_prompt_opts_init(&o);
    o.count = 1;
    assert_ok(akv_prompt_build(ts.store, "T", &o, &p));
    assert_int_equal(akv_prompt_get_info(p)->runs, 0);
    akv_prompt_free(p);
    akv_mcp_session_free(s);
    tu_store_close(&ts);
}

static void advice_compares_rate_and_break_even(void **state)
{
    (void)state;
    tu_store ts;
    akv_mcp_session *s = store_with_fetches(&ts);
    akv_advice_item *items;
    size_t n;
    uint64_t r;
    assert_ok(akv_prompt_advise(ts.store, "S", NULL, &items, &n, &r));
    assert_int_equal(r, 10);
    assert_int_equal(n, 3);
    /* By name: always, never, often. Break-even = t / (t + 60). */
    assert_string_equal(items[0].name, "always");
    assert_int_equal(items[0].fetches, 9);
    assert_int_equal(items[0].rate_permille, 900);
    assert_int_equal(items[0].break_even_permille, 769); /* 200/260 */
    assert_true(items[0].inline_advised);
    assert_string_equal(items[1].name, "never");
    assert_int_equal(items[1].rate_permille, 0);
    assert_false(items[1].inline_advised);
    assert_string_equal(items[2].name, "often");
    assert_int_equal(items[2].rate_permille, 500);
    assert_int_equal(items[2].break_even_permille, 625); /* 100/160 */
    assert_false(items[2].inline_advised);
    akv_advice_free(items, n);

    /* With cached input at 0.1 an inlined set costs a tenth: both fetched
     * sets pay to inline (break-even 0.1 × t / (t + 60)). */
    akv_prompt_opts o;
    akv_prompt_opts_init(&o);
    o.cached_ratio = 0.1;
    assert_ok(akv_prompt_advise(ts.store, "S", &o, &items, &n, &r));
    assert_int_equal(items[0].break_even_permille, 77);
    assert_int_equal(items[2].break_even_permille, 63);
    assert_true(items[0].inline_advised && items[2].inline_advised);
    assert_false(items[1].inline_advised);
    akv_advice_free(items, n);

    /* Limited to a list; deterministic. */
    o.only = "often";
    assert_ok(akv_prompt_advise(ts.store, "S", &o, &items, &n, &r));
    assert_int_equal(n, 1);
    assert_string_equal(items[0].name, "often");
    akv_advice_free(items, n);

    /* Bad pricing. */
    o.only = NULL;
    o.cached_ratio = 1.5;
    assert_akv(akv_prompt_advise(ts.store, "S", &o, &items, &n, &r),
               AKV_EINVAL);
    o.cached_ratio = 0.1;
    o.write_premium = -1;
    akv_prompt *p;
    o.count = 1;
    assert_akv(akv_prompt_build(ts.store, "S", &o, &p), AKV_EINVAL);
    akv_mcp_session_free(s);
    tu_store_close(&ts);
}

static void records_count_and_refuse_bad_names(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_set(&ts, "a", 10);
    for (int i = 0; i < 5; i++)
        assert_ok(akv_usage_record(ts.store, "S", "a"));
    assert_ok(akv_usage_record(ts.store, "S", NULL));
    assert_akv(akv_usage_record(ts.store, "S", "Bad Name"), AKV_EINVAL);
    akv_value *v;
    assert_ok(akv_get(ts.store, "S", AKV_SCOPE_SYSTEM, AKV_USAGE_KEY,
                      strlen(AKV_USAGE_KEY), &v));
    size_t len;
    const char *d = akv_value_data(v, &len);
    const char want[] = "{\"fetches\":{\"a\":5},\"runs\":1}";
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(d, want, len);
    akv_value_release(v);
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expected_figures_follow_the_fetch_rates),
        cmocka_unit_test(advice_compares_rate_and_break_even),
        cmocka_unit_test(records_count_and_refuse_bad_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

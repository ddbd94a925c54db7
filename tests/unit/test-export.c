/*
 * test-export.c — JSON Lines export and import: the line format, filtering
 * by sandbox and scope, a lossless export → import → export round trip
 * (byte-identical), all-or-nothing import that names the first bad line,
 * replacement of existing keys, and quotas during import.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "testutil.h"

#define T0 1795651200000LL /* 2026-11-26T00:00:00Z, tu_store_open's clock */

/* ---- helpers ----------------------------------------------------------- */

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    unsigned int dl = 0;
    assert_int_equal(EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Standard base64 with padding; owned. */
static char *b64(const unsigned char *in, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((len + 2) / 3 * 4 + 1), *p = out;
    assert_non_null(out);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        *p++ = tab[v >> 18];
        *p++ = tab[(v >> 12) & 63];
        *p++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        *p++ = i + 2 < len ? tab[v & 63] : '=';
    }
    *p = '\0';
    return out;
}

/* Export of (sb, scope) as a string; owned. */
static char *export_str(tu_store *ts, const char *sb, int scope,
                        uint64_t *count)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_ok(akv_export(ts->store, sb, scope, f, NULL, NULL, count));
    fclose(f);
    assert_int_equal(strlen(buf), len); /* JSON text: no NUL bytes */
    return buf;
}

static char *export_all(tu_store *ts)
{
    return export_str(ts, NULL, AKV_SCOPE_ALL, NULL);
}

/* Imports text; returns the akv_import code. */
static int import_str(tu_store *ts, const char *text, uint64_t *count)
{
    char *copy = strdup(text);
    assert_non_null(copy);
    /* fmemopen may refuse a zero-sized buffer: read nothing from
     * /dev/null instead. */
    FILE *f = *copy ? fmemopen(copy, strlen(copy), "r")
                    : fopen("/dev/null", "r");
    assert_non_null(f);
    int rc = akv_import(ts->store, f, NULL, NULL, count);
    fclose(f);
    free(copy);
    return rc;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* One import line built by hand (independent of akv_export). Fields given
 * as NULL take their regular value; raw_* replace a field's JSON text. */
struct line {
    const char *sandbox, *scope, *key, *content_type;
    const char *value;  /* bytes of the value (string) */
    int version;
    const char *raw_sha, *raw_size, *raw_value, *raw_meta, *raw_created;
};

static char *make_line(const struct line *l)
{
    const char *val = l->value ? l->value : "";
    char sha[65], size[32];
    sha256_hex(val, strlen(val), sha);
    snprintf(size, sizeof size, "%zu", strlen(val));
    char *enc = b64((const unsigned char *)val, strlen(val));
    char *out;
    int n = asprintf(
        &out,
        "{\"sandbox\":\"%s\",\"scope\":\"%s\",\"key\":\"%s\",\"origin\":"
        "\"%s\",\"size\":%s,\"content_type\":\"%s\",\"sha256\":%s%s%s,"
        "\"version\":%d,\"created_at\":%s,"
        "\"updated_at\":\"2026-11-26T01:00:00.000Z\",\"expires_at\":null,"
        "\"metadata\":%s,\"value\":%s%s%s}",
        l->sandbox ? l->sandbox : "sb1", l->scope ? l->scope : "task",
        l->key ? l->key : "k", l->sandbox ? l->sandbox : "sb1",
        l->raw_size ? l->raw_size : size,
        l->content_type ? l->content_type : "text/plain",
        l->raw_sha ? "" : "\"", l->raw_sha ? l->raw_sha : sha,
        l->raw_sha ? "" : "\"", l->version ? l->version : 1,
        l->raw_created ? l->raw_created : "\"2026-11-26T00:00:00.000Z\"",
        l->raw_meta ? l->raw_meta : "{\"i\":1}", l->raw_value ? "" : "\"",
        l->raw_value ? l->raw_value : enc, l->raw_value ? "" : "\"");
    assert_true(n > 0);
    free(enc);
    return out;
}

/* Five good lines k0..k4 in sb1/task, with line `bad_at` (1-based, 0 for
 * none) replaced by the given one. Owned. */
static char *five_lines(int bad_at, const char *bad)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    for (int i = 0; i < 5; i++) {
        if (i + 1 == bad_at) {
            fprintf(f, "%s\n", bad);
            continue;
        }
        char key[8], val[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "value %d", i);
        struct line l = {.key = key, .value = val};
        char *s = make_line(&l);
        fprintf(f, "%s\n", s);
        free(s);
    }
    fclose(f);
    return text;
}

static void put_full(tu_store *ts, const char *sb, akv_scope scope,
                     const char *key, const void *val, size_t len,
                     const char *ct, const char *meta, int64_t ttl)
{
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.content_type = ct;
    o.metadata = meta;
    o.metadata_len = meta ? strlen(meta) : 0;
    o.ttl = ttl;
    assert_ok(akv_put(ts->store, sb, scope, key, strlen(key), val, len, &o,
                      NULL, NULL));
}

/* A source store with several sandboxes, scopes, versions, timestamps,
 * content types, metadata, a binary and an empty value, and one expired
 * entry (not exported). */
static void fill_source(tu_store *ts)
{
    unsigned char bin[512];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(i % 256);
    put_full(ts, "sb1", AKV_SCOPE_TASK, "old", "gone", 4, NULL, NULL, 1);
    put_full(ts, "sb1", AKV_SCOPE_TASK, "notes/a.md", "v1", 2, "text/markdown",
             "{\"b\":[1,2],\"a\":{\"x\":null}}", AKV_TTL_DEFAULT);
    ts->clock.now_ms += 1500;
    put_full(ts, "sb1", AKV_SCOPE_TASK, "notes/a.md", "v2", 2, "text/markdown",
             "{\"b\":[1,2],\"a\":{\"x\":null}}", AKV_TTL_DEFAULT);
    ts->clock.now_ms += 1;
    put_full(ts, "sb1", AKV_SCOPE_TASK, "notes/a.md", "# Final\n", 8,
             "text/markdown", "{\"b\":[1,2],\"a\":{\"x\":null},\"u\":\"\\u00e9\"}",
             AKV_TTL_DEFAULT);
    put_full(ts, "sb1", AKV_SCOPE_ARTIFACTS, "bin/blob", bin, sizeof bin,
             "application/octet-stream", NULL, 0);
    put_full(ts, "sb1", AKV_SCOPE_ARTIFACTS, "empty", NULL, 0, "text/plain",
             NULL, AKV_TTL_DEFAULT);
    put_full(ts, "sb2", AKV_SCOPE_PROJECT, "p", "proj", 4, NULL,
             "{\"owner\":\"x\"}", 3600);
    put_full(ts, "_global", AKV_SCOPE_INSTRUCTIONS, "style",
             "Write \xe2\x80\x9cwell\xe2\x80\x9d.\n", 14, "text/markdown",
             "{\"description\":\"house style\",\"tokens\":5}", 0);
    put_full(ts, "sb1", AKV_SCOPE_SYSTEM, "sys", "system text", 11,
             "text/plain", NULL, 0);
    ts->clock.now_ms += 2000; /* "old" has expired */
}

/* ---- export ------------------------------------------------------------ */

static void export_line_has_meta_fields_then_value(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_full(&ts, "sb1", AKV_SCOPE_ARTIFACTS, "r/q1.md", "hello", 5,
             "text/markdown", "{\"any\":\"json\"}", 0);
    uint64_t count = 0;
    char *text = export_all(&ts);
    char *again = export_str(&ts, NULL, AKV_SCOPE_ALL, &count);
    assert_int_equal(count, 1);
    assert_string_equal(text, again);
    assert_int_equal(count_lines(text), 1);
    assert_int_equal(text[strlen(text) - 1], '\n');

    static const char *const fields[] = {
        "sandbox",    "scope",      "key",        "origin",   "size",
        "content_type", "sha256",   "version",    "created_at",
        "updated_at", "expires_at", "metadata",   "value"};
    json_error_t err;
    json_t *o = json_loads(text, 0, &err);
    assert_non_null(o);
    assert_int_equal(json_object_size(o), 13);
    size_t i = 0;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it))
        assert_string_equal(json_object_iter_key(it), fields[i++]);
    assert_string_equal(json_string_value(json_object_get(o, "sandbox")),
                        "sb1");
    assert_string_equal(json_string_value(json_object_get(o, "scope")),
                        "artifacts");
    assert_string_equal(json_string_value(json_object_get(o, "key")),
                        "r/q1.md");
    assert_int_equal(json_integer_value(json_object_get(o, "size")), 5);
    assert_string_equal(json_string_value(json_object_get(o, "sha256")),
                        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73"
                        "043362938b9824");
    assert_string_equal(json_string_value(json_object_get(o, "created_at")),
                        "2026-11-26T00:00:00.000Z");
    assert_true(json_is_null(json_object_get(o, "expires_at")));
    assert_string_equal(json_string_value(json_object_get(o, "value")),
                        "aGVsbG8=");
    json_t *md = json_object_get(o, "metadata");
    assert_string_equal(json_string_value(json_object_get(md, "any")),
                        "json");
    json_decref(o);
    free(text);
    free(again);
    tu_store_close(&ts);
}

static void export_filters_by_sandbox_and_scope(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    fill_source(&ts);
    struct {
        const char *sb;
        int scope;
        uint64_t want;
    } cases[] = {
        {NULL, AKV_SCOPE_ALL, 6},       {"sb1", AKV_SCOPE_ALL, 4},
        {"sb1", AKV_SCOPE_TASK, 1},     {NULL, AKV_SCOPE_ARTIFACTS, 2},
        {"sb2", AKV_SCOPE_TASK, 0},     {"_global", AKV_SCOPE_ALL, 1},
        {"sb", AKV_SCOPE_ALL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t count = 99;
        char *text = export_str(&ts, cases[i].sb, cases[i].scope, &count);
        assert_int_equal(count, cases[i].want);
        assert_int_equal(count_lines(text), cases[i].want);
        free(text);
    }
    /* Lines come in (scope, sandbox, key) order. */
    char *text = export_all(&ts);
    const char *order[] = {"\"sys\"", "\"style\"", "\"p\"", "\"notes/a.md\"",
                           "\"bin/blob\"", "\"empty\""};
    const char *prev = text;
    for (size_t i = 0; i < 6; i++) {
        const char *at = strstr(prev, order[i]);
        if (at == NULL)
            fail_msg("%s missing or out of order in export", order[i]);
        prev = at;
    }
    free(text);
    tu_store_close(&ts);
}

/* ---- round trip -------------------------------------------------------- */

static void export_import_export_is_byte_identical(void **state)
{
    (void)state;
    tu_store src, dst;
    tu_store_open(&src, NULL);
    fill_source(&src);
    uint64_t n1 = 0, n2 = 0, imported = 0;
    char *text1 = export_str(&src, NULL, AKV_SCOPE_ALL, &n1);
    assert_int_equal(n1, 6);

    tu_store_open(&dst, NULL);
    dst.clock.now_ms = src.clock.now_ms;
    assert_ok(import_str(&dst, text1, &imported));
    assert_int_equal(imported, 6);
    char *text2 = export_str(&dst, NULL, AKV_SCOPE_ALL, &n2);
    assert_int_equal(n2, 6);
    assert_int_equal(strlen(text1), strlen(text2));
    assert_string_equal(text1, text2);

    /* The restored entries read back exactly. */
    akv_value *v;
    assert_ok(akv_get(dst.store, "sb1", AKV_SCOPE_TASK, "notes/a.md", 10, &v));
    const akv_meta *m = akv_value_meta(v);
    assert_int_equal(m->version, 3);
    assert_int_equal(m->created_at, T0);
    assert_int_equal(m->updated_at, T0 + 1501);
    assert_int_equal(m->expires_at, T0 + 1501 + 24 * 3600 * 1000LL);
    assert_string_equal(m->content_type, "text/markdown");
    size_t len;
    assert_memory_equal(akv_value_data(v, &len), "# Final\n", 8);
    assert_int_equal(len, 8);
    akv_value_release(v);
    assert_ok(akv_get(dst.store, "sb1", AKV_SCOPE_ARTIFACTS, "bin/blob", 8,
                      &v));
    const unsigned char *d = akv_value_data(v, &len);
    assert_int_equal(len, 512);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(d[i], i % 256);
    akv_value_release(v);
    /* Import a second time over itself: still identical. */
    assert_ok(import_str(&dst, text2, NULL));
    char *text3 = export_all(&dst);
    assert_string_equal(text1, text3);
    free(text1);
    free(text2);
    free(text3);
    tu_store_close(&src);
    tu_store_close(&dst);
}

static void import_of_empty_input_imports_nothing(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    uint64_t count = 9;
    assert_ok(import_str(&ts, "", &count));
    assert_int_equal(count, 0);
    char *text = export_all(&ts);
    assert_string_equal(text, "");
    free(text);
    tu_store_close(&ts);
}

/* ---- bad input --------------------------------------------------------- */

/* Imports `text` into a store holding one entry (sb1/task/k0, which the
 * good lines would replace), expects code `want` naming line `lineno`,
 * and checks that the store's export did not change. */
static void import_fails_changing_nothing(const char *text, int want,
                                          int lineno)
{
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_full(&ts, "sb1", AKV_SCOPE_TASK, "k0", "existing", 8, NULL, NULL, 0);
    char *before = export_all(&ts);
    uint64_t count = 99;
    int rc = import_str(&ts, text, &count);
    if (rc != want)
        fail_msg("import returned %s, expected %s: %s\n%s", akv_err_name(rc),
                 akv_err_name(want), akv_last_error()->message, text);
    assert_int_equal(count, 0);
    char where[32];
    snprintf(where, sizeof where, "line %d", lineno);
    if (strstr(akv_last_error()->message, where) == NULL)
        fail_msg("message does not name %s: %s", where,
                 akv_last_error()->message);
    char *after = export_all(&ts);
    assert_string_equal(before, after);
    free(before);
    free(after);
    tu_store_close(&ts);
}

static void bad_line_anywhere_fails_the_whole_import(void **state)
{
    (void)state;
    struct line bk = {.key = "../x"};
    char *bad_key_line = make_line(&bk);
    for (int at = 1; at <= 5; at++) {
        char *text = five_lines(at, bad_key_line);
        import_fails_changing_nothing(text, AKV_EINVAL, at);
        free(text);
    }
    free(bad_key_line);
}

static void each_kind_of_bad_line_is_rejected(void **state)
{
    (void)state;
    char other_sha[65];
    sha256_hex("something else", 14, other_sha);
    char quoted_other[70];
    snprintf(quoted_other, sizeof quoted_other, "\"%s\"", other_sha);
    const struct line variants[] = {
        {.key = "a//b"},
        {.key = "/abs"},
        {.key = ""},
        {.sandbox = "a b"},
        {.sandbox = ""},
        {.scope = "bogus"},
        {.scope = "Task"},
        {.raw_value = "\"@@@@\""},
        {.value = "hello", .raw_value = "\"aGVsbG8\""},
        {.raw_value = "42"},
        {.value = "hello", .raw_sha = quoted_other},
        {.raw_sha = "\"abc\""},
        {.value = "hello", .raw_size = "6"},
        {.value = "hello", .raw_size = "\"5\""},
        {.version = -1},
        {.raw_meta = "[1]"},
        {.raw_created = "\"yesterday\""},
        /* A leap second cannot be stored: refused, never moved to the
         * next minute (which would not round-trip). */
        {.raw_created = "\"2016-12-31T23:59:60.000Z\""},
        /* Before the epoch: no record holds such a timestamp. */
        {.raw_created = "\"1969-12-31T23:59:59.999Z\""},
        {.raw_created = "\"0000-01-01T00:00:00.000Z\""},
        {.content_type = "text/\\u0001plain"},
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        char *bad = make_line(&variants[i]);
        char *text = five_lines(3, bad);
        import_fails_changing_nothing(text, AKV_EINVAL, 3);
        free(text);
        free(bad);
    }
    static const char *const raw[] = {
        "this is not JSON",
        "{\"sandbox\":\"sb1\"",
        "[1,2,3]",
        "{\"sandbox\":\"sb1\",\"scope\":\"task\",\"key\":\"k\"}",
        "null",
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        char *text = five_lines(3, raw[i]);
        import_fails_changing_nothing(text, AKV_EINVAL, 3);
        free(text);
    }
}

/* The leap second gets a message that says what is wrong with it, and
 * the last representable instant of that minute round-trips exactly. */
static void leap_second_is_refused_with_a_clear_message(void **state)
{
    (void)state;
    struct line leap = {.raw_created = "\"2016-12-31T23:59:60Z\""};
    char *bad = make_line(&leap);
    tu_store ts;
    tu_store_open(&ts, NULL);
    uint64_t count = 9;
    assert_akv(import_str(&ts, bad, &count), AKV_EINVAL);
    assert_non_null(strstr(akv_last_error()->message, "leap second"));
    assert_non_null(strstr(akv_last_error()->message, "line 1"));
    free(bad);
    struct line last = {.raw_created = "\"2016-12-31T23:59:59.999Z\""};
    char *good = make_line(&last);
    assert_ok(import_str(&ts, good, &count));
    assert_int_equal(count, 1);
    char *out = export_all(&ts);
    assert_non_null(strstr(out, "\"created_at\":\"2016-12-31T23:59:59.999Z\""));
    free(out);
    free(good);
    tu_store_close(&ts);
}

static void value_over_max_value_size_fails_the_import(void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "store", "max_value_size", "8"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    struct line ok = {.key = "fits", .value = "12345678"};
    struct line big = {.key = "big", .value = "123456789"};
    char *l1 = make_line(&ok), *l2 = make_line(&big), *text;
    assert_true(asprintf(&text, "%s\n%s\n", l1, l2) > 0);
    assert_akv(import_str(&ts, text, NULL), AKV_ETOOLARGE);
    assert_non_null(strstr(akv_last_error()->message, "line 2"));
    char *after = export_all(&ts);
    assert_string_equal(after, "");
    free(after);
    free(text);
    free(l1);
    free(l2);
    tu_store_close(&ts);
    akv_config_free(cfg);
}

/* ---- replacing and quotas ---------------------------------------------- */

static void import_over_existing_keys_replaces_them(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    for (int i = 0; i < 3; i++)
        put_full(&ts, "sb1", AKV_SCOPE_TASK, "k0", "old", 3, "text/x-old",
                 "{\"old\":true}", 0);
    put_full(&ts, "sb1", AKV_SCOPE_TASK, "keep", "kept", 4, NULL, NULL, 0);
    struct line l = {.key = "k0", .value = "new value", .version = 2};
    char *line = make_line(&l);
    uint64_t count = 0;
    assert_ok(import_str(&ts, line, &count));
    assert_int_equal(count, 1);
    akv_value *v;
    assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_TASK, "k0", 2, &v));
    const akv_meta *m = akv_value_meta(v);
    size_t len;
    assert_memory_equal(akv_value_data(v, &len), "new value", 9);
    assert_int_equal(len, 9);
    assert_int_equal(m->version, 2); /* restored, not bumped */
    assert_int_equal(m->created_at, T0);
    assert_int_equal(m->updated_at, T0 + 3600 * 1000LL);
    assert_int_equal(m->expires_at, 0);
    assert_string_equal(m->content_type, "text/plain");
    assert_int_equal(m->metadata_len, 7);
    assert_memory_equal(m->metadata, "{\"i\":1}", 7);
    akv_value_release(v);
    char buf[8];
    len = sizeof buf;
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "keep", 4, buf,
                           &len, NULL));
    free(line);
    tu_store_close(&ts);
}

static char *value_lines(int n, size_t size, const char *sb)
{
    char *val = malloc(size + 1);
    assert_non_null(val);
    memset(val, 'q', size);
    val[size] = '\0';
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    for (int i = 0; i < n; i++) {
        char key[8];
        snprintf(key, sizeof key, "q%d", i);
        struct line l = {.sandbox = sb, .key = key, .value = val};
        char *s = make_line(&l);
        fprintf(f, "%s\n", s);
        free(s);
    }
    fclose(f);
    free(val);
    return text;
}

static void import_respects_quotas_all_or_nothing(void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.task", "quota", "1KiB"));
    tu_store ts;
    tu_store_open(&ts, cfg);

    /* 3 x 400 bytes do not fit into 1 KiB: nothing is imported. */
    char *three = value_lines(3, 400, "sb1");
    assert_akv(import_str(&ts, three, NULL), AKV_EQUOTA);
    assert_int_equal(akv_last_error()->has_quota, 1);
    assert_string_equal(akv_last_error()->scope, "task");
    assert_int_equal(akv_last_error()->quota, 1024);
    char *after = export_all(&ts);
    assert_string_equal(after, "");
    free(after);

    /* 2 x 400 do. */
    char *two = value_lines(2, 400, "sb1");
    uint64_t count = 0;
    assert_ok(import_str(&ts, two, &count));
    assert_int_equal(count, 2);
    /* Importing them again replaces, so only growth counts: it fits. */
    assert_ok(import_str(&ts, two, NULL));
    /* Another sandbox has its own quota. */
    char *other = value_lines(2, 400, "sb2");
    assert_ok(import_str(&ts, other, NULL));
    /* A third entry of 400 in sb1 crosses the quota with what is there. */
    char *before = export_all(&ts);
    assert_akv(import_str(&ts, three, NULL), AKV_EQUOTA);
    after = export_all(&ts);
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(three);
    free(two);
    free(other);
    tu_store_close(&ts);
    akv_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(export_line_has_meta_fields_then_value),
        cmocka_unit_test(export_filters_by_sandbox_and_scope),
        cmocka_unit_test(export_import_export_is_byte_identical),
        cmocka_unit_test(import_of_empty_input_imports_nothing),
        cmocka_unit_test(bad_line_anywhere_fails_the_whole_import),
        cmocka_unit_test(each_kind_of_bad_line_is_rejected),
        cmocka_unit_test(leap_second_is_refused_with_a_clear_message),
        cmocka_unit_test(value_over_max_value_size_fails_the_import),
        cmocka_unit_test(import_over_existing_keys_replaces_them),
        cmocka_unit_test(import_respects_quotas_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test-crud.c — put, get (borrowed and caller-buffer forms) and delete of
 * single entries: value bytes, the entry metadata and its JSON form, the
 * created flag, versions and timestamps on overwrite, and the value size
 * limit (a small configured one and the real 50 MiB default).
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "testutil.h"

#define T0 1795651200000LL /* 2026-11-26T00:00:00Z, tu_store_open's clock */
#define HOUR_MS (3600LL * 1000)
#define SHA_HELLO                                                            \
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define SHA_EMPTY                                                            \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- helpers ----------------------------------------------------------- */

static int put_bytes(tu_store *ts, const char *sb, akv_scope scope,
                     const char *key, const void *val, size_t len,
                     akv_meta *out, int *created)
{
    return akv_put(ts->store, sb, scope, key, strlen(key), val, len, NULL,
                   out, created);
}

static int put_str(tu_store *ts, const char *sb, akv_scope scope,
                   const char *key, const char *val)
{
    return put_bytes(ts, sb, scope, key, val, strlen(val), NULL, NULL);
}

/* Asserts that sb/scope/key holds exactly the given bytes (borrowed get). */
static void want_value(tu_store *ts, const char *sb, akv_scope scope,
                         const char *key, const void *val, size_t len)
{
    akv_value *v = NULL;
    assert_ok(akv_get(ts->store, sb, scope, key, strlen(key), &v));
    size_t got_len = 0;
    const void *data = akv_value_data(v, &got_len);
    assert_int_equal(got_len, len);
    if (len)
        assert_memory_equal(data, val, len);
    assert_int_equal(akv_value_meta(v)->size, len);
    akv_value_release(v);
}

static void want_missing(tu_store *ts, const char *sb, akv_scope scope,
                           const char *key)
{
    akv_value *v = NULL;
    assert_akv(akv_get(ts->store, sb, scope, key, strlen(key), &v),
               AKV_ENOTFOUND);
    assert_null(v);
    char buf[8];
    size_t len = sizeof buf;
    assert_akv(akv_get_copy(ts->store, sb, scope, key, strlen(key), buf, &len,
                            NULL),
               AKV_ENOTFOUND);
}

static uint64_t version_of(tu_store *ts, const char *sb, akv_scope scope,
                           const char *key)
{
    akv_meta m;
    char buf[1];
    size_t len = 0;
    int rc = akv_get_copy(ts->store, sb, scope, key, strlen(key), buf, &len,
                          &m);
    if (rc != AKV_OK && rc != AKV_ENOBUFS)
        fail_msg("get_copy %s: %s", key, akv_err_name(rc));
    return m.version;
}

static akv_config *small_value_config(const char *max)
{
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "store", "max_value_size", max));
    return cfg;
}

/* ---- put / get --------------------------------------------------------- */

static void put_then_get_returns_bytes_and_metadata(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_meta put_meta;
    int created = -1;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_TASK, "notes/a.md", "hello", 5,
                        &put_meta, &created));
    assert_int_equal(created, 1);
    assert_string_equal(put_meta.sha256, SHA_HELLO);
    assert_int_equal(put_meta.version, 1);

    akv_value *v;
    assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_TASK, "notes/a.md", 10, &v));
    size_t len;
    const char *data = akv_value_data(v, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "hello", 5);
    const akv_meta *m = akv_value_meta(v);
    assert_string_equal(m->sandbox, "sb1");
    assert_string_equal(m->origin, "sb1");
    assert_int_equal(m->scope, AKV_SCOPE_TASK);
    assert_string_equal(m->key, "notes/a.md");
    assert_int_equal(m->key_len, 10);
    assert_int_equal(m->size, 5);
    assert_string_equal(m->content_type, AKV_DEFAULT_CONTENT_TYPE);
    assert_string_equal(m->sha256, SHA_HELLO);
    assert_int_equal(m->version, 1);
    assert_int_equal(m->created_at, T0);
    assert_int_equal(m->updated_at, T0);
    assert_int_equal(m->expires_at, T0 + 24 * HOUR_MS);
    assert_null(m->metadata);
    assert_int_equal(m->metadata_len, 0);
    akv_value_release(v);
    tu_store_close(&ts);
}

static void get_copy_with_exact_size_buffer_succeeds(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "k", "hello"));
    char buf[5];
    size_t len = sizeof buf;
    akv_meta m;
    memset(&m, 0, sizeof m);
    m.metadata = "sentinel";
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, buf, &len,
                           &m));
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_string_equal(m.sha256, SHA_HELLO);
    assert_int_equal(m.size, 5);
    assert_int_equal(m.version, 1);
    assert_null(m.metadata); /* documented: metadata is not returned */
    tu_store_close(&ts);
}

static void get_copy_with_small_buffer_is_enobufs_with_needed_size(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "k", "hello"));
    char buf[8];
    memset(buf, '#', sizeof buf);
    size_t len = 4;
    assert_akv(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, buf, &len,
                            NULL),
               AKV_ENOBUFS);
    assert_int_equal(len, 5);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], '#'); /* nothing copied */
    len = 0;
    assert_akv(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, NULL,
                            &len, NULL),
               AKV_ENOBUFS);
    assert_int_equal(len, 5);
    /* A bigger buffer than needed works and reports the real size. */
    len = sizeof buf;
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, buf, &len,
                           NULL));
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(buf[5], '#');
    tu_store_close(&ts);
}

static void empty_value_is_stored_and_returned(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_meta m;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_TASK, "empty", NULL, 0, &m,
                        NULL));
    assert_int_equal(m.size, 0);
    assert_string_equal(m.sha256, SHA_EMPTY);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "empty", "", 0);
    size_t len = 0;
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "empty", 5, NULL,
                           &len, &m));
    assert_int_equal(len, 0);
    assert_string_equal(m.sha256, SHA_EMPTY);
    tu_store_close(&ts);
}

static void binary_value_with_nul_bytes_round_trips(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    unsigned char val[600];
    for (size_t i = 0; i < sizeof val; i++)
        val[i] = (unsigned char)(i * 7); /* includes many 0x00 bytes */
    val[0] = 0;
    val[sizeof val - 1] = 0;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_ARTIFACTS, "blob.bin", val,
                        sizeof val, NULL, NULL));
    want_value(&ts, "sb1", AKV_SCOPE_ARTIFACTS, "blob.bin", val, sizeof val);
    unsigned char copy[600];
    size_t len = sizeof copy;
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_ARTIFACTS, "blob.bin", 8,
                           copy, &len, NULL));
    assert_int_equal(len, sizeof val);
    assert_memory_equal(copy, val, sizeof val);
    tu_store_close(&ts);
}

static void overwrite_bumps_version_keeps_created_at_moves_updated_at(
    void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_meta m;
    int created = -1;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_PROJECT, "p", "one", 3, &m,
                        &created));
    assert_int_equal(created, 1);
    assert_int_equal(m.version, 1);

    ts.clock.now_ms = T0 + 5000;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_PROJECT, "p", "second", 6, &m,
                        &created));
    assert_int_equal(created, 0);
    assert_int_equal(m.version, 2);
    assert_int_equal(m.created_at, T0);
    assert_int_equal(m.updated_at, T0 + 5000);
    assert_int_equal(m.expires_at, T0 + 5000 + 72 * HOUR_MS);

    ts.clock.now_ms = T0 + 9000;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_PROJECT, "p", "3", 1, NULL,
                        NULL));
    akv_value *v;
    assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_PROJECT, "p", 1, &v));
    const akv_meta *g = akv_value_meta(v);
    assert_int_equal(g->version, 3);
    assert_int_equal(g->created_at, T0);
    assert_int_equal(g->updated_at, T0 + 9000);
    assert_int_equal(g->size, 1);
    akv_value_release(v);
    want_value(&ts, "sb1", AKV_SCOPE_PROJECT, "p", "3", 1);
    tu_store_close(&ts);
}

static void created_flag_is_one_only_for_new_entries(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    int created = -1;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_TASK, "k", "a", 1, NULL,
                        &created));
    assert_int_equal(created, 1);
    created = -1;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_TASK, "k", "b", 1, NULL,
                        &created));
    assert_int_equal(created, 0);
    /* Same key in another scope and another sandbox is a new entry. */
    created = -1;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_ARTIFACTS, "k", "c", 1, NULL,
                        &created));
    assert_int_equal(created, 1);
    created = -1;
    assert_ok(put_bytes(&ts, "sb2", AKV_SCOPE_TASK, "k", "d", 1, NULL,
                        &created));
    assert_int_equal(created, 1);
    /* Deleted, then written again: new. */
    assert_ok(akv_del(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1));
    created = -1;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_TASK, "k", "e", 1, NULL,
                        &created));
    assert_int_equal(created, 1);
    assert_int_equal(version_of(&ts, "sb1", AKV_SCOPE_TASK, "k"), 1);
    tu_store_close(&ts);
}

static void same_key_in_other_scope_or_sandbox_is_independent(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "k", "task-sb1"));
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_ARTIFACTS, "k", "art-sb1"));
    assert_ok(put_str(&ts, "sb10", AKV_SCOPE_TASK, "k", "task-sb10"));
    assert_ok(put_str(&ts, "sb", AKV_SCOPE_TASK, "k", "task-sb"));
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "k", "task-sb1", 8);
    want_value(&ts, "sb1", AKV_SCOPE_ARTIFACTS, "k", "art-sb1", 7);
    want_value(&ts, "sb10", AKV_SCOPE_TASK, "k", "task-sb10", 9);
    want_value(&ts, "sb", AKV_SCOPE_TASK, "k", "task-sb", 7);
    want_missing(&ts, "sb1", AKV_SCOPE_PROJECT, "k");
    want_missing(&ts, "sb2", AKV_SCOPE_TASK, "k");
    assert_ok(akv_del(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1));
    want_value(&ts, "sb1", AKV_SCOPE_ARTIFACTS, "k", "art-sb1", 7);
    want_value(&ts, "sb10", AKV_SCOPE_TASK, "k", "task-sb10", 9);
    tu_store_close(&ts);
}

static void longest_and_unicode_keys_are_accepted(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    char key[AKV_KEY_MAX + 1];
    memset(key, 'k', AKV_KEY_MAX);
    key[100] = '/';
    key[AKV_KEY_MAX] = '\0';
    akv_meta m;
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_TASK, key, "x", 1, &m, NULL));
    assert_int_equal(m.key_len, AKV_KEY_MAX);
    assert_string_equal(m.key, key);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, key, "x", 1);

    const char *uni = "r\xc3\xa9sum\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.md";
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, uni, "u"));
    want_value(&ts, "sb1", AKV_SCOPE_TASK, uni, "u", 1);
    /* The sandbox id may use its whole alphabet and length. */
    const char *sb64 =
        "Aa0_-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456";
    assert_int_equal(strlen(sb64), 64);
    assert_ok(put_str(&ts, sb64, AKV_SCOPE_TASK, "k", "s"));
    want_value(&ts, sb64, AKV_SCOPE_TASK, "k", "s", 1);
    tu_store_close(&ts);
}

/* ---- delete ------------------------------------------------------------ */

static void delete_then_get_is_not_found(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "a", "1"));
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "b", "2"));
    assert_ok(akv_del(ts.store, "sb1", AKV_SCOPE_TASK, "a", 1));
    want_missing(&ts, "sb1", AKV_SCOPE_TASK, "a");
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "b", "2", 1);
    /* A second delete of the same key finds nothing. */
    assert_akv(akv_del(ts.store, "sb1", AKV_SCOPE_TASK, "a", 1),
               AKV_ENOTFOUND);
    tu_store_close(&ts);
}

static void delete_of_missing_key_is_not_found(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_akv(akv_del(ts.store, "sb1", AKV_SCOPE_TASK, "nothing", 7),
               AKV_ENOTFOUND);
    assert_int_equal(akv_last_error()->code, AKV_ENOTFOUND);
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "k", "v"));
    /* Present elsewhere is still missing here. */
    assert_akv(akv_del(ts.store, "sb2", AKV_SCOPE_TASK, "k", 1),
               AKV_ENOTFOUND);
    assert_akv(akv_del(ts.store, "sb1", AKV_SCOPE_PROJECT, "k", 1),
               AKV_ENOTFOUND);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "k", "v", 1);
    tu_store_close(&ts);
}

/* ---- metadata and content type ----------------------------------------- */

/* The SPEC.md §1 field order of the entry metadata JSON. */
static const char *const meta_fields[] = {
    "sandbox",    "scope",      "key",        "origin",
    "size",       "content_type", "sha256",   "version",
    "created_at", "updated_at", "expires_at", "metadata",
};
#define N_META_FIELDS (sizeof meta_fields / sizeof meta_fields[0])

/* Parses text and asserts it has exactly the SPEC fields, in order. */
static json_t *parse_meta_json(const char *text)
{
    json_error_t err;
    json_t *o = json_loads(text, 0, &err);
    if (o == NULL)
        fail_msg("meta JSON does not parse (%s): %s", err.text, text);
    assert_true(json_is_object(o));
    assert_int_equal(json_object_size(o), N_META_FIELDS);
    size_t i = 0;
    for (void *it = json_object_iter(o); it;
         it = json_object_iter_next(o, it), i++)
        assert_string_equal(json_object_iter_key(it), meta_fields[i]);
    assert_int_equal(i, N_META_FIELDS);
    /* The text itself has them in that order too. */
    const char *prev = text;
    for (i = 0; i < N_META_FIELDS; i++) {
        char quoted[32];
        snprintf(quoted, sizeof quoted, "\"%s\":", meta_fields[i]);
        const char *at = strstr(prev, quoted);
        if (at == NULL)
            fail_msg("field %s missing or out of order in %s", meta_fields[i],
                     text);
        prev = at;
    }
    return o;
}

static void expect_json_str(json_t *o, const char *name, const char *want)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v))
        fail_msg("field %s is not a string", name);
    assert_string_equal(json_string_value(v), want);
}

static void expect_json_int(json_t *o, const char *name, json_int_t want)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v))
        fail_msg("field %s is not an integer", name);
    assert_int_equal(json_integer_value(v), want);
}

static void meta_json_has_exactly_the_spec_fields_in_order(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    const char *md = "{\"any\": \"json object\", \"n\": [1, 2]}";
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.content_type = "text/markdown";
    o.metadata = md;
    o.metadata_len = strlen(md);
    ts.clock.now_ms = T0 + 123;
    akv_meta pm;
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_ARTIFACTS, "reports/q1.md",
                      13, "hello", 5, &o, &pm, NULL));
    assert_ptr_equal(pm.metadata, md); /* documented: borrowed from opts */
    assert_int_equal(pm.metadata_len, strlen(md));

    akv_value *v;
    assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_ARTIFACTS, "reports/q1.md",
                      13, &v));
    const akv_meta *gm = akv_value_meta(v);
    assert_non_null(gm->metadata);
    assert_int_equal(gm->metadata_len, strlen(md));
    assert_memory_equal(gm->metadata, md, strlen(md));

    const akv_meta *both[2] = {&pm, gm};
    for (int i = 0; i < 2; i++) {
        char *text = akv_meta_to_json(both[i]);
        assert_non_null(text);
        json_t *j = parse_meta_json(text);
        expect_json_str(j, "sandbox", "sb1");
        expect_json_str(j, "scope", "artifacts");
        expect_json_str(j, "key", "reports/q1.md");
        expect_json_str(j, "origin", "sb1");
        expect_json_int(j, "size", 5);
        expect_json_str(j, "content_type", "text/markdown");
        expect_json_str(j, "sha256", SHA_HELLO);
        expect_json_int(j, "version", 1);
        expect_json_str(j, "created_at", "2026-11-26T00:00:00.123Z");
        expect_json_str(j, "updated_at", "2026-11-26T00:00:00.123Z");
        expect_json_str(j, "expires_at", "2026-11-28T00:00:00.123Z");
        json_t *want = json_loads(md, 0, NULL);
        assert_true(json_equal(json_object_get(j, "metadata"), want));
        json_decref(want);
        json_decref(j);
        free(text);
    }
    akv_value_release(v);
    tu_store_close(&ts);
}

static void meta_json_of_never_expiring_entry_has_null_expires_at(
    void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_meta m;
    assert_ok(put_bytes(&ts, "_global", AKV_SCOPE_SYSTEM, "base", "x", 1, &m,
                        NULL));
    assert_int_equal(m.expires_at, 0);
    char *text = akv_meta_to_json(&m);
    assert_non_null(text);
    json_t *j = parse_meta_json(text);
    assert_true(json_is_null(json_object_get(j, "expires_at")));
    expect_json_str(j, "sandbox", "_global");
    expect_json_str(j, "scope", "system");
    json_decref(j);
    free(text);
    tu_store_close(&ts);
}

/* akv_meta_format_json writes its text itself: it must be byte for byte
 * what jansson dumps of the same entry's object, escapes and all, report
 * the length it needs whatever room it is given and write no further;
 * a field that cannot be rendered is refused by both. */
static void meta_json_text_is_what_jansson_dumps(void **state)
{
    (void)state;
    akv_meta m[6];
    memset(m, 0, sizeof m);
    const char *md = "{\"n\": [1, 2.5, -3e2], \"s\": \"\u00e9\\n\", "
                     "\"o\": {\"t\": true, \"z\": null}}";
    strcpy(m[0].sandbox, "sb1");
    strcpy(m[0].origin, "sb1");
    m[0].scope = AKV_SCOPE_ARTIFACTS;
    strcpy(m[0].key, "reports/q1.md");
    m[0].key_len = 13;
    m[0].size = 5;
    strcpy(m[0].content_type, "text/markdown");
    strcpy(m[0].sha256, SHA_HELLO);
    m[0].version = 3;
    m[0].created_at = T0 + 123;
    m[0].updated_at = T0 + 456;
    m[0].expires_at = T0 + 789;
    m[0].metadata = md;
    m[0].metadata_len = strlen(md);
    /* No expiry, no metadata; two-, three- and four-byte UTF-8. */
    strcpy(m[1].sandbox, "sb2");
    strcpy(m[1].origin, "_global");
    m[1].scope = AKV_SCOPE_SYSTEM;
    strcpy(m[1].key, "k\xc3\xa9y/\xe2\x82\xac/\xf0\x9f\x98\x80");
    m[1].key_len = strlen(m[1].key);
    m[1].size = UINT64_MAX; /* printed as json_int_t prints it */
    strcpy(m[1].content_type, "application/octet-stream");
    strcpy(m[1].sha256, SHA_EMPTY);
    m[1].version = 1;
    m[1].created_at = -1; /* before 1970 */
    m[1].updated_at = 0;
    /* Every byte that JSON escapes, in a key and a type that the store
     * would refuse but an entry may hold. */
    m[2] = m[1];
    char *k = m[2].key;
    for (int c = 1; c < 0x20; c++)
        *k++ = (char)c;
    strcpy(k, "\"\\/\x7f end");
    m[2].key_len = strlen(m[2].key);
    strcpy(m[2].content_type, "text/plain; x=\"a\\b\"\t\r\n");
    /* Not UTF-8, or metadata that is not JSON: nothing to render. */
    m[3] = m[1];
    strcpy(m[3].key, "\xff");
    m[3].key_len = 1;
    m[4] = m[1];
    strcpy(m[4].content_type, "text/\xc3");
    m[5] = m[1];
    m[5].metadata = "{\"a\":";
    m[5].metadata_len = 5;

    for (size_t i = 0; i < 3; i++) {
        json_t *o = akv_meta_to_json_value(&m[i]);
        assert_non_null(o);
        char *want = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(
                                                      AKV_JSON_REAL_DIGITS));
        json_decref(o);
        char *got = akv_meta_to_json(&m[i]);
        assert_non_null(want);
        assert_non_null(got);
        assert_string_equal(got, want);
        size_t n = strlen(want), len = 0;
        assert_int_equal(akv_meta_format_json(&m[i], NULL, 0, &len), AKV_OK);
        assert_int_equal(len, n);
        /* One byte short, then exact: nothing written past the room. */
        char *buf = malloc(n + 1);
        assert_non_null(buf);
        memset(buf, '#', n + 1);
        assert_int_equal(akv_meta_format_json(&m[i], buf, n - 1, &len),
                         AKV_OK);
        assert_int_equal(len, n);
        assert_int_equal(buf[n - 1], '#');
        assert_int_equal(akv_meta_format_json(&m[i], buf, n, &len), AKV_OK);
        assert_int_equal(len, n);
        assert_memory_equal(buf, want, n);
        assert_int_equal(buf[n], '#');
        free(buf);
        free(got);
        free(want);
    }
    for (size_t i = 3; i < 6; i++) {
        size_t len;
        char buf[1024];
        assert_int_equal(akv_meta_format_json(&m[i], buf, sizeof buf, &len),
                         AKV_EINVAL);
        assert_null(akv_meta_to_json(&m[i]));
        assert_null(akv_meta_to_json_value(&m[i]));
    }
}

static void content_type_defaults_and_custom_is_kept(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_put_opts o;
    akv_put_opts_init(&o);
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_TASK, "d", 1, "x", 1, &o,
                      NULL, NULL));
    o.content_type = "application/json; charset=utf-8";
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_TASK, "c", 1, "{}", 2, &o,
                      NULL, NULL));
    akv_meta m;
    char buf[4];
    size_t len = sizeof buf;
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "d", 1, buf, &len,
                           &m));
    assert_string_equal(m.content_type, "application/octet-stream");
    len = sizeof buf;
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "c", 1, buf, &len,
                           &m));
    assert_string_equal(m.content_type, "application/json; charset=utf-8");
    /* An overwrite without a type goes back to the default. */
    o.content_type = NULL;
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_TASK, "c", 1, "[]", 2, &o,
                      NULL, NULL));
    len = sizeof buf;
    assert_ok(akv_get_copy(ts.store, "sb1", AKV_SCOPE_TASK, "c", 1, buf, &len,
                           &m));
    assert_string_equal(m.content_type, "application/octet-stream");
    tu_store_close(&ts);
}

static void metadata_is_replaced_on_overwrite(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.metadata = "{\"a\":1}";
    o.metadata_len = 7;
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, "x", 1, &o,
                      NULL, NULL));
    o.metadata = "{\"b\":2}";
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, "y", 1, &o,
                      NULL, NULL));
    akv_value *v;
    assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, &v));
    const akv_meta *m = akv_value_meta(v);
    assert_int_equal(m->metadata_len, 7);
    assert_memory_equal(m->metadata, "{\"b\":2}", 7);
    akv_value_release(v);
    /* And dropped when the next write has none. */
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "k", "z"));
    assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, &v));
    assert_int_equal(akv_value_meta(v)->metadata_len, 0);
    akv_value_release(v);
    tu_store_close(&ts);
}

/* ---- value size limit -------------------------------------------------- */

static void value_of_exactly_max_value_size_is_accepted(void **state)
{
    (void)state;
    akv_config *cfg = small_value_config("1KiB");
    tu_store ts;
    tu_store_open(&ts, cfg);
    char *val = malloc(1025);
    assert_non_null(val);
    memset(val, 'v', 1025);
    assert_ok(put_bytes(&ts, "sb1", AKV_SCOPE_TASK, "k", val, 1024, NULL,
                        NULL));
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "k", val, 1024);
    free(val);
    tu_store_close(&ts);
    akv_config_free(cfg);
}

static void value_one_byte_over_max_value_size_is_too_large(void **state)
{
    (void)state;
    akv_config *cfg = small_value_config("1KiB");
    tu_store ts;
    tu_store_open(&ts, cfg);
    char *val = malloc(1025);
    assert_non_null(val);
    memset(val, 'v', 1025);
    assert_akv(put_bytes(&ts, "sb1", AKV_SCOPE_TASK, "new", val, 1025, NULL,
                         NULL),
               AKV_ETOOLARGE);
    want_missing(&ts, "sb1", AKV_SCOPE_TASK, "new");
    /* Over an existing entry: the entry is untouched. */
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "old", "small"));
    assert_akv(put_bytes(&ts, "sb1", AKV_SCOPE_TASK, "old", val, 1025, NULL,
                         NULL),
               AKV_ETOOLARGE);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "old", "small", 5);
    assert_int_equal(version_of(&ts, "sb1", AKV_SCOPE_TASK, "old"), 1);
    free(val);
    tu_store_close(&ts);
    akv_config_free(cfg);
}

static void default_limit_accepts_50mib_and_refuses_one_byte_more(void **state)
{
    (void)state;
    const size_t max = 50u * 1024 * 1024;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_int_equal(akv_config_max_value_size(akv_store_config(ts.store)),
                     max);
    unsigned char *val = malloc(max + 1);
    assert_non_null(val);
    for (size_t i = 0; i < max + 1; i++)
        val[i] = (unsigned char)(i ^ (i >> 13));
    akv_meta m;
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_ARTIFACTS, "big", 3, val, max,
                      NULL, &m, NULL));
    assert_int_equal(m.size, max);
    akv_value *v;
    assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_ARTIFACTS, "big", 3, &v));
    size_t len;
    const void *data = akv_value_data(v, &len);
    assert_int_equal(len, max);
    assert_true(memcmp(data, val, max) == 0);
    akv_value_release(v);

    assert_akv(akv_put(ts.store, "sb1", AKV_SCOPE_ARTIFACTS, "big2", 4, val,
                       max + 1, NULL, NULL, NULL),
               AKV_ETOOLARGE);
    want_missing(&ts, "sb1", AKV_SCOPE_ARTIFACTS, "big2");
    free(val);
    tu_store_close(&ts);
}

/* ---- several reads at once -------------------------------------------- */

/* akv_get_many answers every request exactly as akv_get does: values and
 * origins (overlay fall-through included), expired and missing entries,
 * invalid input, and the hit and miss counters. */
static void get_many_answers_each_request_like_get(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "a", "alpha"));
    assert_ok(put_str(&ts, "sb2", AKV_SCOPE_TASK, "a", "other sandbox"));
    assert_ok(put_str(&ts, "_global", AKV_SCOPE_INSTRUCTIONS, "style",
                      "global style"));
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_INSTRUCTIONS, "own", "own set"));
    akv_put_opts o = {0};
    o.ttl = 60;
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_TASK, "soon", 4, "x", 1, &o,
                      NULL, NULL));
    ts.clock.now_ms += 61 * 1000; /* "soon" has expired */

    akv_get_req q[] = {
        {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "a"},
        {.sandbox = "sb1", .scope = AKV_SCOPE_INSTRUCTIONS, .key = "style"},
        {.sandbox = "sb1", .scope = AKV_SCOPE_INSTRUCTIONS, .key = "own"},
        {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "soon"},
        {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "nope"},
        {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "../x"},
        {.sandbox = "bad sb", .scope = AKV_SCOPE_TASK, .key = "a"},
        {.sandbox = "sb2", .scope = AKV_SCOPE_TASK, .key = "a"},
        {.sandbox = "sb1", .scope = (akv_scope)9, .key = "a"},
        {.sandbox = "sb1", .scope = AKV_SCOPE_INSTRUCTIONS, .key = "none"},
    };
    size_t n = sizeof q / sizeof q[0];
    for (size_t i = 0; i < n; i++)
        q[i].key_len = strlen(q[i].key);
    akv_scope_stats before[AKV_SCOPE_COUNT], after[AKV_SCOPE_COUNT];
    size_t rows;
    assert_ok(akv_stats(ts.store, "sb1", AKV_SCOPE_ALL, before, &rows));
    assert_ok(akv_get_many(ts.store, q, n));

    static const struct {
        int rc;
        const char *value, *origin;
    } want[] = {
        {AKV_OK, "alpha", "sb1"},
        {AKV_OK, "global style", "_global"},
        {AKV_OK, "own set", "sb1"},
        {AKV_ENOTFOUND, NULL, NULL},
        {AKV_ENOTFOUND, NULL, NULL},
        {AKV_EINVAL, NULL, NULL},
        {AKV_EINVAL, NULL, NULL},
        {AKV_OK, "other sandbox", "sb2"},
        {AKV_EINVAL, NULL, NULL},
        {AKV_ENOTFOUND, NULL, NULL},
    };
    for (size_t i = 0; i < n; i++) {
        if (q[i].rc != want[i].rc)
            fail_msg("request %zu: %s, expected %s (%s)", i,
                     akv_err_name(q[i].rc), akv_err_name(want[i].rc),
                     q[i].error.message);
        assert_int_equal(q[i].error.code, q[i].rc);
        if (q[i].rc != AKV_OK) {
            assert_null(q[i].value);
            assert_true(q[i].error.message[0] != '\0');
            /* The same answer as akv_get, message included. */
            akv_value *v = NULL;
            if (q[i].scope < AKV_SCOPE_COUNT) {
                assert_akv(akv_get(ts.store, q[i].sandbox, q[i].scope,
                                   q[i].key, q[i].key_len, &v),
                           q[i].rc);
                assert_string_equal(akv_last_error()->message,
                                    q[i].error.message);
            }
            continue;
        }
        size_t len;
        const char *d = akv_value_data(q[i].value, &len);
        assert_int_equal(len, strlen(want[i].value));
        assert_memory_equal(d, want[i].value, len);
        assert_string_equal(akv_value_meta(q[i].value)->origin,
                            want[i].origin);
        assert_string_equal(akv_value_meta(q[i].value)->sandbox,
                            q[i].sandbox);
        akv_value_release(q[i].value);
    }
    /* sb1: task 1 hit ("a") and 2 misses; instructions 2 hits, 1 miss.
     * The akv_get calls above add the misses they repeat. */
    assert_ok(akv_stats(ts.store, "sb1", AKV_SCOPE_ALL, after, &rows));
    assert_int_equal(after[AKV_SCOPE_TASK].hits - before[AKV_SCOPE_TASK].hits,
                     1 + 1); /* "a" here, and sb2's "a" (per-store counts) */
    assert_int_equal(after[AKV_SCOPE_INSTRUCTIONS].hits -
                         before[AKV_SCOPE_INSTRUCTIONS].hits,
                     2);
    assert_int_equal(after[AKV_SCOPE_TASK].misses -
                         before[AKV_SCOPE_TASK].misses,
                     2 * 2);
    assert_int_equal(after[AKV_SCOPE_INSTRUCTIONS].misses -
                         before[AKV_SCOPE_INSTRUCTIONS].misses,
                     2 * 1);
    /* Nothing to do, and no requests at all. */
    assert_ok(akv_get_many(ts.store, q, 0));
    assert_akv(akv_get_many(ts.store, NULL, 1), AKV_EINVAL);
    tu_store_close(&ts);
}

/* akv_put_many answers every request exactly as akv_put would, each on
 * its own: new and replaced entries over several namespaces (several
 * nodes on a cluster, one pipeline per node on Redis), create-only and
 * If-Match refusals, a namespace over its quota, invalid input; a refused
 * one changes nothing and does not stop the others. */
static void put_many_answers_each_request_like_put(void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.project", "quota", "1KiB"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "old", "v1"));
    akv_meta m0;
    assert_ok(akv_put(ts.store, "sb1", AKV_SCOPE_TASK, "cas", 3, "c1", 2,
                      NULL, &m0, NULL));
    static char big[2000];
    memset(big, 'b', sizeof big);
    akv_put_opts create, match, stale, typed;
    akv_put_opts_init(&create);
    create.create_only = 1;
    akv_put_opts_init(&match);
    match.if_match = m0.sha256;
    akv_put_opts_init(&stale);
    stale.if_match = "0000000000000000000000000000000000000000000000000000"
                     "000000000000";
    akv_put_opts_init(&typed);
    typed.content_type = "text/markdown";
    typed.ttl = 0;
    akv_put_req q[] = {
        {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "new",
         .value = "n1", .value_len = 2},
        {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "old",
         .value = "v2", .value_len = 2},
        {.sandbox = "sb2", .scope = AKV_SCOPE_ARTIFACTS, .key = "t",
         .value = "# t", .value_len = 3, .opts = &typed},
        {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "old",
         .value = "v3", .value_len = 2, .opts = &create},
        {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "cas",
         .value = "c2", .value_len = 2, .opts = &match},
        {.sandbox = "sb3", .scope = AKV_SCOPE_TASK, .key = "cas",
         .value = "c2", .value_len = 2, .opts = &stale},
        {.sandbox = "sb4", .scope = AKV_SCOPE_PROJECT, .key = "big",
         .value = big, .value_len = sizeof big},
        {.sandbox = "sb4", .scope = AKV_SCOPE_PROJECT, .key = "small",
         .value = "s", .value_len = 1},
        {.sandbox = "bad sb", .scope = AKV_SCOPE_TASK, .key = "k",
         .value = "x", .value_len = 1},
        {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "../k",
         .value = "x", .value_len = 1},
    };
    size_t n = sizeof q / sizeof q[0];
    for (size_t i = 0; i < n; i++)
        q[i].key_len = strlen(q[i].key);
    assert_ok(akv_put_many(ts.store, q, n));
    static const struct {
        int rc, created;
        uint64_t version;
    } want[] = {
        {AKV_OK, 1, 1},           {AKV_OK, 0, 2},
        {AKV_OK, 1, 1},           {AKV_EPRECONDITION, 0, 0},
        {AKV_OK, 0, 2},           {AKV_EPRECONDITION, 0, 0},
        {AKV_EQUOTA, 0, 0},       {AKV_OK, 1, 1},
        {AKV_EINVAL, 0, 0},       {AKV_EINVAL, 0, 0},
    };
    for (size_t i = 0; i < n; i++) {
        if (q[i].rc != want[i].rc)
            fail_msg("request %zu: %s, expected %s (%s)", i,
                     akv_err_name(q[i].rc), akv_err_name(want[i].rc),
                     q[i].error.message);
        assert_int_equal(q[i].error.code, q[i].rc);
        if (q[i].rc != AKV_OK) {
            assert_true(q[i].error.message[0] != '\0');
            continue;
        }
        assert_int_equal(q[i].created, want[i].created);
        assert_int_equal(q[i].meta.version, want[i].version);
        assert_string_equal(q[i].meta.sandbox, q[i].sandbox);
        assert_int_equal(q[i].meta.size, q[i].value_len);
    }
    assert_true(q[6].error.has_quota);
    assert_string_equal(q[2].meta.content_type, "text/markdown");
    assert_int_equal(q[2].meta.expires_at, 0);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "new", "n1", 2);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "old", "v2", 2);
    want_value(&ts, "sb2", AKV_SCOPE_ARTIFACTS, "t", "# t", 3);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "cas", "c2", 2);
    want_missing(&ts, "sb3", AKV_SCOPE_TASK, "cas");
    want_missing(&ts, "sb4", AKV_SCOPE_PROJECT, "big");
    want_value(&ts, "sb4", AKV_SCOPE_PROJECT, "small", "s", 1);
    assert_ok(akv_put_many(ts.store, q, 0));
    assert_akv(akv_put_many(ts.store, NULL, 1), AKV_EINVAL);
    tu_store_close(&ts);
    akv_config_free(cfg);
}

/* akv_put_many in two halves: between akv_put_many_start and
 * akv_put_many_finish the caller uses the store (a read on the same
 * thread); the outcomes are akv_put_many's. The puts are in flight (a
 * descriptor to wait on, readable once they are answered) until finish:
 * on Redis with a timeout; on LMDB with none (-1), the committer thread
 * commits them. A finish told that the wait timed out fails the puts
 * still unanswered on Redis as unavailable (their outcome unknown:
 * applied or not) and drops their connection, so that a late answer is
 * never taken for a later command's: the next reads see one value or the
 * other. On LMDB a queued put cannot be taken back: finish waits for it. */
static void put_many_in_two_halves(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_ok(put_str(&ts, "sb1", AKV_SCOPE_TASK, "k", "v1"));
    akv_put_req q[] = {
        {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "k", .key_len = 1,
         .value = "v2", .value_len = 2},
        {.sandbox = "sb2", .scope = AKV_SCOPE_TASK, .key = "n", .key_len = 1,
         .value = "n1", .value_len = 2},
        {.sandbox = "bad sandbox", .scope = AKV_SCOPE_TASK, .key = "x",
         .key_len = 1, .value = "x", .value_len = 1},
    };
    akv_put_flight *f = NULL;
    assert_ok(akv_put_many_start(ts.store, q, 3, &f));
    assert_non_null(f);
    int64_t ms = 0;
    int fd = akv_put_flight_fd(f, &ms);
    assert_true(fd >= 0);
    if (tu_backend() != NULL)
        assert_true(ms > 0);
    else
        assert_int_equal(ms, -1);
    want_missing(&ts, "sb3", AKV_SCOPE_TASK, "k");
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, -1), 1);
    akv_put_many_finish(f, 0);
    assert_int_equal(q[0].rc, AKV_OK);
    assert_int_equal(q[0].created, 0);
    assert_int_equal(q[0].meta.version, 2);
    assert_int_equal(q[1].rc, AKV_OK);
    assert_int_equal(q[1].created, 1);
    assert_int_equal(q[2].rc, AKV_EINVAL);
    assert_int_equal(q[2].error.code, AKV_EINVAL);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "k", "v2", 2);
    want_value(&ts, "sb2", AKV_SCOPE_TASK, "n", "n1", 2);

    /* Timed out. */
    akv_put_req t = {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "k",
                     .key_len = 1, .value = "v3", .value_len = 2};
    assert_ok(akv_put_many_start(ts.store, &t, 1, &f));
    fd = akv_put_flight_fd(f, NULL);
    assert_true(fd >= 0);
    akv_put_many_finish(f, 1);
    if (tu_backend() != NULL) {
        assert_int_equal(t.rc, AKV_EUNAVAILABLE);
        assert_non_null(strstr(t.error.message, "timed out"));
    } else {
        assert_int_equal(t.rc, AKV_OK);
    }
    for (int i = 0; i < 3; i++) {
        akv_value *v = NULL;
        assert_ok(akv_get(ts.store, "sb1", AKV_SCOPE_TASK, "k", 1, &v));
        size_t len;
        const char *d = akv_value_data(v, &len);
        assert_int_equal(len, 2);
        assert_true(memcmp(d, "v2", 2) == 0 || memcmp(d, "v3", 2) == 0);
        akv_value_release(v);
        want_value(&ts, "sb2", AKV_SCOPE_TASK, "n", "n1", 2);
    }
    assert_akv(akv_put_many_start(ts.store, q, 1, NULL), AKV_EINVAL);
    assert_akv(akv_put_many_start(ts.store, NULL, 1, &f), AKV_EINVAL);
    assert_null(f);
    tu_store_close(&ts);
}

/* Flight after flight, two at a time: each one's descriptor becomes
 * readable only once its own puts are answered (the store may hand a
 * finished flight's descriptor to the next: it must come back unread),
 * and every put lands. */
static void flights_one_after_another_each_signal_their_own(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    char val[2][8];
    for (int i = 0; i < 40; i++) {
        akv_put_req q[2];
        akv_put_flight *f[2];
        for (int j = 0; j < 2; j++) {
            snprintf(val[j], sizeof val[j], "v%d", i * 2 + j);
            q[j] = (akv_put_req){.sandbox = "sb1", .scope = AKV_SCOPE_TASK,
                                 .key = j ? "b" : "a", .key_len = 1,
                                 .value = val[j],
                                 .value_len = strlen(val[j])};
            assert_ok(akv_put_many_start(ts.store, &q[j], 1, &f[j]));
        }
        for (int j = 0; j < 2; j++) {
            int fd = akv_put_flight_fd(f[j], NULL);
            assert_true(fd >= 0);
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            assert_int_equal(poll(&pfd, 1, -1), 1);
            akv_put_many_finish(f[j], 0);
            assert_int_equal(q[j].rc, AKV_OK);
            assert_int_equal(q[j].meta.version, (uint64_t)i + 1);
        }
        /* Between flights, nothing is left to read on a kept one. */
        akv_put_flight *next;
        akv_put_req r = {.sandbox = "sb1", .scope = AKV_SCOPE_TASK,
                         .key = "c", .key_len = 1, .value = "c",
                         .value_len = 1};
        assert_ok(akv_put_many_start(ts.store, &r, 1, &next));
        int fd = akv_put_flight_fd(next, NULL);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, -1), 1);
        akv_put_many_finish(next, 0);
        assert_int_equal(r.rc, AKV_OK);
        assert_int_equal(r.meta.version, (uint64_t)i + 1);
    }
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "a", "v78", 3);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "b", "v79", 3);
    tu_store_close(&ts);
}

/* Out of descriptors, a flight on LMDB cannot have its eventfd: the puts
 * are committed at start instead (no descriptor to wait on), with the
 * same outcomes, and the next flight, with descriptors again, has one. */
static void put_flight_without_a_descriptor_commits_at_start(void **state)
{
    (void)state;
    tu_lmdb_only();
    tu_store ts;
    tu_store_open(&ts, NULL);
    akv_put_req q = {.sandbox = "sb1", .scope = AKV_SCOPE_TASK, .key = "k",
                     .key_len = 1, .value = "v1", .value_len = 2};
    struct rlimit was;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
    int lowest = dup(0); /* the lowest free descriptor */
    assert_true(lowest >= 0);
    close(lowest);
    struct rlimit none = {(rlim_t)lowest, was.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &none), 0);
    akv_put_flight *f = NULL;
    int rc = akv_put_many_start(ts.store, &q, 1, &f);
    int fd = f ? akv_put_flight_fd(f, NULL) : -2;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
    assert_ok(rc);
    assert_int_equal(fd, -1);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "k", "v1", 2);
    akv_put_many_finish(f, 0);
    assert_int_equal(q.rc, AKV_OK);
    assert_int_equal(q.created, 1);
    assert_int_equal(q.meta.version, 1);

    q.value = "v2";
    assert_ok(akv_put_many_start(ts.store, &q, 1, &f));
    assert_true(akv_put_flight_fd(f, NULL) >= 0);
    akv_put_many_finish(f, 0);
    assert_int_equal(q.rc, AKV_OK);
    assert_int_equal(q.meta.version, 2);
    want_value(&ts, "sb1", AKV_SCOPE_TASK, "k", "v2", 2);
    tu_store_close(&ts);
}

/* Several puts of one key in one akv_put_many (on Redis: one script for
 * the namespace, the key written once) each answer as a put of its own,
 * in order: versions 1, 2, 3, created only for the first, a refused one
 * (create-only, quota) in between changes nothing, and the namespace's
 * usage counts the last record once, exactly as the same puts one by one
 * in another sandbox. */
static void put_many_of_one_key_applies_each_in_order(void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.project", "quota", "1KiB"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    static char big[2000];
    memset(big, 'b', sizeof big);
    akv_put_opts create;
    akv_put_opts_init(&create);
    create.create_only = 1;
    static const struct {
        const char *key, *value;
        int create_only;
        int rc, created;
        uint64_t version;
    } step[] = {
        {.key = "k", .value = "a1", .rc = AKV_OK, .created = 1, .version = 1},
        {.key = "k", .value = "a22", .rc = AKV_OK, .version = 2},
        {.key = "k", .value = "a3", .create_only = 1,
         .rc = AKV_EPRECONDITION},
        {.key = "big", .rc = AKV_EQUOTA},
        {.key = "k", .value = "a4", .rc = AKV_OK, .version = 3},
        {.key = "j", .value = "j1", .rc = AKV_OK, .created = 1, .version = 1},
    };
    enum { N = sizeof step / sizeof step[0] };
    akv_put_req q[N];
    memset(q, 0, sizeof q);
    for (size_t i = 0; i < N; i++) {
        q[i].sandbox = "sb5";
        q[i].scope = AKV_SCOPE_PROJECT;
        q[i].key = step[i].key;
        q[i].key_len = strlen(step[i].key);
        q[i].value = step[i].value ? step[i].value : big;
        q[i].value_len = step[i].value ? strlen(step[i].value) : sizeof big;
        q[i].opts = step[i].create_only ? &create : NULL;
    }
    assert_ok(akv_put_many(ts.store, q, N));
    for (size_t i = 0; i < N; i++) {
        if (q[i].rc != step[i].rc)
            fail_msg("request %zu: %s, expected %s (%s)", i,
                     akv_err_name(q[i].rc), akv_err_name(step[i].rc),
                     q[i].error.message);
        if (q[i].rc != AKV_OK)
            continue;
        assert_int_equal(q[i].created, step[i].created);
        assert_int_equal(q[i].meta.version, step[i].version);
    }
    assert_int_equal(q[4].meta.created_at, q[0].meta.created_at);
    want_value(&ts, "sb5", AKV_SCOPE_PROJECT, "k", "a4", 2);
    want_value(&ts, "sb5", AKV_SCOPE_PROJECT, "j", "j1", 2);
    want_missing(&ts, "sb5", AKV_SCOPE_PROJECT, "big");
    akv_value *v = NULL;
    assert_ok(akv_get(ts.store, "sb5", AKV_SCOPE_PROJECT, "k", 1, &v));
    assert_int_equal(akv_value_meta(v)->version, 3);
    akv_value_release(v);
    for (size_t i = 0; i < N; i++)
        if (step[i].rc == AKV_OK)
            assert_ok(put_str(&ts, "sb6", AKV_SCOPE_PROJECT, step[i].key,
                              step[i].value));
    akv_scope_stats a[AKV_SCOPE_COUNT], b[AKV_SCOPE_COUNT];
    size_t na = 0, nb = 0;
    assert_ok(akv_stats(ts.store, "sb5", AKV_SCOPE_PROJECT, a, &na));
    assert_ok(akv_stats(ts.store, "sb6", AKV_SCOPE_PROJECT, b, &nb));
    assert_int_equal(na, 1);
    assert_int_equal(nb, 1);
    assert_int_equal(a[0].entries, 2);
    assert_int_equal(a[0].bytes, b[0].bytes);
    tu_store_close(&ts);
    akv_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_then_get_returns_bytes_and_metadata),
        cmocka_unit_test(get_copy_with_exact_size_buffer_succeeds),
        cmocka_unit_test(get_copy_with_small_buffer_is_enobufs_with_needed_size),
        cmocka_unit_test(empty_value_is_stored_and_returned),
        cmocka_unit_test(binary_value_with_nul_bytes_round_trips),
        cmocka_unit_test(
            overwrite_bumps_version_keeps_created_at_moves_updated_at),
        cmocka_unit_test(created_flag_is_one_only_for_new_entries),
        cmocka_unit_test(same_key_in_other_scope_or_sandbox_is_independent),
        cmocka_unit_test(longest_and_unicode_keys_are_accepted),
        cmocka_unit_test(delete_then_get_is_not_found),
        cmocka_unit_test(delete_of_missing_key_is_not_found),
        cmocka_unit_test(meta_json_has_exactly_the_spec_fields_in_order),
        cmocka_unit_test(
            meta_json_of_never_expiring_entry_has_null_expires_at),
        cmocka_unit_test(meta_json_text_is_what_jansson_dumps),
        cmocka_unit_test(content_type_defaults_and_custom_is_kept),
        cmocka_unit_test(metadata_is_replaced_on_overwrite),
        cmocka_unit_test(value_of_exactly_max_value_size_is_accepted),
        cmocka_unit_test(value_one_byte_over_max_value_size_is_too_large),
        cmocka_unit_test(default_limit_accepts_50mib_and_refuses_one_byte_more),
        cmocka_unit_test(get_many_answers_each_request_like_get),
        cmocka_unit_test(put_many_answers_each_request_like_put),
        cmocka_unit_test(put_many_of_one_key_applies_each_in_order),
        cmocka_unit_test(put_many_in_two_halves),
        cmocka_unit_test(flights_one_after_another_each_signal_their_own),
        cmocka_unit_test(put_flight_without_a_descriptor_commits_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

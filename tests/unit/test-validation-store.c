/*
 * test-validation-store.c — bad input through the store API changes
 * nothing. Every invalid key, sandbox, scope, metadata, content type, TTL
 * and oversized value is refused with the right code by put, get,
 * get_copy, del (and the namespace operations), and the store's export is
 * byte-identical before and after. Also: akv_store_open on things that are
 * not a store (a regular file, random bytes, a missing or empty directory,
 * a foreign LMDB environment) fails with unavailable and touches nothing.
 */
#include <dirent.h>
#include <limits.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

/* ---- fixture: a store with a few entries and its export ---------------- */

typedef struct fixture {
    akv_config *cfg;
    tu_store ts;
    char *snapshot;
} fixture;

static char *export_all(akv_store *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_ok(akv_export(s, NULL, AKV_SCOPE_ALL, f, NULL, NULL, NULL));
    fclose(f);
    return buf;
}

static void put_str(akv_store *s, const char *sb, akv_scope scope,
                    const char *key, const char *val)
{
    assert_ok(akv_put(s, sb, scope, key, strlen(key), val, strlen(val), NULL,
                      NULL, NULL));
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    assert_ok(akv_config_new(&f->cfg));
    assert_ok(akv_config_set(f->cfg, "store", "max_value_size", "1KiB"));
    tu_store_open(&f->ts, f->cfg);
    akv_store *s = f->ts.store;
    put_str(s, "sb", AKV_SCOPE_TASK, "x", "original");
    put_str(s, "sb", AKV_SCOPE_TASK, "a/b", "nested");
    put_str(s, "sb", AKV_SCOPE_ARTIFACTS, "x", "artifact");
    put_str(s, "_global", AKV_SCOPE_INSTRUCTIONS, "x", "global");
    f->snapshot = export_all(s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->snapshot);
    tu_store_close(&f->ts);
    akv_config_free(f->cfg);
    free(f);
    return 0;
}

/* Asserts the store's export is what it was after setup. */
static void want_unchanged(fixture *f, const char *what)
{
    char *now = export_all(f->ts.store);
    if (strcmp(now, f->snapshot) != 0)
        fail_msg("store changed after %s:\nbefore: %s\nafter:  %s", what,
                 f->snapshot, now);
    free(now);
}

/* ---- bad keys ---------------------------------------------------------- */

struct bytes {
    const char *s;
    size_t len; /* 0: strlen(s) */
    const char *what;
};

static size_t blen(const struct bytes *b)
{
    return b->len ? b->len : strlen(b->s);
}

static void bad_keys_are_refused_by_every_entry_operation(void **state)
{
    fixture *f = *state;
    akv_store *s = f->ts.store;
    char long_key[257];
    memset(long_key, 'k', 256);
    long_key[256] = '\0';
    const struct bytes keys[] = {
        {"", 0, "empty"},
        {long_key, 256, "256 bytes"},
        {"../x", 0, "dot-dot segment"},
        {"a/../x", 0, "inner dot-dot"},
        {"..", 0, "dot-dot alone"},
        {".", 0, "dot alone"},
        {"/abs", 0, "leading slash"},
        {"a//b", 0, "empty segment"},
        {"a/./b", 0, "dot segment"},
        {"a/", 0, "trailing slash"},
        {"/", 0, "slash alone"},
        {"x\0y", 3, "NUL inside"},
        {"x\0", 2, "NUL at the end (would alias x)"},
        {"a\x01" "b", 0, "control character"},
        {"a\tb", 0, "tab"},
        {"a\nb", 0, "newline"},
        {"a\x1f", 0, "unit separator"},
        {"a\x7f", 0, "DEL"},
        {"a\\b", 0, "backslash"},
        {"\xff", 0, "invalid UTF-8 byte"},
        {"a\xc3", 0, "truncated UTF-8"},
        {"\xc0\xaf", 0, "overlong UTF-8"},
        {"\xed\xa0\x80", 0, "UTF-16 surrogate"},
        {"\xf4\x90\x80\x80", 0, "beyond U+10FFFF"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *k = keys[i].s;
        size_t kl = i == 0 ? 0 : blen(&keys[i]);
        akv_meta m;
        int created = -7;
        if (akv_put(s, "sb", AKV_SCOPE_TASK, k, kl, "new", 3, NULL, &m,
                    &created) != AKV_EINVAL)
            fail_msg("put with key (%s) was not refused: %s", keys[i].what,
                     akv_err_name(akv_last_error()->code));
        assert_int_equal(created, -7);
        assert_int_equal(akv_last_error()->code, AKV_EINVAL);
        assert_true(akv_last_error()->message[0] != '\0');
        akv_value *v = NULL;
        assert_akv(akv_get(s, "sb", AKV_SCOPE_TASK, k, kl, &v), AKV_EINVAL);
        assert_null(v);
        char buf[16];
        size_t len = sizeof buf;
        assert_akv(akv_get_copy(s, "sb", AKV_SCOPE_TASK, k, kl, buf, &len,
                                NULL),
                   AKV_EINVAL);
        assert_akv(akv_del(s, "sb", AKV_SCOPE_TASK, k, kl), AKV_EINVAL);
        /* Overlay scopes validate before looking at _global. */
        assert_akv(akv_get(s, "sb", AKV_SCOPE_INSTRUCTIONS, k, kl, &v),
                   AKV_EINVAL);
        want_unchanged(f, keys[i].what);
    }
    /* A NULL key with a length. */
    assert_akv(akv_put(s, "sb", AKV_SCOPE_TASK, NULL, 1, "v", 1, NULL, NULL,
                       NULL),
               AKV_EINVAL);
    akv_value *v = NULL;
    assert_akv(akv_get(s, "sb", AKV_SCOPE_TASK, NULL, 1, &v), AKV_EINVAL);
    assert_akv(akv_del(s, "sb", AKV_SCOPE_TASK, NULL, 1), AKV_EINVAL);
    want_unchanged(f, "NULL key");
}

/* A key is its exact bytes: a shorter length names a different key. */
static void key_length_is_respected(void **state)
{
    fixture *f = *state;
    akv_value *v = NULL;
    assert_akv(akv_get(f->ts.store, "sb", AKV_SCOPE_TASK, "a/bc", 1, &v),
               AKV_ENOTFOUND);
    assert_ok(akv_get(f->ts.store, "sb", AKV_SCOPE_TASK, "a/bc", 3, &v));
    size_t len;
    assert_memory_equal(akv_value_data(v, &len), "nested", 6);
    akv_value_release(v);
}

/* ---- bad sandboxes ----------------------------------------------------- */

static void bad_sandboxes_are_refused_everywhere(void **state)
{
    fixture *f = *state;
    akv_store *s = f->ts.store;
    char sb65[66];
    memset(sb65, 's', 65);
    sb65[65] = '\0';
    const char *const bad[] = {"",     sb65,   "a/b",     "a b",
                               "a.b",  "sb\n", "s\xc3\xa9", "../sb",
                               "sb\\", "*",    "sb:1",    NULL};
    const size_t nbad = sizeof bad / sizeof bad[0];
    for (size_t i = 0; i < nbad; i++) {
        const char *sb = bad[i];
        const char *what = sb ? sb : "(null)";
        if (akv_put(s, sb, AKV_SCOPE_TASK, "x", 1, "new", 3, NULL, NULL,
                    NULL) != AKV_EINVAL)
            fail_msg("put into sandbox '%s' was not refused", what);
        akv_value *v = NULL;
        assert_akv(akv_get(s, sb, AKV_SCOPE_TASK, "x", 1, &v), AKV_EINVAL);
        assert_null(v);
        char buf[16];
        size_t len = sizeof buf;
        assert_akv(akv_get_copy(s, sb, AKV_SCOPE_TASK, "x", 1, buf, &len,
                                NULL),
                   AKV_EINVAL);
        assert_akv(akv_del(s, sb, AKV_SCOPE_TASK, "x", 1), AKV_EINVAL);
        akv_list *l = NULL;
        assert_akv(akv_list_entries(s, sb, AKV_SCOPE_TASK, NULL, &l),
                   AKV_EINVAL);
        assert_null(l);
        akv_scope_stats rows[AKV_SCOPE_COUNT];
        size_t n = 0;
        assert_akv(akv_stats(s, sb, AKV_SCOPE_ALL, rows, &n), AKV_EINVAL);
        uint64_t deleted = 77;
        assert_akv(akv_clear(s, sb, AKV_SCOPE_TASK, &deleted), AKV_EINVAL);
        assert_int_equal(deleted, 77);
        if (sb != NULL) { /* NULL means "every sandbox" for these */
            uint64_t pruned[AKV_SCOPE_COUNT];
            assert_akv(akv_prune(s, sb, AKV_SCOPE_ALL, pruned), AKV_EINVAL);
            FILE *out = tmpfile();
            assert_non_null(out);
            assert_akv(akv_export(s, sb, AKV_SCOPE_ALL, out, NULL, NULL,
                                  NULL),
                       AKV_EINVAL);
            assert_int_equal(ftell(out), 0);
            fclose(out);
        }
        want_unchanged(f, what);
    }
}

/* ---- bad scopes -------------------------------------------------------- */

static void out_of_range_scopes_are_refused(void **state)
{
    fixture *f = *state;
    akv_store *s = f->ts.store;
    const int bad[] = {AKV_SCOPE_COUNT, 99, -1, -2, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        akv_scope sc = (akv_scope)bad[i];
        assert_akv(akv_put(s, "sb", sc, "x", 1, "new", 3, NULL, NULL, NULL),
                   AKV_EINVAL);
        akv_value *v = NULL;
        assert_akv(akv_get(s, "sb", sc, "x", 1, &v), AKV_EINVAL);
        assert_null(v);
        char buf[16];
        size_t len = sizeof buf;
        assert_akv(akv_get_copy(s, "sb", sc, "x", 1, buf, &len, NULL),
                   AKV_EINVAL);
        assert_akv(akv_del(s, "sb", sc, "x", 1), AKV_EINVAL);
        akv_list *l = NULL;
        assert_akv(akv_list_entries(s, "sb", sc, NULL, &l), AKV_EINVAL);
        assert_akv(akv_clear(s, "sb", sc, NULL), AKV_EINVAL);
        if (bad[i] != AKV_SCOPE_ALL) { /* -1 means "every scope" there */
            akv_scope_stats rows[AKV_SCOPE_COUNT];
            size_t n;
            assert_akv(akv_stats(s, "sb", bad[i], rows, &n), AKV_EINVAL);
            assert_akv(akv_prune(s, "sb", bad[i], NULL), AKV_EINVAL);
            FILE *out = tmpfile();
            assert_non_null(out);
            assert_akv(akv_export(s, "sb", bad[i], out, NULL, NULL, NULL),
                       AKV_EINVAL);
            fclose(out);
        }
        want_unchanged(f, "bad scope");
    }
}

/* ---- bad write options ------------------------------------------------- */

/* Overwrites sb/task/x with opts; expects `want` and no change. */
static void bad_put(fixture *f, const akv_put_opts *o, const void *val,
                    size_t len, int want, const char *what)
{
    akv_meta m;
    memset(&m, 0x5a, sizeof m);
    int rc = akv_put(f->ts.store, "sb", AKV_SCOPE_TASK, "x", 1, val, len, o,
                     &m, NULL);
    if (rc != want)
        fail_msg("put with %s returned %s, expected %s (%s)", what,
                 akv_err_name(rc), akv_err_name(want),
                 akv_last_error()->message);
    assert_int_equal(akv_last_error()->code, want);
    want_unchanged(f, what);
}

static void bad_metadata_is_refused(void **state)
{
    fixture *f = *state;
    /* A JSON object one byte over 64 KiB, and one of exactly 64 KiB. */
    size_t big = AKV_METADATA_MAX + 1;
    char *over = malloc(big + 1);
    assert_non_null(over);
    memcpy(over, "{\"a\":\"", 6);
    memset(over + 6, 'm', big - 8);
    memcpy(over + big - 2, "\"}", 3);
    assert_int_equal(strlen(over), big);
    const struct bytes bad[] = {
        {"not json", 0, "text"},
        {"[1,2]", 0, "an array"},
        {"\"str\"", 0, "a string"},
        {"42", 0, "a number"},
        {"null", 0, "null"},
        {"{", 0, "truncated object"},
        {"{}x", 0, "trailing garbage"},
        {"{\"a\":1}", 3, "object cut by its length"},
        {over, big, "object over 64 KiB"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        akv_put_opts o;
        akv_put_opts_init(&o);
        o.metadata = bad[i].s;
        o.metadata_len = blen(&bad[i]);
        bad_put(f, &o, "new", 3, AKV_EINVAL, bad[i].what);
    }
    /* The limit itself is allowed. */
    over[AKV_METADATA_MAX - 2] = '"';
    over[AKV_METADATA_MAX - 1] = '}';
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.metadata = over;
    o.metadata_len = AKV_METADATA_MAX;
    assert_ok(akv_put(f->ts.store, "sb", AKV_SCOPE_TASK, "meta64k", 7, "v", 1,
                      &o, NULL, NULL));
    akv_value *v;
    assert_ok(akv_get(f->ts.store, "sb", AKV_SCOPE_TASK, "meta64k", 7, &v));
    assert_int_equal(akv_value_meta(v)->metadata_len, AKV_METADATA_MAX);
    akv_value_release(v);
    free(over);
}

static void bad_content_types_are_refused(void **state)
{
    fixture *f = *state;
    char ct256[257];
    memset(ct256, 't', 256);
    ct256[256] = '\0';
    const char *const bad[] = {"",
                               "text/plain\n",
                               "text/plain\r\nX-Injected: 1",
                               "text/\x01plain",
                               "text/\x7f",
                               "text/\xc3\xa9",
                               ct256};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        akv_put_opts o;
        akv_put_opts_init(&o);
        o.content_type = bad[i];
        bad_put(f, &o, "new", 3, AKV_EINVAL, "bad content type");
    }
}

static void bad_ttl_and_value_arguments_are_refused(void **state)
{
    fixture *f = *state;
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.ttl = -2;
    bad_put(f, &o, "new", 3, AKV_EINVAL, "ttl -2");
    o.ttl = INT64_MIN;
    bad_put(f, &o, "new", 3, AKV_EINVAL, "ttl INT64_MIN");
    /* TTLs whose expiry time cannot be represented (durations stop at 100
     * years): refused, not wrapped into an entry that is born expired. */
    o.ttl = INT64_MAX / 1000;
    bad_put(f, &o, "new", 3, AKV_EINVAL, "ttl INT64_MAX / 1000 seconds");
    o.ttl = INT64_MAX;
    bad_put(f, &o, "new", 3, AKV_EINVAL, "ttl INT64_MAX seconds");
    akv_put_opts_init(&o);
    bad_put(f, &o, NULL, 5, AKV_EINVAL, "NULL value with a length");
}

static void value_over_the_limit_is_too_large(void **state)
{
    fixture *f = *state;
    char *val = malloc(4096);
    assert_non_null(val);
    memset(val, 'v', 4096);
    bad_put(f, NULL, val, 1025, AKV_ETOOLARGE, "value of 1 KiB + 1");
    bad_put(f, NULL, val, 4096, AKV_ETOOLARGE, "value of 4 KiB");
    /* Through an overlay scope, and as a new key. */
    assert_akv(akv_put(f->ts.store, "sb", AKV_SCOPE_SYSTEM, "big", 3, val,
                       1025, NULL, NULL, NULL),
               AKV_ETOOLARGE);
    want_unchanged(f, "large value in system");
    free(val);
}

/* ---- akv_store_open on things that are not a store --------------------- */

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n == 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void want_open_unavailable(const char *dir, unsigned flags)
{
    akv_store *s = (akv_store *)&s; /* sentinel */
    int rc = akv_store_open(&s, NULL, dir, NULL, flags);
    if (rc != AKV_EUNAVAILABLE)
        fail_msg("akv_store_open(%s, flags %u) returned %s, expected "
                 "unavailable: %s",
                 dir, flags, akv_err_name(rc), akv_last_error()->message);
    assert_ptr_equal(s, (akv_store *)&s);
    assert_int_equal(akv_last_error()->code, AKV_EUNAVAILABLE);
    assert_true(akv_last_error()->message[0] != '\0');
}

static void open_on_a_regular_file_is_unavailable(void **state)
{
    (void)state;
    tu_lmdb_only();
    char *base = tu_tempdir(), *file;
    assert_true(asprintf(&file, "%s/file", base) > 0);
    write_file(file, "hello\n", 6);
    want_open_unavailable(file, 0);
    want_open_unavailable(file, AKV_OPEN_CREATE);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 6);
    tu_rmtree(base);
    free(base);
    free(file);
}

static void open_on_random_data_mdb_is_unavailable(void **state)
{
    (void)state;
    tu_lmdb_only();
    static const size_t sizes[] = {16384, 100};
    for (size_t k = 0; k < 2; k++) {
        char *dir = tu_tempdir(), *file;
        assert_true(asprintf(&file, "%s/data.mdb", dir) > 0);
        size_t n = sizes[k];
        unsigned char *junk = malloc(n), *back = malloc(n);
        assert_non_null(junk);
        assert_non_null(back);
        uint32_t x = 0x9e3779b9u;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            junk[i] = (unsigned char)x;
        }
        write_file(file, junk, n);
        want_open_unavailable(dir, 0);
        want_open_unavailable(dir, AKV_OPEN_CREATE);
        /* The foreign file is left exactly as it was. */
        FILE *f = fopen(file, "rb");
        assert_non_null(f);
        assert_int_equal(fread(back, 1, n, f), n);
        assert_int_equal(fgetc(f), EOF);
        fclose(f);
        assert_memory_equal(back, junk, n);
        free(junk);
        free(back);
        tu_rmtree(dir);
        free(dir);
        free(file);
    }
}

static void open_without_create_needs_an_existing_store(void **state)
{
    (void)state;
    tu_lmdb_only();
    char *base = tu_tempdir(), *missing;
    assert_true(asprintf(&missing, "%s/not/there", base) > 0);
    want_open_unavailable(missing, 0);
    struct stat st;
    assert_int_equal(stat(missing, &st), -1); /* nothing was created */
    /* An existing but empty directory is no store either, and stays
     * empty. */
    want_open_unavailable(base, 0);
    assert_true(dir_is_empty(base));
    /* With AKV_OPEN_CREATE the nested directory is made. */
    akv_store *s;
    assert_ok(akv_store_open(&s, NULL, missing, NULL, AKV_OPEN_CREATE));
    akv_store_close(s);
    assert_int_equal(stat(missing, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    tu_rmtree(base);
    free(base);
    free(missing);
}

static void open_of_a_foreign_lmdb_environment_is_unavailable(void **state)
{
    (void)state;
    tu_lmdb_only();
    char *dir = tu_tempdir();
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_val k = {7, "foreign"}, v = {4, "data"};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    want_open_unavailable(dir, 0);
    assert_non_null(strstr(akv_last_error()->message,
                           "not an agentkv store"));
    want_open_unavailable(dir, AKV_OPEN_CREATE);
    assert_non_null(strstr(akv_last_error()->message,
                           "not an agentkv store"));

    /* The foreign data is intact and nothing of ours was added. */
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS | MDB_RDONLY, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_val got;
    assert_int_equal(mdb_get(txn, dbi, &k, &got), 0);
    assert_int_equal(got.mv_size, 4);
    assert_memory_equal(got.mv_data, "data", 4);
    MDB_stat st;
    assert_int_equal(mdb_stat(txn, dbi, &st), 0);
    assert_int_equal(st.ms_entries, 1);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    tu_rmtree(dir);
    free(dir);
}

static void open_of_a_store_of_unknown_format_is_unavailable(void **state)
{
    (void)state;
    tu_lmdb_only();
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_str(ts.store, "sb", AKV_SCOPE_TASK, "k", "v");
    akv_store_close(ts.store);
    ts.store = NULL;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_set_mapsize(env, (size_t)8 << 30), 0);
    assert_int_equal(mdb_env_open(env, ts.dir, MDB_NOTLS, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    MDB_val k = {6, "format"}, v = {1, "9"};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    want_open_unavailable(ts.dir, 0);
    want_open_unavailable(ts.dir, AKV_OPEN_CREATE);
    tu_rmtree(ts.dir);
    free(ts.dir);
}

/* The LMDB store's format marker, read or (value non-NULL) written with
 * the plain LMDB API; the store must be closed. Returns the marker read. */
/* A store marked "2" (records of formats 1 and 2 only) is marked "3" by
 * the first open, which writes records of format 3, and its entries and
 * usage stay as they were; a new store is "3" from the start. */
static void open_of_a_format_2_store_marks_it_3(void **state)
{
    (void)state;
    tu_lmdb_only();
    tu_store ts;
    tu_store_open(&ts, NULL);
    put_str(ts.store, "sb", AKV_SCOPE_TASK, "k", "v");
    uint64_t e0[AKV_SCOPE_COUNT], b0[AKV_SCOPE_COUNT];
    assert_ok(akv_store_usage(ts.store, e0, b0));
    akv_store_close(ts.store);
    ts.store = NULL;
    assert_int_equal(tu_lmdb_marker(ts.dir, NULL), '3');
    tu_damage_record(ts.dir, AKV_SCOPE_TASK, "sb", "k", TU_REWRITE_V2);
    tu_lmdb_marker(ts.dir, "2");
    assert_ok(akv_store_open(&ts.store, NULL, ts.dir, NULL, 0));
    akv_store_set_clock(ts.store, tu_clock, &ts.clock);
    char buf[8];
    size_t len = sizeof buf;
    assert_ok(akv_get_copy(ts.store, "sb", AKV_SCOPE_TASK, "k", 1, buf, &len,
                           NULL));
    assert_int_equal(len, 1);
    uint64_t e1[AKV_SCOPE_COUNT], b1[AKV_SCOPE_COUNT];
    assert_ok(akv_store_usage(ts.store, e1, b1));
    assert_memory_equal(b0, b1, sizeof b0);
    assert_memory_equal(e0, e1, sizeof e0);
    akv_store_close(ts.store);
    ts.store = NULL;
    assert_int_equal(tu_lmdb_marker(ts.dir, NULL), '3');
    tu_rmtree(ts.dir);
    free(ts.dir);
}

static void open_with_bad_arguments_is_invalid(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    akv_store *s = NULL;
    assert_akv(akv_store_open(&s, "nosuch://host", dir, NULL,
                              AKV_OPEN_CREATE),
               AKV_EINVAL);
    assert_null(s);
    assert_true(dir_is_empty(dir));
    assert_akv(akv_store_open(NULL, NULL, dir, NULL, AKV_OPEN_CREATE),
               AKV_EINVAL);
    assert_akv(akv_store_open(&s, NULL, "", NULL, AKV_OPEN_CREATE),
               AKV_EINVAL);
    assert_akv(akv_store_open(&s, NULL, NULL, NULL, AKV_OPEN_CREATE),
               AKV_EINVAL);
    assert_null(s);
    tu_rmtree(dir);
    free(dir);
}

/* ---- the Redis backend's URL and reachability ------------------------- */

static void open_with_bad_redis_urls_is_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "redis://",                 "redis://:6379",
        "redis://host:0",           "redis://host:70000",
        "redis://host:12x",         "redis://host:",
        "redis://host/abc",         "redis://host/1/2",
        "redis://host?timeout=abc", "redis://host?timeout=0s",
        "redis://host?timeout=2h",  "redis://host?db=1",
        "redis://pass@host",        "redis://:%zz@host",
        "redis://:%00@host",        "redis://[::1",
        "redis://ho st",            "redis://host/0?timeout",
        "rediss://host",            "unix:///tmp/redis.sock",
        /* Seed lists: every host must be well formed. */
        "redis://h1:1,",            "redis://h1:1,,h2:2",
        "redis://,h1:1",            "redis://h1:1,h2:0",
        "redis://h1:1,h 2:2",       "redis://h1:1,[::1",
        /* WAIT for replicas: a count and a positive duration. */
        "redis://h?wait=x",         "redis://h?wait=65",
        "redis://h?wait=",          "redis://h?wait_timeout=0ms",
        "redis://h?wait_timeout=2h",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        akv_store *s = NULL;
        int rc = akv_store_open(&s, bad[i], NULL, NULL, AKV_OPEN_CREATE);
        if (rc != AKV_EINVAL)
            fail_msg("akv_store_open(%s) returned %s, expected "
                     "invalid_argument", bad[i], akv_err_name(rc));
        assert_null(s);
        assert_true(akv_last_error()->message[0] != '\0');
    }
    /* A password never appears in a message. */
    akv_store *s = NULL;
    assert_akv(akv_store_open(&s, "redis://:sekrit@host:0/0", NULL, NULL, 0),
               AKV_EINVAL);
    assert_null(strstr(akv_last_error()->message, "sekrit"));
    /* An unencoded '@' in the password: the credentials end at the last
     * one, so no part of the password is read as the host and shown. */
    assert_akv(akv_store_open(&s, "redis://:sek@rit@host:0/0", NULL, NULL, 0),
               AKV_EINVAL);
    assert_null(strstr(akv_last_error()->message, "rit"));
    assert_non_null(strstr(akv_last_error()->message, "port"));
}

/* Opening does not need Redis to answer (a server starts and reports 503
 * until it does); every operation then fails with unavailable, naming the
 * address, and quickly: nothing listens on port 1. */
static void redis_that_does_not_answer_is_unavailable(void **state)
{
    (void)state;
    akv_store *s = NULL;
    assert_ok(akv_store_open(&s, "redis://127.0.0.1:1/0?timeout=500ms", NULL,
                             NULL, AKV_OPEN_CREATE));
    assert_string_equal(akv_store_backend(s), "redis");
    akv_value *v;
    assert_akv(akv_get(s, "sb", AKV_SCOPE_TASK, "k", 1, &v), AKV_EUNAVAILABLE);
    assert_non_null(strstr(akv_last_error()->message, "127.0.0.1:1"));
    assert_akv(akv_put(s, "sb", AKV_SCOPE_TASK, "k", 1, "v", 1, NULL, NULL,
                       NULL),
               AKV_EUNAVAILABLE);
    akv_scope_stats rows[AKV_SCOPE_COUNT];
    size_t n;
    assert_akv(akv_stats(s, "sb", AKV_SCOPE_ALL, rows, &n), AKV_EUNAVAILABLE);
    akv_get_req q[2] = {
        {.sandbox = "sb", .scope = AKV_SCOPE_TASK, .key = "a", .key_len = 1},
        {.sandbox = "sb", .scope = AKV_SCOPE_SYSTEM, .key = "b", .key_len = 1},
    };
    assert_ok(akv_get_many(s, q, 2));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(q[i].rc, AKV_EUNAVAILABLE);
        assert_null(q[i].value);
        assert_non_null(strstr(q[i].error.message, "127.0.0.1:1"));
    }
    akv_store_close(s);
}

/* A database whose akv:format marker is not ours is refused. */
static void redis_database_of_unknown_format_is_unavailable(void **state)
{
    (void)state;
    if (tu_backend() == NULL || strncmp(tu_backend(), "redis://", 8) != 0)
        skip();
    tu_store ts;
    tu_store_open(&ts, NULL);
    tu_redis_command("SET akv:format 9");
    akv_store_close(ts.store);
    assert_ok(akv_store_open(&ts.store, tu_backend(), NULL, NULL, 0));
    akv_value *v;
    assert_akv(akv_get(ts.store, "sb", AKV_SCOPE_TASK, "k", 1, &v),
               AKV_EUNAVAILABLE);
    assert_non_null(strstr(akv_last_error()->message, "unknown format"));
    tu_redis_command("SET akv:format 1");
    tu_store_close(&ts);
}

/* A store written by an agentkv of format 2 (a registry zset akv:ns, one
 * counters hash akv:c) is upgraded to format 3 when it is opened: the
 * entries and sandboxes are all still there, the read counts carried
 * over, the old keys gone, and a later write does not bring them back. */
static void redis_store_of_format_2_is_upgraded(void **state)
{
    (void)state;
    if (tu_backend() == NULL || strncmp(tu_backend(), "redis://", 8) != 0)
        skip();
    const char *cl = getenv("AKV_TEST_CLUSTER");
    if (cl && *cl) {
        /* Formats 1 and 2 never ran on a cluster (their keys span slots). */
        printf("skipped on a Redis Cluster: formats 1 and 2 are single-Redis "
               "layouts\n");
        skip();
    }
    tu_store ts;
    tu_store_open(&ts, NULL);
    static const struct {
        const char *sb;
        akv_scope scope;
        const char *key;
    } e[] = {{"sb1", AKV_SCOPE_TASK, "k1"},
             {"sb2", AKV_SCOPE_PROJECT, "k2"},
             {"sb3", AKV_SCOPE_ARTIFACTS, "k3"}};
    for (size_t i = 0; i < 3; i++)
        assert_ok(akv_put(ts.store, e[i].sb, e[i].scope, e[i].key, 2, "v", 1,
                          NULL, NULL, NULL));
    akv_store_close(ts.store);
    ts.store = NULL;
    /* The layout of format 2. */
    for (int k = 0; k < 16; k++)
        tu_redis_command("DEL akv:{c:%d}", k);
    for (size_t i = 0; i < 3; i++)
        tu_redis_command("ZADD akv:ns 0 %d:%s", (int)e[i].scope, e[i].sb);
    tu_redis_command("HSET akv:c hits:%d 7 misses:%d 3", AKV_SCOPE_TASK,
                     AKV_SCOPE_TASK);
    tu_redis_command("SET akv:format 2");

    for (int round = 0; round < 2; round++) {
        /* The second open finds format 3 and changes nothing. */
        assert_ok(akv_store_open(&ts.store, tu_backend(), ts.dir, NULL, 0));
        akv_store_set_clock(ts.store, tu_clock, &ts.clock);
        char *f = tu_redis_string("GET akv:format");
        assert_non_null(f);
        assert_string_equal(f, "3");
        free(f);
        char *old = tu_redis_string("EXISTS akv:ns akv:c");
        assert_string_equal(old, "0");
        free(old);
        akv_scope_stats rows[AKV_SCOPE_COUNT];
        size_t n = 0;
        assert_ok(akv_stats(ts.store, "sb1", AKV_SCOPE_TASK, rows, &n));
        assert_int_equal(n, 1);
        assert_int_equal(rows[0].hits, 7);
        assert_int_equal(rows[0].misses, 3);
        assert_int_equal(rows[0].entries, 1);
        char **sbs;
        assert_ok(akv_sandboxes(ts.store, &sbs, &n));
        assert_int_equal(n, 3);
        for (size_t i = 0; i < 3; i++)
            assert_string_equal(sbs[i], e[i].sb);
        akv_sandboxes_free(sbs);
        akv_store_close(ts.store);
        ts.store = NULL;
    }
    assert_ok(akv_store_open(&ts.store, tu_backend(), ts.dir, NULL, 0));
    akv_store_set_clock(ts.store, tu_clock, &ts.clock);
    assert_ok(akv_put(ts.store, "sb4", AKV_SCOPE_TASK, "k4", 2, "v", 1, NULL,
                      NULL, NULL));
    char *old = tu_redis_string("EXISTS akv:ns akv:c");
    assert_string_equal(old, "0");
    free(old);
    tu_store_close(&ts);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(bad_keys_are_refused_by_every_entry_operation),
        T(key_length_is_respected),
        T(bad_sandboxes_are_refused_everywhere),
        T(out_of_range_scopes_are_refused),
        T(bad_metadata_is_refused),
        T(bad_content_types_are_refused),
        T(bad_ttl_and_value_arguments_are_refused),
        T(value_over_the_limit_is_too_large),
        cmocka_unit_test(open_on_a_regular_file_is_unavailable),
        cmocka_unit_test(open_on_random_data_mdb_is_unavailable),
        cmocka_unit_test(open_without_create_needs_an_existing_store),
        cmocka_unit_test(open_of_a_foreign_lmdb_environment_is_unavailable),
        cmocka_unit_test(open_of_a_store_of_unknown_format_is_unavailable),
        cmocka_unit_test(open_of_a_format_2_store_marks_it_3),
        cmocka_unit_test(open_with_bad_arguments_is_invalid),
        cmocka_unit_test(open_with_bad_redis_urls_is_invalid),
        cmocka_unit_test(redis_that_does_not_answer_is_unavailable),
        cmocka_unit_test(redis_database_of_unknown_format_is_unavailable),
        cmocka_unit_test(redis_store_of_format_2_is_upgraded),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

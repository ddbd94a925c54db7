/*
 * testutil.c — see testutil.h.
 */
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "akvx.h"
#include "bpe.h"
#include "internal.h"
#include "record.h"
#include "testutil.h"

uint64_t tu_cost_full(size_t key_len, size_t value_len, size_t ct_len,
                      size_t meta_len)
{
    return akv_rec_usage(key_len, AKV_REC_HEADER + ct_len + meta_len +
                                      value_len);
}

char *tu_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;
    if (asprintf(&path, "%s/akv-test-XXXXXX", base && *base ? base : "/tmp") <
        0)
        abort();
    if (mkdtemp(path) == NULL)
        abort();
    return path;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void tu_rmtree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int64_t tu_clock(void *ctx)
{
    return ((tu_clock_state *)ctx)->now_ms;
}

const char *tu_backend(void)
{
    const char *b = getenv("AKV_TEST_BACKEND");
    return b && *b ? b : NULL;
}

bool tu_write_log(void)
{
    const char *wl = getenv("AKV_TEST_WRITE_LOG");
    return wl && *wl == '1' && tu_backend() == NULL;
}

/* A connection to the test's Redis: redis://HOST:PORT/DB, as
 * tests/redis/with-redis.sh writes it. */
static redisContext *tu_redis(void)
{
    char host[256];
    int port, db = 0;
    if (sscanf(tu_backend(), "redis://%255[^:]:%d/%d", host, &port, &db) < 2)
        fail_msg("AKV_TEST_BACKEND=%s is not redis://HOST:PORT/DB",
                 tu_backend());
    redisContext *c = redisConnect(host, port);
    if (c == NULL || c->err)
        fail_msg("cannot connect to %s", tu_backend());
    redisReply *r = redisCommand(c, "SELECT %d", db);
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        fail_msg("cannot select database %d", db);
    freeReplyObject(r);
    return c;
}

static redisContext *tu_redis_at(const char *host, int port)
{
    redisContext *c = redisConnect(host, port);
    if (c == NULL || c->err)
        fail_msg("cannot connect to %s:%d", host, port);
    return c;
}

/* Runs a command on *c; on a Redis Cluster (with-cluster.sh) follows
 * MOVED and ASK to the node that owns the key, *c then being a
 * connection to that node. */
static redisReply *tu_rvcmd(redisContext **c, const char *fmt, va_list ap)
{
    for (int hop = 0; hop < 5; hop++) {
        va_list cp;
        va_copy(cp, ap);
        redisReply *r = redisvCommand(*c, fmt, cp);
        va_end(cp);
        if (r == NULL || r->type != REDIS_REPLY_ERROR ||
            (strncmp(r->str, "MOVED ", 6) != 0 &&
             strncmp(r->str, "ASK ", 4) != 0))
            return r;
        bool ask = r->str[0] == 'A';
        char host[256];
        int port;
        if (sscanf(strchr(r->str, ' ') + 1, "%*u %255[^:]:%d", host, &port) !=
            2)
            return r;
        freeReplyObject(r);
        redisFree(*c);
        *c = tu_redis_at(host, port);
        if (ask)
            freeReplyObject(redisCommand(*c, "ASKING"));
    }
    return NULL;
}

static redisReply *tu_rcmd(redisContext **c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = tu_rvcmd(c, fmt, ap);
    va_end(ap);
    return r;
}

/* Calls fn on a connection to each master of the test's Redis: the one
 * server, or every master of the cluster named by AKV_TEST_CLUSTER
 * (HOST:PORT,…; with-cluster.sh). */
static void tu_each_master(void (*fn)(redisContext *c, void *ctx), void *ctx)
{
    const char *nodes = getenv("AKV_TEST_CLUSTER");
    if (nodes == NULL || *nodes == '\0') {
        redisContext *c = tu_redis();
        fn(c, ctx);
        redisFree(c);
        return;
    }
    const char *p = nodes;
    while (*p) {
        char host[256];
        int port, used = 0;
        if (sscanf(p, "%255[^:]:%d%n", host, &port, &used) != 2)
            fail_msg("AKV_TEST_CLUSTER=%s is not HOST:PORT,…", nodes);
        p += used;
        if (*p == ',')
            p++;
        redisContext *c = redisConnect(host, port);
        if (c == NULL || c->err) { /* a node the test stopped */
            if (c)
                redisFree(c);
            continue;
        }
        redisReply *r = redisCommand(c, "ROLE");
        bool master = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                      r->element[0]->type == REDIS_REPLY_STRING &&
                      strcmp(r->element[0]->str, "master") == 0;
        if (r)
            freeReplyObject(r);
        if (master)
            fn(c, ctx);
        redisFree(c);
    }
}

void tu_redis_command(const char *fmt, ...)
{
    redisContext *c = tu_redis();
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = tu_rvcmd(&c, fmt, ap);
    va_end(ap);
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        fail_msg("redis command '%s' failed", fmt);
    freeReplyObject(r);
    redisFree(c);
}

char *tu_redis_string(const char *fmt, ...)
{
    redisContext *c = tu_redis();
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = tu_rvcmd(&c, fmt, ap);
    va_end(ap);
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        fail_msg("redis command '%s' failed", fmt);
    char *out = NULL;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
        out = strndup(r->str, r->len);
    else if (r->type == REDIS_REPLY_INTEGER && asprintf(&out, "%lld",
                                                        r->integer) < 0)
        out = NULL;
    freeReplyObject(r);
    redisFree(c);
    return out;
}

/* The damaged form of a record of format 2 or 3 (record.c); owned. */
static unsigned char *damage_bytes(const unsigned char *in, size_t len,
                                   tu_damage how, size_t *out_len)
{
    unsigned char *out = malloc(len);
    if (out == NULL)
        abort();
    if (len < 88 || (in[1] != 2 && in[1] != 3))
        fail_msg("not a format-2 or format-3 record (%zu bytes)", len);
    memcpy(out, in, len);
    if (how == TU_REWRITE_V2 || how == TU_DAMAGE_V2_HEADER) {
        akv_rec rec;
        if (akv_rec_decode(in, len, &rec) != AKV_OK)
            fail_msg("the record does not decode");
        akv_rec_encode(&rec, AKV_REC_FORMAT_SHA1, out);
        if (how == TU_DAMAGE_V2_HEADER)
            out[8] ^= 0x04; /* version */
        *out_len = len;
        return out;
    }
    *out_len = len;
    size_t ctl = (size_t)in[2] | (size_t)in[3] << 8;
    size_t ml = (size_t)in[4] | (size_t)in[5] << 8 | (size_t)in[6] << 16;
    switch (how) {
    case TU_DAMAGE_VALUE:
        out[len - 1] ^= 0x20;
        break;
    case TU_DAMAGE_TRUNCATE:
        *out_len = 10;
        break;
    case TU_DAMAGE_HEADER:
        out[8] ^= 0x04; /* version */
        break;
    case TU_DAMAGE_METADATA:
        if (ml == 0)
            fail_msg("the record has no metadata to damage");
        out[88 + ctl] ^= 0x20;
        break;
    case TU_REWRITE_V1:
    case TU_DAMAGE_V1_TIME:
    case TU_DAMAGE_V1_METADATA:
        /* Drop the checksum: header bytes 0..79, then the rest. */
        out[1] = 1;
        memmove(out + 80, out + 88, len - 88);
        *out_len = len - 8;
        if (how == TU_DAMAGE_V1_TIME) {
            memset(out + 24, 0, 8);
            out[31] = 0x80; /* INT64_MIN, little-endian */
        } else if (how == TU_DAMAGE_V1_METADATA) {
            if (ml == 0)
                fail_msg("the record has no metadata to damage");
            out[80 + ctl] ^= 0x20;
        }
        break;
    case TU_REWRITE_V2:
    case TU_DAMAGE_V2_HEADER:
        break; /* done above */
    }
    return out;
}

/* The closed LMDB store in dir, below the library: the environment and a
 * transaction (txn_flags: 0 or MDB_RDONLY). Fails the test if it cannot. */
static MDB_env *raw_lmdb(const char *dir, unsigned txn_flags, MDB_txn **txn)
{
    MDB_env *env = NULL;
    *txn = NULL;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
        mdb_env_set_mapsize(env, (size_t)8 << 30) ||
        mdb_env_open(env, dir, MDB_NOTLS, 0600) ||
        mdb_txn_begin(env, NULL, txn_flags, txn))
        fail_msg("cannot open the LMDB store in %s", dir);
    return env;
}

/* The "entries" key of (sandbox, scope, key) in the layout of
 * src/lib/backend-lmdb.c: scope digit, sandbox, NUL, key. */
static MDB_val raw_entry_key(char kb[1 + 64 + 1 + 255], akv_scope scope,
                             const char *sb, const char *key)
{
    size_t sl = strlen(sb), kl = strlen(key);
    kb[0] = (char)('0' + scope);
    memcpy(kb + 1, sb, sl);
    kb[1 + sl] = '\0';
    memcpy(kb + 2 + sl, key, kl);
    return (MDB_val){2 + sl + kl, kb};
}

void tu_damage_record(const char *dir, akv_scope scope, const char *sb,
                      const char *key, tu_damage how)
{
    size_t size;
    if (tu_backend()) {
        /* The layout of src/lib/backend-redis.c: one hash per namespace. */
        redisContext *c = tu_redis();
        char hash[128];
        snprintf(hash, sizeof hash, "akv:{%d:%s}:v", (int)scope, sb);
        redisReply *r = tu_rcmd(&c, "HGET %s %s", hash, key);
        if (r == NULL || r->type != REDIS_REPLY_STRING || r->len <= 80)
            fail_msg("no record %s/%s in %s", sb, key, hash);
        unsigned char *bad = damage_bytes((unsigned char *)r->str, r->len,
                                          how, &size);
        redisReply *w = tu_rcmd(&c, "HSET %s %s %b", hash, key, bad, size);
        if (w == NULL || w->type == REDIS_REPLY_ERROR)
            fail_msg("cannot damage %s/%s", sb, key);
        free(bad);
        freeReplyObject(w);
        freeReplyObject(r);
        redisFree(c);
        return;
    }
    MDB_txn *txn;
    MDB_env *env = raw_lmdb(dir, 0, &txn);
    MDB_dbi dbi = 0;
    if (mdb_dbi_open(txn, "entries", 0, &dbi))
        fail_msg("no entries database in %s", dir);
    char kb[1 + 64 + 1 + 255];
    MDB_val k = raw_entry_key(kb, scope, sb, key), v;
    if (mdb_get(txn, dbi, &k, &v) || v.mv_size <= 80)
        fail_msg("no record %s/%s in %s", sb, key, dir);
    unsigned char *bad = damage_bytes(v.mv_data, v.mv_size, how, &size);
    MDB_val nv = {size, bad};
    if (mdb_put(txn, dbi, &k, &nv, 0) || mdb_txn_commit(txn))
        fail_msg("cannot damage %s/%s", sb, key);
    free(bad);
    mdb_env_close(env);
}

/* tu_usage_make_old on one master: every namespace's records hash,
 * akv:{S:SB}:v (the test stores are small: one SCAN call sees them all). */
static void make_old_on(redisContext *c, void *ctx)
{
    (void)ctx;
    redisReply *ns = redisCommand(c, "SCAN 0 MATCH akv:{*}:v COUNT 100000");
    if (ns == NULL || ns->type != REDIS_REPLY_ARRAY || ns->elements != 2 ||
        strcmp(ns->element[0]->str, "0") != 0)
        fail_msg("cannot list namespaces");
    for (size_t i = 0; i < ns->element[1]->elements; i++) {
        char m[80];
        const redisReply *k = ns->element[1]->element[i];
        snprintf(m, sizeof m, "%.*s", (int)k->len - 8, k->str + 5);
        redisReply *all = redisCommand(c, "HGETALL akv:{%s}:v", m);
        if (all == NULL || all->type != REDIS_REPLY_ARRAY)
            fail_msg("cannot read namespace %s", m);
        unsigned long long bytes = 0;
        for (size_t j = 1; j < all->elements; j += 2) {
            akv_rec rec;
            if (akv_rec_decode(all->element[j]->str, all->element[j]->len,
                               &rec) == AKV_OK)
                bytes += rec.value_len;
        }
        char b[32], e[32];
        snprintf(b, sizeof b, "%llu", bytes);
        snprintf(e, sizeof e, "%zu", all->elements / 2);
        freeReplyObject(redisCommand(c, "HSET akv:{%s}:u bytes %s entries %s",
                                     m, b, e));
        freeReplyObject(redisCommand(c, "HDEL akv:{%s}:u acct", m));
        freeReplyObject(all);
    }
    freeReplyObject(ns);
}

static void flush_on(redisContext *c, void *ctx)
{
    (void)ctx;
    redisReply *r = redisCommand(c, "FLUSHDB");
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        fail_msg("FLUSHDB on %s failed", tu_backend());
    freeReplyObject(r);
}

char tu_lmdb_marker(const char *dir, const char *value)
{
    MDB_txn *txn;
    MDB_env *env = raw_lmdb(dir, 0, &txn);
    MDB_dbi dbi;
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    MDB_val k = {6, "format"}, v = {1, (void *)value};
    if (value)
        assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    assert_int_equal(v.mv_size, 1);
    char got = *(const char *)v.mv_data;
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    return got;
}

int tu_lmdb_record_format(const char *dir, akv_scope scope, const char *sb,
                          const char *key)
{
    MDB_txn *txn;
    MDB_env *env = raw_lmdb(dir, MDB_RDONLY, &txn);
    MDB_dbi dbi;
    assert_int_equal(mdb_dbi_open(txn, "entries", 0, &dbi), 0);
    char kb[1 + 64 + 1 + 255];
    MDB_val k = raw_entry_key(kb, scope, sb, key), v;
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    assert_true(v.mv_size > 1);
    int format = ((const unsigned char *)v.mv_data)[1];
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return format;
}

void tu_usage_make_old(const char *dir)
{
    if (tu_backend()) {
        /* The layout of src/lib/backend-redis.c. */
        tu_each_master(make_old_on, NULL);
        tu_redis_command("SET akv:format 1");
        return;
    }
    /* The layout of src/lib/backend-lmdb.c: "usage" rows of two uint64
     * per namespace (key: scope digit, sandbox), "meta" format. */
    MDB_txn *txn;
    MDB_env *env = raw_lmdb(dir, 0, &txn);
    MDB_dbi entries = 0, usage = 0, meta = 0;
    MDB_cursor *cur = NULL;
    if (mdb_dbi_open(txn, "entries", 0, &entries) ||
        mdb_dbi_open(txn, "usage", 0, &usage) ||
        mdb_dbi_open(txn, "meta", 0, &meta) || mdb_drop(txn, usage, 0) ||
        mdb_cursor_open(txn, entries, &cur))
        fail_msg("cannot open the LMDB store in %s", dir);
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const char *kp = k.mv_data;
        const char *nul = memchr(kp, '\0', k.mv_size);
        if (nul == NULL)
            continue;
        MDB_val uk = {(size_t)(nul - kp), (void *)kp}, uv;
        uint64_t u[2] = {0, 0};
        if (mdb_get(txn, usage, &uk, &uv) == 0)
            memcpy(u, uv.mv_data, sizeof u);
        akv_rec rec;
        if (akv_rec_decode(v.mv_data, v.mv_size, &rec) == AKV_OK)
            u[0] += rec.value_len;
        u[1]++;
        MDB_val nv = {sizeof u, u};
        if (mdb_put(txn, usage, &uk, &nv, 0))
            fail_msg("cannot write usage in %s", dir);
    }
    mdb_cursor_close(cur);
    MDB_val fk = {6, "format"}, fv = {1, "1"};
    if (mdb_put(txn, meta, &fk, &fv, 0) || mdb_txn_commit(txn))
        fail_msg("cannot mark %s as format 1", dir);
    mdb_env_close(env);
}

void tu_store_open(tu_store *ts, const akv_config *cfg)
{
    ts->dir = tu_tempdir();
    ts->clock.now_ms = 1795651200000LL; /* 2026-11-26T00:00:00Z */
    if (tu_backend())
        tu_each_master(flush_on, NULL);
    /* AKV_TEST_WRITE_LOG=1: the same tests on the embedded store with its
     * write log (store.write_log), as "wlog-unit-<area>". */
    struct akv_config with;
    if (tu_write_log()) {
        if (cfg)
            with = *cfg;
        else
            akv_config_defaults(&with);
        with.write_log = 1;
        cfg = &with;
    }
    int rc = akv_store_open(&ts->store, tu_backend(), ts->dir, cfg,
                            AKV_OPEN_CREATE);
    if (rc != AKV_OK)
        fail_msg("akv_store_open(%s): %s", ts->dir, akv_last_error()->message);
    akv_store_set_clock(ts->store, tu_clock, &ts->clock);
}

void tu_store_close(tu_store *ts)
{
    akv_store_close(ts->store);
    tu_rmtree(ts->dir);
    free(ts->dir);
    ts->store = NULL;
    ts->dir = NULL;
}

uint32_t tu_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 32);
}

void tu_load_made_up(const char *dir, size_t n,
                     const unsigned char *const *tok, const size_t *len,
                     int compile, struct akv_bpe_data *d)
{
    char json[4096], bin[4096];
    snprintf(json, sizeof json, "%s/syn.json", dir);
    snprintf(bin, sizeof bin, "%s/syn.bin", dir);
    FILE *f = fopen(json, "w");
    assert_non_null(f);
    fputs("{\"pat_str\": \"x\", \"special_tokens\": {}, \"bpe_ranks\": \"", f);
    for (size_t r = 0; r < n; r++) {
        size_t ol;
        char *b64 = akvx_base64_encode((const char *)tok[r], len[r], &ol);
        assert_non_null(b64);
        fprintf(f, "! %zu %s ", r, b64);
        free(b64);
    }
    fputs("\"}", f);
    assert_int_equal(fclose(f), 0);
    unlink(bin);
    if (compile)
        assert_int_equal(akv_bpe_compile(json, bin, NULL), AKV_OK);
    assert_int_equal(akv_bpe_data_load(dir, "syn", NULL, d), AKV_OK);
    if (compile)
        assert_non_null(d->map); /* the table file, not the JSON */
}

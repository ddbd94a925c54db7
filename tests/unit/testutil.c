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

#include "testutil.h"

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

void tu_redis_command(const char *fmt, ...)
{
    redisContext *c = tu_redis();
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        fail_msg("redis command '%s' failed", fmt);
    freeReplyObject(r);
    redisFree(c);
}

static void damage_bytes(unsigned char *copy, size_t *size, size_t len)
{
    if (len == 0)
        copy[*size - 1] ^= 0x20;
    else
        *size = len;
}

void tu_damage_record(const char *dir, akv_scope scope, const char *sb,
                      const char *key, size_t len)
{
    if (tu_backend()) {
        /* The layout of src/lib/backend-redis.c: one hash per namespace. */
        redisContext *c = tu_redis();
        char hash[128];
        snprintf(hash, sizeof hash, "akv:{%d:%s}:v", (int)scope, sb);
        redisReply *r = redisCommand(c, "HGET %s %s", hash, key);
        if (r == NULL || r->type != REDIS_REPLY_STRING || r->len <= 80)
            fail_msg("no record %s/%s in %s", sb, key, hash);
        size_t size = r->len;
        damage_bytes((unsigned char *)r->str, &size, len);
        redisReply *w = redisCommand(c, "HSET %s %s %b", hash, key, r->str,
                                     size);
        if (w == NULL || w->type == REDIS_REPLY_ERROR)
            fail_msg("cannot damage %s/%s", sb, key);
        freeReplyObject(w);
        freeReplyObject(r);
        redisFree(c);
        return;
    }
    /* The layout of src/lib/backend-lmdb.c: database "entries", key =
     * scope digit, sandbox, NUL, key. */
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi = 0;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
        mdb_env_set_mapsize(env, (size_t)8 << 30) ||
        mdb_env_open(env, dir, MDB_NOTLS, 0644) ||
        mdb_txn_begin(env, NULL, 0, &txn) ||
        mdb_dbi_open(txn, "entries", 0, &dbi))
        fail_msg("cannot open the LMDB store in %s", dir);
    char kb[1 + 64 + 1 + 255];
    size_t sl = strlen(sb), kl = strlen(key);
    kb[0] = (char)('0' + scope);
    memcpy(kb + 1, sb, sl);
    kb[1 + sl] = '\0';
    memcpy(kb + 2 + sl, key, kl);
    MDB_val k = {2 + sl + kl, kb}, v;
    if (mdb_get(txn, dbi, &k, &v) || v.mv_size <= 80)
        fail_msg("no record %s/%s in %s", sb, key, dir);
    unsigned char *copy = malloc(v.mv_size);
    if (copy == NULL)
        abort();
    memcpy(copy, v.mv_data, v.mv_size);
    MDB_val nv = {v.mv_size, copy};
    damage_bytes(copy, &nv.mv_size, len);
    if (mdb_put(txn, dbi, &k, &nv, 0) || mdb_txn_commit(txn))
        fail_msg("cannot damage %s/%s", sb, key);
    free(copy);
    mdb_env_close(env);
}

void tu_store_open(tu_store *ts, const akv_config *cfg)
{
    ts->dir = tu_tempdir();
    ts->clock.now_ms = 1795651200000LL; /* 2026-11-26T00:00:00Z */
    if (tu_backend()) {
        redisContext *c = tu_redis();
        redisReply *r = redisCommand(c, "FLUSHDB");
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            fail_msg("FLUSHDB on %s failed", tu_backend());
        freeReplyObject(r);
        redisFree(c);
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

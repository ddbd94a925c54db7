/*
 * bench-get.c — single-threaded read throughput of agentkv against raw LMDB
 * on the same machine, in the same run.
 *
 *   agentkv   akv_get + akv_value_release of 1 KiB values: key validation,
 *             pooled read snapshot, record decode, expiry check and SHA-256
 *             verification of every value.
 *   lmdb      mdb_txn_renew + mdb_get + mdb_txn_reset per read: the same
 *             independent-snapshot-per-read pattern, no checks.
 *   lmdb-txn  mdb_get inside one long read transaction: LMDB's ceiling.
 *   sha256    SHA-256 of a 1 KiB buffer alone (akv_sha256): the cost every
 *             verified read pays, hence agentkv's ceiling on this CPU.
 *
 * Usage: bench_get [DIR] [KEYS] [SECONDS]. Prints rates and ratios.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentkv.h"
#include "internal.h"

#define VALUE_SIZE 1024

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_get: %s: %d %s\n", what, rc,
            rc < 0 ? akv_last_error()->message : mdb_strerror(rc));
    exit(1);
}

/* xorshift: a cheap pseudo-random key order that defeats prefetching. */
static uint64_t rng = 88172645463325252ULL;
static unsigned next_key(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/agentkv-bench";
    unsigned nkeys = argc > 2 ? (unsigned)atoi(argv[2]) : 10000;
    double secs = argc > 3 ? atof(argv[3]) : 2.0;
    char path[4096], cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/akv' '%s/raw'", dir,
             dir, dir);
    if (system(cmd) != 0)
        die("preparing directory", -1);

    /* Load both stores with the same keys and values, one transaction each. */
    unsigned char value[VALUE_SIZE];
    char b64[VALUE_SIZE * 2];
    for (int i = 0; i < VALUE_SIZE; i++)
        value[i] = (unsigned char)(i * 31 + 7);
    snprintf(path, sizeof path, "%s/akv", dir);
    akv_store *store;
    int rc = akv_store_open(&store, NULL, path, NULL, AKV_OPEN_CREATE);
    if (rc)
        die("akv_store_open", rc);
    /* akv_import takes JSON Lines; build them in memory. */
    char *jl = NULL;
    size_t jl_len = 0;
    FILE *mem = open_memstream(&jl, &jl_len);
    {
        static const char t[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t o = 0;
        for (int i = 0; i + 2 < VALUE_SIZE; i += 3) {
            unsigned v = value[i] << 16 | value[i + 1] << 8 | value[i + 2];
            b64[o++] = t[v >> 18];
            b64[o++] = t[(v >> 12) & 63];
            b64[o++] = t[(v >> 6) & 63];
            b64[o++] = t[v & 63];
        }
        unsigned v = value[VALUE_SIZE - 1] << 16; /* 1024 = 341*3 + 1 */
        b64[o++] = t[v >> 18];
        b64[o++] = t[(v >> 12) & 63];
        b64[o++] = '=';
        b64[o++] = '=';
        b64[o] = '\0';
    }
    char sha[65];
    {
        akv_meta m;
        rc = akv_put(store, "bench", AKV_SCOPE_TASK, "probe", 5, value,
                     VALUE_SIZE, NULL, &m, NULL);
        if (rc)
            die("akv_put", rc);
        memcpy(sha, m.sha256, sizeof sha);
    }
    for (unsigned i = 0; i < nkeys; i++)
        fprintf(mem,
                "{\"sandbox\":\"bench\",\"scope\":\"task\",\"key\":\"k/%u\","
                "\"content_type\":\"application/octet-stream\","
                "\"sha256\":\"%s\",\"version\":1,"
                "\"created_at\":\"2026-01-01T00:00:00.000Z\","
                "\"updated_at\":\"2026-01-01T00:00:00.000Z\","
                "\"expires_at\":null,\"metadata\":{},\"value\":\"%s\"}\n",
                i, sha, b64);
    fclose(mem);
    FILE *in = fmemopen(jl, jl_len, "r");
    uint64_t imported = 0;
    if ((rc = akv_import(store, in, NULL, NULL, &imported)) != AKV_OK)
        die("akv_import", rc);
    if (imported != nkeys) {
        fprintf(stderr, "bench_get: imported %llu of %u keys\n",
                (unsigned long long)imported, nkeys);
        return 1;
    }
    fclose(in);
    free(jl);

    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    snprintf(path, sizeof path, "%s/raw", dir);
    mdb_env_create(&env);
    mdb_env_set_mapsize(env, 1ULL << 30);
    if ((rc = mdb_env_open(env, path, MDB_NOTLS, 0644)) != 0)
        die("mdb_env_open", rc);
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, NULL, 0, &dbi);
    char kb[32];
    for (unsigned i = 0; i < nkeys; i++) {
        MDB_val k = {(size_t)snprintf(kb, sizeof kb, "k/%u", i), kb};
        MDB_val v = {VALUE_SIZE, value};
        if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
            die("mdb_put", rc);
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        die("mdb_txn_commit", rc);

    /* Pre-format keys so that the loops time the stores, not snprintf. */
    char (*keys)[16] = malloc((size_t)nkeys * 16);
    size_t *klen = malloc(nkeys * sizeof *klen);
    for (unsigned i = 0; i < nkeys; i++)
        klen[i] = (size_t)snprintf(keys[i], 16, "k/%u", i);

    uint64_t sink = 0;
    /* agentkv */
    uint64_t n_akv = 0;
    double t0 = now_s(), t1;
    do {
        for (int j = 0; j < 4096; j++) {
            unsigned i = next_key(nkeys);
            akv_value *v;
            if ((rc = akv_get(store, "bench", AKV_SCOPE_TASK, keys[i], klen[i],
                              &v)) != AKV_OK)
                die("akv_get", rc);
            size_t len;
            const unsigned char *d = akv_value_data(v, &len);
            sink += d[len - 1];
            akv_value_release(v);
        }
        n_akv += 4096;
    } while ((t1 = now_s()) - t0 < secs);
    double r_akv = n_akv / (t1 - t0);

    /* raw LMDB, one snapshot per read */
    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    mdb_txn_reset(txn);
    uint64_t n_raw = 0;
    t0 = now_s();
    do {
        for (int j = 0; j < 4096; j++) {
            unsigned i = next_key(nkeys);
            MDB_val k = {klen[i], keys[i]}, v;
            mdb_txn_renew(txn);
            if ((rc = mdb_get(txn, dbi, &k, &v)) != 0)
                die("mdb_get", rc);
            sink += ((unsigned char *)v.mv_data)[v.mv_size - 1];
            mdb_txn_reset(txn);
        }
        n_raw += 4096;
    } while ((t1 = now_s()) - t0 < secs);
    double r_raw = n_raw / (t1 - t0);

    /* raw LMDB, one long transaction */
    mdb_txn_renew(txn);
    uint64_t n_txn = 0;
    t0 = now_s();
    do {
        for (int j = 0; j < 4096; j++) {
            unsigned i = next_key(nkeys);
            MDB_val k = {klen[i], keys[i]}, v;
            if ((rc = mdb_get(txn, dbi, &k, &v)) != 0)
                die("mdb_get", rc);
            sink += ((unsigned char *)v.mv_data)[v.mv_size - 1];
        }
        n_txn += 4096;
    } while ((t1 = now_s()) - t0 < secs);
    double r_txn = n_txn / (t1 - t0);
    mdb_txn_abort(txn);

    /* SHA-256 alone */
    uint64_t n_sha = 0;
    unsigned char digest[32];
    t0 = now_s();
    do {
        for (int j = 0; j < 4096; j++) {
            value[0] = (unsigned char)j;
            akv_sha256(value, VALUE_SIZE, digest);
            sink += digest[0];
        }
        n_sha += 4096;
    } while ((t1 = now_s()) - t0 < secs);
    double r_sha = n_sha / (t1 - t0);

    printf("keys %u, value %d bytes, %.1f s per run, single thread\n", nkeys,
           VALUE_SIZE, secs);
    printf("%-46s %12.0f ops/s\n", "agentkv akv_get (SHA-256 verified)", r_akv);
    printf("%-46s %12.0f ops/s\n", "lmdb mdb_get (txn renew/reset per read)",
           r_raw);
    printf("%-46s %12.0f ops/s\n", "lmdb mdb_get (one long read txn)", r_txn);
    printf("%-46s %12.0f ops/s\n", "sha256 of 1 KiB alone (ceiling)", r_sha);
    printf("ratio agentkv / lmdb (snapshot per read): %.2f\n", r_akv / r_raw);
    printf("ratio agentkv / lmdb (one long txn):      %.2f\n", r_akv / r_txn);
    printf("ratio agentkv / sha256 alone:             %.2f\n", r_akv / r_sha);
    printf("(checksum %llu)\n", (unsigned long long)sink);

    free(keys);
    free(klen);
    mdb_env_close(env);
    akv_store_close(store);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

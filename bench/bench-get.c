/*
 * bench-get.c — read throughput of agentkv against raw LMDB on the same
 * machine, in the same run: one thread, or BENCH_THREADS at once.
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
 *   floor     mdb_txn_renew + mdb_get + SHA-256 of the value + reset: the
 *             least any verified read must do, measured in the same run.
 *
 * Usage: bench_get [DIR] [KEYS] [SECONDS] [ROUNDS]. Each round gives every
 * loop SECONDS (default 1), in turns of 20 ms in a fixed order; prints the
 * median, minimum and maximum of ROUNDS (default 5) rounds, the per-round
 * ratios' medians, and the load average before and after. BENCH_CLOCK=cpu
 * times the loops in the thread's CPU time instead of wall time (for a
 * loaded machine); BENCH_OPS=N runs N reads per loop instead (for
 * callgrind). BENCH_THREADS=T (1..8, default 1) runs each turn on T
 * threads at once, each with its own read transaction, values and key
 * sequence, and prints reads per second per thread: what readers on
 * several cores cost one another (the server's event loops read at once).
 */
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentkv.h"
#include "bench.h"
#include "internal.h"

#define VALUE_SIZE 1024
#define MAX_ROUNDS 99
#define CHUNK 1024 /* reads between two looks at the clock */
#define SLICE_S 0.02 /* a loop's turn within a round */
#define MAX_THREADS 8

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_get: %s: %d %s\n", what, rc,
            rc < 0 ? akv_last_error()->message : mdb_strerror(rc));
    exit(1);
}

/* The loops, each timed on its own. */
enum { L_AKV, L_FLOOR, L_RAW, L_TXN, L_SHA, NLOOPS };

struct loops {
    akv_store *store;
    MDB_txn *txn; /* reset; each loop renews it as it needs */
    MDB_dbi dbi;
    char (*keys)[16];
    size_t *klen;
    unsigned nkeys;
    unsigned char *value; /* VALUE_SIZE bytes, for L_SHA */
    uint64_t sink;        /* folds in every result, so none is optimised out */
};

/* Runs loop l for secs of bench_clock (or ops reads when ops > 0), adds
 * the time it took to *elapsed and returns the reads made. */
static uint64_t run_loop(struct loops *lp, int l, double secs, uint64_t ops,
                         double *elapsed)
{
    uint64_t n = 0;
    double t0 = now_s(), t1;
    unsigned char digest[32];
    int rc;
    if (l == L_TXN)
        mdb_txn_renew(lp->txn);
    do {
        for (int j = 0; j < CHUNK; j++) {
            unsigned i = next_key(lp->nkeys);
            MDB_val k = {lp->klen[i], lp->keys[i]}, v;
            switch (l) {
            case L_AKV: {
                akv_value *av;
                if ((rc = akv_get(lp->store, "bench", AKV_SCOPE_TASK,
                                  lp->keys[i], lp->klen[i], &av)) != AKV_OK)
                    die("akv_get", rc);
                size_t len;
                const unsigned char *d = akv_value_data(av, &len);
                lp->sink += d[len - 1];
                akv_value_release(av);
                break;
            }
            case L_FLOOR:
                mdb_txn_renew(lp->txn);
                if ((rc = mdb_get(lp->txn, lp->dbi, &k, &v)) != 0)
                    die("mdb_get", rc);
                akv_sha256(v.mv_data, v.mv_size, digest);
                lp->sink += digest[0];
                mdb_txn_reset(lp->txn);
                break;
            case L_RAW:
                mdb_txn_renew(lp->txn);
                if ((rc = mdb_get(lp->txn, lp->dbi, &k, &v)) != 0)
                    die("mdb_get", rc);
                lp->sink += ((unsigned char *)v.mv_data)[v.mv_size - 1];
                mdb_txn_reset(lp->txn);
                break;
            case L_TXN:
                if ((rc = mdb_get(lp->txn, lp->dbi, &k, &v)) != 0)
                    die("mdb_get", rc);
                lp->sink += ((unsigned char *)v.mv_data)[v.mv_size - 1];
                break;
            case L_SHA:
                lp->value[0] = (unsigned char)j;
                akv_sha256(lp->value, VALUE_SIZE, digest);
                lp->sink += digest[0];
                break;
            }
        }
        n += CHUNK;
    } while (ops ? n < ops : (t1 = now_s()) - t0 < secs);
    if (ops)
        t1 = now_s();
    if (l == L_TXN)
        mdb_txn_reset(lp->txn);
    *elapsed += t1 - t0;
    return n;
}

/* BENCH_THREADS: the threads beside main, each running the loop main
 * runs, on its own copy of struct loops, between two barriers. */
struct helper {
    struct loops lp;
    uint64_t n;
    double t;
    pthread_t th;
};
static struct {
    pthread_barrier_t start, end;
    int l; /* the loop of this turn; -1: stop */
    double secs;
    uint64_t ops;
} turn;

static void *helper_main(void *arg)
{
    struct helper *h = arg;
    for (;;) {
        pthread_barrier_wait(&turn.start);
        if (turn.l < 0)
            return NULL;
        h->n = run_loop(&h->lp, turn.l, turn.secs, turn.ops, &h->t);
        pthread_barrier_wait(&turn.end);
    }
}

/* One turn of loop l on main and the helpers; the reads of all, and main's
 * time in *elapsed. */
static uint64_t run_turn(struct loops *lp, struct helper *hs, int nh, int l,
                         double secs, uint64_t ops, double *elapsed)
{
    if (nh == 0)
        return run_loop(lp, l, secs, ops, elapsed);
    turn.l = l;
    turn.secs = secs;
    turn.ops = ops;
    pthread_barrier_wait(&turn.start);
    uint64_t n = run_loop(lp, l, secs, ops, elapsed);
    pthread_barrier_wait(&turn.end);
    for (int i = 0; i < nh; i++)
        n += hs[i].n;
    return n;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/agentkv-bench";
    unsigned nkeys = argc > 2 ? (unsigned)atoi(argv[2]) : 10000;
    double secs = argc > 3 ? atof(argv[3]) : 1.0;
    int rounds = argc > 4 ? atoi(argv[4]) : 5;
    /* BENCH_OPS=N: a fixed number of reads per loop instead of a time, for
     * instruction counts under valgrind --tool=callgrind. */
    const char *clock_env = getenv("BENCH_CLOCK");
    if (clock_env && strcmp(clock_env, "cpu") == 0)
        bench_clock = CLOCK_THREAD_CPUTIME_ID;
    else if (clock_env && strcmp(clock_env, "wall") != 0) {
        fprintf(stderr, "bench_get: BENCH_CLOCK must be wall or cpu\n");
        return 2;
    }
    const char *threads_env = getenv("BENCH_THREADS");
    int nthreads = threads_env ? atoi(threads_env) : 1;
    if (nthreads < 1 || nthreads > MAX_THREADS) {
        fprintf(stderr, "bench_get: BENCH_THREADS must be 1..%d\n",
                MAX_THREADS);
        return 2;
    }
    const char *ops_env = getenv("BENCH_OPS");
    uint64_t ops = ops_env ? strtoull(ops_env, NULL, 10) : 0;
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "bench_get: ROUNDS must be 1..%d\n", MAX_ROUNDS);
        return 2;
    }
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

    static const char *const names[NLOOPS] = {
        [L_AKV] = "agentkv akv_get (SHA-256 verified)",
        [L_FLOOR] = "floor: renew + mdb_get + SHA-256 + reset",
        [L_RAW] = "lmdb mdb_get (txn renew/reset per read)",
        [L_TXN] = "lmdb mdb_get (one long read txn)",
        [L_SHA] = "sha256 of 1 KiB alone",
    };
    double rate[MAX_ROUNDS][NLOOPS];
    struct loops lp = {.store = store, .dbi = dbi, .keys = keys,
                       .klen = klen, .nkeys = nkeys, .value = value};
    double load0 = loadavg();
    mdb_txn_begin(env, NULL, MDB_RDONLY, &lp.txn);
    mdb_txn_reset(lp.txn);
    struct helper hs[MAX_THREADS];
    int nh = nthreads - 1;
    if (nh > 0) {
        pthread_barrier_init(&turn.start, NULL, (unsigned)nthreads);
        pthread_barrier_init(&turn.end, NULL, (unsigned)nthreads);
    }
    for (int i = 0; i < nh; i++) {
        hs[i].lp = lp;
        hs[i].lp.value = malloc(VALUE_SIZE);
        memcpy(hs[i].lp.value, value, VALUE_SIZE);
        mdb_txn_begin(env, NULL, MDB_RDONLY, &hs[i].lp.txn);
        mdb_txn_reset(hs[i].lp.txn);
        pthread_create(&hs[i].th, NULL, helper_main, &hs[i]);
    }
    /* A round runs the loops in turn, a slice of SLICE_S each, until each
     * has had SECONDS: a load that comes and goes within a round falls on
     * every loop alike, not on whichever ran through it. */
    int slices = ops ? 1 : (int)(secs / SLICE_S + 0.5);
    if (slices < 1)
        slices = 1;
    for (int r = 0; r < rounds; r++) {
        uint64_t n[NLOOPS] = {0};
        double t[NLOOPS] = {0};
        for (int sl = 0; sl < slices; sl++)
            for (int l = 0; l < NLOOPS; l++)
                n[l] += run_turn(&lp, hs, nh, l, secs / slices, ops, &t[l]);
        for (int l = 0; l < NLOOPS; l++)
            rate[r][l] = n[l] / t[l] / nthreads;
    }
    if (nh > 0) {
        turn.l = -1;
        pthread_barrier_wait(&turn.start);
    }
    for (int i = 0; i < nh; i++) {
        pthread_join(hs[i].th, NULL);
        lp.sink += hs[i].lp.sink;
        mdb_txn_abort(hs[i].lp.txn);
        free(hs[i].lp.value);
    }
    mdb_txn_abort(lp.txn);
    double load1 = loadavg();

    if (nthreads == 1)
        printf("keys %u, value %d bytes, single thread, %d rounds; ", nkeys,
               VALUE_SIZE, rounds);
    else
        printf("keys %u, value %d bytes, %d threads at once (figures per "
               "thread), %d rounds; ",
               nkeys, VALUE_SIZE, nthreads, rounds);
    if (ops)
        printf("%llu reads per loop", (unsigned long long)ops);
    else
        printf("%.1f s (%s time) per loop, in turns of %.0f ms", secs,
               bench_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU",
               secs / slices * 1000);
    printf("; load average %.2f before, %.2f after\n", load0, load1);
    printf("%-44s %12s %12s %12s\n", "", "median/s", "min/s", "max/s");
    double med[NLOOPS];
    for (int l = 0; l < NLOOPS; l++) {
        double col[MAX_ROUNDS];
        for (int r = 0; r < rounds; r++)
            col[r] = rate[r][l];
        med[l] = median(col, rounds);
        printf("%-44s %12.0f %12.0f %12.0f\n", names[l], med[l], col[0],
               col[rounds - 1]);
    }
    /* Ratios per round, then their median: both sides of a ratio come from
     * the same round. */
    static const struct {
        int num, den;
        const char *what;
    } ratios[] = {
        {.num = L_FLOOR, .den = L_AKV,
         .what = "akv_get time / floor time (target <= 1.25)"},
        {.num = L_AKV, .den = L_RAW,
         .what = "agentkv / lmdb (snapshot per read)"},
        {.num = L_AKV, .den = L_SHA, .what = "agentkv / sha256 alone"},
    };
    for (size_t q = 0; q < sizeof ratios / sizeof ratios[0]; q++) {
        double col[MAX_ROUNDS];
        for (int r = 0; r < rounds; r++)
            col[r] = rate[r][ratios[q].num] / rate[r][ratios[q].den];
        double m = median(col, rounds);
        printf("ratio %-48s %.2f (min %.2f, max %.2f)\n", ratios[q].what, m,
               col[0], col[rounds - 1]);
    }
    printf("(checksum %llu)\n", (unsigned long long)lp.sink);

    free(keys);
    free(klen);
    mdb_env_close(env);
    akv_store_close(store);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

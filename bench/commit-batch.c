/*
 * commit-batch.c — what a durable write of one 1 KiB value costs the disk,
 * by how many writes share a commit: raw LMDB with its default synchronous
 * commit (as the embedded store commits a group), against the same records
 * appended to a log file and fdatasync'ed (as Redis' appendfsync always
 * does, and as a write-ahead log in front of LMDB would).
 *
 * It loads KEYS records of VALUE_SIZE bytes into a fresh LMDB environment
 * in DIR, then for each batch size N runs commits of N overwrites of keys
 * drawn at random (the distinct-key PUT of bench-http), and as many
 * appends of N records to the log, interleaved, and prints per batch size:
 * the median time of a commit and of an append + fdatasync, the pages a
 * commit wrote (the bytes of its write calls, from /proc/self/io), and both
 * times per write. The load
 * average is printed before and after.
 *
 * Usage: bench_commit [DIR] [KEYS] [REPS]
 *   DIR  default /tmp/agentkv-commit (removed and made again)
 *   KEYS default 100000; REPS default 30 commits per batch size and kind
 *   BATCHES=25,100,1000,5000  batch sizes
 *
 * Then, for the batch sizes DEFERRED (default 25,100), what deferring
 * LMDB's sync to a checkpoint would buy (deferred_sync below), and what
 * syncing in a thread of its own while the next commits go on would
 * (background_sync below): BLOCKS (default 5) blocks of each kind.
 * SKIP_CHECKPOINT=1 leaves out the checkpoint's table.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define VALUE_SIZE 1100 /* a 1 KiB value with its record header */
#define MAX_REPS 999
#define MAX_BATCH 100000

/* An LMDB call failed with rc, or (rc 0) a system call with errno. */
static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_commit: %s: %s\n", what,
            rc ? mdb_strerror(rc) : strerror(errno));
    exit(1);
}

/* Bytes this process has passed to write system calls (LMDB writes each
 * dirty page of a commit, and its meta page, with pwrite), or 0 where
 * /proc/self/io is missing. */
static uint64_t write_bytes(void)
{
    uint64_t b = 0;
    char line[128];
    FILE *f = fopen("/proc/self/io", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lu", &b) == 1)
            break;
    fclose(f);
    return b;
}

/* The store's key layout (scope byte, sandbox, NUL, key) for key r<i> of
 * sandbox b; kb holds 32 bytes. */
static size_t key_of(char *kb, unsigned i)
{
    static const char prefix[] = {3, 'b', 0};
    memcpy(kb, prefix, sizeof prefix);
    return sizeof prefix +
           (size_t)snprintf(kb + sizeof prefix, 32 - sizeof prefix, "r%u", i);
}

/* One transaction of n overwrites of random keys, committed (synced or
 * not as the environment's MDB_NOSYNC says). */
static void commit_random(MDB_env *env, MDB_dbi dbi, unsigned nkeys, int n,
                          unsigned char *value)
{
    MDB_txn *txn;
    char kb[32];
    int rc;
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
        die("mdb_txn_begin", rc);
    for (int j = 0; j < n; j++) {
        MDB_val k = {key_of(kb, next_key(nkeys)), kb};
        MDB_val v = {VALUE_SIZE, value};
        value[0] = (unsigned char)j;
        if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
            die("mdb_put", rc);
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        die("mdb_txn_commit", rc);
}

/* n records appended to the log, then an fdatasync of it. */
static void log_append(int logfd, int n, unsigned char *logbuf,
                       const unsigned char *value)
{
    for (int j = 0; j < n; j++)
        memcpy(logbuf + (size_t)j * VALUE_SIZE, value, VALUE_SIZE);
    size_t len = (size_t)n * VALUE_SIZE, off = 0;
    while (off < len) {
        ssize_t w = write(logfd, logbuf + off, len - off);
        if (w < 0)
            die("writing the log", 0);
        off += (size_t)w;
    }
    if (fdatasync(logfd) != 0)
        die("fdatasync of the log", 0);
}

#define BLOCK 20      /* commits per block of the deferred-sync comparison */
#define MAX_BLOCKS 99

/*
 * What deferring LMDB's sync would buy: blocks of BLOCK commits that skip
 * LMDB's sync (MDB_NOSYNC), each made durable instead by appending its
 * records to the log and syncing that, with LMDB synced once at the end of
 * the block (a checkpoint, timed with the block), against blocks of as
 * many synchronous commits. The two kinds alternate block by block, not
 * commit by commit: a synchronous commit's fdatasync would also write the
 * pages the unsynced commits before it left dirty, and hide their cost.
 * Prints per batch size the medians over the blocks, in µs per write.
 */
static void deferred_sync(MDB_env *env, MDB_dbi dbi, int logfd,
                          unsigned nkeys, char *batches, int blocks,
                          unsigned char *value, unsigned char *logbuf)
{
    printf("\nthe same writes in blocks of %d commits, %d blocks of each kind, "
           "alternating:\n", BLOCK, blocks);
    printf("%7s %18s %26s %8s\n", "batch", "synced us/wr",
           "unsynced+log+ckpt us/wr", "ratio");
    for (char *tok = strtok(batches, ","); tok; tok = strtok(NULL, ",")) {
        int n = atoi(tok); /* checked by the caller */
        double t_sync[MAX_BLOCKS], t_defer[MAX_BLOCKS];
        for (int b = 0; b < blocks; b++) {
            double t0 = now_s();
            for (int c = 0; c < BLOCK; c++)
                commit_random(env, dbi, nkeys, n, value);
            t_sync[b] = (now_s() - t0) / (BLOCK * n);
            /* LMDB 0.9 takes MDB_NOSYNC for the environment only, not
             * for one transaction. */
            int rc = mdb_env_set_flags(env, MDB_NOSYNC, 1);
            if (rc != 0)
                die("mdb_env_set_flags", rc);
            t0 = now_s();
            for (int c = 0; c < BLOCK; c++) {
                commit_random(env, dbi, nkeys, n, value);
                log_append(logfd, n, logbuf, value);
            }
            if ((rc = mdb_env_sync(env, 1)) != 0)
                die("mdb_env_sync", rc);
            t_defer[b] = (now_s() - t0) / (BLOCK * n);
            if ((rc = mdb_env_set_flags(env, MDB_NOSYNC, 0)) != 0)
                die("mdb_env_set_flags", rc);
        }
        double ms = median(t_sync, blocks), md = median(t_defer, blocks);
        printf("%7d %18.1f %26.1f %7.2fx\n", n, ms * 1e6, md * 1e6, ms / md);
        if (ftruncate(logfd, 0) != 0)
            die("truncating the log", 0);
    }
}

/*
 * Syncing in the background: commits under MDB_NOSYNC, one after the
 * other, while a thread of its own syncs data.mdb over and over; a write
 * counts as done when a sync that began after its commit returns. At most
 * depth commits wait for a sync at once. The syncer renews a read
 * transaction before each sync, as a reader held on the last synced
 * snapshot would be: LMDB then cannot reuse the pages of the commits
 * since. An open loop: the commits follow each other as fast as the
 * syncer allows, where the server's clients each wait for their answer
 * before they send again (docs/performance.md: the server gained nothing
 * from this).
 */
struct pipeline {
    MDB_env *env;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long committed, durable; /* commits */
    int stop, syncs;
};

static void *syncer_main(void *arg)
{
    struct pipeline *p = arg;
    MDB_txn *pin;
    int rc = mdb_txn_begin(p->env, NULL, MDB_RDONLY, &pin);
    if (rc != 0)
        die("mdb_txn_begin (pin)", rc);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->committed == p->durable && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->committed == p->durable)
            break;
        unsigned long target = p->committed;
        pthread_mutex_unlock(&p->mu);
        mdb_txn_reset(pin);
        if ((rc = mdb_txn_renew(pin)) != 0)
            die("mdb_txn_renew", rc);
        if ((rc = mdb_env_sync(p->env, 1)) != 0)
            die("mdb_env_sync", rc);
        pthread_mutex_lock(&p->mu);
        p->durable = target;
        p->syncs++;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    mdb_txn_abort(pin);
    return NULL;
}

/* BLOCK commits of n writes with the sync in the background, at most
 * depth commits waiting for it; returns µs per write and sets *syncs. */
static double pipelined_block(MDB_env *env, MDB_dbi dbi, unsigned nkeys,
                              int n, int depth, unsigned char *value,
                              int *syncs)
{
    struct pipeline p = {.env = env};
    pthread_t th;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    int rc = mdb_env_set_flags(env, MDB_NOSYNC, 1);
    if (rc != 0)
        die("mdb_env_set_flags", rc);
    double t0 = now_s();
    if (pthread_create(&th, NULL, syncer_main, &p) != 0)
        die("pthread_create", 0);
    for (int c = 0; c < BLOCK; c++) {
        pthread_mutex_lock(&p.mu);
        while (p.committed - p.durable >= (unsigned long)depth)
            pthread_cond_wait(&p.cv, &p.mu);
        pthread_mutex_unlock(&p.mu);
        commit_random(env, dbi, nkeys, n, value);
        pthread_mutex_lock(&p.mu);
        p.committed++;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
    }
    pthread_mutex_lock(&p.mu);
    p.stop = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    pthread_join(th, NULL);
    double t = (now_s() - t0) / (BLOCK * n);
    if ((rc = mdb_env_set_flags(env, MDB_NOSYNC, 0)) != 0)
        die("mdb_env_set_flags", rc);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    *syncs = p.syncs;
    return t;
}

/* Per batch size of the list, blocks of synchronous commits alternating
 * with pipelined blocks at depths 2 and 4; prints the medians over the
 * blocks in µs per write, and how many syncs a depth-2 block made. */
static void background_sync(MDB_env *env, MDB_dbi dbi, unsigned nkeys,
                            char *batches, int blocks, unsigned char *value)
{
    printf("\nsyncing in the background, blocks of %d commits, %d blocks of "
           "each kind, alternating:\n", BLOCK, blocks);
    printf("%7s %14s %16s %8s %16s %8s %10s\n", "batch", "synced us/wr",
           "depth 2 us/wr", "ratio", "depth 4 us/wr", "ratio", "d2 syncs");
    for (char *tok = strtok(batches, ","); tok; tok = strtok(NULL, ",")) {
        int n = atoi(tok), s2 = 0, s4 = 0;
        double t_sync[MAX_BLOCKS], t_p2[MAX_BLOCKS], t_p4[MAX_BLOCKS];
        double sy[MAX_BLOCKS];
        for (int b = 0; b < blocks; b++) {
            double t0 = now_s();
            for (int c = 0; c < BLOCK; c++)
                commit_random(env, dbi, nkeys, n, value);
            t_sync[b] = (now_s() - t0) / (BLOCK * n);
            t_p2[b] = pipelined_block(env, dbi, nkeys, n, 2, value, &s2);
            t_p4[b] = pipelined_block(env, dbi, nkeys, n, 4, value, &s4);
            sy[b] = s2;
        }
        double ms = median(t_sync, blocks), m2 = median(t_p2, blocks),
               m4 = median(t_p4, blocks);
        printf("%7d %14.1f %16.1f %7.2fx %16.1f %7.2fx %10.0f\n", n, ms * 1e6,
               m2 * 1e6, ms / m2, m4 * 1e6, ms / m4, median(sy, blocks));
    }
}

/* Whether list (comma-separated batch sizes) is all within 1..MAX_BATCH;
 * says which is not. */
static int batches_ok(const char *list)
{
    char check[256];
    snprintf(check, sizeof check, "%s", list);
    for (char *tok = strtok(check, ","); tok; tok = strtok(NULL, ",")) {
        if (atoi(tok) < 1 || atoi(tok) > MAX_BATCH) {
            fprintf(stderr, "bench_commit: batch %s out of 1..%d\n", tok,
                    MAX_BATCH);
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/agentkv-commit";
    unsigned nkeys = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;
    int reps = argc > 3 ? atoi(argv[3]) : 30;
    const char *batches_env = getenv("BATCHES");
    const char *deferred_env = getenv("DEFERRED");
    const char *blocks_env = getenv("BLOCKS");
    char batches[256], deferred[256], background[256];
    snprintf(batches, sizeof batches, "%s",
             batches_env ? batches_env : "25,100,1000,5000");
    snprintf(deferred, sizeof deferred, "%s",
             deferred_env ? deferred_env : "25,100");
    /* The same sizes again: strtok takes deferred apart. */
    snprintf(background, sizeof background, "%s",
             deferred_env ? deferred_env : "25,100");
    int blocks = blocks_env ? atoi(blocks_env) : 5;
    if (!batches_ok(batches) || !batches_ok(deferred))
        return 2;
    if (nkeys < 1 || reps < 1 || reps > MAX_REPS || blocks < 1 ||
        blocks > MAX_BLOCKS) {
        fprintf(stderr, "bench_commit: KEYS >= 1, REPS 1..%d, BLOCKS 1..%d\n",
                MAX_REPS, MAX_BLOCKS);
        return 2;
    }
    char cmd[4200], path[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/lmdb'", dir, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_commit: cannot prepare %s\n", dir);
        return 1;
    }

    static unsigned char value[VALUE_SIZE];
    for (int i = 0; i < VALUE_SIZE; i++)
        value[i] = (unsigned char)(i * 31 + 7);
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    int rc;
    snprintf(path, sizeof path, "%s/lmdb", dir);
    if ((rc = mdb_env_create(&env)) != 0 ||
        (rc = mdb_env_set_mapsize(env, 4ULL << 30)) != 0)
        die("mdb_env_create", rc);
    if ((rc = mdb_env_open(env, path, MDB_NOTLS, 0644)) != 0)
        die("mdb_env_open", rc);
    /* Every key once, in random order, in commits of 1,000, as a store
     * filled by random PUTs is: its leaves half to two thirds full. */
    unsigned *order = malloc(nkeys * sizeof *order);
    if (!order)
        die("malloc", 0);
    for (unsigned i = 0; i < nkeys; i++)
        order[i] = i;
    for (unsigned i = nkeys - 1; i > 0; i--) {
        unsigned j = next_key(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    char kb[32];
    for (unsigned done = 0; done < nkeys;) {
        if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
            die("mdb_txn_begin", rc);
        mdb_dbi_open(txn, NULL, 0, &dbi);
        for (int j = 0; j < 1000 && done < nkeys; j++, done++) {
            MDB_val k = {key_of(kb, order[done]), kb};
            MDB_val v = {VALUE_SIZE, value};
            if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
                die("mdb_put", rc);
        }
        if ((rc = mdb_txn_commit(txn)) != 0)
            die("mdb_txn_commit", rc);
    }
    free(order);
    snprintf(path, sizeof path, "%s/log", dir);
    int logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
    if (logfd < 0)
        die("opening the log", 0);

    printf("LMDB of %u records of %d bytes, random overwrites; %d commits per "
           "batch size and kind, interleaved; load average %.2f before\n",
           nkeys, VALUE_SIZE, reps, loadavg());
    printf("%7s %12s %12s %12s %14s %14s %8s\n", "batch", "pages/commit",
           "pages/write", "commit ms", "commit us/wr", "log us/wr", "ratio");
    unsigned char *logbuf = malloc((size_t)MAX_BATCH * VALUE_SIZE);
    if (!logbuf)
        die("malloc", 0);
    for (char *tok = strtok(batches, ","); tok; tok = strtok(NULL, ",")) {
        int n = atoi(tok); /* checked above */
        double t_commit[MAX_REPS], t_log[MAX_REPS], pages[MAX_REPS];
        for (int r = 0; r < reps; r++) {
            uint64_t w0 = write_bytes();
            double t0 = now_s();
            commit_random(env, dbi, nkeys, n, value);
            t_commit[r] = now_s() - t0;
            pages[r] = (double)(write_bytes() - w0) / 4096;
            t0 = now_s();
            log_append(logfd, n, logbuf, value);
            t_log[r] = now_s() - t0;
        }
        double mc = median(t_commit, reps), ml = median(t_log, reps);
        double mp = median(pages, reps);
        printf("%7d %12.0f %12.2f %12.2f %14.1f %14.1f %7.1fx\n", n, mp,
               mp / n, mc * 1e3, mc * 1e6 / n, ml * 1e6 / n, mc / ml);
        if (ftruncate(logfd, 0) != 0)
            die("truncating the log", 0);
    }
    if (getenv("SKIP_CHECKPOINT") == NULL)
        deferred_sync(env, dbi, logfd, nkeys, deferred, blocks, value, logbuf);
    background_sync(env, dbi, nkeys, background, blocks, value);
    printf("load average %.2f after\n", loadavg());
    free(logbuf);
    close(logfd);
    mdb_env_close(env);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

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
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
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

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/agentkv-commit";
    unsigned nkeys = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;
    int reps = argc > 3 ? atoi(argv[3]) : 30;
    const char *batches_env = getenv("BATCHES");
    char batches[256];
    snprintf(batches, sizeof batches, "%s",
             batches_env ? batches_env : "25,100,1000,5000");
    char check[256];
    snprintf(check, sizeof check, "%s", batches);
    for (char *tok = strtok(check, ","); tok; tok = strtok(NULL, ",")) {
        if (atoi(tok) < 1 || atoi(tok) > MAX_BATCH) {
            fprintf(stderr, "bench_commit: batch %s out of 1..%d\n", tok,
                    MAX_BATCH);
            return 2;
        }
    }
    if (nkeys < 1 || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "bench_commit: KEYS >= 1, REPS 1..%d\n", MAX_REPS);
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
            t_commit[r] = now_s() - t0;
            pages[r] = (double)(write_bytes() - w0) / 4096;

            for (int j = 0; j < n; j++)
                memcpy(logbuf + (size_t)j * VALUE_SIZE, value, VALUE_SIZE);
            t0 = now_s();
            size_t len = (size_t)n * VALUE_SIZE, off = 0;
            while (off < len) {
                ssize_t w = write(logfd, logbuf + off, len - off);
                if (w < 0)
                    die("writing the log", 0);
                off += (size_t)w;
            }
            if (fdatasync(logfd) != 0)
                die("fdatasync of the log", 0);
            t_log[r] = now_s() - t0;
        }
        double mc = median(t_commit, reps), ml = median(t_log, reps);
        double mp = median(pages, reps);
        printf("%7d %12.0f %12.2f %12.2f %14.1f %14.1f %7.1fx\n", n, mp,
               mp / n, mc * 1e3, mc * 1e6 / n, ml * 1e6 / n, mc / ml);
        if (ftruncate(logfd, 0) != 0)
            die("truncating the log", 0);
    }
    printf("load average %.2f after\n", loadavg());
    free(logbuf);
    close(logfd);
    mdb_env_close(env);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

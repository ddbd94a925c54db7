/*
 * test-wlog.c — the embedded store's write log (store.write_log): its
 * records (wlog.c) round-trip and every damage to one is refused, so a
 * torn or damaged tail ends the log; a store with the write log replays
 * into data.mdb the writes of a process killed before its applier caught
 * up, from both of the log's files in the order of their numbers, ignores
 * a torn tail and the records of a file's earlier turns, refuses a log
 * with writes missing, keeps its files small, and keeps other openers out
 * while it runs. The store's behaviour under the write
 * log is the conformance suite's (wlog-unit-<area> in tests/CMakeLists.txt).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "le.h"
#include "testutil.h"
#include "wlog.h"

/* A record of three changes, numbered lsn. */
static void build(akv_wlog_buf *b, uint64_t lsn)
{
    akv_wlog_reset(b);
    unsigned char *v = akv_wlog_add(b, AKV_WLOG_PUT, AKV_WLOG_ENTRIES, "3sb",
                                    3, 5, NULL);
    assert_non_null(v);
    memcpy(v, "value", 5);
    assert_non_null(akv_wlog_add(b, AKV_WLOG_DEL, AKV_WLOG_ENTRIES, "3sb\0k",
                                 5, 0, NULL));
    size_t off;
    v = akv_wlog_add(b, AKV_WLOG_PUT, AKV_WLOG_USAGE, "3sb", 3, 16, &off);
    assert_non_null(v);
    memset(v, 7, 16);
    assert_true(off > AKV_WLOG_HEADER);
    akv_wlog_seal(b, lsn);
}

/* Recomputes the CRC of a record changed on purpose. */
static void reseal(unsigned char *p, size_t len)
{
    akv_put_le32(p + 4, akv_crc32c(0, p + 8, len - 8));
}

static void a_record_reads_back_as_written(void **state)
{
    (void)state;
    akv_wlog_buf b = {0};
    build(&b, 1000);
    uint64_t lsn;
    size_t len;
    assert_ok(akv_wlog_check(b.data, b.len, &lsn, &len));
    assert_int_equal(lsn, 1000);
    assert_int_equal(len, b.len);
    /* More bytes after it (the next record) change nothing. */
    unsigned char *more = test_malloc(b.len + 9);
    memcpy(more, b.data, b.len);
    memset(more + b.len, 0xee, 9);
    assert_ok(akv_wlog_check(more, b.len + 9, &lsn, &len));
    assert_int_equal(len, b.len);
    test_free(more);

    size_t off = AKV_WLOG_HEADER;
    akv_wlog_change c;
    assert_true(akv_wlog_next(b.data, len, &off, &c));
    assert_int_equal(c.op, AKV_WLOG_PUT);
    assert_int_equal(c.db, AKV_WLOG_ENTRIES);
    assert_int_equal(c.key_len, 3);
    assert_memory_equal(c.val, "value", 5);
    assert_true(akv_wlog_next(b.data, len, &off, &c));
    assert_int_equal(c.op, AKV_WLOG_DEL);
    assert_int_equal(c.key_len, 5);
    assert_memory_equal(c.key, "3sb\0k", 5);
    assert_null(c.val);
    assert_true(akv_wlog_next(b.data, len, &off, &c));
    assert_int_equal(c.db, AKV_WLOG_USAGE);
    assert_int_equal(c.val_len, 16);
    assert_false(akv_wlog_next(b.data, len, &off, &c));
    akv_wlog_free(&b);
}

static void every_cut_and_every_flipped_bit_is_refused(void **state)
{
    (void)state;
    akv_wlog_buf b = {0};
    build(&b, 42);
    uint64_t lsn;
    size_t len;
    for (size_t n = 0; n < b.len; n++)
        assert_akv(akv_wlog_check(b.data, n, &lsn, &len), AKV_EINTEGRITY);
    for (size_t i = 0; i < b.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            b.data[i] ^= (unsigned char)(1u << bit);
            if (akv_wlog_check(b.data, b.len, &lsn, &len) != AKV_EINTEGRITY)
                fail_msg("byte %zu bit %d flipped: accepted", i, bit);
            b.data[i] ^= (unsigned char)(1u << bit);
        }
    assert_ok(akv_wlog_check(b.data, b.len, &lsn, &len));
    akv_wlog_free(&b);
}

/* Damage that passes the CRC (resealed): the structure is checked too. */
static void a_resealed_record_that_does_not_add_up_is_refused(void **state)
{
    (void)state;
    akv_wlog_buf b = {0};
    uint64_t lsn;
    size_t len;
    const size_t first = AKV_WLOG_HEADER; /* the first change's head */
    struct {
        const char *what;
        size_t at;
        unsigned char value;
    } cases[] = {
        {"count one more", 24, 4},
        {"count one less", 24, 2},
        {"reserved bits", 28, 1},
        {"unknown operation", first, 3},
        {"unknown database", first + 1, 2},
        {"empty key", first + 2, 0},
        {"value past the end", first + 6, 0x7f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build(&b, 7);
        if (cases[i].at == first + 2)
            akv_put_le16(b.data + first + 2, 0);
        else
            b.data[cases[i].at] = cases[i].value;
        reseal(b.data, b.len);
        if (akv_wlog_check(b.data, b.len, &lsn, &len) != AKV_EINTEGRITY)
            fail_msg("%s: accepted", cases[i].what);
    }
    /* A delete that carries a value. */
    build(&b, 7);
    size_t second = first + 8 + 3 + 5;
    akv_put_le32(b.data + second + 4, 1);
    reseal(b.data, b.len);
    assert_akv(akv_wlog_check(b.data, b.len, &lsn, &len), AKV_EINTEGRITY);
    akv_wlog_free(&b);
}

static void add_refuses_what_the_format_cannot_hold(void **state)
{
    (void)state;
    akv_wlog_buf b = {0};
    akv_wlog_reset(&b);
    static char big[65536];
    assert_null(akv_wlog_add(&b, AKV_WLOG_PUT, AKV_WLOG_ENTRIES, "k", 0, 1,
                             NULL));
    assert_null(akv_wlog_add(&b, AKV_WLOG_PUT, AKV_WLOG_ENTRIES, big,
                             sizeof big, 1, NULL));
    assert_null(akv_wlog_add(&b, AKV_WLOG_DEL, AKV_WLOG_ENTRIES, "k", 1, 1,
                             NULL));
    assert_int_equal(b.count, 0);
    assert_non_null(akv_wlog_add(&b, AKV_WLOG_PUT, AKV_WLOG_ENTRIES, big,
                                 sizeof big - 1, 0, NULL));
    akv_wlog_seal(&b, 0);
    uint64_t lsn;
    size_t len;
    assert_ok(akv_wlog_check(b.data, b.len, &lsn, &len));
    akv_wlog_free(&b);
}

/* ---- the store ---------------------------------------------------------- */

/* Opens dir with the write log or without; log_size, if not NULL, is
 * store.write_log_size. */
static akv_store *open_sized(const char *dir, int write_log,
                             const char *log_size, int *rc)
{
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "store", "write_log",
                             write_log ? "true" : "false"));
    if (log_size)
        assert_ok(akv_config_set(cfg, "store", "write_log_size", log_size));
    akv_store *s = NULL;
    *rc = akv_store_open(&s, NULL, dir, cfg, AKV_OPEN_CREATE);
    akv_config_free(cfg);
    return s;
}

static akv_store *open_wlog(const char *dir, int write_log, int *rc)
{
    return open_sized(dir, write_log, NULL, rc);
}

static void put(akv_store *s, const char *key, const char *value)
{
    assert_ok(akv_put(s, "sb", AKV_SCOPE_TASK, key, strlen(key), value,
                      strlen(value), NULL, NULL, NULL));
}

static void expect(akv_store *s, const char *key, const char *value)
{
    akv_value *v;
    assert_ok(akv_get(s, "sb", AKV_SCOPE_TASK, key, strlen(key), &v));
    size_t len;
    const void *d = akv_value_data(v, &len);
    assert_int_equal(len, strlen(value));
    assert_memory_equal(d, value, len);
    akv_value_release(v);
}

/* A child writes n keys with the write log and is killed at once, before
 * its applier's first commit is due (it may have come all the same: the
 * outcome must not depend on it). */
static void write_and_die(const char *dir, int n)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rc;
        akv_store *s = open_wlog(dir, 1, &rc);
        if (rc != AKV_OK)
            _exit(2);
        char key[32], val[32];
        for (int i = 0; i < n; i++) {
            snprintf(key, sizeof key, "k%d", i);
            snprintf(val, sizeof val, "v%d", i);
            if (akv_put(s, "sb", AKV_SCOPE_TASK, key, strlen(key), val,
                        strlen(val), NULL, NULL, NULL) != AKV_OK)
                _exit(3);
        }
        kill(getpid(), SIGKILL);
        _exit(4);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void expect_all(const char *dir, int n, int write_log)
{
    int rc;
    akv_store *s = open_wlog(dir, write_log, &rc);
    assert_ok(rc);
    char key[32], val[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "v%d", i);
        expect(s, key, val);
    }
    akv_scope_stats st[AKV_SCOPE_COUNT];
    size_t rows;
    assert_ok(akv_stats(s, "sb", AKV_SCOPE_TASK, st, &rows));
    assert_int_equal(rows, 1);
    assert_int_equal(st[0].entries, n); /* the usage rows came along */
    akv_store_close(s);
}

static void writes_of_a_killed_process_are_replayed(void **state)
{
    (void)state;
    if (tu_backend())
        skip(); /* the embedded store's own file */
    char *dir = tu_tempdir();
    write_and_die(dir, 50);
    expect_all(dir, 50, 0); /* any opener replays */
    write_and_die(dir, 60); /* over what is there: versions go on */
    expect_all(dir, 60, 1);
    int rc;
    akv_store *s = open_wlog(dir, 0, &rc);
    assert_ok(rc);
    akv_value *v;
    assert_ok(akv_get(s, "sb", AKV_SCOPE_TASK, "k0", 2, &v));
    assert_int_equal(akv_value_meta(v)->version, 2);
    akv_value_release(v);
    akv_store_close(s);
    tu_rmtree(dir);
    free(dir);
}

static void append_to(const char *dir, const char *name, const void *p,
                      size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

static void append_to_log(const char *dir, const void *p, size_t n)
{
    append_to(dir, "data.log", p, n);
}

static void a_torn_tail_is_ignored_and_a_gap_refused(void **state)
{
    (void)state;
    if (tu_backend())
        skip();
    char *dir = tu_tempdir();
    write_and_die(dir, 20);
    /* A record cut short by the crash, after whatever the child logged. */
    akv_wlog_buf b = {0};
    build(&b, 1);
    append_to_log(dir, b.data, b.len / 2);
    expect_all(dir, 20, 1);
    /* A log that goes on from further than data.mdb has reached: writes
     * are missing between, and the store says so instead of opening. */
    build(&b, 1ull << 40);
    append_to_log(dir, b.data, b.len);
    int rc;
    akv_store *s = open_wlog(dir, 0, &rc);
    assert_null(s);
    assert_akv(rc, AKV_EINTEGRITY);
    assert_non_null(strstr(akv_last_error()->message, "writes are missing"));
    akv_wlog_free(&b);
    tu_rmtree(dir);
    free(dir);
}

/* The same in data2.log, the log's other file: its records are taken in
 * the order of their numbers with data.log's, a torn first record ends it,
 * and a gap between the two files is refused, naming the file. */
static void the_other_file_is_read_in_turn(void **state)
{
    (void)state;
    if (tu_backend())
        skip();
    char *dir = tu_tempdir();
    write_and_die(dir, 20); /* in data.log: far from its size */
    akv_wlog_buf b = {0};
    build(&b, 1);
    append_to(dir, "data2.log", b.data, b.len / 2);
    expect_all(dir, 20, 1);
    write_and_die(dir, 25);
    build(&b, 1ull << 40);
    append_to(dir, "data2.log", b.data, b.len);
    int rc;
    akv_store *s = open_wlog(dir, 0, &rc);
    assert_null(s);
    assert_akv(rc, AKV_EINTEGRITY);
    assert_non_null(strstr(akv_last_error()->message, "data2.log goes on"));
    assert_non_null(strstr(akv_last_error()->message, "writes are missing"));
    akv_wlog_free(&b);
    tu_rmtree(dir);
    free(dir);
}

static off_t file_size(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* The value step i of the test below writes: it names the step. */
#define TURN_KEYS 40
#define TURN_STEPS 745
static void turn_value(int i, char *val, size_t cap)
{
    snprintf(val, cap, "v%d-%090d", i, i);
}

/*
 * With a small store.write_log_size (a file holds 17 of these records), a
 * child writes key i % TURN_KEYS at each step i, lists the namespace
 * (which has data.mdb take all of the log) at every 50th, and is killed
 * after the last. So the log's files take turns and are started over many
 * times, each holding records of earlier turns behind the current ones;
 * the 45 steps after the last listing fill both files, and the next must
 * not start over the first, which data.mdb does not have yet. Whatever
 * the applier did meanwhile, the store reopened holds each key's last
 * value: no record of an earlier turn replayed over a later one, none
 * missed. And the files stay small: appended to forever, they would hold
 * every step.
 */
static void the_log_files_take_turns_and_replay_in_order(void **state)
{
    (void)state;
    if (tu_backend())
        skip();
    char *dir = tu_tempdir();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rc;
        akv_store *s = open_sized(dir, 1, "4KiB", &rc);
        if (rc != AKV_OK)
            _exit(2);
        char key[32], val[128];
        for (int i = 0; i < TURN_STEPS; i++) {
            snprintf(key, sizeof key, "k%d", i % TURN_KEYS);
            turn_value(i, val, sizeof val);
            if (akv_put(s, "sb", AKV_SCOPE_TASK, key, strlen(key), val,
                        strlen(val), NULL, NULL, NULL) != AKV_OK)
                _exit(3);
            akv_list *l;
            if (i % 50 == 49) {
                if (akv_list_entries(s, "sb", AKV_SCOPE_TASK, NULL, &l) !=
                    AKV_OK)
                    _exit(4);
                akv_list_free(l);
            }
        }
        kill(getpid(), SIGKILL);
        _exit(5);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    /* Both files written, neither far past its size: 50 steps at most
     * are ever waiting for data.mdb, of about 250 bytes each. */
    off_t a = file_size(dir, "data.log"), b = file_size(dir, "data2.log");
    assert_true(a > 0 && b > 0);
    assert_true(a <= 4096 + 50 * 300 && b <= 4096 + 50 * 300);
    int rc;
    akv_store *s = open_wlog(dir, 0, &rc);
    assert_ok(rc);
    char key[32], val[128];
    for (int k = 0; k < TURN_KEYS; k++) {
        int last = TURN_STEPS - TURN_KEYS + k;
        snprintf(key, sizeof key, "k%d", last % TURN_KEYS);
        turn_value(last, val, sizeof val);
        expect(s, key, val);
    }
    akv_scope_stats stats[AKV_SCOPE_COUNT];
    size_t rows;
    assert_ok(akv_stats(s, "sb", AKV_SCOPE_TASK, stats, &rows));
    assert_int_equal(stats[0].entries, TURN_KEYS);
    akv_store_close(s);
    /* Opened and closed: data.mdb holds everything, the files are empty. */
    assert_int_equal(file_size(dir, "data.log"), 0);
    assert_int_equal(file_size(dir, "data2.log"), 0);
    tu_rmtree(dir);
    free(dir);
}

/* Opens dir afresh and checks that each key of keys holds its value. */
static void expect_all_of(const char *dir, const char *keys,
                          const char *values)
{
    int rc;
    akv_store *s = open_wlog(dir, 0, &rc);
    assert_ok(rc);
    for (size_t i = 0; keys[i]; i++)
        expect(s, (char[]){keys[i], 0}, (char[]){values[i], 0});
    akv_store_close(s);
}

/* A logged delete of an entry that data.mdb already holds hides it from
 * gets at once, before the delete is applied. */
static void a_logged_delete_hides_an_applied_entry(void **state)
{
    (void)state;
    if (tu_backend())
        skip();
    char *dir = tu_tempdir();
    int rc;
    akv_store *s = open_wlog(dir, 1, &rc);
    assert_ok(rc);
    put(s, "a", "1");
    akv_list *l; /* a listing applies the log first */
    assert_ok(akv_list_entries(s, "sb", AKV_SCOPE_TASK, NULL, &l));
    akv_list_free(l);
    assert_ok(akv_del(s, "sb", AKV_SCOPE_TASK, "a", 1));
    akv_value *v;
    assert_akv(akv_get(s, "sb", AKV_SCOPE_TASK, "a", 1, &v), AKV_ENOTFOUND);
    assert_akv(akv_del(s, "sb", AKV_SCOPE_TASK, "a", 1), AKV_ENOTFOUND);
    akv_store_close(s);
    s = open_wlog(dir, 0, &rc);
    assert_ok(rc);
    assert_akv(akv_get(s, "sb", AKV_SCOPE_TASK, "a", 1, &v), AKV_ENOTFOUND);
    akv_store_close(s);
    tu_rmtree(dir);
    free(dir);
}

static bool paused(akv_store *s)
{
    akv_health h;
    assert_ok(akv_store_health(s, &h));
    return strstr(h.note, "write log paused") != NULL;
}

/* The committer takes the store back within a poll or two once it is its
 * own: wait for that (naps of 1 ms, for at most a minute: a bound for a
 * broken build, not a timing). */
static void wait_log_on(akv_store *s)
{
    for (int i = 0; i < 60000 && paused(s); i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_false(paused(s));
}

static uint64_t generation(akv_store *s)
{
    uint64_t g;
    assert_ok(akv_store_generation(s, &g));
    return g;
}

/*
 * The other side of a handover, in another process (LMDB allows one
 * environment per file and process; this binary run again, so that the
 * child starts clean): opens dir (with the write log or not), checks that
 * key `want` holds `want_val`, puts `key`=`val`, then, if `later` is set,
 * says so with a byte on a pipe and waits for one back before it checks
 * that `later` holds `later_val` and closes. Exits 0 when all went as
 * said.
 */
struct visit {
    int write_log;
    const char *want, *want_val, *key, *val, *later, *later_val;
};

static int child_has(akv_store *s, const char *key, const char *value)
{
    akv_value *v;
    if (akv_get(s, "sb", AKV_SCOPE_TASK, key, strlen(key), &v) != AKV_OK)
        return 0;
    size_t len;
    const void *d = akv_value_data(v, &len);
    int ok = len == strlen(value) && memcmp(d, value, len) == 0;
    akv_value_release(v);
    return ok;
}

/* The child's side: argv as visit() passes it. */
static int visit_main(char **argv)
{
    const char *dir = argv[2];
    struct visit a = {.write_log = argv[3][0] == '1', .want = argv[4],
                      .want_val = argv[5], .key = argv[6], .val = argv[7],
                      .later = argv[8], .later_val = argv[9]};
    int down = atoi(argv[10]), up = atoi(argv[11]);
    int rc;
    akv_store *s = open_wlog(dir, a.write_log, &rc);
    if (rc != AKV_OK)
        return 2;
    if (!child_has(s, a.want, a.want_val))
        return 3;
    if (akv_put(s, "sb", AKV_SCOPE_TASK, a.key, strlen(a.key), a.val,
                strlen(a.val), NULL, NULL, NULL) != AKV_OK)
        return 4;
    if (a.later[0]) {
        char c = 0;
        if (write(up, &c, 1) != 1 || read(down, &c, 1) != 1)
            return 5;
        if (!child_has(s, a.later, a.later_val))
            return 6;
    }
    akv_store_close(s);
    return 0;
}

/* Starts a visit; with `later`, *to and *from are the parent's ends of
 * the two pipes (the child's are closed here, so that a child that dies
 * ends the parent's read instead of hanging it). */
static pid_t visit(const char *dir, const struct visit *a, int *to,
                   int *from)
{
    int down[2] = {-1, -1}, up[2] = {-1, -1};
    if (a->later) {
        assert_int_equal(pipe2(down, O_CLOEXEC), 0);
        assert_int_equal(pipe2(up, O_CLOEXEC), 0);
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char fds[2][16];
        snprintf(fds[0], sizeof fds[0], "%d", down[0] >= 0 ? dup(down[0]) : -1);
        snprintf(fds[1], sizeof fds[1], "%d", up[1] >= 0 ? dup(up[1]) : -1);
        execl("/proc/self/exe", "test-wlog", "--visit", dir,
              a->write_log ? "1" : "0", a->want, a->want_val, a->key, a->val,
              a->later ? a->later : "", a->later ? a->later_val : "", fds[0],
              fds[1], (char *)NULL);
        _exit(127);
    }
    if (a->later) {
        close(down[0]);
        close(up[1]);
        *to = down[1];
        *from = up[0];
    }
    return pid;
}

static void visited(pid_t pid)
{
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void the_write_log_hands_the_store_over(void **state)
{
    (void)state;
    if (tu_backend())
        skip();
    char *dir = tu_tempdir();
    int rc;
    akv_store *owner = open_wlog(dir, 1, &rc);
    assert_ok(rc);
    assert_false(paused(owner));
    put(owner, "a", "1"); /* logged, not yet in data.mdb */
    uint64_t g0 = generation(owner);
    /* Another process knocks; the owner applies its log and lets it in:
     * it finds a, and its b is the owner's to read. */
    visited(visit(dir, &(struct visit){.want = "a", .want_val = "1",
                                      .key = "b", .val = "2"},
                  NULL, NULL));
    expect(owner, "b", "2");
    assert_true(generation(owner) > g0);
    /* While the other process is in, both write data.mdb directly. */
    int to, from;
    pid_t pid = visit(dir, &(struct visit){.want = "b", .want_val = "2",
                                           .key = "c", .val = "3",
                                           .later = "d", .later_val = "4"},
                      &to, &from);
    char c;
    assert_int_equal(read(from, &c, 1), 1);
    assert_true(paused(owner));
    expect(owner, "c", "3");
    uint64_t g1 = generation(owner);
    put(owner, "d", "4");
    assert_true(generation(owner) > g1);
    assert_int_equal(write(to, &c, 1), 1);
    visited(pid);
    close(to);
    close(from);
    /* Alone again, the owner logs again, and hands over again. */
    wait_log_on(owner);
    put(owner, "e", "5");
    visited(visit(dir, &(struct visit){.want = "e", .want_val = "5",
                                      .key = "f", .val = "6"},
                  NULL, NULL));
    /* A second process with the write log: neither logs while both have
     * the store open. */
    wait_log_on(owner);
    put(owner, "g", "7");
    pid = visit(dir, &(struct visit){.write_log = 1, .want = "g",
                                     .want_val = "7", .key = "h", .val = "8",
                                     .later = "i", .later_val = "9"},
                &to, &from);
    assert_int_equal(read(from, &c, 1), 1);
    assert_true(paused(owner));
    expect(owner, "h", "8");
    put(owner, "i", "9");
    assert_int_equal(write(to, &c, 1), 1);
    visited(pid);
    close(to);
    close(from);
    wait_log_on(owner);
    akv_store_close(owner);
    expect_all_of(dir, "abcdefghi", "123456789");
    tu_rmtree(dir);
    free(dir);
}

/* A holder of the lock that never hands it over (here: the lock taken by
 * hand) leaves an open waiting handover_ms, then refused. */
static void an_owner_that_does_not_hand_over_is_named(void **state)
{
    (void)state;
    if (tu_backend())
        skip();
    char *dir = tu_tempdir();
    int rc;
    akv_store *s = open_wlog(dir, 0, &rc);
    assert_ok(rc);
    put(s, "a", "1");
    akv_store_close(s);
    char path[4096];
    snprintf(path, sizeof path, "%s/counters", dir);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                       .l_start = 0, .l_len = 1};
    assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    cfg->handover_ms = 50;
    rc = akv_store_open(&s, NULL, dir, cfg, 0);
    assert_akv(rc, AKV_EUNAVAILABLE);
    assert_non_null(strstr(akv_last_error()->message, "did not hand it over"));
    /* Let go, and the same open gets in. */
    close(fd);
    assert_ok(akv_store_open(&s, NULL, dir, cfg, 0));
    expect(s, "a", "1");
    akv_store_close(s);
    akv_config_free(cfg);
    tu_rmtree(dir);
    free(dir);
}

/* The child of the test below: knocks on dir, ready to wait two minutes
 * (a bound for a broken build, not a timing). Exits 0 when refused for
 * the owner's log, 1 when let in, 2 on another error. */
static int knock_main(const char *dir)
{
    akv_config *cfg;
    if (akv_config_new(&cfg) != AKV_OK)
        return 2;
    cfg->handover_ms = 120000;
    akv_store *s = NULL;
    int rc = akv_store_open(&s, NULL, dir, cfg, 0);
    akv_config_free(cfg);
    if (rc == AKV_OK) {
        akv_store_close(s);
        return 1;
    }
    fprintf(stderr, "knock: %s: %s\n", akv_err_name(rc),
            akv_last_error()->message);
    return rc == AKV_EUNAVAILABLE &&
                   strstr(akv_last_error()->message,
                          "cannot hand it over: its write log cannot be "
                          "applied") != NULL
               ? 0
               : 2;
}

/* An owner whose log cannot be applied (data.mdb at its map size) cannot
 * hand the store over: an open that knocks is told so at once, not after
 * handover_ms. */
static void an_owner_that_cannot_apply_its_log_refuses_at_once(void **state)
{
    (void)state;
    if (tu_backend())
        skip();
    char *dir = tu_tempdir();
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "store", "write_log", "true"));
    assert_ok(akv_config_set(cfg, "store", "map_size", "16MiB"));
    akv_store *owner;
    assert_ok(akv_store_open(&owner, NULL, dir, cfg, AKV_OPEN_CREATE));
    akv_config_free(cfg);
    /* 1 MiB values, logged at once, until the applier finds data.mdb
     * full and further writes are refused. */
    size_t len = 1 << 20;
    char *val = malloc(len);
    assert_non_null(val);
    memset(val, 'v', len);
    int rc = AKV_OK;
    for (int i = 0; i < 1000 && rc == AKV_OK; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        rc = akv_put(owner, "sb", AKV_SCOPE_TASK, key, strlen(key), val, len,
                     NULL, NULL, NULL);
    }
    free(val);
    assert_int_not_equal(rc, AKV_OK);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/proc/self/exe", "test-wlog", "--knock", dir, (char *)NULL);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    akv_store_close(owner);
    tu_rmtree(dir);
    free(dir);
}

int main(int argc, char **argv)
{
    if (argc == 12 && strcmp(argv[1], "--visit") == 0)
        return visit_main(argv);
    if (argc == 3 && strcmp(argv[1], "--knock") == 0)
        return knock_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_record_reads_back_as_written),
        cmocka_unit_test(every_cut_and_every_flipped_bit_is_refused),
        cmocka_unit_test(a_resealed_record_that_does_not_add_up_is_refused),
        cmocka_unit_test(add_refuses_what_the_format_cannot_hold),
        cmocka_unit_test(writes_of_a_killed_process_are_replayed),
        cmocka_unit_test(a_torn_tail_is_ignored_and_a_gap_refused),
        cmocka_unit_test(the_other_file_is_read_in_turn),
        cmocka_unit_test(the_log_files_take_turns_and_replay_in_order),
        cmocka_unit_test(a_logged_delete_hides_an_applied_entry),
        cmocka_unit_test(the_write_log_hands_the_store_over),
        cmocka_unit_test(an_owner_that_does_not_hand_over_is_named),
        cmocka_unit_test(an_owner_that_cannot_apply_its_log_refuses_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

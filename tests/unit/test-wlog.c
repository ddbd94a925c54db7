/*
 * test-wlog.c — the embedded store's write log (store.write_log): its
 * records (wlog.c) round-trip and every damage to one is refused, so a
 * torn or damaged tail ends the log; a store with the write log replays
 * into data.mdb the writes of a process killed before its applier caught
 * up, ignores a torn tail, refuses a log with writes missing, and keeps
 * other openers out while it runs. The store's behaviour under the write
 * log is the conformance suite's (wlog-unit-<area> in tests/CMakeLists.txt).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static akv_store *open_wlog(const char *dir, int write_log, int *rc)
{
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "store", "write_log",
                             write_log ? "true" : "false"));
    akv_store *s = NULL;
    *rc = akv_store_open(&s, NULL, dir, cfg, AKV_OPEN_CREATE);
    akv_config_free(cfg);
    return s;
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

static void append_to_log(const char *dir, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data.log", dir);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
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

static void the_write_log_needs_the_store_alone(void **state)
{
    (void)state;
    if (tu_backend())
        skip();
    char *dir = tu_tempdir();
    int rc;
    akv_store *owner = open_wlog(dir, 1, &rc);
    assert_ok(rc);
    put(owner, "a", "1");
    akv_store *other = open_wlog(dir, 0, &rc);
    assert_null(other);
    assert_akv(rc, AKV_EUNAVAILABLE);
    assert_non_null(strstr(akv_last_error()->message, "store.write_log"));
    akv_store_close(owner);
    /* And the other way round: the write log waits for the others. */
    other = open_wlog(dir, 0, &rc);
    assert_ok(rc);
    expect(other, "a", "1");
    owner = open_wlog(dir, 1, &rc);
    assert_null(owner);
    assert_akv(rc, AKV_EUNAVAILABLE);
    assert_non_null(strstr(akv_last_error()->message, "needs the store alone"));
    akv_store *shared = open_wlog(dir, 0, &rc);
    assert_ok(rc); /* openers without the log share it */
    akv_store_close(shared);
    akv_store_close(other);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_record_reads_back_as_written),
        cmocka_unit_test(every_cut_and_every_flipped_bit_is_refused),
        cmocka_unit_test(a_resealed_record_that_does_not_add_up_is_refused),
        cmocka_unit_test(add_refuses_what_the_format_cannot_hold),
        cmocka_unit_test(writes_of_a_killed_process_are_replayed),
        cmocka_unit_test(a_torn_tail_is_ignored_and_a_gap_refused),
        cmocka_unit_test(the_write_log_needs_the_store_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

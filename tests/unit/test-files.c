/*
 * test-files.c — the embedded store's own files: every file the store maps
 * shared (counters, lock.mdb) has all its blocks allocated, so that a store
 * through the map can never need a block a full filesystem lacks (SIGBUS);
 * a counters file left with holes by an older version is allocated on open
 * without losing its counts; the store directory and its files are private
 * (0700 / 0600) whatever the umask; and akv_store_health reports a healthy
 * store as writable. The full-disk behaviour itself needs a small mounted
 * filesystem: tests/http/test-diskfull.sh.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

/* Fails unless path has at least size bytes and a block under each. */
static void assert_allocated(const char *dir, const char *name, off_t size)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (stat(path, &st) != 0)
        fail_msg("%s: missing", path);
    if (st.st_size < size || (off_t)st.st_blocks * 512 < st.st_size)
        fail_msg("%s: %lld bytes with %lld bytes of blocks (holes)", path,
                 (long long)st.st_size, (long long)st.st_blocks * 512);
}

static mode_t mode_of(const char *dir, const char *name)
{
    char path[4200];
    struct stat st;
    if (snprintf(path, sizeof path, "%s%s%s", dir, name ? "/" : "",
                 name ? name : "") >= (int)sizeof path)
        fail_msg("%s/%s: path too long", dir, name ? name : "");
    if (stat(path, &st) != 0)
        fail_msg("%s: missing", path);
    return st.st_mode & 07777;
}

static void mapped_files_have_every_block(void **state)
{
    (void)state;
    tu_lmdb_only();
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_ok(akv_put(ts.store, "sb", AKV_SCOPE_TASK, "k", 1, "v", 1, NULL,
                      NULL, NULL));
    assert_allocated(ts.dir, "counters", 4096);
    assert_allocated(ts.dir, "lock.mdb", 4096);
    akv_health h;
    assert_ok(akv_store_health(ts.store, &h));
    assert_int_equal(h.writable, 1);
    assert_string_equal(h.reason, "");
    assert_string_equal(h.note, "");
    tu_store_close(&ts);
}

/* A counters file as older versions made it (ftruncate: no blocks), with
 * counts in it, is allocated when the store opens, and keeps its counts. */
static void sparse_counters_are_allocated_on_open(void **state)
{
    (void)state;
    tu_lmdb_only();
    tu_store ts;
    tu_store_open(&ts, NULL);
    assert_ok(akv_put(ts.store, "sb", AKV_SCOPE_TASK, "k", 1, "v", 1, NULL,
                      NULL, NULL));
    char *dir = ts.dir; /* kept: tu_store_close would remove it */
    akv_store_close(ts.store);

    char path[4200];
    snprintf(path, sizeof path, "%s/counters", dir);
    assert_int_equal(unlink(path), 0);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096), 0);
    /* Three hits of scope task, written at its offset only: the rest of
     * the file stays a hole (on filesystems with holes). */
    uint64_t three = 3;
    assert_int_equal(pwrite(fd, &three, sizeof three,
                            (off_t)(AKV_SCOPE_TASK * sizeof(uint64_t))),
                     (ssize_t)sizeof three);
    close(fd);

    akv_store *s;
    assert_ok(akv_store_open(&s, NULL, dir, NULL, 0));
    assert_allocated(dir, "counters", 4096);
    akv_scope_stats row[AKV_SCOPE_COUNT];
    size_t n;
    assert_ok(akv_stats(s, "sb", AKV_SCOPE_TASK, row, &n));
    assert_int_equal(n, 1);
    assert_int_equal(row[0].hits, 3);
    akv_store_close(s);
    tu_rmtree(dir);
    free(dir);
}

/* Opens (creating) a store in dir under umask mask; checks the modes. */
static void check_private(mode_t mask)
{
    char *top = tu_tempdir();
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/store", top);
    mode_t old = umask(mask);
    akv_store *s;
    int rc = akv_store_open(&s, NULL, dir, NULL, AKV_OPEN_CREATE);
    umask(old);
    assert_ok(rc);
    assert_ok(akv_put(s, "sb", AKV_SCOPE_TASK, "k", 1, "v", 1, NULL, NULL,
                      NULL));
    if (mode_of(dir, NULL) != 0700)
        fail_msg("umask %03o: directory mode %03o, expected 700",
                 (unsigned)mask, (unsigned)mode_of(dir, NULL));
    static const char *const files[] = {"data.mdb", "lock.mdb", "counters"};
    for (size_t i = 0; i < 3; i++)
        if (mode_of(dir, files[i]) != 0600)
            fail_msg("umask %03o: %s mode %03o, expected 600", (unsigned)mask,
                     files[i], (unsigned)mode_of(dir, files[i]));
    akv_store_close(s);
    tu_rmtree(top);
    free(top);
}

static void store_is_private_whatever_the_umask(void **state)
{
    (void)state;
    tu_lmdb_only();
    check_private(0000);
    check_private(0022);
    check_private(0077);
    check_private(0277);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mapped_files_have_every_block),
        cmocka_unit_test(sparse_counters_are_allocated_on_open),
        cmocka_unit_test(store_is_private_whatever_the_umask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

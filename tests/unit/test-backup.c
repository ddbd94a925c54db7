/*
 * test-backup.c — akv_backup's progress reporting: the callback sees bytes
 * growing to a final call where done == total, and the copy it reports on
 * is a complete store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

struct seen {
    uint64_t calls, last_done, last_total;
    int went_backwards;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct seen *s = ctx;
    if (done < s->last_done || total < done)
        s->went_backwards = 1;
    s->calls++;
    s->last_done = done;
    s->last_total = total;
}

static void backup_reports_progress_to_completion(void **state)
{
    (void)state;
    tu_lmdb_only();
    tu_store ts;
    tu_store_open(&ts, NULL);
    static char val[64 * 1024];
    memset(val, 'b', sizeof val);
    for (int i = 0; i < 8; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        assert_ok(akv_put(ts.store, "sb", AKV_SCOPE_TASK, key, strlen(key),
                          val, sizeof val, NULL, NULL, NULL));
    }
    char *dst = tu_tempdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/copy", dst);
    struct seen s = {0};
    assert_ok(akv_backup(ts.store, path, on_progress, &s));
    assert_true(s.calls >= 2);
    assert_false(s.went_backwards);
    assert_int_equal(s.last_done, s.last_total);
    assert_true(s.last_done >= 8 * sizeof val);

    akv_store *copy;
    assert_ok(akv_store_open(&copy, NULL, path, NULL, 0));
    /* The copy is read on the clock that wrote it: the entries carry a
     * 24 h TTL from the test clock, and the real clock may be past it. */
    akv_store_set_clock(copy, tu_clock, &ts.clock);
    akv_value *v;
    assert_ok(akv_get(copy, "sb", AKV_SCOPE_TASK, "k7", 2, &v));
    size_t len;
    akv_value_data(v, &len);
    assert_int_equal(len, sizeof val);
    akv_value_release(v);
    akv_store_close(copy);
    tu_rmtree(dst);
    free(dst);
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backup_reports_progress_to_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

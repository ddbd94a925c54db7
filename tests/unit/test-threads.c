/*
 * test-threads.c — one akv_store shared by several threads: readers and
 * writers at once must see only complete, verified values, lose no write,
 * and leave the read-transaction pool consistent.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#define WRITERS 2
#define READERS 4
#define WRITES 40
#define READS 4000

struct shared {
    akv_store *store;
    int id;
    int errors;
    char message[600];
};

static void *writer(void *arg)
{
    struct shared *sh = arg;
    for (int i = 0; i < WRITES; i++) {
        char key[64], val[128];
        snprintf(key, sizeof key, "w%d/%d", sh->id, i);
        int n = snprintf(val, sizeof val, "value of %s", key);
        if (akv_put(sh->store, "t", AKV_SCOPE_TASK, key, strlen(key), val,
                    (size_t)n, NULL, NULL, NULL) != AKV_OK ||
            akv_put(sh->store, "t", AKV_SCOPE_TASK, "hot", 3, val, (size_t)n,
                    NULL, NULL, NULL) != AKV_OK) {
            sh->errors++;
            snprintf(sh->message, sizeof sh->message, "put: %s",
                     akv_last_error()->message);
        }
    }
    return NULL;
}

static void *reader(void *arg)
{
    struct shared *sh = arg;
    for (int i = 0; i < READS; i++) {
        akv_value *v;
        int rc = akv_get(sh->store, "t", AKV_SCOPE_TASK, "hot", 3, &v);
        if (rc == AKV_ENOTFOUND)
            continue; /* before the first write */
        if (rc != AKV_OK) {
            sh->errors++;
            snprintf(sh->message, sizeof sh->message, "get: %s",
                     akv_last_error()->message);
            continue;
        }
        size_t len;
        const char *d = akv_value_data(v, &len);
        if (len < 9 || memcmp(d, "value of ", 9) != 0) {
            sh->errors++;
            snprintf(sh->message, sizeof sh->message, "torn value");
        }
        akv_value_release(v);
    }
    return NULL;
}

static void threads_read_and_write_one_store(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    pthread_t th[WRITERS + READERS];
    struct shared sh[WRITERS + READERS];
    for (int i = 0; i < WRITERS + READERS; i++) {
        sh[i] = (struct shared){ts.store, i, 0, ""};
        assert_int_equal(pthread_create(&th[i], NULL,
                                        i < WRITERS ? writer : reader, &sh[i]),
                         0);
    }
    for (int i = 0; i < WRITERS + READERS; i++) {
        pthread_join(th[i], NULL);
        if (sh[i].errors)
            fail_msg("thread %d: %d errors, last: %s", i, sh[i].errors,
                     sh[i].message);
    }
    /* Every write is there, and the hot key saw all of them. */
    for (int w = 0; w < WRITERS; w++)
        for (int i = 0; i < WRITES; i++) {
            char key[64];
            snprintf(key, sizeof key, "w%d/%d", w, i);
            akv_value *v;
            assert_ok(akv_get(ts.store, "t", AKV_SCOPE_TASK, key, strlen(key),
                              &v));
            akv_value_release(v);
        }
    akv_meta m;
    char buf[128];
    size_t len = sizeof buf;
    assert_ok(akv_get_copy(ts.store, "t", AKV_SCOPE_TASK, "hot", 3, buf, &len,
                           &m));
    assert_int_equal(m.version, WRITERS * WRITES);
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threads_read_and_write_one_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

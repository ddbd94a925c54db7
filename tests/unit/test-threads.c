/*
 * test-threads.c — one akv_store shared by several threads: readers and
 * writers at once must see only complete, verified values, lose no write,
 * and leave the read-transaction pool consistent; puts sent in flights
 * (akv_put_many_start) and puts that wait share one group commit.
 */
#include <poll.h>
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
            snprintf(sh->message, sizeof sh->message, "put: %.590s",
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
            snprintf(sh->message, sizeof sh->message, "get: %.590s",
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

/* key is in the store. */
static void want_key(akv_store *store, const char *key)
{
    akv_value *v;
    assert_ok(akv_get(store, "t", AKV_SCOPE_TASK, key, strlen(key), &v));
    akv_value_release(v);
}

/* The hot key saw version writes. */
static void want_hot_version(akv_store *store, uint64_t version)
{
    akv_meta m;
    char buf[128];
    size_t len = sizeof buf;
    assert_ok(akv_get_copy(store, "t", AKV_SCOPE_TASK, "hot", 3, buf, &len,
                           &m));
    assert_int_equal(m.version, version);
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
            want_key(ts.store, key);
        }
    want_hot_version(ts.store, WRITERS * WRITES);
    tu_store_close(&ts);
}

#define FLIGHTS 30
#define FLIGHT_PUTS 8

/* Puts in flights of FLIGHT_PUTS: each a key of its own and the hot key,
 * waited for on the flight's descriptor as an event loop would. */
static void *flyer(void *arg)
{
    struct shared *sh = arg;
    for (int i = 0; i < FLIGHTS; i++) {
        char keys[FLIGHT_PUTS][64];
        akv_put_req q[FLIGHT_PUTS];
        for (int j = 0; j < FLIGHT_PUTS; j++) {
            int n = snprintf(keys[j], sizeof keys[j], "f%d/%d/%d", sh->id, i,
                             j);
            if (j % 2)
                n = snprintf(keys[j], sizeof keys[j], "hot");
            q[j] = (akv_put_req){.sandbox = "t", .scope = AKV_SCOPE_TASK,
                                 .key = keys[j], .key_len = (size_t)n,
                                 .value = "value of a flight",
                                 .value_len = 17};
        }
        akv_put_flight *f;
        if (akv_put_many_start(sh->store, q, FLIGHT_PUTS, &f) != AKV_OK) {
            sh->errors++;
            snprintf(sh->message, sizeof sh->message, "start: %.590s",
                     akv_last_error()->message);
            continue;
        }
        struct pollfd pfd = {.fd = akv_put_flight_fd(f, NULL),
                             .events = POLLIN};
        if (pfd.fd < 0 || poll(&pfd, 1, -1) != 1) {
            sh->errors++;
            snprintf(sh->message, sizeof sh->message, "no descriptor");
        }
        akv_put_many_finish(f, 0);
        for (int j = 0; j < FLIGHT_PUTS; j++)
            if (q[j].rc != AKV_OK) {
                sh->errors++;
                snprintf(sh->message, sizeof sh->message, "put: %.590s",
                         q[j].error.message);
            }
    }
    return NULL;
}

static void flights_and_waiting_writers_share_commits(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    enum { N = 2 * WRITERS + READERS };
    pthread_t th[N];
    struct shared sh[N];
    for (int i = 0; i < N; i++) {
        sh[i] = (struct shared){ts.store, i, 0, ""};
        void *(*fn)(void *) = i < WRITERS       ? writer
                              : i < 2 * WRITERS ? flyer
                                                : reader;
        assert_int_equal(pthread_create(&th[i], NULL, fn, &sh[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (sh[i].errors)
            fail_msg("thread %d: %d errors, last: %s", i, sh[i].errors,
                     sh[i].message);
    }
    for (int t = WRITERS; t < 2 * WRITERS; t++)
        for (int i = 0; i < FLIGHTS; i++) {
            char key[64];
            snprintf(key, sizeof key, "f%d/%d/%d", t, i, FLIGHT_PUTS - 2);
            want_key(ts.store, key);
        }
    want_hot_version(ts.store, WRITERS * WRITES +
                                   WRITERS * FLIGHTS * (FLIGHT_PUTS / 2));
    tu_store_close(&ts); /* stops the committer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threads_read_and_write_one_store),
        cmocka_unit_test(flights_and_waiting_writers_share_commits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * akv-writer — a test helper that writes entries through libagentkv as fast
 * as it can and reports each acknowledged write on stdout, one line per
 * write, flushed (fflush) before the next write starts:
 *
 *   akv-writer DIR PREFIX COUNT [SHARED_KEY]
 *
 * writes task entries PREFIX/0 … PREFIX/COUNT-1 in sandbox "crash" whose
 * values are akv_writer_value(key) (a deterministic function of the key,
 * 100 to 4,000 bytes), printing "ok KEY" after each akv_put returns. With
 * SHARED_KEY it also writes that key after every entry and prints
 * "shared VERSION". The crash-safety test kills it with SIGKILL at random
 * moments and then checks that every reported write is present and intact:
 *
 *   akv-writer --verify DIR < LOG
 *
 * reads "ok KEY" lines and checks each KEY's value through akv_get (which
 * also verifies its SHA-256); it prints the number checked, or the first
 * missing or wrong key and exits 1.
 *
 *   akv-writer --verify-all DIR < LOG
 *
 * does the same, then akv_check over every entry of the store; it fails if
 * any entry is damaged (the power-loss test checks each store so, in one
 * process).
 *
 *   akv-writer --value KEY     prints the value written for KEY.
 *
 * The store is the embedded one in DIR, or the backend AGENTKV_BACKEND
 * names (as for the agentkv command), so the same tests run on Redis.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv.h"

/* The value for key: the key repeated, then a length that depends on it. */
static size_t writer_value(const char *key, char *buf, size_t cap)
{
    unsigned h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    size_t len = 100 + h % 3900, kl = strlen(key);
    if (len > cap)
        len = cap;
    for (size_t i = 0; i < len; i++)
        buf[i] = i % (kl + 1) == kl ? '\n' : key[i % (kl + 1)];
    return len;
}

static int verify(const char *dir, int check_all)
{
    akv_store *store;
    if (akv_store_open(&store, getenv("AGENTKV_BACKEND"), dir, NULL, 0) != AKV_OK) {
        fprintf(stderr, "akv-writer: %s\n", akv_last_error()->message);
        return 1;
    }
    char line[512], want[4096];
    long checked = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "ok ", 3) != 0)
            continue;
        char *key = line + 3;
        key[strcspn(key, "\n")] = '\0';
        size_t n = writer_value(key, want, sizeof want);
        akv_value *v;
        int grc = akv_get(store, "crash", AKV_SCOPE_TASK, key, strlen(key), &v);
        if (grc != AKV_OK) {
            printf("acknowledged write %s: %s: %s\n", key, akv_err_name(grc),
                   akv_last_error()->message);
            rc = 1;
            break;
        }
        size_t len;
        const void *d = akv_value_data(v, &len);
        if (len != n || memcmp(d, want, n) != 0) {
            printf("acknowledged write %s has the wrong value\n", key);
            rc = 1;
        }
        akv_value_release(v);
        checked++;
    }
    if (rc == 0 && check_all) {
        uint64_t n = 0, bad = 0;
        int crc = akv_check(store, NULL, NULL, NULL, &n, &bad);
        if (crc != AKV_OK) {
            printf("akv_check: %s: %" PRIu64 " of %" PRIu64 " entries failed: %s\n",
                   akv_err_name(crc), bad, n, akv_last_error()->message);
            rc = 1;
        }
    }
    if (rc == 0)
        printf("%ld\n", checked);
    akv_store_close(store);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--value") == 0) {
        /* akv-writer --value KEY: print the expected value (for checks). */
        char buf[4096];
        size_t n = writer_value(argv[2], buf, sizeof buf);
        fwrite(buf, 1, n, stdout);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--verify") == 0)
        return verify(argv[2], 0);
    if (argc == 3 && strcmp(argv[1], "--verify-all") == 0)
        return verify(argv[2], 1);
    if (argc < 4) {
        fprintf(stderr, "usage: akv-writer DIR PREFIX COUNT [SHARED_KEY]\n"
                        "       akv-writer --verify|--verify-all DIR < LOG\n"
                        "       akv-writer --value KEY\n");
        return 2;
    }
    akv_store *store;
    int rc = akv_store_open(&store, getenv("AGENTKV_BACKEND"), argv[1], NULL,
                           AKV_OPEN_CREATE);
    if (rc != AKV_OK) {
        fprintf(stderr, "akv-writer: %s\n", akv_last_error()->message);
        return 1;
    }
    long count = atol(argv[3]);
    const char *shared = argc > 4 ? argv[4] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (long i = 0; i < count; i++) {
        char key[256], buf[4096];
        snprintf(key, sizeof key, "%s/%ld", argv[2], i);
        size_t n = writer_value(key, buf, sizeof buf);
        rc = akv_put(store, "crash", AKV_SCOPE_TASK, key, strlen(key), buf, n,
                     NULL, NULL, NULL);
        if (rc != AKV_OK) {
            fprintf(stderr, "akv-writer: put %s: %s\n", key,
                    akv_last_error()->message);
            return 1;
        }
        printf("ok %s\n", key);
        fflush(stdout); /* the acknowledgement, as the power-loss test's
                         * tracer sees it (tests/helpers/iotrace) */
        if (shared) {
            akv_meta m;
            rc = akv_put(store, "crash", AKV_SCOPE_TASK, shared,
                         strlen(shared), key, strlen(key), NULL, &m, NULL);
            if (rc != AKV_OK) {
                fprintf(stderr, "akv-writer: put %s: %s\n", shared,
                        akv_last_error()->message);
                return 1;
            }
            printf("shared %llu\n", (unsigned long long)m.version);
            fflush(stdout);
        }
    }
    akv_store_close(store);
    return 0;
}

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
 *   akv-writer --verify-stream
 *
 * does the same, then akv_check over every entry of the store, for many
 * stores in one process, one request a line on stdin (verify_stream
 * below): the power-loss tests check hundreds of stores.
 *
 *   akv-writer --value KEY     prints the value written for KEY.
 *
 *   akv-writer --http PORT TOKEN PREFIX COUNT CONNS
 *
 * writes the same entries through `agentkv serve` on 127.0.0.1:PORT
 * instead (PUT /v1/sandboxes/crash/kv/task/PREFIX%2FI with bearer TOKEN),
 * over CONNS keep-alive connections at once, one thread each, so that the
 * server gathers them into group commits; "ok KEY" is printed and flushed
 * once the PUT is answered 200 or 201. PREFIX is letters and digits.
 *
 * With AKV_WRITER_LIST_EVERY=N in the environment, the library writer
 * also lists the sandbox's task entries after every N writes: on the
 * embedded store with the write log, that has data.mdb take all of the
 * log first, so that its files are started over while the writer runs.
 *
 * The store is the embedded one in DIR, or the backend AGENTKV_BACKEND
 * names (as for the agentkv command), so the same tests run on Redis; with
 * the settings of the file AGENTKV_CONFIG names, if it names one (as for
 * the agentkv command: store.write_log, say).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agentkv.h"

/* The value for key: the key repeated, then a length that depends on it. */
/* Opens the store in dir as the agentkv command would: backend from
 * AGENTKV_BACKEND, settings from the file AGENTKV_CONFIG names. */
static int writer_open(akv_store **store, const char *dir, unsigned flags)
{
    const char *path = getenv("AGENTKV_CONFIG");
    akv_config *cfg = NULL;
    int rc = AKV_OK;
    if (path && *path &&
        ((rc = akv_config_new(&cfg)) != AKV_OK ||
         (rc = akv_config_load(cfg, path)) != AKV_OK)) {
        akv_config_free(cfg);
        return rc;
    }
    rc = akv_store_open(store, getenv("AGENTKV_BACKEND"), dir, cfg, flags);
    akv_config_free(cfg);
    return rc;
}

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

/*
 * Checks the store in dir: each "ok KEY" among the first max_lines lines of
 * acks (all of them if max_lines < 0) must read back through akv_get with
 * its value, and with check_all every entry must pass akv_check. Returns
 * the number checked, or -1 with the first problem in why.
 */
static long verify_store(const char *dir, FILE *acks, long max_lines,
                         int check_all, char *why, size_t cap)
{
    akv_store *store;
    if (writer_open(&store, dir, 0) != AKV_OK) {
        snprintf(why, cap, "akv-writer: %s", akv_last_error()->message);
        return -1;
    }
    char line[512], want[4096];
    long checked = 0, lines = 0;
    while ((max_lines < 0 || lines < max_lines) &&
           fgets(line, sizeof line, acks)) {
        lines++;
        if (strncmp(line, "ok ", 3) != 0)
            continue;
        char *key = line + 3;
        key[strcspn(key, "\n")] = '\0';
        size_t n = writer_value(key, want, sizeof want);
        akv_value *v;
        int grc = akv_get(store, "crash", AKV_SCOPE_TASK, key, strlen(key), &v);
        if (grc != AKV_OK) {
            snprintf(why, cap, "acknowledged write %.64s: %s: %.300s", key,
                     akv_err_name(grc), akv_last_error()->message);
            checked = -1;
            break;
        }
        size_t len;
        const void *d = akv_value_data(v, &len);
        int same = len == n && memcmp(d, want, n) == 0;
        akv_value_release(v);
        if (!same) {
            snprintf(why, cap, "acknowledged write %s has the wrong value",
                     key);
            checked = -1;
            break;
        }
        checked++;
    }
    if (checked >= 0 && check_all) {
        uint64_t n = 0, bad = 0;
        int crc = akv_check(store, NULL, NULL, NULL, &n, &bad);
        if (crc != AKV_OK) {
            snprintf(why, cap, "akv_check: %s: %" PRIu64 " of %" PRIu64
                     " entries failed: %s", akv_err_name(crc), bad, n,
                     akv_last_error()->message);
            checked = -1;
        }
    }
    akv_store_close(store);
    return checked;
}

static int verify(const char *dir)
{
    char why[1024];
    long n = verify_store(dir, stdin, -1, 0, why, sizeof why);
    if (n < 0) {
        printf("%s\n", why);
        return 1;
    }
    printf("%ld\n", n);
    return 0;
}

/* --verify-stream: one request a line, "LINES<TAB>ACKS<TAB>DIR": the "ok"
 * lines among the first LINES lines of the file ACKS checked against the
 * store in DIR, then akv_check over it; answers "ok N" or "fail WHY", one
 * line each, flushed. */
static int verify_stream(void)
{
    char req[8192];
    while (fgets(req, sizeof req, stdin)) {
        req[strcspn(req, "\n")] = '\0';
        char *acks_path = strchr(req, '\t');
        char *dir = acks_path ? strchr(acks_path + 1, '\t') : NULL;
        if (dir == NULL) {
            printf("fail bad request (want LINES<TAB>ACKS<TAB>DIR)\n");
            fflush(stdout);
            continue;
        }
        *acks_path++ = '\0';
        *dir++ = '\0';
        char why[1024];
        long n = -1;
        FILE *acks = fopen(acks_path, "r");
        if (acks == NULL) {
            snprintf(why, sizeof why, "cannot open %s", acks_path);
        } else {
            n = verify_store(dir, acks, atol(req), 1, why, sizeof why);
            fclose(acks);
        }
        if (n < 0)
            printf("fail %s\n", why);
        else
            printf("ok %ld\n", n);
        fflush(stdout);
    }
    return 0;
}

/* ---- --http: the same writes through the HTTP server ---------------- */

struct http_run {
    int port, count, conns;
    const char *token, *prefix;
    pthread_mutex_t out_lock; /* one "ok" line and its flush at a time */
    atomic_int failed;
};

struct http_conn {
    struct http_run *run;
    int first; /* this thread writes entries first, first+conns, ... */
};

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one response on fd into buf (cap bytes; headers and a short body
 * fit): returns its status, or -1 on a broken or oversized response. */
static int read_response(int fd, char *buf, size_t cap)
{
    size_t have = 0;
    char *end = NULL;
    while (end == NULL) {
        if (have + 1 >= cap)
            return -1;
        ssize_t r = recv(fd, buf + have, cap - 1 - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    int status;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
        return -1;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
    size_t want = (size_t)(end + 4 - buf) + body;
    if (want >= cap)
        return -1;
    while (have < want) {
        ssize_t r = recv(fd, buf + have, want - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    return status;
}

static void *http_thread(void *arg)
{
    struct http_conn *hc = arg;
    struct http_run *run = hc->run;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)run->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "akv-writer: connect to port %d: %s\n", run->port,
                strerror(errno));
        atomic_store(&run->failed, 1);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    for (int i = hc->first; i < run->count && !atomic_load(&run->failed);
         i += run->conns) {
        char key[256], value[4096], head[1024], resp[8192];
        snprintf(key, sizeof key, "%s/%d", run->prefix, i);
        size_t n = writer_value(key, value, sizeof value);
        int hl = snprintf(head, sizeof head,
                          "PUT /v1/sandboxes/crash/kv/task/%s%%2F%d "
                          "HTTP/1.1\r\n"
                          "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                          "Content-Type: application/octet-stream\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          run->prefix, i, run->token, n);
        int status = -1;
        if (hl > 0 && (size_t)hl < sizeof head &&
            send_all(fd, head, (size_t)hl) == 0 && send_all(fd, value, n) == 0)
            status = read_response(fd, resp, sizeof resp);
        if (status != 200 && status != 201) {
            fprintf(stderr, "akv-writer: PUT %s: %s %d\n", key,
                    status < 0 ? "no answer, or a broken one" : "status",
                    status);
            atomic_store(&run->failed, 1);
            break;
        }
        pthread_mutex_lock(&run->out_lock);
        printf("ok %s\n", key);
        fflush(stdout); /* the acknowledgement (tests/helpers/iotrace) */
        pthread_mutex_unlock(&run->out_lock);
    }
    close(fd);
    return NULL;
}

static int http_writer(char **argv)
{
    struct http_run run = {.port = atoi(argv[2]),
                           .token = argv[3],
                           .prefix = argv[4],
                           .count = atoi(argv[5]),
                           .conns = atoi(argv[6])};
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    if (run.port < 1 || run.port > 65535 || run.count < 0 || run.conns < 1 ||
        run.conns > 256 || run.prefix[0] == '\0' ||
        strspn(run.prefix, alnum) != strlen(run.prefix)) {
        fprintf(stderr, "akv-writer: --http PORT TOKEN PREFIX COUNT CONNS: "
                        "a port, letters and digits, a count, 1..256 conns\n");
        return 2;
    }
    pthread_mutex_init(&run.out_lock, NULL);
    atomic_init(&run.failed, 0);
    pthread_t th[256];
    struct http_conn hc[256];
    int started = 0;
    for (int t = 0; t < run.conns; t++) {
        hc[t] = (struct http_conn){.run = &run, .first = t};
        if (pthread_create(&th[t], NULL, http_thread, &hc[t]) != 0) {
            fprintf(stderr, "akv-writer: cannot start a thread\n");
            atomic_store(&run.failed, 1);
            break;
        }
        started++;
    }
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&run.out_lock);
    return atomic_load(&run.failed) ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "--http") == 0)
        return http_writer(argv);
    if (argc == 3 && strcmp(argv[1], "--value") == 0) {
        /* akv-writer --value KEY: print the expected value (for checks). */
        char buf[4096];
        size_t n = writer_value(argv[2], buf, sizeof buf);
        fwrite(buf, 1, n, stdout);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--verify") == 0)
        return verify(argv[2]);
    if (argc == 2 && strcmp(argv[1], "--verify-stream") == 0)
        return verify_stream();
    if (argc < 4) {
        fprintf(stderr, "usage: akv-writer DIR PREFIX COUNT [SHARED_KEY]\n"
                        "       akv-writer --verify DIR < LOG\n"
                        "       akv-writer --verify-stream\n"
                        "       akv-writer --value KEY\n"
                        "       akv-writer --http PORT TOKEN PREFIX COUNT "
                        "CONNS\n");
        return 2;
    }
    akv_store *store;
    int rc = writer_open(&store, argv[1], AKV_OPEN_CREATE);
    if (rc != AKV_OK) {
        fprintf(stderr, "akv-writer: %s\n", akv_last_error()->message);
        return 1;
    }
    long count = atol(argv[3]);
    const char *shared = argc > 4 ? argv[4] : NULL;
    const char *every = getenv("AKV_WRITER_LIST_EVERY");
    long list_every = every ? atol(every) : 0;
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
        akv_list *l;
        if (list_every > 0 && i % list_every == list_every - 1) {
            if (akv_list_entries(store, "crash", AKV_SCOPE_TASK, NULL, &l) !=
                AKV_OK) {
                fprintf(stderr, "akv-writer: list: %s\n",
                        akv_last_error()->message);
                return 1;
            }
            akv_list_free(l);
        }
    }
    akv_store_close(store);
    return 0;
}

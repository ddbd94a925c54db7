/*
 * http-floor.c — the least an HTTP server can do for bench-http's GET: read
 * a request head and write back a response it already has. bench-http.sh
 * runs it beside `agentkv serve`, with the same client, the same number of
 * threads and agentkv's own answer to that GET (captured byte for byte), so
 * that each round shows what HTTP alone costs on this machine: agentkv's
 * figures against the floor's are what the store, the token check, the
 * routing and the SHA-256 add; the floor's against Redis's are the most
 * that less work per request in agentkv could bring.
 *
 * Its event model is the server's (src/server/accept.c, dispatch.c): one
 * epoll loop per thread, each owning the connections given to it at accept
 * time (round-robin), the responses of a turn written after all of the
 * turn's reading. It parses nothing beyond the blank line that ends a head;
 * a request with a body is not something bench-http sends it.
 *
 * Usage: bench_http_floor RESPONSE_FILE [THREADS [SPIN_NS]]
 *   RESPONSE_FILE  the whole response: status line, headers, body
 *   THREADS        event loops (default: one per online CPU)
 *   SPIN_NS        a busy wait of this many nanoseconds for each request
 *                  (default 0): work per request stood in for, to see how
 *                  the GET tail follows it (docs/performance.md)
 * Listens on 127.0.0.1, a port of the kernel's choosing, and says
 * "listening on http://127.0.0.1:PORT" on standard error once it accepts.
 * Runs until killed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LOOPS 64
#define EVENTS 64
#define IN_CAP 8192 /* a head longer than this closes the connection */

struct conn {
    int fd;
    size_t in_len;
    size_t owed;     /* complete heads not yet answered */
    size_t out_off;  /* bytes of the current response already written */
    int want_out;    /* EPOLLOUT is armed: the socket was full */
    struct conn *next_out;
    char in[IN_CAP];
};

struct loop {
    pthread_t thread;
    int epfd;
    struct conn *out; /* owed answers this turn */
};

static const char *resp;
static size_t resp_len;
static int listen_fd, nloops;
static struct loop loops[MAX_LOOPS];
static unsigned next_loop; /* the first loop's, which alone accepts */

static void die(const char *what)
{
    fprintf(stderr, "bench_http_floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void conn_close(struct conn *c)
{
    close(c->fd); /* also takes it out of its loop's epoll set */
    free(c);
}

static long spin_ns; /* SPIN_NS */

static void spin(void)
{
    struct timespec t0, t;
    if (spin_ns <= 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) <
           spin_ns);
}

/* Reads what c's socket holds and counts the heads it completes. Returns 0,
 * or -1 when the connection is done (end of input, error, oversized head). */
static int conn_read(struct conn *c)
{
    for (;;) {
        size_t room = IN_CAP - c->in_len;
        ssize_t n = read(c->fd, c->in + c->in_len, room);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (n == 0)
            return -1;
        c->in_len += (size_t)n;
        char *end;
        while ((end = memmem(c->in, c->in_len, "\r\n\r\n", 4)) != NULL) {
            size_t used = (size_t)(end + 4 - c->in);
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
            c->owed++;
            spin();
        }
        if (c->in_len == IN_CAP)
            return -1;
        if ((size_t)n < room)
            return 0; /* drained; the level-triggered loop says if more comes */
    }
}

/* Writes what c owes. Returns 0 when all is written, 1 when the socket is
 * full (c then waits for EPOLLOUT), -1 on error. */
static int conn_write(struct loop *l, struct conn *c)
{
    while (c->owed > 0) {
        ssize_t n = write(c->fd, resp + c->out_off, resp_len - c->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -1;
            if (c->want_out)
                return 1;
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
            c->want_out = 1;
            return epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0 ? 1 : -1;
        }
        c->out_off += (size_t)n;
        if (c->out_off == resp_len) {
            c->out_off = 0;
            c->owed--;
        }
    }
    if (c->want_out) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        c->want_out = 0;
        return epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0 ? 0 : -1;
    }
    return 0;
}

static void accept_all(void)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        struct loop *to = &loops[next_loop++ % (unsigned)nloops];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(to->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            conn_close(c);
    }
}

static void *loop_run(void *arg)
{
    struct loop *l = arg;
    struct epoll_event ev[EVENTS];
    for (;;) {
        int n = epoll_wait(l->epfd, ev, EVENTS, -1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct conn *c = ev[i].data.ptr;
            if (c == NULL) {
                accept_all();
                continue;
            }
            /* EPOLLHUP and EPOLLERR: the read says what became of it. */
            int rc = ev[i].events & ~EPOLLOUT ? conn_read(c) : 0;
            if (rc < 0) {
                conn_close(c);
                continue;
            }
            if (c->owed > 0) {
                c->next_out = l->out;
                l->out = c;
            }
        }
        while (l->out != NULL) {
            struct conn *c = l->out;
            l->out = c->next_out;
            if (conn_write(l, c) < 0)
                conn_close(c);
        }
    }
    return NULL;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die(path);
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap && (buf = realloc(buf, cap = cap ? 2 * cap : 4096)) == NULL)
            die("realloc");
        size_t n = fread(buf + *len, 1, cap - *len, f);
        if (n == 0)
            break;
        *len += n;
    }
    if (ferror(f))
        die(path);
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr,
                "usage: bench_http_floor RESPONSE_FILE [THREADS [SPIN_NS]]\n");
        return 2;
    }
    resp = read_file(argv[1], &resp_len);
    if (resp_len == 0 || memmem(resp, resp_len, "\r\n\r\n", 4) == NULL) {
        fprintf(stderr, "bench_http_floor: %s holds no HTTP response\n", argv[1]);
        return 2;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    nloops = argc >= 3 ? atoi(argv[2]) : (int)(ncpu > 0 ? ncpu : 1);
    if (nloops < 1 || nloops > MAX_LOOPS) {
        fprintf(stderr, "bench_http_floor: THREADS must be 1 to %d\n", MAX_LOOPS);
        return 2;
    }
    spin_ns = argc == 4 ? atol(argv[3]) : 0;
    if (spin_ns < 0 || spin_ns > 1000000) {
        fprintf(stderr, "bench_http_floor: SPIN_NS must be 0 to 1000000\n");
        return 2;
    }

    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0)
        die("socket");
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(listen_fd, 511) != 0 ||
        getsockname(listen_fd, (struct sockaddr *)&sa, &sl) != 0)
        die("listen");

    for (int i = 0; i < nloops; i++)
        if ((loops[i].epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
            die("epoll_create1");
    /* The first loop accepts, as one of agentkv's does for each connection. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(loops[0].epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
        die("epoll_ctl");
    for (int i = 0; i < nloops; i++)
        if ((errno = pthread_create(&loops[i].thread, NULL, loop_run, &loops[i])) != 0)
            die("pthread_create");
    fprintf(stderr, "bench_http_floor: %d threads, a %zu-byte response, "
            "listening on http://127.0.0.1:%u\n",
            nloops, resp_len, (unsigned)ntohs(sa.sin_port));
    pthread_join(loops[0].thread, NULL);
    return 0;
}

/*
 * iotrace.c — an LD_PRELOAD library that records, in order, what a process
 * does to the files that decide durability, so that tests/helpers/
 * powerloss.py can build the files a power cut at any moment could leave
 * behind (the power-loss test, tests/cli/test-powerloss.sh).
 *
 *   IOTRACE_FILE=TRACE LD_PRELOAD=akv-iotrace.so PROGRAM ...
 *
 * Traced: every descriptor opened on a file named in IOTRACE_NAME, a
 * comma-separated list (default "data.mdb", the embedded store's data
 * file; "data.mdb,data.log" with the write log). Recorded on it: each write
 * (pwrite, pwritev, write and writev at the descriptor's offset) with its
 * bytes, marked durable at once when the descriptor was opened with O_DSYNC
 * or O_SYNC; each fsync or fdatasync; each ftruncate. With IOTRACE_ACKS=1, also each
 * fflush(stdout), as an acknowledgement: the writers the tests run
 * (akv-writer) report a write as done by flushing one line to stdout
 * (libc's own stdio writes cannot be interposed, so the flush is what is
 * seen). Several processes may share one trace, e.g. a server tracing its
 * data file and a client tracing its acknowledgements: records are
 * appended, so the trace keeps the order in which they happened.
 *
 * IOTRACE_DROP_SYNC=1 makes fsync and fdatasync on traced descriptors
 * return 0 without doing or recording anything: a disk that acknowledges
 * flushes it never makes. The test runs it to show that its checks catch
 * lost writes.
 *
 * Trace format, records one after another, native byte order (the trace is
 * read on the machine that wrote it):
 *
 *   uint32 kind   low byte: 1 write, 2 write on an O_DSYNC/O_SYNC
 *                 descriptor, 3 fsync or fdatasync, 4 acknowledgement,
 *                 5 ftruncate; above it, the file's place in IOTRACE_NAME
 *                 (0 for the first)
 *   uint32 len    bytes of data that follow (writes only, else 0)
 *   uint64 off    file offset of the write's first byte, the length a
 *                 truncation leaves (else 0)
 *   len bytes     the bytes written
 *
 * Each record is appended, under one lock, right after the call it describes
 * returned, with a single write(2) on an O_APPEND descriptor, so the trace's
 * order is the order in which the calls took effect. Descriptors below
 * MAX_FDS only, and at most MAX_NAMES names: all the test needs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

enum { K_WRITE = 1, K_DSYNC_WRITE = 2, K_SYNC = 3, K_ACK = 4, K_TRUNCATE = 5 };

struct rec_head {
    uint32_t kind, len;
    uint64_t off;
};

#define MAX_FDS 4096
#define MAX_NAMES 8
/* 0: not traced; else 1 + whether writes on it are durable at once + 2 x
 * the file's place in IOTRACE_NAME. */
static unsigned char traced[MAX_FDS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int trace_fd = -1;

static int drop_sync(void)
{
    const char *e = getenv("IOTRACE_DROP_SYNC");
    return e && strcmp(e, "1") == 0;
}

/* Whole-buffer write with the system call itself, so that nothing of ours
 * passes through the functions this library replaces. */
static void raw_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        long w = syscall(SYS_write, fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            static const char msg[] = "iotrace: cannot write the trace\n";
            syscall(SYS_write, 2, msg, sizeof msg - 1);
            _exit(99);
        }
        c += w;
        n -= (size_t)w;
    }
}

/* Appends one record: head, then the iov's first len bytes. Caller holds
 * lock. */
static void emit(uint32_t kind, uint64_t off, const struct iovec *iov,
                 int iovcnt, size_t len)
{
    if (trace_fd < 0) {
        const char *path = getenv("IOTRACE_FILE");
        if (path == NULL)
            return;
        trace_fd = (int)syscall(SYS_openat, AT_FDCWD, path,
                                O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                                0600);
        if (trace_fd < 0) {
            static const char msg[] = "iotrace: cannot open IOTRACE_FILE\n";
            syscall(SYS_write, 2, msg, sizeof msg - 1);
            _exit(99);
        }
    }
    /* One record, one write(2): gathered in a buffer first. */
    size_t total = sizeof(struct rec_head) + len;
    char *buf = malloc(total);
    if (buf == NULL)
        _exit(99);
    struct rec_head h = {kind, (uint32_t)len, off};
    memcpy(buf, &h, sizeof h);
    size_t at = sizeof h;
    for (int i = 0; i < iovcnt && at < total; i++) {
        size_t n = iov[i].iov_len < total - at ? iov[i].iov_len : total - at;
        memcpy(buf + at, iov[i].iov_base, n);
        at += n;
    }
    raw_write_all(trace_fd, buf, total);
    free(buf);
}

/* The place of path's file name in IOTRACE_NAME, or -1. */
static int traced_name(const char *path)
{
    const char *want = getenv("IOTRACE_NAME");
    if (want == NULL)
        want = "data.mdb";
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    for (int i = 0; i < MAX_NAMES && *want; i++) {
        size_t n = strcspn(want, ",");
        if (n == len && memcmp(want, base, n) == 0)
            return i;
        want += n + (want[n] == ',');
    }
    return -1;
}

static void note_open(int fd, const char *path, int flags)
{
    if (fd < 0 || fd >= MAX_FDS)
        return;
    traced[fd] = 0;
    int i = traced_name(path);
    if (i >= 0)
        traced[fd] = (unsigned char)(1 + ((flags & (O_DSYNC | O_SYNC)) != 0) +
                                     2 * i);
}

/* real_NAME: the libc function this library stands in front of. */
#define REAL(name)                                                             \
    static __typeof__(name) *real_##name;                                      \
    if (real_##name == NULL)                                                   \
        real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* ---- opening and closing ---------------------------------------------- */

/* mode: the variadic mode argument of an open call whose last fixed
 * argument is last, when flags say there is one. */
#define OPEN_MODE(mode, flags, last)                                           \
    mode_t mode = 0;                                                           \
    if ((flags) & (O_CREAT | O_TMPFILE)) {                                     \
        va_list ap;                                                            \
        va_start(ap, last);                                                    \
        mode = va_arg(ap, mode_t);                                             \
        va_end(ap);                                                            \
    }

int open(const char *path, int flags, ...)
{
    REAL(open);
    OPEN_MODE(mode, flags, flags);
    int fd = real_open(path, flags, mode);
    note_open(fd, path, flags);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
    REAL(openat);
    OPEN_MODE(mode, flags, flags);
    int fd = real_openat(dirfd, path, flags, mode);
    note_open(fd, path, flags);
    return fd;
}

/* The 64-bit names are the same calls on a 64-bit system. */
int open64(const char *path, int flags, ...) __attribute__((alias("open")));
int openat64(int dirfd, const char *path, int flags, ...)
    __attribute__((alias("openat")));

int close(int fd)
{
    REAL(close);
    if (fd >= 0 && fd < MAX_FDS)
        traced[fd] = 0;
    return real_close(fd);
}

/* ---- writes ----------------------------------------------------------- */

static int is_traced(int fd)
{
    return fd >= 0 && fd < MAX_FDS && traced[fd] != 0;
}

/* kind on fd's file, as the trace records it. */
static uint32_t kind_on(int fd, uint32_t kind)
{
    return kind | (uint32_t)((traced[fd] - 1) / 2) << 8;
}

static uint32_t write_kind(int fd)
{
    return kind_on(fd, (traced[fd] - 1) % 2 ? K_DSYNC_WRITE : K_WRITE);
}

/* A write to a traced descriptor, of iov, at off (off < 0: at the
 * descriptor's offset, as write and writev do), then its record. */
static ssize_t traced_writev(int fd, const struct iovec *iov, int iovcnt,
                             off_t off)
{
    REAL(pwritev);
    REAL(writev);
    pthread_mutex_lock(&lock);
    off_t at = off >= 0 ? off : lseek(fd, 0, SEEK_CUR);
    ssize_t w = off >= 0 ? real_pwritev(fd, iov, iovcnt, off)
                         : real_writev(fd, iov, iovcnt);
    if (w > 0)
        emit(write_kind(fd), (uint64_t)at, iov, iovcnt, (size_t)w);
    pthread_mutex_unlock(&lock);
    return w;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite);
    if (!is_traced(fd) || off < 0)
        return real_pwrite(fd, buf, n, off);
    struct iovec v = {(void *)buf, n};
    return traced_writev(fd, &v, 1, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    REAL(pwritev);
    if (!is_traced(fd) || off < 0)
        return real_pwritev(fd, iov, iovcnt, off);
    return traced_writev(fd, iov, iovcnt, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write);
    if (!is_traced(fd))
        return real_write(fd, buf, n);
    struct iovec v = {(void *)buf, n};
    return traced_writev(fd, &v, 1, -1);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    REAL(writev);
    if (!is_traced(fd))
        return real_writev(fd, iov, iovcnt);
    return traced_writev(fd, iov, iovcnt, -1);
}

/* The 64-bit names are the same calls on a 64-bit system. */
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
    __attribute__((alias("pwrite")));
ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t off)
    __attribute__((alias("pwritev")));

/* ---- syncs and acknowledgements --------------------------------------- */

static int traced_sync(int fd, int (*real)(int))
{
    if (!is_traced(fd))
        return real(fd);
    if (drop_sync())
        return 0;
    pthread_mutex_lock(&lock);
    int rc = real(fd);
    if (rc == 0)
        emit(kind_on(fd, K_SYNC), 0, NULL, 0, 0);
    pthread_mutex_unlock(&lock);
    return rc;
}

int ftruncate(int fd, off_t length)
{
    REAL(ftruncate);
    if (!is_traced(fd))
        return real_ftruncate(fd, length);
    pthread_mutex_lock(&lock);
    int rc = real_ftruncate(fd, length);
    if (rc == 0)
        emit(kind_on(fd, K_TRUNCATE), (uint64_t)length, NULL, 0, 0);
    pthread_mutex_unlock(&lock);
    return rc;
}

int ftruncate64(int fd, off_t length) __attribute__((alias("ftruncate")));

int fsync(int fd)
{
    REAL(fsync);
    return traced_sync(fd, real_fsync);
}

int fdatasync(int fd)
{
    REAL(fdatasync);
    return traced_sync(fd, real_fdatasync);
}

int fflush(FILE *f)
{
    REAL(fflush);
    int rc = real_fflush(f);
    const char *acks = getenv("IOTRACE_ACKS");
    if (f == stdout && rc == 0 && acks && strcmp(acks, "1") == 0) {
        pthread_mutex_lock(&lock);
        emit(K_ACK, 0, NULL, 0, 0);
        pthread_mutex_unlock(&lock);
    }
    return rc;
}

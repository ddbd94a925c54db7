/*
 * replay.c — a main() for libFuzzer harnesses built without libFuzzer.
 *
 * Every fuzz-<name>.c defines LLVMFuzzerTestOneInput(). Linked with this
 * file instead of -fsanitize=fuzzer, it becomes a plain program that feeds
 * each file named on the command line (or found directly inside a directory
 * named there) to the harness once, in name order. ctest uses it to replay
 * the checked-in corpora with any compiler, and under the sanitizer build.
 *
 * Each input is copied into a heap buffer of exactly its size, so that a read
 * past the end is caught by AddressSanitizer as it would be under libFuzzer.
 * The harness reports a broken invariant by aborting; this driver only fails
 * when it cannot do its job: no argument, a path that does not exist or
 * cannot be read, or a directory that holds no input at all (an empty corpus
 * would make the test pass without testing anything).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the whole file; returns 0 and an owned buffer, or -1. */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        goto fail;
    for (;;) {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                goto fail;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    /* Exact-size copy: one byte past the input is outside the allocation. */
    uint8_t *exact = malloc(n ? n : 1);
    if (exact == NULL) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    *out = exact;
    *len = n;
    return 0;
fail:
    fprintf(stderr, "replay: %s: read error\n", path);
    free(buf);
    fclose(f);
    return -1;
}

static int run_file(const char *path)
{
    uint8_t *data;
    size_t len;
    if (read_file(path, &data, &len) != 0)
        return -1;
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

/* Skips ".", ".." and hidden files such as .gitkeep. */
static int visible(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Replays every regular file directly inside dir; returns how many, or -1. */
static long run_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, visible, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    long done = 0;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int w = snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (rc == 0 && (w < 0 || (size_t)w >= sizeof path)) {
            fprintf(stderr, "replay: %s/%s: path too long\n", dir,
                    names[i]->d_name);
            rc = -1;
        }
        if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) != 0)
                rc = -1;
            else
                done++;
        }
        free(names[i]);
    }
    free(names);
    return rc == 0 ? done : -1;
}

int main(int argc, char **argv)
{
    long total = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            long n = run_dir(argv[i]);
            if (n < 0)
                return 1;
            if (n == 0) {
                fprintf(stderr, "replay: %s: no inputs in directory\n",
                        argv[i]);
                return 1;
            }
            total += n;
        } else {
            if (run_file(argv[i]) != 0)
                return 1;
            total++;
        }
    }
    printf("replay: %ld inputs, no invariant broken\n", total);
    return 0;
}

/*
 * input.c — reading user-supplied input files for put and import: FILE or
 * stdin ('-' or no argument), and reading a whole value under a size limit
 * without ever holding more than limit + 1 bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_input_open(struct cli_ctx *ctx, const char *path, FILE **out)
{
    char shown[CLI_QUOTE_BUF];
    if (path == NULL || strcmp(path, "-") == 0) {
        *out = stdin;
        return 0;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return cli_fail(ctx, AKV_EINVAL, "cannot open %s: %s",
                        cli_quote(path, shown), strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return cli_fail(ctx, AKV_EINVAL, "%s is a directory",
                        cli_quote(path, shown));
    }
    *out = f;
    return 0;
}

void cli_input_close(FILE *f)
{
    if (f && f != stdin)
        fclose(f);
}

static int too_large(struct cli_ctx *ctx, uint64_t size, uint64_t max)
{
    if (size == UINT64_MAX)
        return cli_fail(ctx, AKV_ETOOLARGE,
                        "value is larger than max_value_size (%" PRIu64
                        " bytes)",
                        max);
    return cli_fail(ctx, AKV_ETOOLARGE,
                    "value is %" PRIu64 " bytes, max_value_size is %" PRIu64
                    " bytes",
                    size, max);
}

int cli_input_read(struct cli_ctx *ctx, FILE *f, uint64_t max, char **out,
                   size_t *out_len)
{
    /* A regular file says its size up front: refuse before reading, and
     * allocate once. Anything else grows the buffer up to max + 1 bytes,
     * the first byte past the limit being proof enough. */
    size_t cap = 64 * 1024;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        off_t pos = ftello(f);
        uint64_t left = (uint64_t)st.st_size - (pos > 0 ? (uint64_t)pos : 0);
        if (pos > st.st_size)
            left = 0;
        if (left > max)
            return too_large(ctx, left, max);
        cap = (size_t)left + 1;
    }
    if (cap > max + 1)
        cap = (size_t)max + 1;

    char *buf = malloc(cap);
    if (buf == NULL)
        return cli_fail(ctx, AKV_ENOMEM, "out of memory reading the value");
    size_t len = 0;
    for (;;) {
        if (len == cap) {
            if (len > max) {
                free(buf);
                return too_large(ctx, UINT64_MAX, max);
            }
            size_t ncap = cap * 2 > max + 1 ? (size_t)max + 1 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                free(buf);
                return cli_fail(ctx, AKV_ENOMEM,
                                "out of memory reading the value");
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0 || (len < cap && feof(f)))
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        return cli_fail(ctx, AKV_EINVAL, "cannot read the value: %s",
                        strerror(e ? e : EIO));
    }
    if (len > max) {
        free(buf);
        return too_large(ctx, UINT64_MAX, max);
    }
    *out = buf;
    *out_len = len;
    return 0;
}

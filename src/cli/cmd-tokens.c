/*
 * cmd-tokens.c — `agentkv tokens [FILE…]`: counts the tokens of files (or
 * stdin) the way OpenAI's tiktoken does (SPEC.md §6), or prints their ids.
 *
 * Output, one line per input: "COUNT<TAB>FILE", or with --ids the ids
 * space-separated in place of COUNT. When the only input is stdin (no FILE,
 * or a single '-') the line is the count (or the ids) alone. A FILE that
 * cannot be read is reported and skipped: the other files are still
 * counted, and the exit status is that of the first failure. With --json,
 * one object per input: {"file":...,"encoding":...,"tokens":N} (plus "ids"
 * with --ids, [] for an empty input; no "file" for stdin).
 *
 * Any number of FILEs (so `xargs agentkv tokens` works): they are handled
 * one at a time, each read, counted, printed and freed before the next is
 * opened, so memory follows the largest file, not their number. Each
 * input is bytes, read whole; the library reads any invalid UTF-8 in
 * it as tiktoken sees it when the same bytes are decoded to a string
 * (docs/tokenizer.md). This command never opens a store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agentkv-tokens.h"
#include "cli.h"

const struct cli_opt cmd_tokens_opts[] = {
    {"encoding", "NAME",
     "o200k_base (default; GPT-4o and later) or cl100k_base (GPT-4, "
     "GPT-3.5)"},
    {"ids", NULL, "print the token ids, space-separated, instead of counts"},
    {NULL, NULL, NULL},
};

/* Reads all of f into a malloc'ed buffer. Returns 0, or 1 with the error
 * recorded. */
static int read_all(struct cli_ctx *ctx, FILE *f, const char *name,
                    char **out, size_t *len)
{
    char shown[CLI_QUOTE_BUF];
    size_t cap = 64 * 1024, n = 0;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap);
    if (buf == NULL)
        return cli_fail(ctx, AKV_ENOMEM, "out of memory reading %s",
                        cli_quote(name, shown));
    for (;;) {
        if (n == cap) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                return cli_fail(ctx, AKV_ENOMEM, "out of memory reading %s",
                                cli_quote(name, shown));
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno ? errno : EIO;
        free(buf);
        return cli_fail(ctx, AKV_EINVAL, "cannot read %s: %s",
                        cli_quote(name, shown), strerror(e));
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Formats ids as decimal numbers separated by spaces into a new buffer. */
static char *format_ids(const uint32_t *ids, size_t n, size_t *len)
{
    /* At most 10 digits and a space per id. */
    char *s = n > SIZE_MAX / 11 ? NULL : malloc(n * 11 + 1);
    if (s == NULL)
        return NULL;
    char *p = s;
    for (size_t i = 0; i < n; i++) {
        char tmp[10];
        int k = 0;
        uint32_t v = ids[i];
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        if (i)
            *p++ = ' ';
        while (k)
            *p++ = tmp[--k];
    }
    *len = (size_t)(p - s);
    return s;
}

/* Prints the object of one input. The numbers in it are integers (the
 * count and the ids), never reals. */
static int print_json(struct cli_ctx *ctx, const akv_encoding *enc,
                      const char *name, int want_ids, const uint32_t *ids,
                      size_t count)
{
    json_t *o = json_pack("{s:s,s:I}", "encoding", akv_encoding_name(enc),
                          "tokens", (json_int_t)count);
    if (o && name) {
        json_t *fn = json_string(name);
        if (fn == NULL) {
            json_decref(o);
            return cli_fail(ctx, AKV_EINVAL,
                            "file name is not UTF-8; cannot print it as "
                            "JSON");
        }
        json_object_set_new(o, "file", fn);
    }
    if (o && want_ids) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < count; i++)
            if (json_array_append_new(a, json_integer(ids[i])) != 0) {
                json_decref(a);
                a = NULL;
            }
        if (a == NULL || json_object_set_new(o, "ids", a) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return cli_print_json(ctx, o);
}

/* Counts (or encodes) one input and prints its line. name is NULL for a
 * lone stdin. */
static int one(struct cli_ctx *ctx, const akv_encoding *enc, int want_ids,
               const char *path, const char *name)
{
    FILE *f;
    char *text = NULL;
    size_t len = 0;
    if (cli_input_open(ctx, path, &f))
        return 1;
    int bad = read_all(ctx, f, path ? path : "stdin", &text, &len);
    cli_input_close(f);
    if (bad)
        return 1;

    uint32_t *ids = NULL;
    size_t count = 0;
    int rc = want_ids ? akv_tokens_encode(enc, text, len, &ids, &count)
                      : akv_tokens_count(enc, text, len, &count);
    free(text);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);

    int wrc;
    if (ctx->json) {
        wrc = print_json(ctx, enc, name, want_ids, ids, count);
    } else if (want_ids) {
        size_t n;
        char *s = format_ids(ids, count, &n);
        if (s == NULL) {
            akv_tokens_free(ids);
            return cli_fail(ctx, AKV_ENOMEM, "out of memory");
        }
        wrc = cli_write(ctx, s, n);
        free(s);
        if (wrc == 0)
            wrc = name ? cli_printf(ctx, "\t%s\n", name)
                       : cli_write(ctx, "\n", 1);
    } else {
        wrc = name ? cli_printf(ctx, "%zu\t%s\n", count, name)
                   : cli_printf(ctx, "%zu\n", count);
    }
    akv_tokens_free(ids);
    return wrc;
}

int cmd_tokens(struct cli_ctx *ctx, const struct cli_args *args)
{
    const akv_encoding *enc;
    int rc = akv_encoding_load(cli_flag(args, "encoding"), &enc);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);
    int want_ids = cli_has(args, "ids");

    if (args->npos == 0 ||
        (args->npos == 1 && strcmp(args->pos[0], "-") == 0))
        return one(ctx, enc, want_ids, NULL, NULL);
    int failed = 0;
    for (size_t i = 0; i < args->npos; i++)
        if (one(ctx, enc, want_ids, args->pos[i], args->pos[i]))
            failed = 1;
    return failed;
}

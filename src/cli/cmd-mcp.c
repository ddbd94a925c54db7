/*
 * cmd-mcp.c — `agentkv mcp`: the MCP server on stdio (SPEC.md §7). It
 * reads newline-delimited JSON-RPC messages on stdin, hands each to the
 * MCP layer (src/mcp) and writes each response as one line on stdout.
 * stdout carries protocol messages only; anything for a person goes to
 * stderr. End of input ends the server with exit status 0. At start-up
 * one stderr line says which store it serves (absolute path, created or
 * existing), because clients start it in directories of their own.
 *
 * Between messages the loop wakes about once a second to let the MCP layer
 * look for store changes (akv_mcp_poll: subscribed resources, the
 * instruction listing), whoever made them, and writes the notifications
 * that produced; notifications a request caused go out before its
 * response.
 *
 * The framing is done here, by hand rather than with getline(), so that a
 * client cannot make the process allocate without bound: a line longer
 * than AKV_MCP_MAX_MESSAGE (64 MiB) is skipped up to its newline and
 * answered with one Invalid Request error, and the server reads on. Bytes
 * that are not UTF-8, and anything else that is not JSON, are answered by
 * the layer with a parse error.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mcp.h"

const struct cli_opt cmd_mcp_opts[] = {{NULL, NULL, NULL}};

/* How often the server looks for changes to notify the client of. */
#define MCP_POLL_MS 1000

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes one message and its newline; returns 0, or -1 when stdout is
 * gone (the client has closed the pipe: nothing left to serve). */
static int send_line(const char *text, size_t len)
{
    if (fwrite(text, 1, len, stdout) != len || fputc('\n', stdout) == EOF ||
        fflush(stdout) != 0)
        return -1;
    return 0;
}

/* Writes the notifications the session has queued. */
static int send_notifications(akv_mcp_session *s)
{
    char *n;
    size_t n_len;
    while ((n = akv_mcp_next_notification(s, &n_len)) != NULL) {
        int rc = send_line(n, n_len);
        free(n);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Handles one complete line (without its newline). */
static int serve_line(akv_mcp_session *s, char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return 0; /* blank lines are not messages */
    size_t out_len;
    char *out = akv_mcp_handle(s, line, len, &out_len);
    /* What the request caused (log messages) goes before its answer. */
    if (send_notifications(s) != 0) {
        free(out);
        return -1;
    }
    if (out == NULL)
        return 0;
    int rc = send_line(out, out_len);
    free(out);
    return rc;
}

static int serve_oversized(void)
{
    char msg[128];
    size_t out_len;
    snprintf(msg, sizeof msg,
             "Invalid Request: message longer than %zu bytes",
             AKV_MCP_MAX_MESSAGE);
    char *out = akv_mcp_error_response(AKV_MCP_INVALID_REQUEST, msg,
                                       &out_len);
    int rc = out ? send_line(out, out_len) : 0;
    free(out);
    fprintf(stderr, "agentkv mcp: skipped a message over %zu bytes\n",
            AKV_MCP_MAX_MESSAGE);
    return rc;
}

/* The read loop. Returns 0 at end of input, 1 on a read error. */
static int serve(akv_mcp_session *s)
{
    char chunk[65536];
    char *line = NULL;
    size_t len = 0, cap = 0;
    int skipping = 0; /* inside a line that went over the limit */
    int rc = 0;

    int64_t last_poll = mono_ms();
    for (;;) {
        /* Between messages, look for changes to tell the client of (other
         * processes write the same store) about once a second. */
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        int64_t wait = last_poll + MCP_POLL_MS - mono_ms();
        int ready = poll(&pfd, 1, wait > 0 ? (int)wait : 0);
        if (ready < 0 && errno != EINTR) {
            fprintf(stderr, "agentkv mcp: polling stdin: %s\n",
                    strerror(errno));
            rc = 1;
            break;
        }
        /* Also while messages keep coming: a busy client still hears. */
        if (mono_ms() - last_poll >= MCP_POLL_MS) {
            last_poll = mono_ms();
            akv_mcp_poll(s);
            if (send_notifications(s) != 0)
                goto out;
        }
        if (ready <= 0)
            continue;
        ssize_t got = read(STDIN_FILENO, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "agentkv mcp: reading stdin: %s\n",
                    strerror(errno));
            rc = 1;
            break;
        }
        if (got == 0)
            break;
        size_t pos = 0;
        while (pos < (size_t)got) {
            char *nl = memchr(chunk + pos, '\n', (size_t)got - pos);
            size_t take = nl ? (size_t)(nl - chunk) - pos : (size_t)got - pos;
            if (!skipping && len + take > AKV_MCP_MAX_MESSAGE) {
                skipping = 1; /* drop what we have and the rest of it */
                len = 0;
            }
            if (!skipping && take > 0) {
                if (len + take > cap) {
                    size_t ncap = cap ? cap : 65536;
                    while (ncap < len + take)
                        ncap *= 2;
                    char *p = realloc(line, ncap);
                    if (p == NULL) {
                        fprintf(stderr, "agentkv mcp: out of memory\n");
                        free(line);
                        return 1;
                    }
                    line = p;
                    cap = ncap;
                }
                memcpy(line + len, chunk + pos, take);
                len += take;
            }
            pos += take;
            if (nl == NULL)
                break;
            pos++; /* the newline */
            int wrc = skipping ? serve_oversized() : serve_line(s, line, len);
            skipping = 0;
            len = 0;
            /* A huge line's buffer is not kept for the rest of the run. */
            if (cap > 1024 * 1024) {
                free(line);
                line = NULL;
                cap = 0;
            }
            if (wrc != 0)
                goto out;
        }
    }
    /* A last message without its newline still counts. */
    if (skipping)
        serve_oversized();
    else if (len > 0)
        serve_line(s, line, len);
out:
    free(line);
    return rc;
}

/* 1 when dir already holds an embedded store (its LMDB data file). */
static int store_exists(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/data.mdb", dir);
    return n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0;
}

/* One stderr line naming the store the server opened. An MCP client starts
 * the server in a directory of its choosing, where the default ./.agentkv
 * is seldom the store the user meant; without this line a fresh, empty
 * store there would look like a store whose entries have vanished. */
static void announce_store(struct cli_ctx *ctx, akv_store *store,
                           int existed)
{
    char shown[CLI_QUOTE_BUF];
    const char *backend = akv_store_backend(store);
    if (strcmp(backend, "lmdb") != 0) {
        /* The URL may hold a password: the backend's name only. */
        fprintf(stderr, "agentkv mcp: store on %s (--backend), sandbox %s\n",
                backend, cli_quote(ctx->sandbox, shown));
        return;
    }
    char abs[PATH_MAX];
    const char *dir = realpath(ctx->dir, abs) ? abs : ctx->dir;
    fprintf(stderr, "agentkv mcp: store %s (%s), sandbox %s%s\n", dir,
            existed ? "existing" : "created, empty",
            cli_quote(ctx->sandbox, shown),
            existed ? "" : "; pass --dir to serve another store");
}

int cmd_mcp(struct cli_ctx *ctx, const struct cli_args *args)
{
    (void)args;
    akv_store *store;
    akv_mcp_session *s;
    int existed = store_exists(ctx->dir);
    if (cli_store(ctx, &store))
        return 1;
    announce_store(ctx, store, existed);
    int rc = akv_mcp_session_new(store, ctx->sandbox, 0, &s);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);
    int failed = serve(s);
    akv_mcp_session_free(s);
    if (failed)
        return cli_fail(ctx, AKV_EUNAVAILABLE, "cannot read stdin");
    return 0;
}

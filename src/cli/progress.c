/*
 * progress.c — a one-line progress bar on stderr for long operations
 * (check, import, export), fed by the library's akv_progress_fn callbacks.
 *
 * The bar is redrawn in place with '\r' at most ten times a second (or when
 * the operation completes), and erased with cli_progress_clear() before any
 * other output and at the end, so it never mixes into what a user reads or
 * a script parses. It is drawn only on a terminal; callers decide with
 * cli_progress_wanted() or their own rule. On a terminal without escape
 * sequences (TERM=dumb) or when NO_COLOR is set, it is drawn with '\r' and
 * spaces only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define BAR_WIDTH 30

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cli_progress_wanted(void)
{
    return isatty(STDERR_FILENO) && isatty(STDOUT_FILENO);
}

/* https://no-color.org: NO_COLOR set to anything non-empty; TERM=dumb is
 * a terminal that understands no escape sequence. */
static int plain_terminal(void)
{
    const char *nc = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    return (nc && *nc) || (term && strcmp(term, "dumb") == 0);
}

void cli_progress_init(struct cli_progress *p, const char *label, int enabled)
{
    p->label = label;
    p->enabled = enabled;
    p->drawn = 0;
    p->last_ms = 0;
    p->bytes = 0;
    p->plain = plain_terminal();
    p->width = 0;
}

/* Replaces the line with text: "\r\033[K" + text, or in plain mode "\r" +
 * text padded with spaces over what the previous draw left. */
static void draw(struct cli_progress *p, const char *text)
{
    size_t len = strlen(text);
    if (!p->plain) {
        fprintf(stderr, "\r\033[K%s", text);
        return;
    }
    int pad = p->width > len ? (int)(p->width - len) : 0;
    fprintf(stderr, "\r%s%*s", text, pad, "");
    if (pad)
        fprintf(stderr, "\r%s", text);
    p->width = len;
}

void cli_progress_update(void *ctx, uint64_t done, uint64_t total)
{
    struct cli_progress *p = ctx;
    if (!p->enabled)
        return;
    int64_t t = now_ms();
    int finished = total > 0 && done >= total;
    if (p->drawn && !finished && t - p->last_ms < 100)
        return;
    p->last_ms = t;
    p->drawn = 1;
    /* Failures to draw on stderr are deliberately ignored: the bar is a
     * courtesy, and the operation's outcome does not depend on it. */
    char line[256];
    if (total == 0) {
        char d[32];
        if (p->bytes)
            cli_human_size(done, d);
        else
            snprintf(d, sizeof d, "%" PRIu64, done);
        snprintf(line, sizeof line, "%s %s", p->label, d);
    } else {
        uint64_t d = done > total ? total : done;
        unsigned permille = (unsigned)((double)d * 1000.0 / (double)total);
        int fill = (int)(permille * BAR_WIDTH / 1000);
        char bar[BAR_WIDTH + 1];
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        char ds[32], ts[32];
        if (p->bytes) {
            cli_human_size(d, ds);
            cli_human_size(total, ts);
        } else {
            snprintf(ds, sizeof ds, "%" PRIu64, d);
            snprintf(ts, sizeof ts, "%" PRIu64, total);
        }
        snprintf(line, sizeof line, "%s [%s] %3u%% %s/%s", p->label, bar,
                 permille / 10, ds, ts);
    }
    draw(p, line);
    fflush(stderr);
}

void cli_progress_clear(struct cli_progress *p)
{
    if (!p->enabled || !p->drawn)
        return;
    if (p->plain)
        fprintf(stderr, "\r%*s\r", (int)p->width, "");
    else
        fputs("\r\033[K", stderr);
    fflush(stderr);
    p->drawn = 0;
    p->width = 0;
}

/*
 * progress.c — a one-line progress bar on stderr for long operations
 * (check, import, export), fed by the library's akv_progress_fn callbacks.
 *
 * The bar is redrawn in place with '\r' at most ten times a second (or when
 * the operation completes), and erased with cli_progress_clear() before any
 * other output and at the end, so it never mixes into what a user reads or
 * a script parses. It is drawn only on a terminal; callers decide with
 * cli_progress_wanted() or their own rule.
 */
#include <inttypes.h>
#include <stdio.h>
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

void cli_progress_init(struct cli_progress *p, const char *label, int enabled)
{
    p->label = label;
    p->enabled = enabled;
    p->drawn = 0;
    p->last_ms = 0;
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
    if (total == 0) {
        fprintf(stderr, "\r\033[K%s %" PRIu64, p->label, done);
    } else {
        uint64_t d = done > total ? total : done;
        unsigned permille = (unsigned)((double)d * 1000.0 / (double)total);
        int fill = (int)(permille * BAR_WIDTH / 1000);
        char bar[BAR_WIDTH + 1];
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        fprintf(stderr, "\r\033[K%s [%s] %3u%% %" PRIu64 "/%" PRIu64,
                p->label, bar, permille / 10, d, total);
    }
    fflush(stderr);
}

void cli_progress_clear(struct cli_progress *p)
{
    if (!p->enabled || !p->drawn)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->drawn = 0;
}

/*
 * table.c — aligned text tables for ls, stats and prune. Rows are buffered
 * and printed by cli_table_flush(), which widens each column to fit what it
 * holds; a table flushed several times (ls prints page by page) prints its
 * header once and keeps the widths it has reached, so later pages only
 * widen columns, never narrow them. The last column is never padded, so no
 * line ends in spaces.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_table_init(struct cli_table *t, size_t ncols,
                    const char *const *headers, const char *align)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->headers = headers;
    t->align = align;
    for (size_t c = 0; c < ncols; c++)
        t->width[c] = strlen(headers[c]);
}

int cli_table_row(struct cli_ctx *ctx, struct cli_table *t,
                  const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        char **nc = realloc(t->cells, ncap * t->ncols * sizeof *nc);
        if (nc == NULL)
            return cli_fail(ctx, AKV_ENOMEM, "out of memory");
        t->cells = nc;
        t->cap = ncap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        row[c] = strdup(cells[c]);
        if (row[c] == NULL) {
            while (c-- > 0)
                free(row[c]);
            return cli_fail(ctx, AKV_ENOMEM, "out of memory");
        }
    }
    t->nrows++;
    return 0;
}

static void print_row(struct cli_ctx *ctx, const struct cli_table *t,
                      const char *const *cells)
{
    for (size_t c = 0; c < t->ncols; c++) {
        int w = (int)t->width[c];
        const char *sep = c + 1 < t->ncols ? "  " : "\n";
        if (c + 1 == t->ncols && t->align[c] != 'r')
            cli_printf(ctx, "%s%s", cells[c], sep);
        else if (t->align[c] == 'r')
            cli_printf(ctx, "%*s%s", w, cells[c], sep);
        else
            cli_printf(ctx, "%-*s%s", w, cells[c], sep);
    }
}

int cli_table_flush(struct cli_ctx *ctx, struct cli_table *t)
{
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t n = strlen(t->cells[r * t->ncols + c]);
            if (n > t->width[c])
                t->width[c] = n;
        }
    if (!t->header_done) {
        print_row(ctx, t, t->headers);
        t->header_done = 1;
    }
    for (size_t r = 0; r < t->nrows; r++)
        print_row(ctx, t, (const char *const *)(t->cells + r * t->ncols));
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    t->nrows = 0;
    return ctx->out_errno != 0;
}

void cli_table_free(struct cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

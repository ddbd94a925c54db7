/*
 * testutil.c — see testutil.h.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

char *tu_tempdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;
    if (asprintf(&path, "%s/akv-test-XXXXXX", base && *base ? base : "/tmp") <
        0)
        abort();
    if (mkdtemp(path) == NULL)
        abort();
    return path;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void tu_rmtree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int64_t tu_clock(void *ctx)
{
    return ((tu_clock_state *)ctx)->now_ms;
}

void tu_store_open(tu_store *ts, const akv_config *cfg)
{
    ts->dir = tu_tempdir();
    ts->clock.now_ms = 1795651200000LL; /* 2026-11-26T00:00:00Z */
    int rc = akv_store_open(&ts->store, NULL, ts->dir, cfg, AKV_OPEN_CREATE);
    if (rc != AKV_OK)
        fail_msg("akv_store_open(%s): %s", ts->dir, akv_last_error()->message);
    akv_store_set_clock(ts->store, tu_clock, &ts->clock);
}

void tu_store_close(tu_store *ts)
{
    akv_store_close(ts->store);
    tu_rmtree(ts->dir);
    free(ts->dir);
    ts->store = NULL;
    ts->dir = NULL;
}

/*
 * bench-prompt.c — in-process time of akv_prompt_build in reference mode
 * (and, for scale, with token counting and in inline mode) and of
 * akv_search over the same sets, on an existing store, without process
 * start-up: what a server or an embedding program pays per build or
 * query. bench-prompt.sh compiles and runs it. Target for both on 1,000
 * sets: under 5 ms. The first search indexes every set (term counts are
 * then cached by version); the best of the rest is the steady state.
 *
 * Usage: bench-prompt STORE_DIR [ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentkv-instructions.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double run(akv_store *s, akv_prompt_mode mode, int count, int iters)
{
    akv_prompt_opts o;
    akv_prompt_opts_init(&o);
    o.mode = mode;
    o.count = count;
    double best = 1e9;
    for (int i = 0; i < iters; i++) {
        akv_prompt *p;
        double t0 = now_ms();
        if (akv_prompt_build(s, AKV_DEFAULT_SANDBOX, &o, &p) != AKV_OK) {
            fprintf(stderr, "bench-prompt: %s\n", akv_last_error()->message);
            exit(1);
        }
        double t = now_ms() - t0;
        akv_prompt_free(p);
        best = t < best ? t : best;
    }
    return best;
}

/* Best time of akv_search for query, iters times (the first call, which
 * indexes every set, is reported apart). */
static double search_ms(akv_store *s, const char *query, int iters,
                        double *first, size_t *hits)
{
    akv_search_opts o;
    akv_search_opts_init(&o);
    double best = 1e9;
    for (int i = 0; i <= iters; i++) {
        akv_search_result *r;
        double t0 = now_ms();
        if (akv_search(s, AKV_DEFAULT_SANDBOX, query, strlen(query), &o,
                       &r) != AKV_OK) {
            fprintf(stderr, "bench-prompt: %s\n", akv_last_error()->message);
            exit(1);
        }
        double t = now_ms() - t0;
        *hits = akv_search_matched(r);
        akv_search_free(r);
        if (i == 0)
            *first = t;
        else
            best = t < best ? t : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-prompt STORE_DIR [ITERATIONS]\n");
        return 2;
    }
    int iters = argc > 2 ? atoi(argv[2]) : 200;
    akv_store *s;
    double t0 = now_ms();
    if (akv_store_open(&s, NULL, argv[1], NULL, 0) != AKV_OK) {
        fprintf(stderr, "bench-prompt: %s\n", akv_last_error()->message);
        return 1;
    }
    double open_ms = now_ms() - t0;
    double first = run(s, AKV_PROMPT_REFERENCE, 0, 1);
    printf("in process: store open %.3f ms; reference build: first %.3f ms, "
           "best of %d %.3f ms\n",
           open_ms, first, iters, run(s, AKV_PROMPT_REFERENCE, 0, iters));
    run(s, AKV_PROMPT_REFERENCE, 1, 1); /* loads the tokenizer */
    printf("in process: reference build with counts (prompt + baseline) "
           "best %.3f ms; inline build best %.3f ms\n",
           run(s, AKV_PROMPT_REFERENCE, 1, iters / 10 + 1),
           run(s, AKV_PROMPT_INLINE, 0, iters / 10 + 1));
    double sfirst;
    size_t hits;
    double best = search_ms(s, "area 7 data model checks", iters, &sfirst,
                            &hits);
    printf("in process: search \"area 7 data model checks\" (%zu sets "
           "match): first (indexing) %.3f ms, best of %d %.3f ms\n",
           hits, sfirst, iters, best);
    akv_store_close(s);
    return 0;
}

/*
 * bench-prompt.c — in-process time of akv_prompt_build in reference mode
 * (and, for scale, with token counting and in inline mode) and of
 * akv_search over the same sets, on an existing store, without process
 * start-up: what a server or an embedding program pays per build or
 * query. bench-prompt.sh compiles and runs it. Target for both on 1,000
 * sets: under 5 ms. The first search indexes every set (term counts are
 * then cached by version); the median of the rest is the steady state.
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The times of a loop: its best and its median. */
struct timing {
    double best, median;
};

static struct timing timing_of(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return (struct timing){
        .best = t[0],
        .median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2};
}

static struct timing run(akv_store *s, akv_prompt_mode mode, int count,
                         int iters)
{
    akv_prompt_opts o;
    akv_prompt_opts_init(&o);
    o.mode = mode;
    o.count = count;
    double *t = malloc((size_t)iters * sizeof *t);
    if (t == NULL)
        exit(1);
    for (int i = 0; i < iters; i++) {
        akv_prompt *p;
        double t0 = now_ms();
        if (akv_prompt_build(s, AKV_DEFAULT_SANDBOX, &o, &p) != AKV_OK) {
            fprintf(stderr, "bench-prompt: %s\n", akv_last_error()->message);
            exit(1);
        }
        t[i] = now_ms() - t0;
        akv_prompt_free(p);
    }
    struct timing r = timing_of(t, iters);
    free(t);
    return r;
}

/* Times of akv_search for query, iters times after a first call, which
 * indexes every set and is reported apart. */
static struct timing search_ms(akv_store *s, const char *query, int iters,
                               double *first, size_t *hits)
{
    akv_search_opts o;
    akv_search_opts_init(&o);
    double *t = malloc((size_t)(iters + 1) * sizeof *t);
    if (t == NULL)
        exit(1);
    for (int i = 0; i <= iters; i++) {
        akv_search_result *r;
        double t0 = now_ms();
        if (akv_search(s, AKV_DEFAULT_SANDBOX, query, strlen(query), &o,
                       &r) != AKV_OK) {
            fprintf(stderr, "bench-prompt: %s\n", akv_last_error()->message);
            exit(1);
        }
        t[i] = now_ms() - t0;
        *hits = akv_search_matched(r);
        akv_search_free(r);
    }
    *first = t[0];
    struct timing r = timing_of(t + 1, iters);
    free(t);
    return r;
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
    double first = run(s, AKV_PROMPT_REFERENCE, 0, 1).best;
    struct timing ref = run(s, AKV_PROMPT_REFERENCE, 0, iters);
    printf("in process: store open %.3f ms; reference build: first %.3f ms, "
           "of %d: median %.3f ms, best %.3f ms\n",
           open_ms, first, iters, ref.median, ref.best);
    run(s, AKV_PROMPT_REFERENCE, 1, 1); /* loads the tokenizer */
    struct timing counted = run(s, AKV_PROMPT_REFERENCE, 1, iters / 10 + 1);
    struct timing inl = run(s, AKV_PROMPT_INLINE, 0, iters / 10 + 1);
    printf("in process: reference build with counts (prompt + baseline) "
           "median %.3f ms (best %.3f); inline build median %.3f ms (best "
           "%.3f)\n",
           counted.median, counted.best, inl.median, inl.best);
    double sfirst;
    size_t hits;
    struct timing se = search_ms(s, "area 7 data model checks", iters,
                                 &sfirst, &hits);
    printf("in process: search \"area 7 data model checks\" (%zu sets "
           "match): first (indexing) %.3f ms, of %d: median %.3f ms, best "
           "%.3f ms\n",
           hits, sfirst, iters, se.median, se.best);
    akv_store_close(s);
    return 0;
}

/*
 * bench.h — what the benchmarks in C share: their clock, the load average
 * they print beside every figure, medians of rounds, and a cheap
 * pseudo-random key order. Header-only (static inline functions, so that
 * a program need not use them all), for single-file programs.
 */
#ifndef AGENTKV_BENCH_H
#define AGENTKV_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The clock now_s reads: wall time, or (bench_get's BENCH_CLOCK=cpu) the
 * thread's CPU time, in which time spent descheduled on a machine shared
 * with other work counts against no loop. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The 1-minute load average, or -1 where /proc is missing. */
static inline double loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v (so v[0] is the minimum and v[n-1] the maximum) and returns its
 * median. */
static inline double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* xorshift: a cheap pseudo-random key order that defeats prefetching; the
 * same sequence on every run, one per thread. A number in [0, n). */
static _Thread_local uint64_t rng = 88172645463325252ULL;
static inline unsigned next_key(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

#endif

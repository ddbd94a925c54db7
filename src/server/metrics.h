/*
 * metrics.h — the server's Prometheus counters and their text exposition.
 *
 * Per-request counters (requests, durations, hits and misses, connections)
 * live in one block per worker thread, written only by that thread and read
 * by the scrape with relaxed atomic loads: no lock and no shared cache line
 * on the request path. Rare events (quota rejections, integrity failures,
 * expiry, instruction fetches) may happen on any thread and use shared
 * atomics. The gauges agentkv_entries and agentkv_bytes are read at scrape
 * time from akv_store_usage(), over the whole store.
 */
#ifndef AKV_METRICS_H
#define AKV_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

struct metrics *metrics_new(size_t nroutes, int nworkers);
void metrics_free(struct metrics *m);
struct metrics_local *metrics_local(struct metrics *m, int worker);

/* Worker thread only. route is an index into routes[] (nroutes: none). */
void metrics_request(struct metrics_local *l, unsigned method, size_t route,
                     int status, uint64_t duration_ns);
void metrics_read(struct metrics_local *l, akv_scope scope, int hit);
void metrics_connections(struct metrics_local *l, int64_t delta);

/* Any thread. */
void metrics_quota_rejected(struct metrics *m, akv_scope scope);
void metrics_integrity_failure(struct metrics *m);
void metrics_expired(struct metrics *m, const uint64_t counts[AKV_SCOPE_COUNT]);
/* For the instructions routes: counts one fetch of instruction set name. */
void metrics_instruction_fetch(struct metrics *m, const char *name);

/* Renders the whole exposition into out. Calls akv_stats (blocking). */
void metrics_render(struct metrics *m, akv_store *store, struct obuf *out);

#endif /* AKV_METRICS_H */

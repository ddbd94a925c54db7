/*
 * metrics.c — Prometheus counters of the HTTP server and their text
 * exposition (format 0.0.4: HELP and TYPE lines, then samples).
 *
 * Layout: each worker owns a struct metrics_local whose counters only it
 * writes, with a relaxed atomic load and store (a plain add on x86, but
 * well-defined for the scraping thread that reads them concurrently). The
 * scrape sums the workers. Rare events use atomic adds on shared counters.
 *
 * agentkv_entries and agentkv_bytes are gauges of the entries stored and
 * their value bytes per scope over the whole store, every sandbox and every
 * process's writes, read at scrape time with akv_store_usage() (the quota
 * counters: no scan of the entries). Expired entries count until they are
 * collected.
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef _Atomic uint64_t counter;

static inline void bump(counter *c, uint64_t d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
                          memory_order_relaxed);
}

static inline uint64_t peek(counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* Statuses the server answers with; anything else is counted as "other". */
static const int statuses[] = {200, 201, 202, 204, 304, 400, 401, 403,
                               404, 405, 406, 408, 411, 412, 413, 414,
                               415, 417, 431, 500, 501, 503, 505, 507};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1)

/* Histogram upper bounds in seconds, and the same in nanoseconds. */
static const char *const bucket_le[] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
    "0.01",   "0.025",   "0.05",   "0.1",   "0.25",   "0.5",
    "1",      "2.5",     "5",      "10"};
static const uint64_t bucket_ns[] = {
    100000ull,    250000ull,    500000ull,     1000000ull,
    2500000ull,   5000000ull,   10000000ull,   25000000ull,
    50000000ull,  100000000ull, 250000000ull,  500000000ull,
    1000000000ull, 2500000000ull, 5000000000ull, 10000000000ull};
#define NBUCKET (sizeof bucket_ns / sizeof bucket_ns[0])

struct metrics_local {
    counter *requests;  /* [method][route][status] */
    counter *buckets;   /* [method][route][NBUCKET + 1], not cumulative */
    counter *dur_sum;   /* [method][route], ns */
    counter hits[AKV_SCOPE_COUNT], misses[AKV_SCOPE_COUNT];
    counter conns;      /* open connections (incremented and decremented) */
};

struct instr_count {
    char *name;
    uint64_t count;
};

struct metrics {
    size_t nroutes; /* routes + 1 ("unmatched") */
    int nworkers;
    struct metrics_local *locals;
    counter quota[AKV_SCOPE_COUNT];
    counter expired[AKV_SCOPE_COUNT];
    counter integrity;
    pthread_mutex_t instr_lock;
    struct instr_count *instr;
    size_t ninstr;
};

static size_t status_index(int status)
{
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUS - 1;
}

struct metrics *metrics_new(size_t nroutes, int nworkers)
{
    struct metrics *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->nroutes = nroutes + 1;
    m->nworkers = nworkers;
    pthread_mutex_init(&m->instr_lock, NULL);
    m->locals = calloc((size_t)nworkers, sizeof *m->locals);
    if (m->locals == NULL) {
        free(m);
        return NULL;
    }
    size_t cells = HTTP_METHOD_COUNT * m->nroutes;
    for (int i = 0; i < nworkers; i++) {
        struct metrics_local *l = &m->locals[i];
        l->requests = calloc(cells * NSTATUS, sizeof *l->requests);
        l->buckets = calloc(cells * (NBUCKET + 1), sizeof *l->buckets);
        l->dur_sum = calloc(cells, sizeof *l->dur_sum);
        if (!l->requests || !l->buckets || !l->dur_sum) {
            metrics_free(m);
            return NULL;
        }
    }
    return m;
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    for (int i = 0; m->locals && i < m->nworkers; i++) {
        struct metrics_local *l = &m->locals[i];
        free(l->requests);
        free(l->buckets);
        free(l->dur_sum);
    }
    free(m->locals);
    for (size_t i = 0; i < m->ninstr; i++)
        free(m->instr[i].name);
    free(m->instr);
    pthread_mutex_destroy(&m->instr_lock);
    free(m);
}

struct metrics_local *metrics_local(struct metrics *m, int worker)
{
    return &m->locals[worker];
}

void metrics_request(struct metrics_local *l, unsigned method, size_t route,
                     int status, uint64_t duration_ns)
{
    /* Arrays are [method][route][...] with nroutes + 1 routes ("unmatched"
     * last), the shape metrics_new() gave them. */
    size_t nr = nroutes + 1;
    if (route >= nr)
        route = nr - 1;
    size_t cell = (size_t)http_method_index(method) * nr + route;
    bump(&l->requests[cell * NSTATUS + status_index(status)], 1);
    size_t b = 0;
    while (b < NBUCKET && duration_ns > bucket_ns[b])
        b++;
    bump(&l->buckets[cell * (NBUCKET + 1) + b], 1);
    bump(&l->dur_sum[cell], duration_ns);
}

void metrics_read(struct metrics_local *l, akv_scope scope, int hit)
{
    if ((int)scope < 0 || scope >= AKV_SCOPE_COUNT)
        return;
    bump(hit ? &l->hits[scope] : &l->misses[scope], 1);
}

void metrics_connections(struct metrics_local *l, int64_t delta)
{
    bump(&l->conns, (uint64_t)delta);
}

void metrics_quota_rejected(struct metrics *m, akv_scope scope)
{
    if ((int)scope >= 0 && scope < AKV_SCOPE_COUNT)
        atomic_fetch_add_explicit(&m->quota[scope], 1, memory_order_relaxed);
}

void metrics_integrity_failure(struct metrics *m)
{
    atomic_fetch_add_explicit(&m->integrity, 1, memory_order_relaxed);
}

void metrics_expired(struct metrics *m, const uint64_t counts[AKV_SCOPE_COUNT])
{
    for (int s = 0; s < AKV_SCOPE_COUNT; s++)
        if (counts[s])
            atomic_fetch_add_explicit(&m->expired[s], counts[s],
                                      memory_order_relaxed);
}

/* Distinct names kept; fetches of further names count under "_other", so
 * that keys chosen by clients cannot grow the exposition without bound. */
#define INSTR_NAMES_MAX 1024

void metrics_instruction_fetch(struct metrics *m, const char *name)
{
    pthread_mutex_lock(&m->instr_lock);
    if (m->ninstr >= INSTR_NAMES_MAX - 1) {
        int known = 0;
        for (size_t i = 0; i < m->ninstr && !known; i++)
            known = strcmp(m->instr[i].name, name) == 0;
        if (!known)
            name = "_other";
    }
    for (size_t i = 0; i < m->ninstr; i++)
        if (strcmp(m->instr[i].name, name) == 0) {
            m->instr[i].count++;
            pthread_mutex_unlock(&m->instr_lock);
            return;
        }
    struct instr_count *nv = realloc(m->instr, (m->ninstr + 1) * sizeof *nv);
    char *copy = strdup(name);
    if (nv)
        m->instr = nv;
    if (nv && copy) {
        m->instr[m->ninstr].name = copy;
        m->instr[m->ninstr].count = 1;
        m->ninstr++;
    } else {
        free(copy);
    }
    pthread_mutex_unlock(&m->instr_lock);
}

/* ---- exposition --------------------------------------------------------- */

static void family(struct obuf *o, const char *name, const char *type,
                   const char *help)
{
    ob_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped. */
static void label_value(struct obuf *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            ob_str(o, "\\\\");
        else if (*s == '"')
            ob_str(o, "\\\"");
        else if (*s == '\n')
            ob_str(o, "\\n");
        else
            ob_add(o, s, 1);
    }
}

static const char *route_label(size_t r)
{
    return r < nroutes ? routes[r].pattern : "unmatched";
}

static void scope_counter(struct obuf *o, const char *name, const uint64_t v[])
{
    for (int s = 0; s < AKV_SCOPE_COUNT; s++)
        ob_printf(o, "%s{scope=\"%s\"} %" PRIu64 "\n", name, akv_scope_name(s),
                  v[s]);
}


void metrics_render(struct metrics *m, akv_store *store, struct obuf *o)
{
    size_t nr = m->nroutes, cells = HTTP_METHOD_COUNT * nr;

    family(o, "agentkv_requests_total", "counter",
           "HTTP requests answered, by method, route pattern and status.");
    for (size_t c = 0; c < cells; c++)
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t v = 0;
            for (int w = 0; w < m->nworkers; w++)
                v += peek(&m->locals[w].requests[c * NSTATUS + s]);
            if (v == 0)
                continue;
            ob_printf(o, "agentkv_requests_total{method=\"%s\",route=\"",
                      http_method_name(1u << (c / nr)));
            label_value(o, route_label(c % nr));
            if (s < NSTATUS - 1)
                ob_printf(o, "\",status=\"%d\"} %" PRIu64 "\n", statuses[s], v);
            else
                ob_printf(o, "\",status=\"other\"} %" PRIu64 "\n", v);
        }

    family(o, "agentkv_request_duration_seconds", "histogram",
           "Time from a request's first byte to its response being "
           "handed to the socket, by method and route pattern.");
    for (size_t c = 0; c < cells; c++) {
        uint64_t b[NBUCKET + 1] = {0}, sum = 0, count = 0;
        for (int w = 0; w < m->nworkers; w++) {
            for (size_t k = 0; k <= NBUCKET; k++)
                b[k] += peek(&m->locals[w].buckets[c * (NBUCKET + 1) + k]);
            sum += peek(&m->locals[w].dur_sum[c]);
        }
        for (size_t k = 0; k <= NBUCKET; k++)
            count += b[k];
        if (count == 0)
            continue;
        struct obuf labels = {0};
        ob_printf(&labels, "method=\"%s\",route=\"",
                  http_method_name(1u << (c / nr)));
        label_value(&labels, route_label(c % nr));
        ob_str(&labels, "\"");
        uint64_t cum = 0;
        for (size_t k = 0; k <= NBUCKET; k++) {
            cum += b[k];
            ob_str(o, "agentkv_request_duration_seconds_bucket{");
            ob_add(o, labels.p, labels.len);
            ob_printf(o, ",le=\"%s\"} %" PRIu64 "\n",
                      k < NBUCKET ? bucket_le[k] : "+Inf", cum);
        }
        ob_str(o, "agentkv_request_duration_seconds_sum{");
        ob_add(o, labels.p, labels.len);
        ob_printf(o, "} %.9f\n", (double)sum / 1e9);
        ob_str(o, "agentkv_request_duration_seconds_count{");
        ob_add(o, labels.p, labels.len);
        ob_printf(o, "} %" PRIu64 "\n", count);
        if (labels.oom)
            o->oom = 1;
        ob_free(&labels);
    }

    uint64_t hits[AKV_SCOPE_COUNT] = {0}, misses[AKV_SCOPE_COUNT] = {0};
    uint64_t conns = 0;
    for (int w = 0; w < m->nworkers; w++) {
        for (int s = 0; s < AKV_SCOPE_COUNT; s++) {
            hits[s] += peek(&m->locals[w].hits[s]);
            misses[s] += peek(&m->locals[w].misses[s]);
        }
        conns += peek(&m->locals[w].conns);
    }
    family(o, "agentkv_hits_total", "counter",
           "Reads of one key (GET, HEAD) that found an entry, by scope.");
    scope_counter(o, "agentkv_hits_total", hits);
    family(o, "agentkv_misses_total", "counter",
           "Reads of one key that found no unexpired entry, by scope.");
    scope_counter(o, "agentkv_misses_total", misses);

    uint64_t entries[AKV_SCOPE_COUNT], bytes[AKV_SCOPE_COUNT];
    if (akv_store_usage(store, entries, bytes) == AKV_OK) {
        family(o, "agentkv_entries", "gauge",
               "Entries stored, by scope, over every sandbox (expired ones "
               "until they are collected).");
        scope_counter(o, "agentkv_entries", entries);
        family(o, "agentkv_bytes", "gauge",
               "Value bytes of the entries stored, by scope, over every "
               "sandbox.");
        scope_counter(o, "agentkv_bytes", bytes);
    }

    uint64_t v[AKV_SCOPE_COUNT];
    for (int s = 0; s < AKV_SCOPE_COUNT; s++)
        v[s] = peek(&m->expired[s]);
    family(o, "agentkv_expired_total", "counter",
           "Expired entries removed by background expiry and prune "
           "requests, by scope.");
    scope_counter(o, "agentkv_expired_total", v);
    for (int s = 0; s < AKV_SCOPE_COUNT; s++)
        v[s] = peek(&m->quota[s]);
    family(o, "agentkv_quota_rejections_total", "counter",
           "Writes refused because the namespace would exceed its quota, "
           "by scope.");
    scope_counter(o, "agentkv_quota_rejections_total", v);

    family(o, "agentkv_integrity_failures_total", "counter",
           "Reads refused because the stored bytes failed their SHA-256.");
    ob_printf(o, "agentkv_integrity_failures_total %" PRIu64 "\n",
              peek(&m->integrity));

    family(o, "agentkv_instruction_fetches_total", "counter",
           "Fetches of an instruction set, by name.");
    pthread_mutex_lock(&m->instr_lock);
    for (size_t i = 0; i < m->ninstr; i++) {
        ob_str(o, "agentkv_instruction_fetches_total{name=\"");
        label_value(o, m->instr[i].name);
        ob_printf(o, "\"} %" PRIu64 "\n", m->instr[i].count);
    }
    pthread_mutex_unlock(&m->instr_lock);

    family(o, "agentkv_open_connections", "gauge",
           "Client connections open now.");
    ob_printf(o, "agentkv_open_connections %" PRIu64 "\n", conns);

    akv_health h;
    akv_store_health(store, &h);
    family(o, "agentkv_store_writable", "gauge",
           "1 while the store takes writes, 0 after a write failed for want "
           "of disk space (the reason is on /readyz).");
    ob_printf(o, "agentkv_store_writable %d\n", h.writable ? 1 : 0);
}

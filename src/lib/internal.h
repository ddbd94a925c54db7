/*
 * internal.h — declarations shared by the files of libagentkv and never
 * exported: error reporting helpers, SHA-256 and hex helpers, the clock, and
 * the store structure itself. Front ends must not include this file; tests
 * may, to reach the backend directly.
 */
#ifndef AKV_INTERNAL_H
#define AKV_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <pthread.h>

#include "agentkv.h"
#include "akvx.h"
#include "backend.h"

/* Records code and a printf-style message as the thread's last error and
 * returns code, so that callers can write `return akv_fail(AKV_EINVAL, …)`. */
int akv_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same, recording quota figures too. */
int akv_fail_quota(akv_scope scope, uint64_t used, uint64_t quota,
                   uint64_t would_be, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Clears the thread's last error (code AKV_OK, empty message). */
void akv_error_clear(void);
/* Sets the thread's last error to a copy of e (handing a result computed on
 * one thread to another, as group commit does). */
void akv_error_restore(const akv_error *e);
/* Logs through the hook set by akv_set_log(). */
void akv_log(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* SHA-256 of data into out (32 bytes). */
void akv_sha256(const void *data, size_t len, unsigned char out[32]);
/* CRC-32C of data, continuing crc (0 to start; the result of one call
 * continues into the next, so two pieces give the CRC of both). Uses the
 * CPU's CRC-32C instruction where there is one; akv_crc32c_portable is the
 * same function without it (tests compare the two). */
uint32_t akv_crc32c(uint32_t crc, const void *data, size_t len);
uint32_t akv_crc32c_portable(uint32_t crc, const void *data, size_t len);
/* 64 hex digits (either case) → 32 bytes; AKV_EINVAL, with the error set,
 * otherwise. Hex and UTF-8 themselves are akvx.h's. */
int akv_hex_decode(const char *hex, size_t len, unsigned char out[32]);
/* Validates a metadata JSON text: an object of at most AKV_METADATA_MAX
 * bytes. AKV_OK or AKV_EINVAL with the parser's position. */
int akv_metadata_check(const char *json, size_t len);
/* Validates a content type: 1..255 printable ASCII bytes. */
int akv_content_type_check(const char *ct, size_t len);

/* Copies up to 64 bytes of untrusted input into buf for an error message,
 * replacing anything that is not printable ASCII with \xNN. Returns buf. */
#define AKV_QUOTE_BUF 280
const char *akv_quote(char buf[AKV_QUOTE_BUF], const char *s, size_t len);

/* A growable, always NUL-terminated byte buffer for building text. An
 * allocation failure sets oom and makes later appends no-ops, so callers
 * check once at the end. p stays NULL until something non-empty is added;
 * the owner frees p. */
struct akv_buf {
    char *p;
    size_t len, cap;
    bool oom;
};
void akv_buf_add(struct akv_buf *b, const void *s, size_t n);
void akv_buf_str(struct akv_buf *b, const char *s);

/* A set's description: Agent Skills allows AKV_DESC_LIMIT characters;
 * the splitter writes, and lint asks for, at most AKV_DESC_CONCISE bytes,
 * since every catalog line costs its tokens on every run. */
#define AKV_DESC_LIMIT 1024
#define AKV_DESC_CONCISE 200

/* Reads the instruction files of path (a directory, as `seed` reads it,
 * or one file) and calls fn with each set's name, description (NULL when
 * the front matter has none) and file, in file-name order; stops at the
 * first error, or the first non-zero return of fn, and returns it
 * (seed.c). */
typedef int (*akv_set_visitor)(void *arg, const char *name,
                               const char *description, const char *path);
int akv_sets_visit(const char *path, uint64_t max, akv_set_visitor fn,
                   void *arg);

/* Directories where an install tree keeps <datadir>/agentkv/<sub>,
 * found relative to the shared library holding this code and to the running
 * executable (datadir.c), most specific first; they may not exist. Returns
 * how many of dirs were filled (0 to 2). */
#define AKV_DATA_PATH_MAX 4096
size_t akv_data_dirs(const char *sub, char dirs[2][AKV_DATA_PATH_MAX]);

/* The longest TTL a write may set: 100 years. */
#define AKV_TTL_MAX_SECONDS (100LL * 366 * 86400)

/* Wall-clock now in ms since the epoch. */
int64_t akv_realtime_ms(void);

#define AKV_CONFIG_ADDRESS_MAX 256 /* [server] listen, NUL included */
struct akv_config {
    int64_t ttl[AKV_SCOPE_COUNT];       /* seconds, 0 = never */
    uint64_t quota[AKV_SCOPE_COUNT];    /* bytes */
    int refresh[AKV_SCOPE_COUNT];       /* sliding expiry on read */
    uint64_t max_value_size;
    uint64_t map_size;
    int write_log; /* LMDB: the write log (data.log); -1 auto, taken as 0 */
    uint64_t write_log_size; /* LMDB: bytes a log file takes before the
                              * log moves to its other file */
    /* LMDB: how long an open waits for a process with the write log to
     * hand the store over (store_lock). Not a setting: 10 s, which tests
     * shorten. */
    int64_t handover_ms;
    /* [server]: read by `agentkv serve` only. */
    char listen[AKV_CONFIG_ADDRESS_MAX]; /* ADDR:PORT */
    uint64_t threads;                /* 0 = auto */
    uint64_t max_connections;        /* 0 = from the descriptor limit */
    int64_t header_timeout;          /* seconds, 0 = none of its own */
    uint64_t upload_budget;          /* bytes */
    uint64_t mcp_sessions, mcp_sessions_per_token;
};
void akv_config_defaults(struct akv_config *cfg);

struct akv_store {
    akv_backend *be;
    struct akv_config cfg;
    akv_clock_fn clock;
    void *clock_ctx;
    struct akv_search_cache *search; /* search.c's term counts, made on the
                                        first search; owned */
};
void akv_search_cache_free(struct akv_search_cache *c);

/* Fills m from a backend record; metadata points into rec. */
void akv_meta_fill(akv_meta *m, const char *sandbox, const char *origin,
                   akv_scope scope, const char *key, size_t key_len,
                   const akv_rec *rec);
/* The JSON object of SPEC.md §1 for m (a new reference), or NULL. */
typedef struct json_t json_t;
json_t *akv_meta_json(const akv_meta *m);
/* jansson under memory pressure (util.c): a guard around jansson calls
 * whose result must be dropped if an allocation failed inside (end returns
 * true then); json_loadb() that tells want of memory from bad input
 * (AKV_OK with *out set, AKV_ENOMEM with the thread's last error set, or
 * AKV_EINVAL with jerr filled for the caller's message); json_dumps() that
 * returns NULL rather than text with a character missing. */
void akv_json_guard_begin(void);
bool akv_json_guard_end(void);
struct json_error_t;
int akv_json_parse(const char *text, size_t len, size_t flags, json_t **out,
                   struct json_error_t *jerr);
char *akv_json_dumps(const json_t *o, size_t flags);
/* true when rec has expired at now. */
static inline bool akv_rec_expired(const akv_rec *rec, int64_t now)
{
    return rec->expires_at != 0 && rec->expires_at <= now;
}
/* Checks rec's value against its stored SHA-256. */
bool akv_rec_verify(const akv_rec *rec);

/* Test seam of memory.c: when set, called with its ctx by the memory
 * tool's rename and delete between reading the files they move and applying
 * their batch, so that a test can interleave a concurrent edit there
 * deterministically. NULL (and never set) outside tests. */
extern void (*akv_memory_move_hook)(void *ctx);
extern void *akv_memory_move_hook_ctx;

/* usage.c: the recorded runs and the fetch counts of sandbox (a new
 * reference: an object NAME -> count; empty when nothing is recorded). */
int akv_usage_read(akv_store *store, const char *sandbox, uint64_t *runs,
                   json_t **fetches);
/* The count of name in an object akv_usage_read gave (0 when absent). */
uint64_t akv_usage_fetches(const json_t *fetches, const char *name);

#endif /* AKV_INTERNAL_H */

/*
 * agentkv.h — the whole public C API of libagentkv.
 *
 * agentkv is a durable, scoped key-value cache for AI agents. This header is
 * the only thing front ends (CLI, HTTP server, MCP server) and embedders
 * include. Handles are opaque; every function that can fail returns an int:
 * AKV_OK (0) or a negative AKV_E* code from AKV_ERRNO_MAP. The detail of the
 * last failure on the calling thread (message, quota figures) is available
 * from akv_last_error().
 *
 * Ownership is stated on every prototype:
 *   - "borrowed" memory belongs to the library and lives as long as stated;
 *   - "caller buffer" functions take an in/out length and return
 *     AKV_ENOBUFS (with the needed length written back) when it is too small;
 *   - "owned" results are the caller's and are freed with the paired
 *     akv_*_free() function.
 * The library never aborts on out-of-memory: it returns AKV_ENOMEM.
 *
 * Thread safety: an akv_store may be used from several threads at once.
 * akv_value, akv_list and akv_config handles belong to one thread at a time.
 */
#ifndef AGENTKV_H
#define AGENTKV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * AKV_API marks the public API: libagentkv is built with hidden visibility
 * (-fvisibility=hidden), so only declarations carrying AKV_API are exported
 * from the shared library; everything else in src/lib stays internal.
 * Every header in include/ defines it the same way.
 */
#ifndef AKV_API
#if defined(__GNUC__) || defined(__clang__)
#define AKV_API __attribute__((visibility("default")))
#else
#define AKV_API
#endif
#endif

#define AKV_VERSION_MAJOR 0
#define AKV_VERSION_MINOR 1
#define AKV_VERSION_PATCH 0
#define AKV_VERSION_STRING "0.1.0"

/* Limits of the data model (SPEC.md §1). */
#define AKV_KEY_MAX 255                /* bytes */
#define AKV_SANDBOX_MAX 64             /* bytes */
#define AKV_CONTENT_TYPE_MAX 255       /* bytes */
#define AKV_METADATA_MAX (64 * 1024)   /* bytes of JSON text */
#define AKV_SHA256_HEX 64              /* lowercase hex digits */
#define AKV_DEFAULT_SANDBOX "default"
#define AKV_GLOBAL_SANDBOX "_global"
#define AKV_DEFAULT_CONTENT_TYPE "application/octet-stream"

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * One table governs every interface (SPEC.md §2). Columns:
 *   XX(ENUM, value, name, http_status, cli_exit, message)
 * Codes are append-only: never renumber or reuse a value.
 * unauthorized and forbidden never come out of the library itself; the
 * front ends that authenticate use them. out_of_memory and buffer_too_small
 * are library-level conditions that SPEC.md does not name (docs/decisions.md).
 */
#define AKV_ERRNO_MAP(XX)                                                     \
    XX(EINVAL, -1, "invalid_argument", 400, 2, "invalid argument")           \
    XX(EUNAUTHORIZED, -2, "unauthorized", 401, 1, "missing or unknown token") \
    XX(EFORBIDDEN, -3, "forbidden", 403, 1, "operation not permitted")       \
    XX(ENOTFOUND, -4, "not_found", 404, 1, "no such entry")                  \
    XX(EPRECONDITION, -5, "precondition_failed", 412, 4,                      \
       "precondition failed")                                                 \
    XX(ETOOLARGE, -6, "value_too_large", 413, 3, "value too large")          \
    XX(EQUOTA, -7, "quota_exceeded", 507, 3, "namespace quota exceeded")     \
    XX(EINTEGRITY, -8, "integrity_error", 500, 5,                             \
       "stored bytes fail their SHA-256")                                     \
    XX(EUNAVAILABLE, -9, "unavailable", 503, 6, "store unavailable")         \
    XX(ENOMEM, -10, "out_of_memory", 503, 6, "out of memory")                \
    XX(ENOBUFS, -11, "buffer_too_small", 500, 1, "buffer too small")

typedef enum akv_errno {
    AKV_OK = 0,
#define AKV_XX_ENUM(e, v, name, http, exit, msg) AKV_##e = (v),
    AKV_ERRNO_MAP(AKV_XX_ENUM)
#undef AKV_XX_ENUM
} akv_errno;

/* Static strings; never NULL (unknown codes give "unknown_error"). */
AKV_API const char *akv_err_name(int err);
AKV_API const char *akv_strerror(int err);
/* HTTP status and CLI exit code for err; AKV_OK gives 200 and 0. */
AKV_API int akv_err_http_status(int err);
AKV_API int akv_err_exit_code(int err);
/* Reverse of akv_err_name(); returns 0 (AKV_OK) for an unknown name. */
AKV_API int akv_err_from_name(const char *name);

/*
 * Detail of the most recent failure on the calling thread. The quota
 * fields are set for AKV_EQUOTA (has_quota = 1). Borrowed: thread-local,
 * valid until the next libagentkv call on this thread.
 */
typedef struct akv_error {
    int code;
    char message[512];
    int has_quota;
    char scope[16];
    uint64_t used, quota, would_be;
} akv_error;
AKV_API const akv_error *akv_last_error(void);

/*
 * Log hook for events the library reports by itself (integrity failures,
 * recovered stale readers). Default: one line on stderr. fn == NULL restores
 * the default. Not thread-safe against concurrent calls to itself: set it once
 * at start-up.
 */
typedef void (*akv_log_fn)(void *ctx, const char *level, const char *message);
AKV_API void akv_set_log(akv_log_fn fn, void *ctx);

/* ------------------------------------------------------------------------ */
/* Data model: scopes, keys, sandboxes, durations                           */
/* ------------------------------------------------------------------------ */

typedef enum akv_scope {
    AKV_SCOPE_SYSTEM = 0,
    AKV_SCOPE_INSTRUCTIONS = 1,
    AKV_SCOPE_PROJECT = 2,
    AKV_SCOPE_TASK = 3,
    AKV_SCOPE_ARTIFACTS = 4
} akv_scope;
#define AKV_SCOPE_COUNT 5
#define AKV_SCOPE_ALL (-1) /* "every scope" where an int scope is taken */

/* Exact, case-sensitive match of one of the five names; else AKV_EINVAL. */
AKV_API int akv_scope_parse(const char *name, size_t len, akv_scope *out);
/* Static name, or NULL for an out-of-range value. */
AKV_API const char *akv_scope_name(int scope);
/*
 * The one rule on who writes what (SPEC.md §1): agent tokens write every
 * scope but system, which only admin tokens write. Front ends call this for
 * a caller holding an agent token: AKV_OK, or AKV_EFORBIDDEN with the
 * message "agent tokens may not write scope system" in akv_last_error().
 */
AKV_API int akv_scope_check_agent_write(akv_scope scope);
/* 1 for system and instructions (sandbox first, then _global). */
AKV_API int akv_scope_is_overlay(akv_scope scope);

/* AKV_OK or AKV_EINVAL with the reason in akv_last_error(). */
AKV_API int akv_key_check(const char *key, size_t len);
AKV_API int akv_sandbox_check(const char *sandbox, size_t len);

/*
 * Parses a duration: "45s", "15m", "24h", "7d", a bare integer (seconds),
 * "0" or "never" (both give 0 = never expires). At most 100 years.
 * Writes seconds to *out. AKV_EINVAL for anything else.
 */
AKV_API int akv_duration_parse(const char *s, size_t len, int64_t *out);
/* Parses a byte size: "1048576", "512KiB", "10MiB", "1GiB" (also KB/MB/GB as
 * powers of 1000, and K/M/G as binary). AKV_EINVAL on overflow or junk. */
AKV_API int akv_size_parse(const char *s, size_t len, uint64_t *out);

/*
 * Formats ms since the Unix epoch as RFC 3339 UTC with milliseconds,
 * "2026-11-26T05:27:20.123Z", into buf (at least 25 bytes). Returns buf.
 */
#define AKV_TIME_BUF 32
AKV_API char *akv_time_format(int64_t ms, char buf[AKV_TIME_BUF]);
/* Parses the same form (any fraction digits, 'Z' or numeric offset). */
AKV_API int akv_time_parse(const char *s, size_t len, int64_t *ms);

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

/*
 * Per-scope defaults and store limits. INI form (docs/config.md):
 *
 *   [store]
 *   max_value_size = 50MiB
 *   map_size = 8GiB
 *   [scope.task]
 *   ttl = 24h
 *   quota = 100MiB
 *   refresh_on_read = false
 */
typedef struct akv_config akv_config;

/* Owned: free with akv_config_free(). Starts with SPEC.md defaults. */
AKV_API int akv_config_new(akv_config **out);
AKV_API void akv_config_free(akv_config *cfg);
/* Loads an INI file over the current values. AKV_EINVAL names file and line
 * of the first bad entry and leaves cfg unchanged; AKV_EUNAVAILABLE when the
 * file cannot be read. */
AKV_API int akv_config_load(akv_config *cfg, const char *path);
/* Sets one value as the INI would ("scope.task", "ttl", "2h"). */
AKV_API int akv_config_set(akv_config *cfg, const char *section,
                           const char *name, const char *value);

AKV_API int64_t akv_config_scope_ttl(const akv_config *cfg, akv_scope scope);
AKV_API uint64_t akv_config_scope_quota(const akv_config *cfg, akv_scope scope);
AKV_API int akv_config_scope_refresh(const akv_config *cfg, akv_scope scope);
AKV_API uint64_t akv_config_max_value_size(const akv_config *cfg);
AKV_API uint64_t akv_config_map_size(const akv_config *cfg);
/* [server]: limits of `agentkv serve` (docs/operations.md). Connections:
 * 0 = auto; header timeout: seconds. */
AKV_API uint64_t akv_config_max_connections(const akv_config *cfg);
AKV_API int64_t akv_config_header_timeout(const akv_config *cfg);
AKV_API uint64_t akv_config_upload_budget(const akv_config *cfg);
AKV_API uint64_t akv_config_mcp_sessions(const akv_config *cfg);
AKV_API uint64_t akv_config_mcp_sessions_per_token(const akv_config *cfg);
/* [server] listen (ADDR:PORT, borrowed) and threads (0 = auto): what
 * `serve` uses when its --listen and --threads flags are not given. */
AKV_API const char *akv_config_listen(const akv_config *cfg);
AKV_API uint64_t akv_config_threads(const akv_config *cfg);
/* store.write_log: 1 on, 0 off, -1 auto (on for `agentkv serve`, which
 * sets it; the library takes auto as off). */
AKV_API int akv_config_write_log(const akv_config *cfg);

/* One row per configurable setting, for --help and docs/config.md. */
typedef struct akv_config_item {
    const char *section; /* "store", "server" or "scope.<name>" */
    const char *name;
    const char *default_value;
    const char *help;
} akv_config_item;
/* Borrowed static table; *n receives its length. */
AKV_API const akv_config_item *akv_config_items(size_t *n);

/* ------------------------------------------------------------------------ */
/* Store                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct akv_store akv_store;

/*
 * Opens a store. backend is NULL or "lmdb" for the embedded store in dir, or
 * "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?timeout=DURATION]" for a
 * store in Redis (dir is then unused; a Redis that does not answer yet is
 * not an error here: every operation fails with AKV_EUNAVAILABLE until it
 * does, and the store reconnects by itself). cfg may be NULL for defaults;
 * it is copied. With AKV_OPEN_CREATE a missing directory is created (like
 * mkdir -p); without it a directory that holds no
 * store yet is AKV_EUNAVAILABLE ("nothing has been written here"). Fails with
 * AKV_EUNAVAILABLE (message in akv_last_error()) when the directory cannot be
 * created or read, or holds a corrupt or foreign file; AKV_EINVAL for an
 * unknown backend URL. Owned: close with akv_store_close().
 */
#define AKV_OPEN_CREATE 0x1u
AKV_API int
akv_store_open(akv_store **out, const char *backend, const char *dir,
               const akv_config *cfg, unsigned flags);
AKV_API void akv_store_close(akv_store *store);

/* Backend name ("lmdb" or "redis"), borrowed static string. */
AKV_API const char *akv_store_backend(const akv_store *store);
/* 1 when every call may wait on the network (Redis), up to the backend's
 * timeout, so that an event-loop server runs even reads on worker threads;
 * 0 when reads are served from local memory (LMDB). */
AKV_API int akv_store_is_remote(const akv_store *store);
/* Borrowed: the store's own configuration, valid until close. */
AKV_API const akv_config *akv_store_config(const akv_store *store);

/*
 * Clock injection: the store reads "now" (ms since the epoch) from fn. The
 * default is the real-time clock. Tests set a clock to move time without
 * sleeping. Set it before sharing the store between threads.
 */
typedef int64_t (*akv_clock_fn)(void *ctx);
AKV_API void akv_store_set_clock(akv_store *store, akv_clock_fn fn, void *ctx);
AKV_API int64_t akv_store_now(const akv_store *store);

/*
 * Entry metadata (SPEC.md §1). Strings are NUL-terminated copies inside the
 * struct except `metadata`, whose lifetime each function states.
 * Timestamps are ms since the Unix epoch; expires_at == 0 means never.
 */
typedef struct akv_meta {
    char sandbox[AKV_SANDBOX_MAX + 1]; /* sandbox the caller asked for */
    char origin[AKV_SANDBOX_MAX + 1];  /* namespace that holds the entry */
    akv_scope scope;
    char key[AKV_KEY_MAX + 1];
    size_t key_len;
    uint64_t size;
    char content_type[AKV_CONTENT_TYPE_MAX + 1];
    char sha256[AKV_SHA256_HEX + 1];
    uint64_t version;
    int64_t created_at, updated_at, expires_at;
    const char *metadata; /* JSON object text, not NUL-terminated; or NULL */
    size_t metadata_len;
} akv_meta;

/*
 * Renders m as the JSON object of SPEC.md §1 into a newly allocated,
 * NUL-terminated string. Owned: free() it. NULL on out-of-memory.
 */
AKV_API char *akv_meta_to_json(const akv_meta *m);
/*
 * The same text, without its NUL, written to buf[0..cap) when it fits
 * (buf may be NULL when cap is 0), and its length in *len whether it fits
 * or not: a caller whose buffer was too small (*len > cap) grows it and
 * calls again. For a caller that renders one entry after another into a
 * buffer of its own (the server's PUT answers). AKV_OK; AKV_EINVAL when a
 * field cannot be rendered (text that is not UTF-8, metadata that is not
 * JSON); AKV_ENOMEM.
 */
AKV_API int akv_meta_format_json(const akv_meta *m, char *buf, size_t cap,
                                 size_t *len);

/*
 * JSON values. Front ends that embed agentkv's objects in larger documents
 * built with jansson (the MCP server) take them as values rather than text
 * to parse back. jansson is a dependency of libagentkv already (agentkv.pc);
 * its type is only declared here: include <jansson.h> to use the result.
 * Reals in these values (percentages) are rounded to 3 decimals; dump them
 * with JSON_REAL_PRECISION(AKV_JSON_REAL_DIGITS) so that they print as
 * written (75.2, not 75.200000000000003), as the akv_*_to_json texts do.
 */
#define AKV_JSON_REAL_DIGITS 15
struct json_t;
/* m as the object akv_meta_to_json() renders. Owned: a new reference to
 * json_decref(). NULL on out-of-memory. */
AKV_API struct json_t *akv_meta_to_json_value(const akv_meta *m);


#define AKV_TTL_DEFAULT (-1) /* put: use the scope's default TTL */

typedef struct akv_put_opts {
    int64_t ttl;              /* seconds; AKV_TTL_DEFAULT; 0 = never */
    const char *content_type; /* NULL = application/octet-stream */
    const char *metadata;     /* JSON object text (<= 64 KiB) or NULL */
    size_t metadata_len;
    const char *if_match;     /* 64-hex SHA-256 the current entry must have */
    int create_only;          /* fail if an unexpired entry exists */
} akv_put_opts;
/* Initialises opts to "scope default TTL, no conditions". */
AKV_API void akv_put_opts_init(akv_put_opts *opts);

/*
 * Writes a value. Validates sandbox, key, size (AKV_ETOOLARGE), metadata
 * (a JSON object, AKV_EINVAL), content type; enforces preconditions
 * (AKV_EPRECONDITION) and the namespace quota (AKV_EQUOTA with figures in
 * akv_last_error()). A failed put changes nothing. On success the write is
 * durable (on disk) before this returns.
 * out (may be NULL) receives the new entry's metadata; out->metadata points
 * at opts->metadata (borrowed from the caller). *created (may be NULL) is 1
 * when no unexpired entry existed before.
 */
AKV_API int akv_put(akv_store *store, const char *sandbox, akv_scope scope,
                    const char *key, size_t key_len, const void *value,
                    size_t value_len, const akv_put_opts *opts, akv_meta *out,
                    int *created);

/*
 * Several independent puts: for each request, what akv_put with its
 * arguments would do and give (rc, error, meta, created). Each put is
 * atomic and durable on its own, not together with the others (for that,
 * akv_batch_write). On a remote store they travel in one round trip per
 * node (pipelined), which is why the server gathers the small PUTs of an
 * event-loop turn into one call. Returns AKV_EINVAL when reqs is NULL with
 * n > 0, else AKV_OK: the outcomes are in the requests.
 */
typedef struct akv_put_req {
    const char *sandbox;       /* in */
    akv_scope scope;           /* in */
    const char *key;           /* in */
    size_t key_len;            /* in */
    const void *value;         /* in */
    size_t value_len;          /* in */
    const akv_put_opts *opts;  /* in, may be NULL */
    int rc;                    /* out */
    int created;               /* out */
    akv_meta meta;             /* out, on AKV_OK (metadata borrowed) */
    akv_error error;           /* out */
} akv_put_req;
AKV_API int akv_put_many(akv_store *store, akv_put_req *reqs, size_t n);

/*
 * akv_put_many in two halves, for a caller with other work to do while
 * the store works (the server's event loop goes on reading requests while
 * Redis runs a batch of PUTs, or while the embedded store commits them).
 * akv_put_many_start checks the requests and sends them, without waiting
 * for the store's answers, and gives *flight (AKV_OK), or AKV_ENOMEM /
 * AKV_EINVAL with nothing done and *flight NULL. reqs, and everything the
 * requests point to, stay the caller's and must stay valid and unchanged
 * until akv_put_many_finish. akv_put_flight_fd gives a descriptor that
 * becomes readable when the answers arrive, or -1 when there is nothing
 * to wait for (a failure before sending, puts that go one at a time, a
 * store out of descriptors); the descriptor is the store's, and the
 * caller stops watching it before akv_put_many_finish (the store may give
 * it to a later flight). In *timeout_ms (may be NULL) how long
 * the answers may take, -1 for no limit (the embedded store: its commit
 * runs on a thread of the library's, and a queued put cannot be taken
 * back). akv_put_many_finish (call it exactly once, and before
 * akv_close; it frees the flight) takes the answers, waiting for any
 * still missing, and fills every request's outcome exactly as
 * akv_put_many would: no put is acknowledged before the store answered
 * for it. timed_out non-zero: the caller waited *timeout_ms for the
 * descriptor in vain; on Redis the puts still unanswered fail with
 * AKV_EUNAVAILABLE (their outcome unknown, as when a connection is lost)
 * and their connection is closed. Puts of two flights may be applied in
 * either order: a caller that needs one after the other finishes the
 * first before it starts the second.
 */
typedef struct akv_put_flight akv_put_flight;
AKV_API int akv_put_many_start(akv_store *store, akv_put_req *reqs,
                               size_t n, akv_put_flight **flight);
AKV_API int akv_put_flight_fd(const akv_put_flight *flight,
                              int64_t *timeout_ms);
AKV_API void akv_put_many_finish(akv_put_flight *flight, int timed_out);

/*
 * Reads an entry, verifying its SHA-256 (AKV_EINTEGRITY on mismatch, never
 * served). Overlay scopes read the sandbox first, then _global. Expired
 * entries are AKV_ENOTFOUND.
 *
 * Borrowed form: *out is a handle whose value bytes and metadata point into
 * the store (for LMDB, the memory map). They stay valid, and the calling
 * thread holds a read snapshot, until akv_value_release(). Release promptly.
 */
typedef struct akv_value akv_value;
AKV_API int akv_get(akv_store *store, const char *sandbox, akv_scope scope,
                    const char *key, size_t key_len, akv_value **out);
/* Borrowed from the handle. */
AKV_API const void *akv_value_data(const akv_value *v, size_t *len);
AKV_API const akv_meta *akv_value_meta(const akv_value *v);
AKV_API void akv_value_release(akv_value *v);

/*
 * Several reads at once: each request as akv_get would answer it, with the
 * backend's round trips shared (on Redis, one pipelined round trip for all
 * of them, and one more for overlay reads that fall through to _global).
 * The inputs are borrowed for the call. Each request's outcome is in its
 * rc, value (owned on AKV_OK: akv_value_release()) and error (what
 * akv_last_error() would hold after akv_get). Returns AKV_OK, or AKV_EINVAL
 * when reqs is NULL with n > 0.
 */
typedef struct akv_get_req {
    const char *sandbox; /* in */
    akv_scope scope;     /* in */
    const char *key;     /* in */
    size_t key_len;      /* in */
    int rc;              /* out */
    akv_value *value;    /* out */
    akv_error error;     /* out */
} akv_get_req;
AKV_API int akv_get_many(akv_store *store, akv_get_req *reqs, size_t n);

/*
 * Caller-buffer form: copies the value into buf. *len is buf's size on
 * entry and the value's size on return; AKV_ENOBUFS when buf is too small
 * (nothing copied, *len = needed). meta (may be NULL) is filled, with
 * meta->metadata = NULL (use akv_get for the metadata JSON).
 */
AKV_API int
akv_get_copy(akv_store *store, const char *sandbox, akv_scope scope,
             const char *key, size_t key_len, void *buf, size_t *len,
             akv_meta *meta);

/* Deletes the sandbox's own entry (never _global's through an overlay).
 * AKV_ENOTFOUND when there is no unexpired entry. */
AKV_API int akv_del(akv_store *store, const char *sandbox, akv_scope scope,
                    const char *key, size_t key_len);

/* ------------------------------------------------------------------------ */
/* Batch writes                                                             */
/* ------------------------------------------------------------------------ */

/*
 * One operation of a batch: a put (del == 0) with the same options as
 * akv_put(), or a delete of the sandbox's own entry (del == 1; value and
 * opts are ignored but for opts.if_match: when set, the delete is
 * conditional, and the batch fails with AKV_EPRECONDITION, changing
 * nothing, unless the entry exists with that SHA-256).
 */
typedef struct akv_batch_op {
    int del;
    const char *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    akv_put_opts opts;
} akv_batch_op;

/*
 * Applies n operations on one namespace (sandbox, scope) in one
 * transaction: all of them or none. Every operation is validated as
 * akv_put() / akv_del() validate (AKV_EINVAL, AKV_ETOOLARGE) before anything
 * is written, and a key may appear only once in a batch. Puts are ordinary
 * writes: versions grow, timestamps are now, TTLs and quotas apply (the
 * quota is checked against the namespace as the batch leaves it, operation
 * by operation); preconditions are checked per operation. Unlike akv_del(),
 * deleting a key that does not exist is not an error (unless the delete
 * carries if_match). A failure names the operation's key in the message,
 * and changes nothing.
 *
 * out (may be NULL) is an array of n metadata records: for a put, the new
 * entry (out[i].metadata borrowed from ops[i].opts.metadata); for a delete,
 * sandbox, scope and key with version 0.
 */
AKV_API int akv_batch_write(akv_store *store, const char *sandbox,
                            akv_scope scope, const akv_batch_op *ops, size_t n,
                            akv_meta *out);

/* ------------------------------------------------------------------------ */
/* Listing                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct akv_list_opts {
    const char *prefix;   /* key prefix or NULL */
    size_t prefix_len;
    size_t limit;         /* 0 = AKV_LIST_DEFAULT_LIMIT; capped at _MAX */
    const char *cursor;   /* next_cursor of the previous page, or NULL */
    size_t cursor_len;
    int include_expired;  /* 1: expired entries are listed too */
} akv_list_opts;
#define AKV_LIST_DEFAULT_LIMIT 1000
#define AKV_LIST_MAX_LIMIT 10000
/* A page also stops at about this many bytes of metadata (each item counts
 * its key, content type and metadata JSON plus AKV_LIST_ITEM_BYTES for the
 * fixed fields), whatever the limit, so that a page of entries with large
 * metadata stays a few MiB; it always holds at least one item, and
 * next_cursor is set when entries remain. */
#define AKV_LIST_MAX_BYTES (4u << 20)
#define AKV_LIST_ITEM_BYTES 256

typedef struct akv_list akv_list;
/*
 * Lists entries in key order. Overlay scopes merge the sandbox and _global
 * (the sandbox wins on equal keys; meta.origin tells which). The cursor is
 * opaque to callers (it is the last key returned). A page holds at most
 * limit items and about AKV_LIST_MAX_BYTES of metadata. Entries whose
 * stored record is damaged are skipped (and logged), not an error of the
 * whole list: akv_list_damaged() counts them. Owned: akv_list_free().
 */
AKV_API int akv_list_entries(akv_store *store, const char *sandbox,
                             akv_scope scope, const akv_list_opts *opts,
                             akv_list **out);
AKV_API size_t akv_list_count(const akv_list *list);
/* Borrowed from the list; metadata lives as long as the list. */
AKV_API const akv_meta *akv_list_item(const akv_list *list, size_t i);
/* Borrowed NUL-terminated cursor for the next page, or NULL at the end. */
AKV_API const char *akv_list_next_cursor(const akv_list *list);
/* Damaged entries met (and skipped) while this page was read; run
 * akv_check() to list them all. */
AKV_API size_t akv_list_damaged(const akv_list *list);
AKV_API void akv_list_free(akv_list *list);

/* ------------------------------------------------------------------------ */
/* Maintenance                                                              */
/* ------------------------------------------------------------------------ */

typedef struct akv_scope_stats {
    akv_scope scope;
    uint64_t entries;       /* unexpired entries in the sandbox's namespace */
    uint64_t bytes;         /* their stored bytes, what the quota counts:
                               key + value + metadata + content type + a
                               fixed record header per entry */
    uint64_t expired;       /* expired entries not yet collected */
    uint64_t expired_bytes;
    uint64_t quota;
    int64_t default_ttl;    /* seconds, 0 = never */
    uint64_t hits, misses;  /* reads of this scope: whole store, every
                               process */
} akv_scope_stats;
/* Fills out[] with one row per scope (scope == AKV_SCOPE_ALL) or one row;
 * *n receives the row count. */
AKV_API int akv_stats(akv_store *store, const char *sandbox, int scope,
              akv_scope_stats out[AKV_SCOPE_COUNT], size_t *n);
/* The share of the quota the scope uses, in percent, rounded to 3
 * decimals (0 without a quota): the figure every front end shows. */
AKV_API double akv_stats_used_percent(const akv_scope_stats *s);
/*
 * rows[0..n) as the object `agentkv stats --json`, GET .../stats and the
 * cache_stats tool return, keyed by scope name:
 * {"task":{"entries","bytes","quota","used_percent","expired",
 * "expired_bytes","hits","misses","default_ttl"},...}.
 * @note Owned: akv_stats_to_json returns a NUL-terminated string to free(),
 * akv_stats_to_json_value a new reference to json_decref(). NULL on
 * out-of-memory.
 */
AKV_API char *akv_stats_to_json(const akv_scope_stats *rows, size_t n);
AKV_API struct json_t *akv_stats_to_json_value(const akv_scope_stats *rows,
                                               size_t n);

/* Store-wide totals per scope over every sandbox: entries stored and their
 * stored bytes (as akv_scope_stats.bytes), expired entries included until
 * they are collected (the figures quotas are counted from). Cheap: one row
 * per namespace, no scan of the entries. */
AKV_API int akv_store_usage(akv_store *store, uint64_t entries[AKV_SCOPE_COUNT],
                            uint64_t bytes[AKV_SCOPE_COUNT]);

/* The sandboxes that hold entries (expired ones included until they are
 * collected), _global among them, each once, in byte order. Cheap like
 * akv_store_usage. *out is an owned NULL-terminated array of *n strings:
 * akv_sandboxes_free(). */
AKV_API int akv_sandboxes(akv_store *store, char ***out, size_t *n);
AKV_API void akv_sandboxes_free(char **list);

/*
 * Whether the store takes writes now, for readiness probes. writable is 0
 * after a write failed for want of disk space, with the reason in reason
 * ("disk full: no space left on device writing DIR/data.mdb ..."), until a
 * write succeeds again or the filesystem has gained at least 1 MiB of free
 * space since that failure; reads go on meanwhile. note tells of a store
 * that works but degraded (for instance hit/miss counters kept per process
 * because the shared counters file could not be allocated), else "".
 * Caller buffer: *out is filled in; no allocation, no store I/O beyond one
 * statvfs(2). Backends without such knowledge (Redis) report writable = 1.
 */
typedef struct akv_health {
    int writable;
    char reason[512]; /* "" when writable */
    char note[512];   /* "" when nothing to say */
} akv_health;
AKV_API int akv_store_health(akv_store *store, akv_health *out);

/*
 * A change generation: *out moves (grows) whenever a write is committed to
 * the store, by this process or any other on the same files (LMDB: the id
 * of the last committed transaction, read from the shared map: no
 * transaction, no lock, no write). Equal values mean nothing was written
 * in between, so a watcher polls it and looks closer only when it moved.
 * AKV_EUNAVAILABLE when the backend keeps none (Redis): look every time.
 */
AKV_API int akv_store_generation(akv_store *store, uint64_t *out);

/* Removes expired entries. sandbox NULL = every sandbox; scope may be
 * AKV_SCOPE_ALL. pruned[] (indexed by scope) receives the counts. */
AKV_API int akv_prune(akv_store *store, const char *sandbox, int scope,
              uint64_t pruned[AKV_SCOPE_COUNT]);
/*
 * The counts akv_prune() gave for scope (or every scope, AKV_SCOPE_ALL) as
 * {"pruned":{"task":3,...}}, the body of `agentkv prune --json`, POST
 * .../prune and the prune_cache tool.
 * @note Owned, as for akv_stats_to_json(). NULL on out-of-memory or a scope
 * out of range.
 */
AKV_API char *akv_prune_to_json(const uint64_t pruned[AKV_SCOPE_COUNT],
                                int scope);
AKV_API struct json_t *
akv_prune_to_json_value(const uint64_t pruned[AKV_SCOPE_COUNT], int scope);

/* Deletes every entry (expired or not) of one scope in the sandbox's own
 * namespace. *deleted (may be NULL) receives the unexpired count. */
AKV_API int akv_clear(akv_store *store, const char *sandbox, akv_scope scope,
                      uint64_t *deleted);

/* Progress callback for long operations: done of total units (total may be
 * 0 when unknown). Called from the calling thread. */
typedef void (*akv_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/*
 * Verifies the SHA-256 of every stored entry (expired ones too) in every
 * sandbox, and that every record decodes (header, content type and
 * metadata intact). bad (may be NULL) is called once per failing entry
 * (for a record that does not decode, only sandbox, scope and key are
 * set). Returns
 * AKV_EINTEGRITY if any failed, else AKV_OK. checked/failed may be NULL.
 */
typedef void (*akv_check_fn)(void *ctx, const akv_meta *bad);
AKV_API int akv_check(akv_store *store, akv_check_fn bad,
                      akv_progress_fn progress, void *ctx, uint64_t *checked,
                      uint64_t *failed);

/*
 * Export: one JSON object per line (JSON Lines), the entry metadata of
 * SPEC.md §1 plus "value" (base64). Unexpired entries only, in
 * (scope, sandbox, key) order. sandbox NULL = every sandbox; scope may be
 * AKV_SCOPE_ALL. *count (may be NULL) receives the number of lines.
 * A damaged entry (its value fails its SHA-256 or its record does not
 * decode) is skipped with a warning logged, the others are exported, and
 * the call then returns AKV_EINTEGRITY saying how many were skipped.
 */
AKV_API int akv_export(akv_store *store, const char *sandbox, int scope,
                       FILE *out, akv_progress_fn progress, void *ctx,
                       uint64_t *count);
/*
 * Import: reads what akv_export wrote and restores each entry exactly
 * (version, timestamps, metadata, content type). Every line is validated
 * (key, sandbox, scope, base64, SHA-256 of the value, size; timestamps
 * from 1970 to 9999, no leap second :60) before anything is written: an
 * invalid line changes nothing, and the message names the line. Existing
 * entries with the same key are replaced. Quotas apply.
 *
 * The entries are then written one namespace (sandbox and scope) at a
 * time, in the order each namespace first appears in the input, each
 * namespace in one transaction (SPEC.md §8: no write spans namespaces, so
 * that a Redis Cluster or a sharding proxy never sees a cross-slot
 * write). The first namespace that fails stops the import: the namespaces
 * before it are written, it and those after it are not, and the error
 * message says so. *count (may be NULL) receives the entries written.
 */
AKV_API int akv_import(akv_store *store, FILE *in, akv_progress_fn progress,
                       void *ctx, uint64_t *count);

/* What became of one namespace of an import (akv_import_each). */
typedef enum akv_import_status {
    AKV_IMPORT_WRITTEN, /* every entry of the namespace written */
    AKV_IMPORT_FAILED,  /* none written; rc and the thread's last error say
                           why */
    AKV_IMPORT_NOT_TRIED /* none written: an earlier namespace failed */
} akv_import_status;

typedef struct akv_import_ns {
    char sandbox[AKV_SANDBOX_MAX + 1];
    akv_scope scope;
    uint64_t entries; /* lines of the input in this namespace */
    akv_import_status status;
    int rc;           /* AKV_OK, or the error of the failed namespace */
    char message[512]; /* the failed namespace's error message, or "" */
} akv_import_ns;

/* Called once per namespace when the import is over, in the order they
 * were written: the written ones, then the failed one and the ones not
 * tried. */
typedef void (*akv_import_fn)(void *ctx, const akv_import_ns *ns);

/* akv_import, reporting each namespace to report (may be NULL). */
AKV_API int akv_import_each(akv_store *store, FILE *in,
                            akv_progress_fn progress, void *ctx,
                            akv_import_fn report, void *report_ctx,
                            uint64_t *count);

/* Consistent hot copy of the embedded store into directory path (created;
 * must not already hold a store), compacted. progress (may be NULL) is
 * called with bytes written so far of an estimated total. AKV_EINVAL on
 * backends without it. */
AKV_API int akv_backup(akv_store *store, const char *path,
                       akv_progress_fn progress, void *ctx);

/* ------------------------------------------------------------------------ */
/* Anthropic memory tool                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Executes one command of Anthropic's client-side memory tool
 * (memory_20250818), given as its JSON input ({"command":"view","path":
 * "/memories"}, create, str_replace, insert, delete, rename), against the
 * namespace (sandbox, scope). The path /memories/REL is the key
 * "memories/REL"; directories are the key prefixes. Paths must lie under
 * /memories, without empty, "." or ".." segments, and map to valid keys.
 * str_replace and insert are compare-and-swap on the entry's SHA-256
 * (retried when another writer got in between, AKV_EPRECONDITION if it
 * keeps happening: never a lost update); create never overwrites; rename
 * and a directory delete are one batch (all or nothing, at most 1000 files).
 * Scopes that agents may not write (akv_scope_check_agent_write) are
 * AKV_EFORBIDDEN. command is borrowed for the call.
 *
 * Returns AKV_OK with the tool's result text in *out, or an error code of
 * SPEC.md §2 (AKV_ENOTFOUND for a missing path, AKV_EPRECONDITION for an
 * existing destination or an old_str that is absent or not unique,
 * AKV_EINVAL for a bad path or command, AKV_EQUOTA, AKV_ETOOLARGE, ...)
 * with the tool's error text ("Error: ...") in *out, to hand back to the
 * model, and in akv_last_error(). Owned: free(*out); *out is NULL only
 * when memory ran out or out was NULL.
 *
 * A command may be up to twice max_value_size plus
 * AKV_MEMORY_COMMAND_SLACK bytes (AKV_ETOOLARGE beyond): room for a file of
 * max_value_size, or an old_str and a new_str, with their JSON escapes and
 * the envelope. Front ends that read commands bound their input by it.
 */
#define AKV_MEMORY_COMMAND_SLACK (64u * 1024)
AKV_API int akv_memory(akv_store *store, const char *sandbox, akv_scope scope,
                       const char *command, size_t command_len, char **out);

/* ------------------------------------------------------------------------ */
/* Search                                                                   */
/* ------------------------------------------------------------------------ */

#define AKV_SEARCH_QUERY_MAX 1024   /* bytes of query */
#define AKV_SEARCH_TERMS_MAX 32     /* distinct words in a query */
#define AKV_SEARCH_DOCS_MAX 10000   /* entries searched per query */
#define AKV_SEARCH_LIMIT_DEFAULT 10
#define AKV_SEARCH_LIMIT_MAX 100

typedef struct akv_search_opts {
    int scope;    /* akv_scope to search; AKV_SCOPE_INSTRUCTIONS by default */
    size_t limit; /* results, 1..AKV_SEARCH_LIMIT_MAX (default 10) */
} akv_search_opts;
/* Scope instructions, limit AKV_SEARCH_LIMIT_DEFAULT. */
AKV_API void akv_search_opts_init(akv_search_opts *opts);

/* One result. Strings are NUL-terminated and borrowed from the result. */
typedef struct akv_search_hit {
    const char *name;        /* the key */
    const char *origin;      /* sandbox that holds it (overlay: _global) */
    const char *description; /* metadata.description, "" when none */
    uint64_t version;
    uint64_t tokens;         /* metadata.tokens (instruction sets), or 0 */
    double score;            /* BM25, > 0 */
} akv_search_hit;

typedef struct akv_search_result akv_search_result;
/*
 * Full-text ranked search (BM25) over the name, description and body of
 * the entries of opts->scope that sandbox sees (overlay scopes: the
 * sandbox's own entries over _global's, as akv_list_entries shows them).
 * Bodies that are not UTF-8 are not searched (their name and description
 * are). Results are ordered by score, then name; the same store and query
 * give the same order. Tokenisation and scoring: src/lib/search.c and
 * docs/prompts.md ("Search"). At most AKV_SEARCH_DOCS_MAX entries are
 * searched (akv_search_truncated tells).
 *
 * Errors: AKV_EINVAL for a query that is longer than AKV_SEARCH_QUERY_MAX
 * bytes, not UTF-8, without a word or with more than AKV_SEARCH_TERMS_MAX
 * distinct words, a bad scope or limit; store errors.
 * @note Owned: free with akv_search_free().
 */
AKV_API int akv_search(akv_store *store, const char *sandbox,
                       const char *query, size_t query_len,
                       const akv_search_opts *opts, akv_search_result **out);
AKV_API size_t akv_search_count(const akv_search_result *result);
/* Borrowed; NULL when i is out of range. */
AKV_API const akv_search_hit *akv_search_item(const akv_search_result *result,
                                              size_t i);
/* Entries that held a query word (results before the limit). */
AKV_API size_t akv_search_matched(const akv_search_result *result);
/* 1 when the scope held more than AKV_SEARCH_DOCS_MAX entries. */
AKV_API int akv_search_truncated(const akv_search_result *result);
AKV_API void akv_search_free(akv_search_result *result);
/*
 * The result as `agentkv search --json`, GET .../search and the
 * search_instructions tool give it:
 * {"sandbox","scope","matched","searched","truncated","items":[{"name",
 * "origin","version","score","description"[,"tokens"]},…]}, scores rounded
 * to 3 decimals; "tokens" for scope instructions.
 * @note Owned: a string to free() / a new reference to json_decref(); NULL
 * on out-of-memory.
 */
AKV_API char *akv_search_to_json(const akv_search_result *result,
                                 const char *sandbox, int scope);
AKV_API struct json_t *akv_search_to_json_value(const akv_search_result *result,
                                                const char *sandbox,
                                                int scope);

#ifdef __cplusplus
}
#endif
#endif /* AGENTKV_H */

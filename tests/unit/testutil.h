/*
 * testutil.h — helpers shared by the unit tests: temporary store
 * directories, a settable clock, and assertion macros that print both sides.
 */
#ifndef AKV_TESTUTIL_H
#define AKV_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentkv.h"

/* A fresh empty directory under $TMPDIR (or /tmp); owned: free() it after
 * tu_rmtree(). */
char *tu_tempdir(void);
/* rm -rf path. */
void tu_rmtree(const char *path);

/* A deterministic pseudo-random number (xorshift64): *s is the state,
 * never 0. */
uint32_t tu_rand(uint64_t *s);

/* Loads a made-up encoding into *d (bpe.h; akv_bpe_data_free() it): the
 * token of rank r is tok[r], len[r] bytes, for r < n. It is written as
 * dir/syn.json, a tiktoken JSON file (pattern "x", no special tokens), and
 * when compile is set compiled to dir/syn.bin, which is then what loads;
 * an earlier dir/syn.bin is removed first. */
struct akv_bpe_data;
void tu_load_made_up(const char *dir, size_t n,
                     const unsigned char *const *tok, const size_t *len,
                     int compile, struct akv_bpe_data *d);

/* A clock tests move by hand: install with
 *   akv_store_set_clock(store, tu_clock, &clk); */
typedef struct tu_clock_state { int64_t now_ms; } tu_clock_state;
int64_t tu_clock(void *ctx);

/* The backend URL the conformance suite runs the store tests against:
 * $AKV_TEST_BACKEND (tests/redis/with-redis.sh sets it to a private
 * redis-server), or NULL for the embedded LMDB store. */
const char *tu_backend(void);
/* True when the tests run on the embedded store with its write log
 * (AKV_TEST_WRITE_LOG=1): the store then refuses a second opener, so
 * tests that open it twice, or run the CLI on it, skip. */
bool tu_write_log(void);
/* Skips the calling test unless it runs on the embedded backend (for tests
 * of LMDB's own files: backup, damaged data.mdb). */
#define tu_lmdb_only()                                                       \
    do {                                                                     \
        if (tu_backend() != NULL) {                                          \
            print_message("skipped on %s: LMDB only\n", tu_backend());       \
            skip();                                                          \
        }                                                                    \
    } while (0)
/* Kinds of damage (and rewrites that are not damage) tu_damage_record
 * does to a stored record, below the library. */
typedef enum tu_damage {
    TU_DAMAGE_VALUE,       /* a bit flipped in the last value byte */
    TU_DAMAGE_TRUNCATE,    /* record cut to 10 bytes, inside its header */
    TU_DAMAGE_HEADER,      /* a bit flipped in the version field */
    TU_DAMAGE_METADATA,    /* a bit flipped in the first metadata byte (the
                              record must have metadata) */
    TU_REWRITE_V1,         /* no damage: the record rewritten in format 1,
                              as agentkv wrote it before the header
                              checksum (no checksum, 80-byte header) */
    TU_DAMAGE_V1_TIME,     /* format 1 with updated_at = INT64_MIN */
    TU_DAMAGE_V1_METADATA, /* format 1 with metadata that is no longer JSON
                              (first metadata byte flipped) */
    TU_REWRITE_V2,         /* no damage: the record rewritten in format 2
                              (SHA-1 header checksum), as the LMDB backend
                              wrote it before format 3 */
    TU_DAMAGE_V2_HEADER,   /* format 2 with a bit flipped in the version */
} tu_damage;
/* Damages the stored record of (sandbox, scope, key) as how says. The
 * store must be closed. Works on either backend. */
void tu_damage_record(const char *dir, akv_scope scope, const char *sb,
                      const char *key, tu_damage how);

/* The (closed) LMDB store's format marker ("meta"/"format"), after setting
 * it to value when value is not NULL. */
char tu_lmdb_marker(const char *dir, const char *value);

/* The record format (record.h) of the stored record of (sandbox, scope,
 * key) in the closed LMDB store in dir. */
int tu_lmdb_record_format(const char *dir, akv_scope scope, const char *sb,
                          const char *key);

/* Puts the (closed) store back into the accounting of format 1, as a
 * store written before quotas counted metadata and keys: every
 * namespace's usage counts value bytes only and the store's format marker
 * says "1". Works on either backend, below the library. */
void tu_usage_make_old(const char *dir);

/* Stored bytes of one entry as quotas and stats count them (record.h's
 * akv_rec_usage): key, the fixed record header, content type, metadata
 * and value. tu_cost is for the default content type and no metadata. */
uint64_t tu_cost_full(size_t key_len, size_t value_len, size_t ct_len,
                      size_t meta_len);
#define tu_cost(key_len, value_len)                                          \
    tu_cost_full((key_len), (value_len),                                     \
                 sizeof AKV_DEFAULT_CONTENT_TYPE - 1, 0)

/* Runs one Redis command (printf-style, hiredis format) against the test's
 * Redis; fails the test on an error reply. */
void tu_redis_command(const char *fmt, ...);
/* The same, returning the reply (a string, or an integer in decimal) as an
 * owned string; NULL for a nil reply. */
char *tu_redis_string(const char *fmt, ...);

/* Opens a store in a fresh temp dir (on tu_backend(): an emptied Redis
 * database) with a tu clock starting at 2026-11-26T00:00:00Z; cfg may be
 * NULL. */
typedef struct tu_store {
    akv_store *store;
    char *dir;
    tu_clock_state clock;
} tu_store;
void tu_store_open(tu_store *ts, const akv_config *cfg);
void tu_store_close(tu_store *ts);

/* Asserts that rc == expected, printing both error names and the last
 * error message on failure. */
#define assert_akv(rc, expected)                                             \
    do {                                                                     \
        int akv_rc_ = (rc), akv_ex_ = (expected);                            \
        if (akv_rc_ != akv_ex_)                                              \
            fail_msg("%s returned %s (%d), expected %s (%d): %s", #rc,       \
                     akv_err_name(akv_rc_), akv_rc_, akv_err_name(akv_ex_),  \
                     akv_ex_, akv_last_error()->message);                    \
    } while (0)
#define assert_ok(rc) assert_akv(rc, AKV_OK)

#endif

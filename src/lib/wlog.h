/*
 * wlog.h — records of the embedded store's write log (DIR/data.log and
 * DIR/data2.log, see backend-lmdb.c): each record is the changes one group
 * of writes made to the LMDB databases, byte for byte, so that replaying
 * the records in order rebuilds exactly what was acknowledged. The format
 * is documented in wlog.c beside its encoder.
 */
#ifndef AKV_WLOG_H
#define AKV_WLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AKV_WLOG_HEADER 32

/* What a change does, and to which database of the store. */
enum { AKV_WLOG_PUT = 1, AKV_WLOG_DEL = 2 };
enum { AKV_WLOG_ENTRIES = 0, AKV_WLOG_USAGE = 1 };

/* A record being built: header room, then the changes. Owned by whoever
 * holds it; akv_wlog_free releases data. */
typedef struct akv_wlog_buf {
    unsigned char *data;
    size_t len, cap;
    uint32_t count;
} akv_wlog_buf;

/* One change, pointing into a record. val is NULL for a delete. */
typedef struct akv_wlog_change {
    int op, db;
    const unsigned char *key;
    size_t key_len;
    const unsigned char *val;
    size_t val_len;
} akv_wlog_change;

/* Empties b for a new record (keeps its memory). */
void akv_wlog_reset(akv_wlog_buf *b);
void akv_wlog_free(akv_wlog_buf *b);
/* Appends a change of key (1..65535 bytes) to db. For a put, returns where
 * its val_len value bytes go (the caller writes them before the next call
 * on b: the buffer may move); for a delete val_len must be 0 and the
 * return is non-NULL too. *off (may be NULL) is the change's offset in
 * b->data, for akv_wlog_at. NULL when out of memory or when a length does
 * not fit the format (nothing appended). */
unsigned char *akv_wlog_add(akv_wlog_buf *b, int op, int db, const void *key,
                            size_t key_len, size_t val_len, size_t *off);
/* The change at offset off of a record built by akv_wlog_add or checked by
 * akv_wlog_check. */
void akv_wlog_at(const unsigned char *rec, size_t off, akv_wlog_change *c);
/* Writes the header: the record is then b->data[0 .. b->len), numbered
 * lsn (its offset in the log's numbering). */
void akv_wlog_seal(akv_wlog_buf *b, uint64_t lsn);

/* Checks the record at p, of which avail bytes are readable: AKV_OK with
 * its length and number, or AKV_EINTEGRITY (message says what) when the
 * bytes are not a whole, intact record: a torn or damaged tail of the log
 * ends the log there. Every change inside is checked too, so that
 * akv_wlog_next may walk it without further checks. */
int akv_wlog_check(const unsigned char *p, size_t avail, uint64_t *lsn,
                   size_t *len);
/* Walks the changes of a checked record of len bytes: *off starts at
 * AKV_WLOG_HEADER; false after the last. */
bool akv_wlog_next(const unsigned char *rec, size_t len, size_t *off,
                   akv_wlog_change *c);

#endif

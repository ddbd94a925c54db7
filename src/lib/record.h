/*
 * record.h — the byte encoding of one entry, shared by backends that store
 * an entry as one blob (LMDB stores it as the value of its key, Redis as a
 * hash field). The format is documented in record.c; backend-redis.c's Lua
 * scripts read and seal the same bytes.
 */
#ifndef AKV_RECORD_H
#define AKV_RECORD_H

#include "backend.h"

#define AKV_REC_HEADER 88    /* formats 2 and 3, written today */
#define AKV_REC_HEADER_V1 80 /* format 1, still read */

/* The formats akv_rec_encode writes: the header checksum a SHA-1 (what
 * backend-redis.c's scripts can reseal) or a CRC-32C (the LMDB backend's:
 * cheaper on every read). */
#define AKV_REC_FORMAT_SHA1 2
#define AKV_REC_FORMAT_CRC 3

/* The latest timestamp a record may hold: 9999-12-31T23:59:59.999Z, the
 * last instant RFC 3339 can write. Records hold timestamps from 0 (the
 * epoch) to this; anything else is damage. */
#define AKV_TIME_MAX 253402300799999LL

/*
 * Stored bytes of one entry, the figure quotas and stats count (SPEC.md
 * §1: value, metadata and key): the key plus the whole encoded record
 * (fixed header with digest, version and timestamps; content type;
 * metadata JSON; value). Expressed on the stored length alone, so that a
 * record that no longer decodes still has a known size, and so that the
 * Lua scripts of backend-redis.c count the same (#key + #blob).
 */
static inline uint64_t akv_rec_usage(size_t key_len, size_t stored_len)
{
    return (uint64_t)key_len + (uint64_t)stored_len;
}

size_t akv_rec_encoded_size(const akv_rec *rec);
/* Writes exactly akv_rec_encoded_size(rec) bytes to dst, in format
 * (AKV_REC_FORMAT_SHA1 or AKV_REC_FORMAT_CRC), sealed: the header checksum
 * is set. */
void akv_rec_encode(const akv_rec *rec, int format, void *dst);
/* Decodes in place: rec's pointers point into buf; rec->stored_len = len.
 * AKV_EINTEGRITY (message says what) when the bytes are not a well-formed
 * record: bad magic or format, lengths that do not add up, a header
 * checksum (formats 2 and 3) that does not match, a timestamp outside
 * 0..AKV_TIME_MAX, version 0, a content type that is not printable ASCII,
 * or (format 1, which has no checksum) metadata that is not a JSON object.
 * The value's SHA-256 is not checked here: akv_rec_verify() does that on
 * reads. */
int akv_rec_decode(const void *buf, size_t len, akv_rec *rec);
/* Fills rec as the placeholder of a record of stored_len bytes that did
 * not decode: damaged set, no value, an impossible digest (so that
 * akv_rec_verify fails), stored_len kept for usage. */
void akv_rec_damaged(akv_rec *rec, size_t stored_len);
/* Rewrites expires_at of an encoded record in place (and reseals its
 * header in its own format). AKV_EINTEGRITY, buf unchanged, when buf is
 * not a decodable record. */
int akv_rec_set_expiry(void *buf, size_t len, int64_t expires_at);

#endif

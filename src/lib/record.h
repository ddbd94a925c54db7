/*
 * record.h — the byte encoding of one entry, shared by backends that store
 * an entry as one blob (LMDB stores it as the value of its key).
 */
#ifndef AKV_RECORD_H
#define AKV_RECORD_H

#include "backend.h"

#define AKV_REC_HEADER 80

size_t akv_rec_encoded_size(const akv_rec *rec);
/* Writes exactly akv_rec_encoded_size(rec) bytes to dst. */
void akv_rec_encode(const akv_rec *rec, void *dst);
/* Decodes in place: rec's pointers point into buf. AKV_EINTEGRITY when the
 * bytes are not a well-formed record. */
int akv_rec_decode(const void *buf, size_t len, akv_rec *rec);

#endif

/*
 * record.c — encoding of an entry as one byte string.
 *
 * Format, all integers little-endian, header 80 bytes:
 *
 *   off  size  field
 *     0     1  magic 'k' (0x6b)
 *     1     1  format version (1)
 *     2     2  content_type length (u16, <= 255)
 *     4     4  metadata length (u32, <= 64 KiB; 0 = none)
 *     8     8  version (u64)
 *    16     8  created_at (i64, ms since epoch)
 *    24     8  updated_at (i64)
 *    32     8  expires_at (i64, 0 = never)
 *    40     8  value length (u64)
 *    48    32  SHA-256 of the value
 *    80     …  content_type bytes, metadata bytes, value bytes
 *
 * The SHA-256 covers the value only; a damaged header shows up as a length
 * mismatch or an implausible field, a damaged value as a digest mismatch.
 * Both are integrity errors.
 */
#include <endian.h>
#include <string.h>

#include "internal.h"
#include "record.h"

#define REC_MAGIC 0x6b
#define REC_FORMAT 1

static void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
/* Decoding is on the read path: load whole words and convert. */
static uint16_t get_u16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return le16toh(v);
}
static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return le32toh(v);
}
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return le64toh(v);
}

size_t akv_rec_encoded_size(const akv_rec *rec)
{
    return AKV_REC_HEADER + rec->content_type_len + rec->metadata_len +
           rec->value_len;
}

void akv_rec_encode(const akv_rec *rec, void *dst)
{
    unsigned char *p = dst;
    p[0] = REC_MAGIC;
    p[1] = REC_FORMAT;
    put_u16(p + 2, (uint16_t)rec->content_type_len);
    put_u32(p + 4, (uint32_t)rec->metadata_len);
    put_u64(p + 8, rec->version);
    put_u64(p + 16, (uint64_t)rec->created_at);
    put_u64(p + 24, (uint64_t)rec->updated_at);
    put_u64(p + 32, (uint64_t)rec->expires_at);
    put_u64(p + 40, (uint64_t)rec->value_len);
    memcpy(p + 48, rec->sha256, 32);
    p += AKV_REC_HEADER;
    if (rec->content_type_len)
        memcpy(p, rec->content_type, rec->content_type_len);
    p += rec->content_type_len;
    if (rec->metadata_len)
        memcpy(p, rec->metadata, rec->metadata_len);
    p += rec->metadata_len;
    if (rec->value_len)
        memcpy(p, rec->value, rec->value_len);
}

int akv_rec_decode(const void *buf, size_t len, akv_rec *rec)
{
    const unsigned char *p = buf;
    if (len < AKV_REC_HEADER || p[0] != REC_MAGIC || p[1] != REC_FORMAT)
        return akv_fail(AKV_EINTEGRITY, "stored record has a bad header");
    size_t ctl = get_u16(p + 2);
    size_t ml = get_u32(p + 4);
    uint64_t vl = get_u64(p + 40);
    if (ctl > AKV_CONTENT_TYPE_MAX || ml > AKV_METADATA_MAX ||
        vl != len - AKV_REC_HEADER - ctl - ml ||
        len < AKV_REC_HEADER + ctl + ml)
        return akv_fail(AKV_EINTEGRITY, "stored record has bad lengths");
    rec->version = get_u64(p + 8);
    rec->created_at = (int64_t)get_u64(p + 16);
    rec->updated_at = (int64_t)get_u64(p + 24);
    rec->expires_at = (int64_t)get_u64(p + 32);
    memcpy(rec->sha256, p + 48, 32);
    rec->content_type = (const char *)p + AKV_REC_HEADER;
    rec->content_type_len = ctl;
    rec->metadata = ml ? (const char *)p + AKV_REC_HEADER + ctl : NULL;
    rec->metadata_len = ml;
    rec->value = p + AKV_REC_HEADER + ctl + ml;
    rec->value_len = (size_t)vl;
    return AKV_OK;
}

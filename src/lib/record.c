/*
 * record.c — encoding of an entry as one byte string.
 *
 * Formats 2 and 3 (written today), all integers little-endian, header 88
 * bytes:
 *
 *   off  size  field
 *     0     1  magic 'k' (0x6b)
 *     1     1  format version (2 or 3)
 *     2     2  content_type length (u16, <= 255)
 *     4     4  metadata length (u32, <= 64 KiB; 0 = none)
 *     8     8  version (u64, >= 1)
 *    16     8  created_at (i64, ms since epoch, 0..AKV_TIME_MAX)
 *    24     8  updated_at (i64, same range)
 *    32     8  expires_at (i64, 0 = never, else 1..AKV_TIME_MAX)
 *    40     8  value length (u64)
 *    48    32  SHA-256 of the value
 *    80     8  header checksum over bytes 0..79 followed by the content
 *              type and metadata bytes:
 *                format 3: CRC-32C (u32) at 80, then 4 zero bytes;
 *                format 2: the first 8 bytes of their SHA-1
 *    88     …  content_type bytes, metadata bytes, value bytes
 *
 * Format 1 is the same without the checksum (header 80 bytes, content type
 * at 80). It is still read; nothing writes it any more.
 *
 * Which format: the LMDB backend writes format 3; the Redis backend writes
 * format 2, because its Lua scripts reseal a header they patch (version,
 * created_at, expires_at) and Redis offers scripts SHA-1 (redis.sha1hex),
 * not CRC-32C. Every reader accepts all three; a record keeps its format
 * when only its expiry is rewritten (akv_rec_set_expiry).
 *
 * What protects what: the SHA-256 covers the value (checked on every read
 * by akv_rec_verify); the checksum covers everything else, so damage to a
 * timestamp, a length, the content type or the metadata is an integrity
 * error of that entry rather than wrong metadata served or a JSON failure
 * far from its cause. Both checksums guard against accidental damage, not
 * against someone who can write the store. CRC-32C detects every burst of
 * up to 32 flipped bits and every error of up to 3 bits at these lengths
 * (a header with its content type and metadata stays under 66 KiB), and
 * costs a few nanoseconds with the CPU's instruction, where the SHA-1 of a
 * header costs about 100 ns, on every read. Format 1 records have no
 * checksum: their fields are range-checked and their metadata must parse
 * as a JSON object.
 */
/* The low-level SHA1_* calls, as util.c does for SHA-256: no per-call
 * algorithm fetch. Deprecated in OpenSSL 3, not removed. */
#define OPENSSL_API_COMPAT 0x10100000L
#include <openssl/sha.h>

#include <string.h>

#include "internal.h"
#include "le.h"
#include "record.h"

#define REC_MAGIC 0x6b
#define REC_CHECK 80 /* offset of the checksum (formats 2 and 3) */

/* The checksum field (8 bytes) of a format-2 or format-3 record whose
 * header is at p and whose content type and metadata (ctml bytes together)
 * follow the header. */
static void checksum(const unsigned char *p, size_t ctml,
                     unsigned char out[8])
{
    if (p[1] == AKV_REC_FORMAT_CRC) {
        uint32_t c = akv_crc32c(0, p, REC_CHECK);
        if (ctml)
            c = akv_crc32c(c, p + AKV_REC_HEADER, ctml);
        akv_put_le32(out, c);
        memset(out + 4, 0, 4);
        return;
    }
    SHA_CTX ctx;
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1_Init(&ctx);
    SHA1_Update(&ctx, p, REC_CHECK);
    if (ctml)
        SHA1_Update(&ctx, p + AKV_REC_HEADER, ctml);
    SHA1_Final(md, &ctx);
    memcpy(out, md, 8);
}

size_t akv_rec_encoded_size(const akv_rec *rec)
{
    return AKV_REC_HEADER + rec->content_type_len + rec->metadata_len +
           rec->value_len;
}

void akv_rec_encode(const akv_rec *rec, int format, void *dst)
{
    unsigned char *p = dst, *base = dst;
    p[0] = REC_MAGIC;
    p[1] = (unsigned char)format;
    akv_put_le16(p + 2, (uint16_t)rec->content_type_len);
    akv_put_le32(p + 4, (uint32_t)rec->metadata_len);
    akv_put_le64(p + 8, rec->version);
    akv_put_le64(p + 16, (uint64_t)rec->created_at);
    akv_put_le64(p + 24, (uint64_t)rec->updated_at);
    akv_put_le64(p + 32, (uint64_t)rec->expires_at);
    akv_put_le64(p + 40, (uint64_t)rec->value_len);
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
    checksum(base, rec->content_type_len + rec->metadata_len,
             base + REC_CHECK);
}

static bool time_ok(int64_t t)
{
    return t >= 0 && t <= AKV_TIME_MAX;
}

/* Checks magic, format and lengths; *hl receives the header length. */
static int layout(const unsigned char *p, size_t len, size_t *hl)
{
    if (len < AKV_REC_HEADER_V1 || p[0] != REC_MAGIC || p[1] < 1 ||
        p[1] > AKV_REC_FORMAT_CRC)
        return akv_fail(AKV_EINTEGRITY, "stored record has a bad header");
    *hl = p[1] == 1 ? AKV_REC_HEADER_V1 : AKV_REC_HEADER;
    size_t ctl = akv_get_le16(p + 2);
    size_t ml = akv_get_le32(p + 4);
    uint64_t vl = akv_get_le64(p + 40);
    if (len < *hl || ctl > AKV_CONTENT_TYPE_MAX || ml > AKV_METADATA_MAX ||
        len - *hl < ctl + ml || vl != len - *hl - ctl - ml)
        return akv_fail(AKV_EINTEGRITY, "stored record has bad lengths");
    if (p[1] != 1) {
        unsigned char sum[8];
        checksum(p, ctl + ml, sum);
        if (memcmp(sum, p + REC_CHECK, 8) != 0)
            return akv_fail(AKV_EINTEGRITY,
                            "stored record fails its header checksum");
    }
    return AKV_OK;
}

int akv_rec_decode(const void *buf, size_t len, akv_rec *rec)
{
    const unsigned char *p = buf;
    size_t hl = 0; /* set by layout; initialised for the compiler */
    int rc = layout(p, len, &hl);
    if (rc != AKV_OK)
        return rc;
    size_t ctl = akv_get_le16(p + 2);
    size_t ml = akv_get_le32(p + 4);
    rec->version = akv_get_le64(p + 8);
    rec->created_at = (int64_t)akv_get_le64(p + 16);
    rec->updated_at = (int64_t)akv_get_le64(p + 24);
    rec->expires_at = (int64_t)akv_get_le64(p + 32);
    /* Bounds every later use relies on: akv_time_format, expiry sums and
     * version + 1 must never see an absurd value. */
    if (rec->version == 0 || !time_ok(rec->created_at) ||
        !time_ok(rec->updated_at) || !time_ok(rec->expires_at))
        return akv_fail(AKV_EINTEGRITY,
                        "stored record has an impossible version or "
                        "timestamp");
    memcpy(rec->sha256, p + 48, 32);
    rec->content_type = (const char *)p + hl;
    rec->content_type_len = ctl;
    for (size_t i = 0; i < ctl; i++)
        if (p[hl + i] < 0x20 || p[hl + i] > 0x7e)
            return akv_fail(AKV_EINTEGRITY,
                            "stored record has a damaged content type");
    rec->metadata = ml ? (const char *)p + hl + ctl : NULL;
    rec->metadata_len = ml;
    /* Format 1 has no checksum over the metadata: at least it must still
     * be what every write checked it to be. */
    if (p[1] == 1 && ml && akv_metadata_check(rec->metadata, ml) != AKV_OK)
        return akv_fail(AKV_EINTEGRITY,
                        "stored record has damaged metadata (not a JSON "
                        "object)");
    rec->value = p + hl + ctl + ml;
    rec->value_len = len - hl - ctl - ml;
    rec->stored_len = len;
    rec->damaged = false;
    return AKV_OK;
}

void akv_rec_damaged(akv_rec *rec, size_t stored_len)
{
    memset(rec, 0, sizeof *rec);
    memset(rec->sha256, 0xff, sizeof rec->sha256);
    rec->stored_len = stored_len;
    rec->damaged = true;
}

int akv_rec_set_expiry(void *buf, size_t len, int64_t expires_at)
{
    unsigned char *p = buf;
    akv_rec rec; /* the whole decode, not just the layout: see record.h */
    int rc = akv_rec_decode(p, len, &rec);
    if (rc != AKV_OK)
        return rc;
    akv_put_le64(p + 32, (uint64_t)expires_at);
    if (p[1] != 1)
        checksum(p, (size_t)akv_get_le16(p + 2) + akv_get_le32(p + 4), p + REC_CHECK);
    return AKV_OK;
}

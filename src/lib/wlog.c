/*
 * wlog.c — encoding of the write log's records (wlog.h).
 *
 * Each of the log's files (DIR/data.log, DIR/data2.log) is a sequence of
 * records from its first byte, each the changes that one group of writes
 * made, in order. All integers little-endian. A record:
 *
 *   off  size  field
 *     0     4  magic "AKVL"
 *     4     4  CRC-32C of bytes 8 .. len
 *     8     8  lsn: the record's number, its offset in the log's
 *              numbering (which runs on from file to file and as a file
 *              is started over: the next record is numbered lsn + len)
 *    16     8  len: the whole record's length, header included
 *    24     4  count of changes
 *    28     4  zero
 *    32     …  count changes, each:
 *                0  1  op: 1 put, 2 delete
 *                1  1  database: 0 entries, 1 usage
 *                2  2  key length (1 .. 65535)
 *                4  4  value length (0 for a delete)
 *                8  …  key bytes, then value bytes
 *
 * A put's value is exactly the bytes the LMDB database holds under the key
 * (an entry's record encoding of record.c, a usage row), so a replay
 * writes what was acknowledged whatever state it starts from. The CRC
 * covers the number too: a record left over from before its file was
 * started over cannot pass for the next one. A reader stops at the first
 * record that does not check (a write cut short by a crash or a power
 * loss).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "le.h"
#include "wlog.h"

#define MAGIC "AKVL"
#define CHANGE_HEAD 8

void akv_wlog_reset(akv_wlog_buf *b)
{
    b->len = AKV_WLOG_HEADER;
    b->count = 0;
}

void akv_wlog_free(akv_wlog_buf *b)
{
    free(b->data);
    *b = (akv_wlog_buf){0};
}

unsigned char *akv_wlog_add(akv_wlog_buf *b, int op, int db, const void *key,
                            size_t key_len, size_t val_len, size_t *off)
{
    if (key_len == 0 || key_len > UINT16_MAX || val_len > UINT32_MAX ||
        (op == AKV_WLOG_DEL && val_len != 0) || b->count == UINT32_MAX)
        return NULL;
    if (b->len < AKV_WLOG_HEADER)
        b->len = AKV_WLOG_HEADER;
    size_t need = CHANGE_HEAD + key_len + val_len;
    if (b->cap < b->len + need) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + need)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (d == NULL)
            return NULL;
        b->data = d;
        b->cap = cap;
    }
    unsigned char *p = b->data + b->len;
    p[0] = (unsigned char)op;
    p[1] = (unsigned char)db;
    akv_put_le16(p + 2, (uint16_t)key_len);
    akv_put_le32(p + 4, (uint32_t)val_len);
    memcpy(p + CHANGE_HEAD, key, key_len);
    if (off)
        *off = b->len;
    b->len += need;
    b->count++;
    return p + CHANGE_HEAD + key_len;
}

void akv_wlog_at(const unsigned char *rec, size_t off, akv_wlog_change *c)
{
    const unsigned char *p = rec + off;
    c->op = p[0];
    c->db = p[1];
    c->key_len = akv_get_le16(p + 2);
    c->val_len = akv_get_le32(p + 4);
    c->key = p + CHANGE_HEAD;
    c->val = c->op == AKV_WLOG_PUT ? c->key + c->key_len : NULL;
}

void akv_wlog_seal(akv_wlog_buf *b, uint64_t lsn)
{
    if (b->len < AKV_WLOG_HEADER)
        akv_wlog_reset(b); /* never added to: an empty record */
    unsigned char *p = b->data;
    memcpy(p, MAGIC, 4);
    akv_put_le64(p + 8, lsn);
    akv_put_le64(p + 16, b->len);
    akv_put_le32(p + 24, b->count);
    akv_put_le32(p + 28, 0);
    akv_put_le32(p + 4, akv_crc32c(0, p + 8, b->len - 8));
}

int akv_wlog_check(const unsigned char *p, size_t avail, uint64_t *lsn,
                   size_t *len)
{
    if (avail < AKV_WLOG_HEADER)
        return akv_fail(AKV_EINTEGRITY, "log record cut short (%zu bytes)",
                        avail);
    if (memcmp(p, MAGIC, 4) != 0)
        return akv_fail(AKV_EINTEGRITY, "not a log record (bad magic)");
    uint64_t n = akv_get_le64(p + 16);
    if (n < AKV_WLOG_HEADER || n > avail)
        return akv_fail(AKV_EINTEGRITY,
                        "log record of %llu bytes where %zu remain",
                        (unsigned long long)n, avail);
    if (akv_get_le32(p + 4) != akv_crc32c(0, p + 8, (size_t)n - 8))
        return akv_fail(AKV_EINTEGRITY, "log record fails its CRC-32C");
    if (akv_get_le32(p + 28) != 0)
        return akv_fail(AKV_EINTEGRITY, "log record with reserved bits set");
    uint32_t count = akv_get_le32(p + 24), seen = 0;
    size_t off = AKV_WLOG_HEADER;
    while (off < n) {
        if (n - off < CHANGE_HEAD)
            return akv_fail(AKV_EINTEGRITY, "log change cut short");
        akv_wlog_change c;
        akv_wlog_at(p, off, &c);
        if ((c.op != AKV_WLOG_PUT && c.op != AKV_WLOG_DEL) ||
            (c.db != AKV_WLOG_ENTRIES && c.db != AKV_WLOG_USAGE) ||
            c.key_len == 0 || (c.op == AKV_WLOG_DEL && c.val_len != 0))
            return akv_fail(AKV_EINTEGRITY, "log change of unknown kind");
        if (n - off - CHANGE_HEAD < c.key_len + c.val_len)
            return akv_fail(AKV_EINTEGRITY, "log change overruns its record");
        off += CHANGE_HEAD + c.key_len + c.val_len;
        seen++;
    }
    if (seen != count)
        return akv_fail(AKV_EINTEGRITY,
                        "log record says %u changes and holds %u", count,
                        seen);
    *lsn = akv_get_le64(p + 8);
    *len = (size_t)n;
    return AKV_OK;
}

bool akv_wlog_next(const unsigned char *rec, size_t len, size_t *off,
                   akv_wlog_change *c)
{
    if (*off >= len)
        return false;
    akv_wlog_at(rec, *off, c);
    *off += CHANGE_HEAD + c->key_len + c->val_len;
    return true;
}

/*
 * fuzz-record.c — libFuzzer harness for the record decoder of record.c
 * (akv_rec_decode, akv_rec_set_expiry), which reads bytes from the store
 * that damage may have changed.
 *
 * The input bytes are a stored record. The harness aborts when:
 *   - a record is accepted whose fields break what the decoder promises
 *     (lengths that do not add up to the input, pointers outside it, a
 *     timestamp out of range, version 0, a content type that is not
 *     printable ASCII, a format other than 1, 2 or 3);
 *   - an accepted record of format 2 or 3 is not exactly what the encoder
 *     writes for its fields (so its checksum, and the zero bytes after a
 *     CRC-32C, were checked), or still decodes with one bit of its header,
 *     content type or metadata flipped (which bit: chosen by the input);
 *   - akv_rec_set_expiry changes a record that does not decode, or leaves
 *     one that did decode undecodable, in another format or with another
 *     expiry than the one set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "record.h"

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond))                                                         \
            abort();                                                         \
    } while (0)

static bool inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
    const uint8_t *q = p;
    return n == 0 || (q >= data && q + n <= data + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    akv_rec rec;
    int rc = akv_rec_decode(data, size, &rec);
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (rc != AKV_OK) {
        CHECK(rc == AKV_EINTEGRITY);
        CHECK(akv_rec_set_expiry(copy, size, 1) == AKV_EINTEGRITY);
        CHECK(size == 0 || memcmp(copy, data, size) == 0);
        free(copy);
        return 0;
    }
    int format = data[1];
    size_t hl = format == 1 ? AKV_REC_HEADER_V1 : AKV_REC_HEADER;
    CHECK(format >= 1 && format <= AKV_REC_FORMAT_CRC);
    CHECK(rec.stored_len == size && !rec.damaged);
    CHECK(hl + rec.content_type_len + rec.metadata_len + rec.value_len ==
          size);
    CHECK(inside(rec.content_type, rec.content_type_len, data, size));
    CHECK(inside(rec.metadata, rec.metadata_len, data, size));
    CHECK(inside(rec.value, rec.value_len, data, size));
    CHECK((const uint8_t *)rec.value + rec.value_len == data + size);
    CHECK(rec.version >= 1);
    CHECK(rec.created_at >= 0 && rec.created_at <= AKV_TIME_MAX);
    CHECK(rec.updated_at >= 0 && rec.updated_at <= AKV_TIME_MAX);
    CHECK(rec.expires_at >= 0 && rec.expires_at <= AKV_TIME_MAX);
    for (size_t i = 0; i < rec.content_type_len; i++)
        CHECK(rec.content_type[i] >= 0x20 && rec.content_type[i] <= 0x7e);

    if (format != 1) {
        uint8_t *again = malloc(size);
        if (again != NULL) {
            CHECK(akv_rec_encoded_size(&rec) == size);
            akv_rec_encode(&rec, format, again);
            CHECK(memcmp(again, data, size) == 0);
            /* One covered bit flipped: refused. */
            size_t covered = hl + rec.content_type_len + rec.metadata_len;
            size_t bit = 0;
            for (size_t i = 0; i < size; i++)
                bit = bit * 31 + data[i];
            bit %= covered * 8;
            again[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            akv_rec bad;
            CHECK(akv_rec_decode(again, size, &bad) == AKV_EINTEGRITY);
            free(again);
        }
    }

    int64_t exp = rec.expires_at == AKV_TIME_MAX ? 1 : rec.expires_at + 1;
    CHECK(akv_rec_set_expiry(copy, size, exp) == AKV_OK);
    akv_rec after;
    CHECK(akv_rec_decode(copy, size, &after) == AKV_OK);
    CHECK(copy[1] == format && after.expires_at == exp);
    CHECK(after.version == rec.version && after.value_len == rec.value_len);
    free(copy);
    return 0;
}

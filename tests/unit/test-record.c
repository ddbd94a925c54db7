/*
 * test-record.c — the record encoding of record.c below any backend: the
 * CRC-32C (CPU instruction and portable form) against published check
 * values, records of formats 2 (SHA-1) and 3 (CRC-32C) decoding to what
 * was encoded, every single-bit flip of a header, content type or metadata
 * byte refused in both formats, and akv_rec_set_expiry resealing a record
 * in its own format.
 */
#include <string.h>

#include "internal.h"
#include "record.h"
#include "testutil.h"

#define CT "text/plain"
#define META "{\"author\":\"ci\"}"
#define VALUE "the value bytes"

static const int formats[] = {AKV_REC_FORMAT_SHA1, AKV_REC_FORMAT_CRC};

/* An encoded record in the given format; *len receives its length. */
static unsigned char *encode(int format, size_t *len)
{
    akv_rec rec = {
        .version = 7,
        .created_at = 1795651200000LL,
        .updated_at = 1795651200001LL,
        .expires_at = 1795737600000LL,
        .content_type = CT,
        .content_type_len = strlen(CT),
        .metadata = META,
        .metadata_len = strlen(META),
        .value = VALUE,
        .value_len = strlen(VALUE),
    };
    akv_sha256(VALUE, strlen(VALUE), rec.sha256);
    *len = akv_rec_encoded_size(&rec);
    unsigned char *buf = test_malloc(*len);
    akv_rec_encode(&rec, format, buf);
    return buf;
}

static void crc32c_matches_the_published_check_values(void **state)
{
    (void)state;
    unsigned char zeros[32] = {0}, ascending[32];
    for (int i = 0; i < 32; i++)
        ascending[i] = (unsigned char)i;
    uint32_t (*fns[2])(uint32_t, const void *, size_t) = {
        akv_crc32c, akv_crc32c_portable};
    for (int f = 0; f < 2; f++) {
        /* The CRC-32C check value, then RFC 3720 (iSCSI) B.4. */
        assert_int_equal(fns[f](0, "123456789", 9), 0xe3069283u);
        assert_int_equal(fns[f](0, zeros, 32), 0x8a9136aau);
        assert_int_equal(fns[f](0, ascending, 32), 0x46dd794eu);
        assert_int_equal(fns[f](0, "", 0), 0);
        /* Continuing: two pieces, any split, give the CRC of both. */
        for (size_t cut = 0; cut <= 32; cut++)
            assert_int_equal(fns[f](fns[f](0, ascending, cut),
                                    ascending + cut, 32 - cut),
                             0x46dd794eu);
    }
}

static void both_formats_decode_to_what_was_encoded(void **state)
{
    (void)state;
    for (size_t f = 0; f < 2; f++) {
        size_t len;
        unsigned char *buf = encode(formats[f], &len);
        assert_int_equal(buf[1], formats[f]);
        akv_rec rec;
        assert_ok(akv_rec_decode(buf, len, &rec));
        assert_int_equal(rec.version, 7);
        assert_int_equal(rec.created_at, 1795651200000LL);
        assert_int_equal(rec.updated_at, 1795651200001LL);
        assert_int_equal(rec.expires_at, 1795737600000LL);
        assert_int_equal(rec.content_type_len, strlen(CT));
        assert_memory_equal(rec.content_type, CT, strlen(CT));
        assert_int_equal(rec.metadata_len, strlen(META));
        assert_memory_equal(rec.metadata, META, strlen(META));
        assert_int_equal(rec.value_len, strlen(VALUE));
        assert_memory_equal(rec.value, VALUE, strlen(VALUE));
        assert_true(akv_rec_verify(&rec));
        if (formats[f] == AKV_REC_FORMAT_CRC) {
            /* CRC-32C of header bytes 0..79, content type and metadata,
             * little-endian at 80, then four zero bytes. */
            uint32_t c = akv_crc32c_portable(0, buf, 80);
            c = akv_crc32c_portable(c, buf + 88,
                                    strlen(CT) + strlen(META));
            unsigned char want[8] = {(unsigned char)c,
                                     (unsigned char)(c >> 8),
                                     (unsigned char)(c >> 16),
                                     (unsigned char)(c >> 24)};
            assert_memory_equal(buf + 80, want, 8);
        }
        test_free(buf);
    }
}

/* Every bit of the header (checksum field included), the content type and
 * the metadata, flipped alone, makes the record fail to decode. */
static void every_flipped_header_bit_is_refused(void **state)
{
    (void)state;
    for (size_t f = 0; f < 2; f++) {
        size_t len;
        unsigned char *buf = encode(formats[f], &len);
        size_t covered = AKV_REC_HEADER + strlen(CT) + strlen(META);
        for (size_t i = 0; i < covered; i++) {
            for (int bit = 0; bit < 8; bit++) {
                buf[i] ^= (unsigned char)(1 << bit);
                akv_rec rec;
                int rc = akv_rec_decode(buf, len, &rec);
                if (rc != AKV_EINTEGRITY)
                    fail_msg("format %d: flipping bit %d of byte %zu was "
                             "not refused (rc %d)",
                             formats[f], bit, i, rc);
                buf[i] ^= (unsigned char)(1 << bit);
            }
        }
        akv_rec rec;
        assert_ok(akv_rec_decode(buf, len, &rec));
        test_free(buf);
    }
}

static void unknown_format_and_nonzero_padding_are_refused(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = encode(AKV_REC_FORMAT_CRC, &len);
    akv_rec rec;
    buf[1] = 4;
    assert_akv(akv_rec_decode(buf, len, &rec), AKV_EINTEGRITY);
    buf[1] = 0;
    assert_akv(akv_rec_decode(buf, len, &rec), AKV_EINTEGRITY);
    buf[1] = AKV_REC_FORMAT_CRC;
    buf[87] = 1; /* the zero bytes after the CRC */
    assert_akv(akv_rec_decode(buf, len, &rec), AKV_EINTEGRITY);
    buf[87] = 0;
    assert_ok(akv_rec_decode(buf, len, &rec));
    test_free(buf);
}

static void set_expiry_reseals_in_the_record_s_own_format(void **state)
{
    (void)state;
    for (size_t f = 0; f < 2; f++) {
        size_t len;
        unsigned char *buf = encode(formats[f], &len);
        assert_ok(akv_rec_set_expiry(buf, len, 1795824000000LL));
        assert_int_equal(buf[1], formats[f]);
        akv_rec rec;
        assert_ok(akv_rec_decode(buf, len, &rec));
        assert_int_equal(rec.expires_at, 1795824000000LL);
        /* A record whose layout and checksum hold but that does not
         * decode (an impossible timestamp, sealed as if it were fine) is
         * refused too. */
        unsigned char *odd = test_malloc(len);
        akv_rec rec2;
        assert_ok(akv_rec_decode(buf, len, &rec2));
        rec2.created_at = AKV_TIME_MAX + 1;
        akv_rec_encode(&rec2, formats[f], odd);
        assert_akv(akv_rec_set_expiry(odd, len, 0), AKV_EINTEGRITY);
        test_free(odd);
        /* A damaged record is refused and left as it is. */
        buf[20] ^= 1;
        unsigned char *copy = test_malloc(len);
        memcpy(copy, buf, len);
        assert_akv(akv_rec_set_expiry(buf, len, 0), AKV_EINTEGRITY);
        assert_memory_equal(buf, copy, len);
        test_free(copy);
        test_free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_matches_the_published_check_values),
        cmocka_unit_test(both_formats_decode_to_what_was_encoded),
        cmocka_unit_test(every_flipped_header_bit_is_refused),
        cmocka_unit_test(unknown_format_and_nonzero_padding_are_refused),
        cmocka_unit_test(set_expiry_reseals_in_the_record_s_own_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

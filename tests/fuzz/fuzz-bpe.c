/*
 * fuzz-bpe.c — libFuzzer harness for the tokenizer (agentkv-tokens.h).
 *
 * The input bytes are the text, encoded with both encodings. Invariants:
 *   - encoding succeeds on any bytes and gives the same ids twice;
 *   - akv_tokens_count() equals the number of ids;
 *   - decoding the ids gives back the input exactly when it is valid
 *     UTF-8, and otherwise the input with every maximal ill-formed
 *     subsequence replaced by U+FFFD, computed here by an independent,
 *     table-driven model of Unicode's well-formed byte sequences (Table
 *     3-7 of the Unicode Standard); re-encoding that gives the same ids.
 * A broken invariant aborts with the input shown in hex.
 *
 * Needs the encoding data: $AGENTKV_TOKENIZER_DIR or the build tree (make
 * deps). Exactness against tiktoken itself is tests/cli/test-tokens.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-tokens.h"
#include "agentkv.h"

static void broken(const char *what, const char *enc, const uint8_t *data,
                   size_t size)
{
    fprintf(stderr, "fuzz-bpe: invariant broken (%s): %s; input (%zu bytes):",
            enc, what, size);
    for (size_t i = 0; i < size && i < 96; i++)
        fprintf(stderr, " %02x", data[i]);
    fprintf(stderr, "%s\n", size > 96 ? " ..." : "");
    abort();
}

/* Table 3-7: the well-formed UTF-8 byte sequences, as byte ranges. */
static const struct {
    int len;
    uint8_t lo[4], hi[4];
} rows[] = {
    {1, {0x00}, {0x7f}},
    {2, {0xc2, 0x80}, {0xdf, 0xbf}},
    {3, {0xe0, 0xa0, 0x80}, {0xe0, 0xbf, 0xbf}},
    {3, {0xe1, 0x80, 0x80}, {0xec, 0xbf, 0xbf}},
    {3, {0xed, 0x80, 0x80}, {0xed, 0x9f, 0xbf}},
    {3, {0xee, 0x80, 0x80}, {0xef, 0xbf, 0xbf}},
    {4, {0xf0, 0x90, 0x80, 0x80}, {0xf0, 0xbf, 0xbf, 0xbf}},
    {4, {0xf1, 0x80, 0x80, 0x80}, {0xf3, 0xbf, 0xbf, 0xbf}},
    {4, {0xf4, 0x80, 0x80, 0x80}, {0xf4, 0x8f, 0xbf, 0xbf}},
};

/* Writes the model's reading of s[0..n) into out (room for 3n bytes);
 * returns its length. *valid is 1 when nothing was replaced. */
static size_t model_replace(const uint8_t *s, size_t n, uint8_t *out,
                            int *valid)
{
    size_t o = 0;
    *valid = 1;
    for (size_t i = 0; i < n;) {
        int best = 0, whole = 0;
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            int m = 0;
            while (m < rows[r].len && i + (size_t)m < n &&
                   s[i + m] >= rows[r].lo[m] && s[i + m] <= rows[r].hi[m])
                m++;
            if (m == rows[r].len) {
                whole = m;
                break;
            }
            if (m > best)
                best = m;
        }
        if (whole) {
            memcpy(out + o, s + i, (size_t)whole);
            o += (size_t)whole;
            i += (size_t)whole;
        } else {
            out[o++] = 0xef;
            out[o++] = 0xbf;
            out[o++] = 0xbd;
            i += best > 0 ? (size_t)best : 1;
            *valid = 0;
        }
    }
    return o;
}

static void check(const char *name, const uint8_t *data, size_t size,
                  const uint8_t *expect, size_t expect_len)
{
    const akv_encoding *enc;
    if (akv_encoding_load(name, &enc) != AKV_OK) {
        fprintf(stderr, "fuzz-bpe: cannot load %s: %s\n", name,
                akv_last_error()->message);
        abort();
    }
    uint32_t *ids, *again;
    size_t n, n2, count;
    if (akv_tokens_encode(enc, (const char *)data, size, &ids, &n) != AKV_OK)
        broken("encode failed", name, data, size);
    if (akv_tokens_count(enc, (const char *)data, size, &count) != AKV_OK)
        broken("count failed", name, data, size);
    if (count != n)
        broken("count differs from the number of ids", name, data, size);
    if (akv_tokens_encode(enc, (const char *)data, size, &again, &n2) !=
            AKV_OK ||
        n2 != n || (n && memcmp(ids, again, n * sizeof *ids) != 0))
        broken("encoding twice gave different ids", name, data, size);
    akv_tokens_free(again);
    if (size > 0 && n == 0)
        broken("non-empty input gave no ids", name, data, size);

    size_t len = 0;
    int rc = akv_tokens_decode(enc, ids, n, NULL, &len);
    if (rc != (len ? AKV_ENOBUFS : AKV_OK))
        broken("decode could not size its output", name, data, size);
    char *back = malloc(len ? len : 1);
    if (back == NULL)
        abort();
    size_t got = len;
    if (akv_tokens_decode(enc, ids, n, back, &got) != AKV_OK || got != len)
        broken("decode failed", name, data, size);
    if (got != expect_len || memcmp(back, expect, got) != 0)
        broken("decoded bytes differ from the input (invalid UTF-8 "
               "replaced by U+FFFD)",
               name, data, size);
    /* The replaced text encodes to the same ids. */
    if (akv_tokens_encode(enc, back, got, &again, &n2) != AKV_OK ||
        n2 != n || (n && memcmp(ids, again, n * sizeof *ids) != 0))
        broken("re-encoding the decoded bytes gave different ids", name,
               data, size);
    akv_tokens_free(again);
    free(back);
    akv_tokens_free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    uint8_t *expect = malloc(size * 3 + 1);
    if (expect == NULL)
        return 0;
    int valid;
    size_t expect_len = model_replace(data, size, expect, &valid);
    if (valid && (expect_len != size || memcmp(expect, data, size) != 0))
        broken("the model changed valid input", "model", data, size);
    check("o200k_base", data, size, expect, expect_len);
    check("cl100k_base", data, size, expect, expect_len);
    free(expect);
    return 0;
}

/*
 * test-bpe-chars.c — the character table (bpe-data.c, build_chars(); bpe.c,
 * start_parts()): merging that starts a character as its token, where the
 * table allows, against plain BPE from single bytes written out here, on
 * small made-up encodings over a few characters of two, three and four
 * bytes that share lead and continuation bytes. Their tokens are grown
 * from pieces of made-up text at any byte, so tokens that end inside a
 * character, start inside one, or hold one and more are common, at ranks
 * below and above those of the characters. Each encoding is written as a
 * tiktoken JSON file and loaded through bpe-data.c (every other one
 * compiled to a table file first).
 *
 * For every text the ids must be plain BPE's. The test also checks that it
 * covers what it is about: characters in the table with and without
 * checks, characters left out, and texts where starting every character
 * that is a token as that token, without the checks, would be wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpe.h"
#include "testutil.h"

/* The alphabet: ASCII and characters sharing bytes (c3, e4 b8, f0 9f). */
static const char *const ALPHA[] = {
    "a", " ", "\xc3\xa9", "\xc3\xa8", "\xc3\xa0", "\xe4\xb8\xad",
    "\xe4\xb8\xab", "\xe4\xba\xa0", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x81",
};
#define NALPHA (sizeof ALPHA / sizeof ALPHA[0])
#define MAXTOK 160
#define MAXLEN 12

/* A text of n characters of the alphabet; its length in bytes. */
static size_t make_text(unsigned char *out, size_t n, uint64_t *seed)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = ALPHA[tu_rand(seed) % NALPHA];
        memcpy(out + len, c, strlen(c));
        len += strlen(c);
    }
    return len;
}

struct vocab {
    unsigned char tok[256 + MAXTOK][MAXLEN];
    size_t len[256 + MAXTOK];
    size_t n;
    uint32_t order[256 + MAXTOK]; /* rank -> token */
};

static void add(struct vocab *v, const unsigned char *s, size_t l)
{
    if (l < 2 || l > MAXLEN || v->n >= 256 + MAXTOK)
        return;
    for (size_t i = 0; i < v->n; i++)
        if (v->len[i] == l && memcmp(v->tok[i], s, l) == 0)
            return;
    memcpy(v->tok[v->n], s, l);
    v->len[v->n++] = l;
}

/* Tokens: two earlier ones joined (as BPE training makes them) where they
 * meet in made-up text, and some pieces of made-up text at any byte, in
 * the order made; then `swaps` random exchanges of ranks. */
static void make_vocab(struct vocab *v, uint64_t *seed, int swaps)
{
    memset(v, 0, sizeof *v);
    for (int b = 0; b < 256; b++) {
        v->tok[b][0] = (unsigned char)b;
        v->len[b] = 1;
    }
    v->n = 256;
    int rounds = 60 + (int)(tu_rand(seed) % 100);
    for (int k = 0; k < rounds; k++) {
        unsigned char text[64];
        size_t tl = make_text(text, 8, seed);
        size_t at = tu_rand(seed) % tl, l = 2 + tu_rand(seed) % 6;
        if (at + l > tl)
            continue;
        if (tu_rand(seed) % 3) {
            /* Split the piece where BPE training would have joined two
             * tokens: both halves are made tokens first. */
            size_t cut = 1 + tu_rand(seed) % (l - 1);
            add(v, text + at, cut);
            add(v, text + at + cut, l - cut);
        }
        add(v, text + at, l);
    }
    for (size_t i = 0; i < v->n; i++)
        v->order[i] = (uint32_t)i;
    for (int k = 0; k < swaps; k++) {
        size_t x = 256 + tu_rand(seed) % (v->n - 256),
               y = 256 + tu_rand(seed) % (v->n - 256);
        uint32_t t = v->order[x];
        v->order[x] = v->order[y];
        v->order[y] = t;
    }
}

/* Loads v (tu_load_made_up()). */
static void load_vocab(const struct vocab *v, const char *dir, int compile,
                       struct akv_bpe_data *d)
{
    const unsigned char *tok[256 + MAXTOK];
    size_t len[256 + MAXTOK];
    for (size_t r = 0; r < v->n; r++) {
        tok[r] = (const unsigned char *)v->tok[v->order[r]];
        len[r] = v->len[v->order[r]];
    }
    tu_load_made_up(dir, v->n, tok, len, compile, d);
}

/*
 * Plain BPE of p[0..len) starting from the parts that start at the offsets
 * where cut[] is set: the adjacent pair whose bytes have the lowest rank,
 * the leftmost on a tie, until no pair is a token. Writes the ids to ids[]
 * and returns how many.
 */
static size_t plain_bpe(const struct akv_bpe_data *d, const unsigned char *p,
                        size_t len, const unsigned char *cut, uint32_t *ids)
{
    size_t start[256], n = 0;
    for (size_t i = 0; i < len; i++)
        if (cut[i])
            start[n++] = i;
    start[n] = len;
    for (;;) {
        uint32_t best = AKV_BPE_NONE;
        size_t at = 0;
        for (size_t k = 0; k + 1 < n; k++) {
            uint32_t r =
                akv_bpe_rank(d, p + start[k], start[k + 2] - start[k]);
            if (r < best) {
                best = r;
                at = k;
            }
        }
        if (best == AKV_BPE_NONE)
            break;
        memmove(start + at + 1, start + at + 2, (n - at - 1) * sizeof *start);
        n--;
    }
    for (size_t k = 0; k < n; k++)
        ids[k] = akv_bpe_rank(d, p + start[k], start[k + 1] - start[k]);
    return n;
}

static void test_against_plain_bpe(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    uint64_t seed = 0x2545f4914f6cdd1dull;
    size_t texts = 0, in_table = 0, with_checks = 0, left_out = 0,
           unchecked_wrong = 0;
    for (int k = 0; k < 200; k++) {
        struct vocab v;
        make_vocab(&v, &seed, (k % 3) * (int)(tu_rand(&seed) % 40));
        struct akv_bpe_data d;
        load_vocab(&v, dir, k % 2, &d);
        for (size_t c = 2; c < NALPHA; c++) {
            const unsigned char *b = (const unsigned char *)ALPHA[c];
            size_t l = strlen(ALPHA[c]);
            uint32_t cp = akv_bpe_utf8_char(b, l);
            const struct akv_bpe_char *e = akv_bpe_char_entry(&d, cp);
            if (e->tok != AKV_BPE_NONE) {
                in_table++;
                with_checks += (e->checks & 0xff) != 0;
                assert_int_equal(e->tok, akv_bpe_rank(&d, b, l));
            } else {
                left_out += akv_bpe_rank(&d, b, l) != AKV_BPE_NONE;
            }
        }
        for (int i = 0; i < 250; i++) {
            unsigned char text[4 * 40 + 4], cut[sizeof text];
            size_t len = make_text(text, 1 + tu_rand(&seed) % 40, &seed);
            uint32_t want[sizeof text], unchecked[sizeof text], *got;
            size_t ngot;
            memset(cut, 1, len);
            size_t nwant = plain_bpe(&d, text, len, cut, want);
            assert_ok(akv_bpe_piece_ids(&d, 0, text, len, &got, &ngot));
            if (ngot != nwant || memcmp(got, want, 4 * nwant) != 0)
                fail_msg("vocabulary %d: text %d of %zu bytes gives %zu ids, "
                         "BPE %zu",
                         k, i, len, ngot, nwant);
            free(got);
            texts++;
            /* Every character that is a token started as that token. */
            for (size_t j = 0; j < len;) {
                size_t l = text[j] < 0x80 ? 1 : text[j] < 0xe0 ? 2
                                           : text[j] < 0xf0 ? 3 : 4;
                int whole = l > 1 && akv_bpe_rank(&d, text + j, l) !=
                                         AKV_BPE_NONE;
                for (size_t m = 1; m < l; m++)
                    cut[j + m] = !whole;
                j += l;
            }
            size_t nu = plain_bpe(&d, text, len, cut, unchecked);
            unchecked_wrong +=
                nu != nwant || memcmp(unchecked, want, 4 * nwant) != 0;
        }
        akv_bpe_data_free(&d);
    }
    print_message("%zu texts; characters in the table %zu (with checks "
                  "%zu), tokens left out %zu; texts where starting every "
                  "character as its token is wrong %zu\n",
                  texts, in_table, with_checks, left_out, unchecked_wrong);
    assert_true(in_table > 100);
    assert_true(with_checks > 50);
    assert_true(left_out > 5);
    assert_true(unchecked_wrong > 500);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_plain_bpe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

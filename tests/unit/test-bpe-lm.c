/*
 * test-bpe-lm.c — the longest-match encoder (bpe.c) against BPE merging
 * from single bytes, on small made-up encodings where the cases that make
 * longest match go wrong are common: tokens that BPE of their own bytes
 * does not give, tokens made by merges of lower-ranked results (not in
 * rank order), runs of one letter where pairs tie, single bytes ranked
 * anywhere. Each encoding is written as a tiktoken JSON file and loaded
 * through bpe-data.c (every other one compiled to a table file first), so
 * the tables the build makes are the ones tested.
 *
 * For every text: either the longest-match encoder gives exactly the
 * merge's ids, or it declines and the merge's result holds a token it
 * does not match (never because its pair check turned down a right
 * answer). The test also checks that it covers what it is about: texts
 * where taking the longest token at each position would be wrong, texts
 * the encoder declines, and tokens it must not match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpe.h"
#include "testutil.h"

#define ALPHA "abcd"
#define NALPHA 4
#define MAXTOK 128
#define MAXLEN 8

struct vocab {
    char tok[256 + MAXTOK][MAXLEN + 1]; /* multi-byte tokens from 256 on */
    size_t len[256 + MAXTOK];
    size_t n;                  /* tokens in all, bytes included */
    uint32_t order[256 + MAXTOK]; /* rank -> token */
};

static int known(const struct vocab *v, const char *s, size_t l)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->len[i] == l && memcmp(v->tok[i], s, l) == 0)
            return 1;
    return 0;
}

static void add(struct vocab *v, const char *s, size_t l)
{
    if (l < 2 || l > MAXLEN || v->n >= 256 + MAXTOK || known(v, s, l))
        return;
    memcpy(v->tok[v->n], s, l);
    v->len[v->n++] = l;
}

/* A made-up encoding: tokens grown by joining two earlier ones (as BPE
 * training makes them) and some random strings, ranked in the order they
 * were made, then disordered by `swaps` random exchanges of ranks. */
static void make_vocab(struct vocab *v, uint64_t *seed, int swaps)
{
    memset(v, 0, sizeof *v);
    for (int b = 0; b < 256; b++) {
        v->tok[b][0] = (char)b;
        v->len[b] = 1;
    }
    v->n = 256;
    int grown = 20 + (int)(tu_rand(seed) % 60),
        random = (int)(tu_rand(seed) % 25);
    for (int k = 0; k < grown + random; k++) {
        char s[2 * MAXLEN];
        size_t l;
        if (k < grown) {
            /* Two earlier tokens among the letters and the multi-byte
             * ones. */
            size_t pick[2];
            for (int j = 0; j < 2; j++) {
                size_t r = tu_rand(seed) % (NALPHA + (v->n - 256));
                pick[j] = r < NALPHA ? (unsigned char)ALPHA[r]
                                     : 256 + r - NALPHA;
            }
            l = v->len[pick[0]] + v->len[pick[1]];
            if (l > MAXLEN)
                continue;
            memcpy(s, v->tok[pick[0]], v->len[pick[0]]);
            memcpy(s + v->len[pick[0]], v->tok[pick[1]], v->len[pick[1]]);
        } else {
            l = 2 + tu_rand(seed) % 5;
            for (size_t i = 0; i < l; i++)
                s[i] = ALPHA[tu_rand(seed) % NALPHA];
        }
        add(v, s, l);
    }
    for (size_t i = 0; i < v->n; i++)
        v->order[i] = (uint32_t)i;
    /* Exchanges among the letters and the multi-byte tokens. */
    size_t pool = NALPHA + (v->n - 256);
    for (int k = 0; k < swaps; k++) {
        size_t x = tu_rand(seed) % pool, y = tu_rand(seed) % pool;
        x = x < NALPHA ? (unsigned char)ALPHA[x] : 256 + x - NALPHA;
        y = y < NALPHA ? (unsigned char)ALPHA[y] : 256 + y - NALPHA;
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

static int usable(const struct akv_bpe_data *d, uint32_t t)
{
    return d->tok_len[t] == 1 || d->lm_tree[2 * (size_t)t] < d->nranks;
}

/* Longest usable token at each position, with no pair check: 1 when that
 * gives ids[0..n). */
static int greedy_gives(const struct akv_bpe_data *d, const unsigned char *p,
                        size_t len, const uint32_t *ids, size_t n)
{
    size_t k = 0;
    for (size_t pos = 0; pos < len; k++) {
        uint32_t best = d->byte_rank[p[pos]];
        size_t bl = 1;
        for (size_t l = 2; l <= MAXLEN && pos + l <= len; l++) {
            uint32_t r = akv_bpe_rank(d, p + pos, l);
            if (r != AKV_BPE_NONE && usable(d, r)) {
                best = r;
                bl = l;
            }
        }
        if (k >= n || ids[k] != best)
            return 0;
        pos += bl;
    }
    return k == n;
}

static void test_against_merging(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    size_t matched = 0, declined = 0, not_greedy = 0, unusable = 0;
    for (int k = 0; k < 160; k++) {
        struct vocab v;
        make_vocab(&v, &seed, (k % 4) * (int)(tu_rand(&seed) % 12));
        struct akv_bpe_data d;
        load_vocab(&v, dir, k % 2, &d);
        for (uint32_t t = 0; t < d.nranks; t++)
            unusable += !usable(&d, t);
        for (int i = 0; i < 300; i++) {
            unsigned char text[160];
            size_t len = 1 + tu_rand(&seed) % (i % 10 ? 40 : sizeof text);
            for (size_t j = 0; j < len; j++) /* now and then a byte of
                                               * no multi-byte token */
                text[j] = tu_rand(&seed) % 50
                              ? (unsigned char)ALPHA[tu_rand(&seed) % NALPHA]
                              : 'e';
            uint32_t *want, *got;
            size_t nwant, ngot;
            assert_ok(akv_bpe_piece_ids(&d, 0, text, len, &want, &nwant));
            int rc = akv_bpe_piece_ids(&d, 1, text, len, &got, &ngot);
            if (rc == AKV_ENOTFOUND) {
                /* Declined: only when BPE's result has a token the
                 * encoder does not match. */
                int has = 0;
                for (size_t j = 0; j < nwant; j++)
                    has |= !usable(&d, want[j]);
                if (!has)
                    fail_msg("vocabulary %d: declined '%.*s'", k, (int)len,
                             text);
                declined++;
            } else {
                assert_ok(rc);
                if (ngot != nwant || memcmp(got, want, 4 * nwant) != 0)
                    fail_msg("vocabulary %d: '%.*s' gives %zu ids, BPE %zu",
                             k, (int)len, text, ngot, nwant);
                matched++;
                not_greedy += !greedy_gives(&d, text, len, want, nwant);
            }
            free(want);
            free(got);
        }
        akv_bpe_data_free(&d);
    }
    print_message("matched %zu (%zu where the longest token at each "
                  "position is wrong), declined %zu, unusable tokens %zu\n",
                  matched, not_greedy, declined, unusable);
    assert_true(matched > 30000);
    assert_true(not_greedy > 1000);
    assert_true(declined > 100);
    assert_true(unusable > 100);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_merging),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

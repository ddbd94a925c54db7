/*
 * bpe.c — the tokenizer: byte-level BPE that gives the same ids as OpenAI's
 * tiktoken (encode_ordinary) for o200k_base and cl100k_base.
 *
 * Encoding text is three steps, each the same as tiktoken's:
 *   1. Input bytes that are not valid UTF-8 are replaced the way the WHATWG
 *      UTF-8 decoder replaces them (one U+FFFD per maximal ill-formed
 *      subsequence), because that is the string tiktoken receives when the
 *      same bytes are read as text (docs/tokenizer.md).
 *   2. The encoding's "pre-split" regular expression cuts the text into
 *      pieces (bpe-split.c, the same patterns written out by hand); tokens
 *      never cross a piece.
 *   3. Each piece that is a token by itself becomes that token. Any other
 *      piece starts as single bytes, and the adjacent pair whose
 *      concatenation has the lowest rank is merged, the leftmost pair on a
 *      tie, until no adjacent pair is a token. The ranks are the token ids.
 *
 * What this file does not do: special tokens in the input are plain text
 * (encode_ordinary semantics) and there is no "allowed special" mode;
 * reading the encoding data is bpe-data.c's job. Each encoding's name is
 * tied to its pattern here, and the data file must carry tiktoken's
 * spelling of that same pattern (checked on load), so data for a different
 * pattern is refused rather than silently mis-tokenized.
 *
 * Concurrency: encodings are loaded once per process under load_lock and are
 * immutable afterwards, so any number of threads encode with one handle at
 * once; everything mutable during an encode lives in that call's own
 * struct work. Loaded encodings are never freed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "agentkv-tokens.h"
#include "bpe.h"
#include "internal.h"

#ifndef AKV_SHARE_DIR
#define AKV_SHARE_DIR "/usr/local/share/agentkv"
#endif

#define NONE AKV_BPE_NONE
#define SMALL_PIECE 64       /* longer pieces use the heap merge */
#define LM_MIN_PIECE 256     /* longer ones the longest-match encoder */

/* ------------------------------------------------------------------------ */
/* Patterns                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * The pat_str of each data file, as tiktoken spells it (checked on load).
 * The pre-split runs these patterns as bpe-split.c writes them out, with
 * the Unicode classes of the version tiktoken's regex engine uses.
 */
static const char O200K_TIKTOKEN[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+"
    "|\\s+(?!\\S)|\\s+";
static const char CL100K_TIKTOKEN[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+"
    "|\\s+(?!\\S)|\\s+";

struct encoding_def {
    const char *name;
    /* The ends of the pieces from i on (bpe.h). */
    size_t (*pieces)(const unsigned char *s, size_t n, size_t i,
                     size_t *ends, size_t max);
    const char *tiktoken; /* the pattern the data file must carry */
};

static const struct encoding_def defs[] = {
    {.name = "o200k_base",
     .pieces = akv_bpe_pieces_o200k,
     .tiktoken = O200K_TIKTOKEN},
    {.name = "cl100k_base",
     .pieces = akv_bpe_pieces_cl100k,
     .tiktoken = CL100K_TIKTOKEN},
};
#define NDEFS (sizeof defs / sizeof defs[0])

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

struct akv_encoding {
    const struct encoding_def *def;
    struct akv_bpe_data d;
};

static void encoding_free(akv_encoding *e)
{
    akv_bpe_data_free(&e->d);
    free(e);
}

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static akv_encoding *loaded[NDEFS]; /* under load_lock */

/* Tries each data directory in turn (see akv_encoding_load() in
 * agentkv-tokens.h). Called with load_lock held. */
static int load_def(const struct encoding_def *def, akv_encoding **out)
{
    const char *env = getenv(AKV_TOKENIZER_DIR_ENV);
    /* An installed tree moved after the build (cmake --install --prefix
     * elsewhere, a package unpacked anywhere) still has its data beside its
     * library or executable (datadir.c); that wins over the build-time
     * install path. */
    char rel[2][AKV_DATA_PATH_MAX];
    size_t nrel = akv_data_dirs("tokenizers", rel);
    const char *dirs[] = {
        env && *env ? env : NULL,
        nrel > 0 ? rel[0] : NULL,
        nrel > 1 ? rel[1] : NULL,
        AKV_SHARE_DIR "/tokenizers",
#ifdef AKV_BUILD_TOKENIZER_DIR
        AKV_BUILD_TOKENIZER_DIR,
#endif
#ifdef AKV_SOURCE_TOKENIZER_DIR
        AKV_SOURCE_TOKENIZER_DIR,
#endif
    };
    akv_encoding *e = calloc(1, sizeof *e);
    if (e == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory loading %s", def->name);
    e->def = def;
    char tried[600] = "";
    size_t tl = 0;
    int rc = AKV_ENOTFOUND;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (dirs[i] == NULL)
            continue;
        rc = akv_bpe_data_load(dirs[i], def->name, def->tiktoken, &e->d);
        if (rc != AKV_ENOTFOUND)
            break;
        if (tl < sizeof tried) {
            int k = snprintf(tried + tl, sizeof tried - tl, "%s%s",
                             tl ? ", " : "", dirs[i]);
            if (k > 0)
                tl += (size_t)k;
        }
    }
    if (rc == AKV_ENOTFOUND)
        rc = akv_fail(AKV_EUNAVAILABLE,
                      "no data for encoding %s (looked for %s.bin or .json "
                      "in %s); run scripts/fetch-tokenizers.sh (make deps) "
                      "or set %s",
                      def->name, def->name, tried, AKV_TOKENIZER_DIR_ENV);
    if (rc != AKV_OK) {
        encoding_free(e);
        return rc;
    }
    *out = e;
    return AKV_OK;
}

int akv_encoding_load(const char *name, const akv_encoding **out)
{
    if (out == NULL)
        return akv_fail(AKV_EINVAL, "akv_encoding_load: out is NULL");
    *out = NULL;
    if (name == NULL)
        name = AKV_ENCODING_DEFAULT;
    size_t i = 0;
    while (i < NDEFS && strcmp(defs[i].name, name) != 0)
        i++;
    if (i == NDEFS) {
        char shown[AKV_QUOTE_BUF];
        return akv_fail(AKV_EINVAL,
                        "unknown encoding '%s' (o200k_base or cl100k_base)",
                        akv_quote(shown, name, strlen(name)));
    }
    pthread_mutex_lock(&load_lock);
    int rc = AKV_OK;
    if (loaded[i] == NULL)
        rc = load_def(&defs[i], &loaded[i]);
    *out = loaded[i];
    pthread_mutex_unlock(&load_lock);
    return rc;
}

const char *akv_encoding_name(const akv_encoding *enc)
{
    return enc ? enc->def->name : NULL;
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Length of the well-formed UTF-8 sequence at s[0..n) (n >= 1, s[0] >=
 * 0x80), or the negated length of its maximal ill-formed subpart: the
 * bytes a WHATWG decoder replaces with one U+FFFD. The second byte's range
 * depends on the lead byte (no overlongs, surrogates, or > U+10FFFF).
 */
static inline long utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t need;
    if (c >= 0xc2 && c <= 0xdf)
        need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return -1;
    for (size_t k = 1; k <= need; k++) {
        if (k >= n || s[k] < lo || s[k] > hi)
            return -(long)k;
        lo = 0x80;
        hi = 0xbf;
    }
    return (long)need + 1;
}

/* Offset of the first ill-formed byte of s[i..n), or n; s[i] starts a
 * character. One character at a time. */
static size_t utf8_scan_from(const unsigned char *s, size_t n, size_t i)
{
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* The common well-formed sequences first, without utf8_seq():
         * two bytes, and three bytes not led by ED (surrogates). */
        if (c >= 0xc2 && c <= 0xdf && n - i >= 2 &&
            (s[i + 1] & 0xc0) == 0x80) {
            i += 2;
            continue;
        }
        if (c >= 0xe0 && c != 0xed && c <= 0xef && n - i >= 3 &&
            (s[i + 1] & 0xc0) == 0x80 && (c != 0xe0 || s[i + 1] >= 0xa0) &&
            (s[i + 2] & 0xc0) == 0x80) {
            i += 3;
            continue;
        }
        long k = utf8_seq(s + i, n - i);
        if (k < 0)
            return i;
        i += (size_t)k;
    }
    return n;
}

/*
 * The check of 16 bytes at s against the rules of well-formed UTF-8:
 * each is a continuation byte (80..BF) exactly when a lead byte one, two
 * or three bytes before asks for one there (C2..DF one, E0..EF two,
 * F0..F4 three); none is C0, C1 or F5..FF; and the byte after E0, ED, F0
 * or F4 is in the narrower range Unicode gives it (no overlongs, no
 * surrogates, nothing above U+10FFFF). The 3 bytes before s are read for
 * their lead bytes: they must have passed the same check (or be ASCII).
 * A character that ends past the 16 bytes is checked with the next block.
 * Sixteen positions at once, with the GCC and Clang vector extensions
 * (SSE2 on x86-64).
 */
typedef uint8_t utf8_vec __attribute__((vector_size(16)));
typedef int8_t utf8_svec __attribute__((vector_size(16)));

/* Whether any byte of v has its high bit set. */
static inline int utf8_high(utf8_vec v)
{
#ifdef __SSE2__
    return _mm_movemask_epi8((__m128i)v) != 0;
#else
    uint64_t w[2];
    memcpy(w, &v, 16);
    return ((w[0] | w[1]) & 0x8080808080808080ull) != 0;
#endif
}

/* The positions of the 16 bytes at s that break a rule (all bits set). */
static inline utf8_svec utf8_block_bad(const unsigned char *s)
{
    utf8_vec b0, b1, b2, b3;
    memcpy(&b0, s, 16);
    memcpy(&b1, s - 1, 16);
    memcpy(&b2, s - 2, 16);
    memcpy(&b3, s - 3, 16);
    utf8_svec c0 = (utf8_svec)b0;
    /* As signed bytes 80..BF are -128..-65 and C0..FF are -64..-1. A byte
     * is misplaced when it is a continuation byte and no lead byte asks
     * for one there, or neither. */
    utf8_svec cont = c0 < -64;
    utf8_svec unasked = (utf8_svec)(b1 < 0xc0) & (utf8_svec)(b2 < 0xe0) &
                        (utf8_svec)(b3 < 0xf0);
    return (cont == unasked) | (utf8_svec)((b0 & 0xfe) == 0xc0) |
           (utf8_svec)(b0 > 0xf4) |
           ((utf8_svec)(b1 == 0xe0) & (c0 < -96)) |  /* < A0 */
           ((utf8_svec)(b1 == 0xed) & (c0 > -97)) |  /* > 9F */
           ((utf8_svec)(b1 == 0xf0) & (c0 < -112)) | /* < 90 */
           ((utf8_svec)(b1 == 0xf4) & (c0 > -113));  /* > 8F */
}

/* Whether the 32 bytes at s (or 16 when !two) break no rule; s[-3 .. 32)
 * (or s[-3 .. 16)) all ASCII is answered first. */
static inline int utf8_blocks_ok(const unsigned char *s, int two)
{
    utf8_vec x, y, z;
    memcpy(&x, s - 3, 16);
    memcpy(&y, s, 16);
    memcpy(&z, s + (two ? 16 : 0), 16);
    if (!utf8_high(x | y | z))
        return 1;
    utf8_svec bad = utf8_block_bad(s);
    if (two)
        bad |= utf8_block_bad(s + 16);
    return !utf8_high((utf8_vec)bad);
}

/* Offset of the first ill-formed byte of s[0..n), or n. Blocks of 32 and
 * then 16 bytes go through utf8_blocks_ok() (the first one with three
 * ASCII bytes before it); the bytes after the last good block are read
 * one character at a time, from the start of the character they begin
 * in. */
static size_t utf8_scan(const unsigned char *s, size_t n)
{
    if (n < 16)
        return utf8_scan_from(s, n, 0);
    unsigned char head[19] = {0};
    memcpy(head + 3, s, 16);
    if (!utf8_blocks_ok(head + 3, 0))
        return utf8_scan_from(s, n, 0);
    size_t i = 16;
    while (n - i >= 32 && utf8_blocks_ok(s + i, 1))
        i += 32;
    while (n - i >= 16 && utf8_blocks_ok(s + i, 0))
        i += 16;
    /* Every position before i is well-formed as far as it goes, so the
     * character that position i is in starts at the lead byte, if any,
     * among the three before it that asks for a byte at i or later. */
    if (s[i - 1] >= 0xc0)
        i -= 1;
    else if (s[i - 2] >= 0xe0)
        i -= 2;
    else if (s[i - 3] >= 0xf0)
        i -= 3;
    return utf8_scan_from(s, n, i);
}

/* Copies s[0..n) into a new buffer with every maximal ill-formed subpart
 * replaced by EF BF BD. valid is utf8_scan()'s result (< n). */
static int utf8_replace(const unsigned char *s, size_t n, size_t valid,
                        unsigned char **out, size_t *outlen)
{
    /* Each replaced byte grows to at most three. */
    if (n > SIZE_MAX / 3)
        return akv_fail(AKV_ENOMEM, "input too large");
    unsigned char *d = malloc(n * 3);
    if (d == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory replacing invalid UTF-8");
    memcpy(d, s, valid);
    size_t o = valid;
    for (size_t i = valid; i < n;) {
        if (s[i] < 0x80) {
            d[o++] = s[i++];
            continue;
        }
        long k = utf8_seq(s + i, n - i);
        if (k > 0) {
            memcpy(d + o, s + i, (size_t)k);
            o += (size_t)k;
            i += (size_t)k;
        } else {
            d[o++] = 0xef;
            d[o++] = 0xbf;
            d[o++] = 0xbd;
            i += (size_t)-k;
        }
    }
    *out = d;
    *outlen = o;
    return AKV_OK;
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

/* The state of one encode or count call. Nothing in it is shared. */
struct work {
    const akv_encoding *e;
    int count_only;
    uint32_t *ids;
    size_t n, cap;

    /* Scratch for the heap merge, grown as needed, kept across pieces. */
    uint32_t *scratch;
    size_t scratch_cap; /* in uint32_t */

    /* Caches for long texts (NULL below CACHE_MIN_TEXT bytes, where
     * setting them up would cost more than they save). */
    struct caches *c;
};

/*
 * What a long text asks again and again. The merge cache holds recent
 * answers of akv_bpe_merge(), as AKV_BPE_MERGE_SLOT(a, b, rank) with
 * MCACHE_NONE for "not a token", direct-mapped; UINT64_MAX (a key no ranks
 * make) when empty. The merge table is megabytes, so most of its probes
 * miss the CPU caches, while a text asks for the same pairs again and
 * again (the bytes of the characters of its script, its syllables).
 *
 * The piece cache maps a piece of 3 .. PCACHE_MAX_LEN bytes to its ids
 * (one or more): words recur. (A piece of up to 8 bytes that is one
 * token goes to the short-piece cache below instead.) Entries are direct-mapped by the piece's
 * akv_bpe_hash(); an entry's bytes and ids lie in pool at off (the bytes,
 * then the ids, 4-aligned; no ids when counting). When the pool is full it
 * is reused from the start and gen is bumped, which invalidates every
 * entry at once (an entry is valid when its gen is the current one). A hit
 * compares the bytes, so the cache never changes a result.
 *
 * The pair cache holds recent answers of lm_compat() (the longest-match
 * encoder's "does BPE keep tokens a and b apart"), as
 * AKV_BPE_MERGE_KEY(a, b) << 1 | answer, direct-mapped, UINT64_MAX when
 * empty: neighbouring tokens recur as words do.
 */
#define CACHE_MIN_TEXT 16384
#define CCACHE_BITS 14
#define CCACHE_SLOTS ((size_t)1 << CCACHE_BITS)
#define MCACHE_BITS 14
#define MCACHE_SLOTS ((size_t)1 << MCACHE_BITS)
#define MCACHE_NONE AKV_BPE_MAX_RANKS
#define PCACHE_BITS 14
#define PCACHE_SLOTS ((size_t)1 << PCACHE_BITS)
#define PCACHE_MAX_LEN 64
#define PCACHE_POOL ((size_t)1024 * 1024)

struct pentry {
    uint32_t tag, off, gen;
    uint16_t len, nids;
};

/* The short-piece cache: pieces of 3 .. 8 bytes that are one token (most
 * words of English and code), keyed by their bytes in one word (as
 * akv_bpe_load_tail() reads them) and their length, direct-mapped, so
 * that a hit costs neither the piece's hash nor a look at the pool. An
 * entry's len is 0 when empty. */
#define SCACHE_BITS 12
#define SCACHE_SLOTS ((size_t)1 << SCACHE_BITS)

struct sentry {
    uint64_t word;
    uint32_t len, rank;
};

struct caches {
    uint64_t mcache[MCACHE_SLOTS];
    struct sentry scache[SCACHE_SLOTS];
    struct pentry pcache[PCACHE_SLOTS];
    uint32_t gen;
    uint64_t ccache[CCACHE_SLOTS];
    size_t pool_used;
    unsigned char pool[PCACHE_POOL];
};

/* akv_bpe_merge() through the merge cache. */
static inline __attribute__((always_inline)) uint32_t
merge_rank(struct work *w, uint32_t a, uint32_t b)
{
    if (w->c == NULL)
        return akv_bpe_merge(&w->e->d, a, b);
    uint64_t *c =
        &w->c->mcache[akv_bpe_merge_hash(a, b) >> (32 - MCACHE_BITS)];
    /* The merge table's filter word is fetched before the cache slot is
     * compared, so that when both miss the CPU caches the two waits
     * overlap. */
    const struct akv_bpe_data *d = &w->e->d;
    uint32_t fw = (uint32_t)(akv_bpe_filter_hash(a, b) >> 40);
    __builtin_prefetch(&d->filter[fw & d->filter_mask]);
    if (*c >> AKV_BPE_RANK_BITS == AKV_BPE_MERGE_KEY(a, b)) {
        uint32_t r = (uint32_t)(*c & MCACHE_NONE);
        return r == MCACHE_NONE ? NONE : r;
    }
    uint32_t r = akv_bpe_merge(d, a, b);
    *c = AKV_BPE_MERGE_SLOT(a, b, r == NONE ? MCACHE_NONE : r);
    return r;
}

/* The heap merge (below) is rare; kept out of line, it leaves the loop
 * over the pieces (encode_text()) its registers. */
static __attribute__((noinline)) int bpe_large(struct work *w,
                                               const unsigned char *p,
                                               size_t len);

static inline int emit(struct work *w, uint32_t id)
{
    if (!w->count_only) {
        if (w->n == w->cap) {
            size_t ncap = w->cap ? w->cap * 2 : 256;
            uint32_t *ni = ncap > SIZE_MAX / sizeof *ni
                               ? NULL
                               : realloc(w->ids, ncap * sizeof *ni);
            if (ni == NULL)
                return akv_fail(AKV_ENOMEM, "out of memory encoding");
            w->ids = ni;
            w->cap = ncap;
        }
        w->ids[w->n] = id;
    }
    w->n++;
    return AKV_OK;
}

/*
 * 1 when none of the checks of character entry ch (bpe.h) finds its token
 * in piece p[0..len) around the character at p + i: then the character
 * may start as ch->tok. A check range outside the table (a damaged file)
 * answers 0.
 */
static inline int char_clear(const struct akv_bpe_data *d,
                             const struct akv_bpe_char *ch,
                             const unsigned char *p, size_t len, size_t i)
{
    uint32_t first = ch->checks >> 8, n = ch->checks & 0xff;
    if (n == 0)
        return 1;
    if (first > d->char_nchecks || n > d->char_nchecks - first)
        return 0;
    const struct akv_bpe_char_check *c = d->char_checks + first;
    for (uint32_t k = 0; k < n; k++, c++) {
        if (c->at < 0 ? (size_t)-c->at > i : (size_t)c->at > len - i)
            continue;
        size_t start = i + (size_t)(ptrdiff_t)c->at; /* wraps back */
        if (c->len > len - start || c->len == 0)
            continue;
        size_t head = c->len < 8 ? c->len : 8;
        if (akv_bpe_load_tail(p + start, head) != c->head)
            continue;
        if (c->len > 8) {
            uint32_t o = c->tok < d->nranks ? d->tok_off[c->tok] : NONE;
            if (o > d->bytes_len || d->bytes_len - o < c->len ||
                memcmp(p + start + 8, d->bytes + o + 8, c->len - 8u) != 0)
                continue;
        }
        return 0; /* the token stands here */
    }
    return 1;
}

/*
 * The parts that merging starts from for piece p[0..len): one per byte,
 * except that a character of the character table (bpe.h; why that gives
 * BPE's result is in bpe-data.c) starts as its token where its checks
 * allow. Writes part k's token to tok[k] and the rank of part k joined
 * with part k + 1 to pr[k] (NONE for the last part), and returns the
 * number of parts. Pieces are
 * well-formed UTF-8 when encoding; of other bytes (akv_bpe_piece_ids()),
 * whatever is not one whole character stays bytes.
 */
static size_t start_parts(struct work *w, const unsigned char *p, size_t len,
                          uint32_t *tok, uint32_t *pr)
{
    const struct akv_bpe_data *d = &w->e->d;
    size_t n = 0;
    int bytes_before = 0; /* part n - 1 is the single byte p[i - 1] */
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        uint32_t t = NONE;
        size_t l = 1;
        if (c >= 0xc2 && c < 0xf5) {
            l = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
            uint32_t cp = l <= len - i ? akv_bpe_utf8_char(p + i, l)
                                       : AKV_BPE_NOT_A_CHAR;
            if (cp != AKV_BPE_NOT_A_CHAR) {
                const struct akv_bpe_char *ch = akv_bpe_char_entry(d, cp);
                /* NONE, or a damaged table's value, is no token. */
                if (ch->tok < d->nranks && char_clear(d, ch, p, len, i))
                    t = ch->tok;
            }
            if (t == NONE)
                l = 1;
        }
        if (t == NONE) {
            tok[n] = d->byte_rank[c];
            if (n > 0)
                pr[n - 1] = bytes_before
                                ? d->pair_rank[(size_t)p[i - 1] << 8 | c]
                                : merge_rank(w, tok[n - 1], tok[n]);
            bytes_before = 1;
        } else {
            tok[n] = t;
            if (n > 0)
                pr[n - 1] = merge_rank(w, tok[n - 1], t);
            bytes_before = 0;
        }
        n++;
        i += l;
    }
    pr[n - 1] = NONE;
    return n;
}

/*
 * BPE over at most SMALL_PIECE parts tok[0..n) with pair ranks pr[0..n)
 * (start_parts()). Parts are indexed by their place at the start (a part
 * keeps its index when it absorbs its right neighbour) and linked by
 * next[]. key[i] packs part i's pair rank with its right neighbour above
 * its index, SMALL_KEY(r, i), and is SMALL_DEAD for a part that was
 * absorbed or has no mergeable neighbour: the smallest key is then the
 * leftmost pair of lowest rank, which each round merges. Finding it is a
 * branch-free minimum over the parts, so this is quadratic in their
 * number, which for short pieces beats any cleverer structure.
 */
#define SMALL_SHIFT 6 /* 1 << SMALL_SHIFT >= SMALL_PIECE */
#define SMALL_KEY(r, i) ((r) << SMALL_SHIFT | (uint32_t)(i))
#define SMALL_DEAD UINT32_MAX /* above every key */

/* The key of part i with pair rank r. Ranks are below AKV_BPE_MAX_RANKS
 * (2^21); a larger value, NONE or one read from a damaged table file's
 * pair_rank, counts as no pair, so that a key's index bits are always a
 * part of the piece. */
static inline uint32_t small_key(uint32_t r, size_t i)
{
    return r >= AKV_BPE_MAX_RANKS ? SMALL_DEAD : SMALL_KEY(r, i);
}

/* The smallest of key[0 .. n), n a multiple of 4, four at a time (GCC and
 * Clang vector extensions; SSE2 on x86-64). */
typedef uint32_t small_vec __attribute__((vector_size(16)));

static inline uint32_t small_min(const uint32_t *key, size_t n)
{
    small_vec m;
    memcpy(&m, key, sizeof m);
    for (size_t i = 4; i < n; i += 4) {
        small_vec x;
        memcpy(&x, key + i, sizeof x);
        small_vec lt = (small_vec)(x < m);
        m = (x & lt) | (m & ~lt);
    }
    uint32_t a = m[0] < m[1] ? m[0] : m[1], b = m[2] < m[3] ? m[2] : m[3];
    return a < b ? a : b;
}

static int merge_small(struct work *w, uint32_t *tok, const uint32_t *pr,
                       size_t n)
{
    uint32_t key[SMALL_PIECE];
    uint8_t next[SMALL_PIECE], prev[SMALL_PIECE];
    for (size_t i = 0; i < n; i++) {
        key[i] = small_key(pr[i], i);
        next[i] = (uint8_t)(i + 1);
        prev[i] = (uint8_t)(i - 1); /* 255 for the first: never read */
    }
    /* Keys from n on, to a multiple of four, are dead (as is the last
     * part's: its pr is NONE). */
    size_t nkeys = (n + 3) & ~(size_t)3;
    for (size_t i = n; i < nkeys; i++)
        key[i] = SMALL_DEAD;
    for (;;) {
        uint32_t best = small_min(key, nkeys);
        if (best == SMALL_DEAD)
            break;
        /* Merge part i with its right neighbour j. */
        size_t i = best & ((1u << SMALL_SHIFT) - 1), j = next[i];
        uint32_t t = best >> SMALL_SHIFT;
        tok[i] = t;
        key[j] = SMALL_DEAD;
        next[i] = next[j];
        if (next[j] < n) {
            prev[next[j]] = (uint8_t)i;
            key[i] = small_key(merge_rank(w, t, tok[next[j]]), i);
        } else {
            key[i] = SMALL_DEAD;
        }
        if (i > 0) {
            size_t k = prev[i];
            key[k] = small_key(merge_rank(w, tok[k], t), k);
        }
    }
    for (size_t i = 0; i < n; i = next[i]) {
        int rc = emit(w, tok[i]);
        if (rc != AKV_OK)
            return rc;
    }
    return AKV_OK;
}

/* BPE over a piece of 2 .. SMALL_PIECE bytes. Out of line, like the heap
 * merge: most pieces of a long text come from the caches, and the loop
 * over the pieces keeps its registers. */
static __attribute__((noinline)) int bpe_small(struct work *w,
                                               const unsigned char *p,
                                               size_t len)
{
    uint32_t tok[SMALL_PIECE], pr[SMALL_PIECE];
    size_t n = start_parts(w, p, len, tok, pr);
    return merge_small(w, tok, pr, n);
}

/* Makes w->scratch hold at least need 32-bit words, for a piece of len
 * bytes (named in the message when memory runs out). */
static int scratch_reserve(struct work *w, size_t need, size_t len)
{
    if (w->scratch_cap >= need)
        return AKV_OK;
    uint32_t *ns = need > SIZE_MAX / sizeof *ns
                       ? NULL
                       : realloc(w->scratch, need * sizeof *ns);
    if (ns == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory encoding a piece of %zu "
                        "bytes", len);
    w->scratch = ns;
    w->scratch_cap = need;
    return AKV_OK;
}

/*
 * BPE over a long piece, in O(n log n): the same merges as merge_small(),
 * in the same order. Parts (from start_parts()) form a doubly linked list
 * indexed by their place at the start (a part keeps its index when it
 * absorbs its right neighbour). Every part with a mergeable right
 * neighbour sits in a binary min-heap keyed by (pair rank, index), so the
 * root is always the pair merge_small() would pick; merging updates the
 * keys of the merged part and its left neighbour in place.
 */
#define HEAP_KEY(r, i) ((uint64_t)(r) << 32 | (uint32_t)(i))
#define HEAP_ARITY 4 /* four children: half the depth, one cache line */

/* An indexed min-heap of parts. key[] holds each slot's (rank, index) key
 * inline, so that sifting reads one array; hpos[] maps a part's index to
 * its slot, so that a part's key can change in place. */
struct lheap {
    uint64_t *key;  /* slot -> key */
    uint32_t *hpos; /* part index -> slot, NONE when absent */
    uint32_t *pr;   /* part index -> pair rank with the right neighbour */
    size_t n;
};

static inline void lh_set(struct lheap *h, size_t slot, uint64_t k)
{
    h->key[slot] = k;
    h->hpos[(uint32_t)k] = (uint32_t)slot;
}

static void lh_up(struct lheap *h, size_t slot, uint64_t k)
{
    while (slot > 0) {
        size_t parent = (slot - 1) / HEAP_ARITY;
        if (h->key[parent] <= k)
            break;
        lh_set(h, slot, h->key[parent]);
        slot = parent;
    }
    lh_set(h, slot, k);
}

static void lh_down(struct lheap *h, size_t slot, uint64_t k)
{
    for (;;) {
        size_t first = HEAP_ARITY * slot + 1;
        if (first >= h->n)
            break;
        size_t last = first + HEAP_ARITY < h->n ? first + HEAP_ARITY : h->n;
        size_t c = first;
        for (size_t j = first + 1; j < last; j++)
            if (h->key[j] < h->key[c])
                c = j;
        if (h->key[c] >= k)
            break;
        lh_set(h, slot, h->key[c]);
        slot = c;
    }
    lh_set(h, slot, k);
}

/* Puts key k at slot, moving it up or down as needed. */
static void lh_place(struct lheap *h, size_t slot, uint64_t k)
{
    if (slot > 0 && h->key[(slot - 1) / HEAP_ARITY] > k)
        lh_up(h, slot, k);
    else
        lh_down(h, slot, k);
}

static void lh_remove(struct lheap *h, uint32_t i)
{
    size_t slot = h->hpos[i];
    if (slot == NONE)
        return;
    h->hpos[i] = NONE;
    h->n--;
    if (slot == h->n)
        return;
    lh_place(h, slot, h->key[h->n]);
}

/* Sets part i's pair rank to r: moves it in the heap, adds or removes it. */
static void lh_update(struct lheap *h, uint32_t i, uint32_t r)
{
    h->pr[i] = r;
    if (r == NONE) {
        lh_remove(h, i);
        return;
    }
    uint64_t k = HEAP_KEY(r, i);
    if (h->hpos[i] == NONE)
        lh_up(h, h->n++, k);
    else
        lh_place(h, h->hpos[i], k);
}

static int bpe_large(struct work *w, const unsigned char *p, size_t len)
{
    /* key (two words per entry), then next, prev, tok, pr and hpos: seven
     * 32-bit words per byte of the piece, reused across pieces. */
    size_t need = len * 7;
    if (len >= NONE || need / 7 != len)
        return akv_fail(AKV_ENOMEM, "piece of %zu bytes is too long", len);
    int rc = scratch_reserve(w, need, len);
    if (rc != AKV_OK)
        return rc;
    uint64_t *key = (uint64_t *)(void *)w->scratch; /* malloc alignment */
    uint32_t *next = w->scratch + 2 * len, *prev = next + len;
    uint32_t *tok = prev + len;
    struct lheap h = {key, tok + 2 * len, tok + len, 0};

    size_t n = start_parts(w, p, len, tok, h.pr);
    if (n <= SMALL_PIECE)
        return merge_small(w, tok, h.pr, n);
    for (size_t i = 0; i < n; i++) {
        next[i] = i + 1 < n ? (uint32_t)(i + 1) : NONE;
        prev[i] = i > 0 ? (uint32_t)(i - 1) : NONE;
        h.hpos[i] = NONE;
        if (h.pr[i] != NONE)
            lh_set(&h, h.n++, HEAP_KEY(h.pr[i], i));
    }
    for (size_t s = h.n; s-- > 0;)
        lh_down(&h, s, h.key[s]);

    while (h.n > 0) {
        uint32_t i = (uint32_t)h.key[0];
        uint32_t j = next[i]; /* exists: i has a pair rank */
        tok[i] = h.pr[i];
        /* Unlink j. */
        lh_remove(&h, j);
        next[i] = next[j];
        if (next[j] != NONE)
            prev[next[j]] = i;
        /* New pair ranks of i (with its new right neighbour) and of its
         * left neighbour (with the grown i). */
        lh_update(&h, i, next[i] == NONE
                             ? NONE
                             : merge_rank(w, tok[i], tok[next[i]]));
        uint32_t k = prev[i];
        if (k != NONE)
            lh_update(&h, k, merge_rank(w, tok[k], tok[i]));
    }
    for (uint32_t i = 0; i != NONE; i = next[i]) {
        int rc = emit(w, tok[i]);
        if (rc != AKV_OK)
            return rc;
    }
    return AKV_OK;
}

/* Appends ids[0..k) (or counts them). */
static inline int emit_many(struct work *w, const uint32_t *ids, size_t k)
{
    if (w->count_only) {
        w->n += k;
        return AKV_OK;
    }
    for (size_t i = 0; i < k; i++) {
        int rc = emit(w, ids[i]);
        if (rc != AKV_OK)
            return rc;
    }
    return AKV_OK;
}

/*
 * Longest-match encoding, for pieces longer than LM_MIN_PIECE: the same
 * ids as the merges above, found without starting from single bytes. (On
 * shorter pieces the merges, whose lookups stay in the CPU's caches, are
 * faster than looking up whole tokens and their merge trees, which miss
 * them; on long ones the heap's work per merge grows and longest match
 * wins.) It walks the piece from the left, taking at each position the longest
 * usable token (bpe.h) that matches there and keeping it when BPE would
 * keep it apart from the token before it (lm_compat), else the next
 * shorter one; when none fits, it goes back and shortens the token before.
 * Why this gives BPE's result exactly:
 *
 * - Every token of BPE's result for a text is made, inside its own span,
 *   by exactly the merges BPE makes of the token's own bytes (a merge
 *   inside a span is the lowest-ranked pair of the whole text, so also of
 *   the span; the leftmost on a tie, so also within the span). So only
 *   tokens that BPE of their own bytes gives can occur.
 * - A sequence of such tokens t1..tk is BPE's result for their bytes if
 *   and only if BPE of each adjacent pair's bytes gives that pair: BPE of
 *   the pair sees a subset of the pairs the whole text's BPE sees, in the
 *   same left-to-right order, so until some merge crosses a boundary both
 *   make the same merges inside the two tokens in the same order, and a
 *   merge across the boundary in one is one in the other.
 * - Hence a sequence the walk reaches a position with is BPE's result for
 *   the bytes before it, the same whatever path led there, and a position
 *   from which no continuation fits can be marked dead for good: each
 *   position is left backwards at most once.
 *
 * lm_compat() decides "does BPE of bytes(a) + bytes(b) give a, b" from the
 * two merge trees. For usable tokens BPE of a token's bytes makes its
 * merges in order of rank (each merge makes a token of higher rank than
 * its parts, so no lower pair can appear later), and so does BPE of a
 * pair until it merges across the boundary (the left token first on equal
 * ranks). The pair across the boundary at any time is (R, L): R the
 * last-made node on a's right spine (a, its right part, that part's right
 * part, ... down to the last byte), L the same on b's left spine. While R
 * and L stand, the next merges come in rising rank order, so the cross
 * pair, of rank c, is merged iff it beats the merge that ends its time:
 * the making of R's parent on the spine (rank rho; it wins ties, being
 * further left: merged iff c < rho) or of L's parent (rank lam; the cross
 * pair wins ties: merged iff c <= lam), whichever comes first (rho <= lam:
 * R's parent). No parent is infinity: the whole a and b. Walking from
 * (a, b) down, each step undoes the later-made of R and L (a single byte
 * is made before everything), and the pair is kept apart iff no step's
 * cross pair is merged.
 *
 * A damaged table file can make this give wrong ids but never read out
 * of bounds or loop: every rank taken from the tables is checked, lengths
 * shrink along lm_next, and the walk is bounded.
 */

/* The longest usable token at p[0..n), n >= 1: a rank below nranks. The
 * prefix filter, asked at each character boundary, says how far one may
 * reach; the lengths up to there are then looked up from the longest
 * down. */
static inline uint32_t lm_longest(const struct akv_bpe_data *d,
                                  const unsigned char *p, size_t n)
{
    size_t lim = n < AKV_BPE_LM_MAX_LEN ? n : AKV_BPE_LM_MAX_LEN, k = lim;
    uint64_t h = akv_bpe_prefix_step(AKV_BPE_PREFIX_SEED, p[0]);
    for (size_t i = 1; i < lim; i++) {
        h = akv_bpe_prefix_step(h, p[i]);
        if (i + 1 < n && (p[i + 1] & 0xc0) == 0x80)
            continue; /* inside a character */
        if (!akv_bpe_prefix_maybe(d, akv_bpe_prefix_hash(h))) {
            k = i; /* no usable token is i + 1 bytes long or longer */
            break;
        }
    }
    for (; k >= 2; k--) {
        uint32_t r = akv_bpe_rank(d, p, k);
        if (r != NONE && d->lm_tree[2 * (size_t)r] < d->nranks)
            return r;
    }
    return d->byte_rank[p[0]];
}

/* The next shorter usable token that is a prefix of token t, or NONE. */
static inline uint32_t lm_shorter(const struct akv_bpe_data *d, uint32_t t)
{
    uint32_t s = d->lm_next[t];
    return s < d->nranks && d->tok_len[s] < d->tok_len[t] ? s : NONE;
}

/* 1 when BPE of bytes(a) + bytes(b) gives a, b (usable tokens). */
static int lm_compat_walk(struct work *w, uint32_t a, uint32_t b)
{
    const struct akv_bpe_data *d = &w->e->d;
    uint32_t rho = NONE, lam = NONE;
    for (int k = 0; k <= 2 * AKV_BPE_LM_MAX_LEN; k++) {
        uint32_t c = merge_rank(w, a, b);
        if (rho <= lam ? c < rho : c <= lam)
            return 0;
        uint32_t ar = d->lm_tree[2 * (size_t)a + 1];
        uint32_t bl = d->lm_tree[2 * (size_t)b];
        int aleaf = ar >= d->nranks, bleaf = bl >= d->nranks;
        if (aleaf && bleaf)
            break;
        if (!aleaf && (bleaf || a > b)) {
            rho = a;
            a = ar;
        } else {
            lam = b;
            b = bl;
        }
    }
    return 1;
}

/* lm_compat_walk() through the pair cache. */
static inline int lm_compat(struct work *w, uint32_t a, uint32_t b)
{
    if (w->c == NULL)
        return lm_compat_walk(w, a, b);
    uint64_t key = AKV_BPE_MERGE_KEY(a, b);
    uint64_t *c =
        &w->c->ccache[akv_bpe_merge_hash(b, a) >> (32 - CCACHE_BITS)];
    if (*c >> 1 == key)
        return (int)(*c & 1);
    int ok = lm_compat_walk(w, a, b);
    *c = key << 1 | (uint64_t)ok;
    return ok;
}

/* Encodes p[0..len) by longest match: AKV_OK with the ids emitted, or
 * AKV_ENOTFOUND, nothing emitted, when BPE's result for the piece has a
 * token that is not usable (the caller merges it from bytes then). */
static int bpe_longest(struct work *w, const unsigned char *p, size_t len)
{
    const struct akv_bpe_data *d = &w->e->d;
    /* The tokens taken so far and where each starts, and the positions
     * known to be dead. */
    uint32_t stack_buf[SMALL_PIECE], at_buf[SMALL_PIECE];
    uint64_t dead_buf[SMALL_PIECE / 64 + 1];
    uint32_t *stack = stack_buf, *at = at_buf;
    uint64_t *dead = dead_buf;
    size_t words = len / 64 + 1;
    if (len > SMALL_PIECE) {
        /* In the heap merge's scratch. */
        size_t need = 2 * len + 2 * words;
        if (len >= NONE)
            return AKV_ENOTFOUND;
        int rc = scratch_reserve(w, need, len);
        if (rc != AKV_OK)
            return rc;
        stack = w->scratch;
        at = stack + len;
        dead = (uint64_t *)(void *)(at + len); /* 8-aligned: 2 * len */
    }
    memset(dead, 0, words * sizeof *dead);
    size_t sp = 0, pos = 0;
    uint32_t cand = lm_longest(d, p, len);
    for (;;) {
        while (cand != NONE) {
            size_t l = d->tok_len[cand];
            size_t end = pos + l;
            if (l > 0 && l <= len - pos && !(dead[end / 64] >> end % 64 & 1) &&
                (sp == 0 || lm_compat(w, stack[sp - 1], cand))) {
                stack[sp] = cand;
                at[sp++] = (uint32_t)pos;
                pos = end;
                if (pos == len)
                    return emit_many(w, stack, sp);
                cand = lm_longest(d, p + pos, len - pos);
            } else {
                cand = lm_shorter(d, cand);
            }
        }
        dead[pos / 64] |= (uint64_t)1 << pos % 64;
        if (sp == 0)
            return AKV_ENOTFOUND;
        sp--;
        pos = at[sp];
        cand = lm_shorter(d, stack[sp]);
    }
}

/* Keeps the ids of piece p[0..len) (hash h), emitted from w->ids[first]
 * on, in the piece cache entry pe. */
static void pcache_put(struct work *w, struct pentry *pe,
                       const unsigned char *p, size_t len, uint64_t h,
                       size_t first)
{
    struct caches *c = w->c;
    size_t nids = w->n - first;
    size_t start = (len + 3) & ~(size_t)3;
    size_t need = start + (w->count_only ? 0 : nids * sizeof(uint32_t));
    if (c->pool_used + need > PCACHE_POOL) {
        c->pool_used = 0;
        c->gen++;
    }
    memcpy(c->pool + c->pool_used, p, len);
    if (!w->count_only)
        memcpy(c->pool + c->pool_used + start, w->ids + first,
               nids * sizeof(uint32_t));
    pe->tag = (uint32_t)(h >> 32);
    pe->off = (uint32_t)c->pool_used;
    pe->gen = c->gen;
    pe->len = (uint16_t)len;
    pe->nids = (uint16_t)nids;
    c->pool_used += need;
}

/* Whether a[0..n) and b[0..n) are the same bytes (n >= 1): what memcmp()
 * answers, in line, eight bytes at a time with the last eight (or the
 * tail of a short piece) read once. */
static inline int same_bytes(const unsigned char *a, const unsigned char *b,
                             size_t n)
{
    if (n <= 8)
        return akv_bpe_load_tail(a, n) == akv_bpe_load_tail(b, n);
    uint64_t x, y;
    for (size_t k = 0; k < n - 8; k += 8) {
        memcpy(&x, a + k, 8);
        memcpy(&y, b + k, 8);
        if (x != y)
            return 0;
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return x == y;
}

static inline int encode_piece(struct work *w, const unsigned char *p,
                               size_t len)
{
    const struct akv_bpe_data *d = &w->e->d;
    /* A piece that is a token by itself is that token, whatever merging
     * would do; tiktoken decides the same way before merging. Pieces of
     * three bytes or more go through the piece cache first. */
    if (len <= 2) {
        uint32_t r = akv_bpe_rank(d, p, len);
        return r != NONE ? emit(w, r) : bpe_small(w, p, len);
    }
    struct sentry *se = NULL;
    uint64_t word = 0;
    if (w->c && len <= 8) {
        word = akv_bpe_load_tail(p, len);
        se = &w->c->scache[((word ^ len) * 0x9e3779b97f4a7c15ull) >>
                           (64 - SCACHE_BITS)];
        if (se->word == word && se->len == len)
            return emit(w, se->rank);
    }
    uint64_t h = akv_bpe_hash(p, len);
    struct pentry *pe = NULL;
    if (w->c && len <= PCACHE_MAX_LEN) {
        pe = &w->c->pcache[(uint32_t)(h >> 40) & (PCACHE_SLOTS - 1)];
        if (pe->gen == w->c->gen && pe->tag == (uint32_t)(h >> 32) &&
            pe->len == len && same_bytes(w->c->pool + pe->off, p, len)) {
            const unsigned char *ids = w->c->pool + pe->off +
                                       ((len + 3) & ~(size_t)3);
            return emit_many(w, (const uint32_t *)(const void *)ids,
                             pe->nids);
        }
    }
    size_t first = w->n;
    uint32_t r = akv_bpe_rank_hashed(d, p, len, h);
    if (r != NONE && se) {
        se->word = word;
        se->len = (uint32_t)len;
        se->rank = r;
        return emit(w, r);
    }
    int rc = r != NONE           ? emit(w, r)
             : len <= SMALL_PIECE ? bpe_small(w, p, len)
             : len <= LM_MIN_PIECE ? bpe_large(w, p, len)
                                   : bpe_longest(w, p, len);
    if (rc == AKV_ENOTFOUND)
        rc = bpe_large(w, p, len);
    if (rc == AKV_OK && pe)
        pcache_put(w, pe, p, len, h, first);
    return rc;
}

int akv_bpe_piece_ids(const struct akv_bpe_data *d, int longest,
                      const unsigned char *p, size_t len, uint32_t **ids,
                      size_t *n)
{
    akv_encoding e = {.def = &defs[0], .d = *d};
    struct work w = {.e = &e};
    int rc = longest ? bpe_longest(&w, p, len)
             : len <= SMALL_PIECE ? bpe_small(&w, p, len)
                                  : bpe_large(&w, p, len);
    free(w.scratch);
    if (rc != AKV_OK) {
        free(w.ids);
        w.ids = NULL;
        w.n = 0;
    }
    *ids = w.ids;
    *n = w.n;
    return rc;
}

/* Splits valid UTF-8 text into pieces and encodes each. */
static int encode_text(struct work *w, const unsigned char *s, size_t n)
{
    size_t (*pieces)(const unsigned char *, size_t, size_t, size_t *,
                     size_t) = w->e->def->pieces;
    size_t ends[256];
    for (size_t off = 0; off < n;) {
        size_t k = pieces(s, n, off, ends, sizeof ends / sizeof ends[0]);
        for (size_t j = 0; j < k; j++) {
            size_t end = ends[j];
            if (end <= off || end > n) /* cannot happen: every character
                                        * starts a piece (bpe-split.c) */
                return akv_fail(AKV_EINVAL,
                                "pre-split stalled at byte %zu", off);
            int rc = encode_piece(w, s + off, end - off);
            if (rc != AKV_OK)
                return rc;
            off = end;
        }
    }
    return AKV_OK;
}

static int run(const char *text, size_t len, struct work *w)
{
    const unsigned char *s = (const unsigned char *)text;
    if (len >= CACHE_MIN_TEXT) {
        w->c = malloc(sizeof *w->c);
        if (w->c == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory encoding");
        memset(w->c->mcache, 0xff, sizeof w->c->mcache);
        memset(w->c->ccache, 0xff, sizeof w->c->ccache);
        memset(w->c->pcache, 0, sizeof w->c->pcache);
        memset(w->c->scache, 0, sizeof w->c->scache);
        w->c->gen = 1;
        w->c->pool_used = 0;
    }
    size_t valid = utf8_scan(s, len);
    if (valid == len)
        return encode_text(w, s, len);
    unsigned char *fixed = NULL;
    size_t flen = 0;
    int rc = utf8_replace(s, len, valid, &fixed, &flen);
    if (rc != AKV_OK)
        return rc;
    rc = encode_text(w, fixed, flen);
    free(fixed);
    return rc;
}

int akv_tokens_count(const akv_encoding *enc, const char *text, size_t len,
                     size_t *count)
{
    if (count)
        *count = 0;
    if (enc == NULL || count == NULL || (text == NULL && len > 0))
        return akv_fail(AKV_EINVAL, "akv_tokens_count: NULL argument");
    struct work w = {.e = enc, .count_only = 1};
    int rc = run(text, len, &w);
    free(w.scratch);
    free(w.c);
    if (rc == AKV_OK)
        *count = w.n;
    return rc;
}

int akv_tokens_encode(const akv_encoding *enc, const char *text, size_t len,
                      uint32_t **ids, size_t *n)
{
    if (ids)
        *ids = NULL;
    if (n)
        *n = 0;
    if (enc == NULL || ids == NULL || n == NULL || (text == NULL && len > 0))
        return akv_fail(AKV_EINVAL, "akv_tokens_encode: NULL argument");
    struct work w = {.e = enc};
    int rc = run(text, len, &w);
    free(w.scratch);
    free(w.c);
    if (rc != AKV_OK) {
        free(w.ids);
        return rc;
    }
    *ids = w.ids;
    *n = w.n;
    return AKV_OK;
}

void akv_tokens_free(uint32_t *ids)
{
    free(ids);
}

int akv_tokens_decode(const akv_encoding *enc, const uint32_t *ids, size_t n,
                      char *buf, size_t *len)
{
    if (enc == NULL || len == NULL || (ids == NULL && n > 0))
        return akv_fail(AKV_EINVAL, "akv_tokens_decode: NULL argument");
    const struct akv_bpe_data *d = &enc->d;
    size_t cap = buf ? *len : 0, o = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t id = ids[k];
        const void *src = NULL;
        size_t sl = 0;
        if (id < d->nranks && d->tok_off[id] != NONE) {
            src = d->bytes + d->tok_off[id];
            sl = d->tok_len[id];
            /* The offsets come from a file: check them at use. */
            if (d->tok_off[id] > d->bytes_len ||
                sl > d->bytes_len - d->tok_off[id])
                return akv_fail(AKV_EUNAVAILABLE,
                                "%s data is damaged (token %u)",
                                enc->def->name, id);
        } else {
            /* Special tokens: a handful of packed records. */
            size_t at = 0;
            for (uint32_t i = 0; i < d->nspecials; i++) {
                uint32_t rec[2];
                memcpy(rec, d->specials + at, sizeof rec);
                if (rec[0] == id) {
                    src = d->specials + at + 8;
                    sl = rec[1];
                    break;
                }
                at += 8 + (((size_t)rec[1] + 3) & ~(size_t)3);
            }
            if (src == NULL)
                return akv_fail(AKV_EINVAL, "token id %u is not in %s", id,
                                enc->def->name);
        }
        if (o + sl <= cap)
            memcpy(buf + o, src, sl);
        o += sl;
    }
    *len = o;
    if (o > cap)
        return akv_fail(AKV_ENOBUFS, "decoded text needs %zu bytes", o);
    return AKV_OK;
}

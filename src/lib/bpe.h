/*
 * bpe.h — what the tokenizer's two files share: the in-memory form of an
 * encoding's data (token bytes by rank, the rank hash table), the hash
 * function that both the table builder and the lookups use, and the loader
 * entry points of bpe-data.c. Never exported; the public API is
 * agentkv-tokens.h.
 *
 * An encoding's data is immutable once loaded. It lives either in memory
 * the loader allocated (from the tiktoken JSON file) or in a read-only
 * mapping of a compiled table file (<name>.bin), in which case every
 * pointer below points into that mapping.
 */
#ifndef AKV_BPE_H
#define AKV_BPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agentkv-tokens.h"

#define AKV_BPE_NONE UINT32_MAX /* "no such token" as a rank */

/* One slot of the rank table: open addressing with linear probing over the
 * token byte strings. rank == AKV_BPE_NONE marks an empty slot; tag is the
 * high half of the token's hash, compared before the bytes. */
struct akv_bpe_slot {
    uint32_t rank;
    uint32_t tag;
};

/* A character of the character table (struct akv_bpe_data). */
struct akv_bpe_char {
    uint32_t tok;    /* the token it starts as, or AKV_BPE_NONE */
    uint32_t checks; /* first check << 8 | number of checks */
};

/* One of its checks: a token that, standing at this place in the piece,
 * keeps the character from starting as its token. */
struct akv_bpe_char_check {
    int16_t at;    /* where the token starts, from the character's start */
    uint16_t len;  /* its length in bytes */
    uint32_t tok;  /* the token */
    uint64_t head; /* its first min(len, 8) bytes, by akv_bpe_load_tail() */
};

struct akv_bpe_data {
    uint32_t nranks;         /* ranks are 0 .. nranks-1, possibly with gaps */
    const uint32_t *tok_off; /* by rank: offset in bytes, NONE for a gap */
    const uint32_t *tok_len; /* by rank: length (0 for a gap) */
    const unsigned char *bytes;
    size_t bytes_len;
    const struct akv_bpe_slot *table;
    uint32_t mask;      /* table size - 1 */
    uint32_t max_probe; /* a present key is at most this many slots on */
    /* A Bloom filter of the token byte strings (akv_bpe_filter_bits() of
     * their akv_bpe_hash()), eight to sixteen bits per token: most pieces
     * of text are not tokens, and the filter says so from the CPU's
     * cache. */
    const uint64_t *tok_filter;
    uint32_t tok_filter_mask; /* words - 1 */
    const uint32_t *byte_rank;   /* 256: rank of each single byte */
    const uint32_t *pair_rank;   /* 65536: rank of each two-byte string */
    /* The merge table: for every token that is the concatenation of two
     * tokens a and b, one slot AKV_BPE_MERGE_SLOT(a, b, rank), placed by
     * akv_bpe_merge_hash(a, b) with linear probing; UINT64_MAX marks an
     * empty slot. It answers "rank of bytes(a) + bytes(b)" with one probe
     * instead of hashing and comparing bytes, which is what the merge loop
     * asks for every time it joins two parts (both parts are tokens). */
    const uint64_t *merge;
    uint32_t merge_mask, merge_max_probe;
    /* A Bloom filter of the merge table's keys: four bits in one 64-bit
     * word per key (akv_bpe_filter_bits()), eight to sixteen bits per key.
     * Small enough to stay in the CPU's cache, it answers most "not a
     * token" lookups (the common answer) without touching the table. */
    const uint64_t *filter;
    uint32_t filter_mask; /* words - 1 */
    /* The longest-match encoder's tables (bpe.c; built in bpe-data.c).
     * A token is "usable" when BPE of its own bytes gives that token and
     * every merge of that run makes a token of higher rank than the
     * tokens it joins (true of every token of o200k_base and cl100k_base),
     * and it is at most AKV_BPE_LM_MAX_LEN bytes long; single bytes are
     * usable.
     * lm_tree: by rank, two words: the two tokens BPE joined last to make
     * the token from its own bytes (left, right), or NONE, NONE for a
     * single byte or a token that is not usable. lm_next: by rank, the
     * longest usable token that is a proper prefix of a usable token, or
     * NONE. prefix_filter: a Bloom filter (as the others) of the prefixes
     * of two bytes or more of the usable tokens that end where a UTF-8
     * character may start (the whole token, or a prefix followed by a byte
     * that is not 10xxxxxx), by akv_bpe_prefix_hash(): "could a usable
     * token start with these bytes?", so that the search for the longest
     * token at a position stops one character past it. */
    const uint32_t *lm_tree;
    const uint32_t *lm_next;
    const uint64_t *prefix_filter;
    uint32_t prefix_filter_mask; /* words - 1 */
    /* The character table: the characters that merging may start as one
     * token, and where (bpe-data.c, build_chars(), says why that gives
     * BPE's result). By code point, in blocks of AKV_BPE_CHAR_BLOCK:
     * char_index[cp / AKV_BPE_CHAR_BLOCK] is a block number below
     * char_nblocks (checked when the file is loaded), and chars[block *
     * AKV_BPE_CHAR_BLOCK + cp % AKV_BPE_CHAR_BLOCK] the character's entry
     * (tok NONE for none; block 0 is all NONE). Its checks are
     * char_checks[checks >> 8 ..][0 .. checks & 255): the character starts
     * as tok only where none of their tokens stands in the piece. */
    const uint16_t *char_index; /* AKV_BPE_CHAR_BLOCKS */
    const struct akv_bpe_char *chars; /* char_nblocks * AKV_BPE_CHAR_BLOCK */
    const struct akv_bpe_char_check *char_checks; /* char_nchecks */
    uint32_t char_nblocks, char_nchecks;
    /* Special tokens: nspecials records of {u32 id, u32 len, len bytes,
     * padding to 4}, in specials[0 .. specials_len). */
    uint32_t nspecials;
    const unsigned char *specials;
    size_t specials_len;

    /* Ownership: either map/map_len (a mapping to munmap) or owned (one
     * malloc'ed block per array, freed one by one). */
    void *map;
    size_t map_len;
    void *owned[15];
};

/* The n bytes at p (1 <= n <= 8) in the low bytes of a zeroed word, as
 * memcpy() into it would put them, without a copy of variable length:
 * two loads that overlap on little-endian machines. */
static inline uint64_t akv_bpe_load_tail(const unsigned char *p, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        return lo | (uint64_t)hi << (8 * (n - 4));
    }
    return p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
           (uint64_t)p[n - 1] << (8 * (n - 1));
#else
    uint64_t w = 0;
    memcpy(&w, p, n);
    return w;
#endif
}

/*
 * The hash of a token's bytes. The compiled table files store slots placed
 * by this function: changing it requires bumping AKV_BPE_HASH_ID, which
 * makes old table files be refused (and rebuilt by the build).
 */
#define AKV_BPE_HASH_ID 4u /* 4: the filters and the merge table */
static inline uint64_t akv_bpe_hash(const unsigned char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = akv_bpe_load_tail(p, n);
        h = (h ^ w) * 0x94d049bb133111ebull;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

/* Ranks fit in AKV_BPE_RANK_BITS bits, so that a merge slot packs three;
 * the largest value is kept free as a marker. */
#define AKV_BPE_RANK_BITS 21
#define AKV_BPE_MAX_RANKS (((uint32_t)1 << AKV_BPE_RANK_BITS) - 1)
#define AKV_BPE_MERGE_KEY(a, b)                                               \
    ((uint64_t)(a) << AKV_BPE_RANK_BITS | (uint64_t)(b))
#define AKV_BPE_MERGE_SLOT(a, b, r)                                           \
    (AKV_BPE_MERGE_KEY(a, b) << AKV_BPE_RANK_BITS | (uint64_t)(r))

static inline uint32_t akv_bpe_merge_hash(uint32_t a, uint32_t b)
{
    uint64_t h = AKV_BPE_MERGE_KEY(a, b) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32);
}

/* The filter word of key (a, b) (its index in the high bits) and the four
 * bits the key sets in it (from the low bits). */
static inline uint64_t akv_bpe_filter_hash(uint32_t a, uint32_t b)
{
    uint64_t h = AKV_BPE_MERGE_KEY(a, b);
    h = (h ^ (h >> 31)) * 0xd6e8feb86659fd93ull;
    return h ^ (h >> 32);
}

static inline uint64_t akv_bpe_filter_bits(uint64_t h)
{
    return (uint64_t)1 << (h & 63) | (uint64_t)1 << (h >> 6 & 63) |
           (uint64_t)1 << (h >> 12 & 63) | (uint64_t)1 << (h >> 18 & 63);
}

/*
 * Rank of the concatenation of tokens a and b, or AKV_BPE_NONE: the same
 * as akv_bpe_rank() on their bytes. A rank read from the table is checked
 * against nranks, and the probe is bounded, as in akv_bpe_rank().
 */
static inline uint32_t akv_bpe_merge(const struct akv_bpe_data *d,
                                     uint32_t a, uint32_t b)
{
    uint64_t f = akv_bpe_filter_hash(a, b), bits = akv_bpe_filter_bits(f);
    if ((d->filter[(uint32_t)(f >> 40) & d->filter_mask] & bits) != bits)
        return AKV_BPE_NONE;
    uint64_t key = AKV_BPE_MERGE_KEY(a, b);
    uint32_t i = akv_bpe_merge_hash(a, b) & d->merge_mask;
    for (uint32_t k = 0; k <= d->merge_max_probe;
         k++, i = (i + 1) & d->merge_mask) {
        uint64_t s = d->merge[i];
        if (s == UINT64_MAX)
            return AKV_BPE_NONE;
        if (s >> AKV_BPE_RANK_BITS == key) {
            uint32_t r = (uint32_t)(s & AKV_BPE_MAX_RANKS);
            return r < d->nranks ? r : AKV_BPE_NONE;
        }
    }
    return AKV_BPE_NONE;
}

/* The character table's blocks (struct akv_bpe_data). */
#define AKV_BPE_CHAR_BLOCK 128u
#define AKV_BPE_CHAR_BLOCKS (0x110000u / AKV_BPE_CHAR_BLOCK)

/* The code point of the UTF-8 character of l bytes (2 to 4, as its lead
 * byte p[0] says) at p, or AKV_BPE_NOT_A_CHAR when they are not one
 * well-formed character (a continuation byte missing, an overlong form, a
 * value past U+10FFFF; surrogates decode, but no table holds them). */
#define AKV_BPE_NOT_A_CHAR 0x110000u
static inline uint32_t akv_bpe_utf8_char(const unsigned char *p, size_t l)
{
    uint32_t c1 = p[1] ^ 0x80u, cp;
    if (c1 > 0x3f)
        return AKV_BPE_NOT_A_CHAR;
    if (l == 2) {
        cp = (p[0] & 0x1fu) << 6 | c1;
        return cp >= 0x80 ? cp : AKV_BPE_NOT_A_CHAR;
    }
    uint32_t c2 = p[2] ^ 0x80u;
    if (c2 > 0x3f)
        return AKV_BPE_NOT_A_CHAR;
    if (l == 3) {
        cp = (p[0] & 0x0fu) << 12 | c1 << 6 | c2;
        return cp >= 0x800 ? cp : AKV_BPE_NOT_A_CHAR;
    }
    uint32_t c3 = p[3] ^ 0x80u;
    if (c3 > 0x3f)
        return AKV_BPE_NOT_A_CHAR;
    cp = (p[0] & 0x07u) << 18 | c1 << 12 | c2 << 6 | c3;
    return cp >= 0x10000 && cp < 0x110000 ? cp : AKV_BPE_NOT_A_CHAR;
}

/* The character table's entry of character cp (< 0x110000). */
static inline const struct akv_bpe_char *
akv_bpe_char_entry(const struct akv_bpe_data *d, uint32_t cp)
{
    return &d->chars[(size_t)d->char_index[cp / AKV_BPE_CHAR_BLOCK] *
                         AKV_BPE_CHAR_BLOCK +
                     cp % AKV_BPE_CHAR_BLOCK];
}

/* The longest token the longest-match encoder matches, in bytes. */
#define AKV_BPE_LM_MAX_LEN 255

/* The prefix hash, a byte at a time: h starts at AKV_BPE_PREFIX_SEED and
 * takes each byte with akv_bpe_prefix_step(); akv_bpe_prefix_hash() mixes
 * it for the filter. */
#define AKV_BPE_PREFIX_SEED 0xcbf29ce484222325ull
static inline uint64_t akv_bpe_prefix_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * 0x100000001b3ull;
}

static inline uint64_t akv_bpe_prefix_hash(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    return h ^ (h >> 32);
}

/* 1 when the prefix whose akv_bpe_prefix_hash() is f may start a usable
 * token (no false negatives). */
static inline int akv_bpe_prefix_maybe(const struct akv_bpe_data *d,
                                       uint64_t f)
{
    uint64_t bits = akv_bpe_filter_bits(f);
    return (d->prefix_filter[(uint32_t)(f >> 40) & d->prefix_filter_mask] &
            bits) == bits;
}

/*
 * Rank of the byte string p[0..n) (n >= 3) whose akv_bpe_hash() is h, or
 * AKV_BPE_NONE. Every value taken from the tables is checked before it is
 * used as an index, and the probe stops after max_probe slots, so that a
 * damaged table file can yield wrong ranks but never a read outside it.
 */
static inline uint32_t akv_bpe_rank_hashed(const struct akv_bpe_data *d,
                                           const unsigned char *p, size_t n,
                                           uint64_t h)
{
    uint64_t bits = akv_bpe_filter_bits(h);
    if ((d->tok_filter[(uint32_t)(h >> 40) & d->tok_filter_mask] & bits) !=
        bits)
        return AKV_BPE_NONE;
    uint32_t tag = (uint32_t)(h >> 32);
    uint32_t i = (uint32_t)h & d->mask;
    for (uint32_t k = 0; k <= d->max_probe; k++, i = (i + 1) & d->mask) {
        const struct akv_bpe_slot *s = &d->table[i];
        uint32_t r = s->rank;
        if (r == AKV_BPE_NONE)
            return AKV_BPE_NONE;
        if (s->tag == tag && r < d->nranks && d->tok_len[r] == n) {
            uint32_t o = d->tok_off[r];
            if (n <= d->bytes_len && o <= d->bytes_len - n &&
                memcmp(d->bytes + o, p, n) == 0)
                return r;
        }
    }
    return AKV_BPE_NONE;
}

/* Rank of the byte string p[0..n), or AKV_BPE_NONE. n >= 1. */
static inline uint32_t akv_bpe_rank(const struct akv_bpe_data *d,
                                    const unsigned char *p, size_t n)
{
    if (n == 1)
        return d->byte_rank[p[0]];
    if (n == 2)
        return d->pair_rank[(size_t)p[0] << 8 | p[1]];
    return akv_bpe_rank_hashed(d, p, n, akv_bpe_hash(p, n));
}

/*
 * The pre-split (bpe-split.c): where the piece that starts at offset i of
 * the valid UTF-8 text s[0..n) ends (i < n; the result is above i), as the
 * encoding's tiktoken pattern splits.
 */
size_t akv_bpe_split_o200k(const unsigned char *s, size_t n, size_t i);
size_t akv_bpe_split_cl100k(const unsigned char *s, size_t n, size_t i);
/* The same for the pieces from i on: writes the end of each into ends[],
 * at most max of them (max >= 1), and returns how many (0 when i >= n). */
size_t akv_bpe_pieces_o200k(const unsigned char *s, size_t n, size_t i,
                            size_t *ends, size_t max);
size_t akv_bpe_pieces_cl100k(const unsigned char *s, size_t n, size_t i,
                             size_t *ends, size_t max);

/*
 * For tests: the ids of one piece p[0..len) (len >= 1, a piece that is not
 * a token by itself) under data d, by merging from single bytes (longest
 * == 0) or by the longest-match encoder (longest == 1; AKV_ENOTFOUND when
 * BPE's result has a token it does not match). *ids is malloc'ed, NULL on
 * error.
 */
int akv_bpe_piece_ids(const struct akv_bpe_data *d, int longest,
                      const unsigned char *p, size_t len, uint32_t **ids,
                      size_t *n);

/*
 * Loads the data of encoding `name` from directory dir: the compiled table
 * <name>.bin when present and current, else <name>.json. expect_pat is the
 * tiktoken pattern text the data must carry. AKV_ENOTFOUND when neither
 * file exists (the caller tries the next directory), AKV_EUNAVAILABLE for an
 * unreadable or malformed file, AKV_ENOMEM. Free with akv_bpe_data_free().
 */
int akv_bpe_data_load(const char *dir, const char *name,
                      const char *expect_pat, struct akv_bpe_data *out);
void akv_bpe_data_free(struct akv_bpe_data *d);

/*
 * Reads a tiktoken JSON file and writes the compiled table file bin_path
 * (replaced atomically). The build runs this (src/tools/bpe-compile.c) so
 * that loading is a read-only mapping instead of a parse: about 2 ms
 * instead of several hundred. expect_pat as above, or NULL to take the
 * file's own pattern.
 */
int akv_bpe_compile(const char *json_path, const char *bin_path,
                    const char *expect_pat);

#endif /* AKV_BPE_H */

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

struct akv_bpe_data {
    uint32_t nranks;         /* ranks are 0 .. nranks-1, possibly with gaps */
    const uint32_t *tok_off; /* by rank: offset in bytes, NONE for a gap */
    const uint32_t *tok_len; /* by rank: length (0 for a gap) */
    const unsigned char *bytes;
    size_t bytes_len;
    const struct akv_bpe_slot *table;
    uint32_t mask;      /* table size - 1 */
    uint32_t max_probe; /* a present key is at most this many slots on */
    const uint32_t *byte_rank;   /* 256: rank of each single byte */
    const uint32_t *pair_rank;   /* 65536: rank of each two-byte string */
    /* Special tokens: nspecials records of {u32 id, u32 len, len bytes,
     * padding to 4}, in specials[0 .. specials_len). */
    uint32_t nspecials;
    const unsigned char *specials;
    size_t specials_len;

    /* Ownership: either map/map_len (a mapping to munmap) or owned (one
     * malloc'ed block per array, freed one by one). */
    void *map;
    size_t map_len;
    void *owned[8];
};

/*
 * The hash of a token's bytes. The compiled table files store slots placed
 * by this function: changing it requires bumping AKV_BPE_HASH_ID, which
 * makes old table files be refused (and rebuilt by the build).
 */
#define AKV_BPE_HASH_ID 1u
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
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * 0x94d049bb133111ebull;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

/*
 * Rank of the byte string p[0..n), or AKV_BPE_NONE. n >= 1. Every value
 * taken from the tables is checked before it is used as an index, and the
 * probe stops after max_probe slots, so that a damaged table file can
 * yield wrong ranks but never a read outside it.
 */
static inline uint32_t akv_bpe_rank(const struct akv_bpe_data *d,
                                    const unsigned char *p, size_t n)
{
    if (n == 1)
        return d->byte_rank[p[0]];
    if (n == 2)
        return d->pair_rank[(size_t)p[0] << 8 | p[1]];
    uint64_t h = akv_bpe_hash(p, n);
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

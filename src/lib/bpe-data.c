/*
 * bpe-data.c — the tokenizer's data: reading an encoding from the tiktoken
 * JSON file, writing it as a compiled table file, and mapping that file.
 *
 * The JSON file is the npm "tiktoken" package's encoders/<name>.json,
 * unchanged (docs/tokenizer.md):
 *   {"pat_str": "<regex>", "special_tokens": {"<|endoftext|>": 199999, ...},
 *    "bpe_ranks": "! 0 IQ== Ig== ..."}
 * bpe_ranks is a text of words separated by spaces or newlines: "!" and a
 * decimal rank start a run, and each base64 word after it is the token
 * with the next rank.
 *
 * Parsing it means decoding 200,000 base64 words and filling a hash table
 * of a few MiB of fresh memory; on a virtual machine that costs a few
 * hundred milliseconds per process. So the build converts each JSON file
 * once into <name>.bin, the same tables laid out as they sit in memory,
 * and a process maps that file read-only: its pages come from the page
 * cache and are shared by every process. The format (native byte order,
 * all offsets from the start of the file, every section 8-byte aligned):
 *
 *   struct bin_header (below)
 *   u32 tok_off[nranks]      offset of each rank's bytes, NONE for a gap
 *   u32 tok_len[nranks]
 *   u8  bytes[bytes_len]     the token bytes
 *   slot table[mask + 1]     {u32 rank, u32 tag}, placed by akv_bpe_hash()
 *   u64 tok_filter[tok_filter_mask + 1] the Bloom filter of the tokens
 *   u32 byte_rank[256], u32 pair_rank[65536]
 *   u64 merge[merge_mask + 1] the merge table (bpe.h), made from the above
 *   u64 filter[filter_mask + 1] the Bloom filter of its keys (bpe.h)
 *   u32 lm_tree[2 * nranks]  each token's last merge (bpe.h: the
 *                            longest-match encoder's tables)
 *   u32 lm_next[nranks]      each token's longest usable proper prefix
 *   u64 prefix_filter[prefix_filter_mask + 1] the Bloom filter of the
 *                            usable tokens' prefixes
 *   u16 char_index[AKV_BPE_CHAR_BLOCKS]  the character table (bpe.h):
 *                            the block of each code point,
 *   struct akv_bpe_char chars[char_nblocks * AKV_BPE_CHAR_BLOCK]  the
 *                            characters of each block,
 *   struct akv_bpe_char_check char_checks[char_nchecks]  their checks
 *   specials                 {u32 id, u32 len, bytes, pad to 4} each
 *   pat                      tiktoken's pattern text, as in the JSON
 *
 * A table file is used only when its header matches this build (magic,
 * version, byte order, hash function, sections inside the file) and, when
 * the JSON file sits in the same directory, when it was made from exactly
 * that JSON (size and checksum of its bytes). Otherwise the JSON is read
 * instead, if there is one. Loading reads only the header: the lookups
 * check every rank, offset and length they take from the table and bound
 * every probe, so even a damaged file is never followed out of bounds,
 * and a process faults in only the pages its text needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "akvx.h"
#include "bpe.h"
#include "internal.h"

#define NONE AKV_BPE_NONE
#define MAX_RANKS AKV_BPE_MAX_RANKS
#define MAX_TOKEN_LEN 65535

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

/* Maps a whole file read-only. AKV_ENOTFOUND when it does not exist. An
 * empty file gives map == NULL, len == 0. */
static int map_file(const char *path, void **map, size_t *len)
{
    *map = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return AKV_ENOTFOUND;
        return akv_fail(AKV_EUNAVAILABLE, "cannot open %s: %s", path,
                        strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return akv_fail(AKV_EUNAVAILABLE, "%s is not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return AKV_OK;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED)
        return akv_fail(e == ENOMEM ? AKV_ENOMEM : AKV_EUNAVAILABLE,
                        "cannot map %s: %s", path, strerror(e));
    *map = m;
    *len = (size_t)st.st_size;
    return AKV_OK;
}

void akv_bpe_data_free(struct akv_bpe_data *d)
{
    if (d == NULL)
        return;
    if (d->map)
        munmap(d->map, d->map_len);
    for (size_t i = 0; i < sizeof d->owned / sizeof d->owned[0]; i++)
        free(d->owned[i]);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------------ */
/* The JSON file                                                            */
/* ------------------------------------------------------------------------ */

/* Where the words of bpe_ranks go while parsing. */
struct words {
    uint32_t *off, *len, *rank;
    size_t n;
    uint32_t top; /* largest rank + 1 */
};

/* Parses the bpe_ranks text into w, decoding the tokens into bytes (room
 * for len bytes). */
static int parse_ranks(const char *text, size_t len, unsigned char *bytes,
                       size_t *bytes_len, struct words *w, const char *path)
{
    size_t count = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && (text[i] == ' ' || text[i] == '\n'))
            i++;
        if (i < len)
            count++;
        while (i < len && text[i] != ' ' && text[i] != '\n')
            i++;
    }
    if (count == 0 || count > MAX_RANKS || len >= NONE)
        return akv_fail(AKV_EUNAVAILABLE,
                        "%s: bpe_ranks is empty or too large", path);
    w->off = malloc(count * sizeof *w->off);
    w->len = malloc(count * sizeof *w->len);
    w->rank = malloc(count * sizeof *w->rank);
    if (!w->off || !w->len || !w->rank)
        return akv_fail(AKV_ENOMEM, "out of memory loading %s", path);

    size_t used = 0;
    uint64_t next = 0;
    int in_run = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && (text[i] == ' ' || text[i] == '\n'))
            i++;
        if (i >= len)
            break;
        size_t start = i;
        while (i < len && text[i] != ' ' && text[i] != '\n')
            i++;
        if (i - start == 1 && text[start] == '!') {
            while (i < len && text[i] == ' ')
                i++;
            size_t d = i;
            uint64_t r = 0;
            while (i < len && text[i] >= '0' && text[i] <= '9' &&
                   r < MAX_RANKS)
                r = r * 10 + (uint64_t)(text[i++] - '0');
            if (i == d || r >= MAX_RANKS ||
                (i < len && text[i] != ' ' && text[i] != '\n'))
                return akv_fail(AKV_EUNAVAILABLE,
                                "%s: bad rank after '!' at offset %zu", path,
                                d);
            next = r;
            in_run = 1;
            continue;
        }
        size_t bl = 0;
        if (!in_run || i == start ||
            akvx_base64_decode(text + start, i - start, bytes + used, &bl) != 0 ||
            bl == 0 || bl > MAX_TOKEN_LEN || next >= MAX_RANKS)
            return akv_fail(AKV_EUNAVAILABLE, "%s: bad token at offset %zu",
                            path, start);
        w->off[w->n] = (uint32_t)used;
        w->len[w->n] = (uint32_t)bl;
        w->rank[w->n] = (uint32_t)next;
        w->n++;
        if (next + 1 > w->top)
            w->top = (uint32_t)(next + 1);
        used += (size_t)bl;
        next++;
    }
    *bytes_len = used;
    return AKV_OK;
}

/* Builds d's by-rank arrays and tables from the parsed words. */
static int build_tables(struct akv_bpe_data *d, const struct words *w,
                        const char *path)
{
    size_t cap = 1;
    while (cap < w->n * 2)
        cap <<= 1;
    uint32_t *tok_off = malloc((size_t)w->top * sizeof *tok_off);
    uint32_t *tok_len = calloc(w->top, sizeof *tok_len);
    struct akv_bpe_slot *table = malloc(cap * sizeof *table);
    size_t words = 1;
    while (words * 64 < w->n * 8)
        words <<= 1;
    uint64_t *tok_filter = calloc(words, sizeof *tok_filter);
    uint32_t *byte_rank = malloc(256 * sizeof *byte_rank);
    uint32_t *pair_rank = malloc(65536 * sizeof *pair_rank);
    d->owned[8] = tok_filter;
    d->owned[1] = tok_off;
    d->owned[2] = tok_len;
    d->owned[3] = table;
    d->owned[4] = byte_rank;
    d->owned[5] = pair_rank;
    if (!tok_off || !tok_len || !table || !tok_filter || !byte_rank ||
        !pair_rank)
        return akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
    memset(tok_off, 0xff, (size_t)w->top * sizeof *tok_off);
    memset(table, 0xff, cap * sizeof *table);
    memset(byte_rank, 0xff, 256 * sizeof *byte_rank);
    memset(pair_rank, 0xff, 65536 * sizeof *pair_rank);
    d->nranks = w->top;
    d->tok_off = tok_off;
    d->tok_len = tok_len;
    d->table = table;
    d->mask = (uint32_t)(cap - 1);
    d->tok_filter = tok_filter;
    d->tok_filter_mask = (uint32_t)(words - 1);
    d->byte_rank = byte_rank;
    d->pair_rank = pair_rank;

    for (size_t t = 0; t < w->n; t++) {
        uint32_t r = w->rank[t];
        if (tok_off[r] != NONE)
            return akv_fail(AKV_EUNAVAILABLE, "%s: rank %u given twice", path,
                            r);
        tok_off[r] = w->off[t];
        tok_len[r] = w->len[t];
        const unsigned char *p = d->bytes + w->off[t];
        size_t n = w->len[t];
        uint64_t h = akv_bpe_hash(p, n);
        uint32_t i = (uint32_t)h & d->mask, probe = 0;
        while (table[i].rank != NONE) {
            const struct akv_bpe_slot *s = &table[i];
            if (tok_len[s->rank] == n &&
                memcmp(d->bytes + tok_off[s->rank], p, n) == 0)
                return akv_fail(AKV_EUNAVAILABLE,
                                "%s: ranks %u and %u are the same bytes",
                                path, s->rank, r);
            i = (i + 1) & d->mask;
            probe++;
        }
        if (probe > d->max_probe)
            d->max_probe = probe;
        table[i].rank = r;
        table[i].tag = (uint32_t)(h >> 32);
        tok_filter[(uint32_t)(h >> 40) & d->tok_filter_mask] |=
            akv_bpe_filter_bits(h);
        if (n == 1)
            byte_rank[p[0]] = r;
        else if (n == 2)
            pair_rank[(size_t)p[0] << 8 | p[1]] = r;
    }
    /* Byte-level BPE needs every byte to be a token: that is what makes
     * any input encodable. */
    for (size_t b = 0; b < 256; b++)
        if (byte_rank[b] == NONE)
            return akv_fail(AKV_EUNAVAILABLE, "%s: byte 0x%02zx has no token",
                            path, b);
    return AKV_OK;
}

/* Builds the merge table (bpe.h) from d's rank table: every token is tried
 * at every split point. */
static int build_merges(struct akv_bpe_data *d, const char *path)
{
    /* First the slots, in a growing array; then the table, sized for them. */
    uint64_t *slots = NULL;
    size_t n = 0, ncap = 0;
    for (uint32_t r = 0; r < d->nranks; r++) {
        uint32_t len = d->tok_len[r];
        if (len < 2)
            continue;
        const unsigned char *p = d->bytes + d->tok_off[r];
        for (uint32_t k = 1; k < len; k++) {
            uint32_t a = akv_bpe_rank(d, p, k);
            uint32_t b = a == NONE ? NONE : akv_bpe_rank(d, p + k, len - k);
            if (b == NONE)
                continue;
            if (n == ncap) {
                size_t nc = ncap ? ncap * 2 : 65536;
                uint64_t *ns = realloc(slots, nc * sizeof *ns);
                if (ns == NULL) {
                    free(slots);
                    return akv_fail(AKV_ENOMEM, "out of memory loading %s",
                                    path);
                }
                slots = ns;
                ncap = nc;
            }
            slots[n++] = AKV_BPE_MERGE_SLOT(a, b, r);
        }
    }
    size_t cap = 1, words = 1;
    while (cap < n + n / 2 + 1)
        cap <<= 1;
    while (words * 64 < n * 8)
        words <<= 1;
    /* One block: owned[7], the table then the filter. */
    uint64_t *merge = malloc((cap + words) * sizeof *merge);
    d->owned[7] = merge;
    if (merge == NULL) {
        free(slots);
        return akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
    }
    memset(merge, 0xff, cap * sizeof *merge);
    uint64_t *filter = merge + cap;
    memset(filter, 0, words * sizeof *filter);
    d->merge = merge;
    d->merge_mask = (uint32_t)(cap - 1);
    d->filter = filter;
    d->filter_mask = (uint32_t)(words - 1);
    for (size_t t = 0; t < n; t++) {
        uint64_t key = slots[t] >> AKV_BPE_RANK_BITS;
        uint32_t a = (uint32_t)(key >> AKV_BPE_RANK_BITS);
        uint32_t b = (uint32_t)(key & AKV_BPE_MAX_RANKS);
        uint32_t i = akv_bpe_merge_hash(a, b) & d->merge_mask, probe = 0;
        while (merge[i] != UINT64_MAX) {
            i = (i + 1) & d->merge_mask;
            probe++;
        }
        if (probe > d->merge_max_probe)
            d->merge_max_probe = probe;
        merge[i] = slots[t];
        uint64_t f = akv_bpe_filter_hash(a, b);
        filter[(uint32_t)(f >> 40) & d->filter_mask] |= akv_bpe_filter_bits(f);
    }
    free(slots);
    return AKV_OK;
}

/*
 * BPE of token r's own bytes, as tiktoken merges (the adjacent pair whose
 * concatenation has the lowest rank, the leftmost on a tie). Returns 1 when
 * it ends in the token itself, with the two tokens of its last merge in
 * *left and *right and the highest rank any of its merges made in *top;
 * 0 otherwise. part and pr have room for the token's length.
 */
static int own_bpe(const struct akv_bpe_data *d, uint32_t r, uint32_t *part,
                   uint32_t *pr, uint32_t *left, uint32_t *right,
                   uint32_t *top)
{
    const unsigned char *p = d->bytes + d->tok_off[r];
    size_t n = d->tok_len[r];
    *top = 0;
    for (size_t i = 0; i < n; i++)
        part[i] = d->byte_rank[p[i]];
    for (size_t i = 0; i + 1 < n; i++)
        pr[i] = akv_bpe_merge(d, part[i], part[i + 1]);
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (pr[i] < pr[best])
                best = i;
        if (pr[best] == NONE)
            return 0;
        *left = part[best];
        *right = part[best + 1];
        if (pr[best] > *top)
            *top = pr[best];
        part[best] = pr[best];
        memmove(part + best + 1, part + best + 2,
                (n - best - 2) * sizeof *part);
        memmove(pr + best, pr + best + 1, (n - best - 2) * sizeof *pr);
        n--;
        if (best + 1 < n)
            pr[best] = akv_bpe_merge(d, part[best], part[best + 1]);
        if (best > 0)
            pr[best - 1] = akv_bpe_merge(d, part[best - 1], part[best]);
    }
    return part[0] == r;
}

/*
 * Builds the longest-match encoder's tables (bpe.h: lm_tree, lm_next and
 * the prefix filter) from d's ranks and merge table. Tokens are taken
 * shortest first, so that a token's parts and prefixes are decided before
 * it.
 */
static int build_lm(struct akv_bpe_data *d, const char *path)
{
    uint32_t nr = d->nranks;
    uint32_t *tree = malloc((size_t)nr * 2 * sizeof *tree);
    uint32_t *next = malloc((size_t)nr * sizeof *next);
    uint32_t *order = malloc((size_t)nr * sizeof *order);
    uint32_t *start = calloc(MAX_TOKEN_LEN + 2, sizeof *start);
    uint32_t *part = malloc((MAX_TOKEN_LEN + 1) * sizeof *part);
    uint32_t *pr = malloc((MAX_TOKEN_LEN + 1) * sizeof *pr);
    d->owned[9] = tree;
    d->owned[10] = next;
    int rc = AKV_OK;
    if (!tree || !next || !order || !start || !part || !pr) {
        rc = akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
        goto out;
    }
    memset(tree, 0xff, (size_t)nr * 2 * sizeof *tree);
    memset(next, 0xff, (size_t)nr * sizeof *next);
    /* The ranks by length (a counting sort). */
    for (uint32_t r = 0; r < nr; r++)
        if (d->tok_len[r] > 0)
            start[d->tok_len[r] + 1]++;
    for (size_t l = 1; l <= MAX_TOKEN_LEN + 1; l++)
        start[l] += start[l - 1];
    for (uint32_t r = 0; r < nr; r++)
        if (d->tok_len[r] > 0)
            order[start[d->tok_len[r]]++] = r;
    size_t ntok = start[MAX_TOKEN_LEN];

    size_t prefixes = 0;
    for (size_t t = 0; t < ntok; t++) {
        uint32_t r = order[t], len = d->tok_len[r], left = NONE, right = NONE,
                 top;
        if (len == 1)
            continue; /* a leaf */
        if (len > AKV_BPE_LM_MAX_LEN ||
            !own_bpe(d, r, part, pr, &left, &right, &top))
            continue;
        /* Usable when both parts are, and each part that is a merge was
         * made at a lower rank: then BPE of the token's bytes merges in
         * the order of the ranks, which the pair check in bpe.c relies
         * on. */
        int ok = 1;
        uint32_t kid[2] = {left, right};
        for (int k = 0; k < 2; k++)
            if (d->tok_len[kid[k]] > 1 &&
                (kid[k] >= r || tree[2 * (size_t)kid[k]] == NONE))
                ok = 0;
        if (!ok)
            continue;
        tree[2 * (size_t)r] = left;
        tree[2 * (size_t)r + 1] = right;
        /* Its longest usable proper prefix (a single byte at least). */
        const unsigned char *p = d->bytes + d->tok_off[r];
        for (uint32_t l = len - 1; l >= 1 && next[r] == NONE; l--) {
            uint32_t q = akv_bpe_rank(d, p, l);
            if (q != NONE && (l == 1 || tree[2 * (size_t)q] != NONE))
                next[r] = q;
        }
        for (uint32_t l = 2; l <= len; l++)
            prefixes += l == len || (p[l] & 0xc0) != 0x80;
    }
    size_t words = 1;
    while (words * 64 < prefixes * 8)
        words <<= 1;
    uint64_t *filter = calloc(words, sizeof *filter);
    d->owned[11] = filter;
    if (filter == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
        goto out;
    }
    d->prefix_filter = filter;
    d->prefix_filter_mask = (uint32_t)(words - 1);
    for (uint32_t r = 0; r < nr; r++) {
        if (tree[2 * (size_t)r] == NONE)
            continue;
        const unsigned char *p = d->bytes + d->tok_off[r];
        uint64_t h = akv_bpe_prefix_step(AKV_BPE_PREFIX_SEED, p[0]);
        uint32_t len = d->tok_len[r];
        for (uint32_t l = 1; l < len; l++) {
            h = akv_bpe_prefix_step(h, p[l]);
            if (l + 1 < len && (p[l + 1] & 0xc0) == 0x80)
                continue; /* the search asks only at character bounds */
            uint64_t f = akv_bpe_prefix_hash(h);
            filter[(uint32_t)(f >> 40) & d->prefix_filter_mask] |=
                akv_bpe_filter_bits(f);
        }
    }
    d->lm_tree = tree;
    d->lm_next = next;
out:
    free(order);
    free(start);
    free(part);
    free(pr);
    return rc;
}

/*
 * The character table (bpe.h): the characters that merging may start as
 * one token instead of as their bytes, and where it may.
 *
 * Take a character C of two to four bytes that is a token T by itself, and
 * whose own bytes BPE merges into T (own_bpe()) with merges of rank at most
 * top. Call a token that overlaps C where C stands in a piece, but is not
 * inside C (it ends inside C after bytes before it, starts inside C and
 * goes on after it, or holds C and more), an overlapping token; its bytes
 * are there in the piece, around C. When every overlapping token has a
 * rank above top, starting the merge with T in place of C's bytes gives
 * BPE's result:
 *
 *  - While C is in parts, its next merge (rank <= top) is always there to
 *    take, so nothing of rank above top is merged anywhere in the piece.
 *    A part inside C could join a part outside only by making an
 *    overlapping token, of rank above top: so it does not, C's bytes merge
 *    among themselves exactly as own_bpe() merges them, and the rest of
 *    the piece merges as if C were not there.
 *  - Once T stands, a pair with T makes an overlapping token, so none is
 *    taken before everything of rank <= top around it is done.
 *
 * Either way the merges outside C come in the same order, and the two runs
 * meet when C becomes T. Applied one character after the other, this
 * holds for any number of them in a piece.
 *
 * So each character in the table comes with its checks: the overlapping
 * tokens of rank <= top, each with where it would start. bpe.c starts C as
 * T only where none of them stands in the piece. (The encodings hold
 * tokens that end with the lead byte of the next character, " \xd0" for
 * one, so most characters have checks; tests/unit/test-bpe-chars.c tries
 * made-up encodings where they often match.)
 */

/* The length of the UTF-8 character that byte c leads: 2 to 4, or 0 when
 * c leads none of two bytes or more. */
static size_t lead_len(unsigned char c)
{
    return c < 0xc0 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 0;
}

/* The code point of p[0..n) when those bytes are exactly one well-formed
 * UTF-8 character of two bytes or more, else NONE. */
static uint32_t one_char(const unsigned char *p, size_t n)
{
    uint32_t cp = n >= 2 && lead_len(p[0]) == n ? akv_bpe_utf8_char(p, n)
                                                : AKV_BPE_NOT_A_CHAR;
    return cp == AKV_BPE_NOT_A_CHAR || (cp >= 0xd800 && cp <= 0xdfff) ? NONE
                                                                      : cp;
}

/* An overlapping token, found by what it shares with a character: the
 * character's first k bytes at its end (EDGE_PREFIX), its last k bytes at
 * its start (EDGE_SUFFIX), both as edge_key() of those bytes, or the
 * whole character (EDGE_CHAR | code point) at byte at. */
#define EDGE_PREFIX (1u << 26)
#define EDGE_SUFFIX (2u << 26)
#define EDGE_CHAR (3u << 26)
struct edge {
    uint32_t key, rank, at;
};

static uint32_t edge_key(uint32_t kind, const unsigned char *p, size_t k)
{
    uint32_t v = kind | (uint32_t)k << 24;
    for (size_t i = 0; i < k; i++)
        v |= (uint32_t)p[i] << (8 * (2 - i));
    return v;
}

static int push_edge(struct edge **e, size_t *n, size_t *cap,
                     struct edge x)
{
    if (*n == *cap) {
        struct edge *ng = realloc(*e, 2 * *cap * sizeof **e);
        if (ng == NULL)
            return -1;
        *e = ng;
        *cap *= 2;
    }
    (*e)[(*n)++] = x;
    return 0;
}

static int cmp_edge(const void *a, const void *b)
{
    const struct edge *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* The first edge of key key in e[0..n) (sorted), or n. */
static size_t first_edge(const struct edge *e, size_t n, uint32_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Appends to checks[*n ..] (room up to cap) a check for each edge of key
 * key and rank <= top; the bytes the edge shares with the character start
 * at shift in the character. 0 when they do not fit (the character is
 * then left out). */
static int add_checks(const struct akv_bpe_data *d, const struct edge *e,
                      size_t ne, uint32_t key, uint32_t top, uint32_t shift,
                      struct akv_bpe_char_check *checks, size_t *n,
                      size_t cap)
{
    for (size_t x = first_edge(e, ne, key);
         x < ne && e[x].key == key && e[x].rank <= top; x++) {
        uint32_t r = e[x].rank, len = d->tok_len[r];
        long at = (long)shift - (long)e[x].at; /* where the token starts */
        if (*n == cap || len > UINT16_MAX || at < INT16_MIN)
            return 0;
        struct akv_bpe_char_check *c = &checks[(*n)++];
        c->at = (int16_t)at;
        c->len = (uint16_t)len;
        c->tok = r;
        c->head = akv_bpe_load_tail(d->bytes + d->tok_off[r],
                                    len < 8 ? len : 8);
    }
    return 1;
}

static int build_chars(struct akv_bpe_data *d, const char *path)
{
    uint32_t nr = d->nranks;
    size_t ne = 0, ecap = (size_t)nr * 2, nfound = 0, nchecks = 0;
    size_t ccap = (size_t)nr * 8;
    struct edge *e = malloc(ecap * sizeof *e);
    uint32_t *found = malloc((size_t)nr * 3 * sizeof *found);
    struct akv_bpe_char_check *checks = malloc(ccap * sizeof *checks);
    uint16_t *index = calloc(AKV_BPE_CHAR_BLOCKS, sizeof *index);
    struct akv_bpe_char *chars = NULL;
    int rc = AKV_OK;
    if (!e || !found || !checks || !index)
        goto nomem;
    /* Every overlapping token, by what it shares with a character. */
    for (uint32_t r = 0; r < nr; r++) {
        size_t len = d->tok_len[r];
        if (len < 2)
            continue;
        const unsigned char *p = d->bytes + d->tok_off[r];
        /* It starts with the last k bytes of a character and goes on
         * (with a byte that can follow a character). */
        size_t k = 0;
        while (k < 3 && k < len && (p[k] & 0xc0) == 0x80)
            k++;
        if (k > 0 && k < len && (p[k] & 0xc0) != 0x80 &&
            push_edge(&e, &ne, &ecap,
                      (struct edge){edge_key(EDGE_SUFFIX, p, k), r, 0}) != 0)
            goto nomem;
        /* It ends with the first m + 1 bytes of a longer character, after
         * other bytes. */
        size_t m = 0;
        while (m < 3 && m < len && (p[len - 1 - m] & 0xc0) == 0x80)
            m++;
        if (m + 1 < len && lead_len(p[len - 1 - m]) > m + 1 &&
            push_edge(&e, &ne, &ecap,
                      (struct edge){
                          edge_key(EDGE_PREFIX, p + len - 1 - m, m + 1), r,
                          (uint32_t)(len - 1 - m)}) != 0)
            goto nomem;
        /* It holds whole characters, and more. */
        for (size_t i = 0; i < len;) {
            size_t l = lead_len(p[i]);
            uint32_t cp = l && l < len && i + l <= len ? one_char(p + i, l)
                                                       : NONE;
            if (cp == NONE) {
                i++;
                continue;
            }
            if (push_edge(&e, &ne, &ecap,
                          (struct edge){EDGE_CHAR | cp, r, (uint32_t)i}) != 0)
                goto nomem;
            i += l;
        }
    }
    qsort(e, ne, sizeof *e, cmp_edge);

    /* The characters, as (code point, token, first check << 8 | checks). */
    for (uint32_t r = 0; r < nr; r++) {
        size_t len = d->tok_len[r];
        if (len < 2 || len > 4)
            continue;
        const unsigned char *p = d->bytes + d->tok_off[r];
        uint32_t cp = one_char(p, len);
        uint32_t part[4], pr[4], left, right, top;
        if (cp == NONE || !own_bpe(d, r, part, pr, &left, &right, &top))
            continue;
        size_t first = nchecks;
        int ok = add_checks(d, e, ne, EDGE_CHAR | cp, top, 0, checks,
                            &nchecks, ccap);
        for (size_t k = 1; k < len && ok; k++)
            ok = add_checks(d, e, ne, edge_key(EDGE_PREFIX, p, k), top, 0,
                            checks, &nchecks, ccap) &&
                 add_checks(d, e, ne, edge_key(EDGE_SUFFIX, p + len - k, k),
                            top, (uint32_t)(len - k), checks, &nchecks,
                            ccap);
        if (!ok || nchecks - first > 255 || first > 0xffffff) {
            nchecks = first;
            continue;
        }
        found[3 * nfound] = cp;
        found[3 * nfound + 1] = r;
        found[3 * nfound + 2] = (uint32_t)(first << 8 | (nchecks - first));
        nfound++;
    }
    /* Blocks: 0 is empty, then one per block with a character. */
    uint32_t nblocks = 1;
    for (size_t i = 0; i < nfound; i++) {
        uint32_t b = found[3 * i] / AKV_BPE_CHAR_BLOCK;
        if (index[b] == 0)
            index[b] = (uint16_t)nblocks++;
    }
    chars = malloc((size_t)nblocks * AKV_BPE_CHAR_BLOCK * sizeof *chars);
    if (chars == NULL)
        goto nomem;
    for (size_t i = 0; i < (size_t)nblocks * AKV_BPE_CHAR_BLOCK; i++)
        chars[i] = (struct akv_bpe_char){NONE, 0};
    for (size_t i = 0; i < nfound; i++) {
        uint32_t cp = found[3 * i];
        chars[(size_t)index[cp / AKV_BPE_CHAR_BLOCK] * AKV_BPE_CHAR_BLOCK +
              cp % AKV_BPE_CHAR_BLOCK] =
            (struct akv_bpe_char){found[3 * i + 1], found[3 * i + 2]};
    }
    d->char_index = index;
    d->chars = chars;
    d->char_nblocks = nblocks;
    d->char_checks = checks;
    d->char_nchecks = (uint32_t)nchecks;
    d->owned[12] = index;
    d->owned[13] = chars;
    d->owned[14] = checks;
    index = NULL;
    checks = NULL;
    goto out;
nomem:
    rc = akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
out:
    free(index);
    free(checks);
    free(e);
    free(found);
    return rc;
}

/* Packs the special tokens as {u32 id, u32 len, bytes, pad}. */
static int build_specials(struct akv_bpe_data *d, json_t *obj,
                          const char *path)
{
    if (!json_is_object(obj))
        return akv_fail(AKV_EUNAVAILABLE,
                        "%s: special_tokens is not an object", path);
    size_t size = 0;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        size_t kl = strlen(k);
        if (kl == 0 || kl > MAX_TOKEN_LEN)
            return akv_fail(AKV_EUNAVAILABLE, "%s: bad special token", path);
        size += 8 + ((kl + 3) & ~(size_t)3);
    }
    unsigned char *buf = malloc(size ? size : 1);
    d->owned[6] = buf;
    if (buf == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
    memset(buf, 0, size ? size : 1);
    size_t o = 0;
    json_object_foreach(obj, k, v)
    {
        json_int_t id = json_integer_value(v);
        if (!json_is_integer(v) || id < 0 || id >= (json_int_t)MAX_RANKS ||
            ((uint64_t)id < d->nranks && d->tok_off[id] != NONE))
            return akv_fail(AKV_EUNAVAILABLE, "%s: bad id for special token",
                            path);
        uint32_t rec[2] = {(uint32_t)id, (uint32_t)strlen(k)};
        memcpy(buf + o, rec, 8);
        memcpy(buf + o + 8, k, rec[1]);
        o += 8 + ((rec[1] + 3) & ~(size_t)3);
        d->nspecials++;
    }
    d->specials = buf;
    d->specials_len = size;
    return AKV_OK;
}

/* Reads a tiktoken JSON file into d (all arrays owned). pat_out, when not
 * NULL, receives a malloc'ed copy of the file's pattern. */
static int load_json(const char *path, const char *expect_pat,
                     struct akv_bpe_data *d, char **pat_out)
{
    memset(d, 0, sizeof *d);
    void *map;
    size_t maplen;
    int rc = map_file(path, &map, &maplen);
    if (rc != AKV_OK)
        return rc;
    json_error_t jerr;
    json_t *root = map ? json_loadb(map, maplen, JSON_REJECT_DUPLICATES, &jerr)
                       : NULL;
    if (map)
        munmap(map, maplen);
    if (root == NULL)
        return akv_fail(AKV_EUNAVAILABLE, "%s: not a tiktoken JSON file: %s",
                        path, map ? jerr.text : "empty");

    struct words w = {0};
    json_t *pat = json_object_get(root, "pat_str");
    json_t *ranks = json_object_get(root, "bpe_ranks");
    if (!json_is_string(pat) || !json_is_string(ranks))
        rc = akv_fail(AKV_EUNAVAILABLE, "%s: pat_str or bpe_ranks missing",
                      path);
    else if (expect_pat && strcmp(json_string_value(pat), expect_pat) != 0)
        rc = akv_fail(AKV_EUNAVAILABLE,
                      "%s: its pre-split pattern is not the one this build "
                      "was written for",
                      path);
    if (rc == AKV_OK) {
        size_t len = json_string_length(ranks);
        unsigned char *bytes = malloc(len ? len : 1);
        d->owned[0] = bytes;
        d->bytes = bytes;
        if (bytes == NULL)
            rc = akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
        else
            rc = parse_ranks(json_string_value(ranks), len, bytes,
                             &d->bytes_len, &w, path);
    }
    if (rc == AKV_OK)
        rc = build_tables(d, &w, path);
    if (rc == AKV_OK)
        rc = build_merges(d, path);
    if (rc == AKV_OK)
        rc = build_lm(d, path);
    if (rc == AKV_OK)
        rc = build_chars(d, path);
    if (rc == AKV_OK)
        rc = build_specials(d, json_object_get(root, "special_tokens"), path);
    if (rc == AKV_OK && pat_out) {
        *pat_out = strdup(json_string_value(pat));
        if (*pat_out == NULL)
            rc = akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
    }
    free(w.off);
    free(w.len);
    free(w.rank);
    json_decref(root);
    if (rc != AKV_OK)
        akv_bpe_data_free(d);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The compiled table file                                                  */
/* ------------------------------------------------------------------------ */

#define BIN_MAGIC "AKVBPE\r\n"
#define BIN_VERSION 7u
#define BIN_ENDIAN 0x01020304u

struct bin_header {
    char magic[8];
    uint32_t endian, version, hash_id, nranks;
    uint32_t mask, nspecials;
    uint64_t source_size, source_hash; /* of the JSON it was made from */
    uint32_t max_probe, pad;           /* longest probe of a present key */
    uint64_t tok_off, tok_len, bytes, bytes_len, table, byte_rank,
        pair_rank, specials, specials_len, pat, pat_len, file_size;
    uint64_t merge;                   /* the merge table, merge_mask + 1 */
    uint32_t merge_mask, merge_max_probe;
    uint64_t filter;                  /* its filter, filter_mask + 1 */
    uint32_t filter_mask, tok_filter_mask;
    uint64_t tok_filter;              /* tok_filter_mask + 1 words */
    uint64_t lm_tree, lm_next;        /* 2 * nranks, nranks */
    uint64_t prefix_filter;           /* prefix_filter_mask + 1 words */
    uint32_t prefix_filter_mask, char_nblocks;
    uint64_t char_index, chars, char_checks; /* the character table */
    uint32_t char_nchecks, pad2;
};

/* A checksum of a whole file's bytes (Fletcher's, over 64-bit words, in
 * two interleaved lanes): enough to notice damage or a different file, at
 * the speed of memory. Not meant to resist a forger. */
static uint64_t file_hash(const unsigned char *p, size_t n)
{
    uint64_t a0 = 0, b0 = 0, a1 = 0, b1 = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint64_t w0, w1;
        memcpy(&w0, p + i, 8);
        memcpy(&w1, p + i + 8, 8);
        a0 += w0;
        b0 += a0;
        a1 += w1;
        b1 += a1;
    }
    uint64_t tail[2] = {0, 0};
    memcpy(tail, p + i, n - i);
    a0 += tail[0];
    b0 += a0;
    a1 += tail[1];
    b1 += a1;
    return (a0 ^ (b0 << 32 | b0 >> 32)) * 0x9e3779b97f4a7c15ull ^
           (a1 ^ (b1 << 29 | b1 >> 35)) ^ (uint64_t)n;
}

int akv_bpe_compile(const char *json_path, const char *bin_path,
                    const char *expect_pat)
{
    struct akv_bpe_data d;
    char *pat = NULL;
    int rc = load_json(json_path, expect_pat, &d, &pat);
    if (rc == AKV_ENOTFOUND)
        return akv_fail(AKV_EUNAVAILABLE, "%s does not exist", json_path);
    if (rc != AKV_OK)
        return rc;

    void *src;
    size_t srclen;
    rc = map_file(json_path, &src, &srclen);
    if (rc != AKV_OK) {
        free(pat);
        akv_bpe_data_free(&d);
        return rc == AKV_ENOTFOUND ? AKV_EUNAVAILABLE : rc;
    }
    struct bin_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, BIN_MAGIC, 8);
    h.endian = BIN_ENDIAN;
    h.version = BIN_VERSION;
    h.hash_id = AKV_BPE_HASH_ID;
    h.nranks = d.nranks;
    h.mask = d.mask;
    h.nspecials = d.nspecials;
    h.source_size = srclen;
    h.source_hash = file_hash(src, srclen);
    munmap(src, srclen);

    /* Sections, each 8-byte aligned. */
    struct {
        const void *p;
        size_t n;
        uint64_t *off;
    } sec[] = {
        {d.tok_off, (size_t)d.nranks * 4, &h.tok_off},
        {d.tok_len, (size_t)d.nranks * 4, &h.tok_len},
        {d.bytes, d.bytes_len, &h.bytes},
        {d.table, ((size_t)d.mask + 1) * sizeof *d.table, &h.table},
        {d.tok_filter, ((size_t)d.tok_filter_mask + 1) * 8, &h.tok_filter},
        {d.byte_rank, 256 * 4, &h.byte_rank},
        {d.pair_rank, 65536 * 4, &h.pair_rank},
        {d.merge, ((size_t)d.merge_mask + 1) * 8, &h.merge},
        {d.filter, ((size_t)d.filter_mask + 1) * 8, &h.filter},
        {d.lm_tree, (size_t)d.nranks * 8, &h.lm_tree},
        {d.lm_next, (size_t)d.nranks * 4, &h.lm_next},
        {d.prefix_filter, ((size_t)d.prefix_filter_mask + 1) * 8,
         &h.prefix_filter},
        {d.char_index, (size_t)AKV_BPE_CHAR_BLOCKS * 2, &h.char_index},
        {d.chars,
         (size_t)d.char_nblocks * AKV_BPE_CHAR_BLOCK * sizeof *d.chars,
         &h.chars},
        {d.char_checks, (size_t)d.char_nchecks * sizeof *d.char_checks,
         &h.char_checks},
        {d.specials, d.specials_len, &h.specials},
        {pat, strlen(pat), &h.pat},
    };
    size_t nsec = sizeof sec / sizeof sec[0];
    uint64_t at = (sizeof h + 7) & ~(uint64_t)7;
    for (size_t i = 0; i < nsec; i++) {
        *sec[i].off = at;
        at = (at + sec[i].n + 7) & ~(uint64_t)7;
    }
    h.bytes_len = d.bytes_len;
    h.specials_len = d.specials_len;
    h.pat_len = strlen(pat);
    h.file_size = at;

    /* The whole file in memory first, so that the header can carry the
     * hash of the body. */
    unsigned char *img = calloc(1, (size_t)h.file_size);
    if (img == NULL) {
        free(pat);
        akv_bpe_data_free(&d);
        return akv_fail(AKV_ENOMEM, "out of memory writing %s", bin_path);
    }
    for (size_t i = 0; i < nsec; i++)
        if (sec[i].n)
            memcpy(img + *sec[i].off, sec[i].p, sec[i].n);
    h.max_probe = d.max_probe;
    h.merge_mask = d.merge_mask;
    h.merge_max_probe = d.merge_max_probe;
    h.filter_mask = d.filter_mask;
    h.tok_filter_mask = d.tok_filter_mask;
    h.prefix_filter_mask = d.prefix_filter_mask;
    h.char_nblocks = d.char_nblocks;
    h.char_nchecks = d.char_nchecks;
    memcpy(img, &h, sizeof h);

    const char *step;
    if (akvx_replace_file(bin_path, img, (size_t)h.file_size, 0644, &step) != 0)
        rc = akv_fail(AKV_EUNAVAILABLE, "cannot %s %s: %s", step, bin_path,
                      strerror(errno));
    free(img);
    free(pat);
    akv_bpe_data_free(&d);
    return rc;
}

/* 1 when [off, off + n) lies inside a file of size size and off is
 * aligned to align. */
static int in_file(uint64_t off, uint64_t n, uint64_t size, uint64_t align)
{
    return off % align == 0 && off <= size && n <= size - off;
}

/* Maps a table file and checks everything the lookups rely on. json, when
 * not NULL, is the JSON file beside it, which the table must come from.
 * Returns AKV_ENOTFOUND when the file does not exist, AKV_EINVAL when it
 * is stale or from another build (the caller reads the JSON instead). */
static int load_bin(const char *path, const char *expect_pat,
                    const void *json, size_t json_len,
                    struct akv_bpe_data *d)
{
    memset(d, 0, sizeof *d);
    void *map;
    size_t len;
    int rc = map_file(path, &map, &len);
    if (rc != AKV_OK)
        return rc;
    const unsigned char *base = map;
    struct bin_header h;
    if (len < sizeof h) {
        if (map)
            munmap(map, len);
        return AKV_EINVAL;
    }
    memcpy(&h, base, sizeof h);
    d->map = map;
    d->map_len = len;
    if (memcmp(h.magic, BIN_MAGIC, 8) != 0 || h.endian != BIN_ENDIAN ||
        h.version != BIN_VERSION || h.hash_id != AKV_BPE_HASH_ID ||
        (json && (h.source_size != json_len ||
                  h.source_hash != file_hash(json, json_len))))
        goto stale;

    uint64_t table_n = (uint64_t)h.mask + 1;
    if (h.file_size != len || h.nranks == 0 || h.nranks > MAX_RANKS ||
        h.max_probe > h.mask ||
        (table_n & h.mask) != 0 || table_n < h.nranks ||
        table_n > (uint64_t)MAX_RANKS * 4 ||
        !in_file(h.tok_off, (uint64_t)h.nranks * 4, len, 8) ||
        !in_file(h.tok_len, (uint64_t)h.nranks * 4, len, 8) ||
        !in_file(h.bytes, h.bytes_len, len, 8) ||
        !in_file(h.table, table_n * 8, len, 8) ||
        !in_file(h.byte_rank, 256 * 4, len, 8) ||
        !in_file(h.pair_rank, 65536 * 4, len, 8) ||
        h.merge_max_probe > h.merge_mask ||
        !in_file(h.merge, ((uint64_t)h.merge_mask + 1) * 8, len, 8) ||
        !in_file(h.filter, ((uint64_t)h.filter_mask + 1) * 8, len, 8) ||
        !in_file(h.tok_filter, ((uint64_t)h.tok_filter_mask + 1) * 8, len,
                 8) ||
        !in_file(h.lm_tree, (uint64_t)h.nranks * 8, len, 8) ||
        !in_file(h.lm_next, (uint64_t)h.nranks * 4, len, 8) ||
        !in_file(h.prefix_filter, ((uint64_t)h.prefix_filter_mask + 1) * 8,
                 len, 8) ||
        h.char_nblocks == 0 || h.char_nblocks > AKV_BPE_CHAR_BLOCKS + 1 ||
        !in_file(h.char_index, (uint64_t)AKV_BPE_CHAR_BLOCKS * 2, len, 8) ||
        !in_file(h.chars,
                 (uint64_t)h.char_nblocks * AKV_BPE_CHAR_BLOCK *
                     sizeof(struct akv_bpe_char),
                 len, 8) ||
        !in_file(h.char_checks,
                 (uint64_t)h.char_nchecks * sizeof(struct akv_bpe_char_check),
                 len, 8) ||
        !in_file(h.specials, h.specials_len, len, 8) ||
        !in_file(h.pat, h.pat_len, len, 1))
        goto damaged;
    if (expect_pat && (h.pat_len != strlen(expect_pat) ||
                       memcmp(base + h.pat, expect_pat, h.pat_len) != 0)) {
        akv_bpe_data_free(d);
        return akv_fail(AKV_EUNAVAILABLE,
                        "%s: its pre-split pattern is not the one this build "
                        "was written for",
                        path);
    }
    d->nranks = h.nranks;
    d->tok_off = (const uint32_t *)(base + h.tok_off);
    d->tok_len = (const uint32_t *)(base + h.tok_len);
    d->bytes = base + h.bytes;
    d->bytes_len = h.bytes_len;
    d->table = (const struct akv_bpe_slot *)(base + h.table);
    d->mask = h.mask;
    d->byte_rank = (const uint32_t *)(base + h.byte_rank);
    d->pair_rank = (const uint32_t *)(base + h.pair_rank);
    d->merge = (const uint64_t *)(base + h.merge);
    d->merge_mask = h.merge_mask;
    d->merge_max_probe = h.merge_max_probe;
    d->filter = (const uint64_t *)(base + h.filter);
    d->filter_mask = h.filter_mask;
    d->tok_filter = (const uint64_t *)(base + h.tok_filter);
    d->tok_filter_mask = h.tok_filter_mask;
    d->lm_tree = (const uint32_t *)(base + h.lm_tree);
    d->lm_next = (const uint32_t *)(base + h.lm_next);
    d->prefix_filter = (const uint64_t *)(base + h.prefix_filter);
    d->prefix_filter_mask = h.prefix_filter_mask;
    d->char_index = (const uint16_t *)(base + h.char_index);
    d->chars = (const struct akv_bpe_char *)(base + h.chars);
    d->char_checks =
        (const struct akv_bpe_char_check *)(base + h.char_checks);
    d->char_nblocks = h.char_nblocks;
    d->char_nchecks = h.char_nchecks;
    d->specials = base + h.specials;
    d->specials_len = h.specials_len;
    d->nspecials = h.nspecials;

    d->max_probe = h.max_probe;

    /* Nothing else is read up front: the lookups check every rank, offset
     * and length they take from the file (akv_bpe_rank()), and a probe
     * never goes further than max_probe, so a damaged table can give wrong
     * ranks but never an access outside the file or an endless probe. The
     * pages are faulted in as encoding touches them. Only the single bytes
     * are checked here, because every input relies on them, and the
     * character table's block numbers, which index the file (its tokens
     * and check ranges are checked where they are used). */
    for (size_t b = 0; b < 256; b++)
        if (d->byte_rank[b] >= d->nranks)
            goto damaged;
    for (size_t b = 0; b < AKV_BPE_CHAR_BLOCKS; b++)
        if (d->char_index[b] >= d->char_nblocks)
            goto damaged;
#define VALID_RANK(r) ((r) < d->nranks && d->tok_off[(r)] != NONE)
    size_t o = 0;
    for (uint32_t s = 0; s < d->nspecials; s++) {
        uint32_t rec[2];
        if (d->specials_len - o < 8)
            goto damaged;
        memcpy(rec, d->specials + o, 8);
        size_t step = 8 + (((size_t)rec[1] + 3) & ~(size_t)3);
        if (rec[1] == 0 || rec[1] > MAX_TOKEN_LEN ||
            step > d->specials_len - o || VALID_RANK(rec[0]))
            goto damaged;
        o += step;
    }
#undef VALID_RANK
    return AKV_OK;

stale:
    akv_bpe_data_free(d);
    return AKV_EINVAL;
damaged:
    akv_bpe_data_free(d);
    return akv_fail(AKV_EUNAVAILABLE,
                    "%s is damaged; delete it and rebuild (make)", path);
}

int akv_bpe_data_load(const char *dir, const char *name,
                      const char *expect_pat, struct akv_bpe_data *out)
{
    char json_path[4096], bin_path[4096];
    int a = snprintf(json_path, sizeof json_path, "%s/%s.json", dir, name);
    int b = snprintf(bin_path, sizeof bin_path, "%s/%s.bin", dir, name);
    if (a < 0 || (size_t)a >= sizeof json_path || b < 0 ||
        (size_t)b >= sizeof bin_path)
        return AKV_ENOTFOUND;

    void *json;
    size_t json_len;
    int jrc = map_file(json_path, &json, &json_len);
    if (jrc != AKV_OK && jrc != AKV_ENOTFOUND)
        return jrc;
    int rc = load_bin(bin_path, expect_pat,
                      jrc == AKV_OK ? (json ? json : "") : NULL,
                      json_len, out);
    if (json)
        munmap(json, json_len);
    if (rc == AKV_OK || rc == AKV_ENOMEM)
        return rc;
    /* The JSON file is the source of truth: a table file that is missing,
     * stale, from another build or damaged is passed over when the JSON
     * is there. */
    if (jrc == AKV_OK)
        return load_json(json_path, expect_pat, out, NULL);
    if (rc == AKV_EINVAL)
        return akv_fail(AKV_EUNAVAILABLE,
                        "%s was made by another build; rebuild (make)",
                        bin_path);
    return rc;
}

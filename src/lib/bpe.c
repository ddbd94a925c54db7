/*
 * bpe.c — the tokenizer: byte-level BPE that gives the same ids as OpenAI's
 * tiktoken (encode_ordinary) for o200k_base and cl100k_base.
 *
 * Encoding text is three steps, each the same as tiktoken's:
 *   1. Input bytes that are not valid UTF-8 are replaced the way the WHATWG
 *      UTF-8 decoder replaces them (one U+FFFD per maximal ill-formed
 *      subsequence), because that is the string tiktoken receives when the
 *      same bytes are read as text (docs/tokenizer.md).
 *   2. A regular expression (the encoding's "pre-split" pattern, run with
 *      PCRE2's JIT) cuts the text into pieces; tokens never cross a piece.
 *   3. Each piece that is a token by itself becomes that token. Any other
 *      piece starts as single bytes, and the adjacent pair whose
 *      concatenation has the lowest rank is merged, the leftmost pair on a
 *      tie, until no adjacent pair is a token. The ranks are the token ids.
 *
 * What this file does not do: special tokens in the input are plain text
 * (encode_ordinary semantics), and there is no "allowed special" mode.
 *
 * Data: <dir>/<name>.json from the npm "tiktoken" package, unchanged. Its
 * "bpe_ranks" member is a text of space- or newline-separated words: "!"
 * followed by a decimal rank starts a run, and each base64 word after it is
 * the token with the next rank. "pat_str" is tiktoken's pattern, which we
 * check against the one we expect (our PCRE2 translation of it lives here,
 * see the patterns below) so that data for a different pattern is refused
 * rather than silently mis-tokenized. "special_tokens" maps text to id.
 *
 * Concurrency: encodings are loaded once per process under load_lock and are
 * immutable afterwards, so any number of threads encode with one handle at
 * once; everything mutable during an encode lives in that call's own
 * struct work. Loaded encodings are never freed.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>

#include "agentkv-tokens.h"
#include "internal.h"

#ifndef AKV_SHARE_DIR
#define AKV_SHARE_DIR "/usr/local/share/agentkv"
#endif

#define NONE UINT32_MAX      /* "no such token" as a rank */
#define SMALL_PIECE 96       /* longer pieces use the heap merge */
#define MAX_TOKEN_LEN 65535  /* refuse data with longer tokens */

/* ------------------------------------------------------------------------ */
/* Patterns                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * tiktoken's patterns are written for Rust's regex engine. Two classes mean
 * something slightly different in PCRE2 and are spelled out here:
 *   - \s: Rust means the Unicode White_Space property; PCRE2 with PCRE2_UCP
 *     also matches U+180E (a format character since Unicode 6.3). WS below
 *     is White_Space exactly, and \S becomes [^WS].
 *   - (?i:'s|...): both engines fold 's' to 'S' and U+017F (long s) alike,
 *     so it stays as it is.
 * Everything else (\p{L}, \p{N}, \p{M} and the Lu/Ll/Lt/Lm/Lo split,
 * greedy leftmost-first alternation, the (?!\S) lookahead) carries over.
 */
#define WS                                                                    \
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}"    \
    "\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
#define CONTRACTIONS "(?i:'s|'t|'re|'ve|'m|'ll|'d)"
#define UPPERISH "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]"
#define LOWERISH "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]"

static const char O200K_PCRE[] =
    "[^\\r\\n\\p{L}\\p{N}]?" UPPERISH "*" LOWERISH "+" CONTRACTIONS "?"
    "|[^\\r\\n\\p{L}\\p{N}]?" UPPERISH "+" LOWERISH "*" CONTRACTIONS "?"
    "|\\p{N}{1,3}"
    "| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n/]*"
    "|[" WS "]*[\\r\\n]+"
    "|[" WS "]+(?![^" WS "])"
    "|[" WS "]+";

static const char CL100K_PCRE[] =
    CONTRACTIONS
    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
    "|\\p{N}{1,3}"
    "| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*"
    "|[" WS "]*[\\r\\n]+"
    "|[" WS "]+(?![^" WS "])"
    "|[" WS "]+";

/* The pat_str of each data file, as tiktoken spells it. */
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
    const char *pcre;     /* what we run */
    const char *tiktoken; /* what the data file must say */
};

static const struct encoding_def defs[] = {
    {"o200k_base", O200K_PCRE, O200K_TIKTOKEN},
    {"cl100k_base", CL100K_PCRE, CL100K_TIKTOKEN},
};
#define NDEFS (sizeof defs / sizeof defs[0])

/* ------------------------------------------------------------------------ */
/* The encoding                                                             */
/* ------------------------------------------------------------------------ */

/* One slot of the rank table: open addressing with linear probing over the
 * token byte strings. rank == NONE marks an empty slot; tag is the high
 * half of the hash, compared before the bytes. */
struct slot {
    uint32_t rank;
    uint32_t tag;
};

struct special {
    uint32_t id;
    uint32_t len;
    char *text;
};

struct akv_encoding {
    const struct encoding_def *def;
    pcre2_code *re;
    int jit; /* pcre2_jit_compile() succeeded */

    uint32_t nranks;    /* ranks are 0 .. nranks-1, possibly with gaps */
    uint32_t *tok_off;  /* by rank: offset in bytes, or NONE for a gap */
    uint32_t *tok_len;  /* by rank: length */
    unsigned char *bytes;
    struct slot *table;
    uint32_t mask; /* table size - 1 */

    uint32_t byte_rank[256];  /* rank of each single byte */
    uint32_t *pair_rank;      /* 65536: rank of each two-byte string */

    struct special *specials;
    size_t nspecials;
};

static uint64_t hash_bytes(const unsigned char *p, size_t n)
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

/* Rank of the byte string p[0..n), or NONE. n >= 1. */
static inline uint32_t rank_of(const akv_encoding *e, const unsigned char *p,
                               size_t n)
{
    if (n == 1)
        return e->byte_rank[p[0]];
    if (n == 2)
        return e->pair_rank[(size_t)p[0] << 8 | p[1]];
    uint64_t h = hash_bytes(p, n);
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint32_t i = (uint32_t)h & e->mask;; i = (i + 1) & e->mask) {
        const struct slot *s = &e->table[i];
        if (s->rank == NONE)
            return NONE;
        if (s->tag == tag && e->tok_len[s->rank] == n &&
            memcmp(e->bytes + e->tok_off[s->rank], p, n) == 0)
            return s->rank;
    }
}

static void encoding_free(akv_encoding *e)
{
    if (e == NULL)
        return;
    pcre2_code_free(e->re);
    free(e->tok_off);
    free(e->tok_len);
    free(e->bytes);
    free(e->table);
    free(e->pair_rank);
    for (size_t i = 0; i < e->nspecials; i++)
        free(e->specials[i].text);
    free(e->specials);
    free(e);
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes standard base64 (with '=' padding) s[0..n) into out, which has
 * room for n * 3 / 4 bytes. Returns the length, or -1 when malformed. */
static long b64_decode(const char *s, size_t n, unsigned char *out)
{
    if (n == 0 || n % 4 != 0)
        return -1;
    size_t pad = 0;
    if (s[n - 1] == '=')
        pad++;
    if (s[n - 2] == '=')
        pad++;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + k];
            if (c == '=' && i + 4 == n && (size_t)k >= 4 - pad)
                v[k] = 0;
            else if ((v[k] = b64_value(c)) < 0)
                return -1;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
                     (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (unsigned char)(w >> 16);
        if (i + 4 < n || pad < 2)
            out[o++] = (unsigned char)(w >> 8);
        if (i + 4 < n || pad < 1)
            out[o++] = (unsigned char)w;
    }
    return (long)o;
}

/* Reads a whole file; AKV_ENOTFOUND when it does not exist (the caller
 * tries the next directory), AKV_EUNAVAILABLE for any other failure. */
static int read_whole(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return AKV_ENOTFOUND;
        return akv_fail(AKV_EUNAVAILABLE, "cannot open %s: %s", path,
                        strerror(errno));
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        fclose(f);
        return akv_fail(AKV_ENOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (n == cap) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return akv_fail(AKV_ENOMEM, "out of memory reading %s", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return akv_fail(AKV_EUNAVAILABLE, "cannot read %s", path);
    }
    *out = buf;
    *len = n;
    return AKV_OK;
}

/* Adds token bytes[off..off+len) with rank to the table. */
static int table_insert(akv_encoding *e, uint32_t rank)
{
    const unsigned char *p = e->bytes + e->tok_off[rank];
    size_t n = e->tok_len[rank];
    uint64_t h = hash_bytes(p, n);
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint32_t i = (uint32_t)h & e->mask;; i = (i + 1) & e->mask) {
        struct slot *s = &e->table[i];
        if (s->rank == NONE) {
            s->rank = rank;
            s->tag = tag;
            return AKV_OK;
        }
        if (s->tag == tag && e->tok_len[s->rank] == n &&
            memcmp(e->bytes + e->tok_off[s->rank], p, n) == 0)
            return AKV_EINVAL; /* the same bytes twice */
    }
}

/* Parses the "bpe_ranks" text into e's token arrays and tables. path is for
 * messages only. */
static int parse_ranks(akv_encoding *e, const char *text, size_t len,
                       const char *path)
{
    /* First pass: count the words to size the arrays; the base64 text is
     * at least 4/3 of the bytes it encodes, so len bounds the arena. */
    size_t words = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && (text[i] == ' ' || text[i] == '\n'))
            i++;
        if (i < len)
            words++;
        while (i < len && text[i] != ' ' && text[i] != '\n')
            i++;
    }
    if (words == 0 || words > (size_t)1 << 24 || len >= NONE)
        return akv_fail(AKV_EUNAVAILABLE, "%s: bpe_ranks is empty or too "
                        "large", path);

    /* Ranks are at most words + the largest run start; we find the
     * largest rank while parsing, so size the by-rank arrays generously
     * and check every rank against the bound. */
    size_t max_ranks = (size_t)1 << 24;
    uint32_t *off = malloc(words * sizeof *off);
    uint32_t *lens = malloc(words * sizeof *lens);
    uint32_t *rank_of_word = malloc(words * sizeof *rank_of_word);
    e->bytes = malloc(len);
    if (!off || !lens || !rank_of_word || !e->bytes) {
        free(off);
        free(lens);
        free(rank_of_word);
        return akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
    }

    int rc = AKV_OK;
    size_t ntok = 0, used = 0;
    uint64_t next_rank = 0, top = 0;
    int have_run = 0;
    for (size_t i = 0; i < len && rc == AKV_OK;) {
        while (i < len && (text[i] == ' ' || text[i] == '\n'))
            i++;
        if (i >= len)
            break;
        size_t w = i;
        while (i < len && text[i] != ' ' && text[i] != '\n')
            i++;
        size_t wl = i - w;
        if (wl == 1 && text[w] == '!') {
            /* "!" RANK starts a run. */
            while (i < len && text[i] == ' ')
                i++;
            uint64_t r = 0;
            size_t d = i;
            while (i < len && text[i] >= '0' && text[i] <= '9' &&
                   r < max_ranks)
                r = r * 10 + (uint64_t)(text[i++] - '0');
            if (i == d || r >= max_ranks ||
                (i < len && text[i] != ' ' && text[i] != '\n'))
                rc = akv_fail(AKV_EUNAVAILABLE, "%s: bad rank after '!' "
                              "at offset %zu", path, d);
            next_rank = r;
            have_run = 1;
            continue;
        }
        long bl = have_run ? b64_decode(text + w, wl, e->bytes + used) : -1;
        if (bl <= 0 || bl > MAX_TOKEN_LEN || next_rank >= max_ranks) {
            rc = akv_fail(AKV_EUNAVAILABLE, "%s: bad token at offset %zu",
                          path, w);
            break;
        }
        off[ntok] = (uint32_t)used;
        lens[ntok] = (uint32_t)bl;
        rank_of_word[ntok] = (uint32_t)next_rank;
        if (next_rank + 1 > top)
            top = next_rank + 1;
        used += (size_t)bl;
        ntok++;
        next_rank++;
    }
    if (rc == AKV_OK) {
        e->nranks = (uint32_t)top;
        e->tok_off = malloc(top * sizeof *e->tok_off);
        e->tok_len = calloc(top, sizeof *e->tok_len);
        size_t cap = 1;
        while (cap < ntok * 2)
            cap <<= 1;
        e->mask = (uint32_t)(cap - 1);
        e->table = malloc(cap * sizeof *e->table);
        e->pair_rank = malloc(65536 * sizeof *e->pair_rank);
        if (!e->tok_off || !e->tok_len || !e->table || !e->pair_rank)
            rc = akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
    }
    if (rc == AKV_OK) {
        memset(e->tok_off, 0xff, top * sizeof *e->tok_off);
        memset(e->table, 0xff, (size_t)(e->mask + 1) * sizeof *e->table);
        memset(e->pair_rank, 0xff, 65536 * sizeof *e->pair_rank);
        for (size_t b = 0; b < 256; b++)
            e->byte_rank[b] = NONE;
        for (size_t t = 0; t < ntok && rc == AKV_OK; t++) {
            uint32_t r = rank_of_word[t];
            if (e->tok_off[r] != NONE) {
                rc = akv_fail(AKV_EUNAVAILABLE, "%s: rank %u given twice",
                              path, r);
                break;
            }
            e->tok_off[r] = off[t];
            e->tok_len[r] = lens[t];
            if (table_insert(e, r) != AKV_OK) {
                rc = akv_fail(AKV_EUNAVAILABLE, "%s: the bytes of rank %u "
                              "appear twice", path, r);
                break;
            }
            const unsigned char *p = e->bytes + off[t];
            if (lens[t] == 1)
                e->byte_rank[p[0]] = r;
            else if (lens[t] == 2)
                e->pair_rank[(size_t)p[0] << 8 | p[1]] = r;
        }
    }
    /* Byte-level BPE needs every single byte to be a token: it is what
     * makes any input encodable. */
    for (size_t b = 0; rc == AKV_OK && b < 256; b++)
        if (e->byte_rank[b] == NONE)
            rc = akv_fail(AKV_EUNAVAILABLE, "%s: byte 0x%02zx has no token",
                          path, b);
    free(off);
    free(lens);
    free(rank_of_word);
    return rc;
}

static int parse_specials(akv_encoding *e, json_t *obj, const char *path)
{
    if (!json_is_object(obj))
        return akv_fail(AKV_EUNAVAILABLE, "%s: special_tokens is not an "
                        "object", path);
    size_t n = json_object_size(obj);
    e->specials = calloc(n ? n : 1, sizeof *e->specials);
    if (e->specials == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        json_int_t id = json_integer_value(v);
        if (!json_is_integer(v) || id < 0 || id >= (json_int_t)1 << 24 ||
            ((uint64_t)id < e->nranks && e->tok_off[id] != NONE))
            return akv_fail(AKV_EUNAVAILABLE, "%s: bad special token id",
                            path);
        struct special *s = &e->specials[e->nspecials];
        s->id = (uint32_t)id;
        s->len = (uint32_t)strlen(k);
        s->text = strdup(k);
        if (s->text == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
        e->nspecials++;
    }
    return AKV_OK;
}

static int compile_pattern(akv_encoding *e)
{
    int err;
    PCRE2_SIZE at;
    e->re = pcre2_compile((PCRE2_SPTR)e->def->pcre, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP, &err, &at, NULL);
    if (e->re == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return akv_fail(err == PCRE2_ERROR_HEAP_FAILED ? AKV_ENOMEM
                                                       : AKV_EUNAVAILABLE,
                        "cannot compile the %s pattern at %zu: %s",
                        e->def->name, (size_t)at, (const char *)msg);
    }
    /* Without JIT (an unsupported CPU, or no executable memory) the
     * interpreter gives the same matches, only slower. */
    e->jit = pcre2_jit_compile(e->re, PCRE2_JIT_COMPLETE) == 0;
    return AKV_OK;
}

/* Loads one data file into a new encoding. */
static int load_file(const struct encoding_def *def, const char *path,
                     akv_encoding **out)
{
    char *raw;
    size_t rawlen;
    int rc = read_whole(path, &raw, &rawlen);
    if (rc != AKV_OK)
        return rc;
    json_error_t jerr;
    json_t *root = json_loadb(raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    if (root == NULL)
        return akv_fail(AKV_EUNAVAILABLE, "%s: not JSON: %s (line %d)", path,
                        jerr.text, jerr.line);

    akv_encoding *e = calloc(1, sizeof *e);
    if (e == NULL) {
        json_decref(root);
        return akv_fail(AKV_ENOMEM, "out of memory loading %s", path);
    }
    e->def = def;
    json_t *pat = json_object_get(root, "pat_str");
    json_t *ranks = json_object_get(root, "bpe_ranks");
    if (!json_is_string(pat) || !json_is_string(ranks))
        rc = akv_fail(AKV_EUNAVAILABLE, "%s: pat_str or bpe_ranks missing",
                      path);
    else if (strcmp(json_string_value(pat), def->tiktoken) != 0)
        rc = akv_fail(AKV_EUNAVAILABLE, "%s: its pre-split pattern is not "
                      "the %s pattern this build knows", path, def->name);
    if (rc == AKV_OK)
        rc = parse_ranks(e, json_string_value(ranks),
                         json_string_length(ranks), path);
    if (rc == AKV_OK)
        rc = parse_specials(e, json_object_get(root, "special_tokens"), path);
    json_decref(root);
    if (rc == AKV_OK)
        rc = compile_pattern(e);
    if (rc != AKV_OK) {
        encoding_free(e);
        return rc;
    }
    *out = e;
    return AKV_OK;
}

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static akv_encoding *loaded[NDEFS]; /* under load_lock */

/* Tries each data directory in turn (header comment of
 * akv_encoding_load()). Called with load_lock held. */
static int load_def(const struct encoding_def *def, akv_encoding **out)
{
    const char *env = getenv(AKV_TOKENIZER_DIR_ENV);
    const char *dirs[] = {
        env && *env ? env : NULL,
        AKV_SHARE_DIR "/tokenizers",
#ifdef AKV_BUILD_TOKENIZER_DIR
        AKV_BUILD_TOKENIZER_DIR,
#endif
#ifdef AKV_SOURCE_TOKENIZER_DIR
        AKV_SOURCE_TOKENIZER_DIR,
#endif
    };
    char tried[400] = "";
    size_t tl = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (dirs[i] == NULL)
            continue;
        char path[4096];
        int w = snprintf(path, sizeof path, "%s/%s.json", dirs[i], def->name);
        if (w < 0 || (size_t)w >= sizeof path)
            continue;
        int rc = load_file(def, path, out);
        if (rc != AKV_ENOTFOUND)
            return rc;
        if (tl < sizeof tried) {
            int k = snprintf(tried + tl, sizeof tried - tl, "%s%s",
                             tl ? ", " : "", path);
            if (k > 0)
                tl += (size_t)k;
        }
    }
    return akv_fail(AKV_EUNAVAILABLE,
                    "no data for encoding %s (tried %s); run "
                    "scripts/fetch-tokenizers.sh or set %s",
                    def->name, tried, AKV_TOKENIZER_DIR_ENV);
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

/* Offset of the first ill-formed byte of s[0..n), or n. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        long k = utf8_seq(s + i, n - i);
        if (k < 0)
            return i;
        i += (size_t)k;
    }
    return n;
}

/* Copies s[0..n) into a new buffer with every maximal ill-formed subpart
 * replaced by EF BF BD. valid is utf8_valid_prefix(s, n) (< n). */
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
};

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
 * BPE over a short piece (2 .. SMALL_PIECE bytes). Part i spans
 * p[pos[i] .. pos[i+1]) and is token tok[i]; pr[i] is the rank of parts i
 * and i+1 joined, NONE when that is not a token. Each round merges the
 * leftmost pair of lowest rank, so this is quadratic in the piece length,
 * which for short pieces beats any cleverer structure.
 */
static int bpe_small(struct work *w, const unsigned char *p, size_t len)
{
    const akv_encoding *e = w->e;
    uint32_t pos[SMALL_PIECE + 1], tok[SMALL_PIECE], pr[SMALL_PIECE];
    size_t m = len;
    for (size_t i = 0; i < len; i++) {
        pos[i] = (uint32_t)i;
        tok[i] = e->byte_rank[p[i]];
        pr[i] = i + 1 < len ? e->pair_rank[(size_t)p[i] << 8 | p[i + 1]]
                            : NONE;
    }
    pos[len] = (uint32_t)len;
    for (;;) {
        uint32_t best = NONE;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < m; i++)
            if (pr[i] < best) {
                best = pr[i];
                bi = i;
            }
        if (best == NONE)
            break;
        /* Merge parts bi and bi+1: drop boundary bi+1. */
        tok[bi] = best;
        memmove(pos + bi + 1, pos + bi + 2, (m - bi - 1) * sizeof *pos);
        memmove(tok + bi + 1, tok + bi + 2, (m - bi - 2) * sizeof *tok);
        memmove(pr + bi + 1, pr + bi + 2, (m - bi - 2) * sizeof *pr);
        m--;
        pr[bi] = bi + 1 < m ? rank_of(e, p + pos[bi], pos[bi + 2] - pos[bi])
                            : NONE;
        if (bi > 0)
            pr[bi - 1] = rank_of(e, p + pos[bi - 1], pos[bi + 1] - pos[bi - 1]);
    }
    for (size_t i = 0; i < m; i++) {
        int rc = emit(w, tok[i]);
        if (rc != AKV_OK)
            return rc;
    }
    return AKV_OK;
}

/*
 * BPE over a long piece, in O(n log n): the same merges as bpe_small, in
 * the same order. Parts form a doubly linked list indexed by their first
 * byte's offset (a part keeps its index when it absorbs its right
 * neighbour). Every part with a mergeable right neighbour sits in a binary
 * min-heap keyed by (pair rank, offset), so the root is always the pair
 * bpe_small would pick; merging updates the keys of the merged part and its
 * left neighbour in place.
 */
#define HEAP_KEY(r, i) ((uint64_t)(r) << 32 | (uint32_t)(i))

struct lheap {
    uint32_t *heap; /* part indices */
    uint32_t *hpos; /* index -> slot in heap, NONE when absent */
    uint32_t *pr;   /* index -> pair rank with the right neighbour */
    size_t n;
};

static inline uint64_t lh_key(const struct lheap *h, size_t slot)
{
    uint32_t i = h->heap[slot];
    return HEAP_KEY(h->pr[i], i);
}

static inline void lh_set(struct lheap *h, size_t slot, uint32_t i)
{
    h->heap[slot] = i;
    h->hpos[i] = (uint32_t)slot;
}

static void lh_up(struct lheap *h, size_t slot)
{
    uint32_t i = h->heap[slot];
    uint64_t k = HEAP_KEY(h->pr[i], i);
    while (slot > 0) {
        size_t parent = (slot - 1) / 2;
        if (lh_key(h, parent) <= k)
            break;
        lh_set(h, slot, h->heap[parent]);
        slot = parent;
    }
    lh_set(h, slot, i);
}

static void lh_down(struct lheap *h, size_t slot)
{
    uint32_t i = h->heap[slot];
    uint64_t k = HEAP_KEY(h->pr[i], i);
    for (;;) {
        size_t c = 2 * slot + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && lh_key(h, c + 1) < lh_key(h, c))
            c++;
        if (lh_key(h, c) >= k)
            break;
        lh_set(h, slot, h->heap[c]);
        slot = c;
    }
    lh_set(h, slot, i);
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
    uint32_t moved = h->heap[h->n];
    lh_set(h, slot, moved);
    lh_up(h, slot);
    if (h->hpos[moved] == slot)
        lh_down(h, slot);
}

/* Sets part i's pair rank to r: moves it in the heap, adds or removes it. */
static void lh_update(struct lheap *h, uint32_t i, uint32_t r)
{
    if (r == NONE) {
        lh_remove(h, i);
        h->pr[i] = NONE;
        return;
    }
    uint32_t old = h->pr[i];
    h->pr[i] = r;
    if (h->hpos[i] == NONE) {
        lh_set(h, h->n++, i);
        lh_up(h, h->n - 1);
    } else if (r < old) {
        lh_up(h, h->hpos[i]);
    } else {
        lh_down(h, h->hpos[i]);
    }
}

static int bpe_large(struct work *w, const unsigned char *p, size_t len)
{
    const akv_encoding *e = w->e;
    if (len >= NONE)
        return akv_fail(AKV_ENOMEM, "piece of %zu bytes is too long", len);
    /* next, prev, tok, pr, heap, hpos: six arrays of len entries. */
    size_t need = len * 6;
    if (need / 6 != len)
        return akv_fail(AKV_ENOMEM, "piece of %zu bytes is too long", len);
    if (w->scratch_cap < need) {
        uint32_t *ns = need > SIZE_MAX / sizeof *ns
                           ? NULL
                           : realloc(w->scratch, need * sizeof *ns);
        if (ns == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory encoding a piece of "
                            "%zu bytes", len);
        w->scratch = ns;
        w->scratch_cap = need;
    }
    uint32_t *next = w->scratch, *prev = next + len, *tok = prev + len;
    struct lheap h = {tok + len, tok + 2 * len, tok + 3 * len, 0};

    for (size_t i = 0; i < len; i++) {
        next[i] = i + 1 < len ? (uint32_t)(i + 1) : NONE;
        prev[i] = i > 0 ? (uint32_t)(i - 1) : NONE;
        tok[i] = e->byte_rank[p[i]];
        h.pr[i] = i + 1 < len ? e->pair_rank[(size_t)p[i] << 8 | p[i + 1]]
                              : NONE;
        h.hpos[i] = NONE;
        if (h.pr[i] != NONE)
            lh_set(&h, h.n++, (uint32_t)i);
    }
    for (size_t s = h.n / 2; s-- > 0;)
        lh_down(&h, s);

    while (h.n > 0) {
        uint32_t i = h.heap[0];
        uint32_t j = next[i]; /* exists: i has a pair rank */
        tok[i] = h.pr[i];
        /* Unlink j. */
        lh_remove(&h, j);
        next[i] = next[j];
        if (next[j] != NONE)
            prev[next[j]] = i;
        /* New pair ranks of i (with its new right neighbour) and of its
         * left neighbour (with the grown i). */
        uint32_t end_i = next[i] == NONE ? (uint32_t)len : next[i];
        uint32_t r = NONE;
        if (next[i] != NONE) {
            uint32_t end_n = next[next[i]] == NONE ? (uint32_t)len
                                                   : next[next[i]];
            r = rank_of(e, p + i, end_n - i);
        }
        lh_update(&h, i, r);
        uint32_t k = prev[i];
        if (k != NONE)
            lh_update(&h, k, rank_of(e, p + k, end_i - k));
    }
    for (uint32_t i = 0; i != NONE; i = next[i]) {
        int rc = emit(w, tok[i]);
        if (rc != AKV_OK)
            return rc;
    }
    return AKV_OK;
}

static inline int encode_piece(struct work *w, const unsigned char *p,
                               size_t len)
{
    /* A piece that is a token by itself is that token, whatever merging
     * would do; tiktoken decides the same way before merging. */
    uint32_t r = rank_of(w->e, p, len);
    if (r != NONE)
        return emit(w, r);
    if (len <= SMALL_PIECE)
        return bpe_small(w, p, len);
    return bpe_large(w, p, len);
}

/* Runs the pre-split over valid UTF-8 text and encodes every piece. */
static int encode_text(struct work *w, const unsigned char *s, size_t n)
{
    const akv_encoding *e = w->e;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (md == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory encoding");
    pcre2_match_context *mctx = NULL;
    pcre2_jit_stack *jstack = NULL;
    int use_jit = e->jit;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    int rc = AKV_OK;
    size_t off = 0;

    while (off < n && rc == AKV_OK) {
        int m = use_jit ? pcre2_jit_match(e->re, s, n, off, 0, md, mctx)
                        : pcre2_match(e->re, s, n, off, PCRE2_NO_UTF_CHECK,
                                      md, mctx);
        if (m == PCRE2_ERROR_NOMATCH)
            break;
        if (m == PCRE2_ERROR_JIT_STACKLIMIT && jstack == NULL) {
            /* The default 32 KiB JIT stack is enough for ordinary text;
             * pathological input gets a large one, then the interpreter. */
            mctx = pcre2_match_context_create(NULL);
            jstack = pcre2_jit_stack_create(64 * 1024, 256 * 1024 * 1024,
                                            NULL);
            if (mctx == NULL || jstack == NULL) {
                rc = akv_fail(AKV_ENOMEM, "out of memory encoding");
                break;
            }
            pcre2_jit_stack_assign(mctx, NULL, jstack);
            continue;
        }
        if (m == PCRE2_ERROR_JIT_STACKLIMIT && use_jit) {
            use_jit = 0;
            continue;
        }
        if (m < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(m, msg, sizeof msg);
            rc = akv_fail(m == PCRE2_ERROR_NOMEMORY ? AKV_ENOMEM
                                                    : AKV_EINVAL,
                          "pre-split failed at byte %zu: %s", off,
                          (const char *)msg);
            break;
        }
        size_t a = ov[0], b = ov[1];
        if (b == a) {
            /* Cannot happen with these patterns (every alternative needs a
             * character); step over one character as a regex iterator
             * would, so that the loop always advances. */
            b = a + 1;
            while (b < n && (s[b] & 0xc0) == 0x80)
                b++;
            off = b;
            continue;
        }
        /* Any gap between off and a would be text no alternative matches;
         * tiktoken skips such text, and so do we (the patterns cover every
         * character, so there is none). */
        rc = encode_piece(w, s + a, b - a);
        off = b;
    }
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);
    pcre2_jit_stack_free(jstack);
    return rc;
}

static int run(const char *text, size_t len, struct work *w)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t valid = utf8_valid_prefix(s, len);
    if (valid == len)
        return encode_text(w, s, len);
    unsigned char *fixed;
    size_t flen;
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
    size_t cap = buf ? *len : 0, o = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t id = ids[k];
        const void *src = NULL;
        size_t sl = 0;
        if (id < enc->nranks && enc->tok_off[id] != NONE) {
            src = enc->bytes + enc->tok_off[id];
            sl = enc->tok_len[id];
        } else {
            for (size_t i = 0; i < enc->nspecials; i++)
                if (enc->specials[i].id == id) {
                    src = enc->specials[i].text;
                    sl = enc->specials[i].len;
                    break;
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

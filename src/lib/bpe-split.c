/*
 * bpe-split.c — the pre-split of o200k_base and cl100k_base, written out
 * by hand: where the piece that starts at a given offset ends, exactly as
 * tiktoken's regular expression (its pat_str, quoted in bpe.c) decides.
 *
 * Characters are classified by Unicode 16.0, as tiktoken's regex engine
 * classifies them (bpe-classes.h, generated). Each alternative of a
 * pattern is tried in order, as a leftmost-first backtracking engine tries
 * them, and each is resolved without backtracking by reading what its
 * greedy quantifiers would give back (the comments on each say how). The
 * exactness test compares the ids with tiktoken's on every code point of
 * planes 0-3 and 14 in context; fuzz-bpe-split compares every piece with
 * what PCRE2 makes of the same patterns.
 *
 * The input is valid UTF-8 (bpe.c replaces ill-formed sequences first), so
 * characters are decoded without checks; no byte at or past n is read.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bpe-classes.h"
#include "bpe.h"

#define CC_END 0x80u /* past the end of the text: in no class */
#define CC_LETTERS (AKV_CC_UP | AKV_CC_LO) /* \p{L} and \p{M} */

struct ch {
    unsigned cls; /* AKV_CC_* bits, or CC_END */
    unsigned len; /* bytes; 0 at the end */
};

/* The character at i, whose first byte b is 80 or above. */
static inline struct ch ch_multi(const unsigned char *s, size_t i,
                                 unsigned char b)
{
    struct ch c;
    uint32_t cp;
    if (b < 0xe0) {
        cp = (uint32_t)(b & 0x1f) << 6 | (s[i + 1] & 0x3f);
        c.len = 2;
    } else if (b < 0xf0) {
        cp = (uint32_t)(b & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
             (s[i + 2] & 0x3f);
        c.len = 3;
    } else {
        cp = (uint32_t)(b & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3f) << 12 |
             (uint32_t)(s[i + 2] & 0x3f) << 6 | (s[i + 3] & 0x3f);
        c.len = 4;
    }
    c.cls = akv_cc_blocks[akv_cc_index[cp >> 8]][cp & 255];
    return c;
}

static inline struct ch ch_at(const unsigned char *s, size_t n, size_t i)
{
    struct ch c;
    if (i >= n) {
        c.cls = CC_END;
        c.len = 0;
        return c;
    }
    unsigned char b = s[i];
    if (b >= 0x80)
        return ch_multi(s, i, b);
    c.cls = akv_cc_blocks[0][b]; /* akv_cc_index[0] is 0 */
    c.len = 1;
    return c;
}

/* [^\r\n\p{L}\p{N}], for the character c at i that is not a letter
 * (a space, the common case, first). */
static inline int is_p(const unsigned char *s, size_t i, struct ch c)
{
    return s[i] == ' ' ||
           (!(c.cls & AKV_CC_N) && s[i] != '\r' && s[i] != '\n');
}

/* [^\s\p{L}\p{N}] */
static inline int is_q(struct ch c)
{
    return !(c.cls & (CC_END | AKV_CC_WS | AKV_CC_L | AKV_CC_N));
}

/* How many of the 8 bytes at s, from the first, are ASCII letters: a-z
 * (those of class LO), or a-z and A-Z when `both`, eight at a time (the
 * high bit of each byte of the sums says whether that byte is in the
 * range; a byte of 80..FF is in neither). */
static inline size_t ascii_letters(const unsigned char *s, int both)
{
    const uint64_t h = 0x8080808080808080ull, ones = 0x0101010101010101ull;
    uint64_t w;
    memcpy(&w, s, 8);
    uint64_t x = both ? w | 0x2020202020202020ull : w; /* A-Z to a-z */
    uint64_t from_a = (x | h) - 'a' * ones, past_z = (x | h) - ('z' + 1) * ones;
    uint64_t out = ~(from_a & ~past_z & ~w) & h; /* high bit: not a letter */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return out ? (size_t)__builtin_ctzll(out) / 8 : 8;
#else
    return out ? (size_t)__builtin_clzll(out) / 8 : 8;
#endif
}

/* The end of the run of characters of class bits `cls` (AKV_CC_LO or
 * AKV_CC_L) from i. Runs of ASCII letters are taken eight bytes at a
 * time. */
static inline __attribute__((always_inline)) size_t
run(const unsigned char *s, size_t n, size_t i, unsigned cls)
{
    for (;;) {
        if (i >= n)
            return i;
        unsigned char b = s[i];
        if (b < 0x80) {
            if (n - i < 8) {
                if (!(akv_cc_blocks[0][b] & cls))
                    return i;
                i++;
                continue;
            }
            size_t k = ascii_letters(s + i, cls == AKV_CC_L);
            i += k;
            if (k == 8)
                continue;
            b = s[i];
            if (b < 0x80)
                return i;
        }
        struct ch c = ch_multi(s, i, b);
        if (!(c.cls & cls))
            return i;
        i += c.len;
    }
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d) at i: its end, or i. Case folding adds
 * U+017F (long s) to s and nothing to the other letters. */
static inline size_t contraction(const unsigned char *s, size_t n, size_t i)
{
    if (i + 1 >= n || s[i] != '\'')
        return i;
    unsigned char a = s[i + 1] | 0x20, b = i + 2 < n ? s[i + 2] | 0x20 : 0;
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return i + 2;
    if ((a == 'r' || a == 'v') && b == 'e')
        return i + 3;
    if (a == 'l' && b == 'l')
        return i + 3;
    if (s[i + 1] == 0xc5 && i + 2 < n && s[i + 2] == 0xbf) /* U+017F */
        return i + 3;
    return i;
}

/*
 * A*B+ from i (c is the character there, already decoded), with
 * A = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] (class bit UP) and
 * B = [\p{Ll}\p{Lm}\p{Lo}\p{M}] (LO): its end, or 0 when it does not
 * match (an end is never 0); *a_end is then the end of the run of A from
 * i, which is where A+B* ends (B* takes nothing, as the character after
 * the run is not in B). A* takes the run of A; if the character after it
 * is in B (so Ll), B+ takes the run of B from there. Otherwise A* gives
 * back characters until B+ can take one: B+ then ends right after the
 * last character of the A run that is also in B, since the one after it
 * is not in B.
 */
static inline __attribute__((always_inline)) size_t
upper_lower(const unsigned char *s, size_t n, size_t i, struct ch c,
            size_t *a_end)
{
    size_t last_b = 0;
    for (;;) {
        if (c.cls & AKV_CC_UP) {
            i += c.len;
            if (c.cls & AKV_CC_LO)
                last_b = i;
            c = ch_at(s, n, i);
            continue;
        }
        if (c.cls & AKV_CC_LO)
            return run(s, n, i + c.len, AKV_CC_LO);
        *a_end = i;
        return last_b;
    }
}

/* The alternatives that both patterns end with, at i (c is the character
 * there, d the one after it; c is not in \p{L}):
 *   \p{N}{1,3}
 *   | ?[^\s\p{L}\p{N}]+TRAIL*   (TRAIL: [\r\n/] for o200k, [\r\n] cl100k)
 *   |\s*[\r\n]+|\s+(?!\S)|\s+
 */
static inline __attribute__((always_inline)) size_t
common_tail(const unsigned char *s, size_t n, size_t i, struct ch c,
            struct ch d, int slash)
{
    if (c.cls & AKV_CC_N) {
        size_t e = i + c.len;
        if (d.cls & AKV_CC_N) {
            e += d.len;
            struct ch x = ch_at(s, n, e);
            if (x.cls & AKV_CC_N)
                e += x.len;
        }
        return e;
    }
    /* " ?" is taken when the character after the space can start the run;
     * otherwise the space itself cannot (it is \s). */
    size_t e;
    if (s[i] == ' ' && is_q(d))
        e = i + 1 + d.len;
    else if (is_q(c))
        e = i + c.len;
    else
        goto space;
    for (;;) {
        struct ch x = ch_at(s, n, e);
        if (!is_q(x))
            break;
        e += x.len;
    }
    while (e < n && (s[e] == '\r' || s[e] == '\n' || (slash && s[e] == '/')))
        e++;
    return e;
space:
    /* c is white space from here on (every other character was taken
     * above). \s*[\r\n]+: \s* gives back characters until [\r\n]+ can
     * take one, so the match ends after the last \r or \n of the run. */
    e = i;
    size_t after_nl = 0, last = i;
    for (struct ch x = c; x.cls & AKV_CC_WS; x = ch_at(s, n, e)) {
        last = e;
        e += x.len;
        if (s[last] == '\r' || s[last] == '\n')
            after_nl = e;
    }
    if (after_nl)
        return after_nl;
    /* \s+(?!\S): at the end of the text the whole run; otherwise \s+ gives
     * back its last character (white space, so not \S), which needs a run
     * of two or more. \s+ then takes a run of one. */
    if (e == n || last == i)
        return e;
    return last;
}

/*
 * o200k_base. Its first two alternatives are
 *   [^\r\n\p{L}\p{N}]?A*B+(?i:'s|...)?  and  [^\r\n\p{L}\p{N}]?A+B*(...)?
 * (A and B as in upper_lower()); \p{L} and \p{M} are the characters in A
 * or B. The character c at i decides which can match:
 *   - a letter (not the optional first character): the first alternative
 *     from i if it matches, else the second, which then ends where the run
 *     of A does;
 *   - a character of [^\r\n\p{L}\p{N}] (P) followed by a character d in A
 *     or B: the first alternative from d; if it fails, and c is a mark (in
 *     A and B), the first alternative without the optional character ends
 *     right after c (the run of A after c holds no B, and what follows it
 *     is not in B); otherwise d is in A and the second alternative from d
 *     ends where the run of A does;
 *   - a mark followed by a character in neither: the first alternative
 *     without the optional character, the mark alone (with a contraction
 *     after it);
 *   - anything else: the alternatives both patterns end with.
 */
static inline __attribute__((always_inline)) size_t
split_o200k(const unsigned char *s, size_t n, size_t i)
{
    struct ch c = ch_at(s, n, i);
    size_t e, a_end = i;
    if (c.cls & AKV_CC_L) {
        e = upper_lower(s, n, i, c, &a_end);
        return contraction(s, n, e ? e : a_end);
    }
    struct ch d = ch_at(s, n, i + c.len);
    if ((d.cls & CC_LETTERS) && is_p(s, i, c)) {
        e = upper_lower(s, n, i + c.len, d, &a_end);
        if (e == 0)
            e = c.cls & CC_LETTERS ? i + c.len : a_end;
        return contraction(s, n, e);
    }
    if (c.cls & CC_LETTERS)
        return contraction(s, n, i + c.len);
    return common_tail(s, n, i, c, d, 1);
}

static inline __attribute__((always_inline)) size_t
split_cl100k(const unsigned char *s, size_t n, size_t i)
{
    size_t e = contraction(s, n, i);
    if (e != i)
        return e;
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    struct ch c = ch_at(s, n, i);
    if (c.cls & AKV_CC_L)
        return run(s, n, i + c.len, AKV_CC_L);
    struct ch d = ch_at(s, n, i + c.len);
    if ((d.cls & AKV_CC_L) && is_p(s, i, c))
        return run(s, n, i + c.len + d.len, AKV_CC_L);
    return common_tail(s, n, i, c, d, 0);
}

size_t akv_bpe_split_o200k(const unsigned char *s, size_t n, size_t i)
{
    return split_o200k(s, n, i);
}

size_t akv_bpe_split_cl100k(const unsigned char *s, size_t n, size_t i)
{
    return split_cl100k(s, n, i);
}

/* The ends of the pieces from i on, up to max of them (one call instead
 * of one per piece). */
size_t akv_bpe_pieces_o200k(const unsigned char *s, size_t n, size_t i,
                            size_t *ends, size_t max)
{
    size_t k = 0;
    while (k < max && i < n)
        ends[k++] = i = split_o200k(s, n, i);
    return k;
}

size_t akv_bpe_pieces_cl100k(const unsigned char *s, size_t n, size_t i,
                             size_t *ends, size_t max)
{
    size_t k = 0;
    while (k < max && i < n)
        ends[k++] = i = split_cl100k(s, n, i);
    return k;
}

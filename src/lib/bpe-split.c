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

#include "bpe-classes.h"
#include "bpe.h"

#define CC_END 0x80u /* past the end of the text: in no class */

struct ch {
    uint32_t cp;
    unsigned cls; /* AKV_CC_* bits, or CC_END */
    size_t len;   /* bytes; 0 at the end */
};

static inline struct ch ch_at(const unsigned char *s, size_t n, size_t i)
{
    struct ch c;
    if (i >= n) {
        c.cp = UINT32_MAX;
        c.cls = CC_END;
        c.len = 0;
        return c;
    }
    unsigned char b = s[i];
    if (b < 0x80) {
        c.cp = b;
        c.len = 1;
        c.cls = akv_cc_blocks[0][b]; /* akv_cc_index[0] is 0 */
        return c;
    } else if (b < 0xe0) {
        c.cp = (uint32_t)(b & 0x1f) << 6 | (s[i + 1] & 0x3f);
        c.len = 2;
    } else if (b < 0xf0) {
        c.cp = (uint32_t)(b & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
               (s[i + 2] & 0x3f);
        c.len = 3;
    } else {
        c.cp = (uint32_t)(b & 0x07) << 18 |
               (uint32_t)(s[i + 1] & 0x3f) << 12 |
               (uint32_t)(s[i + 2] & 0x3f) << 6 | (s[i + 3] & 0x3f);
        c.len = 4;
    }
    c.cls = akv_cc_blocks[akv_cc_index[c.cp >> 8]][c.cp & 255];
    return c;
}

static inline int is_nl(struct ch c) { return c.cp == '\r' || c.cp == '\n'; }

/* [^\r\n\p{L}\p{N}] */
static inline int is_p(struct ch c)
{
    return !(c.cls & (CC_END | AKV_CC_L | AKV_CC_N)) && !is_nl(c);
}

/* [^\s\p{L}\p{N}] */
static inline int is_q(struct ch c)
{
    return !(c.cls & (CC_END | AKV_CC_WS | AKV_CC_L | AKV_CC_N));
}

/* The end of the run of characters of class bits `cls` from i. */
static inline size_t run(const unsigned char *s, size_t n, size_t i,
                         unsigned cls)
{
    for (;;) {
        struct ch c = ch_at(s, n, i);
        if (!(c.cls & cls)) /* CC_END is in no class */
            return i;
        i += c.len;
    }
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d) at i: its end, or i. Case folding adds
 * U+017F (long s) to s and nothing to the other letters. */
static size_t contraction(const unsigned char *s, size_t n, size_t i)
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

/* A*B+ from i, with A = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and
 * B = [\p{Ll}\p{Lm}\p{Lo}\p{M}]: its end, or 0 when it does not match
 * (an end is never 0). A* takes the run of A; if the character after it
 * is in B (so Ll), B+ takes the run of B from there. Otherwise A* gives
 * back characters until B+ can take one: B+ then ends right after the
 * last character of the A run that is also in B, since the one after it
 * is not in B. */
static size_t upper_lower(const unsigned char *s, size_t n, size_t i)
{
    size_t last_b = 0;
    for (;;) {
        struct ch c = ch_at(s, n, i);
        if (c.cls & CC_END)
            return last_b;
        if (c.cls & AKV_CC_UP) {
            i += c.len;
            if (c.cls & AKV_CC_LO)
                last_b = i;
            continue;
        }
        if (c.cls & AKV_CC_LO)
            return run(s, n, i + c.len, AKV_CC_LO);
        return last_b;
    }
}

/* The alternatives that both patterns end with, at i (c is the character
 * there):
 *   \p{N}{1,3}
 *   | ?[^\s\p{L}\p{N}]+TRAIL*   (TRAIL: [\r\n/] for o200k, [\r\n] cl100k)
 *   |\s*[\r\n]+|\s+(?!\S)|\s+
 */
static size_t common_tail(const unsigned char *s, size_t n, size_t i,
                          struct ch c, int slash)
{
    if (c.cls & AKV_CC_N) {
        size_t e = i + c.len;
        for (int k = 1; k < 3; k++) {
            struct ch d = ch_at(s, n, e);
            if (!(d.cls & AKV_CC_N))
                break;
            e += d.len;
        }
        return e;
    }
    /* " ?" is taken when the character after the space can start the run;
     * otherwise the space itself cannot (it is \s). */
    size_t x = i;
    if (c.cp == ' ' && is_q(ch_at(s, n, i + 1)))
        x = i + 1;
    if (is_q(ch_at(s, n, x))) {
        size_t e = x;
        for (;;) {
            struct ch d = ch_at(s, n, e);
            if (!is_q(d))
                break;
            e += d.len;
        }
        while (e < n && (s[e] == '\r' || s[e] == '\n' || (slash && s[e] == '/')))
            e++;
        return e;
    }
    /* c is white space from here on (every other character was taken
     * above). \s*[\r\n]+: \s* gives back characters until [\r\n]+ can
     * take one, so the match ends after the last \r or \n of the run. */
    size_t e = i, after_nl = 0, last = i;
    for (;;) {
        struct ch d = ch_at(s, n, e);
        if (!(d.cls & AKV_CC_WS))
            break;
        last = e;
        e += d.len;
        if (is_nl(d))
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

size_t akv_bpe_split_o200k(const unsigned char *s, size_t n, size_t i)
{
    struct ch c = ch_at(s, n, i);
    size_t e;
    /* [^\r\n\p{L}\p{N}]?A*B+(?i:'s|...)?  — the optional first character
     * taken if it can be, else not. */
    int p = is_p(c);
    if ((p && (e = upper_lower(s, n, i + c.len))) ||
        (e = upper_lower(s, n, i)))
        return contraction(s, n, e);
    /* [^\r\n\p{L}\p{N}]?A+B*(?i:'s|...)?: A+ and B* take their runs. */
    size_t x;
    if (p && (ch_at(s, n, i + c.len).cls & AKV_CC_UP))
        x = i + c.len;
    else if (c.cls & AKV_CC_UP)
        x = i;
    else
        return common_tail(s, n, i, c, 1);
    e = run(s, n, x, AKV_CC_UP);
    return contraction(s, n, run(s, n, e, AKV_CC_LO));
}

size_t akv_bpe_split_cl100k(const unsigned char *s, size_t n, size_t i)
{
    size_t e = contraction(s, n, i);
    if (e != i)
        return e;
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    struct ch c = ch_at(s, n, i);
    if (is_p(c)) {
        struct ch d = ch_at(s, n, i + c.len);
        if (d.cls & AKV_CC_L)
            return run(s, n, i + c.len, AKV_CC_L);
    }
    if (c.cls & AKV_CC_L)
        return run(s, n, i, AKV_CC_L);
    return common_tail(s, n, i, c, 0);
}

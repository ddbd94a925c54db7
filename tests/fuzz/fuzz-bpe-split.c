/*
 * fuzz-bpe-split.c — the tokenizer's hand-written pre-split (bpe-split.c)
 * against PCRE2 running tiktoken's patterns.
 *
 * PCRE2 is the oracle here only. Debian's PCRE2 classifies characters by
 * Unicode 14.0 and tiktoken's regex engine by 16.0, so the patterns below
 * add to each \p{..} the code points that 16.0 added to it
 * (bpe-unicode.h, generated), and spell \s out as White_Space (PCRE2's \s
 * also takes U+180E). Every piece boundary of both encodings must agree:
 *   - on the input itself when it is valid UTF-8;
 *   - on texts built from the input: each byte picks one of the atoms
 *     below (letters of every case class, marks, numbers, apostrophes and
 *     contractions, every kind of white space, punctuation and slashes),
 *     the characters whose mixtures the patterns' alternatives tell apart;
 *   - on 200 more such texts drawn from a generator seeded by the input,
 *     so that replaying the checked-in corpus under ctest covers more than
 *     its few files.
 * A difference aborts with the text in hex and both ends.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "bpe-unicode.h"
#include "bpe.h"

#define WS                                                                    \
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}"    \
    "\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
#define CONTRACTIONS "(?i:'s|'t|'re|'ve|'m|'ll|'d)"
#define L "\\p{L}" AKV_BPE_NEW_L
#define N "\\p{N}" AKV_BPE_NEW_N
#define UP                                                                    \
    "\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}" AKV_BPE_NEW_Lu AKV_BPE_NEW_Lm          \
        AKV_BPE_NEW_Lo AKV_BPE_NEW_M
#define LO                                                                    \
    "\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}" AKV_BPE_NEW_Ll AKV_BPE_NEW_Lm                 \
        AKV_BPE_NEW_Lo AKV_BPE_NEW_M

static const char O200K[] =
    "[^\\r\\n" L N "]?[" UP "]*[" LO "]+" CONTRACTIONS "?"
    "|[^\\r\\n" L N "]?[" UP "]+[" LO "]*" CONTRACTIONS "?"
    "|[" N "]{1,3}"
    "| ?[^" WS L N "]+[\\r\\n/]*"
    "|[" WS "]*[\\r\\n]+"
    "|[" WS "]+(?![^" WS "])"
    "|[" WS "]+";
static const char CL100K[] = CONTRACTIONS
    "|[^\\r\\n" L N "]?[" L "]+"
    "|[" N "]{1,3}"
    "| ?[^" WS L N "]+[\\r\\n]*"
    "|[" WS "]*[\\r\\n]+"
    "|[" WS "]+(?![^" WS "])"
    "|[" WS "]+";

static const struct {
    const char *name;
    const char *pattern;
    size_t (*split)(const unsigned char *, size_t, size_t);
} encodings[] = {
    {.name = "o200k_base", .pattern = O200K, .split = akv_bpe_split_o200k},
    {.name = "cl100k_base", .pattern = CL100K, .split = akv_bpe_split_cl100k},
};
#define NENC (sizeof encodings / sizeof encodings[0])

static const char *const atoms[] = {
    "a", "z", "s", "t", "e", "l", "d", "m", "r", "v", "x", "A", "S", "T",
    "E", "L", "D", "M", "R", "V", "Q",
    "\xc5\xbf",         /* U+017F long s (folds to s) */
    "\xe2\x84\xaa",     /* U+212A Kelvin sign (folds to k) */
    "\xc7\x85",         /* U+01C5 Lt */
    "\xca\xb0",         /* U+02B0 Lm */
    "\xe4\xb8\xad",     /* U+4E2D Lo */
    "\xe0\xb8\x81",     /* U+0E01 Lo (Thai) */
    "\xcc\x81",         /* U+0301 Mn */
    "\xe0\xa4\xbe",     /* U+093E Mc */
    "\xd0\x96", "\xd0\xb6", /* Cyrillic Lu, Ll */
    "\xe1\xb2\x89",     /* U+1C89 Lu new in 16.0 */
    "\xe1\xb2\x8a",     /* U+1C8A Ll new in 16.0 */
    "\xf0\x90\x97\x80", /* U+105C0 Lo new in 16.0 */
    "\xe0\xa2\x97",     /* U+0897 Mn new in 16.0 */
    "\xf0\x90\xb5\x80", /* U+10D40 Nd new in 16.0 */
    "0", "7", "\xc2\xb2", "\xe2\x85\xab", "\xd9\xa3", /* N: ², Ⅻ, ٣ */
    "'", "'", "\xe2\x80\x99", /* U+2019 (no contraction) */
    " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c",
    "\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\xa8",
    "\xe3\x80\x80", "\xe1\xa0\x8e", /* U+180E: not White_Space */
    "\xe2\x80\x8b",               /* U+200B: not White_Space */
    "/", "//", ".", ",", "!", "-", "_", "(", "\"", "#", "\xf0\x9f\x98\x80",
    "\xe2\x80\x8d", /* ZWJ (Cf) */
    "\x00", "\x7f",
};
#define NATOMS (sizeof atoms / sizeof atoms[0])

static pcre2_code *re[NENC];
static pcre2_match_data *md;

static void setup(void)
{
    for (size_t k = 0; k < NENC; k++) {
        int err;
        PCRE2_SIZE at;
        re[k] = pcre2_compile((PCRE2_SPTR)encodings[k].pattern,
                              PCRE2_ZERO_TERMINATED,
                              PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED, &err, &at,
                              NULL);
        if (re[k] == NULL) {
            fprintf(stderr, "fuzz-bpe-split: %s pattern does not compile "
                            "at %zu (error %d)\n",
                    encodings[k].name, (size_t)at, err);
            abort();
        }
    }
    md = pcre2_match_data_create(1, NULL);
    if (md == NULL)
        abort();
}

static void check(const unsigned char *s, size_t n)
{
    for (size_t k = 0; k < NENC; k++) {
        for (size_t off = 0; off < n;) {
            size_t mine = encodings[k].split(s, n, off);
            int m = pcre2_match(re[k], s, n, off, 0, md, NULL);
            size_t theirs = m >= 0 ? pcre2_get_ovector_pointer(md)[1] : off;
            if (m < 0 || mine != theirs) {
                fprintf(stderr,
                        "fuzz-bpe-split: %s: at byte %zu the piece ends at "
                        "%zu, PCRE2 says %zu (match %d); text (%zu bytes):",
                        encodings[k].name, off, mine, theirs, m, n);
                for (size_t i = 0; i < n && i < 160; i++)
                    fprintf(stderr, " %02x", s[i]);
                fprintf(stderr, "%s\n", n > 160 ? " ..." : "");
                abort();
            }
            off = mine;
        }
    }
}

/* The text of atoms picked by bytes p[0..n). */
static size_t build(const uint8_t *p, size_t n, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *a = atoms[p[i] % NATOMS];
        size_t l = a[0] == '\0' ? 1 : strlen(a);
        memcpy(out + o, a, l);
        o += l;
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size > 4096)
        return 0;
    /* The input itself, when it is UTF-8 (PCRE2 checks; an anchored match
     * of these patterns at 0 always succeeds on valid text). */
    if (size > 0 && pcre2_match(re[0], data, size, 0, 0, md, NULL) >= 0)
        check(data, size);
    unsigned char *text = malloc(size * 4 + 64 * 4);
    if (text == NULL)
        abort();
    check(text, build(data, size, text));
    /* More texts from a generator seeded by the input. */
    uint64_t x = 0x9e3779b97f4a7c15ull ^ size;
    for (size_t i = 0; i < size; i++)
        x = (x ^ data[i]) * 0x100000001b3ull;
    for (int r = 0; r < 200; r++) {
        uint8_t picks[64];
        size_t len = 1 + (size_t)(x >> 58);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            picks[i] = (uint8_t)(x >> 24);
        }
        check(text, build(picks, len, text));
    }
    free(text);
    return 0;
}

/*
 * akvx.h — the small helpers that the library and the front ends share:
 * hex, base64, decimal integers, calendar dates, UTF-8 validation,
 * percent-decoding, mkdir -p, atomic file replacement and key comparison,
 * each written once.
 *
 * Internal: akvx.c is compiled into libagentkv's objects with hidden
 * visibility, so the front ends (which link the static library) reach it
 * while libagentkv.so does not export it (tests/cli/test-symbols.sh). The
 * akvx_ prefix keeps the names from clashing with an embedder's.
 *
 * Decoders face hostile input (HTTP paths, MCP URIs, export files, tokens
 * files): they are strict, reject anything that is not the canonical
 * encoding, never read past len and never write past the room stated.
 * None of these functions sets the library's error (akv_fail): callers turn
 * a failure into their own message.
 */
#ifndef AKVX_H
#define AKVX_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int akvx_hexval(int c);

/* true when s[0..len) are all lowercase hex digits (0-9, a-f): the form
 * akvx_hex_encode writes, for files that must hold exactly that. */
bool akvx_hex_lower(const char *s, size_t len);

/* Writes the 2 * n lowercase hex digits of in[0..n) and a NUL to out
 * (room for 2 * n + 1 bytes). */
void akvx_hex_encode(const void *in, size_t n, char *out);

/* Writes v in decimal and a NUL to out (as "%llu" / "%lld" would, without
 * the cost of printf on paths run for every request): returns the number
 * of characters written, NUL not counted. */
#define AKVX_INT_BUF 21
size_t akvx_u64_dec(unsigned long long v, char out[AKVX_INT_BUF]);
size_t akvx_i64_dec(long long v, char out[AKVX_INT_BUF]);

/* Writes the two decimal digits of v (0-99) at out; returns out + 2. */
extern const char akvx_dec_pairs[200];
static inline char *akvx_dec2(char *out, unsigned v)
{
    memcpy(out, akvx_dec_pairs + 2 * v, 2);
    return out + 2;
}

/* The date of the day `days` days after 1970-01-01 (before it when
 * negative) in the proleptic Gregorian calendar, as gmtime_r gives it:
 * *year (0 is 1 BC), *month 1-12, *day 1-31. Any int64 day count
 * (millisecond timestamps give up to about 1.1e14). */
void akvx_civil_date(long long days, long long *year, int *month, int *day);

/* Decodes exactly len hex digits (either case) into out (room for len / 2
 * bytes). 0, or -1 when len is odd or a character is not a hex digit (out
 * is then partly written). */
int akvx_hex_decode(const char *hex, size_t len, unsigned char *out);

/* Standard base64 (RFC 4648 §4, '=' padded) of in[0..len), NUL-terminated.
 * Owned: free() it. NULL when out of memory or len is too large; *olen (if
 * not NULL) gets the length without the NUL. */
char *akvx_base64_encode(const void *in, size_t len, size_t *olen);

/* base64url without padding (RFC 4648 §5) of in[0..n) into out (room for
 * (4 * n + 2) / 3 + 1 bytes), NUL-terminated. */
void akvx_base64url_encode(const void *in, size_t n, char *out);

/* Strict standard base64 decoding of in[0..len) into out (room for
 * len / 4 * 3 bytes); *olen gets the decoded length. 0, or -1 unless the
 * input is the canonical encoding: a multiple of 4 characters of the
 * standard alphabet, '=' only as the last one or two, and zero bits
 * where the padding leaves some unused. "" decodes to nothing. */
int akvx_base64_decode(const char *in, size_t len, unsigned char *out,
                       size_t *olen);

/* true when s[0..len) is well-formed UTF-8: shortest forms only, no
 * surrogates, nothing past U+10FFFF. */
bool akvx_utf8_valid(const void *s, size_t len);
/* Length (1 to 4) of the well-formed UTF-8 sequence that starts s[0..len)
 * (len >= 1), or 0 when none does: what akvx_utf8_valid() accepts, one
 * character at a time, for callers that replace what is not UTF-8. */
size_t akvx_utf8_seq(const void *s, size_t len);

/* Percent-decodes in[0..len) into out (room for cap bytes; no NUL added);
 * *out_len gets the length. 0, or -1 with *why (static text) saying what
 * is wrong: a '%' not followed by two hex digits, an encoded NUL (%00), or
 * an output longer than cap. Other bytes are copied as they are. */
int akvx_pct_decode(const char *in, size_t len, char *out, size_t cap,
                    size_t *out_len, const char **why);

/* The content type a file name's extension implies (.md and .markdown
 * text/markdown, .json application/json, .txt text/plain, any case), or
 * NULL when it implies none: the one guess of `agentkv put` and the
 * seeder. Static text. */
const char *akvx_guess_type(const char *path);

/* mkdir -p: creates dir and its missing parents. Parents get 0755 less the
 * umask, like mkdir -p; a directory created last gets exactly leaf_mode
 * whatever the umask, or 0755 less the umask when leaf_mode is -1. Existing
 * directories are left as they are. 0, or -1 with errno set. */
int akvx_mkdir_p(const char *dir, int leaf_mode);

/* Replaces path atomically with data[0..len): writes path.tmp.PID with
 * exactly mode, fsyncs it, renames it over path and fsyncs the directory,
 * so that a crash leaves the old file or the new one, never a mix. 0, or -1
 * with errno set and *step ("create" when the temporary file could not be
 * made, "write" otherwise); the temporary file is removed on failure. */
int akvx_replace_file(const char *path, const void *data, size_t len,
                      mode_t mode, const char **step);

/* Byte-wise order of two keys, the shorter first on a common prefix:
 * <0, 0 or >0 as memcmp. */
int akvx_keycmp(const char *a, size_t alen, const char *b, size_t blen);

/* Walks a comma-separated list ("a, b,c", as --inline and --keep take
 * it): the next item after *p, blanks and tabs trimmed, in *item and *len
 * (0 for an empty one), and *p moved past it. false at the end of the
 * list, which a trailing comma ends too (also when *p is NULL). */
bool akvx_list_next(const char **p, const char **item, size_t *len);

#endif

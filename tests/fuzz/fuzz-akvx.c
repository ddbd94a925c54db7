/*
 * fuzz-akvx.c — libFuzzer harness for the strict decoders of akvx.h.
 *
 * The input bytes go to each decoder. Being strict means that whatever a
 * decoder accepts is the canonical encoding of what it returned: the
 * harness re-encodes every accepted base64 input and aborts unless the
 * result is the input byte for byte; an accepted hex input must re-encode
 * to its own lowercase form; a percent-decoded output must re-encode
 * (every byte as %XX) and decode back to itself, hold no NUL that the input
 * did not hold raw (%00 is refused) and never be longer than the input. The decoders must not read past the length
 * they are given (ASan sees it: the input is copied into an exact buffer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "akvx.h"

static void check_base64(const char *in, size_t n)
{
    unsigned char *out = malloc(n / 4 * 3 + 1);
    size_t olen;
    if (out == NULL)
        return;
    if (akvx_base64_decode(in, n, out, &olen) == 0) {
        size_t elen;
        char *enc = akvx_base64_encode(out, olen, &elen);
        if (enc && (elen != n || memcmp(enc, in, n) != 0)) {
            fprintf(stderr, "base64 accepted a non-canonical input\n");
            abort();
        }
        free(enc);
    }
    free(out);
}

static void check_hex(const char *in, size_t n)
{
    unsigned char *out = malloc(n / 2 + 1);
    char *enc = malloc(n + 1);
    if (out && enc && akvx_hex_decode(in, n, out) == 0) {
        akvx_hex_encode(out, n / 2, enc);
        for (size_t i = 0; i < n; i++) {
            char c = in[i] >= 'A' && in[i] <= 'F' ? (char)(in[i] + 32) : in[i];
            if (enc[i] != c) {
                fprintf(stderr, "hex round trip differs at %zu\n", i);
                abort();
            }
        }
        if (akvx_hex_lower(in, n) != (memcmp(enc, in, n) == 0)) {
            fprintf(stderr, "akvx_hex_lower disagrees\n");
            abort();
        }
    }
    free(out);
    free(enc);
}

static void check_pct(const char *in, size_t n)
{
    char *out = malloc(n + 1), *enc = malloc(3 * n + 1), *back = malloc(n + 1);
    size_t olen, blen;
    const char *why;
    if (out && enc && back && akvx_pct_decode(in, n, out, n, &olen, &why) == 0) {
        /* %00 is refused; a raw NUL is copied as it is. */
        if (olen > n || (memchr(out, '\0', olen) != NULL &&
                         memchr(in, '\0', n) == NULL)) {
            fprintf(stderr, "percent-decoding grew or decoded a NUL\n");
            abort();
        }
        if (memchr(out, '\0', olen) != NULL)
            goto done; /* a raw NUL has no %XX form that decodes */
        for (size_t i = 0; i < olen; i++)
            snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)out[i]);
        if (akvx_pct_decode(enc, 3 * olen, back, n, &blen, &why) != 0 ||
            blen != olen || memcmp(back, out, olen) != 0) {
            fprintf(stderr, "percent-decoding round trip failed\n");
            abort();
        }
    }
done:
    free(out);
    free(enc);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    if (in == NULL)
        return 0;
    memcpy(in, data, size);
    check_base64(in, size);
    check_hex(in, size);
    check_pct(in, size);
    (void)akvx_utf8_valid(in, size);
    free(in);
    return 0;
}

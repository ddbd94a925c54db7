/*
 * fuzz-sandbox.c — libFuzzer harness for akv_sandbox_check().
 *
 * The input bytes are the sandbox id. SPEC.md §1 defines ids as
 * [A-Za-z0-9_-]{1,64}; the harness checks the library's verdict against that
 * rule in both directions, that rejections are AKV_EINVAL with a one-line
 * message that does not echo control bytes, and that the verdict ignores the
 * bytes after the given length. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv.h"

static int model_sandbox(const uint8_t *s, size_t n)
{
    if (n < 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

static void broken(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz-sandbox: invariant broken: %s; input (%zu bytes):",
            what, size);
    for (size_t i = 0; i < size && i < 80; i++)
        fprintf(stderr, " %02x", data[i]);
    fprintf(stderr, "%s\n", size > 80 ? " ..." : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int rc = akv_sandbox_check((const char *)data, size);
    int expect_ok = model_sandbox(data, size);

    if (rc != AKV_OK && rc != AKV_EINVAL)
        broken("result is neither AKV_OK nor AKV_EINVAL", data, size);
    if (rc == AKV_OK && !expect_ok)
        broken("accepted an id outside [A-Za-z0-9_-]{1,64}", data, size);
    if (rc != AKV_OK && expect_ok)
        broken("rejected a valid id", data, size);
    if (rc == AKV_EINVAL) {
        const akv_error *e = akv_last_error();
        if (e->code != AKV_EINVAL)
            broken("last error code differs from the result", data, size);
        if (e->message[0] == '\0')
            broken("empty rejection message", data, size);
        /* Messages end up on a terminal and in logs: hostile input must be
         * escaped, never echoed raw. */
        for (const char *p = e->message; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
                broken("control byte in the rejection message", data, size);
    }

    uint8_t *copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    if (size)
        memcpy(copy, data, size);
    copy[size] = '/';
    if (akv_sandbox_check((const char *)copy, size) != rc)
        broken("verdict depends on bytes beyond the length", data, size);
    free(copy);
    return 0;
}

/*
 * fuzz-frontmatter.c — libFuzzer harness for akv_frontmatter_parse().
 *
 * The input bytes are an instruction file. Invariants checked, aborting
 * when one breaks:
 *   - the result is AKV_OK or AKV_EINVAL (AKV_ENOMEM aside), and *out is
 *     set exactly on success;
 *   - a rejection has a one-line message that starts with the file name
 *     and a line number ("fuzz.md:N:"), N within the input's line count;
 *   - an accepted input is valid UTF-8 (checked by a model written here);
 *   - without front matter the body is the whole input and there are no
 *     fields; with it, the body starts right after a "---" line;
 *   - keys are non-empty, made of [A-Za-z0-9_.-], and unique; values hold
 *     no control characters except the tab, line feed and carriage return
 *     that escapes produce;
 *   - writing the fields back as double-quoted values and parsing that
 *     gives the same fields (quoting and unquoting agree).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"

static void broken(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz-frontmatter: invariant broken: %s; input (%zu "
            "bytes):", what, size);
    for (size_t i = 0; i < size && i < 96; i++)
        fprintf(stderr, " %02x", data[i]);
    fprintf(stderr, "%s\n", size > 96 ? " ..." : "");
    abort();
}

/* Strict UTF-8, independent of the library's own check. */
static int model_utf8(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t need;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3, cp = c & 0x07;
        else
            return 0;
        if (n - i - 1 < need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

static int key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* Writes fm's fields back as a front matter block with quoted values. */
static char *rewrite(const akv_frontmatter *fm, size_t *len)
{
    size_t cap = 16;
    for (size_t i = 0; i < akv_frontmatter_count(fm); i++) {
        const char *k, *v;
        akv_frontmatter_field(fm, i, &k, &v, NULL);
        cap += strlen(k) + 2 * strlen(v) + 8;
    }
    char *out = malloc(cap), *p = out;
    if (out == NULL)
        return NULL;
    p += sprintf(p, "---\n");
    for (size_t i = 0; i < akv_frontmatter_count(fm); i++) {
        const char *k, *v;
        akv_frontmatter_field(fm, i, &k, &v, NULL);
        p += sprintf(p, "%s: \"", k);
        for (; *v; v++) {
            switch (*v) {
            case '"': *p++ = '\\'; *p++ = '"'; break;
            case '\\': *p++ = '\\'; *p++ = '\\'; break;
            case '\n': *p++ = '\\'; *p++ = 'n'; break;
            case '\t': *p++ = '\\'; *p++ = 't'; break;
            case '\r': *p++ = '\\'; *p++ = 'r'; break;
            default: *p++ = *v;
            }
        }
        *p++ = '"';
        *p++ = '\n';
    }
    p += sprintf(p, "---\n");
    *len = (size_t)(p - out);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    akv_frontmatter *fm = (akv_frontmatter *)&size; /* must be replaced */
    const char *text = (const char *)data;
    int rc = akv_frontmatter_parse(size ? text : NULL, size, "fuzz.md", &fm);
    if (rc == AKV_ENOMEM)
        return 0;
    if (rc != AKV_OK && rc != AKV_EINVAL)
        broken("neither AKV_OK nor AKV_EINVAL", data, size);
    if (rc == AKV_EINVAL) {
        if (fm != NULL)
            broken("*out not NULL after a rejection", data, size);
        const char *msg = akv_last_error()->message;
        unsigned line = 0;
        if (strncmp(msg, "fuzz.md:", 8) != 0 ||
            sscanf(msg + 8, "%u:", &line) != 1 || strchr(msg, '\n'))
            broken("rejection message does not start with 'fuzz.md:N:'",
                   data, size);
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        if (line < 1 || line > lines)
            broken("line number outside the input", data, size);
        return 0;
    }
    if (fm == NULL || fm == (akv_frontmatter *)&size)
        broken("no handle on success", data, size);
    if (!model_utf8(data, size))
        broken("accepted input that is not UTF-8", data, size);
    size_t body = akv_frontmatter_body_offset(fm);
    if (body > size)
        broken("body offset past the end", data, size);
    if (!akv_frontmatter_present(fm)) {
        if (body != 0 || akv_frontmatter_count(fm) != 0)
            broken("fields or a body offset without front matter", data,
                   size);
        if (size >= 3 && memcmp(data, "---", 3) == 0 &&
            (size == 3 || data[3] == '\n' ||
             (data[3] == '\r' && size > 4 && data[4] == '\n')))
            broken("a leading '---' line was not taken as front matter",
                   data, size);
    } else {
        if (size < 4 || memcmp(data, "---", 3) != 0)
            broken("front matter without a leading '---'", data, size);
        /* The line just before the body is a delimiter. */
        size_t e = body;
        if (e > 0 && data[e - 1] == '\n')
            e--;
        if (e > 0 && data[e - 1] == '\r')
            e--;
        size_t s = e;
        while (s > 0 && data[s - 1] != '\n')
            s--;
        while (e > s && (data[e - 1] == ' ' || data[e - 1] == '\t'))
            e--;
        if (e - s != 3 || memcmp(data + s, "---", 3) != 0 || s == 0)
            broken("the body does not follow a closing '---' line", data,
                   size);
    }
    size_t n = akv_frontmatter_count(fm);
    for (size_t i = 0; i < n; i++) {
        const char *k, *v;
        unsigned line;
        if (akv_frontmatter_field(fm, i, &k, &v, &line) != AKV_OK)
            broken("field in range not returned", data, size);
        if (*k == '\0' || line < 2)
            broken("empty key or impossible line", data, size);
        for (const char *p = k; *p; p++)
            if (!key_char(*p))
                broken("key with a character outside [A-Za-z0-9_.-]", data,
                       size);
        for (const char *p = v; *p; p++)
            if (((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' &&
                 *p != '\r') ||
                *p == 0x7f)
                broken("value with a control character", data, size);
        for (size_t j = 0; j < i; j++) {
            const char *k2;
            akv_frontmatter_field(fm, j, &k2, NULL, NULL);
            if (strcmp(k, k2) == 0)
                broken("duplicate key accepted", data, size);
        }
        if (akv_frontmatter_get(fm, k) != v)
            broken("get() does not find the field", data, size);
    }
    size_t rlen;
    char *again = rewrite(fm, &rlen);
    if (again) {
        akv_frontmatter *fm2;
        if (akv_frontmatter_parse(again, rlen, "again.md", &fm2) != AKV_OK)
            broken("the fields written back do not parse", data, size);
        if (akv_frontmatter_count(fm2) != n ||
            akv_frontmatter_body_offset(fm2) != rlen)
            broken("the fields written back differ in number", data, size);
        for (size_t i = 0; i < n; i++) {
            const char *k, *v, *k2, *v2;
            akv_frontmatter_field(fm, i, &k, &v, NULL);
            akv_frontmatter_field(fm2, i, &k2, &v2, NULL);
            if (strcmp(k, k2) != 0 || strcmp(v, v2) != 0)
                broken("quoting and unquoting disagree", data, size);
        }
        akv_frontmatter_free(fm2);
        free(again);
    }
    akv_frontmatter_free(fm);
    return 0;
}

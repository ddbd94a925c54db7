/*
 * fuzz-http-path.c — libFuzzer harness for the HTTP server's parsers
 * (src/server/http-parse.c): request heads, percent-decoding, route
 * patterns, query strings, entity tags, bearer credentials, the chunked
 * transfer coding and HTTP dates.
 *
 * The parsers are pure functions with no dependency on libevent, so the
 * harness compiles their source file directly (the #include below) and
 * needs nothing else. Every input is fed to every parser, and the harness
 * aborts when an invariant breaks:
 *   - every span a parser returns lies inside the bytes it was given;
 *   - a head parsed in one piece and found incrementally end at the same
 *     byte, and the verdict does not depend on bytes after the head;
 *   - decoding never yields NUL, and the decoded length is the input
 *     length minus two per escape;
 *   - a matched route rebuilds the path from the pattern and its captures;
 *   - chunked decoding gives the same body and verdict whether the input
 *     arrives at once or one byte at a time;
 *   - If-Match yields 64 lowercase hex digits when it accepts;
 *   - HTTP dates are always 29 characters ending in " GMT".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/server/http-parse.c"

static const uint8_t *g_data;
static size_t g_size;

static void broken(const char *what)
{
    fprintf(stderr, "fuzz-http-path: invariant broken: %s; input (%zu bytes):",
            what, g_size);
    for (size_t i = 0; i < g_size && i < 64; i++)
        fprintf(stderr, " %02x", g_data[i]);
    fprintf(stderr, "%s\n", g_size > 64 ? " ..." : "");
    abort();
}

static void inside(struct http_span s, const char *base, size_t len,
                   const char *what)
{
    if (s.p == NULL) {
        if (s.len)
            broken(what);
        return;
    }
    if (s.p < base || s.len > len || (size_t)(s.p - base) > len - s.len)
        broken(what);
}

static void check_head(const char *d, size_t n)
{
    struct http_head h, h2;
    struct http_perr e;
    size_t max = 4096;
    int rc = http_parse_head(d, n, max, &h, &e);
    if (rc == HTTP_PARSE_ERROR) {
        if (e.status < 400 || e.status > 599 || e.message == NULL)
            broken("error without a 4xx/5xx status and message");
        return;
    }
    size_t scanned = 0, end = http_head_end(d, n, &scanned);
    if (rc == HTTP_PARSE_AGAIN) {
        if (end != 0 && end <= max)
            broken("AGAIN although the head is complete");
        return;
    }
    if (h.head_len == 0 || h.head_len > n || h.head_len != end)
        broken("head_len disagrees with http_head_end");
    /* Incremental scanning finds the same end. */
    size_t sc = 0, e2 = 0;
    for (size_t k = 1; k <= n && e2 == 0; k++)
        e2 = http_head_end(d, k, &sc);
    if (e2 != end)
        broken("incremental http_head_end differs");
    inside(h.method_str, d, h.head_len, "method outside the head");
    inside(h.target, d, h.head_len, "target outside the head");
    inside(h.path, d, h.head_len, "path outside the head");
    inside(h.query, d, h.head_len, "query outside the head");
    if (h.path.len == 0 || h.path.p[0] != '/')
        broken("accepted a target that is not a path");
    if (h.nhdr > HTTP_MAX_HEADERS)
        broken("too many headers");
    for (size_t i = 0; i < h.nhdr; i++) {
        inside(h.hdr[i].name, d, h.head_len, "header name outside");
        inside(h.hdr[i].value, d, h.head_len, "header value outside");
    }
    inside(h.authorization, d, h.head_len, "authorization outside");
    inside(h.if_none_match, d, h.head_len, "if-none-match outside");
    if (h.chunked && h.content_length >= 0)
        broken("accepted Content-Length with chunked");
    if (h.content_length < -1)
        broken("negative Content-Length");
    if (h.minor != 0 && h.minor != 1)
        broken("bad minor version");
    int bits = 0;
    for (unsigned m = h.method; m; m >>= 1)
        bits += (int)(m & 1u);
    if (bits != 1)
        broken("method is not one bit");
    /* Bytes after the head do not change the verdict on the head. */
    if (http_parse_head(d, h.head_len, max, &h2, &e) != HTTP_PARSE_OK ||
        h2.head_len != h.head_len || h2.content_length != h.content_length ||
        h2.nhdr != h.nhdr)
        broken("verdict depends on bytes after the head");

    /* Header value parsers on every header. */
    for (size_t i = 0; i < h.nhdr; i++) {
        char hex[65];
        struct http_span tok;
        memset(hex, 'a', 64);
        hex[64] = '\0';
        if (http_if_match_parse(h.hdr[i].value, hex) == 1) {
            for (int k = 0; k < 64; k++)
                if (!((hex[k] >= '0' && hex[k] <= '9') ||
                      (hex[k] >= 'a' && hex[k] <= 'f')))
                    broken("If-Match hex not lowercase hex");
            if (hex[64] != '\0')
                broken("If-Match hex not terminated");
        }
        int m = http_if_none_match(h.hdr[i].value, hex);
        if (m < -1 || m > 1)
            broken("If-None-Match result out of range");
        if (http_bearer(h.hdr[i].value, &tok) == 0) {
            inside(tok, h.hdr[i].value.p, h.hdr[i].value.len,
                   "bearer token outside its header");
            if (tok.len == 0)
                broken("empty bearer token accepted");
        }
    }
}

static void check_decode(const char *d, size_t n)
{
    char *out = malloc(n + 1);
    size_t len = 0;
    const char *why = NULL;
    if (out == NULL)
        return;
    if (http_pct_decode(d, n, out, n, &len, &why) == 0) {
        size_t escapes = 0;
        for (size_t i = 0; i < n; i++)
            if (d[i] == '%')
                escapes++;
        if (len != n - 2 * escapes)
            broken("decoded length");
        if (memchr(out, 0, len) && !memchr(d, 0, n))
            broken("decoding produced NUL");
    } else if (why == NULL) {
        broken("decode failed without a reason");
    }
    free(out);
}

static void check_routes(const char *d, size_t n)
{
    static const struct {
        const char *pattern;
        int rest;
    } pats[] = {
        {"/v1/sandboxes/{sandbox}/kv/{scope}/{key}", 1},
        {"/v1/sandboxes/{sandbox}/kv/{scope}", 0},
        {"/v1/sandboxes/{sandbox}/stats", 0},
        {"/healthz", 0},
    };
    struct http_span path = {d, n};
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        struct http_span params[HTTP_MAX_PARAMS];
        size_t np = 0;
        if (!http_route_match(pats[i].pattern, pats[i].rest, path, params,
                              &np))
            continue;
        /* Rebuild the path from the pattern and the captures. */
        char *re = malloc(n + 128);
        size_t o = 0, k = 0;
        if (re == NULL)
            return;
        for (const char *p = pats[i].pattern; *p;) {
            if (*p == '{') {
                if (k >= np)
                    broken("fewer captures than parameters");
                inside(params[k], d, n, "capture outside the path");
                if (!(pats[i].rest && strchr(p, '}')[1] == '\0') &&
                    memchr(params[k].p ? params[k].p : "", '/', params[k].len))
                    broken("a one-segment capture holds '/'");
                memcpy(re + o, params[k].p, params[k].len);
                o += params[k].len;
                k++;
                p = strchr(p, '}') + 1;
            } else {
                re[o++] = *p++;
            }
        }
        if (o != n || memcmp(re, d, n) != 0)
            broken("captures do not rebuild the path");
        free(re);
    }
    struct http_span name, value;
    size_t pos = 0, rounds = 0;
    while (http_query_next(path, &pos, &name, &value)) {
        inside(name, d, n, "query name outside");
        inside(value, d, n, "query value outside");
        if (++rounds > n + 1)
            broken("query iteration does not end");
    }
}

/* Decodes with the given piece size; returns the verdict, body in out. */
static int chunked_run(const char *d, size_t n, size_t piece, char *out,
                       size_t *out_len)
{
    struct http_chunked c;
    http_chunked_init(&c);
    *out_len = 0;
    size_t fed = 0;
    while (fed < n) {
        size_t avail = n - fed < piece ? n - fed : piece;
        size_t pos = 0;
        while (pos < avail) {
            size_t used = 0, off = 0, dlen = 0;
            const char *err = NULL;
            int k = http_chunked_parse(&c, d + fed + pos, avail - pos, &used,
                                       &off, &dlen, &err);
            if (used > avail - pos)
                broken("chunked used more than given");
            if (k == HTTP_CHUNK_ERROR) {
                if (err == NULL)
                    broken("chunked error without a reason");
                return k;
            }
            if (k == HTTP_CHUNK_DATA) {
                if (off + dlen > used || dlen == 0)
                    broken("chunk data outside what was used");
                memcpy(out + *out_len, d + fed + pos + off, dlen);
                *out_len += dlen;
            }
            pos += used;
            if (k == HTTP_CHUNK_DONE)
                return k;
            if (k == HTTP_CHUNK_MORE && pos != avail)
                broken("MORE without consuming everything");
        }
        fed += avail;
    }
    return HTTP_CHUNK_MORE;
}

static void check_chunked(const char *d, size_t n)
{
    char *a = malloc(n + 1), *b = malloc(n + 1);
    size_t alen, blen;
    if (a && b) {
        int ka = chunked_run(d, n, n ? n : 1, a, &alen);
        int kb = chunked_run(d, n, 1, b, &blen);
        if (ka != kb || alen != blen || memcmp(a, b, alen) != 0)
            broken("chunked decoding depends on how input is split");
        if (alen > n)
            broken("more body than input");
    }
    free(a);
    free(b);
}

static void check_date(const uint8_t *data, size_t size)
{
    int64_t ms = 0;
    memcpy(&ms, data, size < sizeof ms ? size : sizeof ms);
    char out[HTTP_DATE_BUF];
    size_t n = http_date(ms, out);
    if (n != 29 || strlen(out) != 29 || memcmp(out + 25, " GMT", 4) != 0)
        broken("HTTP date is not 29 characters ending in GMT");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    g_data = data;
    g_size = size;
    check_head(d, size);
    check_decode(d, size);
    check_routes(d, size);
    check_chunked(d, size);
    check_date(data, size);
    return 0;
}

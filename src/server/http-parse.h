/*
 * http-parse.h — the pure parsing functions of the HTTP server: request
 * head (request line and header fields), chunked transfer coding,
 * percent-decoding, query strings, route patterns, entity tags, bearer
 * credentials and HTTP dates.
 *
 * Nothing here allocates, touches a socket, or depends on libevent or on
 * libagentkv: every function works on caller-supplied bytes and reports
 * spans into them. That keeps the parsers small enough to reason about, and
 * lets the libFuzzer harness (tests/fuzz/fuzz-http-path.c) link this file
 * alone.
 */
#ifndef AKV_HTTP_PARSE_H
#define AKV_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Methods as bits, so that a route row can hold a set of them. */
enum http_method {
    HTTP_GET = 1u << 0,
    HTTP_HEAD = 1u << 1,
    HTTP_PUT = 1u << 2,
    HTTP_DELETE = 1u << 3,
    HTTP_POST = 1u << 4,
    HTTP_OPTIONS = 1u << 5,
    HTTP_PATCH = 1u << 6,
    HTTP_OTHER = 1u << 7, /* any other syntactically valid method token */
};
#define HTTP_METHOD_COUNT 8
/* Index 0..7 of a single method bit (for metric arrays). */
int http_method_index(unsigned method);
/* "GET", …, "OTHER" for a single bit. */
const char *http_method_name(unsigned method);

/* A span of bytes inside a buffer the caller owns. */
struct http_span {
    const char *p;
    size_t len;
};

struct http_hdr {
    struct http_span name, value; /* value without surrounding whitespace */
};

#define HTTP_MAX_HEADERS 100

/*
 * A parsed request head. Every pointer points into the buffer given to
 * http_parse_head() and stays valid as long as that buffer is unchanged.
 * The header fields the server acts on are found during the parse, so that
 * handlers never walk the list.
 */
struct http_head {
    unsigned method;            /* one enum http_method bit */
    struct http_span method_str;
    struct http_span target;    /* request-target as sent */
    struct http_span path;      /* target up to '?' */
    struct http_span query;     /* after '?', len 0 (p NULL) if none */
    int minor;                  /* HTTP/1.<minor>: 0 or 1 */
    size_t head_len;            /* bytes up to and including the blank line */

    size_t nhdr;
    struct http_hdr hdr[HTTP_MAX_HEADERS];

    /* Singleton fields the server uses; len 0 and p NULL when absent. A
     * second occurrence of one of them is a 400. */
    struct http_span authorization, content_type, if_match, if_none_match,
        metadata, expect, host;
    int64_t content_length;     /* -1 when absent */
    int chunked;                /* Transfer-Encoding: chunked */
    int keep_alive;             /* after Connection and the version */
    int expect_continue;        /* Expect: 100-continue */
};

/* Outcome of http_parse_head(). */
enum {
    HTTP_PARSE_OK = 0,     /* a complete, valid head */
    HTTP_PARSE_AGAIN = 1,  /* incomplete: read more */
    HTTP_PARSE_ERROR = 2,  /* invalid: answer err->status and close */
};

struct http_perr {
    int status;          /* 400, 431, 501 or 505 */
    const char *message; /* static, one line */
};

/*
 * Parses a request head from buf[0..len). max_head bounds the head's size:
 * a head not complete within max_head bytes is an error (431), so a caller
 * never needs to buffer more than max_head bytes to make progress.
 * Accepts CRLF or bare LF line ends (RFC 9112 §2.2). Rejects obsolete line
 * folding, whitespace before the colon, control characters, a request-target
 * that is not in origin form, conflicting Content-Length values,
 * Content-Length together with Transfer-Encoding (request smuggling), and
 * an HTTP/1.1 request without Host (RFC 9112 §3.2; HTTP/1.0 may omit it).
 */
int http_parse_head(const char *buf, size_t len, size_t max_head,
                    struct http_head *h, struct http_perr *err);

/* The same for a head known to end at buf[end - 1], where http_head_end()
 * found its blank line (end <= the caller's max_head): spares a second
 * search for it. */
int http_parse_head_at(const char *buf, size_t end, struct http_head *h,
                       struct http_perr *err);

/* Offset just past the blank line that ends a head within buf[0..len), or 0
 * when there is none yet. *scanned (in/out) remembers how far earlier calls
 * looked, so that re-scanning a growing buffer is linear overall. */
size_t http_head_end(const char *buf, size_t len, size_t *scanned);

/* ---- chunked transfer coding (RFC 9112 §7.1) --------------------------- */

struct http_chunked {
    int state;
    uint64_t left;     /* bytes left in the current chunk */
    unsigned line;     /* bytes of the current size/trailer line */
    int digits;        /* hex digits of the current size */
};

enum {
    HTTP_CHUNK_MORE = 0,  /* input exhausted: feed more */
    HTTP_CHUNK_DATA = 1,  /* a piece of body data: in[*data_off, +*data_len) */
    HTTP_CHUNK_DONE = 2,  /* last chunk and trailer read */
    HTTP_CHUNK_ERROR = 3, /* malformed: *err says why */
};

void http_chunked_init(struct http_chunked *c);
/*
 * Decodes from in[0..len). *used receives how many input bytes were
 * consumed (always all of them for MORE; through the end of the data piece
 * for DATA; through the final line for DONE). Call again with the rest of
 * the input after DATA. Chunk extensions and trailer fields are skipped;
 * each line is bounded (4 KiB).
 */
int http_chunked_parse(struct http_chunked *c, const char *in, size_t len,
                       size_t *used, size_t *data_off, size_t *data_len,
                       const char **err);

/* ---- percent-decoding, queries, routes --------------------------------- */

/*
 * Percent-decodes in[0..len) into out (at most cap bytes), exactly once.
 * Rejects a '%' not followed by two hex digits ("%zz", a truncated "%4")
 * and an encoded NUL ("%00"). '+' is kept as '+' (RFC 3986, not HTML
 * forms). Returns 0 with *out_len set, or -1 with *err set (also when the
 * result would exceed cap). The decoding is akvx_pct_decode's (akvx.h),
 * the one percent-decoder of agentkv; this is its name in the server.
 */
int http_pct_decode(const char *in, size_t len, char *out, size_t cap,
                    size_t *out_len, const char **err);

/*
 * Iterates over "name=value&name=value" pairs. *pos starts at 0. Returns 1
 * with the raw (still encoded) name and value spans of the next non-empty
 * pair, 0 at the end. A pair without '=' has an empty value with p NULL.
 */
int http_query_next(struct http_span query, size_t *pos,
                    struct http_span *name, struct http_span *value);

#define HTTP_MAX_PARAMS 4
/*
 * Matches a raw path against a route pattern such as
 * "/v1/sandboxes/{sandbox}/kv/{scope}/{key}". Literal segments must be equal;
 * "{name}" captures one segment (possibly empty, never containing '/'). When
 * rest_last is set, the last "{name}" captures the rest of the path,
 * slashes included. Captured spans are still percent-encoded. Returns 1 on
 * a match with *n spans in params[], else 0.
 */
int http_route_match(const char *pattern, int rest_last, struct http_span path,
                     struct http_span params[HTTP_MAX_PARAMS], size_t *n);

/* ---- header values ----------------------------------------------------- */

/*
 * If-Match for a write: one strong entity tag made of 64 hex digits.
 * Returns 1 and the digits (lowercase, NUL-terminated) in hex, 0 for a
 * well-formed tag that can never match an entry (a weak tag, or one that is
 * not a SHA-256), -1 for anything else (a list, '*', bad syntax).
 */
int http_if_match_parse(struct http_span v, char hex[65]);

/*
 * If-None-Match on a read: 1 when the list is "*" or contains an entity tag
 * (weak comparison) whose opaque part equals the 64 hex digits of sha, 0
 * when it does not, -1 when the field is malformed.
 */
int http_if_none_match(struct http_span v, const char *sha);

/* 1 when v is exactly "*" (If-None-Match: * on a write). */
int http_is_star(struct http_span v);

/* "Bearer <token68>": returns 0 with the token span, -1 otherwise. */
int http_bearer(struct http_span v, struct http_span *token);

/* ---- output helpers ---------------------------------------------------- */

/* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" of ms since the epoch into
 * out (at least 30 bytes). Returns the length (29). */
#define HTTP_DATE_BUF 32
size_t http_date(int64_t ms, char out[HTTP_DATE_BUF]);

/* Reason phrase for a status code ("Not Found"); "Unknown" if none. */
const char *http_reason(int status);

#endif /* AKV_HTTP_PARSE_H */

/*
 * http-parse.c — pure HTTP/1.1 parsing for the server: the request head,
 * the chunked transfer coding, percent-decoding, query strings, route
 * patterns, entity tags, bearer credentials, and IMF-fixdate output.
 *
 * The rules follow RFC 9110 and RFC 9112, strict where leniency would let
 * two parties read one message differently (Content-Length vs
 * Transfer-Encoding, whitespace before a colon, line folding, encoded NUL)
 * and lenient only where the RFC allows it (bare LF line ends, empty lines
 * before a request). No function here allocates or keeps state outside its
 * arguments; see http-parse.h for the contracts.
 */
#include "http-parse.h"

#include <stddef.h>
#include <string.h>

#include "akvx.h"

/* ---- character classes ------------------------------------------------- */

/*
 * The classes a request head's bytes are checked against, one table look-up
 * a byte (the method, the field names and values, a bearer token):
 *   CC_TCHAR    tchar of RFC 9110 §5.6.2, the bytes of a method and of a
 *               field name;
 *   CC_CTL      not allowed in a field value: controls other than HTAB, DEL;
 *   CC_TOKEN68  the token68 characters of RFC 9110 §11.2 that a bearer
 *               token may hold before its '=' padding.
 * The table is built by the compiler from the definitions below.
 */
enum { CC_TCHAR = 1, CC_CTL = 2, CC_TOKEN68 = 4 };

#define CC_ALNUM(c)                                                         \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') ||           \
     ((c) >= '0' && (c) <= '9'))
#define CC_IS_TCHAR(c)                                                      \
    (CC_ALNUM(c) || (c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' ||  \
     (c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' || (c) == '-' ||  \
     (c) == '.' || (c) == '^' || (c) == '_' || (c) == '`' || (c) == '|' ||   \
     (c) == '~')
#define CC_IS_TOKEN68(c)                                                    \
    (CC_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~' ||  \
     (c) == '+' || (c) == '/')
#define CC_OF(c)                                                            \
    ((CC_IS_TCHAR(c) ? CC_TCHAR : 0) |                                      \
     (((c) < 0x20 && (c) != '\t') || (c) == 0x7f ? CC_CTL : 0) |            \
     (CC_IS_TOKEN68(c) ? CC_TOKEN68 : 0))
#define CC_4(c) CC_OF(c), CC_OF((c) + 1), CC_OF((c) + 2), CC_OF((c) + 3)
#define CC_16(c) CC_4(c), CC_4((c) + 4), CC_4((c) + 8), CC_4((c) + 12)
#define CC_64(c) CC_16(c), CC_16((c) + 16), CC_16((c) + 32), CC_16((c) + 48)
static const unsigned char char_class[256] = {CC_64(0), CC_64(64),
                                              CC_64(128), CC_64(192)};

static int is_tchar(unsigned char c)
{
    return char_class[c] & CC_TCHAR;
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive comparison of a span with the n bytes of a lower-case
 * ASCII word; SPAN_IEQ takes the word as a string literal. */
static int span_ieq(struct http_span s, const char *word, size_t n)
{
    if (s.len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s.p[i]) != (unsigned char)word[i])
            return 0;
    return 1;
}
#define SPAN_IEQ(s, literal) span_ieq((s), "" literal, sizeof literal - 1)

/* ---- methods ------------------------------------------------------------ */

static const char *const method_names[HTTP_METHOD_COUNT] = {
    "GET", "HEAD", "PUT", "DELETE", "POST", "OPTIONS", "PATCH", "OTHER"};

int http_method_index(unsigned method)
{
    for (int i = 0; i < HTTP_METHOD_COUNT; i++)
        if (method == (1u << i))
            return i;
    return HTTP_METHOD_COUNT - 1;
}

const char *http_method_name(unsigned method)
{
    return method_names[http_method_index(method)];
}

static unsigned method_parse(struct http_span m)
{
    /* Methods are case-sensitive (RFC 9110 §9.1). */
    for (int i = 0; i < HTTP_METHOD_COUNT - 1; i++)
        if (m.len == strlen(method_names[i]) &&
            memcmp(m.p, method_names[i], m.len) == 0)
            return 1u << i;
    return HTTP_OTHER;
}

/* ---- request head ------------------------------------------------------ */

size_t http_head_end(const char *buf, size_t len, size_t *scanned)
{
    size_t i = *scanned;
    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        if (nl == NULL)
            break;
        size_t j = (size_t)(nl - buf);
        /* A line end at the very start is an empty line before the request
         * (skipped by the parser), not the end of a head. */
        size_t k = j;
        while (k > 0 && buf[k - 1] == '\r')
            k--;
        int at_start = 1;
        for (size_t q = 0; q < k; q++)
            if (buf[q] != '\r' && buf[q] != '\n') {
                at_start = 0;
                break;
            }
        if (!at_start) {
            if (j + 1 >= len) {
                *scanned = j;
                return 0;
            }
            if (buf[j + 1] == '\n')
                return j + 2;
            if (buf[j + 1] == '\r') {
                if (j + 2 >= len) {
                    *scanned = j;
                    return 0;
                }
                if (buf[j + 2] == '\n')
                    return j + 3;
            }
        }
        i = j + 1;
    }
    *scanned = len;
    return 0;
}

static int fail(struct http_perr *err, int status, const char *message)
{
    err->status = status;
    err->message = message;
    return HTTP_PARSE_ERROR;
}

/* Bytes of leading CR and LF (empty lines before a request). */
static size_t skip_empty_lines(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    return i;
}

/*
 * Parses the request line buf[0..len) (without its line end). Returns
 * HTTP_PARSE_OK or HTTP_PARSE_ERROR.
 */
static int parse_request_line(const char *buf, size_t len, struct http_head *h,
                              struct http_perr *err)
{
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == 0 || i >= len || buf[i] != ' ')
        return fail(err, 400, "malformed request line: bad method");
    if (i > 32)
        return fail(err, 400, "malformed request line: method too long");
    h->method_str.p = buf;
    h->method_str.len = i;
    h->method = method_parse(h->method_str);

    size_t t = ++i;
    while (i < len && buf[i] != ' ') {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x21 || c == 0x7f)
            return fail(err, 400,
                        "malformed request line: control character in the "
                        "request target");
        i++;
    }
    if (i == t || i >= len)
        return fail(err, 400, "malformed request line: no request target");
    if (buf[t] != '/')
        return fail(err, 400,
                    "malformed request line: the request target must be a "
                    "path starting with '/'");
    h->target.p = buf + t;
    h->target.len = i - t;
    const char *q = memchr(h->target.p, '?', h->target.len);
    h->path.p = h->target.p;
    h->path.len = q ? (size_t)(q - h->target.p) : h->target.len;
    if (q) {
        h->query.p = q + 1;
        h->query.len = h->target.len - h->path.len - 1;
    }
    const char *frag = memchr(h->target.p, '#', h->target.len);
    if (frag)
        return fail(err, 400,
                    "malformed request line: fragment in the request target");

    i++; /* the second SP */
    const char *v = buf + i;
    size_t vlen = len - i;
    if (vlen == 8 && memcmp(v, "HTTP/1.", 7) == 0 &&
        (v[7] == '0' || v[7] == '1')) {
        h->minor = v[7] - '0';
        return HTTP_PARSE_OK;
    }
    if (vlen == 8 && memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' &&
        v[5] <= '9' && v[6] == '.' && v[7] >= '0' && v[7] <= '9')
        return fail(err, 505, "HTTP version not supported (use HTTP/1.1)");
    return fail(err, 400, "malformed request line: bad HTTP version");
}

/* Stores a singleton field; a second occurrence is an error. */
static int set_once(struct http_span *slot, struct http_span value,
                    struct http_perr *err, const char *dup_message)
{
    if (slot->p != NULL) {
        fail(err, 400, dup_message);
        return -1;
    }
    *slot = value; /* value.p is never NULL: presence is p != NULL */
    return 0;
}

/* Content-Length: 1*DIGIT. Values beyond 18 digits saturate to INT64_MAX,
 * which is over any body limit and so answered with 413. */
static int parse_content_length(struct http_span v, int64_t *out)
{
    if (v.len == 0)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (c < '0' || c > '9')
            return -1;
        if (n > (INT64_MAX - 9) / 10)
            n = INT64_MAX;
        else
            n = n * 10 + (c - '0');
    }
    *out = n;
    return 0;
}

/* Connection: a comma-separated list of options. */
static void parse_connection(struct http_span v, struct http_head *h)
{
    size_t i = 0;
    while (i < v.len) {
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        size_t s = i;
        while (i < v.len && v.p[i] != ',' && v.p[i] != ' ' && v.p[i] != '\t')
            i++;
        struct http_span tok = {v.p + s, i - s};
        if (SPAN_IEQ(tok, "close"))
            h->keep_alive = 0;
        else if (SPAN_IEQ(tok, "keep-alive") && h->minor == 0)
            h->keep_alive = 1;
    }
}

/* Acts on one header field. Returns 0, or -1 with err set. */
static int header_field(struct http_head *h, struct http_span name,
                        struct http_span value, struct http_perr *err)
{
    switch (name.len) {
    case 4:
        if (SPAN_IEQ(name, "host"))
            return set_once(&h->host, value, err, "duplicate Host header");
        break;
    case 6:
        if (SPAN_IEQ(name, "expect")) {
            if (set_once(&h->expect, value, err, "duplicate Expect header"))
                return -1;
            if (!SPAN_IEQ(value, "100-continue")) {
                fail(err, 417, "unsupported Expect header (only "
                               "100-continue is understood)");
                return -1;
            }
            h->expect_continue = 1;
        }
        break;
    case 8:
        if (SPAN_IEQ(name, "if-match"))
            return set_once(&h->if_match, value, err,
                            "duplicate If-Match header");
        break;
    case 10:
        if (SPAN_IEQ(name, "connection"))
            parse_connection(value, h);
        break;
    case 12:
        if (SPAN_IEQ(name, "content-type"))
            return set_once(&h->content_type, value, err,
                            "duplicate Content-Type header");
        break;
    case 13:
        if (SPAN_IEQ(name, "authorization"))
            return set_once(&h->authorization, value, err,
                            "duplicate Authorization header");
        if (SPAN_IEQ(name, "if-none-match"))
            return set_once(&h->if_none_match, value, err,
                            "duplicate If-None-Match header");
        break;
    case 14:
        if (SPAN_IEQ(name, "content-length")) {
            int64_t n;
            if (parse_content_length(value, &n) != 0) {
                fail(err, 400, "invalid Content-Length");
                return -1;
            }
            if (h->content_length >= 0 && h->content_length != n) {
                fail(err, 400, "conflicting Content-Length headers");
                return -1;
            }
            h->content_length = n;
        }
        break;
    case 17:
        if (SPAN_IEQ(name, "transfer-encoding")) {
            if (h->chunked) {
                fail(err, 400, "duplicate Transfer-Encoding header");
                return -1;
            }
            if (!SPAN_IEQ(value, "chunked")) {
                fail(err, 501, "unsupported Transfer-Encoding (only chunked "
                               "is understood)");
                return -1;
            }
            h->chunked = 1;
        }
        break;
    case 18:
        if (SPAN_IEQ(name, "x-agentkv-metadata"))
            return set_once(&h->metadata, value, err,
                            "duplicate X-Agentkv-Metadata header");
        break;
    default:
        break;
    }
    return 0;
}

/* Parses one header line buf[0..len) (without its line end). */
static int parse_header_line(const char *buf, size_t len, struct http_head *h,
                             struct http_perr *err)
{
    if (buf[0] == ' ' || buf[0] == '\t')
        return fail(err, 400, "obsolete line folding in a header");
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == 0 || i >= len || buf[i] != ':')
        return fail(err, 400,
                    i < len && (buf[i] == ' ' || buf[i] == '\t')
                        ? "whitespace before ':' in a header"
                        : "malformed header line");
    struct http_span name = {buf, i};
    i++;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
        i++;
    size_t vs = i, ve = len;
    for (; i < len; i++)
        if (char_class[(unsigned char)buf[i]] & CC_CTL)
            return fail(err, 400, "control character in a header value");
    while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
        ve--;
    struct http_span value = {buf + vs, ve - vs};
    if (h->nhdr == HTTP_MAX_HEADERS)
        return fail(err, 431, "too many header fields");
    h->hdr[h->nhdr].name = name;
    h->hdr[h->nhdr].value = value;
    h->nhdr++;
    return header_field(h, name, value, err) == 0 ? HTTP_PARSE_OK
                                                  : HTTP_PARSE_ERROR;
}

/* Splits off the next line of buf[*pos..end): returns its length without
 * the line end (and without the CR before the LF) and advances *pos past
 * the LF; -1 when no LF is left. A CR elsewhere in the line is left to
 * the line's parser: the request line and a header line refuse every
 * control character but HTAB, so that no second pass looks for it. */
static long next_line(const char *buf, size_t end, size_t *pos,
                      const char **line)
{
    const char *nl = memchr(buf + *pos, '\n', end - *pos);
    if (nl == NULL)
        return -1;
    size_t s = *pos, e = (size_t)(nl - buf);
    *pos = e + 1;
    if (e > s && buf[e - 1] == '\r')
        e--;
    *line = buf + s;
    return (long)(e - s);
}

/* Early verdict on an incomplete head: a complete first line is checked
 * now, and bytes no request line can hold are refused at once, so that a
 * client speaking another protocol is not kept waiting for a timeout. */
static int check_partial(const char *buf, size_t len, struct http_head *h,
                         struct http_perr *err)
{
    size_t s = skip_empty_lines(buf, len);
    for (size_t i = s; i < len && buf[i] != '\n'; i++) {
        unsigned char c = (unsigned char)buf[i];
        if ((c < 0x20 && c != '\r') || c == 0x7f)
            return fail(err, 400, "malformed request line: control "
                                  "character");
    }
    size_t pos = s;
    const char *line;
    long n = next_line(buf, len, &pos, &line);
    if (n == -1)
        return HTTP_PARSE_AGAIN;
    if (n <= 0)
        return fail(err, 400, "malformed request line");
    if (parse_request_line(line, (size_t)n, h, err) != HTTP_PARSE_OK)
        return HTTP_PARSE_ERROR;
    return HTTP_PARSE_AGAIN;
}

static void head_clear(struct http_head *h, struct http_perr *err)
{
    memset(h, 0, offsetof(struct http_head, hdr));
    memset(&h->authorization, 0,
           sizeof *h - offsetof(struct http_head, authorization));
    h->content_length = -1;
    err->status = 0;
    err->message = NULL;
}

int http_parse_head(const char *buf, size_t len, size_t max_head,
                    struct http_head *h, struct http_perr *err)
{
    size_t scanned = 0;
    size_t end = http_head_end(buf, len, &scanned);
    if (end == 0 || end > max_head) {
        head_clear(h, err);
        if (end > max_head || len >= max_head)
            return fail(err, 431, "request header section too large");
        return check_partial(buf, len, h, err);
    }
    return http_parse_head_at(buf, end, h, err);
}

int http_parse_head_at(const char *buf, size_t end, struct http_head *h,
                       struct http_perr *err)
{
    head_clear(h, err);
    size_t pos = skip_empty_lines(buf, end);
    const char *line;
    long n = next_line(buf, end, &pos, &line);
    if (n <= 0)
        return fail(err, 400, "malformed request line");
    if (parse_request_line(line, (size_t)n, h, err) != HTTP_PARSE_OK)
        return HTTP_PARSE_ERROR;
    h->keep_alive = h->minor >= 1;

    for (;;) {
        n = next_line(buf, end, &pos, &line);
        if (n == -1)
            return fail(err, 400, "malformed header section");
        if (n == 0)
            break;
        if (parse_header_line(line, (size_t)n, h, err) != HTTP_PARSE_OK)
            return HTTP_PARSE_ERROR;
    }
    if (h->chunked && h->content_length >= 0)
        return fail(err, 400,
                    "both Content-Length and Transfer-Encoding given");
    /* RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request
     * without Host; HTTP/1.0 did not have it. */
    if (h->minor >= 1 && h->host.p == NULL)
        return fail(err, 400, "HTTP/1.1 request without a Host header");
    h->head_len = end;
    return HTTP_PARSE_OK;
}

/* ---- chunked transfer coding ------------------------------------------- */

enum {
    CH_SIZE,       /* hex digits of a chunk size */
    CH_EXT,        /* rest of a size line (extensions), up to CR or LF */
    CH_SIZE_LF,    /* LF after the size line's CR */
    CH_DATA,       /* chunk data */
    CH_DATA_CR,    /* CR (or LF) after chunk data */
    CH_DATA_LF,    /* LF after that CR */
    CH_TRAILER,    /* start of a trailer line or of the final empty line */
    CH_TRAILER_LN, /* inside a trailer line */
    CH_END_LF,     /* LF of the final empty line */
    CH_DONE,
};

#define CHUNK_LINE_MAX 4096

void http_chunked_init(struct http_chunked *c)
{
    memset(c, 0, sizeof *c);
    c->state = CH_SIZE;
}

int http_chunked_parse(struct http_chunked *c, const char *in, size_t len,
                       size_t *used, size_t *data_off, size_t *data_len,
                       const char **err)
{
    size_t i = 0;
    *data_off = *data_len = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)in[i];
        switch (c->state) {
        case CH_SIZE: {
            int d = akvx_hexval(ch);
            if (d >= 0) {
                if (++c->digits > 15) {
                    *err = "chunk size too large";
                    return HTTP_CHUNK_ERROR;
                }
                c->left = c->left * 16 + (uint64_t)d;
                i++;
                break;
            }
            if (c->digits == 0) {
                *err = "malformed chunk size";
                return HTTP_CHUNK_ERROR;
            }
            if (ch == ';' || ch == ' ' || ch == '\t') {
                c->state = CH_EXT;
                i++;
            } else if (ch == '\r') {
                c->state = CH_SIZE_LF;
                i++;
            } else if (ch == '\n') {
                c->state = c->left ? CH_DATA : CH_TRAILER;
                c->line = 0;
                i++;
            } else {
                *err = "malformed chunk size";
                return HTTP_CHUNK_ERROR;
            }
            break;
        }
        case CH_EXT:
            if (++c->line > CHUNK_LINE_MAX) {
                *err = "chunk extension too long";
                return HTTP_CHUNK_ERROR;
            }
            if (ch == '\r') {
                c->state = CH_SIZE_LF;
            } else if (ch == '\n') {
                c->state = c->left ? CH_DATA : CH_TRAILER;
                c->line = 0;
            } else if (ch < 0x20 && ch != '\t') {
                *err = "control character in a chunk extension";
                return HTTP_CHUNK_ERROR;
            }
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n') {
                *err = "CR without LF after a chunk size";
                return HTTP_CHUNK_ERROR;
            }
            c->state = c->left ? CH_DATA : CH_TRAILER;
            c->line = 0;
            i++;
            break;
        case CH_DATA: {
            size_t n = len - i;
            if ((uint64_t)n > c->left)
                n = (size_t)c->left;
            c->left -= n;
            if (c->left == 0)
                c->state = CH_DATA_CR;
            *data_off = i;
            *data_len = n;
            *used = i + n;
            return HTTP_CHUNK_DATA;
        }
        case CH_DATA_CR:
            if (ch == '\r') {
                c->state = CH_DATA_LF;
            } else if (ch == '\n') {
                c->state = CH_SIZE;
                c->digits = 0;
            } else {
                *err = "chunk data longer than its size";
                return HTTP_CHUNK_ERROR;
            }
            i++;
            break;
        case CH_DATA_LF:
            if (ch != '\n') {
                *err = "CR without LF after chunk data";
                return HTTP_CHUNK_ERROR;
            }
            c->state = CH_SIZE;
            c->digits = 0;
            i++;
            break;
        case CH_TRAILER:
            i++;
            if (ch == '\r') {
                c->state = CH_END_LF;
            } else if (ch == '\n') {
                c->state = CH_DONE;
                *used = i;
                return HTTP_CHUNK_DONE;
            } else {
                c->state = CH_TRAILER_LN;
                c->line = 1;
            }
            break;
        case CH_TRAILER_LN:
            if (++c->line > CHUNK_LINE_MAX) {
                *err = "trailer line too long";
                return HTTP_CHUNK_ERROR;
            }
            if (ch == '\n')
                c->state = CH_TRAILER;
            i++;
            break;
        case CH_END_LF:
            if (ch != '\n') {
                *err = "CR without LF at the end of a chunked body";
                return HTTP_CHUNK_ERROR;
            }
            c->state = CH_DONE;
            *used = i + 1;
            return HTTP_CHUNK_DONE;
        default: /* CH_DONE: nothing more belongs to this body */
            *used = i;
            return HTTP_CHUNK_DONE;
        }
    }
    *used = i;
    if (c->state == CH_DONE)
        return HTTP_CHUNK_DONE;
    return HTTP_CHUNK_MORE;
}

/* ---- percent-decoding, queries, routes --------------------------------- */

int http_pct_decode(const char *in, size_t len, char *out, size_t cap,
                    size_t *out_len, const char **err)
{
    return akvx_pct_decode(in, len, out, cap, out_len, err);
}

int http_query_next(struct http_span query, size_t *pos,
                    struct http_span *name, struct http_span *value)
{
    while (*pos < query.len) {
        size_t s = *pos;
        const char *amp = memchr(query.p + s, '&', query.len - s);
        size_t e = amp ? (size_t)(amp - query.p) : query.len;
        *pos = amp ? e + 1 : query.len;
        if (e == s)
            continue; /* "a=1&&b=2" */
        const char *eq = memchr(query.p + s, '=', e - s);
        name->p = query.p + s;
        name->len = eq ? (size_t)(eq - name->p) : e - s;
        if (eq) {
            value->p = eq + 1;
            value->len = (size_t)(query.p + e - value->p);
        } else {
            value->p = NULL;
            value->len = 0;
        }
        return 1;
    }
    return 0;
}

int http_route_match(const char *pattern, int rest_last, struct http_span path,
                     struct http_span params[HTTP_MAX_PARAMS], size_t *n)
{
    const char *p = pattern;
    size_t i = 0;
    *n = 0;
    while (*p) {
        if (*p != '{') {
            if (i >= path.len || path.p[i] != *p)
                return 0;
            i++;
            p++;
            continue;
        }
        const char *close = strchr(p, '}');
        if (close == NULL || *n == HTTP_MAX_PARAMS)
            return 0; /* a malformed pattern matches nothing */
        size_t s = i;
        if (rest_last && close[1] == '\0') {
            i = path.len;
        } else {
            while (i < path.len && path.p[i] != '/')
                i++;
        }
        params[*n].p = path.p + s;
        params[*n].len = i - s;
        (*n)++;
        p = close + 1;
    }
    return i == path.len;
}

/* ---- header values ----------------------------------------------------- */

static struct http_span trim(struct http_span v)
{
    while (v.len && (v.p[0] == ' ' || v.p[0] == '\t')) {
        v.p++;
        v.len--;
    }
    while (v.len && (v.p[v.len - 1] == ' ' || v.p[v.len - 1] == '\t'))
        v.len--;
    return v;
}

/* etagc of RFC 9110 §8.8.3: %x21 / %x23-7E / obs-text. */
static int is_etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/*
 * Reads one entity-tag at v.p[*i]: optional "W/", then a quoted opaque
 * part. Returns 0 with the opaque span and weak flag, -1 on bad syntax.
 */
static int read_etag(struct http_span v, size_t *i, struct http_span *opaque,
                     int *weak)
{
    *weak = 0;
    if (*i + 1 < v.len && v.p[*i] == 'W' && v.p[*i + 1] == '/') {
        *weak = 1;
        *i += 2;
    }
    if (*i >= v.len || v.p[*i] != '"')
        return -1;
    size_t s = ++*i;
    while (*i < v.len && is_etagc((unsigned char)v.p[*i]))
        (*i)++;
    if (*i >= v.len || v.p[*i] != '"')
        return -1;
    opaque->p = v.p + s;
    opaque->len = *i - s;
    (*i)++;
    return 0;
}

int http_if_match_parse(struct http_span v, char hex[65])
{
    v = trim(v);
    size_t i = 0;
    struct http_span opaque;
    int weak;
    if (read_etag(v, &i, &opaque, &weak) != 0 || i != v.len)
        return -1;
    if (weak || opaque.len != 64)
        return 0;
    for (size_t k = 0; k < 64; k++) {
        unsigned char c = (unsigned char)opaque.p[k];
        if (akvx_hexval(c) < 0)
            return 0;
        hex[k] = (char)lower(c);
    }
    hex[64] = '\0';
    return 1;
}

int http_if_none_match(struct http_span v, const char *sha)
{
    v = trim(v);
    if (v.len == 1 && v.p[0] == '*')
        return 1;
    size_t i = 0, n = strlen(sha);
    int found = 0, any = 0;
    while (i < v.len) {
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        if (i >= v.len)
            break;
        struct http_span opaque;
        int weak;
        if (read_etag(v, &i, &opaque, &weak) != 0)
            return -1;
        any = 1;
        if (opaque.len == n && memcmp(opaque.p, sha, n) == 0)
            found = 1;
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
            i++;
        if (i < v.len && v.p[i] != ',')
            return -1;
    }
    return any ? found : -1;
}

int http_is_star(struct http_span v)
{
    v = trim(v);
    return v.len == 1 && v.p[0] == '*';
}

int http_bearer(struct http_span v, struct http_span *token)
{
    v = trim(v);
    if (v.len < 7 || !SPAN_IEQ(((struct http_span){v.p, 6}), "bearer") ||
        v.p[6] != ' ')
        return -1;
    size_t i = 6;
    while (i < v.len && v.p[i] == ' ')
        i++;
    size_t s = i;
    while (i < v.len) {
        if (!(char_class[(unsigned char)v.p[i]] & CC_TOKEN68))
            break;
        i++;
    }
    while (i < v.len && v.p[i] == '=')
        i++;
    if (i == s || i != v.len)
        return -1;
    token->p = v.p + s;
    token->len = i - s;
    return 0;
}

/* ---- output helpers ---------------------------------------------------- */

size_t http_date(int64_t ms, char out[HTTP_DATE_BUF])
{
    static const char wd[7][4] = {"Sun", "Mon", "Tue", "Wed",
                                  "Thu", "Fri", "Sat"};
    static const char mn[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (ms < 0)
        ms = 0;
    int64_t secs = ms / 1000;
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    int weekday = (int)((days + 4) % 7); /* 1970-01-01 was a Thursday */
    long long y;
    int m, d;
    akvx_civil_date(days, &y, &m, &d);
    if (y > 9999)
        y = 9999;
    int hh = (int)(rem / 3600), mi = (int)(rem / 60 % 60), ss = (int)(rem % 60);
    char *o = out;
    memcpy(o, wd[weekday], 3);
    o += 3;
    *o++ = ',';
    *o++ = ' ';
    o = akvx_dec2(o, (unsigned)d);
    *o++ = ' ';
    memcpy(o, mn[m - 1], 3);
    o += 3;
    *o++ = ' ';
    o = akvx_dec2(o, (unsigned)(y / 100));
    o = akvx_dec2(o, (unsigned)(y % 100));
    *o++ = ' ';
    o = akvx_dec2(o, (unsigned)hh);
    *o++ = ':';
    o = akvx_dec2(o, (unsigned)mi);
    *o++ = ':';
    o = akvx_dec2(o, (unsigned)ss);
    memcpy(o, " GMT", 4);
    o += 4;
    *o = '\0';
    return (size_t)(o - out);
}

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}

/*
 * frontmatter.c — the front matter of instruction files: a "---" line,
 * `key: value` lines, a closing "---" line, then the body.
 *
 * This is deliberately a small, strict subset of YAML, described in
 * agentkv-instructions.h and docs/prompts.md: flat keys, one-line values,
 * optional double or single quotes, blank and comment lines. Anything
 * outside the subset (indentation, block scalars, a line without a colon) is
 * an error naming the file and line rather than a guess, because a guess
 * would seed an instruction under the wrong name or description without
 * anyone noticing. It does not interpret values (no numbers, booleans or
 * lists): callers take the strings they need.
 *
 * The whole text must be UTF-8, body included: an instruction is text an
 * agent reads, and the tokenizer's counts are only meaningful for text.
 */
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "internal.h"

struct fm_field {
    char *key;
    char *value;
    unsigned line;
};

struct akv_frontmatter {
    int present;
    size_t body;
    struct fm_field *fields;
    size_t count, cap;
};

void akv_frontmatter_free(akv_frontmatter *fm)
{
    if (fm == NULL)
        return;
    for (size_t i = 0; i < fm->count; i++) {
        free(fm->fields[i].key);
        free(fm->fields[i].value);
    }
    free(fm->fields);
    free(fm);
}

int akv_frontmatter_present(const akv_frontmatter *fm)
{
    return fm->present;
}

size_t akv_frontmatter_body_offset(const akv_frontmatter *fm)
{
    return fm->body;
}

size_t akv_frontmatter_count(const akv_frontmatter *fm)
{
    return fm->count;
}

int akv_frontmatter_field(const akv_frontmatter *fm, size_t i,
                          const char **key, const char **value,
                          unsigned *line)
{
    if (fm == NULL || i >= fm->count)
        return akv_fail(AKV_EINVAL, "front matter field %zu out of range", i);
    if (key)
        *key = fm->fields[i].key;
    if (value)
        *value = fm->fields[i].value;
    if (line)
        *line = fm->fields[i].line;
    return AKV_OK;
}

const char *akv_frontmatter_get(const akv_frontmatter *fm, const char *key)
{
    for (size_t i = 0; fm && key && i < fm->count; i++)
        if (strcmp(fm->fields[i].key, key) == 0)
            return fm->fields[i].value;
    return NULL;
}

/* ---- parsing ---------------------------------------------------------- */

/* One line of the text: [start, end) without its line ending; next is the
 * offset of the following line. */
struct line {
    size_t start, end, next;
};

static void line_at(const char *t, size_t len, size_t at, struct line *l)
{
    const char *nl = memchr(t + at, '\n', len - at);
    l->start = at;
    if (nl == NULL) {
        l->end = l->next = len;
        return;
    }
    l->next = (size_t)(nl - t) + 1;
    l->end = (size_t)(nl - t);
    if (l->end > at && t[l->end - 1] == '\r')
        l->end--;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A delimiter line: "---" and optional trailing blanks. */
static int is_delim(const char *t, const struct line *l)
{
    size_t e = l->end;
    while (e > l->start && is_blank(t[e - 1]))
        e--;
    return e - l->start == 3 && memcmp(t + l->start, "---", 3) == 0;
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static const char *src_name(const char *source)
{
    return source ? source : "<input>";
}

/* The line number of the first invalid UTF-8 sequence. Only called when the
 * text as a whole failed the check. */
static unsigned bad_utf8_line(const char *t, size_t len)
{
    unsigned n = 1;
    struct line l;
    for (size_t at = 0; at < len; at = l.next, n++) {
        line_at(t, len, at, &l);
        /* The line with its line ending: a stray byte before '\n' counts. */
        if (!akvx_utf8_valid(t + l.start, l.next - l.start))
            return n;
    }
    return n;
}

/* Decodes a quoted value v[0..n) (quotes included) into a new string. */
static int unquote(const char *v, size_t n, const char *source, unsigned ln,
                   char **out)
{
    char q = v[0];
    char *s = malloc(n + 1);
    if (s == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    size_t o = 0, i = 1;
    for (;;) {
        if (i >= n) {
            free(s);
            return akv_fail(AKV_EINVAL,
                            "%s:%u: front matter: unterminated %s-quoted "
                            "value",
                            src_name(source), ln,
                            q == '"' ? "double" : "single");
        }
        char c = v[i];
        if (c == q) {
            if (q == '\'' && i + 1 < n && v[i + 1] == '\'') {
                s[o++] = '\'';
                i += 2;
                continue;
            }
            break;
        }
        if (q == '"' && c == '\\') {
            char e = i + 1 < n ? v[i + 1] : '\0';
            const char *from = "\\\"ntr/", *to = "\\\"\n\t\r/";
            const char *p = e ? strchr(from, e) : NULL;
            if (p == NULL) {
                free(s);
                return akv_fail(AKV_EINVAL,
                                "%s:%u: front matter: unsupported escape "
                                "in a double-quoted value (use \\\\ \\\" "
                                "\\n \\t \\r \\/)",
                                src_name(source), ln);
            }
            s[o++] = to[p - from];
            i += 2;
            continue;
        }
        s[o++] = c;
        i++;
    }
    if (i + 1 != n) {
        free(s);
        return akv_fail(AKV_EINVAL,
                        "%s:%u: front matter: text after the closing quote",
                        src_name(source), ln);
    }
    s[o] = '\0';
    *out = s;
    return AKV_OK;
}

/* Parses one `key: value` line into fm. */
static int parse_field(akv_frontmatter *fm, const char *t,
                       const struct line *l, const char *source, unsigned ln)
{
    char shown[AKV_QUOTE_BUF];
    size_t p = l->start, e = l->end;
    for (size_t i = p; i < e; i++) {
        unsigned char c = (unsigned char)t[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return akv_fail(AKV_EINVAL,
                            "%s:%u: front matter: control character 0x%02x",
                            src_name(source), ln, c);
    }
    if (is_blank(t[p]))
        return akv_fail(AKV_EINVAL,
                        "%s:%u: front matter: indented line (nested values "
                        "and continuation lines are not supported; expected "
                        "'key: value')",
                        src_name(source), ln);
    size_t k = p;
    while (k < e && is_key_char(t[k]))
        k++;
    if (k == p || k == e || t[k] != ':' ||
        (k + 1 < e && !is_blank(t[k + 1])))
        return akv_fail(AKV_EINVAL,
                        "%s:%u: front matter: expected 'key: value', got "
                        "'%s'",
                        src_name(source), ln,
                        akv_quote(shown, t + p, e - p));
    size_t vs = k + 1, ve = e;
    while (vs < ve && is_blank(t[vs]))
        vs++;
    while (ve > vs && is_blank(t[ve - 1]))
        ve--;

    for (size_t i = 0; i < fm->count; i++)
        if (strlen(fm->fields[i].key) == k - p &&
            memcmp(fm->fields[i].key, t + p, k - p) == 0)
            return akv_fail(AKV_EINVAL,
                            "%s:%u: front matter: duplicate key '%s' (first "
                            "on line %u)",
                            src_name(source), ln,
                            akv_quote(shown, t + p, k - p),
                            fm->fields[i].line);

    char *value = NULL;
    int rc;
    if (vs < ve && (t[vs] == '"' || t[vs] == '\'')) {
        if ((rc = unquote(t + vs, ve - vs, source, ln, &value)) != AKV_OK)
            return rc;
    } else {
        if (vs < ve && (t[vs] == '|' || t[vs] == '>')) {
            size_t i = vs + 1;
            while (i < ve && (t[i] == '-' || t[i] == '+' ||
                              (t[i] >= '0' && t[i] <= '9')))
                i++;
            if (i == ve)
                return akv_fail(AKV_EINVAL,
                                "%s:%u: front matter: block scalars ('|', "
                                "'>') are not supported; write the value on "
                                "one line",
                                src_name(source), ln);
        }
        value = malloc(ve - vs + 1);
        if (value == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        memcpy(value, t + vs, ve - vs);
        value[ve - vs] = '\0';
    }
    char *key = malloc(k - p + 1);
    if (key == NULL) {
        free(value);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    memcpy(key, t + p, k - p);
    key[k - p] = '\0';
    if (fm->count == fm->cap) {
        size_t ncap = fm->cap ? fm->cap * 2 : 8;
        void *np = realloc(fm->fields, ncap * sizeof *fm->fields);
        if (np == NULL) {
            free(key);
            free(value);
            return akv_fail(AKV_ENOMEM, "out of memory");
        }
        fm->fields = np;
        fm->cap = ncap;
    }
    fm->fields[fm->count++] = (struct fm_field){key, value, ln};
    return AKV_OK;
}

int akv_frontmatter_parse(const char *text, size_t len, const char *source,
                          akv_frontmatter **out)
{
    akv_error_clear();
    if (out == NULL || (text == NULL && len != 0))
        return akv_fail(AKV_EINVAL, "front matter: NULL argument");
    *out = NULL;
    if (!akvx_utf8_valid(text, len))
        return akv_fail(AKV_EINVAL, "%s:%u: not valid UTF-8",
                        src_name(source), bad_utf8_line(text, len));
    akv_frontmatter *fm = calloc(1, sizeof *fm);
    if (fm == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");

    struct line l;
    if (len == 0) {
        *out = fm;
        return AKV_OK;
    }
    line_at(text, len, 0, &l);
    if (!is_delim(text, &l)) {
        *out = fm; /* no front matter: the body is the whole text */
        return AKV_OK;
    }
    fm->present = 1;
    unsigned ln = 1;
    int rc = AKV_OK;
    for (size_t at = l.next;; at = l.next) {
        ln++;
        if (at >= len) {
            rc = akv_fail(AKV_EINVAL,
                          "%s:1: front matter opened here is never closed "
                          "(no '---' line before the end of the file)",
                          src_name(source));
            break;
        }
        line_at(text, len, at, &l);
        if (is_delim(text, &l)) {
            fm->body = l.next;
            break;
        }
        size_t i = l.start;
        while (i < l.end && is_blank(text[i]))
            i++;
        if (i == l.end || text[i] == '#')
            continue; /* blank line or comment */
        if ((rc = parse_field(fm, text, &l, source, ln)) != AKV_OK)
            break;
    }
    if (rc != AKV_OK) {
        akv_frontmatter_free(fm);
        return rc;
    }
    *out = fm;
    return AKV_OK;
}

/*
 * split.c — akv_prompt_split: cuts a monolithic Markdown prompt into a core
 * and one instruction file per section (SPEC.md §6), and writes them.
 *
 * A section runs from an ATX heading of level <= N (up to three spaces,
 * 1–6 '#', then a blank or the end of the line) to the next such heading.
 * Lines inside ``` or ~~~ fences are never headings (CommonMark's rule: a
 * fence closes with the same character, at least as long, and nothing but
 * blanks after it; an unclosed fence runs to the end). Setext headings
 * (underlined with === or ---) are not cut at.
 *
 * The split is lossless by construction, together with prompt.c's inline
 * rendering: each instruction file is front matter followed by the
 * section's bytes verbatim (seed stores the body after the front matter),
 * and the core holds the text before the first heading, the kept sections
 * verbatim, and for every other section one marker line
 * `{{agentkv:include NAME}}` whose line ending is that of the section's
 * heading — or none when the section is the last and the file has no
 * final line break, since the builder adds the marker's line break after a
 * value that lacks one. Line endings (LF or CRLF) are never touched. A core
 * that would already contain a marker-looking line is refused, because the
 * builder would act on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentkv-instructions.h"
#include "internal.h"
#include "markers.h"

#define SLUG_MAX 56    /* leaves room for a "-NNN" collision suffix */
#define DESC_MAX 240   /* bytes of the first sentence kept */

struct sec {
    akv_split_section pub;
    size_t start, end;    /* byte range in the input */
    size_t head_end;      /* end of the heading line, without its ending */
    size_t head_next;     /* start of the line after the heading */
    char *strings[5];     /* owned: name, title, number, description, file */
};

struct akv_split {
    char *core;
    size_t core_len;
    struct sec *secs;
    size_t n;
    char *text; /* a copy of the input: bodies point into it */
};

const char *akv_split_core(const akv_split *s, size_t *len)
{
    if (len)
        *len = s->core_len;
    return s->core;
}

size_t akv_split_count(const akv_split *s)
{
    return s ? s->n : 0;
}

const akv_split_section *akv_split_section_get(const akv_split *s, size_t i)
{
    return s && i < s->n ? &s->secs[i].pub : NULL;
}

void akv_split_free(akv_split *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        for (int k = 0; k < 5; k++)
            free(s->secs[i].strings[k]);
    free(s->secs);
    free(s->core);
    free(s->text);
    free(s);
}

/* ---- lines, fences, headings ------------------------------------------- */

struct line {
    size_t start, end, next;
};

static void line_at(const char *t, size_t len, size_t at, struct line *l)
{
    const char *nl = memchr(t + at, '\n', len - at);
    l->start = at;
    l->next = nl ? (size_t)(nl - t) + 1 : len;
    l->end = nl ? (size_t)(nl - t) : len;
    if (l->end > l->start && t[l->end - 1] == '\r')
        l->end--;
}

static size_t indent(const char *t, const struct line *l)
{
    size_t i = l->start;
    while (i < l->end && t[i] == ' ')
        i++;
    return i - l->start;
}

/* A fence opening: returns its length and sets *ch, or 0. */
static size_t fence_open(const char *t, const struct line *l, char *ch)
{
    size_t ind = indent(t, l);
    if (ind > 3)
        return 0;
    size_t p = l->start + ind;
    if (p >= l->end || (t[p] != '`' && t[p] != '~'))
        return 0;
    char c = t[p];
    size_t n = 0;
    while (p + n < l->end && t[p + n] == c)
        n++;
    if (n < 3)
        return 0;
    if (c == '`' && memchr(t + p + n, '`', l->end - p - n))
        return 0; /* a backtick fence's info string has no backtick */
    *ch = c;
    return n;
}

static bool fence_close(const char *t, const struct line *l, char ch,
                        size_t len)
{
    size_t ind = indent(t, l);
    if (ind > 3)
        return false;
    size_t p = l->start + ind, n = 0;
    while (p + n < l->end && t[p + n] == ch)
        n++;
    if (n < len)
        return false;
    for (size_t i = p + n; i < l->end; i++)
        if (t[i] != ' ' && t[i] != '\t')
            return false;
    return true;
}

/* An ATX heading: returns its level (1–6) or 0. */
static int heading_level(const char *t, const struct line *l)
{
    size_t ind = indent(t, l);
    if (ind > 3)
        return 0;
    size_t p = l->start + ind, n = 0;
    while (p + n < l->end && t[p + n] == '#')
        n++;
    if (n < 1 || n > 6)
        return 0;
    if (p + n < l->end && t[p + n] != ' ' && t[p + n] != '\t')
        return 0;
    return (int)n;
}

/* The heading's text: without the '#'s, the optional closing sequence and
 * surrounding blanks. */
static char *heading_title(const char *t, const struct line *l)
{
    size_t p = l->start + indent(t, l);
    while (p < l->end && t[p] == '#')
        p++;
    size_t e = l->end;
    while (p < e && (t[p] == ' ' || t[p] == '\t'))
        p++;
    while (e > p && (t[e - 1] == ' ' || t[e - 1] == '\t'))
        e--;
    size_t h = e;
    while (h > p && t[h - 1] == '#')
        h--;
    if (h == p || t[h - 1] == ' ' || t[h - 1] == '\t') {
        e = h; /* a closing sequence */
        while (e > p && (t[e - 1] == ' ' || t[e - 1] == '\t'))
            e--;
    }
    return strndup(t + p, e - p);
}

/* The heading's leading number ("1", "1.2", "2.3.4"), with the rest of the
 * title in *rest. */
static char *heading_number(const char *title, const char **rest)
{
    size_t i = 0, last = 0;
    while (title[i] >= '0' && title[i] <= '9') {
        while (title[i] >= '0' && title[i] <= '9')
            i++;
        last = i;
        if (title[i] == '.' && title[i + 1] >= '0' && title[i + 1] <= '9')
            i++;
        else
            break;
    }
    if (last == 0) {
        *rest = title;
        return strdup("");
    }
    size_t after = last;
    if (title[after] == '.' || title[after] == ')')
        after++;
    if (title[after] != ' ' && title[after] != '\t' && title[after] != '\0') {
        *rest = title; /* "3D graphics" is a title, not a number */
        return strdup("");
    }
    while (title[after] == ' ' || title[after] == '\t')
        after++;
    *rest = title + after;
    return strndup(title, last);
}

/* [a-z0-9-] from the title: letters lower-cased, runs of anything else one
 * '-' (never leading or trailing, so the name is an Agent Skills name, which
 * seed requires); at most SLUG_MAX bytes. */
static char *slugify(const char *title)
{
    char buf[SLUG_MAX + 1];
    size_t n = 0;
    bool sep = false;
    for (const char *p = title; *p && n < SLUG_MAX; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (sep && n)
                buf[n++] = '-';
            if (n < SLUG_MAX)
                buf[n++] = c;
            sep = false;
        } else {
            sep = true;
        }
    }
    while (n && buf[n - 1] == '-')
        n--;
    buf[n] = '\0';
    return strdup(n ? buf : "section");
}

/* The longest prefix of s[0..n) that ends on a whole UTF-8 character (s
 * itself is valid UTF-8 cut anywhere). */
static size_t utf8_whole(const char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--;
    if (i == 0)
        return 0;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    return i - 1 + need <= n ? n : i - 1;
}

/* The first sentence of the section's first paragraph of prose (headings,
 * fences, tables and HTML lines skipped; list and quote markers removed;
 * lines joined with spaces). */
static char *first_sentence(const char *t, size_t from, size_t to)
{
    char *out = malloc(DESC_MAX + 8);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    bool in_fence = false, started = false, done = false;
    char fch = 0;
    size_t flen = 0;
    struct line l;
    for (size_t at = from; at < to && !done; at = l.next) {
        line_at(t, to, at, &l);
        char ch;
        size_t fl;
        if (in_fence) {
            if (fence_close(t, &l, fch, flen))
                in_fence = false;
            continue;
        }
        if ((fl = fence_open(t, &l, &ch)) != 0) {
            if (started)
                break;
            in_fence = true;
            fch = ch;
            flen = fl;
            continue;
        }
        size_t p = l.start, e = l.end;
        while (p < e && (t[p] == ' ' || t[p] == '\t'))
            p++;
        if (p == e) {
            if (started)
                break;
            continue;
        }
        if (heading_level(t, &l) || t[p] == '|' || t[p] == '<') {
            if (started)
                break;
            continue;
        }
        /* Block markers: quotes, bullets, ordered items. */
        while (p < e && t[p] == '>')
            for (p++; p < e && t[p] == ' '; p++)
                ;
        if (p + 1 < e && strchr("-*+", t[p]) && t[p + 1] == ' ')
            p += 2;
        else {
            size_t q = p;
            while (q < e && t[q] >= '0' && t[q] <= '9')
                q++;
            if (q > p && q + 1 < e && (t[q] == '.' || t[q] == ')') &&
                t[q + 1] == ' ')
                p = q + 2;
        }
        if (started && n < DESC_MAX)
            out[n++] = ' ';
        started = true;
        for (; p < e && n < DESC_MAX; p++) {
            char c = t[p];
            if (c == '\t')
                c = ' ';
            if (c == '*')
                continue; /* emphasis markers: *a*, **a**, __a__ */
            if (c == '_' && p + 1 < e && t[p + 1] == '_') {
                p++;
                continue;
            }
            if (c == ' ' && n && out[n - 1] == ' ')
                continue;
            out[n++] = c;
            if ((c == '.' || c == '!' || c == '?') &&
                (p + 1 == e || t[p + 1] == ' ')) {
                done = true;
                break;
            }
        }
        if (n >= DESC_MAX)
            break;
    }
    if (n >= DESC_MAX && !done) {
        /* Cut on a word and a UTF-8 boundary, and say so. */
        size_t cut = utf8_whole(out, n);
        for (size_t i = cut; i > DESC_MAX / 2; i--)
            if (out[i - 1] == ' ') {
                cut = i - 1;
                break;
            }
        n = cut;
        memcpy(out + n, "\xe2\x80\xa6", 3);
        n += 3;
    }
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    return out;
}

/* Appends s to a growing string. */

/* A double-quoted front matter value (the escapes frontmatter.c reads). */
static void sb_quoted(struct akv_buf *b, const char *s)
{
    akv_buf_str(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            char e[2] = {'\\', *s};
            akv_buf_add(b, e, 2);
        } else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            akv_buf_str(b, " ");
        } else {
            akv_buf_add(b, s, 1);
        }
    }
    akv_buf_str(b, "\"");
}

/* ---- --keep ------------------------------------------------------------- */

static bool keep_matches(const char *item, size_t len, const struct sec *s)
{
    const char *num = s->pub.number, *title = s->pub.title, *rest;
    size_t nl = strlen(num);
    /* "1.2" and "1.2." both name section 1.2. */
    size_t il = len && item[len - 1] == '.' ? len - 1 : len;
    if (nl && il == nl && memcmp(item, num, nl) == 0)
        return true;
    if (strlen(title) == len && strncasecmp(item, title, len) == 0)
        return true;
    char *tmp = heading_number(title, &rest);
    bool m = strlen(rest) == len && strncasecmp(item, rest, len) == 0;
    free(tmp);
    return m;
}

static int apply_keep(akv_split *sp, const char *keep, int level,
                      const char *source)
{
    char shown[AKV_QUOTE_BUF];
    for (const char *p = keep; p && *p;) {
        const char *comma = strchr(p, ',');
        const char *e = comma ? comma : p + strlen(p);
        const char *s = p;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if (t > s) {
            bool any = false;
            for (size_t i = 0; i < sp->n; i++)
                if (keep_matches(s, (size_t)(t - s), &sp->secs[i])) {
                    sp->secs[i].pub.kept = 1;
                    any = true;
                }
            if (!any)
                return akv_fail(AKV_EINVAL,
                                "%s: --keep '%s' matches no heading of level "
                                "<= %d (by title or number)",
                                source, akv_quote(shown, s, (size_t)(t - s)),
                                level);
        }
        p = comma ? comma + 1 : NULL;
    }
    return AKV_OK;
}

/* ---- the split ----------------------------------------------------------- */

/* Refuses marker-looking lines in [from, to), which will be in the core. */
static int check_no_markers(const char *t, size_t from, size_t to,
                            size_t first_line, const char *source)
{
    struct line l;
    size_t ln = first_line;
    for (size_t at = from; at < to; at = l.next, ln++) {
        line_at(t, to, at, &l);
        const char *name;
        size_t nlen;
        if (akv_marker_parse(t + l.start, l.end - l.start, &name, &nlen) !=
            AKV_MARKER_NONE)
            return akv_fail(AKV_EINVAL,
                            "%s:%zu: this line already looks like an agentkv "
                            "marker ({{agentkv:...}}), and the prompt "
                            "builder would replace it; change it before "
                            "splitting",
                            source, ln);
    }
    return AKV_OK;
}

static int make_file(struct sec *s, const char *t)
{
    struct akv_buf f = {0};
    /* The front matter takes the heading's line ending, so an editor sees
     * one style throughout. */
    bool crlf = s->head_next >= 2 && s->head_next > s->head_end &&
                t[s->head_next - 1] == '\n' && s->head_next - s->head_end == 2;
    const char *eol = crlf ? "\r\n" : "\n";
    akv_buf_str(&f, "---");
    akv_buf_str(&f, eol);
    akv_buf_str(&f, "name: ");
    akv_buf_str(&f, s->pub.name);
    akv_buf_str(&f, eol);
    akv_buf_str(&f, "description: ");
    sb_quoted(&f, s->pub.description);
    akv_buf_str(&f, eol);
    akv_buf_str(&f, "---");
    akv_buf_str(&f, eol);
    akv_buf_add(&f, s->pub.body, s->pub.body_len);
    if (f.oom) {
        free(f.p);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    s->strings[4] = f.p;
    s->pub.file = f.p;
    s->pub.file_len = f.len;
    return AKV_OK;
}

/* AKV_OK when text is UTF-8; else AKV_EINVAL naming the first bad line. */
static int check_utf8(const char *text, size_t len, const char *source)
{
    if (akvx_utf8_valid(text, len))
        return AKV_OK;
    struct line l;
    size_t ln = 1;
    for (size_t at = 0; at < len; at = l.next, ln++) {
        line_at(text, len, at, &l);
        if (!akvx_utf8_valid(text + l.start, l.next - l.start))
            break;
    }
    return akv_fail(AKV_EINVAL, "%s:%zu: not valid UTF-8", source, ln);
}

/* Step 1: one section per heading of level <= level outside code fences,
 * with its line, level and title. */
static int find_cuts(akv_split *sp, size_t len, int level)
{
    const char *t = sp->text;
    size_t cap = 0;
    bool in_fence = false;
    char fch = 0;
    size_t flen = 0;
    struct line l;
    unsigned ln = 1;
    for (size_t at = 0; at < len; at = l.next, ln++) {
        line_at(t, len, at, &l);
        char ch;
        size_t fl;
        if (in_fence) {
            if (fence_close(t, &l, fch, flen))
                in_fence = false;
            continue;
        }
        if ((fl = fence_open(t, &l, &ch)) != 0) {
            in_fence = true;
            fch = ch;
            flen = fl;
            continue;
        }
        int lv = heading_level(t, &l);
        if (lv == 0 || lv > level)
            continue;
        if (sp->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *p = realloc(sp->secs, ncap * sizeof *sp->secs);
            if (p == NULL)
                return akv_fail(AKV_ENOMEM, "out of memory");
            sp->secs = p;
            cap = ncap;
        }
        struct sec *s = &sp->secs[sp->n++];
        memset(s, 0, sizeof *s);
        s->start = l.start;
        s->head_end = l.end;
        s->head_next = l.next;
        s->pub.line = ln;
        s->pub.level = lv;
        if ((s->strings[1] = heading_title(t, &l)) == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        s->pub.title = s->strings[1];
    }
    return AKV_OK;
}

/* Step 2: each section runs to the next cut (the last to the end), and
 * carries its heading's number. */
static int bound_sections(akv_split *sp, size_t len)
{
    for (size_t i = 0; i < sp->n; i++) {
        struct sec *s = &sp->secs[i];
        s->end = i + 1 < sp->n ? sp->secs[i + 1].start : len;
        s->pub.body = sp->text + s->start;
        s->pub.body_len = s->end - s->start;
        const char *rest;
        if ((s->strings[2] = heading_number(s->pub.title, &rest)) == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        s->pub.number = s->strings[2];
    }
    return AKV_OK;
}

/* Step 3, for section i that leaves the core: its instruction name (a
 * unique slug of the title), its description and its file. */
static int name_section(akv_split *sp, size_t i)
{
    const char *t = sp->text;
    struct sec *s = &sp->secs[i];
    const char *rest;
    char *num = heading_number(s->pub.title, &rest);
    char *base = num ? slugify(*rest ? rest : s->pub.title) : NULL;
    free(num);
    if (base == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    /* Collisions: the second "overview" becomes "overview-2"; a title
     * whose own slug is taken that way gets the next free suffix. */
    char name[AKV_INSTRUCTION_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", base);
    for (unsigned k = 2;; k++) {
        bool taken = false;
        for (size_t j = 0; j < i && !taken; j++)
            taken = sp->secs[j].pub.name &&
                    strcmp(sp->secs[j].pub.name, name) == 0;
        if (!taken)
            break;
        snprintf(name, sizeof name, "%s-%u", base, k);
    }
    free(base);
    char *sentence = first_sentence(t, s->head_next, s->end);
    if ((s->strings[0] = strdup(name)) == NULL || sentence == NULL) {
        free(sentence);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    s->pub.name = s->strings[0];
    /* The description names the section without its number ("Billing
     * questions", not "3. Billing questions"): numbers mean nothing
     * once the section stands alone. */
    const char *label = *rest ? rest : s->pub.title;
    int rc;
    if (*sentence)
        rc = asprintf(&s->strings[3], "%s: %s", label, sentence) < 0
                 ? AKV_ENOMEM
                 : AKV_OK;
    else
        rc = (s->strings[3] = strdup(label)) ? AKV_OK : AKV_ENOMEM;
    free(sentence);
    if (rc != AKV_OK) {
        s->strings[3] = NULL;
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    s->pub.description = s->strings[3];
    return make_file(s, t);
}

/* Step 4: the core, the text with each section that left replaced by its
 * include marker. Neither the preamble nor a kept section may already hold
 * a marker. */
static int build_core(akv_split *sp, size_t len, const char *source)
{
    const char *t = sp->text;
    struct akv_buf core = {0};
    size_t first = sp->secs[0].start;
    int rc;
    if ((rc = check_no_markers(t, 0, first, 1, source)) != AKV_OK)
        return rc;
    akv_buf_add(&core, t, first);
    for (size_t i = 0; i < sp->n; i++) {
        struct sec *s = &sp->secs[i];
        if (s->pub.kept) {
            if ((rc = check_no_markers(t, s->start, s->end, s->pub.line,
                                       source)) != AKV_OK) {
                free(core.p);
                return rc;
            }
            akv_buf_add(&core, t + s->start, s->end - s->start);
            continue;
        }
        akv_buf_str(&core, "{{agentkv:include ");
        akv_buf_str(&core, s->pub.name);
        akv_buf_str(&core, "}}");
        /* The marker's line break: the heading's, unless the section ends
         * the file without one (then the value has none either). */
        bool last_open = s->end == len && (len == 0 || t[len - 1] != '\n');
        if (!last_open)
            akv_buf_add(&core, t + s->head_end, s->head_next - s->head_end);
    }
    if (core.oom || (core.p == NULL && (core.p = calloc(1, 1)) == NULL)) {
        free(core.p);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    sp->core = core.p;
    sp->core_len = core.len;
    return AKV_OK;
}

int akv_prompt_split(const char *text, size_t len, const char *source,
                     const akv_split_opts *opts, akv_split **out)
{
    akv_error_clear();
    if (out == NULL || (text == NULL && len))
        return akv_fail(AKV_EINVAL, "split: NULL argument");
    *out = NULL;
    if (source == NULL)
        source = "<input>";
    int level = opts && opts->level ? opts->level : 1;
    if (level < 1 || level > 6)
        return akv_fail(AKV_EINVAL, "--level %d: expected 1 to 6", level);
    int rc = check_utf8(text, len, source);
    if (rc != AKV_OK)
        return rc;

    akv_split *sp = calloc(1, sizeof *sp);
    if (sp == NULL || (sp->text = malloc(len ? len : 1)) == NULL) {
        free(sp);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    if (len)
        memcpy(sp->text, text, len);

    if ((rc = find_cuts(sp, len, level)) != AKV_OK)
        goto fail;
    if (sp->n == 0) {
        rc = akv_fail(AKV_EINVAL,
                      "%s: no heading of level <= %d outside code fences to "
                      "cut at",
                      source, level);
        goto fail;
    }
    if ((rc = bound_sections(sp, len)) != AKV_OK)
        goto fail;
    if (opts && (rc = apply_keep(sp, opts->keep, level, source)) != AKV_OK)
        goto fail;
    size_t moved = 0;
    for (size_t i = 0; i < sp->n; i++) {
        if (sp->secs[i].pub.kept)
            continue;
        moved++;
        if ((rc = name_section(sp, i)) != AKV_OK)
            goto fail;
    }
    if (moved == 0) {
        rc = akv_fail(AKV_EINVAL,
                      "%s: every section is kept: nothing to split out",
                      source);
        goto fail;
    }
    if ((rc = build_core(sp, len, source)) != AKV_OK)
        goto fail;
    *out = sp;
    return AKV_OK;
fail:
    akv_split_free(sp);
    return rc;
}

/* ---- writing ------------------------------------------------------------- */

static int write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return akv_fail(errno == EEXIST ? AKV_EINVAL : AKV_EUNAVAILABLE,
                        "cannot create %s: %s", path, strerror(errno));
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return akv_fail(AKV_EUNAVAILABLE, "cannot write %s: %s", path,
                            strerror(e));
        }
        off += (size_t)w;
    }
    if (close(fd) != 0)
        return akv_fail(AKV_EUNAVAILABLE, "cannot write %s: %s", path,
                        strerror(errno));
    return AKV_OK;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return AKV_OK;
        return akv_fail(AKV_EINVAL, "%s exists and is not a directory",
                        path);
    }
    return akv_fail(AKV_EUNAVAILABLE, "cannot create %s: %s", path,
                    strerror(errno));
}

int akv_split_write(const akv_split *sp, const char *dir)
{
    char path[4096];
    akv_error_clear();
    if (sp == NULL || dir == NULL || *dir == '\0')
        return akv_fail(AKV_EINVAL, "split: no output directory");
    int rc;
    /* mkdir -p for DIR itself (make_dir then checks it is a directory). */
    if (akvx_mkdir_p(dir, -1) != 0 && errno != ENOTDIR)
        return akv_fail(AKV_EUNAVAILABLE, "cannot create %s: %s", dir,
                        strerror(errno));
    if ((rc = make_dir(dir)) != AKV_OK)
        return rc;
    snprintf(path, sizeof path, "%s/core.md", dir);
    if (access(path, F_OK) == 0)
        return akv_fail(AKV_EINVAL,
                        "%s already exists: remove the old split or choose "
                        "another --out",
                        path);
    snprintf(path, sizeof path, "%s/instructions", dir);
    if ((rc = make_dir(path)) != AKV_OK)
        return rc;
    snprintf(path, sizeof path, "%s/instructions/*.md", dir);
    glob_t g;
    if (glob(path, 0, NULL, &g) == 0) {
        snprintf(path, sizeof path, "%s", g.gl_pathv[0]);
        globfree(&g);
        return akv_fail(AKV_EINVAL,
                        "%s already exists: remove the old split or choose "
                        "another --out",
                        path);
    }
    globfree(&g);
    for (size_t i = 0; i < sp->n; i++) {
        const akv_split_section *s = &sp->secs[i].pub;
        if (s->kept)
            continue;
        snprintf(path, sizeof path, "%s/instructions/%s.md", dir, s->name);
        if ((rc = write_file(path, s->file, s->file_len)) != AKV_OK)
            return rc;
    }
    snprintf(path, sizeof path, "%s/core.md", dir);
    return write_file(path, sp->core, sp->core_len);
}

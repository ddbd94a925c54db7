/*
 * split.c — akv_prompt_split: cuts a monolithic prompt into a core and one
 * instruction file per section (SPEC.md §6), and writes them.
 *
 * The text is read once into lines, with CommonMark's code fences marked:
 * a fence opens with three or more ` or ~ (up to three spaces of
 * indentation; a backtick fence's info string has no backtick) and closes
 * with the same character, at least as long, and nothing but blanks after
 * it; an unclosed fence runs to the end. Nothing inside a fence starts a
 * section. Then each form finds its candidate sections:
 *
 *   heading  ATX headings (1–6 '#', then a blank or the end of the line)
 *            and setext headings (a paragraph underlined with '=' for
 *            level 1, '-' for level 2), of level <= N.
 *   xml      top-level tag blocks: a line opening with <NAME …> (up to
 *            three spaces) to the line holding its matching </NAME>, same
 *            case, nesting of the same name counted. Text between blocks
 *            stays in the core.
 *   rule     a title line (short, alone in its paragraph) with a rule line
 *            (three or more of = - * _ # +) above it (blank lines allowed
 *            between), below it, or both. Levels follow the order in which
 *            each style (rule character above / below) first appears, as
 *            reStructuredText does.
 *   caps     a line after a blank line, a rule line or at the start, whose
 *            letters are all capitals: at least two, at most 80 bytes, not
 *            ending in . ! ? , ; and not a list item.
 *
 * A section with nothing but blank and rule lines after its title goes with
 * the next section when that one is deeper (a parent with its first child),
 * and otherwise stays in the core: no instruction set is content-free.
 *
 * The split is lossless by construction, together with prompt.c's inline
 * rendering: each instruction file is front matter followed by the
 * section's bytes verbatim (seed stores the body after the front matter),
 * and the core holds the text outside sections, the kept sections verbatim,
 * and for every other section one marker line `{{agentkv:include NAME}}`
 * whose line ending is the one that ends the section — none when the
 * section ends the file without a line break, since the builder adds the
 * marker's line break only after a value that lacks one. Line endings (LF
 * or CRLF) are never touched. A core that would already contain a
 * marker-looking line is refused, because the builder would act on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentkv-instructions.h"
#include "internal.h"
#include "markers.h"

#define DESC_MAX AKV_DESC_CONCISE /* bytes of a generated description */
#define SENTENCE_MAX 400    /* bytes of a first sentence collected */
#define TITLE_MAX 100       /* bytes of a title line in the rule form */
#define CAPS_MAX 80         /* bytes of an ALL-CAPS title line */
#define UNCLOSED_TAGS_MAX 16 /* unclosed tags warned about one by one */
#define FENCE_WARN_MAX 20   /* swallowed heading-like lines listed */

struct sec {
    akv_split_section pub;
    size_t start, end;   /* byte range in the input */
    size_t first, body;  /* line of the title; first line after it */
    size_t content;      /* byte where the section's own text starts */
    size_t content_end;  /* byte where it ends (XML: the closing tag) */
    char *name, *title, *number, *tag, *parent, *description, *file;
};

struct akv_split {
    char *core;
    size_t core_len;
    struct sec *secs;
    size_t n;
    akv_split_form form;
    char *text; /* a copy of the input: bodies point into it */
};

static const char *const form_names[] = {
    [AKV_SPLIT_AUTO] = "auto", [AKV_SPLIT_HEADING] = "heading",
    [AKV_SPLIT_XML] = "xml",   [AKV_SPLIT_RULE] = "rule",
    [AKV_SPLIT_CAPS] = "caps",
};

int akv_split_form_parse(const char *s, akv_split_form *out)
{
    for (size_t i = 0; s && i < sizeof form_names / sizeof *form_names; i++)
        if (strcmp(s, form_names[i]) == 0) {
            *out = (akv_split_form)i;
            return AKV_OK;
        }
    char shown[AKV_QUOTE_BUF];
    return akv_fail(AKV_EINVAL,
                    "--by '%s': expected auto, heading, xml, rule or caps",
                    s ? akv_quote(shown, s, strlen(s)) : "");
}

const char *akv_split_form_name(akv_split_form form)
{
    return (unsigned)form < sizeof form_names / sizeof *form_names
               ? form_names[form]
               : "unknown";
}

akv_split_form akv_split_get_form(const akv_split *s)
{
    return s ? s->form : AKV_SPLIT_AUTO;
}

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

static void sec_free(struct sec *s)
{
    free(s->name);
    free(s->title);
    free(s->number);
    free(s->tag);
    free(s->parent);
    free(s->description);
    free(s->file);
}

void akv_split_free(akv_split *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        sec_free(&s->secs[i]);
    free(s->secs);
    free(s->core);
    free(s->text);
    free(s);
}

/* Is c one of the characters of set? (Unlike strchr, never for '\0'.) */
static bool in_set(const char *set, char c)
{
    return c != '\0' && strchr(set, c) != NULL;
}

/* ---- lines and fences ---------------------------------------------------- */

struct line {
    size_t start, end, next; /* end excludes the line ending */
    size_t fence;            /* 0, or 1 + the fence that holds this line
                                (its delimiter lines included) */
};

struct fence {
    size_t open, close; /* line indexes; close == SIZE_MAX: never closed */
    bool prose;         /* no info string, or a Markdown/text one */
};

struct term {
    size_t at, len; /* the word's first occurrence in the text */
    unsigned count;
};

/* Words counted: an open-addressing table keyed by the lower-cased word. */
struct words {
    struct term *tab;
    size_t cap;
};

/* A string-keyed table (open addressing) of owned keys and a number. */
struct strtab {
    char **keys;
    unsigned *vals;
    size_t cap;
};

static int strtab_init(struct strtab *h, size_t n)
{
    h->cap = 16;
    while (h->cap < 2 * n + 16)
        h->cap *= 2;
    h->keys = calloc(h->cap, sizeof *h->keys);
    h->vals = calloc(h->cap, sizeof *h->vals);
    if (h->keys == NULL || h->vals == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    return AKV_OK;
}

static void strtab_free(struct strtab *h)
{
    for (size_t i = 0; h->keys && i < h->cap; i++)
        free(h->keys[i]);
    free(h->keys);
    free(h->vals);
}

/* The slot of key: where it is, or the empty slot where it would go. */
static size_t strtab_slot(const struct strtab *h, const char *key)
{
    uint32_t x = 2166136261u;
    for (const char *p = key; *p; p++)
        x = (x ^ (unsigned char)*p) * 16777619u;
    size_t i = x & (h->cap - 1);
    while (h->keys[i] && strcmp(h->keys[i], key) != 0)
        i = (i + 1) & (h->cap - 1);
    return i;
}

struct doc {
    const char *t;
    size_t len;
    struct line *lines;
    size_t nl;
    struct fence *fences;
    size_t nf;
    const char *source;
    const akv_split_opts *opts;
    size_t swallowed; /* heading-like lines in fences warned about */
    struct strtab taken, bases; /* names given; next suffix of each base */
    struct words all; /* the whole text's words, counted on first use */
};

static void warn(struct doc *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(struct doc *d, const char *fmt, ...)
{
    if (d->opts == NULL || d->opts->warn == NULL)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->opts->warn(d->opts->warn_arg, msg);
}

static size_t indent(const char *t, const struct line *l)
{
    size_t i = l->start;
    while (i < l->end && t[i] == ' ')
        i++;
    return i - l->start;
}

static bool blank(const char *t, const struct line *l)
{
    for (size_t i = l->start; i < l->end; i++)
        if (t[i] != ' ' && t[i] != '\t')
            return false;
    return true;
}

/* A fence opening: returns its length and sets *ch and *info (the info
 * string's start), or 0. */
static size_t fence_open(const char *t, const struct line *l, char *ch,
                         size_t *info)
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
    *info = p + n;
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

/* An info string naming no programming language: the fence probably holds
 * prose, where a heading-like line is worth a warning. */
static bool prose_info(const char *t, size_t p, size_t e)
{
    static const char *const prose[] = {"markdown", "md", "text", "txt",
                                        "prompt", "plain", NULL};
    while (p < e && (t[p] == ' ' || t[p] == '\t'))
        p++;
    size_t q = p;
    while (q < e && t[q] != ' ' && t[q] != '\t')
        q++;
    if (q == p)
        return true;
    for (const char *const *w = prose; *w; w++)
        if (strlen(*w) == q - p && strncasecmp(t + p, *w, q - p) == 0)
            return true;
    return false;
}

/* Splits the text into lines and marks the fences. */
static int scan_lines(struct doc *d)
{
    const char *t = d->t;
    size_t cap = 0, fcap = 0;
    bool in_fence = false;
    char fch = 0;
    size_t flen = 0;
    for (size_t at = 0; at < d->len;) {
        if (d->nl == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            void *p = realloc(d->lines, ncap * sizeof *d->lines);
            if (p == NULL)
                return akv_fail(AKV_ENOMEM, "out of memory");
            d->lines = p;
            cap = ncap;
        }
        struct line *l = &d->lines[d->nl];
        const char *nl = memchr(t + at, '\n', d->len - at);
        l->start = at;
        l->next = nl ? (size_t)(nl - t) + 1 : d->len;
        l->end = nl ? (size_t)(nl - t) : d->len;
        if (l->end > l->start && t[l->end - 1] == '\r')
            l->end--;
        l->fence = 0;
        char ch;
        size_t fl, info;
        if (in_fence) {
            l->fence = d->nf;
            if (fence_close(t, l, fch, flen)) {
                d->fences[d->nf - 1].close = d->nl;
                in_fence = false;
            }
        } else if ((fl = fence_open(t, l, &ch, &info)) != 0) {
            if (d->nf == fcap) {
                size_t ncap = fcap ? fcap * 2 : 16;
                void *p = realloc(d->fences, ncap * sizeof *d->fences);
                if (p == NULL)
                    return akv_fail(AKV_ENOMEM, "out of memory");
                d->fences = p;
                fcap = ncap;
            }
            d->fences[d->nf++] = (struct fence){
                .open = d->nl, .close = SIZE_MAX,
                .prose = prose_info(t, info, l->end)};
            l->fence = d->nf;
            in_fence = true;
            fch = ch;
            flen = fl;
        }
        d->nl++;
        at = l->next;
    }
    return AKV_OK;
}

/* ---- line shapes --------------------------------------------------------- */

/* An ATX heading: returns its level (1–6) or 0. */
static int atx_level(const char *t, const struct line *l)
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

/* The ATX heading's text: without the '#'s, the optional closing sequence
 * and surrounding blanks. */
static char *atx_title(const char *t, const struct line *l)
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

/* A rule line: three or more of one of = - * _ # + and trailing blanks,
 * up to three spaces of indentation. Returns the character or 0. */
static char rule_char(const char *t, const struct line *l)
{
    size_t ind = indent(t, l);
    if (ind > 3)
        return 0;
    size_t p = l->start + ind;
    if (p >= l->end || !in_set("=-*_#+", t[p]))
        return 0;
    char c = t[p];
    size_t n = 0;
    while (p + n < l->end && t[p + n] == c)
        n++;
    if (n < 3)
        return 0;
    for (size_t i = p + n; i < l->end; i++)
        if (t[i] != ' ' && t[i] != '\t')
            return 0;
    return c;
}

/* Starts a Markdown block other than a paragraph: list item, quote, table,
 * HTML, ATX heading, indented code. */
static bool block_start(const char *t, const struct line *l)
{
    size_t ind = indent(t, l);
    if (ind > 3)
        return true;
    size_t p = l->start + ind, e = l->end;
    if (p >= e)
        return false;
    char c = t[p];
    if (c == '>' || c == '|' || c == '<' || atx_level(t, l))
        return true;
    if (in_set("-*+", c) && (p + 1 == e || t[p + 1] == ' ' || t[p + 1] == '\t'))
        return true;
    size_t q = p;
    while (q < e && t[q] >= '0' && t[q] <= '9')
        q++;
    return q > p && q - p <= 9 && q < e && (t[q] == '.' || t[q] == ')') &&
           (q + 1 == e || t[q + 1] == ' ' || t[q + 1] == '\t');
}

/* A line that can continue (or start) a paragraph. */
static bool para_line(const struct doc *d, size_t i)
{
    const struct line *l = &d->lines[i];
    return l->fence == 0 && !blank(d->t, l) && !block_start(d->t, l) &&
           rule_char(d->t, l) == 0;
}

/* Trimmed copy of [p, e), without a trailing ':'. */
static char *trimmed(const char *t, size_t p, size_t e)
{
    while (p < e && (t[p] == ' ' || t[p] == '\t'))
        p++;
    while (e > p && (t[e - 1] == ' ' || t[e - 1] == '\t'))
        e--;
    if (e > p && t[e - 1] == ':')
        e--;
    while (e > p && (t[e - 1] == ' ' || t[e - 1] == '\t'))
        e--;
    return strndup(t + p, e - p);
}

/* An ALL-CAPS title line, whatever comes before it: at least two
 * capitals, no lower-case ASCII letter, not a list item or other block,
 * not ending like a sentence. */
static bool caps_text(const char *t, const struct line *l)
{
    if (indent(t, l) > 3 || block_start(t, l) || rule_char(t, l))
        return false;
    size_t p = l->start + indent(t, l), e = l->end;
    while (e > p && (t[e - 1] == ' ' || t[e - 1] == '\t'))
        e--;
    if (e <= p || e - p > CAPS_MAX || in_set(".!?,;", t[e - 1]))
        return false;
    size_t caps = 0;
    for (size_t k = p; k < e; k++) {
        if (t[k] >= 'a' && t[k] <= 'z')
            return false;
        caps += t[k] >= 'A' && t[k] <= 'Z';
    }
    return caps >= 2;
}

/* An ALL-CAPS title at line i: outside fences, after a blank line, a rule
 * line or the start. */
static bool caps_line(const struct doc *d, size_t i)
{
    return d->lines[i].fence == 0 && caps_text(d->t, &d->lines[i]) &&
           (i == 0 || blank(d->t, &d->lines[i - 1]) ||
            rule_char(d->t, &d->lines[i - 1]));
}

/* The end of a tag name starting at p: a letter or '_', then letters,
 * digits and _ . : - ; p itself when there is none. */
static size_t tag_name(const char *t, size_t p, size_t e)
{
    char c = p < e ? t[p] : 0;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'))
        return p;
    size_t q = p + 1;
    while (q < e && ((t[q] >= 'A' && t[q] <= 'Z') ||
                     (t[q] >= 'a' && t[q] <= 'z') ||
                     (t[q] >= '0' && t[q] <= '9') || in_set("_.:-", t[q])))
        q++;
    return q;
}

/* An opening tag at p: <NAME> or <NAME attr…> (no '<' in the attributes,
 * which keeps scanning linear), not </…> nor <…/>. Sets the name and the
 * byte after '>'. */
static bool open_tag(const char *t, size_t p, size_t e, size_t *name,
                     size_t *name_len, size_t *after)
{
    if (p >= e || t[p] != '<')
        return false;
    size_t q = tag_name(t, p + 1, e);
    if (q == p + 1 || q >= e || (t[q] != '>' && t[q] != ' ' && t[q] != '\t'))
        return false;
    size_t gt = q;
    while (gt < e && t[gt] != '>' && t[gt] != '<')
        gt++;
    if (gt >= e || t[gt] != '>' || t[gt - 1] == '/')
        return false;
    *name = p + 1;
    *name_len = q - p - 1;
    *after = gt + 1;
    return true;
}

/* ---- candidate sections -------------------------------------------------- */

struct cut {
    size_t first, body; /* first line; first line after the title */
    size_t head;        /* the title line */
    bool over;          /* rule form: a rule line above the title */
    size_t end_line;    /* XML: the line after the closing tag's; else 0 */
    size_t content, content_end; /* XML: the bytes inside the tags */
    int level;
    char *title, *tag;
};

struct cuts {
    struct cut *v;
    size_t n, cap;
    size_t covered; /* XML: non-blank lines inside blocks */
};

static void cuts_free(struct cuts *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].title);
        free(c->v[i].tag);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

static int cut_add(struct cuts *c, struct cut cut)
{
    if (cut.title == NULL) {
        free(cut.tag);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        void *p = realloc(c->v, ncap * sizeof *c->v);
        if (p == NULL) {
            free(cut.title);
            free(cut.tag);
            return akv_fail(AKV_ENOMEM, "out of memory");
        }
        c->v = p;
        c->cap = ncap;
    }
    c->v[c->n++] = cut;
    return AKV_OK;
}

static int find_headings(const struct doc *d, int level, struct cuts *c)
{
    const char *t = d->t;
    size_t para = SIZE_MAX; /* first line of the current paragraph */
    for (size_t i = 0; i < d->nl; i++) {
        const struct line *l = &d->lines[i];
        if (l->fence) {
            para = SIZE_MAX;
            continue;
        }
        int lv = atx_level(t, l);
        if (lv) {
            para = SIZE_MAX;
            if (lv <= level &&
                cut_add(c, (struct cut){.first = i, .body = i + 1,
                                        .level = lv,
                                        .title = atx_title(t, l)}))
                return AKV_ENOMEM;
            continue;
        }
        char rc = rule_char(t, l);
        if ((rc == '=' || rc == '-') && para != SIZE_MAX) {
            lv = rc == '=' ? 1 : 2; /* a setext underline */
            if (lv <= level) {
                struct akv_buf b = {0};
                for (size_t k = para; k < i; k++) {
                    char *part = trimmed(t, d->lines[k].start,
                                         d->lines[k].end);
                    if (part == NULL) {
                        free(b.p);
                        return akv_fail(AKV_ENOMEM, "out of memory");
                    }
                    if (b.len)
                        akv_buf_str(&b, " ");
                    akv_buf_str(&b, part);
                    free(part);
                }
                char *title = b.oom ? NULL : b.p ? b.p : strdup("");
                if (b.oom)
                    free(b.p);
                if (cut_add(c, (struct cut){.first = para, .body = i + 1,
                                            .level = lv, .title = title}))
                    return AKV_ENOMEM;
            }
            para = SIZE_MAX;
            continue;
        }
        if (para_line(d, i)) {
            if (para == SIZE_MAX)
                para = i;
        } else {
            para = SIZE_MAX;
        }
    }
    return AKV_OK;
}

/* A tag in the text, outside fences: an opening or a closing one. */
struct tag_ev {
    size_t at, name, nlen; /* the '<'; the name */
    const char *nm;        /* the name itself (for sorting) */
    size_t line;
    size_t after;          /* opening: the byte after its '>' */
    size_t match;          /* opening: its closing event + 1, or 0 */
    bool open, at_start;   /* opening tag first on its line */
};

static bool same_name(const struct tag_ev *x, const struct tag_ev *y)
{
    return x->nlen == y->nlen && memcmp(x->nm, y->nm, x->nlen) == 0;
}

/* By name, then by place in the text. */
static int cmp_ev(const void *a, const void *b)
{
    const struct tag_ev *x = *(struct tag_ev *const *)a,
                        *y = *(struct tag_ev *const *)b;
    size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
    int c = memcmp(x->nm, y->nm, n);
    if (c || x->nlen != y->nlen)
        return c ? c : x->nlen < y->nlen ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* Every tag outside fences, in text order. */
static int collect_tags(const struct doc *d, struct tag_ev **out, size_t *n)
{
    const char *t = d->t;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < d->nl; i++) {
        const struct line *l = &d->lines[i];
        if (l->fence)
            continue;
        size_t start = l->start + indent(t, l);
        for (size_t p = l->start; p < l->end; p++) {
            if (t[p] != '<')
                continue;
            struct tag_ev ev = {.at = p, .line = i};
            size_t q = p + 2;
            if (open_tag(t, p, l->end, &ev.name, &ev.nlen, &ev.after)) {
                ev.open = true;
                ev.at_start = p == start && indent(t, l) <= 3;
            } else if (q < l->end && t[p + 1] == '/' &&
                       (q = tag_name(t, q, l->end)) > p + 2) {
                /* "</NAME>", blanks allowed before the '>'. */
                ev.name = p + 2;
                ev.nlen = q - p - 2;
                while (q < l->end && (t[q] == ' ' || t[q] == '\t'))
                    q++;
                if (q >= l->end || t[q] != '>')
                    continue;
            } else {
                continue;
            }
            if (*n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                void *np = realloc(*out, ncap * sizeof **out);
                if (np == NULL) {
                    free(*out);
                    *out = NULL;
                    return akv_fail(AKV_ENOMEM, "out of memory");
                }
                *out = np;
                cap = ncap;
            }
            ev.nm = t + ev.name;
            (*out)[(*n)++] = ev;
        }
    }
    return AKV_OK;
}

/* Pairs each opening tag with its closing one: per name, in text order,
 * a closing tag closes the latest open one (what counting the depth of
 * that name from the opening tag gives). Sorting by name keeps it
 * O(n log n) whatever the nesting. */
static int match_tags(struct tag_ev *ev, size_t n)
{
    struct tag_ev **by = malloc((n ? n : 1) * sizeof *by);
    size_t *stack = malloc((n ? n : 1) * sizeof *stack);
    if (by == NULL || stack == NULL) {
        free(by);
        free(stack);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        by[i] = &ev[i];
    qsort(by, n, sizeof *by, cmp_ev);
    size_t depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && !same_name(by[i - 1], by[i]))
            depth = 0; /* a new name */
        if (by[i]->open)
            stack[depth++] = (size_t)(by[i] - ev);
        else if (depth)
            ev[stack[--depth]].match = (size_t)(by[i] - ev) + 1;
    }
    free(by);
    free(stack);
    return AKV_OK;
}

static int find_tags(struct doc *d, struct cuts *c, bool warnings)
{
    const char *t = d->t;
    struct tag_ev *ev;
    size_t n, unclosed = 0, resume = 0;
    int rc = collect_tags(d, &ev, &n);
    if (rc == AKV_OK)
        rc = match_tags(ev, n);
    for (size_t i = 0; rc == AKV_OK && i < n; i++) {
        const struct tag_ev *o = &ev[i];
        if (!o->open || !o->at_start || o->line < resume)
            continue;
        if (o->match == 0) {
            if (warnings && ++unclosed <= UNCLOSED_TAGS_MAX)
                warn(d,
                     "%s:%zu: <%.*s> is never closed (no matching </%.*s>), "
                     "so it is not a section",
                     d->source, o->line + 1, (int)o->nlen, t + o->name,
                     (int)o->nlen, t + o->name);
            continue;
        }
        const struct tag_ev *cl = &ev[o->match - 1];
        for (size_t k = o->line; k <= cl->line; k++)
            c->covered += !blank(t, &d->lines[k]);
        rc = cut_add(c, (struct cut){.first = o->line, .body = o->line + 1,
                                     .head = o->line,
                                     .end_line = cl->line + 1,
                                     .content = o->after,
                                     .content_end = cl->at, .level = 1,
                                     .title = strndup(t + o->name, o->nlen),
                                     .tag = strndup(t + o->name, o->nlen)});
        if (rc == AKV_OK && c->v[c->n - 1].tag == NULL)
            rc = akv_fail(AKV_ENOMEM, "out of memory");
        resume = cl->line + 1;
    }
    if (warnings && unclosed > UNCLOSED_TAGS_MAX)
        warn(d, "%s: %zu more tags at the start of a line are never closed",
             d->source, unclosed - UNCLOSED_TAGS_MAX);
    free(ev);
    return rc;
}

/* A title line for the rule form at line i: not blank, not a rule or list,
 * at most TITLE_MAX bytes, not ending like a sentence, and alone in its
 * paragraph (the next line is blank, a rule, or the end). */
static bool rule_title(const struct doc *d, size_t i)
{
    const char *t = d->t;
    const struct line *l = &d->lines[i];
    if (l->fence || blank(t, l) || rule_char(t, l) || indent(t, l) > 3)
        return false;
    size_t p = l->start + indent(t, l), e = l->end;
    while (e > p && (t[e - 1] == ' ' || t[e - 1] == '\t'))
        e--;
    if (e - p > TITLE_MAX || in_set(".,;", t[e - 1]) || t[p] == '<' ||
        t[p] == '|' || t[p] == '>')
        return false;
    if (block_start(t, l) && !atx_level(t, l))
        return false;
    return i + 1 == d->nl || blank(t, &d->lines[i + 1]) ||
           rule_char(t, &d->lines[i + 1]);
}

static int find_rules(const struct doc *d, int level, struct cuts *c)
{
    const char *t = d->t;
    unsigned short styles[32]; /* (above << 8 | below), first seen first */
    int nstyles = 0;
    for (size_t i = 0; i < d->nl; i++) {
        size_t first, title, body;
        char above = 0, below = 0;
        char rc = d->lines[i].fence ? 0 : rule_char(t, &d->lines[i]);
        if (rc) {
            /* A rule, then (after blank lines) a title. */
            size_t j = i + 1;
            while (j < d->nl && blank(t, &d->lines[j]) && !d->lines[j].fence)
                j++;
            if (j >= d->nl || !rule_title(d, j))
                continue;
            first = i;
            title = j;
            above = rc;
        } else if (rule_title(d, i) && i + 1 < d->nl &&
                   (i == 0 || blank(t, &d->lines[i - 1])) &&
                   (below = rule_char(t, &d->lines[i + 1])) != 0 &&
                   !d->lines[i + 1].fence) {
            first = title = i; /* a title underlined */
        } else {
            continue;
        }
        body = title + 1;
        if (title + 1 < d->nl && !d->lines[title + 1].fence &&
            (below = rule_char(t, &d->lines[title + 1])) != 0)
            body = title + 2;
        unsigned short key = (unsigned short)((unsigned char)above << 8 |
                                              (unsigned char)below);
        int lv = 0;
        for (int k = 0; k < nstyles && !lv; k++)
            if (styles[k] == key)
                lv = k + 1;
        if (!lv) {
            if (nstyles < (int)(sizeof styles / sizeof *styles))
                styles[nstyles++] = key;
            lv = nstyles;
        }
        if (lv > 6)
            lv = 6;
        const struct line *tl = &d->lines[title];
        char *name = atx_level(t, tl) ? atx_title(t, tl)
                                      : trimmed(t, tl->start, tl->end);
        if (lv <= level) {
            if (cut_add(c, (struct cut){.first = first, .body = body,
                                        .head = title, .over = above != 0,
                                        .level = lv,
                                        .title = name}))
                return AKV_ENOMEM;
        } else {
            free(name);
        }
        i = body - 1;
    }
    return AKV_OK;
}

static int find_caps(const struct doc *d, struct cuts *c)
{
    for (size_t i = 0; i < d->nl; i++)
        if (caps_line(d, i) &&
            cut_add(c, (struct cut){.first = i, .body = i + 1, .level = 1,
                                    .title = trimmed(d->t,
                                                     d->lines[i].start,
                                                     d->lines[i].end)}))
            return AKV_ENOMEM;
    return AKV_OK;
}

/* ---- fence warnings ----------------------------------------------------- */

/* Would line i start a section of this form, were it outside a fence? */
static bool heading_like(const struct doc *d, size_t i, akv_split_form form,
                         int level)
{
    const char *t = d->t;
    const struct line *l = &d->lines[i];
    size_t p = l->start + indent(t, l), n, nl, after;
    switch (form) {
    case AKV_SPLIT_XML:
        return indent(t, l) <= 3 && open_tag(t, p, l->end, &n, &nl, &after);
    case AKV_SPLIT_RULE:
        return rule_char(t, l) == '=';
    case AKV_SPLIT_CAPS:
        return caps_text(t, l) && blank(t, &d->lines[i - 1]);
    default: {
        int lv = atx_level(t, l);
        return lv && lv <= level;
    }
    }
}

static void warn_fences(struct doc *d, akv_split_form form, int level)
{
    for (size_t f = 0; f < d->nf; f++) {
        const struct fence *fe = &d->fences[f];
        bool open = fe->close == SIZE_MAX;
        if (open)
            warn(d,
                 "%s:%zu: this code fence is never closed, so everything "
                 "after it (to line %zu) is code and no section starts "
                 "there; close it with a matching fence line",
                 d->source, fe->open + 1, d->nl);
        if (!open && !fe->prose)
            continue;
        size_t end = open ? d->nl : fe->close;
        for (size_t i = fe->open + 1; i < end; i++) {
            if (!heading_like(d, i, form, level))
                continue;
            if (++d->swallowed <= FENCE_WARN_MAX) {
                const struct line *l = &d->lines[i];
                char shown[AKV_QUOTE_BUF];
                warn(d,
                     "%s:%zu: '%s' looks like a section start but is inside "
                     "the code fence opened at line %zu, so it is not cut "
                     "at",
                     d->source, i + 1,
                     akv_quote(shown, d->t + l->start, l->end - l->start),
                     fe->open + 1);
            }
        }
    }
    if (d->swallowed > FENCE_WARN_MAX)
        warn(d, "%s: %zu more section-like lines inside code fences",
             d->source, d->swallowed - FENCE_WARN_MAX);
}

/* ---- titles, names, descriptions ---------------------------------------- */

/* Skips what decorates the start of a title: blanks, ASCII punctuation,
 * emoji and other symbols (4-byte UTF-8, U+2000–U+2FFF, U+FE0F, and the
 * Latin-1 punctuation U+00A0–U+00BF). Letters of any script stay. */
static const char *skip_decoration(const char *s)
{
    for (;;) {
        unsigned char c = (unsigned char)*s;
        if (c == 0)
            return s;
        if (c < 0x80) {
            if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                (c >= 'A' && c <= 'Z'))
                return s;
            s++;
            continue;
        }
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        bool symbol = c >= 0xf0 || c == 0xe2 || c == 0xc2 ||
                      (c == 0xef && (unsigned char)s[1] == 0xb8 &&
                       (unsigned char)s[2] == 0x8f);
        if (!symbol)
            return s;
        for (size_t k = 0; k < n && *s; k++)
            s++;
    }
}

/* The title's leading number ("1", "1.2", "7.0"), after any decoration,
 * with the rest of the title (without decoration) in *rest. */
static char *title_number(const char *title, const char **rest)
{
    const char *s = skip_decoration(title);
    size_t i = 0, last = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        while (s[i] >= '0' && s[i] <= '9')
            i++;
        last = i;
        if (s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9')
            i++;
        else
            break;
    }
    if (last) {
        size_t after = last;
        if (s[after] == '.' || s[after] == ')' || s[after] == ':')
            after++;
        if (s[after] == ' ' || s[after] == '\t' || s[after] == '\0') {
            *rest = skip_decoration(s + after);
            return strndup(s, last);
        }
        /* "3D graphics" is a title, not a number */
    }
    *rest = s;
    return strdup("");
}

/* ASCII for the letters U+00C0–U+00FF; "" for × and ÷. */
static const char *const latin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i",
    "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "",  "o", "u",
    "u", "u", "u", "y", "th", "ss", "a", "a", "a", "a", "a", "a", "ae",
    "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n", "o", "o",
    "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y",
};

/* An Agent Skills name from the title: lower-case ASCII letters and digits
 * (Latin-1 letters transliterated), other runs one '-', no '-' at either
 * end, cut at a '-' to at most max bytes. NULL when nothing is left. */
static char *slugify(const char *title, size_t max)
{
    char buf[AKV_INSTRUCTION_NAME_MAX * 2 + 8];
    size_t n = 0;
    bool sep = false;
    for (const unsigned char *p = (const unsigned char *)title;
         *p && n < sizeof buf - 8; p++) {
        const char *out = NULL;
        char one[2] = {0, 0};
        if (*p >= 'A' && *p <= 'Z')
            one[0] = (char)(*p - 'A' + 'a');
        else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            one[0] = (char)*p;
        else if (*p == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf)
            out = latin1[*++p - 0x80];
        if (one[0])
            out = one;
        if (out == NULL || *out == '\0') {
            sep = true;
            continue;
        }
        if (sep && n)
            buf[n++] = '-';
        sep = false;
        for (; *out; out++)
            buf[n++] = *out;
    }
    if (n > max) {
        /* Cut at the last word boundary that fits; a single long word is
         * cut where it must. */
        size_t cut = max;
        while (cut > 0 && buf[cut] != '-')
            cut--;
        n = cut ? cut : max;
    }
    while (n && buf[n - 1] == '-')
        n--;
    return n ? strndup(buf, n) : NULL;
}

static const char *const stopwords[] = {
    "about", "above", "after", "again", "against", "also", "always", "another",
    "answer", "any", "anything", "because", "been", "before", "being", "below",
    "both", "cannot", "could", "does", "doing", "done", "down", "during",
    "each", "either", "else", "ensure", "even", "ever", "every", "example",
    "first", "follow", "following", "from", "further", "give", "have",
    "having", "here", "however", "into", "itself", "just", "keep", "know",
    "like", "make", "many", "more", "most", "much", "must", "need", "needs",
    "never", "next", "none", "only", "other", "otherwise", "over", "same",
    "should", "since", "some", "such", "sure", "than", "that", "their",
    "them", "then", "there", "these", "they", "thing", "things", "this",
    "those", "through", "under", "unless", "until", "upon", "used", "using",
    "very", "want", "were", "what", "when", "where", "whether", "which",
    "while", "will", "with", "within", "without", "would", "your", "yours",
    "youre", "dont", "the", "and", "for", "you", "are", "not", "can", "use",
    "task", "tasks", "user", "users", "please", "instead", "rather",
    "usually", "often", "already", "still", "known", "current", "explain",
    "times", "number", "says", "tell", "asks", "asked", "well", "good",
    "best", "case", "cases", "part", "kind", "lines", "line", "text", "both",
    "yourself", "something", "anyone", "someone", "says", "later", "once",
};

static bool stopword(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof stopwords / sizeof *stopwords; i++)
        if (strlen(stopwords[i]) == n && memcmp(stopwords[i], w, n) == 0)
            return true;
    return false;
}

/* The sentence's first-word case: "Refund rules" → "refund rules",
 * "TOOL USE" → "tool use"; "CLI tools" stays. */
static void topic_case(char *s)
{
    size_t up = 0, low = 0;
    for (char *p = s; *p; p++) {
        up += *p >= 'A' && *p <= 'Z';
        low += *p >= 'a' && *p <= 'z';
    }
    if (up >= 2 && low == 0) {
        for (char *p = s; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        return;
    }
    if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
        s[0] = (char)(s[0] - 'A' + 'a');
}

/* Lower-case ASCII word equality. */
static bool word_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((a[i] | 0x20) != (b[i] | 0x20))
            return false;
    return true;
}

static bool ascii_letter(char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* The slot of word t[p, p+n) in w (empty when absent). */
static struct term *word_slot(const struct words *w, const char *t, size_t p,
                              size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < n; k++)
        h = (h ^ (unsigned char)(t[p + k] | 0x20)) * 16777619u;
    for (size_t s = h & (w->cap - 1);; s = (s + 1) & (w->cap - 1))
        if (w->tab[s].len == 0 ||
            (w->tab[s].len == n && word_eq(t + w->tab[s].at, t + p, n)))
            return &w->tab[s];
}

/* Counts the words of four to 31 ASCII letters (not parts of longer words
 * in other scripts) in lines [first, last) clipped to bytes [from, to),
 * outside fences. */
static int count_words(const struct doc *d, size_t first, size_t last,
                       size_t from, size_t to, struct words *w)
{
    const char *t = d->t;
    w->cap = 64;
    while (w->cap < (to - from) / 4 + 64)
        w->cap *= 2;
    if ((w->tab = calloc(w->cap, sizeof *w->tab)) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    for (size_t i = first; i < last; i++) {
        const struct line *l = &d->lines[i];
        if (l->fence)
            continue;
        size_t p = l->start > from ? l->start : from;
        size_t e = l->end < to ? l->end : to;
        while (p < e) {
            while (p < e && !ascii_letter(t[p]))
                p++;
            size_t q = p;
            while (q < e && ascii_letter(t[q]))
                q++;
            size_t n = q - p;
            if (n >= 4 && n < 32 &&
                (p == 0 || (unsigned char)t[p - 1] < 0x80) &&
                (q == e || (unsigned char)t[q] < 0x80)) {
                struct term *x = word_slot(w, t, p, n);
                if (x->len == 0)
                    *x = (struct term){.at = p, .len = n};
                x->count++;
            }
            p = q;
        }
    }
    return AKV_OK;
}

/* Is w (or its stem) a word of the topic? */
static bool in_topic(const char *topic, const char *w, size_t n)
{
    for (const char *p = topic; *p;) {
        while (*p && !ascii_letter(*p))
            p++;
        const char *q = p;
        while (*q && ascii_letter(*q))
            q++;
        size_t m = (size_t)(q - p), k = m < n ? m : n;
        if (k >= 4 && word_eq(p, w, k))
            return true;
        p = q;
    }
    return false;
}

/* Up to three key terms of the section: words of four or more ASCII
 * letters, outside fences, not stop words nor words of the topic, used at
 * least twice in the section and mostly there (more than half of their
 * uses in the whole text); most used first, then first used. Appended as
 * "a, b, c". */
static int key_terms(struct doc *d, size_t first, size_t last, size_t from,
                     size_t to, const char *topic, struct akv_buf *out)
{
    const char *t = d->t;
    if (d->all.tab == NULL &&
        count_words(d, 0, d->nl, 0, d->len, &d->all) != AKV_OK)
        return AKV_ENOMEM;
    struct words sec;
    if (count_words(d, first, last, from, to, &sec) != AKV_OK)
        return AKV_ENOMEM;
    struct term best[3] = {{0}};
    for (size_t s = 0; s < sec.cap; s++) {
        struct term x = sec.tab[s];
        char w[32];
        if (x.count < 2)
            continue;
        for (size_t k = 0; k < x.len; k++)
            w[k] = (char)(t[x.at + k] | 0x20);
        if (stopword(w, x.len) || in_topic(topic, w, x.len) ||
            2 * x.count <= word_slot(&d->all, t, x.at, x.len)->count)
            continue;
        for (int k = 0; k < 3; k++)
            if (x.count > best[k].count ||
                (x.count == best[k].count && best[k].count &&
                 x.at < best[k].at)) {
                struct term y = best[k];
                best[k] = x;
                x = y;
            }
    }
    free(sec.tab);
    for (int k = 0; k < 3 && best[k].count; k++) {
        if (k)
            akv_buf_str(out, ", ");
        for (size_t i = 0; i < best[k].len; i++) {
            char c = (char)(t[best[k].at + i] | 0x20);
            akv_buf_add(out, &c, 1);
        }
    }
    return AKV_OK;
}

/* A checklist item's start: "[ ]", "[x]", "[X]". */
static bool checkbox(const char *t, size_t p, size_t e)
{
    return p + 2 < e && t[p] == '[' && in_set(" xX", t[p + 1]) &&
           t[p + 2] == ']';
}

/*
 * The section's first instruction: the first sentence of its first
 * paragraph of prose. Headings, rules, fences, tables, HTML lines and
 * checklist items are skipped; each list item or quote counts as a
 * paragraph of its own, so items are never glued together; a paragraph
 * that only leads in to something (ends with ':') is skipped too. Emphasis
 * markers go; the sentence ends with . ! or ? (one is added). Empty when
 * there is none.
 */
static int first_instruction(const struct doc *d, size_t first, size_t last,
                             size_t from, size_t to, struct akv_buf *out)
{
    const char *t = d->t;
    char buf[SENTENCE_MAX + 4];
    size_t n = 0;
    bool done = false;
    for (size_t i = first; i < last && !done; i++) {
        const struct line *l = &d->lines[i];
        size_t p = l->start > from ? l->start : from;
        size_t e = l->end < to ? l->end : to;
        while (p < e && (t[p] == ' ' || t[p] == '\t'))
            p++;
        bool item = false;
        bool skip = l->fence || p >= e || atx_level(t, l) ||
                    rule_char(t, l) || t[p] == '|' || t[p] == '<';
        if (!skip) {
            while (p < e && t[p] == '>') {
                item = true;
                for (p++; p < e && t[p] == ' '; p++)
                    ;
            }
            size_t q = p;
            while (q < e && t[q] >= '0' && t[q] <= '9')
                q++;
            if (p + 1 < e && in_set("-*+", t[p]) && t[p + 1] == ' ') {
                p += 2;
                item = true;
            } else if (q > p && q + 1 < e && (t[q] == '.' || t[q] == ')') &&
                       t[q + 1] == ' ') {
                p = q + 2;
                item = true;
            }
            while (p < e && t[p] == ' ')
                p++;
            skip = checkbox(t, p, e) || p >= e;
        }
        /* A paragraph ends at a skipped line and before a new item. */
        if ((skip || item) && n) {
            if (buf[n - 1] == ':')
                n = 0; /* a lead-in: look further */
            else
                break;
        }
        if (skip)
            continue;
        if (n && n < SENTENCE_MAX)
            buf[n++] = ' ';
        for (; p < e && n < SENTENCE_MAX; p++) {
            char c = t[p];
            if (c == '\t')
                c = ' ';
            if (c == '*')
                continue; /* emphasis markers: *a*, **a**, __a__ */
            if (c == '_' && p + 1 < e && t[p + 1] == '_') {
                p++;
                continue;
            }
            if (c == ' ' && n && buf[n - 1] == ' ')
                continue;
            buf[n++] = c;
            if ((c == '.' || c == '!' || c == '?') &&
                (p + 1 == e || t[p + 1] == ' ')) {
                done = true;
                break;
            }
        }
        if (n >= SENTENCE_MAX)
            n = 0; /* a run-on text is no usable sentence */
    }
    while (n && buf[n - 1] == ' ')
        n--;
    if (n && buf[n - 1] == ':')
        n = 0;
    if (n == 0)
        return AKV_OK;
    akv_buf_add(out, buf, n);
    if (!in_set(".!?", buf[n - 1]))
        akv_buf_str(out, ".");
    return AKV_OK;
}

/*
 * The description: when to load the set, in the section's own words —
 * "Load when the task involves <title> (<key terms>). <first
 * instruction>" — within DESC_MAX bytes: the key terms go first, then the
 * instruction, when it would not fit.
 */
static int describe(struct doc *d, struct sec *s, const char *label)
{
    char topic[TITLE_MAX + 4];
    size_t tl = strlen(label);
    if (tl > TITLE_MAX) {
        tl = TITLE_MAX;
        while (tl > 0 && label[tl] != ' ')
            tl--;
        if (tl == 0) /* one long word: cut on a character boundary */
            for (tl = TITLE_MAX;
                 tl > 0 && ((unsigned char)label[tl] & 0xc0) == 0x80;)
                tl--;
    }
    memcpy(topic, label, tl);
    topic[tl] = '\0';
    while (tl && in_set(".:!?;, ", topic[tl - 1]))
        topic[--tl] = '\0';
    if (s->tag)
        for (char *p = topic; *p; p++)
            if (*p == '_' || *p == '-')
                *p = ' ';
    topic_case(topic);
    const char *what = *topic ? topic : "this section";
    tl = strlen(what);

    size_t last = s->pub.last_line; /* one past the section's last line */
    struct akv_buf terms = {0}, sentence = {0}, out = {0};
    int rc = key_terms(d, s->body - (s->tag != NULL), last, s->content,
                       s->content_end, what, &terms);
    if (rc == AKV_OK)
        rc = first_instruction(d, s->body - (s->tag != NULL), last,
                               s->content, s->content_end, &sentence);
    if (rc != AKV_OK || terms.oom || sentence.oom) {
        free(terms.p);
        free(sentence.p);
        return rc != AKV_OK ? rc : akv_fail(AKV_ENOMEM, "out of memory");
    }
    size_t head = strlen("Load when the task involves .") + tl;
    size_t with_terms = terms.len ? head + terms.len + 3 : head;
    size_t sl = sentence.len ? sentence.len + 1 : 0;
    bool use_terms = terms.len && with_terms <= DESC_MAX;
    bool use_sentence = sl && (use_terms ? with_terms : head) + sl <= DESC_MAX;
    if (sl && !use_sentence && use_terms && head + sl <= DESC_MAX) {
        use_terms = false; /* the instruction says more than the terms */
        use_sentence = true;
    }
    akv_buf_str(&out, "Load when the task involves ");
    akv_buf_str(&out, what);
    if (use_terms) {
        akv_buf_str(&out, " (");
        akv_buf_add(&out, terms.p, terms.len);
        akv_buf_str(&out, ")");
    }
    akv_buf_str(&out, ".");
    if (use_sentence) {
        akv_buf_str(&out, " ");
        akv_buf_add(&out, sentence.p, sentence.len);
    }
    free(terms.p);
    free(sentence.p);
    if (out.oom) {
        free(out.p);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    s->description = out.p;
    s->pub.description = out.p;
    return AKV_OK;
}

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

static bool title_matches(const char *item, size_t len, const char *title)
{
    if (title == NULL)
        return false;
    if (strlen(title) == len && strncasecmp(item, title, len) == 0)
        return true;
    const char *rest;
    char *num = title_number(title, &rest);
    bool m = strlen(rest) == len && strncasecmp(item, rest, len) == 0;
    if (!m && num && *num) {
        /* "1.2" and "1.2." both name section 1.2. */
        size_t il = len && item[len - 1] == '.' ? len - 1 : len;
        m = strlen(num) == il && memcmp(item, num, il) == 0;
    }
    free(num);
    return m;
}

static bool keep_matches(const char *item, size_t len, const struct sec *s)
{
    if (s->tag) {
        /* A tag, with or without its angle brackets. */
        const char *it = item;
        size_t il = len;
        if (il >= 2 && it[0] == '<' && it[il - 1] == '>') {
            it++;
            il -= 2;
        }
        if (strlen(s->tag) == il && memcmp(it, s->tag, il) == 0)
            return true;
    }
    return title_matches(item, len, s->title) ||
           title_matches(item, len, s->parent);
}

static int apply_keep(akv_split *sp, const char *keep, const char *source)
{
    char shown[AKV_QUOTE_BUF];
    const char *s;
    size_t len;
    for (const char *p = keep; akvx_list_next(&p, &s, &len);) {
        if (len == 0)
            continue;
        bool any = false;
        for (size_t i = 0; i < sp->n; i++)
            if (keep_matches(s, len, &sp->secs[i])) {
                sp->secs[i].pub.kept = 1;
                any = true;
            }
        if (!any)
            return akv_fail(AKV_EINVAL,
                            "%s: --keep '%s' matches no section (by title, "
                            "number or tag) of the %s form",
                            source, akv_quote(shown, s, len),
                            akv_split_form_name(sp->form));
    }
    return AKV_OK;
}

/* ---- the split ----------------------------------------------------------- */

/* Refuses marker-looking lines in lines [first, last), which will be in the
 * core. */
static int check_no_markers(const struct doc *d, size_t first, size_t last)
{
    for (size_t i = first; i < last; i++) {
        const struct line *l = &d->lines[i];
        const char *name;
        size_t nlen;
        if (akv_marker_parse(d->t + l->start, l->end - l->start, &name,
                             &nlen) != AKV_MARKER_NONE)
            return akv_fail(AKV_EINVAL,
                            "%s:%zu: this line already looks like an agentkv "
                            "marker ({{agentkv:...}}), and the prompt "
                            "builder would replace it; change it before "
                            "splitting",
                            d->source, i + 1);
    }
    return AKV_OK;
}

static int make_file(struct sec *s, const struct doc *d)
{
    struct akv_buf f = {0};
    /* The front matter takes the first line's line ending, so an editor
     * sees one style throughout. */
    const struct line *l = &d->lines[s->first];
    const char *eol = l->next - l->end == 2 ? "\r\n" : "\n";
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
    s->file = f.p;
    s->pub.file = f.p;
    s->pub.file_len = f.len;
    return AKV_OK;
}

/* AKV_OK when text is UTF-8; else AKV_EINVAL naming the first bad line. */
static int check_utf8(const struct doc *d)
{
    if (akvx_utf8_valid(d->t, d->len))
        return AKV_OK;
    size_t ln = 1;
    for (size_t i = 0; i < d->nl; i++, ln++) {
        const struct line *l = &d->lines[i];
        if (!akvx_utf8_valid(d->t + l->start, l->next - l->start))
            break;
    }
    return akv_fail(AKV_EINVAL, "%s:%zu: not valid UTF-8", d->source, ln);
}

/* The headings that are not the title of a rule-form section with a rule
 * above it, of any level (a setext heading under a rule line, an ATX
 * heading after one): those that the heading form finds and the rule form
 * misses, or finds only as a Markdown heading would be. */
static size_t own_headings(const struct doc *d, const struct cuts *h,
                           int *rc)
{
    struct cuts r = {0};
    if ((*rc = find_rules(d, 6, &r)) != AKV_OK)
        return 0;
    size_t own = 0, j = 0;
    for (size_t i = 0; i < h->n; i++) {
        while (j < r.n && r.v[j].head < h->v[i].first)
            j++;
        own += j == r.n || r.v[j].head != h->v[i].first || !r.v[j].over;
    }
    cuts_free(&r);
    return own;
}

/* Chooses the form (see akv_prompt_split()) and fills *c with its cuts. */
static int choose(struct doc *d, akv_split_form by, int level,
                  struct cuts *c, akv_split_form *form)
{
    struct cuts all[5] = {{0}};
    int rc = AKV_OK;
    for (int f = AKV_SPLIT_HEADING; f <= AKV_SPLIT_CAPS && rc == AKV_OK;
         f++) {
        if (by != AKV_SPLIT_AUTO && (int)by != f)
            continue;
        if (f == AKV_SPLIT_HEADING)
            rc = find_headings(d, level, &all[f]);
        else if (f == AKV_SPLIT_XML)
            rc = find_tags(d, &all[f], by == AKV_SPLIT_XML);
        else if (f == AKV_SPLIT_RULE)
            rc = find_rules(d, level, &all[f]);
        else
            rc = find_caps(d, &all[f]);
    }
    akv_split_form pick = by;
    if (rc == AKV_OK && by == AKV_SPLIT_AUTO) {
        size_t nonblank = 0;
        for (size_t i = 0; i < d->nl; i++)
            nonblank += !blank(d->t, &d->lines[i]);
        if (all[AKV_SPLIT_XML].n >= 2 &&
            2 * all[AKV_SPLIT_XML].covered > nonblank)
            pick = AKV_SPLIT_XML;
        else if (all[AKV_SPLIT_HEADING].n || all[AKV_SPLIT_RULE].n)
            pick = all[AKV_SPLIT_RULE].n >
                           own_headings(d, &all[AKV_SPLIT_HEADING], &rc)
                       ? AKV_SPLIT_RULE
                       : AKV_SPLIT_HEADING;
        else if (all[AKV_SPLIT_CAPS].n)
            pick = AKV_SPLIT_CAPS;
        else if (all[AKV_SPLIT_XML].n)
            pick = AKV_SPLIT_XML;
        else
            pick = AKV_SPLIT_HEADING;
        if (pick == AKV_SPLIT_XML) {
            /* Again, now with the warnings about unclosed tags. */
            cuts_free(&all[AKV_SPLIT_XML]);
            rc = find_tags(d, &all[AKV_SPLIT_XML], true);
        }
    }
    if (rc == AKV_OK) {
        warn_fences(d, pick, level);
        *c = all[pick];
        memset(&all[pick], 0, sizeof all[pick]);
        *form = pick;
        if (c->n == 0) {
            if (by == AKV_SPLIT_AUTO)
                rc = akv_fail(AKV_EINVAL,
                              "%s: no section to cut at: no Markdown heading "
                              "of level <= %d, top-level XML tag, "
                              "rule-delimited or ALL-CAPS title outside code "
                              "fences",
                              d->source, level);
            else
                rc = akv_fail(AKV_EINVAL,
                              "%s: no section of the %s form (level <= %d) "
                              "outside code fences to cut at",
                              d->source, akv_split_form_name(pick), level);
        }
    }
    for (int f = 0; f < 5; f++)
        cuts_free(&all[f]);
    return rc;
}

/* Is a section of lines [body, end) free of content: only blank and rule
 * lines (XML: only blanks between the tags)? */
static bool content_free(const struct doc *d, const struct sec *s)
{
    if (s->tag) {
        for (size_t p = s->content; p < s->content_end; p++)
            if (!in_set(" \t\r\n", d->t[p]))
                return false;
        return true;
    }
    for (size_t i = s->body; i < s->pub.last_line; i++) {
        const struct line *l = &d->lines[i];
        if (l->fence || !(blank(d->t, l) || rule_char(d->t, l)))
            return false;
    }
    return true;
}

/* Turns the cuts into sections (taking their strings), each running to the
 * next cut or, for XML, to its closing tag; then merges or keeps the
 * content-free ones. */
static int make_sections(akv_split *sp, const struct doc *d, struct cuts *c)
{
    if ((sp->secs = calloc(c->n, sizeof *sp->secs)) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->n; i++) {
        struct cut *k = &c->v[i];
        struct sec *s = &sp->secs[sp->n++];
        size_t end_line = k->end_line ? k->end_line
                          : i + 1 < c->n ? c->v[i + 1].first
                                         : d->nl;
        s->first = k->first;
        s->body = k->body;
        s->start = d->lines[k->first].start;
        s->end = end_line < d->nl ? d->lines[end_line].start : d->len;
        s->content = k->tag ? k->content : s->start;
        s->content_end = k->tag ? k->content_end : s->end;
        s->title = k->title;
        s->tag = k->tag;
        k->title = k->tag = NULL;
        s->pub.title = s->title;
        s->pub.tag = s->tag ? s->tag : "";
        s->pub.line = (unsigned)(k->first + 1);
        s->pub.last_line = (unsigned)end_line;
        s->pub.level = k->level;
    }
    size_t w = 0; /* sections kept so far, compacted in place */
    for (size_t i = 0; i < sp->n; i++) {
        struct sec *s = &sp->secs[i];
        struct sec *next = i + 1 < sp->n ? &sp->secs[i + 1] : NULL;
        if (content_free(d, s)) {
            if (next == NULL || next->start != s->end ||
                next->pub.level <= s->pub.level || s->tag) {
                s->pub.kept = s->pub.empty = 1;
            } else {
                /* The parent goes with its first child. */
                next->start = s->start;
                next->first = s->first;
                next->pub.line = s->pub.line;
                next->content = s->start;
                next->parent = s->parent ? s->parent : s->title;
                if (s->parent)
                    free(s->title);
                s->parent = s->title = NULL;
                sec_free(s);
                continue;
            }
        }
        sp->secs[w++] = *s;
    }
    sp->n = w;
    for (size_t i = 0; i < sp->n; i++) {
        struct sec *s = &sp->secs[i];
        s->pub.body = sp->text + s->start;
        s->pub.body_len = s->end - s->start;
        const char *rest;
        if ((s->number = title_number(s->title, &rest)) == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        s->pub.number = s->number;
    }
    return AKV_OK;
}

/* For section i that leaves the core: its instruction name (a unique slug
 * of the title), its description and its file. */
static int name_section(akv_split *sp, struct doc *d, size_t i)
{
    struct sec *s = &sp->secs[i];
    const char *rest;
    char *num = title_number(s->title, &rest);
    if (num == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    free(num);
    const char *label = *rest ? rest : s->title;
    /* Collisions: the second "overview" becomes "overview-2", its base cut
     * shorter when the suffix would not fit; every candidate is checked
     * against every name given so far, and each base remembers its last
     * suffix, so that many equal titles cost no more than distinct ones. */
    char name[AKV_INSTRUCTION_NAME_MAX + 1];
    char *full = slugify(label, AKV_INSTRUCTION_NAME_MAX);
    if (full == NULL && (full = strdup("section")) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    size_t bs = strtab_slot(&d->bases, full);
    unsigned k = d->bases.keys[bs] ? d->bases.vals[bs] + 1 : 1;
    for (;; k++) {
        char suffix[16] = "";
        if (k > 1)
            snprintf(suffix, sizeof suffix, "-%u", k);
        char *base = slugify(label, AKV_INSTRUCTION_NAME_MAX - strlen(suffix));
        snprintf(name, sizeof name, "%s%s", base ? base : "section", suffix);
        free(base);
        if (d->taken.keys[strtab_slot(&d->taken, name)] == NULL)
            break;
    }
    size_t ts = strtab_slot(&d->taken, name);
    if (d->bases.keys[bs] == NULL)
        d->bases.keys[bs] = full;
    else
        free(full);
    d->bases.vals[bs] = k;
    if ((d->taken.keys[ts] = strdup(name)) == NULL ||
        (s->name = strdup(name)) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    s->pub.name = s->name;
    int rc = describe(d, s, label);
    return rc != AKV_OK ? rc : make_file(s, d);
}

/* The core: the text outside sections, kept sections verbatim, and one
 * include marker per section that left. Nothing that stays may already
 * hold a marker. */
static int build_core(akv_split *sp, const struct doc *d)
{
    const char *t = sp->text;
    struct akv_buf core = {0};
    size_t line = 0, at = 0;
    int rc;
    for (size_t i = 0; i <= sp->n; i++) {
        struct sec *s = i < sp->n ? &sp->secs[i] : NULL;
        size_t upto = s ? s->first : d->nl;
        /* The text between sections (or before the first, after the
         * last). */
        if ((rc = check_no_markers(d, line, upto)) != AKV_OK)
            break;
        size_t gap_end = s ? s->start : d->len;
        akv_buf_add(&core, t + at, gap_end - at);
        if (s == NULL)
            break;
        line = s->pub.last_line;
        at = s->end;
        if (s->pub.kept) {
            if ((rc = check_no_markers(d, s->first, line)) != AKV_OK)
                break;
            akv_buf_add(&core, t + s->start, s->end - s->start);
            continue;
        }
        akv_buf_str(&core, "{{agentkv:include ");
        akv_buf_str(&core, s->pub.name);
        akv_buf_str(&core, "}}");
        /* The marker's line break: the one that ends the section (none
         * when the section ends the file without one). */
        const struct line *l = &d->lines[line - 1];
        akv_buf_add(&core, t + l->end, l->next - l->end);
    }
    if (rc == AKV_OK &&
        (core.oom || (core.p == NULL && (core.p = calloc(1, 1)) == NULL)))
        rc = akv_fail(AKV_ENOMEM, "out of memory");
    if (rc != AKV_OK) {
        free(core.p);
        return rc;
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
    int level = opts && opts->level ? opts->level : 1;
    if (level < 1 || level > 6)
        return akv_fail(AKV_EINVAL, "--level %d: expected 1 to 6", level);
    akv_split_form by = opts ? opts->by : AKV_SPLIT_AUTO;
    if ((unsigned)by > AKV_SPLIT_CAPS)
        return akv_fail(AKV_EINVAL, "split: unknown form %d", (int)by);

    akv_split *sp = calloc(1, sizeof *sp);
    if (sp == NULL || (sp->text = malloc(len ? len : 1)) == NULL) {
        free(sp);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    if (len)
        memcpy(sp->text, text, len);
    struct doc d = {.t = sp->text, .len = len,
                    .source = source ? source : "<input>", .opts = opts};
    struct cuts c = {0};
    int rc;
    if ((rc = scan_lines(&d)) != AKV_OK || (rc = check_utf8(&d)) != AKV_OK ||
        (rc = choose(&d, by, level, &c, &sp->form)) != AKV_OK ||
        (rc = make_sections(sp, &d, &c)) != AKV_OK)
        goto fail;
    if (opts && (rc = apply_keep(sp, opts->keep, d.source)) != AKV_OK)
        goto fail;
    size_t moved = 0;
    if ((rc = strtab_init(&d.taken, sp->n)) != AKV_OK ||
        (rc = strtab_init(&d.bases, sp->n)) != AKV_OK)
        goto fail;
    for (size_t i = 0; i < sp->n; i++) {
        if (sp->secs[i].pub.kept)
            continue;
        moved++;
        if ((rc = name_section(sp, &d, i)) != AKV_OK)
            goto fail;
    }
    if (moved == 0) {
        rc = akv_fail(AKV_EINVAL,
                      "%s: every section is kept or has no content: nothing "
                      "to split out",
                      d.source);
        goto fail;
    }
    if ((rc = build_core(sp, &d)) != AKV_OK)
        goto fail;
    cuts_free(&c);
    free(d.lines);
    free(d.fences);
    free(d.all.tab);
    strtab_free(&d.taken);
    strtab_free(&d.bases);
    *out = sp;
    return AKV_OK;
fail:
    cuts_free(&c);
    free(d.lines);
    free(d.fences);
    free(d.all.tab);
    strtab_free(&d.taken);
    strtab_free(&d.bases);
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

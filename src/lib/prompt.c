/*
 * prompt.c — akv_prompt_build: a system prompt from a base text and the
 * instruction sets a sandbox sees (SPEC.md §6), in one of three modes:
 * inline (every set's text in the prompt: the baseline), reference (a
 * catalog the agent fetches sets from) and hybrid (some inlined, the rest
 * in the catalog).
 *
 * Rendering rules (also in agentkv-instructions.h and docs/prompts.md):
 *   - a base line `{{agentkv:include NAME}}` is replaced, when NAME is
 *     inlined, by NAME's body verbatim (the value after its front matter,
 *     if it opens with some), followed by the marker line's own
 *     line break only if the value does not end in one; otherwise the line
 *     is dropped. This is what makes split + seed + inline build lossless;
 *   - `{{agentkv:catalog}}` (or the end of the base, after a blank line)
 *     receives the "tail": the inlined sets that have no marker, in name
 *     order, then the catalog; blocks are separated by a blank line;
 *   - the catalog is sorted by name and made only of the store's data
 *     (name, version, tokens, description): no clock, no randomness, so the
 *     same store always gives the same bytes and provider prompt caches
 *     keep hitting.
 *
 * The catalog uses the token counts seed stored in each entry's metadata,
 * so reference mode reads no value and does not load the tokenizer unless a
 * budget or a report asks for counts. A budget (of catalog tokens) is met
 * by measuring, never by estimating, and any positive budget is met:
 * descriptions are cut to a common length found by binary search over real
 * token counts (down to MIN_DESC bytes); then whole sets are left out, the
 * last in name order first, keeping the most that fit; the catalog then
 * ends with one note line saying how many sets it shortened or left out
 * and that search_instructions (`agentkv search`) finds them. With no set
 * listed the catalog is that note alone, and when even the note does not
 * fit, its longest prefix that does (possibly empty). The same store and
 * budget always give the same bytes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentkv-instructions.h"
#include "agentkv-tokens.h"
#include "internal.h"
#include "markers.h"

/* Descriptions are never cut below this many bytes before a set is left
 * out of the catalog. */
#define MIN_DESC 32
/* Longest note the budget adds to the catalog (bytes, line break included). */
#define NOTE_MAX 255

static const char catalog_head[] =
    "## Instruction sets\n"
    "\n"
    "These sets are not in this prompt. Before a task that one covers, load "
    "it with the get_instruction call on its line and follow it. Each line "
    "gives the call, version, size in tokens and when to load it.\n"
    "\n";

/* The head when some sets are MCP skills (akv_prompt_opts.is_skill). */
static const char catalog_head_skills[] =
    "## Instruction sets\n"
    "\n"
    "These sets are not in this prompt. Before a task that one covers, load "
    "it and follow it: a line that names a skill:// URI is an MCP skill, "
    "loaded by reading that resource (its other files are listed by "
    "skills/get); any other line gives the get_instruction call that loads "
    "it. Each line gives the skill or call, version, size in tokens and "
    "when to load it.\n"
    "\n";

int akv_prompt_mode_parse(const char *s, size_t len, akv_prompt_mode *out)
{
    static const char *names[] = {"reference", "hybrid", "inline"};
    for (int i = 0; s && i < 3; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            *out = (akv_prompt_mode)i;
            return AKV_OK;
        }
    char shown[AKV_QUOTE_BUF];
    return akv_fail(AKV_EINVAL,
                    "invalid mode '%s': expected inline, hybrid or reference",
                    akv_quote(shown, s, s ? len : 0));
}

const char *akv_prompt_mode_name(akv_prompt_mode mode)
{
    switch (mode) {
    case AKV_PROMPT_REFERENCE: return "reference";
    case AKV_PROMPT_HYBRID: return "hybrid";
    case AKV_PROMPT_INLINE: return "inline";
    }
    return "unknown";
}

void akv_prompt_opts_init(akv_prompt_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = AKV_PROMPT_REFERENCE;
}

int akv_prompt_opts_set_mode(akv_prompt_opts *o, const char *mode,
                             const char *inline_names)
{
    akv_error_clear();
    if (mode) {
        int rc = akv_prompt_mode_parse(mode, strlen(mode), &o->mode);
        if (rc != AKV_OK)
            return rc;
    } else {
        o->mode = inline_names && *inline_names ? AKV_PROMPT_HYBRID
                                                : AKV_PROMPT_REFERENCE;
    }
    o->inline_names = inline_names;
    return AKV_OK;
}

/* ---- a growable buffer -------------------------------------------------- */


static bool ends_with(const struct akv_buf *b, const char *s)
{
    size_t n = strlen(s);
    return b->len >= n && memcmp(b->p + b->len - n, s, n) == 0;
}

/* Ends the text so far with a blank line (nothing when it is empty). */
static void blank_line(struct akv_buf *b)
{
    if (b->len == 0)
        return;
    if (!ends_with(b, "\n"))
        akv_buf_str(b, "\n");
    if (!ends_with(b, "\n\n"))
        akv_buf_str(b, "\n");
}

static const char *buf_text(struct akv_buf *b)
{
    return b->p ? b->p : "";
}

/* ---- the build ----------------------------------------------------------- */

struct set {
    const akv_instruction *it;
    bool marked;  /* the base has an include marker for it */
    bool inlined; /* inlined in the requested build */
    size_t keep_rank; /* place in the order sets stay listed under a
                         budget (rank_sets); SIZE_MAX when inlined */
    char *body;   /* value, once loaded */
    size_t body_len;
    bool loaded;
    bool skill;   /* served as an MCP skill (opts.is_skill) */
};

struct line {
    size_t start, end, next; /* end excludes the line ending */
    enum akv_marker kind;
    size_t set;              /* include: index into sets */
};

struct build {
    akv_store *store;
    const char *sandbox;
    const akv_prompt_opts *opts;
    char *base;
    size_t base_len;
    struct line *lines;
    size_t nlines;
    bool has_catalog_marker;
    akv_instructions *list;
    struct set *sets;
    size_t nsets;
    const akv_encoding *enc;
};

struct akv_prompt {
    char *text;
    size_t len;
    akv_prompt_info info;
};

const char *akv_prompt_text(const akv_prompt *p, size_t *len)
{
    if (len)
        *len = p->len;
    return p->text;
}

const akv_prompt_info *akv_prompt_get_info(const akv_prompt *p)
{
    return &p->info;
}

void akv_prompt_free(akv_prompt *p)
{
    if (p == NULL)
        return;
    free(p->text);
    free(p);
}

static const char *base_name(const struct build *b)
{
    if (b->opts->base_name)
        return b->opts->base_name;
    return b->opts->base_key ? b->opts->base_key : "base";
}

static int find_set(const struct build *b, const char *name, size_t len)
{
    size_t lo = 0, hi = b->nsets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = b->sets[mid].it->name;
        size_t kl = strlen(k);
        int c = memcmp(k, name, kl < len ? kl : len);
        if (c == 0)
            c = (kl > len) - (kl < len);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int load_base(struct build *b)
{
    const akv_prompt_opts *o = b->opts;
    if (o->base && o->base_key)
        return akv_fail(AKV_EINVAL, "give a base text or a base key, not "
                                    "both");
    const char *src = o->base;
    size_t len = o->base_len;
    akv_value *v = NULL;
    if (o->base_key) {
        int rc = akv_get(b->store, b->sandbox, AKV_SCOPE_SYSTEM, o->base_key,
                         strlen(o->base_key), &v);
        if (rc != AKV_OK) {
            char msg[sizeof akv_last_error()->message];
            snprintf(msg, sizeof msg, "%s", akv_last_error()->message);
            return akv_fail(rc, "base key: %s", msg);
        }
        src = akv_value_data(v, &len);
    }
    b->base = malloc(len + 1);
    if (b->base == NULL) {
        akv_value_release(v);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    if (len)
        memcpy(b->base, src, len);
    b->base[len] = '\0';
    b->base_len = len;
    akv_value_release(v);
    return AKV_OK;
}

/* Splits the base into lines and resolves its markers. */
static int scan_base(struct build *b)
{
    size_t cap = 0, catalog_line = 0;
    const char *t = b->base;
    unsigned ln = 0;
    for (size_t at = 0; at < b->base_len; ln++) {
        if (b->nlines == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            void *p = realloc(b->lines, ncap * sizeof *b->lines);
            if (p == NULL)
                return akv_fail(AKV_ENOMEM, "out of memory");
            b->lines = p;
            cap = ncap;
        }
        struct line *l = &b->lines[b->nlines++];
        const char *nl = memchr(t + at, '\n', b->base_len - at);
        l->start = at;
        l->next = nl ? (size_t)(nl - t) + 1 : b->base_len;
        l->end = nl ? (size_t)(nl - t) : b->base_len;
        at = l->next;
        const char *name;
        size_t name_len;
        char shown[AKV_QUOTE_BUF];
        l->kind = akv_marker_parse(t + l->start, l->end - l->start, &name,
                                   &name_len);
        switch (l->kind) {
        case AKV_MARKER_NONE:
            break;
        case AKV_MARKER_BAD:
            return akv_fail(AKV_EINVAL,
                            "%s:%u: unknown agentkv marker '%s' (expected "
                            "{{agentkv:include NAME}} or "
                            "{{agentkv:catalog}})",
                            base_name(b), ln + 1,
                            akv_quote(shown, t + l->start,
                                      l->end - l->start));
        case AKV_MARKER_CATALOG:
            if (b->has_catalog_marker)
                return akv_fail(AKV_EINVAL,
                                "%s:%u: a second catalog marker (the first "
                                "is on line %zu)",
                                base_name(b), ln + 1, catalog_line);
            b->has_catalog_marker = true;
            catalog_line = ln + 1;
            break;
        case AKV_MARKER_INCLUDE: {
            int i = find_set(b, name, name_len);
            if (i < 0)
                return akv_fail(AKV_ENOTFOUND,
                                "%s:%u: includes '%s', which is not an "
                                "instruction set of sandbox %s%s",
                                base_name(b), ln + 1,
                                akv_quote(shown, name, name_len), b->sandbox,
                                b->opts->only ? " among those the build is "
                                                "limited to"
                                              : "");
            if (b->sets[i].marked)
                return akv_fail(AKV_EINVAL,
                                "%s:%u: '%s' is included a second time",
                                base_name(b), ln + 1, b->sets[i].it->name);
            b->sets[i].marked = true;
            l->set = (size_t)i;
            break;
        }
        }
    }
    return AKV_OK;
}

/* Keeps only the sets named in a comma-separated list (opts.only), in
 * their name order; a name that is not a visible set is AKV_ENOTFOUND. */
static int restrict_sets(struct build *b, const char *names)
{
    char shown[AKV_QUOTE_BUF];
    bool *keep = calloc(b->nsets + 1, sizeof *keep);
    if (keep == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    const char *s;
    size_t len;
    for (const char *p = names; akvx_list_next(&p, &s, &len);) {
        if (len == 0)
            continue;
        int i = find_set(b, s, len);
        if (i < 0) {
            free(keep);
            return akv_fail(AKV_ENOTFOUND,
                            "set '%s' (of the manifest or --only) is not an "
                            "instruction set of sandbox %s",
                            akv_quote(shown, s, len), b->sandbox);
        }
        keep[i] = true;
    }
    size_t k = 0;
    for (size_t i = 0; i < b->nsets; i++)
        if (keep[i])
            b->sets[k++] = b->sets[i];
    b->nsets = k;
    free(keep);
    return AKV_OK;
}

/* Marks the sets named in a comma-separated list as inlined. */
static int pick_inline(struct build *b, const char *names)
{
    char shown[AKV_QUOTE_BUF];
    const char *s;
    size_t len;
    for (const char *p = names; akvx_list_next(&p, &s, &len);) {
        if (len == 0)
            continue;
        int i = find_set(b, s, len);
        if (i < 0)
            return akv_fail(AKV_ENOTFOUND,
                            "inline set '%s' is not an instruction set of "
                            "sandbox %s",
                            akv_quote(shown, s, len), b->sandbox);
        b->sets[i].inlined = true;
    }
    return AKV_OK;
}

static int load_body(struct build *b, struct set *s)
{
    if (s->loaded)
        return AKV_OK;
    akv_value *v;
    int rc = akv_get(b->store, b->sandbox, AKV_SCOPE_INSTRUCTIONS,
                     s->it->name, strlen(s->it->name), &v);
    if (rc != AKV_OK)
        return rc;
    size_t len;
    const char *data = akv_value_data(v, &len);
    /* The body after the front matter, which describes the set (the
     * catalog carries it) and is not instruction text; a value without
     * front matter, or whose opening lines are not front matter, is
     * inlined whole. */
    akv_frontmatter *fm = NULL;
    if (akv_frontmatter_parse(data, len, s->it->name, &fm) == AKV_OK &&
        akv_frontmatter_present(fm)) {
        size_t off = akv_frontmatter_body_offset(fm);
        data += off;
        len -= off;
    }
    akv_frontmatter_free(fm);
    akv_error_clear();
    s->body = malloc(len ? len : 1);
    if (s->body == NULL) {
        akv_value_release(v);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    memcpy(s->body, data, len);
    s->body_len = len;
    s->loaded = true;
    akv_value_release(v);
    return AKV_OK;
}

/* ---- the catalog --------------------------------------------------------- */

/* Length of d cut to at most cap bytes: on a UTF-8 boundary, at a space when
 * one is in the second half, without trailing blanks or separators. */
static size_t cut_len(const char *d, size_t len, size_t cap)
{
    if (len <= cap)
        return len;
    size_t cut = cap;
    while (cut > 0 && ((unsigned char)d[cut] & 0xc0) == 0x80)
        cut--;
    for (size_t i = cut; i > cap / 2; i--)
        if (d[i] == ' ') {
            cut = i;
            break;
        }
    while (cut > 0 && strchr(" \t,;:-", d[cut - 1]))
        cut--;
    return cut;
}

/* One fitting of the catalog: descriptions cut to cap bytes, the first
 * `keep` sets of the keep order listed (the rest left out), and, when the
 * note alone is too long, the note cut to note_len bytes. */
struct fit {
    size_t cap, keep, note_len;
};

/* The closing line when the budget shortened or left out anything. */
static void budget_note(char *note, size_t size, uint64_t budget,
                        size_t shortened, size_t left_out)
{
    if (left_out == 0)
        snprintf(note, size,
                 "(Budget %llu tokens: %zu description%s shortened; "
                 "list_instructions has them in full.)\n",
                 (unsigned long long)budget, shortened,
                 shortened == 1 ? "" : "s");
    else
        snprintf(note, size,
                 "(Budget %llu tokens: %zu set%s not listed%s; find them "
                 "with search_instructions or `agentkv search`.)\n",
                 (unsigned long long)budget, left_out,
                 left_out == 1 ? "" : "s",
                 shortened ? ", some descriptions shortened" : "");
}

/* Renders the catalog of the sets not inlined, cut as f says: listed sets in
 * name order, then the note when anything was cut. With no set listed the
 * catalog is the note alone, cut to f->note_len bytes when that is less. */
static void render_catalog(const struct build *b, const struct fit *f,
                           uint64_t budget, struct akv_buf *out,
                           size_t *shortened, size_t *left_out)
{
    size_t m = 0, listed = 0;
    *shortened = *left_out = 0;
    for (size_t i = 0; i < b->nsets; i++)
        if (!b->sets[i].inlined) {
            m++;
            if (b->sets[i].keep_rank < f->keep) {
                listed++;
                const char *d = b->sets[i].it->description;
                size_t dl = strlen(d);
                *shortened += cut_len(d, dl, f->cap) < dl;
            }
        }
    if (m == 0)
        return;
    *left_out = m - listed;
    if (listed) {
        bool skills = false;
        for (size_t i = 0; i < b->nsets; i++)
            skills |= !b->sets[i].inlined && b->sets[i].keep_rank < f->keep &&
                      b->sets[i].skill;
        akv_buf_str(out, skills ? catalog_head_skills : catalog_head);
        for (size_t i = 0; i < b->nsets; i++) {
            const struct set *s = &b->sets[i];
            if (s->inlined || s->keep_rank >= f->keep)
                continue;
            char head[AKV_KEY_MAX + 96];
            const char *fmt =
                s->skill ? "- skill://%s/SKILL.md (v%llu, %llu tokens)"
                         : "- get_instruction(\"%s\") (v%llu, %llu tokens)";
            snprintf(head, sizeof head, fmt, s->it->name,
                     (unsigned long long)s->it->version,
                     (unsigned long long)s->it->tokens);
            akv_buf_str(out, head);
            const char *d = s->it->description;
            size_t dl = strlen(d);
            if (dl) {
                size_t cl = cut_len(d, dl, f->cap);
                akv_buf_str(out, ": ");
                akv_buf_add(out, d, cl);
                if (cl < dl)
                    akv_buf_str(out, "\xe2\x80\xa6"); /* U+2026 ellipsis */
            }
            akv_buf_str(out, "\n");
        }
    }
    if (*shortened || *left_out) {
        char note[NOTE_MAX + 1];
        budget_note(note, sizeof note, budget, *shortened, *left_out);
        size_t nl = strlen(note);
        if (listed) {
            akv_buf_str(out, "\n");
        } else if (f->note_len < nl) {
            nl = f->note_len;
            while (nl > 0 && ((unsigned char)note[nl] & 0xc0) == 0x80)
                nl--;
        }
        akv_buf_add(out, note, nl);
    }
}

static int count_tokens(struct build *b, const char *text, size_t len,
                        uint64_t *out)
{
    int rc;
    if (b->enc == NULL && (rc = akv_encoding_load(NULL, &b->enc)) != AKV_OK)
        return rc;
    size_t n;
    if ((rc = akv_tokens_count(b->enc, text, len, &n)) != AKV_OK)
        return rc;
    *out = n;
    return AKV_OK;
}

/* Renders the catalog cut as f says into *out (emptied first) and counts
 * its tokens. */
static int measure(struct build *b, const struct fit *f, struct akv_buf *out,
                   uint64_t *tokens, akv_prompt_info *info)
{
    size_t sh, lo;
    out->len = 0;
    render_catalog(b, f, b->opts->budget, out, info ? &info->shortened : &sh,
                   info ? &info->left_out : &lo);
    if (out->oom)
        return akv_fail(AKV_ENOMEM, "out of memory");
    return count_tokens(b, buf_text(out), out->len, tokens);
}

/* The order in which sets stay in the catalog when the budget cannot list
 * them all: by name (byte order), so that the cut depends only on the
 * store. keep_rank of set i is its place in that order among the sets not
 * inlined. */
static void rank_sets(struct build *b)
{
    size_t r = 0;
    for (size_t i = 0; i < b->nsets; i++)
        b->sets[i].keep_rank = b->sets[i].inlined ? SIZE_MAX : r++;
}

/* Binary search for the largest x in [lo, hi] whose fitting (set by
 * apply) measures within the budget; *found stays false when none does. */
static int largest_fit(struct build *b, struct fit *f, size_t *field,
                       size_t lo, size_t hi, bool *found)
{
    struct akv_buf t = {0};
    int rc = AKV_OK;
    size_t best = 0;
    *found = false;
    while (lo <= hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t tokens = 0; /* measure sets it */
        *field = mid;
        if ((rc = measure(b, f, &t, &tokens, NULL)) != AKV_OK)
            break;
        if (tokens <= b->opts->budget) {
            *found = true;
            best = mid;
            lo = mid + 1;
        } else {
            if (mid == 0)
                break;
            hi = mid - 1;
        }
    }
    free(t.p);
    *field = best;
    return rc;
}

/* Renders the catalog within the budget; see the file comment. */
static int fit_catalog(struct build *b, struct akv_buf *out,
                       akv_prompt_info *info)
{
    uint64_t budget = b->opts->budget;
    size_t m = 0, maxlen = 0;
    for (size_t i = 0; i < b->nsets; i++)
        if (!b->sets[i].inlined) {
            m++;
            size_t dl = strlen(b->sets[i].it->description);
            maxlen = dl > maxlen ? dl : maxlen;
        }
    rank_sets(b);
    struct fit f = {.cap = SIZE_MAX, .keep = m, .note_len = SIZE_MAX};
    struct akv_buf c = {0};
    uint64_t tokens = 0;
    bool found = false;
    int rc;
    if (budget == 0 || m == 0) {
        render_catalog(b, &f, budget, &c, &info->shortened, &info->left_out);
        rc = c.oom ? akv_fail(AKV_ENOMEM, "out of memory")
             : budget || b->opts->count
                 ? count_tokens(b, buf_text(&c), c.len, &tokens)
                 : AKV_OK;
        goto done;
    }
    if ((rc = measure(b, &f, &c, &tokens, info)) != AKV_OK || tokens <= budget)
        goto done;

    /* 1: the largest common cap on description length that fits, every set
     * listed; 2: at the smallest cap, the most sets listed (in keep order),
     * then the largest cap for them; 3: none listed, the note alone, cut to its longest prefix that fits.
     * Only a measured fit is kept; 3 always finds one (the empty prefix). */
    if (maxlen > MIN_DESC &&
        (rc = largest_fit(b, &f, &f.cap, MIN_DESC, maxlen - 1, &found)) !=
            AKV_OK)
        goto done;
    if (!found) {
        f.cap = MIN_DESC;
        if ((rc = largest_fit(b, &f, &f.keep, 1, m - 1, &found)) != AKV_OK)
            goto done;
        /* The sets kept may have room for longer descriptions. */
        bool longer = false;
        if (found && maxlen > MIN_DESC &&
            ((rc = largest_fit(b, &f, &f.cap, MIN_DESC, maxlen - 1,
                               &longer)) != AKV_OK))
            goto done;
        if (found && !longer)
            f.cap = MIN_DESC;
    }
    if (!found) {
        f.keep = 0;
        if ((rc = largest_fit(b, &f, &f.note_len, 0, NOTE_MAX, &found)) !=
            AKV_OK)
            goto done;
    }
    rc = measure(b, &f, &c, &tokens, info);
done:
    if (rc != AKV_OK) {
        free(c.p);
        return rc;
    }
    info->catalog_tokens = tokens;
    *out = c;
    return AKV_OK;
}

/* ---- rendering ------------------------------------------------------------ */

/* The tail: unmarked inlined sets in name order, then the catalog, with a
 * blank line between blocks. at_end: a blank line before the first block
 * too (after the base). */
static int add_tail(struct build *b, struct akv_buf *out, const bool *inl,
                    const struct akv_buf *catalog, bool at_end)
{
    bool first = true;
    for (size_t i = 0; i < b->nsets; i++) {
        struct set *s = &b->sets[i];
        if (!inl[i] || s->marked)
            continue;
        int rc = load_body(b, s);
        if (rc != AKV_OK)
            return rc;
        if (!first || at_end)
            blank_line(out);
        akv_buf_add(out, s->body, s->body_len);
        if (s->body_len && s->body[s->body_len - 1] != '\n')
            akv_buf_str(out, "\n");
        first = false;
    }
    if (catalog && catalog->len) {
        if (!first || at_end)
            blank_line(out);
        akv_buf_add(out, catalog->p, catalog->len);
    }
    return AKV_OK;
}

/* Renders the base with the sets flagged in inl inlined and the catalog
 * (may be NULL) in the tail. */
static int render(struct build *b, const bool *inl, const struct akv_buf *catalog,
                  struct akv_buf *out)
{
    int rc;
    for (size_t k = 0; k < b->nlines; k++) {
        const struct line *l = &b->lines[k];
        switch (l->kind) {
        case AKV_MARKER_INCLUDE: {
            struct set *s = &b->sets[l->set];
            if (!inl[l->set])
                break;
            if ((rc = load_body(b, s)) != AKV_OK)
                return rc;
            akv_buf_add(out, s->body, s->body_len);
            if ((s->body_len == 0 || s->body[s->body_len - 1] != '\n') &&
                l->next > l->end)
                akv_buf_add(out, b->base + l->end, l->next - l->end);
            break;
        }
        case AKV_MARKER_CATALOG:
            if ((rc = add_tail(b, out, inl, catalog, false)) != AKV_OK)
                return rc;
            break;
        default:
            akv_buf_add(out, b->base + l->start, l->next - l->start);
            break;
        }
    }
    if (!b->has_catalog_marker &&
        (rc = add_tail(b, out, inl, catalog, true)) != AKV_OK)
        return rc;
    return out->oom ? akv_fail(AKV_ENOMEM, "out of memory") : AKV_OK;
}

/* ---- expected figures and advice (docs/prompts.md, "Honest savings") ---- */

static int check_pricing(const akv_prompt_opts *o)
{
    if (!(o->cached_ratio >= 0 && o->cached_ratio <= 1))
        return akv_fail(AKV_EINVAL, "the cached input price ratio must be "
                                    "from 0 to 1");
    if (!(o->write_premium >= 0 && o->write_premium <= 100))
        return akv_fail(AKV_EINVAL, "the cache write premium must be from 0 "
                                    "to 100");
    return AKV_OK;
}

static double fetch_rate(uint64_t fetches, uint64_t runs)
{
    return runs == 0 ? 0 : fetches >= runs ? 1 : (double)fetches / runs;
}

static uint64_t overhead(const akv_prompt_opts *o)
{
    return o->fetch_overhead ? o->fetch_overhead : AKV_FETCH_OVERHEAD;
}

/* Price of sending a prompt of n tokens once per run, in uncached input
 * tokens: without a cache n; with one, n at the cached ratio plus one
 * cache write (n at 1 + premium instead of the ratio) spread over runs. */
static double prompt_cost(const akv_prompt_opts *o, double n, uint64_t runs)
{
    if (o->cached_ratio == 0)
        return n;
    return n * o->cached_ratio +
           n * (1.0 + o->write_premium - o->cached_ratio) / (double)runs;
}

/* Runs and fetch counts: recorded, with opts->runs in place of the runs
 * when given. */
static int usage_of(akv_store *store, const char *sandbox,
                    const akv_prompt_opts *o, uint64_t *runs, json_t **f)
{
    int rc = akv_usage_read(store, sandbox, runs, f);
    if (rc == AKV_OK && o->runs)
        *runs = o->runs;
    return rc;
}

static int expect(struct build *b, akv_prompt_info *in)
{
    const akv_prompt_opts *o = b->opts;
    uint64_t runs = 0;
    json_t *f = NULL;
    int rc = usage_of(b->store, b->sandbox, o, &runs, &f);
    if (rc != AKV_OK && rc != AKV_ENOMEM) {
        /* Counts that cannot be read (a damaged entry, a store error)
         * leave the figures out rather than fail the prompt. */
        akv_error_clear();
        return AKV_OK;
    }
    if (rc != AKV_OK || runs == 0) {
        json_decref(f);
        return rc;
    }
    double fetched = 0;
    for (size_t i = 0; i < b->nsets; i++) {
        const struct set *s = &b->sets[i];
        if (s->inlined)
            continue;
        uint64_t n = akv_usage_fetches(f, s->it->name);
        in->fetches += n;
        fetched += fetch_rate(n, runs) * (double)(s->it->tokens + overhead(o));
    }
    json_decref(f);
    in->runs = runs;
    in->expected_tokens = (double)in->tokens + fetched;
    in->expected_cost = prompt_cost(o, (double)in->tokens, runs) + fetched;
    in->baseline_cost = prompt_cost(o, (double)in->baseline_tokens, runs);
    return AKV_OK;
}

void akv_advice_free(akv_advice_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i].name);
    free(items);
}

int akv_prompt_advise(akv_store *store, const char *sandbox,
                      const akv_prompt_opts *opts, akv_advice_item **items,
                      size_t *n, uint64_t *runs)
{
    akv_prompt_opts defaults;
    akv_error_clear();
    if (store == NULL || sandbox == NULL || items == NULL || n == NULL ||
        runs == NULL)
        return akv_fail(AKV_EINVAL, "advise: NULL argument");
    *items = NULL;
    *n = 0;
    if (opts == NULL) {
        akv_prompt_opts_init(&defaults);
        opts = &defaults;
    }
    int rc = akv_sandbox_check(sandbox, strlen(sandbox));
    if (rc != AKV_OK || (rc = check_pricing(opts)) != AKV_OK)
        return rc;
    struct build b = {.store = store, .sandbox = sandbox, .opts = opts};
    json_t *f = NULL;
    akv_advice_item *out = NULL;
    if ((rc = akv_instructions_list(store, sandbox, &b.list)) != AKV_OK)
        return rc;
    b.nsets = akv_instructions_count(b.list);
    if ((b.sets = calloc(b.nsets + 1, sizeof *b.sets)) == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < b.nsets; i++)
        b.sets[i].it = akv_instructions_item(b.list, i);
    if ((opts->only && (rc = restrict_sets(&b, opts->only)) != AKV_OK) ||
        (rc = usage_of(store, sandbox, opts, runs, &f)) != AKV_OK)
        goto done;
    if ((out = calloc(b.nsets + 1, sizeof *out)) == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto done;
    }
    double ratio = opts->cached_ratio > 0 ? opts->cached_ratio : 1.0;
    for (size_t i = 0; i < b.nsets; i++) {
        const akv_instruction *it = b.sets[i].it;
        akv_advice_item *a = &out[i];
        if ((a->name = strdup(it->name)) == NULL) {
            akv_advice_free(out, i);
            out = NULL;
            rc = akv_fail(AKV_ENOMEM, "out of memory");
            goto done;
        }
        a->tokens = it->tokens;
        a->fetches = akv_usage_fetches(f, it->name);
        double rate = fetch_rate(a->fetches, *runs);
        double even = ratio * (double)it->tokens /
                      (double)(it->tokens + overhead(opts));
        /* Per mille, rounded; the comparison uses the rounded values so
         * that what is shown is what was decided. */
        a->rate_permille = (unsigned)(rate * 1000.0 + 0.5);
        a->break_even_permille = (unsigned)(even * 1000.0 + 0.5);
        a->inline_advised = a->fetches > 0 &&
                            a->rate_permille >= a->break_even_permille;
    }
    *items = out;
    *n = b.nsets;
    out = NULL;
done:
    json_decref(f);
    free(b.sets);
    akv_instructions_free(b.list);
    return rc;
}

int akv_prompt_build(akv_store *store, const char *sandbox,
                     const akv_prompt_opts *opts, akv_prompt **out)
{
    akv_prompt_opts defaults;
    struct build b = {0};
    struct akv_buf catalog = {0}, text = {0}, base_text = {0};
    bool *inl = NULL, *all = NULL;
    akv_prompt *p = NULL;
    int rc;

    akv_error_clear();
    if (store == NULL || sandbox == NULL || out == NULL)
        return akv_fail(AKV_EINVAL, "prompt: NULL argument");
    *out = NULL;
    if ((rc = akv_sandbox_check(sandbox, strlen(sandbox))) != AKV_OK)
        return rc;
    if (opts == NULL) {
        akv_prompt_opts_init(&defaults);
        opts = &defaults;
    }
    if ((int)opts->mode < 0 || opts->mode > AKV_PROMPT_INLINE)
        return akv_fail(AKV_EINVAL, "invalid prompt mode %d", (int)opts->mode);
    bool names = opts->inline_names && opts->inline_names[strspn(
                                           opts->inline_names, " \t,")];
    if (names && opts->mode != AKV_PROMPT_HYBRID)
        return akv_fail(AKV_EINVAL, "inline sets are named for hybrid mode; "
                                    "%s mode %s",
                        akv_prompt_mode_name(opts->mode),
                        opts->mode == AKV_PROMPT_INLINE ? "inlines every set"
                                                        : "inlines none");
    if (opts->budget && opts->mode == AKV_PROMPT_INLINE)
        return akv_fail(AKV_EINVAL, "a budget limits the catalog, and inline "
                                    "mode has none");
    if (opts->base == NULL && opts->base_len != 0)
        return akv_fail(AKV_EINVAL, "prompt: base is NULL");
    if ((rc = check_pricing(opts)) != AKV_OK)
        return rc;
    b.store = store;
    b.sandbox = sandbox;
    b.opts = opts;

    if ((rc = load_base(&b)) != AKV_OK ||
        (rc = akv_instructions_list(store, sandbox, &b.list)) != AKV_OK)
        goto out;
    b.nsets = akv_instructions_count(b.list);
    b.sets = calloc(b.nsets + 1, sizeof *b.sets);
    inl = calloc(b.nsets + 1, sizeof *inl);
    all = calloc(b.nsets + 1, sizeof *all);
    if (b.sets == NULL || inl == NULL || all == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < b.nsets; i++)
        b.sets[i].it = akv_instructions_item(b.list, i);
    if ((opts->only && (rc = restrict_sets(&b, opts->only)) != AKV_OK) ||
        (rc = scan_base(&b)) != AKV_OK)
        goto out;
    if (opts->mode == AKV_PROMPT_INLINE)
        for (size_t i = 0; i < b.nsets; i++)
            b.sets[i].inlined = true;
    else if (opts->mode == AKV_PROMPT_HYBRID &&
             (rc = pick_inline(&b, opts->inline_names)) != AKV_OK)
        goto out;
    for (size_t i = 0; opts->is_skill && i < b.nsets; i++)
        if (!b.sets[i].inlined)
            b.sets[i].skill =
                opts->is_skill(opts->skill_ctx, b.sets[i].it->name) == 1;

    p = calloc(1, sizeof *p);
    if (p == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto out;
    }
    p->info.mode = opts->mode;
    p->info.sets = b.nsets;
    for (size_t i = 0; i < b.nsets; i++) {
        inl[i] = b.sets[i].inlined;
        all[i] = true;
        p->info.inlined += inl[i];
    }
    p->info.cataloged = b.nsets - p->info.inlined;
    if ((rc = fit_catalog(&b, &catalog, &p->info)) != AKV_OK ||
        (rc = render(&b, inl, &catalog, &text)) != AKV_OK)
        goto out;
    if (opts->count) {
        if ((rc = count_tokens(&b, buf_text(&text), text.len,
                               &p->info.tokens)) != AKV_OK)
            goto out;
        if (opts->baseline_tokens) {
            p->info.baseline_tokens = opts->baseline_tokens;
        } else if (opts->mode == AKV_PROMPT_INLINE) {
            p->info.baseline_tokens = p->info.tokens;
        } else {
            if ((rc = render(&b, all, NULL, &base_text)) != AKV_OK ||
                (rc = count_tokens(&b, buf_text(&base_text), base_text.len,
                                   &p->info.baseline_tokens)) != AKV_OK)
                goto out;
        }
        p->info.counted = 1;
        if ((rc = expect(&b, &p->info)) != AKV_OK)
            goto out;
    }
    if (text.p == NULL && (text.p = calloc(1, 1)) == NULL) {
        rc = akv_fail(AKV_ENOMEM, "out of memory");
        goto out;
    }
    p->text = text.p;
    p->len = text.len;
    text.p = NULL;
    *out = p;
    p = NULL;
    rc = AKV_OK;
out:
    for (size_t i = 0; b.sets && i < b.nsets; i++)
        free(b.sets[i].body);
    free(b.sets);
    free(b.lines);
    free(b.base);
    akv_instructions_free(b.list);
    free(catalog.p);
    free(text.p);
    free(base_text.p);
    free(inl);
    free(all);
    akv_prompt_free(p);
    return rc;
}

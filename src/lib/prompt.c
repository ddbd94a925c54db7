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
 * budget or a report asks for counts. A budget is met by measuring, never
 * by estimating: descriptions are cut to a common length found by binary
 * search over real token counts, then dropped from the end of the list,
 * and the catalog says how many it shortened and dropped.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "agentkv-tokens.h"
#include "internal.h"
#include "markers.h"

/* Descriptions are never cut below this many bytes before any is dropped. */
#define MIN_DESC 32

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
                                "instruction set of sandbox %s",
                                base_name(b), ln + 1,
                                akv_quote(shown, name, name_len), b->sandbox);
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

/* Marks the sets named in a comma-separated list as inlined. */
static int pick_inline(struct build *b, const char *names)
{
    char shown[AKV_QUOTE_BUF];
    const char *p = names;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        const char *e = comma ? comma : p + strlen(p);
        const char *s = p;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if (t > s) {
            int i = find_set(b, s, (size_t)(t - s));
            if (i < 0)
                return akv_fail(AKV_ENOTFOUND,
                                "inline set '%s' is not an instruction set "
                                "of sandbox %s",
                                akv_quote(shown, s, (size_t)(t - s)),
                                b->sandbox);
            b->sets[i].inlined = true;
        }
        p = comma ? comma + 1 : NULL;
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

/* Renders the catalog of the sets not inlined. Descriptions longer than cap
 * bytes are cut; the last `drop` items lose their description. */
static void render_catalog(const struct build *b, size_t cap, size_t drop,
                           uint64_t budget, struct akv_buf *out,
                           size_t *shortened, size_t *dropped)
{
    size_t m = 0, j = 0;
    *shortened = *dropped = 0;
    for (size_t i = 0; i < b->nsets; i++)
        m += !b->sets[i].inlined;
    if (m == 0)
        return;
    /* Count first: the note at the end states the numbers. */
    for (size_t i = 0; i < b->nsets; i++) {
        const struct set *s = &b->sets[i];
        if (s->inlined)
            continue;
        size_t dl = strlen(s->it->description);
        if (j++ >= m - drop) {
            *dropped += dl > 0;
            continue;
        }
        *shortened += cut_len(s->it->description, dl, cap) < dl;
    }
    bool skills = false;
    for (size_t i = 0; i < b->nsets; i++)
        skills |= !b->sets[i].inlined && b->sets[i].skill;
    akv_buf_str(out, skills ? catalog_head_skills : catalog_head);
    j = 0;
    for (size_t i = 0; i < b->nsets; i++) {
        const struct set *s = &b->sets[i];
        if (s->inlined)
            continue;
        char head[AKV_KEY_MAX + 96];
        snprintf(head, sizeof head,
                 s->skill ? "- skill://%s/SKILL.md (v%llu, %llu tokens)"
                          : "- get_instruction(\"%s\") (v%llu, %llu tokens)",
                 s->it->name, (unsigned long long)s->it->version,
                 (unsigned long long)s->it->tokens);
        akv_buf_str(out, head);
        const char *d = s->it->description;
        size_t dl = strlen(d);
        if (dl && j < m - drop) {
            size_t cl = cut_len(d, dl, cap);
            akv_buf_str(out, ": ");
            akv_buf_add(out, d, cl);
            if (cl < dl)
                akv_buf_str(out, "\xe2\x80\xa6"); /* U+2026 ellipsis */
        }
        akv_buf_str(out, "\n");
        j++;
    }
    if (*shortened || *dropped) {
        char note[256];
        snprintf(note, sizeof note,
                 "\n(Budget %llu tokens: %zu description%s shortened, %zu "
                 "dropped; list_instructions has them in full.)\n",
                 (unsigned long long)budget, *shortened,
                 *shortened == 1 ? "" : "s", *dropped);
        akv_buf_str(out, note);
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

/* Renders the catalog within the budget; see the file comment. */
static int fit_catalog(struct build *b, struct akv_buf *out, akv_prompt_info *info)
{
    uint64_t budget = b->opts->budget;
    size_t m = 0, maxlen = 0;
    for (size_t i = 0; i < b->nsets; i++)
        if (!b->sets[i].inlined) {
            m++;
            size_t dl = strlen(b->sets[i].it->description);
            maxlen = dl > maxlen ? dl : maxlen;
        }
    struct akv_buf c = {0};
    uint64_t tokens = 0;
    int rc;
    render_catalog(b, SIZE_MAX, 0, budget, &c, &info->shortened,
                   &info->dropped);
    if (c.oom)
        goto oom;
    if (budget == 0 || m == 0) {
        if ((budget || b->opts->count) &&
            (rc = count_tokens(b, buf_text(&c), c.len, &tokens)) != AKV_OK) {
            free(c.p);
            return rc;
        }
        info->catalog_tokens = tokens;
        *out = c;
        return AKV_OK;
    }
    if ((rc = count_tokens(b, buf_text(&c), c.len, &tokens)) != AKV_OK) {
        free(c.p);
        return rc;
    }
    if (tokens <= budget) {
        info->catalog_tokens = tokens;
        *out = c;
        return AKV_OK;
    }
    free(c.p);
    c = (struct akv_buf){0};

    /* Phase 1: the largest common cap on description length that fits.
     * Phase 2: at the smallest cap, the fewest dropped descriptions (from
     * the end of the list) that fit. Every candidate is measured; only one
     * that was measured to fit is kept. */
    size_t best_cap = 0, best_drop = 0;
    bool found = false;
    if (maxlen > MIN_DESC) {
        size_t lo = MIN_DESC, hi = maxlen - 1;
        while (lo <= hi) {
            size_t mid = lo + (hi - lo) / 2;
            size_t sh, dr;
            struct akv_buf t = {0};
            render_catalog(b, mid, 0, budget, &t, &sh, &dr);
            if (t.oom || (rc = count_tokens(b, buf_text(&t), t.len,
                                            &tokens)) != AKV_OK) {
                free(t.p);
                if (t.oom)
                    goto oom;
                return rc;
            }
            free(t.p);
            if (tokens <= budget) {
                found = true;
                best_cap = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
    }
    if (!found) {
        best_cap = MIN_DESC;
        size_t lo = 1, hi = m;
        while (lo <= hi) {
            size_t mid = lo + (hi - lo) / 2;
            size_t sh, dr;
            struct akv_buf t = {0};
            render_catalog(b, best_cap, mid, budget, &t, &sh, &dr);
            if (t.oom || (rc = count_tokens(b, buf_text(&t), t.len,
                                            &tokens)) != AKV_OK) {
                free(t.p);
                if (t.oom)
                    goto oom;
                return rc;
            }
            free(t.p);
            if (tokens <= budget) {
                found = true;
                best_drop = mid;
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
    }
    if (!found) {
        struct akv_buf t = {0};
        size_t sh, dr;
        render_catalog(b, best_cap, m, budget, &t, &sh, &dr);
        rc = t.oom ? AKV_ENOMEM
                   : count_tokens(b, buf_text(&t), t.len, &tokens);
        free(t.p);
        if (rc == AKV_ENOMEM)
            goto oom;
        if (rc != AKV_OK)
            return rc;
        return akv_fail(AKV_EINVAL,
                        "budget of %llu tokens is too small: the catalog of "
                        "%zu instruction sets needs %llu tokens even without "
                        "descriptions",
                        (unsigned long long)budget, m,
                        (unsigned long long)tokens);
    }
    render_catalog(b, best_cap, best_drop, budget, &c, &info->shortened,
                   &info->dropped);
    if (c.oom)
        goto oom;
    if ((rc = count_tokens(b, buf_text(&c), c.len, &tokens)) != AKV_OK) {
        free(c.p);
        return rc;
    }
    info->catalog_tokens = tokens;
    *out = c;
    return AKV_OK;
oom:
    free(c.p);
    return akv_fail(AKV_ENOMEM, "out of memory");
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
    if ((rc = scan_base(&b)) != AKV_OK)
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
        if (opts->mode == AKV_PROMPT_INLINE) {
            p->info.baseline_tokens = p->info.tokens;
        } else {
            if ((rc = render(&b, all, NULL, &base_text)) != AKV_OK ||
                (rc = count_tokens(&b, buf_text(&base_text), base_text.len,
                                   &p->info.baseline_tokens)) != AKV_OK)
                goto out;
        }
        p->info.counted = 1;
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

/*
 * lint.c — akv_lint_*: flags instruction-set descriptions an agent cannot
 * act on (SPEC.md §6, `agentkv prompt lint`).
 *
 * A description is the one thing an agent reads before deciding whether to
 * load a set, so it should say when to load it, in one or two finished
 * sentences. Each check below gives the problem and the fix:
 *
 *   missing     no description at all
 *   over_limit  more than AKV_DESC_LIMIT bytes (the Agent Skills limit)
 *   too_long    more than AKV_DESC_CONCISE bytes
 *   too_short   fewer than 30 bytes or 5 words
 *   checklist   holds checklist boxes ("[ ]", "[x]")
 *   list        list items run together (" - a - b", "1. a 2. b", "• a")
 *   fragment    ends mid-sentence: no final . ! ?, or an ellipsis or ':'
 *   no_when     no cue for when to load it ("Load when", "Use when", "when",
 *               "before", "if", "for tasks", …)
 *   duplicate   the same text (case and blanks aside) as an earlier set
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentkv-instructions.h"
#include "internal.h"

struct entry {
    char *name, *desc, *source;
};

struct akv_lint {
    struct entry *v;
    size_t n, cap;
    akv_lint_issue *issues;
    size_t nissues, icap;
    char **strings; /* owned problem/fix texts of the issues */
    size_t nstrings, scap;
};

int akv_lint_new(akv_lint **out)
{
    akv_error_clear();
    if (out == NULL)
        return akv_fail(AKV_EINVAL, "lint: NULL argument");
    if ((*out = calloc(1, sizeof **out)) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    return AKV_OK;
}

static void clear_issues(akv_lint *l)
{
    for (size_t i = 0; i < l->nstrings; i++)
        free(l->strings[i]);
    l->nstrings = 0;
    l->nissues = 0;
}

void akv_lint_free(akv_lint *l)
{
    if (l == NULL)
        return;
    clear_issues(l);
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].desc);
        free(l->v[i].source);
    }
    free(l->v);
    free(l->issues);
    free(l->strings);
    free(l);
}

int akv_lint_add(akv_lint *l, const char *name, const char *desc,
                 const char *source)
{
    if (l == NULL || name == NULL)
        return akv_fail(AKV_EINVAL, "lint: NULL argument");
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        void *p = realloc(l->v, ncap * sizeof *l->v);
        if (p == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        l->v = p;
        l->cap = ncap;
    }
    struct entry e = {strdup(name), strdup(desc ? desc : ""),
                      strdup(source ? source : "")};
    if (e.name == NULL || e.desc == NULL || e.source == NULL) {
        free(e.name);
        free(e.desc);
        free(e.source);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    l->v[l->n++] = e;
    return AKV_OK;
}

static int add_visited(void *arg, const char *name, const char *desc,
                       const char *path)
{
    return akv_lint_add(arg, name, desc, path);
}

int akv_lint_add_path(akv_lint *l, const char *path, uint64_t max)
{
    akv_error_clear();
    if (l == NULL || path == NULL)
        return akv_fail(AKV_EINVAL, "lint: NULL argument");
    return akv_sets_visit(path, max, add_visited, l);
}

int akv_lint_add_store(akv_lint *l, akv_store *store, const char *sandbox)
{
    akv_instructions *list;
    akv_error_clear();
    if (l == NULL)
        return akv_fail(AKV_EINVAL, "lint: NULL argument");
    int rc = akv_instructions_list(store, sandbox, &list);
    if (rc != AKV_OK)
        return rc;
    for (size_t i = 0; rc == AKV_OK && i < akv_instructions_count(list); i++) {
        const akv_instruction *in = akv_instructions_item(list, i);
        rc = akv_lint_add(l, in->name, in->description, NULL);
    }
    akv_instructions_free(list);
    return rc;
}

size_t akv_lint_sets(const akv_lint *l)
{
    return l ? l->n : 0;
}

const akv_lint_issue *akv_lint_issue_get(const akv_lint *l, size_t i)
{
    return l && i < l->nissues ? &l->issues[i] : NULL;
}

/* Records an issue; the formatted problem is owned by the lint. Out of
 * memory drops it (akv_lint_run() returns the issues it could record). */
static void issue(akv_lint *l, const struct entry *e, const char *code,
                  const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void issue(akv_lint *l, const struct entry *e, const char *code,
                  const char *fix, const char *fmt, ...)
{
    if (l->nissues == l->icap) {
        size_t ncap = l->icap ? l->icap * 2 : 16;
        void *p = realloc(l->issues, ncap * sizeof *l->issues);
        if (p == NULL)
            return;
        l->issues = p;
        l->icap = ncap;
    }
    if (l->nstrings == l->scap) {
        size_t ncap = l->scap ? l->scap * 2 : 16;
        void *p = realloc(l->strings, ncap * sizeof *l->strings);
        if (p == NULL)
            return;
        l->strings = p;
        l->scap = ncap;
    }
    char *problem = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&problem, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    l->strings[l->nstrings++] = problem;
    l->issues[l->nissues++] = (akv_lint_issue){
        .name = e->name, .source = e->source, .code = code,
        .problem = problem, .fix = fix};
}

/* Case-insensitive: does d contain w at the start of a word? */
static bool has(const char *d, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = d; *p; p++)
        if ((p == d || !((p[-1] | 0x20) >= 'a' && (p[-1] | 0x20) <= 'z')) &&
            strncasecmp(p, w, n) == 0)
            return true;
    return false;
}

static size_t words(const char *d)
{
    size_t n = 0;
    for (bool in = false; *d; d++) {
        bool w = *d != ' ' && *d != '\t' && *d != '\n';
        n += w && !in;
        in = w;
    }
    return n;
}

/* List items run together: two or more " - x" / " * x" / "• " marks, or
 * two or more numbered items ("1. " … "2. "). */
static bool glued_list(const char *d)
{
    size_t dashes = 0, numbers = 0;
    for (const char *p = d; *p; p++) {
        if ((p == d || p[-1] == ' ') && (*p == '-' || *p == '*') &&
            p[1] == ' ')
            dashes++;
        if (strncmp(p, "\xe2\x80\xa2", 3) == 0)
            dashes++;
        if ((p == d || p[-1] == ' ') && *p >= '0' && *p <= '9') {
            const char *q = p;
            while (*q >= '0' && *q <= '9')
                q++;
            if ((*q == '.' || *q == ')') && q[1] == ' ')
                numbers++;
        }
    }
    return dashes >= 2 || numbers >= 2;
}

/* Same text, case and runs of blanks aside. */
static bool same_text(const char *a, const char *b)
{
    for (;;) {
        while (*a == ' ' || *a == '\t')
            a++;
        while (*b == ' ' || *b == '\t')
            b++;
        if (*a == '\0' || *b == '\0')
            return *a == *b;
        if ((*a | 0x20) != (*b | 0x20) && *a != *b)
            return false;
        a++;
        b++;
    }
}

static void check(akv_lint *l, size_t i)
{
    static const char *const when_cues[] = {
        "load when", "use when", "use this", "use for", "use it",
        "when ",     "whenever", "before ",  "after ",  "if ",
        "for tasks", "for any ", "while ",   "during ", "needed",
        "to load",   NULL};
    const struct entry *e = &l->v[i];
    const char *d = e->desc;
    while (*d == ' ' || *d == '\t')
        d++;
    size_t len = strlen(d);
    while (len && (d[len - 1] == ' ' || d[len - 1] == '\t'))
        len--;
    if (len == 0) {
        issue(l, e, "missing",
              "add 'description: Load when …' to the front matter, naming the "
              "tasks that need this set",
              "no description: the catalog line says nothing about when to "
              "load the set");
        return;
    }
    if (len > AKV_DESC_LIMIT)
        issue(l, e, "over_limit",
              "cut it to one or two sentences that say when to load the set",
              "%zu bytes, over the Agent Skills limit of %d", len,
              AKV_DESC_LIMIT);
    else if (len > AKV_DESC_CONCISE)
        issue(l, e, "too_long",
              "shorten it to one or two sentences: every catalog line costs "
              "its tokens on every run",
              "%zu bytes, over %d", len, AKV_DESC_CONCISE);
    if (len < 30 || words(d) < 5)
        issue(l, e, "too_short",
              "say when to load the set and what it covers, e.g. 'Load when "
              "the task involves …'",
              "%zu bytes and %zu words: too little to decide on", len,
              words(d));
    if (has(d, "[ ]") || has(d, "[x]"))
        issue(l, e, "checklist",
              "describe the task the set is for, not its checklist items",
              "quotes checklist items");
    else if (glued_list(d))
        issue(l, e, "list",
              "write one sentence saying when to load the set instead of "
              "joining its list items",
              "reads as list items run together");
    char last = d[len - 1];
    bool ellipsis = (len >= 3 && strncmp(d + len - 3, "...", 3) == 0) ||
                    (len >= 3 && strncmp(d + len - 3, "\xe2\x80\xa6", 3) == 0);
    if (ellipsis || last == '\0' || !strchr(".!?)\"'", last))
        issue(l, e, "fragment",
              "finish the sentence and end it with a period",
              "ends mid-sentence ('%s')",
              ellipsis ? "…" : last == ':' ? ":" : "no final period");
    bool when = false;
    for (const char *const *w = when_cues; *w && !when; w++)
        when = has(d, *w);
    if (!when)
        issue(l, e, "no_when",
              "start with 'Load when …' and name the tasks or questions the "
              "set is for",
              "does not say when to load the set");
    for (size_t j = 0; j < i; j++)
        if (same_text(l->v[j].desc, e->desc)) {
            issue(l, e, "duplicate",
                  "say what sets this set apart, so an agent can choose "
                  "between them",
                  "the same description as '%s'", l->v[j].name);
            break;
        }
}

size_t akv_lint_run(akv_lint *l)
{
    if (l == NULL)
        return 0;
    clear_issues(l);
    for (size_t i = 0; i < l->n; i++)
        check(l, i);
    return l->nissues;
}

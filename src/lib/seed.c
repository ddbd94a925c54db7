/*
 * seed.c — akv_seed: loads a directory of instruction files into scope
 * `instructions` of one sandbox (SPEC.md §5).
 *
 * The work happens in three passes so that nothing is ever half-seeded:
 *   1. find the files (DIR/NAME.md and DIR/NAME/SKILL.md, and the
 *      supporting files of each DIR/NAME/ folder), read each one, check a
 *      set's UTF-8 and front matter, and derive its name; check that no two
 *      files give the same key. Any error stops here, naming the file (and
 *      the line where there is one), before the store is touched;
 *   2. compare each file with the sandbox's own entry (SHA-256 of the
 *      value, content type, and the description/declared_version/source
 *      metadata) to decide added/updated/unchanged, and find the seeded
 *      entries to remove: supporting files gone from a folder seeded now,
 *      and with --prune whatever the directory no longer produces. Tokens
 *      are counted only for sets that will be written, so a seed that
 *      changes nothing does not load the tokenizer;
 *   3. write every change with one akv_batch_write(): one transaction.
 *
 * What is stored is the whole file, front matter included, so that a set
 * seeded from a valid SKILL.md is that SKILL.md byte for byte (an MCP
 * skill; docs/decisions.md, "Seeded sets are whole SKILL.md files"). The
 * front matter also lives on as metadata. Names follow the Agent Skills
 * rule (akv_skill_name_check): an underscore name is refused, never
 * rewritten. A supporting file DIR/NAME/PATH is stored under key NAME/PATH
 * with the content type its extension implies (else text/plain for UTF-8,
 * application/octet-stream otherwise) and metadata {"source"}; keys with a
 * '/' are files of a skill, never instruction sets of their own. The
 * default directory of the bundled sets is found here too, so that every
 * front end seeds the same defaults.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agentkv-instructions.h"
#include "agentkv-tokens.h"
#include "internal.h"

#define CONTENT_TYPE "text/markdown"
/* Bounds of one skill folder's supporting files. */
#define SUPPORT_DEPTH 8
#define SUPPORT_FILES 1000

const char *akv_seed_action_name(akv_seed_action action)
{
    switch (action) {
    case AKV_SEED_ADDED: return "added";
    case AKV_SEED_UPDATED: return "updated";
    case AKV_SEED_UNCHANGED: return "unchanged";
    case AKV_SEED_REMOVED: return "removed";
    }
    return "unknown";
}

/* ---- the default directory -------------------------------------------- */

static int is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* 1 when the running program is inside the build tree it was built in. */
static int running_from_build(void)
{
#ifdef AKV_BUILD_DIR
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    size_t bl = strlen(AKV_BUILD_DIR);
    return (size_t)n > bl && strncmp(exe, AKV_BUILD_DIR, bl) == 0 &&
           exe[bl] == '/';
#else
    return 0;
#endif
}

int akv_seed_default_dir(const char **out)
{
    static char found[PATH_MAX];
    const char *env = getenv(AKV_INSTRUCTIONS_DIR_ENV);
    const char *source = NULL, *share = NULL, *pick = NULL;
#ifdef AKV_INSTR_SOURCE_DIR
    source = AKV_INSTR_SOURCE_DIR;
#endif
#ifdef AKV_INSTR_SHARE_DIR
    share = AKV_INSTR_SHARE_DIR;
#endif
    akv_error_clear();
    if (env && *env)
        pick = env;
    else if (running_from_build() && is_dir(source))
        pick = source;
    /* An install tree moved after `make install` keeps its sets beside its
     * library and executable, which wins over the place it was built for. */
    char rel[2][AKV_DATA_PATH_MAX];
    size_t nrel = akv_data_dirs("instructions", rel);
    for (size_t i = 0; pick == NULL && i < nrel; i++)
        if (is_dir(rel[i]))
            pick = rel[i];
    if (pick == NULL && is_dir(share))
        pick = share;
    else if (pick == NULL && is_dir(source))
        pick = source;
    if (pick == NULL || !is_dir(pick))
        return akv_fail(AKV_EUNAVAILABLE,
                        "no bundled instruction sets found (looked in %s%s%s, "
                        "%s, %s%s); give a directory or set %s",
                        nrel ? rel[0] : "", nrel > 1 ? ", " : "",
                        nrel > 1 ? rel[1] : "",
                        share ? share : "(no install dir)",
                        source ? source : "(no source dir)",
                        env && *env ? " and $" AKV_INSTRUCTIONS_DIR_ENV : "",
                        AKV_INSTRUCTIONS_DIR_ENV);
    snprintf(found, sizeof found, "%s", pick);
    *out = found;
    return AKV_OK;
}

/* ---- pass 1: files ----------------------------------------------------- */

struct set {
    char *path;     /* as shown in messages: DIR/x.md */
    char *rel;      /* relative to DIR: x.md, x/SKILL.md or x/refs/y.md */
    char *stem;     /* file or folder name giving the default name */
    char *text;     /* the whole file: the value stored */
    size_t len;
    akv_frontmatter *fm; /* NULL for a supporting file */
    const char *name;    /* the key: the set's name, or NAME/PATH */
    char *key;           /* a supporting file's key (name points here) */
    const char *ctype;   /* content type */
    char *meta;     /* metadata JSON to write, when written */
    akv_seed_action action;
    int write;
    uint64_t tokens;
};

static void set_free(struct set *s)
{
    free(s->path);
    free(s->rel);
    free(s->stem);
    free(s->text);
    free(s->key);
    akv_frontmatter_free(s->fm);
    free(s->meta);
}

static char *dup_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static int has_suffix_md(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".md") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file, refusing more than max bytes. */
static int read_file(const char *path, uint64_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return akv_fail(AKV_EINVAL, "%s: cannot read: %s", path,
                        strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return akv_fail(AKV_EINVAL, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        fclose(f);
        return akv_fail(AKV_ETOOLARGE,
                        "%s: %llu bytes, over max_value_size (%llu bytes)",
                        path, (unsigned long long)st.st_size,
                        (unsigned long long)max);
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        fclose(f);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    for (;;) {
        if (n == cap) {
            /* The file grew while we read it. */
            if (n > max) {
                free(buf);
                fclose(f);
                return akv_fail(AKV_ETOOLARGE, "%s: over max_value_size",
                                path);
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return akv_fail(AKV_ENOMEM, "out of memory");
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return akv_fail(AKV_EINVAL, "%s: read error", path);
    }
    *out = buf;
    *len = n;
    return AKV_OK;
}

/* Lists the candidate files of dir into *sets (sorted by file name). */
static int find_sets(const char *dir, struct set **out, size_t *count)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return akv_fail(AKV_EINVAL, "%s: no such directory", dir);
        if (errno == ENOTDIR)
            return akv_fail(AKV_EINVAL, "%s: not a directory", dir);
        return akv_fail(AKV_EINVAL, "%s: cannot open: %s", dir,
                        strerror(errno));
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = AKV_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcasecmp(e->d_name, "README.md") == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *p = realloc(names, ncap * sizeof *names);
            if (p == NULL) {
                rc = akv_fail(AKV_ENOMEM, "out of memory");
                break;
            }
            names = p;
            cap = ncap;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) {
            rc = akv_fail(AKV_ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);

    struct set *sets = rc == AKV_OK && n ? calloc(n, sizeof *sets) : NULL;
    size_t ns = 0;
    if (rc == AKV_OK && n && sets == NULL)
        rc = akv_fail(AKV_ENOMEM, "out of memory");
    for (size_t i = 0; rc == AKV_OK && i < n; i++) {
        char *full = dup_printf("%s/%s", dir, names[i]);
        struct stat st;
        if (full == NULL) {
            rc = akv_fail(AKV_ENOMEM, "out of memory");
            break;
        }
        if (stat(full, &st) != 0) {
            free(full);
            continue; /* a dangling link or a file gone meanwhile */
        }
        struct set *s = &sets[ns];
        if (S_ISREG(st.st_mode) && has_suffix_md(names[i])) {
            s->path = full;
            s->rel = strdup(names[i]);
            s->stem = strndup(names[i], strlen(names[i]) - 3);
        } else if (S_ISDIR(st.st_mode)) {
            char *skill = dup_printf("%s/SKILL.md", full);
            struct stat sk;
            free(full);
            if (skill == NULL) {
                rc = akv_fail(AKV_ENOMEM, "out of memory");
                break;
            }
            if (stat(skill, &sk) != 0 || !S_ISREG(sk.st_mode)) {
                free(skill);
                continue; /* not an Agent Skills folder */
            }
            s->path = skill;
            s->rel = dup_printf("%s/SKILL.md", names[i]);
            s->stem = strdup(names[i]);
        } else {
            free(full);
            continue;
        }
        ns++;
        if (s->rel == NULL || s->stem == NULL)
            rc = akv_fail(AKV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc == AKV_OK && ns == 0)
        rc = akv_fail(AKV_EINVAL,
                      "%s: no instruction files (expected *.md or "
                      "NAME/SKILL.md)",
                      dir);
    if (rc != AKV_OK) {
        for (size_t i = 0; i < ns; i++)
            set_free(&sets[i]);
        free(sets);
        return rc;
    }
    *out = sets;
    *count = ns;
    return AKV_OK;
}

/* Reads and validates one set: UTF-8, front matter, name, size. */
static int load_set(struct set *s, uint64_t max)
{
    int rc;
    char msg[sizeof akv_last_error()->message];
    if ((rc = read_file(s->path, max, &s->text, &s->len)) != AKV_OK)
        return rc;
    if ((rc = akv_frontmatter_parse(s->text, s->len, s->path, &s->fm)) !=
        AKV_OK)
        return rc;
    s->ctype = CONTENT_TYPE;
    const char *name = akv_frontmatter_get(s->fm, "name");
    if (name) {
        if ((rc = akv_skill_name_check(name, strlen(name))) != AKV_OK) {
            unsigned line = 0;
            for (size_t i = 0; i < akv_frontmatter_count(s->fm); i++) {
                const char *k;
                unsigned l;
                akv_frontmatter_field(s->fm, i, &k, NULL, &l);
                if (strcmp(k, "name") == 0)
                    line = l;
            }
            snprintf(msg, sizeof msg, "%s", akv_last_error()->message);
            return akv_fail(rc, "%s:%u: %s", s->path, line, msg);
        }
        s->name = name;
    } else {
        if ((rc = akv_skill_name_check(s->stem, strlen(s->stem))) !=
            AKV_OK) {
            snprintf(msg, sizeof msg, "%s", akv_last_error()->message);
            return akv_fail(rc,
                            "%s: %s (from the %s name); rename the %s or set "
                            "'name:' in the front matter",
                            s->path, msg,
                            strchr(s->rel, '/') ? "folder" : "file",
                            strchr(s->rel, '/') ? "folder" : "file");
        }
        s->name = s->stem;
    }
    return AKV_OK;
}

/* ---- supporting files -------------------------------------------------- */

/* Where walk_folder() appends: the run's sets array and its bounds. */
struct support_sink {
    struct set **sets;
    size_t *n, *cap;
    const char *name; /* the skill's name: its files' key prefix */
    const char *stem; /* its folder, relative to the seed directory */
    size_t files;     /* files found in the folder so far */
    uint64_t max;
};

/* Reads supporting file full (sub: its path below the folder) into a new
 * set. */
static int add_support(struct support_sink *k, const char *full,
                       const char *sub)
{
    if (++k->files > SUPPORT_FILES)
        return akv_fail(AKV_EINVAL,
                        "%s: over %d supporting files in one skill folder",
                        full, SUPPORT_FILES);
    if (*k->n == *k->cap) {
        size_t ncap = *k->cap ? *k->cap * 2 : 16;
        void *p = realloc(*k->sets, ncap * sizeof **k->sets);
        if (p == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        *k->sets = p;
        *k->cap = ncap;
    }
    struct set *s = &(*k->sets)[*k->n];
    memset(s, 0, sizeof *s);
    (*k->n)++;
    s->path = strdup(full);
    s->rel = dup_printf("%s/%s", k->stem, sub);
    s->key = dup_printf("%s/%s", k->name, sub);
    if (s->path == NULL || s->rel == NULL || s->key == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    s->name = s->key;
    int rc = akv_key_check(s->key, strlen(s->key));
    if (rc != AKV_OK) {
        char msg[sizeof akv_last_error()->message];
        snprintf(msg, sizeof msg, "%s", akv_last_error()->message);
        return akv_fail(rc, "%s: cannot be stored as a key: %s", full, msg);
    }
    if ((rc = read_file(full, k->max, &s->text, &s->len)) != AKV_OK)
        return rc;
    s->ctype = akvx_guess_type(sub);
    if (s->ctype == NULL)
        s->ctype = akvx_utf8_valid(s->text, s->len)
                       ? "text/plain"
                       : "application/octet-stream";
    return AKV_OK;
}

/* Adds every file below dir/sub (sub "" or ending in '/') except the
 * folder's own SKILL.md and names starting with '.'. */
static int walk_folder(struct support_sink *k, const char *dir,
                       const char *sub, int depth)
{
    char *here = dup_printf("%s/%s", dir, sub);
    if (here == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    if (depth > SUPPORT_DEPTH) {
        int rc = akv_fail(AKV_EINVAL,
                          "%s: nested more than %d folders deep in a skill",
                          here, SUPPORT_DEPTH);
        free(here);
        return rc;
    }
    DIR *d = opendir(here);
    if (d == NULL) {
        int rc = akv_fail(AKV_EINVAL, "%s: cannot open: %s", here,
                          strerror(errno));
        free(here);
        return rc;
    }
    int rc = AKV_OK;
    struct dirent *e;
    while (rc == AKV_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' ||
            (depth == 0 && strcmp(e->d_name, "SKILL.md") == 0))
            continue;
        char *full = dup_printf("%s%s", here, e->d_name);
        char *below = dup_printf("%s%s", sub, e->d_name);
        struct stat st;
        if (full == NULL || below == NULL)
            rc = akv_fail(AKV_ENOMEM, "out of memory");
        else if (stat(full, &st) != 0)
            rc = akv_fail(AKV_EINVAL, "%s: cannot read: %s", full,
                          strerror(errno));
        else if (S_ISREG(st.st_mode))
            rc = add_support(k, full, below);
        else if (S_ISDIR(st.st_mode)) {
            char *next = dup_printf("%s/", below);
            rc = next ? walk_folder(k, dir, next, depth + 1)
                      : akv_fail(AKV_ENOMEM, "out of memory");
            free(next);
        } else
            rc = akv_fail(AKV_EINVAL, "%s: not a regular file or folder",
                          full);
        free(full);
        free(below);
    }
    closedir(d);
    free(here);
    return rc;
}

/* ---- pass 2: compare with the store ------------------------------------ */

/* The sandbox's own instruction entries: key, SHA-256, metadata. */
struct own {
    akv_meta *items;
    size_t n, cap;
};

static void own_free(struct own *o)
{
    for (size_t i = 0; i < o->n; i++)
        free((void *)o->items[i].metadata);
    free(o->items);
}

static int own_load(akv_store *store, const char *sandbox, struct own *o)
{
    akv_list_opts lo = {0};
    char cursor[AKV_KEY_MAX + 1];
    lo.limit = AKV_LIST_MAX_LIMIT;
    for (;;) {
        akv_list *l;
        int rc = akv_list_entries(store, sandbox, AKV_SCOPE_INSTRUCTIONS, &lo,
                                  &l);
        if (rc != AKV_OK)
            return rc;
        for (size_t i = 0; i < akv_list_count(l); i++) {
            const akv_meta *m = akv_list_item(l, i);
            if (strcmp(m->origin, sandbox) != 0)
                continue;
            if (o->n == o->cap) {
                size_t ncap = o->cap ? o->cap * 2 : 32;
                void *p = realloc(o->items, ncap * sizeof *o->items);
                if (p == NULL) {
                    akv_list_free(l);
                    return akv_fail(AKV_ENOMEM, "out of memory");
                }
                o->items = p;
                o->cap = ncap;
            }
            akv_meta *c = &o->items[o->n];
            *c = *m;
            c->metadata = NULL;
            if (m->metadata_len) {
                char *md = strndup(m->metadata, m->metadata_len);
                if (md == NULL) {
                    akv_list_free(l);
                    return akv_fail(AKV_ENOMEM, "out of memory");
                }
                c->metadata = md;
            }
            o->n++;
        }
        const char *next = akv_list_next_cursor(l);
        if (next == NULL) {
            akv_list_free(l);
            return AKV_OK;
        }
        snprintf(cursor, sizeof cursor, "%s", next);
        akv_list_free(l);
        lo.cursor = cursor;
        lo.cursor_len = strlen(cursor);
    }
}

/* The listing comes in key (byte) order, which is strcmp order for keys. */
static const akv_meta *own_find(const struct own *o, const char *key)
{
    size_t lo = 0, hi = o->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(o->items[mid].key, key);
        if (c == 0)
            return &o->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int json_str_eq(json_t *o, const char *field, const char *want)
{
    json_t *v = json_object_get(o, field);
    if (want == NULL)
        return v == NULL || json_is_null(v);
    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

/* 1 when the stored entry m already holds exactly what s would write;
 * *tokens receives its stored token count. AKV_ENOMEM (message set) when
 * that cannot be told for want of memory. */
static int same_as_stored(const struct set *s, const akv_meta *m,
                          uint64_t *tokens)
{
    unsigned char digest[32];
    char hex[AKV_SHA256_HEX + 1];
    akv_sha256(s->text, s->len, digest);
    akvx_hex_encode(digest, 32, hex);
    if (strcmp(hex, m->sha256) != 0 || strcmp(m->content_type,
                                              s->ctype) != 0 ||
        m->metadata == NULL)
        return 0;
    json_t *o;
    json_error_t jerr;
    int prc = akv_json_parse(m->metadata, strlen(m->metadata), 0, &o, &jerr);
    if (prc != AKV_OK)
        return prc == AKV_ENOMEM ? prc : 0;
    if (s->fm == NULL) {
        int same = json_str_eq(o, "source", s->rel) &&
                   json_object_size(o) == 1;
        json_decref(o);
        return same;
    }
    const char *desc = akv_frontmatter_get(s->fm, "description");
    json_t *tok = json_object_get(o, "tokens");
    int same = json_str_eq(o, "description", desc ? desc : "") &&
               json_str_eq(o, "declared_version",
                           akv_frontmatter_get(s->fm, "version")) &&
               json_str_eq(o, "source", s->rel) && json_is_integer(tok) &&
               json_integer_value(tok) >= 0;
    if (same)
        *tokens = (uint64_t)json_integer_value(tok);
    json_decref(o);
    return same;
}

static int build_meta(struct set *s)
{
    if (s->fm == NULL) {
        json_t *o = json_pack("{s:s}", "source", s->rel);
        s->meta = o ? akv_json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        return s->meta ? AKV_OK : akv_fail(AKV_ENOMEM, "out of memory");
    }
    const char *desc = akv_frontmatter_get(s->fm, "description");
    const char *ver = akv_frontmatter_get(s->fm, "version");
    json_t *o = json_object();
    if (o == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    int bad = json_object_set_new(o, "description",
                                  json_string(desc ? desc : ""));
    bad |= json_object_set_new(o, "declared_version",
                               ver ? json_string(ver) : json_null());
    bad |= json_object_set_new(o, "source", json_string(s->rel));
    bad |= json_object_set_new(o, "tokens",
                               json_integer((json_int_t)s->tokens));
    /* Out of memory: never store metadata with a field missing. */
    s->meta = bad ? NULL : akv_json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s->meta == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    if (strlen(s->meta) > AKV_METADATA_MAX)
        return akv_fail(AKV_EINVAL, "%s: front matter too large for the "
                        "entry metadata (over %d bytes)",
                        s->path, AKV_METADATA_MAX);
    return AKV_OK;
}

static int cmp_set_name(const void *a, const void *b)
{
    return strcmp(((const struct set *)a)->name,
                  ((const struct set *)b)->name);
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const akv_seed_item *)a)->name,
                  ((const akv_seed_item *)b)->name);
}

void akv_seed_report_free(akv_seed_report *r)
{
    if (r == NULL)
        return;
    free(r->items);
    free(r);
}

char *akv_seed_report_to_json(const akv_seed_report *r, const char *sandbox)
{
    json_t *items = json_array();
    json_t *o = json_object();
    if (items == NULL || o == NULL) {
        json_decref(items);
        json_decref(o);
        return NULL;
    }
    for (size_t i = 0; i < r->nitems; i++) {
        const akv_seed_item *it = &r->items[i];
        json_array_append_new(
            items,
            json_pack("{s:s,s:s,s:I,s:I,s:s}", "name", it->name, "action",
                      akv_seed_action_name(it->action), "version",
                      (json_int_t)it->version, "tokens",
                      (json_int_t)it->tokens, "source", it->source));
    }
    json_object_set_new(o, "sandbox", json_string(sandbox ? sandbox : ""));
    json_object_set_new(o, "dir", json_string(r->dir));
    json_object_set_new(o, "added", json_integer((json_int_t)r->added));
    json_object_set_new(o, "updated", json_integer((json_int_t)r->updated));
    json_object_set_new(o, "unchanged",
                        json_integer((json_int_t)r->unchanged));
    json_object_set_new(o, "removed", json_integer((json_int_t)r->removed));
    json_object_set_new(o, "items", items);
    char *text = akv_json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

/* ---- the seed ---------------------------------------------------------- */

/* One seed run: what each step reads and leaves for the next. */
struct seed_run {
    akv_store *store;
    const char *sandbox, *dir;
    const akv_seed_opts *opts;
    struct set *sets;  /* sorted by name after read_sets() */
    size_t nsets;
    struct own own;    /* the sandbox's instruction entries */
    bool *gone;        /* own.items[j] is removed (prune), or NULL */
    size_t nwrite, nremove;
    akv_batch_op *ops;
    akv_meta *metas;   /* the written entries' metadata, as ops */
    akv_seed_report *rep;
};

/* Pass 1: read and validate every set of dir; refuse duplicate names. */
static int read_sets(struct seed_run *r)
{
    int rc;
    if ((rc = find_sets(r->dir, &r->sets, &r->nsets)) != AKV_OK)
        return rc;
    uint64_t max = akv_config_max_value_size(akv_store_config(r->store));
    for (size_t i = 0; i < r->nsets; i++) {
        if (r->opts->progress)
            r->opts->progress(r->opts->progress_ctx, i, r->nsets);
        if ((rc = load_set(&r->sets[i], max)) != AKV_OK)
            return rc;
    }
    /* The supporting files of each skill folder, appended as their own
     * entries (the array moves: only heap strings are kept across). */
    size_t nfound = r->nsets, cap = r->nsets;
    for (size_t i = 0; i < nfound; i++) {
        if (strchr(r->sets[i].rel, '/') == NULL)
            continue;
        char *folder = dup_printf("%s/%s", r->dir, r->sets[i].stem);
        struct support_sink k = {.sets = &r->sets, .n = &r->nsets,
                                 .cap = &cap, .name = r->sets[i].name,
                                 .stem = r->sets[i].stem, .max = max};
        rc = folder ? walk_folder(&k, folder, "", 0)
                    : akv_fail(AKV_ENOMEM, "out of memory");
        free(folder);
        if (rc != AKV_OK)
            return rc;
    }
    qsort(r->sets, r->nsets, sizeof *r->sets, cmp_set_name);
    for (size_t i = 1; i < r->nsets; i++)
        if (strcmp(r->sets[i - 1].name, r->sets[i].name) == 0)
            return akv_fail(AKV_EINVAL,
                            "duplicate instruction name '%s': %s and %s",
                            r->sets[i].name, r->sets[i - 1].path,
                            r->sets[i].path);
    return AKV_OK;
}

/* Pass 2a: each set is unchanged, added or updated; those to write get
 * their token count and metadata. */
static int decide_writes(struct seed_run *r)
{
    const akv_encoding *enc = NULL;
    int rc;
    if ((rc = own_load(r->store, r->sandbox, &r->own)) != AKV_OK)
        return rc;
    for (size_t i = 0; i < r->nsets; i++) {
        struct set *s = &r->sets[i];
        const akv_meta *m = own_find(&r->own, s->name);
        int same = m && !r->opts->force ? same_as_stored(s, m, &s->tokens)
                                        : 0;
        if (same < 0)
            return same;
        if (same) {
            s->action = AKV_SEED_UNCHANGED;
            continue;
        }
        s->action = m ? AKV_SEED_UPDATED : AKV_SEED_ADDED;
        s->write = 1;
        r->nwrite++;
        if (s->fm) {
            /* The tokens of the whole value: what a fetch of it costs. */
            size_t count;
            if (enc == NULL &&
                (rc = akv_encoding_load(NULL, &enc)) != AKV_OK)
                return rc;
            if ((rc = akv_tokens_count(enc, s->text, s->len, &count)) !=
                AKV_OK)
                return rc;
            s->tokens = count;
        }
        if ((rc = build_meta(s)) != AKV_OK)
            return rc;
    }
    return AKV_OK;
}

/* Pass 2b: the seeded entries (metadata with a "source") that dir no
 * longer produces and that go: a supporting file NAME/PATH of a set NAME
 * seeded now (a skill's files are replaced as a whole), and with --prune
 * any of them. */
static int find_removals(struct seed_run *r)
{
    if (r->own.n == 0)
        return AKV_OK;
    r->gone = calloc(r->own.n, sizeof *r->gone);
    if (r->gone == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    for (size_t j = 0; j < r->own.n; j++) {
        const akv_meta *m = &r->own.items[j];
        struct set key = {.name = m->key};
        if (bsearch(&key, r->sets, r->nsets, sizeof *r->sets, cmp_set_name))
            continue;
        if (!r->opts->prune) {
            const char *slash = strchr(m->key, '/');
            char owner[AKV_KEY_MAX + 1];
            if (slash == NULL)
                continue;
            snprintf(owner, sizeof owner, "%.*s", (int)(slash - m->key),
                     m->key);
            key.name = owner;
            if (!bsearch(&key, r->sets, r->nsets, sizeof *r->sets,
                         cmp_set_name))
                continue;
        }
        json_t *o = NULL;
        json_error_t jerr;
        if (m->metadata &&
            akv_json_parse(m->metadata, strlen(m->metadata), 0, &o, &jerr) ==
                AKV_ENOMEM)
            return AKV_ENOMEM;
        r->gone[j] = json_is_string(json_object_get(o, "source"));
        json_decref(o);
        r->nremove += r->gone[j];
    }
    return AKV_OK;
}

/* Pass 3: the writes and removals in one transaction. */
static int write_all_sets(struct seed_run *r)
{
    size_t nops = r->nwrite + r->nremove;
    const akv_seed_opts *opts = r->opts;
    if (nops == 0) {
        if (opts->progress)
            opts->progress(opts->progress_ctx, r->nsets, r->nsets);
        return AKV_OK;
    }
    r->ops = calloc(nops, sizeof *r->ops);
    r->metas = calloc(nops, sizeof *r->metas);
    if (r->ops == NULL || r->metas == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < r->nsets; i++) {
        struct set *s = &r->sets[i];
        if (!s->write)
            continue;
        akv_batch_op *op = &r->ops[k++];
        op->key = s->name;
        op->key_len = strlen(s->name);
        op->value = s->text;
        op->value_len = s->len;
        akv_put_opts_init(&op->opts);
        op->opts.content_type = s->ctype;
        op->opts.metadata = s->meta;
        op->opts.metadata_len = strlen(s->meta);
    }
    for (size_t j = 0; r->gone && j < r->own.n; j++) {
        if (!r->gone[j])
            continue;
        r->ops[k].del = 1;
        r->ops[k].key = r->own.items[j].key;
        r->ops[k].key_len = r->own.items[j].key_len;
        k++;
    }
    if (opts->progress)
        opts->progress(opts->progress_ctx, r->nsets, r->nsets);
    return akv_batch_write(r->store, r->sandbox, AKV_SCOPE_INSTRUCTIONS,
                           r->ops, nops, r->metas);
}

/* The report, in r->rep's memory taken before the transaction: one item
 * per set and per removal, sorted by name. */
static void fill_report(struct seed_run *r)
{
    akv_seed_report *rep = r->rep;
    snprintf(rep->dir, sizeof rep->dir, "%s", r->dir);
    size_t k = 0;
    for (size_t i = 0; i < r->nsets; i++) {
        struct set *s = &r->sets[i];
        akv_seed_item *it = &rep->items[rep->nitems++];
        snprintf(it->name, sizeof it->name, "%s", s->name);
        snprintf(it->source, sizeof it->source, "%s", s->rel);
        it->action = s->action;
        it->tokens = s->tokens;
        if (s->write) {
            it->version = r->metas[k++].version;
        } else {
            const akv_meta *m = own_find(&r->own, s->name);
            it->version = m ? m->version : 0;
        }
        switch (s->action) {
        case AKV_SEED_ADDED: rep->added++; break;
        case AKV_SEED_UPDATED: rep->updated++; break;
        default: rep->unchanged++; break;
        }
    }
    for (size_t j = 0; r->gone && j < r->own.n; j++) {
        if (!r->gone[j])
            continue;
        akv_seed_item *it = &rep->items[rep->nitems++];
        snprintf(it->name, sizeof it->name, "%s", r->own.items[j].key);
        it->action = AKV_SEED_REMOVED;
        rep->removed++;
    }
    qsort(rep->items, rep->nitems, sizeof *rep->items, cmp_item);
}

int akv_seed(akv_store *store, const char *sandbox, const char *dir,
             const akv_seed_opts *opts, akv_seed_report **report)
{
    akv_seed_opts defaults = {0};
    char dirbuf[4096];
    int rc;

    akv_error_clear();
    if (report)
        *report = NULL;
    if (store == NULL || sandbox == NULL)
        return akv_fail(AKV_EINVAL, "seed: NULL argument");
    if ((rc = akv_sandbox_check(sandbox, strlen(sandbox))) != AKV_OK)
        return rc;
    if (opts == NULL)
        opts = &defaults;
    if (dir == NULL && (rc = akv_seed_default_dir(&dir)) != AKV_OK)
        return rc;
    /* "dir/" and "dir" name the same files; messages show one slash. */
    snprintf(dirbuf, sizeof dirbuf, "%s", dir);
    for (size_t l = strlen(dirbuf); l > 1 && dirbuf[l - 1] == '/'; l--)
        dirbuf[l - 1] = '\0';

    struct seed_run r = {.store = store, .sandbox = sandbox, .dir = dirbuf,
                         .opts = opts};
    if ((rc = read_sets(&r)) != AKV_OK || (rc = decide_writes(&r)) != AKV_OK ||
        (rc = find_removals(&r)) != AKV_OK)
        goto out;
    /* The report's memory, before anything is written: a seed that fails
     * for want of memory has changed nothing. */
    if (report) {
        r.rep = calloc(1, sizeof *r.rep);
        if (r.rep)
            r.rep->items = calloc(r.nsets + r.nremove + 1,
                                  sizeof *r.rep->items);
        if (r.rep == NULL || r.rep->items == NULL) {
            rc = akv_fail(AKV_ENOMEM, "out of memory");
            goto out;
        }
    }
    if ((rc = write_all_sets(&r)) != AKV_OK)
        goto out;
    if (report)
        fill_report(&r);

out:
    for (size_t i = 0; i < r.nsets; i++)
        set_free(&r.sets[i]);
    free(r.sets);
    own_free(&r.own);
    free(r.gone);
    free(r.ops);
    free(r.metas);
    if (rc == AKV_OK && report)
        *report = r.rep;
    else
        akv_seed_report_free(r.rep);
    return rc;
}

/* ---- reading sets for other commands ------------------------------------ */

int akv_sets_visit(const char *path, uint64_t max, akv_set_visitor fn,
                   void *arg)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return akv_fail(AKV_EINVAL, "%s: %s", path, strerror(errno));
    struct set *sets = NULL, one = {0};
    size_t n = 0;
    int rc = AKV_OK;
    if (S_ISDIR(st.st_mode)) {
        if ((rc = find_sets(path, &sets, &n)) != AKV_OK)
            return rc;
    } else {
        /* One file: its name gives the default set name, as in a seeded
         * directory (NAME.md, or NAME/SKILL.md). */
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        one.path = strdup(path);
        one.rel = strdup(base);
        if (strcmp(base, "SKILL.md") == 0 && slash && slash > path) {
            const char *b = slash;
            while (b > path && b[-1] != '/')
                b--;
            one.stem = strndup(b, (size_t)(slash - b));
        } else {
            size_t bl = strlen(base);
            one.stem = strndup(base, has_suffix_md(base) ? bl - 3 : bl);
        }
        if (one.path == NULL || one.rel == NULL || one.stem == NULL)
            rc = akv_fail(AKV_ENOMEM, "out of memory");
        sets = &one;
        n = 1;
    }
    for (size_t i = 0; i < n && rc == AKV_OK; i++) {
        if ((rc = load_set(&sets[i], max)) == AKV_OK)
            rc = fn(arg, sets[i].name,
                    akv_frontmatter_get(sets[i].fm, "description"),
                    sets[i].path);
    }
    for (size_t i = 0; i < n; i++)
        set_free(&sets[i]);
    if (sets != &one)
        free(sets);
    return rc;
}

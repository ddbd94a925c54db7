/*
 * memory.c — akv_memory: executes one command of Anthropic's client-side
 * memory tool (memory_20250818: view, create, str_replace, insert, delete,
 * rename on paths under /memories) against one namespace of the store.
 *
 * The tool's files are entries: the path /memories/REL is the key
 * "memories/REL" of the chosen scope, so that the tool's files sit beside
 * the sandbox's other keys without mixing with them. Directories are not
 * stored; a directory is any path some key lies under. Every path is
 * validated before anything is read: it must be /memories or lie under it,
 * with no empty, "." or ".." segment, and the key it maps to must pass
 * akv_key_check (length, control characters). What a directory on disk
 * cannot give comes from the store: edits (str_replace, insert) are
 * compare-and-swap on the entry's SHA-256, retried a few times when another
 * writer got in between and reported if it keeps happening, so no
 * concurrent edit is lost; create never overwrites (create-only put);
 * rename and directory delete are one batch, all or nothing; quotas and
 * the value size limit apply as to any put.
 *
 * Results are the texts the tool returns to the model. A failure returns
 * the error code of SPEC.md §2 with the tool's error text ("Error: ...")
 * both in *out and in akv_last_error().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

#define ROOT "/memories"
#define ROOT_LEN (sizeof ROOT - 1)
#define KEY_PREFIX "memories/"
#define KEY_PREFIX_LEN (sizeof KEY_PREFIX - 1)
/* Edits retried this many times when the entry changed under them. */
#define CAS_ATTEMPTS 8
/* Directory deletes and renames move at most this many files (one batch). */
#define DIR_MAX 1000
#define TEXT_CT "text/plain; charset=utf-8"

static void bprintf(struct akv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bprintf(struct akv_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[512];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        akv_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    akv_buf_add(b, big, (size_t)n);
    free(big);
}

/* Text arguments must be UTF-8 strings (jansson guarantees it) without
 * NUL bytes, which the tool's text files never hold. */
static const char *text_arg(json_t *cmd, const char *name, size_t *len)
{
    json_t *v = json_object_get(cmd, name);
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    const char *t = json_string_value(v);
    return memchr(t, 0, *len) ? NULL : t;
}

/* Ends the command with rc and the text in b as *out; for a failure the
 * text is also the thread's last error. */
static int finish(int rc, struct akv_buf *b, char **out)
{
    if (b->oom) {
        free(b->p);
        *out = NULL;
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    if (b->p == NULL && (b->p = strdup("")) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    *out = b->p;
    if (rc != AKV_OK)
        akv_fail(rc, "%s", b->p);
    else
        akv_error_clear();
    return rc;
}

static int fail_text(struct akv_buf *b, char **out, int rc, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static int fail_text(struct akv_buf *b, char **out, int rc, const char *fmt,
                     ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
    akv_buf_str(b, msg);
    return finish(rc, b, out);
}

/* A validated path: the key it maps to (for the root, the prefix every
 * key of the tool starts with) and the path as shown back. */
struct mpath {
    char key[AKV_KEY_MAX + 2];
    size_t key_len;
    int root;
    char shown[AKV_KEY_MAX + 8];
};

/* Parses path into p; on failure, the tool's error text in msg. */
static int path_parse(const char *path, size_t len, struct mpath *p,
                      char *msg, size_t msgcap)
{
    char q[AKV_QUOTE_BUF];
    memset(p, 0, sizeof *p);
    if (len < ROOT_LEN || memcmp(path, ROOT, ROOT_LEN) != 0 ||
        (len > ROOT_LEN && path[ROOT_LEN] != '/')) {
        snprintf(msg, msgcap,
                 "Error: The path %s is outside /memories; every path must "
                 "start with /memories",
                 akv_quote(q, path, len));
        return AKV_EINVAL;
    }
    const char *rel = path + ROOT_LEN;
    size_t rlen = len - ROOT_LEN;
    if (rlen > 0) { /* skip the slash after /memories */
        rel++;
        rlen--;
    }
    if (rlen > 0 && rel[rlen - 1] == '/') /* one trailing slash: a directory */
        rlen--;
    if (rlen == 0) {
        p->root = 1;
        memcpy(p->key, KEY_PREFIX, KEY_PREFIX_LEN);
        p->key_len = KEY_PREFIX_LEN;
        snprintf(p->shown, sizeof p->shown, "%s", ROOT);
        return AKV_OK;
    }
    for (size_t i = 0; i < rlen;) {
        size_t j = i;
        while (j < rlen && rel[j] != '/')
            j++;
        size_t seg = j - i;
        if (seg == 0 || (seg == 1 && rel[i] == '.') ||
            (seg == 2 && rel[i] == '.' && rel[i + 1] == '.')) {
            snprintf(msg, msgcap,
                     "Error: The path %s is not valid: empty, '.' and '..' "
                     "segments are not allowed",
                     akv_quote(q, path, len));
            return AKV_EINVAL;
        }
        i = j + 1;
    }
    if (KEY_PREFIX_LEN + rlen > AKV_KEY_MAX) {
        snprintf(msg, msgcap,
                 "Error: The path %s is too long (at most %zu bytes after "
                 "/memories/)",
                 akv_quote(q, path, len), (size_t)AKV_KEY_MAX - KEY_PREFIX_LEN);
        return AKV_EINVAL;
    }
    memcpy(p->key, KEY_PREFIX, KEY_PREFIX_LEN);
    memcpy(p->key + KEY_PREFIX_LEN, rel, rlen);
    p->key_len = KEY_PREFIX_LEN + rlen;
    p->key[p->key_len] = '\0';
    if (akv_key_check(p->key, p->key_len) != AKV_OK) {
        snprintf(msg, msgcap, "Error: The path %s is not valid: %.400s",
                 akv_quote(q, path, len), akv_last_error()->message);
        return AKV_EINVAL;
    }
    snprintf(p->shown, sizeof p->shown, "/%.*s", (int)p->key_len, p->key);
    return AKV_OK;
}

/* A copy of one entry, taken so that no read snapshot is held across the
 * write that follows. */
struct file {
    char *data;
    size_t len;
    char sha[AKV_SHA256_HEX + 1];
    char ct[AKV_CONTENT_TYPE_MAX + 1];
    char *metadata;
    size_t metadata_len;
};

static void file_free(struct file *f)
{
    free(f->data);
    free(f->metadata);
    memset(f, 0, sizeof *f);
}

static int file_load(akv_store *s, const char *sb, akv_scope scope,
                     const char *key, size_t klen, struct file *f)
{
    akv_value *v = NULL;
    memset(f, 0, sizeof *f);
    int rc = akv_get(s, sb, scope, key, klen, &v);
    if (rc != AKV_OK)
        return rc;
    size_t len;
    const void *d = akv_value_data(v, &len);
    const akv_meta *m = akv_value_meta(v);
    f->data = malloc(len + 1);
    f->metadata = m->metadata ? malloc(m->metadata_len + 1) : NULL;
    if (f->data == NULL || (m->metadata && f->metadata == NULL)) {
        akv_value_release(v);
        file_free(f);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    memcpy(f->data, d, len);
    f->data[len] = '\0';
    f->len = len;
    if (m->metadata) {
        memcpy(f->metadata, m->metadata, m->metadata_len);
        f->metadata_len = m->metadata_len;
    }
    snprintf(f->sha, sizeof f->sha, "%s", m->sha256);
    snprintf(f->ct, sizeof f->ct, "%s", m->content_type);
    akv_value_release(v);
    return AKV_OK;
}

/* One file under a directory, as listed. */
struct item {
    char key[AKV_KEY_MAX + 1];
    size_t key_len;
    uint64_t size;
    char sha[AKV_SHA256_HEX + 1]; /* as read: deletes are conditional on it */
};

/* Lists the keys under prefix (which ends with '/'), at most max of them
 * (AKV_EINVAL with *n = max + 1 when there are more). Owned: free(*out). */
static int list_under(akv_store *s, const char *sb, akv_scope scope,
                      const char *prefix, size_t plen, size_t max,
                      struct item **out, size_t *n)
{
    struct item *items = NULL;
    size_t cnt = 0, cap = 0;
    char cursor[AKV_KEY_MAX + 1] = "";
    int rc = AKV_OK;
    *out = NULL;
    *n = 0;
    for (;;) {
        akv_list_opts o = {.prefix = prefix, .prefix_len = plen,
                           .cursor = cursor[0] ? cursor : NULL,
                           .cursor_len = strlen(cursor)};
        akv_list *l = NULL;
        if ((rc = akv_list_entries(s, sb, scope, &o, &l)) != AKV_OK)
            break;
        for (size_t i = 0; i < akv_list_count(l); i++) {
            const akv_meta *m = akv_list_item(l, i);
            if (cnt == max) {
                *n = max + 1;
                akv_list_free(l);
                free(items);
                return AKV_EINVAL;
            }
            if (cnt == cap) {
                size_t nc = cap ? cap * 2 : 32;
                struct item *ni = realloc(items, nc * sizeof *ni);
                if (ni == NULL) {
                    akv_list_free(l);
                    free(items);
                    return akv_fail(AKV_ENOMEM, "out of memory");
                }
                items = ni;
                cap = nc;
            }
            memcpy(items[cnt].key, m->key, m->key_len + 1);
            items[cnt].key_len = m->key_len;
            items[cnt].size = m->size;
            snprintf(items[cnt].sha, sizeof items[cnt].sha, "%s", m->sha256);
            cnt++;
        }
        const char *next = akv_list_next_cursor(l);
        if (next)
            snprintf(cursor, sizeof cursor, "%s", next);
        akv_list_free(l);
        if (next == NULL)
            break;
    }
    if (rc != AKV_OK) {
        free(items);
        return rc;
    }
    *out = items;
    *n = cnt;
    return AKV_OK;
}

/* Whether any key lies under the directory p (1), none (0), or an error. */
static int is_dir(akv_store *s, const char *sb, akv_scope scope,
                  const struct mpath *p)
{
    char prefix[AKV_KEY_MAX + 2];
    size_t plen = p->key_len;
    memcpy(prefix, p->key, plen);
    if (!p->root)
        prefix[plen++] = '/';
    akv_list_opts o = {.prefix = prefix, .prefix_len = plen, .limit = 1};
    akv_list *l = NULL;
    int rc = akv_list_entries(s, sb, scope, &o, &l);
    if (rc != AKV_OK)
        return rc;
    int any = akv_list_count(l) > 0;
    akv_list_free(l);
    return any;
}

/* Whether the path exists as a file or directory: 1/0 or an error. */
static int exists(akv_store *s, const char *sb, akv_scope scope,
                  const struct mpath *p)
{
    if (!p->root) {
        akv_value *v = NULL;
        int rc = akv_get(s, sb, scope, p->key, p->key_len, &v);
        if (rc == AKV_OK) {
            akv_value_release(v);
            return 1;
        }
        if (rc != AKV_ENOTFOUND)
            return rc;
    }
    return is_dir(s, sb, scope, p);
}

/* The first ancestor of p that is a file (its key length in *alen), so
 * that a file cannot be created under a file: 1/0 or an error. */
static int file_ancestor(akv_store *s, const char *sb, akv_scope scope,
                         const struct mpath *p, size_t *alen)
{
    for (size_t i = KEY_PREFIX_LEN; i < p->key_len; i++) {
        if (p->key[i] != '/')
            continue;
        akv_value *v = NULL;
        int rc = akv_get(s, sb, scope, p->key, i, &v);
        if (rc == AKV_OK) {
            akv_value_release(v);
            *alen = i;
            return 1;
        }
        if (rc != AKV_ENOTFOUND)
            return rc;
    }
    return 0;
}

/* Line starts of text: lines are separated by '\n'; a final '\n' does not
 * open another line. Owned: free(*starts). */
static int split_lines(const char *t, size_t len, size_t **starts, size_t *n)
{
    size_t cnt = 0;
    for (size_t i = 0; i < len; i++)
        if (t[i] == '\n')
            cnt++;
    if (len > 0 && t[len - 1] != '\n')
        cnt++;
    size_t *st = malloc((cnt + 1) * sizeof *st);
    if (st == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    size_t k = 0;
    if (len > 0)
        st[k++] = 0;
    for (size_t i = 0; i < len; i++)
        if (t[i] == '\n' && i + 1 < len)
            st[k++] = i + 1;
    st[cnt] = len; /* sentinel: the end */
    *starts = st;
    *n = cnt;
    return AKV_OK;
}

static void human_size(uint64_t n, char buf[32])
{
    if (n < 1024)
        snprintf(buf, 32, "%lluB", (unsigned long long)n);
    else if (n < 1024ull * 1024)
        snprintf(buf, 32, "%.1fK", (double)n / 1024);
    else if (n < 1024ull * 1024 * 1024)
        snprintf(buf, 32, "%.1fM", (double)n / (1024.0 * 1024));
    else
        snprintf(buf, 32, "%.1fG", (double)n / (1024.0 * 1024 * 1024));
}

struct node {
    char rel[AKV_KEY_MAX + 1]; /* path relative to the viewed directory */
    uint64_t size;
    int dir;
};

static int node_cmp(const void *a, const void *b)
{
    return strcmp(((const struct node *)a)->rel,
                  ((const struct node *)b)->rel);
}

/* view of a directory: its files and directories up to 2 levels deep,
 * hidden ones (a segment starting with '.') left out, with sizes (a
 * directory's is the sum of its files'). */
static int view_dir(akv_store *s, const char *sb, akv_scope scope,
                    const struct mpath *p, struct akv_buf *b, char **out)
{
    char prefix[AKV_KEY_MAX + 2];
    size_t plen = p->key_len;
    memcpy(prefix, p->key, plen);
    if (!p->root)
        prefix[plen++] = '/';
    struct item *items = NULL;
    size_t n = 0;
    int rc = list_under(s, sb, scope, prefix, plen, AKV_LIST_MAX_LIMIT,
                        &items, &n);
    if (rc == AKV_EINVAL && n > AKV_LIST_MAX_LIMIT)
        return fail_text(b, out, AKV_ETOOLARGE,
                         "Error: %s holds more than %d files; view a "
                         "subdirectory",
                         p->shown, AKV_LIST_MAX_LIMIT);
    if (rc != AKV_OK)
        return fail_text(b, out, rc, "Error: %s", akv_last_error()->message);
    /* Keys come sorted, so the keys under one directory are contiguous:
     * the last node at each depth is the only one a key can add to. */
    struct node *nodes = calloc(2 * n + 1, sizeof *nodes);
    if (nodes == NULL) {
        free(items);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    size_t nn = 0, last[2] = {SIZE_MAX, SIZE_MAX};
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rel = items[i].key + plen;
        size_t rlen = items[i].key_len - plen;
        int hidden = 0;
        for (size_t j = 0; j < rlen; j++)
            if (rel[j] == '.' && (j == 0 || rel[j - 1] == '/'))
                hidden = 1;
        if (hidden)
            continue;
        total += items[i].size;
        size_t end = 0;
        for (int depth = 0; depth < 2 && end < rlen; depth++) {
            size_t j = end ? end + 1 : 0;
            while (j < rlen && rel[j] != '/')
                j++;
            int dir = j < rlen;
            if (last[depth] != SIZE_MAX &&
                strlen(nodes[last[depth]].rel) == j &&
                memcmp(nodes[last[depth]].rel, rel, j) == 0) {
                nodes[last[depth]].size += items[i].size;
            } else {
                memcpy(nodes[nn].rel, rel, j);
                nodes[nn].rel[j] = '\0';
                nodes[nn].size = items[i].size;
                nodes[nn].dir = dir;
                last[depth] = nn++;
                if (depth == 0)
                    last[1] = SIZE_MAX;
            }
            end = j;
        }
    }
    qsort(nodes, nn, sizeof *nodes, node_cmp);
    char hs[32];
    human_size(total, hs);
    bprintf(b,
            "Here're the files and directories up to 2 levels deep in %s, "
            "excluding hidden items:\n%s\t%s\n",
            p->shown, hs, p->shown);
    for (size_t i = 0; i < nn; i++) {
        human_size(nodes[i].size, hs);
        bprintf(b, "%s\t%s/%s%s\n", hs, p->shown, nodes[i].rel,
                nodes[i].dir ? "/" : "");
    }
    free(nodes);
    free(items);
    return finish(AKV_OK, b, out);
}

static int cmd_view(akv_store *s, const char *sb, akv_scope scope,
                    json_t *cmd, struct akv_buf *b, char **out)
{
    char msg[1024];
    struct mpath p;
    size_t path_len = 0;
    const char *path = text_arg(cmd, "path", &path_len);
    if (path == NULL)
        return fail_text(b, out, AKV_EINVAL,
                         "Error: view needs a string \"path\"");
    if (path_parse(path, path_len, &p, msg, sizeof msg) != AKV_OK)
        return fail_text(b, out, AKV_EINVAL, "%s", msg);
    struct file f;
    int rc = p.root ? AKV_ENOTFOUND
                    : file_load(s, sb, scope, p.key, p.key_len, &f);
    if (rc == AKV_ENOTFOUND) {
        int d = is_dir(s, sb, scope, &p);
        if (d < 0)
            return fail_text(b, out, d, "Error: %s",
                             akv_last_error()->message);
        if (d == 0 && !p.root)
            return fail_text(b, out, AKV_ENOTFOUND,
                             "Error: The path %s does not exist. Please "
                             "provide a valid path.",
                             p.shown);
        return view_dir(s, sb, scope, &p, b, out);
    }
    if (rc != AKV_OK)
        return fail_text(b, out, rc, "Error: %s", akv_last_error()->message);
    if (!akvx_utf8_valid(f.data, f.len) || memchr(f.data, 0, f.len)) {
        file_free(&f);
        return fail_text(b, out, AKV_EINVAL,
                         "Error: %s is not a UTF-8 text file", p.shown);
    }
    size_t *st = NULL, nl = 0;
    if ((rc = split_lines(f.data, f.len, &st, &nl)) != AKV_OK) {
        file_free(&f);
        return rc;
    }
    size_t from = 1, to = nl;
    json_t *range = json_object_get(cmd, "view_range");
    if (range && !json_is_null(range)) {
        json_t *a = json_array_get(range, 0), *z = json_array_get(range, 1);
        if (!json_is_array(range) || json_array_size(range) != 2 ||
            !json_is_integer(a) || !json_is_integer(z) ||
            json_integer_value(a) < 1 ||
            (size_t)json_integer_value(a) > (nl ? nl : 1) ||
            (json_integer_value(z) != -1 &&
             (json_integer_value(z) < json_integer_value(a) ||
              (size_t)json_integer_value(z) > nl))) {
            free(st);
            file_free(&f);
            return fail_text(b, out, AKV_EINVAL,
                             "Error: Invalid view_range: expected [start, "
                             "end] with 1 <= start <= end <= %zu (the "
                             "file's lines), or end = -1 for the last line",
                             nl);
        }
        from = (size_t)json_integer_value(a);
        if (json_integer_value(z) != -1)
            to = (size_t)json_integer_value(z);
    }
    bprintf(b, "Here's the content of %s with line numbers:\n", p.shown);
    for (size_t i = from; i <= to && i <= nl; i++) {
        size_t a = st[i - 1], z = st[i];
        if (z > a && f.data[z - 1] == '\n')
            z--;
        bprintf(b, "%6zu\t", i);
        akv_buf_add(b, f.data + a, z - a);
        akv_buf_add(b, "\n", 1);
    }
    free(st);
    file_free(&f);
    return finish(AKV_OK, b, out);
}

static int put_fail(struct akv_buf *b, char **out, int rc,
                    const struct mpath *p)
{
    const akv_error *e = akv_last_error();
    if (rc == AKV_EQUOTA) {
        /* Keep the figures for front ends that report them (HTTP 507). */
        akv_error q = *e;
        rc = fail_text(b, out, rc,
                       "Error: Cannot write %s: the %s scope's quota "
                       "would be exceeded (%llu of %llu bytes used, %llu "
                       "needed)",
                       p->shown, q.scope, (unsigned long long)q.used,
                       (unsigned long long)q.quota,
                       (unsigned long long)q.would_be);
        snprintf(q.message, sizeof q.message, "%s", *out ? *out : "");
        akv_error_restore(&q);
        return rc;
    }
    return fail_text(b, out, rc, "Error: Cannot write %s: %s", p->shown,
                     e->message);
}

static int cmd_create(akv_store *s, const char *sb, akv_scope scope,
                      json_t *cmd, struct akv_buf *b, char **out)
{
    char msg[1024];
    struct mpath p;
    size_t tlen = 0, alen = 0;
    size_t path_len = 0;
    const char *path = text_arg(cmd, "path", &path_len);
    const char *text = text_arg(cmd, "file_text", &tlen);
    if (path == NULL || text == NULL)
        return fail_text(b, out, AKV_EINVAL,
                         "Error: create needs a string \"path\" and a string "
                         "\"file_text\" (without NUL characters)");
    if (path_parse(path, path_len, &p, msg, sizeof msg) != AKV_OK)
        return fail_text(b, out, AKV_EINVAL, "%s", msg);
    if (p.root)
        return fail_text(b, out, AKV_EINVAL,
                         "Error: %s is a directory; create a file under it",
                         ROOT);
    int rc = is_dir(s, sb, scope, &p);
    if (rc == 1)
        return fail_text(b, out, AKV_EPRECONDITION,
                         "Error: %s is a directory", p.shown);
    if (rc == 0 && (rc = file_ancestor(s, sb, scope, &p, &alen)) == 1)
        return fail_text(b, out, AKV_EPRECONDITION,
                         "Error: /%.*s is a file, not a directory",
                         (int)alen, p.key);
    if (rc < 0)
        return fail_text(b, out, rc, "Error: %s", akv_last_error()->message);
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.content_type = TEXT_CT;
    o.create_only = 1;
    rc = akv_put(s, sb, scope, p.key, p.key_len, text, tlen, &o, NULL, NULL);
    if (rc == AKV_EPRECONDITION)
        return fail_text(b, out, rc, "Error: File %s already exists",
                         p.shown);
    if (rc != AKV_OK)
        return put_fail(b, out, rc, &p);
    bprintf(b, "File created successfully at: %s", p.shown);
    return finish(AKV_OK, b, out);
}

/* Line number (1-based) of byte offset off in t. */
static size_t line_of(const char *t, size_t off)
{
    size_t n = 1;
    for (size_t i = 0; i < off; i++)
        if (t[i] == '\n')
            n++;
    return n;
}

/* Finds needle in hay[0..hlen) from start. */
static const char *find(const char *hay, size_t hlen, size_t start,
                        const char *needle, size_t nlen)
{
    if (nlen == 0 || hlen < nlen)
        return NULL;
    for (size_t i = start; i + nlen <= hlen; i++) {
        const char *c = memchr(hay + i, needle[0], hlen - nlen + 1 - i);
        if (c == NULL)
            return NULL;
        i = (size_t)(c - hay);
        if (memcmp(c, needle, nlen) == 0)
            return c;
    }
    return NULL;
}

/* The edit a compare-and-swap loop applies to the current text: fills
 * *res (owned) or returns a tool error through b/out. */
struct edit {
    const char *old_s, *new_s;
    size_t old_len, new_len;
    int insert;          /* 1: insert new_s after line `line` */
    json_int_t line;
};

static int apply_edit(const struct edit *e, const struct file *f,
                      const struct mpath *p, struct akv_buf *res,
                      struct akv_buf *b, char **out, int *done)
{
    *done = 0;
    if (e->insert) {
        size_t *st = NULL, nl = 0;
        int rc = split_lines(f->data, f->len, &st, &nl);
        if (rc != AKV_OK)
            return rc;
        if (e->line < 0 || (uint64_t)e->line > nl) {
            free(st);
            *done = 1;
            return fail_text(b, out, AKV_EINVAL,
                             "Error: Invalid `insert_line` parameter: %lld. "
                             "It should be within the range of lines of the "
                             "file: [0, %zu]",
                             (long long)e->line, nl);
        }
        size_t at = st[e->line];
        free(st);
        akv_buf_add(res, f->data, at);
        if (at == f->len && at > 0 && f->data[at - 1] != '\n')
            akv_buf_add(res, "\n", 1);
        akv_buf_add(res, e->new_s, e->new_len);
        if (e->new_len > 0 && e->new_s[e->new_len - 1] != '\n' &&
            (at < f->len || e->line == 0))
            akv_buf_add(res, "\n", 1);
        akv_buf_add(res, f->data + at, f->len - at);
        return AKV_OK;
    }
    const char *hit = find(f->data, f->len, 0, e->old_s, e->old_len);
    if (hit == NULL) {
        *done = 1;
        return fail_text(b, out, AKV_EPRECONDITION,
                         "No replacement was performed, old_str `%.*s` did "
                         "not appear verbatim in %s.",
                         (int)(e->old_len > 200 ? 200 : e->old_len),
                         e->old_s, p->shown);
    }
    const char *again = find(f->data, f->len, (size_t)(hit - f->data) + 1,
                             e->old_s, e->old_len);
    if (again) {
        char lines[256];
        size_t used = 0;
        lines[0] = '\0';
        for (const char *h = hit; h && used < sizeof lines - 24;
             h = find(f->data, f->len, (size_t)(h - f->data) + 1, e->old_s,
                      e->old_len))
            used += (size_t)snprintf(lines + used, sizeof lines - used,
                                     "%s%zu", used ? ", " : "",
                                     line_of(f->data, (size_t)(h - f->data)));
        *done = 1;
        return fail_text(b, out, AKV_EPRECONDITION,
                         "No replacement was performed. Multiple occurrences "
                         "of old_str `%.*s` in lines: %s. Please ensure it is "
                         "unique",
                         (int)(e->old_len > 200 ? 200 : e->old_len),
                         e->old_s, lines);
    }
    size_t off = (size_t)(hit - f->data);
    akv_buf_add(res, f->data, off);
    akv_buf_add(res, e->new_s, e->new_len);
    akv_buf_add(res, hit + e->old_len, f->len - off - e->old_len);
    return AKV_OK;
}

/* str_replace and insert: read, edit, write back only if the entry still
 * has the SHA-256 that was read; on a conflict, read again. */
static int edit_cas(akv_store *s, const char *sb, akv_scope scope,
                    const struct mpath *p, const struct edit *e,
                    struct akv_buf *b, char **out)
{
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        struct file f;
        int rc = file_load(s, sb, scope, p->key, p->key_len, &f);
        if (rc == AKV_ENOTFOUND)
            return fail_text(b, out, rc,
                             "Error: The path %s does not exist. Please "
                             "provide a valid path.",
                             p->shown);
        if (rc != AKV_OK)
            return fail_text(b, out, rc, "Error: %s",
                             akv_last_error()->message);
        struct akv_buf res = {0};
        int done = 0;
        rc = apply_edit(e, &f, p, &res, b, out, &done);
        if (done || rc != AKV_OK) {
            free(res.p);
            file_free(&f);
            return rc;
        }
        if (res.oom) {
            free(res.p);
            file_free(&f);
            return akv_fail(AKV_ENOMEM, "out of memory");
        }
        akv_put_opts o;
        akv_put_opts_init(&o);
        o.content_type = f.ct;
        o.metadata = f.metadata;
        o.metadata_len = f.metadata_len;
        o.if_match = f.sha;
        rc = akv_put(s, sb, scope, p->key, p->key_len, res.p ? res.p : "",
                     res.len, &o, NULL, NULL);
        free(res.p);
        file_free(&f);
        if (rc == AKV_EPRECONDITION)
            continue; /* changed (or deleted) since it was read */
        if (rc != AKV_OK)
            return put_fail(b, out, rc, p);
        if (e->insert)
            bprintf(b, "The file %s has been edited.", p->shown);
        else
            bprintf(b, "The memory file has been edited.");
        return finish(AKV_OK, b, out);
    }
    return fail_text(b, out, AKV_EPRECONDITION,
                     "Error: %s kept changing during the edit (%d attempts); "
                     "nothing was changed, view it and try again",
                     p->shown, CAS_ATTEMPTS);
}

static int cmd_edit(akv_store *s, const char *sb, akv_scope scope,
                    json_t *cmd, int insert, struct akv_buf *b, char **out)
{
    char msg[1024];
    struct mpath p;
    struct edit e = {.insert = insert};
    size_t path_len = 0;
    const char *path = text_arg(cmd, "path", &path_len);
    if (insert) {
        json_t *line = json_object_get(cmd, "insert_line");
        e.new_s = text_arg(cmd, "insert_text", &e.new_len);
        if (path == NULL || e.new_s == NULL || !json_is_integer(line))
            return fail_text(b, out, AKV_EINVAL,
                             "Error: insert needs a string \"path\", an "
                             "integer \"insert_line\" and a string "
                             "\"insert_text\" (without NUL characters)");
        e.line = json_integer_value(line);
    } else {
        e.old_s = text_arg(cmd, "old_str", &e.old_len);
        e.new_s = text_arg(cmd, "new_str", &e.new_len);
        if (json_object_get(cmd, "new_str") == NULL) {
            e.new_s = "";
            e.new_len = 0;
        }
        if (path == NULL || e.old_s == NULL || e.new_s == NULL ||
            e.old_len == 0)
            return fail_text(b, out, AKV_EINVAL,
                             "Error: str_replace needs a string \"path\", a "
                             "non-empty string \"old_str\" and a string "
                             "\"new_str\" (without NUL characters)");
    }
    if (path_parse(path, path_len, &p, msg, sizeof msg) != AKV_OK)
        return fail_text(b, out, AKV_EINVAL, "%s", msg);
    if (p.root)
        return fail_text(b, out, AKV_EINVAL, "Error: %s is a directory",
                         ROOT);
    return edit_cas(s, sb, scope, &p, &e, b, out);
}

/* Copies of the files a directory delete or rename moves. */
struct moved {
    struct item *items;
    size_t n;
    struct file *files;
};

static void moved_free(struct moved *m)
{
    for (size_t i = 0; m->files && i < m->n; i++)
        file_free(&m->files[i]);
    free(m->files);
    free(m->items);
}

/* Collects the files at p: the file itself, or every file under the
 * directory (with their contents when load is set). */
static int collect(akv_store *s, const char *sb, akv_scope scope,
                   const struct mpath *p, int load, struct moved *m,
                   struct akv_buf *b, char **out)
{
    memset(m, 0, sizeof *m);
    akv_value *v = NULL;
    int rc = p->root ? AKV_ENOTFOUND
                     : akv_get(s, sb, scope, p->key, p->key_len, &v);
    if (rc == AKV_OK) {
        m->items = calloc(1, sizeof *m->items);
        if (m->items == NULL) {
            akv_value_release(v);
            return akv_fail(AKV_ENOMEM, "out of memory");
        }
        memcpy(m->items[0].key, p->key, p->key_len + 1);
        m->items[0].key_len = p->key_len;
        snprintf(m->items[0].sha, sizeof m->items[0].sha, "%s",
                 akv_value_meta(v)->sha256);
        akv_value_release(v);
        m->n = 1;
    } else if (rc == AKV_ENOTFOUND) {
        char prefix[AKV_KEY_MAX + 2];
        size_t plen = p->key_len;
        memcpy(prefix, p->key, plen);
        if (!p->root)
            prefix[plen++] = '/';
        size_t n = 0;
        rc = list_under(s, sb, scope, prefix, plen, DIR_MAX, &m->items, &n);
        if (rc == AKV_EINVAL && n > DIR_MAX)
            return fail_text(b, out, AKV_ETOOLARGE,
                             "Error: %s holds more than %d files, more than "
                             "one command moves at once",
                             p->shown, DIR_MAX);
        if (rc != AKV_OK)
            return fail_text(b, out, rc, "Error: %s",
                             akv_last_error()->message);
        m->n = n;
        if (n == 0)
            return fail_text(b, out, AKV_ENOTFOUND,
                             "Error: The path %s does not exist", p->shown);
    } else {
        return fail_text(b, out, rc, "Error: %s", akv_last_error()->message);
    }
    if (!load)
        return AKV_OK;
    m->files = calloc(m->n, sizeof *m->files);
    if (m->files == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        rc = file_load(s, sb, scope, m->items[i].key, m->items[i].key_len,
                       &m->files[i]);
        if (rc == AKV_ENOTFOUND)
            return fail_text(b, out, AKV_EPRECONDITION,
                             "Error: /%s was deleted meanwhile; nothing was "
                             "changed",
                             m->items[i].key);
        if (rc != AKV_OK)
            return fail_text(b, out, rc, "Error: %s",
                             akv_last_error()->message);
    }
    return AKV_OK;
}

/* Test seam (internal.h): runs between reading what a rename or delete
 * moves and applying its batch. */
void (*akv_memory_move_hook)(void *ctx);
void *akv_memory_move_hook_ctx;

static void move_hook(void)
{
    if (akv_memory_move_hook)
        akv_memory_move_hook(akv_memory_move_hook_ctx);
}

/* Deletes the files collected at p in one batch, each delete conditional on
 * the SHA-256 it was listed with. Sets *again when one changed meanwhile. */
static int delete_once(akv_store *s, const char *sb, akv_scope scope,
                       const struct mpath *p, int *again, struct akv_buf *b,
                       char **out)
{
    struct moved m;
    int rc = collect(s, sb, scope, p, 0, &m, b, out);
    if (rc != AKV_OK) {
        moved_free(&m);
        return rc;
    }
    akv_batch_op *ops = calloc(m.n, sizeof *ops);
    if (ops == NULL) {
        moved_free(&m);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m.n; i++) {
        ops[i].del = 1;
        ops[i].key = m.items[i].key;
        ops[i].key_len = m.items[i].key_len;
        ops[i].opts.if_match = m.items[i].sha;
    }
    move_hook();
    rc = akv_batch_write(s, sb, scope, ops, m.n, NULL);
    free(ops);
    moved_free(&m);
    if (rc == AKV_EPRECONDITION) {
        *again = 1; /* a file changed since it was listed */
        return rc;
    }
    if (rc != AKV_OK)
        return fail_text(b, out, rc, "Error: Cannot delete %s: %s", p->shown,
                         akv_last_error()->message);
    bprintf(b, "Successfully deleted %s", p->shown);
    return finish(AKV_OK, b, out);
}

static int cmd_delete(akv_store *s, const char *sb, akv_scope scope,
                      json_t *cmd, struct akv_buf *b, char **out)
{
    char msg[1024];
    struct mpath p;
    size_t path_len = 0;
    const char *path = text_arg(cmd, "path", &path_len);
    if (path == NULL)
        return fail_text(b, out, AKV_EINVAL,
                         "Error: delete needs a string \"path\"");
    if (path_parse(path, path_len, &p, msg, sizeof msg) != AKV_OK)
        return fail_text(b, out, AKV_EINVAL, "%s", msg);
    if (p.root)
        return fail_text(b, out, AKV_EINVAL,
                         "Error: %s itself cannot be deleted", ROOT);
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        int again = 0;
        int rc = delete_once(s, sb, scope, &p, &again, b, out);
        if (!again)
            return rc;
    }
    return fail_text(b, out, AKV_EPRECONDITION,
                     "Error: %s kept changing during the delete (%d "
                     "attempts); nothing was changed",
                     p.shown, CAS_ATTEMPTS);
}

/* Moves the files collected at from to to in one batch. Sets *again when
 * a source changed between the read and the batch. */
static int rename_once(akv_store *s, const char *sb, akv_scope scope,
                       const struct mpath *from, const struct mpath *to,
                       int *again, struct akv_buf *b, char **out)
{
    struct moved m;
    int rc;
    if ((rc = collect(s, sb, scope, from, 1, &m, b, out)) != AKV_OK) {
        moved_free(&m);
        return rc;
    }
    /* One batch: every put under the new name (create-only, so a file
     * that appeared there meanwhile fails the batch) and every delete,
     * conditional on the SHA-256 of what was read, so that an edit of a
     * source landing meanwhile fails the batch too (and the rename is
     * redone) instead of being lost. */
    akv_batch_op *ops = calloc(2 * m.n, sizeof *ops);
    char (*keys)[AKV_KEY_MAX + 1] = calloc(m.n, sizeof *keys);
    if (ops == NULL || keys == NULL) {
        free(ops);
        free(keys);
        moved_free(&m);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    rc = AKV_OK;
    for (size_t i = 0; i < m.n; i++) {
        const struct item *it = &m.items[i];
        size_t tail = it->key_len - from->key_len;
        size_t klen = to->key_len + tail;
        if (klen > AKV_KEY_MAX) {
            rc = fail_text(b, out, AKV_EINVAL,
                           "Error: /%s would be renamed to a path longer "
                           "than %d bytes",
                           it->key, AKV_KEY_MAX);
            break;
        }
        memcpy(keys[i], to->key, to->key_len);
        memcpy(keys[i] + to->key_len, it->key + from->key_len, tail);
        keys[i][klen] = '\0';
        akv_batch_op *put = &ops[2 * i], *del = &ops[2 * i + 1];
        put->key = keys[i];
        put->key_len = klen;
        put->value = m.files[i].data;
        put->value_len = m.files[i].len;
        akv_put_opts_init(&put->opts);
        put->opts.content_type = m.files[i].ct;
        put->opts.metadata = m.files[i].metadata;
        put->opts.metadata_len = m.files[i].metadata_len;
        put->opts.create_only = 1;
        del->del = 1;
        del->key = it->key;
        del->key_len = it->key_len;
        del->opts.if_match = m.files[i].sha;
    }
    if (rc == AKV_OK) {
        move_hook();
        rc = akv_batch_write(s, sb, scope, ops, 2 * m.n, NULL);
        int there = rc == AKV_EPRECONDITION ? exists(s, sb, scope, to) : 0;
        if (there == 1)
            rc = fail_text(b, out, rc,
                           "Error: The destination %s already exists",
                           to->shown);
        else if (there < 0)
            rc = fail_text(b, out, there, "Error: %s",
                           akv_last_error()->message);
        else if (rc == AKV_EPRECONDITION)
            *again = 1; /* a source changed (or went) since it was read */
        else if (rc == AKV_EQUOTA)
            rc = put_fail(b, out, rc, to);
        else if (rc != AKV_OK)
            rc = fail_text(b, out, rc, "Error: Cannot rename %s: %s",
                           from->shown, akv_last_error()->message);
        else {
            bprintf(b, "Successfully renamed %s to %s", from->shown,
                    to->shown);
            rc = finish(AKV_OK, b, out);
        }
    }
    free(ops);
    free(keys);
    moved_free(&m);
    return rc;
}

static int cmd_rename(akv_store *s, const char *sb, akv_scope scope,
                      json_t *cmd, struct akv_buf *b, char **out)
{
    char msg[1024];
    struct mpath from, to;
    size_t alen = 0;
    size_t op_len = 0, np_len = 0;
    const char *op = text_arg(cmd, "old_path", &op_len);
    const char *np = text_arg(cmd, "new_path", &np_len);
    if (op == NULL || np == NULL)
        return fail_text(b, out, AKV_EINVAL,
                         "Error: rename needs a string \"old_path\" and a "
                         "string \"new_path\"");
    if (path_parse(op, op_len, &from, msg, sizeof msg) != AKV_OK ||
        path_parse(np, np_len, &to, msg, sizeof msg) != AKV_OK)
        return fail_text(b, out, AKV_EINVAL, "%s", msg);
    if (from.root || to.root)
        return fail_text(b, out, AKV_EINVAL,
                         "Error: %s itself cannot be renamed or replaced",
                         ROOT);
    if (to.key_len > from.key_len &&
        memcmp(to.key, from.key, from.key_len) == 0 &&
        to.key[from.key_len] == '/')
        return fail_text(b, out, AKV_EINVAL,
                         "Error: Cannot move %s into itself (%s)",
                         from.shown, to.shown);
    int rc = exists(s, sb, scope, &to);
    if (rc == 1)
        return fail_text(b, out, AKV_EPRECONDITION,
                         "Error: The destination %s already exists",
                         to.shown);
    if (rc == 0 && (rc = file_ancestor(s, sb, scope, &to, &alen)) == 1)
        return fail_text(b, out, AKV_EPRECONDITION,
                         "Error: /%.*s is a file, not a directory",
                         (int)alen, to.key);
    if (rc < 0)
        return fail_text(b, out, rc, "Error: %s", akv_last_error()->message);
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        int again = 0;
        rc = rename_once(s, sb, scope, &from, &to, &again, b, out);
        if (!again)
            return rc;
    }
    return fail_text(b, out, AKV_EPRECONDITION,
                     "Error: %s kept changing during the rename (%d "
                     "attempts); nothing was changed",
                     from.shown, CAS_ATTEMPTS);
}

int akv_memory(akv_store *s, const char *sandbox, akv_scope scope,
               const char *command, size_t len, char **out)
{
    struct akv_buf b = {0};
    if (out == NULL)
        return akv_fail(AKV_EINVAL, "memory: NULL argument");
    *out = NULL;
    if (s == NULL || sandbox == NULL || (command == NULL && len != 0))
        return akv_fail(AKV_EINVAL, "memory: NULL argument");
    if ((int)scope < 0 || scope >= AKV_SCOPE_COUNT)
        return akv_fail(AKV_EINVAL, "invalid scope %d", (int)scope);
    if (akv_sandbox_check(sandbox, strlen(sandbox)) != AKV_OK)
        return fail_text(&b, out, AKV_EINVAL, "Error: %s",
                         akv_last_error()->message);
    if (akv_scope_check_agent_write(scope) != AKV_OK)
        return fail_text(&b, out, AKV_EFORBIDDEN, "Error: %s",
                         akv_last_error()->message);
    if (len > 2 * s->cfg.max_value_size + AKV_MEMORY_COMMAND_SLACK)
        return fail_text(&b, out, AKV_ETOOLARGE,
                         "Error: the command is %zu bytes, over the limit "
                         "(twice max_value_size plus %u bytes)",
                         len, AKV_MEMORY_COMMAND_SLACK);
    json_error_t jerr;
    json_t *cmd = json_loadb(command ? command : "", len, JSON_REJECT_DUPLICATES,
                             &jerr);
    if (cmd == NULL || !json_is_object(cmd)) {
        json_decref(cmd);
        return fail_text(&b, out, AKV_EINVAL,
                         "Error: the command must be a JSON object: %s",
                         cmd ? "this is another JSON value" : jerr.text);
    }
    const char *name = json_string_value(json_object_get(cmd, "command"));
    int rc;
    if (name == NULL)
        rc = fail_text(&b, out, AKV_EINVAL,
                       "Error: missing string \"command\" (view, create, "
                       "str_replace, insert, delete or rename)");
    else if (strcmp(name, "view") == 0)
        rc = cmd_view(s, sandbox, scope, cmd, &b, out);
    else if (strcmp(name, "create") == 0)
        rc = cmd_create(s, sandbox, scope, cmd, &b, out);
    else if (strcmp(name, "str_replace") == 0)
        rc = cmd_edit(s, sandbox, scope, cmd, 0, &b, out);
    else if (strcmp(name, "insert") == 0)
        rc = cmd_edit(s, sandbox, scope, cmd, 1, &b, out);
    else if (strcmp(name, "delete") == 0)
        rc = cmd_delete(s, sandbox, scope, cmd, &b, out);
    else if (strcmp(name, "rename") == 0)
        rc = cmd_rename(s, sandbox, scope, cmd, &b, out);
    else {
        char q[AKV_QUOTE_BUF];
        rc = fail_text(&b, out, AKV_EINVAL,
                       "Error: unknown command %s (view, create, "
                       "str_replace, insert, delete or rename)",
                       akv_quote(q, name, strlen(name)));
    }
    json_decref(cmd);
    if (*out == NULL)
        free(b.p);
    return rc;
}

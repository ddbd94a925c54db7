/*
 * instructions.c — the instruction sets a sandbox sees: the name rule of
 * SPEC.md §5 and akv_instructions_list, the sorted list behind the prompt
 * builder's catalog and the HTTP catalog route.
 *
 * The list reads only entry metadata (description and token count, which
 * seed stores), so building a reference-mode prompt never reads a value
 * and never loads the tokenizer. Entries written some other way (a plain
 * put) have no token count: their value is read and counted here, once per
 * listing. Keys with a '/' (a skill's supporting files) are not sets and
 * are left out. It does not render the catalog: that is prompt.c's.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentkv-instructions.h"
#include "agentkv-tokens.h"
#include "internal.h"

int akv_instruction_name_check(const char *name, size_t len)
{
    char shown[AKV_QUOTE_BUF];
    if (name == NULL || len == 0)
        return akv_fail(AKV_EINVAL, "invalid instruction name: empty");
    if (len > AKV_INSTRUCTION_NAME_MAX)
        return akv_fail(AKV_EINVAL,
                        "invalid instruction name '%s': %zu bytes, at most "
                        "%d",
                        akv_quote(shown, name, len), len,
                        AKV_INSTRUCTION_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return akv_fail(AKV_EINVAL,
                            "invalid instruction name '%s': only a-z, 0-9, "
                            "'_' and '-' are allowed",
                            akv_quote(shown, name, len));
    }
    return AKV_OK;
}

int akv_skill_name_check(const char *name, size_t len)
{
    int rc = akv_instruction_name_check(name, len);
    if (rc != AKV_OK)
        return rc;
    char shown[AKV_QUOTE_BUF];
    if (memchr(name, '_', len)) {
        char hyph[AKV_INSTRUCTION_NAME_MAX + 1];
        for (size_t i = 0; i < len; i++)
            hyph[i] = name[i] == '_' ? '-' : name[i];
        hyph[len] = '\0';
        return akv_fail(AKV_EINVAL,
                        "invalid instruction name '%s': '_' is not allowed "
                        "in an Agent Skills name (a-z, 0-9 and single "
                        "hyphens); rename it, e.g. to '%s'",
                        akv_quote(shown, name, len), hyph);
    }
    for (size_t i = 0; i < len; i++)
        if (name[i] == '-' && (i == 0 || i + 1 == len || name[i - 1] == '-'))
            return akv_fail(AKV_EINVAL,
                            "invalid instruction name '%s': an Agent Skills "
                            "name neither starts nor ends with '-' and has "
                            "no '--'",
                            akv_quote(shown, name, len));
    return AKV_OK;
}

/* One item plus the strings it points at, all owned by the list. */
struct item {
    akv_instruction pub;
    char *strings; /* name, origin, description, declared_version, source */
};

struct akv_instructions {
    struct item *items;
    size_t n, cap;
};

size_t akv_instructions_count(const akv_instructions *l)
{
    return l ? l->n : 0;
}

const akv_instruction *akv_instructions_item(const akv_instructions *l,
                                             size_t i)
{
    return l && i < l->n ? &l->items[i].pub : NULL;
}

void akv_instructions_free(akv_instructions *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].strings);
    free(l->items);
    free(l);
}

/* A string field of o, or NULL when absent or not a string. */
static const char *str_field(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Copies s to *p and advances it. With clean, control characters (line
 * breaks included) become spaces, so that one set always renders as one
 * catalog line. */
static char *append(char **p, const char *s, int clean)
{
    size_t n = strlen(s);
    char *at = *p;
    memcpy(at, s, n + 1);
    if (clean)
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)at[i] < 0x20 || at[i] == 0x7f)
                at[i] = ' ';
    *p += n + 1;
    return at;
}

/* Counts the tokens of an entry that carries no count in its metadata. */
static int count_value(akv_store *store, const char *sandbox,
                       const akv_meta *m, uint64_t *tokens)
{
    const akv_encoding *enc;
    akv_value *v;
    size_t len, count;
    int rc = akv_encoding_load(NULL, &enc);
    if (rc != AKV_OK)
        return rc;
    if ((rc = akv_get(store, sandbox, AKV_SCOPE_INSTRUCTIONS, m->key,
                      m->key_len, &v)) != AKV_OK)
        return rc;
    const char *data = akv_value_data(v, &len);
    rc = akv_tokens_count(enc, data, len, &count);
    akv_value_release(v);
    if (rc == AKV_OK)
        *tokens = count;
    return rc;
}

static int add_item(akv_instructions *l, akv_store *store,
                    const char *sandbox, const akv_meta *m)
{
    json_t *o = NULL;
    json_error_t jerr;
    if (m->metadata && m->metadata_len &&
        akv_json_parse(m->metadata, m->metadata_len, 0, &o, &jerr) ==
            AKV_ENOMEM)
        return AKV_ENOMEM;
    const char *desc = str_field(o, "description");
    const char *dver = str_field(o, "declared_version");
    const char *src = str_field(o, "source");
    json_t *tok = json_object_get(o, "tokens");
    uint64_t tokens = 0;
    int rc = AKV_OK;
    if (json_is_integer(tok) && json_integer_value(tok) >= 0)
        tokens = (uint64_t)json_integer_value(tok);
    else if ((rc = count_value(store, sandbox, m, &tokens)) ==
             AKV_ENOTFOUND) {
        /* Deleted or expired since the listing: it is not visible now. */
        json_decref(o);
        akv_error_clear();
        return AKV_OK;
    }
    if (rc == AKV_OK && l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 32;
        void *p = realloc(l->items, ncap * sizeof *l->items);
        if (p == NULL)
            rc = akv_fail(AKV_ENOMEM, "out of memory");
        else {
            l->items = p;
            l->cap = ncap;
        }
    }
    if (rc != AKV_OK) {
        json_decref(o);
        return rc;
    }
    size_t need = m->key_len + strlen(m->origin) + 5 +
                  (desc ? strlen(desc) : 0) + (dver ? strlen(dver) : 0) +
                  (src ? strlen(src) : 0);
    struct item *it = &l->items[l->n];
    memset(it, 0, sizeof *it);
    if ((it->strings = malloc(need)) == NULL) {
        json_decref(o);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    char *p = it->strings;
    it->pub.name = append(&p, m->key, 0);
    it->pub.origin = append(&p, m->origin, 0);
    it->pub.description = append(&p, desc ? desc : "", 1);
    it->pub.declared_version = dver ? append(&p, dver, 1) : NULL;
    it->pub.source = src ? append(&p, src, 1) : NULL;
    it->pub.version = m->version;
    it->pub.size = m->size;
    it->pub.tokens = tokens;
    memcpy(it->pub.sha256, m->sha256, sizeof it->pub.sha256);
    l->n++;
    json_decref(o);
    return AKV_OK;
}

int akv_instructions_list(akv_store *store, const char *sandbox,
                          akv_instructions **out)
{
    akv_error_clear();
    if (store == NULL || sandbox == NULL || out == NULL)
        return akv_fail(AKV_EINVAL, "instructions: NULL argument");
    akv_instructions *l = calloc(1, sizeof *l);
    if (l == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    akv_list_opts lo = {0};
    char cursor[AKV_KEY_MAX + 1];
    lo.limit = AKV_LIST_MAX_LIMIT;
    int rc;
    for (;;) {
        akv_list *page;
        if ((rc = akv_list_entries(store, sandbox, AKV_SCOPE_INSTRUCTIONS,
                                   &lo, &page)) != AKV_OK)
            break;
        /* Keys come in byte order, which is the catalog's order. */
        for (size_t i = 0; rc == AKV_OK && i < akv_list_count(page); i++) {
            const akv_meta *m = akv_list_item(page, i);
            /* NAME/PATH is a supporting file of skill NAME (seed.c), not
             * a set: set names have no '/'. */
            if (memchr(m->key, '/', m->key_len) == NULL)
                rc = add_item(l, store, sandbox, m);
        }
        const char *next = akv_list_next_cursor(page);
        if (rc == AKV_OK && next) {
            snprintf(cursor, sizeof cursor, "%s", next);
            lo.cursor = cursor;
            lo.cursor_len = strlen(cursor);
        }
        akv_list_free(page);
        if (rc != AKV_OK || next == NULL)
            break;
    }
    if (rc != AKV_OK) {
        akv_instructions_free(l);
        return rc;
    }
    *out = l;
    return AKV_OK;
}

char *akv_instructions_to_json(const akv_instructions *l, const char *sandbox)
{
    /* Any allocation that fails drops the whole text: never a list with an
     * item or a field missing. */
    akv_json_guard_begin();
    json_t *items = json_array(), *o = json_object();
    if (items == NULL || o == NULL) {
        akv_json_guard_end();
        json_decref(items);
        json_decref(o);
        return NULL;
    }
    for (size_t i = 0; l && i < l->n; i++) {
        const akv_instruction *it = &l->items[i].pub;
        json_t *e = json_object();
        if (e == NULL)
            continue;
        json_object_set_new(e, "name", json_string(it->name));
        json_object_set_new(e, "description", json_string(it->description));
        json_object_set_new(e, "version", json_integer((json_int_t)it->version));
        json_object_set_new(e, "tokens", json_integer((json_int_t)it->tokens));
        json_object_set_new(e, "sha256", json_string(it->sha256));
        json_object_set_new(e, "size", json_integer((json_int_t)it->size));
        json_object_set_new(e, "origin", json_string(it->origin));
        json_object_set_new(e, "declared_version",
                            it->declared_version
                                ? json_string(it->declared_version)
                                : json_null());
        json_object_set_new(e, "source",
                            it->source ? json_string(it->source)
                                       : json_null());
        json_array_append_new(items, e);
    }
    json_object_set_new(o, "sandbox", json_string(sandbox ? sandbox : ""));
    json_object_set_new(o, "items", items);
    char *text = akv_json_guard_end()
                     ? NULL
                     : akv_json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

/*
 * mcp-skills.c — the MCP Skills extension (io.modelcontextprotocol/skills):
 * instruction sets served as skills at skill://NAME/SKILL.md, with
 * skills/list, skills/get and resources/read of those URIs.
 *
 * Which sets are skills. A skill's SKILL.md is the stored value itself, byte
 * for byte, so that the entry's digest is the stored SHA-256 and reading the
 * skill returns exactly the digested bytes; nothing is synthesised. A set
 * visible to the sandbox (its own namespace over _global, as the catalog)
 * is therefore a skill when, and only when:
 *   - its name follows the Agent Skills rule: 1-64 of [a-z0-9] in groups
 *     joined by single hyphens (so underscore names are not skills);
 *   - its value opens with front matter (the subset of
 *     agentkv-instructions.h) whose `name` is the set's name and whose
 *     `description` is a non-empty string;
 *   - that front matter reads the same under YAML as under agentkv's
 *     subset: every key is a plain word, and no unquoted value holds what
 *     YAML would read differently (a comment " #", a ": ", a leading
 *     indicator character). Unquoted values get YAML's core-schema types in
 *     the entry (null, true/false, numbers), as a YAML reader of the
 *     SKILL.md sees them; quoted ones stay strings.
 * Other sets stay instruction sets (get_instruction, agentkv://…) only.
 *
 * An entry: {"uri","frontmatter","resources":[{"uri","digest","size",
 * "mimeType"}]}: SKILL.md first, then the skill's supporting files in key
 * order. A supporting file is an entry NAME/PATH of scope instructions in
 * the same namespace as the skill's own entry (seed.c stores a folder's
 * files so), served as skill://NAME/PATH (PATH percent-encoded as
 * mcp_key_uri does) with its stored bytes, SHA-256 and content type; the
 * sandbox's own skill never shows _global's files, nor the reverse.
 * skills/list walks the catalog in name order, 50 skills a page; its
 * cursor is the catalog index to go on from, in decimal, checked strictly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "mcp-internal.h"

#define SKILL_SCHEME "skill://"
#define SKILL_MD "SKILL.md"
#define SKILL_FILE "/" SKILL_MD
#define SKILLS_PAGE 50

/* 1 for a skill name (akv_skill_name_check(), its message unused). */
static int skill_name_ok(const char *name, size_t len)
{
    return akv_skill_name_check(name, len) == AKV_OK;
}

/*
 * Parses skill://NAME/SKILL.md (the skill: *key_len 0) or skill://NAME/PATH
 * (a supporting file: the key NAME/PATH, PATH percent-decoded, in key[] of
 * AKV_KEY_MAX + 1 bytes, NUL-terminated). 0, or -1 when uri[0..len) is
 * neither with a valid skill name and a valid key: no query or fragment, no
 * encoded '/' (it would change the segments), no NUL, no empty, '.' or
 * '..' segment (decoded or not), nothing a key may not hold.
 */
static int skill_uri_parse(const char *uri, size_t len,
                           char name[AKV_INSTRUCTION_NAME_MAX + 1],
                           char key[AKV_KEY_MAX + 1], size_t *key_len)
{
    const size_t ns = strlen(SKILL_SCHEME);
    if (len <= ns || memcmp(uri, SKILL_SCHEME, ns) != 0)
        return -1;
    const char *p = uri + ns, *end = uri + len;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    if (slash == NULL || !skill_name_ok(p, (size_t)(slash - p)))
        return -1;
    size_t n = (size_t)(slash - p);
    memcpy(name, p, n);
    name[n] = '\0';
    const char *path = slash + 1;
    size_t plen = (size_t)(end - path);
    *key_len = 0;
    if (plen == strlen(SKILL_MD) && memcmp(path, SKILL_MD, plen) == 0)
        return 0;
    if (memchr(path, '?', plen) || memchr(path, '#', plen))
        return -1;
    for (size_t i = 0; i + 2 < plen; i++)
        if (path[i] == '%' && path[i + 1] == '2' &&
            (path[i + 2] == 'f' || path[i + 2] == 'F'))
            return -1;
    const char *why;
    size_t dl;
    memcpy(key, name, n);
    key[n] = '/';
    if (akvx_pct_decode(path, plen, key + n + 1, AKV_KEY_MAX - n - 1, &dl,
                        &why) != 0)
        return -1;
    key[n + 1 + dl] = '\0';
    /* skill://NAME/%53KILL.md is the skill itself, spelt differently. */
    if (strcmp(key + n + 1, SKILL_MD) == 0)
        return 0;
    if (akv_key_check(key, n + 1 + dl) != AKV_OK)
        return -1;
    *key_len = n + 1 + dl;
    return 0;
}

/* Line `no` (1-based) of text, without its line ending. */
static const char *line_at(const char *text, size_t len, unsigned no,
                           size_t *out_len)
{
    const char *p = text, *end = text + len;
    for (unsigned i = 1; i < no && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((nl ? nl : end) - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    *out_len = n;
    return p;
}

/* YAML 1.2 core-schema reading of a plain scalar: null, a boolean, a
 * number, or NULL for a string. Throws nothing: a number JSON cannot carry
 * (inf, nan) is reported through *bad. */
static json_t *plain_typed(const char *v, int *bad)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    static const char *const trues[] = {"true", "True", "TRUE"};
    static const char *const falses[] = {"false", "False", "FALSE"};
    for (size_t i = 0; i < 5; i++)
        if (strcmp(v, nulls[i]) == 0)
            return json_null();
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(v, trues[i]) == 0)
            return json_true();
        if (strcmp(v, falses[i]) == 0)
            return json_false();
    }
    /* Integers: [+-]?digits, 0o…, 0x…; floats: [+-]?(.d+|d+(.d*)?)(e…)? */
    const char *p = v;
    int sign = *p == '+' || *p == '-';
    p += sign;
    if (!sign && (strncmp(v, "0o", 2) == 0 || strncmp(v, "0x", 2) == 0)) {
        int hex = v[1] == 'x';
        const char *q = v + 2;
        if (*q == '\0')
            return NULL;
        for (; *q; q++)
            if (!(hex ? strchr("0123456789abcdefABCDEF", *q)
                      : strchr("01234567", *q)))
                return NULL;
        double d = (double)strtoull(v + 2, NULL, hex ? 16 : 8);
        return d < 9007199254740992.0 ? json_integer((json_int_t)d)
                                      : json_real(d);
    }
    if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 ||
        strcmp(p, ".INF") == 0 || (!sign && (strcmp(v, ".nan") == 0 ||
                                             strcmp(v, ".NaN") == 0 ||
                                             strcmp(v, ".NAN") == 0))) {
        *bad = 1;
        return NULL;
    }
    const char *q = p;
    size_t int_digits = 0, frac_digits = 0;
    while (*q >= '0' && *q <= '9')
        q++, int_digits++;
    int is_int = *q == '\0' && int_digits > 0;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9')
            q++, frac_digits++;
    }
    if (int_digits + frac_digits == 0)
        return NULL;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (!(*q >= '0' && *q <= '9'))
            return NULL;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (*q != '\0')
        return NULL;
    double d = strtod(v, NULL);
    if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308) {
        *bad = 1;
        return NULL;
    }
    if (is_int && d > -9007199254740992.0 && d < 9007199254740992.0)
        return json_integer((json_int_t)d);
    return json_real(d);
}

/* 1 when an unquoted value means the same to YAML as to agentkv's subset
 * (apart from typing, which plain_typed does). */
static int plain_safe(const char *v)
{
    /* Indicators YAML reads as structure at the start of a plain value. */
    if (*v && strchr("[]{}&*!|>%@`,#'\"", *v))
        return 0;
    if ((v[0] == '-' || v[0] == '?') &&
        (v[1] == '\0' || v[1] == ' ' || v[1] == '\t'))
        return 0;
    for (const char *p = v; *p; p++) {
        if ((*p == ' ' || *p == '\t') && p[1] == '#')
            return 0; /* a comment to YAML */
        if (*p == ':' && (p[1] == ' ' || p[1] == '\t' || p[1] == '\0'))
            return 0; /* a mapping to YAML */
    }
    return 1;
}

/* The entry's "frontmatter" for value[0..len) of set name, or NULL when
 * the set is not a skill (why in *why). */
static json_t *skill_frontmatter(const char *name, const char *value,
                                 size_t len, const char **why)
{
    akv_frontmatter *fm = NULL;
    *why = NULL;
    if (akv_frontmatter_parse(value, len, name, &fm) != AKV_OK ||
        !akv_frontmatter_present(fm)) {
        akv_frontmatter_free(fm);
        *why = "its value does not open with front matter";
        return NULL;
    }
    json_t *obj = json_object();
    size_t n = akv_frontmatter_count(fm);
    for (size_t i = 0; obj && i < n && *why == NULL; i++) {
        const char *k, *v;
        unsigned no;
        akv_frontmatter_field(fm, i, &k, &v, &no);
        int bad = 0;
        json_t *kt = plain_typed(k, &bad);
        if (kt || bad) {
            json_decref(kt);
            *why = "a front matter key is not a plain word";
            break;
        }
        /* Quoted or not, as written on the field's line. */
        size_t ll;
        const char *line = line_at(value, len, no, &ll);
        const char *colon = memchr(line, ':', ll);
        const char *start = colon ? colon + 1 : line + ll;
        while (start < line + ll && (*start == ' ' || *start == '\t'))
            start++;
        int quoted = start < line + ll && (*start == '"' || *start == '\'');
        json_t *jv;
        if (quoted) {
            jv = json_string(v);
        } else if (!plain_safe(v)) {
            *why = "an unquoted front matter value reads differently as "
                   "YAML (quote it)";
            break;
        } else {
            jv = plain_typed(v, &bad);
            if (bad) {
                *why = "a front matter value is a number JSON cannot hold";
                break;
            }
            if (jv == NULL)
                jv = json_string(v);
        }
        json_object_set_new(obj, k, jv);
    }
    akv_frontmatter_free(fm);
    if (*why == NULL && obj) {
        json_t *jn = json_object_get(obj, "name");
        json_t *jd = json_object_get(obj, "description");
        if (!json_is_string(jn) || strcmp(json_string_value(jn), name) != 0)
            *why = "its front matter `name` is not the set's name";
        else if (!json_is_string(jd) || json_string_length(jd) == 0)
            *why = "its front matter has no `description`";
    }
    if (*why || obj == NULL) {
        json_decref(obj);
        if (*why == NULL)
            *why = "out of memory";
        return NULL;
    }
    return obj;
}

/* One manifest item: the file at uri with entry m's digest, size, type. */
static json_t *manifest_item(const char *uri, const akv_meta *m)
{
    char digest[8 + AKV_SHA256_HEX];
    snprintf(digest, sizeof digest, "sha256:%s", m->sha256);
    return json_pack("{s:s,s:s,s:I,s:s}", "uri", uri, "digest", digest,
                     "size", (json_int_t)m->size, "mimeType",
                     m->content_type);
}

/* Appends the supporting files of skill name, whose SKILL.md entry comes
 * from namespace origin, to files. AKV_OK or a store error. */
static int add_supporting(akv_mcp_session *s, const char *name,
                          const char *origin, json_t *files)
{
    char prefix[AKV_INSTRUCTION_NAME_MAX + 2], cursor[AKV_KEY_MAX + 1];
    int n = snprintf(prefix, sizeof prefix, "%s/", name);
    akv_list_opts lo;
    memset(&lo, 0, sizeof lo);
    lo.prefix = prefix;
    lo.prefix_len = (size_t)n;
    lo.limit = AKV_LIST_MAX_LIMIT;
    for (;;) {
        akv_list *l;
        int rc = akv_list_entries(s->store, s->sandbox,
                                  AKV_SCOPE_INSTRUCTIONS, &lo, &l);
        if (rc != AKV_OK)
            return rc;
        for (size_t i = 0; i < akv_list_count(l); i++) {
            const akv_meta *m = akv_list_item(l, i);
            /* NAME/SKILL.md written by hand would be a second SKILL.md. */
            if (strcmp(m->origin, origin) != 0 ||
                strcmp(m->key + n, SKILL_MD) == 0)
                continue;
            char *uri = mcp_key_uri(SKILL_SCHEME, m->key, m->key_len);
            json_t *it = uri ? manifest_item(uri, m) : NULL;
            free(uri);
            if (json_array_append_new(files, it) != 0) {
                akv_list_free(l);
                return AKV_ENOMEM;
            }
        }
        const char *next = akv_list_next_cursor(l);
        if (next)
            snprintf(cursor, sizeof cursor, "%s", next);
        akv_list_free(l);
        if (next == NULL)
            return AKV_OK;
        lo.cursor = cursor;
        lo.cursor_len = strlen(cursor);
    }
}

/*
 * Reads set name and, when it is a skill, returns its entry (and the value
 * in *out_v when out_v is not NULL: the caller releases it). NULL with
 * *why for a set that is not a skill or does not exist; NULL with err
 * filled (and *why NULL) on a store error.
 */
static json_t *skill_entry(akv_mcp_session *s, const char *name,
                           akv_value **out_v, const char **why,
                           struct mcp_rpc_error *err)
{
    akv_value *v;
    *why = NULL;
    if (out_v)
        *out_v = NULL;
    int rc = akv_get(s->store, s->sandbox, AKV_SCOPE_INSTRUCTIONS, name,
                     strlen(name), &v);
    if (rc == AKV_ENOTFOUND) {
        *why = "no such instruction set";
        return NULL;
    }
    if (rc != AKV_OK) {
        mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "%s: %s", akv_err_name(rc),
                     akv_last_error()->message);
        mcp_event_failure(s, rc, AKV_SCOPE_INSTRUCTIONS);
        return NULL;
    }
    size_t len;
    const char *data = akv_value_data(v, &len);
    const akv_meta *m = akv_value_meta(v);
    json_t *fm = skill_frontmatter(name, data, len, why);
    json_t *entry = NULL;
    if (fm) {
        char uri[sizeof SKILL_SCHEME + AKV_INSTRUCTION_NAME_MAX +
                 sizeof SKILL_FILE];
        snprintf(uri, sizeof uri, "%s%s%s", SKILL_SCHEME, name, SKILL_FILE);
        json_t *files = json_array();
        json_array_append_new(files, manifest_item(uri, m));
        int lrc = files && json_array_size(files) == 1
                      ? add_supporting(s, name, m->origin, files)
                      : AKV_ENOMEM;
        if (lrc == AKV_OK)
            entry = json_pack("{s:s,s:o,s:O}", "uri", uri, "frontmatter",
                              fm, "resources", files);
        else
            json_decref(fm);
        json_decref(files);
        if (lrc != AKV_OK && lrc != AKV_ENOMEM) {
            mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "%s: %s",
                         akv_err_name(lrc), akv_last_error()->message);
            mcp_event_failure(s, lrc, AKV_SCOPE_INSTRUCTIONS);
        } else if (entry == NULL)
            mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
    }
    if (entry && out_v)
        *out_v = v;
    else
        akv_value_release(v);
    return entry;
}

static json_t *cache_fields(json_t *r)
{
    /* Instruction sets change at any time and depend on the sandbox. */
    if (r) {
        json_object_set_new(r, "ttlMs", json_integer(0));
        json_object_set_new(r, "cacheScope", json_string("private"));
    }
    return r;
}

json_t *mcp_skills_list(akv_mcp_session *s, json_t *params,
                        struct mcp_rpc_error *err)
{
    json_t *cursor = json_object_get(params, "cursor");
    size_t from = 0;
    if (cursor) {
        const char *c = json_string_value(cursor);
        size_t n = json_string_length(cursor);
        int ok = json_is_string(cursor) && n > 0 && n <= 9;
        for (size_t i = 0; ok && i < n; i++)
            ok = c[i] >= '0' && c[i] <= '9';
        if (!ok)
            return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                                "Invalid params: not a skills/list cursor");
        from = (size_t)strtoul(c, NULL, 10);
    }
    akv_instructions *list;
    int rc = akv_instructions_list(s->store, s->sandbox, &list);
    if (rc != AKV_OK)
        return mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "%s: %s",
                            akv_err_name(rc), akv_last_error()->message);
    size_t n = akv_instructions_count(list);
    if (from > n) {
        akv_instructions_free(list);
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: not a skills/list cursor");
    }
    json_t *skills = json_array();
    size_t i = from;
    for (; skills && i < n && json_array_size(skills) < SKILLS_PAGE; i++) {
        const akv_instruction *it = akv_instructions_item(list, i);
        if (!skill_name_ok(it->name, strlen(it->name)))
            continue;
        const char *why;
        json_t *e = skill_entry(s, it->name, NULL, &why, err);
        if (e == NULL && why == NULL) {
            json_decref(skills);
            akv_instructions_free(list);
            return NULL;
        }
        if (e)
            json_array_append_new(skills, e);
    }
    akv_instructions_free(list);
    json_t *r = skills ? json_pack("{s:o}", "skills", skills) : NULL;
    if (r && i < n) {
        char next[24];
        snprintf(next, sizeof next, "%zu", i);
        json_object_set_new(r, "nextCursor", json_string(next));
    }
    r = cache_fields(r);
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/* Not a skill or a skill's file: Invalid params naming the URI (as a
 * resource miss is). */
static json_t *not_a_skill(struct mcp_rpc_error *err, const char *uri,
                           size_t len, const char *why)
{
    err->data = json_pack("{s:s%}", "uri", uri, len);
    return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                        "Invalid params: %.200s is not a skill (or a file "
                        "of one) on this server: %s",
                        uri, why);
}

json_t *mcp_skills_get(akv_mcp_session *s, json_t *params,
                       struct mcp_rpc_error *err)
{
    json_t *juri = json_object_get(params, "uri");
    if (!json_is_string(juri))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"uri\" must be a string");
    const char *uri = json_string_value(juri);
    size_t len = json_string_length(juri);
    char name[AKV_INSTRUCTION_NAME_MAX + 1], key[AKV_KEY_MAX + 1];
    size_t key_len;
    if (skill_uri_parse(uri, len, name, key, &key_len) != 0 || key_len)
        return not_a_skill(err, uri, len,
                           "skill URIs are skill://NAME/SKILL.md, NAME "
                           "lowercase letters, digits and single hyphens");
    const char *why;
    json_t *e = skill_entry(s, name, NULL, &why, err);
    if (e == NULL)
        return why ? not_a_skill(err, uri, len, why) : NULL;
    json_t *r = cache_fields(json_pack("{s:o}", "skill", e));
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

int mcp_caps_skills(json_t *caps)
{
    return json_is_object(json_object_get(json_object_get(caps, "extensions"),
                                          MCP_SKILLS_EXTENSION));
}

int mcp_client_skills(const akv_mcp_session *s, json_t *params)
{
    if (!s->modern)
        return s->client_skills;
    json_t *meta = json_object_get(params, "_meta");
    return mcp_caps_skills(json_object_get(
        meta, "io.modelcontextprotocol/clientCapabilities"));
}

int mcp_skill_check(void *ctx, const char *name)
{
    akv_mcp_session *s = ctx;
    akv_value *v;
    if (!skill_name_ok(name, strlen(name)) ||
        akv_get(s->store, s->sandbox, AKV_SCOPE_INSTRUCTIONS, name,
                strlen(name), &v) != AKV_OK)
        return 0;
    size_t len;
    const char *data = akv_value_data(v, &len);
    const char *why;
    json_t *fm = skill_frontmatter(name, data, len, &why);
    akv_value_release(v);
    int ok = fm != NULL;
    json_decref(fm);
    return ok;
}

int mcp_skill_uri(const char *uri, size_t len)
{
    return len >= strlen(SKILL_SCHEME) &&
           memcmp(uri, SKILL_SCHEME, strlen(SKILL_SCHEME)) == 0;
}

json_t *mcp_skill_read(akv_mcp_session *s, const char *uri, size_t len,
                       struct mcp_rpc_error *err)
{
    char name[AKV_INSTRUCTION_NAME_MAX + 1], key[AKV_KEY_MAX + 1];
    size_t key_len;
    if (skill_uri_parse(uri, len, name, key, &key_len) != 0)
        return not_a_skill(err, uri, len,
                           "skill URIs are skill://NAME/SKILL.md or "
                           "skill://NAME/PATH of one of its files");
    const char *why;
    akv_value *v;
    json_t *e = skill_entry(s, name, &v, &why, err);
    if (e == NULL)
        return why ? not_a_skill(err, uri, len, why) : NULL;
    json_decref(e);
    json_t *item;
    if (key_len == 0) {
        mcp_event(s, AKV_MCP_EVENT_INSTRUCTION, AKV_SCOPE_INSTRUCTIONS, name,
                  strlen(name));
        /* The stored bytes, which are UTF-8 (the front matter parser
         * checked the whole value), so text carries them exactly. */
        size_t n;
        const char *data = akv_value_data(v, &n);
        item = json_pack("{s:s%,s:s,s:s%}", "uri", uri, len, "mimeType",
                         "text/markdown", "text", data, n);
        akv_value_release(v);
    } else {
        /* A file of the skill: from the namespace of the skill's own
         * entry only, as its manifest lists them. */
        char origin[AKV_SANDBOX_MAX + 1];
        snprintf(origin, sizeof origin, "%s", akv_value_meta(v)->origin);
        akv_value_release(v);
        int rc = akv_get(s->store, origin, AKV_SCOPE_INSTRUCTIONS, key,
                         key_len, &v);
        if (rc == AKV_OK && strcmp(akv_value_meta(v)->origin, origin) != 0) {
            akv_value_release(v);
            rc = AKV_ENOTFOUND;
        }
        if (rc == AKV_ENOTFOUND)
            return not_a_skill(err, uri, len, "the skill has no such file");
        if (rc != AKV_OK) {
            mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "%s: %s",
                         akv_err_name(rc), akv_last_error()->message);
            mcp_event_failure(s, rc, AKV_SCOPE_INSTRUCTIONS);
            return NULL;
        }
        item = mcp_value_content(uri, len, v);
        akv_value_release(v);
    }
    json_t *r = item ? json_pack("{s:[o]}", "contents", item) : NULL;
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

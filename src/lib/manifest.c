/*
 * manifest.c — the manifest of a split: which instruction sets came out of
 * one prompt, in order, and what that prompt was, so that `prompt build
 * --manifest` rebuilds it from those sets alone (whatever else the store
 * holds, such as default sets in _global) and `--report` measures against
 * the original.
 *
 * Format: DIR/manifest.json, one JSON object (UTF-8, written with jansson,
 * keys in this order, a final line break):
 *   {"manifest":1,                  format version; readers refuse others
 *    "source":"prompt.md",          the input's name as split was given it
 *    "bytes":2478,                  size of the original prompt
 *    "sha256":"<64 hex>",           SHA-256 of the original prompt
 *    "encoding":"o200k_base",       encoding of "tokens"
 *    "tokens":612,                  tokens of the original prompt
 *    "sets":["name",...]}           the sets the split made, in the order
 *                                   of their sections in the prompt
 * Readers take at most AKV_MANIFEST_MAX bytes, ignore unknown keys (for
 * later versions of version 1), and check every field: sets are 1 to
 * AKV_MANIFEST_SETS_MAX distinct valid instruction names.
 * The file is written atomically (temporary file, fsync, rename).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "agentkv-instructions.h"
#include "agentkv-tokens.h"
#include "akvx.h"
#include "internal.h"

struct akv_manifest {
    char **sets;
    size_t n;
    uint64_t tokens;
    char sha256[AKV_SHA256_HEX + 1];
    char *joined; /* the names, comma-separated */
};

int akv_split_manifest_write(const akv_split *sp, const char *text,
                             size_t len, const char *source, const char *dir)
{
    akv_error_clear();
    if (sp == NULL || (text == NULL && len) || dir == NULL || *dir == '\0')
        return akv_fail(AKV_EINVAL, "manifest: NULL argument");
    const akv_encoding *enc;
    size_t tokens;
    int rc = akv_encoding_load(NULL, &enc);
    if (rc == AKV_OK)
        rc = akv_tokens_count(enc, text ? text : "", len, &tokens);
    if (rc != AKV_OK)
        return rc;
    unsigned char digest[32];
    char hex[AKV_SHA256_HEX + 1];
    akv_sha256(text ? text : "", len, digest);
    akvx_hex_encode(digest, sizeof digest, hex);
    akv_json_guard_begin();
    json_t *sets = json_array();
    for (size_t i = 0; i < akv_split_count(sp); i++) {
        const akv_split_section *s = akv_split_section_get(sp, i);
        if (!s->kept)
            json_array_append_new(sets, json_string(s->name));
    }
    json_t *o = json_pack("{s:i,s:s,s:I,s:s,s:s,s:I,s:o}", "manifest", 1,
                          "source", source ? source : "", "bytes",
                          (json_int_t)len, "sha256", hex, "encoding",
                          "o200k_base", "tokens", (json_int_t)tokens,
                          "sets", sets);
    char *out = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
    json_decref(o);
    if (akv_json_guard_end() || out == NULL) {
        free(out);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    size_t olen = strlen(out);
    char *line = realloc(out, olen + 2);
    if (line == NULL) {
        free(out);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    line[olen] = '\n';
    line[olen + 1] = '\0';
    const char *step;
    if (akvx_replace_file(path, line, olen + 1, 0644, &step) != 0) {
        int e = errno;
        free(line);
        return akv_fail(AKV_EUNAVAILABLE, "cannot %s %s: %s", step, path,
                        strerror(e));
    }
    free(line);
    return AKV_OK;
}

void akv_manifest_free(akv_manifest *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->sets[i]);
    free(m->sets);
    free(m->joined);
    free(m);
}

static int bad(const char *path, const char *what)
{
    return akv_fail(AKV_EINVAL, "manifest %s: %s", path, what);
}

static int parse(const char *path, json_t *o, akv_manifest *m)
{
    if (!json_is_object(o))
        return bad(path, "not a JSON object");
    json_t *v = json_object_get(o, "manifest");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        return bad(path, "\"manifest\" is not 1 (a manifest of another "
                         "version, or not a manifest)");
    v = json_object_get(o, "tokens");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(path, "\"tokens\" is not a count");
    m->tokens = (uint64_t)json_integer_value(v);
    v = json_object_get(o, "bytes");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(path, "\"bytes\" is not a count");
    v = json_object_get(o, "encoding");
    if (!json_is_string(v) || strcmp(json_string_value(v), "o200k_base"))
        return bad(path, "\"encoding\" is not o200k_base");
    v = json_object_get(o, "sha256");
    if (!json_is_string(v) || json_string_length(v) != AKV_SHA256_HEX ||
        !akvx_hex_lower(json_string_value(v), AKV_SHA256_HEX))
        return bad(path, "\"sha256\" is not 64 lower-case hex digits");
    memcpy(m->sha256, json_string_value(v), AKV_SHA256_HEX + 1);
    json_t *sets = json_object_get(o, "sets");
    size_t n = json_array_size(sets);
    if (!json_is_array(sets) || n == 0 || n > AKV_MANIFEST_SETS_MAX)
        return bad(path, "\"sets\" is not a list of 1 to 10000 names");
    if ((m->sets = calloc(n, sizeof *m->sets)) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(sets, i);
        if (!json_is_string(s) ||
            akv_instruction_name_check(json_string_value(s),
                                       json_string_length(s)) != AKV_OK)
            return bad(path, "\"sets\" holds something that is not an "
                             "instruction name");
        for (size_t k = 0; k < i; k++)
            if (strcmp(m->sets[k], json_string_value(s)) == 0)
                return bad(path, "\"sets\" names a set twice");
        if ((m->sets[i] = strdup(json_string_value(s))) == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        m->n++;
        total += json_string_length(s) + 1;
    }
    if ((m->joined = calloc(1, total)) == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        if (i)
            strcat(m->joined, ",");
        strcat(m->joined, m->sets[i]);
    }
    return AKV_OK;
}

int akv_manifest_read(const char *path, akv_manifest **out)
{
    akv_error_clear();
    if (path == NULL || out == NULL)
        return akv_fail(AKV_EINVAL, "manifest: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return akv_fail(errno == ENOENT ? AKV_ENOTFOUND : AKV_EUNAVAILABLE,
                        "cannot open manifest %s: %s", path, strerror(errno));
    char *buf = malloc(AKV_MANIFEST_MAX + 1);
    size_t len = buf ? fread(buf, 1, AKV_MANIFEST_MAX + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (buf == NULL)
        return akv_fail(AKV_ENOMEM, "out of memory");
    if (err) {
        free(buf);
        return akv_fail(AKV_EUNAVAILABLE, "cannot read manifest %s", path);
    }
    if (len > AKV_MANIFEST_MAX) {
        free(buf);
        return bad(path, "larger than 1 MiB");
    }
    json_t *o = NULL;
    json_error_t jerr;
    int rc = akv_json_parse(buf, len, 0, &o, &jerr);
    free(buf);
    if (rc == AKV_EINVAL)
        return akv_fail(AKV_EINVAL, "manifest %s: not JSON (line %d: %s)",
                        path, jerr.line, jerr.text);
    if (rc != AKV_OK)
        return rc;
    akv_manifest *m = calloc(1, sizeof *m);
    if (m == NULL) {
        json_decref(o);
        return akv_fail(AKV_ENOMEM, "out of memory");
    }
    rc = parse(path, o, m);
    json_decref(o);
    if (rc != AKV_OK) {
        akv_manifest_free(m);
        return rc;
    }
    *out = m;
    return AKV_OK;
}

size_t akv_manifest_count(const akv_manifest *m)
{
    return m ? m->n : 0;
}

const char *akv_manifest_set(const akv_manifest *m, size_t i)
{
    return m && i < m->n ? m->sets[i] : NULL;
}

const char *akv_manifest_sets_joined(const akv_manifest *m)
{
    return m ? m->joined : NULL;
}

uint64_t akv_manifest_tokens(const akv_manifest *m)
{
    return m ? m->tokens : 0;
}

const char *akv_manifest_sha256(const akv_manifest *m)
{
    return m ? m->sha256 : NULL;
}

/*
 * usage.c — how often agents of a sandbox fetch each instruction set, and
 * how many prompt runs that was over: the observed fetch rates behind
 * `prompt build --report`'s expected tokens and `prompt advise`.
 *
 * The counts live in the store, in the sandbox's own scope system under
 * the key AKV_USAGE_KEY, as one JSON object (compact, keys sorted):
 *   {"fetches":{"NAME":N,...},"runs":N}
 * A fetch is one get_instruction that returned a set (MCP, stdio or HTTP);
 * a run is one prompt built for an agent (GET .../prompt and the MCP
 * system_prompt prompt). Each is a read-modify-write with if_match on the
 * entry's SHA-256, retried when another writer got in between, so
 * concurrent counts are not lost. At most AKV_USAGE_NAMES_MAX names are
 * kept; fetches of further names are not counted (the object stays a few
 * tens of KiB). The entry has no TTL (scope system's default).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentkv-instructions.h"
#include "internal.h"

#define RETRIES 64

static int load(akv_store *store, const char *sandbox, json_t **out,
                char sha[AKV_SHA256_HEX + 1])
{
    akv_value *v;
    *sha = '\0';
    int rc = akv_get(store, sandbox, AKV_SCOPE_SYSTEM, AKV_USAGE_KEY,
                     strlen(AKV_USAGE_KEY), &v);
    if (rc == AKV_ENOTFOUND) {
        akv_error_clear();
        *out = json_object();
        return *out ? AKV_OK : akv_fail(AKV_ENOMEM, "out of memory");
    }
    if (rc != AKV_OK)
        return rc;
    const akv_meta *m = akv_value_meta(v);
    /* _global's entry seen through the overlay is not this sandbox's. */
    bool own = strcmp(m->origin, sandbox) == 0;
    if (own)
        memcpy(sha, m->sha256, AKV_SHA256_HEX + 1);
    size_t len;
    const char *data = akv_value_data(v, &len);
    json_error_t jerr;
    json_t *o = NULL;
    rc = own ? akv_json_parse(data, len, 0, &o, &jerr) : AKV_OK;
    akv_value_release(v);
    if (rc == AKV_ENOMEM)
        return rc;
    if (!json_is_object(o)) { /* not ours to read: start afresh */
        json_decref(o);
        akv_error_clear();
        o = json_object();
    }
    *out = o;
    return o ? AKV_OK : akv_fail(AKV_ENOMEM, "out of memory");
}

static uint64_t count_of(json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) > 0
               ? (uint64_t)json_integer_value(v)
               : 0;
}

int akv_usage_record(akv_store *store, const char *sandbox, const char *name)
{
    akv_error_clear();
    if (store == NULL || sandbox == NULL)
        return akv_fail(AKV_EINVAL, "usage: NULL argument");
    if (name && akv_instruction_name_check(name, strlen(name)) != AKV_OK)
        return AKV_EINVAL;
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        json_t *o;
        char sha[AKV_SHA256_HEX + 1];
        int rc = load(store, sandbox, &o, sha);
        if (rc != AKV_OK)
            return rc;
        if (name) {
            json_t *f = json_object_get(o, "fetches");
            if (!json_is_object(f)) {
                f = json_object();
                json_object_set_new(o, "fetches", f);
            }
            json_t *c = json_object_get(f, name);
            if (c == NULL && json_object_size(f) >= AKV_USAGE_NAMES_MAX) {
                json_decref(o);
                return AKV_OK; /* not counted: see the file comment */
            }
            json_object_set_new(f, name, json_integer(
                                             (json_int_t)count_of(c) + 1));
        } else {
            json_object_set_new(
                o, "runs",
                json_integer((json_int_t)count_of(json_object_get(o, "runs")) +
                             1));
        }
        char *text = akv_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        if (text == NULL)
            return akv_fail(AKV_ENOMEM, "out of memory");
        akv_put_opts po;
        akv_put_opts_init(&po);
        po.content_type = "application/json";
        if (*sha)
            po.if_match = sha;
        else
            po.create_only = 1;
        rc = akv_put(store, sandbox, AKV_SCOPE_SYSTEM, AKV_USAGE_KEY,
                     strlen(AKV_USAGE_KEY), text, strlen(text), &po, NULL,
                     NULL);
        free(text);
        if (rc != AKV_EPRECONDITION)
            return rc;
    }
    return akv_fail(AKV_EUNAVAILABLE, "usage: %d concurrent updates in a "
                                      "row; the count was not recorded",
                    RETRIES);
}

int akv_usage_read(akv_store *store, const char *sandbox, uint64_t *runs,
                   json_t **fetches)
{
    akv_error_clear();
    if (store == NULL || sandbox == NULL || runs == NULL || fetches == NULL)
        return akv_fail(AKV_EINVAL, "usage: NULL argument");
    json_t *o;
    char sha[AKV_SHA256_HEX + 1];
    int rc = load(store, sandbox, &o, sha);
    if (rc != AKV_OK)
        return rc;
    *runs = count_of(json_object_get(o, "runs"));
    json_t *f = json_object_get(o, "fetches");
    *fetches = json_is_object(f) ? json_incref(f) : json_object();
    json_decref(o);
    return *fetches ? AKV_OK : akv_fail(AKV_ENOMEM, "out of memory");
}

uint64_t akv_usage_fetches(const json_t *fetches, const char *name)
{
    return count_of(json_object_get(fetches, name));
}

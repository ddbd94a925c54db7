/*
 * mcp-notify.c — what the server says without being asked, under the
 * session-based revisions 2024-11-05 … 2025-11-25 (2026-07-28 has neither
 * logging/setLevel nor resources/subscribe, and nothing here runs for its
 * requests):
 *
 *   - logging: logging/setLevel picks the least severe level the client
 *     wants; from then on the server's notable events (a tool call that
 *     failed, a write refused for quota, an integrity failure) are
 *     notifications/message at their level. Before setLevel nothing is
 *     sent.
 *   - resources/subscribe and resources/unsubscribe for agentkv://SCOPE/KEY
 *     URIs (at most MCP_SUBS_MAX per session; the key need not exist yet:
 *     its creation is a change too), notifications/resources/updated when a
 *     subscribed entry is written, replaced, deleted or expires, and
 *     notifications/resources/list_changed when the instruction sets the
 *     session sees (resources/list) gain or lose a name.
 *
 * Notifications wait in the session's outbox (at most MCP_OUTBOX_MAX; more
 * are dropped and counted) until the transport takes them with
 * akv_mcp_next_notification(). Changes are found by akv_mcp_poll(), which
 * the transport calls about once a second while someone listens: it looks
 * at the store's change generation (akv_store_generation: on LMDB the last
 * committed transaction id, moved by any process's write) and only when
 * that moved re-reads the metadata of the subscribed entries and the
 * instruction listing, read-only. A subscription sees only what
 * resources/read would show the session: its own sandbox (and _global for
 * overlay scopes), nothing else.
 */
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

static const char *const log_levels[] = {
    "debug", "info", "notice", "warning",
    "error", "critical", "alert", "emergency",
};

/* What a subscribed URI showed at the last look. */
struct mcp_sub {
    char *uri; /* as the client spelled it; owned */
    akv_scope scope;
    char key[AKV_KEY_MAX + 1];
    size_t key_len;
    int present;
    char sha256[AKV_SHA256_HEX + 1];
    uint64_t version;
    char origin[AKV_SANDBOX_MAX + 1];
};

void mcp_notify(akv_mcp_session *s, const char *method, json_t *params)
{
    if (s->outbox == NULL)
        s->outbox = json_array();
    json_t *n = json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", method);
    if (n && params)
        json_object_set(n, "params", params);
    json_decref(params);
    if (n == NULL || s->outbox == NULL ||
        json_array_size(s->outbox) >= MCP_OUTBOX_MAX) {
        s->dropped++;
        json_decref(n);
        return;
    }
    json_array_append_new(s->outbox, n);
}

void mcp_log(akv_mcp_session *s, enum mcp_log_level level, json_t *data)
{
    if (s->modern || s->log_level < 0 || (int)level < s->log_level ||
        data == NULL) {
        json_decref(data);
        return;
    }
    mcp_notify(s, "notifications/message",
               json_pack("{s:s,s:s,s:o}", "level", log_levels[level],
                         "logger", "agentkv", "data", data));
}

void mcp_notify_free(akv_mcp_session *s)
{
    json_decref(s->outbox);
    s->outbox = NULL;
    for (size_t i = 0; i < s->nsubs; i++)
        free(s->subs[i].uri);
    free(s->subs);
    s->subs = NULL;
    s->nsubs = 0;
}

char *akv_mcp_next_notification(akv_mcp_session *s, size_t *len)
{
    if (s->outbox == NULL || json_array_size(s->outbox) == 0)
        return NULL;
    char *text = mcp_rpc_dump(json_array_get(s->outbox, 0), len);
    json_array_remove(s->outbox, 0);
    return text;
}

json_t *mcp_logging_set_level(akv_mcp_session *s, json_t *params,
                              struct mcp_rpc_error *err)
{
    json_t *lv = json_object_get(params, "level");
    const char *want = json_string_value(lv);
    for (size_t i = 0; want && i < sizeof log_levels / sizeof *log_levels;
         i++)
        if (strcmp(want, log_levels[i]) == 0 &&
            strlen(want) == json_string_length(lv)) {
            s->log_level = (int)i;
            json_t *r = json_object();
            return r ? r
                     : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR,
                                    "out of memory");
        }
    return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                        "Invalid params: \"level\" must be one of debug, "
                        "info, notice, warning, error, critical, alert, "
                        "emergency");
}

/* ---- subscriptions ------------------------------------------------------ */

/* Reads what sub's entry looks like now (metadata only: a one-item listing
 * from its key, which neither reads the value nor refreshes an expiry).
 * AKV_OK, or the store's error. */
static int sub_look(akv_mcp_session *s, struct mcp_sub *sub)
{
    akv_list_opts o = {
        .prefix = sub->key, .prefix_len = sub->key_len, .limit = 1,
    };
    akv_list *l;
    int rc = akv_list_entries(s->store, s->sandbox, sub->scope, &o, &l);
    if (rc != AKV_OK)
        return rc;
    const akv_meta *m = akv_list_count(l) ? akv_list_item(l, 0) : NULL;
    sub->present = m && m->key_len == sub->key_len &&
                   memcmp(m->key, sub->key, sub->key_len) == 0;
    if (sub->present) {
        memcpy(sub->sha256, m->sha256, sizeof sub->sha256);
        memcpy(sub->origin, m->origin, sizeof sub->origin);
        sub->version = m->version;
    }
    akv_list_free(l);
    return AKV_OK;
}

/* The subscription params name: an agentkv://SCOPE/KEY URI. Fills sub's
 * uri fields (uri not copied) or the error. */
static int sub_target(json_t *params, struct mcp_sub *sub,
                      struct mcp_rpc_error *err)
{
    json_t *juri = json_object_get(params, "uri");
    if (!json_is_string(juri)) {
        mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                     "Invalid params: \"uri\" must be a string");
        return -1;
    }
    const char *uri = json_string_value(juri);
    size_t len = json_string_length(juri);
    memset(sub, 0, sizeof *sub);
    if (mcp_uri_parse(uri, len, &sub->scope, sub->key, &sub->key_len) !=
        AKV_OK) {
        err->data = json_pack("{s:s%}", "uri", uri, len);
        mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                     "Invalid params: only agentkv://SCOPE/KEY resources "
                     "can be subscribed to, not %.200s",
                     uri);
        return -1;
    }
    return 0;
}

static struct mcp_sub *sub_find(akv_mcp_session *s, json_t *params)
{
    const char *uri = json_string_value(json_object_get(params, "uri"));
    for (size_t i = 0; uri && i < s->nsubs; i++)
        if (strcmp(s->subs[i].uri, uri) == 0)
            return &s->subs[i];
    return NULL;
}

json_t *mcp_resources_subscribe(akv_mcp_session *s, json_t *params,
                                struct mcp_rpc_error *err)
{
    struct mcp_sub sub;
    if (sub_target(params, &sub, err) != 0)
        return NULL;
    if (sub_find(s, params) == NULL) {
        if (s->nsubs >= MCP_SUBS_MAX)
            return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                                "Invalid params: a session subscribes to at "
                                "most %d resources; unsubscribe from one "
                                "first",
                                MCP_SUBS_MAX);
        int rc = sub_look(s, &sub);
        if (rc != AKV_OK)
            return mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "%s: %s",
                                akv_err_name(rc), akv_last_error()->message);
        if (s->subs == NULL)
            s->subs = calloc(MCP_SUBS_MAX, sizeof *s->subs);
        sub.uri = strdup(json_string_value(json_object_get(params, "uri")));
        if (s->subs == NULL || sub.uri == NULL) {
            free(sub.uri);
            return mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
        }
        s->subs[s->nsubs++] = sub;
    }
    json_t *r = json_object();
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

json_t *mcp_resources_unsubscribe(akv_mcp_session *s, json_t *params,
                                  struct mcp_rpc_error *err)
{
    struct mcp_sub sub;
    if (sub_target(params, &sub, err) != 0)
        return NULL;
    struct mcp_sub *found = sub_find(s, params);
    if (found) { /* unsubscribing from what is not subscribed is a no-op */
        free(found->uri);
        *found = s->subs[--s->nsubs];
    }
    json_t *r = json_object();
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/* A fingerprint of the instruction names the session sees (what
 * resources/list lists): FNV-1a over the names and their origins. 0 when
 * the listing failed (no change is reported then). */
static uint64_t list_fingerprint(akv_mcp_session *s)
{
    uint64_t h = 1469598103934665603u;
    akv_list_opts o = {.limit = AKV_LIST_MAX_LIMIT};
    char cursor[AKV_KEY_MAX + 1];
    for (;;) {
        akv_list *l;
        if (akv_list_entries(s->store, s->sandbox, AKV_SCOPE_INSTRUCTIONS, &o,
                             &l) != AKV_OK)
            return 0;
        for (size_t i = 0; i < akv_list_count(l); i++) {
            const akv_meta *m = akv_list_item(l, i);
            const char *parts[2] = {m->key, m->origin};
            size_t lens[2] = {m->key_len, strlen(m->origin) + 1};
            for (int p = 0; p < 2; p++)
                for (size_t k = 0; k < lens[p]; k++)
                    h = (h ^ (unsigned char)parts[p][k]) * 1099511628211u;
            h = (h ^ 0xffu) * 1099511628211u;
        }
        const char *next = akv_list_next_cursor(l);
        if (next)
            snprintf(cursor, sizeof cursor, "%s", next);
        akv_list_free(l);
        if (next == NULL)
            break;
        o.cursor = cursor;
        o.cursor_len = strlen(cursor);
    }
    return h ? h : 1;
}

size_t akv_mcp_poll(akv_mcp_session *s)
{
    if (s->state == MCP_STATE_NEW)
        return 0;
    uint64_t gen;
    int known = akv_store_generation(s->store, &gen) == AKV_OK;
    if (known && s->have_generation && gen == s->generation)
        return 0;
    size_t before = s->outbox ? json_array_size(s->outbox) : 0;
    for (size_t i = 0; i < s->nsubs; i++) {
        struct mcp_sub now = s->subs[i];
        if (sub_look(s, &now) != AKV_OK)
            continue; /* looked at again on the next poll */
        struct mcp_sub *was = &s->subs[i];
        int changed = now.present != was->present ||
                      (now.present &&
                       (now.version != was->version ||
                        strcmp(now.sha256, was->sha256) != 0 ||
                        strcmp(now.origin, was->origin) != 0));
        if (changed) {
            *was = now;
            mcp_notify(s, "notifications/resources/updated",
                       json_pack("{s:s}", "uri", was->uri));
        }
    }
    uint64_t print = list_fingerprint(s);
    if (print && s->list_print && print != s->list_print)
        mcp_notify(s, "notifications/resources/list_changed", NULL);
    if (print)
        s->list_print = print;
    s->generation = gen;
    s->have_generation = known;
    size_t after = s->outbox ? json_array_size(s->outbox) : 0;
    return after - before;
}

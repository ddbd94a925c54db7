/*
 * mcp-notify.c — what the server says without being asked. Under the
 * session-based revisions 2024-11-05 … 2025-11-25:
 *
 *   - logging: logging/setLevel picks the least severe level the client
 *     wants; from then on the server's notable events (a tool call that
 *     failed, a write refused for quota, an integrity failure, the
 *     instruction sets changing) are notifications/message at their level.
 *     Before setLevel nothing is sent.
 *   - resources/subscribe and resources/unsubscribe for agentkv://SCOPE/KEY
 *     URIs (at most MCP_SUBS_MAX per session; the key need not exist yet:
 *     its creation is a change too), notifications/resources/updated when a
 *     subscribed entry is written, replaced, deleted or expires, and
 *     notifications/resources/list_changed when the instruction sets the
 *     session sees (resources/list) gain or lose a name.
 *
 * Under 2026-07-28 (no logging, no resources/subscribe): subscriptions/listen
 * opens a stream whose filter asks for resource list changes and resource
 * subscriptions (the same checks, at most MCP_SUBS_MAX URIs), acknowledged
 * first, every notification tagged with the listen request's id; the
 * request is answered only when the stream ends (akv_mcp_listen_end), or
 * never when the client cancels it. A session keeps one watch of its own
 * and at most MCP_WATCHES - 1 streams.
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

#define META_SUBSCRIPTION "io.modelcontextprotocol/subscriptionId"

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

/* One set of things watched for one listener: the session's own (the 2025
 * revisions: resources/subscribe, and list changes always), or one
 * subscriptions/listen stream (2026-07-28: what its filter asked for, its
 * notifications tagged with its id). */
struct mcp_watch {
    json_t *id;       /* the listen request's id; NULL for the session's */
    int list_changed; /* notifications/resources/list_changed wanted */
    uint64_t list_print; /* the instruction listing's fingerprint */
    struct mcp_sub subs[MCP_SUBS_MAX];
    size_t nsubs;
};

static void watch_free(struct mcp_watch *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->nsubs; i++)
        free(w->subs[i].uri);
    json_decref(w->id);
    free(w);
}

void mcp_notify_free(akv_mcp_session *s)
{
    json_decref(s->outbox);
    s->outbox = NULL;
    for (size_t i = 0; i < MCP_WATCHES; i++) {
        watch_free(s->watch[i]);
        s->watch[i] = NULL;
    }
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

/* Checks that juri is an agentkv://SCOPE/KEY URI and fills sub's target
 * (uri not copied), or the error. */
static int sub_target(json_t *juri, struct mcp_sub *sub,
                      struct mcp_rpc_error *err)
{
    if (!json_is_string(juri)) {
        mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                     "Invalid params: \"uri\" must be a string");
        return -1;
    }
    const char *uri = json_string_value(juri);
    size_t len = json_string_length(juri);
    memset(sub, 0, sizeof *sub);
    if (strlen(uri) != len ||
        mcp_uri_parse(uri, len, &sub->scope, sub->key, &sub->key_len) !=
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

static struct mcp_sub *sub_find(struct mcp_watch *w, const char *uri)
{
    for (size_t i = 0; w && uri && i < w->nsubs; i++)
        if (strcmp(w->subs[i].uri, uri) == 0)
            return &w->subs[i];
    return NULL;
}

/* Adds the subscription for juri to w (already there: nothing). 0, or -1
 * with err filled. */
static int watch_add(akv_mcp_session *s, struct mcp_watch *w, json_t *juri,
                     struct mcp_rpc_error *err)
{
    struct mcp_sub sub;
    if (sub_target(juri, &sub, err) != 0)
        return -1;
    if (sub_find(w, json_string_value(juri)))
        return 0;
    if (w->nsubs >= MCP_SUBS_MAX) {
        mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                     "Invalid params: at most %d resource subscriptions per "
                     "%s",
                     MCP_SUBS_MAX,
                     w->id ? "subscriptions/listen"
                           : "session; unsubscribe from one first");
        return -1;
    }
    int rc = sub_look(s, &sub);
    if (rc != AKV_OK) {
        mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "%s: %s", akv_err_name(rc),
                     akv_last_error()->message);
        return -1;
    }
    sub.uri = strdup(json_string_value(juri));
    if (sub.uri == NULL) {
        mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
        return -1;
    }
    w->subs[w->nsubs++] = sub;
    return 0;
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

/* Queues a notification of watch w: a listen stream's carry its id in
 * _meta (params stolen, may be NULL). */
static void watch_notify(akv_mcp_session *s, struct mcp_watch *w,
                         const char *method, json_t *params)
{
    if (w->id) {
        if (params == NULL)
            params = json_object();
        json_t *meta = json_pack("{s:O}", META_SUBSCRIPTION, w->id);
        if (params && meta)
            json_object_set_new(params, "_meta", meta);
        else
            json_decref(meta);
    }
    mcp_notify(s, method, params);
}

/* The session's own watch, made on first use. */
static struct mcp_watch *session_watch(akv_mcp_session *s)
{
    if (s->watch[0] == NULL) {
        s->watch[0] = calloc(1, sizeof *s->watch[0]);
        if (s->watch[0])
            s->watch[0]->list_changed = 1;
    }
    return s->watch[0];
}

json_t *mcp_resources_subscribe(akv_mcp_session *s, json_t *params,
                                struct mcp_rpc_error *err)
{
    struct mcp_watch *w = session_watch(s);
    if (w == NULL)
        return mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
    if (watch_add(s, w, json_object_get(params, "uri"), err) != 0)
        return NULL;
    json_t *r = json_object();
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

json_t *mcp_resources_unsubscribe(akv_mcp_session *s, json_t *params,
                                  struct mcp_rpc_error *err)
{
    struct mcp_sub sub;
    json_t *juri = json_object_get(params, "uri");
    if (sub_target(juri, &sub, err) != 0)
        return NULL;
    struct mcp_watch *w = s->watch[0];
    struct mcp_sub *found = sub_find(w, json_string_value(juri));
    if (found) { /* unsubscribing from what is not subscribed is a no-op */
        free(found->uri);
        *found = w->subs[--w->nsubs];
    }
    json_t *r = json_object();
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/* ---- subscriptions/listen (2026-07-28) ---------------------------------- */

/* 1 when v is absent or a boolean; *on set when it is true. */
static int flag(json_t *filter, const char *name, int *on)
{
    json_t *v = json_object_get(filter, name);
    *on = json_is_true(v);
    return v == NULL || json_is_boolean(v);
}

json_t *mcp_subscriptions_listen(akv_mcp_session *s, json_t *params,
                                 json_t *id, struct mcp_rpc_error *err)
{
    json_t *filter = json_object_get(params, "notifications");
    int tools, prompts, resources;
    if (!json_is_object(filter) || !flag(filter, "toolsListChanged", &tools) ||
        !flag(filter, "promptsListChanged", &prompts) ||
        !flag(filter, "resourcesListChanged", &resources))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"notifications\" must be an "
                            "object whose toolsListChanged, "
                            "promptsListChanged and resourcesListChanged "
                            "are booleans");
    json_t *uris = json_object_get(filter, "resourceSubscriptions");
    if (uris && !json_is_array(uris))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"resourceSubscriptions\" must "
                            "be an array of URIs");
    /* The whole filter is checked before anything is taken. */
    size_t i;
    json_t *u;
    struct mcp_sub probe;
    json_array_foreach(uris, i, u) {
        if (sub_target(u, &probe, err) != 0)
            return NULL;
    }
    if (json_array_size(uris) > MCP_SUBS_MAX)
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: at most %d resource "
                            "subscriptions per subscriptions/listen",
                            MCP_SUBS_MAX);
    size_t slot = 1;
    while (slot < MCP_WATCHES && s->watch[slot])
        slot++;
    if (slot == MCP_WATCHES)
        return mcp_rpc_fail(err, AKV_MCP_INVALID_REQUEST,
                            "Invalid Request: at most %d subscriptions/listen "
                            "streams at once on this connection",
                            MCP_WATCHES - 1);
    struct mcp_watch *w = calloc(1, sizeof *w);
    if (w == NULL)
        return mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
    w->id = json_incref(id);
    w->list_changed = resources;
    json_array_foreach(uris, i, u) {
        if (watch_add(s, w, u, err) != 0) {
            watch_free(w);
            return NULL;
        }
    }
    if (w->list_changed)
        w->list_print = list_fingerprint(s);
    /* What is honoured: resource list changes and subscriptions. Tools and
     * prompts are fixed for the server's life: never announced. */
    json_t *honored = json_object();
    if (resources)
        json_object_set_new(honored, "resourcesListChanged", json_true());
    if (uris)
        json_object_set(honored, "resourceSubscriptions", uris);
    s->watch[slot] = w;
    watch_notify(s, w, "notifications/subscriptions/acknowledged",
                 json_pack("{s:o}", "notifications", honored));
    /* The stream has begun; akv_mcp_poll() needs the store's generation
     * as of now to measure changes against. */
    if (!s->have_generation)
        s->have_generation =
            akv_store_generation(s->store, &s->generation) == AKV_OK;
    return json_object();
}

int mcp_listen_cancel(akv_mcp_session *s, json_t *id)
{
    for (size_t i = 1; i < MCP_WATCHES; i++)
        if (s->watch[i] && json_equal(s->watch[i]->id, id)) {
            watch_free(s->watch[i]);
            s->watch[i] = NULL;
            return 1;
        }
    return 0;
}

int akv_mcp_listening(const akv_mcp_session *s)
{
    for (size_t i = 1; i < MCP_WATCHES; i++)
        if (s->watch[i])
            return 1;
    return 0;
}

char *akv_mcp_listen_end(akv_mcp_session *s, size_t *len)
{
    for (size_t i = 1; i < MCP_WATCHES; i++) {
        struct mcp_watch *w = s->watch[i];
        if (w == NULL)
            continue;
        json_t *reply = json_pack("{s:s,s:O,s:{s:{s:O}}}", "jsonrpc", "2.0",
                                  "id", w->id, "result", "_meta",
                                  META_SUBSCRIPTION, w->id);
        char *text = reply ? mcp_rpc_dump(reply, len) : NULL;
        json_decref(reply);
        watch_free(w);
        s->watch[i] = NULL;
        return text;
    }
    return NULL;
}

/* ---- looking for changes ------------------------------------------------ */

static void watch_poll(akv_mcp_session *s, struct mcp_watch *w,
                       uint64_t *print)
{
    for (size_t i = 0; i < w->nsubs; i++) {
        struct mcp_sub now = w->subs[i];
        if (sub_look(s, &now) != AKV_OK)
            continue; /* looked at again on the next poll */
        struct mcp_sub *was = &w->subs[i];
        int changed = now.present != was->present ||
                      (now.present &&
                       (now.version != was->version ||
                        strcmp(now.sha256, was->sha256) != 0 ||
                        strcmp(now.origin, was->origin) != 0));
        if (changed) {
            *was = now;
            watch_notify(s, w, "notifications/resources/updated",
                         json_pack("{s:s}", "uri", was->uri));
        }
    }
    if (!w->list_changed)
        return;
    if (*print == 0)
        *print = list_fingerprint(s);
    if (*print && w->list_print && *print != w->list_print) {
        watch_notify(s, w, "notifications/resources/list_changed", NULL);
        /* The same news for a client that only reads the log. */
        if (w->id == NULL)
            mcp_log(s, MCP_LOG_NOTICE,
                    json_pack("{s:s,s:s}", "event", "instructions_changed",
                              "message",
                              "the instruction sets in this sandbox changed "
                              "(list_instructions shows them)"));
    }
    if (*print)
        w->list_print = *print;
}

size_t akv_mcp_poll(akv_mcp_session *s)
{
    if (s->state == MCP_STATE_NEW && !akv_mcp_listening(s))
        return 0;
    if (s->state != MCP_STATE_NEW)
        session_watch(s); /* list changes, from the handshake on */
    uint64_t gen;
    int known = akv_store_generation(s->store, &gen) == AKV_OK;
    if (known && s->have_generation && gen == s->generation)
        return 0;
    size_t before = s->outbox ? json_array_size(s->outbox) : 0;
    uint64_t print = 0; /* one listing for every watch */
    for (size_t i = 0; i < MCP_WATCHES; i++)
        if (s->watch[i])
            watch_poll(s, s->watch[i], &print);
    s->generation = gen;
    s->have_generation = known;
    size_t after = s->outbox ? json_array_size(s->outbox) : 0;
    return after - before;
}

/*
 * mcp.c — MCP sessions, the lifecycle (initialize with version negotiation,
 * notifications/initialized, ping), the method table, and the dispatcher
 * that turns one message into one response.
 *
 * Lifecycle as the MCP specification describes it: before `initialize` only
 * `initialize` and `ping` are served (other requests get Invalid Request,
 * notifications are dropped); a second `initialize` is refused. Requests
 * are served from the moment `initialize` has been answered, without
 * waiting for notifications/initialized: over stdio they cannot overtake
 * it, and over HTTP a client may legitimately race it.
 *
 * A request carrying the 2026-07-28 envelope in its _meta skips all of
 * this: mcp-modern.c vets it and it is served statelessly, whatever the
 * session's state, which it leaves as it found it.
 *
 * Batches (a JSON array of messages) exist only in revision 2025-03-26;
 * under every other revision, and before negotiation, an array is one
 * Invalid Request. Inside a batch `initialize` is not allowed.
 */
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

/* Newest first. 2024-10-07 predates the first published revision but the
 * official SDK client still offers it; it is served as 2024-11-05. */
const char *const akv_mcp_versions[] = {
    "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07",
};
const size_t akv_mcp_nversions =
    sizeof akv_mcp_versions / sizeof akv_mcp_versions[0];

int akv_mcp_version_supported(const char *v)
{
    for (size_t i = 0; v && i < akv_mcp_nversions; i++)
        if (strcmp(v, akv_mcp_versions[i]) == 0)
            return 1;
    return 0;
}

int mcp_version_at_least(const akv_mcp_session *s, const char *v)
{
    /* Revisions are ISO dates, so text order is time order. */
    return s->version[0] != '\0' && strcmp(s->version, v) >= 0;
}

int akv_mcp_session_new(akv_store *store, const char *sandbox, unsigned flags,
                        akv_mcp_session **out)
{
    *out = NULL;
    if (store == NULL || sandbox == NULL)
        return AKV_EINVAL;
    int rc = akv_sandbox_check(sandbox, strlen(sandbox));
    if (rc != AKV_OK)
        return rc;
    akv_mcp_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return AKV_ENOMEM;
    s->store = store;
    memcpy(s->sandbox, sandbox, strlen(sandbox) + 1);
    s->flags = flags;
    s->state = MCP_STATE_NEW;
    s->log_level = -1;
    *out = s;
    return AKV_OK;
}

void akv_mcp_session_free(akv_mcp_session *s)
{
    if (s == NULL)
        return;
    mcp_notify_free(s);
    free(s);
}

void akv_mcp_session_set_headers(akv_mcp_session *s,
                                 const akv_mcp_headers *h)
{
    s->headers = h;
}

void akv_mcp_session_set_events(akv_mcp_session *s, akv_mcp_event_fn fn,
                                void *ctx)
{
    s->events = fn;
    s->events_ctx = ctx;
}

void mcp_event(akv_mcp_session *s, enum akv_mcp_event event, akv_scope scope,
               const char *key, size_t key_len)
{
    if (s->events)
        s->events(s->events_ctx, event, scope, key, key_len);
}

void mcp_event_failure(akv_mcp_session *s, int rc, akv_scope scope)
{
    if (rc == AKV_EQUOTA)
        mcp_event(s, AKV_MCP_EVENT_QUOTA, scope, NULL, 0);
    else if (rc == AKV_EINTEGRITY)
        mcp_event(s, AKV_MCP_EVENT_INTEGRITY, scope, NULL, 0);
}

const char *akv_mcp_session_version(const akv_mcp_session *s)
{
    return s->version[0] ? s->version : NULL;
}

const char *akv_mcp_session_sandbox(const akv_mcp_session *s)
{
    return s->sandbox;
}

/* Shown to the model by clients that surface server instructions. */
const char mcp_server_instructions[] =
    "agentkv is a durable key-value cache. Instruction sets are not in your "
    "prompt: call list_instructions to see what exists and get_instruction "
    "to load one when a task needs it. Keep work products with "
    "put_artifact/get_artifact, the project's running summary with "
    "put_project_summary/get_project_summary, and anything else with "
    "kv_put/kv_get in one of the scopes system, instructions, project, task "
    "or artifacts. Failures come back as tool errors whose text starts with "
    "an error code such as not_found or quota_exceeded.";

json_t *mcp_server_capabilities(int modern)
{
    /* Resource subscriptions and list changes: resources/subscribe and
     * unsolicited notifications on the 2025 revisions, subscriptions/listen
     * on 2026-07-28 (mcp-notify.c). */
    json_t *c = json_pack("{s:{s:b},s:{s:b,s:b},s:{s:b},s:{},s:{s:{}}}",
                          "tools", "listChanged", 0, "resources", "subscribe",
                          1, "listChanged", 1, "prompts", "listChanged", 0,
                          "completions", "extensions", MCP_SKILLS_EXTENSION);
    /* 2026-07-28 has no logging/setLevel. */
    if (c && !modern)
        json_object_set_new(c, "logging", json_object());
    return c;
}

json_t *mcp_server_info(void)
{
    return json_pack("{s:s,s:s,s:s}", "name", "agentkv", "title", "agentkv",
                     "version", AKV_VERSION_STRING);
}

static json_t *method_initialize(akv_mcp_session *s, json_t *params,
                                 struct mcp_rpc_error *err)
{
    if (s->state != MCP_STATE_NEW)
        return mcp_rpc_fail(err, AKV_MCP_INVALID_REQUEST,
                            "Invalid Request: the session is already "
                            "initialized");
    json_t *pv = json_object_get(params, "protocolVersion");
    if (!json_is_string(pv))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"protocolVersion\" must be a "
                            "string");
    json_t *caps = json_object_get(params, "capabilities");
    json_t *info = json_object_get(params, "clientInfo");
    if ((caps && !json_is_object(caps)) || (info && !json_is_object(info)))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"capabilities\" and "
                            "\"clientInfo\" must be objects");

    /* The client's version if we speak it, else our newest: the client
     * then decides whether it can go on (MCP lifecycle, version
     * negotiation). */
    const char *want = json_string_value(pv);
    const char *chosen = AKV_MCP_LATEST_VERSION;
    if (strlen(want) == json_string_length(pv) &&
        akv_mcp_version_supported(want))
        chosen = want;

    json_t *server_info = mcp_server_info();
    json_t *result = json_pack("{s:s,s:o,s:o,s:s}", "protocolVersion",
                               chosen, "capabilities",
                               mcp_server_capabilities(0), "serverInfo",
                               server_info, "instructions",
                               mcp_server_instructions);
    if (result == NULL)
        return mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
    snprintf(s->version, sizeof s->version, "%s", chosen);
    s->client_skills = mcp_caps_skills(caps);
    s->state = MCP_STATE_INITIALIZING;
    akv_mcp_poll(s); /* what later changes are measured against */
    return result;
}

static json_t *method_ping(akv_mcp_session *s, json_t *params,
                           struct mcp_rpc_error *err)
{
    (void)s;
    (void)params;
    json_t *r = json_object();
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/* Requests, in no particular order. flags: served before initialize;
 * not part of the 2026-07-28 revision (which dropped the handshake and
 * ping); only part of it. server/discover is state-free, so it is served
 * whatever the session's state, with or without a 2026-07-28 envelope. */
#define MCP_PRE_INIT 0x1u
#define MCP_LEGACY_ONLY 0x2u
#define MCP_MODERN_ONLY 0x4u
static const struct mcp_method {
    const char *name;
    unsigned flags;
    mcp_method_fn run;
} methods[] = {
    {"initialize", MCP_PRE_INIT | MCP_LEGACY_ONLY, method_initialize},
    {"ping", MCP_PRE_INIT | MCP_LEGACY_ONLY, method_ping},
    {"server/discover", MCP_PRE_INIT, mcp_server_discover},
    {"tools/list", 0, mcp_tools_list},
    {"tools/call", 0, mcp_tools_call},
    {"resources/list", 0, mcp_resources_list},
    {"resources/templates/list", 0, mcp_resources_templates},
    {"resources/read", 0, mcp_resources_read},
    {"prompts/list", 0, mcp_prompts_list},
    {"prompts/get", 0, mcp_prompts_get},
    {"completion/complete", 0, mcp_complete},
    {"skills/list", 0, mcp_skills_list},
    {"skills/get", 0, mcp_skills_get},
    {"logging/setLevel", MCP_LEGACY_ONLY, mcp_logging_set_level},
    {"resources/subscribe", MCP_LEGACY_ONLY, mcp_resources_subscribe},
    {"resources/unsubscribe", MCP_LEGACY_ONLY, mcp_resources_unsubscribe},
    /* Served by the dispatcher itself (it answers only at the stream's
     * end); 2026-07-28 only. */
    {"subscriptions/listen", MCP_MODERN_ONLY, NULL},
};

static const struct mcp_method *method_find(const char *name)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}

/* Notifications change state or are ignored; they are never answered,
 * not even when unknown or malformed (JSON-RPC 2.0 §4.1). */
static void handle_notification(akv_mcp_session *s, const struct mcp_msg *m)
{
    if (strcmp(m->method, "notifications/initialized") == 0 &&
        s->state == MCP_STATE_INITIALIZING)
        s->state = MCP_STATE_READY;
    /* A subscriptions/listen stream the client no longer wants. */
    if (strcmp(m->method, "notifications/cancelled") == 0 &&
        json_is_object(m->params))
        mcp_listen_cancel(s, json_object_get(m->params, "requestId"));
    /* notifications/cancelled: every request is answered before the next
     * message is read, so there is never anything in flight to cancel. */
}

/* Answers one request; returns the response object (new reference). */
static json_t *handle_request(akv_mcp_session *s, const struct mcp_msg *m,
                              int in_batch, akv_mcp_outcome *oc)
{
    struct mcp_rpc_error err = {0, "", NULL};
    json_t *result = NULL;
    const struct mcp_method *meth = method_find(m->method);

    char saved[16];
    oc->requests++;
    enum mcp_era era = mcp_modern_enter(s, m, saved, &err);
    if (era != MCP_ERA_LEGACY)
        oc->modern++;
    if (era == MCP_ERA_REFUSED) {
        oc->modern_refused++;
    } else if (meth == NULL ||
               (era == MCP_ERA_MODERN && (meth->flags & MCP_LEGACY_ONLY)) ||
               (era != MCP_ERA_MODERN && (meth->flags & MCP_MODERN_ONLY))) {
        mcp_rpc_fail(&err, AKV_MCP_METHOD_NOT_FOUND,
                     "Method not found: %.200s%s", m->method,
                     meth == NULL ? ""
                     : era == MCP_ERA_MODERN
                         ? " (not part of protocol revision "
                           AKV_MCP_MODERN_VERSION ")"
                         : " (only part of protocol revision "
                           AKV_MCP_MODERN_VERSION ")");
        if (era == MCP_ERA_MODERN && !in_batch)
            oc->modern_unknown++;
    } else if (era == MCP_ERA_MODERN && in_batch) {
        mcp_rpc_fail(&err, AKV_MCP_INVALID_REQUEST,
                     "Invalid Request: protocol revision "
                     AKV_MCP_MODERN_VERSION " has no batches");
    } else if (era == MCP_ERA_MODERN && meth->run == NULL) {
        /* subscriptions/listen: no response until the stream ends. */
        result = mcp_subscriptions_listen(s, m->params, m->id, &err);
        if (result) {
            json_decref(result);
            oc->listen = 1;
            mcp_modern_leave(s, saved);
            return NULL;
        }
    } else if (era == MCP_ERA_MODERN) {
        /* Stateless: neither the handshake's state nor its version matter;
         * params were checked to be an object by mcp_modern_enter. */
        result = meth->run(s, m->params, &err);
        if (result)
            mcp_modern_stamp(m->method, result);
    } else if (s->state == MCP_STATE_NEW && !(meth->flags & MCP_PRE_INIT)) {
        mcp_rpc_fail(&err, AKV_MCP_INVALID_REQUEST,
                     "Invalid Request: the session is not initialized "
                     "(send initialize first)");
    } else if (in_batch && meth->run == method_initialize) {
        mcp_rpc_fail(&err, AKV_MCP_INVALID_REQUEST,
                     "Invalid Request: initialize must not be part of a "
                     "batch");
    } else if (m->params != NULL && !json_is_object(m->params)) {
        mcp_rpc_fail(&err, AKV_MCP_INVALID_PARAMS,
                     "Invalid params: \"params\" must be an object");
    } else {
        int was_new = s->state == MCP_STATE_NEW;
        if (meth->run == method_initialize)
            oc->initialize = 1;
        result = meth->run(s, m->params, &err);
        if (result && was_new && s->state != MCP_STATE_NEW)
            oc->initialized = 1;
    }
    if (era == MCP_ERA_MODERN)
        mcp_modern_leave(s, saved);
    if (result)
        return mcp_rpc_result(m->id, result);
    json_t *reply = mcp_rpc_error(m->id, &err);
    json_decref(err.data);
    return reply;
}

/* One element: a response object (new reference) or NULL for none. */
static json_t *handle_one(akv_mcp_session *s, json_t *v, int in_batch,
                          akv_mcp_outcome *oc)
{
    struct mcp_msg m;
    struct mcp_rpc_error err = {0, "", NULL};
    switch (mcp_rpc_classify(v, &m, &err)) {
    case MCP_MSG_REQUEST:
        return handle_request(s, &m, in_batch, oc);
    case MCP_MSG_NOTIFICATION:
        /* A 2026-07-28 notification needs no session either. */
        if (json_is_object(m.params) &&
            json_object_get(json_object_get(m.params, "_meta"),
                            "io.modelcontextprotocol/protocolVersion"))
            oc->modern++;
        handle_notification(s, &m);
        return NULL;
    case MCP_MSG_RESPONSE:
        /* This server sends no requests, so no response is awaited:
         * accepted and dropped, as streamable HTTP's 202 says. */
        return NULL;
    case MCP_MSG_INVALID:
    default:
        if (!in_batch)
            oc->rejected = 1;
        return mcp_rpc_error(m.id, &err);
    }
}

static json_t *handle_batch(akv_mcp_session *s, json_t *arr,
                            akv_mcp_outcome *oc)
{
    struct mcp_rpc_error err = {0, "", NULL};
    if (strcmp(s->version, "2025-03-26") != 0) {
        oc->rejected = 1;
        mcp_rpc_fail(&err, AKV_MCP_INVALID_REQUEST,
                     "Invalid Request: JSON-RPC batches are not supported%s%s",
                     s->version[0] ? " in protocol version " : " before "
                                                               "initialize",
                     s->version);
        return mcp_rpc_error(NULL, &err);
    }
    if (json_array_size(arr) == 0) {
        oc->rejected = 1;
        mcp_rpc_fail(&err, AKV_MCP_INVALID_REQUEST,
                     "Invalid Request: empty batch");
        return mcp_rpc_error(NULL, &err);
    }
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        json_t *r = handle_one(s, v, 1, oc);
        if (r && out && json_array_append_new(out, r) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    /* A batch of notifications and responses gets no answer at all. */
    if (out && json_array_size(out) == 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

char *akv_mcp_handle_ex(akv_mcp_session *s, const char *msg, size_t len,
                        size_t *out_len, akv_mcp_outcome *oc)
{
    akv_mcp_outcome dummy;
    struct mcp_rpc_error err = {0, "", NULL};
    json_t *reply;
    if (oc == NULL)
        oc = &dummy;
    memset(oc, 0, sizeof *oc);
    if (out_len)
        *out_len = 0;

    json_t *v = mcp_rpc_parse(msg, len, &err);
    if (v == NULL) {
        oc->rejected = 1;
        reply = mcp_rpc_error(NULL, &err);
    } else if (json_is_array(v)) {
        reply = handle_batch(s, v, oc);
    } else {
        reply = handle_one(s, v, 0, oc);
    }
    int expected = v == NULL || oc->requests > 0 || oc->rejected;
    json_decref(v);
    if (reply == NULL && (!expected || oc->listen))
        return NULL;
    char *text = reply ? mcp_rpc_dump(reply, out_len) : NULL;
    json_decref(reply);
    if (text == NULL)
        text = akv_mcp_error_response(AKV_MCP_INTERNAL_ERROR,
                                      "Internal error: out of memory",
                                      out_len);
    return text;
}

char *akv_mcp_handle(akv_mcp_session *s, const char *msg, size_t len,
                     size_t *out_len)
{
    return akv_mcp_handle_ex(s, msg, len, out_len, NULL);
}

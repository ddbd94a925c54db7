/*
 * mcp-internal.h — what the files of src/mcp share and nothing outside
 * uses: the session structure, the JSON-RPC error record, the tool table's
 * row types, and the helpers that tool, resource and prompt handlers call.
 *
 * Every method handler has the same shape: it receives the session and the
 * request's params (NULL or a JSON object; the dispatcher has already
 * refused anything else), and returns the result object or NULL with the
 * error filled in. Nothing here writes to a file descriptor.
 */
#ifndef AKV_MCP_INTERNAL_H
#define AKV_MCP_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include <jansson.h>

#include "agentkv.h"
#include "akvx.h"
#include "mcp.h"

/* The most resources one watch subscribes to, and the session's own watch
 * plus the subscriptions/listen streams one connection may hold. */
#define MCP_SUBS_MAX 64
#define MCP_WATCHES 9
struct mcp_watch;

/* Session states, in order. */
enum mcp_state {
    MCP_STATE_NEW = 0,         /* only initialize and ping are served */
    MCP_STATE_INITIALIZING = 1, /* initialize answered */
    MCP_STATE_READY = 2,       /* notifications/initialized received */
};

struct akv_mcp_session {
    akv_store *store; /* borrowed */
    char sandbox[AKV_SANDBOX_MAX + 1];
    unsigned flags;   /* AKV_MCP_* */
    enum mcp_state state;
    char version[16]; /* negotiated protocol revision, "" before */
    akv_mcp_event_fn events; /* may be NULL */
    void *events_ctx;
    const akv_mcp_headers *headers; /* HTTP, during one message; or NULL */
    int modern; /* serving a 2026-07-28 request: version holds it for the
                   request's duration only (mcp-modern.c) */
    int client_skills; /* the 2025 session's client declared the skills
                          extension at initialize (mcp_caps_skills) */
    /* mcp-notify.c: what the server has to say unasked. */
    int log_level;    /* logging/setLevel's index in mcp_log_levels, or -1
                         before it: no notifications/message */
    json_t *outbox;   /* queued notifications, oldest first; owned */
    size_t dropped;   /* notifications lost to a full outbox */
    /* What is watched for whom: [0] the session's own (2025 revisions),
     * [1..] open subscriptions/listen streams (2026-07-28). Owned. */
    struct mcp_watch *watch[MCP_WATCHES];
    uint64_t generation;  /* akv_store_generation at the last look */
    int have_generation;
};

/* ---- notifications (mcp-notify.c) ---- */

struct mcp_rpc_error;

/* The most notifications a session queues before dropping new ones. */
#define MCP_OUTBOX_MAX 256

/* RFC 5424 severities as MCP names them, least severe first. */
enum mcp_log_level {
    MCP_LOG_DEBUG, MCP_LOG_INFO, MCP_LOG_NOTICE, MCP_LOG_WARNING,
    MCP_LOG_ERROR, MCP_LOG_CRITICAL, MCP_LOG_ALERT, MCP_LOG_EMERGENCY,
};
/* Queues notifications/message when the session speaks a 2025 revision,
 * the client set a level and level is at or above it. data is stolen. */
void mcp_log(akv_mcp_session *s, enum mcp_log_level level, json_t *data);
/* Queues a notification (params stolen, may be NULL). */
void mcp_notify(akv_mcp_session *s, const char *method, json_t *params);
/* Frees what the session's notification state holds. */
void mcp_notify_free(akv_mcp_session *s);
json_t *mcp_logging_set_level(akv_mcp_session *s, json_t *params,
                              struct mcp_rpc_error *err);
json_t *mcp_resources_subscribe(akv_mcp_session *s, json_t *params,
                                struct mcp_rpc_error *err);
json_t *mcp_resources_unsubscribe(akv_mcp_session *s, json_t *params,
                                  struct mcp_rpc_error *err);
/* subscriptions/listen: opens a stream under the request's id and queues
 * its acknowledgement; the request is answered only when the stream ends.
 * Returns an empty object (dropped by the caller) or NULL with err. */
json_t *mcp_subscriptions_listen(akv_mcp_session *s, json_t *params,
                                 json_t *id, struct mcp_rpc_error *err);
/* notifications/cancelled of a listen request: the stream ends, with no
 * response. 1 when id named an open stream. */
int mcp_listen_cancel(akv_mcp_session *s, json_t *id);
/* agentkv://SCOPE/KEY → scope and key (decoded, validated, NUL-terminated
 * in key[AKV_KEY_MAX + 1]); AKV_EINVAL when uri is not one (mcp-resources.c). */
int mcp_uri_parse(const char *uri, size_t len, akv_scope *scope, char *key,
                  size_t *key_len);

/* Reports an event to the session's observer, if any. */
void mcp_event(akv_mcp_session *s, enum akv_mcp_event event, akv_scope scope,
               const char *key, size_t key_len);
/* Reports what a failed store call means for the counters (quota
 * rejections, integrity failures). */
void mcp_event_failure(akv_mcp_session *s, int rc, akv_scope scope);

/* A JSON-RPC error to send instead of a result. */
struct mcp_rpc_error {
    int code;
    char message[512];
    json_t *data; /* the error's "data", owned; NULL for none */
};
/* Fills err and returns NULL, so handlers can `return mcp_rpc_fail(…)`. */
json_t *mcp_rpc_fail(struct mcp_rpc_error *err, int code, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));

/* One method of the protocol. */
typedef json_t *(*mcp_method_fn)(akv_mcp_session *s, json_t *params,
                                 struct mcp_rpc_error *err);

/* 1 when the negotiated version is at least v ("2025-06-18"). */
int mcp_version_at_least(const akv_mcp_session *s, const char *v);

/* ---- JSON-RPC framing (mcp-rpc.c) ---- */

enum mcp_msg_kind {
    MCP_MSG_INVALID = 0,  /* answer with err (id may be known) */
    MCP_MSG_REQUEST,      /* method + id */
    MCP_MSG_NOTIFICATION, /* method, no id */
    MCP_MSG_RESPONSE,     /* result or error + id, from the client */
};

/* A classified message. Borrowed from the json_t it was made from. */
struct mcp_msg {
    enum mcp_msg_kind kind;
    json_t *id;         /* the request id, or NULL (answered as null) */
    const char *method; /* NUL-terminated (jansson keeps one) */
    json_t *params;     /* NULL, or any JSON value */
};

/* Parses text as JSON (duplicate keys refused, NUL allowed in strings).
 * NULL with err filled (-32700) when it is not JSON. New reference. */
json_t *mcp_rpc_parse(const char *text, size_t len, struct mcp_rpc_error *err);
/* Classifies one element (not an array) under JSON-RPC 2.0 and MCP rules:
 * jsonrpc "2.0", id a string or number (never null), method a string.
 * Returns the kind; for
 * MCP_MSG_INVALID, err says why (and m->id is set when the id was usable,
 * so the error can carry it). */
enum mcp_msg_kind mcp_rpc_classify(json_t *v, struct mcp_msg *m,
                                   struct mcp_rpc_error *err);
/* {"jsonrpc":"2.0","id":id,"result":result} — steals result. id NULL →
 * null. New reference, NULL on out-of-memory. */
json_t *mcp_rpc_result(json_t *id, json_t *result);
/* {"jsonrpc":"2.0","id":id,"error":{"code","message"}}. */
json_t *mcp_rpc_error(json_t *id, const struct mcp_rpc_error *err);
/* Compact one-line text of v; owned. */
char *mcp_rpc_dump(json_t *v, size_t *len);

/* ---- the 2026-07-28 revision (mcp-modern.c) ---- */

/* What mcp_modern_enter() found in a request. */
enum mcp_era {
    MCP_ERA_LEGACY = 0,  /* no envelope: the session's revision applies */
    MCP_ERA_MODERN = 1,  /* served statelessly under 2026-07-28 */
    MCP_ERA_REFUSED = 2, /* err filled: bad envelope, revision, headers */
};
/* Classifies request m; for MCP_ERA_MODERN the session serves it as
 * 2026-07-28 until mcp_modern_leave(), which restores its own revision. */
enum mcp_era mcp_modern_enter(akv_mcp_session *s, const struct mcp_msg *m,
                              char saved[16], struct mcp_rpc_error *err);
void mcp_modern_leave(akv_mcp_session *s, const char saved[16]);
/* Adds what every result of the revision carries (resultType, the cache
 * fields of cacheable results, serverInfo in _meta) to result. */
void mcp_modern_stamp(const char *method, json_t *result);
/* server/discover. */
json_t *mcp_server_discover(akv_mcp_session *s, json_t *params,
                            struct mcp_rpc_error *err);
/* The server's identity and instructions, shared by initialize and
 * server/discover. New reference / static text. */
json_t *mcp_server_info(void);
extern const char mcp_server_instructions[];

/* ---- the Skills extension (mcp-skills.c) ---- */

#define MCP_SKILLS_EXTENSION "io.modelcontextprotocol/skills"
/* 1 when uri starts with skill:// (resources/read hands it over). */
int mcp_skill_uri(const char *uri, size_t len);
/* 1 when client capabilities caps (NULL allowed) declare the skills
 * extension: extensions["io.modelcontextprotocol/skills"] is an object. */
int mcp_caps_skills(json_t *caps);
/* 1 when the client of this request loads skills: a 2026-07-28 request's
 * _meta capabilities in params, or the 2025 session's initialize. */
int mcp_client_skills(const akv_mcp_session *s, json_t *params);
/* akv_prompt_opts.is_skill for session ctx: 1 when set name is served as
 * a skill. */
int mcp_skill_check(void *ctx, const char *name);
json_t *mcp_skill_read(akv_mcp_session *s, const char *uri, size_t len,
                       struct mcp_rpc_error *err);
json_t *mcp_skills_list(akv_mcp_session *s, json_t *params,
                        struct mcp_rpc_error *err);
json_t *mcp_skills_get(akv_mcp_session *s, json_t *params,
                       struct mcp_rpc_error *err);
/* The server's capabilities (initialize and server/discover). New
 * reference. */
json_t *mcp_server_capabilities(int modern);

/* completion/complete (mcp-complete.c). */
json_t *mcp_complete(akv_mcp_session *s, json_t *params,
                     struct mcp_rpc_error *err);

/* ---- tools (mcp-tools.c, mcp-args.c, mcp-format.c) ---- */

/* Argument kinds. Each maps to one JSON Schema fragment and one check. */
enum mcp_arg_kind {
    MCP_ARG_STRING,   /* any string */
    MCP_ARG_KEY,      /* a key of SPEC.md §1 (akv_key_check) */
    MCP_ARG_NAME,     /* an instruction name, [a-z0-9_-]{1,64} */
    MCP_ARG_PREFIX,   /* a key prefix: a string of at most 255 bytes */
    MCP_ARG_SCOPE,    /* one of the five scope names */
    MCP_ARG_TTL,      /* a duration string or a whole number of seconds */
    MCP_ARG_OBJECT,   /* a JSON object (entry metadata) */
    MCP_ARG_LIMIT,    /* an integer 1..AKV_LIST_MAX_LIMIT */
    MCP_ARG_CURSOR,   /* an opaque next_cursor string */
    MCP_ARG_CONTENT_TYPE, /* a MIME type, 1..255 printable ASCII */
    MCP_ARG_INTEGER,  /* any integer (the handler checks its range) */
    MCP_ARG_RANGE,    /* an array of two integers, [start, end] */
};

struct mcp_arg {
    const char *name;
    enum mcp_arg_kind kind;
    int required;
    const char *description;
};

/* Tool hints (MCP ToolAnnotations). */
#define MCP_READ_ONLY 0x1u
#define MCP_DESTRUCTIVE 0x2u
#define MCP_IDEMPOTENT 0x4u

struct mcp_call;
/* A tool handler: reads its validated arguments, calls the library, and
 * either adds content to the result and returns AKV_OK, or returns an
 * AKV_E* code (the message comes from mcp_call_fail() or, failing that,
 * akv_last_error()). */
typedef int (*mcp_tool_fn)(struct mcp_call *c);

struct mcp_tool {
    const char *name;
    const char *title;
    const char *description;
    const struct mcp_arg *args; /* terminated by a row with name NULL */
    unsigned hints;
    mcp_tool_fn run;
};

/* The table, in tools/list order. */
extern const struct mcp_tool mcp_tools[];
extern const size_t mcp_ntools;
const struct mcp_tool *mcp_tool_find(const char *name);

/* The state of one tools/call. */
struct mcp_call {
    akv_mcp_session *s;
    const struct mcp_tool *tool;
    json_t *args;    /* borrowed, validated against tool->args */
    json_t *content; /* the result's content array (owned by result) */
    json_t *result;  /* the CallToolResult being built */
    int err_code;    /* set by mcp_call_fail() */
    char err_msg[512];
};

/* The input schema of a tool as a JSON Schema object (new reference). */
json_t *mcp_args_schema(const struct mcp_tool *t);
/* Checks args (an object, or NULL for none) against the tool's table:
 * unknown names, missing required ones, types, scope names, keys, names,
 * durations. AKV_OK, or AKV_EINVAL with the reason in msg. */
int mcp_args_check(const struct mcp_tool *t, json_t *args, char *msg,
                   size_t msg_size);
/* Accessors for validated arguments; NULL/absent when not given. */
const char *mcp_arg_str(const struct mcp_call *c, const char *name,
                        size_t *len);
json_t *mcp_arg_json(const struct mcp_call *c, const char *name);

/* Records a failure message for the current call; returns code. */
int mcp_call_fail(struct mcp_call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a text content item (text need not be NUL-terminated). */
int mcp_call_text(struct mcp_call *c, const char *text, size_t len);
/* Adds obj (stolen) as a JSON text item, and as structuredContent where
 * the negotiated revision has it. */
int mcp_call_json(struct mcp_call *c, json_t *obj);
/* Adds a value: text when it is valid UTF-8, else an embedded resource
 * with the bytes in base64. */
int mcp_call_value(struct mcp_call *c, const akv_meta *m, const void *data,
                   size_t len);

/* Runs tools/call; builds the CallToolResult (mcp-tools.c). */
json_t *mcp_tools_call(akv_mcp_session *s, json_t *params,
                       struct mcp_rpc_error *err);
json_t *mcp_tools_list(akv_mcp_session *s, json_t *params,
                       struct mcp_rpc_error *err);
/* One tool's MCP definition (name, title, description, inputSchema,
 * annotations). New reference. */
json_t *mcp_tool_definition(const struct mcp_tool *t);

/* ---- resources and prompts (mcp-resources.c, mcp-prompts.c) ---- */

json_t *mcp_resources_list(akv_mcp_session *s, json_t *params,
                           struct mcp_rpc_error *err);
json_t *mcp_resources_templates(akv_mcp_session *s, json_t *params,
                                struct mcp_rpc_error *err);
json_t *mcp_resources_read(akv_mcp_session *s, json_t *params,
                           struct mcp_rpc_error *err);
json_t *mcp_prompts_list(akv_mcp_session *s, json_t *params,
                         struct mcp_rpc_error *err);
json_t *mcp_prompts_get(akv_mcp_session *s, json_t *params,
                        struct mcp_rpc_error *err);

/* ---- small shared helpers (mcp-util.c) ---- */

/* base64 and the UTF-8 check are akvx.h's (akvx_base64_encode,
 * akvx_utf8_valid: NUL allowed, JSON carries it as \u0000). */
/* agentkv://SCOPE/KEY, the key percent-encoded except for unreserved
 * characters and '/'. Owned; NULL on out-of-memory. */
char *mcp_entry_uri(akv_scope scope, const char *key, size_t len);
/* prefix then key, encoded as mcp_entry_uri encodes it (skill:// URIs of a
 * skill's files). Owned; NULL on out-of-memory. */
char *mcp_key_uri(const char *prefix, const char *key, size_t len);
/* One resources/read content item for value v at uri: the stored bytes as
 * text when they are valid UTF-8, else as a base64 blob, with the entry's
 * content type. New reference; NULL on out-of-memory. */
json_t *mcp_value_content(const char *uri, size_t uri_len,
                          const akv_value *v);

#endif /* AKV_MCP_INTERNAL_H */

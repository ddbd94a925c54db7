/*
 * mcp.h — the Model Context Protocol layer of agentkv, shared by the two
 * transports (stdio in src/cli/cmd-mcp.c, streamable HTTP in
 * src/server/http-mcp.c) and by `agentkv tools`.
 *
 * A transport owns the bytes on the wire; this layer owns everything inside
 * a JSON-RPC message. akv_mcp_handle() takes one message (a JSON text: one
 * request, notification or response, or a batch array where the negotiated
 * protocol version allows it) and returns the text to send back, or NULL
 * when nothing is to be sent (notifications and client responses). It never
 * fails: every problem becomes a JSON-RPC error or a tool result with
 * isError set. The layer does no I/O and no logging of its own.
 *
 * A session is the state of one MCP connection: the store, the sandbox it
 * works in, whether the caller may write the system scope, and the protocol
 * version negotiated by `initialize`. One session must not be used by two
 * threads at once; different sessions may share a store across threads.
 */
#ifndef AKV_MCP_H
#define AKV_MCP_H

#include <stddef.h>

#include "agentkv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Protocol revisions this server speaks, newest first. `initialize` answers
 * with the client's requested version when it is one of these, else with
 * the newest. */
#define AKV_MCP_LATEST_VERSION "2025-11-25"
extern const char *const akv_mcp_versions[];
extern const size_t akv_mcp_nversions;
/* 1 when v (NUL-terminated) is a supported revision. */
int akv_mcp_version_supported(const char *v);

/* The stateless revision. It is not in akv_mcp_versions: that list is what
 * `initialize` negotiates, and this revision has no `initialize`. A request
 * belongs to it when its params carry the revision in
 * _meta["io.modelcontextprotocol/protocolVersion"]; such a request is
 * served on its own (no session state is read or written), on any session,
 * initialized or not. */
#define AKV_MCP_MODERN_VERSION "2026-07-28"

/* The largest message the transports accept, in bytes. */
#define AKV_MCP_MAX_MESSAGE ((size_t)64 * 1024 * 1024)

/* JSON-RPC 2.0 error codes used by this layer. */
#define AKV_MCP_PARSE_ERROR (-32700)
#define AKV_MCP_INVALID_REQUEST (-32600)
#define AKV_MCP_METHOD_NOT_FOUND (-32601)
#define AKV_MCP_INVALID_PARAMS (-32602)
#define AKV_MCP_INTERNAL_ERROR (-32603)
#define AKV_MCP_RESOURCE_NOT_FOUND (-32002) /* MCP's own code */
/* Codes of the 2026-07-28 revision. */
#define AKV_MCP_HEADER_MISMATCH (-32020)      /* HTTP headers vs. body */
#define AKV_MCP_MISSING_CAPABILITY (-32021)   /* client capability needed */
#define AKV_MCP_UNSUPPORTED_VERSION (-32022)  /* unknown protocol revision */

typedef struct akv_mcp_session akv_mcp_session;

/* Session flags. */
#define AKV_MCP_AGENT 0x1u /* an agent token: the system scope is read-only */

/*
 * Creates a session over store (borrowed: it must outlive the session) for
 * sandbox (copied; validated with akv_sandbox_check). Owned: free with
 * akv_mcp_session_free(). AKV_EINVAL for a bad sandbox, AKV_ENOMEM.
 */
int akv_mcp_session_new(akv_store *store, const char *sandbox, unsigned flags,
                        akv_mcp_session **out);
void akv_mcp_session_free(akv_mcp_session *s);

/*
 * Events a transport may count (the HTTP server feeds its Prometheus
 * metrics with them). fn is called on the thread running akv_mcp_handle,
 * during it; key is the instruction name for AKV_MCP_EVENT_INSTRUCTION
 * (not NUL-terminated) and NULL otherwise.
 */
enum akv_mcp_event {
    AKV_MCP_EVENT_INSTRUCTION = 1, /* an instruction set was read */
    AKV_MCP_EVENT_QUOTA = 2,       /* a write was refused: quota_exceeded */
    AKV_MCP_EVENT_INTEGRITY = 3,   /* a read failed its SHA-256 */
};
typedef void (*akv_mcp_event_fn)(void *ctx, enum akv_mcp_event event,
                                 akv_scope scope, const char *key,
                                 size_t key_len);
void akv_mcp_session_set_events(akv_mcp_session *s, akv_mcp_event_fn fn,
                                void *ctx);

/* The negotiated protocol version (borrowed, lives with the session), or
 * NULL before a successful `initialize`. */
const char *akv_mcp_session_version(const akv_mcp_session *s);
/* Borrowed NUL-terminated copy of the session's sandbox. */
const char *akv_mcp_session_sandbox(const akv_mcp_session *s);

/* What one call of akv_mcp_handle_ex() saw, for transports that must pick
 * an HTTP status (streamable HTTP answers 202 when no request came). */
typedef struct akv_mcp_outcome {
    int requests;    /* requests answered (0: notifications/responses only) */
    int initialize;  /* this message carried an `initialize` request */
    int initialized; /* … and it succeeded */
    int rejected;    /* the message as a whole was refused: parse error,
                        invalid request, or a batch where none is allowed */
    int modern;      /* requests and notifications that named the
                        2026-07-28 revision (or tried to: a bad envelope
                        counts) */
    int modern_refused; /* … refused before dispatch: bad envelope,
                           unsupported revision, header mismatch (HTTP
                           answers these with 400) */
    int modern_unknown; /* … answered Method not found: a method the
                           revision does not have (HTTP answers 404) */
    int listen;      /* a 2026-07-28 subscriptions/listen stream was opened:
                        its acknowledgement is queued as a notification and
                        its response comes only when it ends
                        (akv_mcp_listen_end) */
} akv_mcp_outcome;

/*
 * The HTTP headers the 2026-07-28 revision cross-checks against the body
 * (streamable HTTP only). Values as received (not NUL-terminated); p NULL
 * when the header is absent. Set with akv_mcp_session_set_headers() before
 * akv_mcp_handle_ex() and cleared (NULL) after; borrowed meanwhile. With
 * headers set, a request of that revision must carry MCP-Protocol-Version
 * and Mcp-Method equal to the body's, and Mcp-Name equal to params.name
 * (tools/call, prompts/get) or params.uri (resources/read), plain or as
 * =?base64?…?=; otherwise it is refused with AKV_MCP_HEADER_MISMATCH.
 */
typedef struct akv_mcp_span {
    const char *p;
    size_t len;
} akv_mcp_span;
typedef struct akv_mcp_headers {
    akv_mcp_span protocol_version;
    akv_mcp_span method;
    akv_mcp_span name;
} akv_mcp_headers;
void akv_mcp_session_set_headers(akv_mcp_session *s,
                                 const akv_mcp_headers *h);

/*
 * Handles one JSON-RPC message msg[0..len) (need not be NUL-terminated).
 * Returns the response text (compact JSON, one line, no trailing newline)
 * with its length in *out_len (may be NULL), or NULL when nothing is to be
 * sent. Owned: free() it. On out-of-memory a pre-built error response is
 * attempted; NULL then means even that failed. oc may be NULL.
 */
char *akv_mcp_handle(akv_mcp_session *s, const char *msg, size_t len,
                     size_t *out_len);
char *akv_mcp_handle_ex(akv_mcp_session *s, const char *msg, size_t len,
                        size_t *out_len, akv_mcp_outcome *oc);

/*
 * Notifications the session has queued (logging, resource updates, list
 * changes; see mcp-notify.c), oldest first: one JSON-RPC notification as
 * compact one-line text, owned (free() it), or NULL when none is left. A
 * transport sends those queued while a request was handled before that
 * request's response, and the others on its server-to-client channel
 * (stdio: stdout; streamable HTTP: the session's GET stream).
 */
char *akv_mcp_next_notification(akv_mcp_session *s, size_t *len);
/*
 * Looks for changes made to the store since the last look, by this process
 * or any other, that the session's client is to hear of (subscribed
 * resources, the instruction listing), and queues their notifications.
 * Cheap when nothing was written (one read of the store's change
 * generation). Transports call it about once a second while the client
 * listens (stdio: always; HTTP: while the session's GET stream is open).
 * Returns how many notifications it queued.
 */
size_t akv_mcp_poll(akv_mcp_session *s);

/* 1 while a subscriptions/listen stream is open on the session. */
int akv_mcp_listening(const akv_mcp_session *s);
/* Ends one open subscriptions/listen stream gracefully: returns the
 * response that closes it (owned, one line; free() it), or NULL when none
 * is open. A client that cancels its listen request
 * (notifications/cancelled) ends the stream without a response. */
char *akv_mcp_listen_end(akv_mcp_session *s, size_t *len);

/*
 * A JSON-RPC error response with "id": null, for problems a transport finds
 * before there is a message to hand over (a line over the size limit).
 * Owned: free() it; NULL on out-of-memory.
 */
char *akv_mcp_error_response(int code, const char *message, size_t *out_len);

/* Formats of the tool definitions (one table, several renderings). */
typedef enum akv_mcp_format {
    AKV_MCP_FORMAT_MCP = 0,       /* the "tools" array of tools/list */
    AKV_MCP_FORMAT_OPENAI = 1,    /* [{"type":"function","function":{…}}] */
    AKV_MCP_FORMAT_ANTHROPIC = 2, /* [{"name","description","input_schema"}] */
    AKV_MCP_FORMAT_MARKDOWN = 3,  /* the tool reference of docs/mcp.md */
    /* OpenAI Responses API: flat [{"type":"function","name",…}] */
    AKV_MCP_FORMAT_OPENAI_RESPONSES = 4,
} akv_mcp_format;
/* Parses "mcp", "openai", "anthropic", "markdown", "openai-responses";
 * AKV_EINVAL otherwise. */
int akv_mcp_format_parse(const char *name, akv_mcp_format *out);
/* Renders every tool in table order. JSON formats are pretty-printed with
 * two-space indentation. Owned: free() it; NULL on out-of-memory. */
char *akv_mcp_tools_render(akv_mcp_format format);

#ifdef __cplusplus
}
#endif
#endif /* AKV_MCP_H */

/*
 * mcp-rpc.c — JSON-RPC 2.0 framing: parsing a message, classifying it as a
 * request, notification, response or invalid message, and building result
 * and error responses. It knows nothing about MCP methods; mcp.c dispatches.
 *
 * Rules applied (JSON-RPC 2.0 as MCP narrows it):
 *   - "jsonrpc" must be exactly "2.0";
 *   - a request's id is a string or a number, never null (MCP forbids null
 *     ids); a message with "method" and no "id" is a notification;
 *   - "params" is checked by the dispatcher, not here: every MCP method
 *     takes an object, and anything else is Invalid params (-32602) under
 *     the request's id;
 *   - a message with "result" or "error" and no "method" is a response from
 *     the client, which must carry exactly one of the two and an id (null is
 *     allowed there: it answers an error about an unreadable request).
 * Duplicate member names are refused at parse time: a message whose "id" or
 * "method" could be read two ways must not be acted on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp-internal.h"

json_t *mcp_rpc_fail(struct mcp_rpc_error *err, int code, const char *fmt,
                     ...)
{
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return NULL;
}

json_t *mcp_rpc_parse(const char *text, size_t len, struct mcp_rpc_error *err)
{
    json_error_t je;
    json_t *v = json_loadb(text, len,
                           JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
                               JSON_DECODE_ANY,
                           &je);
    if (v == NULL) {
        /* jansson reports invalid UTF-8 as such; keep its wording, which
         * names the position, and say which class of error it is. */
        mcp_rpc_fail(err, AKV_MCP_PARSE_ERROR,
                     "Parse error: %s (line %d, column %d)", je.text,
                     je.line, je.column);
    }
    return v;
}

static int id_usable(json_t *id)
{
    return json_is_string(id) || json_is_integer(id) || json_is_real(id);
}

enum mcp_msg_kind mcp_rpc_classify(json_t *v, struct mcp_msg *m,
                                   struct mcp_rpc_error *err)
{
    memset(m, 0, sizeof *m);
    if (!json_is_object(v)) {
        mcp_rpc_fail(err, AKV_MCP_INVALID_REQUEST,
                     "Invalid Request: a message must be a JSON object");
        return m->kind = MCP_MSG_INVALID;
    }
    json_t *id = json_object_get(v, "id");
    json_t *method = json_object_get(v, "method");
    json_t *params = json_object_get(v, "params");
    json_t *result = json_object_get(v, "result");
    json_t *error = json_object_get(v, "error");
    json_t *version = json_object_get(v, "jsonrpc");

    /* Remember a usable id first, so that even a malformed request gets
     * its error under the id it was sent with. */
    if (id_usable(id) && method != NULL)
        m->id = id;
    if (!json_is_string(version) ||
        strcmp(json_string_value(version), "2.0") != 0 ||
        json_string_length(version) != 3) {
        mcp_rpc_fail(err, AKV_MCP_INVALID_REQUEST,
                     "Invalid Request: \"jsonrpc\" must be \"2.0\"");
        return m->kind = MCP_MSG_INVALID;
    }

    if (method == NULL) {
        if (result == NULL && error == NULL) {
            mcp_rpc_fail(err, AKV_MCP_INVALID_REQUEST,
                         "Invalid Request: no \"method\"");
            return m->kind = MCP_MSG_INVALID;
        }
        if ((result != NULL) == (error != NULL) || id == NULL ||
            !(id_usable(id) || json_is_null(id)) ||
            (error != NULL && !json_is_object(error))) {
            mcp_rpc_fail(err, AKV_MCP_INVALID_REQUEST,
                         "Invalid Request: a response needs an id and "
                         "exactly one of \"result\" and \"error\"");
            return m->kind = MCP_MSG_INVALID;
        }
        m->id = id;
        return m->kind = MCP_MSG_RESPONSE;
    }

    if (!json_is_string(method) ||
        strlen(json_string_value(method)) != json_string_length(method)) {
        mcp_rpc_fail(err, AKV_MCP_INVALID_REQUEST,
                     "Invalid Request: \"method\" must be a string");
        return m->kind = MCP_MSG_INVALID;
    }
    if (result != NULL || error != NULL) {
        mcp_rpc_fail(err, AKV_MCP_INVALID_REQUEST,
                     "Invalid Request: a request carries no \"result\" "
                     "or \"error\"");
        return m->kind = MCP_MSG_INVALID;
    }
    if (id != NULL && !id_usable(id)) {
        mcp_rpc_fail(err, AKV_MCP_INVALID_REQUEST,
                     "Invalid Request: \"id\" must be a string or a number");
        return m->kind = MCP_MSG_INVALID;
    }
    m->method = json_string_value(method);
    m->params = params;
    return m->kind = id ? MCP_MSG_REQUEST : MCP_MSG_NOTIFICATION;
}

json_t *mcp_rpc_result(json_t *id, json_t *result)
{
    if (result == NULL)
        return NULL;
    return json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id",
                     id ? id : json_null(), "result", result);
}

json_t *mcp_rpc_error(json_t *id, const struct mcp_rpc_error *err)
{
    json_t *v = json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id",
                          id ? id : json_null(), "error", "code", err->code,
                          "message", err->message);
    if (v && err->data)
        json_object_set(json_object_get(v, "error"), "data", err->data);
    return v;
}

char *mcp_rpc_dump(json_t *v, size_t *len)
{
    /* Compact output escapes every control character, so the text is one
     * line, as the stdio transport's framing requires. Reals print as the
     * library prints them (agentkv.h, AKV_JSON_REAL_DIGITS). */
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
                                   JSON_REAL_PRECISION(AKV_JSON_REAL_DIGITS));
    if (text && len)
        *len = strlen(text);
    return text;
}

char *akv_mcp_error_response(int code, const char *message, size_t *out_len)
{
    struct mcp_rpc_error err = {0, "", NULL};
    err.code = code;
    snprintf(err.message, sizeof err.message, "%s", message);
    json_t *v = mcp_rpc_error(NULL, &err);
    char *text = v ? mcp_rpc_dump(v, out_len) : NULL;
    json_decref(v);
    return text;
}

/*
 * mcp-args.c — tool arguments: the JSON Schema of each tool's input,
 * generated from its rows in the tool table, and the check of a call's
 * arguments against the same rows. One description of an argument thus
 * drives what clients are told (tools/list, `agentkv tools`, docs/mcp.md)
 * and what the server enforces, so the two cannot disagree.
 *
 * The check is the subset of JSON Schema the rows can express (required,
 * type, enum, pattern, bounds, additionalProperties: false) plus the
 * semantic checks of SPEC.md §1 that a schema cannot state exactly (a key's
 * segment rules, a duration's syntax). A failure is an invalid_argument
 * message naming the argument; the caller turns it into a tool error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "mcp-internal.h"

#define TTL_MAX_SECONDS ((json_int_t)100 * 366 * 24 * 3600)

static json_t *scope_enum(void)
{
    json_t *e = json_array();
    for (int i = 0; e && i < AKV_SCOPE_COUNT; i++)
        json_array_append_new(e, json_string(akv_scope_name(i)));
    return e;
}

/* The schema fragment of one argument (new reference). */
static json_t *arg_schema(const struct mcp_arg *a)
{
    json_t *p;
    switch (a->kind) {
    case MCP_ARG_KEY:
        p = json_pack("{s:s,s:i}", "type", "string", "minLength", 1);
        break;
    case MCP_ARG_NAME:
        p = json_pack("{s:s,s:s}", "type", "string", "pattern",
                      "^[a-z0-9_-]{1,64}$");
        break;
    case MCP_ARG_SCOPE:
        p = json_pack("{s:s,s:o}", "type", "string", "enum", scope_enum());
        break;
    case MCP_ARG_TTL:
        /* One plain string type: a type array ["string","integer"] is
         * rejected by Ajv's strict mode and by Gemini's schema subset. The
         * pattern is exactly the syntax of akv_duration_parse; arg_check
         * still takes an integer too, as earlier schemas allowed it. */
        p = json_pack("{s:s,s:s}", "type", "string", "pattern",
                      "^(never|[0-9]+[smhd]?)$");
        break;
    case MCP_ARG_OBJECT:
        p = json_pack("{s:s}", "type", "object");
        break;
    case MCP_ARG_LIMIT:
        p = json_pack("{s:s,s:i,s:i}", "type", "integer", "minimum", 1,
                      "maximum", AKV_LIST_MAX_LIMIT);
        break;
    case MCP_ARG_CONTENT_TYPE:
        p = json_pack("{s:s,s:i,s:i}", "type", "string", "minLength", 1,
                      "maxLength", AKV_CONTENT_TYPE_MAX);
        break;
    case MCP_ARG_INTEGER:
        p = json_pack("{s:s}", "type", "integer");
        break;
    case MCP_ARG_RANGE:
        p = json_pack("{s:s,s:{s:s},s:i,s:i}", "type", "array", "items",
                      "type", "integer", "minItems", 2, "maxItems", 2);
        break;
    case MCP_ARG_STRING:
    case MCP_ARG_PREFIX:
    case MCP_ARG_CURSOR:
    default:
        p = json_pack("{s:s}", "type", "string");
        break;
    }
    if (p && a->description)
        json_object_set_new(p, "description", json_string(a->description));
    return p;
}

json_t *mcp_args_schema(const struct mcp_tool *t)
{
    json_t *props = json_object(), *required = json_array();
    for (const struct mcp_arg *a = t->args; props && a->name; a++) {
        json_object_set_new(props, a->name, arg_schema(a));
        if (a->required)
            json_array_append_new(required, json_string(a->name));
    }
    json_t *schema = json_pack("{s:s,s:o}", "type", "object", "properties",
                               props);
    if (schema && json_array_size(required) > 0)
        json_object_set(schema, "required", required);
    json_decref(required);
    if (schema)
        json_object_set_new(schema, "additionalProperties", json_false());
    return schema;
}

static const struct mcp_arg *arg_find(const struct mcp_tool *t,
                                      const char *name)
{
    for (const struct mcp_arg *a = t->args; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

static const char *type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL:
    default: return "null";
    }
}

/* Checks one present argument. AKV_OK or AKV_EINVAL with msg. */
static int arg_check(const struct mcp_arg *a, json_t *v, char *msg,
                     size_t size)
{
    int want_string = a->kind != MCP_ARG_OBJECT && a->kind != MCP_ARG_LIMIT &&
                      a->kind != MCP_ARG_TTL && a->kind != MCP_ARG_INTEGER &&
                      a->kind != MCP_ARG_RANGE;
    if (want_string && !json_is_string(v)) {
        snprintf(msg, size, "argument \"%s\" must be a string, not %s",
                 a->name, type_name(v));
        return AKV_EINVAL;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    size_t n = s ? json_string_length(v) : 0;
    char shown[96];
    if (s) {
        /* Quote at most 64 bytes of what came, printable ASCII only. */
        size_t o = 0;
        for (size_t i = 0; i < n && i < 64 && o + 5 < sizeof shown; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
                shown[o++] = (char)c;
            else
                o += (size_t)snprintf(shown + o, sizeof shown - o, "\\x%02x",
                                      c);
        }
        shown[o] = '\0';
    }

    switch (a->kind) {
    case MCP_ARG_KEY:
        if (akv_key_check(s, n) != AKV_OK) {
            snprintf(msg, size, "argument \"%s\": %s", a->name,
                     akv_last_error()->message);
            return AKV_EINVAL;
        }
        return AKV_OK;
    case MCP_ARG_NAME:
        if (akv_instruction_name_check(s, n) != AKV_OK) {
            snprintf(msg, size,
                     "argument \"%s\" must match [a-z0-9_-]{1,64} (got "
                     "\"%s\")", a->name, shown);
            return AKV_EINVAL;
        }
        return AKV_OK;
    case MCP_ARG_PREFIX:
        if (n > AKV_KEY_MAX) {
            snprintf(msg, size, "argument \"%s\" is longer than %d bytes",
                     a->name, AKV_KEY_MAX);
            return AKV_EINVAL;
        }
        return AKV_OK;
    case MCP_ARG_SCOPE: {
        akv_scope scope;
        if (akv_scope_parse(s, n, &scope) != AKV_OK) {
            snprintf(msg, size,
                     "argument \"%s\" must be one of system, instructions, "
                     "project, task, artifacts (got \"%s\")", a->name, shown);
            return AKV_EINVAL;
        }
        return AKV_OK;
    }
    case MCP_ARG_TTL: {
        int64_t secs;
        if (json_is_integer(v)) {
            json_int_t i = json_integer_value(v);
            if (i >= 0 && i <= TTL_MAX_SECONDS)
                return AKV_OK;
        } else if (json_is_string(v)) {
            if (akv_duration_parse(s, n, &secs) == AKV_OK)
                return AKV_OK;
        }
        snprintf(msg, size,
                 "argument \"%s\" must be a duration such as \"45s\", "
                 "\"15m\", \"24h\", \"7d\", \"never\", or whole seconds "
                 "(got %s%s%s)", a->name, s ? "\"" : "",
                 s ? shown : type_name(v), s ? "\"" : "");
        return AKV_EINVAL;
    }
    case MCP_ARG_OBJECT:
        if (!json_is_object(v)) {
            snprintf(msg, size, "argument \"%s\" must be an object, not %s",
                     a->name, type_name(v));
            return AKV_EINVAL;
        }
        return AKV_OK;
    case MCP_ARG_LIMIT:
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > AKV_LIST_MAX_LIMIT) {
            snprintf(msg, size,
                     "argument \"%s\" must be an integer from 1 to %d",
                     a->name, AKV_LIST_MAX_LIMIT);
            return AKV_EINVAL;
        }
        return AKV_OK;
    case MCP_ARG_INTEGER:
        if (!json_is_integer(v)) {
            snprintf(msg, size, "argument \"%s\" must be an integer, not %s",
                     a->name, type_name(v));
            return AKV_EINVAL;
        }
        return AKV_OK;
    case MCP_ARG_RANGE:
        if (!json_is_array(v) || json_array_size(v) != 2 ||
            !json_is_integer(json_array_get(v, 0)) ||
            !json_is_integer(json_array_get(v, 1))) {
            snprintf(msg, size,
                     "argument \"%s\" must be an array of two integers",
                     a->name);
            return AKV_EINVAL;
        }
        return AKV_OK;
    case MCP_ARG_CONTENT_TYPE:
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
                n = 0; /* reported below */
        if (n < 1 || n > AKV_CONTENT_TYPE_MAX) {
            snprintf(msg, size,
                     "argument \"%s\" must be 1 to %d printable ASCII bytes",
                     a->name, AKV_CONTENT_TYPE_MAX);
            return AKV_EINVAL;
        }
        return AKV_OK;
    case MCP_ARG_CURSOR:
        if (n > AKV_KEY_MAX) {
            snprintf(msg, size, "argument \"%s\" is not a cursor this "
                     "server issued", a->name);
            return AKV_EINVAL;
        }
        return AKV_OK;
    case MCP_ARG_STRING:
    default:
        return AKV_OK;
    }
}

int mcp_args_check(const struct mcp_tool *t, json_t *args, char *msg,
                   size_t msg_size)
{
    const char *name;
    json_t *v;
    if (args != NULL && !json_is_object(args)) {
        snprintf(msg, msg_size, "arguments must be an object, not %s",
                 type_name(args));
        return AKV_EINVAL;
    }
    json_object_foreach(args, name, v) {
        if (arg_find(t, name) == NULL) {
            char shown[80];
            snprintf(shown, sizeof shown, "%.64s", name);
            for (char *p = shown; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                    *p = '?';
            snprintf(msg, msg_size, "unknown argument \"%s\" for %s", shown,
                     t->name);
            return AKV_EINVAL;
        }
    }
    for (const struct mcp_arg *a = t->args; a->name; a++) {
        v = json_object_get(args, a->name);
        if (v == NULL) {
            if (a->required) {
                snprintf(msg, msg_size, "missing required argument \"%s\"",
                         a->name);
                return AKV_EINVAL;
            }
            continue;
        }
        if (arg_check(a, v, msg, msg_size) != AKV_OK)
            return AKV_EINVAL;
    }
    return AKV_OK;
}

const char *mcp_arg_str(const struct mcp_call *c, const char *name,
                        size_t *len)
{
    json_t *v = json_object_get(c->args, name);
    if (!json_is_string(v)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = json_string_length(v);
    return json_string_value(v);
}

json_t *mcp_arg_json(const struct mcp_call *c, const char *name)
{
    return json_object_get(c->args, name);
}

/*
 * router.c — the route table of the HTTP server and the checks every
 * request goes through before its handler runs: matching (404, 405 with
 * Allow), authentication (401), decoding and validation of the path
 * parameters (400), authorization (403), and the declared body size (413).
 *
 * The table is data: the dispatcher, `agentkv serve --routes`, the metrics'
 * route label and the test that compares the server with docs/openapi.yaml
 * all read it. Patterns are written exactly as in the OpenAPI file.
 *
 * Path parameters are percent-decoded exactly once and then validated like
 * any sandbox id, scope name or key: "%2e%2e" becomes "..", which the key
 * rules reject; nothing is ever normalised.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "server.h"

#define KV_KEY "/v1/sandboxes/{sandbox}/kv/{scope}/{key}"
#define KV_SCOPE "/v1/sandboxes/{sandbox}/kv/{scope}"

const struct route routes[] = {
    {
        .methods = HTTP_GET | HTTP_HEAD,
        .pattern = "/healthz",
        .auth = AUTH_PUBLIC,
        .body = BODY_SMALL,
        .handler = http_admin_healthz,
        .summary = "liveness",
    },
    {
        .methods = HTTP_GET | HTTP_HEAD,
        .pattern = "/readyz",
        .auth = AUTH_PUBLIC,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_admin_readyz,
        .summary = "readiness: the store answers",
    },
    {
        .methods = HTTP_GET,
        .pattern = "/metrics",
        .auth = AUTH_METRICS,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_admin_metrics,
        .summary = "Prometheus metrics",
    },
    {
        .methods = HTTP_GET,
        .pattern = KV_SCOPE,
        .auth = AUTH_READ,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_kv_list,
        .summary = "list entries",
    },
    {
        .methods = HTTP_DELETE,
        .pattern = KV_SCOPE,
        .auth = AUTH_WRITE,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_kv_clear,
        .summary = "delete every entry of the scope",
    },
    {
        .methods = HTTP_GET | HTTP_HEAD,
        .pattern = KV_KEY,
        .rest_last = 1,
        .auth = AUTH_READ,
        .body = BODY_SMALL,
        .handler = http_kv_get,
        .summary = "read a value",
    },
    {
        .methods = HTTP_PUT,
        .pattern = KV_KEY,
        .rest_last = 1,
        .auth = AUTH_WRITE,
        .body = BODY_VALUE,
        .blocking = 1,
        .handler = http_kv_put,
        .summary = "write a value",
    },
    {
        .methods = HTTP_DELETE,
        .pattern = KV_KEY,
        .rest_last = 1,
        .auth = AUTH_WRITE,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_kv_delete,
        .summary = "delete an entry",
    },
    {
        .methods = HTTP_GET,
        .pattern = "/v1/sandboxes/{sandbox}/stats",
        .auth = AUTH_READ,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_admin_stats,
        .summary = "usage per scope",
    },
    {
        .methods = HTTP_POST,
        .pattern = "/v1/sandboxes/{sandbox}/prune",
        .auth = AUTH_WRITE,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_admin_prune,
        .summary = "remove expired entries",
    },
    {
        .methods = HTTP_POST,
        .pattern = "/v1/sandboxes/{sandbox}/memory",
        .auth = AUTH_WRITE,
        .body = BODY_COMMAND,
        .blocking = 1,
        .handler = http_memory_post,
        .summary = "one command of Anthropic's memory tool",
    },
    {
        .methods = HTTP_POST,
        .pattern = "/mcp",
        .auth = AUTH_PUBLIC,
        /* A tools/call that writes a value of max_value_size carries it
         * JSON-escaped, like a memory command. */
        .body = BODY_COMMAND,
        .blocking = 1,
        .handler = http_mcp_post,
        .summary = "MCP streamable HTTP (checks the bearer token itself)",
    },
    {
        .methods = HTTP_GET,
        .pattern = "/mcp",
        .auth = AUTH_PUBLIC,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_mcp_get,
        .summary = "the MCP session's server-to-client event stream (SSE)",
    },
    {
        .methods = HTTP_DELETE,
        .pattern = "/mcp",
        .auth = AUTH_PUBLIC,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_mcp_delete,
        .summary = "end an MCP session",
    },
    {
        .methods = HTTP_POST,
        .pattern = "/v1/seed",
        .auth = AUTH_ADMIN,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_instructions_seed,
        .summary = "reseed _global from the instruction directory",
    },
    {
        .methods = HTTP_GET,
        .pattern = "/v1/sandboxes/{sandbox}/instructions",
        .auth = AUTH_READ,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_instructions_list,
        .summary = "catalog of instruction sets",
    },
    {
        .methods = HTTP_GET,
        .pattern = "/v1/sandboxes/{sandbox}/prompt",
        .auth = AUTH_READ,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_instructions_prompt,
        .summary = "built system prompt",
    },
    {
        .methods = HTTP_GET,
        .pattern = "/v1/sandboxes/{sandbox}/search",
        .auth = AUTH_READ,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_instructions_search,
        .summary = "ranked full-text search of instruction sets",
    },
    {
        .methods = HTTP_GET,
        .pattern = "/v1/sandboxes",
        .auth = AUTH_TOKEN,
        .body = BODY_SMALL,
        .blocking = 1,
        .handler = http_sandboxes_list,
        .summary = "the sandboxes the token may see",
    },
    {
        .methods = HTTP_GET | HTTP_HEAD,
        .pattern = "/",
        .auth = AUTH_PUBLIC,
        .body = BODY_SMALL,
        .handler = http_dashboard,
        .summary = "the dashboard page",
    },
    {
        .methods = HTTP_GET | HTTP_HEAD,
        .pattern = "/ui/{asset}",
        .rest_last = 1,
        .auth = AUTH_PUBLIC,
        .body = BODY_SMALL,
        .handler = http_dashboard,
        .summary = "the dashboard's script, style sheet and icon",
    },
};
const size_t nroutes = sizeof routes / sizeof routes[0];

size_t router_index(const struct route *route)
{
    return route ? (size_t)(route - routes) : nroutes;
}

static const char *auth_name(enum route_auth a)
{
    switch (a) {
    case AUTH_PUBLIC: return "public";
    case AUTH_METRICS: return "metrics";
    case AUTH_READ: return "read";
    case AUTH_WRITE: return "write";
    case AUTH_ADMIN: return "admin";
    case AUTH_TOKEN: return "token";
    }
    return "?";
}

void router_print(FILE *f)
{
    for (size_t i = 0; i < nroutes; i++)
        for (unsigned m = 1; m < (1u << HTTP_METHOD_COUNT); m <<= 1)
            if (routes[i].methods & m)
                fprintf(f, "%s %s %s %s\n", http_method_name(m),
                        routes[i].pattern, auth_name(routes[i].auth),
                        routes[i].summary);
}

/* "GET, HEAD, PUT" for a method set. */
static void allow_list(unsigned methods, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (unsigned m = 1; m < HTTP_OTHER; m <<= 1)
        if (methods & m)
            o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? ", " : "",
                                  http_method_name(m));
}

/* Decodes one path parameter named name (span of the pattern). */
static int decode_param(struct http_req *r, struct http_span name,
                        struct http_span raw)
{
    const char *why;
    size_t len;
    int rc;
    if (name.len == 7 && memcmp(name.p, "sandbox", 7) == 0) {
        if (http_pct_decode(raw.p, raw.len, r->sandbox, AKV_SANDBOX_MAX, &len,
                            &why) != 0) {
            http_error(r, AKV_EINVAL, "invalid sandbox in the path: %s", why);
            return -1;
        }
        r->sandbox[len] = '\0';
        if ((rc = akv_sandbox_check(r->sandbox, len)) != AKV_OK) {
            http_error_lib(r, rc);
            return -1;
        }
    } else if (name.len == 5 && memcmp(name.p, "scope", 5) == 0) {
        char scope[32];
        if (http_pct_decode(raw.p, raw.len, scope, sizeof scope - 1, &len,
                            &why) != 0) {
            http_error(r, AKV_EINVAL, "invalid scope in the path: %s", why);
            return -1;
        }
        if ((rc = akv_scope_parse(scope, len, &r->scope)) != AKV_OK) {
            http_error_lib(r, rc);
            return -1;
        }
        r->has_scope = 1;
    } else if (name.len == 3 && memcmp(name.p, "key", 3) == 0) {
        if (http_pct_decode(raw.p, raw.len, r->key, AKV_KEY_MAX, &len,
                            &why) != 0) {
            if (strcmp(why, "too long") == 0)
                http_error(r, AKV_EINVAL,
                           "invalid key: more than %d bytes after decoding",
                           AKV_KEY_MAX);
            else
                http_error(r, AKV_EINVAL, "invalid key in the path: %s", why);
            return -1;
        }
        r->key[len] = '\0';
        r->key_len = len;
        if ((rc = akv_key_check(r->key, len)) != AKV_OK) {
            http_error_lib(r, rc);
            return -1;
        }
    }
    return 0;
}

/* Decodes every parameter of the matched pattern, in order. */
static int decode_params(struct http_req *r, const char *pattern,
                         const struct http_span *params, size_t n)
{
    size_t i = 0;
    for (const char *p = strchr(pattern, '{'); p && i < n;
         p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        struct http_span name = {p + 1, (size_t)(close - p - 1)};
        if (decode_param(r, name, params[i++]) != 0)
            return -1;
    }
    return 0;
}

/*
 * The '/' of each pattern, counted once. A parameter stops at '/' unless it
 * is a rest_last one, so a pattern can match only a path with as many '/'
 * as it has (at least as many, with a rest_last parameter): the paths of
 * the other routes are passed over without a walk through their pattern.
 */
static unsigned route_slashes[sizeof routes / sizeof routes[0]];
static pthread_once_t route_slashes_once = PTHREAD_ONCE_INIT;

static unsigned count_slashes(const char *s, size_t len)
{
    unsigned n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '/';
    return n;
}

static void route_slashes_init(void)
{
    for (size_t i = 0; i < nroutes; i++)
        route_slashes[i] =
            count_slashes(routes[i].pattern, strlen(routes[i].pattern));
}

enum route_verdict router_prepare(struct server *srv, struct auth_cache *cache,
                                  struct auth_memo *memo, struct http_req *r)
{
    const struct http_head *h = r->head;
    struct http_span params[HTTP_MAX_PARAMS];
    size_t np = 0;
    unsigned allow = 0;
    const struct route *found = NULL;

    /* The first route whose pattern and method both match wins; the
     * methods of the routes that match the path alone are only needed
     * when none does (405 and its Allow), and then every route was seen. */
    pthread_once(&route_slashes_once, route_slashes_init);
    unsigned slashes = count_slashes(h->path.p, h->path.len);
    for (size_t i = 0; i < nroutes; i++) {
        if (routes[i].rest_last ? slashes < route_slashes[i]
                                : slashes != route_slashes[i])
            continue;
        if (!http_route_match(routes[i].pattern, routes[i].rest_last, h->path,
                              params, &np))
            continue;
        if (routes[i].methods & h->method) {
            found = &routes[i];
            break;
        }
        allow |= routes[i].methods;
    }
    if (found == NULL) {
        char shown[256], methods[128];
        size_t n = h->path.len < 200 ? h->path.len : 200;
        /* Printable ASCII only in the message. */
        size_t k;
        for (k = 0; k < n && k < sizeof shown - 1; k++)
            shown[k] = h->path.p[k] >= 0x20 && h->path.p[k] < 0x7f
                           ? h->path.p[k]
                           : '?';
        shown[k] = '\0';
        if (allow == 0) {
            http_error(r, AKV_ENOTFOUND, "no route for %s", shown);
        } else {
            allow_list(allow, methods, sizeof methods);
            http_error_status(r, 405, "invalid_argument",
                              "method %.*s is not allowed on %s (allowed: %s)",
                              (int)(h->method_str.len < 32 ? h->method_str.len
                                                           : 32),
                              h->method_str.p, shown, methods);
            http_header(r, "Allow", methods);
        }
        return ROUTE_REFUSE;
    }
    r->route = found;

    /* Authentication. */
    const struct token_entry *tok = NULL;
    int need_token = found->auth != AUTH_PUBLIC &&
                     !(found->auth == AUTH_METRICS && srv->opts.metrics_public);
    r->role = ROLE_ADMIN;
    _Static_assert(sizeof r->token_pattern == TOKEN_PATTERN_MAX + 1,
                   "token_pattern holds any pattern");
    strcpy(r->token_pattern, "*");
    if (need_token && !auth_disabled(srv->auth)) {
        const char *why;
        tok = auth_bearer(cache, memo, h->authorization, &why);
        if (tok == NULL) {
            http_error(r, AKV_EUNAUTHORIZED, "%s", why);
            return ROUTE_REFUSE;
        }
        r->role = tok->role;
        memcpy(r->token_pattern, tok->pattern, sizeof r->token_pattern);
    }

    if (decode_params(r, found->pattern, params, np) != 0)
        return ROUTE_REFUSE;

    /* Authorization. */
    if (tok) {
        if ((found->auth == AUTH_METRICS || found->auth == AUTH_ADMIN) &&
            tok->role != ROLE_ADMIN) {
            http_error(r, AKV_EFORBIDDEN, "this route needs an admin token");
            return ROUTE_REFUSE;
        }
        if ((found->auth == AUTH_READ || found->auth == AUTH_WRITE) &&
            !auth_sandbox_allowed(tok, r->sandbox)) {
            http_error(r, AKV_EFORBIDDEN,
                       "token %s may not access sandbox %s", tok->id,
                       r->sandbox);
            return ROUTE_REFUSE;
        }
        int rc;
        if (found->auth == AUTH_WRITE && tok->role != ROLE_ADMIN &&
            r->has_scope &&
            (rc = akv_scope_check_agent_write(r->scope)) != AKV_OK) {
            http_error_lib(r, rc);
            return ROUTE_REFUSE;
        }
    }

    /* Declared body size: refused before a byte of the body is read. */
    uint64_t limit = server_body_limit(srv, found->body);
    if (h->content_length > 0 && (uint64_t)h->content_length > limit) {
        http_error(r, AKV_ETOOLARGE,
                   "body of %lld bytes is over the limit of %llu bytes%s",
                   (long long)h->content_length, (unsigned long long)limit,
                   found->body == BODY_VALUE ? " (max_value_size)"
                   : found->body == BODY_COMMAND
                       ? " (twice max_value_size plus 64 KiB)"
                       : "");
        return ROUTE_REFUSE;
    }

    r->blocking = found->blocking;
    /* A read with sliding expiry writes the new expiry: not on the loop. */
    if (!r->blocking && r->has_scope &&
        akv_config_scope_refresh(akv_store_config(srv->store), r->scope))
        r->blocking = 1;
    /* On a remote store a read of one key waits a round trip: gather the
     * turn's reads and make it one (conn_batch_cb). */
    if (!r->blocking && found->handler == http_kv_get &&
        akv_store_is_remote(srv->store))
        r->batched = 1;
    /* The same for the writes of a value known to be small: one pipelined
     * round trip for the turn's PUTs (remote), or one trip through the
     * group commit (embedded), in a flight the loop does not wait for,
     * instead of one each. */
    if (found->handler == http_kv_put && h->content_length >= 0 &&
        h->content_length <= SERVER_BATCH_PUT_MAX) {
        r->blocking = 0;
        r->batched = 1;
    }
    return ROUTE_RUN;
}

/*
 * http-sandboxes.c — GET /v1/sandboxes: the sandboxes a token may see, for
 * clients (the dashboard first) that need to know what to ask /stats and
 * the key routes about:
 *
 *   {"role":"admin","sandboxes":["_global","sb1","sb2"]}
 *
 * with the token's role, so that a client can tell which controls to offer
 * (deleting keys of other sandboxes, /metrics) without trying them.
 * An admin token sees every sandbox that holds entries, _global included;
 * an agent token those matching its pattern (never _global), and its own
 * sandbox even while empty when the pattern names exactly one. Names only:
 * one cheap walk of the store's namespaces (akv_sandboxes), no scan of
 * entries, so the route stays cheap however much is stored.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "server.h"

void http_sandboxes_list(struct http_req *r)
{
    if (http_query(r, NULL, 0, NULL, NULL, 0) != 0)
        return;
    char **all;
    size_t n;
    int rc = akv_sandboxes(r->store, &all, &n);
    if (rc != AKV_OK) {
        http_error_lib(r, rc);
        return;
    }
    struct token_entry who = {.role = r->role};
    memcpy(who.pattern, r->token_pattern, sizeof who.pattern);
    json_t *list = json_array(), *o = json_object();
    int own_listed = 0;
    /* A pattern without glob characters names one sandbox: shown even
     * before it holds anything, so that an agent's dashboard is not blank. */
    int literal = r->role == ROLE_AGENT &&
                  strpbrk(who.pattern, "*?[]!") == NULL &&
                  akv_sandbox_check(who.pattern, strlen(who.pattern)) == AKV_OK;
    for (size_t i = 0; list && i < n; i++) {
        if (!auth_sandbox_allowed(&who, all[i]))
            continue;
        if (literal && strcmp(all[i], who.pattern) == 0)
            own_listed = 1;
        json_array_append_new(list, json_string(all[i]));
    }
    akv_sandboxes_free(all);
    if (list && literal && !own_listed &&
        strcmp(who.pattern, AKV_GLOBAL_SANDBOX) != 0)
        json_array_append_new(list, json_string(who.pattern));
    char *text = NULL;
    if (list && o &&
        json_object_set_new(o, "role",
                            json_string(r->role == ROLE_AGENT ? "agent"
                                                              : "admin")) ==
            0) {
        /* set_new takes list, on failure too. */
        int bad = json_object_set_new(o, "sandboxes", list);
        list = NULL;
        if (!bad)
            text = json_dumps(o, JSON_COMPACT);
    }
    json_decref(list);
    json_decref(o);
    if (text == NULL) {
        http_error(r, AKV_ENOMEM, "out of memory listing sandboxes");
        return;
    }
    http_reply_json(r, 200, text, strlen(text));
    free(text);
}

/*
 * mcp-prompts.c — MCP prompts: one prompt, system_prompt, the
 * reference-mode system prompt of SPEC.md §6 for the session's sandbox, as
 * the prompt builder (akv_prompt_build, agentkv-instructions.h) makes it: a
 * deterministic catalog of the visible instruction sets that tells the
 * model to load a set with get_instruction, instead of carrying every set
 * in the prompt. For a client that declared the skills extension (at
 * initialize, or in a 2026-07-28 request's _meta capabilities), the lines
 * of the sets served as skills name skill://NAME/SKILL.md instead.
 *
 * Two optional arguments map onto the builder's options: budget (a token
 * budget for the catalog, as `prompt build --budget`) and base_key (a key
 * of scope system whose value is the base text, as `--base-key`). MCP
 * prompt arguments are strings, so budget arrives as decimal digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "mcp-internal.h"

#define PROMPT_NAME "system_prompt"

json_t *mcp_prompts_list(akv_mcp_session *s, json_t *params,
                         struct mcp_rpc_error *err)
{
    (void)s;
    if (json_object_get(params, "cursor") != NULL)
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: unknown cursor");
    json_t *r = json_pack(
        "{s:[{s:s,s:s,s:s,s:[{s:s,s:s,s:b},{s:s,s:s,s:b}]}]}", "prompts",
        "name", PROMPT_NAME, "title", "agentkv system prompt", "description",
        "The reference-mode system prompt: a catalog of the instruction sets "
        "available to this sandbox, each loaded on demand with "
        "get_instruction. Use it as (or append it to) the system prompt.",
        "arguments", "name", "budget", "description",
        "token budget for the catalog (decimal); descriptions are shortened "
        "or sets left out to fit, and the catalog says how many",
        "required", 0, "name", "base_key", "description",
        "key in scope system whose value is the base prompt; the catalog "
        "goes at its {{agentkv:catalog}} marker or at the end",
        "required", 0);
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

/* Reads the optional arguments into opts. NULL, or the reason they are
 * invalid. key[] receives a NUL-terminated copy of base_key. */
static const char *prompt_args(json_t *args, akv_prompt_opts *opts,
                               char key[AKV_KEY_MAX + 1])
{
    const char *name;
    json_t *v;
    if (args && !json_is_object(args))
        return "\"arguments\" must be an object";
    json_object_foreach(args, name, v) {
        if (!json_is_string(v))
            return "prompt arguments must be strings";
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (strcmp(name, "budget") == 0) {
            uint64_t budget = 0;
            if (n == 0 || n > 9)
                return "budget must be a whole number of tokens";
            for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                    return "budget must be a whole number of tokens";
                budget = budget * 10 + (uint64_t)(s[i] - '0');
            }
            opts->budget = budget;
        } else if (strcmp(name, "base_key") == 0) {
            if (akv_key_check(s, n) != AKV_OK || strlen(s) != n)
                return "base_key is not a valid key";
            memcpy(key, s, n + 1);
            opts->base_key = key;
        } else {
            return "unknown argument (system_prompt takes budget and "
                   "base_key)";
        }
    }
    return NULL;
}

json_t *mcp_prompts_get(akv_mcp_session *s, json_t *params,
                        struct mcp_rpc_error *err)
{
    json_t *name = json_object_get(params, "name");
    if (!json_is_string(name))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: \"name\" must be a string");
    if (strcmp(json_string_value(name), PROMPT_NAME) != 0 ||
        json_string_length(name) != strlen(PROMPT_NAME))
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: unknown prompt \"%.64s\"",
                            json_string_value(name));

    akv_prompt_opts opts;
    char key[AKV_KEY_MAX + 1];
    akv_prompt_opts_init(&opts);
    opts.mode = AKV_PROMPT_REFERENCE;
    const char *bad = prompt_args(json_object_get(params, "arguments"),
                                  &opts, key);
    if (bad)
        return mcp_rpc_fail(err, AKV_MCP_INVALID_PARAMS,
                            "Invalid params: %s", bad);

    /* A client that loads MCP skills is pointed at them. */
    if (mcp_client_skills(s, params)) {
        opts.is_skill = mcp_skill_check;
        opts.skill_ctx = s;
    }
    akv_prompt *p;
    int rc = akv_prompt_build(s->store, s->sandbox, &opts, &p);
    if (rc != AKV_OK) {
        /* A bad argument or a base key that does not exist is the
         * caller's to fix; anything else is the store's. */
        int code = rc == AKV_EINVAL || rc == AKV_ENOTFOUND
                       ? AKV_MCP_INVALID_PARAMS
                       : AKV_MCP_INTERNAL_ERROR;
        return mcp_rpc_fail(err, code, "%s: %s", akv_err_name(rc),
                            akv_last_error()->message);
    }
    /* One run for the fetch rates of `prompt advise`; a count that cannot
     * be written does not fail the prompt. */
    akv_usage_record(s->store, s->sandbox, NULL);
    size_t len;
    const char *text = akv_prompt_text(p, &len);
    char desc[128];
    snprintf(desc, sizeof desc, "Reference-mode system prompt of sandbox %s",
             s->sandbox);
    /* MCP prompt messages are user or assistant turns; the description
     * says this one is meant as the system prompt. */
    json_t *r = json_pack("{s:s,s:[{s:s,s:{s:s,s:s%}}]}", "description",
                          desc, "messages", "role", "user", "content", "type",
                          "text", "text", text, len);
    akv_prompt_free(p);
    return r ? r : mcp_rpc_fail(err, AKV_MCP_INTERNAL_ERROR, "out of memory");
}

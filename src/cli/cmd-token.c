/*
 * cmd-token.c — `agentkv token create|list|revoke`: manages the API tokens
 * of the HTTP server in the tokens file (format in src/server/auth.h and
 * docs/http.md). `create` prints the new token alone on one stdout line and
 * its details on stderr; the token is never stored, only its SHA-256 (the
 * one exception is the admin token a first server start saves in
 * DIR/admin-token, which `list` points out). A running server picks up
 * changes on SIGHUP.
 */
#include <stdio.h>
#include <string.h>

#include "admin-token.h"
#include "auth.h"
#include "cli.h"

const struct cli_opt cmd_token_opts[] = {
    {"role", "ROLE", "create: admin (everything) or agent (its sandboxes)"},
    {"label", "TEXT", "create: a note telling tokens apart"},
    {"tokens", "FILE", "tokens file (default DIR/tokens)"},
    {NULL, NULL, NULL},
};

static const char *const token_headers[] = {"ID", "ROLE", "SANDBOX", "LABEL",
                                            "CREATED"};

static json_t *entry_json(const struct token_entry *e)
{
    char created[AKV_TIME_BUF];
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", e->id, "role",
                     auth_role_name(e->role), "sandbox", e->pattern, "label",
                     e->label, "created_at",
                     akv_time_format(e->created_at, created));
}

static int token_create(struct cli_ctx *ctx, const struct cli_args *args,
                        const char *path)
{
    const char *role_s = cli_flag(args, "role");
    const char *label = cli_flag(args, "label");
    enum auth_role role;
    if (role_s == NULL)
        return cli_fail(ctx, AKV_EINVAL,
                        "token create needs --role admin or --role agent");
    if (auth_role_parse(role_s, &role) != 0)
        return cli_fail(ctx, AKV_EINVAL,
                        "invalid --role '%s': admin or agent", role_s);
    /* Admins reach every sandbox; an agent's pattern is --sandbox (the
     * global flag: a glob such as team-*, default the current sandbox). */
    const char *pattern = role == ROLE_ADMIN ? "*" : ctx->sandbox;
    char token[TOKEN_BUF], msg[1024];
    struct token_entry e;
    int rc = tokens_create(path, role, pattern, label ? label : "", token, &e,
                           msg, sizeof msg);
    if (rc != AKV_OK)
        return cli_fail(ctx, rc, "%s", msg);
    if (ctx->json) {
        json_t *j = entry_json(&e);
        if (j)
            json_object_set_new(j, "token", json_string(token));
        return cli_print_json(ctx, j);
    }
    fprintf(stderr,
            "agentkv: created %s token %s for sandboxes matching '%s' in %s "
            "(shown only now; send SIGHUP to a running server)\n",
            auth_role_name(role), e.id, e.pattern, path);
    return cli_printf(ctx, "%s\n", token);
}

static int token_list(struct cli_ctx *ctx, const char *path)
{
    struct token_entry *v = NULL;
    size_t n = 0;
    char msg[1024];
    int rc = tokens_read(path, &v, &n, msg, sizeof msg);
    if (rc == AKV_ENOTFOUND)
        rc = AKV_OK; /* no file: no tokens */
    if (rc != AKV_OK)
        return cli_fail(ctx, rc, "%s", msg);
    /* Which token, if any, DIR/admin-token holds (admin-token.h). */
    char saved_path[4096];
    admin_token_path(path, saved_path, sizeof saved_path);
    const struct token_entry *saved = admin_token_find(path, v, n);
    int failed = 0;
    if (ctx->json) {
        for (size_t i = 0; i < n && !failed; i++) {
            json_t *j = entry_json(&v[i]);
            if (j && &v[i] == saved)
                json_object_set_new(j, "saved_in", json_string(saved_path));
            failed = cli_print_json(ctx, j);
        }
    } else {
        struct cli_table t;
        cli_table_init(&t, 5, token_headers, "lllll");
        for (size_t i = 0; i < n && !failed; i++) {
            char created[AKV_TIME_BUF];
            const char *cells[] = {v[i].id, auth_role_name(v[i].role),
                                   v[i].pattern,
                                   v[i].label[0] ? v[i].label : "-",
                                   akv_time_format(v[i].created_at, created)};
            failed = cli_table_row(ctx, &t, cells);
        }
        if (!failed && n)
            failed = cli_table_flush(ctx, &t);
        cli_table_free(&t);
        /* Notes for a person, on stderr so that stdout stays the table. */
        if (n == 0)
            fprintf(stderr,
                    "agentkv: no tokens in %s (a loopback 'agentkv serve' "
                    "creates an admin token on its first start; or run "
                    "'agentkv token create --role admin')\n",
                    path);
        else if (saved)
            fprintf(stderr, "agentkv: token %s is saved in %s\n", saved->id,
                    saved_path);
    }
    free(v);
    return failed;
}

static int token_revoke(struct cli_ctx *ctx, const char *path, const char *id)
{
    char msg[1024];
    struct token_entry e;
    int rc = tokens_revoke(path, id, &e, msg, sizeof msg);
    if (rc != AKV_OK)
        return cli_fail(ctx, rc, "%s", msg);
    if (ctx->json)
        return cli_print_json(ctx, json_pack("{s:s}", "revoked", e.id));
    fprintf(stderr,
            "agentkv: revoked token %s (send SIGHUP to a running server)\n",
            e.id);
    return 0;
}

int cmd_token(struct cli_ctx *ctx, const struct cli_args *args)
{
    const char *action = args->pos[0];
    char path[4096];
    const char *tokens = cli_flag(args, "tokens");
    if (tokens == NULL) {
        snprintf(path, sizeof path, "%s/tokens", ctx->dir);
        tokens = path;
    }
    if (strcmp(action, "create") == 0 && args->npos == 1)
        return token_create(ctx, args, tokens);
    if (strcmp(action, "list") == 0 && args->npos == 1)
        return token_list(ctx, tokens);
    if (strcmp(action, "revoke") == 0 && args->npos == 2)
        return token_revoke(ctx, tokens, args->pos[1]);
    return cli_fail(ctx, AKV_EINVAL,
                    "usage: agentkv token create --role admin|agent "
                    "[--sandbox PATTERN] [--label L] | token list | token "
                    "revoke ID");
}

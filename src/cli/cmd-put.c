/*
 * cmd-put.c — `agentkv put SCOPE KEY [FILE|-]`: writes one value read from
 * a file or stdin, with optional TTL, content type, metadata and
 * compare-and-swap conditions. Arguments are validated before the store is
 * opened and before any input is read; the value is read under the
 * configured max_value_size (input.c).
 */
#include <stdlib.h>
#include <string.h>

#include "akvx.h"
#include "cli.h"

const struct cli_opt cmd_put_opts[] = {
    {"ttl", "D",
     "time to live: 45s, 15m, 24h, 7d, seconds, or 0/never "
     "(default: the scope's)"},
    {"type", "MIME", "content type (default: guessed from FILE's name)"},
    {"meta", "JSON", "metadata, a JSON object of at most 64 KiB"},
    {"if-match", "SHA",
     "write only if the current entry's sha256 is SHA (else exit 4)"},
    {"create", NULL, "write only if the key does not exist (else exit 4)"},
    {NULL, NULL, NULL},
};

int cmd_put(struct cli_ctx *ctx, const struct cli_args *args)
{
    const char *key = args->pos[1];
    const char *path = args->npos > 2 ? args->pos[2] : NULL;
    const char *ttl = cli_flag(args, "ttl");
    const char *meta = cli_flag(args, "meta");
    akv_scope scope;
    akv_put_opts opts;

    akv_put_opts_init(&opts);
    if (cli_parse_scope(ctx, args->pos[0], &scope) || cli_parse_key(ctx, key))
        return 1;
    if (ttl) {
        int rc = akv_duration_parse(ttl, strlen(ttl), &opts.ttl);
        if (rc != AKV_OK)
            return cli_fail_lib(ctx, rc);
    }
    opts.content_type = cli_flag(args, "type");
    if (opts.content_type == NULL)
        opts.content_type =
            path && strcmp(path, "-") != 0 ? akvx_guess_type(path) : NULL;
    if (meta) {
        opts.metadata = meta;
        opts.metadata_len = strlen(meta);
    }
    opts.if_match = cli_flag(args, "if-match");
    opts.create_only = cli_has(args, "create");

    akv_store *store;
    FILE *in;
    if (cli_input_open(ctx, path, &in))
        return 1;
    char *value = NULL;
    size_t len = 0;
    int failed = cli_store(ctx, &store) ||
                 cli_input_read(ctx, in,
                                akv_config_max_value_size(
                                    akv_store_config(store)),
                                &value, &len);
    cli_input_close(in);
    if (failed)
        return 1;

    akv_meta out;
    int rc = akv_put(store, ctx->sandbox, scope, key, strlen(key), value, len,
                     &opts, &out, NULL);
    free(value);
    if (rc != AKV_OK)
        return cli_fail_lib(ctx, rc);
    /* out.metadata borrows meta, which lives in argv. */
    return ctx->json ? cli_print_meta(ctx, &out) : 0;
}

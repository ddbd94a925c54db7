/*
 * cmd-import.c — `agentkv import [FILE|-]`: restores what export wrote.
 * The library validates every line before writing anything, then writes
 * one namespace (sandbox and scope) at a time, each in one transaction, and
 * stops at the first namespace that fails. The count per namespace goes to
 * stderr, keeping stdout free (or {"imported":N,"namespaces":[…]} with
 * --json, printed also when a namespace failed, so that a script can tell
 * which were written).
 * On a terminal, a progress bar shows the share of the input read when
 * the input is a regular file, and a count of entries otherwise.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cli.h"

const struct cli_opt cmd_import_opts[] = {{NULL, NULL, NULL}};

/* The library counts entries and knows no total until the end; when the
 * input is a regular file its size is known, so the bar shows how much of
 * it has been read (a percentage) instead of a bare count. */
struct import_progress {
    struct cli_progress bar; /* first: cli_progress_update's contract */
    FILE *in;
    uint64_t size; /* 0: unknown (a pipe), entries are counted instead */
};

static void import_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct import_progress *p = ctx;
    if (p->size == 0) {
        cli_progress_update(&p->bar, done, total);
        return;
    }
    off_t pos = ftello(p->in);
    uint64_t at = total != 0 && done == total ? p->size
                  : pos > 0                     ? (uint64_t)pos
                                                : 0;
    cli_progress_update(&p->bar, at, p->size);
}

/* The namespaces as akv_import_each reports them, as JSON and as text. */
struct import_report {
    json_t *list;
    char *text[2]; /* written: "a/task: 1, b/task: 1"; not written:
                      "c/task (failed), d/task" */
    size_t shown[2];
    int oom;
};

#define TEXT_NS_MAX 20 /* namespaces named on the text line, then "..." */

static void text_add(struct import_report *r, int which, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));
static void text_add(struct import_report *r, int which, const char *fmt,
                     ...)
{
    if (r->shown[which]++ >= TEXT_NS_MAX)
        return;
    char *item = NULL, *t = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&item, fmt, ap);
    va_end(ap);
    if (n < 0 || asprintf(&t, "%s%s%s", r->text[which] ? r->text[which] : "",
                          r->text[which] ? ", " : "", item) < 0) {
        if (n >= 0)
            free(item);
        r->oom = 1;
        return;
    }
    free(item);
    free(r->text[which]);
    r->text[which] = t;
}

static void import_report(void *ctx, const akv_import_ns *ns)
{
    static const char *const status[] = {
        [AKV_IMPORT_WRITTEN] = "written",
        [AKV_IMPORT_FAILED] = "failed",
        [AKV_IMPORT_NOT_TRIED] = "not_tried",
    };
    struct import_report *r = ctx;
    json_t *o = json_pack("{s:s,s:s,s:I,s:s}", "sandbox", ns->sandbox,
                          "scope", akv_scope_name(ns->scope), "entries",
                          (json_int_t)ns->entries, "status",
                          status[ns->status]);
    if (o && ns->status == AKV_IMPORT_FAILED &&
        json_object_set_new(o, "error",
                            json_pack("{s:s,s:s}", "code",
                                      akv_err_name(ns->rc), "message",
                                      ns->message)) != 0) {
        json_decref(o);
        o = NULL;
    }
    if (o == NULL || json_array_append_new(r->list, o) != 0)
        r->oom = 1;
    const char *scope = akv_scope_name(ns->scope);
    if (ns->status == AKV_IMPORT_WRITTEN)
        text_add(r, 0, "%s/%s: %" PRIu64, ns->sandbox, scope, ns->entries);
    else
        text_add(r, 1, "%s/%s%s", ns->sandbox, scope,
                 ns->status == AKV_IMPORT_FAILED ? " (failed)" : "");
}

/* Prints "imported N entries (LIST)" on stderr. */
static void print_count(const struct import_report *r, uint64_t count)
{
    fprintf(stderr, "imported %" PRIu64 " entries", count);
    if (r->text[0])
        fprintf(stderr, " (%s%s)", r->text[0],
                r->shown[0] > TEXT_NS_MAX ? ", ..." : "");
    if (r->text[1])
        fprintf(stderr, "; not written: %s%s", r->text[1],
                r->shown[1] > TEXT_NS_MAX ? ", ..." : "");
    fputc('\n', stderr);
}

int cmd_import(struct cli_ctx *ctx, const struct cli_args *args)
{
    akv_store *store;
    struct import_progress prog;
    uint64_t count = 0;
    FILE *in;

    if (cli_input_open(ctx, args->npos ? args->pos[0] : NULL, &in))
        return 1;
    if (cli_store(ctx, &store)) {
        cli_input_close(in);
        return 1;
    }
    cli_progress_init(&prog.bar, "importing", cli_progress_wanted());
    prog.in = in;
    prog.size = 0;
    struct stat st;
    if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        prog.size = (uint64_t)st.st_size;
        prog.bar.bytes = 1;
    }
    struct import_report rep = {json_array(), {NULL, NULL}, {0, 0}, 0};
    if (rep.list == NULL) {
        cli_input_close(in);
        return cli_fail(ctx, AKV_ENOMEM, "out of memory");
    }
    int rc = akv_import_each(store, in, import_progress, &prog, import_report,
                             &rep, &count);
    cli_progress_clear(&prog.bar);
    if (rc != AKV_OK)
        cli_fail_lib(ctx, rc);
    cli_input_close(in);
    int ret = rc != AKV_OK;
    if (rep.oom) {
        ret = cli_fail(ctx, AKV_ENOMEM, "out of memory");
    } else if (ctx->json && json_array_size(rep.list) > 0) {
        /* Printed when a namespace failed too: the others may be written. */
        json_t *o = json_pack("{s:I,s:O}", "imported", (json_int_t)count,
                              "namespaces", rep.list);
        if (cli_print_json(ctx, o))
            ret = 1;
    } else if (ctx->json && rc == AKV_OK) {
        ret = cli_print_json(ctx, json_pack("{s:I,s:[]}", "imported",
                                            (json_int_t)0, "namespaces"));
    } else if (rc == AKV_OK || count > 0) {
        print_count(&rep, count);
    }
    json_decref(rep.list);
    free(rep.text[0]);
    free(rep.text[1]);
    return ret;
}

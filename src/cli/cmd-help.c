/*
 * cmd-help.c — `agentkv help [COMMAND]`, and the help text generator that
 * `COMMAND --help` shares. Everything printed comes from the command table
 * and the flag tables, so a flag cannot exist without being documented.
 */
#include <ctype.h>
#include <string.h>

#include "cli.h"

const struct cli_opt cmd_help_opts[] = {{NULL, NULL, NULL}};

/* Width of "--name ARG" for alignment. */
static size_t opt_width(const struct cli_opt *o)
{
    return 2 + strlen(o->name) + (o->arg ? 1 + strlen(o->arg) : 0);
}

/* Prints text from column `indent` (the cursor is already there), wrapped
 * at word boundaries so that lines stay within HELP_COLUMNS. */
#define HELP_COLUMNS 79
static void print_wrapped(struct cli_ctx *ctx, const char *text,
                          size_t indent)
{
    size_t col = indent;
    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > indent && col + 1 + word > HELP_COLUMNS) {
            cli_printf(ctx, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            cli_printf(ctx, " ");
            col++;
        }
        cli_printf(ctx, "%.*s", (int)word, text);
        col += word;
        text += word;
        text += strspn(text, " ");
    }
    cli_printf(ctx, "\n");
}

static void print_opts(struct cli_ctx *ctx, const char *title,
                       const struct cli_opt *opts)
{
    size_t w = 0;
    for (const struct cli_opt *o = opts; o->name; o++)
        if (opt_width(o) > w)
            w = opt_width(o);
    if (w == 0)
        return;
    cli_printf(ctx, "\n%s:\n", title);
    for (const struct cli_opt *o = opts; o->name; o++) {
        cli_printf(ctx, "  --%s%s%s%*s  ", o->name, o->arg ? " " : "",
                   o->arg ? o->arg : "", (int)(w - opt_width(o)), "");
        print_wrapped(ctx, o->help, w + 4);
    }
}

static void print_exit_codes(struct cli_ctx *ctx)
{
    cli_printf(ctx,
               "\nExit codes: 0 success, 1 not_found or I/O error, "
               "2 invalid_argument,\n"
               "3 value_too_large or quota_exceeded, 4 precondition_failed, "
               "5 integrity_error,\n"
               "6 unavailable. Errors are one line on stderr: "
               "'agentkv: CODE: MESSAGE'.\n");
}

static void print_overview(struct cli_ctx *ctx)
{
    size_t w = 0;
    for (size_t i = 0; i < ncommands; i++) {
        size_t n = strlen(commands[i].name) + 1 + strlen(commands[i].synopsis);
        if (n > w)
            w = n;
    }
    cli_printf(ctx,
               "usage: agentkv [GLOBAL FLAGS] COMMAND [ARGS] [FLAGS]\n\n"
               "agentkv is a durable, scoped key-value cache for AI agents.\n"
               "Scopes: system, instructions, project, task, artifacts.\n"
               "\nCommands:\n");
    for (size_t i = 0; i < ncommands; i++) {
        const struct cli_command *c = &commands[i];
        size_t n = strlen(c->name) + 1 + strlen(c->synopsis);
        cli_printf(ctx, "  %s %s%*s  %s\n", c->name, c->synopsis,
                   (int)(w - n), "", c->summary);
    }
    print_opts(ctx, "Global flags (before or after the command)",
               cli_global_opts);
    print_exit_codes(ctx);
    cli_printf(ctx, "\nRun 'agentkv help COMMAND' for a command's flags.\n");
}

int cli_help_print(struct cli_ctx *ctx, const struct cli_command *c)
{
    if (c == NULL) {
        print_overview(ctx);
        return 0;
    }
    /* The one-line summary, written lower case for the command list,
     * opens the page as a sentence. */
    cli_printf(ctx, "usage: agentkv %s%s%s%s\n\n%c%s.\n\n%s\n", c->name,
               c->synopsis[0] ? " " : "", c->synopsis,
               c->opts[0].name ? " [FLAGS]" : "",
               toupper((unsigned char)c->summary[0]), c->summary + 1,
               c->help);
    print_opts(ctx, "Flags", c->opts);
    print_opts(ctx, "Global flags", cli_global_opts);
    print_exit_codes(ctx);
    return 0;
}

int cmd_help(struct cli_ctx *ctx, const struct cli_args *args)
{
    const struct cli_command *c = NULL;
    char shown[CLI_QUOTE_BUF];
    if (args->npos == 1 && (c = cli_command_find(args->pos[0])) == NULL)
        return cli_fail(ctx, AKV_EINVAL,
                        "unknown command '%s' (see 'agentkv help')",
                        cli_quote(args->pos[0], shown));
    return cli_help_print(ctx, c);
}

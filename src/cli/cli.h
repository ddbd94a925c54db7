/*
 * cli.h — what the files of the agentkv command line share: the command
 * table's row type, the parsed arguments a handler receives, the context
 * (global flags, the lazily opened store, the pending error), and the small
 * helpers for output, errors, argument parsing and progress bars.
 *
 * A handler parses its arguments, calls one library function and renders the
 * result. It never prints an error itself: it records it with cli_fail() or
 * cli_fail_lib() and returns non-zero, and main() prints the single
 * "agentkv: <code>: <message>" line and picks the exit code.
 */
#ifndef AKV_CLI_H
#define AKV_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "agentkv.h"

/* One flag of a command (or of the global table). arg is the value's name
 * in help text ("D", "MIME"), or NULL for a boolean flag. */
struct cli_opt {
    const char *name; /* without the leading "--" */
    const char *arg;
    const char *help;
};

#define CLI_MAX_POS 256 /* max_args of most commands */
#define CLI_MAX_SET 32

/* The command line after parsing: positional arguments and the command's
 * own flags in the order given (the global flags live in struct cli_ctx).
 * pos has room for every argument (allocated by cli_parse_argv(), freed by
 * cli_args_free()); commands that take files take any number of them. */
struct cli_args {
    const char **pos;
    size_t npos;
    struct {
        const struct cli_opt *opt;
        const char *value; /* "" for a boolean flag */
    } set[CLI_MAX_SET];
    size_t nset;
};

/* How a command uses the store; main() uses it to open the right way. */
enum cli_store_use {
    CLI_STORE_NONE = 0,  /* version, help: never opens a store */
    CLI_STORE_READ = 1,  /* a missing store is "unavailable" */
    CLI_STORE_WRITE = 2, /* opened with AKV_OPEN_CREATE */
    CLI_STORE_SERVE = 3, /* the same, and with the write log if configured
                            (store.write_log): the one long-lived writer it
                            is for; every other command opens the store
                            beside it, as without the log */
};

struct cli_ctx;
typedef int (*cli_handler)(struct cli_ctx *ctx, const struct cli_args *args);

/* One row of the command table. Help text is generated from it. */
struct cli_command {
    const char *name;
    const char *synopsis; /* positional arguments, e.g. "SCOPE KEY [FILE|-]" */
    const char *summary;  /* one line for `agentkv help` */
    const char *help;     /* paragraphs for `agentkv help CMD` */
    const struct cli_opt *opts; /* terminated by a row with name NULL */
    size_t min_args, max_args;
    enum cli_store_use store_use;
    cli_handler run;
};

/* The table lives in main.c; commands[ncommands]. */
extern const struct cli_command commands[];
extern const size_t ncommands;
extern const struct cli_opt cli_global_opts[];
const struct cli_command *cli_command_find(const char *name);

struct cli_ctx {
    /* Global flags, resolved from flag, environment and default. */
    const char *dir;
    const char *backend;
    const char *sandbox;
    const char *config_path;
    int json;

    const struct cli_command *cmd;
    akv_config *cfg;  /* loaded on first use; owned */
    akv_store *store; /* opened on first use; owned */

    /* The first error recorded; main() prints it. */
    int failed;
    const char *err_name;
    int err_exit;
    char err_msg[1024];
    int out_errno; /* errno of the first failed write to stdout */
    int exit_code; /* a verdict without an error (lint's issues): main()
                      returns it when nothing failed */
};

/* ---- errors (cli-util.c) ---- */

/* Records an error of library code `code` with a formatted message; returns
 * 1 so handlers can `return cli_fail(...)`. The first recorded error wins. */
int cli_fail(struct cli_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records the library's last error (code and message) for rc. Call it right
 * after the failing library call: the message is thread-local and the next
 * library call may overwrite it. Returns 1. */
int cli_fail_lib(struct cli_ctx *ctx, int rc);

/* ---- output to stdout, every write checked (cli-util.c) ---- */

int cli_write(struct cli_ctx *ctx, const void *buf, size_t len);
int cli_printf(struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes a JSON string owned by the caller followed by a newline. */
int cli_print_json_text(struct cli_ctx *ctx, const char *text);
/* Writes one entry's metadata JSON (SPEC.md §1) plus a newline. */
int cli_print_meta(struct cli_ctx *ctx, const akv_meta *m);
/* Renders a jansson value compactly plus a newline and drops the reference.
 * A NULL value (allocation failure) is reported as out_of_memory. */
int cli_print_json(struct cli_ctx *ctx, json_t *value);
/* Notes that a write to stdout failed with errno err (0: unknown), for
 * writes the library made itself; main() reports it as io_error. */
int cli_stdout_failed(struct cli_ctx *ctx, int err);
/* Flushes stdout; records an io_error if any write failed. Returns 0/1. */
int cli_flush(struct cli_ctx *ctx);

/* ---- store, config and argument helpers (cli-util.c) ---- */

/* Loads the configuration (defaults, then --config) once. */
int cli_config(struct cli_ctx *ctx, const akv_config **out);
/* Opens the store once, the way the command's row says. */
int cli_store(struct cli_ctx *ctx, akv_store **out);

/* Value of a flag the command declared, or NULL when not given. Boolean
 * flags give "". The last occurrence wins. */
const char *cli_flag(const struct cli_args *args, const char *name);
int cli_has(const struct cli_args *args, const char *name);

int cli_parse_scope(struct cli_ctx *ctx, const char *name, akv_scope *out);
/* Optional scope argument: NULL gives AKV_SCOPE_ALL. */
int cli_parse_scope_opt(struct cli_ctx *ctx, const char *name, int *out);
int cli_parse_key(struct cli_ctx *ctx, const char *key);
/* A positive decimal integer flag value. */
int cli_parse_count(struct cli_ctx *ctx, const char *flag, const char *s,
                    uint64_t *out);

/* Copies untrusted text into buf for a one-line message: at most 64 bytes,
 * anything but printable ASCII shown as \xNN. Returns buf. */
#define CLI_QUOTE_BUF 280
const char *cli_quote(const char *s, char buf[CLI_QUOTE_BUF]);

/* "512 B", "1.5 KiB", "20 MiB". buf of at least 32 bytes. */
const char *cli_human_size(uint64_t n, char buf[32]);
/* "never", "45s", "15m", "24h", "7d" (largest exact unit). buf >= 32. */
const char *cli_human_duration(int64_t seconds, char buf[32]);

/* ---- aligned text tables (table.c) ---- */

#define CLI_TABLE_MAXCOLS 12
struct cli_table {
    size_t ncols;
    const char *const *headers;
    const char *align; /* one 'l' or 'r' per column */
    size_t width[CLI_TABLE_MAXCOLS];
    char **cells;      /* nrows * ncols owned strings */
    size_t nrows, cap;
    int header_done;
};
void cli_table_init(struct cli_table *t, size_t ncols,
                    const char *const *headers, const char *align);
/* Copies one row of ncols cells. */
int cli_table_row(struct cli_ctx *ctx, struct cli_table *t,
                  const char *const *cells);
/* Prints the header (first time only) and the buffered rows. */
int cli_table_flush(struct cli_ctx *ctx, struct cli_table *t);
void cli_table_free(struct cli_table *t);

/* ---- input files (input.c) ---- */

/* Opens FILE for reading, or gives stdin for NULL or "-". A file that cannot
 * be opened is an invalid_argument. Close with cli_input_close(). */
int cli_input_open(struct cli_ctx *ctx, const char *path, FILE **out);
void cli_input_close(FILE *f);
/* Reads the rest of f into a malloc'ed buffer (caller frees). More than max
 * bytes is value_too_large, detected from the size of a regular file before
 * reading, or after reading max + 1 bytes from anything else. */
int cli_input_read(struct cli_ctx *ctx, FILE *f, uint64_t max, char **out,
                   size_t *len);

/* ---- argument parsing and help (args.c, cmd-help.c) ---- */

/* Parses argv (without argv[0]) into the global flags of ctx, the command
 * and its arguments. Records an invalid_argument error and returns 1 on an
 * unknown command or flag. *want_help is set by --help / -h. */
int cli_parse_argv(struct cli_ctx *ctx, int argc, char **argv,
                   struct cli_args *args, int *want_help);
void cli_args_free(struct cli_args *args);
/* Writes the help of one command (or the overview when cmd is NULL) to
 * stdout. */
int cli_help_print(struct cli_ctx *ctx, const struct cli_command *cmd);

/* ---- progress bars on a terminal (progress.c) ---- */

struct cli_progress {
    const char *label;
    int enabled;
    int drawn;        /* something is on the line */
    int64_t last_ms;  /* last redraw */
    int bytes;        /* done/total are bytes: shown as sizes */
    int plain;        /* TERM=dumb or NO_COLOR: no escape codes */
    size_t width;     /* length of the line last drawn (plain mode) */
};
/* Progress is drawn on stderr only when both stderr and stdout are
 * terminals (SPEC.md §3: silent when stdout is not a TTY). */
int cli_progress_wanted(void);
/* Without escape codes (TERM=dumb, or NO_COLOR set to anything) the bar is
 * redrawn with '\r' and padded with spaces over the previous one. */
void cli_progress_init(struct cli_progress *p, const char *label,
                       int enabled);
/* An akv_progress_fn: ctx must point at a struct cli_progress (or at a
 * struct whose first member is one). */
void cli_progress_update(void *ctx, uint64_t done, uint64_t total);
/* Erases the bar so that ordinary output can follow on a clean line. */
void cli_progress_clear(struct cli_progress *p);

/* ---- handlers, one file each ---- */

#define CLI_HANDLER(name)                                                     \
    extern const struct cli_opt cmd_##name##_opts[];                          \
    int cmd_##name(struct cli_ctx *ctx, const struct cli_args *args)

CLI_HANDLER(put);
CLI_HANDLER(get);
CLI_HANDLER(del);
CLI_HANDLER(ls);
CLI_HANDLER(stats);
CLI_HANDLER(prune);
CLI_HANDLER(memory);
CLI_HANDLER(clear);
CLI_HANDLER(check);
CLI_HANDLER(export);
CLI_HANDLER(import);
CLI_HANDLER(backup);
CLI_HANDLER(seed);
CLI_HANDLER(prompt);
CLI_HANDLER(search);
CLI_HANDLER(tokens);
CLI_HANDLER(mcp);
CLI_HANDLER(tools);
CLI_HANDLER(serve);
CLI_HANDLER(token);
CLI_HANDLER(version);
CLI_HANDLER(completion);
CLI_HANDLER(help);

#endif /* AKV_CLI_H */

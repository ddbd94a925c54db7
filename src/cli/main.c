/*
 * main.c — the agentkv command line: the command table, and the driver that
 * parses the command line, validates the global flags, runs one handler and
 * turns its outcome into output and an exit code.
 *
 * Adding a command is adding a row here and a cmd-<name>.c file with its
 * handler and flag table (declared in cli.h). Everything a user reads about
 * a command — `agentkv help`, `agentkv help CMD`, `CMD --help` — is
 * generated from its row.
 *
 * Error reporting is centralised: handlers record one error, and only this
 * file prints it, as exactly one line "agentkv: <code>: <message>" on
 * stderr, with the exit code of SPEC.md §2.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

const struct cli_opt cli_global_opts[] = {
    {"dir", "PATH",
     "store directory (env AGENTKV_DIR, default ./.agentkv)"},
    {"backend", "URL",
     "storage backend: lmdb (default, in --dir) or "
     "redis://[:PASS@]HOST[:PORT][/DB][?timeout=2s] (env AGENTKV_BACKEND)"},
    {"sandbox", "ID",
     "sandbox (tenant) to work in, [A-Za-z0-9_-]{1,64} "
     "(env AGENTKV_SANDBOX, default 'default')"},
    {"config", "FILE",
     "INI file of settings (env AGENTKV_CONFIG; default DIR/config.ini, "
     "else ~/.config/agentkv/config.ini, if present)"},
    {"json", NULL, "machine-readable JSON output"},
    {"help", NULL, "show help (also -h)"},
    {NULL, NULL, NULL},
};

const struct cli_command commands[] = {
    {
        .name = "put",
        .synopsis = "SCOPE KEY [FILE|-]",
        .summary = "write a value",
        .help =
        "Stores the contents of FILE (or of stdin when FILE is '-' or absent)\n"
        "under KEY in SCOPE. SCOPE is one of system, instructions, project,\n"
        "task, artifacts. The content type is --type, else guessed from FILE's\n"
        "name (.md/.markdown, .json, .txt), else application/octet-stream.\n"
        "Prints nothing on success; with --json, the entry metadata.\n"
        "Values over max_value_size (50MiB) are refused before they are read\n"
        "whole (exit 3); a failed --if-match or --create exits 4.",
        .opts = cmd_put_opts,
        .min_args = 2,
        .max_args = 3,
        .store_use = CLI_STORE_WRITE,
        .run = cmd_put,
    },
    {
        .name = "get",
        .synopsis = "SCOPE KEY",
        .summary = "print a value",
        .help =
        "Writes the raw value bytes to stdout after verifying their SHA-256.\n"
        "With --meta or --json, prints the entry metadata as JSON instead.\n"
        "A missing or expired key exits 1 (not_found); stored bytes that fail\n"
        "their checksum are never printed (exit 5).",
        .opts = cmd_get_opts,
        .min_args = 2,
        .max_args = 2,
        .store_use = CLI_STORE_READ,
        .run = cmd_get,
    },
    {
        .name = "del",
        .synopsis = "SCOPE KEY",
        .summary = "delete an entry",
        .help =
        "Deletes the sandbox's own entry (never _global's through the overlay).\n"
        "Exits 1 (not_found) when there is no unexpired entry. Prints nothing;\n"
        "with --json, {\"deleted\":1}.",
        .opts = cmd_del_opts,
        .min_args = 2,
        .max_args = 2,
        .store_use = CLI_STORE_WRITE,
        .run = cmd_del,
    },
    {
        .name = "ls",
        .synopsis = "SCOPE",
        .summary = "list entries",
        .help =
        "Lists the entries of SCOPE in key order as a table (KEY, SIZE,\n"
        "VERSION, UPDATED, EXPIRES, ORIGIN), or with --json as JSON Lines, one\n"
        "metadata object per line. Overlay scopes (system, instructions) merge\n"
        "the sandbox and _global; ORIGIN says which one holds each entry.",
        .opts = cmd_ls_opts,
        .min_args = 1,
        .max_args = 1,
        .store_use = CLI_STORE_READ,
        .run = cmd_ls,
    },
    {
        .name = "stats",
        .synopsis = "[SCOPE]",
        .summary = "show usage per scope",
        .help =
        "Prints, per scope of the sandbox: unexpired entries, their bytes, the\n"
        "quota and the share used, expired entries not yet pruned, hits and\n"
        "misses (whole store), and the default TTL. With --json, an object\n"
        "keyed by scope name.",
        .opts = cmd_stats_opts,
        .min_args = 0,
        .max_args = 1,
        .store_use = CLI_STORE_READ,
        .run = cmd_stats,
    },
    {
        .name = "prune",
        .synopsis = "[SCOPE]",
        .summary = "remove expired entries",
        .help =
        "Removes expired entries of SCOPE (default: every scope) in the\n"
        "current sandbox, or in every sandbox with --all-sandboxes, and prints\n"
        "how many per scope. With --json: {\"pruned\":{\"task\":3,...}}.",
        .opts = cmd_prune_opts,
        .min_args = 0,
        .max_args = 1,
        .store_use = CLI_STORE_WRITE,
        .run = cmd_prune,
    },
    {
        .name = "memory",
        .synopsis = "[FILE|-]",
        .summary = "run one command of Anthropic's memory tool",
        .help =
        "Runs one command of Anthropic's memory tool (memory_20250818), given\n"
        "as its JSON input in FILE or on stdin, e.g.\n"
        "{\"command\":\"view\",\"path\":\"/memories\"}, against the files\n"
        "/memories/... kept as the keys memories/... of the sandbox's project\n"
        "scope (--scope to change it), and prints the tool's result text. A\n"
        "failure prints the tool's error text with the exit code of its error\n"
        "(1 not found, 2 invalid, 3 quota, 4 precondition). With --json:\n"
        "{\"result\":TEXT}. docs/memory-tool.md describes the commands.",
        .opts = cmd_memory_opts,
        .min_args = 0,
        .max_args = 1,
        .store_use = CLI_STORE_WRITE,
        .run = cmd_memory,
    },
    {
        .name = "clear",
        .synopsis = "SCOPE",
        .summary = "delete every entry of a scope",
        .help =
        "Deletes every entry (expired or not) of SCOPE in the sandbox's own\n"
        "namespace and prints how many unexpired entries were deleted. Refuses\n"
        "to run without --yes.",
        .opts = cmd_clear_opts,
        .min_args = 1,
        .max_args = 1,
        .store_use = CLI_STORE_WRITE,
        .run = cmd_clear,
    },
    {
        .name = "check",
        .synopsis = "",
        .summary = "verify every stored checksum",
        .help =
        "Verifies the SHA-256 of every entry in every sandbox (expired ones\n"
        "too), prints each failing entry as SANDBOX/SCOPE/KEY and a summary\n"
        "line 'checked N entries, M failed'. Exits 5 (integrity_error) if any\n"
        "entry failed. Shows a progress bar on a terminal.",
        .opts = cmd_check_opts,
        .min_args = 0,
        .max_args = 0,
        .store_use = CLI_STORE_READ,
        .run = cmd_check,
    },
    {
        .name = "export",
        .synopsis = "[SCOPE]",
        .summary = "dump entries as JSON Lines",
        .help =
        "Writes the unexpired entries of SCOPE (default: every scope) of the\n"
        "current sandbox (every sandbox with --all-sandboxes) to stdout, one\n"
        "JSON object per line: the entry metadata plus \"value\" (base64).\n"
        "'import' restores it losslessly. When stdout is redirected and stderr\n"
        "is a terminal, a progress bar is drawn on stderr.",
        .opts = cmd_export_opts,
        .min_args = 0,
        .max_args = 1,
        .store_use = CLI_STORE_READ,
        .run = cmd_export,
    },
    {
        .name = "import",
        .synopsis = "[FILE|-]",
        .summary = "load entries from JSON Lines",
        .help =
        "Reads what 'export' wrote from FILE (or stdin when FILE is '-' or\n"
        "absent) and restores every entry exactly: version, timestamps,\n"
        "metadata and content type. Every line is validated first: a bad\n"
        "line changes nothing and the message names it. Entries are then\n"
        "written one namespace (sandbox and scope) at a time, each in one\n"
        "transaction; the first namespace that fails stops the import, and\n"
        "the error says which namespaces were written. Prints 'imported N\n"
        "entries (SANDBOX/SCOPE: N, ...)' on stderr; with --json,\n"
        "{\"imported\":N,\"namespaces\":[...]} on stdout, after a failure too.",
        .opts = cmd_import_opts,
        .min_args = 0,
        .max_args = 1,
        .store_use = CLI_STORE_WRITE,
        .run = cmd_import,
    },
    {
        .name = "backup",
        .synopsis = "PATH",
        .summary = "hot copy of the store",
        .help =
        "Writes a consistent copy of the embedded store into directory PATH\n"
        "(created; it must not already hold a store) while other processes\n"
        "keep using the store. Open the copy with --dir PATH.",
        .opts = cmd_backup_opts,
        .min_args = 1,
        .max_args = 1,
        .store_use = CLI_STORE_READ,
        .run = cmd_backup,
    },
    {
        .name = "seed",
        .synopsis = "[DIR]",
        .summary = "load instruction sets into the store",
        .help =
        "Loads DIR/NAME.md and DIR/NAME/SKILL.md (Agent Skills) into scope\n"
        "instructions of the sandbox; without DIR, the four bundled sets. Each\n"
        "file may open with front matter (name, description, version) and is\n"
        "stored whole; names are Agent Skills names (a-z, 0-9, single '-').\n"
        "The other files of a DIR/NAME/ folder are stored as NAME/PATH. A set\n"
        "whose content is unchanged is skipped; a changed one is rewritten and\n"
        "its version grows. Every file is checked before anything is written\n"
        "and all changes are one transaction: a bad file (named with its\n"
        "line) changes nothing. Prints 'added N, updated N, unchanged N,\n"
        "removed N'; with --json, the report with one item per set.",
        .opts = cmd_seed_opts,
        .min_args = 0,
        .max_args = 1,
        .store_use = CLI_STORE_WRITE,
        .run = cmd_seed,
    },
    {
        .name = "prompt",
        .synopsis = "build|split|lint|advise [FILE...]",
        .summary = "build, split, lint or advise on a system prompt",
        .help =
        "'prompt build' prints a system prompt made of the base (--base FILE or\n"
        "--base-key KEY) and the instruction sets the sandbox sees: all inlined\n"
        "(--mode inline, the baseline), a catalog the agent loads them from with\n"
        "the get_instruction tool (--mode reference, the default), or some\n"
        "inlined and the rest in the catalog (--mode hybrid --inline A,B). The\n"
        "base may hold '{{agentkv:include NAME}}' and '{{agentkv:catalog}}' on\n"
        "lines of their own. --report prints token figures on stderr.\n"
        "'prompt split FILE --out DIR' cuts a prompt into DIR/core.md,\n"
        "DIR/instructions/NAME.md and DIR/manifest.json at its sections:\n"
        "Markdown headings, top-level XML tags, rule-delimited or ALL-CAPS\n"
        "titles (--by; detected by default); seeding those and building core.md\n"
        "inline (--manifest) gives FILE back byte for byte. --review prints the\n"
        "proposed sets and writes nothing.\n"
        "'prompt lint [PATH...]' flags weak descriptions of the sets in PATH\n"
        "(files or directories) or, without PATH, of the sandbox's sets, each\n"
        "with its fix; it exits 1 when it finds any.\n"
        "'prompt advise' says which sets to inline, from the fetch rates agents\n"
        "showed (recorded runs and get_instruction calls).",
        .opts = cmd_prompt_opts,
        .min_args = 1,
        .max_args = CLI_MAX_POS,
        .store_use = CLI_STORE_READ,
        .run = cmd_prompt,
    },
    {
        .name = "search",
        .synopsis = "QUERY",
        .summary = "find instruction sets (or entries) by their words",
        .help =
        "Ranks the instruction sets the sandbox sees (its own over _global's)\n"
        "by BM25 over their name, description and text, best first, ties by\n"
        "name, and prints SCORE, NAME, TOKENS and DESCRIPTION. --scope searches\n"
        "another scope's entries (text values). Words are runs of letters and\n"
        "digits; ASCII is matched without case. The query is at most 1024\n"
        "bytes and 32 distinct words. With --json, the object the REST route\n"
        "and the search_instructions tool return.",
        .opts = cmd_search_opts,
        .min_args = 1,
        .max_args = 1,
        .store_use = CLI_STORE_READ,
        .run = cmd_search,
    },
    {
        .name = "tokens",
        .synopsis = "[FILE...]",
        .summary = "count tokens as OpenAI's tiktoken does",
        .help =
        "Prints one line per FILE, 'COUNT<TAB>FILE', where COUNT is the\n"
        "number of tokens tiktoken's encode_ordinary() gives for the file's\n"
        "bytes (special tokens such as <|endoftext|> count as text). With no\n"
        "FILE, or a single '-', reads stdin and prints the count alone.\n"
        "--ids prints the token ids, space-separated, in place of COUNT.\n"
        "Bytes that are not valid UTF-8 count as U+FFFD, as when the file is\n"
        "decoded to a string for tiktoken. A FILE that cannot be read is\n"
        "reported and the others are still counted. FILEs are read one at a\n"
        "time and there may be any number of them ('xargs agentkv tokens'\n"
        "works). With --json, one object per input; with --ids it holds\n"
        "\"ids\" ([] for an empty input). Data: the npm tiktoken package,\n"
        "found in $AGENTKV_TOKENIZER_DIR or share/agentkv/tokenizers\n"
        "(docs/tokenizer.md). Does not open a store.",
        .opts = cmd_tokens_opts,
        .min_args = 0,
        .max_args = SIZE_MAX,
        .store_use = CLI_STORE_NONE,
        .run = cmd_tokens,
    },
    {
        .name = "mcp",
        .synopsis = "",
        .summary = "MCP server on stdio",
        .help =
        "Serves the Model Context Protocol on stdin/stdout for the sandbox\n"
        "(--sandbox): newline-delimited JSON-RPC 2.0, one message per line,\n"
        "responses on stdout, logs on stderr. Offers the agent tools, the\n"
        "instruction sets as resources and the system_prompt prompt\n"
        "(docs/mcp.md). Ends with exit 0 at end of input.",
        .opts = cmd_mcp_opts,
        .min_args = 0,
        .max_args = 0,
        .store_use = CLI_STORE_WRITE,
        .run = cmd_mcp,
    },
    {
        .name = "tools",
        .synopsis = "",
        .summary = "print the agent tools as function definitions",
        .help =
        "Prints the agent tools of the MCP server as JSON function-calling\n"
        "definitions for platforms without MCP: --format openai (default,\n"
        "Chat Completions), openai-responses (the Responses API's flat form),\n"
        "anthropic, or mcp (the tools/list array); --format markdown prints\n"
        "the tool reference of docs/mcp.md. Does not open a store.",
        .opts = cmd_tools_opts,
        .min_args = 0,
        .max_args = 0,
        .store_use = CLI_STORE_NONE,
        .run = cmd_tools,
    },
    {
        .name = "serve",
        .synopsis = "",
        .summary = "HTTP REST server",
        .help =
        "Serves the REST API of docs/http.md on --listen (default\n"
        "127.0.0.1:8420) until SIGTERM or SIGINT, then finishes the requests\n"
        "in flight and exits 0. Requests need 'Authorization: Bearer TOKEN'\n"
        "(see 'agentkv token'); without a tokens file a loopback server creates\n"
        "an admin token and prints it once, and a non-loopback one refuses to\n"
        "start. SIGHUP reloads the tokens file. One access-log line per request\n"
        "goes to stderr (--access-log, --log-format). Expired entries are\n"
        "removed in the background every --prune-interval.",
        .opts = cmd_serve_opts,
        .min_args = 0,
        .max_args = 0,
        .store_use = CLI_STORE_SERVE,
        .run = cmd_serve,
    },
    {
        .name = "token",
        .synopsis = "create|list|revoke [ID]",
        .summary = "manage HTTP API tokens",
        .help =
        "'token create --role admin|agent' prints a new token alone on one\n"
        "stdout line (details on stderr); only its SHA-256 is kept, in the\n"
        "tokens file (--tokens, default DIR/tokens, mode 0600). Agent tokens\n"
        "reach the sandboxes matching --sandbox, a glob such as 'team-*'\n"
        "(default: the current sandbox), never _global, and may not write\n"
        "scope system; admin tokens reach everything. 'token list' shows id,\n"
        "role, sandbox pattern, label and creation time, and on stderr which\n"
        "one DIR/admin-token holds; 'token revoke ID' removes a token. A\n"
        "running server applies changes on SIGHUP.",
        .opts = cmd_token_opts,
        .min_args = 1,
        .max_args = 2,
        .store_use = CLI_STORE_NONE,
        .run = cmd_token,
    },
    {
        .name = "version",
        .synopsis = "",
        .summary = "print version and backend",
        .help =
        "Prints 'agentkv VERSION (backend NAME)', where NAME is the backend\n"
        "selected by --backend or AGENTKV_BACKEND. Does not open a store.\n"
        "With --json: {\"name\":\"agentkv\",\"version\":...,\"backend\":...}.\n"
        "'agentkv --version' and 'agentkv -V' are the same command.",
        .opts = cmd_version_opts,
        .min_args = 0,
        .max_args = 0,
        .store_use = CLI_STORE_NONE,
        .run = cmd_version,
    },
    {
        .name = "completion",
        .synopsis = "bash|zsh|fish",
        .summary = "print a shell completion script",
        .help =
        "Prints a completion script for bash, zsh or fish, generated from\n"
        "this command table: commands, their flags, scopes and file names.\n"
        "Load it with 'source <(agentkv completion bash)' (or zsh), or\n"
        "'agentkv completion fish | source'; docs/cli.md says where to\n"
        "install it for good. Does not open a store.",
        .opts = cmd_completion_opts,
        .min_args = 1,
        .max_args = 1,
        .store_use = CLI_STORE_NONE,
        .run = cmd_completion,
    },
    {
        .name = "help",
        .synopsis = "[COMMAND]",
        .summary = "show help for agentkv or a command",
        .help =
        "Without COMMAND, lists the commands and global flags; with COMMAND,\n"
        "shows its usage and every flag. 'agentkv COMMAND --help' is the same.",
        .opts = cmd_help_opts,
        .min_args = 0,
        .max_args = 1,
        .store_use = CLI_STORE_NONE,
        .run = cmd_help,
    },
};
const size_t ncommands = sizeof commands / sizeof commands[0];

const struct cli_command *cli_command_find(const char *name)
{
    for (size_t i = 0; i < ncommands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Everything between parsing and running: help, argument counts, the
 * sandbox. Returns non-zero with the error recorded. */
static int dispatch(struct cli_ctx *ctx, const struct cli_args *args,
                    int want_help)
{
    const struct cli_command *cmd = ctx->cmd;
    if (want_help)
        return cli_help_print(ctx, cmd);
    if (cmd == NULL)
        return cli_fail(ctx, AKV_EINVAL,
                        "missing command (see 'agentkv help')");
    if (args->npos < cmd->min_args || args->npos > cmd->max_args)
        return cli_fail(ctx, AKV_EINVAL,
                        "usage: agentkv %s %s (see 'agentkv help %s')",
                        cmd->name, cmd->synopsis, cmd->name);
    if (cmd->store_use != CLI_STORE_NONE) {
        int rc = akv_sandbox_check(ctx->sandbox, strlen(ctx->sandbox));
        if (rc != AKV_OK)
            return cli_fail_lib(ctx, rc);
    }
    return cmd->run(ctx, args);
}

/* The library logs integrity failures by itself, for servers. In the CLI
 * every such failure also comes back as the operation's error (or as a line
 * of `check`), so printing the log too would break the one-error-line rule.
 * Only warnings, which have no other way out, are shown. */
static void cli_log(void *ctx, const char *level, const char *message)
{
    (void)ctx;
    if (strcmp(level, "warning") == 0 || strcmp(level, "warn") == 0)
        fprintf(stderr, "agentkv: warning: %s\n", message);
}

int main(int argc, char **argv)
{
    /* A closed pipe shows up as EPIPE from the write, reported once. */
    signal(SIGPIPE, SIG_IGN);
    akv_set_log(cli_log, NULL);

    struct cli_ctx ctx;
    struct cli_args args;
    int want_help = 0;
    memset(&ctx, 0, sizeof ctx);
    if (cli_parse_argv(&ctx, argc - 1, argv + 1, &args, &want_help) == 0 &&
        dispatch(&ctx, &args, want_help) != 0 && !ctx.failed)
        cli_fail(&ctx, AKV_EINVAL, "command failed");
    cli_flush(&ctx);
    cli_args_free(&args);

    if (ctx.store)
        akv_store_close(ctx.store);
    if (ctx.cfg)
        akv_config_free(ctx.cfg);
    if (ctx.failed) {
        fprintf(stderr, "agentkv: %s: %s\n", ctx.err_name, ctx.err_msg);
        return ctx.err_exit;
    }
    return ctx.exit_code;
}

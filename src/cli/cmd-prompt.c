/*
 * cmd-prompt.c — `agentkv prompt build`, `prompt split`, `prompt lint` and
 * `prompt advise` (SPEC.md §6). One command row with four subcommands,
 * because they share the word and the topic; each flag belongs to the
 * subcommands its help names and using it with another is an error.
 *
 * build: reads the base (--base FILE, or --base-key KEY from scope system),
 * calls akv_prompt_build and writes the prompt to stdout; --report adds
 * the token figures on stderr (and the yearly saving with --price and
 * --runs-per-day). split: reads FILE, calls akv_prompt_split and
 * akv_split_write and akv_split_manifest_write (or, with --review, only
 * shows the proposed sets), and lists what went where; the library's
 * warnings go to stderr. lint: feeds files, directories or the store's sets
 * to akv_lint_* and prints the issues, exit 1 when there are any. advise:
 * akv_prompt_advise as a table or JSON. --report's expected figures and
 * advise's rates come from the usage the library recorded (usage.c). The
 * rules live in the library (prompt.c, split.c, lint.c), not here.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "agentkv-tokens.h"
#include "cli.h"

const struct cli_opt cmd_prompt_opts[] = {
    {"base", "FILE", "build: base prompt text (may hold markers)"},
    {"base-key", "KEY", "build: take the base from scope system, key KEY"},
    {"mode", "MODE",
     "build: inline, hybrid or reference (default reference; hybrid when "
     "--inline is given)"},
    {"inline", "NAME,...", "build: sets to inline in hybrid mode"},
    {"budget", "TOKENS", "build: fit the catalog within TOKENS tokens"},
    {"manifest", "FILE",
     "build, advise: only the sets of a split's manifest.json; --report measures "
     "against the original prompt"},
    {"only", "NAME,...", "build, advise: only these instruction sets"},
    {"report", NULL,
     "build: print baseline tokens, built tokens and the reduction on "
     "stderr"},
    {"price", "USD_PER_MTOK",
     "build: with --report, input price in USD per million tokens"},
    {"runs-per-day", "N",
     "build: with --report and --price, prompts sent a day (for the yearly "
     "saving)"},
    {"runs", "N",
     "build, advise: runs the fetch counts are over (default: the runs "
     "recorded)"},
    {"fetch-overhead", "TOKENS",
     "build, advise: tokens a fetch adds besides the set (default 60)"},
    {"cached-input-ratio", "R",
     "build, advise: price of a cached input token against an uncached "
     "one, 0 to 1 (prompt caching)"},
    {"cache-write-premium", "P",
     "build: with --cached-input-ratio, extra price of a cache write "
     "(0.25 = +25%)"},
    {"out", "DIR", "split: directory for core.md and instructions/"},
    {"by", "FORM",
     "split: how sections are marked: heading, xml, rule, caps or auto "
     "(default auto: detected)"},
    {"level", "N", "split: cut at headings of level <= N (default 1)"},
    {"keep", "TITLE|NUMBER|TAG,...",
     "split: sections to keep in core.md, by title, number or XML tag"},
    {"review", NULL,
     "split: print the proposed sets (lines, tokens, descriptions) and "
     "write nothing"},
    {NULL, NULL, NULL},
};

/* Flags given more than once (--inline a --inline b) are joined with
 * commas, which is also how one flag lists several. Owned: free(). */
static char *joined(struct cli_ctx *ctx, const struct cli_args *args,
                    const char *name)
{
    size_t len = 0;
    for (size_t i = 0; i < args->nset; i++)
        if (strcmp(args->set[i].opt->name, name) == 0)
            len += strlen(args->set[i].value) + 1;
    if (len == 0)
        return NULL;
    char *s = calloc(1, len);
    if (s == NULL) {
        cli_fail(ctx, AKV_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < args->nset; i++)
        if (strcmp(args->set[i].opt->name, name) == 0) {
            if (*s)
                strcat(s, ",");
            strcat(s, args->set[i].value);
        }
    return s;
}

/* Refuses the other subcommand's flags. */
static int only_flags(struct cli_ctx *ctx, const struct cli_args *args,
                      const char *sub, const char *const *allowed)
{
    for (size_t i = 0; i < args->nset; i++) {
        const char *name = args->set[i].opt->name;
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, name) == 0;
        if (!ok)
            return cli_fail(ctx, AKV_EINVAL,
                            "--%s is not a flag of 'prompt %s' (see "
                            "'agentkv help prompt')",
                            name, sub);
    }
    return 0;
}

static int parse_number(struct cli_ctx *ctx, const char *flag, const char *s,
                        double *out)
{
    char shown[CLI_QUOTE_BUF], *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno || !isfinite(v) || v < 0)
        return cli_fail(ctx, AKV_EINVAL,
                        "--%s: '%s' is not a non-negative number", flag,
                        cli_quote(s, shown));
    *out = v;
    return 0;
}

static int read_all(struct cli_ctx *ctx, const char *path, char **buf,
                    size_t *len)
{
    const akv_config *cfg;
    FILE *f;
    if (cli_config(ctx, &cfg) || cli_input_open(ctx, path, &f))
        return 1;
    int rc = cli_input_read(ctx, f, akv_config_max_value_size(cfg), buf, len);
    cli_input_close(f);
    return rc;
}

/* The flags of the expected figures, shared by build and advise. */
static int expect_flags(struct cli_ctx *ctx, const struct cli_args *args,
                        akv_prompt_opts *o)
{
    const char *s;
    if ((s = cli_flag(args, "runs")) &&
        (cli_parse_count(ctx, "runs", s, &o->runs) ||
         (o->runs == 0 &&
          cli_fail(ctx, AKV_EINVAL, "--runs: at least 1 run"))))
        return 1;
    if ((s = cli_flag(args, "fetch-overhead")) &&
        cli_parse_count(ctx, "fetch-overhead", s, &o->fetch_overhead))
        return 1;
    if ((s = cli_flag(args, "cached-input-ratio")) &&
        (parse_number(ctx, "cached-input-ratio", s, &o->cached_ratio) ||
         (o->cached_ratio > 1 &&
          cli_fail(ctx, AKV_EINVAL, "--cached-input-ratio: from 0 to 1"))))
        return 1;
    if ((s = cli_flag(args, "cache-write-premium"))) {
        if (!cli_flag(args, "cached-input-ratio"))
            return cli_fail(ctx, AKV_EINVAL, "--cache-write-premium goes "
                                             "with --cached-input-ratio");
        if (parse_number(ctx, "cache-write-premium", s, &o->write_premium))
            return 1;
    }
    return 0;
}

/* --manifest FILE or --only NAME,...: the sets a build or advice is
 * limited to. *manifest and *only are owned by the caller afterwards. */
static int limit_flags(struct cli_ctx *ctx, const struct cli_args *args,
                       akv_prompt_opts *o, akv_manifest **manifest,
                       char **only)
{
    const char *mf = cli_flag(args, "manifest");
    *only = joined(ctx, args, "only");
    if (ctx->failed)
        return 1;
    if (mf && *only)
        return cli_fail(ctx, AKV_EINVAL,
                        "--manifest and --only exclude each other");
    if (mf) {
        int rc = akv_manifest_read(mf, manifest);
        if (rc != AKV_OK)
            return cli_fail_lib(ctx, rc);
        o->only = akv_manifest_sets_joined(*manifest);
        o->baseline_tokens = akv_manifest_tokens(*manifest);
    } else {
        o->only = *only;
    }
    return 0;
}

/* x rounded to 1/scale (no libm needed for this). */
static double round_to(double x, double scale)
{
    return (double)(long long)(x * scale + (x < 0 ? -0.5 : 0.5)) / scale;
}

static void print_report(struct cli_ctx *ctx, const akv_prompt_info *in,
                         int priced, double price, uint64_t runs,
                         int original, uint64_t fetch_overhead, int cached)
{
    double saved = (double)in->baseline_tokens - (double)in->tokens;
    double pct = in->baseline_tokens
                     ? 100.0 * saved / (double)in->baseline_tokens
                     : 0.0;
    double yearly = saved * (double)runs * 365.0 * price / 1e6;
    double expected_pct =
        in->baseline_tokens
            ? 100.0 * ((double)in->baseline_tokens - in->expected_tokens) /
                  (double)in->baseline_tokens
            : 0.0;
    double cost_pct = in->baseline_cost > 0
                          ? 100.0 * in->expected_cost / in->baseline_cost
                          : 0.0;
    if (ctx->json) {
        json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:f}", "mode",
                              akv_prompt_mode_name(in->mode), "sets",
                              (json_int_t)in->sets, "inlined",
                              (json_int_t)in->inlined, "baseline_tokens",
                              (json_int_t)in->baseline_tokens, "tokens",
                              (json_int_t)in->tokens, "catalog_tokens",
                              (json_int_t)in->catalog_tokens,
                              "reduction_percent", round_to(pct, 10));
        if (o && in->runs) {
            json_object_set_new(o, "runs", json_integer((json_int_t)in->runs));
            json_object_set_new(o, "fetches",
                                json_integer((json_int_t)in->fetches));
            json_object_set_new(o, "expected_tokens",
                                json_real(round_to(in->expected_tokens, 10)));
            json_object_set_new(o, "expected_reduction_percent",
                                json_real(round_to(expected_pct, 10)));
            json_object_set_new(o, "expected_cost_percent",
                                json_real(round_to(cost_pct, 10)));
        }
        if (o && priced) {
            json_object_set_new(o, "usd_per_mtok", json_real(price));
            json_object_set_new(o, "runs_per_day", json_integer((json_int_t)runs));
            json_object_set_new(o, "yearly_saving_usd",
                                json_real(round_to(yearly, 100)));
        }
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                           JSON_REAL_PRECISION(
                                               AKV_JSON_REAL_DIGITS))
                       : NULL;
        if (text)
            fprintf(stderr, "%s\n", text);
        free(text);
        json_decref(o);
        return;
    }
    fprintf(stderr,
            "mode:            %s (%zu sets: %zu inlined, %zu in the "
            "catalog)\n"
            "baseline tokens: %llu (%s)\n"
            "built tokens:    %llu\n"
            "reduction:       %.1f%%\n",
            akv_prompt_mode_name(in->mode), in->sets, in->inlined,
            in->cataloged, (unsigned long long)in->baseline_tokens,
            original ? "the original prompt, from the manifest"
                     : "every set inlined",
            (unsigned long long)in->tokens, pct);
    if (in->runs)
        fprintf(stderr,
                "fetch rates:     %llu fetches of the sets not inlined over "
                "%llu runs\n"
                "expected tokens: %.1f a run (built + fetch rate x (set + "
                "%llu tokens a fetch))\n"
                "expected cut:    %.1f%%\n"
                "expected cost:   %.1f%% of the baseline's%s\n",
                (unsigned long long)in->fetches,
                (unsigned long long)in->runs, in->expected_tokens,
                (unsigned long long)fetch_overhead, expected_pct, cost_pct,
                cached ? " (with the prompt cache priced as given)" : "");
    if (priced)
        fprintf(stderr,
                "yearly saving:   $%.2f (at $%g per million input tokens, "
                "%llu runs a day)\n",
                yearly, price, (unsigned long long)runs);
}

static int prompt_build(struct cli_ctx *ctx, const struct cli_args *args)
{
    static const char *const allowed[] = {
        "base", "base-key", "mode", "inline", "budget", "manifest", "only",
        "report", "price", "runs-per-day", "runs", "fetch-overhead",
        "cached-input-ratio", "cache-write-premium", NULL};
    akv_prompt_opts opts;
    akv_store *store;
    akv_prompt *prompt = NULL;
    akv_manifest *manifest = NULL;
    char *base = NULL, *names = NULL, *only = NULL;
    size_t base_len = 0;
    double price = 0;
    uint64_t runs = 0, budget = 0;
    int rc = 1;

    if (only_flags(ctx, args, "build", allowed))
        return 1;
    if (args->npos > 1)
        return cli_fail(ctx, AKV_EINVAL,
                        "usage: agentkv prompt build [flags] (no arguments)");
    akv_prompt_opts_init(&opts);
    const char *mode = cli_flag(args, "mode");
    const char *base_file = cli_flag(args, "base");
    const char *s;
    if (base_file && cli_flag(args, "base-key"))
        return cli_fail(ctx, AKV_EINVAL, "--base and --base-key exclude each "
                                         "other");
    names = joined(ctx, args, "inline");
    if (ctx->failed)
        goto out;
    if ((rc = akv_prompt_opts_set_mode(&opts, mode, names)) != AKV_OK) {
        rc = cli_fail_lib(ctx, rc);
        goto out;
    }
    rc = 1;
    if ((s = cli_flag(args, "budget")) &&
        cli_parse_count(ctx, "budget", s, &budget))
        goto out;
    opts.budget = budget;
    int report = cli_has(args, "report");
    const char *ps = cli_flag(args, "price"), *rs = cli_flag(args,
                                                             "runs-per-day");
    if ((ps || rs) && !report) {
        cli_fail(ctx, AKV_EINVAL, "--%s goes with --report",
                 ps ? "price" : "runs-per-day");
        goto out;
    }
    if ((ps != NULL) != (rs != NULL)) {
        cli_fail(ctx, AKV_EINVAL,
                 "--price and --runs-per-day go together (the yearly saving "
                 "needs both)");
        goto out;
    }
    if ((ps && parse_number(ctx, "price", ps, &price)) ||
        (rs && cli_parse_count(ctx, "runs-per-day", rs, &runs)))
        goto out;
    opts.count = report;
    if (expect_flags(ctx, args, &opts))
        goto out;
    if (!report && (opts.runs || opts.fetch_overhead ||
                    cli_flag(args, "cached-input-ratio"))) {
        cli_fail(ctx, AKV_EINVAL, "--runs, --fetch-overhead and "
                                  "--cached-input-ratio go with --report");
        goto out;
    }
    if (limit_flags(ctx, args, &opts, &manifest, &only))
        goto out;
    if (base_file) {
        if (read_all(ctx, base_file, &base, &base_len))
            goto out;
        opts.base = base;
        opts.base_len = base_len;
        opts.base_name = strcmp(base_file, "-") == 0 ? "stdin" : base_file;
    }
    opts.base_key = cli_flag(args, "base-key");
    if (cli_store(ctx, &store))
        goto out;
    int lrc = akv_prompt_build(store, ctx->sandbox, &opts, &prompt);
    if (lrc != AKV_OK) {
        cli_fail_lib(ctx, lrc);
        goto out;
    }
    size_t len;
    const char *text = akv_prompt_text(prompt, &len);
    if (cli_write(ctx, text, len) || cli_flush(ctx))
        goto out;
    const akv_prompt_info *info = akv_prompt_get_info(prompt);
    if (info->shortened || info->left_out)
        fprintf(stderr,
                "agentkv: note: to fit the budget of %llu tokens the catalog "
                "(%llu tokens) shortened %zu description%s and left out %zu "
                "set%s\n",
                (unsigned long long)budget,
                (unsigned long long)info->catalog_tokens, info->shortened,
                info->shortened == 1 ? "" : "s", info->left_out,
                info->left_out == 1 ? "" : "s");
    if (report)
        print_report(ctx, info, ps != NULL, price, runs, manifest != NULL,
                     opts.fetch_overhead ? opts.fetch_overhead
                                         : AKV_FETCH_OVERHEAD,
                     opts.cached_ratio > 0);
    rc = 0;
out:
    akv_prompt_free(prompt);
    akv_manifest_free(manifest);
    free(only);
    free(base);
    free(names);
    return rc;
}

static void split_warn(void *arg, const char *message)
{
    (void)arg;
    fprintf(stderr, "agentkv: warning: %s\n", message);
}

/* One section of a split as --json shows it. */
static json_t *section_json(const akv_split_section *sec)
{
    return json_pack("{s:s?,s:s,s:I,s:I,s:i,s:b,s:b,s:s?}", "name", sec->name,
                     "title", sec->title, "line", (json_int_t)sec->line,
                     "last_line", (json_int_t)sec->last_line, "level",
                     sec->level, "kept", sec->kept, "empty", sec->empty,
                     "description", sec->description);
}

/* --review: the proposed sets with their lines, tokens and descriptions;
 * nothing is written. */
static int print_review(struct cli_ctx *ctx, const akv_split *sp)
{
    const akv_encoding *enc;
    int lrc = akv_encoding_load(NULL, &enc);
    if (lrc != AKV_OK)
        return cli_fail_lib(ctx, lrc);
    size_t core_len, core_tokens = 0, moved = 0, moved_tokens = 0;
    const char *core = akv_split_core(sp, &core_len);
    if ((lrc = akv_tokens_count(enc, core, core_len, &core_tokens)) != AKV_OK)
        return cli_fail_lib(ctx, lrc);
    json_t *list = ctx->json ? json_array() : NULL;
    if (!ctx->json &&
        cli_printf(ctx, "form: %s; nothing is written (--review)\n",
                   akv_split_form_name(akv_split_get_form(sp))))
        return 1;
    for (size_t i = 0; i < akv_split_count(sp); i++) {
        const akv_split_section *sec = akv_split_section_get(sp, i);
        size_t tokens = 0;
        if ((lrc = akv_tokens_count(enc, sec->body, sec->body_len,
                                    &tokens)) != AKV_OK) {
            json_decref(list);
            return cli_fail_lib(ctx, lrc);
        }
        if (!sec->kept) {
            moved++;
            moved_tokens += tokens;
        }
        if (list) {
            json_t *o = section_json(sec);
            json_object_set_new(o, "tokens", json_integer((json_int_t)tokens));
            json_array_append_new(list, o);
        } else if (sec->kept) {
            if (cli_printf(ctx, "kept  lines %u-%u: %s (%zu tokens%s)\n",
                           sec->line, sec->last_line, sec->title, tokens,
                           sec->empty ? ", no content of its own" : ""))
                return 1;
        } else if (cli_printf(ctx,
                              "set   lines %u-%u: %s (%zu tokens) from "
                              "'%s'\n      %s\n",
                              sec->line, sec->last_line, sec->name, tokens,
                              sec->title, sec->description)) {
            return 1;
        }
    }
    if (list)
        return cli_print_json(
            ctx, json_pack("{s:s,s:b,s:I,s:I,s:I,s:o}", "form",
                           akv_split_form_name(akv_split_get_form(sp)),
                           "review", 1, "moved", (json_int_t)moved,
                           "moved_tokens", (json_int_t)moved_tokens,
                           "core_tokens", (json_int_t)core_tokens,
                           "sections", list));
    return cli_printf(ctx,
                      "%zu set%s of %zu tokens would move out; core.md would "
                      "be %zu tokens with its include markers\n",
                      moved, moved == 1 ? "" : "s", moved_tokens,
                      core_tokens);
}

static const char *const advise_headers[] = {"NAME", "TOKENS", "FETCHES",
                                             "RATE", "BREAK-EVEN", "ADVICE"};

/* `prompt advise`: which sets to inline, from the recorded fetch rates. */
static int prompt_advise(struct cli_ctx *ctx, const struct cli_args *args)
{
    static const char *const allowed[] = {
        "manifest", "only", "runs", "fetch-overhead", "cached-input-ratio",
        NULL};
    akv_prompt_opts opts;
    akv_manifest *manifest = NULL;
    akv_advice_item *items = NULL;
    char *only = NULL;
    size_t n = 0;
    uint64_t runs = 0;
    akv_store *store;
    int rc = 1;

    if (only_flags(ctx, args, "advise", allowed))
        return 1;
    if (args->npos > 1)
        return cli_fail(ctx, AKV_EINVAL,
                        "usage: agentkv prompt advise [flags] (no arguments)");
    akv_prompt_opts_init(&opts);
    if (expect_flags(ctx, args, &opts) ||
        limit_flags(ctx, args, &opts, &manifest, &only) ||
        cli_store(ctx, &store))
        goto out;
    int lrc = akv_prompt_advise(store, ctx->sandbox, &opts, &items, &n, &runs);
    if (lrc != AKV_OK) {
        cli_fail_lib(ctx, lrc);
        goto out;
    }
    uint64_t over = opts.fetch_overhead ? opts.fetch_overhead
                                        : AKV_FETCH_OVERHEAD;
    if (ctx->json) {
        json_t *sets = json_array(), *inl = json_array();
        for (size_t i = 0; i < n; i++) {
            const akv_advice_item *a = &items[i];
            json_array_append_new(
                sets, json_pack("{s:s,s:I,s:I,s:i,s:i,s:s}", "name", a->name,
                                "tokens", (json_int_t)a->tokens, "fetches",
                                (json_int_t)a->fetches, "fetch_rate_permille",
                                (int)a->rate_permille, "break_even_permille",
                                (int)a->break_even_permille, "advice",
                                a->inline_advised ? "inline" : "catalog"));
            if (a->inline_advised)
                json_array_append_new(inl, json_string(a->name));
        }
        json_t *o = json_pack("{s:I,s:I,s:o,s:o}", "runs", (json_int_t)runs,
                              "fetch_overhead", (json_int_t)over, "inline",
                              inl, "sets", sets);
        if (o && opts.cached_ratio > 0)
            json_object_set_new(o, "cached_input_ratio",
                                json_real(opts.cached_ratio));
        if (cli_print_json(ctx, o))
            goto out;
        rc = 0;
        goto out;
    }
    struct cli_table t;
    cli_table_init(&t, 6, advise_headers, "lrrrrl");
    int failed = 0;
    size_t ninl = 0;
    for (size_t i = 0; i < n && !failed; i++) {
        const akv_advice_item *a = &items[i];
        char tokens[32], fetches[32], rate[32], even[32];
        snprintf(tokens, sizeof tokens, "%llu", (unsigned long long)a->tokens);
        snprintf(fetches, sizeof fetches, "%llu",
                 (unsigned long long)a->fetches);
        snprintf(rate, sizeof rate, "%u.%u%%", a->rate_permille / 10,
                 a->rate_permille % 10);
        snprintf(even, sizeof even, "%u.%u%%", a->break_even_permille / 10,
                 a->break_even_permille % 10);
        const char *cells[] = {a->name, tokens, fetches, rate, even,
                               a->inline_advised ? "inline" : "catalog"};
        failed = cli_table_row(ctx, &t, cells);
        ninl += a->inline_advised != 0;
    }
    if (!failed)
        failed = cli_table_flush(ctx, &t);
    cli_table_free(&t);
    if (failed)
        goto out;
    if (cli_printf(ctx, "\n%llu runs; a fetch costs the set plus %llu "
                        "tokens; inline a set when its fetch rate reaches "
                        "its break-even rate.\n",
                   (unsigned long long)runs, (unsigned long long)over))
        goto out;
    if (ninl) {
        if (cli_printf(ctx, "build with: --inline "))
            goto out;
        for (size_t i = 0, k = 0; i < n; i++)
            if (items[i].inline_advised &&
                cli_printf(ctx, "%s%s", k++ ? "," : "", items[i].name))
                goto out;
        if (cli_printf(ctx, "\n"))
            goto out;
    } else if (cli_printf(ctx, "no set is fetched often enough to inline "
                               "(reference mode).\n")) {
        goto out;
    }
    rc = 0;
out:
    akv_advice_free(items, n);
    akv_manifest_free(manifest);
    free(only);
    return rc;
}

static int prompt_split(struct cli_ctx *ctx, const struct cli_args *args)
{
    static const char *const allowed[] = {"out", "level", "keep", "by",
                                          "review", NULL};
    akv_split *sp = NULL;
    char *text = NULL, *keep = NULL;
    size_t len;
    uint64_t level = 1;
    int rc = 1;
    const char *s;

    if (only_flags(ctx, args, "split", allowed))
        return 1;
    if (args->npos != 2)
        return cli_fail(ctx, AKV_EINVAL,
                        "usage: agentkv prompt split FILE (--out DIR | "
                        "--review) [--by FORM] [--level N] [--keep "
                        "TITLE|NUMBER|TAG,...]");
    const char *file = args->pos[1], *dir = cli_flag(args, "out");
    int review = cli_has(args, "review");
    if (!review && (dir == NULL || *dir == '\0'))
        return cli_fail(ctx, AKV_EINVAL,
                        "prompt split needs --out DIR (or --review)");
    if ((s = cli_flag(args, "level")) &&
        (cli_parse_count(ctx, "level", s, &level)))
        return 1;
    if (level < 1 || level > 6)
        return cli_fail(ctx, AKV_EINVAL, "--level: headings go from 1 to 6");
    akv_split_opts opts = {.level = (int)level, .warn = split_warn};
    int lrc = AKV_OK;
    if ((s = cli_flag(args, "by")) &&
        (lrc = akv_split_form_parse(s, &opts.by)) != AKV_OK)
        return cli_fail_lib(ctx, lrc);
    keep = joined(ctx, args, "keep");
    if (ctx->failed || read_all(ctx, file, &text, &len))
        goto out;
    opts.keep = keep;
    lrc = akv_prompt_split(text, len, strcmp(file, "-") ? file : "stdin",
                           &opts, &sp);
    if (lrc == AKV_OK && review) {
        rc = print_review(ctx, sp);
        goto out;
    }
    if (lrc == AKV_OK)
        lrc = akv_split_write(sp, dir);
    if (lrc == AKV_OK)
        lrc = akv_split_manifest_write(sp, text, len,
                                       strcmp(file, "-") ? file : "stdin",
                                       dir);
    if (lrc != AKV_OK) {
        cli_fail_lib(ctx, lrc);
        goto out;
    }
    json_t *list = ctx->json ? json_array() : NULL;
    size_t moved = 0;
    for (size_t i = 0; i < akv_split_count(sp); i++) {
        const akv_split_section *sec = akv_split_section_get(sp, i);
        moved += !sec->kept;
        if (list) {
            json_array_append_new(list, section_json(sec));
        } else if (sec->kept) {
            if (cli_printf(ctx, "kept      line %-5u %s%s\n", sec->line,
                           sec->title,
                           sec->empty ? " (no content of its own)" : ""))
                goto out;
        } else if (cli_printf(ctx, "moved     line %-5u %s -> "
                                   "instructions/%s.md\n",
                              sec->line, sec->title, sec->name)) {
            goto out;
        }
    }
    if (list) {
        if (cli_print_json(ctx, json_pack("{s:s,s:s,s:I,s:o}", "out", dir,
                                          "form",
                                          akv_split_form_name(
                                              akv_split_get_form(sp)),
                                          "moved", (json_int_t)moved,
                                          "sections", list)))
            goto out;
    } else if (cli_printf(ctx, "wrote %s/core.md and %zu instruction "
                               "file%s in %s/instructions\n",
                          dir, moved, moved == 1 ? "" : "s", dir)) {
        goto out;
    }
    rc = 0;
out:
    akv_split_free(sp);
    free(text);
    free(keep);
    return rc;
}

/* lint [PATH...]: the descriptions of the sets in PATHs (files or
 * directories), or without PATH of the sets the sandbox sees. Exit 1 when
 * it finds issues. */
static int prompt_lint(struct cli_ctx *ctx, const struct cli_args *args)
{
    static const char *const allowed[] = {NULL};
    akv_lint *lint = NULL;
    const akv_config *cfg;
    int rc = 1, lrc;
    if (only_flags(ctx, args, "lint", allowed))
        return 1;
    if ((lrc = akv_lint_new(&lint)) != AKV_OK)
        return cli_fail_lib(ctx, lrc);
    if (args->npos > 1) {
        if (cli_config(ctx, &cfg))
            goto out;
        for (size_t i = 1; i < args->npos; i++)
            if ((lrc = akv_lint_add_path(lint, args->pos[i],
                                         akv_config_max_value_size(cfg))) !=
                AKV_OK) {
                cli_fail_lib(ctx, lrc);
                goto out;
            }
    } else {
        akv_store *store;
        if (cli_store(ctx, &store))
            goto out;
        if ((lrc = akv_lint_add_store(lint, store, ctx->sandbox)) !=
            AKV_OK) {
            cli_fail_lib(ctx, lrc);
            goto out;
        }
    }
    size_t n = akv_lint_run(lint), sets = akv_lint_sets(lint);
    json_t *list = ctx->json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        const akv_lint_issue *is = akv_lint_issue_get(lint, i);
        if (list)
            json_array_append_new(
                list, json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", is->name,
                                "source", is->source, "code", is->code,
                                "problem", is->problem, "fix", is->fix));
        else if (cli_printf(ctx, "%s%s%s%s: %s: %s. Fix: %s.\n", is->name,
                            *is->source ? " (" : "", is->source,
                            *is->source ? ")" : "", is->code, is->problem,
                            is->fix))
            goto out;
    }
    if (list) {
        if (cli_print_json(ctx, json_pack("{s:I,s:I,s:o}", "sets",
                                          (json_int_t)sets, "issues_found",
                                          (json_int_t)n, "issues", list)))
            goto out;
    } else if (cli_printf(ctx, "%zu set%s checked, %zu issue%s\n", sets,
                          sets == 1 ? "" : "s", n, n == 1 ? "" : "s")) {
        goto out;
    }
    ctx->exit_code = n ? 1 : 0;
    rc = 0;
out:
    akv_lint_free(lint);
    return rc;
}

int cmd_prompt(struct cli_ctx *ctx, const struct cli_args *args)
{
    const char *sub = args->pos[0];
    char shown[CLI_QUOTE_BUF];
    if (strcmp(sub, "build") == 0)
        return prompt_build(ctx, args);
    if (strcmp(sub, "split") == 0)
        return prompt_split(ctx, args);
    if (strcmp(sub, "lint") == 0)
        return prompt_lint(ctx, args);
    if (strcmp(sub, "advise") == 0)
        return prompt_advise(ctx, args);
    return cli_fail(ctx, AKV_EINVAL,
                    "unknown subcommand 'prompt %s': expected build, split, "
                    "lint or advise",
                    cli_quote(sub, shown));
}

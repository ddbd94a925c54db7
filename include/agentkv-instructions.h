/*
 * agentkv-instructions.h — instruction sets: front matter, seeding, the
 * catalog, and building and splitting system prompts (SPEC.md §5 and §6).
 *
 * A separate public header so that embedders who only use the store do not
 * see it, and the store API (agentkv.h) does not grow with it. It follows
 * the conventions of agentkv.h: every function that can fail returns AKV_OK
 * (0) or a negative AKV_E* code with the detail in akv_last_error(), and
 * ownership is stated on every prototype. Token counts come from the
 * tokenizer of agentkv-tokens.h (o200k_base). Link with libagentkv.
 */
#ifndef AGENTKV_INSTRUCTIONS_H
#define AGENTKV_INSTRUCTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "agentkv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Front matter                                                             */
/* ------------------------------------------------------------------------ */

/*
 * The front matter of an instruction file: a small, documented subset of
 * YAML (docs/prompts.md, "Front matter"), not a YAML parser.
 *
 *   ---                       first line of the file, exactly "---"
 *   name: presentation        key: value, one per line
 *   description: "Quoted, with \"escapes\""
 *   # a comment line          (blank lines and full-line comments are skipped)
 *   ---                       closing line, exactly "---"
 *   body…
 *
 * Keys are [A-Za-z0-9_.-]+ followed directly by ':' and then a space, a tab
 * or the end of the line. A value is the rest of the line without the
 * surrounding blanks; if it starts with '"' it must be one double-quoted
 * string (escapes \\ \" \n \t \r and \/), if it starts with '\'' one
 * single-quoted string ('' stands for a quote). Anything else is taken
 * verbatim (no inline comments, no block scalars '|' '>', no nesting).
 * Lines end in LF or CRLF; the delimiter lines may carry trailing blanks.
 * A file that does not start with a "---" line has no front matter: its
 * body is the whole file.
 *
 * Errors (all AKV_EINVAL, the message naming `source` and the line): the
 * text is not UTF-8 (anywhere, body included), the opening "---" is never
 * closed, a line is not `key: value`, a key appears twice, a quoted value is
 * malformed, a value holds a control character.
 */
typedef struct akv_frontmatter akv_frontmatter;

/*
 * Parses text[0..len). source (may be NULL) names the file in messages.
 * @note Owned: *out is the caller's; free with akv_frontmatter_free(). It
 * does not point into text.
 */
AKV_API int akv_frontmatter_parse(const char *text, size_t len,
                                  const char *source, akv_frontmatter **out);
AKV_API void akv_frontmatter_free(akv_frontmatter *fm);

/* 1 when the text had a front matter block (even an empty one). */
AKV_API int akv_frontmatter_present(const akv_frontmatter *fm);
/* Byte offset of the body: just past the closing "---" line's line ending
 * (0 without front matter). */
AKV_API size_t akv_frontmatter_body_offset(const akv_frontmatter *fm);
/* Number of key: value fields, in file order. */
AKV_API size_t akv_frontmatter_count(const akv_frontmatter *fm);
/*
 * Field i: key and value as NUL-terminated strings (quotes removed, escapes
 * decoded), and the 1-based line it was on. Any out pointer may be NULL.
 * @note Borrowed from fm, valid until akv_frontmatter_free().
 * AKV_EINVAL when i is out of range.
 */
AKV_API int akv_frontmatter_field(const akv_frontmatter *fm, size_t i,
                                  const char **key, const char **value,
                                  unsigned *line);
/* The value of key (case-sensitive), or NULL. Borrowed from fm. */
AKV_API const char *akv_frontmatter_get(const akv_frontmatter *fm,
                                        const char *key);

/* ------------------------------------------------------------------------ */
/* Instruction names and the catalog                                        */
/* ------------------------------------------------------------------------ */

#define AKV_INSTRUCTION_NAME_MAX 64

/* AKV_OK when name[0..len) matches [a-z0-9_-]{1,64}; else AKV_EINVAL saying
 * why. Names are rejected, never rewritten. */
AKV_API int akv_instruction_name_check(const char *name, size_t len);
/* AKV_OK when name[0..len) is also an Agent Skills name, 1 to 64 of
 * [a-z0-9] in groups joined by single hyphens ([a-z0-9]+(-[a-z0-9]+)*):
 * the rule for seeded sets and for the sets served as MCP skills. Else
 * AKV_EINVAL saying why (an underscore name is told its hyphenated
 * spelling, never rewritten to it). */
AKV_API int akv_skill_name_check(const char *name, size_t len);

/*
 * One instruction set as the catalog sees it: an entry of scope
 * `instructions` visible to the sandbox (its own, else _global's).
 * Strings are NUL-terminated and borrowed from the list.
 */
typedef struct akv_instruction {
    const char *name;             /* the key */
    const char *origin;           /* sandbox that holds it */
    const char *description;      /* metadata.description, "" when none */
    const char *declared_version; /* metadata.declared_version, or NULL */
    const char *source;           /* metadata.source, or NULL */
    uint64_t version;             /* the store's version of the entry */
    uint64_t size;                /* value bytes */
    uint64_t tokens;              /* o200k_base tokens of the value */
    char sha256[AKV_SHA256_HEX + 1];
} akv_instruction;

typedef struct akv_instructions akv_instructions;

/*
 * Lists the instruction sets visible to sandbox, sorted by name (byte
 * order). tokens comes from the entry's metadata (seed stores it); for an
 * entry without it the value is read and counted, which loads the
 * tokenizer (AKV_EUNAVAILABLE when its data is missing).
 * @note Owned: free with akv_instructions_free().
 */
AKV_API int akv_instructions_list(akv_store *store, const char *sandbox,
                                  akv_instructions **out);
AKV_API size_t akv_instructions_count(const akv_instructions *list);
/* Borrowed from the list; NULL when i is out of range. */
AKV_API const akv_instruction *
akv_instructions_item(const akv_instructions *list, size_t i);
AKV_API void akv_instructions_free(akv_instructions *list);
/*
 * The list as the HTTP catalog route returns it:
 * {"sandbox":…,"items":[{"name","description","version","tokens","sha256",
 * "size","origin","declared_version","source"},…]}
 * @note Owned: a NUL-terminated string to free(); NULL on out-of-memory.
 */
AKV_API char *akv_instructions_to_json(const akv_instructions *list,
                                       const char *sandbox);

/* ------------------------------------------------------------------------ */
/* Seeding                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct akv_seed_opts {
    int force;              /* rewrite every set, changed or not */
    int prune;              /* remove seeded sets whose file is gone */
    akv_progress_fn progress; /* may be NULL; files read of files found */
    void *progress_ctx;
} akv_seed_opts;

typedef enum akv_seed_action {
    AKV_SEED_ADDED = 0,
    AKV_SEED_UPDATED = 1,
    AKV_SEED_UNCHANGED = 2,
    AKV_SEED_REMOVED = 3
} akv_seed_action;
/* "added", "updated", "unchanged", "removed". Static. */
AKV_API const char *akv_seed_action_name(akv_seed_action action);

typedef struct akv_seed_item {
    char name[AKV_KEY_MAX + 1];
    akv_seed_action action;
    uint64_t version; /* after the seed; 0 for removed */
    uint64_t tokens;  /* 0 for removed */
    char source[512]; /* file relative to the directory; "" for removed */
} akv_seed_item;

typedef struct akv_seed_report {
    size_t added, updated, unchanged, removed;
    size_t nitems;       /* items in name order */
    akv_seed_item *items;
    char dir[4096];      /* the directory seeded */
} akv_seed_report;

/*
 * Seeds the instruction files of dir into scope `instructions` of sandbox
 * (SPEC.md §5): DIR/NAME.md and DIR/NAME/SKILL.md (README.md and names that
 * start with '.' are skipped). dir NULL seeds the bundled default sets
 * (akv_seed_default_dir()).
 *
 * Each set is stored under its name (front matter `name`, else the file or
 * folder name; an Agent Skills name, akv_skill_name_check(): an underscore
 * name is refused) with content type text/markdown; the value is the whole
 * file, front matter included, and the metadata
 * {"description","declared_version","source","tokens"} (tokens of the
 * whole value). Every other file below a DIR/NAME/ folder (names starting
 * with '.' skipped) is a supporting file of the skill, stored under key
 * NAME/PATH with the content type of its extension (else text/plain when
 * UTF-8, application/octet-stream otherwise) and metadata {"source"}; they
 * are items of the report too. An entry whose value, content type and
 * metadata equal what is stored in the sandbox's own namespace is left
 * alone; otherwise it is written and its version grows. Seeded supporting
 * files of a set seeded now that its folder no longer holds are removed;
 * with prune, every entry of the sandbox's own namespace that came from a
 * seed (they carry metadata.source) and that this directory no longer
 * produces is removed.
 *
 * Every file is read and validated before anything is written, and all
 * writes happen in one transaction: on any error nothing changes, and the
 * message names the file (and line). Errors: AKV_EINVAL for a missing or
 * empty directory, bad front matter, a bad or duplicate name, a non-UTF-8
 * file; AKV_ETOOLARGE, AKV_EQUOTA as for akv_put; AKV_EUNAVAILABLE when the
 * tokenizer's data is missing.
 *
 * @note Owned: *report (may be NULL) is the caller's; free with
 * akv_seed_report_free().
 */
AKV_API int akv_seed(akv_store *store, const char *sandbox, const char *dir,
                     const akv_seed_opts *opts, akv_seed_report **report);
AKV_API void akv_seed_report_free(akv_seed_report *report);
/* The report as JSON: {"sandbox","dir","added","updated","unchanged",
 * "removed","items":[{"name","action","version","tokens","source"}]}.
 * Owned: free(); NULL on out-of-memory. */
AKV_API char *akv_seed_report_to_json(const akv_seed_report *report,
                                      const char *sandbox);

/*
 * The directory of the bundled default sets: the source tree's
 * instructions/ when the running program lives in the build tree it was
 * built in, else the install's share/agentkv/instructions, else whichever
 * of the two exists. $AGENTKV_INSTRUCTIONS_DIR overrides both.
 * @note Borrowed static string, valid until the process exits.
 * AKV_EUNAVAILABLE when none exists.
 */
#define AKV_INSTRUCTIONS_DIR_ENV "AGENTKV_INSTRUCTIONS_DIR"
AKV_API int akv_seed_default_dir(const char **out);

/* ------------------------------------------------------------------------ */
/* Prompt building                                                          */
/* ------------------------------------------------------------------------ */

typedef enum akv_prompt_mode {
    AKV_PROMPT_REFERENCE = 0, /* the catalog only */
    AKV_PROMPT_HYBRID = 1,    /* named sets inlined, the catalog for the rest */
    AKV_PROMPT_INLINE = 2     /* every set inlined (the baseline) */
} akv_prompt_mode;
/* "reference", "hybrid", "inline" ↔ the enum. */
AKV_API int akv_prompt_mode_parse(const char *s, size_t len,
                                  akv_prompt_mode *out);
AKV_API const char *akv_prompt_mode_name(akv_prompt_mode mode);

typedef struct akv_prompt_opts {
    const char *base;      /* base text (may hold markers), or NULL */
    size_t base_len;
    const char *base_key;  /* or: key of scope `system` holding the base */
    const char *base_name; /* names the base in messages (its file), or NULL */
    akv_prompt_mode mode;
    const char *inline_names; /* hybrid: comma-separated set names, or NULL */
    uint64_t budget;       /* catalog budget in tokens; 0 = no budget */
    int count;             /* 1: count tokens of the result and baseline */
    /* For clients that load MCP skills (the MCP server sets it): returns 1
     * when set name is served as the skill skill://NAME/SKILL.md. The
     * catalog line of such a set names that skill instead of the
     * get_instruction call, and the catalog says how to load both. NULL:
     * every line names get_instruction. Called once per set a build
     * catalogs, with skill_ctx. */
    int (*is_skill)(void *skill_ctx, const char *name);
    void *skill_ctx;

    const char *only;      /* comma-separated set names: the build sees
                              these sets alone (a manifest's); NULL = all */
    uint64_t baseline_tokens; /* with count: the baseline to report (the
                              original prompt's tokens, from a manifest);
                              0 = the inline build of the base */
    /* Expected figures (with count; docs/prompts.md, "Honest savings"): */
    uint64_t runs;           /* runs the fetch counts are over; 0 = the runs
                                recorded (akv_usage_record) */
    uint64_t fetch_overhead; /* tokens a fetch adds besides the set (call
                                and result framing); 0 = AKV_FETCH_OVERHEAD */
    double cached_ratio;     /* price of a cached input token relative to an
                                uncached one, 0..1; 0 = no prompt cache */
    double write_premium;    /* extra price of a cache write (0.25: +25%) */
} akv_prompt_opts;
/* Tokens a get_instruction call and its result add besides the set's own
 * text, per fetch: an estimate (docs/prompts.md). */
#define AKV_FETCH_OVERHEAD 60
/* Reference mode, no base, no budget, no counting. */
AKV_API void akv_prompt_opts_init(akv_prompt_opts *opts);
/*
 * Sets opts->mode and opts->inline_names from what a user gave: mode, a
 * name as akv_prompt_mode_parse() takes (NULL: not given), and the sets to
 * inline (NULL or "": none). Without a mode, naming sets to inline means
 * hybrid, else reference: the one rule for `agentkv prompt build --inline`
 * and GET .../prompt?inline=. AKV_EINVAL for an unknown mode.
 * @note Borrowed: opts keeps inline_names, which must outlive it.
 */
AKV_API int akv_prompt_opts_set_mode(akv_prompt_opts *opts, const char *mode,
                             const char *inline_names);

typedef struct akv_prompt_info {
    akv_prompt_mode mode;
    size_t sets;            /* instruction sets visible */
    size_t inlined;         /* of them inlined */
    size_t cataloged;       /* of them in the catalog */
    size_t shortened;       /* catalog descriptions cut to fit --budget */
    size_t left_out;        /* sets not listed in the catalog to meet the
                               budget (the catalog ends with a note that
                               says how to find them) */
    uint64_t catalog_tokens; /* tokens of the catalog (counted with a
                               budget or opts.count; else 0) */
    int counted;            /* tokens and baseline_tokens are set */
    uint64_t tokens;        /* tokens of the built prompt */
    uint64_t baseline_tokens; /* tokens of the inline build of the base */
    /* With count and runs (given or recorded) > 0: */
    uint64_t runs;             /* runs the rates are over; 0 = no figures */
    uint64_t fetches;          /* fetches of the sets not inlined */
    double expected_tokens;    /* per run: built prompt + Σ rate × (set
                                  tokens + fetch overhead) over the sets not
                                  inlined, rate = min(1, fetches / runs) */
    double expected_cost;      /* per run, in uncached input tokens' price:
                                  the prompt at the cached ratio plus one
                                  cache write spread over the runs, fetched
                                  text uncached (docs/prompts.md) */
    double baseline_cost;      /* the same for the baseline prompt */
} akv_prompt_info;

typedef struct akv_prompt akv_prompt;

/*
 * Builds a system prompt (SPEC.md §6) from the base and the instruction
 * sets visible to sandbox. The base may hold, on lines of their own,
 * `{{agentkv:include NAME}}` (where NAME goes when it is inlined; the line
 * is removed otherwise) and `{{agentkv:catalog}}` (where the catalog goes;
 * at the end when absent). An inlined set replaces its marker line with its
 * body verbatim (the value after its front matter when it opens with one,
 * else the whole value); when the body does not end in a line break, the
 * marker line's own line break follows it. Sets inlined without a marker go where
 * the catalog goes, in name order. The catalog is sorted by name and holds
 * nothing that changes between runs for the same store. A positive budget
 * is always met (catalog tokens <= budget): descriptions are shortened,
 * then sets left out (the last by name first), and the catalog ends with a
 * line that says how many and how to find them (docs/prompts.md).
 *
 * Errors: AKV_EINVAL for a bad mode/option combination, an unknown marker,
 * a set included twice, a second catalog marker; AKV_ENOTFOUND for a marker or an
 * inline name naming no visible set, or a missing base key; store errors.
 *
 * @note Owned: free with akv_prompt_free().
 */
AKV_API int akv_prompt_build(akv_store *store, const char *sandbox,
                             const akv_prompt_opts *opts, akv_prompt **out);
/* Borrowed from the prompt: the text (NUL-terminated; len may be NULL). */
AKV_API const char *akv_prompt_text(const akv_prompt *prompt, size_t *len);
AKV_API const akv_prompt_info *akv_prompt_get_info(const akv_prompt *prompt);
AKV_API void akv_prompt_free(akv_prompt *prompt);

/* ------------------------------------------------------------------------ */
/* Usage: observed fetch rates                                              */
/* ------------------------------------------------------------------------ */

#define AKV_USAGE_KEY "agentkv/usage" /* scope system, the sandbox's own */
#define AKV_USAGE_NAMES_MAX 1024
/*
 * Records one fetch of instruction set name by an agent of sandbox, or,
 * with name NULL, one run (a prompt built for an agent). The counts are an
 * entry of the sandbox's scope system (format: src/lib/usage.c); updates
 * are compare-and-swap, so concurrent ones all count. AKV_EINVAL for a bad
 * name; store errors (AKV_EQUOTA...).
 */
AKV_API int akv_usage_record(akv_store *store, const char *sandbox,
                             const char *name);

/* One set as `prompt advise` sees it. */
typedef struct akv_advice_item {
    char *name;
    uint64_t tokens;
    uint64_t fetches;
    unsigned rate_permille;       /* min(1, fetches / runs), per mille */
    unsigned break_even_permille; /* inline pays above this fetch rate:
                                     ratio × tokens / (tokens + overhead),
                                     ratio = opts.cached_ratio or 1 */
    int inline_advised;           /* rate >= break-even and fetches > 0 */
} akv_advice_item;
/*
 * For each instruction set the sandbox sees (opts->only limits them), its
 * observed fetch rate against the break-even rate at which inlining it
 * costs less than fetching it, by name. *runs receives the runs used
 * (opts->runs, else the recorded ones; 0 leaves every rate 0).
 * @note Owned: free *items with akv_advice_free(*items, *n).
 */
AKV_API int akv_prompt_advise(akv_store *store, const char *sandbox,
                              const akv_prompt_opts *opts,
                              akv_advice_item **items, size_t *n,
                              uint64_t *runs);
AKV_API void akv_advice_free(akv_advice_item *items, size_t n);

/* ------------------------------------------------------------------------ */
/* Prompt splitting                                                         */
/* ------------------------------------------------------------------------ */

/* How a prompt marks its sections (docs/prompts.md, "Splitting prompts"). */
typedef enum akv_split_form {
    AKV_SPLIT_AUTO = 0, /* detect: see akv_prompt_split() */
    AKV_SPLIT_HEADING,  /* Markdown ATX (#) and setext (=== / ---) headings */
    AKV_SPLIT_XML,      /* top-level <TAG>…</TAG> blocks */
    AKV_SPLIT_RULE,     /* title lines under, or between, rule lines */
    AKV_SPLIT_CAPS,     /* ALL-CAPS title lines */
} akv_split_form;

/* "auto", "heading", "xml", "rule", "caps" <-> the enum. parse gives
 * AKV_EINVAL (with a message listing the forms) for anything else. */
AKV_API int akv_split_form_parse(const char *s, akv_split_form *out);
AKV_API const char *akv_split_form_name(akv_split_form form);

typedef struct akv_split_opts {
    int level;        /* cut at headings of level <= level; 0 means 1 */
    const char *keep; /* comma-separated titles, numbers or tags, or NULL */
    akv_split_form by; /* AKV_SPLIT_AUTO (0) detects the form */
    /* Called with one line of text ("SOURCE:LINE: …") for each warning: a
     * code fence left open, a heading-like line inside a fence, an XML tag
     * never closed. NULL: warnings are dropped. Called during
     * akv_prompt_split() only, also when it then fails. */
    void (*warn)(void *arg, const char *message);
    void *warn_arg;
} akv_split_opts;

/* One section of a split: from its first line (a heading, a rule, an
 * opening tag) to the next section, or for XML to its closing tag's line.
 * Strings are NUL-terminated and borrowed from the split. */
typedef struct akv_split_section {
    const char *name;        /* instruction name: a unique slug, or NULL
                                when kept */
    const char *title;       /* heading text, title line, or tag name */
    const char *number;      /* leading number of the title ("1.2"), "" */
    const char *tag;         /* XML form: the tag name; else "" */
    const char *description; /* "Load when …" (NULL when kept) */
    unsigned line;           /* 1-based first line */
    unsigned last_line;      /* 1-based last line */
    int level;
    int kept;                /* stays in core.md (--keep, or no content) */
    int empty;               /* kept because it has no content of its own */
    const char *body;        /* the section's bytes, verbatim */
    size_t body_len;
    const char *file;        /* instruction file text (front matter + body);
                                NULL when kept */
    size_t file_len;
} akv_split_section;

typedef struct akv_split akv_split;

/*
 * Cuts a monolithic prompt into sections of the form opts->by (or the
 * detected one: XML when two or more top-level tag blocks hold more than
 * half of the non-blank lines, else headings or rule titles, whichever
 * finds more sections — not counting headings that are titles under a
 * rule line — headings on a tie, else ALL-CAPS titles). Nothing
 * inside a ``` or ~~~ code fence starts a section. Text before the first
 * section (and, in the XML form, text between blocks) and the kept sections
 * stay in the core; every other section becomes an instruction file and
 * leaves an include marker in the core. A section with no content of its
 * own (a parent heading straight followed by its first child) goes with
 * that child, or stays in the core. Lossless: seeding the files and
 * building the core in inline mode gives text back byte for byte. source
 * (may be NULL) names the input in messages.
 *
 * Errors (AKV_EINVAL, naming source and line): text is not UTF-8; a --keep
 * item matches no section; the text already holds an agentkv marker line
 * where it would stay in the core; no section to cut at; nothing to move.
 * @note Owned: free with akv_split_free().
 */
AKV_API int akv_prompt_split(const char *text, size_t len, const char *source,
                             const akv_split_opts *opts, akv_split **out);
/* The form the split used (the detected one under AKV_SPLIT_AUTO). */
AKV_API akv_split_form akv_split_get_form(const akv_split *split);
/* The core's text. Borrowed from the split. */
AKV_API const char *akv_split_core(const akv_split *split, size_t *len);
/* Sections in file order; those with kept == 0 are the instruction sets
 * the split produces (their names are what a manifest lists). */
AKV_API size_t akv_split_count(const akv_split *split);
/* Borrowed; NULL when i is out of range. */
AKV_API const akv_split_section *akv_split_section_get(const akv_split *split,
                                                       size_t i);
/*
 * Writes DIR/core.md and DIR/instructions/<name>.md (creating DIR and
 * DIR/instructions). Refuses (AKV_EINVAL) when DIR/core.md or any
 * .md file in DIR/instructions already exists, so that a new split never mixes
 * with an old one. AKV_EUNAVAILABLE when a file cannot be written.
 */
AKV_API int akv_split_write(const akv_split *split, const char *dir);
AKV_API void akv_split_free(akv_split *split);
/*
 * Writes DIR/manifest.json: the sets the split made, in the order of their
 * sections, and the original prompt's size, SHA-256 and o200k_base token
 * count (format: src/lib/manifest.c, docs/prompts.md). text and len are
 * the prompt given to akv_prompt_split, source its name. Written
 * atomically; AKV_EUNAVAILABLE when it cannot be (or the tokenizer data is
 * missing).
 */
AKV_API int akv_split_manifest_write(const akv_split *split, const char *text,
                                     size_t len, const char *source,
                                     const char *dir);

#define AKV_MANIFEST_MAX (1u << 20)   /* bytes of a manifest file */
#define AKV_MANIFEST_SETS_MAX 10000
typedef struct akv_manifest akv_manifest;
/*
 * Reads a manifest that akv_split_manifest_write wrote. AKV_ENOTFOUND when
 * path does not exist; AKV_EINVAL (naming the field) for anything that is
 * not a version-1 manifest of 1 to AKV_MANIFEST_SETS_MAX distinct valid
 * names, or a file over AKV_MANIFEST_MAX bytes.
 * @note Owned: free with akv_manifest_free().
 */
AKV_API int akv_manifest_read(const char *path, akv_manifest **out);
AKV_API size_t akv_manifest_count(const akv_manifest *m);
/* Borrowed; NULL when i is out of range. */
AKV_API const char *akv_manifest_set(const akv_manifest *m, size_t i);
/* The names joined with commas, as akv_prompt_opts.only takes them.
 * Borrowed. */
AKV_API const char *akv_manifest_sets_joined(const akv_manifest *m);
/* Tokens (o200k_base) of the original prompt. */
AKV_API uint64_t akv_manifest_tokens(const akv_manifest *m);
/* SHA-256 of the original prompt, 64 lower-case hex digits. Borrowed. */
AKV_API const char *akv_manifest_sha256(const akv_manifest *m);
AKV_API void akv_manifest_free(akv_manifest *m);

/* ------------------------------------------------------------------------ */
/* Description lint                                                         */
/* ------------------------------------------------------------------------ */

/* One weak description: what is wrong and the change that fixes it.
 * Strings are NUL-terminated and borrowed from the lint. */
typedef struct akv_lint_issue {
    const char *name;    /* the instruction set */
    const char *source;  /* its file, or "" for a set read from a store */
    const char *code;    /* missing, too_short, too_long, over_limit,
                            checklist, list, fragment, no_when, duplicate */
    const char *problem; /* what is wrong, one sentence */
    const char *fix;     /* what to change, one sentence */
} akv_lint_issue;

typedef struct akv_lint akv_lint;

/* A new, empty lint. @note Owned: free with akv_lint_free(). */
AKV_API int akv_lint_new(akv_lint **out);
/* Adds one set (description may be NULL or ""). source may be NULL. */
AKV_API int akv_lint_add(akv_lint *lint, const char *name,
                         const char *description, const char *source);
/* Adds the sets of an instruction directory (as `seed` reads it) or of
 * one instruction file. AKV_EINVAL (naming file and line) for a file seed
 * would refuse; AKV_ETOOLARGE for one over max bytes. */
AKV_API int akv_lint_add_path(akv_lint *lint, const char *path,
                              uint64_t max);
/* Adds the instruction sets the sandbox sees. Store errors. */
AKV_API int akv_lint_add_store(akv_lint *lint, akv_store *store,
                               const char *sandbox);
/* Checks every set added so far (again, if called again) and returns the
 * number of issues; the descriptions an agent can act on give none. */
AKV_API size_t akv_lint_run(akv_lint *lint);
AKV_API size_t akv_lint_sets(const akv_lint *lint);
/* Borrowed; NULL when i is out of range. In the order the sets were added,
 * then by check. */
AKV_API const akv_lint_issue *akv_lint_issue_get(const akv_lint *lint,
                                                 size_t i);
AKV_API void akv_lint_free(akv_lint *lint);

#ifdef __cplusplus
}
#endif

#endif /* AGENTKV_INSTRUCTIONS_H */

/*
 * test-memory.c — akv_memory, the backend of Anthropic's memory tool: each
 * command and its result text, the documented errors (missing path,
 * existing destination, old_str absent or repeated, insert_line out of
 * range), hostile paths and inputs that must be refused and change
 * nothing, a quota-exceeded create, atomic directory renames,
 * concurrent str_replace from two threads with no lost update, and an edit
 * landing between a rename's (or delete's) read and its batch, which is
 * never lost.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define SB "sb1"
#define SC AKV_SCOPE_PROJECT

/* Runs one command (JSON text); returns its code and keeps the text in
 * *text (owned by the caller, or NULL). */
static int mem(tu_store *ts, const char *json, char **text)
{
    char *out = NULL;
    int rc = akv_memory(ts->store, SB, SC, json, strlen(json), &out);
    assert_non_null(out);
    if (text)
        *text = out;
    else
        free(out);
    return rc;
}

/* Asserts the command returns rc and its text contains want. */
#define want(ts, json, rc, substr)                                           \
    do {                                                                     \
        char *t_ = NULL;                                                     \
        int r_ = mem((ts), (json), &t_);                                     \
        if (r_ != (rc) || strstr(t_, (substr)) == NULL)                      \
            fail_msg("%s: got %s \"%s\", expected %s with \"%s\"", (json),   \
                     akv_err_name(r_), t_, akv_err_name(rc), (substr));      \
        free(t_);                                                            \
    } while (0)

static void want_value(tu_store *ts, const char *key, const char *val)
{
    akv_value *v;
    assert_ok(akv_get(ts->store, SB, SC, key, strlen(key), &v));
    size_t len;
    const char *d = akv_value_data(v, &len);
    if (len != strlen(val) || memcmp(d, val, len) != 0)
        fail_msg("%s holds \"%.*s\", expected \"%s\"", key, (int)len, d, val);
    akv_value_release(v);
}

static void want_absent(tu_store *ts, const char *key)
{
    akv_value *v = NULL;
    assert_akv(akv_get(ts->store, SB, SC, key, strlen(key), &v),
               AKV_ENOTFOUND);
}

static uint64_t entries(tu_store *ts)
{
    akv_scope_stats st[AKV_SCOPE_COUNT];
    size_t n;
    assert_ok(akv_stats(ts->store, SB, SC, st, &n));
    return st[0].entries;
}

static void create_and_view_file(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/notes.txt\","
         "\"file_text\":\"one\\ntwo\\nthree\\n\"}",
         AKV_OK, "File created successfully at: /memories/notes.txt");
    want_value(&ts, "memories/notes.txt", "one\ntwo\nthree\n");
    want(&ts, "{\"command\":\"view\",\"path\":\"/memories/notes.txt\"}",
         AKV_OK,
         "Here's the content of /memories/notes.txt with line numbers:\n"
         "     1\tone\n     2\ttwo\n     3\tthree\n");
    want(&ts,
         "{\"command\":\"view\",\"path\":\"/memories/notes.txt\","
         "\"view_range\":[2,-1]}",
         AKV_OK, "line numbers:\n     2\ttwo\n     3\tthree\n");
    want(&ts,
         "{\"command\":\"view\",\"path\":\"/memories/notes.txt\","
         "\"view_range\":[2,2]}",
         AKV_OK, "line numbers:\n     2\ttwo\n");
    want(&ts,
         "{\"command\":\"view\",\"path\":\"/memories/notes.txt\","
         "\"view_range\":[3,9]}",
         AKV_EINVAL, "Invalid view_range");
    /* create never overwrites */
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/notes.txt\","
         "\"file_text\":\"x\"}",
         AKV_EPRECONDITION, "Error: File /memories/notes.txt already exists");
    want_value(&ts, "memories/notes.txt", "one\ntwo\nthree\n");
    want(&ts, "{\"command\":\"view\",\"path\":\"/memories/nope.txt\"}",
         AKV_ENOTFOUND, "Error: The path /memories/nope.txt does not exist");
    tu_store_close(&ts);
}

static void view_directory_lists_sizes_two_levels(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    want(&ts, "{\"command\":\"view\",\"path\":\"/memories\"}", AKV_OK,
         "excluding hidden items:\n0B\t/memories\n");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/a.md\","
         "\"file_text\":\"12345\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/p/q.md\","
         "\"file_text\":\"123\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/p/r/deep.md\","
         "\"file_text\":\"1234567\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/.hidden\","
         "\"file_text\":\"secret\"}",
         AKV_OK, "created");
    char *t = NULL;
    assert_ok(mem(&ts, "{\"command\":\"view\",\"path\":\"/memories/\"}", &t));
    assert_string_equal(t,
                        "Here're the files and directories up to 2 levels "
                        "deep in /memories, excluding hidden items:\n"
                        "15B\t/memories\n"
                        "5B\t/memories/a.md\n"
                        "10B\t/memories/p/\n"
                        "3B\t/memories/p/q.md\n"
                        "7B\t/memories/p/r/\n");
    free(t);
    assert_ok(mem(&ts, "{\"command\":\"view\",\"path\":\"/memories/p\"}", &t));
    assert_non_null(strstr(t, "7B\t/memories/p/r/deep.md\n"));
    free(t);
    /* a file cannot be created where a directory is, nor under a file */
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/p\","
         "\"file_text\":\"x\"}",
         AKV_EPRECONDITION, "/memories/p is a directory");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/a.md/x\","
         "\"file_text\":\"x\"}",
         AKV_EPRECONDITION, "/memories/a.md is a file");
    tu_store_close(&ts);
}

static void str_replace_edits_once(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/f\","
         "\"file_text\":\"alpha\\nbeta\\nalpha\\ngamma\\n\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"str_replace\",\"path\":\"/memories/f\","
         "\"old_str\":\"beta\",\"new_str\":\"BETA\"}",
         AKV_OK, "The memory file has been edited.");
    want_value(&ts, "memories/f", "alpha\nBETA\nalpha\ngamma\n");
    want(&ts,
         "{\"command\":\"str_replace\",\"path\":\"/memories/f\","
         "\"old_str\":\"alpha\",\"new_str\":\"x\"}",
         AKV_EPRECONDITION,
         "Multiple occurrences of old_str `alpha` in lines: 1, 3.");
    want(&ts,
         "{\"command\":\"str_replace\",\"path\":\"/memories/f\","
         "\"old_str\":\"delta\",\"new_str\":\"x\"}",
         AKV_EPRECONDITION,
         "No replacement was performed, old_str `delta` did not appear "
         "verbatim in /memories/f.");
    want(&ts,
         "{\"command\":\"str_replace\",\"path\":\"/memories/g\","
         "\"old_str\":\"a\",\"new_str\":\"b\"}",
         AKV_ENOTFOUND, "Error: The path /memories/g does not exist");
    want(&ts,
         "{\"command\":\"str_replace\",\"path\":\"/memories/f\","
         "\"old_str\":\"\",\"new_str\":\"b\"}",
         AKV_EINVAL, "non-empty string \"old_str\"");
    want_value(&ts, "memories/f", "alpha\nBETA\nalpha\ngamma\n");
    /* the entry's content type and metadata survive an edit */
    akv_put_opts o;
    akv_put_opts_init(&o);
    o.content_type = "text/markdown";
    o.metadata = "{\"k\":1}";
    o.metadata_len = 7;
    assert_ok(akv_put(ts.store, SB, SC, "memories/m", 10, "a b", 3, &o, NULL,
                      NULL));
    want(&ts,
         "{\"command\":\"str_replace\",\"path\":\"/memories/m\","
         "\"old_str\":\"b\",\"new_str\":\"c\"}",
         AKV_OK, "edited");
    akv_value *v;
    assert_ok(akv_get(ts.store, SB, SC, "memories/m", 10, &v));
    assert_string_equal(akv_value_meta(v)->content_type, "text/markdown");
    assert_int_equal(akv_value_meta(v)->metadata_len, 7);
    assert_int_equal(akv_value_meta(v)->version, 2);
    akv_value_release(v);
    tu_store_close(&ts);
}

static void insert_at_lines(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/f\","
         "\"file_text\":\"a\\nb\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"insert\",\"path\":\"/memories/f\","
         "\"insert_line\":0,\"insert_text\":\"top\"}",
         AKV_OK, "The file /memories/f has been edited.");
    want_value(&ts, "memories/f", "top\na\nb");
    want(&ts,
         "{\"command\":\"insert\",\"path\":\"/memories/f\","
         "\"insert_line\":2,\"insert_text\":\"mid\\n\"}",
         AKV_OK, "edited");
    want_value(&ts, "memories/f", "top\na\nmid\nb");
    want(&ts,
         "{\"command\":\"insert\",\"path\":\"/memories/f\","
         "\"insert_line\":4,\"insert_text\":\"end\"}",
         AKV_OK, "edited");
    want_value(&ts, "memories/f", "top\na\nmid\nb\nend");
    want(&ts,
         "{\"command\":\"insert\",\"path\":\"/memories/f\","
         "\"insert_line\":6,\"insert_text\":\"x\"}",
         AKV_EINVAL,
         "Invalid `insert_line` parameter: 6. It should be within the "
         "range of lines of the file: [0, 5]");
    want(&ts,
         "{\"command\":\"insert\",\"path\":\"/memories/f\","
         "\"insert_line\":-1,\"insert_text\":\"x\"}",
         AKV_EINVAL, "Invalid `insert_line`");
    want_value(&ts, "memories/f", "top\na\nmid\nb\nend");
    tu_store_close(&ts);
}

static void delete_files_and_directories(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/d/1\","
         "\"file_text\":\"1\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/d/e/2\","
         "\"file_text\":\"2\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/d2\","
         "\"file_text\":\"3\"}",
         AKV_OK, "created");
    want(&ts, "{\"command\":\"delete\",\"path\":\"/memories/d/1\"}", AKV_OK,
         "Successfully deleted /memories/d/1");
    want_absent(&ts, "memories/d/1");
    want(&ts, "{\"command\":\"delete\",\"path\":\"/memories/d\"}", AKV_OK,
         "Successfully deleted /memories/d");
    want_absent(&ts, "memories/d/e/2");
    want_value(&ts, "memories/d2", "3"); /* "d" is no prefix of "d2/" */
    want(&ts, "{\"command\":\"delete\",\"path\":\"/memories/d\"}",
         AKV_ENOTFOUND, "Error: The path /memories/d does not exist");
    want(&ts, "{\"command\":\"delete\",\"path\":\"/memories\"}", AKV_EINVAL,
         "cannot be deleted");
    assert_int_equal(entries(&ts), 1);
    tu_store_close(&ts);
}

static void rename_files_and_directories(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/a\","
         "\"file_text\":\"A\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/b\","
         "\"file_text\":\"B\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"rename\",\"old_path\":\"/memories/a\","
         "\"new_path\":\"/memories/b\"}",
         AKV_EPRECONDITION, "Error: The destination /memories/b already "
                            "exists");
    want_value(&ts, "memories/a", "A");
    want(&ts,
         "{\"command\":\"rename\",\"old_path\":\"/memories/a\","
         "\"new_path\":\"/memories/dir/a2\"}",
         AKV_OK, "Successfully renamed /memories/a to /memories/dir/a2");
    want_absent(&ts, "memories/a");
    want_value(&ts, "memories/dir/a2", "A");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/dir/sub/c\","
         "\"file_text\":\"C\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"rename\",\"old_path\":\"/memories/dir\","
         "\"new_path\":\"/memories/moved\"}",
         AKV_OK, "Successfully renamed");
    want_value(&ts, "memories/moved/a2", "A");
    want_value(&ts, "memories/moved/sub/c", "C");
    want_absent(&ts, "memories/dir/a2");
    want(&ts,
         "{\"command\":\"rename\",\"old_path\":\"/memories/moved\","
         "\"new_path\":\"/memories/moved/inner\"}",
         AKV_EINVAL, "into itself");
    want(&ts,
         "{\"command\":\"rename\",\"old_path\":\"/memories/none\","
         "\"new_path\":\"/memories/z\"}",
         AKV_ENOTFOUND, "Error: The path /memories/none does not exist");
    assert_int_equal(entries(&ts), 3);
    tu_store_close(&ts);
}

/* Every one of these is refused with invalid_argument and writes nothing. */
static void hostile_paths_are_refused(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    static const char *paths[] = {
        "/memories/../etc/passwd", "/memories/a/../../b", "/etc/passwd",
        "/memoriesX/a", "memories/a", "/memories//a", "/memories/./a",
        "/memories/a/..", "/memories/a\\u0001b", "/memories/a\\nb",
        "/memories/a\\u007fb", "", "/", "../memories/a", "/Memories/a",
        "/memories/a\\u0000b",
    };
    char json[4096];
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        snprintf(json, sizeof json,
                 "{\"command\":\"create\",\"path\":\"%s\",\"file_text\":"
                 "\"x\"}",
                 paths[i]);
        want(&ts, json, AKV_EINVAL, "Error:");
        snprintf(json, sizeof json,
                 "{\"command\":\"rename\",\"old_path\":\"/memories/ok\","
                 "\"new_path\":\"%s\"}",
                 paths[i]);
        want(&ts, json, AKV_EINVAL, "Error:");
        snprintf(json, sizeof json,
                 "{\"command\":\"view\",\"path\":\"%s\"}", paths[i]);
        char *t = NULL;
        int rc = mem(&ts, json, &t);
        assert_int_equal(rc, AKV_EINVAL);
        /* the path is shown escaped, never with raw control characters */
        for (const char *c = t; *c; c++)
            assert_true((unsigned char)*c >= 0x20 || *c == '\n');
        free(t);
    }
    /* A path too long for a key. */
    char longp[1200];
    snprintf(longp, sizeof longp, "/memories/");
    memset(longp + 10, 'a', 1000);
    longp[1010] = '\0';
    snprintf(json, sizeof json,
             "{\"command\":\"create\",\"path\":\"%s\",\"file_text\":\"x\"}",
             longp);
    want(&ts, json, AKV_EINVAL, "too long");
    /* Not a command. */
    want(&ts, "not json", AKV_EINVAL, "must be a JSON object");
    want(&ts, "[1]", AKV_EINVAL, "must be a JSON object");
    want(&ts, "{\"command\":\"format\",\"path\":\"/memories\"}", AKV_EINVAL,
         "unknown command");
    want(&ts, "{\"command\":\"create\",\"path\":7,\"file_text\":\"x\"}",
         AKV_EINVAL, "needs a string \"path\"");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/a\","
         "\"file_text\":\"a\\u0000b\"}",
         AKV_EINVAL, "must be a JSON object");
    assert_int_equal(entries(&ts), 0);
    tu_store_close(&ts);
}

static void huge_inputs_are_refused(void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "store", "max_value_size", "1KiB"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    akv_config_free(cfg);
    /* A file over max_value_size. */
    size_t n = 2000;
    char *json = malloc(n + 200);
    assert_non_null(json);
    int k = snprintf(json, 200,
                     "{\"command\":\"create\",\"path\":\"/memories/big\","
                     "\"file_text\":\"");
    memset(json + k, 'x', n);
    strcpy(json + k + n, "\"}");
    want(&ts, json, AKV_ETOOLARGE, "Error: Cannot write /memories/big");
    free(json);
    /* A command far over the limit is refused before it is parsed. */
    n = 200 * 1024;
    json = malloc(n + 1);
    assert_non_null(json);
    memset(json, ' ', n);
    json[n] = '\0';
    want(&ts, json, AKV_ETOOLARGE, "over the limit");
    free(json);
    /* An edit that would grow the file over the limit changes nothing. */
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/s\","
         "\"file_text\":\"seed\"}",
         AKV_OK, "created");
    n = 1500;
    json = malloc(n + 200);
    assert_non_null(json);
    k = snprintf(json, 200,
                 "{\"command\":\"str_replace\",\"path\":\"/memories/s\","
                 "\"old_str\":\"seed\",\"new_str\":\"");
    memset(json + k, 'y', n);
    strcpy(json + k + n, "\"}");
    want(&ts, json, AKV_ETOOLARGE, "Cannot write");
    free(json);
    want_value(&ts, "memories/s", "seed");
    tu_store_close(&ts);
}

static void create_over_quota_is_quota_exceeded(void **state)
{
    (void)state;
    akv_config *cfg;
    assert_ok(akv_config_new(&cfg));
    assert_ok(akv_config_set(cfg, "scope.project", "quota", "1KiB"));
    tu_store ts;
    tu_store_open(&ts, cfg);
    akv_config_free(cfg);
    char json[1400];
    int k = snprintf(json, 200,
                     "{\"command\":\"create\",\"path\":\"/memories/q\","
                     "\"file_text\":\"");
    memset(json + k, 'q', 1100);
    strcpy(json + k + 1100, "\"}");
    want(&ts, json, AKV_EQUOTA, "quota would be exceeded");
    assert_int_equal(akv_last_error()->has_quota, 1);
    assert_int_equal(akv_last_error()->quota, 1024);
    assert_int_equal(entries(&ts), 0);
    tu_store_close(&ts);
}

static void agent_read_only_scopes_are_forbidden(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    char *out = NULL;
    const char *j = "{\"command\":\"view\",\"path\":\"/memories\"}";
    assert_akv(akv_memory(ts.store, SB, AKV_SCOPE_SYSTEM, j, strlen(j), &out),
               AKV_EFORBIDDEN);
    free(out);
    out = NULL;
    assert_akv(akv_memory(ts.store, "bad sandbox!", SC, j, strlen(j), &out),
               AKV_EINVAL);
    free(out);
    tu_store_close(&ts);
}

/* Two threads each bump their own counter line of one file with
 * str_replace. Each replace names the value it read last, so a lost
 * update would make a later replace miss; with compare-and-swap both end
 * at ROUNDS. A replace that reports "kept changing" changed nothing and is
 * simply retried, as a caller would. */
#define ROUNDS 60
struct bumper {
    tu_store *ts;
    char name;
    int failures;
};

static void *bump(void *arg)
{
    struct bumper *b = arg;
    for (int i = 0; i < ROUNDS;) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"command\":\"str_replace\",\"path\":\"/memories/c\","
                 "\"old_str\":\"%c=%d;\",\"new_str\":\"%c=%d;\"}",
                 b->name, i, b->name, i + 1);
        char *out = NULL;
        int rc = akv_memory(b->ts->store, SB, SC, json, strlen(json), &out);
        int retry = rc == AKV_EPRECONDITION && out &&
                    strstr(out, "kept changing") != NULL;
        free(out);
        if (rc == AKV_OK)
            i++;
        else if (!retry) {
            b->failures++;
            break;
        }
    }
    return NULL;
}

static void concurrent_str_replace_loses_nothing(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/c\","
         "\"file_text\":\"a=0;\\nb=0;\\n\"}",
         AKV_OK, "created");
    struct bumper a = {&ts, 'a', 0}, b = {&ts, 'b', 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, bump, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, bump, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.failures, 0);
    assert_int_equal(b.failures, 0);
    char want_text[64];
    snprintf(want_text, sizeof want_text, "a=%d;\nb=%d;\n", ROUNDS, ROUNDS);
    want_value(&ts, "memories/c", want_text);
    tu_store_close(&ts);
}

/* The memory tool's move hook (internal.h): the first `left` calls run
 * `edit` (a memory command) — an edit landing between a rename's or a
 * delete's read and its batch, every time, with no threads or timing. */
struct race {
    tu_store *ts;
    const char *edit;
    int left;
    int calls;
};

static void race_edit(void *ctx)
{
    struct race *r = ctx;
    r->calls++;
    if (r->left-- > 0)
        assert_ok(mem(r->ts, r->edit, NULL));
}

static void race_on(struct race *r)
{
    akv_memory_move_hook = race_edit;
    akv_memory_move_hook_ctx = r;
}

static void race_off(void)
{
    akv_memory_move_hook = NULL;
    akv_memory_move_hook_ctx = NULL;
}

static void rename_keeps_an_edit_made_before_its_batch(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/a\","
         "\"file_text\":\"v1\"}",
         AKV_OK, "created");
    struct race r = {.ts = &ts, .left = 1,
                     .edit = "{\"command\":\"str_replace\",\"path\":"
                             "\"/memories/a\",\"old_str\":\"v1\","
                             "\"new_str\":\"v2\"}"};
    race_on(&r);
    want(&ts,
         "{\"command\":\"rename\",\"old_path\":\"/memories/a\","
         "\"new_path\":\"/memories/b\"}",
         AKV_OK, "Successfully renamed /memories/a to /memories/b");
    race_off();
    want_value(&ts, "memories/b", "v2"); /* not v1: the edit is kept */
    want_absent(&ts, "memories/a");
    assert_int_equal(r.calls, 2); /* the batch failed once, then redone */

    /* A directory: the edit of one file under it. */
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/d/x\","
         "\"file_text\":\"x1\"}",
         AKV_OK, "created");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/d/y\","
         "\"file_text\":\"y1\"}",
         AKV_OK, "created");
    r = (struct race){.ts = &ts, .left = 1,
                      .edit = "{\"command\":\"insert\",\"path\":"
                              "\"/memories/d/y\",\"insert_line\":1,"
                              "\"insert_text\":\"y2\"}"};
    race_on(&r);
    want(&ts,
         "{\"command\":\"rename\",\"old_path\":\"/memories/d\","
         "\"new_path\":\"/memories/e\"}",
         AKV_OK, "Successfully renamed");
    race_off();
    want_value(&ts, "memories/e/x", "x1");
    want_value(&ts, "memories/e/y", "y1\ny2");
    want_absent(&ts, "memories/d/y");

    /* A source that changes before every batch: reported, nothing moved. */
    r = (struct race){.ts = &ts, .left = 1000,
                      .edit = "{\"command\":\"insert\",\"path\":"
                              "\"/memories/b\",\"insert_line\":0,"
                              "\"insert_text\":\"z\"}"};
    race_on(&r);
    want(&ts,
         "{\"command\":\"rename\",\"old_path\":\"/memories/b\","
         "\"new_path\":\"/memories/c\"}",
         AKV_EPRECONDITION, "kept changing during the rename");
    race_off();
    want_absent(&ts, "memories/c");
    assert_int_equal(r.calls, 8);
    tu_store_close(&ts);
}

static void delete_deletes_what_it_read(void **state)
{
    (void)state;
    tu_store ts;
    tu_store_open(&ts, NULL);
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/d/x\","
         "\"file_text\":\"x1\"}",
         AKV_OK, "created");
    struct race r = {.ts = &ts, .left = 1,
                     .edit = "{\"command\":\"str_replace\",\"path\":"
                             "\"/memories/d/x\",\"old_str\":\"x1\","
                             "\"new_str\":\"x2\"}"};
    race_on(&r);
    want(&ts, "{\"command\":\"delete\",\"path\":\"/memories/d\"}",
         AKV_OK, "Successfully deleted /memories/d");
    race_off();
    /* The delete saw x1, x2 was written meanwhile: it read again and
     * deleted x2, knowingly. */
    assert_int_equal(r.calls, 2);
    want_absent(&ts, "memories/d/x");
    want(&ts,
         "{\"command\":\"create\",\"path\":\"/memories/f\","
         "\"file_text\":\"f\"}",
         AKV_OK, "created");
    r = (struct race){.ts = &ts, .left = 1000,
                      .edit = "{\"command\":\"insert\",\"path\":"
                              "\"/memories/f\",\"insert_line\":0,"
                              "\"insert_text\":\"z\"}"};
    race_on(&r);
    want(&ts, "{\"command\":\"delete\",\"path\":\"/memories/f\"}",
         AKV_EPRECONDITION, "kept changing during the delete");
    race_off();
    assert_int_equal(entries(&ts), 1);
    tu_store_close(&ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_and_view_file),
        cmocka_unit_test(view_directory_lists_sizes_two_levels),
        cmocka_unit_test(str_replace_edits_once),
        cmocka_unit_test(insert_at_lines),
        cmocka_unit_test(delete_files_and_directories),
        cmocka_unit_test(rename_files_and_directories),
        cmocka_unit_test(hostile_paths_are_refused),
        cmocka_unit_test(huge_inputs_are_refused),
        cmocka_unit_test(create_over_quota_is_quota_exceeded),
        cmocka_unit_test(agent_read_only_scopes_are_forbidden),
        cmocka_unit_test(concurrent_str_replace_loses_nothing),
        cmocka_unit_test(rename_keeps_an_edit_made_before_its_batch),
        cmocka_unit_test(delete_deletes_what_it_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

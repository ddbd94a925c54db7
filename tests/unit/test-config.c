/*
 * test-config.c — akv_config: the defaults of SPEC.md §1's scope table,
 * overrides from an INI file and from akv_config_set(), and what happens
 * with a bad file: a bad line is AKV_EINVAL naming file and line and leaves
 * the configuration exactly as it was; a file that cannot be read is
 * AKV_EUNAVAILABLE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define HOUR 3600

/* SPEC.md §1: scope, default TTL (seconds, 0 = never), default quota. */
static const struct {
    akv_scope scope;
    int64_t ttl;
    uint64_t quota;
} defaults[] = {
    {AKV_SCOPE_SYSTEM, 0, 10 * MiB},
    {AKV_SCOPE_INSTRUCTIONS, 0, 5 * MiB},
    {AKV_SCOPE_PROJECT, 72 * HOUR, 20 * MiB},
    {AKV_SCOPE_TASK, 24 * HOUR, 100 * MiB},
    {AKV_SCOPE_ARTIFACTS, 48 * HOUR, 200 * MiB},
};

struct fixture {
    akv_config *cfg;
    char *dir;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL || akv_config_new(&f->cfg) != AKV_OK)
        return -1;
    f->dir = tu_tempdir();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    akv_config_free(f->cfg);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Writes text to DIR/name; returns the path (owned). */
static char *write_file(const struct fixture *f, const char *name,
                        const char *text)
{
    char *path;
    if (asprintf(&path, "%s/%s", f->dir, name) < 0)
        fail_msg("out of memory");
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    return path;
}

/* Asserts that cfg holds exactly the SPEC.md defaults. */
static void assert_defaults(const akv_config *cfg)
{
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        akv_scope s = defaults[i].scope;
        if (akv_config_scope_ttl(cfg, s) != defaults[i].ttl)
            fail_msg("%s: ttl %lld, expected %lld", akv_scope_name(s),
                     (long long)akv_config_scope_ttl(cfg, s),
                     (long long)defaults[i].ttl);
        if (akv_config_scope_quota(cfg, s) != defaults[i].quota)
            fail_msg("%s: quota %llu, expected %llu", akv_scope_name(s),
                     (unsigned long long)akv_config_scope_quota(cfg, s),
                     (unsigned long long)defaults[i].quota);
        assert_int_equal(akv_config_scope_refresh(cfg, s), 0);
    }
    assert_int_equal(akv_config_max_value_size(cfg), 50 * MiB);
    assert_int_equal(akv_config_map_size(cfg), 8 * GiB);
    assert_int_equal(akv_config_max_connections(cfg), 0); /* auto */
    assert_int_equal(akv_config_header_timeout(cfg), 10);
    assert_int_equal(akv_config_upload_budget(cfg), 256 * MiB);
    assert_int_equal(akv_config_mcp_sessions(cfg), 4096);
    assert_int_equal(akv_config_mcp_sessions_per_token(cfg), 64);
    assert_string_equal(akv_config_listen(cfg), "127.0.0.1:8420");
    assert_int_equal(akv_config_threads(cfg), 0); /* auto */
    assert_int_equal(akv_config_write_log(cfg), -1); /* auto */
}

static void test_defaults(void **state)
{
    struct fixture *f = *state;
    assert_defaults(f->cfg);
}

static void test_items_table(void **state)
{
    struct fixture *f = *state;
    size_t n = 0;
    const akv_config_item *items = akv_config_items(&n);
    assert_non_null(items);
    /* store: 4 settings; each of the 5 scopes: ttl, quota, refresh;
     * server: 7. */
    assert_int_equal(n, 4 + 5 * 3 + 7);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(items[i].section);
        assert_non_null(items[i].name);
        assert_non_null(items[i].default_value);
        assert_non_null(items[i].help);
        assert_true(strlen(items[i].help) > 0);
        /* Every documented default is accepted as it is written. */
        int rc = akv_config_set(f->cfg, items[i].section, items[i].name,
                                items[i].default_value);
        if (rc != AKV_OK)
            fail_msg("[%s] %s = %s: %s", items[i].section, items[i].name,
                     items[i].default_value, akv_last_error()->message);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(items[i].section, items[j].section) &&
                !strcmp(items[i].name, items[j].name))
                fail_msg("[%s] %s listed twice", items[i].section,
                         items[i].name);
    }
    /* Setting every default again changes nothing. */
    assert_defaults(f->cfg);
}

static void test_set(void **state)
{
    struct fixture *f = *state;
    assert_ok(akv_config_set(f->cfg, "scope.task", "ttl", "2h"));
    assert_int_equal(akv_config_scope_ttl(f->cfg, AKV_SCOPE_TASK), 2 * HOUR);
    assert_ok(akv_config_set(f->cfg, "scope.task", "ttl", "never"));
    assert_int_equal(akv_config_scope_ttl(f->cfg, AKV_SCOPE_TASK), 0);
    assert_ok(akv_config_set(f->cfg, "scope.system", "quota", "1GiB"));
    assert_int_equal(akv_config_scope_quota(f->cfg, AKV_SCOPE_SYSTEM), GiB);
    assert_ok(akv_config_set(f->cfg, "scope.project", "refresh_on_read",
                             "true"));
    assert_int_equal(akv_config_scope_refresh(f->cfg, AKV_SCOPE_PROJECT), 1);
    assert_ok(akv_config_set(f->cfg, "scope.project", "refresh_on_read",
                             "false"));
    assert_int_equal(akv_config_scope_refresh(f->cfg, AKV_SCOPE_PROJECT), 0);
    assert_ok(akv_config_set(f->cfg, "store", "max_value_size", "1MiB"));
    assert_int_equal(akv_config_max_value_size(f->cfg), MiB);
    assert_ok(akv_config_set(f->cfg, "store", "map_size", "16MiB"));
    assert_int_equal(akv_config_map_size(f->cfg), 16 * MiB);
    assert_ok(akv_config_set(f->cfg, "store", "write_log", "off"));
    assert_int_equal(akv_config_write_log(f->cfg), 0);
    assert_ok(akv_config_set(f->cfg, "store", "write_log", "true"));
    assert_int_equal(akv_config_write_log(f->cfg), 1);
    assert_ok(akv_config_set(f->cfg, "store", "write_log", "auto"));
    assert_int_equal(akv_config_write_log(f->cfg), -1);
    assert_ok(akv_config_set(f->cfg, "store", "write_log_size", "4KiB"));
    assert_ok(akv_config_set(f->cfg, "store", "write_log_size", "1GiB"));
    /* Other scopes are untouched. */
    assert_int_equal(akv_config_scope_ttl(f->cfg, AKV_SCOPE_ARTIFACTS),
                     48 * HOUR);
    assert_int_equal(akv_config_scope_quota(f->cfg, AKV_SCOPE_TASK),
                     100 * MiB);
}

static void expect_set_fails(akv_config *cfg, const char *section,
                             const char *name, const char *value)
{
    int rc = akv_config_set(cfg, section, name, value);
    if (rc != AKV_EINVAL)
        fail_msg("[%s] %s = %s: got %s, expected invalid_argument",
                 section ? section : "(null)", name ? name : "(null)",
                 value ? value : "(null)", akv_err_name(rc));
    assert_true(strlen(akv_last_error()->message) > 0);
}

static void test_set_invalid(void **state)
{
    struct fixture *f = *state;
    expect_set_fails(f->cfg, "scope.task", "ttl", "1.5h");
    expect_set_fails(f->cfg, "scope.task", "ttl", "-1");
    expect_set_fails(f->cfg, "scope.task", "ttl", "");
    expect_set_fails(f->cfg, "scope.task", "quota", "lots");
    expect_set_fails(f->cfg, "scope.task", "refresh_on_read", "maybe");
    expect_set_fails(f->cfg, "scope.task", "refresh_on_read", "auto");
    expect_set_fails(f->cfg, "store", "write_log", "maybe");
    expect_set_fails(f->cfg, "store", "write_log", "Auto");
    expect_set_fails(f->cfg, "scope.task", "colour", "blue");
    expect_set_fails(f->cfg, "scope.Task", "ttl", "1h");
    expect_set_fails(f->cfg, "scope.", "ttl", "1h");
    expect_set_fails(f->cfg, "scope", "ttl", "1h");
    expect_set_fails(f->cfg, "server", "port", "8420");
    expect_set_fails(f->cfg, "", "ttl", "1h");
    expect_set_fails(f->cfg, "store", "max_value_size", "0");
    expect_set_fails(f->cfg, "store", "max_value_size", "2GiB");
    expect_set_fails(f->cfg, "store", "map_size", "1MiB");
    expect_set_fails(f->cfg, "store", "write_log_size", "4095");
    expect_set_fails(f->cfg, "store", "write_log_size", "2GiB");
    expect_set_fails(f->cfg, "store", "write_log_size", "-1");
    expect_set_fails(f->cfg, "store", "ttl", "1h");
    expect_set_fails(f->cfg, NULL, "ttl", "1h");
    expect_set_fails(f->cfg, "scope.task", NULL, "1h");
    expect_set_fails(f->cfg, "scope.task", "ttl", NULL);
    /* None of the failures changed anything. */
    assert_defaults(f->cfg);
}

/* [server] listen and threads: what `serve` uses without --listen and
 * --threads. A bad value is refused and leaves the old one. */
static void test_server_listen_threads(void **state)
{
    struct fixture *f = *state;
    assert_ok(akv_config_set(f->cfg, "server", "listen", "0.0.0.0:9000"));
    assert_string_equal(akv_config_listen(f->cfg), "0.0.0.0:9000");
    assert_ok(akv_config_set(f->cfg, "server", "listen", "[::1]:0"));
    assert_string_equal(akv_config_listen(f->cfg), "[::1]:0");
    assert_ok(akv_config_set(f->cfg, "server", "threads", "4"));
    assert_int_equal(akv_config_threads(f->cfg), 4);
    assert_ok(akv_config_set(f->cfg, "server", "threads", "auto"));
    assert_int_equal(akv_config_threads(f->cfg), 0);
    const char *bad_listen[] = {"", "8420", ":8420", "localhost:",
                                "localhost:84x0", "localhost:-1"};
    for (size_t i = 0; i < sizeof bad_listen / sizeof bad_listen[0]; i++)
        expect_set_fails(f->cfg, "server", "listen", bad_listen[i]);
    char longer[300];
    memset(longer, 'a', sizeof longer);
    memcpy(longer + sizeof longer - 4, ":80", 4);
    expect_set_fails(f->cfg, "server", "listen", longer);
    expect_set_fails(f->cfg, "server", "threads", "0");
    expect_set_fails(f->cfg, "server", "threads", "257");
    expect_set_fails(f->cfg, "server", "threads", "many");
    assert_string_equal(akv_config_listen(f->cfg), "[::1]:0");
    assert_int_equal(akv_config_threads(f->cfg), 0);
}

static void test_load_overrides(void **state)
{
    struct fixture *f = *state;
    char *path = write_file(f, "agentkv.ini",
                            "; agentkv settings\n"
                            "[store]\n"
                            "max_value_size = 1MiB\n"
                            "map_size = 1GiB\n"
                            "\n"
                            "# another comment style\n"
                            "[scope.task]\n"
                            "ttl = 2h\n"
                            "quota = 1GiB\n"
                            "refresh_on_read = true\n"
                            "[scope.instructions]\n"
                            "ttl=7d\n");
    assert_ok(akv_config_load(f->cfg, path));
    assert_int_equal(akv_config_max_value_size(f->cfg), MiB);
    assert_int_equal(akv_config_map_size(f->cfg), GiB);
    assert_int_equal(akv_config_scope_ttl(f->cfg, AKV_SCOPE_TASK), 2 * HOUR);
    assert_int_equal(akv_config_scope_quota(f->cfg, AKV_SCOPE_TASK), GiB);
    assert_int_equal(akv_config_scope_refresh(f->cfg, AKV_SCOPE_TASK), 1);
    assert_int_equal(akv_config_scope_ttl(f->cfg, AKV_SCOPE_INSTRUCTIONS),
                     7 * 86400);
    /* What the file does not mention keeps its default. */
    assert_int_equal(akv_config_scope_ttl(f->cfg, AKV_SCOPE_PROJECT),
                     72 * HOUR);
    assert_int_equal(akv_config_scope_quota(f->cfg, AKV_SCOPE_ARTIFACTS),
                     200 * MiB);
    assert_int_equal(akv_config_scope_refresh(f->cfg, AKV_SCOPE_SYSTEM), 0);
    free(path);
}

static void test_load_over_previous_values(void **state)
{
    struct fixture *f = *state;
    assert_ok(akv_config_set(f->cfg, "scope.project", "ttl", "1h"));
    char *path = write_file(f, "a.ini", "[scope.task]\nttl = 5m\n");
    assert_ok(akv_config_load(f->cfg, path));
    assert_int_equal(akv_config_scope_ttl(f->cfg, AKV_SCOPE_TASK), 300);
    assert_int_equal(akv_config_scope_ttl(f->cfg, AKV_SCOPE_PROJECT), HOUR);
    free(path);
}

static void test_load_empty_file(void **state)
{
    struct fixture *f = *state;
    char *path = write_file(f, "empty.ini", "");
    assert_ok(akv_config_load(f->cfg, path));
    assert_defaults(f->cfg);
    free(path);
}

/* Loads text; expects AKV_EINVAL naming "<path>:<line>:" and the defaults
 * still in place (even settings on lines before the bad one). */
static void expect_bad_ini(struct fixture *f, const char *text, int line)
{
    char *path = write_file(f, "bad.ini", text);
    char where[4200];
    snprintf(where, sizeof where, "%s:%d:", path, line);
    int rc = akv_config_load(f->cfg, path);
    if (rc != AKV_EINVAL)
        fail_msg("bad INI (line %d): got %s, expected invalid_argument", line,
                 akv_err_name(rc));
    const char *msg = akv_last_error()->message;
    if (strstr(msg, where) == NULL)
        fail_msg("message '%s' does not name '%s'", msg, where);
    assert_defaults(f->cfg);
    free(path);
}

static void test_load_bad_line(void **state)
{
    struct fixture *f = *state;
    expect_bad_ini(f,
                   "[scope.task]\n"
                   "quota = 1GiB\n"
                   "ttl = 1.5h\n"
                   "refresh_on_read = true\n",
                   3);
    expect_bad_ini(f, "[store]\nmax_value_size = 1MiB\nnonsense = 1\n", 3);
    expect_bad_ini(f, "[scope.task]\nttl = 1h\n[scope.tasks]\nttl = 1h\n", 4);
    expect_bad_ini(f, "[store]\nmap_size = 8GiB\n[server]\nport = 1\n", 4);
    expect_bad_ini(f, "[scope.task]\nrefresh_on_read = sometimes\n", 2);
    expect_bad_ini(f, "ttl = 1h\n", 1); /* no section */
    /* Syntax errors name their line too. */
    expect_bad_ini(f, "[scope.task]\nttl = 1h\nthis line has no equals\n",
                   3);
    expect_bad_ini(f, "[scope.task\nttl = 1h\n", 1);
}

static void test_load_bad_line_message_names_the_problem(void **state)
{
    struct fixture *f = *state;
    char *path = write_file(f, "bad.ini", "[scope.task]\nttl = 1.5h\n");
    assert_akv(akv_config_load(f->cfg, path), AKV_EINVAL);
    assert_non_null(strstr(akv_last_error()->message, "1.5h"));
    free(path);

    /* A syntax error on line 2 comes before the bad value on line 3: the
     * message names line 2 and does not pin line 3's problem on it. */
    path = write_file(f, "bad2.ini",
                      "[scope.task]\nthis line has no equals\nttl = 1.5h\n");
    assert_akv(akv_config_load(f->cfg, path), AKV_EINVAL);
    const char *msg = akv_last_error()->message;
    char where[4200];
    snprintf(where, sizeof where, "%s:2:", path);
    if (strstr(msg, where) == NULL || strstr(msg, "1.5h") != NULL)
        fail_msg("message '%s': expected line 2's syntax error", msg);
    assert_defaults(f->cfg);
    free(path);
}

static void test_load_unreadable(void **state)
{
    struct fixture *f = *state;
    char *missing;
    if (asprintf(&missing, "%s/does-not-exist.ini", f->dir) < 0)
        fail_msg("out of memory");
    assert_akv(akv_config_load(f->cfg, missing), AKV_EUNAVAILABLE);
    assert_non_null(strstr(akv_last_error()->message, missing));
    assert_defaults(f->cfg);
    free(missing);

    /* A directory is not a config file, even though fopen() succeeds on
     * it; this also holds when the tests run as root. */
    assert_akv(akv_config_load(f->cfg, f->dir), AKV_EUNAVAILABLE);
    assert_defaults(f->cfg);
}

static void test_load_permission_denied(void **state)
{
    struct fixture *f = *state;
    if (geteuid() == 0)
        skip(); /* root reads anything */
    char *path = write_file(f, "secret.ini", "[scope.task]\nttl = 1h\n");
    assert_int_equal(chmod(path, 0), 0);
    assert_akv(akv_config_load(f->cfg, path), AKV_EUNAVAILABLE);
    assert_defaults(f->cfg);
    free(path);
}

/* [server]: the limits of `agentkv serve`, parsed and range-checked. */
static void test_server_section(void **state)
{
    struct fixture *f = *state;
    assert_akv(akv_config_set(f->cfg, "server", "max_connections", "500"),
               AKV_OK);
    assert_int_equal(akv_config_max_connections(f->cfg), 500);
    assert_akv(akv_config_set(f->cfg, "server", "max_connections", "auto"),
               AKV_OK);
    assert_int_equal(akv_config_max_connections(f->cfg), 0);
    assert_akv(akv_config_set(f->cfg, "server", "header_timeout", "3s"),
               AKV_OK);
    assert_int_equal(akv_config_header_timeout(f->cfg), 3);
    assert_akv(akv_config_set(f->cfg, "server", "upload_budget", "8MiB"),
               AKV_OK);
    assert_int_equal(akv_config_upload_budget(f->cfg), 8 * MiB);
    assert_akv(akv_config_set(f->cfg, "server", "mcp_sessions", "128"),
               AKV_OK);
    assert_int_equal(akv_config_mcp_sessions(f->cfg), 128);
    assert_akv(
        akv_config_set(f->cfg, "server", "mcp_sessions_per_token", "8"),
        AKV_OK);
    assert_int_equal(akv_config_mcp_sessions_per_token(f->cfg), 8);

    /* Bad values are refused and change nothing. */
    static const char *const bad[][2] = {
        {"max_connections", "0"},      {"max_connections", "-1"},
        {"max_connections", "1000001"}, {"max_connections", "12x"},
        {"max_connections", ""},       {"mcp_sessions", "auto"},
        {"mcp_sessions", "0"},         {"mcp_sessions_per_token", "0"},
        {"header_timeout", "soon"},    {"upload_budget", "1KiB"},
        {"upload_budget", "lots"},     {"no_such_setting", "1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (akv_config_set(f->cfg, "server", bad[i][0], bad[i][1]) !=
            AKV_EINVAL)
            fail_msg("[server] %s = '%s' was accepted", bad[i][0], bad[i][1]);
        assert_true(strlen(akv_last_error()->message) > 0);
    }
    assert_int_equal(akv_config_max_connections(f->cfg), 0);
    assert_int_equal(akv_config_upload_budget(f->cfg), 8 * MiB);
    assert_int_equal(akv_config_mcp_sessions(f->cfg), 128);
    assert_int_equal(akv_config_mcp_sessions_per_token(f->cfg), 8);
    assert_int_equal(akv_config_header_timeout(f->cfg), 3);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_server_listen_threads),
        T(test_items_table),
        T(test_set),
        T(test_set_invalid),
        T(test_load_overrides),
        T(test_load_over_previous_values),
        T(test_load_empty_file),
        T(test_load_bad_line),
        T(test_load_bad_line_message_names_the_problem),
        T(test_load_unreadable),
        T(test_load_permission_denied),
        T(test_server_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

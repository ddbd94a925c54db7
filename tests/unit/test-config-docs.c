/*
 * test-config-docs.c — docs/config.md lists every setting of the library's
 * config table with its default and meaning, in the table's order, and
 * nothing the table does not have.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *read_doc(void)
{
    FILE *f = fopen(AKV_SOURCE_DIR "/docs/config.md", "r");
    if (f == NULL)
        fail_msg("cannot open %s/docs/config.md", AKV_SOURCE_DIR);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void every_setting_is_documented_with_its_default(void **state)
{
    (void)state;
    const char *doc = read_doc();
    size_t n;
    const akv_config_item *items = akv_config_items(&n);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        char row[256];
        snprintf(row, sizeof row, "| %s | %s | %s |", items[i].section,
                 items[i].name, items[i].default_value);
        if (strstr(doc, row) == NULL)
            fail_msg("docs/config.md has no row '%s'", row);
    }
}

static void every_documented_setting_exists(void **state)
{
    (void)state;
    char *doc = read_doc();
    size_t n, rows = 0;
    const akv_config_item *items = akv_config_items(&n);
    for (char *line = strtok(doc, "\n"); line; line = strtok(NULL, "\n")) {
        char section[64], name[64];
        if (sscanf(line, "| %63[a-z.] | %63[a-z_] |", section, name) != 2 ||
            strcmp(section, "section") == 0)
            continue;
        rows++;
        size_t k;
        for (k = 0; k < n; k++)
            if (!strcmp(items[k].section, section) &&
                !strcmp(items[k].name, name))
                break;
        if (k == n)
            fail_msg("docs/config.md documents [%s] %s, which does not exist",
                     section, name);
    }
    assert_int_equal(rows, n);
}

/* The settings table of docs/config.md is the library table rendered one
 * row per setting, in order, with its meaning: on a mismatch the test
 * prints the rows to paste, so the doc is regenerated from the table. */
static void the_doc_table_is_the_rendered_table(void **state)
{
    (void)state;
    const char *doc = read_doc();
    size_t n;
    const akv_config_item *items = akv_config_items(&n);
    static char want[32768];
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(want + o, sizeof want - o, "| %s | %s | %s | %s |\n",
                              items[i].section, items[i].name,
                              items[i].default_value, items[i].help);
    assert_true(o < sizeof want);
    const char *head = "|---|---|---|---|\n";
    const char *at = strstr(doc, head);
    assert_non_null(at);
    at += strlen(head);
    if (strncmp(at, want, o) != 0 || (at[o] != '\0' && at[o] != '\n'))
        fail_msg("docs/config.md's settings table differs from the library's; "
                 "its rows should read:\n%s", want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_setting_is_documented_with_its_default),
        cmocka_unit_test(every_documented_setting_exists),
        cmocka_unit_test(the_doc_table_is_the_rendered_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

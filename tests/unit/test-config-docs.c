/*
 * test-config-docs.c — docs/config.md lists every setting of the library's
 * config table with its default, and nothing the table does not have.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_setting_is_documented_with_its_default),
        cmocka_unit_test(every_documented_setting_exists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test-split.c — the splitter and description lint of
 * agentkv-instructions.h through the library API: form names, the warning
 * callback (an unclosed fence and the headings it swallows, unclosed tags),
 * the section fields (tag, number, lines, empty), the core of an XML split
 * byte for byte, and akv_lint_* (each code, reruns, bad arguments). The
 * CLI tests (test-split*.sh) cover the round trip through seed and build.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "testutil.h"

struct warnings {
    char text[4096];
    int n;
};

static void collect(void *arg, const char *message)
{
    struct warnings *w = arg;
    size_t used = strlen(w->text);
    snprintf(w->text + used, sizeof w->text - used, "%s\n", message);
    w->n++;
}

static akv_split *split_ok(const char *text, akv_split_form by, int level,
                           struct warnings *w)
{
    akv_split_opts opts = {.level = level, .by = by,
                           .warn = w ? collect : NULL, .warn_arg = w};
    akv_split *sp = NULL;
    assert_ok(akv_prompt_split(text, strlen(text), "p.md", &opts, &sp));
    assert_non_null(sp);
    return sp;
}

static void test_form_names(void **state)
{
    (void)state;
    const char *names[] = {"auto", "heading", "xml", "rule", "caps"};
    for (int i = 0; i < 5; i++) {
        akv_split_form f;
        assert_ok(akv_split_form_parse(names[i], &f));
        assert_int_equal(f, i);
        assert_string_equal(akv_split_form_name(f), names[i]);
    }
    akv_split_form f;
    assert_akv(akv_split_form_parse("markdown", &f), AKV_EINVAL);
    assert_non_null(strstr(akv_last_error()->message, "heading, xml"));
    assert_akv(akv_split_form_parse(NULL, &f), AKV_EINVAL);
    assert_string_equal(akv_split_form_name((akv_split_form)99), "unknown");
}

static void test_fence_warnings(void **state)
{
    (void)state;
    struct warnings w = {{0}, 0};
    const char *text = "# One\ntext\n```bash\n# a comment\n```\n"
                       "~~~~\n# Two\n~~~\n# Three\n";
    akv_split *sp = split_ok(text, AKV_SPLIT_AUTO, 1, &w);
    assert_int_equal(akv_split_count(sp), 1);
    assert_string_equal(w.text,
                        "p.md:6: this code fence is never closed, so "
                        "everything after it (to line 9) is code and no "
                        "section starts there; close it with a matching "
                        "fence line\n"
                        "p.md:7: '# Two' looks like a section start but is "
                        "inside the code fence opened at line 6, so it is "
                        "not cut at\n"
                        "p.md:9: '# Three' looks like a section start but is "
                        "inside the code fence opened at line 6, so it is "
                        "not cut at\n");
    akv_split_free(sp);
    /* No callback: the same split, silently. */
    sp = split_ok(text, AKV_SPLIT_AUTO, 1, NULL);
    assert_int_equal(akv_split_count(sp), 1);
    akv_split_free(sp);
}

static void test_xml_sections_and_core(void **state)
{
    (void)state;
    struct warnings w = {{0}, 0};
    const char *text = "Intro\n<ROLE>\nYou are careful.\n</ROLE>\n"
                       "between\n<rules kind=\"x\">\n- Test first.\n"
                       "</rules> tail\n<empty>\n</empty>\n<open>\nno end\n";
    akv_split *sp = split_ok(text, AKV_SPLIT_AUTO, 1, &w);
    assert_int_equal(akv_split_get_form(sp), AKV_SPLIT_XML);
    assert_int_equal(akv_split_count(sp), 3);
    const akv_split_section *s = akv_split_section_get(sp, 1);
    assert_string_equal(s->name, "rules");
    assert_string_equal(s->tag, "rules");
    assert_int_equal(s->line, 6);
    assert_int_equal(s->last_line, 8);
    assert_string_equal(s->description,
                        "Load when the task involves rules. Test first.");
    s = akv_split_section_get(sp, 2);
    assert_true(s->kept && s->empty);
    assert_null(s->name);
    assert_null(akv_split_section_get(sp, 3));
    size_t len;
    const char *core = akv_split_core(sp, &len);
    assert_string_equal(core, "Intro\n{{agentkv:include role}}\nbetween\n"
                              "{{agentkv:include rules}}\n<empty>\n</empty>\n"
                              "<open>\nno end\n");
    assert_int_equal(len, strlen(core));
    assert_non_null(strstr(w.text, "p.md:11: <open> is never closed"));
    akv_split_free(sp);
}

static void test_names_numbers_and_parents(void **state)
{
    (void)state;
    const char *text = "# \xf0\x9f\x8e\x89 7.0 Deploy\n\n## Steps\nRun it.\n"
                       "# Caf\xc3\xa9\nText.\n";
    akv_split *sp = split_ok(text, AKV_SPLIT_HEADING, 2, NULL);
    assert_int_equal(akv_split_count(sp), 2);
    const akv_split_section *s = akv_split_section_get(sp, 0);
    /* The parent went with its first child: the child's name and title,
     * the parent's first line. */
    assert_string_equal(s->name, "steps");
    assert_int_equal(s->line, 1);
    assert_int_equal(s->level, 2);
    s = akv_split_section_get(sp, 1);
    assert_string_equal(s->name, "cafe");
    akv_split_free(sp);
    sp = split_ok(text, AKV_SPLIT_HEADING, 1, NULL);
    s = akv_split_section_get(sp, 0);
    assert_string_equal(s->name, "deploy");
    assert_string_equal(s->number, "7.0");
    akv_split_free(sp);
    /* --keep finds the merged section by its parent's number. */
    akv_split_opts opts = {.level = 2, .keep = "7.0"};
    assert_ok(akv_prompt_split(text, strlen(text), NULL, &opts, &sp));
    assert_true(akv_split_section_get(sp, 0)->kept);
    akv_split_free(sp);
    opts.by = (akv_split_form)7;
    assert_akv(akv_prompt_split(text, strlen(text), NULL, &opts, &sp),
               AKV_EINVAL);
}

static bool has_code(const akv_lint *l, const char *name, const char *code)
{
    for (size_t i = 0; akv_lint_issue_get(l, i); i++) {
        const akv_lint_issue *is = akv_lint_issue_get(l, i);
        if (strcmp(is->name, name) == 0 && strcmp(is->code, code) == 0) {
            assert_true(strlen(is->problem) > 0 && strlen(is->fix) > 0);
            return true;
        }
    }
    return false;
}

static void test_lint(void **state)
{
    (void)state;
    akv_lint *l;
    assert_ok(akv_lint_new(&l));
    const char *ok = "Load when the task involves refunds. Check the invoice "
                     "first.";
    assert_ok(akv_lint_add(l, "good", ok, "good.md"));
    assert_ok(akv_lint_add(l, "none", NULL, NULL));
    assert_ok(akv_lint_add(l, "boxes", "Use when starting: [x] Set up [ ] "
                                       "Install the tools.", NULL));
    assert_ok(akv_lint_add(l, "items", "Use when releasing: 1. build 2. tag "
                                       "3. push the image.", NULL));
    assert_ok(akv_lint_add(l, "cut", "Load when the task involves the "
                                     "deploy and the…", NULL));
    assert_ok(akv_lint_add(l, "tiny", "Refunds.", NULL));
    assert_ok(akv_lint_add(l, "what", "This section covers the refund rules "
                                      "of the billing team.", NULL));
    assert_ok(akv_lint_add(l, "again", "  load when the task involves "
                                       "refunds.  Check the invoice first.",
                           NULL));
    char big[1100];
    memset(big, 'a', sizeof big - 2);
    memcpy(big, "Load when ", 10);
    big[sizeof big - 2] = '.';
    big[sizeof big - 1] = '\0';
    assert_ok(akv_lint_add(l, "huge", big, NULL));
    assert_int_equal(akv_lint_sets(l), 9);
    size_t n = akv_lint_run(l);
    assert_false(has_code(l, "good", "no_when"));
    assert_true(has_code(l, "none", "missing"));
    assert_true(has_code(l, "boxes", "checklist"));
    assert_true(has_code(l, "items", "list"));
    assert_true(has_code(l, "cut", "fragment"));
    assert_true(has_code(l, "tiny", "too_short"));
    assert_true(has_code(l, "tiny", "no_when"));
    assert_true(has_code(l, "what", "no_when"));
    assert_true(has_code(l, "again", "duplicate"));
    assert_true(has_code(l, "huge", "over_limit"));
    assert_false(has_code(l, "huge", "too_long"));
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(akv_lint_issue_get(l, i)->name, "good");
    assert_int_equal(akv_lint_run(l), n); /* a rerun gives the same */
    assert_null(akv_lint_issue_get(l, n));
    akv_lint_free(l);
    akv_lint_free(NULL);
    assert_akv(akv_lint_new(NULL), AKV_EINVAL);
    assert_int_equal(akv_lint_run(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_names),
        cmocka_unit_test(test_fence_warnings),
        cmocka_unit_test(test_xml_sections_and_core),
        cmocka_unit_test(test_names_numbers_and_parents),
        cmocka_unit_test(test_lint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

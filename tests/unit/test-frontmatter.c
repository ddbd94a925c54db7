/*
 * test-frontmatter.c — the front matter subset of agentkv-instructions.h:
 * fields, quoting and escapes, blank and comment lines, CRLF, the body
 * offset; and every rejection (never closed, not `key: value`, duplicate
 * key, indentation, block scalars, bad quotes, control characters, bad
 * UTF-8 anywhere) with the file and line in the message. Also the name
 * rule of SPEC.md §5.
 */
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "testutil.h"

static akv_frontmatter *parse_ok(const char *text)
{
    akv_frontmatter *fm = NULL;
    assert_ok(akv_frontmatter_parse(text, strlen(text), "t.md", &fm));
    assert_non_null(fm);
    return fm;
}

/* Asserts a rejection whose message contains every needle. */
static void parse_bad(const char *text, size_t len, const char *n1,
                      const char *n2)
{
    akv_frontmatter *fm = (akv_frontmatter *)1;
    int rc = akv_frontmatter_parse(text, len, "dir/t.md", &fm);
    if (rc != AKV_EINVAL)
        fail_msg("expected invalid_argument for [%.*s], got %s", (int)len,
                 text, akv_err_name(rc));
    assert_null(fm);
    const char *msg = akv_last_error()->message;
    if (strstr(msg, n1) == NULL || (n2 && strstr(msg, n2) == NULL))
        fail_msg("message '%s' lacks '%s' / '%s'", msg, n1, n2 ? n2 : "");
    assert_null(strchr(msg, '\n'));
}

static void test_fields_and_body(void **state)
{
    (void)state;
    const char *t = "---\nname: presentation\ndescription: One sentence.\n"
                    "version: 2\n---\n# Body\n";
    akv_frontmatter *fm = parse_ok(t);
    assert_true(akv_frontmatter_present(fm));
    assert_int_equal(akv_frontmatter_count(fm), 3);
    assert_string_equal(akv_frontmatter_get(fm, "name"), "presentation");
    assert_string_equal(akv_frontmatter_get(fm, "description"),
                        "One sentence.");
    assert_string_equal(akv_frontmatter_get(fm, "version"), "2");
    assert_null(akv_frontmatter_get(fm, "Name"));
    assert_string_equal(t + akv_frontmatter_body_offset(fm), "# Body\n");
    const char *k, *v;
    unsigned line;
    assert_ok(akv_frontmatter_field(fm, 2, &k, &v, &line));
    assert_string_equal(k, "version");
    assert_int_equal(line, 4);
    assert_akv(akv_frontmatter_field(fm, 3, &k, &v, &line), AKV_EINVAL);
    akv_frontmatter_free(fm);
}

static void test_no_front_matter(void **state)
{
    (void)state;
    const char *cases[] = {"# Just a body\n", "", ("--- \nnot closed? no: "
                            "the first line must be exactly ---\n"),
                           "\n---\nname: x\n---\n", "----\nname: x\n----\n"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        akv_frontmatter *fm = NULL;
        int rc = akv_frontmatter_parse(cases[i], strlen(cases[i]), NULL, &fm);
        if (i == 2) {
            /* "--- " with a trailing blank is a delimiter: never closed. */
            assert_akv(rc, AKV_EINVAL);
            continue;
        }
        assert_ok(rc);
        assert_false(akv_frontmatter_present(fm));
        assert_int_equal(akv_frontmatter_body_offset(fm), 0);
        assert_int_equal(akv_frontmatter_count(fm), 0);
        akv_frontmatter_free(fm);
    }
}

static void test_quotes_blanks_comments_crlf(void **state)
{
    (void)state;
    const char *t =
        "---\r\n"
        "# a comment\r\n"
        "\r\n"
        "a: \"quoted: with \\\"escapes\\\" \\\\ and \\t tab\"\r\n"
        "b: 'single ''quoted'' # not a comment'\r\n"
        "c:\r\n"
        "d:    spaced value   \r\n"
        "e: value # kept verbatim\r\n"
        "f.g-h_i: \"\"\r\n"
        "   # an indented comment\r\n"
        "---   \r\n"
        "body\r\n";
    akv_frontmatter *fm = parse_ok(t);
    assert_string_equal(akv_frontmatter_get(fm, "a"),
                        "quoted: with \"escapes\" \\ and \t tab");
    assert_string_equal(akv_frontmatter_get(fm, "b"),
                        "single 'quoted' # not a comment");
    assert_string_equal(akv_frontmatter_get(fm, "c"), "");
    assert_string_equal(akv_frontmatter_get(fm, "d"), "spaced value");
    assert_string_equal(akv_frontmatter_get(fm, "e"), "value # kept verbatim");
    assert_string_equal(akv_frontmatter_get(fm, "f.g-h_i"), "");
    assert_int_equal(akv_frontmatter_count(fm), 6);
    assert_string_equal(t + akv_frontmatter_body_offset(fm), "body\r\n");
    akv_frontmatter_free(fm);
}

static void test_closing_at_end_of_file(void **state)
{
    (void)state;
    const char *t = "---\nname: x\n---";
    akv_frontmatter *fm = parse_ok(t);
    assert_int_equal(akv_frontmatter_body_offset(fm), strlen(t));
    akv_frontmatter_free(fm);
    fm = parse_ok("---\n---\n");
    assert_true(akv_frontmatter_present(fm));
    assert_int_equal(akv_frontmatter_count(fm), 0);
    akv_frontmatter_free(fm);
}

static void test_rejections(void **state)
{
    (void)state;
    const char *t;
    t = "---\nname: x\n# body\n";
    parse_bad(t, strlen(t), "dir/t.md:1:", "never closed");
    t = "---";
    parse_bad(t, strlen(t), "dir/t.md:1:", "never closed");
    t = "---\nname: x\nthis line has no colon\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:3:", "key: value");
    t = "---\nname x\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "key: value");
    t = "---\nname:value\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "key: value");
    t = "---\n: value\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "key: value");
    t = "---\nna me: x\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "key: value");
    t = "---\n- item\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "key: value");
    t = "---\nname: a\nother: b\nname: c\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:4:", "duplicate key 'name' (first on "
                                           "line 2)");
    t = "---\nmetadata:\n  nested: x\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:3:", "indented");
    t = "---\ndescription: |\n  text\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "block scalars");
    t = "---\ndescription: >-\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "block scalars");
    t = "---\na: \"open\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "unterminated");
    t = "---\na: \"x\" trailing\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "after the closing quote");
    t = "---\na: \"bad \\q escape\"\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "escape");
    t = "---\na: 'open\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "unterminated single");
    t = "---\na: x\rb: y\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "control character");
    static const char nul[] = "---\na: x\0y\n---\n";
    parse_bad(nul, sizeof nul - 1, "dir/t.md:2:", "control character");
    t = "---\nname: caf\xc3\n---\n";
    parse_bad(t, strlen(t), "dir/t.md:2:", "UTF-8");
    t = "# body\nfine\nfine\n\xed\xa0\x80 surrogate\n";
    parse_bad(t, strlen(t), "dir/t.md:4:", "UTF-8");
    t = "no newline at the end \xff";
    parse_bad(t, strlen(t), "dir/t.md:1:", "UTF-8");
}

static void test_free_null_and_args(void **state)
{
    (void)state;
    akv_frontmatter_free(NULL);
    assert_akv(akv_frontmatter_parse("x", 1, NULL, NULL), AKV_EINVAL);
    akv_frontmatter *fm;
    assert_akv(akv_frontmatter_parse(NULL, 3, NULL, &fm), AKV_EINVAL);
    assert_ok(akv_frontmatter_parse(NULL, 0, NULL, &fm));
    akv_frontmatter_free(fm);
}

static void test_names(void **state)
{
    (void)state;
    const char *good[] = {"presentation", "web_development", "a", "x-1_2",
                          "0", ("abcdefghijabcdefghijabcdefghijabcdefghij"
                                "abcdefghijabcdefghij0123")};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_ok(akv_instruction_name_check(good[i], strlen(good[i])));
    const char *bad[] = {"", "Upper", "has space", "dot.md", "slash/x",
                         "caf\xc3\xa9", "tab\t",
                         ("abcdefghijabcdefghijabcdefghijabcdefghij"
                          "abcdefghijabcdefghij01234")};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_akv(akv_instruction_name_check(bad[i], strlen(bad[i])),
                   AKV_EINVAL);
    assert_akv(akv_instruction_name_check(NULL, 0), AKV_EINVAL);
}

/* Seeded sets and skills: [a-z0-9]+(-[a-z0-9]+)*, at most 64 bytes. */
static void test_skill_names(void **state)
{
    (void)state;
    const char *good[] = {"presentation", "web-development", "a", "x-1-2",
                          "0", ("abcdefghijabcdefghijabcdefghijabcdefghij"
                                "abcdefghijabcdefghij0123")};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_ok(akv_skill_name_check(good[i], strlen(good[i])));
    const char *bad[] = {"", "web_development", "x-1_2", "-a", "a-", "a--b",
                         "Upper", "slash/x", "dot.md",
                         ("abcdefghijabcdefghijabcdefghijabcdefghij"
                          "abcdefghijabcdefghij01234")};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_akv(akv_skill_name_check(bad[i], strlen(bad[i])), AKV_EINVAL);
    assert_akv(akv_skill_name_check(NULL, 0), AKV_EINVAL);
    /* An underscore name is told its hyphenated spelling. */
    assert_akv(akv_skill_name_check("doc_creation", 12), AKV_EINVAL);
    assert_non_null(strstr(akv_last_error()->message, "'doc-creation'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_and_body),
        cmocka_unit_test(test_no_front_matter),
        cmocka_unit_test(test_quotes_blanks_comments_crlf),
        cmocka_unit_test(test_closing_at_end_of_file),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_free_null_and_args),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_skill_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

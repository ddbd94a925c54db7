/*
 * fuzz-split.c — libFuzzer harness for akv_prompt_split(): the lossless
 * round trip of SPEC.md §6 on arbitrary input.
 *
 * The first input byte picks the options (level 1–3 from its low bits;
 * bit 2 keeps the section numbered 1, bit 3 keeps sections titled "Keep";
 * bits 4–6 the form: auto, heading, xml, rule, caps); the rest is the
 * prompt. When the split succeeds, the harness rebuilds the
 * prompt the way seed + `prompt build --mode inline` would: each instruction
 * file is parsed with akv_frontmatter_parse() (as seed does) and its body
 * replaces its include marker in the core, followed by the marker line's
 * own line ending when the body lacks one. The result must equal the input
 * byte for byte. It also checks that every name passes the instruction
 * name rule and is unique, that each file's body is the section's bytes,
 * and that a rejection is AKV_EINVAL with a one-line message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentkv-instructions.h"
#include "markers.h"

static void broken(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz-split: invariant broken: %s; input (%zu bytes):",
            what, size);
    for (size_t i = 0; i < size && i < 96; i++)
        fprintf(stderr, " %02x", data[i]);
    fprintf(stderr, "%s\n", size > 96 ? " ..." : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *keeps[] = {NULL, "1", "Keep", "1,Keep"};
    akv_split_opts opts = {.level = 1 + (data[0] & 3) % 3,
                           .keep = keeps[(data[0] >> 2) & 3],
                           .by = (akv_split_form)((data[0] >> 4 & 7) % 5)};
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    akv_split *sp = NULL;
    int rc = akv_prompt_split(len ? text : NULL, len, "fuzz.md", &opts, &sp);
    if (rc == AKV_ENOMEM)
        return 0;
    if (rc != AKV_OK) {
        if (rc != AKV_EINVAL || sp != NULL)
            broken("a failure other than AKV_EINVAL, or a handle with it",
                   data, size);
        if (strchr(akv_last_error()->message, '\n'))
            broken("a message of several lines", data, size);
        return 0;
    }

    size_t n = akv_split_count(sp), moved = 0;
    for (size_t i = 0; i < n; i++) {
        const akv_split_section *s = akv_split_section_get(sp, i);
        if (s->kept)
            continue;
        moved++;
        if (akv_instruction_name_check(s->name, strlen(s->name)) != AKV_OK)
            broken("a section name breaks the name rule", data, size);
        for (size_t j = 0; j < i; j++) {
            const akv_split_section *o = akv_split_section_get(sp, j);
            if (!o->kept && strcmp(o->name, s->name) == 0)
                broken("two sections with one name", data, size);
        }
        akv_frontmatter *fm;
        if (s->description == NULL || strlen(s->description) > 200 ||
            strncmp(s->description, "Load when ", 10) != 0)
            broken("a description over 200 bytes or not 'Load when'", data,
                   size);
        if (akv_frontmatter_parse(s->file, s->file_len, s->name, &fm) !=
            AKV_OK)
            broken("an instruction file that seed would reject", data, size);
        size_t off = akv_frontmatter_body_offset(fm);
        const char *name = akv_frontmatter_get(fm, "name");
        if (name == NULL || strcmp(name, s->name) != 0 ||
            akv_frontmatter_get(fm, "description") == NULL)
            broken("front matter without the name or a description", data,
                   size);
        if (s->file_len - off != s->body_len ||
            memcmp(s->file + off, s->body, s->body_len) != 0)
            broken("a file's body is not the section", data, size);
        akv_frontmatter_free(fm);
    }
    if (moved == 0)
        broken("a split that moved nothing succeeded", data, size);

    /* Rebuild as the inline renderer does. */
    size_t clen;
    const char *core = akv_split_core(sp, &clen);
    size_t cap = len + 1, olen = 0;
    char *out = malloc(cap);
    if (out == NULL) {
        akv_split_free(sp);
        return 0;
    }
    for (size_t at = 0; at < clen;) {
        const char *nl = memchr(core + at, '\n', clen - at);
        size_t end = nl ? (size_t)(nl - core) : clen;
        size_t next = nl ? end + 1 : clen;
        const char *name;
        size_t name_len;
        enum akv_marker k =
            akv_marker_parse(core + at, end - at, &name, &name_len);
        const char *piece = core + at;
        size_t plen = next - at, elen = 0;
        if (k == AKV_MARKER_CATALOG || k == AKV_MARKER_BAD)
            broken("the core holds a marker the split did not write", data,
                   size);
        if (k == AKV_MARKER_INCLUDE) {
            const akv_split_section *s = NULL;
            for (size_t i = 0; i < n && s == NULL; i++) {
                const akv_split_section *c = akv_split_section_get(sp, i);
                if (!c->kept && strlen(c->name) == name_len &&
                    memcmp(c->name, name, name_len) == 0)
                    s = c;
            }
            if (s == NULL)
                broken("a marker for no section", data, size);
            piece = s->body;
            plen = s->body_len;
            if ((plen == 0 || piece[plen - 1] != '\n') && next > end)
                elen = next - end;
        }
        if (olen + plen + elen > len)
            broken("the rebuilt prompt is longer than the input", data,
                   size);
        memcpy(out + olen, piece, plen);
        olen += plen;
        memcpy(out + olen, core + end, elen);
        olen += elen;
        at = next;
    }
    if (olen != len || memcmp(out, text, len) != 0)
        broken("split + inline build does not give the input back", data,
               size);
    free(out);
    akv_split_free(sp);
    return 0;
}

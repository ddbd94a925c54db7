/*
 * markers.h — recognising the prompt markers of SPEC.md §6 on one line:
 * `{{agentkv:include NAME}}` and `{{agentkv:catalog}}`. Shared by the
 * builder (prompt.c), which acts on them, and the splitter (split.c), which
 * must never leave a marker-looking line in a core it did not put there,
 * because the builder would act on it and the round trip would no longer be
 * lossless. Internal to libagentkv.
 *
 * A marker is a whole line: optional blanks, the marker, optional blanks.
 * A line that looks like one ("{{agentkv:" … "}}") but is neither is
 * reported as bad, so that a typo fails loudly instead of reaching a model.
 */
#ifndef AKV_MARKERS_H
#define AKV_MARKERS_H

#include <stddef.h>
#include <string.h>

enum akv_marker {
    AKV_MARKER_NONE = 0,
    AKV_MARKER_INCLUDE,
    AKV_MARKER_CATALOG,
    AKV_MARKER_BAD
};

/* Classifies line[0..len) (without its line ending; a trailing '\r' is
 * ignored). For an include, *name and *name_len give NAME. */
static inline enum akv_marker akv_marker_parse(const char *line, size_t len,
                                               const char **name,
                                               size_t *name_len)
{
    static const char open[] = "{{agentkv:", inc[] = "include",
                      cat[] = "catalog";
    size_t s = 0, e = len;
    while (s < e && (line[s] == ' ' || line[s] == '\t'))
        s++;
    while (e > s && (line[e - 1] == ' ' || line[e - 1] == '\t' ||
                     line[e - 1] == '\r'))
        e--;
    if (e - s < sizeof open - 1 + 2 ||
        memcmp(line + s, open, sizeof open - 1) != 0 ||
        memcmp(line + e - 2, "}}", 2) != 0)
        return AKV_MARKER_NONE;
    s += sizeof open - 1;
    e -= 2;
    if (e - s == sizeof cat - 1 && memcmp(line + s, cat, e - s) == 0)
        return AKV_MARKER_CATALOG;
    if (e - s > sizeof inc - 1 && memcmp(line + s, inc, sizeof inc - 1) == 0 &&
        (line[s + sizeof inc - 1] == ' ' || line[s + sizeof inc - 1] == '\t')) {
        s += sizeof inc - 1;
        while (s < e && (line[s] == ' ' || line[s] == '\t'))
            s++;
        while (e > s && (line[e - 1] == ' ' || line[e - 1] == '\t'))
            e--;
        if (s == e)
            return AKV_MARKER_BAD;
        for (size_t i = s; i < e; i++)
            if (line[i] == ' ' || line[i] == '\t' || line[i] == '}' ||
                line[i] == '{')
                return AKV_MARKER_BAD;
        *name = line + s;
        *name_len = e - s;
        return AKV_MARKER_INCLUDE;
    }
    return AKV_MARKER_BAD;
}

#endif

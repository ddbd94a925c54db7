/*
 * scope.c — the five scopes of SPEC.md §1 and their names. Defaults for
 * TTLs and quotas live in config.c, next to the rest of the configuration.
 */
#include <string.h>

#include "internal.h"

/* Each scope's name and its length, for the parse of every request's. */
#define SCOPE(name) {name, sizeof name - 1}
static const struct {
    const char *name;
    size_t len;
} scope_names[AKV_SCOPE_COUNT] = {
    SCOPE("system"), SCOPE("instructions"), SCOPE("project"), SCOPE("task"),
    SCOPE("artifacts"),
};
#undef SCOPE

int akv_scope_parse(const char *name, size_t len, akv_scope *out)
{
    for (int i = 0; name && i < AKV_SCOPE_COUNT; i++) {
        if (scope_names[i].len == len &&
            memcmp(scope_names[i].name, name, len) == 0) {
            *out = (akv_scope)i;
            return AKV_OK;
        }
    }
    char shown[AKV_QUOTE_BUF];
    return akv_fail(AKV_EINVAL,
                    "unknown scope '%s' (expected system, instructions, "
                    "project, task or artifacts)",
                    akv_quote(shown, name, name ? len : 0));
}

const char *akv_scope_name(int scope)
{
    if (scope < 0 || scope >= AKV_SCOPE_COUNT)
        return NULL;
    return scope_names[scope].name;
}

int akv_scope_is_overlay(akv_scope scope)
{
    return scope == AKV_SCOPE_SYSTEM || scope == AKV_SCOPE_INSTRUCTIONS;
}

int akv_scope_check_agent_write(akv_scope scope)
{
    akv_error_clear();
    if (scope == AKV_SCOPE_SYSTEM)
        return akv_fail(AKV_EFORBIDDEN, "agent tokens may not write scope %s",
                        akv_scope_name(scope));
    return AKV_OK;
}

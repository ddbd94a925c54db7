/*
 * dashboard.h — the dashboard's files as the binary holds them. The table
 * is generated at build time by src/tools/web-embed.c from web/ (see
 * CMakeLists.txt), one row per URL; dashboard.c serves it.
 */
#ifndef AKV_DASHBOARD_H
#define AKV_DASHBOARD_H

#include <stddef.h>

struct web_asset {
    const char *url;          /* "/" or "/ui/NAME" */
    const char *content_type; /* from the file's extension */
    const unsigned char *data;
    size_t len;
    const char *sha256;       /* 64 hex digits: the entity tag */
};
extern const struct web_asset web_assets[];
extern const size_t web_nassets;

#endif /* AKV_DASHBOARD_H */

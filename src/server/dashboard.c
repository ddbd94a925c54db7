/*
 * dashboard.c — serves the dashboard (SPEC.md §4, docs/dashboard.md):
 *   GET|HEAD /            the page (web/index.html)
 *   GET|HEAD /ui/{asset}  its script, style sheet and icon
 * from the table web-embed compiled into the binary (dashboard.h). Nothing
 * is read from disk; no token is needed, since the files hold no data: the
 * page asks for a token and calls the /v1 API with it.
 *
 * Every answer, 404 included, carries the security headers: a
 * Content-Security-Policy that allows only this origin's script, style
 * and API (no inline script, no framing, no form posts), nosniff, and no
 * Referer. Assets are revalidated by their SHA-256 entity tag (no-cache:
 * a new binary's page is never mixed with an old script).
 */
#include <string.h>

#include "dashboard.h"
#include "server.h"

#define DASHBOARD_CSP                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; "             \
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "    \
    "base-uri 'none'; form-action 'none'"

static void security_headers(struct http_req *r)
{
    http_header(r, "Content-Security-Policy", DASHBOARD_CSP);
    http_header(r, "X-Content-Type-Options", "nosniff");
    http_header(r, "Referrer-Policy", "no-referrer");
    http_header(r, "X-Frame-Options", "DENY");
}

/* The answer for the path, without the security headers. An error
 * response replaces the headers added before it. */
static void serve_asset(struct http_req *r)
{
    struct http_span inm = r->head->if_none_match;
    struct http_span path = r->head->path;
    if (http_query(r, NULL, 0, NULL, NULL, 0) != 0)
        return;
    const struct web_asset *a = NULL;
    for (size_t i = 0; i < web_nassets && a == NULL; i++)
        if (strlen(web_assets[i].url) == path.len &&
            memcmp(web_assets[i].url, path.p, path.len) == 0)
            a = &web_assets[i];
    if (a == NULL) {
        http_error(r, AKV_ENOTFOUND, "no dashboard asset %.*s",
                   (int)(path.len < 100 ? path.len : 100), path.p);
        return;
    }
    if (inm.p && http_if_none_match(inm, "") < 0) {
        http_error(r, AKV_EINVAL, "malformed If-None-Match: expected * or a "
                                  "list of entity tags");
        return;
    }
    char etag[68];
    etag[0] = '"';
    memcpy(etag + 1, a->sha256, 64);
    etag[65] = '"';
    etag[66] = '\0';
    http_header(r, "ETag", etag);
    http_header(r, "Cache-Control", "no-cache");
    if (inm.p && http_if_none_match(inm, a->sha256) == 1) {
        r->resp.status = 304;
        return;
    }
    http_header(r, "Content-Type", a->content_type);
    r->resp.ext = (const char *)a->data;
    r->resp.ext_len = a->len;
    r->resp.status = 200;
}

void http_dashboard(struct http_req *r)
{
    serve_asset(r);
    security_headers(r);
}

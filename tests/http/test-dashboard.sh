#!/usr/bin/env bash
# test-dashboard.sh — the dashboard's files over HTTP (the page itself is
# tested in a browser by tests/browser/): / and /ui/{asset} need no token,
# come from the binary with their Content-Type, an ETag that is the SHA-256
# of the bytes (If-None-Match gives 304), Cache-Control: no-cache, and the
# security headers (a Content-Security-Policy without inline script or
# framing, nosniff, no Referer); HEAD has the headers without the body; an
# unknown asset is the JSON 404, with the same headers.
. "$(dirname "$0")/lib.sh"

SRC=${AKV_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
CSP="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

security_headers() {
    expect_header Content-Security-Policy "$CSP"
    expect_header X-Content-Type-Options nosniff
    expect_header Referrer-Policy no-referrer
    expect_header X-Frame-Options DENY
}

start_server

t "GET / is the page, without a token, byte for byte web/index.html"
req GET /
expect_status 200
expect_header Content-Type 'text/html; charset=utf-8'
expect_body_file "$SRC/web/index.html"
security_headers
expect_header Cache-Control no-cache
expect_header ETag "\"$(sha256sum "$SRC/web/index.html" | cut -d' ' -f1)\""

for f in app.js:'text/javascript; charset=utf-8' app.css:'text/css; charset=utf-8' icon.svg:image/svg+xml; do
    name=${f%%:*} type=${f#*:}
    t "GET /ui/$name is web/$name as $type"
    req GET "/ui/$name"
    expect_status 200
    expect_header Content-Type "$type"
    expect_body_file "$SRC/web/$name"
    security_headers
done

t "If-None-Match with the ETag is 304 without a body"
ETAG=$(sha256sum "$SRC/web/app.js" | cut -d' ' -f1)
req GET /ui/app.js -H "If-None-Match: \"$ETAG\""
expect_status 304
expect_body_empty
expect_header ETag "\"$ETAG\""
req GET /ui/app.js -H 'If-None-Match: "0000"'
expect_status 200
req GET /ui/app.js -H 'If-None-Match: not-a-tag'
expect_error 400 invalid_argument

t "HEAD / has the headers and no body"
LAST="HEAD /"
STATUS=$(curl -s -I -D "$HDRS" -o /dev/null -w '%{http_code}' "$URL/")
expect_status 200
expect_header Content-Length "$(stat -c %s "$SRC/web/index.html")"
security_headers

t "an unknown asset is the JSON 404, with the security headers"
req GET /ui/nope.js
expect_error 404 not_found
security_headers
req GET /ui/
expect_error 404 not_found
req GET /index.html
expect_error 404 not_found

t "a query string is refused; writes are 405"
req GET '/?x=1'
expect_error 400 invalid_argument
req POST /
expect_status 405

t "the page loads no script or style from elsewhere and has no inline script"
grep -Eo '(src|href)="[^"]*"' "$SRC/web/index.html" | grep -v '"/ui/' &&
    fail "a file from elsewhere: $(grep -Eo '(src|href)="[^"]*"' "$SRC/web/index.html" | grep -v '"/ui/')"
pass
grep -Eq '<script>|<script [^>]*>[^<]' "$SRC/web/index.html" && fail "inline script in web/index.html"
pass
grep -Eq '(^|[[:space:]])(style|on[a-z]+)="' "$SRC/web/index.html" && fail "inline style or handler in web/index.html"
pass
grep -Eq 'innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(' "$SRC/web/app.js" &&
    fail "web/app.js builds HTML from strings"
pass

t "the server exits 0 on SIGTERM"
stop_server
pass

finish

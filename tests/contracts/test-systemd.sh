#!/usr/bin/env bash
# test-systemd.sh — contrib/agentkv.service is a unit systemd takes without
# a complaint (systemd-analyze verify prints nothing: unknown keys and bad
# values are only warnings there, so any output fails), its ExecStart
# command line is one the real binary accepts, it keeps the hardening it
# promises, and systemd rates its exposure low (systemd-analyze security).
# Skipped (exit 77) with the reason where systemd-analyze is missing.
set -u
if [ -z "${AGENTKV:-}" ] || [ ! -x "$AGENTKV" ]; then
    echo "AGENTKV must name the agentkv binary (got '${AGENTKV:-}')" >&2
    exit 2
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze is not installed (package systemd)"
    exit 77
fi
unit="${AKV_SOURCE_DIR:?}/contrib/agentkv.service"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-systemd.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
passed=0
fail() { echo "FAIL: $*"; echo "$passed passed, 1 failed"; exit 1; }

# verify needs ExecStart's program to exist: point it at the build.
grep -q '^ExecStart=/usr/local/bin/agentkv ' "$unit" ||
    fail "ExecStart does not start /usr/local/bin/agentkv"
sed "s#^ExecStart=/usr/local/bin/agentkv #ExecStart=$AGENTKV #" "$unit" >"$tmp/agentkv.service"
# --man=no: the man page need not be installed where the test runs.
systemd-analyze verify --man=no "$tmp/agentkv.service" >"$tmp/verify" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$tmp/verify" ] ||
    fail "systemd-analyze verify (exit $rc): $(cat "$tmp/verify")"
passed=$((passed + 1))

# The binary accepts the unit's command line (--routes: parse the flags,
# print the route table, exit).
args=$(sed -n 's#^ExecStart=/usr/local/bin/agentkv ##p' "$unit")
read -r -a argv <<<"$args"
for i in "${!argv[@]}"; do
    [ "${argv[$i]}" = /var/lib/agentkv ] && argv[$i]="$tmp/store"
done
"$AGENTKV" "${argv[@]}" --routes >"$tmp/routes" 2>&1 ||
    fail "agentkv ${argv[*]} --routes: $(cat "$tmp/routes")"
grep -q '/healthz' "$tmp/routes" || fail "no route table from: agentkv ${argv[*]} --routes"
passed=$((passed + 1))

for want in User=agentkv StateDirectory=agentkv ProtectSystem=strict \
    ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    SystemCallFilter=@system-service LimitNOFILE=65536 \
    MemoryDenyWriteExecute=yes; do
    grep -qxF "$want" "$unit" || fail "the unit lacks $want"
    passed=$((passed + 1))
done
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    systemd-analyze security --offline=yes --no-pager "$tmp/agentkv.service" \
        >"$tmp/security" 2>&1
    level=$(sed -n 's/.*Overall exposure level for agentkv.service: \([0-9.]*\).*/\1/p' "$tmp/security")
    [ -n "$level" ] || fail "no exposure level from systemd-analyze security: $(tail -3 "$tmp/security")"
    echo "systemd-analyze security: exposure $level"
    awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' ||
        fail "exposure level $level is above 2.0"
    passed=$((passed + 1))
else
    echo "systemd-analyze security has no --offline here: exposure not checked"
fi
echo "$passed passed, 0 failed"

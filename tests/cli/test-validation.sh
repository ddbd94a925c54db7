#!/usr/bin/env bash
# test-validation.sh — hostile and malformed input: every bad key, scope,
# sandbox, TTL, metadata, size and precondition is refused with the right
# error code on stderr and the right exit status, and leaves the store
# exactly as it was (compared through `export --all-sandboxes`).
. "$(dirname "$0")/lib.sh"

printf 'original\n' >"$TMP/v"
printf 'replacement\n' >"$TMP/w"

# A store with something in it, in two sandboxes and in _global.
akv put task existing "$TMP/v"
expect_ok
akv --sandbox other put artifacts a/b "$TMP/v" --meta '{"k":1}'
expect_ok
akv --sandbox _global put instructions style "$TMP/v"
expect_ok
snapshot base

# refused ERROR EXIT ARGS...: agentkv ARGS fails with ERROR/EXIT and the
# store is unchanged. Runs with the value file $TMP/w as stdin.
refused() {
    local code=$1 status=$2
    shift 2
    akv_in "$TMP/w" "$@"
    expect_error "$code" "$status"
    expect_unchanged base
}

long255=$(printf 'k%.0s' $(seq 255))
long256=$(printf 'k%.0s' $(seq 256))

t "a 255-byte key is accepted (the limit itself)"
akv put task "$long255" "$TMP/v"
expect_ok
akv del task "$long255"
expect_ok

for key in "" "$long256" "../x" "/abs" "a//b" "a/./b" "a/../b" "." ".." \
    "trailing/" $'a\x01b' $'a\nb' $'a\x7fb' 'a\b' $'\xff' $'a\xc3' \
    $'\xc0\xaf'; do
    t "bad key '$(printf '%q' "$key")' is refused by put"
    refused invalid_argument 2 put task "$key"
    t "bad key '$(printf '%q' "$key")' is refused by get and del"
    refused invalid_argument 2 get task "$key"
    refused invalid_argument 2 del task "$key"
done

t "the key is never rewritten: 'a/b/' does not reach 'a/b'"
refused invalid_argument 2 --sandbox other put artifacts a/b/

for scope in "" Task TASK tasks unknown "task " global; do
    t "bad scope '$scope'"
    refused invalid_argument 2 put "$scope" key
    refused invalid_argument 2 ls "$scope"
    refused invalid_argument 2 clear "$scope" --yes
done

long65=$(printf 's%.0s' $(seq 65))
for sb in "" "$long65" "a/b" "a b" "a.b" $'a\nb' "é"; do
    t "bad sandbox '$(printf '%q' "$sb")'"
    refused invalid_argument 2 --sandbox "$sb" put task key
    refused invalid_argument 2 --sandbox "$sb" get task existing
    refused invalid_argument 2 --sandbox="$sb" ls task
done

t "bad sandbox in the environment"
AGENTKV_SANDBOX="a/b" run_in "$TMP/w" "$AGENTKV" --dir "$STORE" put task key
expect_error invalid_argument 2
expect_unchanged base

t "a 64-character sandbox is accepted (the limit itself)"
long64=$(printf 's%.0s' $(seq 64))
akv --sandbox "$long64" get task existing
expect_error not_found 1

for ttl in -1 1.5h 99999999999d abc "" 10x 1h30m " 5s" 5S; do
    t "bad TTL '$ttl'"
    refused invalid_argument 2 put task existing --ttl "$ttl"
done

t "bad metadata: not JSON, an array, a string, over 64 KiB"
refused invalid_argument 2 put task existing --meta 'not json'
refused invalid_argument 2 put task existing --meta '[1,2]'
refused invalid_argument 2 put task existing --meta '"text"'
refused invalid_argument 2 put task existing --meta '{"a":1'
big_meta=$("$PY" -c 'import json; print(json.dumps({"pad": "x" * 65536}))')
refused invalid_argument 2 put task existing --meta "$big_meta"

t "bad --if-match values"
refused invalid_argument 2 put task existing --if-match abc
refused invalid_argument 2 put task existing --if-match "$(printf 'z%.0s' $(seq 64))"

t "stale --if-match is a failed precondition (exit 4)"
stale=$(sha256sum "$TMP/w" | cut -d' ' -f1)
refused precondition_failed 4 put task existing --if-match "$stale"

t "--create on an existing key is a failed precondition (exit 4)"
refused precondition_failed 4 put task existing --create
refused precondition_failed 4 --sandbox _global put instructions style --create

t "a value of max_value_size + 1 bytes from a pipe is value_too_large"
LAST_CMD="head -c 50MiB+1 /dev/zero | agentkv put task big"
head -c $((50 * 1024 * 1024 + 1)) /dev/zero |
    "$AGENTKV" --dir "$STORE" put task big >"$OUT" 2>"$ERR"
RC=$?
expect_error value_too_large 3
expect_unchanged base

t "a file of max_value_size + 1 bytes is refused before it is read"
head -c $((50 * 1024 * 1024 + 1)) /dev/zero >"$TMP/big"
refused value_too_large 3 put task big "$TMP/big"
expect_err_contains "52428801"
rm -f "$TMP/big"

t "a value of exactly max_value_size is accepted"
printf '[store]\nmax_value_size = 1KiB\n' >"$TMP/small.ini"
head -c 1024 /dev/zero >"$TMP/1k"
head -c 1025 /dev/zero >"$TMP/1k1"
akv --config "$TMP/small.ini" put task exact "$TMP/1k"
expect_ok
akv del task exact
expect_ok
refused value_too_large 3 --config "$TMP/small.ini" put task exact "$TMP/1k1"
akv_in "$TMP/1k1" --config "$TMP/small.ini" put task exact -
expect_error value_too_large 3
expect_unchanged base
LAST_CMD="cat 1k1 | agentkv --config small.ini put task exact"
cat "$TMP/1k1" | "$AGENTKV" --dir "$STORE" --config "$TMP/small.ini" put task exact >"$OUT" 2>"$ERR"
RC=$?
expect_error value_too_large 3
expect_unchanged base

t "a write over the namespace quota is quota_exceeded (exit 3)"
printf '[scope.task]\nquota = 16\n' >"$TMP/quota.ini"
refused quota_exceeded 3 --config "$TMP/quota.ini" put task newkey
expect_err_contains "16"

t "an input file that does not exist"
refused invalid_argument 2 put task existing "$TMP/no-such-file"

t "a directory as the input file"
refused invalid_argument 2 put task existing "$TMP"

t "--limit must be a positive integer"
for n in 0 -1 abc 1.5 ""; do
    refused invalid_argument 2 ls task --limit "$n"
done

t "clear without --yes is refused"
refused invalid_argument 2 clear task
expect_err_contains "--yes"

t "del of a _global entry through the overlay is not_found"
refused not_found 1 del instructions style

finish

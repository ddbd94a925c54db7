#!/usr/bin/env bash
# Several processes writing one store directory at once lose nothing:
#   - two `agentkv put` loops write disjoint keys and one shared key; every
#     key is present afterwards and the shared key's version equals the
#     total number of writes to it (no lost update);
#   - four library writers (akv-writer) do the same, faster.
set -u
AGENTKV=${AGENTKV:?path of the agentkv binary}
WRITER=${AKV_TEST_HELPERS:?}/akv-writer
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
store=$dir/store
pass=0
die() { echo "FAIL: $*"; echo "$pass passed, 1 failed"; exit 1; }
N=${AKV_CONCURRENCY_WRITES:-60}
# Under the sanitizers, without LeakSanitizer's check at exit (about 35 ms
# for each of the ~360 processes): the point here is concurrency, and the
# same put and get are leak-checked in cli-crud.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

cli_writer() { # NAME
    for i in $(seq 1 "$N"); do
        printf '%s-%s' "$1" "$i" | "$AGENTKV" --dir "$store" --sandbox crash put task "$1/$i" - || return 1
        printf '%s' "$1" | "$AGENTKV" --dir "$store" --sandbox crash put task shared - || return 1
    done
}
cli_writer a & pa=$!
cli_writer b & pb=$!
wait "$pa" || die "CLI writer a failed"
wait "$pb" || die "CLI writer b failed"
for w in a b; do
    for i in $(seq 1 "$N"); do
        got=$("$AGENTKV" --dir "$store" --sandbox crash get task "$w/$i") || die "$w/$i missing"
        [ "$got" = "$w-$i" ] || die "$w/$i = '$got', expected '$w-$i'"
    done
done
version=$("$AGENTKV" --dir "$store" --sandbox crash --json get task shared --meta |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
[ "$version" = $((2 * N)) ] || die "shared key version $version, expected $((2 * N)) (lost updates)"
pass=$((pass + 1))
echo "ok - two CLI processes: $((4 * N)) writes, none lost"

for w in 1 2 3 4; do "$WRITER" "$store" "lib$w" 150 sharedlib >"$dir/w$w.log" & done
wait || die "a library writer failed"
for w in 1 2 3 4; do
    [ "$(grep -c '^ok ' "$dir/w$w.log")" = 150 ] || die "writer $w acknowledged fewer than 150 writes"
done
count=$("$AGENTKV" --dir "$store" --sandbox crash --json ls task --prefix lib | wc -l)
[ "$count" = 600 ] || die "found $count lib* keys, expected 600"
version=$("$AGENTKV" --dir "$store" --sandbox crash --json get task sharedlib --meta |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
[ "$version" = 600 ] || die "sharedlib version $version, expected 600 (lost updates)"
pass=$((pass + 1))
echo "ok - four library writers: 1200 writes, none lost"
echo "$pass passed, 0 failed"

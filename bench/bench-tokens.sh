#!/usr/bin/env bash
# bench-tokens.sh — tokenizer throughput, agentkv vs the npm tiktoken package
# (OpenAI's tiktoken compiled to WASM) under Node, in one run, on the same
# 1 MiB Markdown/code mix (tests/tokenizer/gen-corpus.cjs, deterministic).
#
# agentkv: `agentkv tokens` on REPS copies of the file in one process (so
# process start and the encoding load, reported separately, are spread
# over REPS MiB), best of three runs, wall clock. tiktoken: encode_ordinary()
# on the same text REPS times after get_encoding() (load excluded), best of
# three rounds. Both for o200k_base and cl100k_base; the ids of the file
# must be identical or the benchmark fails.
#
# Usage: bench/bench-tokens.sh [REPS]   (default 16; env AGENTKV names the
# binary, default build/agentkv; needs `make deps` for the npm package)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AGENTKV=${AGENTKV:-$root/build/agentkv}
export AKV_NPM_DIR=${AKV_NPM_DIR:-$root/build/npm}
reps=${1:-16}
[ -x "$AGENTKV" ] || { echo "bench-tokens: no binary at $AGENTKV (make)" >&2; exit 1; }
[ -f "$AKV_NPM_DIR/node_modules/tiktoken/package.json" ] ||
    bash "$root/scripts/fetch-tokenizers.sh" >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-tokens.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mix="$tmp/mix.md"
node "$root/tests/tokenizer/gen-corpus.cjs" mix 1048576 "$mix"
copies=()
for ((i = 0; i < reps; i++)); do copies+=("$mix"); done

now() { date +%s.%N; }
# best_wall CMD...: the shortest wall time of three runs, in seconds.
best_wall() {
    local best="" t0 t1 d
    for _ in 1 2 3; do
        t0=$(now)
        "$@" >/dev/null
        t1=$(now)
        d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
        best=$(awk -v d="$d" -v b="${best:-1e9}" 'BEGIN { print (d < b ? d : b) }')
    done
    echo "$best"
}

tiktoken_version=$(node -p "require('$AKV_NPM_DIR/node_modules/tiktoken/package.json').version")
echo "tokenizer benchmark: 1 MiB Markdown/code mix x $reps, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
echo "agentkv $("$AGENTKV" version | cut -d' ' -f2) vs tiktoken $tiktoken_version (npm, WASM) on Node $(node --version)"
printf '%-12s %12s %12s %8s %12s %12s %10s\n' encoding agentkv_MB/s tiktoken_MB/s ratio agentkv_load tiktoken_load ids
status=0
for enc in o200k_base cl100k_base; do
    "$AGENTKV" tokens --ids --encoding "$enc" "$mix" >"$tmp/ours.txt"
    start=$(best_wall "$AGENTKV" tokens --encoding "$enc" /dev/null)
    total=$(best_wall "$AGENTKV" tokens --encoding "$enc" "${copies[@]}")
    ours=$(awk -v r="$reps" -v t="$total" 'BEGIN { printf "%.3f", 1048576 * r / t / 1e6 }')
    theirs_json=$(node "$root/bench/bench-tokens.cjs" "$enc" "$mix" "$reps" "$tmp/ours.txt")
    theirs=$(node -p "JSON.parse(process.argv[1]).mb_per_s" "$theirs_json")
    tload=$(node -p "JSON.parse(process.argv[1]).load_ms" "$theirs_json")
    same=$(node -p "JSON.parse(process.argv[1]).identical ? 'identical' : 'DIFFERENT'" "$theirs_json")
    [ "$same" = identical ] || status=1
    printf '%-12s %12.1f %12.1f %7.1fx %10.0fms %10.0fms %10s\n' "$enc" "$ours" "$theirs" \
        "$(awk -v a="$ours" -v b="$theirs" 'BEGIN { print a / b }')" \
        "$(awk -v s="$start" 'BEGIN { print s * 1000 }')" "$tload" "$same"
done
echo "(agentkv_load: a whole 'agentkv tokens' process on an empty file; tiktoken_load: get_encoding() in a running Node)"
exit $status

#!/usr/bin/env bash
# bench-tokens.sh — tokenizer throughput, agentkv vs three JavaScript
# tokenizers under Node, in one run: npm tiktoken (OpenAI's tiktoken
# compiled to WASM), js-tiktoken and gpt-tokenizer (pure JavaScript), at the
# versions pinned by bench/package-lock.json.
#
# Two inputs of 1 MiB, both from tests/tokenizer/gen-corpus.cjs
# (deterministic): "mix", the project's Markdown/code mix (English prose,
# lists, tables, code in six languages, JSON, URLs), and "multi", a
# multilingual mix (Chinese, Japanese, Korean, Arabic, Hindi, Thai, Russian,
# Greek, emoji with ZWJ sequences and flags, sentences mixing scripts, code
# with comments in those scripts). Both encodings, o200k_base and
# cl100k_base.
#
# Before timing, the ids of every library on every input must equal
# agentkv's: any difference stops the benchmark with the place it was found
# (exit 1). Then ROUNDS rounds, interleaved: in each round, for each input
# and encoding, agentkv runs once (`agentkv tokens` on COPIES copies of the
# file in one process, so process start and loading the encoding, a few
# ms, are included), then each library once (REPS encodes of the file in a
# running Node, timed in the process after a warm-up encode; loading
# excluded). Throughput is bytes per second of CPU time (user + system:
# the agentkv process; Node's whole process during the encodes), because
# on a shared machine wall-clock time mostly measures the other load; the
# wall-clock figures are printed too. The tables give the medians of the
# rounds and the ratio to each library, with the load average before and
# after (read the ratios, not the MB/s).
#
# Usage: bench/bench-tokens.sh [ROUNDS] [REPS] [COPIES]  (default 5 2 32)
# Env: AGENTKV (default build/agentkv); AGENTKV_BASELINE, another agentkv
# binary (an older build) timed the same way in the same rounds, shown as
# "baseline" with its own ratio to each library; AKV_BENCH_NPM_DIR (default
# build/bench-npm), where the pinned packages are installed with `npm ci`
# when missing or when bench/package-lock.json changed (npm registry).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AGENTKV=${AGENTKV:-$root/build/agentkv}
export AKV_BENCH_NPM_DIR=${AKV_BENCH_NPM_DIR:-$root/build/bench-npm}
rounds=${1:-5}
reps=${2:-2}
copies=${3:-32}
libs=(tiktoken js-tiktoken gpt-tokenizer)
encodings=(o200k_base cl100k_base)
inputs=(mix multi)

die() {
    echo "bench-tokens: $*" >&2
    exit 1
}
[ -x "$AGENTKV" ] || die "no binary at $AGENTKV (make)"
bins=(agentkv)
if [ -n "${AGENTKV_BASELINE:-}" ]; then
    [ -x "$AGENTKV_BASELINE" ] || die "no binary at $AGENTKV_BASELINE"
    bins+=(baseline)
fi
bin_path() { if [ "$1" = agentkv ]; then echo "$AGENTKV"; else echo "$AGENTKV_BASELINE"; fi; }
for n in "$rounds" "$reps" "$copies"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS, REPS and COPIES are positive integers"
done

stamp="$AKV_BENCH_NPM_DIR/.installed-lock"
if ! cmp -s "$root/bench/package-lock.json" "$stamp"; then
    mkdir -p "$AKV_BENCH_NPM_DIR"
    cp "$root/bench/package.json" "$root/bench/package-lock.json" "$AKV_BENCH_NPM_DIR/"
    (cd "$AKV_BENCH_NPM_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
        die "npm ci failed in $AKV_BENCH_NPM_DIR"
    cp "$root/bench/package-lock.json" "$stamp"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-tokens.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for in in "${inputs[@]}"; do
    node "$root/tests/tokenizer/gen-corpus.cjs" "$in" 1048576 "$tmp/$in.txt"
done

version() { node -p "require('$AKV_BENCH_NPM_DIR/node_modules/$1/package.json').version"; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "tokenizer benchmark: 1 MiB inputs, $rounds interleaved rounds, $(nproc) cores, Node $(node --version)"
echo "agentkv $("$AGENTKV" version | cut -d' ' -f2) ($copies copies per run) vs" \
    "$(for l in "${libs[@]}"; do printf '%s %s, ' "$l" "$(version "$l")"; done)($reps encodes per run)"

# The ids first: every library must give agentkv's ids on every input.
for enc in "${encodings[@]}"; do
    for in in "${inputs[@]}"; do
        "$AGENTKV" tokens --ids --encoding "$enc" <"$tmp/$in.txt" >"$tmp/ids-$enc-$in.txt"
        if [ -n "${AGENTKV_BASELINE:-}" ]; then
            "$AGENTKV_BASELINE" tokens --ids --encoding "$enc" <"$tmp/$in.txt" |
                cmp -s - "$tmp/ids-$enc-$in.txt" || die "MISMATCH: the baseline's ids differ ($in, $enc)"
        fi
        for lib in "${libs[@]}"; do
            node "$root/bench/bench-tokens.cjs" "$lib" "$enc" "$tmp/$in.txt" 1 \
                "$tmp/ids-$enc-$in.txt" >/dev/null ||
                die "$lib failed on $in ($enc): see above"
        done
    done
done
echo "ids: identical for every library, input and encoding"

now() { date +%s.%N; }
: >"$tmp/results"
for ((r = 1; r <= rounds; r++)); do
    for enc in "${encodings[@]}"; do
        for in in "${inputs[@]}"; do
            files=()
            for ((i = 0; i < copies; i++)); do files+=("$tmp/$in.txt"); done
            for bin in "${bins[@]}"; do
                # `times` in the subshell: the CPU time of its one child.
                t0=$(now)
                cpu=$( ("$(bin_path "$bin")" tokens --encoding "$enc" "${files[@]}" >/dev/null; times) |
                    tail -n 1 | sed 's/[ms]/ /g' | awk '{ print $1 * 60 + $2 + $3 * 60 + $4 }')
                t1=$(now)
                awk -v a="$t0" -v b="$t1" -v c="$cpu" -v n="$copies" -v e="$enc" -v i="$in" -v x="$bin" \
                    'BEGIN { printf "%s %s %s %.3f %.3f\n", i, e, x, 1048576 * n / (b - a) / 1e6, 1048576 * n / c / 1e6 }' >>"$tmp/results"
            done
            for lib in "${libs[@]}"; do
                node "$root/bench/bench-tokens.cjs" "$lib" "$enc" "$tmp/$in.txt" "$reps" |
                    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);
                        console.log(process.argv.slice(1).join(" "), r.mb_per_s, r.mb_per_cpu_s)})' "$in" "$enc" "$lib" >>"$tmp/results"
            done
        done
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$tmp/results" "${libs[@]}" <<'EOF'
import statistics, sys
libs = sys.argv[2:]
runs = {}
for line in open(sys.argv[1]):
    i, e, who, wall, cpu = line.split()
    runs.setdefault((i, e, who), []).append((float(wall), float(cpu)))
bins = ["agentkv"] + (["baseline"] if ("mix", "o200k_base", "baseline") in runs else [])
for col, title in ((1, "CPU time"), (0, "wall clock")):
    med = {k: statistics.median(x[col] for x in v) for k, v in runs.items()}
    print("median MB per second of %s; ratio = agentkv (or the baseline) / library" % title)
    print("%-6s %-12s %-9s" % ("input", "encoding", "") + "".join("%14s" % h for h in ["MB/s"] + libs) +
          "".join("%17s" % ("vs " + l) for l in libs))
    for i in ("mix", "multi"):
        for e in ("o200k_base", "cl100k_base"):
            for b in bins:
                a = med[(i, e, b)]
                row = "%-6s %-12s %-9s" % (i, e, b) + "%14.2f" % a
                row += "".join("%14.2f" % med[(i, e, l)] for l in libs)
                row += "".join("%16.1fx" % (a / med[(i, e, l)]) for l in libs)
                print(row)
EOF
echo "load average (1, 5, 15 min): before $load_before, after $load_after"

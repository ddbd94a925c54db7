#!/usr/bin/env bash
# bench-prompt.sh — time of `agentkv prompt build --mode reference` on a
# store with N instruction sets (default 100), end to end: process start,
# store open, the catalog of every set, rendering, output. Target: < 10 ms.
#
# The sets are generated here (deterministic: set-000 … set-099, each with a
# one-sentence description and a body of about 1,500 tokens) and seeded into
# _global of a fresh store. Measured with hyperfine when it is installed
# (apt-get install hyperfine), else with a loop of RUNS builds. For scale it
# also times the same build with --report (which loads the tokenizer and
# counts the prompt and its inline baseline), an inline build, and
# `agentkv version` (process start-up alone). Then bench-prompt.c, compiled
# here against the build's static library, times akv_prompt_build in one
# process, without start-up: what the server pays per GET .../prompt, and
# akv_search on the same sets (target for both on 1,000 sets: < 5 ms).
#
# Usage: bench/bench-prompt.sh [N] [RUNS]   (env AGENTKV names the binary,
# default build/agentkv)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AGENTKV=${AGENTKV:-$root/build/agentkv}
n=${1:-100}
runs=${2:-200}
[ -x "$AGENTKV" ] || { echo "bench-prompt: no binary at $AGENTKV (make)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-prompt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sets"
python3 - "$tmp/sets" "$n" <<'EOF'
import os, sys
out, n = sys.argv[1], int(sys.argv[2])
para = ("Check the inputs before acting, state the assumptions you make, and "
        "prefer the smallest change that solves the problem. ")
for i in range(n):
    name = "set-%03d" % i
    body = "# Set %d\n\n" % i + "\n\n".join(
        "## Step %d\n\n%s" % (k, para * 6) for k in range(12)) + "\n"
    with open(os.path.join(out, name + ".md"), "w") as f:
        f.write("---\nname: %s\ndescription: Load when the task involves "
                "area %d of the product: its data model, its API and the "
                "checks it needs.\n---\n%s" % (name, i, body))
EOF
store="$tmp/store"
# 1,000 sets of ~1,660 tokens are over the default 5 MiB quota of scope
# instructions: the store's own config.ini raises it.
mkdir -p "$store"
printf '[scope.instructions]\nquota = 1GiB\n' >"$store/config.ini"
"$AGENTKV" --dir "$store" seed --global "$tmp/sets" >/dev/null
out=$("$AGENTKV" --dir "$store" prompt build --mode reference --report 2>&1 >"$tmp/ref.md")
echo "store: $n instruction sets in _global"
echo "$out" | sed 's/^/  /'
echo "  reference prompt: $(wc -c <"$tmp/ref.md") bytes"
echo

cmd="$AGENTKV --dir $store prompt build --mode reference"
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 20 --runs "$runs" --export-json "$tmp/h.json" \
        "$AGENTKV version" "$cmd" "$cmd --report" \
        "$AGENTKV --dir $store prompt build --mode inline" >/dev/null 2>&1
    python3 - "$tmp/h.json" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    c = r["command"]
    name = ("prompt build " + c.split("prompt build ", 1)[1]) if "prompt build" in c \
        else "version (process start alone)"
    print("%-40s wall mean %6.2f ms  median %6.2f  min %6.2f | cpu user %5.2f + sys %5.2f ms  (%d runs)"
          % (name, r["mean"] * 1e3, r["median"] * 1e3, r["min"] * 1e3,
             r["user"] * 1e3, r["system"] * 1e3, len(r["times"])))
EOF
    echo "(hyperfine; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); on a busy machine wall times include waiting for a CPU)"
else
    for args in "--mode reference" "--mode reference --report" "--mode inline"; do
        t0=$(date +%s%N)
        for ((i = 0; i < runs; i++)); do
            "$AGENTKV" --dir "$store" prompt build $args >/dev/null 2>&1
        done
        t1=$(date +%s%N)
        awk -v a="$t0" -v b="$t1" -v r="$runs" -v n="$args" \
            'BEGIN { printf "prompt build %-26s mean %6.2f ms  (%d runs, loop)\n", n, (b - a) / r / 1e6, r }'
    done
fi

lib="$(dirname "$AGENTKV")/libagentkv.a"
if [ -f "$lib" ] && command -v cc >/dev/null 2>&1; then
    echo
    cc -O2 -std=c11 -D_GNU_SOURCE -I"$root/include" "$root/bench/bench-prompt.c" \
        "$lib" $(pkg-config --libs lmdb jansson libcrypto inih libpcre2-8 hiredis) \
        -lpthread -o "$tmp/bench-prompt"
    "$tmp/bench-prompt" "$store" "$runs"
fi

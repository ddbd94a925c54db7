#!/usr/bin/env bash
# run.sh — every benchmark of bench/, in one run on this machine, each
# printing its own figures and the ratios against its peers (raw LMDB and
# SHA-256 alone; Redis; npm tiktoken; the Redis backend against Redis itself
# and LMDB). `make bench` calls this after building. Benchmarks whose
# prerequisites are missing say so and are skipped; the others still run.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
status=0
run() { # TITLE COMMAND...
    printf '\n== %s ==\n' "$1"
    shift
    "$@" || { echo "bench: '$*' failed"; status=1; }
}
run "store reads: akv_get vs raw LMDB" build/bench_get
run "store reads on two threads at once: akv_get vs raw LMDB" env BENCH_THREADS=2 build/bench_get
[ -f bench/bench-tokens.sh ] && run "tokenizer: agentkv vs npm tiktoken, js-tiktoken, gpt-tokenizer" bash bench/bench-tokens.sh
[ -f bench/bench-prompt.sh ] && run "prompt build, 100 instruction sets" bash bench/bench-prompt.sh
[ -f bench/bench-http.sh ] && run "HTTP: agentkv serve vs redis-server" bash bench/bench-http.sh
# The same with a busy loop on every core: docs/performance.md reports
# the HTTP figures at low and at high load.
[ -f bench/bench-http.sh ] && run "HTTP at high load (a busy loop on every core): agentkv serve vs redis-server" env BENCH_LOAD=1 bash bench/bench-http.sh
# And both without the write log (store.write_log, on by default), to
# show what it buys: the durable PUTs of distinct keys.
[ -f bench/bench-http.sh ] && run "HTTP without the write log: agentkv serve vs redis-server" env BENCH_WRITE_LOG=0 bash bench/bench-http.sh
[ -f bench/bench-http.sh ] && run "HTTP without the write log at high load: agentkv serve vs redis-server" env BENCH_WRITE_LOG=0 BENCH_LOAD=1 bash bench/bench-http.sh
[ -x build/bench_commit ] && run "disk: a durable LMDB commit against a log append, against deferring LMDB's sync to a checkpoint, and against syncing in the background, per write, by batch size" build/bench_commit build/bench-commit
[ -f bench/disk-sync.py ] && run "disk: fdatasync of scattered pages vs one run of pages (store directory's disk)" python3 bench/disk-sync.py build
[ -f bench/bench-redis.sh ] && run "Redis backend: agentkv on Redis vs on LMDB vs redis-server" bash bench/bench-redis.sh
exit $status

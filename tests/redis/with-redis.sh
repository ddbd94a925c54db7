#!/usr/bin/env bash
# with-redis.sh CMD [ARGS...] — runs CMD with a private redis-server and
# AKV_TEST_BACKEND and AGENTKV_BACKEND set to its URL: how the conformance
# suite runs the store's unit tests (tu_store_open reads the first) and the
# multi-process CLI tests (the agentkv command and tests/helpers/akv-writer
# read the second) against the Redis backend. The exit status is CMD's.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/redis.sh"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-redis.XXXXXX") || exit 2
trap 'redis_stop; rm -rf "$DIR"' EXIT
redis_start "$DIR/redis" || exit 2
AKV_TEST_BACKEND=$REDIS_URL AGENTKV_BACKEND=$REDIS_URL "$@"

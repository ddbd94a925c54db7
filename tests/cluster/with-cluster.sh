#!/usr/bin/env bash
# with-cluster.sh CMD [ARGS...] — runs CMD with a private 3-master +
# 3-replica Redis Cluster (cluster.sh) and AKV_TEST_BACKEND and
# AGENTKV_BACKEND set to the URL of one of its nodes: how the conformance
# suite (the store's unit tests, tests/unit/testutil.c) runs against a
# cluster. AKV_TEST_CLUSTER lists every node (HOST:PORT,…) so that the
# tests can empty all masters between cases. The exit status is CMD's.
#
# The nodes take Redis' default cluster-node-timeout, 15 s, not the 2 s of
# the failover tests: no test here kills a node, and a master that a 50 MiB
# value under AddressSanitizer on a busy machine kept silent for 2 s was
# failed over, losing a write its replica had not copied (agentkv waits for
# no replica unless the URL says wait=1: docs/operations.md).
set -u
CLUSTER_NODE_TIMEOUT=${CLUSTER_NODE_TIMEOUT:-15000}
. "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/agentkv-cluster.XXXXXX") || exit 2
trap 'cluster_stop; rm -rf "$DIR"' EXIT
cluster_start "$DIR/cluster" || exit 2
AKV_TEST_CLUSTER=$CLUSTER_SEEDS AKV_TEST_BACKEND=$CLUSTER_URL/0 \
    AGENTKV_BACKEND=$CLUSTER_URL "$@"

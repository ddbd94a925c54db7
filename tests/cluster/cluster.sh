# cluster.sh — starts and stops a private Redis Cluster for a test (sourced):
# three masters and three replicas of the real redis-server from Debian, on
# six free loopback ports, each node with its data (append-only file, fsync
# always) and its cluster config in a directory of its own.
#
#   cluster_start DIR   starts the six nodes, joins them with
#                       `redis-cli --cluster create --cluster-replicas 1`,
#                       waits until every node reports cluster_state:ok and
#                       knows all six, and every replica is in sync; sets CLUSTER_PORTS (array, in start
#                       order), CLUSTER_PIDS (port → pid), CLUSTER_URL
#                       (redis://127.0.0.1:FIRST) and CLUSTER_SEEDS (every
#                       node, comma-separated)
#   cluster_stop        stops every node (SIGTERM, waits); safe to call twice
#   cluster_kill PORT   SIGKILL of one node, no clean shutdown
#   cluster_restart PORT  starts a killed node again (same port and data)
#   cluster_masters     prints the ports of the current masters
#   cluster_wait_ok [N] waits (N tenths of a second, default 300) until every
#                       live node reports cluster_state:ok
#
# CLUSTER_NODE_TIMEOUT (milliseconds, default 2000) is each node's
# cluster-node-timeout: how long a master may be silent before its replica
# is promoted. The tests that kill masters want that soon; the conformance
# suite (with-cluster.sh) kills none, and there a promotion would only
# come of a master slowed by its load, and would drop the writes its
# replica had not yet copied.
#
# A script that sources this should call cluster_stop from its EXIT trap;
# cluster_start installs one of its own (stop, then remove DIR) when the
# script has none, and the INT/TERM traps end in EXIT. Nothing is shared
# between tests but the record of the ports handed out (cluster_free_ports),
# so they may run in parallel.

command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    { echo "redis-server and redis-cli are needed (make deps)" >&2; exit 2; }

CLUSTER_PORTS=()
declare -A CLUSTER_PIDS=()
CLUSTER_DIR=""

# Six distinct free ports. The cluster bus listens on PORT + 10000, so a
# port whose bus port is taken is skipped as well. No port (or bus port)
# is handed out twice within an hour, to this test or to another running
# at the same time: the nodes of a cluster keep calling a node that a
# test stopped (a failover test kills masters), and a node of another
# cluster that took its port would answer and be gossiped into the first
# cluster, the two merging. The ports handed out are kept, under a lock,
# in $TMPDIR/agentkv-cluster-ports.
cluster_free_ports() {
    /usr/bin/python3 - <<'EOF'
import fcntl, os, socket, time
path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "agentkv-cluster-ports")
now = time.time()
with open(path, "a+") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    f.seek(0)
    recent = []
    for line in f:
        try:
            port, when = line.split()
            if now - float(when) < 3600:
                recent.append((int(port), float(when)))
        except ValueError:
            pass
    # A node's port and its bus port: neither may be one of a recent node's.
    taken = {p for p, _ in recent} | {p + 10000 for p, _ in recent}
    ports, held = [], []
    while len(ports) < 6:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        held.append(s)
        if p + 10000 > 65535 or p in ports or p in taken or p + 10000 in taken:
            continue
        b = socket.socket()
        try:
            b.bind(("127.0.0.1", p + 10000))
        except OSError:
            continue
        finally:
            b.close()
        ports.append(p)
        taken |= {p, p + 10000}
    f.seek(0)
    f.truncate()
    for p, when in recent + [(p, now) for p in ports]:
        f.write(f"{p} {when}\n")
print(" ".join(map(str, ports)))
EOF
}

cluster_node_start() {
    local port=$1 dir="$CLUSTER_DIR/$1"
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" \
        --cluster-enabled yes --cluster-config-file nodes.conf \
        --cluster-node-timeout "${CLUSTER_NODE_TIMEOUT:-2000}" \
        --appendonly yes --appendfsync always \
        --repl-diskless-sync-delay 0 \
        --save '' --daemonize no --maxmemory-policy noeviction \
        --logfile "$dir/redis.log" </dev/null >/dev/null 2>&1 &
    CLUSTER_PIDS[$port]=$!
}

cluster_alive() { # PORT
    local pid=${CLUSTER_PIDS[$1]:-}
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

cluster_info_field() { # PORT FIELD
    redis-cli -p "$1" cluster info 2>/dev/null | tr -d '\r' |
        sed -n "s/^$2://p"
}

cluster_wait_ok() {
    local tries=${1:-300} i p ok
    for i in $(seq 1 "$tries"); do
        ok=1
        for p in "${CLUSTER_PORTS[@]}"; do
            cluster_alive "$p" || continue
            [ "$(cluster_info_field "$p" cluster_state)" = ok ] &&
                [ "$(cluster_info_field "$p" cluster_known_nodes)" = 6 ] ||
                { ok=0; break; }
        done
        [ "$ok" = 1 ] && return 0
        sleep 0.1
    done
    return 1
}

cluster_wait_replicas() {
    local i p ok
    for i in $(seq 1 300); do
        ok=1
        for p in "${CLUSTER_PORTS[@]}"; do
            [ "$(redis-cli -p "$p" cluster nodes 2>/dev/null |
                grep -cE '[ ,]slave ')" = 3 ] || { ok=0; break; }
            if redis-cli -p "$p" role 2>/dev/null | head -1 | grep -qx slave; then
                redis-cli -p "$p" info replication 2>/dev/null | tr -d '\r' |
                    grep -qx 'master_link_status:up' || { ok=0; break; }
            fi
        done
        [ "$ok" = 1 ] && return 0
        sleep 0.1
    done
    return 1
}

cluster_start() {
    CLUSTER_DIR=$1
    mkdir -p "$CLUSTER_DIR"
    [ -n "$(trap -p EXIT)" ] || trap 'cluster_stop; rm -rf "$CLUSTER_DIR"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    read -r -a CLUSTER_PORTS <<<"$(cluster_free_ports)"
    local p i up
    for p in "${CLUSTER_PORTS[@]}"; do
        cluster_node_start "$p"
    done
    for p in "${CLUSTER_PORTS[@]}"; do
        up=0
        for i in $(seq 1 200); do
            if redis-cli -p "$p" ping 2>/dev/null | grep -q PONG; then
                up=1; break
            fi
            kill -0 "${CLUSTER_PIDS[$p]}" 2>/dev/null || break
            sleep 0.05
        done
        if [ "$up" != 1 ]; then
            echo "cluster node $p did not start:" >&2
            cat "$CLUSTER_DIR/$p/redis.log" >&2
            return 1
        fi
    done
    local addrs=()
    for p in "${CLUSTER_PORTS[@]}"; do addrs+=("127.0.0.1:$p"); done
    if ! redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 \
            --cluster-yes >"$CLUSTER_DIR/create.log" 2>&1; then
        echo "redis-cli --cluster create failed:" >&2
        cat "$CLUSTER_DIR/create.log" >&2
        return 1
    fi
    # Ready means more than cluster_state:ok: every node knows the three
    # replicas as such and each replica has synchronised with its master,
    # so that a test may kill a master at once and see it replaced.
    if ! cluster_wait_ok || ! cluster_wait_replicas; then
        echo "the cluster did not reach cluster_state:ok" >&2
        for p in "${CLUSTER_PORTS[@]}"; do
            echo "--- node $p" >&2
            redis-cli -p "$p" cluster nodes >&2 2>&1
        done
        return 1
    fi
    CLUSTER_URL="redis://127.0.0.1:${CLUSTER_PORTS[0]}"
    CLUSTER_SEEDS=$(IFS=,; echo "${addrs[*]}")
    return 0
}

cluster_masters() {
    local p
    for p in "${CLUSTER_PORTS[@]}"; do
        cluster_alive "$p" || continue
        redis-cli -p "$p" role 2>/dev/null | head -1 | grep -qx master &&
            echo "$p"
    done
}

# cluster_restart PORT: starts a killed node again on its port and data
# directory (its nodes.conf: it rejoins, as a replica if it was replaced).
cluster_restart() {
    cluster_node_start "$1"
}

cluster_kill() {
    local pid=${CLUSTER_PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    CLUSTER_PIDS[$1]=""
}

cluster_stop() {
    local p pid
    for p in "${!CLUSTER_PIDS[@]}"; do
        pid=${CLUSTER_PIDS[$p]}
        [ -n "$pid" ] || continue
        kill -CONT "$pid" 2>/dev/null
        kill -TERM "$pid" 2>/dev/null
    done
    for p in "${!CLUSTER_PIDS[@]}"; do
        pid=${CLUSTER_PIDS[$p]}
        [ -n "$pid" ] && wait "$pid" 2>/dev/null
        CLUSTER_PIDS[$p]=""
    done
}

#!/usr/bin/env python3
"""redis-cpu.py — what one request costs an `agentkv serve` on Redis, in CPU
and context switches, for several binaries (or thread counts) in one run.

Starts one redis-server (appendonly yes, appendfsync always) and one
`agentkv serve --backend redis://…` per argument, all on that Redis, then
alternates `wrk -t2` runs of 1 KiB PUTs (or GETs) of one key against each
server, ROUNDS times (the order reversed every other round), with a
`redis-benchmark --threads 2` SET (or GET) run per round. Per run it
reads, from /proc, the server's CPU time (all threads, user + system) and
context switches (all threads; voluntary ones apart) and Redis' CPU time,
and the load generator's (wrk's, redis-benchmark's) CPU time,
and from Redis' INFO commandstats the EVALSHA calls, and prints them per
request; at the end the median of each figure per server, the load
average, and the ratio of the median rate to the median redis-benchmark
rate. CPU per request moves far less with the machine's other load than
requests per second do.

Usage: bench/redis-cpu.py AGENTKV[:THREADS] [AGENTKV[:THREADS] ...]
  MODE=put|get   what wrk sends (default put)
  DUR=4          seconds per run
  ROUNDS=3       rounds
  CONNS=50       connections (wrk and redis-benchmark)
  ACCESS=file    the servers' access log: file (default) or off
  SET=1          0: no redis-benchmark runs
  PERF=FILE      perf record each server during its runs, to FILE.N.ROUND
                 (CG=dwarf for call graphs through libraries without frame
                 pointers)
"""
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

servers_args = sys.argv[1:]
if not servers_args:
    sys.exit(__doc__)
MODE = os.environ.get("MODE", "put")
DUR = int(os.environ.get("DUR", "4"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CONNS = int(os.environ.get("CONNS", "50"))
ACCESS = os.environ.get("ACCESS", "file")
SET = os.environ.get("SET", "1") == "1"
tmp = tempfile.mkdtemp(prefix="agentkv-redis-cpu.")
procs = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def switches(pid, kinds=("voluntary", "nonvoluntary")):
    n = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            s = open(f"/proc/{pid}/task/{t}/status").read()
        except OSError:
            continue
        for k in kinds:
            n += int(re.search(r"^" + k + r"_ctxt_switches:\s+(\d+)", s, re.M).group(1))
    return n


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


rport = free_port()
os.makedirs(f"{tmp}/redis")
redis = subprocess.Popen(
    ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--dir", f"{tmp}/redis",
     "--appendonly", "yes", "--appendfsync", "always", "--save", "",
     "--maxmemory-policy", "noeviction"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
procs.append(redis)


def redis_cli(*args):
    return subprocess.run(["redis-cli", "-p", str(rport), *args],
                          capture_output=True, text=True).stdout


def evalsha():
    m = re.search(r"cmdstat_evalsha:calls=(\d+),usec=(\d+)", redis_cli("info", "commandstats"))
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def cleanup():
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait()
    subprocess.run(["rm", "-rf", tmp])


try:
    for _ in range(100):
        if redis_cli("ping").strip() == "PONG":
            break
        time.sleep(0.05)
    token = subprocess.run(
        [servers_args[0].split(":")[0], "--dir", f"{tmp}/tok", "token", "create", "--role",
         "admin", "--tokens", f"{tmp}/tokens"], capture_output=True, text=True).stdout.strip()
    servers = []  # (name, pid, url)
    for i, arg in enumerate(servers_args):
        binary, _, threads = arg.partition(":")
        cmd = [binary, "--backend", f"redis://127.0.0.1:{rport}/0", "--dir", f"{tmp}/d{i}",
               "serve", "--listen", "127.0.0.1:0", "--no-seed", "--tokens", f"{tmp}/tokens",
               "--access-log", "off" if ACCESS == "off" else f"{tmp}/access{i}.log"]
        if threads:
            cmd += ["--threads", threads]
        err = open(f"{tmp}/s{i}.err", "w")
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        procs.append(p)
        url = None
        for _ in range(100):
            m = re.search(r"listening on (http:\S+)", open(f"{tmp}/s{i}.err").read())
            if m:
                url = m.group(1)
                break
            time.sleep(0.1)
        if url is None:
            sys.exit("redis-cpu: %s did not start: %s" % (arg, open(f"{tmp}/s{i}.err").read()))
        servers.append((arg, p.pid, url))
    value = os.urandom(768).hex()[:1024]
    with open(f"{tmp}/get.lua", "w") as f:
        f.write(f'wrk.method = "GET"\nwrk.headers["Authorization"] = "Bearer {token}"\n')
    with open(f"{tmp}/put.lua", "w") as f:
        f.write(f'wrk.method = "PUT"\nwrk.headers["Authorization"] = "Bearer {token}"\n'
                f'wrk.headers["Content-Type"] = "application/octet-stream"\n'
                f'wrk.body = "{value}"\n')
    path = "/v1/sandboxes/b/kv/task/k"

    def wrk(url, script, seconds):
        return subprocess.run(["wrk", "-t2", f"-c{CONNS}", f"-d{seconds}s", "--latency",
                               "-s", script, url + path], capture_output=True, text=True).stdout

    def run(i, rnd):
        name, pid, url = servers[i]
        perf = None
        if os.environ.get("PERF"):
            perf = subprocess.Popen(
                ["perf", "record", "--call-graph", os.environ.get("CG", "fp"), "-F", "1000",
                 "-p", str(pid), "-o", f"{os.environ['PERF']}.{i}.{rnd}", "--", "sleep",
                 str(max(DUR - 1, 1))], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        c0, x0, v0, r0, e0 = cpu(pid), switches(pid), switches(pid, ("voluntary",)), \
            cpu(redis.pid), evalsha()
        w0 = children_cpu()
        t = wrk(url, f"{tmp}/{MODE}.lua", DUR)
        w1 = children_cpu()
        c1, x1, v1, r1, e1 = cpu(pid), switches(pid), switches(pid, ("voluntary",)), \
            cpu(redis.pid), evalsha()
        if perf:
            perf.wait()
        n = int(re.search(r"(\d+) requests in", t).group(1))
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
        if bad:
            sys.exit(f"redis-cpu: {name}: {bad.group(1)} non-2xx answers")
        m = re.search(r"^\s+99%\s+([0-9.]+)(us|ms|s)\s*$", t, re.M)
        calls = e1[0] - e0[0]
        return {"rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", t).group(1)),
                "cpu": (c1 - c0) / n * 1e6, "ctx": (x1 - x0) / n, "vol": (v1 - v0) / n,
                "redis": (r1 - r0) / n * 1e6, "client": (w1 - w0) / n * 1e6,
                "p99": float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)],
                "per_script": n / calls if calls else 0.0,
                "us_script": (e1[1] - e0[1]) / calls if calls else 0.0}

    def redis_benchmark():
        r0, w0 = cpu(redis.pid), children_cpu()
        out = subprocess.run(
            ["redis-benchmark", "-p", str(rport), "-c", str(CONNS), "--threads", "2",
             "-n", str(60000 * DUR), "-d", "1024", "-t", "set" if MODE == "put" else "get",
             "--csv"], capture_output=True, text=True).stdout
        r1, w1 = cpu(redis.pid), children_cpu()
        n = 60000 * DUR
        return (float(out.splitlines()[1].split('","')[1].strip('"')),
                (r1 - r0) / n * 1e6, (w1 - w0) / n * 1e6)

    for _, _, url in servers:  # warm-up; also stores the key GETs read
        wrk(url, f"{tmp}/put.lua", 1)
    print(f"redis-cpu: {MODE.upper()}, {CONNS} connections, 1 KiB values, {DUR}s runs, "
          f"{ROUNDS} rounds; redis-server appendonly yes, appendfsync always")
    print(f"redis-cpu: load average before: {load()}", flush=True)
    res = {i: [] for i in range(len(servers))}
    peer = []
    for rnd in range(ROUNDS):
        order = list(range(len(servers)))
        if rnd % 2:
            order.reverse()
        for i in order:
            x = run(i, rnd)
            res[i].append(x)
            print(f"round {rnd} {servers[i][0]}: {x['rps']:.0f} req/s, server CPU "
                  f"{x['cpu']:.1f} us/req, wrk CPU {x['client']:.1f} us/req, {x['ctx']:.2f} switches/req ({x['vol']:.2f} "
                  f"voluntary), Redis CPU {x['redis']:.1f} us/req, {x['per_script']:.1f} "
                  f"req/EVALSHA ({x['us_script']:.0f} us each), p99 {x['p99']:.1f} ms; "
                  f"load {load()}", flush=True)
        if SET:
            rps, rcpu, bcpu = redis_benchmark()
            peer.append(rps)
            print(f"round {rnd} redis-benchmark {MODE == 'put' and 'SET' or 'GET'}: "
                  f"{rps:.0f} req/s, Redis CPU {rcpu:.1f} us/req, redis-benchmark CPU "
                  f"{bcpu:.1f} us/req", flush=True)
    print(f"redis-cpu: load average after: {load()}")
    for i, (name, _, _) in enumerate(servers):
        def med(k):
            return statistics.median(x[k] for x in res[i])
        line = (f"median {name}: {med('rps'):.0f} req/s, server CPU {med('cpu'):.1f} us/req, "
                f"wrk CPU {med('client'):.1f} us/req, "
                f"{med('ctx'):.2f} switches/req ({med('vol'):.2f} voluntary), Redis CPU "
                f"{med('redis'):.1f} us/req, p99 {med('p99'):.1f} ms")
        if peer:
            line += (f", ratio to redis-benchmark ({statistics.median(peer):.0f}/s) "
                     f"{med('rps') / statistics.median(peer):.2f}")
        print(line)
finally:
    cleanup()

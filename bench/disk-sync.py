#!/usr/bin/env python3
"""disk-sync.py — what a durable commit costs the disk under the store, by
the shape of its writes: N pages of 4 KiB written at random places of a
file and then fdatasync'ed (as an LMDB commit of N scattered dirty pages
is), against the same N pages written in one run at one place (as an
append-only log, Redis' AOF among them, writes them).

It writes a scratch file of SIZE_MIB in DIR (the store's disk: default the
current directory), fills it, then for each N takes REPS samples of each
shape, interleaved, and prints the medians of the write and of the
fdatasync, in microseconds, with the load average. The file is removed at
the end.

Usage: bench/disk-sync.py [DIR]
  SIZE_MIB=256   scratch file size
  REPS=100       samples per shape and N
  PAGES=1,8,25,50,100
"""
import os
import random
import statistics
import sys
import time

PAGE = 4096


def main():
    where = sys.argv[1] if len(sys.argv) > 1 else "."
    size = int(os.environ.get("SIZE_MIB", "256")) << 20
    reps = int(os.environ.get("REPS", "100"))
    counts = [int(x) for x in os.environ.get("PAGES", "1,8,25,50,100").split(",")]
    path = os.path.join(where, "disk-sync.%d.scratch" % os.getpid())
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        chunk = os.urandom(1 << 20)
        for off in range(0, size, len(chunk)):
            os.pwrite(fd, chunk, off)
        os.fsync(fd)
        pages = size // PAGE
        buf = os.urandom(PAGE)
        load = open("/proc/loadavg").read().split()[:3]
        print("disk-sync: %s, %d MiB file, %d samples per shape; load average %s"
              % (os.path.abspath(where), size >> 20, reps, " ".join(load)))
        print("%6s %22s %22s %10s" % ("pages", "scattered: write, sync",
                                      "one run: write, sync", "sync ratio"))
        for n in counts:
            res = {"scattered": [], "run": []}
            for _ in range(reps):
                for shape in ("scattered", "run"):
                    t0 = time.perf_counter()
                    if shape == "scattered":
                        for p in random.sample(range(pages), n):
                            os.pwrite(fd, buf, p * PAGE)
                    else:
                        os.pwrite(fd, buf * n, random.randrange(pages - n) * PAGE)
                    t1 = time.perf_counter()
                    os.fdatasync(fd)
                    t2 = time.perf_counter()
                    res[shape].append(((t1 - t0) * 1e6, (t2 - t1) * 1e6))
            med = {k: (statistics.median(w for w, _ in v),
                       statistics.median(s for _, s in v)) for k, v in res.items()}
            print("%6d %10.0f %10.0f us %10.0f %10.0f us %9.1fx"
                  % (n, med["scattered"][0], med["scattered"][1], med["run"][0],
                     med["run"][1], med["scattered"][1] / med["run"][1]))
        print("disk-sync: load average after: %s"
              % " ".join(open("/proc/loadavg").read().split()[:3]))
    finally:
        os.close(fd)
        os.unlink(path)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""powerloss.py — the files a power cut could leave, from an I/O trace.

Reads the trace that tests/helpers/iotrace/iotrace.c wrote of a writer's
run (its format is described there), cuts the power after every event of
it, builds the data files each cut could leave behind, and checks each such
store: every write acknowledged before the cut must be there, intact, and
nothing in the store damaged.

What a cut leaves (the model): a write is durable once an fsync or
fdatasync of the file returned after it, or at once if it went through an
O_DSYNC/O_SYNC descriptor (which writes its page out whole). A write that
is not yet durable may or may not have reached the disk, page by page
(4 KiB): each page holds its last durable content or its content after any
later write to it up to the cut, as if the kernel had written the page back
at any moment. A truncation not yet synced may or may not have happened
either. Each file apart: a sync of one makes nothing of another durable.
Three stores per cut: every such page lost, every such page kept, and each
page drawn at random (a seeded generator, so a failure can be replayed).
Stores that come out the same are checked once, all by one verifier
process.

It prints, per traced file, how many writes the trace holds and how many
of them began inside the file (rewrote bytes it had) rather than at its
end, then a summary of the cuts.

usage: powerloss.py --base DIR --trace FILE --acks FILE --work DIR
                    --verify CMD [--files NAMES] [--seed N] [--random N]
                    [--expect-loss]

  --base DIR    copy of the store's directory before the traced run (its
                data file the starting, durable content)
  --acks FILE   the writer's stdout: line k is what the k-th
                acknowledgement in the trace reported ("ok KEY")
  --verify CMD  the verifier, started once (akv-writer --verify-stream):
                it reads one request a line, "LINES<TAB>ACKS<TAB>DIR", checks
                the "ok KEY" lines among the first LINES lines of ACKS
                against the store in DIR, every entry of which must also be
                sound, and answers "ok N" or "fail WHY" on a line; if it
                dies, that store failed, and a new one is started
  --files NAMES the traced files, as IOTRACE_NAME listed them (default
                data.mdb; data.mdb,data.log with the write log)
  --random N    random stores per cut (default 1)
  --expect-loss succeed only if some store fails its checks (the trace was
                made with IOTRACE_DROP_SYNC=1), and stop at the first that
                does; the default is the opposite
"""
import argparse
import hashlib
import os
import random
import shlex
import shutil
import struct
import subprocess
import sys

PAGE = 4096
K_WRITE, K_DSYNC_WRITE, K_SYNC, K_ACK, K_TRUNCATE = 1, 2, 3, 4, 5
HEAD = struct.Struct("=IIQ")


def read_trace(path):
    events = []
    with open(path, "rb") as f:
        blob = f.read()
    at = 0
    while at < len(blob):
        if at + HEAD.size > len(blob):
            sys.exit("powerloss: the trace ends inside a record")
        kind, length, off = HEAD.unpack_from(blob, at)
        at += HEAD.size
        kind, file = kind & 0xff, kind >> 8
        if kind not in (K_WRITE, K_DSYNC_WRITE, K_SYNC, K_ACK, K_TRUNCATE):
            sys.exit("powerloss: unknown record kind %d in the trace" % kind)
        data = blob[at:at + length]
        if len(data) != length:
            sys.exit("powerloss: the trace ends inside a record")
        at += length
        events.append((kind, file, off, data))
    return events


class Disk:
    """Page cache and disk of one traced file, event by event."""

    def __init__(self, base):
        self.cur = {}    # page -> content now (the page cache)
        self.dur = {}    # page -> durable content
        self.pend = {}   # page -> contents after each write not yet durable
        for i in range(0, len(base), PAGE):
            page = base[i:i + PAGE].ljust(PAGE, b"\0")
            self.cur[i // PAGE] = self.dur[i // PAGE] = page
        self.dur_size = len(base)
        self.size = len(base)
        self.truncated = False  # since the last sync
        # Writes, and those that began inside the file (rewrote bytes it
        # had) rather than at its end.
        self.writes = self.rewrites = 0

    def truncate(self, size):
        """The file cut to size: pages past it gone, the last one's tail
        zeroed, none of it durable until a sync."""
        for p in list(self.cur):
            if p * PAGE >= size:
                del self.cur[p]
                self.pend.setdefault(p, []).append(None)
        p = size // PAGE
        if size % PAGE and p in self.cur:
            keep = size - p * PAGE
            self.cur[p] = self.cur[p][:keep] + bytes(PAGE - keep)
            self.pend.setdefault(p, []).append(self.cur[p])
        self.size = size
        self.truncated = True

    def write(self, off, data, durable):
        end = off + len(data)
        pos = off
        self.writes += 1
        self.rewrites += off < self.size
        while pos < end:
            p = pos // PAGE
            n = min(end, (p + 1) * PAGE) - pos
            page = bytearray(self.cur.get(p, bytes(PAGE)))
            page[pos - p * PAGE:pos - p * PAGE + n] = data[pos - off:pos - off + n]
            self.cur[p] = bytes(page)
            if durable:  # the page goes out whole, earlier writes with it
                self.dur[p] = self.cur[p]
                self.pend.pop(p, None)
            else:
                self.pend.setdefault(p, []).append(self.cur[p])
            pos += n
        self.size = max(self.size, end)
        if durable:
            self.dur_size = max(self.dur_size, end)

    def sync(self):
        for p in self.pend:
            if p in self.cur:
                self.dur[p] = self.cur[p]
            else:
                self.dur.pop(p, None)
        self.pend.clear()
        self.dur_size = self.size
        self.truncated = False

    def image(self, choose):
        """The file a cut now leaves; choose(options) picks each page not
        yet durable: options[0] is its durable content (None: never
        written durably), then its content after each later write (None:
        truncated away). A truncation not yet synced picks the size too."""
        pages = dict(self.dur)
        for p, states in self.pend.items():
            pick = choose([self.dur.get(p)] + states)
            if pick is None:
                pages.pop(p, None)
            else:
                pages[p] = pick
        size = choose([self.dur_size, self.size]) if self.truncated \
            else self.dur_size
        for p in pages:
            size = max(size, min((p + 1) * PAGE, self.size))
        out = bytearray(size)
        for p, content in pages.items():
            start = p * PAGE
            if start < size:
                out[start:min(start + PAGE, size)] = content[:size - start]
        return bytes(out)


class Verifier:
    """The --verify process, restarted if a store kills it."""

    def __init__(self, cmd):
        self.cmd = shlex.split(cmd)
        self.proc = None

    def check(self, lines, acks_path, store):
        """None if the store passed, else why it did not."""
        if self.proc is None:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
        try:
            self.proc.stdin.write("%d\t%s\t%s\n" % (lines, acks_path, store))
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        except BrokenPipeError:
            answer = ""
        if answer.startswith("ok "):
            return None
        if answer.startswith("fail "):
            return answer[5:].strip()
        rc = self.proc.wait()  # it died on this store: a failure too
        self.proc = None
        return "the verifier was killed by signal %d" % -rc if rc < 0 else \
            "the verifier exited %d without an answer" % rc

    def close(self):
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait()
            self.proc = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--trace", required=True)
    ap.add_argument("--acks", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--verify", required=True)
    ap.add_argument("--files", default="data.mdb")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--random", type=int, default=1)
    ap.add_argument("--expect-loss", action="store_true")
    a = ap.parse_args()

    events = read_trace(a.trace)
    with open(a.acks) as f:
        ack_lines = f.read().splitlines()
    nacks = sum(1 for e in events if e[0] == K_ACK)
    if nacks != len(ack_lines):
        sys.exit("powerloss: %d acknowledgements in the trace, %d lines of "
                 "output" % (nacks, len(ack_lines)))
    files = a.files.split(",")
    if any(e[1] >= len(files) for e in events):
        sys.exit("powerloss: the trace names more files than --files")
    if not any(e[0] == K_WRITE for e in events):
        sys.exit("powerloss: the trace holds no write to %s" % a.files)
    disks = []
    for name in files:
        try:
            with open(os.path.join(a.base, name), "rb") as f:
                disks.append(Disk(f.read()))
        except FileNotFoundError:
            disks.append(Disk(b""))

    rng = random.Random(a.seed)
    choosers = [("lost", lambda o: o[0]), ("kept", lambda o: o[-1])]
    choosers += [("random", lambda o: rng.choice(o))] * a.random
    seen = set()
    checked = failed = 0
    first_failure = None
    acks = 0
    # Acknowledgements since the last sync, and the most seen: how many
    # writes shared a commit.
    since_sync = most_per_sync = 0
    os.makedirs(a.work, exist_ok=True)
    store = os.path.join(a.work, "store")
    verifier = Verifier(a.verify)
    acks_path = os.path.abspath(a.acks)

    def check(cut, how, images):
        nonlocal checked, failed, first_failure
        key = (hashlib.sha256(b"\0".join(
            hashlib.sha256(i).digest() for i in images)).digest(), acks)
        if key in seen:
            return
        seen.add(key)
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(a.base, store)
        lock = os.path.join(store, "lock.mdb")
        if os.path.exists(lock):
            os.remove(lock)  # a power cut leaves no process holding it
        for name, image in zip(files, images):
            path = os.path.join(store, name)
            with open(path, "wb") as f:
                f.write(image)
            os.chmod(path, 0o600)
        checked += 1
        why = verifier.check(acks, acks_path, store)
        if why is not None:
            failed += 1
            if first_failure is None:
                first_failure = "cut after event %d of %d (%d acknowledged), " \
                    "pages not yet durable %s: %s" % (
                        cut, len(events), acks, how, why[:400])

    for cut in range(len(events) + 1):
        for how, choose in choosers:
            check(cut, how, [d.image(choose) for d in disks])
        if cut == len(events) or (a.expect_loss and failed):
            break
        kind, file, off, data = events[cut]
        disk = disks[file]
        if kind == K_WRITE:
            disk.write(off, data, durable=False)
        elif kind == K_DSYNC_WRITE:
            disk.write(off, data, durable=True)
        elif kind == K_TRUNCATE:
            disk.truncate(off)
        elif kind == K_SYNC:
            disk.sync()
            since_sync = 0
        else:
            acks += 1
            since_sync += 1
            most_per_sync = max(most_per_sync, since_sync)

    verifier.close()
    print("powerloss: writes per file: " + ", ".join(
        "%s %d (%d inside the file)" % (name, d.writes, d.rewrites)
        for name, d in zip(files, disks)))
    print("powerloss: %d events, %d acknowledged writes (at most %d after one "
          "sync), %d cuts, %d distinct stores checked, %d failed" % (
              len(events), acks, most_per_sync, cut + 1, checked, failed))
    if a.expect_loss:
        if failed == 0:
            print("powerloss: expected some store to lose an acknowledged "
                  "write, none did")
            return 1
        print("powerloss: as expected, e.g. " + first_failure)
        return 0
    if failed:
        print("powerloss: " + first_failure)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

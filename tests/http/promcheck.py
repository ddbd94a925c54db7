#!/usr/bin/env python3
"""promcheck.py — validates a Prometheus text exposition (format 0.0.4).

Usage: promcheck.py FILE [REQUIRED_METRIC...]

Checks that every line is a HELP or TYPE comment, an empty line, or a
sample matching the exposition grammar; that every sample belongs to a
family with exactly one HELP and one TYPE line, given before its samples;
that sample names fit their type (histograms: _bucket/_sum/_count; counters
and gauges: the family name); that label sets are not repeated; and that
each histogram series has increasing `le` bounds, cumulative counts, a
"+Inf" bucket equal to its _count, and a _sum. Every REQUIRED_METRIC must
have HELP and TYPE lines. Exits 1 with one line per problem.
"""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"'
SAMPLE = re.compile(
    r"^(" + NAME + r")(\{(?:" + LABEL + r")(?:," + LABEL + r")*,?\})?"
    r" ([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN))( -?[0-9]+)?$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"')
COMMENT = re.compile(r"^# (HELP|TYPE) (" + NAME + r") (.*)$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def main():
    path, required = sys.argv[1], sys.argv[2:]
    problems = []
    helps, types = {}, {}
    seen_series = set()
    hist = {}  # (family, labels without le) -> {"buckets": [(le, v)], ...}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for no, line in enumerate(lines, 1):
        if line == "":
            continue
        if line.startswith("#"):
            m = COMMENT.match(line)
            if not m:
                if line.startswith("# HELP") or line.startswith("# TYPE"):
                    problems.append("line %d: malformed comment: %r" % (no, line))
                continue
            kind, name, rest = m.groups()
            table = helps if kind == "HELP" else types
            if name in table:
                problems.append("line %d: second %s for %s" % (no, kind, name))
            if kind == "TYPE" and rest not in TYPES:
                problems.append("line %d: unknown type %r" % (no, rest))
            table[name] = rest
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append("line %d: not a valid sample: %r" % (no, line))
            continue
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family, suffix = name, ""
        for s in ("_bucket", "_sum", "_count"):
            if name.endswith(s) and types.get(name[: -len(s)]) == "histogram":
                family, suffix = name[: -len(s)], s
        if family not in types or family not in helps:
            problems.append("line %d: %s has no HELP/TYPE before it" % (no, name))
            continue
        if types[family] == "histogram" and not suffix:
            problems.append("line %d: histogram sample without suffix" % no)
        if (name, labels) in seen_series:
            problems.append("line %d: repeated series %s%s" % (no, name, labels))
        seen_series.add((name, labels))
        pairs = LABEL_RE.findall(labels)
        if len({k for k, _ in pairs}) != len(pairs):
            problems.append("line %d: repeated label name" % no)
        if types[family] == "histogram":
            rest = tuple((k, v) for k, v in pairs if k != "le")
            h = hist.setdefault((family, rest), {"buckets": [], "sum": None,
                                                 "count": None})
            v = float(value)
            if suffix == "_bucket":
                le = dict(pairs).get("le")
                if le is None:
                    problems.append("line %d: bucket without le" % no)
                    continue
                h["buckets"].append((math.inf if le == "+Inf" else float(le), v))
            elif suffix == "_sum":
                h["sum"] = v
            else:
                h["count"] = v
    for (family, rest), h in hist.items():
        where = "%s%s" % (family, dict(rest))
        b = h["buckets"]
        if not b or b[-1][0] != math.inf:
            problems.append("%s: no +Inf bucket last" % where)
            continue
        for (le1, v1), (le2, v2) in zip(b, b[1:]):
            if le2 <= le1:
                problems.append("%s: le bounds not increasing" % where)
            if v2 < v1:
                problems.append("%s: buckets not cumulative" % where)
        if h["count"] is None or h["count"] != b[-1][1]:
            problems.append("%s: _count differs from the +Inf bucket" % where)
        if h["sum"] is None:
            problems.append("%s: no _sum" % where)
    for name in required:
        if name not in helps or name not in types:
            problems.append("required metric %s has no HELP/TYPE" % name)
    for p in problems:
        print("promcheck: " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

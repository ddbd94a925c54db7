#!/usr/bin/env bash
# test-prune.sh — expired entries as the CLI shows them, without sleeping:
# entries are imported with an expires_at in the past (import restores
# timestamps exactly). Expired entries are hidden from get and ls, listed by
# ls --expired, counted by stats, and removed by prune — in the current
# sandbox only, or in every sandbox with --all-sandboxes.
. "$(dirname "$0")/lib.sh"

# entries.jsonl: in sandboxes a and b, task/old (expired), task/new (never
# expires), artifacts/old (expired).
"$PY" - "$TMP/entries.jsonl" <<'EOF' || fail "could not write entries.jsonl"
import base64, hashlib, json, sys
with open(sys.argv[1], "w") as f:
    for sb in ("a", "b"):
        for scope, key, exp in (("task", "old", "2020-01-01T00:00:00.000Z"),
                                ("task", "new", None),
                                ("artifacts", "old", "2021-06-01T12:00:00.000Z")):
            v = ("%s/%s/%s\n" % (sb, scope, key)).encode()
            f.write(json.dumps({
                "sandbox": sb, "scope": scope, "key": key, "origin": sb,
                "size": len(v), "content_type": "text/plain",
                "sha256": hashlib.sha256(v).hexdigest(), "version": 3,
                "created_at": "2019-01-01T00:00:00.000Z",
                "updated_at": "2019-06-01T00:00:00.000Z",
                "expires_at": exp, "metadata": {},
                "value": base64.b64encode(v).decode()}) + "\n")
EOF

t "import restores already-expired entries"
akv import "$TMP/entries.jsonl"
expect_rc 0
expect_err_contains "imported 6 entries"

t "an expired entry is not_found for get"
akv --sandbox a get task old
expect_error not_found 1
akv --sandbox a get task new
expect_ok
expect_out "a/task/new"

t "ls hides expired entries; ls --expired shows and marks them"
akv --sandbox a ls task --json
expect_ok
json_check '[l["key"] for l in lines] == ["new"]'
akv --sandbox a ls task --expired --json
json_check '[l["key"] for l in lines] == ["new", "old"] and lines[1]["expires_at"] == "2020-01-01T00:00:00.000Z"'
akv --sandbox a ls task --expired
expect_ok
grep -qE '^old .*2020-01-01T00:00:00.000Z \(expired\) +a$' "$OUT" ||
    fail "expected the expired row to be marked"
pass

t "export leaves expired entries out"
akv export --all-sandboxes
json_check 'sorted((l["sandbox"], l["key"]) for l in lines) == [("a", "new"), ("b", "new")]'

t "stats counts expired entries apart from active ones"
akv --sandbox a stats --json
expect_ok
json_check 'd["task"]["entries"] == 1 and d["task"]["expired"] == 1 and d["artifacts"]["entries"] == 0 and d["artifacts"]["expired"] == 1'

t "prune SCOPE prunes one scope of the current sandbox"
akv --sandbox a prune task --json
expect_ok
json_check 'd == {"pruned": {"task": 1}}'
akv --sandbox a stats --json
json_check 'd["task"]["expired"] == 0 and d["artifacts"]["expired"] == 1'
akv --sandbox b stats --json
json_check 'd["task"]["expired"] == 1'

t "prune without SCOPE prunes every scope of the current sandbox only"
akv --sandbox a prune
expect_ok
grep -qE '^artifacts +1$' "$OUT" || fail "expected 'artifacts 1' in the table"
pass
grep -qE '^task +0$' "$OUT" || fail "expected 'task 0' in the table"
pass
akv --sandbox b stats --json
json_check 'd["task"]["expired"] == 1 and d["artifacts"]["expired"] == 1'

t "prune --all-sandboxes reaches the other sandboxes"
akv prune --all-sandboxes --json
expect_ok
json_check 'd["pruned"]["task"] == 1 and d["pruned"]["artifacts"] == 1 and sum(d["pruned"].values()) == 2'
akv --sandbox b ls task --expired --json
json_check '[l["key"] for l in lines] == ["new"]'

t "a second prune finds nothing"
akv prune --all-sandboxes --json
json_check 'sum(d["pruned"].values()) == 0'

t "prune of an unknown scope"
akv prune Task
expect_error invalid_argument 2

finish

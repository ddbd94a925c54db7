#!/usr/bin/env bash
# test-help-docs.sh — every command that `agentkv help` lists, and every
# flag its `agentkv help COMMAND` shows, is documented: in docs/cli.md (the
# flag inside the command's "### …" section, global flags in "## Global
# flags") and in the man page docs/agentkv.1 (the command's ".SS" entry
# under COMMANDS, global flags under GLOBAL FLAGS). Also: every environment
# variable the code reads (getenv in src/) is in the man page's
# ENVIRONMENT section.
. "$(dirname "$0")/lib.sh"

SRC="${AKV_SOURCE_DIR:?}"
CLI_MD="$SRC/docs/cli.md"
MAN="$SRC/docs/agentkv.1"

# md_section HEADING_REGEX LEVEL: the lines of the first Markdown section
# whose heading (LEVEL #'s) matches, up to the next heading of that level or
# higher.
md_section() {
    awk -v re="$1" -v lvl="$2" '
        function level(l) { match(l, /^#+/); return RLENGTH }
        /^#+ / { if (on && level($0) <= lvl) exit
                 if (!on && level($0) == lvl && $0 ~ re) { on = 1; next } }
        on { print }' "$CLI_MD"
}
# man_section MACRO NAME: the lines of ".SH NAME" or ".SS NAME" up to the
# next .SH (or .SS for MACRO SS).
man_section() {
    awk -v mac=".$1" -v name="$2" '
        $0 == mac " " name || $0 == mac " \"" name "\"" { on = 1; next }
        on && (/^\.SH/ || (mac == ".SS" && /^\.SS/)) { exit }
        on { print }' "$MAN"
}
# flags_of: the --flags of a help text's given block ("Flags:" or
# "Global flags").
flags_of() {
    awk -v block="$1" '
        index($0, block) == 1 { on = 1; next }
        on && /^$/ { exit }
        on && /^  --/ { print $1 }' "$2"
}

run "$AGENTKV" help
expect_ok
awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' "$OUT" >"$TMP/commands"
cp "$OUT" "$TMP/help"
[ "$(wc -l <"$TMP/commands")" -ge 20 ] || fail "only $(wc -l <"$TMP/commands") commands in agentkv help"

t "global flags are in docs/cli.md's Global flags and the man page's GLOBAL FLAGS"
md_section '^## Global flags' 2 >"$TMP/md-global"
man_section SH "GLOBAL FLAGS" >"$TMP/man-global"
[ -s "$TMP/md-global" ] && [ -s "$TMP/man-global" ] || fail "no Global flags section"
for f in $(flags_of "Global flags" "$TMP/help"); do
    grep -qF -- "\`$f" "$TMP/md-global" || fail "docs/cli.md Global flags lacks $f"
    grep -qF -- "${f//-/\\-}" "$TMP/man-global" || fail "agentkv.1 GLOBAL FLAGS lacks $f"
    pass
done

while read -r cmd; do
    t "$cmd: a section in docs/cli.md and in the man page's COMMANDS, each with every flag"
    run "$AGENTKV" help "$cmd"
    expect_ok
    cp "$OUT" "$TMP/help-$cmd"
    md_section "^### (.* )?$cmd( .*)?\$" 3 >"$TMP/md-$cmd"
    [ -s "$TMP/md-$cmd" ] || fail "docs/cli.md has no '### $cmd' section"
    man_section SS "$cmd" >"$TMP/man-$cmd"
    [ -s "$TMP/man-$cmd" ] || fail "agentkv.1 has no '.SS $cmd' entry under COMMANDS"
    pass
    for f in $(flags_of "Flags:" "$TMP/help-$cmd"); do
        grep -qF -- "$f" "$TMP/md-$cmd" || fail "docs/cli.md's $cmd section lacks $f"
        grep -qF -- "${f//-/\\-}" "$TMP/man-$cmd" || fail "agentkv.1's $cmd entry lacks $f"
        pass
    done
done <"$TMP/commands"

t "the man page's COMMANDS lists only commands that exist"
man_section SH COMMANDS | sed -n 's/^\.SS "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' >"$TMP/man-commands"
[ -s "$TMP/man-commands" ] || fail "no COMMANDS section with .SS entries"
while read -r cmd; do
    grep -qxF "$cmd" "$TMP/commands" || fail "agentkv.1 documents '$cmd', which agentkv help does not list"
    pass
done <"$TMP/man-commands"

t "every environment variable the code reads is in the man page's ENVIRONMENT"
man_section SH ENVIRONMENT >"$TMP/man-env"
[ -s "$TMP/man-env" ] || fail "no ENVIRONMENT section"
# getenv("NAME") directly, or through a macro #defined to "NAME", or
# env_or("NAME", …) in src/cli/args.c.
{
    grep -rhoE '(getenv|env_or)\("[A-Z_][A-Z0-9_]*"' "$SRC/src" | sed 's/.*("//; s/"$//'
    for m in $(grep -rhoE 'getenv\([A-Z_][A-Z0-9_]*\)' "$SRC/src" | sed 's/getenv(//; s/)//'); do
        grep -rhE "#define $m \"" "$SRC/src" "$SRC/include" | sed 's/.*"\(.*\)".*/\1/'
    done
} | sort -u >"$TMP/envs"
[ "$(wc -l <"$TMP/envs")" -ge 6 ] || fail "found only: $(tr '\n' ' ' <"$TMP/envs")"
while read -r v; do
    grep -qF "$v" "$TMP/man-env" || fail "agentkv.1 ENVIRONMENT lacks $v"
    pass
done <"$TMP/envs"

finish

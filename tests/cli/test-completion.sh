#!/usr/bin/env bash
# test-completion.sh — `agentkv completion bash|zsh|fish`: each script is
# valid for its shell (bash -n, zsh -n, fish -n) and, loaded into the real
# shell, completes the command names, a command's flags, the scopes, the
# fixed words of a synopsis and --version. The expected names come from
# `agentkv help` and `agentkv help put`, so a command or flag missing from
# a script fails here. zsh and fish are checked when installed (make deps
# installs both), else skipped with a note.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

# The command names and put's flags, as the help prints them.
run "$AGENTKV" help
COMMANDS=$(sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' "$OUT" | sort | tr '\n' ' ')
[ "$(echo $COMMANDS | wc -w)" -ge 20 ] || fail "could not read the commands from help: $COMMANDS"
pass
run "$AGENTKV" help put
PUT_FLAGS=$(sed -n '/^Flags:/,/^$/s/^  \(--[a-z-]*\).*/\1/p' "$OUT" | sort | tr '\n' ' ')
[ -n "$PUT_FLAGS" ] || fail "could not read put's flags from help"
pass
P_COMMANDS=$(for c in $COMMANDS; do case $c in p*) echo "$c" ;; esac; done | tr '\n' ' ')

# same LIST1 LIST2: equal as sets of words.
same() {
    [ "$(printf '%s\n' $1 | sort -u | tr '\n' ' ')" = \
      "$(printf '%s\n' $2 | sort -u | tr '\n' ' ')" ] ||
        fail "expected {$2}, got {$1}"
    pass
}

t "an unknown shell is refused"
run "$AGENTKV" completion tcsh
expect_error invalid_argument 2
run "$AGENTKV" completion
expect_error invalid_argument 2

t "bash: valid syntax"
run "$AGENTKV" completion bash
expect_ok
cp "$OUT" "$TMP/agentkv.bash"
run bash -n "$TMP/agentkv.bash"
expect_ok

# bcomp WORD...: the candidates bash's completion function gives for the
# command line WORD... (the last word is the one being completed).
bcomp() {
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
             _agentkv; printf "%s\n" "${COMPREPLY[@]}"' _ "$TMP/agentkv.bash" "$@"
}

t "bash: commands, flags, scopes, synopsis words, --version"
same "$(bcomp agentkv '')" "$COMMANDS"
same "$(bcomp agentkv p)" "$P_COMMANDS"
same "$(bcomp agentkv --dir /tmp p)" "$P_COMMANDS"
same "$(bcomp agentkv put --)" "$PUT_FLAGS --dir --backend --sandbox --config --json --help"
same "$(bcomp agentkv put ta)" "task"
same "$(bcomp agentkv --sandbox s1 get --meta ta)" "task"
same "$(bcomp agentkv token c)" "create"
same "$(bcomp agentkv completion '')" "bash zsh fish"
same "$(bcomp agentkv help se)" "search seed serve"
same "$(bcomp agentkv --vers)" "--version"
# A flag's value completes file names, not scopes.
mkdir "$TMP/dirs" && touch "$TMP/dirs/only-file"
same "$(bcomp agentkv put --meta "$TMP/dirs/on")" "$TMP/dirs/only-file"

if command -v zsh >/dev/null 2>&1; then
    t "zsh: valid syntax"
    run "$AGENTKV" completion zsh
    expect_ok
    cp "$OUT" "$TMP/_agentkv"
    run zsh -n "$TMP/_agentkv"
    expect_ok
    # zcomp LINE: the candidates an interactive zsh offers for LINE.
    zcomp() {
        rm -f "$TMP/zsh.out"
        zsh -f "$HERE/completion/zsh-complete.zsh" "$TMP/_agentkv" \
            "$TMP/zsh.out" "$1" >/dev/null 2>&1
        grep -qx END "$TMP/zsh.out" || fail "zsh did not complete '$1'"
        grep -vx -e END -e '' "$TMP/zsh.out" | sort -u
    }
    t "zsh: commands, flags, scopes, --version"
    same "$(zcomp 'agentkv ')" "$COMMANDS"
    same "$(zcomp 'agentkv p')" "$P_COMMANDS"
    same "$(zcomp 'agentkv put --')" "$PUT_FLAGS --dir --backend --sandbox --config --json --help"
    same "$(zcomp 'agentkv put ta')" "task"
    same "$(zcomp 'agentkv token c')" "create"
    same "$(zcomp 'agentkv --vers')" "--version"
else
    echo "note: zsh is not installed; zsh completion not checked"
fi

if command -v fish >/dev/null 2>&1; then
    t "fish: valid syntax"
    run "$AGENTKV" completion fish
    expect_ok
    cp "$OUT" "$TMP/agentkv.fish"
    run fish -n "$TMP/agentkv.fish"
    expect_ok
    # fcomp LINE: the candidates fish offers for LINE (without descriptions).
    fcomp() {
        fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
            "$TMP/agentkv.fish" "$1" | cut -f1 | sort -u
    }
    t "fish: commands, flags, scopes, --version"
    same "$(fcomp 'agentkv ')" "$COMMANDS"
    same "$(fcomp 'agentkv p')" "$P_COMMANDS"
    same "$(fcomp 'agentkv put --')" "$PUT_FLAGS --dir --backend --sandbox --config --json --help"
    same "$(fcomp 'agentkv put ta')" "task"
    same "$(fcomp 'agentkv token c')" "create"
    same "$(fcomp 'agentkv --vers')" "--version"
else
    echo "note: fish is not installed; fish completion not checked"
fi

finish

# zsh-complete.zsh SCRIPT OUT LINE — asks a real interactive zsh (on a
# pseudo-terminal, zsh/zpty) to complete LINE with the completion SCRIPT
# loaded, and appends every candidate zsh was offered to OUT, one a line,
# then "END". compadd is wrapped to record its candidates; _files prints
# FILES instead of listing the directory. A ZLE widget runs the completion
# and writes END, so no keystroke races the completion.
zmodload zsh/zpty
script=$1 out=$2 line=$3
zpty z 'zsh -f -i'
zpty -w z "PS1='' PROMPT_EOL_MARK=''; autoload -Uz compinit; compinit -u -D; source ${(q)script}"
zpty -w z "compadd() { local -a __h; builtin compadd -O __h \"\$@\"; print -rl -- \$__h >>${(q)out}; builtin compadd \"\$@\" }"
zpty -w z "_files() { print -r -- FILES >>${(q)out} }"
zpty -w z "_akv_test() { zle complete-word; print -r -- END >>${(q)out} }; zle -N _akv_test; bindkey '^T' _akv_test"
zpty -w -n z "$line"$'\C-t'
# Waits for END (30 s at most: a broken script shows up as a missing END).
for i in {1..300}; do
  grep -q '^END$' $out 2>/dev/null && break
  zpty -r -t z junk 2>/dev/null
  sleep 0.1
done
zpty -d z

#!/usr/bin/env bash
# test-install.sh — `cmake --install` into a temporary prefix gives a working
# install tree even after it is moved elsewhere: the agentkv binary seeds
# the bundled sets and counts tokens from the moved tree's own data, and a
# small C program compiles and runs against it through pkg-config, linked
# with libagentkv.so and, with `pkg-config --static`, with libagentkv.a.
#
# The source tree stays in place during the test, so to prove the data came
# from the moved tree (not from the build's fallbacks) an extra instruction
# set is added to the moved tree only, and the seed must report it.
. "$(dirname "$0")/lib.sh"

BUILD=$(cd "$(dirname "$AGENTKV")" && pwd)
[ -f "$BUILD/cmake_install.cmake" ] ||
    { echo "SKIP: $BUILD is not a CMake build tree"; exit 77; }
command -v pkg-config >/dev/null ||
    { echo "SKIP: pkg-config is not installed"; exit 77; }

# A sanitizer build's library needs the sanitizer runtime in the program.
CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
CFLAGS="-std=c11 -Wall -Wextra -Werror"
if grep -q '^AKV_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then
    CFLAGS="$CFLAGS -fsanitize=address,undefined"
fi

t "cmake --install into a temporary prefix"
run cmake --install "$BUILD" --prefix "$TMP/first"
expect_rc 0
# Every environment variable that would point at the source tree is unset:
# only the install tree's own place may be used.
unset AGENTKV_INSTRUCTIONS_DIR AGENTKV_TOKENIZER_DIR
mv "$TMP/first" "$TMP/moved"
P="$TMP/moved"
PC=$(find "$P" -name agentkv.pc)
[ -n "$PC" ] || fail "no agentkv.pc installed"
pass
LIBDIR=$(dirname "$(dirname "$PC")")
[ -f "$LIBDIR/libagentkv.a" ] || fail "no libagentkv.a in $LIBDIR"
pass
grep -q '^prefix=${pcfiledir}/' "$PC" || fail "agentkv.pc prefix is not relative: $(head -1 "$PC")"
pass

t "the moved binary seeds the bundled sets from the moved tree"
INSTR="$P/share/agentkv/instructions"
[ -d "$INSTR" ] || fail "no $INSTR"
n=$(ls "$INSTR"/*.md | grep -vic '/readme.md$')
printf -- '---\nname: only-in-moved-tree\ndescription: x\n---\n# Moved\n' \
    >"$INSTR/only-in-moved-tree.md"
run "$P/bin/agentkv" --dir "$STORE" seed --global
expect_ok
expect_out "added $((n + 1)), updated 0, unchanged 0, removed 0"
run "$P/bin/agentkv" --dir "$STORE" --sandbox _global get instructions only-in-moved-tree
expect_out_contains "# Moved"

t "the moved binary's server seeds _global from the moved tree at start-up"
"$P/bin/agentkv" --dir "$TMP/served" serve --listen 127.0.0.1:0 --no-auth \
    </dev/null >/dev/null 2>"$TMP/serve.log" &
SERVE_PID=$!
trap 'kill "$SERVE_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 200); do
    grep -q "seed of _global failed\|seeded _global from" "$TMP/serve.log" && break
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.05
done
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "serve exited non-zero: $(cat "$TMP/serve.log")"
grep -q "seeded _global from $(realpath "$INSTR"):" "$TMP/serve.log" ||
    fail "start-up seed: $(grep seed "$TMP/serve.log")"
pass
grep -q "added $((n + 1)), " "$TMP/serve.log" || fail "seed counts: $(grep seed "$TMP/serve.log")"
pass

t "the moved binary counts tokens with the moved tree's tokenizer data"
if [ -d "$P/share/agentkv/tokenizers" ]; then
    printf 'hello world' >"$TMP/hello.txt"
    run "$P/bin/agentkv" tokens "$TMP/hello.txt"
    expect_ok
    expect_out "2	$TMP/hello.txt"
else
    echo "note: no tokenizer data in this build; token count not checked"
fi

cat >"$TMP/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <agentkv.h>
#include <agentkv-instructions.h>

int main(int argc, char **argv)
{
    akv_store *s;
    akv_value *v;
    const char *dir;
    size_t len;
    if (argc != 2 || akv_store_open(&s, "lmdb", argv[1], NULL, AKV_OPEN_CREATE))
        return 1;
    if (akv_put(s, "default", AKV_SCOPE_TASK, "k", 1, "hello", 5, NULL,
                NULL, NULL) || akv_get(s, "default", AKV_SCOPE_TASK, "k", 1, &v))
        return 2;
    const char *data = akv_value_data(v, &len);
    printf("%.*s\n", (int)len, data);
    akv_value_release(v);
    akv_store_close(s);
    if (akv_seed_default_dir(&dir) == 0)
        printf("%s\n", dir);
    return 0;
}
C

export PKG_CONFIG_PATH="$(dirname "$PC")"

t "a C program compiles and links against the moved tree (shared)"
run $CC $CFLAGS "$TMP/prog.c" -o "$TMP/prog-shared" \
    $(pkg-config --cflags --libs agentkv) -Wl,-rpath,"$LIBDIR"
expect_ok
ldd "$TMP/prog-shared" | grep -q "$LIBDIR/libagentkv.so" ||
    fail "prog-shared does not load libagentkv.so from $LIBDIR"
pass
run "$TMP/prog-shared" "$TMP/store-shared"
expect_rc 0
# The library finds the data beside itself, wherever the program is.
expect_out "hello
$(realpath "$LIBDIR/../share/agentkv/instructions")"

t "a C program links statically against the moved tree (pkg-config --static)"
# Without the shared library the linker takes libagentkv.a, and only the
# .pc's Requires.private and Libs.private name what it needs.
mkdir "$TMP/static"
cp -a "$P/." "$TMP/static/"
rm -f "$TMP/static/${LIBDIR#"$P/"}"/libagentkv.so*
export PKG_CONFIG_PATH="$TMP/static/${PC#"$P/"}"
export PKG_CONFIG_PATH="$(dirname "$PKG_CONFIG_PATH")"
run $CC $CFLAGS "$TMP/prog.c" -o "$TMP/prog-static" \
    $(pkg-config --static --cflags --libs agentkv)
expect_ok
if ldd "$TMP/prog-static" | grep -q libagentkv; then
    fail "prog-static still loads libagentkv.so"
fi
pass
run "$TMP/prog-static" "$TMP/store-static"
expect_rc 0
expect_out_contains "hello"

finish

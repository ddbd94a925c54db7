#!/usr/bin/env bash
# fetch-tokenizers.sh — installs the tokenizer data agentkv counts with.
#
# The encodings o200k_base and cl100k_base come from the MIT-licensed npm
# package "tiktoken", at the version pinned by tests/tokenizer/package.json
# and package-lock.json (docs/tokenizer.md). This script installs that
# package with `npm ci` into a cache directory (default build/npm, where the
# exactness test and the benchmark also find it) and copies its
# encoders/<name>.json files, unchanged, into build/share/agentkv/tokenizers,
# where the library looks in a build tree and from where `make install`
# copies them to share/agentkv/tokenizers.
#
# It is quick when nothing changed: npm runs only when the lockfile differs
# from the one last installed, and a data file is copied only when its
# content differs. Needs node and npm, and the npm registry when it installs.
#
# Environment: AKV_NPM_DIR (cache directory), AKV_TOKENIZER_OUT (where the
# JSON files go).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pin="$root/tests/tokenizer"
npm_dir=${AKV_NPM_DIR:-$root/build/npm}
out=${AKV_TOKENIZER_OUT:-$root/build/share/agentkv/tokenizers}
encodings=(o200k_base cl100k_base)

die() {
    echo "fetch-tokenizers: $*" >&2
    exit 1
}

command -v npm >/dev/null 2>&1 || die "npm is not installed (Debian: apt-get install nodejs npm)"

mkdir -p "$npm_dir" "$out"
stamp="$npm_dir/.installed-lock"
pkg="$npm_dir/node_modules/tiktoken"
if ! cmp -s "$pin/package-lock.json" "$stamp" || [ ! -f "$pkg/package.json" ]; then
    echo "fetch-tokenizers: installing the pinned tiktoken package into $npm_dir"
    cp "$pin/package.json" "$pin/package-lock.json" "$npm_dir/"
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error) ||
        die "npm ci failed in $npm_dir"
    cp "$pin/package-lock.json" "$stamp"
fi

version=$(node -p 'require(process.argv[1]).version' "$pkg/package.json" 2>/dev/null ||
    sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg/package.json" | head -n 1)
copied=0
for name in "${encodings[@]}"; do
    src="$pkg/encoders/$name.json"
    [ -s "$src" ] || die "$src is missing: the tiktoken package changed its layout"
    if ! cmp -s "$src" "$out/$name.json"; then
        cp "$src" "$out/.$name.json.tmp"
        mv -f "$out/.$name.json.tmp" "$out/$name.json"
        copied=$((copied + 1))
    fi
done
{
    echo "Token encoding data for agentkv, copied unchanged from the npm"
    echo "package tiktoken $version (MIT licence), encoders/*.json."
    echo "Installed by scripts/fetch-tokenizers.sh; see docs/tokenizer.md."
} >"$out/PROVENANCE.tmp"
mv -f "$out/PROVENANCE.tmp" "$out/PROVENANCE"
if [ -f "$pkg/LICENSE" ]; then cp "$pkg/LICENSE" "$out/LICENSE"; fi
echo "fetch-tokenizers: ${encodings[*]} from tiktoken $version in $out ($copied updated)"

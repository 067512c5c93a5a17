#!/bin/sh
# Install the Debian packages cnet needs that are missing (apt-get, with sudo
# when not root). DEV=1 adds the development extras: the PyTorch peer and
# gnuplot for learning-curve plots. CHECKERS=1 adds what `make fuzz` and
# `make memcheck` need: clang with its libFuzzer/sanitizer runtimes, and valgrind.
# LINT=1 adds the static checkers of `make lint`: cppcheck and clang-tidy.
set -e
pkgs="libopenblas-dev check libstb-dev pkg-config zlib1g-dev dataset-fashion-mnist gnuplot-nox"
if [ "${DEV:-0}" = 1 ]; then
    pkgs="$pkgs python3-torch python3-numpy"
fi
if [ "${CHECKERS:-0}" = 1 ]; then
    pkgs="$pkgs clang libclang-rt-14-dev valgrind"
fi
if [ "${LINT:-0}" = 1 ]; then
    pkgs="$pkgs cppcheck clang-tidy"
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "cnet: installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq $missing

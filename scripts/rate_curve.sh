#!/bin/sh
# The reconstruction error against the information in the code (Ranzato,
# Boureau & LeCun, "Sparse Feature Learning for Deep Belief Networks", NIPS
# 2007, Fig. 4): test RMSE against bits per code for SESM at three sparsity
# weights, a plain sigmoid autoencoder at three code sizes and PCA at three
# numbers of components, each code quantized to Q = 2, 4, 8, 16 and 64 levels
# per unit (docs/eval.md, "Rate curve"). Every model sees the first 20,000
# Fashion-MNIST training images, as in the paper; the RMSE and the bits are
# those of the 10,000 test images.
#
#   scripts/rate_curve.sh [OUT_DIR]      (default runs/rate_curve)
#
# writes OUT_DIR/points.csv and draws it into OUT_DIR/rate_curve.png with
# `cnet plot`. EPOCHS (default 5) sets the training of every network; the
# runs are OUT_DIR/sesm_<alpha_s>, OUT_DIR/ae_<units>. DATA=DIR reads
# another dataset folder in place of fashion-mnist (the test suite runs
# the script on generated images). Run from anywhere; ./cnet must be built.
# shellcheck disable=SC2086 # $data is zero or two words
set -e
cd "$(dirname "$0")/.."
out=${1:-runs/rate_curve}
epochs=${EPOCHS:-5}
data=""
if [ -n "${DATA:-}" ]; then
    data="--set data.dir=$DATA"
fi
levels="2 4 8 16 64"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
mkdir -p "$out"
points="$out/points.csv"
echo "model,bits per code,test RMSE" > "$points"

# The value of metric $1 in the one-line JSON of cnet eval / cnet pca on stdin.
metric() {
    sed -n "s/.*\"$1\": \([-+0-9.eE]*\).*/\1/p"
}

# One point: series $1, the JSON $2 (a failed command stops the script at
# its assignment), the code's metric prefix $3.
point() {
    bits=$(echo "$2" | metric "$3_quant_bits")
    rmse=$(echo "$2" | metric "$3_quant_recon_rmse")
    echo "$1,$bits,$rmse" >> "$points"
}

for a in 0.2 0.6 1.5; do
    ./cnet train cfg/sesm.cfg --epochs "$epochs" --set sparsity.weight="$a" $data \
        --run-dir "$out/sesm_$a" > /dev/null
    for q in $levels; do
        json=$(./cnet eval "$out/sesm_$a" --sparsity lz --quantize "$q" --json)
        point "SESM alpha_s=$a" "$json" lz
    done
done
for u in 50 100 200; do
    ./cnet train cfg/ae.cfg --epochs "$epochs" --set enc.output="$u" --set data.limit=20000 \
        $data --run-dir "$out/ae_$u" > /dev/null
    for q in $levels; do
        json=$(./cnet eval "$out/ae_$u" --sparsity enc --quantize "$q" --json)
        point "AE $u units" "$json" enc
    done
done
for k in 50 100 200; do
    for q in $levels; do
        json=$(./cnet pca cfg/sesm.cfg --k "$k" --quantize "$q" $data --json)
        point "PCA K=$k" "$json" pca
    done
done
./cnet plot "$points" --out "$out/rate_curve.png"

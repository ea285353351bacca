#!/bin/sh
# mpi.sh - `make mpi-bench`: data-parallel training on MNIST against one process at the
# same global batch, and the cost of the gradient sum (docs/DISTRIBUTED.md).
#
#   bench/mpi.sh        from the top of the tree, after `make mpi mnist-data` (the
#                       Makefile's mpi-bench target does both)
#
# Environment:
#   RANKS=2      processes of the data-parallel run
#   BATCH=64     samples per process per step; one process alone takes RANKS x BATCH
#   EPOCHS=5     passes over the 60,000 training images
#   MNIST_DIR    the four MNIST IDX files (default build/mnist)
#   OPT          the trainers' flags (default -O3 -fno-math-errno -march=native: without
#                them NAME_backward and NAME_step, which every rank runs, are not
#                vectorized as the fused NAME_train is; the bits are the same: -std=c99
#                keeps gcc from contracting into FMA, and sqrt is exact either way)
#
# examples/mnist.bp is compiled with its batch set to RANKS x BATCH, built with cc
# (libbprt.a) and with mpicc (libbprt_mpi.a), trained alone (the fused NAME_train), as
# 1 rank (NAME_backward, the sum, NAME_step: what every rank runs) and as RANKS ranks,
# the sums through shared memory (ranks on one machine) and by messages (as across
# machines: BPRT_MPI_SHARED=0), and bench/allreduce.c times the sums.  Everything goes
# to build/mpi-bench/; the summary is printed, with the machine's load before and after
# (the figures mean little on a busy machine).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
RANKS=${RANKS:-2}
BATCH=${BATCH:-64}
EPOCHS=${EPOCHS:-5}
MNIST=${MNIST_DIR:-build/mnist}
OPT=${OPT:--O3 -fno-math-errno -march=native}
B=build/mpi-bench
for f in build/bpc build/libbprt.a build/libbprt_mpi.a "$MNIST/train-images-idx3-ubyte"; do
    [ -f "$f" ] || { echo "mpi.sh: $f is missing; run make mpi mnist-data first" >&2; exit 1; }
done
mkdir -p "$B"
global=$((RANKS * BATCH))
# root needs --allow-run-as-root; more ranks than cores need --oversubscribe
flags=""
[ "$(id -u)" -ne 0 ] || flags="--allow-run-as-root"
[ "$RANKS" -le "$(nproc)" ] || flags="$flags --oversubscribe"

sed "s/batch [0-9]*;/batch $global;/" examples/mnist.bp >"$B/mnist.bp"
build/bpc --main "$B/mnist.bp" -o "$B/mnist.c"
cc -std=c99 $OPT -Iruntime -o "$B/mnist" "$B/mnist.c" build/libbprt.a -lm
mpicc -std=c99 $OPT -Iruntime -o "$B/mnist_mpi" "$B/mnist.c" build/libbprt_mpi.a build/libbprt.a -lm
mpicc -std=c99 -O2 -Iruntime -o "$B/allreduce" bench/allreduce.c build/libbprt_mpi.a \
    build/libbprt.a -lm

args="train --data $MNIST/train-images-idx3-ubyte --test $MNIST/t10k-images-idx3-ubyte \
--epochs $EPOCHS --every $EPOCHS --quiet"
load_before=$(uptime)
"$B/mnist" $args --batch "$global" --log "$B/alone.csv" >"$B/alone.txt"
mpirun -np 1 $flags "$B/mnist_mpi" $args --batch "$global" >"$B/one.txt" </dev/null
mpirun -np "$RANKS" $flags "$B/mnist_mpi" $args --batch "$BATCH" --log "$B/ranks.csv" >"$B/ranks.txt" </dev/null
BPRT_MPI_SHARED=0 mpirun -np "$RANKS" $flags "$B/mnist_mpi" $args --batch "$BATCH" \
    >"$B/messages.txt" </dev/null
mpirun -np "$RANKS" $flags "$B/allreduce" 4194304 >"$B/allreduce.txt" </dev/null
load_after=$(uptime)

# "trained 5 epochs in 31.20 s (...)" and "result  test loss ...  test accuracy 96.50% ..."
seconds() { sed -n 's/^trained [0-9]* epochs* in \([0-9.]*\) s.*/\1/p' "$1"; }
accuracy() { sed -n 's/^result.* accuracy \([0-9.]*\)%.*/\1/p' "$1"; }
ta=$(seconds "$B/alone.txt")
tr=$(seconds "$B/ranks.txt")
tm=$(seconds "$B/messages.txt")
t1=$(seconds "$B/one.txt")
awk -v e="$EPOCHS" -v g="$global" -v r="$RANKS" -v b="$BATCH" -v ta="$ta" -v tr="$tr" \
    -v t1="$t1" -v tm="$tm" -v aa="$(accuracy "$B/alone.txt")" -v ar="$(accuracy "$B/ranks.txt")" \
    -v a1="$(accuracy "$B/one.txt")" -v am="$(accuracy "$B/messages.txt")" -v opt="$OPT" 'BEGIN {
    printf "MNIST, %d epochs, global batch %d, built with %s\n", e, g, opt
    printf "%-28s %12s %14s\n", "run", "s / epoch", "test accuracy"
    printf "%-28s %12.2f %13.2f%%\n", "1 process, batch " g, ta / e, aa
    printf "%-28s %12.2f %13.2f%%\n", "1 rank (backward + step)", t1 / e, a1
    printf "%-28s %12.2f %13.2f%%\n", r " ranks, batch " b " each", tr / e, ar
    printf "%-28s %12.2f %13.2f%%\n", "  the same, sums by messages", tm / e, am
    printf "speed-up %.2fx (by messages %.2fx)\n", ta / tr, ta / tm
}'
echo
cat "$B/allreduce.txt"
echo
echo "load before: $load_before"
echo "load after:  $load_after"

#!/bin/sh
# run.sh - `make bench`: builds the benchmark drivers, runs every workload with bpc (cc -O3,
# and cc -O3 -march=native), PyTorch and FANN side by side, times bpc itself and the C
# compiler on bpc's output, and prints one Markdown table (docs/PERFORMANCE.md).
#
#   bench/run.sh            from the top of the tree, after `make` (the Makefile's bench
#                           target does both)
#
# Environment:
#   MNIST_DIR     directory of the four MNIST IDX files (plain or .gz, "train-images-idx3-ubyte"
#                 or "train-images.idx3-ubyte"); default build/mnist; synthetic data if absent
#   CC            the C compiler (default cc)
#   PYTHON        the Python with torch (default /usr/bin/python3, Debian's python3-torch)
#   BENCH_QUICK=1 small sizes and 2 repetitions: a smoke test, not a measurement
#
# Everything goes to build/bench/: the generated code, the drivers, results.txt (the
# RESULT lines), bench.log (all output) and table.md.  Peers that are not installed
# (`make bench-deps`) are left out of the table.  Workloads are run group by group, each
# group by every peer in turn, so that the ratios compare runs minutes apart at most.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
CC=${CC:-cc}
PYTHON=${PYTHON:-/usr/bin/python3}
B=build/bench
BPC=build/bpc
LIB=build/libbprt.a
results=$B/results.txt
log=$B/bench.log

for f in "$BPC" "$LIB"; do
    [ -f "$f" ] || { echo "run.sh: $f is missing; run make first" >&2; exit 1; }
done
mkdir -p "$B/gen" "$B/ct" "$B/mnist"
: > "$results"
: > "$log"

say() { printf '%s\n' "$*" >&2; }

# Runs a driver; its RESULT lines go to results.txt, everything to the log.
run() {
    say "  $*"
    "$@" > "$B/out.txt" 2>&1 || { cat "$B/out.txt" >&2; say "run.sh: $1 failed"; exit 1; }
    cat "$B/out.txt" >> "$log"
    grep '^RESULT ' "$B/out.txt" >> "$results" || true
}

# ---- MNIST: find the IDX files, unpack or link them under canonical names ----
mnist_from() { # dir: 0 when all four files were found and put into $B/mnist
    d=$1
    [ -n "$d" ] && [ -d "$d" ] || return 1
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
             t10k-labels-idx1-ubyte; do
        alt=$(printf '%s' "$f" | sed 's/-idx/.idx/')
        src=
        for c in "$d/$f" "$d/$alt" "$d/$f.gz" "$d/$alt.gz"; do
            [ -f "$c" ] && { src=$c; break; }
        done
        [ -n "$src" ] || return 1
        case $src in
        *.gz) [ -s "$B/mnist/$f" ] ||
              { gunzip -c "$src" > "$B/mnist/$f.tmp" && mv "$B/mnist/$f.tmp" "$B/mnist/$f"; } ;;
        /*) ln -sf "$src" "$B/mnist/$f" ;;
        *) ln -sf "$top/$src" "$B/mnist/$f" ;;
        esac
    done
}
if mnist_from "${MNIST_DIR:-}" || mnist_from build/mnist || mnist_from build/mnist/raw; then
    MNIST_DIR=$top/$B/mnist
    say "bench: real MNIST (${MNIST_DIR})"
else
    MNIST_DIR=
    say "bench: no MNIST IDX files in \$MNIST_DIR or build/mnist: synthetic data"
fi
export MNIST_DIR

# ---- build ----
say "bench: building"
for f in bench/*.bp; do
    n=$(basename "$f" .bp)
    "$BPC" "$f" -o "$B/gen/$n.c"
done
gen="$B/gen/mlp1.c $B/gen/mlp32.c $B/gen/mlpinf.c $B/gen/xor.c $B/gen/tiny.c $B/gen/lenet32.c $B/gen/leninf.c"
drv="bench/bench.c bench/common.c"
# shellcheck disable=SC2086
$CC -O3 -Iruntime -I"$B/gen" -Ibench $drv $gen "$LIB" -lm -o "$B/bench_bpc"
# shellcheck disable=SC2086
$CC -O3 -march=native -Iruntime -I"$B/gen" -Ibench $drv $gen "$LIB" -lm -o "$B/bench_bpc_native"
# the same -O3 build visiting every chunk of 8 inputs, zeros too: what skipping them gains
# shellcheck disable=SC2086
$CC -O3 -DBPC_NO_SKIP -Iruntime -I"$B/gen" -Ibench $drv $gen "$LIB" -lm -o "$B/bench_bpc_dense"
$CC -O2 -march=native bench/peak.c -o "$B/peak"
$CC -O2 bench/timecmd.c -o "$B/timecmd"

have_fann=no
if [ -f /usr/include/floatfann.h ] &&
   $CC -O2 -Ibench bench/fann_bench.c bench/common.c -lfloatfann -lm -o "$B/fann_bench" 2>> "$log"; then
    have_fann=yes
else
    say "bench: FANN not installed (make bench-deps): left out"
fi
have_torch=no
if "$PYTHON" -c 'import torch' 2>/dev/null; then
    have_torch=yes
else
    say "bench: PyTorch not importable by $PYTHON (make bench-deps): left out"
fi
# One thread everywhere: PyTorch's own pool (torch.set_num_threads(1) in the script),
# and the BLAS it loads (OpenBLAS starts its own threads otherwise).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

# ---- run, group by group ----
say "bench: FMA peak"
run "$B/peak"
for group in sgd1 batch tiny lenet; do
    say "bench: workload group $group"
    run "$B/bench_bpc" bpc "$group"
    run "$B/bench_bpc_native" bpc-native "$group"
    # zero skipping is the first dense layer's: LeNet's first layer is a convolution
    if [ "$group" = sgd1 ] || [ "$group" = batch ]; then
        run "$B/bench_bpc_dense" bpc-dense "$group"
    fi
    if [ $have_fann = yes ] && { [ "$group" = sgd1 ] || [ "$group" = tiny ]; }; then
        run "$B/fann_bench" "$group"
    fi
    if [ $have_torch = yes ]; then
        run "$PYTHON" bench/torch_bench.py "$group"
    fi
done

say "bench: FMA peak again"
run "$B/peak"

# ---- compile times: bpc on each example, cc -O3 on the generated MNIST code ----
say "bench: compile times"
for f in examples/*.bp; do
    n=$(basename "$f" .bp)
    ms=$("$B/timecmd" 10 "$BPC" "$f" -o "$B/ct/$n.c")
    echo "RESULT compile_$n bpc $ms" >> "$results"
done
if [ -f "$B/ct/mnist.c" ]; then
    # shellcheck disable=SC2086 # $CC may hold options
    ms=$("$B/timecmd" 3 $CC -O3 -Iruntime -I"$B/ct" -c "$B/ct/mnist.c" -o "$B/ct/mnist.o")
    echo "RESULT cc_mnist cc $ms" >> "$results"
    # shellcheck disable=SC2086
    ms=$("$B/timecmd" 3 $CC -O3 -march=native -Iruntime -I"$B/ct" -c "$B/ct/mnist.c" -o "$B/ct/mnist.o")
    echo "RESULT cc_mnist_native cc $ms" >> "$results"
fi

# ---- the table ----
{
    echo "bpc $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- compiler runtime 2>/dev/null || echo ' (modified)'), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "CPU: $(LC_ALL=C lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1); $($CC --version | head -n 1)"
    grep '^# torch .*BLAS' "$log" | head -n 1 | sed 's/^# torch /PyTorch /' || true
    case ${BENCH_QUICK:-0} in
    ''|0) ;;
    *) echo "BENCH_QUICK: a smoke test with small sizes (the epoch is extrapolated), not a measurement" ;;
    esac
    echo
    awk -f bench/report.awk "$results"
} > "$B/table.md"
cat "$B/table.md"
say "bench: full output in $log, table in $B/table.md"

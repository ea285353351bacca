#!/bin/sh
# plot.sh - draws the loss and accuracy curves of a training run with gnuplot, from the
# CSV a generated trainer writes with --log (one line per epoch: epoch, train_loss, then
# the evaluated set's loss and accuracy when there are any, seconds, samples_per_second,
# lr).
#
#   examples/plot.sh metrics.csv [loss.png]     (default: metrics.png beside the log)
#
# Losses go on the left axis (logarithmic), accuracies in percent on the right one.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 METRICS.csv [OUT.png]" >&2
    exit 2
fi
log=$1
out=${2:-${log%.csv}.png}
if [ ! -r "$log" ]; then
    echo "plot.sh: cannot read $log" >&2
    exit 1
fi
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "plot.sh: gnuplot is not installed; install it first, e.g. on Debian or Ubuntu:" >&2
    echo "    sudo apt-get install gnuplot-nox" >&2
    echo "(Fedora: sudo dnf install gnuplot; macOS: brew install gnuplot)" >&2
    exit 1
fi

# The curves, by column name: every *_loss on the left axis, every *_accuracy on the right.
header=$(head -n 1 "$log" | tr -d '\r')
case $header in
epoch,train_loss*) ;;
*)
    echo "plot.sh: $log is not a --log file (its first line is '$header')" >&2
    exit 1
    ;;
esac
plots=""
accuracy=no
col=0
for name in $(echo "$header" | tr ',' ' '); do
    col=$((col + 1))
    title=$(echo "$name" | tr '_' ' ')
    case $name in
    *_loss)
        plots="$plots${plots:+, }data using 1:$col with lines linewidth 2 title '$title'"
        ;;
    *_accuracy)
        plots="$plots${plots:+, }data using 1:(100*\$$col) axes x1y2 with lines linewidth 2 dashtype 2 title '$title'"
        accuracy=yes
        ;;
    esac
done

# Quotes in the file names would end gnuplot's strings: refuse them.
case $log$out in
*\'*)
    echo "plot.sh: file names with quotes are not supported" >&2
    exit 1
    ;;
esac

{
    echo "set terminal png size 900,540"
    echo "set output '$out'"
    echo "data = '$log'"
    echo "set datafile separator ','"
    echo "set key outside bottom center horizontal"
    echo "set grid"
    echo "set xlabel 'epoch'"
    echo "set ylabel 'loss'"
    echo "set logscale y"
    echo "set ytics nomirror"
    if [ $accuracy = yes ]; then
        echo "set y2label 'accuracy (%)'"
        echo "set y2tics"
        echo "set y2range [*:101]"
    fi
    echo "plot $plots"
} | gnuplot
echo "plot.sh: wrote $out"

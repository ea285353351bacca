#!/bin/sh
# Writes the sine example's data: x evenly spaced over [-pi, pi] and y = sin(x).
# sine-train.csv holds 1000 points; sine-test.csv 250 points that fall between them.
# Usage: sh examples/data/sine.sh [DIR]   (default: the directory of this script)
dir=${1:-$(dirname "$0")}
awk 'BEGIN {
    pi = 3.14159265358979
    print "x,y"
    for (i = 0; i < 1000; i++) { x = -pi + 2 * pi * i / 999; printf "%.6f,%.6f\n", x, sin(x) }
}' >"$dir/sine-train.csv"
awk 'BEGIN {
    pi = 3.14159265358979
    print "x,y"
    for (i = 0; i < 250; i++) { x = -pi + 2 * pi * (i + 0.5) / 250; printf "%.6f,%.6f\n", x, sin(x) }
}' >"$dir/sine-test.csv"

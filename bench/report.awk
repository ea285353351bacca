# report.awk - turns the RESULT lines that bench/run.sh collected into the Markdown table
# of `make bench` (docs/PERFORMANCE.md keeps the latest one).
#
#   awk -f bench/report.awk results.txt
#
# Input lines: "RESULT <workload> <peer> <value>" (bench/common.h), plus
# "RESULT compile_<example> bpc <ms>" and "RESULT cc_mnist cc <ms>" from run.sh.
# Peers: bpc (cc -O3), bpc-native (cc -O3 -march=native), bpc-dense (cc -O3
# -DBPC_NO_SKIP: no skipping of zero inputs), torch, fann, peak.
# Ratios are bpc's speed over the peer's (> 1: bpc is faster), from the same run.

# The peak is measured at the start and at the end of the run: the higher one counts.
$1 == "RESULT" && $3 == "peak" && (($2, $3) in seen) && v[$2, $3] + 0 >= $4 + 0 { next }
$1 == "RESULT" { v[$2, $3] = $4; seen[$2, $3] = 1 }

# LeNet-5's multiply-adds per sample: c1 6·784·25, c2 16·100·150, dense 400·120 + 120·84 + 84·10;
# training does them three times (forward, ∂W, ∂x), c1's twice (it needs no ∂x)
BEGIN {
    LENET_C1 = 6 * 784 * 25
    LENET_MACS = LENET_C1 + 16 * 100 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    LENET_TRAIN = 3 * LENET_MACS - LENET_C1
}

function has(w, p) { return ((w, p) in seen) }

function num(x) {
    if (x >= 1e6) return sprintf("%.3g M", x / 1e6)
    if (x >= 1e4) return sprintf("%.0f k", x / 1e3)
    if (x >= 100) return sprintf("%.0f", x)
    if (x >= 10) return sprintf("%.1f", x)
    return sprintf("%.3g", x)
}

# bpc's speed-up over peer p on workload w ("—" when either is missing)
function ratio(w, p, lower_better,   b, o) {
    if (!has(w, "bpc") || !has(w, p) || v[w, p] <= 0 || v[w, "bpc"] <= 0) return ""
    b = v[w, "bpc"]; o = v[w, p]
    return lower_better ? o / b : b / o
}

function rcell(w, p, lower_better,   r, rn, s) {
    r = ratio(w, p, lower_better)
    if (r == "") return "—"
    s = sprintf("%.2f×", r)
    if (has(w, "bpc-native")) {
        rn = lower_better ? v[w, p] / v[w, "bpc-native"] : v[w, "bpc-native"] / v[w, p]
        s = s sprintf(" (%.2f×)", rn)
    }
    return s
}

function cell(w, p) { return has(w, p) ? num(v[w, p]) : "—" }

# GFLOP/s of bpc (and of the native build) from FLOPs per unit of the figure
function gflops(w, flops, lower_better, peer,   x) {
    if (!has(w, peer)) return ""
    x = v[w, peer]
    return lower_better ? flops / x * 1e-9 : flops * x * 1e-9
}

function gcell(w, flops, lower_better,   g, gn) {
    g = gflops(w, flops, lower_better, "bpc")
    if (g == "") return "—"
    gn = gflops(w, flops, lower_better, "bpc-native")
    return gn == "" ? sprintf("%.2f", g) : sprintf("%.2f (%.2f)", g, gn)
}

function pcell(w, flops, lower_better,   g, gn, pk) {
    g = gflops(w, flops, lower_better, "bpc")
    if (g == "" || !has("peak", "peak")) return "—"
    pk = v["peak", "peak"]
    gn = gflops(w, flops, lower_better, "bpc-native")
    return gn == "" ? sprintf("%.1f%%", 100 * g / pk) : sprintf("%.1f%% (%.1f%%)", 100 * g / pk, 100 * gn / pk)
}

# a target "bpc at least k× peer": met by both builds, by -march=native only, or missed
function verdict(w, p, k, lower_better,   r, rn) {
    r = ratio(w, p, lower_better)
    if (r == "") return "?"
    rn = has(w, "bpc-native") ? (lower_better ? v[w, p] / v[w, "bpc-native"] : v[w, "bpc-native"] / v[w, p]) : r
    if (r >= k && rn >= k) return "met"
    if (rn >= k) return "native only"
    if (r >= k) return "-O3 only"
    return "**missed**"
}

# a row of the zero-skipping table: bpc against its build that visits every chunk
function dense(label, w, lower_better,   g, t) {
    if (!has(w, "bpc") || !has(w, "bpc-dense")) return
    g = lower_better ? v[w, "bpc-dense"] / v[w, "bpc"] : v[w, "bpc"] / v[w, "bpc-dense"]
    t = "—"
    if (has(w, "torch"))
        t = sprintf("%.2f×", lower_better ? v[w, "torch"] / v[w, "bpc-dense"] : v[w, "bpc-dense"] / v[w, "torch"])
    printf "| %s | %s | %s | %.2f× | %s |\n", label, cell(w, "bpc"), cell(w, "bpc-dense"), g, t
}

function row(label, unit, w, flops, lower_better, target) {
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, unit,
        cell(w, "bpc"), cell(w, "bpc-native"), cell(w, "torch"), cell(w, "fann"),
        rcell(w, "torch", lower_better), rcell(w, "fann", lower_better),
        gcell(w, flops, lower_better), pcell(w, flops, lower_better), target
}

END {
    data = has("data", "bpc") ? (v["data", "bpc"] ? "real MNIST" : "synthetic MNIST-shaped data (random pixels and labels)") : "no MNIST workload run"
    printf "Data: %s.  ", data
    if (has("peak", "peak"))
        printf "Measured FMA peak of one core: %.1f GFLOP/s (float).", v["peak", "peak"]
    printf "\n\n"
    print "| workload | unit | bpc -O3 | bpc -O3 -march=native | PyTorch | FANN | bpc / PyTorch | bpc / FANN | bpc GFLOP/s | bpc % of peak | target: verdict |"
    print "|---|---|---|---|---|---|---|---|---|---|---|"
    row("1. MNIST 784-128-10, SGD batch 1, training", "samples/s", "sgd1", 409088, 0,
        "≥35× PyTorch: " verdict("sgd1", "torch", 35, 0) "; ≥10× FANN: " verdict("sgd1", "fann", 10, 0))
    row("2. same, batch 32, SGD momentum, one epoch of 60,000", "s (lower is better)", "epoch32", 60000 * 409088, 1,
        "≥5× PyTorch: " verdict("epoch32", "torch", 5, 1))
    acc = "—"
    if (has("acc32", "bpc") && has("acc32", "torch"))
        acc = sprintf("%+.2f points", v["acc32", "bpc"] - v["acc32", "torch"])
    printf "| 2. test accuracy after that epoch | %% | %s | %s | %s | — | %s | — | — | — | same within noise |\n",
        has("acc32", "bpc") ? sprintf("%.2f", v["acc32", "bpc"]) : "—",
        has("acc32", "bpc-native") ? sprintf("%.2f", v["acc32", "bpc-native"]) : "—",
        has("acc32", "torch") ? sprintf("%.2f", v["acc32", "torch"]) : "—", acc
    row("3. MNIST MLP inference, batch 1", "samples/s", "infer1", 203264, 0,
        "≥8× PyTorch: " verdict("infer1", "torch", 8, 0))
    row("3. MNIST MLP inference, batch 1000", "samples/s", "infer1000", 203264, 0,
        "≥1.4× PyTorch: " verdict("infer1000", "torch", 1.4, 0))
    row("4. XOR 2-4-1 (tanh, sigmoid, MSE), SGD batch 1", "steps/s", "xor", 56, 0,
        "≥2× FANN: " verdict("xor", "fann", 2, 0))
    row("4. 4-16-3 (ReLU, softmax, CE), SGD batch 1", "steps/s", "tiny", 544, 0,
        "≥5× FANN: " verdict("tiny", "fann", 5, 0))
    row("5. LeNet-5 on MNIST, SGD momentum batch 32, training", "samples/s", "lenet32", 2 * LENET_TRAIN, 0,
        "≥2× PyTorch: " verdict("lenet32", "torch", 2, 0) "; ≥4×: " verdict("lenet32", "torch", 4, 0))
    row("5. LeNet-5 inference, batch 1", "samples/s", "lenet1", 2 * LENET_MACS, 0,
        "≥3× PyTorch: " verdict("lenet1", "torch", 3, 0) "; ≥6×: " verdict("lenet1", "torch", 6, 0))
    row("5. LeNet-5 inference, batch 256", "samples/s", "lenet256", 2 * LENET_MACS, 0,
        "≥3× PyTorch: " verdict("lenet256", "torch", 3, 0))
    print ""
    print "Targets: the open issues' (docs/PERFORMANCE.md names them): the kernels issue's for every"
    print "row, and for LeNet-5 first the CNN issue's (2× and 3×), then the kernels issue's."
    print ""
    print "Ratios: bpc's speed over the peer's, from this run (> 1: bpc is faster); in parentheses"
    print "the same for the -march=native build.  GFLOP/s count the matrix products' FLOPs (409,088"
    print "per training sample of the MNIST MLP, 203,264 per inference, 56 and 544 per step"
    printf "of the tiny nets; LeNet-5: %d per inference, %d per training sample),\n", 2 * LENET_MACS, 2 * LENET_TRAIN
    print "all of them, also those that skipping zero inputs leaves out: so"
    print "on MNIST they can exceed the peak.  FANN has no ReLU, softmax or cross-entropy: its"
    print "nets use FANN_LINEAR_PIECE hidden units and sigmoid outputs trained on the MSE."
    print ""
    if (has("sgd1", "bpc-dense") || has("infer1", "bpc-dense")) {
        print "Zero skipping: the first layer skips the chunks of 8 inputs that are all 0 (60% of"
        print "MNIST's chunks).  The same -O3 build with -DBPC_NO_SKIP visits every chunk:"
        print ""
        print "| workload | bpc -O3 | bpc -O3 -DBPC_NO_SKIP | skipping gains | dense / PyTorch |"
        print "|---|---|---|---|---|"
        dense("1. SGD batch 1, samples/s", "sgd1", 0)
        dense("2. epoch at batch 32, s", "epoch32", 1)
        dense("3. inference batch 1, samples/s", "infer1", 0)
        dense("3. inference batch 1000, samples/s", "infer1000", 0)
        print ""
    }
    n = 0
    for (k in seen) {
        split(k, kk, SUBSEP)
        if (kk[1] ~ /^compile_/) names[++n] = substr(kk[1], 9)
    }
    if (n > 0 || has("cc_mnist", "cc")) {
        print "| compile step | median | target |"
        print "|---|---|---|"
        for (i = 1; i <= n; i++)
            for (j = i + 1; j <= n; j++)
                if (names[j] < names[i]) { t = names[i]; names[i] = names[j]; names[j] = t }
        for (i = 1; i <= n; i++) {
            ms = v["compile_" names[i], "bpc"]
            printf "| `bpc examples/%s.bp` (10 runs) | %.1f ms | < 50 ms: %s |\n", names[i], ms, ms < 50 ? "met" : "**missed**"
        }
        if (has("cc_mnist", "cc")) {
            ms = v["cc_mnist", "cc"]
            printf "| `cc -O3 -c` of the generated MNIST code (3 runs) | %.2f s | < 5 s: %s |\n", ms / 1e3, ms < 5000 ? "met" : "**missed**"
        }
        if (has("cc_mnist_native", "cc"))
            printf "| `cc -O3 -march=native -c`, the same (3 runs) | %.2f s | |\n", v["cc_mnist_native", "cc"] / 1e3
    }
}

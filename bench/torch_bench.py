"""torch_bench.py - the PyTorch peer of `make bench`: the workloads of bench.c with the
same models, initialization distribution, data and hyperparameters, on one thread.

    /usr/bin/python3 bench/torch_bench.py [GROUP...]     (Debian's python3-torch)

Groups as for bench.c: sgd1 (workload 1), batch (2 and 3), tiny (4), lenet (5); all by
default.

Models are nn.Sequential of nn.Linear layers (LeNet-5: nn.Conv2d, nn.MaxPool2d,
nn.Flatten and nn.Linear) with PyTorch's own activations; the
softmax + cross-entropy nets end in logits and train with nn.CrossEntropyLoss (what bpc
computes from the logits too), XOR ends in nn.Sigmoid and trains with nn.MSELoss.
Weights are drawn with nn.init.xavier_uniform_ and biases start at 0, bpc's default.
Per-sample loops use the idiomatic zero_grad / forward / loss / backward / step, with the
samples split into tensors beforehand so that indexing is not timed.  Inference runs
under torch.inference_mode() and includes the softmax that bpc's forward computes.

Prints RESULT lines as the C drivers do (bench/common.h); BENCH_QUICK=1 cuts sizes.
MNIST comes from the IDX files in $MNIST_DIR, else synthetic data of the same shape.
"""
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass

QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
PEER = "torch"


def result(workload, value):
    print(f"RESULT {workload} {PEER} {value:.6g}", flush=True)


def note(text):
    print(f"# torch {text}", flush=True)


def blas_name():
    """The BLAS library this process loaded (Debian's torch uses the system libblas.so.3,
    the reference implementation unless OpenBLAS or BLIS is installed)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        real = sorted({os.path.realpath(p) for p in libs})
        return ", ".join(real) if real else "none loaded"
    except OSError:
        return "unknown"


# ---- data ----

def read_idx(path, magic, count):
    with open(path, "rb") as f:
        data = f.read()
    dims = 3 if magic == 0x803 else 1
    header = struct.unpack(">" + "I" * (1 + dims), data[: 4 * (1 + dims)])
    if header[0] != magic or header[1] != count:
        raise ValueError(f"{path}: not an MNIST IDX file of {count} items")
    return np.frombuffer(data, dtype=np.uint8, offset=4 * (1 + dims))


def mnist():
    """(x_train, y_train, x_test, y_test, real): float32 pixels in [0, 1], int64 labels."""
    d = os.environ.get("MNIST_DIR", "")
    try:
        if not d:
            raise FileNotFoundError
        parts = []
        for split, n in (("train", 60000), ("t10k", 10000)):
            x = read_idx(os.path.join(d, f"{split}-images-idx3-ubyte"), 0x803, n)
            y = read_idx(os.path.join(d, f"{split}-labels-idx1-ubyte"), 0x801, n)
            parts += [x.reshape(n, 784).astype(np.float32) / 255.0, y.astype(np.int64)]
        return (*[torch.from_numpy(p) for p in parts], True)
    except (OSError, ValueError):
        g = np.random.default_rng(1)
        parts = []
        for n in (60000, 10000):
            parts += [g.random((n, 784), dtype=np.float32), g.integers(0, 10, n)]
        return (*[torch.from_numpy(p) for p in parts], False)


def blobs(n):
    """4 features in 3 classes around the centres bench/common.c uses (its own draws)."""
    g = np.random.default_rng(3)
    centre = np.array([[1, 0, 0, 0.5], [0, 1, 0, -0.5], [0, 0, 1, 0]], dtype=np.float32)
    y = g.integers(0, 3, n)
    x = centre[y] + 0.5 * g.standard_normal((n, 4)).astype(np.float32)
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.int64))


# ---- models ----

def mlp(*layers):
    """Layers with activations between, xavier_uniform weights, zero biases."""
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def mnist_mlp():
    return mlp(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def lenet5():
    """examples/lenet.bp's network (bench/lenet32.bp), NCHW input."""
    return mlp(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
               nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
               nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
               nn.Linear(84, 10))


def per_sample(model, loss_fn, opt, xs, ts, count):
    """count steps of per-sample training, cycling through xs, ts; returns seconds."""
    n = len(xs)
    t0 = time.perf_counter()
    for i in range(count):
        j = i % n
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xs[j]), ts[j])
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


# ---- workloads ----

def sgd1(x, y):
    samples, reps = (1000, 2) if QUICK else (10000, 5)
    torch.manual_seed(1)
    model = mnist_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    ce = nn.CrossEntropyLoss()
    xs, ys = list(x[:samples].split(1)), list(y[:samples].split(1))
    per_sample(model, ce, opt, xs, ys, 300)  # warm-up
    rates = [samples / per_sample(model, ce, opt, xs, ys, samples) for _ in range(reps)]
    result("sgd1", statistics.median(rates))


def epoch32(x, y, xt, yt):
    reps = 2 if QUICK else 5
    n = 10000 if QUICK else x.shape[0]
    ce = nn.CrossEntropyLoss()
    times, acc, model = [], 0.0, None
    for rep in range(-1, reps):  # rep -1: a short warm-up
        torch.manual_seed(1)
        model = mnist_mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        g = torch.Generator().manual_seed(7)
        perm = torch.randperm(x.shape[0], generator=g)
        steps = 100 if rep < 0 else n // 32
        t0 = time.perf_counter()
        for b in range(steps):
            idx = perm[b * 32:(b + 1) * 32]
            opt.zero_grad(set_to_none=True)
            loss = ce(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        if rep >= 0:
            times.append((time.perf_counter() - t0) * x.shape[0] / (steps * 32))  # quick: extrapolated
            with torch.inference_mode():
                acc = 100.0 * (model(xt).argmax(1) == yt).float().mean().item()
            note(f"epoch32 rep {rep}: {times[-1]:.3f} s, test accuracy {acc:.2f}%")
    result("epoch32", statistics.median(times))
    result("acc32", acc)
    return model


def infer(model, xt):
    reps = 2 if QUICK else 5
    n = 2000 if QUICK else xt.shape[0]
    xs = list(xt[:n].split(1))
    rates = []
    with torch.inference_mode():
        for rep in range(-1, reps):
            t0 = time.perf_counter()
            for xi in xs:
                torch.softmax(model(xi), 1)
            if rep >= 0:
                rates.append(n / (time.perf_counter() - t0))
        result("infer1", statistics.median(rates))
        chunks = list(xt[: n // 1000 * 1000].split(1000))
        rates = []
        for rep in range(-1, reps):
            t0 = time.perf_counter()
            for xc in chunks:
                torch.softmax(model(xc), 1)
            if rep >= 0:
                rates.append(len(chunks) * 1000 / (time.perf_counter() - t0))
        result("infer1000", statistics.median(rates))


def tiny_nets():
    steps, reps = (3000, 2) if QUICK else (10000, 5)
    torch.manual_seed(1)
    x = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32)
    t = torch.tensor([[0], [1], [1], [0]], dtype=torch.float32)
    model = mlp(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    xs, ts = list(x.split(1)), list(t.split(1))
    per_sample(model, nn.MSELoss(), opt, xs, ts, 1000)
    rates = [steps / per_sample(model, nn.MSELoss(), opt, xs, ts, steps) for _ in range(reps)]
    with torch.no_grad():
        note("xor: outputs " + " ".join(f"{v:.3f}" for v in model(x).flatten().tolist()))
    result("xor", statistics.median(rates))

    x, y = blobs(1000)
    model = mlp(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xs, ys = list(x.split(1)), list(y.split(1))
    ce = nn.CrossEntropyLoss()
    per_sample(model, ce, opt, xs, ys, 1000)
    rates = [steps / per_sample(model, ce, opt, xs, ys, steps) for _ in range(reps)]
    with torch.no_grad():
        note(f"tiny: training accuracy {100.0 * (model(x).argmax(1) == y).float().mean():.1f}%")
    result("tiny", statistics.median(rates))


def lenet(x, y, xt, yt):
    """Workload 5 as bench.c times it: training at batch 32 through a shuffled set (the
    repetitions continue one another), then inference at batch 1 and 256 with those
    weights, the softmax included."""
    reps = 2 if QUICK else 5
    steps = (2048 if QUICK else 10240) // 32
    n = 2048 if QUICK else xt.shape[0]
    x, xt = x.view(-1, 1, 28, 28), xt.view(-1, 1, 28, 28)
    torch.manual_seed(1)
    model = lenet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=0.0005)
    ce = nn.CrossEntropyLoss()
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(7))
    batches, b, rates = x.shape[0] // 32, 0, []
    for rep in range(-1, reps):
        t0 = time.perf_counter()
        for _ in range(steps):
            idx = perm[b * 32:(b + 1) * 32]
            b = (b + 1) % batches
            opt.zero_grad(set_to_none=True)
            loss = ce(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        if rep >= 0:
            rates.append(steps * 32 / (time.perf_counter() - t0))
    result("lenet32", statistics.median(rates))
    with torch.inference_mode():
        xs = list(xt[:n].split(1))
        rates = []
        for rep in range(-1, reps):
            t0 = time.perf_counter()
            for xi in xs:
                torch.softmax(model(xi), 1)
            if rep >= 0:
                rates.append(n / (time.perf_counter() - t0))
        result("lenet1", statistics.median(rates))
        chunks = list(xt[: n // 256 * 256].split(256))
        rates = []
        for rep in range(-1, reps):
            t0 = time.perf_counter()
            for xc in chunks:
                torch.softmax(model(xc), 1)
            if rep >= 0:
                rates.append(len(chunks) * 256 / (time.perf_counter() - t0))
        right = sum((model(xc).argmax(1) == yc).sum().item()
                    for xc, yc in zip(chunks, yt[: n // 256 * 256].split(256)))
        note(f"lenet256: test accuracy after the training above {100.0 * right / (len(chunks) * 256):.2f}%")
        result("lenet256", statistics.median(rates))


def main(groups):
    """groups: sgd1 (workload 1), batch (2 and 3), tiny (4), lenet (5); all when empty."""
    groups = set(groups or ("sgd1", "batch", "tiny", "lenet"))
    note(f"{torch.__version__}, {torch.get_num_threads()} thread, BLAS {blas_name()}")
    if groups & {"sgd1", "batch", "lenet"}:
        x, y, xt, yt, real = mnist()
        note(("real" if real else "synthetic") + " MNIST")
        result("data", 1 if real else 0)
        if "sgd1" in groups:
            sgd1(x, y)
        if "batch" in groups:
            infer(epoch32(x, y, xt, yt), xt)
        if "lenet" in groups:
            lenet(x, y, xt, yt)
    if "tiny" in groups:
        tiny_nets()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

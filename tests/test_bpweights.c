/*
 * test_bpweights.c - tools/bpweights.py, weight files to and from NumPy's .npz: a round
 * trip gives the file back byte for byte (a trainer's file with statistics, a checkpoint
 * with values that only survive bit for bit, a NAME_save file named by its header); an
 * import whose names or shapes differ is refused with what differs and writes nothing; a
 * damaged file is refused.  With PyTorch, an MLP and a small CNN go both ways: weights
 * trained by bpc give the same outputs in PyTorch, and weights trained in PyTorch give
 * the same classes and outputs (within float rounding) in the generated code.  Without
 * python3 and NumPy (make deps-python) or PyTorch (make bench-deps), the tests say they
 * are skipped.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bprt.h"
#include "genutil.h"
#include "testutil.h"

#define TOOL BPC_TOP "/tools/bpweights.py"

// ---- helpers ----

/* A python3 that has NumPy (the Debian one when another comes first in PATH), else the
 * test is skipped. */
static const char *need_numpy(void)
{
    static const char *const candidates[] = {"python3", "/usr/bin/python3"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "%s -c 'import numpy' >/dev/null 2>&1", candidates[i]);
        if (run_cmd(cmd, NULL, NULL) == 0)
            return candidates[i];
    }
    cr_skip_test("skipped: no python3 with NumPy (make deps-python installs python3-numpy)");
    return NULL;
}

/* Runs "cd DIR && ARGS" (a printf format); returns the exit status. */
static int sh(const GenDir *d, char **out, char **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int sh(const GenDir *d, char **out, char **err, const char *fmt, ...)
{
    char args[2048], cmd[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s", d->path, args);
    return run_cmd(cmd, out, err);
}

/* bpweights ARGS in the directory; must succeed. */
static void tool_ok(const GenDir *d, const char *py, const char *args)
{
    char *out = NULL, *err = NULL;
    int status = sh(d, &out, &err, "%s '%s' %s", py, TOOL, args);
    cr_assert_eq(status, 0, "bpweights %s: status %d\n%s%s", args, status, out, err);
    free(out);
    free(err);
}

/* bpweights ARGS in the directory; must fail with status 1 and a message holding each
 * of the NULL-terminated strings. */
static void tool_refuses(const GenDir *d, const char *py, const char *args, ...)
{
    char *err = NULL;
    int status = sh(d, NULL, &err, "%s '%s' %s", py, TOOL, args);
    cr_assert_eq(status, 1, "bpweights %s: status %d\n%s", args, status, err);
    va_list ap;
    va_start(ap, args);
    for (const char *want; (want = va_arg(ap, const char *)) != NULL;)
        cr_expect(strstr(err, want), "bpweights %s: no '%s' in:\n%s", args, want, err);
    va_end(ap);
    free(err);
}

static bool same_file(const GenDir *d, const char *a, const char *b)
{
    return sh(d, NULL, NULL, "cmp -s '%s' '%s'", a, b) == 0;
}

static bool exists(const GenDir *d, const char *file)
{
    return sh(d, NULL, NULL, "test -e '%s'", file) == 0;
}

/* bpc --main on `bp`, written to d/NAME.bp, built into d/NAME (and d/NAME.h). */
static void build_trainer(const GenDir *d, const char *bp, const char *name)
{
    char path[256], *err = NULL;
    snprintf(path, sizeof path, "%s/%s.bp", d->path, name);
    cr_assert(write_text(path, bp));
    int status = sh(d, NULL, &err, "'%s/build/bpc' --main %s.bp -o %s.c", BPC_TOP, name, name);
    cr_assert_eq(status, 0, "bpc --main failed:\n%s", err);
    free(err);
    char src[128];
    snprintf(src, sizeof src, "%s.c", name);
    cr_assert_eq(gen_build(d, "cc", "-O1", src, name), 0);
}

/* Rows of `inputs` pseudo-random values in [-1, 1] and a class label: for the MLP
 * (inputs 4) the class of the largest of three sums, for the CNN (36 pixels of a 6x6
 * image) the brightest of its left, middle and right thirds. */
static void write_data(const GenDir *d, const char *file, int inputs, int rows)
{
    char path[256];
    FILE *f = fopen(gen_path(d, file, path, sizeof path), "w");
    cr_assert(f);
    uint64_t s = 12345;
    for (int r = 0; r < rows; r++) {
        double x[36], score[3] = {0, 0, 0};
        for (int j = 0; j < inputs; j++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            x[j] = (double)(s >> 11) / 9007199254740992.0 * 2 - 1;
            score[inputs == 4 ? (j == 3 ? 0 : j) : j % 6 / 2] += inputs == 4 && j == 3 ? -x[j] : x[j];
            fprintf(f, "%.6f,", x[j]);
        }
        int label = score[1] > score[0] ? 1 : 0;
        label = score[2] > score[label] ? 2 : label;
        fprintf(f, "%d\n", label);
    }
    cr_assert_eq(fclose(f), 0);
}

// ---- round trips ----

static const char *const iris_bp = "network iris {\n"
                                   "    input 4;\n"
                                   "    hidden: dense 16 relu init = he_uniform;\n"
                                   "    dense 3 softmax;\n"
                                   "    loss cross_entropy;\n"
                                   "    optimizer adam(lr = 0.01);\n"
                                   "    batch 16;\n"
                                   "    seed 7;\n"
                                   "}\n";

/* The trainer's file (statistics, shape string, tensor table) and the .npz: arrays named
 * and shaped as PyTorch's state_dict, nothing else among them. */
Test(bpweights, trainer_file_round_trip)
{
    const char *py = need_numpy();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, iris_bp, "iris");
    cr_assert_eq(sh(&d, NULL, NULL, "./iris train --data '%s/examples/data/iris.csv' --epochs 3 "
                                    "--standardize --save w >/dev/null", BPC_TOP), 0);
    tool_ok(&d, py, "export w w.npz");
    tool_ok(&d, py, "import w.npz back");
    cr_expect(same_file(&d, "w", "back"), "the round trip changed the file");
    char *out = NULL;
    cr_assert_eq(sh(&d, &out, NULL, "%s -c \"import numpy as np; z = np.load('w.npz'); "
                                    "print(sorted((k, v.shape, str(v.dtype)) for k, v in z.items()))\"",
                    py), 0);
    cr_expect_str_eq(out, "[('dense2.bias', (3,), 'float32'), ('dense2.weight', (3, 16), 'float32'), "
                          "('hidden.bias', (16,), 'float32'), ('hidden.weight', (16, 4), 'float32')]\n");
    free(out);
    /* the arrays are the generated code's views: hidden.weight[1][0] is params[4] */
    cr_assert_eq(sh(&d, &out, NULL, "%s -c \"import numpy as np; z = np.load('w.npz'); "
                                    "print(z['hidden.weight'][1][0].view(np.uint32), "
                                    "z['dense2.bias'][2].view(np.uint32))\"", py), 0);
    float params[131];
    FILE *f = fopen(gen_path(&d, "w", (char[256]){0}, 256), "rb");
    cr_assert(f);
    cr_assert_eq(fseek(f, 48, SEEK_SET), 0);
    cr_assert_eq(fread(params, sizeof *params, 131, f), 131);
    fclose(f);
    uint32_t a, b;
    memcpy(&a, &params[4], 4);
    memcpy(&b, &params[130], 4);
    char want[64];
    snprintf(want, sizeof want, "%u %u\n", (unsigned)a, (unsigned)b);
    cr_expect_str_eq(out, want);
    free(out);
    gen_dir_remove(&d);
}

/* A checkpoint of Adam's three buffers with a step count, negative zero, a subnormal, an
 * infinity and a NaN payload, written by the runtime: back bit for bit, the state named
 * as PyTorch's Adam names it. */
Test(bpweights, checkpoint_round_trip)
{
    const char *py = need_numpy();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    double p[5] = {-0.0, 4.9e-324, INFINITY, 1, 2}, m[5] = {1, 2, 3, 4, 5}, v[5] = {0};
    uint64_t nan = 0x7ff4000000000123u;
    memcpy(&m[3], &nan, 8);
    bprt_file_info info = {.kind = BPRT_FILE_CHECKPOINT, .elem_size = 8,
                           .fingerprint = bprt_fingerprint("in=2;dense=1"), .count = 5,
                           .nbuffers = 3, .step = 123456789, .shape = "in=2;dense=1",
                           .tensors = (const char *const[]){"out.weight=1x4@0;", "out.bias=1@4;", NULL}};
    const void *bufs[3] = {p, m, v};
    char path[256];
    cr_assert_eq(bprt_file_write(gen_path(&d, "c", path, sizeof path), &info, bufs), BPRT_OK);
    tool_ok(&d, py, "export c c.npz");
    tool_ok(&d, py, "import c.npz back");
    cr_expect(same_file(&d, "c", "back"), "the round trip changed the checkpoint");
    char *out = NULL;
    cr_assert_eq(sh(&d, &out, NULL, "%s -c \"import numpy as np; z = np.load('c.npz'); "
                                    "print(sorted(z.keys()), z['exp_avg/out.weight'].dtype)\"", py), 0);
    cr_expect_str_eq(out, "['exp_avg/out.bias', 'exp_avg/out.weight', 'exp_avg_sq/out.bias', "
                          "'exp_avg_sq/out.weight', 'out.bias', 'out.weight'] float64\n");
    free(out);
    gen_dir_remove(&d);
}

/* A file of NAME_save (version 1, no table): named by the generated header's
 * NAME_TENSORS, back as version 1; without the header the export says what is missing. */
Test(bpweights, name_save_file_with_header)
{
    const char *py = need_numpy();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, iris_bp, "iris");
    float w[131];
    for (int i = 0; i < 131; i++)
        w[i] = (float)i / 7;
    bprt_file_info info = {.kind = BPRT_FILE_WEIGHTS, .elem_size = 4,
                           .fingerprint = bprt_fingerprint("in=4;dense=16;dense=3"), .count = 131,
                           .nbuffers = 1};
    const void *bufs[1] = {w};
    char path[256];
    cr_assert_eq(bprt_file_write(gen_path(&d, "v1", path, sizeof path), &info, bufs), BPRT_OK);
    tool_refuses(&d, py, "export v1 v1.npz", "v1: the file has no tensor table",
                 "pass --header NAME.h", NULL);
    cr_expect(!exists(&d, "v1.npz"));
    tool_ok(&d, py, "export v1 v1.npz --header iris.h");
    tool_ok(&d, py, "import v1.npz back");
    cr_expect(same_file(&d, "v1", "back"), "the round trip changed the version-1 file");
    /* the runtime loads what the tool wrote, as the trainer's file */
    cr_assert_eq(sh(&d, NULL, NULL, "%s -c \"import numpy as np; z = dict(np.load('v1.npz')); "
                                    "z['hidden.bias'][:] = 0.5; np.savez('torch.npz', **z)\"", py), 0);
    cr_assert_eq(sh(&d, NULL, NULL, "./iris train --data '%s/examples/data/iris.csv' --epochs 1 "
                                    "--save t >/dev/null", BPC_TOP), 0);
    tool_ok(&d, py, "import torch.npz t");
    cr_expect_eq(sh(&d, NULL, NULL, "./iris eval --data '%s/examples/data/iris.csv' --load t "
                                    ">/dev/null", BPC_TOP), 0);
    gen_dir_remove(&d);
}

// ---- refusals ----

/* Names and shapes that are not the network's: every difference said, nothing written,
 * an existing file left as it was. */
Test(bpweights, import_refuses_a_mismatch)
{
    const char *py = need_numpy();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, iris_bp, "iris");
    cr_assert_eq(sh(&d, NULL, NULL, "./iris train --data '%s/examples/data/iris.csv' --epochs 1 "
                                    "--save w >/dev/null && cp w w0", BPC_TOP), 0);
    cr_assert_eq(sh(&d, NULL, NULL,
                    "%s '%s' export w w.npz >/dev/null && %s -c \""
                    "import numpy as np; z = dict(np.load('w.npz')); z['fc.bias'] = z.pop('dense2.bias'); "
                    "z['hidden.weight'] = np.zeros((16, 5), np.float32); "
                    "z['dense2.weight'] = z['dense2.weight'].astype(np.int64); np.savez('bad.npz', **z)\"",
                    py, TOOL, py), 0);
    tool_refuses(&d, py, "import bad.npz w",
                 "bad.npz does not fit the network of w (weights file, float, in=4;dense=16;dense=3): "
                 "missing dense2.bias; unexpected fc.bias; hidden.weight is 16x5 in bad.npz, 16x4 in "
                 "the network; dense2.weight holds int64 values", NULL);
    cr_expect(same_file(&d, "w", "w0"), "w was changed by a refused import");
    cr_expect(!exists(&d, "w.tmp"), "a temporary file was left");
    /* the network given with --like: refused alike */
    tool_refuses(&d, py, "import bad.npz new --like w", "missing dense2.bias", NULL);
    cr_expect(!exists(&d, "new"));
    /* a .npz without a layout and no network to take it from */
    tool_refuses(&d, py, "import bad.npz new", "bad.npz holds no layout of a bpc network",
                 "pass --like T", NULL);
    tool_refuses(&d, py, "import w new", "w: not a .npz file", NULL);
    gen_dir_remove(&d);
}

/* A damaged weight file is refused, as the runtime refuses it, and no .npz is written. */
Test(bpweights, damaged_files_refused)
{
    const char *py = need_numpy();
    GenDir d;
    cr_assert(gen_dir_make(&d));
    float w[3] = {1, 2, 3};
    bprt_file_info info = {.kind = BPRT_FILE_WEIGHTS, .elem_size = 4, .fingerprint = 1,
                           .count = 3, .nbuffers = 1, .tensors = (const char *const[]){"a.weight=3@0;", NULL}};
    const void *bufs[1] = {w};
    char path[256];
    cr_assert_eq(bprt_file_write(gen_path(&d, "w", path, sizeof path), &info, bufs), BPRT_OK);
    tool_ok(&d, py, "export w ok.npz");
    /* a flipped byte of the data, a file one byte short, one byte too long */
    cr_assert_eq(sh(&d, NULL, NULL, "cp w flip && printf '\\377' | dd of=flip bs=1 seek=50 "
                                    "conv=notrunc 2>/dev/null && head -c -1 w >short && "
                                    "cp w long && printf x >>long"), 0);
    tool_refuses(&d, py, "export flip out.npz", "flip: checksum mismatch: the file is corrupt", NULL);
    tool_refuses(&d, py, "export short out.npz", "short: the file is truncated", NULL);
    tool_refuses(&d, py, "export long out.npz", "long: unexpected bytes after the end of the data",
                 NULL);
    tool_refuses(&d, py, "export ok.npz out.npz", "ok.npz: not a bpc weight file", NULL);
    tool_refuses(&d, py, "export missing out.npz", "missing: cannot open the file", NULL);
    cr_expect(!exists(&d, "out.npz") && !exists(&d, "out.npz.tmp"), "an output was written");
    /* a table longer than the runtime reads, sealed with a good checksum */
    cr_assert_eq(sh(&d, NULL, NULL, "%s -c \"import struct, zlib; "
                                    "b = open('w', 'rb').read(); t = b'a.weight=3@0;'.ljust(65544, b'\\0'); "
                                    "b = b[:68] + struct.pack('<IIQ', 4, 0, len(t)) + t; "
                                    "open('long_table', 'wb').write(b + struct.pack('<I', zlib.crc32(b)))\"",
                    py), 0);
    tool_refuses(&d, py, "export long_table out.npz",
                 "long_table: a malformed or unknown section: a tensor table of 65544 bytes", NULL);
    /* a table that does not cover the parameters (the runtime does not read it) */
    info.tensors = (const char *const[]){"a.weight=2@0;", NULL};
    cr_assert_eq(bprt_file_write(path, &info, bufs), BPRT_OK);
    tool_refuses(&d, py, "export w out.npz",
                 "w: the tensor table covers 2 elements, the file holds 3 parameters", NULL);
    gen_dir_remove(&d);
}

// ---- PyTorch ----

/* Given the directory, "mlp" or "cnn" and the data: loads bpc.npz (bpc's trained weights)
 * with the documented one-liner and writes its outputs to from_bpc.txt; then trains the
 * same network in PyTorch, saves it with the documented one-liner to torch.npz and writes
 * its outputs to torch.txt. */
static const char torch_script[] =
    "import sys, numpy as np, torch\n"
    "d, kind = sys.argv[1], sys.argv[2]\n"
    "torch.manual_seed(1)\n"
    "data = np.loadtxt(d + '/data.csv', delimiter=',')\n"
    "x = torch.tensor(data[:, :-1], dtype=torch.float32)\n"
    "y = torch.tensor(data[:, -1], dtype=torch.long)\n"
    "class MLP(torch.nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.hidden = torch.nn.Linear(4, 8)\n"
    "        self.out = torch.nn.Linear(8, 3)\n"
    "    def logits(self, x):\n"
    "        return self.out(torch.relu(self.hidden(x)))\n"
    "class CNN(torch.nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.c1 = torch.nn.Conv2d(1, 4, 3, padding=1)\n"
    "        self.fc = torch.nn.Linear(4 * 3 * 3, 3)\n"
    "    def logits(self, x):\n"
    "        x = torch.relu(self.c1(x.view(-1, 1, 6, 6)))\n"
    "        x = torch.nn.functional.max_pool2d(x, 2)\n"
    "        return self.fc(torch.flatten(x, 1))\n"
    "def forward(self, x):\n"
    "    return torch.softmax(self.logits(x), 1)\n"
    "MLP.forward = CNN.forward = forward\n"
    "def outputs(model, name):\n"
    "    with torch.no_grad():\n"
    "        np.savetxt(d + '/' + name, model(x).double().numpy(), fmt='%.9g', delimiter=',')\n"
    "model = MLP() if kind == 'mlp' else CNN()\n"
    "f = d + '/bpc.npz'\n"
    "model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(f).items()})\n"
    "outputs(model, 'from_bpc.txt')\n"
    "model = MLP() if kind == 'mlp' else CNN()\n"
    "opt = torch.optim.Adam(model.parameters(), lr=0.03)\n"
    "for epoch in range(300):\n"
    "    opt.zero_grad()\n"
    "    loss = torch.nn.functional.cross_entropy(model.logits(x), y)\n"
    "    loss.backward()\n"
    "    opt.step()\n"
    "f = d + '/torch.npz'\n"
    "np.savez(f, **{k: v.numpy() for k, v in model.state_dict().items()})\n"
    "outputs(model, 'torch.txt')\n"
    "print('%.4f %.4f' % (loss.item(), (model(x).argmax(1) == y).float().mean().item()))\n";

/* Rows of comma-separated numbers into v (at most max values); returns how many. */
static int read_values(const char *text, double *v, int max)
{
    int n = 0;
    for (const char *p = text; *p && n < max;) {
        char *end;
        v[n] = strtod(p, &end);
        if (end == p)
            break;
        n++;
        p = end + strspn(end, ",\n");
    }
    return n;
}

/* The outputs in `expect_file` against the generated trainer's on the data: the same
 * class per row, each output within 1e-5. */
static void expect_same_outputs(const GenDir *d, const char *name, const char *weights,
                                const char *expect_file, int rows)
{
    enum { MAX = 3 * 200 };
    static double want[MAX], got[MAX];
    char *ours = NULL, path[256];
    cr_assert_eq(sh(d, &ours, NULL, "./%s predict --load %s --outputs <data.csv", name, weights), 0);
    char *theirs = read_file(gen_path(d, expect_file, path, sizeof path), NULL);
    cr_assert(theirs);
    cr_assert_eq(read_values(theirs, want, MAX), 3 * rows);
    cr_assert_eq(read_values(ours, got, MAX), 3 * rows);
    double worst = 0;
    int differ = 0;
    for (int r = 0; r < rows; r++) {
        int a = 0, b = 0;
        for (int k = 0; k < 3; k++) {
            worst = fmax(worst, fabs(want[3 * r + k] - got[3 * r + k]));
            a = want[3 * r + k] > want[3 * r + a] ? k : a;
            b = got[3 * r + k] > got[3 * r + b] ? k : b;
        }
        differ += a != b;
    }
    cr_expect_eq(differ, 0, "%s, %s: %d of %d classes differ from %s", name, weights, differ, rows,
                 expect_file);
    cr_expect(worst <= 1e-5, "%s, %s: outputs differ from %s by up to %g", name, weights,
              expect_file, worst);
    cr_log_info("%s, %s against %s: largest difference %.3g", name, weights, expect_file, worst);
    free(ours);
    free(theirs);
}

/* bpc's trained weights into PyTorch and PyTorch's into the generated code. */
static void both_ways(const char *name, const char *bp, int inputs, int rows)
{
    const char *py = need_numpy();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s -c 'import torch' >/dev/null 2>&1", py);
    if (run_cmd(cmd, NULL, NULL) != 0)
        cr_skip_test("skipped: %s has no PyTorch (make bench-deps installs python3-torch)", py);
    GenDir d;
    cr_assert(gen_dir_make(&d));
    build_trainer(&d, bp, name);
    write_data(&d, "data.csv", inputs, rows);
    char path[256];
    cr_assert(write_text(gen_path(&d, "torch_script.py", path, sizeof path), torch_script));
    cr_assert_eq(sh(&d, NULL, NULL, "./%s train --data data.csv --epochs 30 --save w >/dev/null", name), 0);
    tool_ok(&d, py, "export w bpc.npz");
    char *out = NULL, *err = NULL;
    int status = sh(&d, &out, &err, "%s torch_script.py . %s", py, name);
    cr_assert_eq(status, 0, "torch_script.py: %s", err);
    double loss = 9, accuracy = 0;
    cr_assert_eq(sscanf(out, "%lf %lf", &loss, &accuracy), 2);
    cr_expect(accuracy >= 0.8, "PyTorch trained %s to an accuracy of only %g", name, accuracy);
    free(out);
    free(err);
    expect_same_outputs(&d, name, "w", "from_bpc.txt", rows);
    tool_ok(&d, py, "import torch.npz fromtorch --like w");
    expect_same_outputs(&d, name, "fromtorch", "torch.txt", rows);
    gen_dir_remove(&d);
}

Test(bpweights, pytorch_mlp_both_ways, .timeout = 120)
{
    both_ways("mlp",
              "network mlp {\n"
              "    input 4;\n"
              "    hidden: dense 8 relu;\n"
              "    out: dense 3 softmax;\n"
              "    loss cross_entropy;\n"
              "    optimizer adam(lr = 0.02);\n"
              "    batch 16;\n"
              "}\n",
              4, 150);
}

Test(bpweights, pytorch_cnn_both_ways, .timeout = 120)
{
    both_ways("cnn",
              "network cnn {\n"
              "    input 1x6x6;\n"
              "    c1: conv2d 4 kernel = 3 padding = 1 relu;\n"
              "    maxpool 2;\n"
              "    fc: dense 3 softmax;\n"
              "    loss cross_entropy;\n"
              "    optimizer adam(lr = 0.02);\n"
              "    batch 16;\n"
              "}\n",
              36, 120);
}

/*
 * filecheck.c - the weight-file driver of tests/test_gen_files.c, compiled at test
 * time with four generated networks:
 *   fa  3 -> 4 tanh -> 2, adam, float     (the network under test)
 *   fs  the same shapes, sgd with momentum (one optimizer buffer instead of two)
 *   fb  5 -> 3 -> 2: as many parameters as fa, other shapes
 *   fd  fa's shapes in double precision
 * It checks save/load and checkpoint/restore round trips (resumed training ends
 * bit-identical to uninterrupted training), that the in-memory images (NAME_save_mem,
 * NAME_checkpoint_mem) are the files' bytes, then that every kind of bad file is
 * rejected, from the file and from memory, with its error code and the model left
 * exactly as it was.
 * Exit status 0 when all checks pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bprt.h"
#include "fa.h"
#include "fb.h"
#include "fd.h"
#include "fs.h"

static int fails;

static void check(const char *what, int ok)
{
    printf("%-60s %s\n", what, ok ? "ok" : "FAIL");
    fails += !ok;
}

static const fa_real X[4 * FA_INPUTS] = {0.5f, -1, 2, 1, 0, -0.5f, -2, 1, 1, 0.25f, 0.75f, -1};
static const fa_real T[4 * FA_OUTPUTS] = {1, 0, 0, 1, 0.5f, 0.5f, -1, 2};

#define TRAIN(net, m, steps)                                                   \
    for (int i_ = 0; i_ < (steps); i_++)                                       \
    net##_train((m), X + (i_ % 2) * 2 * FA_INPUTS, T + (i_ % 2) * 2 * FA_OUTPUTS, 2)

static unsigned char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)*len + 1);
    if (fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static void spit(const char *path, const unsigned char *buf, long len)
{
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, (size_t)len, f);
    fclose(f);
}

/* Loads `path` into a trained model with `load` (fa_load or fa_restore), then the
 * file's bytes from memory with `load_mem` (fa_load_mem or fa_restore_mem); both must
 * fail with `expect` and leave every byte of the model as it was. */
static void reject(const char *what, int (*load)(fa_model *, const char *),
                   int (*load_mem)(fa_model *, const void *, size_t), const char *path,
                   int expect)
{
    static fa_model m, before;
    fa_init(&m, 5);
    TRAIN(fa, &m, 3);
    fa_backward(&m, X, T, 4); /* pending gradients, which must survive too */
    memcpy(&before, &m, sizeof m);
    int err = load(&m, path);
    char line[160];
    snprintf(line, sizeof line, "%s: %s (%d)", what, bprt_strerror(err), err);
    check(line, err == expect && !memcmp(&m, &before, sizeof m));
    long len = 0;
    unsigned char *bytes = slurp(path, &len);
    if (!bytes)
        return; /* the missing file */
    err = load_mem(&m, bytes, (size_t)len);
    snprintf(line, sizeof line, "%s, in memory: %s (%d)", what, bprt_strerror(err), err);
    check(line, err == expect && !memcmp(&m, &before, sizeof m));
    free(bytes);
}

/* NAME_save_mem and NAME_checkpoint_mem write exactly the files' bytes. */
static void check_images(const fa_model *a)
{
    static unsigned char w[FA_WEIGHTS_BYTES], c[FA_CHECKPOINT_BYTES];
    long wlen = 0, clen = 0;
    check("save", fa_save(a, "wm.bin") == 0);
    check("checkpoint", fa_checkpoint(a, "cm.bin") == 0);
    unsigned char *wf = slurp("wm.bin", &wlen), *cf = slurp("cm.bin", &clen);
    check("save_mem", fa_save_mem(a, w, sizeof w) == 0);
    check("checkpoint_mem", fa_checkpoint_mem(a, c, sizeof c) == 0);
    check("save_mem writes the weights file's bytes",
          wf && wlen == FA_WEIGHTS_BYTES && !memcmp(wf, w, sizeof w));
    check("checkpoint_mem writes the checkpoint's bytes",
          cf && clen == FA_CHECKPOINT_BYTES && !memcmp(cf, c, sizeof c));
    check("save_mem: a buffer one byte short", fa_save_mem(a, w, sizeof w - 1) == BPRT_E_SPACE);
    static fa_model r;
    fa_init(&r, 8);
    check("restore_mem", fa_restore_mem(&r, c, sizeof c) == 0 && r.step == a->step &&
                             !memcmp(r.params, a->params, sizeof r.params) &&
                             !memcmp(r.exp_avg_sq, a->exp_avg_sq, sizeof r.exp_avg_sq));
    free(wf);
    free(cf);
}

int main(void)
{
    static fa_model a, b, u, r, r2;

    /* save / load */
    fa_init(&a, 1);
    TRAIN(fa, &a, 5);
    check("save", fa_save(&a, "w.bin") == 0);
    fa_init(&b, 2);
    check("load", fa_load(&b, "w.bin") == 0);
    check("loaded params bit-identical", !memcmp(a.params, b.params, sizeof a.params));
    fa_real ya[4 * FA_OUTPUTS], yb[4 * FA_OUTPUTS];
    fa_forward(&a, X, ya, 4);
    fa_forward(&b, X, yb, 4);
    check("loaded model's forward bit-identical", !memcmp(ya, yb, sizeof ya));
    {
        static fs_model s;
        fs_init(&s, 3);
        check("weights load into another optimizer's model", fs_load(&s, "w.bin") == 0 &&
                                                                  !memcmp(s.params, a.params,
                                                                          sizeof s.params));
    }

    /* checkpoint / restore: 10 + 10 steps against 20 */
    fa_init(&u, 3);
    TRAIN(fa, &u, 20);
    fa_init(&r, 3);
    TRAIN(fa, &r, 10);
    check("checkpoint", fa_checkpoint(&r, "c.bin") == 0);
    fa_init(&r2, 99);
    check("restore", fa_restore(&r2, "c.bin") == 0);
    check("restored step count", r2.step == 10);
    TRAIN(fa, &r2, 10);
    check("adam: resumed training bit-identical to uninterrupted",
          !memcmp(r2.params, u.params, sizeof u.params) &&
              !memcmp(r2.exp_avg, u.exp_avg, sizeof u.exp_avg) &&
              !memcmp(r2.exp_avg_sq, u.exp_avg_sq, sizeof u.exp_avg_sq) && r2.step == 20);
    {
        static fs_model su, sr, sr2;
        fs_init(&su, 4);
        TRAIN(fs, &su, 20);
        fs_init(&sr, 4);
        TRAIN(fs, &sr, 10);
        check("sgd checkpoint", fs_checkpoint(&sr, "cs.bin") == 0);
        fs_init(&sr2, 0);
        check("sgd restore", fs_restore(&sr2, "cs.bin") == 0);
        TRAIN(fs, &sr2, 10);
        check("sgd momentum: resumed training bit-identical",
              !memcmp(sr2.params, su.params, sizeof su.params) &&
                  !memcmp(sr2.momentum_buf, su.momentum_buf, sizeof su.momentum_buf) &&
                  sr2.step == 20);
    }

    check_images(&r2);

    /* bad files */
    long len = 0;
    unsigned char *w = slurp("w.bin", &len);
    if (!w) {
        puts("cannot read w.bin");
        return 1;
    }
    check("weights file is 52 + 4·PARAMS bytes", len == 52 + 4 * FA_PARAMS);
    w[0] ^= 1;
    spit("magic.bin", w, len);
    w[0] ^= 1;
    w[8] ^= 1;
    spit("version.bin", w, len);
    w[8] ^= 1;
    w[48 + 5] ^= 0x10;
    spit("checksum.bin", w, len);
    w[48 + 5] ^= 0x10;
    spit("truncated.bin", w, len - 3);
    spit("short.bin", w, 20);
    w[len] = 0;
    spit("trailing.bin", w, len + 1);
    free(w);
    {
        static fb_model fb;
        static fd_model fd;
        static fs_model fs;
        fb_init(&fb, 1);
        fd_init(&fd, 1);
        fs_init(&fs, 1);
        TRAIN(fs, &fs, 2);
        check("other shapes, same count: save", fb_save(&fb, "other.bin") == 0);
        check("double model: save", fd_save(&fd, "double.bin") == 0);
        check("sgd checkpoint with one state buffer", fs_checkpoint(&fs, "sgd.bin") == 0);
    }
    reject("load: missing file", fa_load, fa_load_mem, "missing.bin", BPRT_E_OPEN);
    reject("load: bad magic", fa_load, fa_load_mem, "magic.bin", BPRT_E_MAGIC);
    reject("load: bad version", fa_load, fa_load_mem, "version.bin", BPRT_E_VERSION);
    reject("load: flipped payload bit", fa_load, fa_load_mem, "checksum.bin", BPRT_E_CHECKSUM);
    reject("load: truncated data", fa_load, fa_load_mem, "truncated.bin", BPRT_E_TRUNCATED);
    reject("load: truncated header", fa_load, fa_load_mem, "short.bin", BPRT_E_TRUNCATED);
    reject("load: trailing byte", fa_load, fa_load_mem, "trailing.bin", BPRT_E_TRAILING);
    reject("load: other network, same parameter count", fa_load, fa_load_mem, "other.bin",
           BPRT_E_FINGERPRINT);
    reject("load: double weights into a float model", fa_load, fa_load_mem, "double.bin", BPRT_E_TYPE);
    reject("load: a checkpoint as weights", fa_load, fa_load_mem, "c.bin", BPRT_E_KIND);
    reject("restore: weights as a checkpoint", fa_restore, fa_restore_mem, "w.bin", BPRT_E_KIND);
    reject("restore: another optimizer's checkpoint", fa_restore, fa_restore_mem, "sgd.bin", BPRT_E_SIZE);
    printf("%d failed\n", fails);
    return fails ? 1 : 0;
}

/*
 * trainer.c - the command-line trainer behind `bpc --main`.
 *
 * With --main the generated C file ends with a main() that describes its model in a
 * bprt_trainer (sizes, element type, loss, and type-correct wrappers of the generated
 * functions) and calls bprt_trainer_main, which calls bprt_trainer_run here (alone:
 * trainer_main.c; as one of several processes: mpi.c).  This file is the rest of that
 * program: the command line (train, eval, predict, gradcheck), loading data through
 * data.c and converting it once to the model's element type, the epoch loop with its
 * progress line, summaries and CSV log, the NaN stop, the learning rate and its schedule,
 * fine-tuning, checkpoints that a resumed run continues bit for bit, early stopping,
 * eval's metrics (confusion matrix, regression scores), class names, and the
 * finite-difference gradient check.  With a bprt_parallel every step and every
 * evaluation is split across the processes (parallel_step, shard); nothing else differs.
 *
 * The model's element type is only known at run time here (elem_size 4 or 8): arrays of
 * it are handled as void pointers and read or written through get() and put(), which
 * access them with their real type.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, getline, isatty */
#endif
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bprt.h"

enum { EXIT_ERROR = 1, EXIT_USAGE = 2, HELP_SHOWN = -1 };

enum { CMD_TRAIN = 1, CMD_EVAL = 2, CMD_PREDICT = 4, CMD_GRADCHECK = 8 };

/* How predictions are scored: the argmax against a class label (cross-entropy), each
 * output thresholded at 0.5 against 0/1 targets, or not at all (regression). */
typedef enum Acc { ACC_NONE, ACC_CLASS, ACC_BINARY } Acc;

/* The learning rate's schedule over the epochs (--schedule), as PyTorch's schedulers. */
typedef enum Schedule { SCHED_NONE, SCHED_STEP, SCHED_COSINE } Schedule;

typedef struct Options {
    unsigned command;
    const char *data, *labels, *test, *test_labels;
    const char *save, *load, *log, *checkpoint, *resume;
    int label_column; /* counted from 1; 0: the last column(s) */
    int header;       /* BPRT_HEADER_* */
    long epochs, every, batch, samples, params;
    uint64_t seed;
    double valid;
    bool standardize, quiet, outputs, confusion;
    double lr;          /* the base learning rate: --lr, the checkpoint's or the model's */
    Schedule schedule;  /* --schedule */
    long step_size;     /* step:K:G */
    double gamma;
    long patience;      /* --patience, or 0: none */
    /* given on the command line (train --resume takes the others from the checkpoint) */
    bool epochs_given, batch_given, seed_given, lr_given, schedule_given, patience_given;
} Options;

/* One data set in the model's element type. */
typedef struct Set {
    const char *what; /* "train", "valid", "test": for messages */
    int rows;
    void *x, *t;      /* rows × inputs, rows × outputs */
    int *label;       /* class indexes, or NULL */
    bool binary;      /* every target is 0 or 1 */
} Set;

typedef struct Run {
    const bprt_trainer *tr;
    const char *prog; /* for messages: the program's base name */
    Options o;
    int es;           /* element size */
    Acc acc;
    void *bx, *bt, *y; /* one batch of inputs, targets, outputs */
    double *mean, *std; /* standardization, or NULL */
    const bprt_parallel *par; /* the other processes of data-parallel training, or NULL */
    bprt_file_info weights; /* the model's weights-file header, with its shape string */
    bprt_file_info checkpoint; /* and its checkpoints' */
    /* the class names (a CSV label column of names, or a weight file's): nnames of
     * them, name[k] the k-th, packed in names (names_size bytes); or none */
    char *names;
    size_t names_size;
    int nnames;
    const char **name;
    /* the weight file or checkpoint loaded for a classifier without class names (it was
     * trained on class indexes), or NULL */
    const char *unnamed;
} Run;

static void error(const Run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void error(const Run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", r->prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static double get(int es, const void *a, size_t i)
{
    return es == 4 ? (double)((const float *)a)[i] : ((const double *)a)[i];
}

static void put(int es, void *a, size_t i, double v)
{
    if (es == 4)
        ((float *)a)[i] = (float)v;
    else
        ((double *)a)[i] = v;
}

static void *elems(const Run *r, size_t rows, size_t cols)
{
    if (rows == 0 || cols == 0)
        return malloc(1);
    if (rows > SIZE_MAX / cols / (size_t)r->es)
        return NULL;
    return calloc(rows * cols, (size_t)r->es);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool is_classifier(const bprt_trainer *tr)
{
    return tr->targets == BPRT_TARGETS_CLASSES;
}

static bool is_binary_loss(const bprt_trainer *tr)
{
    return tr->targets == BPRT_TARGETS_BINARY;
}

// ---- the command line ----

static void help(const bprt_trainer *tr, const char *prog)
{
    printf("usage: %s COMMAND [OPTIONS]\n\n", prog);
    printf("The trainer of network '%s' (%d inputs -> %d outputs, loss %s, %ld parameters,\n"
           "%s precision, at most %d samples per step), generated by bpc --main.\n\n",
           tr->name, tr->inputs, tr->outputs, tr->loss_name, tr->nparams,
           tr->elem_size == 4 ? "float" : "double", tr->batch);
    fputs("commands:\n"
          "  train      train on a data set; print a summary per epoch; save the weights\n"
          "  eval       the loss (and accuracy) of saved weights on a data set; for a\n"
          "             regression also MAE, RMSE and R^2\n"
          "  predict    read rows of inputs from standard input (or --data FILE), write one\n"
          "             line per row: the class (cross_entropy; its name when the labels\n"
          "             were names), 0 or 1 per output (binary_cross_entropy) or the outputs\n"
          "  gradcheck  compare the gradients of the generated backward pass with central\n"
          "             finite differences of the loss, on random inputs; print the worst\n"
          "             relative error per layer and a verdict (exit status 1 if it fails)\n"
          "\n"
          "data (train, eval):\n"
          "  --data FILE         a CSV file, or IDX images (MNIST's format, recognized by\n"
          "                      its header; bytes are scaled to [0, 1]); for predict, CSV\n"
          "                      rows to predict instead of standard input\n"
          "  --labels FILE       the IDX labels of --data (default: the name of --data with\n"
          "                      'images' replaced by 'labels' and 'idx3' by 'idx1')\n"
          "  --label-column K    CSV: the column (1 is the first) with the class label, or the\n"
          "                      first of the target columns (default: the last column(s));\n"
          "                      the other columns are the inputs, in order\n"
          "  --header            CSV: the first line is a header (also for predict)\n"
          "  --no-header         CSV: it is not (default: it is when every field is a name,\n"
          "                      with a letter and not a number such as nan or inf)\n"
          "train:\n"
          "  --test FILE         evaluate on this data set after each epoch\n"
          "  --test-labels FILE  its IDX labels (default: guessed as for --labels)\n"
          "  --valid F           hold out the fraction F of --data (0 < F < 1), after a\n"
          "                      shuffle by the seed, and evaluate on it (default: none)\n"
          "                      (without either, the training set itself is evaluated)\n"
          "  --epochs N          passes over the training data (default 10)\n"
          "  --every N           print a summary every N epochs and after the last (default 1)\n"
          "  --load FILE         start from these weights (fine-tuning: train --save's, with\n"
          "                      their statistics and class names) instead of initializing\n"
          "  --checkpoint FILE   after every epoch write a checkpoint: the weights, the\n"
          "                      optimizer's state, the epoch, the shuffling state and the\n"
          "                      options below (default with --resume: the file resumed)\n"
          "  --resume FILE       continue from a checkpoint up to --epochs N in all (default:\n"
          "                      the checkpoint's); seed, batch, rate, schedule and patience\n"
          "                      are the checkpoint's unless given; give the same data (and\n"
          "                      --valid or --test): after k of N epochs the result is, bit\n"
          "                      for bit, that of N epochs without a stop\n",
          stdout);
    fputs("  --lr X              the learning rate (default: the optimizer's lr in the .bp file)\n"
          "  --schedule S        the rate per epoch: step:K:G multiplies it by G every K\n"
          "                      epochs (PyTorch's StepLR), cosine anneals it to 0 over the\n"
          "                      --epochs of the run (CosineAnnealingLR); none (default)\n"
          "  --patience N        stop when the evaluated set's loss has not improved for N\n"
          "                      epochs (early stopping); --save then writes the weights of\n"
          "                      the best epoch, and the run says which\n",
          stdout);
    printf("  --batch N           samples per optimizer step, 1 to %d (default %d)\n", tr->batch,
           tr->batch);
    printf("  --seed S            seeds the initial weights and the shuffles (default %llu,\n"
           "                      the network's seed)\n",
           (unsigned long long)tr->seed);
    fputs("  --standardize       scale each input to mean 0 and standard deviation 1, with\n"
          "                      statistics of the training part; --save writes them into the\n"
          "                      weight file, and eval and predict apply them\n"
          "  --save FILE         write the trained weights (bpc weight file)\n"
          "  --log FILE          write the summaries as CSV, one line per epoch: epoch,\n"
          "                      train_loss, then the evaluated set's loss and accuracy (as\n"
          "                      valid_loss, test_accuracy, ...), seconds, samples_per_second,\n"
          "                      lr (the epoch's learning rate)\n"
          "  --quiet             no progress line (it is only drawn on a terminal anyway)\n"
          "eval, predict:\n"
          "  --load FILE         weights written by train --save (required), with their\n"
          "                      statistics if trained with --standardize\n"
          "eval:\n"
          "  --confusion         cross_entropy: the confusion matrix, and per class the\n"
          "                      precision, recall and F1\n"
          "predict:\n"
          "  --outputs           print the outputs, not the class\n"
          "  (rows hold the inputs, or the inputs and label columns as in a training file,\n"
          "  --label-column telling where; a header line is skipped)\n"
          "gradcheck:\n"
          "  --seed S            seeds the weights and the random inputs\n"
          "  --samples N         random samples (default 4, at most the batch)\n"
          "  --params N          parameters checked per layer, chosen at random (default 200)\n"
          "  It passes when every error is within 5e-2 for a float model, 1e-6 for a double\n"
          "  one: the differences are taken in the model's precision, and float rounding\n"
          "  leaves them only a few correct digits; a wrong derivative is off by far more.\n"
          "\n"
          "Accuracy: with cross_entropy a label column holds class indexes 0, 1, ..., or\n"
          "names (setosa, versicolor, ...: sorted, the k-th is class k; the weight files keep\n"
          "them), and the predicted class is the largest output; with binary_cross_entropy,\n"
          "or any loss whose targets are all 0 or 1, each output counts as 1 when it is at\n"
          "least 0.5.\n"
          "Training stops with an error naming the epoch and step if the loss becomes NaN or\n"
          "infinite.  Exit status: 0 success, 1 error, 2 bad usage.\n",
          stdout);
}

static int usage(const Run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage(const Run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", r->prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", r->prog);
    va_end(ap);
    return EXIT_USAGE;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* A learning rate: finite and above 0. */
static bool parse_rate(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || !(v > 0))
        return false;
    *out = v;
    return true;
}

/* "step:K:G", "cosine" or "none" into o. */
static bool parse_schedule(const char *s, Options *o)
{
    if (!strcmp(s, "cosine") || !strcmp(s, "none")) {
        o->schedule = s[0] == 'c' ? SCHED_COSINE : SCHED_NONE;
        return true;
    }
    if (strncmp(s, "step:", 5))
        return false;
    char *end;
    errno = 0;
    long k = strtol(s + 5, &end, 10);
    if (end == s + 5 || *end != ':' || errno || k < 1 || k > 1L << 30 ||
        !parse_rate(end + 1, &o->gamma))
        return false;
    o->schedule = SCHED_STEP;
    o->step_size = k;
    return true;
}

typedef struct OptionDef {
    const char *name;
    bool takes_value;
    unsigned commands;
} OptionDef;

static const OptionDef option_defs[] = {
    {"--data", true, CMD_TRAIN | CMD_EVAL | CMD_PREDICT},
    {"--labels", true, CMD_TRAIN | CMD_EVAL},
    {"--label-column", true, CMD_TRAIN | CMD_EVAL | CMD_PREDICT},
    {"--header", false, CMD_TRAIN | CMD_EVAL | CMD_PREDICT},
    {"--no-header", false, CMD_TRAIN | CMD_EVAL | CMD_PREDICT},
    {"--test", true, CMD_TRAIN},
    {"--test-labels", true, CMD_TRAIN},
    {"--valid", true, CMD_TRAIN},
    {"--epochs", true, CMD_TRAIN},
    {"--every", true, CMD_TRAIN},
    {"--batch", true, CMD_TRAIN},
    {"--seed", true, CMD_TRAIN | CMD_GRADCHECK},
    {"--standardize", false, CMD_TRAIN},
    {"--save", true, CMD_TRAIN},
    {"--log", true, CMD_TRAIN},
    {"--quiet", false, CMD_TRAIN},
    {"--load", true, CMD_TRAIN | CMD_EVAL | CMD_PREDICT},
    {"--checkpoint", true, CMD_TRAIN},
    {"--resume", true, CMD_TRAIN},
    {"--lr", true, CMD_TRAIN},
    {"--schedule", true, CMD_TRAIN},
    {"--patience", true, CMD_TRAIN},
    {"--confusion", false, CMD_EVAL},
    {"--outputs", false, CMD_PREDICT},
    {"--samples", true, CMD_GRADCHECK},
    {"--params", true, CMD_GRADCHECK},
    {NULL, false, 0},
};

/* The edit distance of two short words: insertions, deletions, substitutions and
 * swaps of neighbours ("trian"), each 1; longer words than the table holds count as
 * far apart. */
static int edit_distance(const char *a, const char *b)
{
    enum { MAX = 32 };
    size_t m = strlen(a), n = strlen(b);
    if (m >= MAX || n >= MAX)
        return MAX;
    int d[MAX + 1][MAX + 1];
    for (size_t i = 0; i <= m; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= n; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= m; i++)
        for (size_t j = 1; j <= n; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[m][n];
}

/* A suggestion for a mistyped word: the closest name offered, if it is close enough
 * to be a typo (a third of the word's letters, at least 1: "--dat" for "--data"). */
typedef struct Suggestion {
    const char *word, *best;
    int distance;
} Suggestion;

static Suggestion suggestion(const char *word)
{
    int most = (int)strlen(word) / 3;
    return (Suggestion){.word = word, .distance = (most < 1 ? 1 : most) + 1};
}

static void offer(Suggestion *s, const char *name)
{
    int d = edit_distance(s->word, name);
    if (d < s->distance) {
        s->best = name;
        s->distance = d;
    }
}

static int parse_options(Run *r, int argc, char **argv)
{
    Options *o = &r->o;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train"))
        o->command = CMD_TRAIN;
    else if (!strcmp(cmd, "eval"))
        o->command = CMD_EVAL;
    else if (!strcmp(cmd, "predict"))
        o->command = CMD_PREDICT;
    else if (!strcmp(cmd, "gradcheck"))
        o->command = CMD_GRADCHECK;
    else {
        static const char *const commands[] = {"train", "eval", "predict", "gradcheck"};
        Suggestion near = suggestion(cmd);
        for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
            offer(&near, commands[i]);
        if (near.best)
            return usage(r, "unknown command '%s'; did you mean '%s'?", cmd, near.best);
        return usage(r, "unknown command '%s' (train, eval, predict or gradcheck)", cmd);
    }

    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            help(r->tr, r->prog);
            return HELP_SHOWN;
        }
        /* --name=value or --name value */
        char name[32];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len >= sizeof name)
            return usage(r, "unknown option '%s'", arg);
        memcpy(name, arg, len);
        name[len] = 0;
        const OptionDef *def = option_defs;
        while (def->name && strcmp(def->name, name))
            def++;
        if (!def->name) {
            /* the options of this command first: '--lod' is eval's --load, not --log */
            Suggestion near = suggestion(name);
            for (def = option_defs; def->name; def++)
                if (def->commands & o->command)
                    offer(&near, def->name);
            if (!near.best)
                for (def = option_defs; def->name; def++)
                    offer(&near, def->name);
            if (near.best)
                return usage(r, "unknown option '%s'; did you mean '%s'?", name, near.best);
            return usage(r, "unknown option '%s'", arg);
        }
        if (!(def->commands & o->command))
            return usage(r, "%s does not apply to '%s'", name, cmd);
        if (def->takes_value) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return usage(r, "%s needs a value", name);
        } else if (eq) {
            return usage(r, "%s takes no value", name);
        }

        long n;
        if (!strcmp(name, "--data"))
            o->data = value;
        else if (!strcmp(name, "--labels"))
            o->labels = value;
        else if (!strcmp(name, "--test"))
            o->test = value;
        else if (!strcmp(name, "--test-labels"))
            o->test_labels = value;
        else if (!strcmp(name, "--save"))
            o->save = value;
        else if (!strcmp(name, "--load"))
            o->load = value;
        else if (!strcmp(name, "--log"))
            o->log = value;
        else if (!strcmp(name, "--checkpoint"))
            o->checkpoint = value;
        else if (!strcmp(name, "--resume"))
            o->resume = value;
        else if (!strcmp(name, "--confusion"))
            o->confusion = true;
        else if (!strcmp(name, "--header"))
            o->header = BPRT_HEADER_YES;
        else if (!strcmp(name, "--no-header"))
            o->header = BPRT_HEADER_NO;
        else if (!strcmp(name, "--standardize"))
            o->standardize = true;
        else if (!strcmp(name, "--quiet"))
            o->quiet = true;
        else if (!strcmp(name, "--outputs"))
            o->outputs = true;
        else if (!strcmp(name, "--label-column")) {
            if (!parse_long(value, 1, 1L << 24, &n))
                return usage(r, "--label-column takes a column number, 1 or more, not '%s'", value);
            o->label_column = (int)n;
        } else if (!strcmp(name, "--epochs")) {
            if (!parse_long(value, 1, 1L << 30, &o->epochs))
                return usage(r, "--epochs takes a whole number, 1 or more, not '%s'", value);
            o->epochs_given = true;
        } else if (!strcmp(name, "--patience")) {
            if (!parse_long(value, 1, 1L << 30, &o->patience))
                return usage(r, "--patience takes a whole number of epochs, 1 or more, not '%s'",
                             value);
            o->patience_given = true;
        } else if (!strcmp(name, "--lr")) {
            if (!parse_rate(value, &o->lr))
                return usage(r, "--lr takes a learning rate, a number above 0, not '%s'", value);
            o->lr_given = true;
        } else if (!strcmp(name, "--schedule")) {
            if (!parse_schedule(value, o))
                return usage(r, "--schedule takes step:K:G (every K epochs the rate times G, "
                                "K 1 or more, G above 0), cosine or none, not '%s'", value);
            o->schedule_given = true;
        } else if (!strcmp(name, "--every")) {
            if (!parse_long(value, 1, 1L << 30, &o->every))
                return usage(r, "--every takes a whole number, 1 or more, not '%s'", value);
        } else if (!strcmp(name, "--batch")) {
            if (!parse_long(value, 1, r->tr->batch, &o->batch))
                return usage(r, "--batch takes a whole number from 1 to %d, not '%s'", r->tr->batch,
                             value);
            o->batch_given = true;
        } else if (!strcmp(name, "--samples")) {
            if (!parse_long(value, 1, r->tr->batch, &o->samples))
                return usage(r, "--samples takes a whole number from 1 to %d, not '%s'",
                             r->tr->batch, value);
        } else if (!strcmp(name, "--params")) {
            if (!parse_long(value, 1, 1L << 30, &o->params))
                return usage(r, "--params takes a whole number, 1 or more, not '%s'", value);
        } else if (!strcmp(name, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(value, &end, 10);
            if (end == value || *end || errno || value[0] == '-')
                return usage(r, "--seed takes a whole number, 0 or more, not '%s'", value);
            o->seed = (uint64_t)s;
            o->seed_given = true;
        } else if (!strcmp(name, "--valid")) {
            char *end;
            errno = 0;
            double v = strtod(value, &end);
            if (end == value || *end || !(v > 0 && v < 1))
                return usage(r, "--valid takes a fraction between 0 and 1, not '%s'", value);
            o->valid = v;
        }
    }
    if ((o->command & (CMD_TRAIN | CMD_EVAL)) && !o->data)
        return usage(r, "%s needs --data FILE", cmd);
    if ((o->command & (CMD_EVAL | CMD_PREDICT)) && !o->load)
        return usage(r, "%s needs --load FILE (weights written by train --save)", cmd);
    if (o->test && o->valid > 0)
        return usage(r, "--test and --valid both choose the evaluation set: give one");
    if (o->load && o->resume)
        return usage(r, "--load and --resume both give the starting weights: give one");
    if (o->confusion && !is_classifier(r->tr))
        return usage(r, "--confusion is for classifiers (loss cross_entropy), not for %s",
                     r->tr->loss_name);
    if ((o->lr_given || o->schedule_given || o->checkpoint || o->resume) &&
        (!r->tr->lr || !r->tr->state))
        return usage(r, "--lr, --schedule, --checkpoint and --resume need a program generated "
                        "by a newer bpc --main: generate it again");
    return 0;
}

// ---- loading data ----

/* The IDX labels beside an images file: "train-images-idx3-ubyte" ->
 * "train-labels-idx1-ubyte".  NULL when the name has no "images" in its base name. */
static char *guess_labels(const char *images)
{
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    const char *at = strstr(base, "images");
    if (!at)
        return NULL;
    char *g = malloc(strlen(images) + 1);
    if (!g)
        return NULL;
    strcpy(g, images);
    memcpy(g + (at - images), "labels", 6);
    char *idx3 = strstr(g + (base - images), "idx3");
    if (idx3)
        idx3[3] = '1';
    return g;
}

/* names[0..size), `count` names each ended by a NUL, become the run's class names
 * (r->names takes the buffer). */
static int set_names(Run *r, char *names, size_t size, int count)
{
    r->name = malloc((size_t)count * sizeof *r->name);
    if (!r->name) {
        free(names);
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    r->names = names;
    r->names_size = size;
    r->nnames = count;
    for (int k = 0; k < count; k++, names += strlen(names) + 1)
        r->name[k] = names;
    return 0;
}

/* Reads `path` as the network's data: IDX images and labels, or CSV.  A CSV label
 * column of names takes the run's class names, or gives them (the first file read). */
static int load(Run *r, const char *path, const char *labels, bprt_data *d)
{
    const bprt_trainer *tr = r->tr;
    char err[BPRT_ERR_SIZE];
    int rc;
    if (bprt_is_idx(path)) {
        char *guess = NULL;
        if (!labels) {
            guess = guess_labels(path);
            if (!guess) {
                error(r, "%s is an IDX file: give its labels with --labels", path);
                return EXIT_ERROR;
            }
            labels = guess;
        }
        /* The width first: other images (MNIST's for iris) have other labels too, and
         * "784 values per sample" says what is wrong where "label 7" would not. */
        rc = bprt_idx_load(path, labels, 0, d, err);
        if (rc == BPRT_OK && d->inputs != tr->inputs) {
            error(r, "%s: %d values per sample, the network takes %d", path, d->inputs,
                  tr->inputs);
            bprt_data_free(d);
            free(guess);
            return EXIT_ERROR;
        }
        if (rc == BPRT_OK && (rc = bprt_data_one_hot(d, tr->outputs, err)) != BPRT_OK) {
            error(r, "%s: %s", labels, err);
            bprt_data_free(d);
            free(guess);
            return EXIT_ERROR;
        }
        free(guess);
    } else {
        bprt_csv_spec spec = {.inputs = tr->inputs,
                              .targets = tr->outputs,
                              .classes = is_classifier(tr) ? tr->outputs : 0,
                              .label_column = r->o.label_column,
                              .header = r->o.header,
                              .names = r->names};
        rc = bprt_csv_load(path, &spec, d, err);
        if (rc == BPRT_OK && d->names) {
            rc = set_names(r, d->names, d->names_size, d->classes);
            d->names = NULL;
            if (rc) {
                bprt_data_free(d);
                return rc;
            }
            /* the names' order is a guess for weights trained on indexes: say which */
            if (r->unnamed) {
                fprintf(stderr, "%s: warning: %s holds no class names (trained on class "
                        "indexes); %s's names are taken as classes in sorted order:", r->prog,
                        r->unnamed, path);
                for (int k = 0; k < r->nnames; k++)
                    fprintf(stderr, " %d %s%s", k, r->name[k], k + 1 < r->nnames ? "," : "\n");
            }
        }
    }
    if (rc != BPRT_OK) {
        error(r, "%s", err);
        return EXIT_ERROR;
    }
    /* Finite doubles that overflow the model's float would make every loss infinite. */
    if (r->es == 4) {
        size_t nx = (size_t)d->rows * d->inputs, nt = d->t ? (size_t)d->rows * d->outputs : 0;
        for (size_t i = 0; i < nx + nt; i++) {
            double v = i < nx ? d->x[i] : d->t[i - nx];
            if (fabs(v) > FLT_MAX) {
                size_t row = i < nx ? i / d->inputs : (i - nx) / d->outputs;
                error(r, "%s: row %zu: %g is out of the range of float", path, row + 1, v);
                bprt_data_free(d);
                return EXIT_ERROR;
            }
        }
    }
    return 0;
}

/* Whether every target is exactly 0 or 1. */
static bool binary_targets(const bprt_data *d)
{
    for (size_t i = 0; i < (size_t)d->rows * (size_t)d->outputs; i++)
        if (d->t[i] != 0 && d->t[i] != 1)
            return false;
    return true;
}

static void set_free(Set *s)
{
    free(s->x);
    free(s->t);
    free(s->label);
    *s = (Set){0};
}

/* Takes *v (n doubles) and turns it into n elements of the model's type: as it is for
 * double; for float converted in place, each float written over bytes already read
 * (float i lies in the bytes of double i/2), then shrunk.  No second copy: MNIST's
 * inputs are 376 MB of doubles. */
static void *take_as_elems(const Run *r, double **v, size_t n)
{
    double *d = *v;
    *v = NULL;
    if (r->es == 8 || !d)
        return d;
    float *f = (float *)(void *)d;
    for (size_t i = 0; i < n; i++) {
        float x = (float)d[i];
        f[i] = x;
    }
    void *shrunk = n > 0 ? realloc(d, n * sizeof(float)) : NULL;
    return shrunk ? shrunk : d;
}

/* `d` as a Set of the model's element type; d is emptied (its arrays move). */
static int to_set(const Run *r, bprt_data *d, const char *what, Set *s)
{
    const bprt_trainer *tr = r->tr;
    *s = (Set){.what = what, .rows = d->rows, .binary = binary_targets(d)};
    if (r->mean)
        bprt_data_standardize(d, r->mean, r->std);
    s->x = take_as_elems(r, &d->x, (size_t)d->rows * (size_t)tr->inputs);
    s->t = d->t ? take_as_elems(r, &d->t, (size_t)d->rows * (size_t)tr->outputs)
                : elems(r, (size_t)d->rows, (size_t)tr->outputs);
    s->label = d->label;
    d->label = NULL;
    bprt_data_free(d);
    if (!s->x || !s->t) {
        set_free(s);
        error(r, "out of memory for the %s set", what);
        return EXIT_ERROR;
    }
    return 0;
}

// ---- output files ----

/* The temporary file beside PATH that output is written to before it is renamed over
 * PATH (bprt_file_write uses the same name), so that a failed run leaves any earlier
 * file as it was. */
static char *tmp_path(const char *path)
{
    char *p = malloc(strlen(path) + 5);
    if (p)
        sprintf(p, "%s.tmp", path);
    return p;
}

/* Checks, before any training, that output `path` (for `option`) can be written: it is
 * a file if it exists, not one of the input files, and PATH.tmp can be created beside it.
 * Nothing existing is touched: only a PATH.tmp that this check created is removed. */
static int check_output(const Run *r, const char *option, const char *path)
{
    const Options *o = &r->o;
    const char *const inputs[][2] = {{"--data", o->data}, {"--labels", o->labels},
                                     {"--test", o->test}, {"--test-labels", o->test_labels}};
    struct stat out, in;
    if (stat(path, &out) == 0) {
        if (S_ISDIR(out.st_mode)) {
            error(r, "%s: is a directory (given to %s)", path, option);
            return EXIT_ERROR;
        }
        /* the file renamed into place would replace a device or a pipe (as root,
         * /dev/null) with a file */
        if (!S_ISREG(out.st_mode)) {
            error(r, "%s: is not a regular file (given to %s); the trainer writes files",
                  path, option);
            return EXIT_ERROR;
        }
        for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++)
            if (inputs[i][1] && stat(inputs[i][1], &in) == 0 && in.st_dev == out.st_dev &&
                in.st_ino == out.st_ino) {
                error(r, "%s: %s would overwrite the %s file", path, option, inputs[i][0]);
                return EXIT_ERROR;
            }
    }
    char *tmp = tmp_path(path);
    if (!tmp) {
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    const bool created = fd >= 0, stale = !created && errno == EEXIST;
    if (stale)
        fd = open(tmp, O_WRONLY); /* left by a run that was killed: writable as it is? */
    if (fd < 0) {
        if (stale)
            error(r, "%s: cannot write %s: %s", path, tmp, strerror(errno));
        else
            error(r, "%s: cannot write: %s", path, strerror(errno));
        free(tmp);
        return EXIT_ERROR;
    }
    close(fd);
    if (created)
        unlink(tmp);
    free(tmp);
    return 0;
}

static int check_outputs(const Run *r)
{
    const Options *o = &r->o;
    const char *const out[][2] = {{"--save", o->save}, {"--log", o->log},
                                  {"--checkpoint", o->checkpoint}};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (out[i][1] && out[j][1] && !strcmp(out[i][1], out[j][1])) {
                error(r, "%s: given to both %s and %s", out[i][1], out[i][0], out[j][0]);
                return EXIT_ERROR;
            }
    if (o->load && o->save && !strcmp(o->load, o->save))
        printf("note: --save %s replaces the weights --load read, when training is done\n",
               o->save);
    if (o->save && check_output(r, "--save", o->save))
        return EXIT_ERROR;
    if (o->checkpoint && check_output(r, "--checkpoint", o->checkpoint))
        return EXIT_ERROR;
    /* Only rank 0 writes the log: another rank's check could remove the LOG.tmp that
     * rank 0 is writing. */
    if (o->log && !(r->par && r->par->rank > 0) && check_output(r, "--log", o->log))
        return EXIT_ERROR;
    return 0;
}

/* The log is written to LOG.tmp and renamed over LOG when training ends (also when it
 * stopped on a NaN: the epochs before it are worth keeping); NULL on error. */
static FILE *open_log(const Run *r)
{
    char *tmp = tmp_path(r->o.log);
    FILE *f = tmp ? fopen(tmp, "w") : NULL;
    if (!tmp)
        error(r, "out of memory");
    else if (!f)
        error(r, "%s: cannot write: %s", tmp, strerror(errno));
    free(tmp);
    return f;
}

/* Closes the log and, if `keep` and everything was written, renames it into place;
 * otherwise removes it. */
static int close_log(const Run *r, FILE *log, bool keep)
{
    char *tmp = tmp_path(r->o.log);
    if (!tmp) {
        fclose(log);
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    int rc = 0;
    bool bad = ferror(log);
    if (fclose(log) != 0 || bad) {
        error(r, "%s: write error: %s", tmp, strerror(errno));
        rc = EXIT_ERROR;
    } else if (keep && rename(tmp, r->o.log) != 0) {
        error(r, "%s: cannot rename %s to it: %s", r->o.log, tmp, strerror(errno));
        rc = EXIT_ERROR;
    }
    if (rc || !keep)
        remove(tmp);
    free(tmp);
    return rc;
}

// ---- weight files and their standardization statistics ----

/* A weight file's error code as a message that says what differs, or the system's
 * reason (errno, which the runtime keeps for BPRT_E_OPEN and BPRT_E_IO). */
static void file_error(const Run *r, const char *path, const bprt_file_info *expect, int code)
{
    char msg[BPRT_ERR_SIZE];
    bprt_file_explain(msg, path, expect, code);
    error(r, "%s", msg);
}

/* The class names section of the run's files (none without names). */
static bprt_extra names_extra(const Run *r)
{
    return (bprt_extra){.nclasses = (uint32_t)r->nnames, .names = r->names,
                        .names_size = r->names_size};
}

/* The names a file held (extra->nclasses of them in extra->names) as the run's; the
 * buffer is taken.  A count other than the network's classes is refused. */
static int take_names(Run *r, const char *path, bprt_extra *x)
{
    if (x->nclasses == 0) {
        free(x->names);
        if (is_classifier(r->tr))
            r->unnamed = path;
        return 0;
    }
    if (!is_classifier(r->tr) || x->nclasses != (uint32_t)r->tr->outputs) {
        error(r, "%s: %u class names, the network has %d %s", path, (unsigned)x->nclasses,
              r->tr->outputs, is_classifier(r->tr) ? "classes" : "outputs and no classes");
        free(x->names);
        return EXIT_ERROR;
    }
    return set_names(r, x->names, x->names_size, (int)x->nclasses);
}

/* Writes the weights to --save, with the statistics when the inputs were standardized
 * and the class names when the labels were names: in the one file, so that they cannot
 * be separated.  `which` says whose weights they are ("" or " of epoch 7, the best"). */
static int save_weights(const Run *r, const char *which)
{
    const bprt_trainer *tr = r->tr;
    bprt_stats stats = {.inputs = (uint32_t)tr->inputs, .mean = r->mean, .std = r->std};
    const bprt_extra names = names_extra(r);
    const void *const buffers[1] = {tr->params(tr->model)};
    int e = bprt_file_write_extra(r->o.save, &r->weights, buffers, r->mean ? &stats : NULL,
                                  &names);
    if (e != BPRT_OK) {
        file_error(r, r->o.save, &r->weights, e);
        return EXIT_ERROR;
    }
    printf("saved the weights%s%s%s to %s\n", which,
           r->mean ? (r->names ? ", the standardization statistics" :
                                 " and the standardization statistics") : "",
           r->names ? " and the class names" : "", r->o.save);
    return 0;
}

/* The side file in which earlier versions kept the statistics: WEIGHTS.stats. */
static char *stats_path(const char *weights)
{
    char *p = malloc(strlen(weights) + 7);
    if (p)
        sprintf(p, "%s.stats", weights);
    return p;
}

/* A WEIGHTS.stats of earlier weights would be applied to new ones that have no
 * statistics in the file (load_weights): it goes with the weights it belonged to. */
static int remove_old_stats(const Run *r)
{
    char *path = stats_path(r->o.save);
    if (!path) {
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    if (remove(path) == 0)
        printf("removed %s, the statistics of the weights replaced\n", path);
    free(path);
    return 0;
}

/* Loads WEIGHTS.stats, which earlier versions wrote beside weight files of format
 * version 1, into r->mean and r->std when that file exists. */
static int read_old_stats(Run *r, const char *weights)
{
    char *path = stats_path(weights);
    if (!path) {
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        int missing = errno == ENOENT;
        if (!missing)
            error(r, "%s: cannot open: %s", path, strerror(errno));
        free(path);
        return missing ? 0 : EXIT_ERROR;
    }
    int n = r->tr->inputs;
    r->mean = malloc((size_t)n * sizeof(double));
    r->std = malloc((size_t)n * sizeof(double));
    int inputs = -1, c;
    bool ok = r->mean && r->std;
    while (ok && (c = fgetc(f)) == '#')
        while ((c = fgetc(f)) != EOF && c != '\n')
            ;
    if (ok && c != EOF)
        ungetc(c, f);
    ok = ok && fscanf(f, "inputs %d", &inputs) == 1 && inputs == n;
    for (int j = 0; ok && j < n; j++)
        ok = fscanf(f, "%lf %lf", &r->mean[j], &r->std[j]) == 2 && isfinite(r->mean[j]) &&
             r->std[j] > 0;
    fclose(f);
    if (!ok) {
        error(r, "%s: not standardization statistics for %d inputs", path, n);
        free(path);
        return EXIT_ERROR;
    }
    free(path);
    return 0;
}

/* The bytes a class names section may hold (docs/WEIGHTS.md). */
enum { NAMES_MAX = 65536 };

/* --load's weights into the model, its statistics into r->mean and r->std (from the
 * file, or for a file without them from an old WEIGHTS.stats) and its class names. */
static int load_weights(Run *r)
{
    const bprt_trainer *tr = r->tr;
    r->mean = malloc((size_t)tr->inputs * sizeof(double));
    r->std = malloc((size_t)tr->inputs * sizeof(double));
    bprt_extra x = {.names = malloc(NAMES_MAX), .names_size = NAMES_MAX};
    if (!r->mean || !r->std || !x.names) {
        free(x.names);
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    bprt_stats stats = {.inputs = (uint32_t)tr->inputs, .mean = r->mean, .std = r->std};
    void *const buffers[1] = {tr->params(tr->model)};
    int e = bprt_file_read_extra(r->o.load, &r->weights, buffers, NULL, &stats, &x);
    if (e != BPRT_OK) {
        free(x.names);
        file_error(r, r->o.load, &r->weights, e);
        return EXIT_ERROR;
    }
    if ((e = take_names(r, r->o.load, &x)) != 0)
        return e;
    if (stats.found)
        return 0;
    free(r->mean);
    free(r->std);
    r->mean = r->std = NULL;
    return read_old_stats(r, r->o.load);
}

// ---- evaluation ----

typedef struct Score {
    double loss;
    long correct, total; /* total 0: no accuracy */
} Score;

/* Counts the right predictions of n rows: y (n × outputs) against targets or labels;
 * with `confusion` (outputs × outputs, row the true class) also each pair's. */
static long count_correct(const Run *r, const void *y, const void *t, const int *label, int n,
                          double *confusion)
{
    const int out = r->tr->outputs;
    long correct = 0;
    for (int i = 0; i < n; i++) {
        if (r->acc == ACC_CLASS) {
            const void *row = (const char *)y + (size_t)i * out * r->es;
            const void *trow = (const char *)t + (size_t)i * out * r->es;
            int k = r->es == 4 ? bprt_argmax_f(row, out) : bprt_argmax_d(row, out);
            int want = label ? label[i]
                             : r->es == 4 ? bprt_argmax_f(trow, out) : bprt_argmax_d(trow, out);
            correct += k == want;
            if (confusion && k >= 0 && want >= 0)
                confusion[(size_t)want * out + k]++;
        } else {
            for (int j = 0; j < out; j++) {
                size_t at = (size_t)i * out + j;
                correct += (get(r->es, y, at) >= 0.5) == (get(r->es, t, at) >= 0.5);
            }
        }
    }
    return correct;
}

/* The part of `rows` samples that this process takes: rows [*first, *first + *n).  The
 * processes' parts are contiguous, in rank order, and differ in size by 1 at most. */
static void shard(const Run *r, int rows, int *first, int *n)
{
    int rank = r->par ? r->par->rank : 0, size = r->par ? r->par->size : 1;
    *first = (int)((long long)rows * rank / size);
    *n = (int)((long long)rows * (rank + 1) / size) - *first;
}

/* The loss and accuracy of set s; with `confusion` (outputs × outputs, zeroed) also the
 * confusion matrix of a classifier. */
static Score evaluate_confusion(const Run *r, const Set *s, double *confusion)
{
    const bprt_trainer *tr = r->tr;
    Score sc = {0};
    const long batch = r->o.batch;
    double sum = 0;
    int first, rows;
    shard(r, s->rows, &first, &rows);
    for (int i = first; i < first + rows; i += (int)batch) {
        int n = first + rows - i < batch ? first + rows - i : (int)batch;
        const void *x = (const char *)s->x + (size_t)i * tr->inputs * r->es;
        const void *t = (const char *)s->t + (size_t)i * tr->outputs * r->es;
        sum += tr->loss(tr->model, x, t, n) * n;
        if (r->acc != ACC_NONE) {
            tr->forward(tr->model, x, r->y, n);
            sc.correct +=
                count_correct(r, r->y, t, s->label ? s->label + i : NULL, n, confusion);
        }
    }
    if (r->par) { /* the shards' sums; counts are exact in a double up to 2^53 */
        double v[2] = {sum, (double)sc.correct};
        r->par->sum(r->par, v, 2);
        sum = v[0];
        sc.correct = (long)v[1];
        if (confusion)
            r->par->sum(r->par, confusion, tr->outputs * tr->outputs);
    }
    sc.loss = s->rows > 0 ? sum / s->rows : 0;
    if (r->acc != ACC_NONE)
        sc.total = (long)s->rows * (r->acc == ACC_BINARY ? tr->outputs : 1);
    return sc;
}

static Score evaluate(const Run *r, const Set *s)
{
    return evaluate_confusion(r, s, NULL);
}

/* A regression's scores, over every output of every sample: the mean absolute error,
 * the root of the mean squared error, and R² per output averaged over the outputs
 * (scikit-learn's r2_score: 1 − Σ(y − t)² / Σ(t − mean t)², an output whose targets
 * are constant scoring 1 when predicted exactly, else 0). */
typedef struct Regression {
    double mae, rmse, r2;
} Regression;

static int regression_scores(const Run *r, const Set *s, Regression *out)
{
    const bprt_trainer *tr = r->tr;
    const int k = tr->outputs;
    double *v = calloc((size_t)4 * k + 2, sizeof *v); /* mean t, Σ|e|, Σe², Σ(t − mean)² */
    if (!v) {
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    double *mean = v, *abs_err = v + k, *sq_err = v + 2 * k, *sq_dev = v + 3 * k;
    int first, rows;
    shard(r, s->rows, &first, &rows);
    for (size_t i = (size_t)first; i < (size_t)(first + rows); i++)
        for (int j = 0; j < k; j++)
            mean[j] += get(r->es, s->t, i * k + j);
    if (r->par)
        r->par->sum(r->par, mean, k);
    for (int j = 0; j < k; j++)
        mean[j] /= s->rows;
    for (int i = first; i < first + rows; i += (int)r->o.batch) {
        int n = first + rows - i < r->o.batch ? first + rows - i : (int)r->o.batch;
        tr->forward(tr->model, (const char *)s->x + (size_t)i * tr->inputs * r->es, r->y, n);
        for (size_t a = 0; a < (size_t)n * k; a++) {
            const int j = (int)(a % k);
            const double t = get(r->es, s->t, (size_t)i * k + a), e = get(r->es, r->y, a) - t;
            abs_err[j] += fabs(e);
            sq_err[j] += e * e;
            sq_dev[j] += (t - mean[j]) * (t - mean[j]);
        }
    }
    if (r->par)
        r->par->sum(r->par, abs_err, 3 * k);
    double sum_abs = 0, sum_sq = 0, r2 = 0;
    for (int j = 0; j < k; j++) {
        sum_abs += abs_err[j];
        sum_sq += sq_err[j];
        r2 += sq_dev[j] > 0 ? 1 - sq_err[j] / sq_dev[j] : sq_err[j] == 0 ? 1 : 0;
    }
    const double count = (double)s->rows * k;
    *out = (Regression){sum_abs / count, sqrt(sum_sq / count), r2 / k};
    free(v);
    return 0;
}

/* The confusion matrix (row: the true class, column: the predicted one) and per class
 * precision, recall and F1 (a ratio 0/0 counts as 0, as scikit-learn's
 * classification_report has it), with their unweighted means. */
static void print_confusion(const Run *r, const double *cm)
{
    const int k = r->tr->outputs;
    char label[32];
    int w = 5; /* the widest class label */
    for (int c = 0; c < k; c++) {
        int len = r->names ? (int)strlen(r->name[c]) : snprintf(label, sizeof label, "%d", c);
        if (len > w)
            w = len;
    }
    if (w > 24)
        w = 24;
    printf("confusion matrix (rows: the true class, columns: the predicted one)\n%*s", w, "");
    for (int c = 0; c < k; c++)
        if (r->names)
            printf(" %*.*s", w, w, r->name[c]);
        else
            printf(" %*d", w, c);
    printf("\n");
    for (int t = 0; t < k; t++) {
        if (r->names)
            printf("%-*.*s", w, w, r->name[t]);
        else
            printf("%-*d", w, t);
        for (int c = 0; c < k; c++)
            printf(" %*.0f", w, cm[(size_t)t * k + c]);
        printf("\n");
    }
    printf("%-*s %9s %9s %9s %9s\n", w, "class", "precision", "recall", "f1", "support");
    double mp = 0, mr = 0, mf = 0, total = 0;
    for (int c = 0; c < k; c++) {
        double tp = cm[(size_t)c * k + c], predicted = 0, actual = 0;
        for (int j = 0; j < k; j++) {
            predicted += cm[(size_t)j * k + c];
            actual += cm[(size_t)c * k + j];
        }
        double p = predicted > 0 ? tp / predicted : 0, rc = actual > 0 ? tp / actual : 0;
        double f1 = p + rc > 0 ? 2 * p * rc / (p + rc) : 0;
        if (r->names)
            printf("%-*.*s", w, w, r->name[c]);
        else
            printf("%-*d", w, c);
        printf(" %9.4f %9.4f %9.4f %9.0f\n", p, rc, f1, actual);
        mp += p;
        mr += rc;
        mf += f1;
        total += actual;
    }
    printf("%-*s %9.4f %9.4f %9.4f %9.0f\n", w, "mean", mp / k, mr / k, mf / k, total);
}

/* "valid loss 0.1  valid accuracy 96.67% (29/30)", the loss left out when !with_loss. */
static void print_score(const char *what, Score sc, bool with_loss)
{
    if (with_loss)
        printf("  %s loss %.6g", what, sc.loss);
    if (sc.total > 0)
        printf("  %s accuracy %.2f%% (%ld/%ld)", what, 100.0 * sc.correct / sc.total, sc.correct,
               sc.total);
}

// ---- train ----

/* The progress line: drawn on standard error when it is a terminal, over itself. */
typedef struct Progress {
    bool on;
    double start, last; /* of the training, of the last draw */
    long done, total;   /* samples trained, in all epochs */
} Progress;

static void progress_draw(Progress *p, long epoch, long epochs, long in_epoch, long rows,
                          double loss)
{
    double t = now();
    if (!p->on || t - p->last < 0.2)
        return;
    p->last = t;
    double rate = p->done / (t - p->start + 1e-9);
    long eta = rate > 0 ? (long)((p->total - p->done) / rate) : 0;
    fprintf(stderr, "\r  epoch %ld/%ld  %ld/%ld  %.0f samples/s  loss %.4g  ETA %ld:%02ld   ",
            epoch, epochs, in_epoch, rows, rate, loss, eta / 60, eta % 60);
    fflush(stderr);
}

static void progress_clear(const Progress *p)
{
    if (p->on)
        fprintf(stderr, "\r%79s\r", "");
}

/* Rows order[0..n) of `set` into the batch buffers bx and bt. */
static void gather_rows(const Run *r, const Set *set, const int *order, int n)
{
    const size_t xrow = (size_t)r->tr->inputs * r->es, trow = (size_t)r->tr->outputs * r->es;
    for (int k = 0; k < n; k++) {
        memcpy((char *)r->bx + k * xrow, (const char *)set->x + order[k] * xrow, xrow);
        memcpy((char *)r->bt + k * trow, (const char *)set->t + order[k] * trow, trow);
    }
}

/* One step of data-parallel training on the m samples order[0..m): this process adds
 * the gradient of its shard's mean loss, the processes' gradients are averaged weighted
 * by their shards' sizes (which gives the gradient of the mean over all m), and every
 * process takes the same optimizer step.  Returns the mean loss over the m samples; when
 * it is not finite no step is taken, and every process sees the same value. */
static double parallel_step(const Run *r, const Set *train, const int *order, int m)
{
    const bprt_trainer *tr = r->tr;
    int first, n;
    shard(r, m, &first, &n);
    double sum = 0; /* a process without samples adds nothing: its grads stay zero */
    if (n > 0) {
        gather_rows(r, train, order + first, n);
        sum = tr->backward(tr->model, r->bx, r->bt, n) * n;
    }
    r->par->sum(r->par, &sum, 1);
    if (isfinite(sum)) {
        r->par->average(r->par, tr->grads(tr->model), tr->nparams, r->es, (double)n / m);
        tr->step(tr->model);
    }
    return sum / m;
}

/* What training carries from epoch to epoch, and a checkpoint keeps (section 5 of
 * docs/WEIGHTS.md: the words in the order of the enum): the epochs done, the shuffles'
 * generator, the options that decide the rest of the run, and early stopping's record. */
typedef struct State {
    long epoch;       /* epochs done */
    bprt_rng rng;     /* the shuffles' generator after them */
    long rows;        /* training samples */
    double best_loss; /* early stopping: the evaluated set's best loss, its epoch, the */
    long best_epoch;  /* epochs since, and that epoch's weights (NULL without */
    long bad;         /* --patience) */
    void *best;
} State;

enum {
    W_VERSION, W_EPOCH, W_SEED, W_RNG, W_ROWS = W_RNG + 4, W_EPOCHS, W_BATCH, W_LR,
    W_SCHEDULE, W_STEP_SIZE, W_GAMMA, W_PATIENCE, W_BEST_LOSS, W_BEST_EPOCH, W_BAD, NWORDS,
    STATE_VERSION = 1
};

static uint64_t double_bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static double bits_double(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* The learning rate of `epoch` (1, 2, ...), from the rate `lr` of the first, as
 * PyTorch's schedulers compute it, stepped once per epoch: each epoch's from the one
 * before (their get_lr, not the closed form, which differs in the last bits).  StepLR
 * multiplies by gamma when (epoch − 1) is a multiple of K; CosineAnnealingLR with
 * T_max = the run's epochs and eta_min = 0 takes lr_t = (1 + cos(π·t/T)) /
 * (1 + cos(π·(t − 1)/T)) · lr_(t−1) at t = epoch − 1 (its other branch is for t > T,
 * which a run of T epochs never reaches). */
static double epoch_lr(const Options *o, double lr, long epoch)
{
    const double pi = 3.14159265358979323846;
    for (long t = 1; t < epoch; t++) {
        if (o->schedule == SCHED_STEP && t % o->step_size == 0)
            lr *= o->gamma;
        else if (o->schedule == SCHED_COSINE)
            lr = (1 + cos(pi * t / o->epochs)) / (1 + cos(pi * (t - 1) / o->epochs)) * lr;
    }
    return lr;
}

/* The checkpoint of `st` to --checkpoint: the model's buffers and step counter as
 * NAME_checkpoint writes them, and the trainer's sections. */
static int save_checkpoint(const Run *r, const State *st)
{
    const bprt_trainer *tr = r->tr;
    const Options *o = &r->o;
    void *buffers[4];
    bprt_file_info info = r->checkpoint;
    info.step = *tr->state(tr->model, buffers);
    uint64_t w[NWORDS] = {0};
    w[W_VERSION] = STATE_VERSION;
    w[W_EPOCH] = (uint64_t)st->epoch;
    w[W_SEED] = o->seed;
    for (int i = 0; i < 4; i++)
        w[W_RNG + i] = st->rng.s[i];
    w[W_ROWS] = (uint64_t)st->rows;
    w[W_EPOCHS] = (uint64_t)o->epochs;
    w[W_BATCH] = (uint64_t)o->batch;
    w[W_LR] = double_bits(o->lr);
    w[W_SCHEDULE] = (uint64_t)o->schedule;
    w[W_STEP_SIZE] = (uint64_t)o->step_size;
    w[W_GAMMA] = double_bits(o->gamma);
    w[W_PATIENCE] = (uint64_t)o->patience;
    w[W_BEST_LOSS] = double_bits(st->best_loss);
    w[W_BEST_EPOCH] = (uint64_t)st->best_epoch;
    w[W_BAD] = (uint64_t)st->bad;
    bprt_extra x = names_extra(r);
    x.words = w;
    x.nwords = NWORDS;
    x.best = st->best;
    x.nbest = st->best ? (uint64_t)tr->nparams : 0;
    bprt_stats stats = {.inputs = (uint32_t)tr->inputs, .mean = r->mean, .std = r->std};
    int e = bprt_file_write_extra(o->checkpoint, &info, (const void *const *)buffers,
                                  r->mean ? &stats : NULL, &x);
    if (e != BPRT_OK) {
        file_error(r, o->checkpoint, &info, e);
        return EXIT_ERROR;
    }
    return 0;
}

/* --resume's checkpoint into the model (buffers, step counter), the run (statistics,
 * class names, the options not given) and *st (st->best allocated when it has best
 * weights).  Nothing is used unless the whole file is good. */
static int read_checkpoint(Run *r, State *st)
{
    const bprt_trainer *tr = r->tr;
    Options *o = &r->o;
    const char *path = o->resume;
    void *buffers[4];
    int64_t *step = tr->state(tr->model, buffers);
    uint64_t w[NWORDS];
    r->mean = malloc((size_t)tr->inputs * sizeof(double));
    r->std = malloc((size_t)tr->inputs * sizeof(double));
    bprt_extra x = {.names = malloc(NAMES_MAX), .names_size = NAMES_MAX, .words = w,
                    .nwords = NWORDS, .best = elems(r, (size_t)tr->nparams, 1)};
    if (!r->mean || !r->std || !x.names || !x.best) {
        free(x.names);
        free(x.best);
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    bprt_stats stats = {.inputs = (uint32_t)tr->inputs, .mean = r->mean, .std = r->std};
    int e = bprt_file_read_extra(path, &r->checkpoint, buffers, step, &stats, &x);
    if (e == BPRT_OK && !x.has_state) {
        error(r, "%s: a checkpoint without the trainer's state (as NAME_checkpoint writes): "
                 "train --resume takes those of train --checkpoint", path);
        e = -1;
    } else if (e == BPRT_OK && w[W_VERSION] != STATE_VERSION) {
        error(r, "%s: trainer state of version %llu, this trainer reads version %d", path,
              (unsigned long long)w[W_VERSION], STATE_VERSION);
        e = -1;
    } else if (e != BPRT_OK) {
        file_error(r, path, &r->checkpoint, e);
    }
    if (e == BPRT_OK)
        e = take_names(r, path, &x);
    else
        free(x.names);
    if (e != BPRT_OK) {
        free(x.best);
        return EXIT_ERROR;
    }
    if (!stats.found) {
        free(r->mean);
        free(r->std);
        r->mean = r->std = NULL;
    }
    const uint64_t seed = w[W_SEED];
    if (o->seed_given && o->seed != seed) {
        free(x.best);
        error(r, "--seed %llu: the checkpoint %s was trained with seed %llu, which its "
                 "shuffles follow", (unsigned long long)o->seed, path, (unsigned long long)seed);
        return EXIT_USAGE;
    }
    o->seed = seed;
    if (!o->epochs_given)
        o->epochs = (long)w[W_EPOCHS];
    if (!o->batch_given)
        o->batch = (long)w[W_BATCH];
    if (!o->lr_given)
        o->lr = bits_double(w[W_LR]);
    if (!o->schedule_given) {
        o->schedule = (Schedule)w[W_SCHEDULE];
        o->step_size = (long)w[W_STEP_SIZE];
        o->gamma = bits_double(w[W_GAMMA]);
    }
    if (!o->patience_given)
        o->patience = (long)w[W_PATIENCE];
    *st = (State){.epoch = (long)w[W_EPOCH], .rows = (long)w[W_ROWS],
                  .best_loss = bits_double(w[W_BEST_LOSS]), .best_epoch = (long)w[W_BEST_EPOCH],
                  .bad = (long)w[W_BAD], .best = x.nbest ? x.best : NULL};
    for (int i = 0; i < 4; i++)
        st->rng.s[i] = w[W_RNG + i];
    if (!x.nbest)
        free(x.best);
    /* bprt_file_read_extra checked the checksum: these are checks of what was written */
    if (o->batch < 1 || o->batch > tr->batch || !(o->lr > 0) || o->schedule > SCHED_COSINE ||
        (o->schedule == SCHED_STEP && (o->step_size < 1 || !(o->gamma > 0))) || st->epoch < 1 ||
        o->epochs < 1) {
        error(r, "%s: the trainer state holds values this trainer cannot use", path);
        return EXIT_ERROR;
    }
    if (st->epoch >= o->epochs) {
        error(r, "%s: %ld epochs are done already; give --epochs N with N above %ld to train on",
              path, st->epoch, st->epoch);
        return EXIT_ERROR;
    }
    return 0;
}

/* Early stopping's record after an epoch whose evaluated loss is `loss`: a new best
 * keeps the weights. */
static void record_best(const Run *r, State *st, long epoch, double loss)
{
    const bprt_trainer *tr = r->tr;
    if (loss < st->best_loss) {
        st->best_loss = loss;
        st->best_epoch = epoch;
        st->bad = 0;
        memcpy(st->best, tr->params(tr->model), (size_t)tr->nparams * r->es);
    } else {
        st->bad++;
    }
}

static int train_loop(Run *r, const Set *train, const Set *eval, FILE *log, State *st)
{
    const bprt_trainer *tr = r->tr;
    const Options *o = &r->o;
    const long global = o->batch * (r->par ? r->par->size : 1); /* samples per step */
    int *order = malloc((size_t)train->rows * sizeof *order);
    if (!order) {
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    for (int i = 0; i < train->rows; i++)
        order[i] = i;
    bprt_rng rng;
    bprt_rng_seed(&rng, o->seed ^ 0x5348554646u); /* not the stream the weights came from */
    /* Resumed: the shuffles of the epochs done again, for the order they left (each
     * epoch shuffles the one before); they must end where the checkpoint's did. */
    for (long e = 1; e <= st->epoch; e++)
        bprt_shuffle(order, train->rows, &rng);
    if (st->epoch > 0 && (st->rows != train->rows || memcmp(&rng, &st->rng, sizeof rng))) {
        error(r, "%s: the checkpoint was trained on %ld samples%s; give the same data (and "
                 "--valid or --test) to resume",
              o->resume, st->rows, st->rows == train->rows ? " in another order" : "");
        free(order);
        return EXIT_ERROR;
    }
    st->rows = train->rows;
    const long first = st->epoch + 1;
    Progress p = {.on = !o->quiet && isatty(STDERR_FILENO), .start = now(),
                  .total = (o->epochs - st->epoch) * train->rows};
    p.last = p.start;
    double train_time = 0;
    long epoch = first;
    for (; epoch <= o->epochs; epoch++) {
        const double lr = tr->lr ? epoch_lr(o, o->lr, epoch) : 0;
        if (tr->lr)
            *tr->lr(tr->model) = lr;
        double t0 = now();
        bprt_shuffle(order, train->rows, &rng);
        double sum = 0;
        long step = 0, steps = (train->rows + global - 1) / global;
        for (int i = 0; i < train->rows; i += (int)global) {
            int n = train->rows - i < global ? train->rows - i : (int)global;
            double loss;
            if (r->par) {
                loss = parallel_step(r, train, order + i, n);
            } else {
                gather_rows(r, train, order + i, n);
                loss = tr->train(tr->model, r->bx, r->bt, n);
            }
            step++;
            if (!isfinite(loss)) {
                progress_clear(&p);
                fflush(stdout);
                error(r,
                      "the loss became %s at epoch %ld, step %ld of %ld: training stopped.\n"
                      "The weights are no longer usable and were not saved; a smaller learning "
                      "rate (--lr, or the optimizer's lr in the .bp file) or --standardize may "
                      "help.",
                      isnan(loss) ? "NaN" : "infinite", epoch, step, steps);
                free(order);
                return EXIT_ERROR;
            }
            sum += loss * n;
            p.done += n;
            progress_draw(&p, epoch, o->epochs, i + n, train->rows, sum / (i + n));
        }
        double seconds = now() - t0;
        train_time += seconds;
        double train_loss = sum / train->rows;
        bool show = epoch % o->every == 0 || epoch == o->epochs;
        st->epoch = epoch;
        st->rng = rng;
        Score sc = {0};
        /* with a log or early stopping every rank evaluates (sharded) */
        if (show || o->log || o->patience)
            sc = evaluate(r, eval);
        if (o->patience)
            record_best(r, st, epoch, sc.loss);
        double rate = train->rows / (seconds > 0 ? seconds : 1e-9);
        if (show) {
            progress_clear(&p);
            int w = snprintf(NULL, 0, "%ld", o->epochs);
            /* the training set's loss is the mean over the epoch's steps */
            printf("epoch %*ld/%ld", w, epoch, o->epochs);
            if (tr->lr)
                printf("  lr %.4g", lr);
            printf("  train loss %.6g", train_loss);
            print_score(eval->what, sc, eval != train);
            printf("  %.2f s\n", seconds);
            fflush(stdout);
        }
        if (log) {
            fprintf(log, "%ld,%.9g", epoch, train_loss);
            if (eval != train)
                fprintf(log, ",%.9g", sc.loss);
            if (sc.total > 0)
                fprintf(log, ",%.6f", (double)sc.correct / sc.total);
            fprintf(log, ",%.4f,%.1f", seconds, rate);
            if (tr->lr)
                fprintf(log, ",%.17g", lr);
            fprintf(log, "\n");
            fflush(log);
        }
        if (o->checkpoint && save_checkpoint(r, st)) {
            free(order);
            return EXIT_ERROR;
        }
        if (o->patience && st->bad >= o->patience) {
            progress_clear(&p);
            printf("early stop after epoch %ld: the %s loss has not improved for %ld epoch%s "
                   "(the best, %.6g, at epoch %ld)\n",
                   epoch, eval->what, st->bad, st->bad == 1 ? "" : "s", st->best_loss,
                   st->best_epoch);
            epoch++;
            break;
        }
    }
    progress_clear(&p);
    const long done = epoch - first;
    printf("trained %ld epoch%s in %.2f s (%.0f samples/s)", done, done == 1 ? "" : "s",
           train_time, (double)done * train->rows / (train_time > 0 ? train_time : 1e-9));
    if (first > 1)
        printf(", epochs %ld to %ld, resumed from %s", first, epoch - 1, o->resume);
    printf("\n");
    if (o->checkpoint)
        printf("wrote the checkpoint of epoch %ld to %s\n", st->epoch, o->checkpoint);
    free(order);
    return 0;
}

/* Sets r->acc from the loss and the targets of the training data. */
static void choose_accuracy(Run *r, const Set *train)
{
    if (is_classifier(r->tr))
        r->acc = ACC_CLASS;
    else if (is_binary_loss(r->tr) || train->binary)
        r->acc = ACC_BINARY;
    else
        r->acc = ACC_NONE;
}

/* The model to train from: initialized from the seed, then --load's weights or
 * --resume's checkpoint; and the base learning rate (--lr, or the model's). */
static int start_model(Run *r, State *st)
{
    const bprt_trainer *tr = r->tr;
    Options *o = &r->o;
    int rc = 0;
    tr->init(tr->model, o->seed);
    if (tr->lr && !o->lr_given)
        o->lr = *tr->lr(tr->model); /* the .bp file's; a checkpoint's replaces it */
    if (o->load)
        rc = load_weights(r);
    else if (o->resume)
        rc = read_checkpoint(r, st);
    if (rc)
        return rc;
    if (o->standardize && o->resume && !r->mean) {
        error(r, "--standardize: the checkpoint %s was trained without it", o->resume);
        return EXIT_ERROR;
    }
    if (o->patience && !st->best) {
        st->best = elems(r, (size_t)tr->nparams, 1);
        if (!st->best) {
            error(r, "out of memory");
            return EXIT_ERROR;
        }
    }
    return 0;
}

static int cmd_train(Run *r)
{
    const bprt_trainer *tr = r->tr;
    Options *o = &r->o;
    char err[BPRT_ERR_SIZE];
    bprt_data all = {0}, train = {0}, held = {0};
    Set strain = {0}, seval = {0};
    State st = {.best_loss = INFINITY};
    FILE *log = NULL;
    bool trained = false; /* the log is kept from there on */
    int rc = check_outputs(r);
    if (!rc)
        rc = start_model(r, &st);
    if (!rc)
        rc = load(r, o->data, o->labels, &all);
    if (rc) {
        free(st.best);
        return rc;
    }
    const bool data_header = all.header;
    if (o->valid > 0) {
        if (bprt_data_shuffle(&all, o->seed, err) != BPRT_OK ||
            bprt_data_split(&all, o->valid, &train, &held, err) != BPRT_OK) {
            error(r, "%s: %s", o->data, err);
            bprt_data_free(&all);
            free(st.best);
            return EXIT_ERROR;
        }
        bprt_data_free(&all);
    } else {
        train = all;
    }
    if (o->test && (rc = load(r, o->test, o->test_labels, &held)) != 0)
        goto done;
    const bool test_header = held.header;
    /* statistics from --load's or --resume's file are the model's: kept */
    const bool standardized = o->standardize || r->mean;
    if (o->standardize && !r->mean) {
        r->mean = malloc((size_t)tr->inputs * sizeof(double));
        r->std = malloc((size_t)tr->inputs * sizeof(double));
        if (!r->mean || !r->std) {
            error(r, "out of memory");
            rc = EXIT_ERROR;
            goto done;
        }
        bprt_data_stats(&train, r->mean, r->std);
    }
    bool has_eval = held.rows > 0;
    if ((rc = to_set(r, &train, "train", &strain)) != 0)
        goto done;
    if (has_eval && (rc = to_set(r, &held, o->test ? "test" : "valid", &seval)) != 0)
        goto done;
    const Set *eval = has_eval ? &seval : &strain;
    choose_accuracy(r, &strain);

    if (o->log && !(r->par && r->par->rank > 0)) { /* rank 0's; the others evaluate alike */
        if (!(log = open_log(r))) {
            rc = EXIT_ERROR;
            goto done;
        }
        fprintf(log, "epoch,train_loss");
        if (has_eval)
            fprintf(log, ",%s_loss", eval->what);
        if (r->acc != ACC_NONE)
            fprintf(log, ",%s_accuracy", eval->what);
        fprintf(log, ",seconds,samples_per_second%s\n", tr->lr ? ",lr" : "");
    }
    printf("training '%s' on %s%s: %d samples", tr->name, o->data,
           data_header ? " (header line skipped)" : "", strain.rows);
    if (has_eval)
        printf(", %s set %d samples%s", seval.what, seval.rows,
               test_header ? " (header line skipped)" : "");
    printf("; %ld epochs, batch %ld, seed %llu%s\n", o->epochs, o->batch,
           (unsigned long long)o->seed, standardized ? ", standardized inputs" : "");
    if (o->load)
        printf("fine-tuning the weights of %s\n", o->load);
    if (o->resume)
        printf("resuming from %s after epoch %ld\n", o->resume, st.epoch);
    if (tr->lr) {
        printf("learning rate %.6g", o->lr);
        if (o->schedule == SCHED_STEP)
            printf(", times %g every %ld epoch%s (step)", o->gamma, o->step_size,
                   o->step_size == 1 ? "" : "s");
        else if (o->schedule == SCHED_COSINE)
            printf(", annealed to 0 over %ld epoch%s (cosine)", o->epochs,
                   o->epochs == 1 ? "" : "s");
        if (o->patience)
            printf("; early stop after %ld epoch%s without a better %s loss", o->patience,
                   o->patience == 1 ? "" : "s", eval->what);
        printf("\n");
    }
    if (r->names) {
        printf("classes:");
        for (int k = 0; k < r->nnames; k++)
            printf(" %d %s%s", k, r->name[k], k + 1 < r->nnames ? "," : "\n");
    }
    if (r->par)
        printf("%d processes, each on its shard of every step's %ld samples\n", r->par->size,
               o->batch * r->par->size);
    fflush(stdout);

    trained = true;
    if ((rc = train_loop(r, &strain, eval, log, &st)) != 0)
        goto done;
    char which[96] = "";
    if (o->patience && st.best_epoch > 0) {
        memcpy(tr->params(tr->model), st.best, (size_t)tr->nparams * r->es);
        snprintf(which, sizeof which, " of epoch %ld (the best %s loss)", st.best_epoch,
                 eval->what);
        printf("the weights of epoch %ld, the best %s loss (%.6g)\n", st.best_epoch, eval->what,
               st.best_loss);
    }
    Score sc = evaluate(r, eval);
    printf("result");
    print_score(eval->what, sc, true);
    printf("\n");

    if (o->save && (rc = save_weights(r, which)) == 0)
        rc = remove_old_stats(r);
done:
    if (log && close_log(r, log, trained) && rc == 0)
        rc = EXIT_ERROR;
    bprt_data_free(&train);
    bprt_data_free(&held);
    set_free(&strain);
    set_free(&seval);
    free(st.best);
    return rc;
}

// ---- eval and predict ----

static int cmd_eval(Run *r)
{
    int rc = load_weights(r);
    if (rc)
        return rc;
    bprt_data d;
    if ((rc = load(r, r->o.data, r->o.labels, &d)) != 0)
        return rc;
    const bool header = d.header;
    Set s;
    if ((rc = to_set(r, &d, "eval", &s)) != 0)
        return rc;
    choose_accuracy(r, &s);
    const int k = r->tr->outputs;
    double *confusion = r->o.confusion ? calloc((size_t)k * k, sizeof *confusion) : NULL;
    if (r->o.confusion && !confusion) {
        set_free(&s);
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    Score sc = evaluate_confusion(r, &s, confusion);
    printf("%d samples%s  loss %.6g", s.rows, header ? " (header line skipped)" : "", sc.loss);
    if (sc.total > 0)
        printf("  accuracy %.2f%% (%ld/%ld)", 100.0 * sc.correct / sc.total, sc.correct, sc.total);
    Regression reg;
    if (r->acc == ACC_NONE && (rc = regression_scores(r, &s, &reg)) == 0)
        printf("  MAE %.6g  RMSE %.6g  R^2 %.6g", reg.mae, reg.rmse, reg.r2);
    printf("\n");
    if (confusion)
        print_confusion(r, confusion);
    free(confusion);
    set_free(&s);
    return rc;
}

static void print_prediction(const Run *r, const void *y)
{
    const bprt_trainer *tr = r->tr;
    if (is_classifier(tr) && !r->o.outputs) {
        int k = r->es == 4 ? bprt_argmax_f(y, tr->outputs) : bprt_argmax_d(y, tr->outputs);
        if (r->names && k >= 0)
            printf("%s\n", r->name[k]);
        else
            printf("%d\n", k);
        return;
    }
    for (int j = 0; j < tr->outputs; j++) {
        double v = get(r->es, y, (size_t)j);
        if (is_binary_loss(tr) && !r->o.outputs)
            printf("%s%d", j ? "," : "", v >= 0.5);
        else
            printf("%s%.*g", j ? "," : "", r->es == 4 ? 9 : 17, v);
    }
    printf("\n");
}

static int cmd_predict(Run *r)
{
    const bprt_trainer *tr = r->tr;
    int rc = load_weights(r);
    if (rc)
        return rc;
    const int targets = is_classifier(tr) ? 1 : tr->outputs;
    const int max = tr->inputs + targets;
    /* the rows of --data, or of standard input */
    const char *name = r->o.data ? r->o.data : "<stdin>";
    if (r->o.data && bprt_is_idx(r->o.data)) {
        error(r, "%s: an IDX file; predict reads rows of numbers (CSV)", r->o.data);
        return EXIT_ERROR;
    }
    FILE *in = r->o.data ? fopen(r->o.data, "r") : stdin;
    if (!in) {
        error(r, "%s: cannot open: %s", r->o.data, strerror(errno));
        return EXIT_ERROR;
    }
    double *v = malloc((size_t)max * sizeof *v);
    char *line = NULL;
    size_t cap = 0;
    if (!v) {
        if (in != stdin)
            fclose(in);
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    bool first = true, interactive = in == stdin && isatty(STDIN_FILENO);
    const int label_at = r->o.label_column == 0 ? tr->inputs : r->o.label_column - 1;
    ssize_t len;
    for (long line_no = 1; (len = getline(&line, &cap, in)) >= 0; line_no++) {
        size_t n = (size_t)len;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        size_t b = 0;
        while (b < n && (line[b] == ' ' || line[b] == '\t'))
            b++;
        if (b == n || line[b] == '#')
            continue;
        char err[BPRT_ERR_SIZE];
        int count;
        int e = bprt_csv_row(line, n, v, max, &count, err);
        if (e != BPRT_OK && r->names && count == max) /* a class name in the label column */
            e = bprt_csv_row_skip(line, n, label_at, v, max, &count, err);
        bool was_first = first;
        first = false;
        if (was_first && r->o.header == BPRT_HEADER_AUTO && bprt_csv_header(line, n)) {
            fprintf(stderr, "%s: note: %s:%ld: a header line, skipped\n", r->prog, name, line_no);
            continue;
        }
        if (was_first && r->o.header == BPRT_HEADER_YES)
            continue;
        if (e == BPRT_OK && count != tr->inputs && count != max)
            snprintf(err, sizeof err, "expected %d columns (or %d with the label%s), found %d",
                     tr->inputs, max, targets > 1 ? "s" : "", count);
        if (e != BPRT_OK || (count != tr->inputs && count != max)) {
            error(r, "%s:%ld: %s", name, line_no, err);
            rc = EXIT_ERROR;
            break;
        }
        if (count == max) { /* drop the label column(s) */
            const int at = label_at;
            if (at > tr->inputs) {
                error(r, "%s:%ld: label column %d is out of range: the row has %d columns", name,
                      line_no, at + 1, count);
                rc = EXIT_ERROR;
                break;
            }
            memmove(v + at, v + at + targets, (size_t)(max - at - targets) * sizeof *v);
        }
        for (int j = 0; j < tr->inputs; j++) {
            double x = r->mean ? (v[j] - r->mean[j]) / r->std[j] : v[j];
            put(r->es, r->bx, (size_t)j, x);
        }
        tr->forward(tr->model, r->bx, r->y, 1);
        print_prediction(r, r->y);
        if (interactive)
            fflush(stdout);
    }
    free(line);
    free(v);
    if (rc == 0 && ferror(in)) {
        error(r, "error reading %s: %s", r->o.data ? r->o.data : "standard input",
              strerror(errno));
        rc = EXIT_ERROR;
    }
    if (in != stdin)
        fclose(in);
    return rc;
}

// ---- gradcheck ----

/* The step and the tolerance of the check, by precision.
 *
 * The central difference n = (L(w + h) − L(w − h)) / 2h errs by the truncation, of order
 * h² times the third derivative, and by the rounding of the two losses, of order
 * k·ε·|L| / h (ε the machine epsilon: 1.2e-7 in float, 2.2e-16 in double; k the few
 * units of rounding a loss accumulates).  The steps, 1e-2 in float and 1e-5 in double,
 * are near ε^(1/3), where the two balance.  Even so rounding dominates in float: a loss
 * near 1 gives an n off by some 1e-5 whatever the gradient.
 *
 * So the error of a derived gradient a is |a − n| / max(|a|, |n|, floor), with
 * floor = 20·ε·max(|L|, 1) / (h·tol): a gradient smaller than the floor is checked to
 * within tol·floor absolutely, twenty times the rounding of n.  The tolerance is 5e-2 in
 * float and 1e-6 in double: on correct networks (examples/ iris in both precisions, xor,
 * mnist; 40 seeds, 1 to 16 samples) the worst errors measured were 1.5e-2 and 3e-8, and
 * a wrong derivative is off by a factor, not by a few units in the last place.
 *
 * A ReLU kink closer to w than h spoils the difference (it averages the slopes on both
 * sides), so a parameter whose error exceeds tol/10 is differenced again, centrally with
 * h/4 and h/16 and from either side alone (one_sided), and keeps its smallest error: a
 * correct gradient agrees with a difference that does not reach the kink; a wrong one
 * disagrees with all of them. */
typedef struct CheckTol {
    double step, tol;
} CheckTol;

static const CheckTol float_tol = {1e-2, 5e-2};
static const CheckTol double_tol = {1e-5, 1e-6};

static double rel_error(double a, double b, double floor)
{
    double scale = fmax(fmax(fabs(a), fabs(b)), floor);
    return fabs(a - b) / scale;
}

/* L with parameter i set to w + h; *step gets the step actually taken (w + h rounded
 * to the element type, minus w).  The parameter is restored. */
static double loss_at(const Run *r, void *params, size_t i, double h, int n, double *step)
{
    const bprt_trainer *tr = r->tr;
    double w = get(r->es, params, i);
    put(r->es, params, i, w + h);
    *step = get(r->es, params, i) - w;
    double l = tr->loss(tr->model, r->bx, r->bt, n);
    put(r->es, params, i, w);
    return l;
}

/* (L(w + h) − L(w − h)) / 2h. */
static double central(const Run *r, void *params, size_t i, double h, int n)
{
    double hp, hm;
    double lp = loss_at(r, params, i, h, n, &hp), lm = loss_at(r, params, i, -h, n, &hm);
    return (lp - lm) / (hp - hm);
}

/* The slope at w of the parabola through L at w, w + h and w + 2h: second order like the
 * central difference, but from one side of w (h < 0: the left). */
static double one_sided(const Run *r, void *params, size_t i, double h, int n)
{
    double h0, h1, h2;
    double l0 = loss_at(r, params, i, 0, n, &h0), l1 = loss_at(r, params, i, h, n, &h1),
           l2 = loss_at(r, params, i, 2 * h, n, &h2);
    return (l1 * h2 * h2 - l2 * h1 * h1 - l0 * (h2 * h2 - h1 * h1)) / (h1 * h2 * (h2 - h1));
}

/* Random inputs, and targets the loss accepts: one-hot classes, 0 or 1, or values in
 * [0, 1). */
static void random_samples(const Run *r, bprt_rng *rng, int n)
{
    const bprt_trainer *tr = r->tr;
    for (size_t i = 0; i < (size_t)n * tr->inputs; i++)
        put(r->es, r->bx, i, bprt_rng_normal(rng, 0, 1));
    for (int i = 0; i < n; i++) {
        int k = (int)bprt_rng_below(rng, (uint64_t)tr->outputs);
        for (int j = 0; j < tr->outputs; j++) {
            double v = is_classifier(tr)    ? (j == k)
                       : is_binary_loss(tr) ? (double)bprt_rng_below(rng, 2)
                                            : bprt_rng_uniform(rng, 0, 1);
            put(r->es, r->bt, (size_t)i * tr->outputs + j, v);
        }
    }
}

/* `want` distinct random indexes below `count` in pick[0..want): the start of a
 * Fisher-Yates shuffle.  pick has room for `count`. */
static void pick_params(long *pick, long count, long want, bprt_rng *rng)
{
    for (long i = 0; i < count; i++)
        pick[i] = i;
    for (long i = 0; i < want; i++) {
        long j = i + (long)bprt_rng_below(rng, (uint64_t)(count - i));
        long tmp = pick[i];
        pick[i] = pick[j];
        pick[j] = tmp;
    }
}

static int cmd_gradcheck(Run *r)
{
    const bprt_trainer *tr = r->tr;
    const CheckTol *c = r->es == 4 ? &float_tol : &double_tol;
    const double eps = r->es == 4 ? 1.1920929e-7 : 2.220446049250313e-16;
    const int n = (int)r->o.samples;
    bprt_rng rng;
    bprt_rng_seed(&rng, r->o.seed ^ 0x475241444348u); /* not the weights' stream */
    tr->init(tr->model, r->o.seed);
    random_samples(r, &rng, n);

    void *params = tr->params(tr->model), *grads = tr->grads(tr->model);
    for (size_t i = 0; i < (size_t)tr->nparams; i++)
        put(r->es, grads, i, 0);
    double loss = tr->backward(tr->model, r->bx, r->bt, n);
    double *analytic = malloc((size_t)tr->nparams * sizeof *analytic + 1);
    long *pick = malloc(((size_t)tr->nparams + 1) * sizeof *pick);
    if (!analytic || !pick) {
        free(analytic);
        free(pick);
        error(r, "out of memory");
        return EXIT_ERROR;
    }
    for (size_t i = 0; i < (size_t)tr->nparams; i++)
        analytic[i] = get(r->es, grads, i);
    const double floor = 20 * eps * fmax(fabs(loss), 1) / (c->step * c->tol);

    printf("gradcheck of '%s' (%s): %d random samples, seed %llu, loss %.6g\n", tr->name,
           r->es == 4 ? "float" : "double", n, (unsigned long long)r->o.seed, loss);
    printf("a: the derived gradient; n: its central difference with step h = %g max(1, |w|)\n"
           "(or h/4, h/16 near a kink); error |a - n| / max(|a|, |n|, %.2g)\n",
           c->step, floor);
    printf("%-16s %9s %8s  %s\n", "layer", "params", "checked", "worst error");
    double worst_all = isfinite(loss) ? 0 : INFINITY;
    long kinks = 0;
    for (int l = 0; l < tr->nlayers; l++) {
        const bprt_layer_range *lr = &tr->layers[l];
        long want = lr->count < r->o.params ? lr->count : r->o.params;
        pick_params(pick, lr->count, want, &rng);
        double worst = 0;
        for (long k = 0; k < want; k++) {
            size_t i = (size_t)(lr->offset + pick[k]);
            double h = c->step * fmax(1, fabs(get(r->es, params, i)));
            double best = rel_error(analytic[i], central(r, params, i, h, n), floor);
            for (int s = 0; s < 4 && !(best <= c->tol / 10); s++) {
                double d = s == 0   ? central(r, params, i, h / 4, n)
                           : s == 1 ? central(r, params, i, h / 16, n)
                           : s == 2 ? one_sided(r, params, i, h, n)
                                    : one_sided(r, params, i, -h, n);
                double e = rel_error(analytic[i], d, floor);
                if (e <= c->tol && !(best <= c->tol))
                    kinks++; /* the first difference disagreed, another one agrees */
                if (e < best)
                    best = e;
            }
            if (!(best <= worst)) /* NaN counts as the worst */
                worst = best;
        }
        printf("%-16s %9ld %8ld  %.2e\n", lr->label, lr->count, want, worst);
        if (!(worst <= worst_all))
            worst_all = worst;
    }
    free(analytic);
    free(pick);
    bool ok = worst_all <= c->tol;
    printf("%s: worst error %.2e, tolerance %.0e for %s", ok ? "ok" : "FAILED", worst_all, c->tol,
           r->es == 4 ? "float" : "double");
    if (kinks)
        printf(" (%ld parameter%s near a kink checked with a smaller step)", kinks,
               kinks == 1 ? "" : "s");
    printf("\n");
    return ok ? 0 : EXIT_ERROR;
}

// ---- main ----

int bprt_trainer_run(const bprt_trainer *tr, const bprt_parallel *par, int argc, char **argv)
{
    const char *prog = argc > 0 && argv[0] ? argv[0] : tr->name;
    const char *slash = strrchr(prog, '/');
    Run r = {.tr = tr, .prog = slash ? slash + 1 : prog, .es = tr->elem_size, .par = par,
             .weights = tr->weights, .checkpoint = tr->checkpoint};
    r.o = (Options){.header = BPRT_HEADER_AUTO, .epochs = 10, .every = 1,
                    .batch = tr->batch, .samples = tr->batch < 4 ? tr->batch : 4, .params = 200,
                    .seed = tr->seed};
    if (r.es != 4 && r.es != 8) {
        error(&r, "element size %d: the model must be float or double", r.es);
        return EXIT_ERROR;
    }
    if (par && !tr->step) {
        error(&r, "the program has no step function for data-parallel training: generate it "
                  "again with this bpc --main");
        return EXIT_ERROR;
    }
    if (argc < 2)
        return usage(&r, "a command is needed: train, eval, predict or gradcheck");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        help(tr, r.prog);
        return 0;
    }
    int rc = parse_options(&r, argc, argv);
    if (rc)
        return rc == HELP_SHOWN ? 0 : rc;
    if (r.o.resume && !r.o.checkpoint) /* a resumed run goes on checkpointing there */
        r.o.checkpoint = r.o.resume;
    if (par && par->rank > 0) /* rank 0 writes the files; the others' copies are the same */
        r.o.save = r.o.checkpoint = NULL;
    r.bx = elems(&r, (size_t)tr->batch, (size_t)tr->inputs);
    r.bt = elems(&r, (size_t)tr->batch, (size_t)tr->outputs);
    r.y = elems(&r, (size_t)tr->batch, (size_t)tr->outputs);
    if (!r.bx || !r.bt || !r.y) {
        error(&r, "out of memory");
        rc = EXIT_ERROR;
    } else if (r.o.command == CMD_TRAIN) {
        rc = cmd_train(&r);
    } else if (r.o.command == CMD_EVAL) {
        rc = cmd_eval(&r);
    } else if (r.o.command == CMD_PREDICT) {
        rc = cmd_predict(&r);
    } else {
        rc = cmd_gradcheck(&r);
    }
    free(r.bx);
    free(r.bt);
    free(r.y);
    free(r.mean);
    free(r.std);
    free(r.names);
    free(r.name);
    if (fflush(stdout) != 0 && rc == 0) {
        error(&r, "error writing standard output: %s", strerror(errno));
        rc = EXIT_ERROR;
    }
    return rc;
}

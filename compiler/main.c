/*
 * main.c - the bpc command line: read the source, parse, check, generate C.
 *
 * It stops after any stage that reported errors.  The C is generated into memory and
 * written only when everything succeeded, through temporary files renamed into place,
 * so a failed run never leaves a half-written output.
 *
 * Exit status: 0 success, 1 errors in the model, 2 usage or I/O errors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bpc.h"

enum { EXIT_MODEL = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: bpc [options] FILE.bp\n"
    "\n"
    "Compiles a network description into specialized C: FILE.c and FILE.h.\n"
    "\n"
    "options:\n"
    "  -o FILE      write the C source to FILE (default: the input with .c);\n"
    "               the header is written beside it with .h; an output that\n"
    "               would replace the input is refused\n"
    "  --check      parse and check the model only; write nothing\n"
    "  -v           with --check: print each layer's output shape and parameter count\n"
    "  --unroll N   emit layers with at most N weights as straight-line code\n"
    "               (default 256; 0 never unrolls; at most 4096, and at most\n"
    "               4096 weights unrolled in all: the largest layers are then loops)\n"
    "  --main       also write a main(): a command-line trainer with the commands\n"
    "               train, eval, predict and gradcheck (./model --help)\n"
    "  --dump-ast   print the syntax tree and stop\n"
    "  --dump-ir    print the checked and planned layers (the IR) as a table and stop\n"
    "  -Werror      treat warnings as errors\n"
    "  -h, --help   show this help\n"
    "  --version    show the version\n"
    "\n"
    "FILE may be '-' to read standard input (then -o is needed unless --check).\n"
    "Exit status: 0 success, 1 errors in the model, 2 usage or I/O errors.\n"
    "The language: docs/LANGUAGE.md; the generated API: docs/API.md.\n";

typedef struct Options {
    const char *input;
    const char *output;
    bool check_only, verbose, dump_ast, dump_ir, werror, main;
    long unroll;
} Options;

static int usage_error(const char *fmt, const char *arg)
{
    fputs("bpc: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'bpc --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, Options *o)
{
    *o = (Options){.unroll = 256};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("bpc %s\n", BPC_VERSION);
            return 0;
        } else if (!strcmp(a, "--check")) {
            o->check_only = true;
        } else if (!strcmp(a, "-v")) {
            o->verbose = true;
        } else if (!strcmp(a, "--dump-ast")) {
            o->dump_ast = true;
        } else if (!strcmp(a, "--dump-ir")) {
            o->dump_ir = true;
        } else if (!strcmp(a, "-Werror")) {
            o->werror = true;
        } else if (!strcmp(a, "--main")) {
            o->main = true;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--unroll")) {
            if (i + 1 >= argc)
                return usage_error("option '%s' needs an argument", a);
            const char *v = argv[++i];
            if (a[1] == 'o') {
                o->output = v;
            } else {
                char *end;
                errno = 0;
                o->unroll = strtol(v, &end, 10);
                if (end == v || *end || errno || o->unroll < 0)
                    return usage_error("--unroll takes a whole number >= 0, not '%s'", v);
                if (o->unroll > BPC_MAX_UNROLL) {
                    char why[128];
                    snprintf(why, sizeof why, "--unroll is at most %ld, not '%.20s'", BPC_MAX_UNROLL, v);
                    return usage_error("%s: straight-line code of that size takes C compilers "
                                       "minutes", why);
                }
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (o->input) {
            return usage_error("more than one input file ('%s')", a);
        } else {
            o->input = a;
        }
    }
    if (!o->input)
        return usage_error("%s", "no input file");
    if (!strcmp(o->input, "-") && !o->output && !o->check_only && !o->dump_ast && !o->dump_ir)
        return usage_error("%s", "reading standard input needs -o FILE");
    return -1;
}

/* Reads the whole file (or standard input for "-"), NUL-terminated; `id` gets the
 * device and inode of what was read, to tell an output that would replace it. */
static char *read_source(const char *path, size_t *size, struct stat *id)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "bpc: error: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), id) != 0)
        *id = (struct stat){0};
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap || len > (size_t)BPC_MAX_SOURCE_BYTES)
            break;
        cap *= 2;
        char *grown = realloc(buf, cap + 1);
        if (!grown)
            free(buf);
        buf = grown;
    }
    bool failed = !buf || ferror(f);
    int err = errno;
    if (f != stdin)
        fclose(f);
    if (failed) {
        fprintf(stderr, "bpc: error: cannot read '%s': %s\n", path, buf ? strerror(err) : "out of memory");
        free(buf);
        return NULL;
    }
    if (len > (size_t)BPC_MAX_SOURCE_BYTES) {
        fprintf(stderr, "bpc: error: '%s' is larger than the limit of %ld bytes\n", path,
                BPC_MAX_SOURCE_BYTES);
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    *size = len;
    return buf;
}

/* `path` with the suffix `old` (when it ends so) replaced by `new`: ("m.bp", ".bp", ".c")
 * -> "m.c"; ("m", ".bp", ".c") -> "m.c"; ("m.c", "", ".tmp") -> "m.c.tmp". */
static char *replace_suffix(const char *path, const char *old, const char *new)
{
    size_t n = strlen(path), lo = strlen(old), ln = strlen(new);
    if (n >= lo && !strcmp(path + n - lo, old))
        n -= lo;
    char *s = malloc(n + ln + 1);
    if (s) {
        memcpy(s, path, n);
        memcpy(s + n, new, ln + 1);
    }
    return s;
}

static char *tmp_path(const char *path)
{
    return replace_suffix(path, "", ".tmp");
}

/* Writes `data` to `path` through a temporary file renamed into place. */
static bool write_file(const char *path, const char *data, size_t size)
{
    char *tmp = tmp_path(path);
    if (!tmp)
        return false;
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(data, 1, size, f) == size;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "bpc: error: cannot write '%s': %s\n", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return ok;
}

/* The files a run writes: the C source and the header beside it ("dir/model.c" ->
 * "dir/model.h"; a name without .c gets .h appended). */
typedef struct Outputs {
    char *c, *h;
} Outputs;

static bool outputs_init(Outputs *out, const Options *o)
{
    out->c = o->output ? strdup(o->output) : replace_suffix(o->input, ".bp", ".c");
    out->h = out->c ? replace_suffix(out->c, ".c", ".h") : NULL;
    return out->h != NULL;
}

static void outputs_free(Outputs *out)
{
    free(out->c);
    free(out->h);
}

/* Whether `path` exists and is the file `id` (the same device and inode), whatever its name. */
static bool is_file(const char *path, const struct stat *id)
{
    struct stat st;
    return id->st_ino != 0 && stat(path, &st) == 0 && st.st_dev == id->st_dev &&
           st.st_ino == id->st_ino;
}

/* Refuses outputs that would replace the input or each other: `-o model.bp`, a name that
 * is a link to the input (or the temporary file written first is), a C file named like a
 * header (`-o x.h`); and outputs that exist but are not files (`-o /dev/null`): renaming
 * the temporary file into place would replace the device or pipe with a file. */
static bool outputs_are_safe(const Outputs *out, const char *input, const struct stat *input_id)
{
    const char *const written[] = {out->c, out->h};
    for (size_t i = 0; i < 2; i++) {
        struct stat st;
        if (stat(written[i], &st) == 0 && !S_ISREG(st.st_mode)) {
            fprintf(stderr, "bpc: error: '%s' is not a regular file; bpc writes the C source "
                            "and its header as files (--check checks a model without writing)\n",
                    written[i]);
            return false;
        }
    }
    size_t n = strlen(out->c);
    if (n >= 2 && !strcmp(out->c + n - 2, ".h")) {
        fprintf(stderr, "bpc: error: '-o %s' would write the C source into a header's name; "
                        "give the .c file's name (the header is written beside it)\n", out->c);
        return false;
    }
    struct stat c_id;
    if (stat(out->c, &c_id) == 0 && is_file(out->h, &c_id)) {
        fprintf(stderr, "bpc: error: '%s' and '%s' are the same file; the C source and "
                        "the header need one each\n", out->c, out->h);
        return false;
    }
    bool safe = true;
    for (size_t i = 0; i < 2 && safe; i++) {
        char *tmp = tmp_path(written[i]);
        const char *hit = is_file(written[i], input_id) ? written[i]
                          : tmp && is_file(tmp, input_id) ? tmp
                                                          : NULL;
        if (hit) {
            fprintf(stderr, "bpc: error: writing '%s' would overwrite the input '%s'\n", hit,
                    input);
            safe = false;
        }
        free(tmp);
    }
    return safe;
}

/* ir_plan lowers a --unroll that would unroll too much: say so. */
static void warn_unroll(const Model *m, long asked)
{
    if (m->unroll < asked)
        fprintf(stderr, "bpc: warning: --unroll %ld would unroll %ld weights, more than the "
                        "limit of %ld; layers of more than %ld weights are loops\n",
                asked, m->unroll_wanted, BPC_MAX_UNROLL, m->unroll);
}

static int generate(Model *m, const Options *o, const Outputs *out)
{
    char *c_text = NULL, *h_text = NULL;
    size_t c_size = 0, h_size = 0;
    FILE *c_out = open_memstream(&c_text, &c_size);
    FILE *h_out = open_memstream(&h_text, &h_size);
    int status = EXIT_USAGE;
    if (c_out && h_out) {
        const char *slash = strrchr(out->h, '/');
        GenOptions g = {
            .unroll = o->unroll, .header_name = slash ? slash + 1 : out->h, .main = o->main};
        bool ok = gen_c(m, &g, c_out, h_out);
        ok = fclose(c_out) == 0 && ok;
        ok = fclose(h_out) == 0 && ok;
        c_out = h_out = NULL;
        if (!ok)
            fprintf(stderr, "bpc: error: code generation failed\n");
        else if (write_file(out->h, h_text, h_size) && write_file(out->c, c_text, c_size))
            status = 0;
    } else {
        fprintf(stderr, "bpc: error: out of memory\n");
    }
    if (c_out)
        fclose(c_out);
    if (h_out)
        fclose(h_out);
    free(c_text);
    free(h_text);
    return status;
}

int main(int argc, char **argv)
{
    Options o;
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;

    size_t size;
    struct stat input_id;
    char *text = read_source(o.input, &size, &input_id);
    if (!text)
        return EXIT_USAGE;
    Source src = {.name = strcmp(o.input, "-") ? o.input : "<stdin>", .text = text, .size = size};
    /* The outputs are checked before the model, so a run that would lose the input says
     * so at once. */
    Outputs out = {0};
    bool writes = !o.check_only && !o.dump_ast && !o.dump_ir;
    if (writes && !(outputs_init(&out, &o) && outputs_are_safe(&out, src.name, &input_id))) {
        if (!out.h)
            fprintf(stderr, "bpc: error: out of memory\n");
        outputs_free(&out);
        free(text);
        return EXIT_USAGE;
    }
    Diag diag;
    diag_init(&diag, &src, stderr);
    diag.werror = o.werror;
    Arena arena = {0};

    Network *net = parse_network(&arena, &diag, &src);
    Model model;
    bool checked = false;
    if (net && o.dump_ast && !diag_failed(&diag))
        ast_dump(stdout, net);
    else if (net && !diag_failed(&diag))
        checked = check_network(&arena, &diag, net, &model) && !diag_failed(&diag);
    if (checked && o.dump_ir) {
        ir_plan(&model, o.unroll);
        warn_unroll(&model, o.unroll);
        ir_dump(stdout, &model);
    } else if (checked && o.check_only && o.verbose) {
        ir_summary(stdout, &model);
    } else if (checked && writes) {
        status = generate(&model, &o, &out);
        if (model.planned)
            warn_unroll(&model, o.unroll);
    }

    if (status < 0)
        status = diag_failed(&diag) ? EXIT_MODEL : 0;
    arena_free(&arena);
    outputs_free(&out);
    free(text);
    return status;
}

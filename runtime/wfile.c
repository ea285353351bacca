/*
 * wfile.c - weight files and checkpoints (the format is docs/WEIGHTS.md): the writer,
 * the reader, their error messages and the fingerprint that ties a file to the
 * network shapes it was written for.  Reading allocates nothing, so a microcontroller
 * build can load weights: a first pass streams the file through a small stack buffer
 * and validates all of it, and only a second pass copies it into the caller's
 * buffers, so a bad file never leaves a half-loaded network.
 *
 * Version 2 of the format adds sections after the buffers: the standardization
 * statistics a model was trained with.  A file without sections is written as
 * version 1, byte for byte as before, and both versions are read.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bprt.h"

/* Byte offsets in the header (docs/WEIGHTS.md); the payload follows it and the
 * CRC-32 of everything before it ends the file. */
enum {
    OFF_VERSION = 8,
    OFF_KIND = 12,
    OFF_ELEM_SIZE = 16,
    OFF_NBUFFERS = 20,
    OFF_COUNT = 24,
    OFF_FINGERPRINT = 32,
    OFF_STEP = 40,
    HEADER_SIZE = 48,
    CRC_SIZE = 4,
    VERSION_PLAIN = 1,    /* header, buffers, checksum */
    VERSION_SECTIONS = 2, /* header, buffers, sections, checksum */
    SECTION_HEAD = 16,    /* id u32, reserved u32 (0), size u64 */
    SECTION_STATS = 1,    /* u64 inputs, then inputs f64 means, inputs f64 deviations */
    NSECTION_KINDS = 1,   /* a file holds each kind at most once */
    CHUNK = 512, /* the stack buffer files stream through: a multiple of 4 and 8 */
};

static const unsigned char magic[8] = {'B', 'P', 'C', 'W', 'G', 'T', 0, 0};

/* Elements are stored as IEEE 754 binary32/binary64 bit patterns, copied from the
 * host's floats: refuse to build where those are something else. */
typedef char float_is_binary32[sizeof(float) == 4 && FLT_MANT_DIG == 24 ? 1 : -1];
typedef char double_is_binary64[sizeof(double) == 8 && DBL_MANT_DIG == 53 ? 1 : -1];

// ---- little-endian bytes and the checksum ----

/* Shifts give little-endian bytes whatever the host's byte order, so the host's
 * order need not be detected (floats are assumed to share the integers' order, as
 * on every current platform). */
static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> 8 * i);
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* CRC-32 as in zlib and PNG (reflected polynomial 0xEDB88320, initial value and
 * final xor 0xFFFFFFFF), chainable like zlib's crc32(): start from 0.  A table of
 * 16 entries, half a byte per step, keeps it small for microcontrollers. */
static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    static const uint32_t nibble[16] = {
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
        0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
        0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
    };
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = crc >> 4 ^ nibble[crc & 15];
        crc = crc >> 4 ^ nibble[crc & 15];
    }
    return ~crc;
}

/* Elements [first, first + n) of `buf` to file bytes, and back. */
static void encode(unsigned char *out, const void *buf, size_t first, size_t n, uint32_t size)
{
    const unsigned char *src = (const unsigned char *)buf + first * size;
    for (size_t i = 0; i < n; i++) {
        if (size == 4) {
            uint32_t u;
            memcpy(&u, src + 4 * i, 4);
            put_le(out + 4 * i, u, 4);
        } else {
            uint64_t u;
            memcpy(&u, src + 8 * i, 8);
            put_le(out + 8 * i, u, 8);
        }
    }
}

static void decode(void *buf, size_t first, size_t n, uint32_t size, const unsigned char *in)
{
    unsigned char *dst = (unsigned char *)buf + first * size;
    for (size_t i = 0; i < n; i++) {
        if (size == 4) {
            uint32_t u = (uint32_t)get_le(in + 4 * i, 4);
            memcpy(dst + 4 * i, &u, 4);
        } else {
            uint64_t u = get_le(in + 8 * i, 8);
            memcpy(dst + 8 * i, &u, 8);
        }
    }
}

// ---- the header ----

/* Fields the writer cannot store or the caller cannot hold. */
static int check_info(const bprt_file_info *info)
{
    if (info->kind != BPRT_FILE_WEIGHTS && info->kind != BPRT_FILE_CHECKPOINT)
        return BPRT_E_KIND;
    if (info->elem_size != 4 && info->elem_size != 8)
        return BPRT_E_TYPE;
    if (info->count > SIZE_MAX / info->elem_size)
        return BPRT_E_SIZE;
    return BPRT_OK;
}

static void encode_header(unsigned char *h, const bprt_file_info *info, uint32_t version)
{
    memcpy(h, magic, sizeof magic);
    put_le(h + OFF_VERSION, version, 4);
    put_le(h + OFF_KIND, info->kind, 4);
    put_le(h + OFF_ELEM_SIZE, info->elem_size, 4);
    put_le(h + OFF_NBUFFERS, info->nbuffers, 4);
    put_le(h + OFF_COUNT, info->count, 8);
    put_le(h + OFF_FINGERPRINT, info->fingerprint, 8);
    put_le(h + OFF_STEP, (uint64_t)info->step, 8); /* two's complement, by C's rules */
}

/* The file's own header as an expectation (bprt_stats_read has none of its own). */
static bprt_file_info header_info(const unsigned char *h)
{
    bprt_file_info info = {0};
    info.kind = (uint32_t)get_le(h + OFF_KIND, 4);
    info.elem_size = (uint32_t)get_le(h + OFF_ELEM_SIZE, 4);
    info.nbuffers = (uint32_t)get_le(h + OFF_NBUFFERS, 4);
    info.count = get_le(h + OFF_COUNT, 8);
    info.fingerprint = get_le(h + OFF_FINGERPRINT, 8);
    return info;
}

/* `got` bytes of the header were read.  A short file whose bytes all match the magic
 * is truncated; anything else that starts differently is not a weight file. */
static int check_header(const unsigned char *h, size_t got, const bprt_file_info *e)
{
    if (memcmp(h, magic, got < sizeof magic ? got : sizeof magic) != 0)
        return BPRT_E_MAGIC;
    if (got < HEADER_SIZE)
        return BPRT_E_TRUNCATED;
    uint64_t version = get_le(h + OFF_VERSION, 4);
    if (version != VERSION_PLAIN && version != VERSION_SECTIONS)
        return BPRT_E_VERSION;
    if (get_le(h + OFF_KIND, 4) != e->kind)
        return BPRT_E_KIND;
    if (get_le(h + OFF_ELEM_SIZE, 4) != e->elem_size)
        return BPRT_E_TYPE;
    if (get_le(h + OFF_FINGERPRINT, 8) != e->fingerprint)
        return BPRT_E_FINGERPRINT;
    if (get_le(h + OFF_NBUFFERS, 4) != e->nbuffers || get_le(h + OFF_COUNT, 8) != e->count)
        return BPRT_E_SIZE;
    return BPRT_OK;
}

/* The inverse of the cast in encode_header, without the implementation-defined
 * conversion of an out-of-range unsigned value. */
static int64_t header_step(const unsigned char *h)
{
    uint64_t u = get_le(h + OFF_STEP, 8);
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)(UINT64_MAX - u) - 1;
}

/* Statistics a model can use: means finite, deviations finite and positive. */
static bool good_mean(double v)
{
    return isfinite(v);
}

static bool good_std(double v)
{
    return isfinite(v) && v > 0;
}

static int check_stats(const bprt_stats *s)
{
    if (s->inputs == 0 || !s->mean || !s->std)
        return BPRT_E_STATS;
    for (uint32_t j = 0; j < s->inputs; j++)
        if (!good_mean(s->mean[j]) || !good_std(s->std[j]))
            return BPRT_E_STATS;
    return BPRT_OK;
}

// ---- writing ----

/* The output file and the checksum of what went into it. */
typedef struct Out {
    FILE *f;
    uint32_t crc;
    int err;
} Out;

static void out_bytes(Out *o, const unsigned char *p, size_t n)
{
    o->crc = crc32_update(o->crc, p, n);
    if (!o->err && fwrite(p, 1, n, o->f) != n)
        o->err = BPRT_E_IO;
}

static void out_u64(Out *o, uint64_t v)
{
    unsigned char b[8];
    put_le(b, v, 8);
    out_bytes(o, b, 8);
}

/* `count` elements of `size` bytes, through the stack buffer. */
static void out_elems(Out *o, const void *buf, size_t count, uint32_t size)
{
    unsigned char chunk[CHUNK];
    for (size_t i = 0, n; i < count; i += n) {
        n = count - i < CHUNK / size ? count - i : CHUNK / size;
        encode(chunk, buf, i, n, size);
        out_bytes(o, chunk, n * size);
    }
}

static void out_section_head(Out *o, uint32_t id, uint64_t size)
{
    unsigned char b[SECTION_HEAD];
    put_le(b, id, 4);
    put_le(b + 4, 0, 4);
    put_le(b + 8, size, 8);
    out_bytes(o, b, SECTION_HEAD);
}

static void write_contents(Out *o, const bprt_file_info *info, const void *const *buffers,
                           const bprt_stats *stats)
{
    unsigned char h[HEADER_SIZE], trailer[CRC_SIZE];
    encode_header(h, info, stats ? VERSION_SECTIONS : VERSION_PLAIN);
    out_bytes(o, h, HEADER_SIZE);
    for (uint32_t b = 0; b < info->nbuffers; b++)
        out_elems(o, buffers[b], info->count, info->elem_size);
    if (stats) {
        out_u64(o, 1); /* the number of sections */
        out_section_head(o, SECTION_STATS, 8 + 16 * (uint64_t)stats->inputs);
        out_u64(o, stats->inputs);
        out_elems(o, stats->mean, stats->inputs, 8);
        out_elems(o, stats->std, stats->inputs, 8);
    }
    put_le(trailer, o->crc, CRC_SIZE);
    out_bytes(o, trailer, CRC_SIZE);
}

int bprt_file_write(const char *path, const bprt_file_info *info, const void *const *buffers)
{
    return bprt_file_write_stats(path, info, buffers, NULL);
}

int bprt_file_write_stats(const char *path, const bprt_file_info *info,
                          const void *const *buffers, const bprt_stats *stats)
{
    static const char suffix[] = ".tmp";
    char tmp[FILENAME_MAX];
    size_t len = strlen(path);
    int err = check_info(info);
    if (!err && stats)
        err = check_stats(stats);
    if (err)
        return err;
    if (len + sizeof suffix > sizeof tmp) {
        errno = ENAMETOOLONG;
        return BPRT_E_OPEN;
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, suffix, sizeof suffix);

    Out o = {.f = fopen(tmp, "wb")};
    if (!o.f)
        return BPRT_E_OPEN;
    write_contents(&o, info, buffers, stats);
    err = o.err;
    if (fclose(o.f) != 0 && !err) /* the last buffered bytes are written here */
        err = BPRT_E_IO;
    if (!err && rename(tmp, path) != 0) /* POSIX: atomically replaces an old file */
        err = BPRT_E_IO;
    if (err) {
        int why = errno; /* for the caller's message, not remove's */
        remove(tmp);
        errno = why;
    }
    return err;
}

// ---- reading ----

/* The input file and the checksum of what came out of it. */
typedef struct In {
    FILE *f;
    uint32_t crc;
} In;

static int in_bytes(In *in, unsigned char *p, size_t n)
{
    if (fread(p, 1, n, in->f) != n)
        return ferror(in->f) ? BPRT_E_IO : BPRT_E_TRUNCATED;
    in->crc = crc32_update(in->crc, p, n);
    return BPRT_OK;
}

/* `count` elements into `buf` (NULL: only through the checksum). */
static int in_elems(In *in, void *buf, size_t count, uint32_t size)
{
    unsigned char chunk[CHUNK];
    for (size_t i = 0, n; i < count; i += n) {
        n = count - i < CHUNK / size ? count - i : CHUNK / size;
        int err = in_bytes(in, chunk, n * size);
        if (err)
            return err;
        if (buf)
            decode(buf, i, n, size, chunk);
    }
    return BPRT_OK;
}

static int in_u64(In *in, uint64_t *v)
{
    unsigned char b[8];
    int err = in_bytes(in, b, 8);
    *v = get_le(b, 8);
    return err;
}

/* `inputs` doubles each passing `good`, into out[0..inputs) unless out is NULL. */
static int in_stat_values(In *in, uint64_t inputs, bool (*good)(double), double *out)
{
    for (uint64_t j = 0; j < inputs; j++) {
        double v;
        int err = in_elems(in, &v, 1, 8);
        if (err)
            return err;
        if (!good(v))
            return BPRT_E_STATS;
        if (out)
            out[j] = v;
    }
    return BPRT_OK;
}

/* What a pass does with the statistics: their count must be `inputs` unless that is
 * 0; they are stored in mean and std unless those are NULL. */
typedef struct StatsDest {
    uint32_t inputs;
    double *mean, *std;
} StatsDest;

/* The statistics section's body of `size` bytes. */
static int in_stats(In *in, uint64_t size, const StatsDest *dest)
{
    uint64_t inputs;
    if (size < 8)
        return BPRT_E_SECTION;
    int err = in_u64(in, &inputs);
    if (err)
        return err;
    if (inputs == 0 || inputs > UINT32_MAX || (size - 8) / 16 != inputs || (size - 8) % 16)
        return BPRT_E_SECTION;
    if (dest->inputs && inputs != dest->inputs)
        return BPRT_E_STATS;
    err = in_stat_values(in, inputs, good_mean, dest->mean);
    if (!err)
        err = in_stat_values(in, inputs, good_std, dest->std);
    return err;
}

/* Version 2's sections; *found says whether statistics were among them. */
static int in_sections(In *in, const StatsDest *dest, bool *found)
{
    uint64_t nsections;
    int err = in_u64(in, &nsections);
    if (!err && (nsections == 0 || nsections > NSECTION_KINDS))
        err = BPRT_E_SECTION;
    for (uint64_t s = 0; s < nsections && !err; s++) {
        unsigned char h[SECTION_HEAD];
        if ((err = in_bytes(in, h, SECTION_HEAD)) != 0)
            break;
        uint64_t id = get_le(h, 4), size = get_le(h + 8, 8);
        if (get_le(h + 4, 4) != 0)
            err = BPRT_E_SECTION;
        else if (id == SECTION_STATS && !*found) {
            *found = true;
            err = in_stats(in, size, dest);
        } else
            err = BPRT_E_SECTION; /* unknown, or twice */
    }
    return err;
}

/* One pass over the file after the header: the buffers (decoded into `buffers` unless
 * NULL), the sections, the file's length and its checksum. */
static int read_pass(FILE *f, const unsigned char *h, const bprt_file_info *info,
                     void *const *buffers, const StatsDest *dest, bool *found)
{
    In in = {.f = f, .crc = crc32_update(0, h, HEADER_SIZE)};
    int err = BPRT_OK;
    for (uint32_t b = 0; b < info->nbuffers && !err; b++)
        err = in_elems(&in, buffers ? buffers[b] : NULL, info->count, info->elem_size);
    *found = false;
    if (!err && get_le(h + OFF_VERSION, 4) == VERSION_SECTIONS)
        err = in_sections(&in, dest, found);
    if (err)
        return err;
    const uint32_t crc = in.crc;
    unsigned char trailer[CRC_SIZE];
    if ((err = in_bytes(&in, trailer, CRC_SIZE)) != 0)
        return err;
    if (getc(f) != EOF)
        return BPRT_E_TRAILING;
    if (ferror(f))
        return BPRT_E_IO;
    return get_le(trailer, CRC_SIZE) == crc ? BPRT_OK : BPRT_E_CHECKSUM;
}

/* Both passes over `path`; expect NULL takes the file's own header as the expectation.
 * The second pass checks everything again: only a file changed in place between the
 * passes can fail it, and that is then reported, though `buffers` are partly
 * overwritten.  (bprt_file_write replaces files by renaming, which an open file does
 * not see.) */
static int read_file(const char *path, const bprt_file_info *expect, void *const *buffers,
                     int64_t *step, bprt_stats *stats)
{
    int err = expect ? check_info(expect) : BPRT_OK;
    if (!err && stats && (stats->inputs == 0 || !stats->mean || !stats->std))
        err = BPRT_E_STATS;
    if (err)
        return err;
    FILE *f = fopen(path, "rb");
    if (!f)
        return BPRT_E_OPEN;
    unsigned char h[HEADER_SIZE];
    size_t got = fread(h, 1, HEADER_SIZE, f);
    bprt_file_info own;
    if (!expect && got == HEADER_SIZE) {
        own = header_info(h);
        expect = &own;
        err = check_info(expect);
    }
    if (!err)
        err = ferror(f) ? BPRT_E_IO : check_header(h, got, expect);
    /* The generated code goes on from a checkpoint's step: a negative one makes Adam's
     * bias correction negative, and INT64_MAX overflows at the next step. */
    if (!err && expect->kind == BPRT_FILE_CHECKPOINT &&
        (header_step(h) < 0 || header_step(h) == INT64_MAX))
        err = BPRT_E_STEP;
    const StatsDest check = {.inputs = stats ? stats->inputs : 0},
                    copy = {check.inputs, stats ? stats->mean : NULL, stats ? stats->std : NULL};
    bool found = false;
    if (!err)
        err = read_pass(f, h, expect, NULL, &check, &found);
    if (!err)
        err = fseek(f, HEADER_SIZE, SEEK_SET) != 0 ? BPRT_E_IO
                                                   : read_pass(f, h, expect, buffers, &copy, &found);
    int why = errno; /* for the caller's message, not fclose's */
    fclose(f);
    errno = why;
    if (!err && step)
        *step = header_step(h);
    if (!err && stats)
        stats->found = found;
    return err;
}

int bprt_file_read(const char *path, const bprt_file_info *expect, void *const *buffers,
                   int64_t *step)
{
    return read_file(path, expect, buffers, step, NULL);
}

int bprt_file_read_stats(const char *path, const bprt_file_info *expect, void *const *buffers,
                         int64_t *step, bprt_stats *stats)
{
    return read_file(path, expect, buffers, step, stats);
}

int bprt_stats_read(const char *path, bprt_stats *stats)
{
    return read_file(path, NULL, NULL, NULL, stats);
}

// ---- messages and the fingerprint ----

const char *bprt_strerror(int code)
{
    static const char *const messages[] = {
        [BPRT_OK] = "success",
        [BPRT_E_OPEN] = "cannot open the file",
        [BPRT_E_IO] = "read or write error",
        [BPRT_E_MAGIC] = "not a bpc weight file",
        [BPRT_E_VERSION] = "unsupported weight file format version",
        [BPRT_E_KIND] = "weights file where a checkpoint was expected, or the reverse",
        [BPRT_E_TYPE] = "element type differs (float or double)",
        [BPRT_E_FINGERPRINT] = "written for a network with different shapes",
        [BPRT_E_SIZE] = "parameter or buffer count differs",
        [BPRT_E_TRUNCATED] = "the file is truncated",
        [BPRT_E_CHECKSUM] = "checksum mismatch: the file is corrupt",
        [BPRT_E_TRAILING] = "unexpected bytes after the end of the data",
        [BPRT_E_STEP] = "the checkpoint's step counter is out of range",
        [BPRT_E_STATS] = "the standardization statistics are for another number of inputs, "
                         "or a mean is not finite or a deviation not positive",
        [BPRT_E_SECTION] = "a malformed or unknown section",
        [BPRT_E_DATA] = "malformed data",
        [BPRT_E_NOMEM] = "out of memory",
        [BPRT_E_ARG] = "invalid argument",
    };
    if (code < 0 || (size_t)code >= sizeof messages / sizeof *messages || !messages[code])
        return "unknown error code";
    return messages[code];
}

/* FNV-1a, 64 bits: simple, and enough to tell networks apart (not an adversary). */
uint64_t bprt_fingerprint(const char *shape)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)shape; *p; p++)
        h = (h ^ *p) * 0x100000001b3u;
    return h;
}

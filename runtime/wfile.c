/*
 * wfile.c - weight files and checkpoints (the format is docs/WEIGHTS.md): the writer,
 * the reader, their error messages and the fingerprint that ties a file to the
 * network shapes it was written for.  Reading allocates nothing, so a microcontroller
 * build can load weights: a first pass streams the file through a small stack buffer
 * and validates all of it, and only a second pass copies it into the caller's
 * buffers, so a bad file never leaves a half-loaded network.
 *
 * Version 2 of the format adds sections after the buffers: the standardization
 * statistics a model was trained with, the shape string of the fingerprint, the
 * tensor table that names each parameter array (for tools/bpweights.py), and what the
 * command-line trainer keeps with its files (class names, a checkpoint's trainer
 * state).  A
 * file without sections is written as version 1, byte for byte as before, and both
 * versions are read.  bprt_file_explain turns a refusal into a message that says what
 * differs.
 *
 * The same bytes go to and from a memory buffer (bprt_mem_*), through the same code;
 * built with -DBPC_NO_FILES, only those are compiled and nothing here uses stdio or
 * errno (docs/EMBEDDED.md).
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#ifndef BPC_NO_FILES
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#endif

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
    SECTION_SHAPE = 2,    /* the shape string, NUL-padded to a multiple of 8 bytes */
    SECTION_CLASSES = 3,  /* u64 count, the names each ended by a NUL, NUL-padded */
    SECTION_TENSORS = 4,  /* the tensor table "c1.weight=6x1x5x5@0;...", padded alike */
    SECTION_TRAINER = 5,  /* u64 nwords, the words, u64 nbest, nbest elements, padded */
    NSECTION_KINDS = 5,   /* a file holds each kind at most once */
    MAX_TEXT = 65536,     /* bytes of a text section (the shape string, the table), and
                             of a class names section */
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

/* The file's own header as an expectation (the statistics readers have none of their
 * own). */
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

/* The text of a section (the shape string, the tensor table), given as the strings
 * of a NULL-terminated list written one after the other: the length of it all. */
static size_t text_len(const char *const *parts)
{
    size_t len = 0;
    for (; *parts; parts++)
        len += strlen(*parts);
    return len;
}

/* Such a text: printable ASCII, short enough for its section. */
static bool good_text(const char *const *parts)
{
    for (const char *const *p = parts; *p; p++)
        for (const char *c = *p; *c; c++)
            if (*c < ' ' || *c > '~')
                return false;
    return text_len(parts) < MAX_TEXT;
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

// ---- the bytes of a file, in a FILE or in memory ----

/* Where the writer and the reader below put and get bytes: a FILE (unless BPC_NO_FILES)
 * or a memory buffer.  One format code for both, so a buffer holds exactly a file's
 * bytes, sections included, and is checked as strictly. */
typedef struct Stream Stream;
struct Stream {
    /* Up to n bytes into p; returns how many (fewer only at the end), or (size_t)-1
     * on a read error. */
    size_t (*read)(Stream *s, unsigned char *p, size_t n);
    int (*write)(Stream *s, const unsigned char *p, size_t n); /* BPRT_OK or BPRT_E_IO */
    int (*seek)(Stream *s, size_t pos);                        /* BPRT_OK or BPRT_E_IO */
    void *file;                /* a FILE * */
    const unsigned char *in;   /* memory to read, or */
    unsigned char *out;        /* memory to write */
    size_t size, pos;
    uint32_t crc;              /* of the bytes through it so far (in this pass) */
    int err;                   /* writing: the first error */
};

static size_t mem_read(Stream *s, unsigned char *p, size_t n)
{
    if (n > s->size - s->pos)
        n = s->size - s->pos;
    if (n == 0)
        return 0; /* also for an empty buffer given as NULL */
    memcpy(p, s->in + s->pos, n);
    s->pos += n;
    return n;
}

/* The caller made sure the whole file fits. */
static int mem_write(Stream *s, const unsigned char *p, size_t n)
{
    memcpy(s->out + s->pos, p, n);
    s->pos += n;
    return BPRT_OK;
}

static int mem_seek(Stream *s, size_t pos)
{
    s->pos = pos;
    return BPRT_OK;
}

// ---- writing ----

static void out_bytes(Stream *s, const unsigned char *p, size_t n)
{
    s->crc = crc32_update(s->crc, p, n);
    if (!s->err)
        s->err = s->write(s, p, n);
}

static void out_u64(Stream *s, uint64_t v)
{
    unsigned char b[8];
    put_le(b, v, 8);
    out_bytes(s, b, 8);
}

/* `count` elements of `size` bytes, through the stack buffer. */
static void out_elems(Stream *s, const void *buf, size_t count, uint32_t size)
{
    unsigned char chunk[CHUNK];
    for (size_t i = 0, n; i < count; i += n) {
        n = count - i < CHUNK / size ? count - i : CHUNK / size;
        encode(chunk, buf, i, n, size);
        out_bytes(s, chunk, n * size);
    }
}

static void out_section_head(Stream *s, uint32_t id, uint64_t size)
{
    unsigned char b[SECTION_HEAD];
    put_le(b, id, 4);
    put_le(b + 4, 0, 4);
    put_le(b + 8, size, 8);
    out_bytes(s, b, SECTION_HEAD);
}

/* A text section's size: the text and 1 to 8 NUL bytes. */
static uint64_t text_size(const char *const *parts)
{
    return (text_len(parts) / 8 + 1) * 8;
}

/* The statistics section's size: the count, the means and the deviations. */
static uint64_t stats_size(const bprt_stats *stats)
{
    return 8 + 16 * (uint64_t)stats->inputs;
}

/* The class names section's size: the count, the names and 0 to 7 NUL bytes. */
static uint64_t classes_size(const bprt_extra *x)
{
    return (8 + x->names_size + 7) / 8 * 8;
}

/* The trainer state section's size: the counts, the words and the elements, padded. */
static uint64_t trainer_size(const bprt_extra *x, uint32_t elem_size)
{
    return 16 + 8 * (uint64_t)x->nwords + (x->nbest * elem_size + 7) / 8 * 8;
}

static bool has_classes(const bprt_extra *x)
{
    return x && x->nclasses > 0;
}

static bool has_trainer(const bprt_extra *x)
{
    return x && x->words;
}

/* The bytes between the buffers and the checksum: none in version 1; in version 2
 * the section count and each section with its head. */
static uint64_t sections_size(const bprt_file_info *info, const bprt_stats *stats,
                              const bprt_extra *x)
{
    if (!info->shape && !info->tensors && !stats && !has_classes(x) && !has_trainer(x))
        return 0;
    const char *const shape[] = {info->shape, NULL};
    return 8 + (info->shape ? SECTION_HEAD + text_size(shape) : 0) +
           (info->tensors ? SECTION_HEAD + text_size(info->tensors) : 0) +
           (stats ? SECTION_HEAD + stats_size(stats) : 0) +
           (has_classes(x) ? SECTION_HEAD + classes_size(x) : 0) +
           (has_trainer(x) ? SECTION_HEAD + trainer_size(x, info->elem_size) : 0);
}

/* Class names: `count` names, each non-empty, without control characters (UTF-8
 * passes), ended by a NUL, filling exactly `size` bytes of `names`. */
static bool good_names(const char *names, size_t size, uint64_t count)
{
    uint64_t seen = 0;
    size_t len = 0;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)names[i];
        if (c == 0) {
            if (len == 0)
                return false;
            seen++;
            len = 0;
        } else if (c < ' ' || c == 0x7f) {
            return false;
        } else {
            len++;
        }
    }
    return len == 0 && seen == count && size < MAX_TEXT;
}

/* What the writers cannot store: `info`, `stats` and `x` (NULL: none) as they come. */
static int check_write(const bprt_file_info *info, const bprt_stats *stats,
                       const bprt_extra *x)
{
    int err = check_info(info);
    const char *const shape[] = {info->shape, NULL};
    if (!err && stats)
        err = check_stats(stats);
    if (!err && ((info->shape && !good_text(shape)) ||
                 (info->tensors && !good_text(info->tensors))))
        err = BPRT_E_SECTION;
    if (!err && has_classes(x) && !(x->names && good_names(x->names, x->names_size, x->nclasses)))
        err = BPRT_E_SECTION;
    if (!err && has_trainer(x) && x->nbest != 0 && (x->nbest != info->count || !x->best))
        err = BPRT_E_SECTION;
    return err;
}

/* n NUL bytes, n < 8. */
static void out_padding(Stream *s, size_t n)
{
    static const unsigned char zeros[8];
    out_bytes(s, zeros, n);
}

/* A text section: its head, the strings, 1 to 8 NUL bytes. */
static void out_text(Stream *s, uint32_t id, const char *const *parts)
{
    out_section_head(s, id, text_size(parts));
    for (const char *const *p = parts; *p; p++)
        out_bytes(s, (const unsigned char *)*p, strlen(*p));
    out_padding(s, (size_t)(text_size(parts) - text_len(parts)));
}

/* The whole file; `info`, `stats` and `x` were checked.  Errors are in s->err. */
static void write_contents(Stream *s, const bprt_file_info *info, const void *const *buffers,
                           const bprt_stats *stats, const bprt_extra *x)
{
    unsigned char h[HEADER_SIZE], trailer[CRC_SIZE];
    const int nsections = (stats != NULL) + (info->shape != NULL) + (info->tensors != NULL) +
                          has_classes(x) + has_trainer(x);
    encode_header(h, info, nsections ? VERSION_SECTIONS : VERSION_PLAIN);
    out_bytes(s, h, HEADER_SIZE);
    for (uint32_t b = 0; b < info->nbuffers; b++)
        out_elems(s, buffers[b], info->count, info->elem_size);
    if (nsections)
        out_u64(s, (uint64_t)nsections);
    if (info->shape) {
        const char *const shape[] = {info->shape, NULL};
        out_text(s, SECTION_SHAPE, shape);
    }
    if (info->tensors)
        out_text(s, SECTION_TENSORS, info->tensors);
    if (stats) {
        out_section_head(s, SECTION_STATS, stats_size(stats));
        out_u64(s, stats->inputs);
        out_elems(s, stats->mean, stats->inputs, 8);
        out_elems(s, stats->std, stats->inputs, 8);
    }
    if (has_classes(x)) {
        out_section_head(s, SECTION_CLASSES, classes_size(x));
        out_u64(s, x->nclasses);
        out_bytes(s, (const unsigned char *)x->names, x->names_size);
        out_padding(s, (size_t)classes_size(x) - 8 - x->names_size);
    }
    if (has_trainer(x)) {
        const size_t best = (size_t)x->nbest * info->elem_size;
        out_section_head(s, SECTION_TRAINER, trainer_size(x, info->elem_size));
        out_u64(s, x->nwords);
        out_elems(s, x->words, x->nwords, 8);
        out_u64(s, x->nbest);
        out_elems(s, x->best, (size_t)x->nbest, info->elem_size);
        out_padding(s, (best + 7) / 8 * 8 - best);
    }
    put_le(trailer, s->crc, CRC_SIZE);
    out_bytes(s, trailer, CRC_SIZE);
}

/* The length of the file for checked `info` and `stats`, or 0 when it exceeds size_t. */
static size_t file_length(const bprt_file_info *info, const bprt_stats *stats)
{
    const uint64_t fixed = HEADER_SIZE + sections_size(info, stats, NULL) + CRC_SIZE;
    if (fixed > SIZE_MAX)
        return 0;
    /* in size_t: a 64-bit division would link libgcc's on a 32-bit target */
    const size_t head = (size_t)fixed, bytes = (size_t)info->count * info->elem_size;
    if (info->nbuffers && bytes > (SIZE_MAX - head) / info->nbuffers)
        return 0;
    return head + bytes * info->nbuffers;
}

int bprt_mem_write(void *buf, size_t size, const bprt_file_info *info,
                   const void *const *buffers)
{
    return bprt_mem_write_stats(buf, size, info, buffers, NULL);
}

int bprt_mem_write_stats(void *buf, size_t size, const bprt_file_info *info,
                         const void *const *buffers, const bprt_stats *stats)
{
    int err = check_write(info, stats, NULL);
    if (err)
        return err;
    size_t need = file_length(info, stats);
    if (need == 0 || need > size)
        return BPRT_E_SPACE;
    Stream s = {.write = mem_write, .out = buf, .size = size};
    write_contents(&s, info, buffers, stats, NULL);
    return s.err;
}

// ---- reading ----

static int in_bytes(Stream *s, unsigned char *p, size_t n)
{
    size_t got = s->read(s, p, n);
    if (got != n)
        return got == (size_t)-1 ? BPRT_E_IO : BPRT_E_TRUNCATED;
    s->crc = crc32_update(s->crc, p, n);
    return BPRT_OK;
}

/* `count` elements into `buf` (NULL: only through the checksum). */
static int in_elems(Stream *s, void *buf, size_t count, uint32_t size)
{
    unsigned char chunk[CHUNK];
    for (size_t i = 0, n; i < count; i += n) {
        n = count - i < CHUNK / size ? count - i : CHUNK / size;
        int err = in_bytes(s, chunk, n * size);
        if (err)
            return err;
        if (buf)
            decode(buf, i, n, size, chunk);
    }
    return BPRT_OK;
}

static int in_u64(Stream *s, uint64_t *v)
{
    unsigned char b[8];
    int err = in_bytes(s, b, 8);
    *v = get_le(b, 8);
    return err;
}

/* `inputs` doubles each passing `good`, into out[0..inputs) unless out is NULL. */
static int in_stat_values(Stream *s, uint64_t inputs, bool (*good)(double), double *out)
{
    for (uint64_t j = 0; j < inputs; j++) {
        double v;
        int err = in_elems(s, &v, 1, 8);
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
static int in_stats(Stream *s, uint64_t size, const StatsDest *dest)
{
    uint64_t inputs;
    if (size < 8)
        return BPRT_E_SECTION;
    int err = in_u64(s, &inputs);
    if (err)
        return err;
    if (inputs == 0 || inputs > UINT32_MAX || (size - 8) / 16 != inputs || (size - 8) % 16)
        return BPRT_E_SECTION;
    if (dest->inputs && inputs != dest->inputs)
        return BPRT_E_STATS;
    err = in_stat_values(s, inputs, good_mean, dest->mean);
    if (!err)
        err = in_stat_values(s, inputs, good_std, dest->std);
    return err;
}

/* A text section's body (the shape string, the tensor table): printable ASCII, then NUL
 * bytes to its end.  The runtime does not interpret the table: tools/bpweights.py does. */
static int in_text(Stream *s, uint64_t size)
{
    if (size == 0 || size % 8 || size > MAX_TEXT)
        return BPRT_E_SECTION;
    bool ended = false;
    for (uint64_t i = 0; i < size; i++) {
        unsigned char c;
        int err = in_bytes(s, &c, 1);
        if (err)
            return err;
        if (c == 0)
            ended = true;
        else if (ended || c < ' ' || c > '~')
            return BPRT_E_SECTION;
    }
    return ended ? BPRT_OK : BPRT_E_SECTION;
}

/* The class names section's body, byte by byte (no buffer: a firmware's stack is
 * small): the count, that many names, each non-empty, without control characters and
 * ended by a NUL, then 0 to 7 NUL bytes to the end; copied into x->names (room for
 * x->names_size bytes) when `copy`. */
static int in_classes(Stream *s, uint64_t size, bprt_extra *x, bool copy)
{
    uint64_t count, seen = 0;
    if (size < 16 || size % 8 || size > MAX_TEXT)
        return BPRT_E_SECTION;
    int err = in_u64(s, &count);
    if (err)
        return err;
    if (count == 0 || count > UINT32_MAX)
        return BPRT_E_SECTION;
    size_t len = 0, used = 0; /* of the name being read; bytes of names so far */
    for (uint64_t i = 8; i < size; i++) {
        unsigned char c;
        if ((err = in_bytes(s, &c, 1)) != 0)
            return err;
        if (seen == count) { /* the padding */
            if (c != 0 || size - i >= 8)
                return BPRT_E_SECTION;
            continue;
        }
        if (c < ' ' ? c != 0 || len == 0 : c == 0x7f)
            return BPRT_E_SECTION;
        if (x && x->names && used >= x->names_size)
            return BPRT_E_SPACE;
        if (x && x->names && copy)
            x->names[used] = (char)c;
        used++;
        len = c ? len + 1 : 0;
        seen += c == 0;
    }
    if (seen != count)
        return BPRT_E_SECTION;
    if (x && copy) {
        x->nclasses = (uint32_t)count;
        if (x->names)
            x->names_size = used;
    }
    return BPRT_OK;
}

/* The trainer state section's body: exactly x->nwords words (any count when x is NULL)
 * and 0 or `count` elements of `elem_size` bytes, copied when `copy`. */
static int in_trainer(Stream *s, uint64_t size, const bprt_file_info *info, bprt_extra *x,
                      bool copy)
{
    uint64_t nwords, nbest;
    if (size < 16 || size % 8)
        return BPRT_E_SECTION;
    int err = in_u64(s, &nwords);
    if (err)
        return err;
    if (nwords > (size - 16) / 8 || (x && x->words && nwords != x->nwords))
        return BPRT_E_SECTION;
    if ((err = in_elems(s, x && copy ? x->words : NULL, (size_t)nwords, 8)) != 0 ||
        (err = in_u64(s, &nbest)) != 0)
        return err;
    const uint64_t rest = size - 16 - 8 * nwords, bytes = nbest * info->elem_size;
    if ((nbest != 0 && nbest != info->count) || rest != (bytes + 7) / 8 * 8)
        return BPRT_E_SECTION;
    if (nbest && x && x->words && !x->best)
        return BPRT_E_SPACE;
    if ((err = in_elems(s, x && copy ? x->best : NULL, (size_t)nbest, info->elem_size)) != 0)
        return err;
    unsigned char pad[8];
    if ((err = in_bytes(s, pad, (size_t)(rest - bytes))) != 0)
        return err;
    for (uint64_t i = 0; i < rest - bytes; i++)
        if (pad[i] != 0) /* as every section's padding */
            return BPRT_E_SECTION;
    if (x && copy)
        x->nbest = nbest;
    return BPRT_OK;
}

/* Version 2's sections; *found says whether statistics were among them.  x (NULL: not
 * wanted) takes the trainer's sections, copied when `copy`. */
static int in_sections(Stream *s, const bprt_file_info *info, const StatsDest *dest, bool *found,
                       bprt_extra *x, bool copy)
{
    uint64_t nsections;
    int err = in_u64(s, &nsections);
    if (!err && (nsections == 0 || nsections > NSECTION_KINDS))
        err = BPRT_E_SECTION;
    bool shape = false, tensors = false, classes = false, trainer = false;
    for (uint64_t k = 0; k < nsections && !err; k++) {
        unsigned char h[SECTION_HEAD];
        if ((err = in_bytes(s, h, SECTION_HEAD)) != 0)
            break;
        uint64_t id = get_le(h, 4), size = get_le(h + 8, 8);
        if (get_le(h + 4, 4) != 0)
            err = BPRT_E_SECTION;
        else if (id == SECTION_STATS && !*found) {
            *found = true;
            err = in_stats(s, size, dest);
        } else if (id == SECTION_SHAPE && !shape) {
            shape = true;
            err = in_text(s, size);
        } else if (id == SECTION_TENSORS && !tensors) {
            tensors = true;
            err = in_text(s, size);
        } else if (id == SECTION_CLASSES && !classes) {
            classes = true;
            err = in_classes(s, size, x, copy);
        } else if (id == SECTION_TRAINER && !trainer) {
            trainer = true;
            err = in_trainer(s, size, info, x, copy);
            if (!err && x && copy)
                x->has_state = 1;
        } else
            err = BPRT_E_SECTION; /* unknown, or twice */
    }
    return err;
}

/* One pass over the file after the header: the buffers (decoded into `buffers` unless
 * NULL), the sections, the file's length and its checksum. */
static int read_pass(Stream *s, const unsigned char *h, const bprt_file_info *info,
                     void *const *buffers, const StatsDest *dest, bool *found, bprt_extra *x,
                     bool copy)
{
    int err = BPRT_OK;
    s->crc = crc32_update(0, h, HEADER_SIZE);
    for (uint32_t b = 0; b < info->nbuffers && !err; b++)
        err = in_elems(s, buffers ? buffers[b] : NULL, info->count, info->elem_size);
    *found = false;
    if (!err && get_le(h + OFF_VERSION, 4) == VERSION_SECTIONS)
        err = in_sections(s, info, dest, found, x, copy);
    if (err)
        return err;
    const uint32_t crc = s->crc;
    unsigned char trailer[CRC_SIZE], extra;
    if ((err = in_bytes(s, trailer, CRC_SIZE)) != 0)
        return err;
    size_t got = s->read(s, &extra, 1);
    if (got != 0)
        return got == (size_t)-1 ? BPRT_E_IO : BPRT_E_TRAILING;
    return get_le(trailer, CRC_SIZE) == crc ? BPRT_OK : BPRT_E_CHECKSUM;
}

/* What the readers cannot take: `expect` (NULL: the file's own header) and `stats`
 * (NULL: none wanted) as they come. */
static int check_read(const bprt_file_info *expect, const bprt_stats *stats)
{
    int err = expect ? check_info(expect) : BPRT_OK;
    if (!err && stats && (stats->inputs == 0 || !stats->mean || !stats->std))
        err = BPRT_E_STATS;
    return err;
}

/* Both passes over the stream; expect NULL takes the file's own header as the
 * expectation.  The second pass checks everything again: only a file changed in place
 * between the passes can fail it, and that is then reported, though `buffers` are
 * partly overwritten.  (bprt_file_write replaces files by renaming, which an open file
 * does not see.) */
static int read_stream(Stream *s, const bprt_file_info *expect, void *const *buffers,
                       int64_t *step, bprt_stats *stats, bprt_extra *x)
{
    unsigned char h[HEADER_SIZE];
    size_t got = s->read(s, h, HEADER_SIZE);
    int err = BPRT_OK;
    bprt_file_info own;
    if (!expect && got == HEADER_SIZE && !memcmp(h, magic, sizeof magic)) {
        own = header_info(h);
        expect = &own;
        err = check_info(expect);
    }
    if (!err)
        err = got == (size_t)-1 ? BPRT_E_IO : check_header(h, got, expect);
    /* The generated code goes on from a checkpoint's step: a negative one makes Adam's
     * bias correction negative, and INT64_MAX overflows at the next step. */
    if (!err && expect->kind == BPRT_FILE_CHECKPOINT &&
        (header_step(h) < 0 || header_step(h) == INT64_MAX))
        err = BPRT_E_STEP;
    const StatsDest check = {.inputs = stats ? stats->inputs : 0},
                    copy = {check.inputs, stats ? stats->mean : NULL, stats ? stats->std : NULL};
    bool found = false;
    if (x) {
        x->nclasses = 0;
        x->nbest = 0;
        x->has_state = 0;
    }
    if (!err)
        err = read_pass(s, h, expect, NULL, &check, &found, x, false);
    if (!err)
        err = s->seek(s, HEADER_SIZE);
    if (!err)
        err = read_pass(s, h, expect, buffers, &copy, &found, x, true);
    if (!err && step)
        *step = header_step(h);
    if (!err && stats)
        stats->found = found;
    return err;
}

static int read_mem(const void *buf, size_t size, const bprt_file_info *expect,
                    void *const *buffers, int64_t *step, bprt_stats *stats)
{
    int err = check_read(expect, stats);
    if (err)
        return err;
    Stream s = {.read = mem_read, .seek = mem_seek, .in = buf, .size = size};
    return read_stream(&s, expect, buffers, step, stats, NULL);
}

int bprt_mem_read(const void *buf, size_t size, const bprt_file_info *expect,
                  void *const *buffers, int64_t *step)
{
    return read_mem(buf, size, expect, buffers, step, NULL);
}

int bprt_stats_read_mem(const void *buf, size_t size, bprt_stats *stats)
{
    return read_mem(buf, size, NULL, NULL, NULL, stats);
}

// ---- files ----

#ifndef BPC_NO_FILES
static size_t file_read(Stream *s, unsigned char *p, size_t n)
{
    size_t got = fread(p, 1, n, s->file);
    return ferror((FILE *)s->file) ? (size_t)-1 : got;
}

static int file_write(Stream *s, const unsigned char *p, size_t n)
{
    return fwrite(p, 1, n, s->file) == n ? BPRT_OK : BPRT_E_IO;
}

static int file_seek(Stream *s, size_t pos)
{
    return fseek(s->file, (long)pos, SEEK_SET) == 0 ? BPRT_OK : BPRT_E_IO;
}

int bprt_file_write(const char *path, const bprt_file_info *info, const void *const *buffers)
{
    return bprt_file_write_stats(path, info, buffers, NULL);
}

int bprt_file_write_stats(const char *path, const bprt_file_info *info,
                          const void *const *buffers, const bprt_stats *stats)
{
    return bprt_file_write_extra(path, info, buffers, stats, NULL);
}

int bprt_file_write_extra(const char *path, const bprt_file_info *info,
                          const void *const *buffers, const bprt_stats *stats,
                          const bprt_extra *extra)
{
    static const char suffix[] = ".tmp";
    char tmp[FILENAME_MAX];
    size_t len = strlen(path);
    int err = check_write(info, stats, extra);
    if (err)
        return err;
    if (len + sizeof suffix > sizeof tmp) {
        errno = ENAMETOOLONG;
        return BPRT_E_OPEN;
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, suffix, sizeof suffix);

    FILE *f = fopen(tmp, "wb");
    if (!f)
        return BPRT_E_OPEN;
    Stream s = {.write = file_write, .file = f};
    write_contents(&s, info, buffers, stats, extra);
    err = s.err;
    if (fclose(f) != 0 && !err) /* the last buffered bytes are written here */
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

static int read_file(const char *path, const bprt_file_info *expect, void *const *buffers,
                     int64_t *step, bprt_stats *stats, bprt_extra *extra)
{
    int err = check_read(expect, stats);
    if (err)
        return err;
    FILE *f = fopen(path, "rb");
    if (!f)
        return BPRT_E_OPEN;
    Stream s = {.read = file_read, .seek = file_seek, .file = f};
    err = read_stream(&s, expect, buffers, step, stats, extra);
    int why = errno; /* for the caller's message, not fclose's */
    fclose(f);
    errno = why;
    return err;
}

int bprt_file_read(const char *path, const bprt_file_info *expect, void *const *buffers,
                   int64_t *step)
{
    return read_file(path, expect, buffers, step, NULL, NULL);
}

int bprt_file_read_stats(const char *path, const bprt_file_info *expect, void *const *buffers,
                         int64_t *step, bprt_stats *stats)
{
    return read_file(path, expect, buffers, step, stats, NULL);
}

int bprt_file_read_extra(const char *path, const bprt_file_info *expect, void *const *buffers,
                         int64_t *step, bprt_stats *stats, bprt_extra *extra)
{
    return read_file(path, expect, buffers, step, stats, extra);
}

int bprt_stats_read(const char *path, bprt_stats *stats)
{
    return read_file(path, NULL, NULL, NULL, stats, NULL);
}

// ---- messages that say what differs (files only: they read the file again) ----

/* What a message needs of a refused file: its header and, in version 2, its shape
 * string ("" when it has none).  Not checksummed: it only explains a refusal. */
typedef struct Peek {
    bool header;
    unsigned char h[HEADER_SIZE];
    char shape[BPRT_ERR_SIZE / 2];
} Peek;

static void peek_shape(FILE *f, Peek *p)
{
    const bprt_file_info info = header_info(p->h);
    if ((info.elem_size != 4 && info.elem_size != 8) || info.nbuffers == 0 ||
        info.count > (uint64_t)(LONG_MAX / 2 / 8) / info.nbuffers)
        return;
    unsigned char head[SECTION_HEAD];
    uint64_t nsections;
    long data = (long)((uint64_t)info.nbuffers * info.count * info.elem_size);
    if (fseek(f, HEADER_SIZE + data, SEEK_SET) != 0 || fread(head, 1, 8, f) != 8)
        return;
    nsections = get_le(head, 8);
    for (uint64_t s = 0; s < nsections && s < NSECTION_KINDS; s++) {
        if (fread(head, 1, SECTION_HEAD, f) != SECTION_HEAD)
            return;
        uint64_t size = get_le(head + 8, 8);
        if (get_le(head, 4) == SECTION_SHAPE) {
            size_t n = size < sizeof p->shape - 1 ? (size_t)size : sizeof p->shape - 1;
            n = fread(p->shape, 1, n, f);
            p->shape[n] = 0;
            for (size_t i = 0; p->shape[i]; i++)
                if (p->shape[i] < ' ' || p->shape[i] > '~')
                    p->shape[0] = 0;
            return;
        }
        if (size > LONG_MAX || fseek(f, (long)size, SEEK_CUR) != 0)
            return;
    }
}

static void peek(const char *path, Peek *p)
{
    memset(p, 0, sizeof *p);
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    p->header = fread(p->h, 1, HEADER_SIZE, f) == HEADER_SIZE && !memcmp(p->h, magic, 8);
    if (p->header && get_le(p->h + OFF_VERSION, 4) == VERSION_SECTIONS)
        peek_shape(f, p);
    fclose(f);
}

static const char *type_name(uint32_t elem_size)
{
    return elem_size == 4 ? "float" : elem_size == 8 ? "double" : "neither float nor double";
}

/* The optimizer a checkpoint's buffer count says (docs/WEIGHTS.md, the table of S). */
static const char *optimizer_name(uint32_t nbuffers)
{
    static const char *const names[] = {"", "sgd without momentum", "sgd with momentum",
                                        "adam or adamw"};
    return nbuffers >= 1 && nbuffers <= 3 ? names[nbuffers] : "an unknown optimizer";
}

/* Appends to the message msg[BPRT_ERR_SIZE], cut short where it is full. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void append(char *msg, const char *format, ...)
{
    size_t len = strlen(msg);
    va_list args;
    va_start(args, format);
    vsnprintf(msg + len, BPRT_ERR_SIZE - len, format, args);
    va_end(args);
}

/* The detail of a refusal, appended to msg: what the file `f` (its shape from `p`)
 * holds, and, with an expectation `e`, what the network wanted instead. */
static void differs(char *msg, int code, const bprt_file_info *f, const Peek *p,
                    const bprt_file_info *e)
{
    const unsigned long long fc = (unsigned long long)f->count;
    if (code == BPRT_E_KIND) {
        append(msg, ": the file is a %s",
               f->kind == BPRT_FILE_CHECKPOINT ? "checkpoint" : "weights file");
        if (e)
            append(msg, ", a %s was expected",
                   e->kind == BPRT_FILE_CHECKPOINT ? "checkpoint" : "weights file");
    } else if (code == BPRT_E_TYPE) {
        append(msg, ": the file holds %s values", type_name(f->elem_size));
        if (e)
            append(msg, ", the network is %s", type_name(e->elem_size));
    } else if (code == BPRT_E_FINGERPRINT) {
        append(msg, ": the file's are %s (%llu parameters)",
               p->shape[0] ? p->shape : "not recorded in it", fc);
        if (e)
            append(msg, ", this network's %s (%llu)", e->shape ? e->shape : "another",
                   (unsigned long long)e->count);
    } else if (code == BPRT_E_SIZE && f->kind == BPRT_FILE_CHECKPOINT &&
               (!e || f->nbuffers != e->nbuffers)) {
        append(msg, ": the file holds the state of %s (%u buffers)", optimizer_name(f->nbuffers),
               (unsigned)f->nbuffers);
        if (e)
            append(msg, ", this network's optimizer is %s (%u buffers)",
                   optimizer_name(e->nbuffers), (unsigned)e->nbuffers);
    } else if (code == BPRT_E_SIZE) {
        append(msg, ": the file holds %llu parameters", fc);
        if (e)
            append(msg, ", the network %llu", (unsigned long long)e->count);
    }
}

void bprt_file_explain(char *msg, const char *path, const bprt_file_info *expect, int code)
{
    const int why = errno;
    msg[0] = 0;
    append(msg, "%s: %s", path, bprt_strerror(code));
    if (code == BPRT_E_OPEN || code == BPRT_E_IO) {
        append(msg, ": %s", strerror(why));
    } else {
        Peek p;
        peek(path, &p);
        if (p.header) {
            const bprt_file_info f = header_info(p.h);
            differs(msg, code, &f, &p, expect);
        }
    }
    errno = why;
}

#endif /* BPC_NO_FILES */

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
        [BPRT_E_SPACE] = "the buffer is too small for the data",
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

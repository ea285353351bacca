/*
 * wfile.c - weight files and checkpoints (the format is docs/WEIGHTS.md): the writer,
 * the reader, their error messages and the fingerprint that ties a file to the
 * network shapes it was written for.  Reading allocates nothing, so a microcontroller
 * build can load weights: a first pass streams the file through a small stack buffer
 * and validates all of it, and only a second pass copies it into the caller's
 * buffers, so a bad file never leaves a half-loaded network.  The same bytes go to
 * and from a memory buffer (bprt_mem_*); built with -DBPC_NO_FILES, only those are
 * compiled and nothing here uses stdio (docs/EMBEDDED.md).
 */
#include <float.h>
#include <string.h>
#ifndef BPC_NO_FILES
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
    FORMAT_VERSION = 1,
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

static void encode_header(unsigned char *h, const bprt_file_info *info)
{
    memcpy(h, magic, sizeof magic);
    put_le(h + OFF_VERSION, FORMAT_VERSION, 4);
    put_le(h + OFF_KIND, info->kind, 4);
    put_le(h + OFF_ELEM_SIZE, info->elem_size, 4);
    put_le(h + OFF_NBUFFERS, info->nbuffers, 4);
    put_le(h + OFF_COUNT, info->count, 8);
    put_le(h + OFF_FINGERPRINT, info->fingerprint, 8);
    put_le(h + OFF_STEP, (uint64_t)info->step, 8); /* two's complement, by C's rules */
}

/* `got` bytes of the header were read.  A short file whose bytes all match the magic
 * is truncated; anything else that starts differently is not a weight file. */
static int check_header(const unsigned char *h, size_t got, const bprt_file_info *e)
{
    if (memcmp(h, magic, got < sizeof magic ? got : sizeof magic) != 0)
        return BPRT_E_MAGIC;
    if (got < HEADER_SIZE)
        return BPRT_E_TRUNCATED;
    if (get_le(h + OFF_VERSION, 4) != FORMAT_VERSION)
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

// ---- the bytes of a file, in a FILE or in memory ----

/* Where the writer and the reader below put and get bytes: a FILE (unless BPC_NO_FILES)
 * or a memory buffer.  One format code for both, so a buffer holds exactly a file's
 * bytes and is checked as strictly. */
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

static int write_payload(Stream *s, const bprt_file_info *info, const void *const *buffers,
                         uint32_t *crc)
{
    unsigned char chunk[CHUNK];
    size_t size = info->elem_size, n;
    for (uint32_t b = 0; b < info->nbuffers; b++) {
        for (size_t i = 0; i < info->count; i += n) {
            n = info->count - i < CHUNK / size ? info->count - i : CHUNK / size;
            encode(chunk, buffers[b], i, n, info->elem_size);
            *crc = crc32_update(*crc, chunk, n * size);
            int err = s->write(s, chunk, n * size);
            if (err)
                return err;
        }
    }
    return BPRT_OK;
}

/* The header, the payload and the checksum; `info` was checked. */
static int write_stream(Stream *s, const bprt_file_info *info, const void *const *buffers)
{
    unsigned char h[HEADER_SIZE], trailer[CRC_SIZE];
    encode_header(h, info);
    uint32_t crc = crc32_update(0, h, HEADER_SIZE);
    int err = s->write(s, h, HEADER_SIZE);
    if (!err)
        err = write_payload(s, info, buffers, &crc);
    if (!err) {
        put_le(trailer, crc, CRC_SIZE);
        err = s->write(s, trailer, CRC_SIZE);
    }
    return err;
}

/* The length of the file for `info` (checked), or 0 when it exceeds size_t. */
static size_t file_length(const bprt_file_info *info)
{
    size_t bytes = (size_t)info->count * info->elem_size;
    if (info->nbuffers && bytes > (SIZE_MAX - HEADER_SIZE - CRC_SIZE) / info->nbuffers)
        return 0;
    return HEADER_SIZE + bytes * info->nbuffers + CRC_SIZE;
}

int bprt_mem_write(void *buf, size_t size, const bprt_file_info *info,
                   const void *const *buffers)
{
    int err = check_info(info);
    if (err)
        return err;
    size_t need = file_length(info);
    if (need == 0 || need > size)
        return BPRT_E_SPACE;
    Stream s = {.write = mem_write, .out = buf, .size = size};
    return write_stream(&s, info, buffers);
}

// ---- reading ----

/* One pass over the file after the header: streams the payload through a stack
 * buffer into the checksum, decoding it into `buffers` unless they are NULL, then
 * checks the file's length and its checksum. */
static int read_pass(Stream *s, const unsigned char *h, const bprt_file_info *info,
                     void *const *buffers)
{
    unsigned char chunk[CHUNK];
    size_t size = info->elem_size, n, got;
    uint32_t crc = crc32_update(0, h, HEADER_SIZE);
    for (uint32_t b = 0; b < info->nbuffers; b++) {
        for (size_t i = 0; i < info->count; i += n) {
            n = info->count - i < CHUNK / size ? info->count - i : CHUNK / size;
            if ((got = s->read(s, chunk, n * size)) != n * size)
                return got == (size_t)-1 ? BPRT_E_IO : BPRT_E_TRUNCATED;
            crc = crc32_update(crc, chunk, n * size);
            if (buffers)
                decode(buffers[b], i, n, info->elem_size, chunk);
        }
    }
    if ((got = s->read(s, chunk, CRC_SIZE)) != CRC_SIZE)
        return got == (size_t)-1 ? BPRT_E_IO : BPRT_E_TRUNCATED;
    unsigned char extra;
    if ((got = s->read(s, &extra, 1)) != 0)
        return got == (size_t)-1 ? BPRT_E_IO : BPRT_E_TRAILING;
    return get_le(chunk, CRC_SIZE) == crc ? BPRT_OK : BPRT_E_CHECKSUM;
}

/* The header, then all of the file is checked before a second pass copies it into
 * `buffers`.  The second pass checks everything again: only a file changed in place
 * between the passes can fail it, and that is then reported, though `buffers` are
 * partly overwritten.  (bprt_file_write replaces files by renaming, which an open
 * file does not see.) */
static int read_stream(Stream *s, const bprt_file_info *expect, void *const *buffers,
                       int64_t *step)
{
    unsigned char h[HEADER_SIZE];
    size_t got = s->read(s, h, HEADER_SIZE);
    int err = got == (size_t)-1 ? BPRT_E_IO : check_header(h, got, expect);
    /* The generated code goes on from a checkpoint's step: a negative one makes Adam's
     * bias correction negative, and INT64_MAX overflows at the next step. */
    if (!err && expect->kind == BPRT_FILE_CHECKPOINT &&
        (header_step(h) < 0 || header_step(h) == INT64_MAX))
        err = BPRT_E_STEP;
    if (!err)
        err = read_pass(s, h, expect, NULL);
    if (!err)
        err = s->seek(s, HEADER_SIZE);
    if (!err)
        err = read_pass(s, h, expect, buffers);
    if (!err && step)
        *step = header_step(h);
    return err;
}

int bprt_mem_read(const void *buf, size_t size, const bprt_file_info *expect,
                  void *const *buffers, int64_t *step)
{
    int err = check_info(expect);
    if (err)
        return err;
    Stream s = {.read = mem_read, .seek = mem_seek, .in = buf, .size = size};
    return read_stream(&s, expect, buffers, step);
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
    static const char suffix[] = ".tmp";
    char tmp[FILENAME_MAX];
    size_t len = strlen(path);
    int err = check_info(info);
    if (err)
        return err;
    if (len + sizeof suffix > sizeof tmp)
        return BPRT_E_OPEN;
    memcpy(tmp, path, len);
    memcpy(tmp + len, suffix, sizeof suffix);

    FILE *f = fopen(tmp, "wb");
    if (!f)
        return BPRT_E_OPEN;
    Stream s = {.write = file_write, .file = f};
    err = write_stream(&s, info, buffers);
    if (fclose(f) != 0 && !err) /* the last buffered bytes are written here */
        err = BPRT_E_IO;
    if (!err && rename(tmp, path) != 0) /* POSIX: atomically replaces an old file */
        err = BPRT_E_IO;
    if (err)
        remove(tmp);
    return err;
}

int bprt_file_read(const char *path, const bprt_file_info *expect, void *const *buffers,
                   int64_t *step)
{
    int err = check_info(expect);
    if (err)
        return err;
    FILE *f = fopen(path, "rb");
    if (!f)
        return BPRT_E_OPEN;
    Stream s = {.read = file_read, .seek = file_seek, .file = f};
    err = read_stream(&s, expect, buffers, step);
    fclose(f);
    return err;
}
#endif

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

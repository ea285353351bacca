#!/usr/bin/env python3
"""bpweights - bpc weight files to and from NumPy's .npz, named and shaped as PyTorch does.

    bpweights export W OUT.npz [--header NAME.h]
    bpweights import IN.npz W [--like T] [--header NAME.h] [--no-stats]

`export` writes one array per parameter tensor, named LABEL.weight and LABEL.bias and
shaped as PyTorch's state_dict (dense [out][in], conv2d [F][C][KH][KW]), so that

    model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(f).items()})

loads them into a PyTorch model whose modules carry the .bp labels; everything else the
file holds (kind, type, fingerprint, step, its sections) goes into the archive's comment,
so that `import` gives the file back byte for byte.  `import` also takes a .npz without
that comment (np.savez of a state_dict): the network then comes from a weight file of it,
T (which also overrides the comment) or W itself.  The names come from the file's tensor table (docs/WEIGHTS.md, section 4),
or from the generated header's NAME_TENSORS (--header) for files without one.

The file is checked as the runtime checks it (runtime/wfile.c), checksum included, and an
output file is written to OUT.tmp and renamed, so an error never leaves a partial file or
replaces a good one.  Exit status: 0, 1 on errors, 2 on usage errors.
"""
import argparse
import base64
import json
import math
import os
import re
import struct
import sys
import zipfile
import zlib

MAGIC = b"BPCWGT\0\0"
HEADER = 48
CRC = 4
SECTION_HEAD = 16
STATS, SHAPE, TENSORS = 1, 2, 4
MAX_TEXT = 65536
KINDS = {0: "weights file", 1: "checkpoint"}
TYPES = {4: "float", 8: "double"}
# A checkpoint's buffers after the parameters, by the number of state buffers S
# (docs/WEIGHTS.md), named as PyTorch's optimizers name their state.
STATE = {0: [], 1: ["momentum_buffer"], 2: ["exp_avg", "exp_avg_sq"]}
ZIP_COMMENT_MAX = 65535
COMMENT_TAG = "bpweights"


class Refused(Exception):
    """An input that is refused, or an output that cannot be written: the message says why."""


# ---- the weight file ----

class WeightFile:
    """A checked weight file: its header fields, its buffers (bytes) and its sections
    (id, body) in file order; `table` is its tensor table, or None."""

    def __init__(self, kind, elem_size, count, fingerprint, step, buffers, sections):
        self.kind, self.elem_size, self.count = kind, elem_size, count
        self.fingerprint, self.step = fingerprint, step
        self.buffers, self.sections = buffers, sections
        self.table = None
        self.shape = None

    def section(self, sid):
        for i, body in self.sections:
            if i == sid:
                return body
        return None

    def describe(self):
        what = self.shape or "%d parameters" % self.count
        return "%s, %s, %s" % (KINDS[self.kind], TYPES[self.elem_size], what)


def text_of(body, what, name):
    """A text section's string: printable ASCII, then 1 or more NUL bytes to its end, in at
    most MAX_TEXT bytes."""
    if len(body) > MAX_TEXT:
        raise Refused("%s: a malformed or unknown section: a %s of %d bytes (at most %d)" %
                      (name, what, len(body), MAX_TEXT))
    end = body.find(b"\0")
    if end < 0 or body[end:].strip(b"\0") or any(c < 32 or c > 126 for c in body[:end]):
        raise Refused("%s: a malformed or unknown section: the %s is not printable ASCII "
                      "padded with NUL bytes" % (name, what))
    return body[:end].decode("ascii")


TABLE_ENTRY = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)=([1-9]\d*(?:x[1-9]\d*)*)@(\d+)")


def parse_table(text, count, name):
    """The tensor table "c1.weight=6x1x5x5@0;c1.bias=6@150;" as [(name, shape, offset)]:
    each entry ends with ';', the tensors follow each other from 0 and fill `count`."""
    if not text.endswith(";"):
        raise Refused("%s: the tensor table does not end with ';': %.60s" % (name, text))
    table, names, at = [], set(), 0
    for entry in text[:-1].split(";"):
        m = TABLE_ENTRY.fullmatch(entry)
        if not m:
            raise Refused("%s: the tensor table has a malformed entry '%s'" % (name, entry))
        tname, shape, offset = m.group(1), tuple(int(d) for d in m.group(2).split("x")), int(m.group(3))
        if tname in names:
            raise Refused("%s: the tensor table names %s twice" % (name, tname))
        if offset != at:
            raise Refused("%s: the tensor table puts %s at %d, after %d elements" %
                          (name, tname, offset, at))
        names.add(tname)
        table.append((tname, shape, offset))
        at += math.prod(shape)
    if at != count:
        raise Refused("%s: the tensor table covers %d elements, the file holds %d parameters" %
                      (name, at, count))
    return table


def check_stats(body, name):
    if len(body) < 8:
        raise Refused("%s: a malformed or unknown section: statistics without their count" % name)
    inputs = struct.unpack_from("<Q", body)[0]
    if inputs == 0 or inputs > 0xFFFFFFFF or len(body) != 8 + 16 * inputs:
        raise Refused("%s: a malformed or unknown section: %d bytes of statistics for %d inputs" %
                      (name, len(body), inputs))
    values = struct.unpack_from("<%dd" % (2 * inputs), body, 8)
    if not all(math.isfinite(v) for v in values[:inputs]) or \
       not all(math.isfinite(v) and v > 0 for v in values[inputs:]):
        raise Refused("%s: the standardization statistics hold a mean that is not finite or a "
                      "deviation that is not positive" % name)


def parse(data, name):
    """Checks the bytes of a weight file as runtime/wfile.c does, in its order: magic,
    header, length, sections, checksum."""
    if data[:len(MAGIC)] != MAGIC[:len(data)]:
        raise Refused("%s: not a bpc weight file" % name)
    if len(data) < HEADER:
        raise Refused("%s: the file is truncated (%d bytes, the header alone is 48)" % (name, len(data)))
    version, kind, elem_size, nbuffers, count, fingerprint, step = struct.unpack_from("<IIIIQQq", data, 8)
    if version not in (1, 2):
        raise Refused("%s: unsupported weight file format version %d (1 or 2)" % (name, version))
    if kind not in KINDS:
        raise Refused("%s: kind %d is neither weights (0) nor checkpoint (1)" % (name, kind))
    if elem_size not in TYPES:
        raise Refused("%s: element size %d is neither float (4) nor double (8)" % (name, elem_size))
    if kind == 0 and nbuffers != 1:
        raise Refused("%s: a weights file with %d buffers (1 expected)" % (name, nbuffers))
    if kind == 1 and nbuffers - 1 not in STATE:
        raise Refused("%s: a checkpoint of %d buffers: no optimizer keeps %d state buffers" %
                      (name, nbuffers, nbuffers - 1))
    if kind == 1 and not 0 <= step < 2**63 - 1:
        raise Refused("%s: the checkpoint's step counter is out of range: %d" % (name, step))
    end = HEADER + nbuffers * count * elem_size
    if len(data) < end + CRC:
        raise Refused("%s: the file is truncated: %d bytes, the %d buffers of %d parameters "
                      "need %d" % (name, len(data), nbuffers, count, end + CRC))
    buffers = [data[HEADER + b * count * elem_size:HEADER + (b + 1) * count * elem_size]
               for b in range(nbuffers)]
    sections, at = [], end
    if version == 2:
        if len(data) < at + 8 + CRC:
            raise Refused("%s: the file is truncated: the section count is missing" % name)
        nsections = struct.unpack_from("<Q", data, at)[0]
        at += 8
        if nsections == 0:
            raise Refused("%s: a malformed or unknown section: version 2 without sections" % name)
        for _ in range(nsections):
            if len(data) < at + SECTION_HEAD + CRC:
                raise Refused("%s: the file is truncated in its sections" % name)
            sid, reserved, size = struct.unpack_from("<IIQ", data, at)
            at += SECTION_HEAD
            if reserved != 0 or size % 8:
                raise Refused("%s: a malformed or unknown section: id %d, reserved %d, size %d" %
                              (name, sid, reserved, size))
            if len(data) < at + size + CRC:
                raise Refused("%s: the file is truncated in section %d" % (name, sid))
            if any(sid == i for i, _ in sections):
                raise Refused("%s: a malformed or unknown section: id %d twice" % (name, sid))
            sections.append((sid, data[at:at + size]))
            at += size
    if len(data) > at + CRC:
        raise Refused("%s: unexpected bytes after the end of the data: %d bytes, %d expected" %
                      (name, len(data), at + CRC))
    stored = struct.unpack_from("<I", data, at)[0]
    if zlib.crc32(data[:at]) != stored:
        raise Refused("%s: checksum mismatch: the file is corrupt" % name)
    wf = WeightFile(kind, elem_size, count, fingerprint, step, buffers, sections)
    for sid, body in sections:
        if sid == STATS:
            check_stats(body, name)
        elif sid == SHAPE:
            wf.shape = text_of(body, "shape string", name)
        elif sid == TENSORS:
            wf.table = parse_table(text_of(body, "tensor table", name), count, name)
    return wf


def encode(kind, elem_size, count, fingerprint, step, buffers, sections):
    """The bytes of a weight file: the inverse of parse."""
    out = bytearray(MAGIC)
    out += struct.pack("<IIIIQQq", 2 if sections else 1, kind, elem_size, len(buffers), count,
                       fingerprint, step)
    for b in buffers:
        out += b
    if sections:
        out += struct.pack("<Q", len(sections))
        for sid, body in sections:
            out += struct.pack("<IIQ", sid, 0, len(body)) + body
    out += struct.pack("<I", zlib.crc32(out))
    return bytes(out)


def read_file(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Refused("%s: cannot open the file: %s" % (path, e.strerror))
    return parse(data, path)


def header_table(path, count):
    """The tensor table of a generated header: the strings of its NAME_TENSORS."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise Refused("%s: cannot read the header: %s" % (path, e))
    m = re.search(r'#define\s+\w+_TENSORS((?:,?\s*\\\n\s*"[^"\n]*")+)', text)
    if not m:
        raise Refused("%s: no NAME_TENSORS in it: a header generated by this bpc was expected" % path)
    return parse_table("".join(re.findall(r'"([^"\n]*)"', m.group(1))), count, path)


def table_of(wf, path, header):
    if wf.table is not None:
        return wf.table
    if header:
        return header_table(header, wf.count)
    raise Refused("%s: the file has no tensor table (written by NAME_save, or by a trainer older "
                  "than the table): pass --header NAME.h, the network's generated header" % path)


def write_atomic(path, write):
    """write(file) into PATH.tmp, renamed over PATH when all went well, as the runtime does."""
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise Refused("%s: cannot write the file: %s" % (e.filename or path, e.strerror))


def dtype_of(np, elem_size):
    return np.dtype("<f4" if elem_size == 4 else "<f8")


def array_names(table, nbuffers):
    """The arrays of a file: its parameters by the table's names, then a checkpoint's
    optimizer state, prefixed with PyTorch's name of it ("exp_avg/c1.weight")."""
    names = [(0, "", t) for t in table]
    for b, state in enumerate(STATE[nbuffers - 1], 1):
        names += [(b, state + "/", t) for t in table]
    return names


# ---- export ----

def cmd_export(np, args):
    wf = read_file(args.weights)
    table = table_of(wf, args.weights, args.header)
    dt = dtype_of(np, wf.elem_size)
    arrays = []
    for b, prefix, (name, shape, offset) in array_names(table, len(wf.buffers)):
        flat = np.frombuffer(wf.buffers[b], dtype=dt)
        arrays.append((prefix + name, flat[offset:offset + math.prod(shape)].reshape(shape)
                       .astype(dt.newbyteorder("="))))
    meta = {COMMENT_TAG: 1, "kind": wf.kind, "elem_size": wf.elem_size,
            "nbuffers": len(wf.buffers), "count": wf.count, "fingerprint": "%016x" % wf.fingerprint,
            "step": wf.step,
            "tensors": "".join("%s=%s@%d;" % (n, "x".join(map(str, s)), o) for n, s, o in table),
            "sections": [[sid, base64.b64encode(body).decode("ascii")] for sid, body in wf.sections]}
    comment = json.dumps(meta, separators=(",", ":")).encode("ascii")
    if len(comment) > ZIP_COMMENT_MAX:
        raise Refused("%s: its header and sections take %d bytes in the archive's comment, more "
                      "than the %d a .npz can hold" % (args.weights, len(comment), ZIP_COMMENT_MAX))

    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
            for name, a in arrays:
                with z.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, a, allow_pickle=False)
            z.comment = comment
    write_atomic(args.npz, write)
    extra = " and the standardization statistics" if wf.section(STATS) is not None else ""
    print("exported %d arrays%s of %s (%s) to %s" %
          (len(arrays), extra, args.weights, wf.describe(), args.npz))
    return 0


# ---- import ----

def read_npz(np, path):
    """The arrays of a .npz and the layout export put into its comment (None: none)."""
    try:
        with zipfile.ZipFile(path) as z:
            comment = z.comment
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except OSError as e:
        raise Refused("%s: cannot open the file: %s" % (path, e.strerror))
    except (zipfile.BadZipFile, ValueError) as e:
        raise Refused("%s: not a .npz file of arrays: %s" % (path, e))
    meta = None
    if comment:
        try:
            meta = json.loads(comment.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            meta = None
        if not isinstance(meta, dict) or meta.get(COMMENT_TAG) != 1:
            meta = None
    return arrays, meta


def layout_of_meta(meta, path):
    """The header fields and sections export recorded: checked again with the file's
    bytes before anything is written."""
    try:
        kind, elem_size, nbuffers, count, step = (int(meta[k]) for k in
                                                  ("kind", "elem_size", "nbuffers", "count", "step"))
        fingerprint = int(meta["fingerprint"], 16)
        sections = [(int(sid), base64.b64decode(body, validate=True)) for sid, body in meta["sections"]]
        tensors = str(meta["tensors"])
    except (KeyError, TypeError, ValueError) as e:
        raise Refused("%s: the layout in its comment is damaged (%s): import it with --like, "
                      "a weight file of the network" % (path, e))
    if elem_size not in TYPES or kind not in KINDS or nbuffers - 1 not in STATE or count < 0:
        raise Refused("%s: the layout in its comment is damaged: kind %d, element size %d, "
                      "%d buffers" % (path, kind, elem_size, nbuffers))
    table = None
    for sid, body in sections:
        if sid == TENSORS:
            table = parse_table(text_of(body, "tensor table", path), count, path)
    if table is None:
        table = parse_table(tensors, count, path)
    return kind, elem_size, nbuffers, count, fingerprint, step, sections, table


def fit(np, arrays, names, dt, count, nbuffers, source, network):
    """The buffers from the arrays, refused with every difference when names or shapes
    are not the network's."""
    want = {prefix + t[0]: t[1] for _, prefix, t in names}
    missing = [n for n in want if n not in arrays]
    unexpected = sorted(n for n in arrays if n not in want)
    wrong = ["%s is %s in %s, %s in the network" % (n, "x".join(map(str, arrays[n].shape)) or
                                                     "a scalar", source, "x".join(map(str, want[n])))
             for n in want if n in arrays and arrays[n].shape != want[n]]
    notfloat = ["%s holds %s values" % (n, arrays[n].dtype) for n in want
                if n in arrays and arrays[n].dtype.kind != "f"]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected " + ", ".join(unexpected))
    problems += wrong + notfloat
    if problems:
        raise Refused("%s does not fit %s: %s" % (source, network, "; ".join(problems)))
    buffers = [np.empty(count, dtype=dt) for _ in range(nbuffers)]
    rounded = set()
    for b, prefix, (name, shape, offset) in names:
        a = arrays[prefix + name]
        if a.dtype.itemsize > dt.itemsize:
            rounded.add(str(a.dtype))
        buffers[b][offset:offset + math.prod(shape)] = a.reshape(-1).astype(dt)
    return [buf.tobytes() for buf in buffers], rounded


def cmd_import(np, args):
    arrays, meta = read_npz(np, args.npz)
    template = args.like or (None if meta else args.weights)
    notes = []
    if template:
        if not args.like and not os.path.exists(template):
            raise Refused("%s holds no layout of a bpc network (it was not written by bpweights "
                          "export) and %s does not exist: pass --like T, a weight file of the "
                          "network" % (args.npz, template))
        t = read_file(template)
        if t.kind != 0:
            raise Refused("%s: the file is a checkpoint, a weights file was expected as the "
                          "network's layout" % template)
        table = table_of(t, template, args.header)
        sections = [(sid, body) for sid, body in t.sections if not (args.no_stats and sid == STATS)]
        if any(sid == STATS for sid, _ in sections):
            notes.append("with the standardization statistics of %s (--no-stats drops them)" % template)
        kind, elem_size, nbuffers, count, fingerprint, step = 0, t.elem_size, 1, t.count, t.fingerprint, 0
        network = "the network of %s (%s)" % (template, t.describe())
    else:
        kind, elem_size, nbuffers, count, fingerprint, step, sections, table = layout_of_meta(meta, args.npz)
        if args.no_stats:
            sections = [(sid, body) for sid, body in sections if sid != STATS]
        network = "the network it was exported from (%s, %s)" % (KINDS[kind], TYPES[elem_size])
    dt = dtype_of(np, elem_size)
    buffers, rounded = fit(np, arrays, array_names(table, nbuffers), dt, count, nbuffers,
                               args.npz, network)
    if rounded:
        notes.append("%s values rounded to %s" % (" and ".join(sorted(rounded)), TYPES[elem_size]))
    data = encode(kind, elem_size, count, fingerprint, step, buffers, sections)
    parse(data, args.npz)  # never write a file the runtime would refuse
    write_atomic(args.weights, lambda f: f.write(data))
    print("imported %d arrays of %s into %s (%s)%s" % (len(arrays), args.npz, args.weights,
                                                       KINDS[kind] + ", " + TYPES[elem_size],
                                                       "".join("; " + n for n in notes)))
    return 0


# ---- main ----

def main(argv):
    p = argparse.ArgumentParser(
        prog="bpweights",
        description="Converts bpc weight files to NumPy's .npz and back, the arrays named and "
                    "shaped as PyTorch's state_dict (LABEL.weight, LABEL.bias). docs/WEIGHTS.md "
                    "describes both directions.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    e = sub.add_parser("export", help="a weight file or checkpoint to a .npz",
                       description="Writes one array per parameter tensor (a checkpoint's "
                                   "optimizer state too, as exp_avg/LABEL.weight and the like); "
                                   "the rest of the file goes into the archive's comment, so "
                                   "that import gives it back byte for byte.")
    e.add_argument("weights", metavar="W", help="the bpc weight file")
    e.add_argument("npz", metavar="OUT.npz", help="the archive to write")
    e.add_argument("--header", metavar="NAME.h",
                   help="the network's generated header, for the names of a file without a "
                        "tensor table (written by NAME_save)")
    i = sub.add_parser("import", help="a .npz to a weight file",
                       description="Writes W from the arrays of IN.npz, whose names and shapes "
                                   "must be the network's: that of T with --like, else the one "
                                   "the .npz was exported from, else (np.savez of a state_dict) "
                                   "that of W as it is.")
    i.add_argument("npz", metavar="IN.npz", help="the archive to read")
    i.add_argument("weights", metavar="W", help="the bpc weight file to write")
    i.add_argument("--like", metavar="T",
                   help="a weights file of the network: its layout, sections and statistics")
    i.add_argument("--header", metavar="NAME.h",
                   help="the network's generated header, when T has no tensor table")
    i.add_argument("--no-stats", action="store_true",
                   help="leave the standardization statistics out of W")
    args = p.parse_args(argv)
    try:
        import numpy as np
    except ImportError:
        print("bpweights: NumPy is needed (Debian's python3-numpy; make deps-python installs it)",
              file=sys.stderr)
        return 1
    try:
        return cmd_export(np, args) if args.command == "export" else cmd_import(np, args)
    except Refused as err:
        print("bpweights: %s" % err, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

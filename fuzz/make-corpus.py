#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpus, fuzz/corpus/<target>/: a few small
valid files per format and a few that are wrong in the ways real files are
(cut short, trailing bytes, a field out of range). Only the standard
library; every file is written here, byte by byte, and rerunning the script
gives the same bytes. tools/run-fuzz copies the corpus before a run, so
what the fuzzer finds never lands here."""
import gzip
import json
import os
import shutil
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


def gz(data):
    # mtime 0: the same bytes on every run
    return gzip.compress(data, compresslevel=9, mtime=0)


# ---- IDX: images, then (optionally) labels in the same input ----

def idx(ndim_dims, payload):
    head = bytes([0, 0, 0x08, len(ndim_dims)])
    head += b"".join(struct.pack(">I", d) for d in ndim_dims)
    return head + bytes(payload)


def make_idx():
    pixels = [(i * 37) % 256 for i in range(3 * 4 * 5)]
    images = idx([3, 4, 5], pixels)
    labels = idx([3], [2, 0, 1])
    write("idx", "pair", images + labels)
    write("idx", "images-only", images)
    write("idx", "one-pixel", idx([1, 1, 1], [255]))
    write("idx", "gzipped", gz(idx([2, 3, 3], range(18))))
    write("idx", "label-count-mismatch", images + idx([2], [0, 1]))
    write("idx", "truncated", images[:-7])
    write("idx", "header-only", idx([0, 28, 28], []))


# ---- CIFAR: records of a label byte (two for CIFAR-100) + 3072 pixels ----

def cifar_record(labels, seed):
    pixels = bytes((seed * 31 + i * 7) % 256 for i in range(3072))
    return bytes(labels) + pixels


def make_cifar():
    write("cifar", "cifar10-one", cifar_record([3], 1))
    write("cifar", "cifar100-one", cifar_record([7, 42], 2))
    write("cifar", "cifar10-two-gzipped",
          gz(cifar_record([0], 5) + cifar_record([8], 6)))
    write("cifar", "cifar10-bad-label", cifar_record([10], 3))
    # one record and a few bytes: neither record size divides it
    write("cifar", "cifar10-trailing", cifar_record([9], 4) + b"\0\0\0")


# ---- images ----

def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(
        ">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width, height, colour_type, rows, palette=None):
    """rows: the raw scanlines, each without its filter byte."""
    depth = 8
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    raw = b"".join(b"\0" + bytes(r) for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    if palette:
        out += png_chunk(b"PLTE", bytes(palette))
    out += png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    return out


def bmp24(width, height):
    row = bytearray()
    for x in range(width):
        row += bytes([x * 60 % 256, 128, 255 - x * 60 % 256])
    row += b"\0" * ((4 - len(row) % 4) % 4)
    pixels = bytes(row) * height
    header = b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0,
                       len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def gif_2x2():
    # GIF89a, 2x2, a 2-colour global table, one image of LZW minimum code
    # size 2: clear (4), indices 0 1 1 0, end (5), packed LSB first
    screen = b"GIF89a" + struct.pack("<HHBBB", 2, 2, 0x80, 0, 0)
    table = bytes([0, 0, 0, 255, 255, 255])
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 2, 2, 0)
    codes = [4, 0, 1, 1, 0, 5]
    bits, nbits, data = 0, 0, bytearray()
    size = 3
    for i, c in enumerate(codes):
        bits |= c << nbits
        nbits += size
        while nbits >= 8:
            data.append(bits & 0xFF)
            bits >>= 8
            nbits -= 8
    if nbits:
        data.append(bits & 0xFF)
    return screen + table + image + bytes([2, len(data)]) + bytes(data) \
        + b"\0" + b"\x3b"


class BitWriter:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, code, length):
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((code >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)   # byte stuffing
                self.acc = self.n = 0

    def flush(self):
        while self.n:
            self.put(1, 1)   # pad with ones
        return bytes(self.out)


def jpeg_flat(width, height, values):
    """A baseline JPEG of flat 8x8 blocks, one value per component (as
    Y, Cb, Cr or grey): each block's DC coefficient alone, the AC ones all
    zero (end of block at once). Quantisation tables of ones; Huffman
    tables holding just the symbols used."""
    ncomp = len(values)
    # the flat block's DC coefficient is 8 (v - 128); its category is the
    # number of bits of its magnitude
    dcs = [8 * (v - 128) for v in values]

    def category(x):
        return abs(x).bit_length()

    out = b"\xff\xd8"
    out += b"\xff\xdb" + struct.pack(">HB", 67, 0) + bytes([1] * 64)
    sof = struct.pack(">BHHB", 8, height, width, ncomp)
    for c in range(ncomp):
        sof += bytes([c + 1, 0x11, 0])
    out += b"\xff\xc0" + struct.pack(">H", 2 + len(sof)) + sof
    # DC table 0: symbol 0 and the categories used, codes of one length
    symbols = sorted({0} | {category(d) for d in dcs})
    length = max(1, (len(symbols)).bit_length())
    counts = [0] * 16
    counts[length - 1] = len(symbols)
    dht = bytes([0x00]) + bytes(counts) + bytes(symbols)
    # AC table 0: end of block only
    dht += bytes([0x10]) + bytes([1] + [0] * 15) + bytes([0x00])
    out += b"\xff\xc4" + struct.pack(">H", 2 + len(dht)) + dht
    sos = bytes([ncomp])
    for c in range(ncomp):
        sos += bytes([c + 1, 0x00])
    sos += bytes([0, 63, 0])
    out += b"\xff\xda" + struct.pack(">H", 2 + len(sos)) + sos
    bw = BitWriter()
    previous = [0] * ncomp
    for _ in range(((height + 7) // 8) * ((width + 7) // 8)):
        for c in range(ncomp):
            diff = dcs[c] - previous[c]
            previous[c] = dcs[c]
            cat = category(diff)
            bw.put(symbols.index(cat), length)
            if cat:
                bw.put(diff if diff > 0 else diff + (1 << cat) - 1, cat)
            bw.put(0, 1)   # end of block
    return out + bw.flush() + b"\xff\xd9"


def tiff_rgb(width, height):
    pixels = bytes((x * 80 + y * 40) % 256 for y in range(height)
                   for x in range(width) for _ in range(3))
    entries = [
        (256, 3, 1, width), (257, 3, 1, height), (258, 3, 1, 8),
        (259, 3, 1, 1), (262, 3, 1, 2), (273, 4, 1, 0), (277, 3, 1, 3),
        (278, 3, 1, height), (279, 4, 1, len(pixels)),
    ]
    ifd_at = 8
    data_at = ifd_at + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if tag == 273:
            value = data_at
        if kind == 3:
            ifd += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            ifd += struct.pack("<HHII", tag, kind, count, value)
    ifd += struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", ifd_at) + ifd + pixels


def make_image():
    rows = [sum(([x * 50 % 256, y * 80 % 256, 128] for x in range(4)), [])
            for y in range(3)]
    write("image", "rgb-4x3.png", png(4, 3, 2, rows))
    grey_alpha = [sum(([x * 100, 255 - y * 60] for x in range(3)), [])
                  for y in range(3)]
    write("image", "grey-alpha-3x3.png", png(3, 3, 4, grey_alpha))
    write("image", "palette-2x2.png",
          png(2, 2, 3, [[0, 1], [1, 0]], palette=[255, 0, 0, 0, 0, 255]))
    whole = png(4, 3, 2, rows)
    write("image", "cut-short.png", whole[:-20])
    write("image", "rgb-3x2.bmp", bmp24(3, 2))
    write("image", "2x2.gif", gif_2x2())
    write("image", "grey-16x8.jpg", jpeg_flat(16, 8, [160]))
    write("image", "colour-8x8.jpg", jpeg_flat(8, 8, [100, 140, 90]))
    write("image", "rgb-2x2.tif", tiff_rgb(2, 2))
    write("image", "2x2.ppm", b"P6\n2 2\n255\n" + bytes(range(0, 240, 20)))
    write("image", "3x2.pgm", b"P5 3 2 255\n" + bytes([0, 60, 120, 180, 240, 30]))
    write("image", "2x2.xpm",
          '/* XPM */\nstatic char *x[] = {\n"2 2 2 1",\n'
          '"a c #ff0000",\n"b c #0000ff",\n"ab",\n"ba"};\n')
    write("image", "8x2.xbm",
          "#define x_width 8\n#define x_height 2\n"
          "static unsigned char x_bits[] = {\n   0x0f, 0xf0};\n")
    # TGA: uncompressed true colour, 2x1, BGR
    write("image", "2x1.tga",
          struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 2, 1, 24, 0)
          + bytes([0, 0, 255, 255, 0, 0]))
    write("image", "square.svg",
          '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">'
          '<rect width="2" height="4" fill="#08f"/></svg>\n')


# ---- safetensors ----

def safetensors(tensors, metadata=None, pad=True):
    """tensors: (name, dtype, shape, data bytes) in file order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    at = 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [at, at + len(data)]}
        at += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(
        t[3] for t in tensors)


def make_safetensors():
    f32 = struct.pack("<6f", 0.5, -1.0, 2.0, 0.0, 1e-3, 3.25)
    i64 = struct.pack("<2q", 7, -1)
    write("safetensors", "two-tensors",
          safetensors([("conv1.weight", "F32", [2, 3], f32),
                        ("iteration", "I64", [2], i64)],
                       {"format": "pt", "config": "[training]\nmodel=small\n"}))
    write("safetensors", "scalar-and-empty",
          safetensors([("nce_z", "F32", [], struct.pack("<f", -1.0)),
                        ("empty", "F32", [0, 4], b"")]))
    write("safetensors", "metadata-only", safetensors([], {"epoch": "3"}))
    whole = safetensors([("w", "F32", [2, 3], f32)])
    write("safetensors", "truncated", whole[:-5])
    write("safetensors", "unsupported-dtype",
          safetensors([("h", "F16", [2], b"\0\x3c\0\x3c")]))
    write("safetensors", "escapes",
          safetensors([("caf\u00e9 \"\\u\"", "I64", [1], struct.pack("<q", 1))],
                       {"note": "line\nbreak \U0001F600"}))


# ---- npy ----

def npy(descr, shape, data, version=1):
    shape_text = "(" + ", ".join(str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"
    text = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (
        descr, shape_text)
    prefix = 10 if version == 1 else 12
    pad = (64 - (prefix + len(text) + 1) % 64) % 64
    text = (text + " " * pad + "\n").encode()
    if version == 1:
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text))
    else:
        head = b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text))
    return head + text + data


def make_npy():
    write("npy", "f32-3x4", npy("<f4", [3, 4],
                                struct.pack("<12f", *[i / 4 for i in range(12)])))
    write("npy", "i32-5", npy("<i4", [5], struct.pack("<5i", 0, 1, 2, -1, 9)))
    write("npy", "empty-0x8", npy("<f4", [0, 8], b""))
    write("npy", "version2", npy("<i4", [2, 1], struct.pack("<2i", 3, 4), 2))
    write("npy", "big-endian", npy(">f4", [2], struct.pack(">2f", 1, 2)))
    write("npy", "short-data", npy("<f4", [4], struct.pack("<3f", 1, 2, 3)))


# ---- config.ini: as a run writes it, and as people edit it ----

CONFIG = """[training]
model=small
low_dim=128
objective=softmax
nce_k=4096
nce_z=fixed
tau=0.10000000149011612
bank_momentum=0.5
bank_init=features
lr=0.029999999329447746
momentum=0.89999997615814209
weight_decay=0.00050000002374872565
schedule=cosine
lr_drops=120;160;
lr_drop_factor=0.10000000149011612
warmup_epochs=0
batch_size=128
epochs=15
seed=1
crop_scale_min=0.20000000298023224
crop_scale_max=1
jitter=0.40000000596046448
proximal=0

[data]
spec=fashion-mnist
name=fashion-mnist/train
image_size=32
n_train=60000
"""


def make_config():
    write("config", "as-written.ini", CONFIG)
    write("config", "nce-hand-edited.ini",
          "# by hand\n[training]\nobjective = nce\nnce_z = ema\n"
          "model = resnet18\nlr_drops = \nschedule = step\n\n"
          "[data]\nspec = /data/cifar-10-batches-bin\n")
    write("config", "bad-choice.ini", "[training]\nmodel=huge\n")
    write("config", "bad-number.ini", "[training]\ntau=0.1x\nseed=-1\n")
    write("config", "many-drops.ini",
          "[training]\nlr_drops=1;2;3;4;5;6;7;8;9;\n")
    write("config", "empty.ini", "")


# ---- metrics.csv ----

HEADER = ("kind,iteration,epoch,loss,lr,images_per_s,knn_top1,knn_top5,"
          "knn_1nn,knn_top1_recomputed,knn_top5_recomputed,linear_top1,"
          "linear_top5,wall_s")


def make_metrics():
    write("metrics", "softmax.csv",
          HEADER + "\n"
          "eval,0,0,,,,69,98.57,72.97,69,98.57,,,0.000\n"
          "pixels,0,0,,,,81.78,99.63,85.64,,,,,0.000\n"
          "step,1,1,11.0215,0.03,218.525,,,,,,,,0.586\n"
          "step,2,1,11.3216,0.0299997,218.495,,,,,,,,1.172\n"
          "eval,468,1,,,,80.1,99.0,83.2,80.4,99.1,81.0,99.2,120.5\n")
    write("metrics", "nce-extras.csv",
          "kind,iteration,epoch,loss,lr,nce_z,nce_z_estimate,p_positive,"
          "wall_s\nstep,1,1,8.5,0.03,1.2e5,1.19e5,0.001,0.5\n"
          "step,2,1,8.4,0.03,1.2e5,nan,0.002,1.0\n")
    write("metrics", "crlf-and-half-row.csv",
          HEADER.replace(",", " , ") + "\r\nstep,1,1,2.5,0.03,100,,,,,,,,0.1"
          "\r\nstep,2,1,2.4,0.03,1")
    write("metrics", "short-row-then-row.csv",
          HEADER + "\nstep,1,1,2.5,0.03step,2,1,2.4,0.03,100,,,,,,,,0.2\n"
          "step,3,1,2.3,0.03,100,,,,,,,,0.3\n")
    write("metrics", "many-extras.csv",
          "kind,a,b,c,d,e,f,g,h,,wall_s\nstep,1,2,3,4,5,6,7,8,9,10\n")


# ---- files.txt: as a run on an image folder writes it (the target's data
# folder holds cat/001.png, cat/002.png, dog/001.png and dog/notes.png) ----

def make_filelist():
    t = "1716041234.503917021"
    write("filelist", "as-written.txt",
          "instdisc-files 1\n"
          "channels\ttrain\t3\nchannels\ttest\t3\n"
          "class\tcat\nclass\tdog\n"
          f"train\tok\t0\t11\t{t}\tcat/001.png\n"
          f"train\tok\t1\t2290\t{t}\tdog/001.png\n"
          f"train\tskipped\t-1\t10\t{t}\tdog/notes.png\n"
          f"test\tok\t0\t11\t{t}\tcat/002.png\n"
          "end\t4\n")
    write("filelist", "grey-unlabelled.txt",
          "instdisc-files 1\n"
          "channels\ttrain\t1\n"
          "stats\ttrain\t0.443130165\t0.293774873\n"
          f"train\tok\t-1\t11\t{t}\tcat/001.png\n"
          f"train\tunreadable\t-1\t11\t{t}\tcat/002.png\n"
          f"train\tok\t-1\t5\t{t}\tgone.png\n"
          "end\t3\n")
    write("filelist", "escapes.txt",
          "instdisc-files 1\n"
          "channels\ttrain\t3\n"
          "class\tcaf\xc3\xa9 %25\n"
          f"train\tok\t0\t11\t-5.000000000\tcaf\xc3\xa9 %25/a%09b.png\n"
          "end\t1\n")
    write("filelist", "cut-short.txt",
          "instdisc-files 1\n"
          "channels\ttrain\t3\n"
          f"train\tok\t-1\t11\t{t}\tcat/001.png\n")
    write("filelist", "bad-size.txt",
          "instdisc-files 1\n"
          "channels\ttrain\t3\n"
          f"train\tok\t-1\televen\t{t}\tcat/001.png\n"
          "end\t1\n")
    write("filelist", "other-version.txt", "instdisc-files 2\nend\t0\n")


def main():
    makers = {"idx": make_idx, "cifar": make_cifar, "image": make_image,
              "safetensors": make_safetensors, "npy": make_npy,
              "config": make_config, "metrics": make_metrics,
              "filelist": make_filelist}
    for target, make in makers.items():
        folder = os.path.join(ROOT, target)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        make()


if __name__ == "__main__":
    main()

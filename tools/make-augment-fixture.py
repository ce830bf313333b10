#!/usr/bin/python3
"""make-augment-fixture.py: what torchvision (on PIL images) computes for
each step of the training augmentation with FIXED parameters, written as a
fixture that tests/data/test-augment-parity.c checks src/data/augment.c
against.

Inputs: a seeded 3x32x32 colour image, a seeded 1x28x28 grey one and the
first image of Fashion-MNIST's training set. Operations, as torchvision
0.14's transforms call them on PIL images:
  resized_crop (bilinear, antialias: what RandomResizedCrop does), several
  boxes incl. non-square ones, upscaling and non-square outputs;
  adjust_brightness / contrast / saturation / hue at several factors;
  rgb_to_grayscale (num_output_channels=3); hflip; to_tensor + normalize;
  and whole transforms (crop, jitter in a given order, grey, flip, tensor)
  as the presets compose them. Every factor is a float32 value (the C side
  keeps float32 parameters), so both sides see the same number.

The fixture is a GLib key file (tests/fixtures/augment-parity.ini): one
group per input and per case; arrays are (C, H, W) in C order, base64 of
uint8 bytes or little-endian float32. GLib reads it with no other library.

Run from anywhere with Debian's python3-torchvision:
    /usr/bin/python3 tools/make-augment-fixture.py
Rerunning gives the same bytes. With --stats N it instead prints the
distributions of N draws of RandomResizedCrop.get_params and
ColorJitter.get_params (for docs/data.md; the C side is
`test-data-augment-parity -m perf`).
"""

import base64
import gzip
import os
import sys

import numpy as np
import PIL
from PIL import Image
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "augment-parity.ini")
FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FASHION_MEAN = (0.2860,)
FASHION_STD = (0.3530,)

STEP_NAMES = ("brightness", "contrast", "saturation", "hue")


def f32(x):
    """x as the nearest float32, back as a Python float"""
    return float(np.float32(x))


# ---- inputs --------------------------------------------------------------

def smooth_image(rng, channels, size):
    """gradients, waves and a few flat patches (saturated, grey, black,
    white) plus noise: natural enough for resampling, with the corner cases
    of the colour steps (clipping, grey pixels, pure hues)"""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / (size - 1)
    planes = []
    for c in range(channels):
        a, b, p = rng.uniform(0.5, 3.0, 3)
        v = (0.5 + 0.3 * np.sin(2 * np.pi * (a * xx + b * yy) + p)
             + 0.25 * (xx - yy) * (c - 1))
        planes.append(v)
    img = np.stack(planes) * 255 + rng.normal(0, 12, (channels, size, size))
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    q = size // 8
    if channels == 3:
        img[:, 0:q, 0:q] = np.array([255, 0, 0], np.uint8)[:, None, None]
        img[:, 0:q, q:2 * q] = np.array([0, 255, 0], np.uint8)[:, None, None]
        img[:, 0:q, 2 * q:3 * q] = np.array([0, 0, 255], np.uint8)[:, None, None]
        img[:, q:2 * q, 0:q] = 128                         # grey
        img[:, q:2 * q, q:2 * q] = np.array([250, 240, 10], np.uint8)[:, None, None]
    img[:, -q:, -q:] = 255
    img[:, -q:, -2 * q:-q] = 0
    return img


def fashion_image(index=0):
    with gzip.open(FASHION, "rb") as f:
        raw = f.read()
    assert int.from_bytes(raw[0:4], "big") == 0x803
    n, h, w = (int.from_bytes(raw[4 * k:4 * k + 4], "big") for k in (1, 2, 3))
    off = 16 + index * h * w
    return np.frombuffer(raw[off:off + h * w], np.uint8).reshape(1, h, w).copy()


def to_pil(chw):
    if chw.shape[0] == 1:
        return Image.fromarray(chw[0], "L")
    return Image.fromarray(np.ascontiguousarray(chw.transpose(1, 2, 0)), "RGB")


def from_pil(img):
    a = np.asarray(img, dtype=np.uint8)
    return a[None].copy() if a.ndim == 2 else a.transpose(2, 0, 1).copy()


# ---- the operations, as torchvision calls them -------------------------

def resized_crop(img, top, left, height, width, size):
    return F.resized_crop(img, top, left, height, width, list(size),
                          InterpolationMode.BILINEAR, antialias=True)


def jitter_step(img, step, factor):
    return [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation,
            F.adjust_hue][step](img, factor)


def grayscale(img):
    # RandomGrayscale: three channels in, three out
    return F.rgb_to_grayscale(img, num_output_channels=3)


def to_normalised(img, mean, std):
    return F.normalize(F.to_tensor(img), list(mean), list(std)).numpy()


def composite(img, box, size, order, factors, grey, grey_first, flip, mean,
              std):
    """RandomResizedCrop, (grey,) ColorJitter in `order`, (grey,) flip,
    ToTensor, Normalize: the presets' Compose with its draws fixed"""
    img = resized_crop(img, *box, (size, size))
    if grey and grey_first:
        img = grayscale(img)
    for step in order:
        img = jitter_step(img, step, factors[step])
    if grey and not grey_first:
        img = grayscale(img)
    if flip:
        img = F.hflip(img)
    return to_normalised(img, mean, std)


# ---- the key file --------------------------------------------------------

def b64(arr):
    if arr.dtype == np.uint8:
        data = arr.tobytes()
    else:
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
    return base64.b64encode(data).decode("ascii")


def ints(v):
    return ";".join(str(int(x)) for x in v)


def floats(v):
    return ";".join(repr(float(x)) for x in v)


class Fixture:
    def __init__(self):
        self.lines = []
        self.n_cases = 0

    def group(self, name, **keys):
        self.lines.append(f"[{name}]")
        for k, v in keys.items():
            self.lines.append(f"{k}={v}")
        self.lines.append("")

    def case(self, op, input_name, out, **keys):
        dtype = "u8" if out.dtype == np.uint8 else "f32"
        self.group(f"case {self.n_cases:03d}", op=op, input=input_name,
                   **keys, out_dtype=dtype, out_shape=ints(out.shape),
                   out=b64(out))
        self.n_cases += 1


def make_fixture():
    rng = np.random.default_rng(20240607)
    inputs = {
        "rgb32": smooth_image(rng, 3, 32),
        "grey28": smooth_image(rng, 1, 28),
        "fashion0": fashion_image(0),
    }
    fx = Fixture()
    fx.lines += [
        "# Written by tools/make-augment-fixture.py: torchvision's transforms",
        "# on PIL images with fixed parameters, for tests/data/test-augment-parity.c.",
        "# Arrays are (C, H, W), base64 of uint8 or little-endian float32.",
        "",
    ]
    fx.group("fixture", torchvision=torchvision.__version__,
             pillow=PIL.__version__, numpy=np.__version__,
             inputs=";".join(inputs))
    for name, arr in inputs.items():
        fx.group(f"input {name}", shape=ints(arr.shape), data=b64(arr))

    # resized_crop: (top, left, height, width) -> (out h, out w)
    boxes = {
        "rgb32": [((3, 5, 20, 26), (32, 32)),     # non-square, upscaled
                  ((0, 0, 32, 32), (24, 24)),     # whole image down
                  ((10, 12, 8, 8), (32, 32)),     # 4x up
                  ((2, 1, 29, 17), (32, 32)),     # tall, up in x only
                  ((1, 0, 30, 32), (16, 20))],    # non-square output, down
        "grey28": [((4, 2, 14, 20), (28, 28)),
                   ((0, 0, 28, 28), (20, 20)),
                   ((9, 9, 6, 6), (28, 28))],
        "fashion0": [((0, 0, 28, 28), (28, 28)),
                     ((4, 2, 14, 20), (28, 28)),
                     ((0, 0, 28, 28), (20, 20)),
                     ((3, 6, 22, 17), (28, 28)),
                     ((9, 9, 6, 6), (28, 28))],
    }
    for name, cases in boxes.items():
        pil = to_pil(inputs[name])
        for box, size in cases:
            out = from_pil(resized_crop(pil, *box, size))
            fx.case("resized_crop", name, out, box=ints(box), size=ints(size))

    factors = {
        "brightness": [0.6, 1.33, 2.0],
        "contrast": [0.6, 1.25, 1.4],
        "saturation": [0.0, 0.6, 1.4],
        "hue": [-0.4, 0.0, 0.23, 0.4, 0.5],
    }
    for name, arr in inputs.items():
        pil = to_pil(arr)
        colour = arr.shape[0] == 3
        for step, op in enumerate(STEP_NAMES):
            if not colour and step >= 2:
                continue   # identity on "L" images; augment skips them too
            if not colour and name == "grey28":
                continue   # one grey input is enough here
            for f in factors[op]:
                f = f32(f)
                out = from_pil(jitter_step(pil, step, f))
                fx.case(op, name, out, factor=repr(f))
        if colour:
            fx.case("grayscale", name, from_pil(grayscale(pil)))
        fx.case("hflip", name, from_pil(F.hflip(pil)))
        mean, std = ((CIFAR_MEAN, CIFAR_STD) if colour
                     else (FASHION_MEAN, FASHION_STD))
        mean, std = [f32(m) for m in mean], [f32(s) for s in std]
        fx.case("normalize", name, to_normalised(pil, mean, std),
                mean=floats(mean), std=floats(std))

    # whole transforms with their draws fixed
    composites = [
        # CIFAR preset: jitter then grey, no flip
        ("rgb32", (5, 3, 22, 27), 32, (3, 0, 2, 1), (1.2, 0.7, 1.3, -0.15),
         False, False, False, CIFAR_MEAN, CIFAR_STD),
        ("rgb32", (8, 8, 16, 16), 32, (2, 3, 1, 0), (0.75, 1.35, 0.62, 0.38),
         True, False, True, CIFAR_MEAN, CIFAR_STD),
        # ImageNet preset: grey before jitter, flip, a downscaling crop
        ("rgb32", (0, 4, 32, 25), 24, (1, 2, 0, 3), (0.8, 1.3, 0.65, 0.3),
         True, True, True, IMAGENET_MEAN, IMAGENET_STD),
        # Fashion-MNIST preset: brightness and contrast only, flip
        ("fashion0", (2, 5, 20, 15), 28, (1, 0), (1.25, 0.7, 1.0, 0.0),
         False, False, True, FASHION_MEAN, FASHION_STD),
        ("grey28", (0, 0, 28, 28), 28, (0, 1), (0.66, 1.38, 1.0, 0.0),
         False, False, False, FASHION_MEAN, FASHION_STD),
    ]
    for (name, box, size, order, fac, grey, grey_first, flip, mean,
         std) in composites:
        fac = [f32(f) for f in fac]
        mean, std = [f32(m) for m in mean], [f32(s) for s in std]
        out = composite(to_pil(inputs[name]), box, size, order, fac, grey,
                        grey_first, flip, mean, std)
        fx.case("composite", name, out.astype(np.float32), box=ints(box),
                size=str(size), order=ints(order), factors=floats(fac),
                grayscale=str(int(grey)), grayscale_first=str(int(grey_first)),
                flip=str(int(flip)), mean=floats(mean), std=floats(std))

    fx.lines[-1:] = []   # no blank line at the end
    fx.group("fixture-end", n_cases=str(fx.n_cases))
    text = "\n".join(fx.lines)
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, OUT)
    print(f"{OUT}: {fx.n_cases} cases, {len(text)} bytes")


# ---- parameter distributions ---------------------------------------------

def stats(n):
    torch.manual_seed(0)
    img = Image.new("RGB", (32, 32))
    scale, ratio = (0.2, 1.0), (3.0 / 4.0, 4.0 / 3.0)
    frac, logr, ws, hs = [], [], [], []
    for _ in range(n):
        i, j, h, w = T.RandomResizedCrop.get_params(img, scale, ratio)
        frac.append(w * h / 1024.0)
        logr.append(np.log(w / h))
        ws.append(w)
        hs.append(h)
    jit = T.ColorJitter(0.4, 0.4, 0.4, 0.4)
    fac = [[], [], [], []]
    first = np.zeros(4)
    for _ in range(n):
        order, b, c, s, h = T.ColorJitter.get_params(
            jit.brightness, jit.contrast, jit.saturation, jit.hue)
        for k, v in enumerate((b, c, s, h)):
            fac[k].append(v)
        first[int(order[0])] += 1
    q = (0.05, 0.25, 0.5, 0.75, 0.95)

    def line(name, v):
        v = np.asarray(v, np.float64)
        qs = " ".join(f"{x:.4f}" for x in np.quantile(v, q))
        print(f"{name:12s} mean {v.mean():.4f} sd {v.std():.4f} "
              f"q05/25/50/75/95 {qs}")

    print(f"torchvision {torchvision.__version__}, {n} draws, 32x32, "
          f"scale (0.2, 1), ratio (3/4, 4/3), jitter 0.4 x 4")
    line("area frac", frac)
    line("log(w/h)", logr)
    line("w", ws)
    line("h", hs)
    for k, name in enumerate(STEP_NAMES):
        line(name, fac[k])
    print("first step   " + " ".join(f"{x / n:.4f}" for x in first))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--stats":
        stats(int(sys.argv[2]))
    else:
        make_fixture()

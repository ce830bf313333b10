#!/usr/bin/python3
"""The peer of bench/bench-decode: the same two views of each image file
through PIL and torchvision, as the reference's ImageNet loader makes them,
on one core.

  bench-decode-pil.py [--size N] [--reps N] FILE...

Training view: PIL decode, convert('RGB'), RandomResizedCrop(size, scale
0.2-1), RandomGrayscale(0.2), ColorJitter(0.4, 0.4, 0.4, 0.4),
RandomHorizontalFlip, ToTensor, Normalize (ImageNet mean and std). Test
view: PIL decode, convert('RGB'), Resize(int(size * 256 / 224)),
CenterCrop(size), ToTensor, Normalize. Prints the same columns as
bench-decode: name, width x height, median milliseconds of each view over
--reps calls, peak resident memory in MiB.

A benchmark peer only: instdisc never needs Python, PIL or torchvision.
"""
import argparse
import os
import resource
import statistics
import time

import torch
import torchvision.transforms as T
from PIL import Image


def load_rgb(path):
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


def median_ms(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)

    normalize = T.Normalize(mean=[0.485, 0.456, 0.406],
                            std=[0.229, 0.224, 0.225])
    train = T.Compose([
        T.RandomResizedCrop(args.size, scale=(0.2, 1.0)),
        T.RandomGrayscale(p=0.2),
        T.ColorJitter(0.4, 0.4, 0.4, 0.4),
        T.RandomHorizontalFlip(),
        T.ToTensor(),
        normalize,
    ])
    test = T.Compose([
        T.Resize(int(args.size * 256 / 224)),
        T.CenterCrop(args.size),
        T.ToTensor(),
        normalize,
    ])

    with open("/proc/loadavg") as f:
        print("load average before:", f.read().strip())
    print("file\tpixels\ttrain_ms\ttest_ms\tpeak_mib")
    for path in args.files:
        with Image.open(path) as image:
            width, height = image.size
        train_ms = median_ms(lambda: train(load_rgb(path)), args.reps)
        test_ms = median_ms(lambda: test(load_rgb(path)), args.reps)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{os.path.basename(path)}\t{width}x{height}\t{train_ms:.1f}"
              f"\t{test_ms:.1f}\t{peak:.0f}", flush=True)
    with open("/proc/loadavg") as f:
        print("load average after:", f.read().strip())


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""bench-torch.py: the PyTorch side of the engine benchmark.

The same two models as bench/bench-engine.c (the reference CIFAR ResNet at
widths 64/128/256/512 and 16/32/64/128, one input channel, 28x28 images,
128-d L2-normalised output), the same training step (exact non-parametric
softmax against a random unit bank of 4096 rows at tau 0.1, backward, SGD
lr 0.03 momentum 0.9 weight decay 5e-4) at batch 128 and inference at batch
256. Prints the median images/s of several timed iterations after warm-up.

    /usr/bin/python3 tools/bench-torch.py [--model small|resnet18|both]
        [--threads N] [--iters N] [--warmup N] [--json]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import ResNet  # noqa: E402

TRAIN_BATCH = 128
INFER_BATCH = 256
BANK_ROWS = 4096
TAU = 0.1


MODELS = {
    "resnet18": (64, 128, 256, 512),
    "small": (16, 32, 64, 128),
}


def timed(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench(name, iters, warmup):
    torch.manual_seed(42)
    net = ResNet(MODELS[name])
    opt = torch.optim.SGD(net.parameters(), lr=0.03, momentum=0.9,
                          weight_decay=5e-4)
    images = torch.randn(INFER_BATCH, 1, 28, 28)
    train_images = images[:TRAIN_BATCH].contiguous()
    bank = F.normalize(torch.randn(BANK_ROWS, 128), dim=1)
    targets = torch.randint(0, BANK_ROWS, (TRAIN_BATCH,))

    def train_step():
        net.train()
        opt.zero_grad()
        feature = net(train_images)
        logits = feature @ bank.t() / TAU
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        opt.step()

    def infer():
        net.eval()
        with torch.no_grad():
            net(images)

    train = timed(train_step, iters, warmup)
    inference = timed(infer, iters, warmup)
    return {"model": name,
            "train_ms": 1e3 * train,
            "train_images_per_s": TRAIN_BATCH / train,
            "infer_ms": 1e3 * inference,
            "infer_images_per_s": INFER_BATCH / inference}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="both",
                        choices=["small", "resnet18", "both"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = ["resnet18", "small"] if args.model == "both" else [args.model]
    results = [bench(n, args.iters, args.warmup) for n in names]
    if args.json:
        print(json.dumps({"threads": args.threads, "torch": torch.__version__,
                          "models": results}))
        return
    print(f"torch {torch.__version__}, {args.threads} thread(s), "
          f"median of {args.iters}")
    print(f"{'model':9} {'mode':5} {'ms/step':>9} {'img/s':>9}")
    for r in results:
        print(f"{r['model']:9} {'train':5} {r['train_ms']:9.1f} "
              f"{r['train_images_per_s']:9.1f}")
        print(f"{r['model']:9} {'infer':5} {r['infer_ms']:9.1f} "
              f"{r['infer_images_per_s']:9.1f}")


if __name__ == "__main__":
    main()

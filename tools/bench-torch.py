#!/usr/bin/python3
"""bench-torch.py: the PyTorch side of the engine benchmark.

The same two models as bench/bench-engine.c (the reference CIFAR ResNet at
widths 64/128/256/512 and 16/32/64/128, one input channel, 28x28 images,
128-d L2-normalised output), the same training step (exact non-parametric
softmax against a random unit bank of 4096 rows at tau 0.1, backward, SGD
lr 0.03 momentum 0.9 weight decay 5e-4) at batch 128 and inference at batch
256. Prints the median images/s of several timed iterations after warm-up.
The ImageNet ResNets (resnet18-imagenet, resnet50-imagenet; "imagenet" for
both) run on 3x224x224 images at --imagenet-batch (32) in both passes, as
torchvision.models builds them (num_classes 128) with the reference's L2
normalisation; without torchvision, the restatement in reference.py.

    /usr/bin/python3 tools/bench-torch.py [--model small|resnet18|both|
        resnet18-imagenet|resnet50-imagenet|imagenet|all] [--threads N]
        [--iters N] [--warmup N] [--imagenet-batch N] [--json]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import ResNet, resnet18_imagenet, resnet50_imagenet  # noqa: E402

TRAIN_BATCH = 128
INFER_BATCH = 256
BANK_ROWS = 4096
TAU = 0.1


MODELS = {
    "resnet18": (64, 128, 256, 512),
    "small": (16, 32, 64, 128),
}
IMAGENET_MODELS = ("resnet18-imagenet", "resnet50-imagenet")
CHOICES = {
    "small": ["small"], "resnet18": ["resnet18"],
    "both": ["resnet18", "small"],
    "resnet18-imagenet": ["resnet18-imagenet"],
    "resnet50-imagenet": ["resnet50-imagenet"],
    "imagenet": list(IMAGENET_MODELS),
    "all": ["resnet18", "small", *IMAGENET_MODELS],
}


def imagenet_net(name):
    """torchvision's network when it is installed, else reference.py's"""
    try:
        import torchvision.models as tvm
    except ImportError:
        return (resnet18_imagenet if name == "resnet18-imagenet"
                else resnet50_imagenet)(3, 128), "reference.py"
    build = tvm.resnet18 if name == "resnet18-imagenet" else tvm.resnet50
    net = build(num_classes=128)

    class Normalized(torch.nn.Module):
        def __init__(self, body):
            super().__init__()
            self.body = body

        def forward(self, x):
            return F.normalize(self.body(x), dim=1)
    return Normalized(net), "torchvision"


def timed(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench(name, iters, warmup, imagenet_batch):
    torch.manual_seed(42)
    if name in IMAGENET_MODELS:
        net, source = imagenet_net(name)
        train_batch = infer_batch = imagenet_batch
        images = torch.randn(infer_batch, 3, 224, 224)
    else:
        net, source = ResNet(MODELS[name]), "reference.py"
        train_batch, infer_batch = TRAIN_BATCH, INFER_BATCH
        images = torch.randn(infer_batch, 1, 28, 28)
    opt = torch.optim.SGD(net.parameters(), lr=0.03, momentum=0.9,
                          weight_decay=5e-4)
    train_images = images[:train_batch].contiguous()
    bank = F.normalize(torch.randn(BANK_ROWS, 128), dim=1)
    targets = torch.randint(0, BANK_ROWS, (train_batch,))

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
    return {"model": name, "network_from": source,
            "train_batch": train_batch,
            "train_ms": 1e3 * train,
            "train_images_per_s": train_batch / train,
            "infer_batch": infer_batch,
            "infer_ms": 1e3 * inference,
            "infer_images_per_s": infer_batch / inference}


def peak_rss_mib():
    """the process's peak resident memory so far (Linux: ru_maxrss in kB)"""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="both", choices=list(CHOICES))
    parser.add_argument("--imagenet-batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # what the interpreter and torch's libraries hold before any network,
    # so the networks' own memory can be told from it
    start_rss_mib = peak_rss_mib()
    results = [bench(n, args.iters, args.warmup, args.imagenet_batch)
               for n in CHOICES[args.model]]
    if args.json:
        print(json.dumps({"threads": args.threads, "torch": torch.__version__,
                          "models": results, "peak_rss_mib": peak_rss_mib(),
                          "start_rss_mib": start_rss_mib}))
        return
    print(f"torch {torch.__version__}, {args.threads} thread(s), "
          f"median of {args.iters}")
    print(f"{'model':17} {'mode':5} {'batch':>5} {'ms/step':>9} {'img/s':>9}")
    for r in results:
        for mode in ("train", "infer"):
            print(f"{r['model']:17} {mode:5} {r[mode + '_batch']:5} "
                  f"{r[mode + '_ms']:9.1f} {r[mode + '_images_per_s']:9.1f}")
    print(f"peak memory {peak_rss_mib():.0f} MiB ({start_rss_mib:.0f} MiB "
          "before the first network)")


if __name__ == "__main__":
    main()

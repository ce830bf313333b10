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
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

TRAIN_BATCH = 128
INFER_BATCH = 256
BANK_ROWS = 4096
TAU = 0.1


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """The reference CIFAR ResNet with a 128-d normalised embedding."""

    def __init__(self, widths, in_channels=1, low_dim=128):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        layers, planes = [], widths[0]
        for s, width in enumerate(widths):
            blocks = []
            for i in range(2):
                stride = 2 if s > 0 and i == 0 else 1
                blocks.append(BasicBlock(planes, width, stride))
                planes = width
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.linear = nn.Linear(widths[3], low_dim)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4)
        out = self.linear(out.view(out.size(0), -1))
        return F.normalize(out, dim=1)


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

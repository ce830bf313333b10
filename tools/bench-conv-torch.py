#!/usr/bin/python3
"""bench-conv-torch.py: PyTorch's side of bench/bench-conv.c.

The same 3x3 stride-1 layer shapes of ResNet-18 and the small ResNet on
1x28x28 images (28x28, 14x14, 7x7 and 4x4 maps, each times its count in the
network), at the same batch, timed in the same three passes: the forward,
the input gradient and the weight gradient. The two gradients are
aten::convolution_backward with one output asked for each, the operator
autograd calls, so each pass runs the kernels a training step runs (oneDNN's
in Debian's PyTorch 1.13). Prints the median wall time of each pass over
rounds of timed iterations, its GFLOP/s (the direct convolution's FLOPs),
and the network's sum, like bench-conv.

    /usr/bin/python3 tools/bench-conv-torch.py [--model small|resnet18|both]
        [--batch 128] [--threads 2] [--rounds 3] [--iters 5] [--warmup 1]
"""
import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F

# (model, name, channels in, channels out, map side, count in the network),
# as bench/bench-conv.c's table
LAYERS = [
    ("resnet18", "layer1", 64, 64, 28, 4),
    ("resnet18", "layer2", 128, 128, 14, 3),
    ("resnet18", "layer3", 256, 256, 7, 3),
    ("resnet18", "layer4", 512, 512, 4, 3),
    ("small", "layer1", 16, 16, 28, 4),
    ("small", "layer2", 32, 32, 14, 3),
    ("small", "layer3", 64, 64, 7, 3),
    ("small", "layer4", 128, 128, 4, 3),
]
PASSES = ("forward", "input grad", "weight grad")


def median_ms(fn, rounds, iters, warmup):
    """the median over rounds of each round's median of iters calls"""
    for _ in range(warmup):
        fn()
    per_round = []
    for _ in range(rounds):
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        per_round.append(statistics.median(times))
    return 1e3 * statistics.median(per_round)


def bench_layer(layer, args):
    model, name, c, oc, hw, count = layer
    g = torch.Generator().manual_seed(1)
    x = torch.randn(args.batch, c, hw, hw, generator=g)
    w = torch.randn(oc, c, 3, 3, generator=g) * (2.0 / (9 * c)) ** 0.5
    dy = torch.randn(args.batch, oc, hw, hw, generator=g)

    def backward(mask):
        return torch.ops.aten.convolution_backward(
            dy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)

    passes = [
        lambda: F.conv2d(x, w, padding=1),
        lambda: backward([True, False, False]),
        lambda: backward([False, True, False]),
    ]
    flops = 2.0 * oc * c * 9 * hw * hw * args.batch
    print(f"{model:<8} {name:<6} {c:4d}->{oc:<4d} {hw:2d}x{hw:<2d}")
    ms = []
    with torch.no_grad():
        for label, fn in zip(PASSES, passes):
            t = median_ms(fn, args.rounds, args.iters, args.warmup)
            ms.append(t)
            print(f"  {label:<12} torch {t:8.2f} ms {flops / t / 1e6:7.1f} "
                  "GFLOP/s")
    return [count * t for t in ms]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="both",
                   choices=("small", "resnet18", "both"))
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    models = ["resnet18", "small"] if args.model == "both" else [args.model]
    print(f"torch conv benchmark: batch {args.batch}, {args.threads} "
          f"thread(s), torch {torch.__version__}, median of {args.rounds} "
          f"rounds x {args.iters} iterations (after {args.warmup} warm-up), "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    for model in models:
        totals = [0.0] * len(PASSES)
        for layer in LAYERS:
            if layer[0] == model:
                totals = [a + b for a, b in zip(totals, bench_layer(layer,
                                                                    args))]
        print(f"{model}, all its 3x3 stride-1 layers (each shape times its "
              "count):")
        for label, t in zip(PASSES, totals):
            print(f"  {label:<12} torch {t:8.1f} ms")
        print(f"  {'all three':<12} torch {sum(totals):8.1f} ms")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()

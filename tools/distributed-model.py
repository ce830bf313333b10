#!/usr/bin/env python3
"""The model of a data-parallel step on P nodes behind docs/distributed.md,
"A model of the step on a cluster": what a step sends, how long it
computes, and the network speed that keeps communication under 10 % of a
step. Prints the tables of that section; every input is stated here.

    tools/distributed-model.py

Inputs:
- Parameters per network: bench-distributed --sizes (counted by the
  engine): small 716,688; ResNet-18 (CIFAR) 11,234,496; ResNet-50
  (ImageNet stem, 224 x 224) 23,770,304.
- Training speed of one node, images/s: "this machine" is the 2-core
  machine of docs/design.md, quiet, from docs/benchmarks-training.md (small
  364 img/s, ResNet-18 42 img/s on Fashion-MNIST); ResNet-50 at 224 is
  not measured there and is scaled from ResNet-18 by forward GFLOP
  (8.17 against 0.912 per image: 4.7 img/s). A "64-core node" is assumed
  32 times this machine, a "GPU node" 200 times: assumptions, not
  measurements.
- Communication: the gradient summed by a ring all-reduce, which sends and
  receives 2 (P - 1) / P of the gradient's bytes per node and takes
  2 (P - 1) latencies; the bank rows all-gathered, (P - 1) / P of
  B x 516 bytes per node. Latency 5 microseconds a message (InfiniBand;
  Ethernet is nearer 50). Nothing hidden behind backward (the measured
  overlap here was none, docs/distributed.md).
"""

NETS = {
    # name: (parameters, this machine's training images/s)
    "small (CIFAR 32x32)": (716_688, 364.0),
    "ResNet-18 (CIFAR 32x32)": (11_234_496, 42.0),
    "ResNet-50 (ImageNet 224)": (23_770_304, 42.0 * 0.912 / 8.17),
}
NODES = {"this machine": 1.0, "64-core node": 32.0, "GPU node": 200.0}
LATENCY = 5e-6
ROW_BYTES = 4 * (1 + 128)   # a bank row all-gathered: index and vector


def step(params, speed, batch, ranks):
    """compute s, all-reduce bytes per node, bank bytes per node, and the
    bandwidth (bytes/s) that keeps communication at 10 % of the step"""
    compute = batch / ranks / speed
    grad = 4 * params
    ring = 2 * (ranks - 1) / ranks * grad
    bank = (ranks - 1) / ranks * batch * ROW_BYTES
    budget = 0.1 * compute - 2 * (ranks - 1) * LATENCY
    need = (ring + bank) / budget if budget > 0 else float("inf")
    return compute, ring, bank, need


def human_rate(bytes_per_s):
    bits = 8 * bytes_per_s
    if bits == float("inf"):
        return "latency alone is over 10 %"
    if bits >= 1e9:
        return f"{bits / 1e9:.1f} Gb/s"
    return f"{bits / 1e6:.0f} Mb/s"


def main():
    print("Each rank keeps its share of the batch (b images) as P grows, the "
          "global batch being P b:\n")
    print("| network | node | b | compute per step | all-reduce per node, "
          "P 8 / 64 | bank rows per node, P 8 / 64 | network for "
          "communication < 10 %, P 8 / 64 |")
    print("|---|---|---|---|---|---|---|")
    for net, (params, speed) in NETS.items():
        share = 32 if "ImageNet" in net else 64
        for node, factor in NODES.items():
            cells = []
            for ranks in (8, 64):
                c, ring, bank, need = step(params, speed * factor,
                                           share * ranks, ranks)
                cells.append((c, ring, bank, need))
            c = cells[0][0]
            print(f"| {net} | {node} | {share} | "
                  f"{c * 1e3:.0f} ms | "
                  f"{cells[0][1] / 1e6:.0f} / {cells[1][1] / 1e6:.0f} MB | "
                  f"{cells[0][2] / 1e3:.0f} / {cells[1][2] / 1e3:.0f} kB | "
                  f"{human_rate(cells[0][3])} / {human_rate(cells[1][3])} |")


if __name__ == "__main__":
    main()

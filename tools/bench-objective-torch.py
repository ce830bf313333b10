#!/usr/bin/python3
"""bench-objective-torch.py: the objective alone per batch, C next to PyTorch.

The PyTorch side restates the reference's (lemniscate.pytorch) objective
code in our own words, the way it runs there: an autograd Function whose
forward gathers the (K+1) bank rows per example into a (B, K+1, D) tensor
and does a batched product, whose backward computes the feature gradient
and writes the momentum update into the bank; the NCE criterion on top;
noise drawn by an alias sampler over uniform weights. The exact softmax
("LinearAverage") is the (B, N) product, cross-entropy, and the same
update. Both on the CPU with 2 threads; median of the timed batches.

    /usr/bin/python3 tools/bench-objective-torch.py
        [--bench build/bench/bench-objective] [--iters 30] [--threads 2]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import torch

N, D, B, K, TAU, MOMENTUM = 60000, 128, 128, 4096, 0.07, 0.5


class UniformAlias:
    """Alias sampler (Walker) as the reference builds it; with equal weights
    every bucket keeps its own index, but the draw still pays for the two
    lookups and the Bernoulli."""

    def __init__(self, n):
        self.prob = torch.ones(n)
        self.alias = torch.zeros(n, dtype=torch.long)

    def draw(self, count):
        bucket = torch.zeros(count, dtype=torch.long).random_(0, self.prob.numel())
        keep = torch.bernoulli(self.prob.index_select(0, bucket)).long()
        return bucket * keep + self.alias.index_select(0, bucket) * (1 - keep)


class NceGather(torch.autograd.Function):
    """exp(v_j . f / tau) / Z over the (K+1) gathered rows; Z from the first
    batch; backward: grad * out / tau against the gathered rows, then the
    bank rows of the positives move towards f and are renormalised."""

    @staticmethod
    def forward(ctx, features, targets, memory, idx, state):
        batch, dim = features.shape
        rows = memory.index_select(0, idx.view(-1)).view(batch, -1, dim)
        out = torch.bmm(rows, features.view(batch, dim, 1)).squeeze(2)
        out = out.div(TAU).exp()
        if state["z"] < 0:
            state["z"] = out.mean().item() * memory.shape[0]
        out = out / state["z"]
        ctx.save_for_backward(features, targets, memory, rows, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        features, targets, memory, rows, out = ctx.saved_tensors
        batch, dim = features.shape
        grad = (grad_out * out / TAU).unsqueeze(1)
        grad_features = torch.bmm(grad, rows).squeeze(1)
        pos = rows[:, 0, :] * MOMENTUM + features * (1 - MOMENTUM)
        memory.index_copy_(0, targets, pos / pos.norm(dim=1, keepdim=True))
        return grad_features, None, None, None, None


def nce_criterion(x, n):
    """-(sum log P_pos/(P_pos + K Pn + eps) + sum log K Pn/(P_neg + K Pn + eps)) / B"""
    k = x.shape[1] - 1
    kpn, eps = k / n, 1e-7
    pos = x[:, 0]
    neg = x[:, 1:]
    ln_pos = torch.log(pos / (pos + kpn + eps))
    ln_neg = torch.log(kpn / (neg + kpn + eps))
    return -(ln_pos.sum() + ln_neg.sum()) / x.shape[0]


class LinearGather(torch.autograd.Function):
    """f V^T / tau; backward: grad V / tau, then the same bank update."""

    @staticmethod
    def forward(ctx, features, targets, memory):
        ctx.save_for_backward(features, targets, memory)
        return torch.mm(features, memory.t()) / TAU

    @staticmethod
    def backward(ctx, grad_out):
        features, targets, memory = ctx.saved_tensors
        grad_features = torch.mm(grad_out, memory) / TAU
        pos = memory.index_select(0, targets) * MOMENTUM + features * (1 - MOMENTUM)
        memory.index_copy_(0, targets, pos / pos.norm(dim=1, keepdim=True))
        return grad_features, None, None


def unit(x):
    return x / x.norm(dim=1, keepdim=True)


def time_torch(step, iters, warmup):
    times = []
    for it in range(warmup + iters):
        features = unit(torch.randn(B, D)).requires_grad_()
        targets = torch.randint(0, N, (B,))
        t0 = time.perf_counter()
        loss = step(features, targets)
        loss.backward()
        if it >= warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2], loss.item()


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser()
    p.add_argument("--bench", default=os.path.join(root, "build", "bench", "bench-objective"))
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()

    out = subprocess.run([args.bench, "--json", "--iters", str(args.iters),
                          "--warmup", str(args.warmup), "--threads", str(args.threads)],
                         check=True, capture_output=True, text=True)
    c = json.loads(out.stdout.strip().splitlines()[-1])

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    stdv = 1.0 / math.sqrt(D / 3)
    memory = torch.rand(N, D).mul_(2 * stdv).add_(-stdv)
    sampler = UniformAlias(N)
    state = {"z": -1.0}

    def nce_step(features, targets):
        idx = sampler.draw(B * (K + 1)).view(B, K + 1)
        idx[:, 0] = targets
        out = NceGather.apply(features, targets, memory, idx, state)
        return nce_criterion(out, N)

    def softmax_step(features, targets):
        logits = LinearGather.apply(features, targets, memory)
        return torch.nn.functional.cross_entropy(logits, targets)

    t_nce, _ = time_torch(nce_step, args.iters, args.warmup)
    t_softmax, _ = time_torch(softmax_step, args.iters, args.warmup)

    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"{os.cpu_count()} cores, {args.threads} threads, median of {args.iters} "
          f"batches of {B}, N {N}, D {D}, K {K}")
    print("| objective per batch | C (ms) | C CPU (ms) | PyTorch (ms) | PyTorch / C |")
    print("|---|---|---|---|---|")
    for label, ck, cpu, t in [("NCE K 4096 + bank update", "nce_s", "nce_cpu_s", t_nce),
                              ("exact softmax N 60000 + bank update", "softmax_s",
                               "softmax_cpu_s", t_softmax)]:
        print(f"| {label} | {1e3 * c[ck]:.1f} | {1e3 * c[cpu]:.1f} | "
              f"{1e3 * t:.1f} | {t / c[ck]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""bench-train-reference.py: the reference's training step in PyTorch, timed.

The PyTorch side of bench/bench-train-step.c: the whole training step as the
reference code (lemniscate.pytorch) runs it, rewritten from docs/method.md
for one-channel Fashion-MNIST, so that the C trainer can be compared with it
on the same machine:

- data: Fashion-MNIST's 60,000 training images read from Debian's
  /usr/share/datasets/fashion-mnist/*.gz with numpy, a Dataset returning
  (image, index) through the reference's transforms for one channel
  (RandomResizedCrop(28, scale 0.2..1), ColorJitter(0.4, 0.4, 0, 0),
  RandomHorizontalFlip, ToTensor, Normalize(0.2860, 0.3530)), a DataLoader
  with batch 128, shuffle, drop_last and 2 worker processes (the reference
  loads with workers);
- the CIFAR ResNet (widths 16/32/64/128 "small" or 64/128/256/512
  "resnet18", 1 input channel, 128-d L2-normalised output);
- the memory bank (uniform in [-s, s], s = 1 / sqrt(D / 3)) with either the
  exact softmax (LinearAverage: f V^T / tau, cross-entropy on the own index)
  or NCE (NCEAverage + NCECriterion: K uniform noise rows, Z fixed on the
  first batch), tau 0.1;
- backward, SGD (lr 0.03, momentum 0.9, weight decay 5e-4), then the memory
  update v <- normalise (0.5 v + 0.5 f) of the batch's rows.

A step's time is from asking the loader for the batch to the end of the
memory update, so time spent waiting for the workers counts. Warm-up steps
first (worker start-up, allocator, NCE's Z), then the timed ones.

    /usr/bin/python3 tools/bench-train-reference.py [--model small|resnet18]
        [--objective softmax|nce] [--nce-k 4096] [--steps 20] [--warmup 3]
        [--threads 2] [--workers 2] [--json]
"""
import argparse
import gzip
import json
import math
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import ResNet  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"
BATCH = 128
LOW_DIM = 128
TAU = 0.1
BANK_MOMENTUM = 0.5
NCE_EPS = 1e-7

MODELS = {
    "resnet18": (64, 128, 256, 512),
    "small": (16, 32, 64, 128),
}


# ---- data ----

def read_idx_images(path):
    """An IDX u8 image file (magic 0x00000803), gzipped -> (N, H, W)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n, h, w = np.frombuffer(raw[:16], dtype=">u4")
    if magic != 0x803:
        raise ValueError(f"{path}: not an IDX image file")
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, h, w)


class InstanceDataset(torch.utils.data.Dataset):
    """Images with the index as the target, as the reference's
    CIFAR10Instance returns (img, target, index); the label is not needed
    for training."""

    def __init__(self, images, transform):
        self.images = images
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        img = Image.fromarray(self.images[index], mode="L")
        return self.transform(img), index


TRAIN_TRANSFORM = transforms.Compose([
    transforms.RandomResizedCrop(28, scale=(0.2, 1.0)),
    # brightness and contrast only: saturation and hue mean nothing for grey
    transforms.ColorJitter(0.4, 0.4, 0, 0),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    transforms.Normalize((0.2860,), (0.3530,)),
])


# ---- memory bank and objectives ----

class MemoryBank:
    """V (N, D), uniform in [-s, s] like the reference's buffer; rows are
    updated after the backward pass and never receive a gradient."""

    def __init__(self, n, dim):
        s = 1.0 / math.sqrt(dim / 3)
        self.vectors = torch.rand(n, dim) * (2 * s) - s

    @torch.no_grad()
    def update(self, indices, features):
        rows = self.vectors.index_select(0, indices)
        rows.mul_(BANK_MOMENTUM).add_(features * (1 - BANK_MOMENTUM))
        self.vectors.index_copy_(0, indices, F.normalize(rows, dim=1))


def softmax_loss(bank, features, indices):
    """LinearAverage + CrossEntropyLoss: logits against every bank row."""
    logits = features @ bank.vectors.t() / TAU
    return F.cross_entropy(logits, indices)


class Nce:
    """NCEAverage + NCECriterion with uniform noise, Pn = 1 / N."""

    def __init__(self, n, k):
        self.n, self.k = n, k
        self.z = None

    def loss(self, bank, features, indices):
        b = features.size(0)
        # uniform noise (the reference draws it with an alias sampler over
        # equal weights); column 0 is the positive
        idx = torch.randint(0, self.n, (b, self.k + 1))
        idx[:, 0] = indices
        weights = bank.vectors.index_select(0, idx.view(-1))
        weights = weights.view(b, self.k + 1, -1)
        p = torch.exp(torch.bmm(weights, features.unsqueeze(2)).squeeze(2)
                      / TAU)
        if self.z is None:
            # fixed once, from the first batch, then a constant
            self.z = p.detach().mean().item() * self.n
        p = p / self.z
        noise = self.k / self.n           # K Pn
        log_h_pos = torch.log(p[:, 0] / (p[:, 0] + noise + NCE_EPS))
        log_h_neg = torch.log(noise / (p[:, 1:] + noise + NCE_EPS))
        return -(log_h_pos.sum() + log_h_neg.sum()) / b


# ---- the benchmark ----

def peak_rss_mib(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss / 1024.0   # Linux: KiB


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="small", choices=sorted(MODELS))
    p.add_argument("--objective", default="softmax",
                   choices=["softmax", "nce"])
    p.add_argument("--nce-k", type=int, default=4096)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = read_idx_images(os.path.join(DATA_DIR,
                                          "train-images-idx3-ubyte.gz"))
    n = len(images)
    data_rss = peak_rss_mib()
    loader = torch.utils.data.DataLoader(
        InstanceDataset(images, TRAIN_TRANSFORM), batch_size=BATCH,
        shuffle=True, num_workers=args.workers, drop_last=True)

    net = ResNet(MODELS[args.model])
    net.train()
    bank = MemoryBank(n, LOW_DIM)
    nce = Nce(n, args.nce_k) if args.objective == "nce" else None
    opt = torch.optim.SGD(net.parameters(), lr=0.03, momentum=0.9,
                          weight_decay=5e-4)

    total_steps = args.warmup + args.steps
    if total_steps > len(loader):
        p.error(f"at most {len(loader)} steps (one epoch)")
    times = []
    batches = iter(loader)
    start = None
    for step in range(total_steps):
        if step == args.warmup:
            start = time.perf_counter()
        t = time.perf_counter()
        x, indices = next(batches)
        features = net(x)
        if nce is None:
            loss = softmax_loss(bank, features, indices)
        else:
            loss = nce.loss(bank, features, indices)
        opt.zero_grad()
        loss.backward()
        opt.step()
        bank.update(indices, features.detach())
        if not math.isfinite(loss.item()):
            raise SystemExit("bench-train-reference: the loss is not finite")
        if step >= args.warmup:
            times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    # end the workers, so that their peak memory is in RUSAGE_CHILDREN
    del batches
    time.sleep(0.2)

    med = statistics.median(times)
    result = {
        "model": args.model, "objective": args.objective,
        "nce_k": args.nce_k if nce else 0, "n": n, "dim": LOW_DIM,
        "batch": BATCH, "threads": args.threads, "workers": args.workers,
        "warmup": args.warmup, "steps": args.steps,
        "step_ms_median": 1e3 * med, "step_ms_min": 1e3 * min(times),
        "step_ms_max": 1e3 * max(times),
        "images_per_s_median": BATCH / med,
        "images_per_s_overall": BATCH * args.steps / total,
        "peak_rss_mib": peak_rss_mib(),
        # the largest single worker; workers share the parent's pages
        # (fork), so this over-counts what they add to the total
        "worker_peak_rss_mib": peak_rss_mib(resource.RUSAGE_CHILDREN),
        "data_rss_mib": data_rss,
        "bank_mib": n * LOW_DIM * 4 / 2**20,
        "torch": torch.__version__,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"reference training step (PyTorch {torch.__version__}): "
          f"{args.model}, {args.objective}"
          + (f" K {args.nce_k}" if nce else "")
          + f", batch {BATCH}, {args.threads} thread(s), "
          f"{args.workers} loader worker(s), N {n}")
    print(f"  {args.steps} steps after {args.warmup} warm-up: median "
          f"{1e3 * med:.1f} ms/step (min {1e3 * min(times):.1f}, max "
          f"{1e3 * max(times):.1f})")
    print(f"  images/s: {result['images_per_s_median']:.1f} (median step), "
          f"{result['images_per_s_overall']:.1f} (overall)")
    print(f"  peak resident memory {result['peak_rss_mib']:.0f} MiB "
          f"(main process; {data_rss:.0f} MiB after loading the data), "
          f"largest worker {result['worker_peak_rss_mib']:.0f} MiB; "
          f"memory bank {result['bank_mib']:.1f} MiB")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""make-parity-fixture.py: what PyTorch computes for SGD steps of the
reference's ResNets under the exact non-parametric softmax, written as
safetensors fixtures that tests/parity/test-parity.c checks the C engine
against: two steps of the CIFAR ResNets on 4 images, one step of the
ImageNet ResNet-18 and ResNet-50 on 2 images of 3 x 64 x 64, then an
evaluation-mode forward of the same images.

The architectures are models/resnet_cifar.py and models/resnet.py
(torchvision's ResNet) of the reference code (lemniscate.pytorch), restated
in tools/reference.py. Weights are not stored:
both this script and the C test generate them from an integer hash that numpy
and C compute bit for bit (see hash_uniform), so a fixture stays small even
for ResNet-18.

Run from anywhere with Debian's python3-torch:
    /usr/bin/python3 tools/make-parity-fixture.py
It rewrites tests/fixtures/parity-MODEL.safetensors for MODEL in resnet18,
small, resnet18-imagenet and resnet50-imagenet (or those named as
arguments); rerunning on the same processor gives the same bytes (one
thread, no oneDNN, a fixed sampling seed, a sorted JSON header). Another
processor's PyTorch may round some sums differently: the ImageNet
fixtures' gradients then move at float32's rounding level, and the image
search can settle on another stream.
"""

import copy
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import (MAXPOOL_LOG, RELU_LOG, ResNet,  # noqa: E402
                       resnet18_imagenet, resnet50_imagenet,
                       write_safetensors)

LOW_DIM = 128
N_BANK = 16
TAU = 0.1
TARGETS = [3, 7, 0, 12]     # the first `batch` of them
LR, MOMENTUM, WEIGHT_DECAY = 0.03, 0.9, 5e-4

# Tensors up to this many elements are stored whole; larger ones as a sample
# of SAMPLE element values plus float64 sum and L2 norm of the whole tensor.
FULL_LIMIT = 4096
SAMPLE = 512

# The hash streams: parameter tensor t (0-based, trainable parameters in
# state_dict order) uses t; the images and the bank use streams far above
# any parameter count.
STREAM_BANK = 2000
FIRST_INPUT_STREAM = 3000   # the images: the first stream from here whose
                            # ReLU inputs keep their margin (find_images)
TRIES = 400

# relu_margins: a ReLU input must be this many standard deviations of the
# float32 rounding error away from zero; the TIE_RECORD nearest are recorded
# so that the C test can see which way the engine decided them.
MARGIN = 6.0
MIN_MARGIN = 1e-7
TIE_RECORD = 4
POOL_RECORD = 8

GOLDEN = 0x9E3779B9

# The CIFAR fixtures: 4 images, two steps, tensors above 4096 elements
# sampled. The ImageNet ones keep under half a megabyte with 2 images, one
# step and every tensor above 256 elements sampled at 64 places (ResNet-50
# has 26,560 batch-norm channels, each with four parameter values and two
# statistics to record); their BN running statistics are sampled too.
CIFAR = dict(kind="cifar", batch=4, steps=2, full_limit=FULL_LIMIT,
             sample=SAMPLE)
IMAGENET = dict(kind="imagenet", batch=2, steps=1, full_limit=256, sample=64,
                in_channels=3, image=64)
MODELS = {
    "resnet18": dict(CIFAR, widths=(64, 128, 256, 512), in_channels=3,
                     image=32),
    "small": dict(CIFAR, widths=(16, 32, 64, 128), in_channels=1, image=28),
    "resnet18-imagenet": dict(IMAGENET, build=resnet18_imagenet,
                              features=512),
    "resnet50-imagenet": dict(IMAGENET, build=resnet50_imagenet,
                              features=2048),
}


# ---- the deterministic numbers both sides generate ----

def lowbias32(x):
    """Chris Wellons' lowbias32 mixer on a uint32 array (wrapping multiplies)."""
    x = x.astype(np.uint32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def hash_uniform(stream, n):
    """n float32 values in [-1, 1): u = ((h >> 8) * 2^-24) * 2 - 1 with
    h = lowbias32(i + stream * 0x9E3779B9 mod 2^32). Every operation is exact
    in float32 (24-bit integer, power-of-two scalings, and a subtraction whose
    result is a multiple of 2^-23 below 1 in magnitude)."""
    key = (np.arange(n, dtype=np.uint64)
           + np.uint64((stream * GOLDEN) & 0xFFFFFFFF)) & np.uint64(0xFFFFFFFF)
    h = lowbias32(key.astype(np.uint32))
    u = (h >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24)
    return u * np.float32(2.0) - np.float32(1.0)


def init_value(name, shape, t, fan_in_linear):
    """The value of trainable parameter number t, in float32 operations
    that the C test repeats one for one."""
    n = int(np.prod(shape))
    u = hash_uniform(t, n)
    leaf = name.rsplit(".", 1)[1]
    if len(shape) > 1:
        # conv or linear weight: u * (1 / sqrt(fan_in))
        fan_in = n // shape[0]
        scale = np.float32(1.0) / np.sqrt(np.float32(fan_in))
        v = u * scale
    elif name in ("linear.bias", "fc.bias"):
        scale = np.float32(1.0) / np.sqrt(np.float32(fan_in_linear))
        v = u * scale
    elif leaf == "weight":
        v = np.float32(1.0) + np.float32(0.25) * u   # BN weight
    else:
        # BN bias of magnitude 1.5..2, either sign: a channel's
        # pre-activations then sit mostly away from ReLU's kink (see
        # relu_margins), while half the channels are mostly on and half
        # mostly off
        b = np.float32(1.5) + np.float32(0.5) * np.abs(u)
        v = np.where(u < 0, -b, b)
    return v.astype(np.float32).reshape(shape)


class Recorder:
    """Collects the fixture's tensors; large ones as a fixed sample."""

    def __init__(self, full_limit=FULL_LIMIT, sample=SAMPLE):
        self.tensors = []
        self.samples = {}    # parameter name -> sorted int64 indices
        self.full_limit = full_limit
        self.sample = sample

    def add(self, name, arr):
        self.tensors.append((name, np.ascontiguousarray(arr)))

    def sample_index(self, pname, numel, t):
        if pname not in self.samples:
            rs = np.random.RandomState(12345 + t)
            idx = np.sort(rs.choice(numel, self.sample, replace=False))
            self.samples[pname] = idx.astype(np.int64)
            self.add(f"sample.{pname}", self.samples[pname])
        return self.samples[pname]

    def add_checked(self, name, pname, t, value, stats_of=None):
        """value: float32 tensor of parameter pname. Stored whole when small;
        else `name` holds the values at the sample indices and `name.stats`
        [sum, l2 norm] of stats_of (default: value) over the whole tensor."""
        flat = value.reshape(-1)
        if flat.size <= self.full_limit:
            self.add(name, value.astype(np.float32))
            return
        idx = self.sample_index(pname, flat.size, t)
        self.add(name, flat[idx].astype(np.float32))
        s = (value if stats_of is None else stats_of).astype(np.float64)
        self.add(f"{name}.stats",
                 np.array([s.sum(), np.sqrt((s * s).sum())], dtype=np.float32))


def relu_inputs(model, x):
    """Runs a training-mode forward and returns every ReLU's input in call
    order (stem, then per block: after bn1, (after bn2 in a bottleneck,)
    after the residual sum), and the ImageNet stem's max-pool input (None
    for the CIFAR net)."""
    log, pool = [], []
    RELU_LOG.append(log)
    MAXPOOL_LOG.append(pool)
    try:
        out = model(x)
    finally:
        RELU_LOG.pop()
        MAXPOOL_LOG.pop()
    return out, log, (pool[0] if pool else None)


def pool_margins(a, b, margin):
    """The stem's max pool (3/2/1) on float32 input a and its float64 twin b
    (N, C, H, W): whether every window whose maximum is positive has its
    largest input clear of the second largest by margin x rms(b).

    Two window inputs within float32 rounding of each other may be ordered
    either way by another implementation, and the whole gradient of that
    output then goes to another input: the max pool's version of a ReLU
    tie. Windows whose maximum is 0 (every input cut by the ReLU before it)
    do not matter: whichever zero takes the gradient, that ReLU drops it.
    Returns (ok, the POOL_RECORD closest windows: NCHW output indices,
    PyTorch's choice as y * W + x in the plane, gap / rms)."""
    rms = torch.sqrt((b * b).mean()).item()
    padded = F.pad(b, (1, 1, 1, 1), value=-np.inf)
    windows = padded.unfold(2, 3, 2).unfold(3, 3, 2)
    windows = windows.reshape(*windows.shape[:4], 9)
    top = torch.topk(windows, 2, dim=-1).values
    gap = ((top[..., 0] - top[..., 1]) / rms).reshape(-1).numpy()
    gap[top[..., 0].reshape(-1).numpy() <= 0] = np.inf
    _, taken = F.max_pool2d(a, 3, 2, 1, return_indices=True)
    _, taken64 = F.max_pool2d(b, 3, 2, 1, return_indices=True)
    ok = gap.min() >= margin and torch.equal(taken, taken64)
    order = np.argsort(gap, kind="stable")[:POOL_RECORD]
    return (ok, order.astype(np.int64),
            taken.reshape(-1).numpy()[order].astype(np.int64),
            gap[order].astype(np.float32))


def relu_margins(model32, x32):
    """Whether every ReLU input of this forward is safely away from zero.

    A ReLU input within float32 rounding of 0 may come out with either sign
    in another implementation (the C engine sums in another order), and its
    gradient then flips between 0 and the full upstream value: no tolerance
    can absorb that. So the float64 twin of the model computes the exact
    inputs; the margin of ReLU l is MARGIN x the rms difference between
    PyTorch's float32 and the float64 values at that ReLU (both float32
    implementations err about alike, and errors beyond 6 standard deviations
    do not occur among ~10^6 values). Returns (ok, per ReLU the TIE_RECORD
    inputs nearest zero: NCHW indices, value / rms, and for an ImageNet net
    pool_margins' record of the stem's max pool, else None)."""
    # copies, because a training-mode forward moves the BN running statistics
    model64 = copy.deepcopy(model32).double()
    with torch.no_grad():
        _, log32, pool32 = relu_inputs(copy.deepcopy(model32), x32)
        _, log64, pool64 = relu_inputs(model64, x32.double())
    ok = True
    near_index, near_value = [], []
    for a, b in zip(log32, log64):
        a = a.double().numpy().ravel()
        b = b.numpy().ravel()
        rms = np.sqrt((b * b).mean())
        err = np.sqrt(((a - b) ** 2).mean()) / rms
        margin = max(MARGIN * err, MIN_MARGIN)
        rel = np.abs(b) / rms
        if rel.min() < margin:
            ok = False
        order = np.argsort(rel, kind="stable")[:TIE_RECORD]
        near_index.append(order.astype(np.int64))
        near_value.append((b[order] / rms).astype(np.float32))
    pool = None
    if pool32 is not None:
        rms = torch.sqrt((pool64 * pool64).mean()).item()
        err = torch.sqrt(((pool32.double() - pool64) ** 2).mean()).item() / rms
        pool_ok, *pool = pool_margins(pool32, pool64,
                                      max(MARGIN * err, MIN_MARGIN))
        ok = ok and pool_ok
    return ok, np.stack(near_index), np.stack(near_value), pool


def new_model(spec):
    torch.manual_seed(0)
    if spec["kind"] == "imagenet":
        model = spec["build"](spec["in_channels"], LOW_DIM)
        fan_in_linear = spec["features"]
    else:
        model = ResNet(spec["widths"], spec["in_channels"], LOW_DIM,
                       reference_normalize=True)
        fan_in_linear = spec["widths"][3]
    init = {}
    with torch.no_grad():
        for t, (name, p) in enumerate(model.named_parameters()):
            v = init_value(name, tuple(p.shape), t, fan_in_linear)
            p.copy_(torch.from_numpy(v))
            init[name] = v
        for name, buf in model.named_buffers():
            # PyTorch's defaults, set explicitly so nothing depends on them
            if name.endswith("running_mean"):
                buf.zero_()
            elif name.endswith("running_var"):
                buf.fill_(1.0)
            else:
                buf.zero_()
    model.train()
    return model, init


def make_fixture(model_name, out_dir):
    spec = MODELS[model_name]
    C, H = spec["in_channels"], spec["image"]
    batch, steps = spec["batch"], spec["steps"]
    imagenet = spec["kind"] == "imagenet"
    bank64 = hash_uniform(STREAM_BANK, N_BANK * LOW_DIM).astype(np.float64)
    bank64 = bank64.reshape(N_BANK, LOW_DIM)
    bank64 /= np.sqrt((bank64 * bank64).sum(1, keepdims=True))
    bank = bank64.astype(np.float32)
    targets = np.array(TARGETS[:batch], dtype=np.int64)
    V = torch.from_numpy(bank)
    y = torch.from_numpy(targets)

    # The first image stream whose forwards keep every ReLU input clear of
    # zero and every max-pool window's winner clear of its runner-up
    # (relu_margins). Deterministic: the same stream every run.
    print(f"{model_name}: searching image streams from {FIRST_INPUT_STREAM} "
          f"(ResNet-18 takes minutes)", flush=True)
    for stream in range(FIRST_INPUT_STREAM, FIRST_INPUT_STREAM + TRIES):
        model, init = new_model(spec)
        params = list(model.named_parameters())
        images = hash_uniform(stream, batch * C * H * H).reshape(batch, C, H,
                                                                 H)
        x = torch.from_numpy(images)
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM,
                              weight_decay=WEIGHT_DECAY)
        rec = Recorder(spec["full_limit"], spec["sample"])
        losses = []
        for k in range(1, steps + 1):
            ok, near_index, near_value, pool = relu_margins(model, x)
            if not ok:
                break
            if k == 1:
                rec.add("input", images)
                rec.add("bank", bank)
                rec.add("targets", targets)
            rec.add(f"ties.step{k}.index", near_index)
            rec.add(f"ties.step{k}.value", near_value)
            if pool is not None:
                rec.add(f"pool.step{k}.index", pool[0])
                rec.add(f"pool.step{k}.taken", pool[1])
                rec.add(f"pool.step{k}.gap", pool[2])
            losses.append(train_step(model, params, init, opt, x, V, y, rec,
                                     k, imagenet))
        if len(losses) == steps:
            # the trained network in evaluation mode: batch norm by the
            # running statistics the steps left
            model.eval()
            with torch.no_grad():
                rec.add("eval.embedding", model(x).numpy())
            break
    else:
        raise SystemExit(f"{model_name}: no image stream in {TRIES} tries "
                         f"keeps the ReLU margins")

    metadata = {
        "model": model_name,
        "widths": ",".join(map(str, spec.get("widths", (64, 128, 256, 512)))),
        "in_channels": C,
        "image_size": H,
        "low_dim": LOW_DIM,
        "batch": batch,
        "n_bank": N_BANK,
        "tau": TAU,
        "lr": LR,
        "momentum": MOMENTUM,
        "weight_decay": WEIGHT_DECAY,
        "full_limit": spec["full_limit"],
        "sample": spec["sample"],
        "hash": "u = ((lowbias32(i + t*0x9E3779B9) >> 8) * 2^-24) * 2 - 1",
        "input_stream": stream,
        "bank_stream": STREAM_BANK,
        "relu_margin": f"{MARGIN} x rms float32 error, at least {MIN_MARGIN}",
        "torch": torch.__version__.split("+")[0],
        "generator": "tools/make-parity-fixture.py",
    }
    if imagenet:
        # keys the CIFAR fixtures never had, so that theirs stay the same
        metadata["steps"] = steps
        metadata["pool_margin"] = "as relu_margin, on the max pool's gaps"
    path = os.path.join(out_dir, f"parity-{model_name}.safetensors")
    size = write_safetensors(path, rec.tensors, metadata)
    print(f"{path}: image stream {stream}, {len(rec.tensors)} tensors, "
          f"{size} bytes, loss " + " -> ".join(f"{v:.7f}" for v in losses))


def train_step(model, params, init, opt, x, V, y, rec, k, imagenet=False):
    """One step of the reference's training loop, recorded as step k."""
    opt.zero_grad()
    emb = model(x)
    emb.retain_grad()
    # the reference's LinearAverage: out = x @ memory^T, out /= T
    logits = torch.mm(emb, V.t()) / TAU
    loss = F.cross_entropy(logits, y)
    loss.backward()
    rec.add(f"step{k}.embedding", emb.detach().numpy())
    rec.add(f"step{k}.logits", logits.detach().numpy())
    rec.add(f"step{k}.loss", np.array([loss.item()], dtype=np.float32))
    rec.add(f"step{k}.d_embedding", emb.grad.numpy())
    if k == 1:
        for t, (name, p) in enumerate(params):
            rec.add_checked(f"grad.{name}", name, t, p.grad.numpy())
    opt.step()
    for t, (name, p) in enumerate(params):
        w = p.detach().numpy()
        # the stats of a weight are those of its change since the start:
        # the weight itself is dominated by its known initial value
        rec.add_checked(f"step{k}.{name}", name, t, w,
                        stats_of=w.astype(np.float64) - init[name])
    for j, (name, buf) in enumerate(model.named_buffers()):
        value = buf.numpy().copy()
        if imagenet and value.ndim == 1:
            # sampled as parameters are, a BN layer's mean and variance at
            # the same places ("sample.MODULE.running"); the stats of the
            # change from the initial 0 and 1
            module, leaf = name.rsplit(".", 1)
            start = 1.0 if leaf == "running_var" else 0.0
            rec.add_checked(f"step{k}.{name}", f"{module}.running", 10000 + j,
                            value, stats_of=value.astype(np.float64) - start)
            continue
        # a scalar buffer is stored with shape (1), as readers of rank-0
        # tensors vary
        rec.add(f"step{k}.{name}", value.reshape(-1))
    return loss.item()


def main():
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    torch.use_deterministic_algorithms(True)
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = os.path.join(here, "..", "tests", "fixtures")
    names = sys.argv[1:] or list(MODELS)
    for name in names:
        make_fixture(name, os.path.normpath(out_dir))


if __name__ == "__main__":
    main()

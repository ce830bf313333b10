#!/usr/bin/python3
"""make-parity-fixture.py: what PyTorch computes for two SGD steps of the
reference CIFAR ResNet under the exact non-parametric softmax, written as
safetensors fixtures that tests/parity/test-parity.c checks the C engine
against.

The architecture is models/resnet_cifar.py of the reference code
(lemniscate.pytorch), restated in tools/reference.py. Weights are not stored:
both this script and the C test generate them from an integer hash that numpy
and C compute bit for bit (see hash_uniform), so a fixture stays small even
for ResNet-18.

Run from anywhere with Debian's python3-torch:
    /usr/bin/python3 tools/make-parity-fixture.py
It rewrites tests/fixtures/parity-resnet18.safetensors and
tests/fixtures/parity-small.safetensors; rerunning gives the same bytes
(one thread, no oneDNN, a fixed sampling seed, a sorted JSON header).
"""

import copy
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import RELU_LOG, ResNet, write_safetensors  # noqa: E402

BATCH = 4
LOW_DIM = 128
N_BANK = 16
TAU = 0.1
TARGETS = [3, 7, 0, 12]
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

GOLDEN = 0x9E3779B9

MODELS = {
    "resnet18": dict(widths=(64, 128, 256, 512), in_channels=3, image=32),
    "small": dict(widths=(16, 32, 64, 128), in_channels=1, image=28),
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
    elif name == "linear.bias":
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
    return v.astype(np.float32).reshape(shape)


class Recorder:
    """Collects the fixture's tensors; large ones as a fixed sample."""

    def __init__(self):
        self.tensors = []
        self.samples = {}    # parameter name -> sorted int64 indices

    def add(self, name, arr):
        self.tensors.append((name, np.ascontiguousarray(arr)))

    def sample_index(self, pname, numel, t):
        if pname not in self.samples:
            rs = np.random.RandomState(12345 + t)
            idx = np.sort(rs.choice(numel, SAMPLE, replace=False))
            self.samples[pname] = idx.astype(np.int64)
            self.add(f"sample.{pname}", self.samples[pname])
        return self.samples[pname]

    def add_checked(self, name, pname, t, value, stats_of=None):
        """value: float32 tensor of parameter pname. Stored whole when small;
        else `name` holds the values at the sample indices and `name.stats`
        [sum, l2 norm] of stats_of (default: value) over the whole tensor."""
        flat = value.reshape(-1)
        if flat.size <= FULL_LIMIT:
            self.add(name, value.astype(np.float32))
            return
        idx = self.sample_index(pname, flat.size, t)
        self.add(name, flat[idx].astype(np.float32))
        s = (value if stats_of is None else stats_of).astype(np.float64)
        self.add(f"{name}.stats",
                 np.array([s.sum(), np.sqrt((s * s).sum())], dtype=np.float32))


def relu_inputs(model, x):
    """Runs a training-mode forward and returns every ReLU's input in call
    order (stem, then per block: after bn1, after the residual sum)."""
    log = []
    RELU_LOG.append(log)
    try:
        out = model(x)
    finally:
        RELU_LOG.pop()
    return out, log


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
    inputs nearest zero: NCHW indices, value / rms)."""
    # copies, because a training-mode forward moves the BN running statistics
    model64 = copy.deepcopy(model32).double()
    with torch.no_grad():
        _, log32 = relu_inputs(copy.deepcopy(model32), x32)
        _, log64 = relu_inputs(model64, x32.double())
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
    return ok, np.stack(near_index), np.stack(near_value)


def new_model(spec):
    torch.manual_seed(0)
    model = ResNet(spec["widths"], spec["in_channels"], LOW_DIM,
                   reference_normalize=True)
    init = {}
    with torch.no_grad():
        for t, (name, p) in enumerate(model.named_parameters()):
            v = init_value(name, tuple(p.shape), t, spec["widths"][3])
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
    bank64 = hash_uniform(STREAM_BANK, N_BANK * LOW_DIM).astype(np.float64)
    bank64 = bank64.reshape(N_BANK, LOW_DIM)
    bank64 /= np.sqrt((bank64 * bank64).sum(1, keepdims=True))
    bank = bank64.astype(np.float32)
    targets = np.array(TARGETS, dtype=np.int64)
    V = torch.from_numpy(bank)
    y = torch.from_numpy(targets)

    # The first image stream whose two forwards keep every ReLU input clear
    # of zero (relu_margins). Deterministic: the same stream every run.
    print(f"{model_name}: searching image streams from {FIRST_INPUT_STREAM} "
          f"(ResNet-18 takes minutes)", flush=True)
    for stream in range(FIRST_INPUT_STREAM, FIRST_INPUT_STREAM + TRIES):
        model, init = new_model(spec)
        params = list(model.named_parameters())
        images = hash_uniform(stream, BATCH * C * H * H).reshape(BATCH, C, H, H)
        x = torch.from_numpy(images)
        ok, near_index1, near_value1 = relu_margins(model, x)
        if not ok:
            continue
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM,
                              weight_decay=WEIGHT_DECAY)
        rec = Recorder()
        rec.add("input", images)
        rec.add("bank", bank)
        rec.add("targets", targets)
        rec.add("ties.step1.index", near_index1)
        rec.add("ties.step1.value", near_value1)
        loss1 = train_step(model, params, init, opt, x, V, y, rec, 1)
        ok, near_index2, near_value2 = relu_margins(model, x)
        if not ok:
            continue
        rec.add("ties.step2.index", near_index2)
        rec.add("ties.step2.value", near_value2)
        loss2 = train_step(model, params, init, opt, x, V, y, rec, 2)
        break
    else:
        raise SystemExit(f"{model_name}: no image stream in {TRIES} tries "
                         f"keeps the ReLU margins")

    metadata = {
        "model": model_name,
        "widths": ",".join(map(str, spec["widths"])),
        "in_channels": C,
        "image_size": H,
        "low_dim": LOW_DIM,
        "batch": BATCH,
        "n_bank": N_BANK,
        "tau": TAU,
        "lr": LR,
        "momentum": MOMENTUM,
        "weight_decay": WEIGHT_DECAY,
        "full_limit": FULL_LIMIT,
        "sample": SAMPLE,
        "hash": "u = ((lowbias32(i + t*0x9E3779B9) >> 8) * 2^-24) * 2 - 1",
        "input_stream": stream,
        "bank_stream": STREAM_BANK,
        "relu_margin": f"{MARGIN} x rms float32 error, at least {MIN_MARGIN}",
        "torch": torch.__version__.split("+")[0],
        "generator": "tools/make-parity-fixture.py",
    }
    path = os.path.join(out_dir, f"parity-{model_name}.safetensors")
    size = write_safetensors(path, rec.tensors, metadata)
    print(f"{path}: image stream {stream}, {len(rec.tensors)} tensors, "
          f"{size} bytes, loss {loss1:.7f} -> {loss2:.7f}")


def train_step(model, params, init, opt, x, V, y, rec, k):
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
    for name, buf in model.named_buffers():
        # a scalar buffer is stored with shape (1), as readers of rank-0
        # tensors vary
        rec.add(f"step{k}.{name}", buf.numpy().copy().reshape(-1))
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

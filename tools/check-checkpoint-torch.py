#!/usr/bin/python3
"""check-checkpoint-torch.py: does PyTorch take our checkpoints?

Reads a checkpoint written by the C code (src/io/checkpoint.c) with NumPy
alone, builds the reference CIFAR ResNet (models/resnet_cifar.py of
lemniscate.pytorch, restated below) at the checkpoint's widths, drops the
optimizer./memory./check. keys and calls load_state_dict(strict=True). When
the file has check.input and check.embedding (tests/io/write-checkpoint
writes them) it also runs the model in eval mode on the input and compares
the embeddings.

A by-hand check with Debian's python3-torch, not run in CI:
    build-io/tests/io/write-checkpoint /tmp/ck.safetensors small 1 28
    /usr/bin/python3 tools/check-checkpoint-torch.py /tmp/ck.safetensors
    build-io/tests/io/write-checkpoint /tmp/ck18.safetensors resnet18 3 32
    /usr/bin/python3 tools/check-checkpoint-torch.py /tmp/ck18.safetensors
Exit status 0 when everything matches.
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import ResNet, read_safetensors  # noqa: E402

def model_for(state):
    """The reference network whose shapes the checkpoint's names imply."""
    in_channels = state["conv1.weight"].shape[1]
    widths = [state["layer%d.0.conv1.weight" % s].shape[0] for s in (1, 2, 3, 4)]
    blocks = [len({k.split(".")[1] for k in state
                   if k.startswith("layer%d." % s)}) for s in (1, 2, 3, 4)]
    low_dim = state["linear.weight"].shape[0]
    return ResNet(widths, in_channels, low_dim, blocks), (in_channels, widths,
                                                          blocks, low_dim)


def main(path):
    tensors, metadata = read_safetensors(path)
    print("%s: %d tensors, metadata %s" % (path, len(tensors), metadata))
    dropped = ("optimizer.", "memory.", "check.")
    state = {k: torch.from_numpy(v) for k, v in tensors.items()
             if not k.startswith(dropped)}
    model, shape = model_for(state)
    print("reference ResNet: in_channels %d, widths %s, blocks %s, low_dim %d"
          % shape)
    result = model.load_state_dict(state, strict=True)
    print("load_state_dict(strict=True): %s, %d tensors" % (result, len(state)))
    ok = True
    # every value really arrived, including num_batches_tracked
    for name, value in model.state_dict().items():
        if not torch.equal(value, state[name]):
            print("MISMATCH after load: %s" % name)
            ok = False
    n_momentum = sum(k.startswith("optimizer.momentum_buffer.") for k in tensors)
    n_params = sum(1 for _ in model.parameters())
    print("momentum buffers: %d for %d parameters" % (n_momentum, n_params))
    if n_momentum not in (0, n_params):
        ok = False

    if "check.input" in tensors:
        model.eval()
        with torch.no_grad():
            out = model(torch.from_numpy(tensors["check.input"])).numpy()
        ref = tensors["check.embedding"]
        diff = float(np.abs(out - ref).max())
        print("eval embedding vs C: max |diff| %.3g" % diff)
        if not diff < 1e-4:
            ok = False
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: %s CHECKPOINT.safetensors" % sys.argv[0])
    sys.exit(main(sys.argv[1]))

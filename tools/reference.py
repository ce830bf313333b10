"""reference.py: what the Python tools share, defined once.

The reference CIFAR ResNet (models/resnet_cifar.py of lemniscate.pytorch,
restated) and a NumPy reader and writer of safetensors files (the package is
not installed). The scripts in this folder import it with their own folder on
sys.path:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from reference import ResNet
"""

import json
import os
import struct

import numpy as np
import torch.nn as nn
import torch.nn.functional as F

# ---- the reference architecture (models/resnet_cifar.py) ----

# relu_inputs (make-parity-fixture.py): while non-empty, every ReLU of the
# network appends its input to the last list in RELU_LOG.
RELU_LOG = []


def relu(x):
    """F.relu, noting its input while RELU_LOG listens."""
    if RELU_LOG:
        RELU_LOG[-1].append(x.detach().clone())
    return F.relu(x)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride,
                               padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1,
                               padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(planes))

    def forward(self, x):
        out = relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return relu(out)


class Normalize(nn.Module):
    """The reference's L2 normalisation: x / (sum x^power)^(1/power)."""

    def __init__(self, power=2):
        super().__init__()
        self.power = power

    def forward(self, x):
        norm = x.pow(self.power).sum(1, keepdim=True).pow(1.0 / self.power)
        return x.div(norm)


class ResNet(nn.Module):
    """The reference CIFAR ResNet with a low_dim L2-normalised embedding.

    widths: the four stages' channels; blocks: BasicBlocks per stage.
    The embedding is normalised by F.normalize, or with reference_normalize
    by the reference code's own Normalize module (as the parity fixtures
    are computed); neither holds parameters or buffers, so the state_dict
    is the same either way.
    """

    def __init__(self, widths, in_channels=1, low_dim=128,
                 blocks=(2, 2, 2, 2), reference_normalize=False):
        super().__init__()
        self.in_planes = widths[0]
        self.conv1 = nn.Conv2d(in_channels, widths[0], kernel_size=3, stride=1,
                               padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.layer1 = self._make_layer(widths[0], blocks[0], 1)
        self.layer2 = self._make_layer(widths[1], blocks[1], 2)
        self.layer3 = self._make_layer(widths[2], blocks[2], 2)
        self.layer4 = self._make_layer(widths[3], blocks[3], 2)
        self.linear = nn.Linear(widths[3], low_dim)
        self.l2norm = Normalize(2) if reference_normalize else None

    def _make_layer(self, planes, blocks, stride):
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = self.layer4(out)
        # 28 -> 28, 14, 7, 4 (32 -> 32, 16, 8, 4): a 4x4 map, pooled to 1x1
        out = F.avg_pool2d(out, 4)
        out = out.view(out.size(0), -1)
        out = self.linear(out)
        if self.l2norm is not None:
            return self.l2norm(out)
        return F.normalize(out, dim=1)


# ---- safetensors, read and written by hand ----

DTYPES = {"F32": np.float32, "I64": np.int64, "I32": np.int32,
          "F64": np.float64}


def read_safetensors(path):
    """(tensors: name -> numpy array, metadata: dict), header order kept."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(
            info["shape"]).copy()
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, np.ndarray float32 or int64) in file order.
    The header's keys are sorted, the data 8-byte aligned; the file is
    written to PATH.tmp and renamed. Returns the file's size."""
    header = {}
    blobs = []
    offset = 0
    for name, arr in tensors:
        if arr.dtype == np.float32:
            dtype = "F32"
        elif arr.dtype == np.int64:
            dtype = "I64"
        else:
            raise TypeError(f"{name}: unsupported dtype {arr.dtype}")
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"),
                                                copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, sort_keys=True, separators=(",", ":"))
    # pad with spaces so the data starts 8-byte aligned, as the format allows
    raw = text.encode("utf-8")
    raw += b" " * ((8 - (8 + len(raw)) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
    return 8 + len(raw) + offset

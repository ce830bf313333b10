"""reference.py: what the Python tools share, defined once.

The reference CIFAR ResNet (models/resnet_cifar.py of lemniscate.pytorch,
restated), the ImageNet ResNets (its models/resnet.py: torchvision's ResNet
with the classifier to low_dim, restated because Debian 12's torchvision
package is not installed here; module names and order as torchvision's, so
their state_dict keys are the same), and a NumPy reader and writer of
safetensors files (the package is not installed). The scripts in this
folder import it with their own folder on sys.path:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from reference import ResNet
"""

import json
import os
import struct

import numpy as np
import torch
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


# ---- the ImageNet ResNets (models/resnet.py = torchvision.models.resnet) ----

# stem_pool_inputs (make-parity-fixture.py): while non-empty, the stem's max
# pool appends its input to the last list in MAXPOOL_LOG.
MAXPOOL_LOG = []


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride,
                     padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride,
                     bias=False)


class ImageNetBasicBlock(nn.Module):
    """torchvision's BasicBlock: the CIFAR one, its shortcut called
    downsample."""
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return relu(out + identity)


class Bottleneck(nn.Module):
    """torchvision's Bottleneck ("ResNet v1.5": the stride on the 3x3)."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.downsample = downsample

    def forward(self, x):
        out = relu(self.bn1(self.conv1(x)))
        out = relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return relu(out + identity)


class ImageNetResNet(nn.Module):
    """torchvision.models.ResNet(block, layers, num_classes=low_dim) followed
    by the reference's L2 normalisation (its models/resnet.py), for any
    input channels. Weights are left at PyTorch's module defaults: the
    parity script sets every one itself."""

    def __init__(self, block, layers, in_channels=3, low_dim=128,
                 reference_normalize=True):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2,
                               padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, low_dim)
        self.l2norm = Normalize(2) if reference_normalize else None

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = relu(self.bn1(self.conv1(x)))
        if MAXPOOL_LOG:
            MAXPOOL_LOG[-1].append(x.detach().clone())
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.fc(x)
        if self.l2norm is not None:
            return self.l2norm(x)
        return F.normalize(x, dim=1)


def resnet18_imagenet(in_channels=3, low_dim=128):
    return ImageNetResNet(ImageNetBasicBlock, [2, 2, 2, 2], in_channels,
                          low_dim)


def resnet50_imagenet(in_channels=3, low_dim=128):
    return ImageNetResNet(Bottleneck, [3, 4, 6, 3], in_channels, low_dim)


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

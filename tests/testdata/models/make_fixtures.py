#!/usr/bin/env python3
"""Writes the small checkpoint fixtures of tests/models (run once; the outputs are committed, tests need no Python).

Run with Debian's python3-torch / python3-torchvision (1.13.1 / 0.14.1):
    /usr/bin/python3 tests/testdata/models/make_fixtures.py tests/testdata/models

Networks are torchvision's own Bottleneck / BasicBlock at a narrow width (every channel count times `width`),
wired like torchvision's ResNet with last stride 1, plus JVTC's `feat` (Linear) and `feat_bn` (BatchNorm1d)
heads. BatchNorm statistics and affines are randomised so that eval-mode outputs exercise every tensor.
"""
import argparse
import collections
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, Bottleneck


class NarrowResNet(nn.Module):
    def __init__(self, block, layers, width, embedding_dim=None, num_classes=None):
        super().__init__()
        base = int(round(64 * width))
        self.inplanes = base
        self.conv1 = nn.Conv2d(3, base, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, base, layers[0], 1)
        self.layer2 = self._make_layer(block, base * 2, layers[1], 2)
        self.layer3 = self._make_layer(block, base * 4, layers[2], 2)
        self.layer4 = self._make_layer(block, base * 8, layers[3], 1)  # last stride 1
        self.last = self.inplanes
        if num_classes is not None:
            self.fc = nn.Linear(self.last, num_classes)
        if embedding_dim is not None:
            self.feat = nn.Linear(self.last, embedding_dim)
            self.feat_bn = nn.BatchNorm1d(embedding_dim)

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def backbone(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def randomise(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
                m.num_batches_tracked.fill_(17)


def write_safetensors(path, tensors, metadata=None):
    """The safetensors layout (u64 header length, JSON header, raw little-endian data), written by hand."""
    codes = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def part_code(feature_map, parts=4):
    return F.adaptive_avg_pool2d(feature_map, (parts, 1)).view(feature_map.size(0), -1)


def main(out_dir):
    gen = torch.Generator().manual_seed(20211)
    torch.manual_seed(20211)
    expected = collections.OrderedDict()

    # 1. JVTC-style stage-1 checkpoint: ResNet-50 layout at width 1/32, embedding 16, saved under 'state_dict'
    #    with DataParallel's 'module.' prefix, an unused classifier, training metadata, and (like checkpoints
    #    from PyTorch < 0.4.1) no num_batches_tracked.
    r50 = NarrowResNet(Bottleneck, [3, 4, 6, 3], 1 / 32, embedding_dim=16)
    randomise(r50, gen)
    r50.eval()
    x = torch.randn(2, 3, 64, 32, generator=gen)
    with torch.no_grad():
        fmap = r50.backbone(x)
        emb = r50.feat_bn(r50.feat(F.adaptive_avg_pool2d(fmap, 1).flatten(1)))
    expected["r50.input"] = x
    expected["r50.part_code"] = part_code(fmap)
    expected["r50.embedding"] = emb
    expected["r50.feature"] = F.normalize(emb)
    sd = collections.OrderedDict(("module." + k, v) for k, v in r50.state_dict().items()
                                 if not k.endswith("num_batches_tracked"))
    sd["module.classifier.weight"] = torch.randn(5, 16, generator=gen)
    sd["module.classifier.bias"] = torch.zeros(5)
    checkpoint = {"state_dict": sd, "epoch": 7, "best_mAP": 0.4375,
                  "args": argparse.Namespace(arch="resnet50", lr=3.5e-4)}
    torch.save(checkpoint, os.path.join(out_dir, "jvtc_r50_w32.pth"))
    # The same in the legacy (pre-1.6, non-zip) format, which checkpoints of the torch-1.2 era use.
    torch.save(checkpoint, os.path.join(out_dir, "jvtc_r50_w32_legacy.pth"), _use_new_zipfile_serialization=False)

    # 2. ImageNet-style classifier: ResNet-18 layout at width 1/16 with fc, a plain model.state_dict(); also as
    #    safetensors written by hand (not by our writer).
    r18 = NarrowResNet(BasicBlock, [2, 2, 2, 2], 1 / 16, num_classes=10)
    randomise(r18, gen)
    r18.eval()
    x18 = torch.randn(1, 3, 64, 32, generator=gen)
    with torch.no_grad():
        expected["r18.input"] = x18
        expected["r18.part_code"] = part_code(r18.backbone(x18))
    torch.save(r18.state_dict(), os.path.join(out_dir, "imagenet_r18_w16.pth"))
    write_safetensors(os.path.join(out_dir, "imagenet_r18_w16.safetensors"), r18.state_dict(),
                      {"source": "make_fixtures.py"})

    # 3. Unpickler cases: views sharing a storage (offset, strides), dtypes, nested values, big ints.
    base = torch.arange(24, dtype=torch.float32).view(4, 6)
    cases = collections.OrderedDict()
    cases["base"] = base
    cases["view"] = base[1:, ::2]            # storage offset 6, strides (6, 2), shares base's storage
    cases["half"] = torch.tensor([0.5, -2.0, 1024.0], dtype=torch.float16)
    cases["double"] = torch.tensor([[1.0 / 3.0]], dtype=torch.float64)
    cases["long"] = torch.tensor([-(2 ** 40), 3, 2 ** 62], dtype=torch.int64)
    cases["flags"] = torch.tensor([True, False, True])
    cases["scalar"] = torch.tensor(2.5)
    cases["empty"] = torch.zeros(0, 3)
    mixed = collections.OrderedDict(cases)
    mixed.update({"count": 2 ** 40, "neg": -5, "ratio": 1.5, "names": ["a", "b"], "nested": {"k": (1, None, True)},
                  "args": argparse.Namespace(lr=0.1)})
    torch.save(mixed, os.path.join(out_dir, "pickle_cases.pth"))
    torch.save(mixed, os.path.join(out_dir, "pickle_cases_legacy.pth"), _use_new_zipfile_serialization=False)
    # the same, pickled with protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL opcodes)
    torch.save(cases, os.path.join(out_dir, "pickle_cases_protocol4.pth"), pickle_protocol=4)

    write_safetensors(os.path.join(out_dir, "expected_outputs.safetensors"), expected)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))

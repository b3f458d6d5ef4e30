#!/usr/bin/python3
"""GraphGen's ResNet8 sample (samples/ResNet/ResNet8.cs; --network resnet10: ResNet10.cs) trained in PyTorch with the sample's recipe
(samples/ResNet/Program.cs): batch 128, SGD lr 0.1 with Nesterov momentum 0.9, weight decay 5e-4 on the
convolution and linear weights only (not biases, not batch norm), a per-step cosine schedule after one
epoch of linear warmup, random 2-pixel crops (zero padding) and horizontal flips, Xavier-uniform weights
and zero biases, batch-norm momentum 0.1 (GraphGen's 0.9), eps 1e-5. Prints the sample's columns.

Run with Debian's interpreter (apt-get install python3-torch dataset-fashion-mnist):
    /usr/bin/python3 tests/peers/pytorch_resnet8.py --epochs 20 --threads 2
"""
import argparse
import gzip
import math
import os
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path, magic, offset):
    with gzip.open(path, "rb") as f:
        buf = f.read()
    assert int.from_bytes(buf[:4], "big") == magic, f"bad magic in {path}"
    return np.frombuffer(buf, dtype=np.uint8, offset=offset)


def load(data_dir, prefix):
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), 2051, 16)
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), 2049, 8)
    x = torch.from_numpy(x.reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255.0))
    return x, torch.from_numpy(y.astype(np.int64))


class ResNet8(nn.Module):
    def __init__(self):
        super().__init__()
        conv = lambda i, o, k, s=1: nn.Conv2d(i, o, k, stride=s, padding=k // 2)
        bn = lambda c: nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)
        self.conv0, self.bn0 = conv(1, 16, 3), bn(16)
        self.conv1, self.bn1 = conv(16, 16, 3), bn(16)
        self.conv2, self.bn2 = conv(16, 16, 3), bn(16)
        self.conv3, self.bn3 = conv(16, 32, 3, 2), bn(32)
        self.conv4, self.bn4 = conv(32, 32, 3), bn(32)
        self.shortcut, self.bn_shortcut = conv(16, 32, 1, 2), bn(32)
        self.fc = nn.Linear(32, 10)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        y = F.relu(self.bn0(self.conv0(x)))
        a = F.relu(self.bn1(self.conv1(y)))
        y = F.relu(self.bn2(self.conv2(a)) + y)
        b = F.relu(self.bn3(self.conv3(y)))
        y = F.relu(self.bn4(self.conv4(b)) + self.bn_shortcut(self.shortcut(y)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


class ResNet10(ResNet8):
    """ResNet8 with a third stage: a projection block to 128 channels at 7x7 (samples/ResNet/ResNet10.cs)."""

    def __init__(self):
        super().__init__()
        conv = lambda i, o, k, s=1: nn.Conv2d(i, o, k, stride=s, padding=k // 2)
        bn = lambda c: nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)
        self.conv5, self.bn5 = conv(32, 128, 3, 2), bn(128)
        self.conv6, self.bn6 = conv(128, 128, 3), bn(128)
        self.shortcut2, self.bn_shortcut2 = conv(32, 128, 1, 2), bn(128)
        self.fc = nn.Linear(128, 10)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        y = F.relu(self.bn0(self.conv0(x)))
        a = F.relu(self.bn1(self.conv1(y)))
        y = F.relu(self.bn2(self.conv2(a)) + y)
        b = F.relu(self.bn3(self.conv3(y)))
        y = F.relu(self.bn4(self.conv4(b)) + self.bn_shortcut(self.shortcut(y)))
        c = F.relu(self.bn5(self.conv5(y)))
        y = F.relu(self.bn6(self.conv6(c)) + self.bn_shortcut2(self.shortcut2(y)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def augment(xb, gen, pad=2):
    """Each image shifted by (dy, dx) uniform in -pad..pad with zeros filling in (RandomCrop(28,
    padding=pad)), then mirrored with probability 1/2."""
    n = xb.shape[0]
    padded = F.pad(xb, (pad, pad, pad, pad))
    shifts = torch.randint(0, 2 * pad + 1, (n, 2), generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5
    out = torch.empty_like(xb)
    for i in range(n):
        dy, dx = int(shifts[i, 0]), int(shifts[i, 1])
        out[i] = padded[i, :, dy:dy + 28, dx:dx + 28]
    out[flips] = out[flips].flip(-1)
    return out


def rate(step, steps_per_epoch, epochs, base, warmup_epochs):
    """GraphGen's CosineSchedule with linear warmup (runtime/Training/Schedules.cs)."""
    total = steps_per_epoch * epochs
    warmup = round(warmup_epochs * steps_per_epoch)
    length = max(1, total - warmup)
    cosine = lambda t: (1 + math.cos(math.pi * t / length)) / 2
    return base * (cosine(0) * (step + 1) / warmup if step < warmup else cosine(min(step - warmup, length - 1)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--network", choices=["resnet8", "resnet10"], default="resnet8")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all)")
    ap.add_argument("--data-dir", default=DATA_DIR)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    xtr, ytr = load(args.data_dir, "train")
    xte, yte = load(args.data_dir, "t10k")
    if args.limit > 0:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    net = ResNet10() if args.network == "resnet10" else ResNet8()
    decay = [p for n, p in net.named_parameters() if n.endswith("weight") and not n.startswith("bn")]
    rest = [p for n, p in net.named_parameters() if not (n.endswith("weight") and not n.startswith("bn"))]
    opt = torch.optim.SGD([dict(params=decay, weight_decay=5e-4), dict(params=rest, weight_decay=0.0)],
                          lr=args.lr, momentum=0.9, nesterov=True)
    loss_fn = nn.CrossEntropyLoss()
    n = xtr.shape[0]
    steps_per_epoch = math.ceil(n / args.batch_size)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}, SGD lr {args.lr} "
          f"(cosine, warmup {args.warmup}), Nesterov momentum 0.9, weight decay 5e-4, crops and flips, {n:,} training images")
    print(f"{'epoch':>5} {'lr':>8} {'loss':>8} {'train acc':>9} {'test acc':>8} {'seconds':>8} {'images/s':>9}", flush=True)
    step = 0
    for epoch in range(1, args.epochs + 1):
        net.train()
        t0 = time.perf_counter()
        loss_sum, correct = 0.0, 0
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, args.batch_size):
            idx = perm[i:i + args.batch_size]
            xb, yb = augment(xtr[idx], gen), ytr[idx]
            lr = rate(step, steps_per_epoch, args.epochs, args.lr, args.warmup)
            for g in opt.param_groups:
                g["lr"] = lr
            out = net(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            loss_sum += loss.item() * xb.shape[0]
            correct += (out.argmax(1) == yb).sum().item()
        seconds = time.perf_counter() - t0
        net.eval()
        with torch.no_grad():
            test = sum((net(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, xte.shape[0], 1000)) / xte.shape[0]
        print(f"{epoch:>5} {lr:>8.3g} {loss_sum / n:>8.4f} {correct / n:>9.4f} {test:>8.4f} {seconds:>8.1f} {n / seconds:>9,.0f}", flush=True)


if __name__ == "__main__":
    main()

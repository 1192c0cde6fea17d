"""Plain PyTorch-eager baseline for `make bench` (run by lt-bench in the same session).

The loops a researcher would write: data as one tensor, batches gathered by a per-epoch
permutation, forward / cross-entropy / backward / optimizer step, then the pruning mask
multiplied into every weight (as the LTH harnesses do). Prints one JSON object.

    python bench/pytorch_baseline.py THREADS [DEVICE]   (DEVICE: cpu, the default, or cuda)
"""
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

def lenet():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))

def conv4():
    c = lambda i, o: [nn.Conv2d(i, o, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*c(3, 64), *c(64, 64), nn.MaxPool2d(2), *c(64, 128), *c(128, 128), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(128 * 8 * 8, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))

class Block(nn.Module):
    def __init__(self, i, o, s):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o)
        self.c2, self.b2 = nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o)
        self.sc = nn.Sequential(nn.Conv2d(i, o, 1, s, bias=False), nn.BatchNorm2d(o)) if (s != 1 or i != o) else nn.Identity()
    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        return F.relu(self.b2(self.c2(y)) + self.sc(x))

class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.c, self.b = nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16)
        blocks, i = [], 16
        for stage, o in enumerate([16, 32, 64]):
            for k in range(3):
                blocks.append(Block(i, o, 2 if stage > 0 and k == 0 else 1)); i = o
        self.blocks, self.fc = nn.Sequential(*blocks), nn.Linear(64, 10)
    def forward(self, x):
        x = self.blocks(F.relu(self.b(self.c(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

def train_steps(model, opt, x, y, batch, steps):
    masks = [torch.ones_like(p) for p in model.parameters() if p.dim() > 1]
    weights = [p for p in model.parameters() if p.dim() > 1]
    n = x.shape[0]
    perm = torch.randperm(n, device=x.device)
    for t in range(steps):
        b = (t * batch) % (n - batch)
        idx = perm[b:b + batch]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for w, m in zip(weights, masks):
                w.mul_(m)

def sync():
    """Waits for queued GPU work (a no-op on the CPU), so that a timer sees it done."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()

def timed(fn, warmup, steps, repeats=3):
    """Median rate of `repeats` timed runs of `steps`, after `warmup` untimed steps (this
    machine is shared and noisy; lt-bench takes the median of as many runs)."""
    fn(warmup)
    rates = []
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        fn(steps)
        sync()
        rates.append(steps / (time.perf_counter() - t))
    return sorted(rates)[len(rates) // 2]

def main():
    threads = int(sys.argv[1]); torch.set_num_threads(threads); torch.manual_seed(0)
    dev = torch.device(sys.argv[2] if len(sys.argv) > 2 else "cpu")
    out = {"threads": threads, "torch": torch.__version__, "device": str(dev)}
    x = torch.randn(6000, 1, 28, 28, device=dev); y = torch.randint(0, 10, (6000,), device=dev)
    m = lenet().to(dev); o = torch.optim.Adam(m.parameters(), 1.2e-3)
    out["lenet_steps_per_s"] = timed(lambda s: train_steps(m, o, x, y, 60, s), 50, 600)
    xe = torch.randn(15000, 1, 28, 28, device=dev)
    with torch.no_grad():
        m.eval()
        def evaluate(reps):
            for _ in range(reps):
                for i in range(0, 15000, 2500):
                    m(xe[i:i + 2500]).argmax(-1)
        out["lenet_eval_examples_per_s"] = 15000 * timed(evaluate, 1, 3); m.train()
    xc = torch.randn(2000, 3, 32, 32, device=dev); yc = torch.randint(0, 10, (2000,), device=dev)
    # On a GPU the convolutional steps take milliseconds: time more of them.
    gpu = dev.type != "cpu"
    m = conv4().to(dev); o = torch.optim.Adam(m.parameters(), 3e-4)
    out["conv4_steps_per_s"] = timed(lambda s: train_steps(m, o, xc, yc, 60, s), *((20, 200) if gpu else (3, 20)))
    m = ResNet20().to(dev); o = torch.optim.SGD(m.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
    out["resnet20_steps_per_s"] = timed(lambda s: train_steps(m, o, xc, yc, 128, s), *((20, 200) if gpu else (2, 10)))
    print(json.dumps(out))

if __name__ == "__main__":
    main()

"""PyTorch timings of workloads W6 (small CNN) and W7 (tiny causal transformer LM) of
shared/bench/WORKLOADS.md, for side-by-side comparison with `cargo bench --bench layers`
on the same machine in the same session.

* W6: Conv2d(1,16,5) -> ReLU -> MaxPool2d(2) -> Conv2d(16,32,5) -> ReLU -> MaxPool2d(2)
  -> Flatten -> Linear(512,10), batch 64 of 28x28 (the first 10,000 rows of W1's data),
  mean cross-entropy, Adam(lr 1e-3); batch k = rows [i, i+64), i = 64k mod (10000-64+1).
* W7: token Embedding(64,64) + position Embedding(64,64) -> 2 x TransformerEncoderLayer
  (d_model 64, nhead 4, dim_feedforward 256, dropout 0, gelu, batch_first, norm_first,
  causal mask) -> LayerNorm(64) -> Linear(64,64); batch 32 x 64 tokens from the uniform
  stream of seed 3; mean cross-entropy over all positions; AdamW(lr 3e-4, wd 0.01).

Timing: 10 warm-up steps, then 5 repetitions of 60 steps; the median time per step (and
the min-max of the repetitions). One thread unless `--threads N`.
Run: `python3 benches/peers/torch_layers.py --workload W6 --threads 1`.
"""

import argparse
import os
import statistics
import time

import numpy as np


def splitmix(seed, n):
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def normals(seed, n):
    u = splitmix(seed, n + (n % 2))
    u1, u2 = u[0::2], u[1::2]
    r = np.sqrt(-2.0 * np.log(1.0 - u1))
    t = 2.0 * np.pi * u2
    out = np.empty(len(u))
    out[0::2] = r * np.cos(t)
    out[1::2] = r * np.sin(t)
    return out[:n]


def w6_data(n=10_000):
    x = normals(1, n * 784).reshape(n, 784)
    w = normals(2, 784 * 10).reshape(784, 10)
    y = np.argmax(x @ w, axis=1)
    return x.astype(np.float32).reshape(n, 1, 28, 28), y.astype(np.int64)


def w7_tokens(nt=200_000):
    u = splitmix(3, nt)
    return np.minimum(np.floor(u * 64), 63).astype(np.int64)


def timed_steps(step, warmup=10, reps=5, steps=60):
    k = 0
    for _ in range(warmup):
        step(k)
        k += 1
    per_step = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(steps):
            step(k)
            k += 1
        per_step.append((time.perf_counter() - t) / steps)
    return statistics.median(per_step), min(per_step), max(per_step)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", choices=["W6", "W7"], required=True)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.workload == "W6":
        x, y = w6_data()
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        model = nn.Sequential(
            nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(512, 10),
        )
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step(k):
            i = (64 * k) % (10_000 - 64 + 1)
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[i:i + 64]), y[i:i + 64])
            loss.backward()
            opt.step()
    else:
        t = torch.from_numpy(w7_tokens())
        nt = t.shape[0]

        class TinyLM(nn.Module):
            def __init__(self):
                super().__init__()
                self.tok = nn.Embedding(64, 64)
                self.pos = nn.Embedding(64, 64)
                layer = nn.TransformerEncoderLayer(64, 4, 256, dropout=0.0, activation="gelu",
                                                   batch_first=True, norm_first=True)
                self.blocks = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
                self.norm = nn.LayerNorm(64)
                self.head = nn.Linear(64, 64)
                self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(64))

            def forward(self, ids):
                h = self.tok(ids) + self.pos(torch.arange(ids.shape[1]))
                h = self.blocks(h, mask=self.mask, is_causal=True)
                return self.head(self.norm(h))

        model = TinyLM()
        opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
        starts = lambda k: [((32 * k + j) * 64) % (nt - 65) for j in range(32)]

        def step(k):
            s = starts(k)
            inp = torch.stack([t[a:a + 64] for a in s])
            tgt = torch.stack([t[a + 1:a + 65] for a in s])
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(inp).reshape(-1, 64), tgt.reshape(-1))
            loss.backward()
            opt.step()

    med, lo, hi = timed_steps(step)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{args.workload} torch {torch.__version__} threads={args.threads} params={n_params}: "
          f"{med * 1e3:.2f} ms/step (min {lo * 1e3:.2f}, max {hi * 1e3:.2f})")


if __name__ == "__main__":
    main()

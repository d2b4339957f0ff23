"""Peer timings for ndtrain's benchmarks, run on the same machine in the same session.

Workloads as defined in shared/bench/WORKLOADS.md (the crate's benches/ mirror them):

* W2b: sklearn MLPClassifier(hidden_layer_sizes=(128,), solver="adam", batch_size=16,
  alpha=0, learning_rate_init=1e-3) on digits standardised as WORKLOADS.md says, float32;
  one epoch = one partial_fit call; 3 warm-up + 30 timed epochs; median ms/epoch and
  µs/step (113 steps per epoch).
* W3: numpy hand-written full-batch gradient descent for logistic regression on
  breast_cancer (float32, zero init, lr 0.1, 1000 steps); 1 warm-up + 7 timed runs.
* W5: StandardScaler().fit_transform on 1,000,000 x 32 float64 from the portable
  splitmix64 generator (seed 5, X[:, j] = z[:, j]*(j+1) + j); 1 warm-up + 7 timed runs.

Single-threaded (set the thread variables before numpy loads). Requires scikit-learn;
run with `python3 benches/peers/sklearn_peers.py`.
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import statistics
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler


def splitmix_normals(seed, n):
    """The portable generator of WORKLOADS.md: n standard normals (float64)."""
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    u1, u2 = u[0::2], u[1::2]
    r = np.sqrt(-2.0 * np.log(1.0 - u1))
    t = 2.0 * np.pi * u2
    out = np.empty(n)
    out[0::2] = r * np.cos(t)
    out[1::2] = r * np.sin(t)
    return out


def standardize(x):
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    return ((x - mean) / std).astype(np.float32)


def timed(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def w2b():
    digits = load_digits()
    x, y = standardize(digits.data.astype(np.float64)), digits.target
    mlp = MLPClassifier(hidden_layer_sizes=(128,), solver="adam", batch_size=16, alpha=0.0,
                        learning_rate_init=1e-3, shuffle=True, random_state=0)
    classes = np.unique(y)
    mlp.partial_fit(x, y, classes=classes)
    t = timed(lambda: mlp.partial_fit(x, y), warmup=3, reps=30)
    print(f"W2b sklearn MLPClassifier f32: {t * 1e3:.2f} ms/epoch, {t / 113 * 1e6:.1f} us/step")


def w3():
    bc = load_breast_cancer()
    x, y = standardize(bc.data), bc.target.astype(np.float32)

    def run():
        w, b = np.zeros(30, np.float32), np.float32(0.0)
        for _ in range(1000):
            z = x @ w + b
            p = 1.0 / (1.0 + np.exp(-z))
            g = (p - y) / np.float32(len(y))
            w -= np.float32(0.1) * (x.T @ g)
            b -= np.float32(0.1) * g.sum()
        return w, b

    t = timed(run, warmup=1, reps=7)
    print(f"W3 numpy hand-written GD: {t * 1e3:.2f} ms, {t / 1000 * 1e6:.2f} us/step")


def w5():
    z = splitmix_normals(5, 32_000_000).reshape(1_000_000, 32)
    x = z * np.arange(1, 33) + np.arange(32)
    t = timed(lambda: StandardScaler().fit_transform(x), warmup=1, reps=7)
    print(f"W5 sklearn StandardScaler fit_transform: {t * 1e3:.1f} ms")


if __name__ == "__main__":
    w2b()
    w3()
    w5()

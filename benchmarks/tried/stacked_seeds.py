"""Small networks, many runs: the seeds of one remedies arm stacked into one batched computation.

The remedies experiment trains many 784-32-32-32-32-10 sigmoid networks (batch 32, plain SGD,
squared error) on 1,600 Fashion-MNIST images each; a step costs ~0.35 ms, nearly all of it
Python and NumPy call overhead (the GEMMs are ~0.8 MFLOP each).  Here S such networks, each with
its own data split, initial weights and shuffling, advance together: every array gets a leading
axis of S, ``np.matmul`` runs the S products of a layer in one call, and every element-wise
operation is the engine's own, in the engine's order.

The script checks that slice s of the stack ends with the same bits as network s trained alone by
the engine (``loss_and_grads`` + ``SGD.step``, the NumPy path), then times both.  Usage:
    python stacked_seeds.py [S ...]           # default: 1 3 5 10

A measurement script behind a figure in benchmarks/README.md (section "Speed, round 2").
"""

import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "src"))
import numpy as np
from threadpoolctl import threadpool_limits

import neuronet as nn
from neuronet import kernels
from neuronet.experiments.common import load_data

kernels.disable()  # the remedies fits are below kernels.MIN_SAVED: they run on the NumPy path
SIZES, B, EPOCHS, LR = [784, 32, 32, 32, 32, 10], 32, 6, 3.0
STEPS = 49  # full batches per epoch every seed has (the splits hold 1,599-1,601 images); a stacked trainer
# would run each seed's remaining full batch and its partial last batch unstacked, in order


def data(seed):
    Xtr, ytr, *_ = load_data("fashion-mnist", seed=seed, max_train=2000, max_test=None)
    return np.ascontiguousarray(Xtr, np.float32), np.eye(10, dtype=np.float32)[ytr], ytr


def alone(seed, X, Y, labels, orders):
    """The engine, one network: what Trainer._run_epoch does per step, minus the callbacks."""
    net = nn.mlp(SIZES, hidden="sigmoid", output="sigmoid", loss="squared-error", init="fan-in", seed=seed)
    opt = nn.SGD(lr=LR)
    xb, yb = np.empty((B, X.shape[1]), np.float32), np.empty((B, 10), np.float32)
    losses, correct = [], 0
    for idx in orders:
        for s in range(0, STEPS * B, B):
            Xb = np.take(X, idx[s : s + B], axis=0, out=xb, mode="clip")
            Yb = np.take(Y, idx[s : s + B], axis=0, out=yb, mode="clip")
            loss, out = net.loss_and_grads(Xb, Yb, train=True, validate=False, return_outputs=True)
            losses.append(loss)
            correct += int(np.count_nonzero(out.argmax(axis=1) == labels[idx[s : s + B]]))
            opt.step(net.parameters)
    return net.parameters.data.copy(), losses, correct


class Stack:
    """S networks of SIZES with a leading axis: weights (S, n_in, n_out), biases (S, 1, n_out)."""

    def __init__(self, seeds):
        nets = [nn.mlp(SIZES, hidden="sigmoid", output="sigmoid", loss="squared-error", init="fan-in", seed=s) for s in seeds]
        S = len(seeds)
        self.W = [np.stack([n.layers[i].W for n in nets]) for i in range(len(SIZES) - 1)]
        self.b = [np.stack([n.layers[i].b for n in nets])[:, None, :] for i in range(len(SIZES) - 1)]
        self.z = [np.empty((S, B, m), np.float32) for m in SIZES[1:]]
        self.d = [np.empty((S, B, m), np.float32) for m in SIZES[1:]]
        self.work = [np.empty((S, B, m), np.float32) for m in SIZES[1:]]
        self.dW = [np.empty_like(W) for W in self.W]
        self.db = [np.empty_like(b) for b in self.b]
        self.unit = nn.Sigmoid()
        self.lr = np.float32(LR)

    def step(self, Xb, Yb):
        h = Xb
        for W, b, z in zip(self.W, self.b, self.z):  # Dense.forward: a = h W; a += b; z = S(a) in place
            np.matmul(h, W, out=z)
            z += b
            self.unit.forward(z, z)
            h = z
        Z = self.z[-1]
        diff = Z - Yb  # SquaredError.values, row by row; the mean per network as losses._mean does it
        vals = 0.5 * np.einsum("sij,sij->si", diff, diff)
        losses = np.add.reduce(vals, axis=1).astype(np.float64) / B
        d = self.d[-1]
        np.subtract(Z, Yb, out=d)  # loss.delta, then through the output unit, then the batch mean
        self.unit.backward(Z, d, self.work[-1])
        d *= 1.0 / B
        for i in range(len(self.W) - 1, -1, -1):  # Dense.backward, NumPy path
            d = self.d[i]
            if i < len(self.W) - 1:
                self.unit.backward(self.z[i], d, self.work[i])
            np.add.reduce(d, axis=1, out=self.db[i][:, 0, :])
            np.matmul((Xb if i == 0 else self.z[i - 1]).transpose(0, 2, 1), d, out=self.dW[i])
            if i:
                np.matmul(d, self.W[i].transpose(0, 2, 1), out=self.d[i - 1])
        for p, g in zip(self.W + self.b, self.dW + self.db):  # SGD._update, NumPy path
            g *= self.lr
            p -= g
        return losses, Z

    def flat(self, s):
        return np.concatenate([a for W, b in zip(self.W, self.b) for a in (W[s].ravel(), b[s].ravel())])


def stacked(seeds, sets, orders):
    st = Stack(seeds)
    S = len(seeds)
    xb = np.empty((S, B, SIZES[0]), np.float32)
    yb = np.empty((S, B, 10), np.float32)
    lb = np.empty((S, B), sets[0][2].dtype)
    losses, correct = [[] for _ in seeds], [0] * S
    for e in range(EPOCHS):
        for s0 in range(0, STEPS * B, B):
            for j, (X, Y, lab) in enumerate(sets):
                idx = orders[j][e][s0 : s0 + B]
                np.take(X, idx, axis=0, out=xb[j], mode="clip")
                np.take(Y, idx, axis=0, out=yb[j], mode="clip")
                np.take(lab, idx, out=lb[j], mode="clip")
            ls, Z = st.step(xb, yb)
            hits = np.count_nonzero(Z.argmax(axis=2) == lb, axis=1)
            for j in range(S):
                losses[j].append(float(ls[j]))
                correct[j] += int(hits[j])
    return st, losses, correct


def main(counts):
    top = max(counts)
    seeds = list(range(top))
    sets = [data(s) for s in seeds]
    orders = [[np.random.default_rng(s).permutation(len(X)) for _ in range(EPOCHS)] for s, (X, _, _) in zip(seeds, sets)]
    with threadpool_limits(1, "blas"):
        ref = [alone(s, *sets[j], orders[j]) for j, s in enumerate(seeds)]
        st, losses, correct = stacked(seeds, sets, orders)
        same = all(np.array_equal(st.flat(j), ref[j][0]) for j in range(top))
        same_loss = all(losses[j] == [float(v) for v in ref[j][1]] for j in range(top))
        same_hits = all(correct[j] == ref[j][2] for j in range(top))
        print(f"{top} seeds, {EPOCHS} epochs: weights bit-identical {same}, losses identical {same_loss}, hits identical {same_hits}")
        for S in counts:
            t_alone, t_stack = [], []
            for _ in range(3):
                t = time.perf_counter()
                for j in range(S):
                    alone(seeds[j], *sets[j], orders[j])
                t_alone.append(time.perf_counter() - t)
                t = time.perf_counter()
                stacked(seeds[:S], sets[:S], orders[:S])
                t_stack.append(time.perf_counter() - t)
            a, s = np.median(t_alone), np.median(t_stack)
            steps = EPOCHS * STEPS
            print(f"S={S:3d}: alone {a / S / steps * 1e3:.3f} ms/step/net  stacked {s / S / steps * 1e3:.3f} ms/step/net  speed-up {a / s:.2f}x")


if __name__ == "__main__":
    main([int(v) for v in sys.argv[1:]] or [1, 3, 5, 10])

"""Fahlman's encoder trials, many at once: one seed's initial weights at every step size of a grid.

A run of the ``quickprop`` experiment trains the same initial weights (one seed) at every grid
point of one method, in lockstep: the ``S`` copies are stacked along a leading axis and updated
together.  The forward and backward passes below are the engine's for this network (sigmoid
hidden and output units, squared error averaged over the batch, ``S′ + c`` in backprop), written
for stacks; the update is the engine's own optimizer (``neuronet.optim.Momentum`` or
``Quickprop``) stepping a ``neuronet.Parameters`` that holds the whole stack.  The tests check
each stacked trial against ``Network.loss_and_grads`` plus the optimizer, step by step.

Per-trial step sizes with one optimizer: the optimizer runs at ``lr = 1`` on gradients already
multiplied by each trial's own ``lr``.  For momentum, ``v ← μv − 1·(lr g)`` is the rule at
``lr``; for Quickprop every quantity it compares (the slope ``s``, the previous slope ``p``) is
scaled by the same ``lr``, so the parabolic step ``d·s/(p − s)``, the growth limit and the
gradient term ``−1·(lr s)`` are those of the rule at ``lr``.  Momentum values need one optimizer
each: each momentum value owns one contiguous block of the stack's buffer (``Stack``).

To keep a run short it stops once ``relative_cap`` times the first learning epoch of any of its
grid points has passed; a grid point still going then is "cut" (at least that many times slower
than the seed's best point), and its stopping epoch is a lower bound on its epochs to learn.

References
----------
Fahlman, S. E. (1988). An empirical study of learning speed in back-propagation networks.
CMU-CS-88-162, Carnegie Mellon University.
"""

from __future__ import annotations

import math

import numpy as np

from ..data.synthetic import encoder, parse_encoder_spec
from ..errors import ConfigError, DataError
from ..network import mlp
from ..optim import Momentum, Quickprop
from ..parameters import Parameters

#: method -> (optimizer, uses the S′ offset); "backprop" is gradient descent with momentum
METHODS = {
    "backprop": ("momentum", False),
    "backprop+offset": ("momentum", True),
    "quickprop": ("quickprop", False),
    "quickprop+offset": ("quickprop", True),
}
SQRT2 = math.sqrt(2.0)  # the step grid's factor
#: trial outcomes (see ``train_grid``)
LEARNED, CAP, CUT, DIVERGED = "learned", "cap", "cut", "diverged"
LABELS = {
    "backprop": "backprop",
    "backprop+offset": "backprop + S′ offset",
    "quickprop": "Quickprop",
    "quickprop+offset": "Quickprop + S′ offset",
}


def problem(spec) -> tuple[int, int]:
    """``"8-3-8"`` -> ``(8, 3)``; ConfigError for anything that is not an encoder N-M-N."""
    try:
        return parse_encoder_spec(f"encoder:{spec}")
    except DataError as e:
        raise ConfigError(f"problems: {spec!r} is not an encoder N-M-N ({e})") from None


def initial_weights(spec, seed, init_range) -> list[np.ndarray]:
    """``[W1 (n, m), b1 (m,), W2 (m, n), b2 (n,)]``, every weight and bias from U(±init_range).

    A bias is a weight from an always-on unit (Fahlman), so it is drawn like the others.  The
    weights are those of ``neuronet.mlp([n, m, n], init="uniform:r", rng=default_rng([seed, n, m]))``
    with the biases then drawn from the same generator.
    """
    n, m = problem(spec)
    rng = np.random.default_rng([seed, n, m])
    net = mlp([n, m, n], hidden="sigmoid", output="sigmoid", init=f"uniform:{init_range}", dtype=np.float64, rng=rng)
    for layer in net.layers:
        layer.b[...] = rng.uniform(-init_range, init_range, layer.b.shape)
    return [p.copy() for p in net.params]


def engine_network(spec, seed, init_range, offset):
    """The engine's ``Network`` for one trial (the tests replay a stacked trial through it)."""
    n, m = problem(spec)
    net = mlp(
        [n, m, n],
        hidden="sigmoid",
        output="sigmoid",
        loss="squared-error",
        init=f"uniform:{init_range}",
        prime_offset=offset,
        dtype=np.float64,
        seed=0,
    )
    net.set_weights(initial_weights(spec, seed, init_range))
    return net


def _sigmoid(a):
    """``1 / (1 + e^{-a})`` in place, as ``units.Sigmoid.forward`` (call under ``np.errstate(over="ignore")``)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


NAMES = ("W1", "b1", "W2", "b2")


class Stack:
    """``G × L`` copies of one network in a ``neuronet.Parameters``: ``G`` groups (one per optimizer)
    of ``L`` trials each.

    Group ``g`` owns one contiguous block of the flat buffer, ``[W1.g (L, n, m), b1.g (L, m),
    W2.g (L, m, n), b2.g (L, n)]``, so an engine optimizer steps a whole group with one array
    per update (``blocks``).  ``W1``, ``b1``, ``W2``, ``b2`` (and ``grads``) are strided views
    of all groups at once, ``(G, L, …)``, for the forward and backward passes.
    """

    def __init__(self, weights, G, L):
        arrays = [(f"{name}.{g}", np.repeat(w[None], L, axis=0)) for g in range(G) for name, w in zip(NAMES, weights)]
        self.parameters = Parameters(arrays, np.float64)
        self.G, self.L = G, L
        block = self.parameters.size // G
        self.values = self._views(self.parameters.data, block)
        self.grads = self._views(self.parameters.grad, block)
        self.blocks = [
            (self.parameters.data[g * block : (g + 1) * block], self.parameters.grad[g * block : (g + 1) * block])
            for g in range(G)
        ]

    def _views(self, flat, block):
        """``(G, L, …)`` views of one array name across the groups (blocks are the same size)."""
        out = []
        for i in range(len(NAMES)):
            first = self.parameters.split(flat)[i]  # (L, ...) of group 0
            strides = (block * flat.itemsize, *first.strides)
            out.append(np.lib.stride_tricks.as_strided(first, (self.G, *first.shape), strides))
        return out

    def forward(self):
        """Hidden and output activations ``(G, L, N, m)`` and ``(G, L, N, n)`` of every copy on the
        N one-hot patterns ``X = I`` (so ``X W1 = W1``)."""
        W1, b1, W2, b2 = self.values
        z1 = _sigmoid(W1 + b1[..., None, :])
        return z1, _sigmoid(np.matmul(z1, W2) + b2[..., None, :])

    def backward(self, Y, z1, z2, c, grads):
        """Gradients of the batch-mean squared error into ``grads``, with ``S′ + c`` in both layers.

        Per copy (B = N one-hot patterns, ``X = I``, targets ``Y = I``)::

            d2 = (z2 − y) (z2 (1 − z2) + c) / B
            gW2 = z1ᵀ d2,  gb2 = Σ_b d2
            d1 = (d2 W2ᵀ) (z1 (1 − z1) + c)
            gW1 = Xᵀ d1 = d1,  gb1 = Σ_b d1
        """
        W2 = self.values[2]
        gW1, gb1, gW2, gb2 = grads
        d2 = z2 * (1 - z2)
        if c:
            d2 += c
        d2 *= z2 - Y
        d2 *= 1.0 / Y.shape[0]  # (G, L, B, n)
        np.matmul(np.swapaxes(z1, -1, -2), d2, out=gW2)  # (G, L, m, n)
        np.add.reduce(d2, axis=-2, out=gb2)  # (G, L, n)
        d1 = np.matmul(d2, np.swapaxes(W2, -1, -2))  # (G, L, B, m)
        s1 = z1 * (1 - z1)
        if c:
            s1 += c
        np.multiply(d1, s1, out=gW1)  # Xᵀ d1 with X = I: (G, L, n, m)
        np.add.reduce(gW1, axis=-2, out=gb1)  # (G, L, m)

    def cosines(self, Y, z1, z2, c):
        """Cosine, per copy ``(G·L,)``, between the ``S′ + c`` direction and the true gradient (``c = 0``)."""
        off = [np.empty(v.shape) for v in self.values]
        true = [np.empty(v.shape) for v in self.values]
        self.backward(Y, z1, z2, c, off)
        self.backward(Y, z1, z2, 0.0, true)
        S = self.G * self.L
        flat_off = np.concatenate([g.reshape(S, -1) for g in off], axis=1)  # (S, P)
        flat_true = np.concatenate([g.reshape(S, -1) for g in true], axis=1)
        dot = np.einsum("sp,sp->s", flat_off, flat_true)
        return dot / (np.linalg.norm(flat_off, axis=1) * np.linalg.norm(flat_true, axis=1))


def checkpoints(max_epochs) -> list[int]:
    """Epochs at which the offset's direction is measured: 0, 1, 2, 4, 8, … up to ``max_epochs``."""
    out, e = [0], 1
    while e <= max_epochs:
        out.append(e)
        e *= 2
    return out


def _optimizer(method, momentum, cfg):
    """The engine optimizer of ``method`` at ``lr = 1`` (each trial's gradient carries its own rate)."""
    if METHODS[method][0] == "momentum":
        return Momentum(lr=1.0, momentum=momentum)
    return Quickprop(lr=1.0, mu=cfg.mu)


def train_grid(spec, seed, method, cfg) -> list[dict]:
    """Train one seed's initial weights at every grid point of ``method``, all in lockstep.

    Per grid point: ``epochs``, the number of updates made before every output of every pattern
    was within ``cfg.tolerance`` of its target (checked on the forward pass each update uses;
    None unless learned), and ``outcome``: "learned"; "cap" (not learned in ``cfg.max_epochs``
    updates); "cut" (stopped at epoch ``stop``: the run ends once ``cfg.relative_cap`` times the
    first learning epoch of any grid point of this run has passed, so a grid point cut there is
    at least that many times slower than this seed's best one); "diverged" (a NaN output).  For
    an offset method, ``cosines``: the cosine between the ``S′ + c`` direction and the true
    gradient at each of ``checkpoints`` the trial reached.

    One ``Stack`` holds every grid point; each momentum value's block of it is stepped by its
    own engine optimizer (``step(params, grads)`` on the block's flat views).
    """
    n, _ = problem(spec)
    c = cfg.prime_offset if METHODS[method][1] else 0.0
    points = grid(cfg, method)  # momentum-major: G groups of the same L step sizes
    moms = list(dict.fromkeys(m for _, m in points))
    G, L = len(moms), len(points) // len(moms)
    S = G * L
    stack = Stack(initial_weights(spec, seed, cfg.init_range), G, L)
    lr = np.array([p[0] for p in points]).reshape(G, L)
    opts = [_optimizer(method, mom or 0.0, cfg) for mom in moms]
    X, _ = encoder(n, dtype=np.float64)  # (N, N) one-hot patterns: the identity
    Y = X.copy()  # targets = inputs
    epochs, outcomes = [None] * S, [CAP] * S
    cosines = [[] for _ in range(S)]
    marks = set(checkpoints(cfg.max_epochs)) if c else set()
    active = np.ones(S, bool)
    stop, first = cfg.max_epochs, None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(cfg.max_epochs + 1):
            z1, z2 = stack.forward()
            if epoch in marks:
                cs = stack.cosines(Y, z1, z2, c)
                for k in np.flatnonzero(active):
                    cosines[k].append(float(cs[k]))
            worst = np.abs(z2 - Y).max(axis=(-2, -1)).reshape(S)  # NaN where a trial blew up
            done = active & (worst < cfg.tolerance)
            for k in np.flatnonzero(done):
                epochs[k], outcomes[k] = epoch, LEARNED
            for k in np.flatnonzero(active & np.isnan(worst)):
                outcomes[k] = DIVERGED
            if done.any() and first is None:
                first = epoch  # the first grid point learned: the others get relative_cap times as long
                stop = min(cfg.max_epochs, math.ceil(cfg.relative_cap * max(epoch, 1)))
            active &= ~(done | np.isnan(worst))
            if not active.any() or epoch >= stop:
                break
            stack.backward(Y, z1, z2, c, stack.grads)
            for g in stack.grads:
                g *= lr.reshape(G, L, *(1,) * (g.ndim - 2))  # each trial's own step size
            for opt, (values, grads) in zip(opts, stack.blocks):
                opt.step([values], [grads])
    return [
        {
            "lr": lr_k,
            "momentum": mom,
            "epochs": epochs[k],
            "outcome": CUT if outcomes[k] == CAP and stop < cfg.max_epochs else outcomes[k],
            "stop": stop,
            "cosines": cosines[k],
        }
        for k, (lr_k, mom) in enumerate(points)
    ]


def score(point, cfg) -> float:
    """Epochs to learn, or the epoch the trial was stopped at (a lower bound) when it did not learn."""
    if point["outcome"] == LEARNED:
        return float(point["epochs"])
    return float(point["stop"] if point["outcome"] == CUT else cfg.max_epochs)


def grid(cfg, method):
    """The ``(lr, momentum)`` grid points of ``method`` (momentum None for Quickprop), momentum-major.

    ``cfg.step_grid`` holds effective step sizes ``lr / (1 − momentum)`` (the step a steady
    gradient settles to), so every momentum value explores the same range of steps.
    """
    if METHODS[method][0] == "momentum":
        return [(float(f"{step * (1 - mom):.6g}"), mom) for mom in cfg.momenta for step in cfg.step_grid]
    return [(step, None) for step in cfg.step_grid]


def effective_step(lr, momentum) -> float:
    """``lr / (1 − momentum)``: the grid coordinate of a point (``lr`` for Quickprop)."""
    return lr / (1 - (momentum or 0.0))


def lr_grid(low, high, factor=SQRT2) -> tuple:
    """``low, low·f, low·f², … ≤ high`` (rounded to 6 significant digits)."""
    out, k = [], 0
    while low * factor**k <= high * (1 + 1e-9):
        out.append(float(f"{low * factor**k:.6g}"))
        k += 1
    return tuple(out)

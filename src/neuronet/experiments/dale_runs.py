"""The runs of the ``dale`` experiment: networks, balanced E/I initialisation, training with sign bookkeeping.

Every network is ``mlp([n_in, w, w, k])`` with ReLU hidden units and a softmax output.  In a Dale
network (``mlp(dale=f)``) each hidden unit is excitatory (fraction ``f``) or inhibitory, and all its
outgoing weights keep that sign: the engine projects a weight that crosses zero back to exactly 0
after every update (``Dense.after_update``).  The weights out of the input pixels are free in every
arm (pixels are data, not neurons), so the constrained positions are ``layers[1:]``; the free arm is
measured at the same positions.

Balanced initialisation (after Cornford et al. 2021, "Learning to live with Dale's principle: ANNs
with separate excitatory and inhibitory units", ICLR; their ColumnEI layers).  The engine's default
makes a Dale layer's weights ``|w| · sign``: with 80% excitatory units every postsynaptic unit starts
with a net excitatory drive (``Σ_i w_ij ≈ 0.6 · n · E|w| > 0``).  Cornford et al. draw magnitudes from
an exponential distribution and give the inhibitory population a mean ``n_E / n_I`` times larger, so
that in expectation each unit receives as much inhibition as excitation.  Here the balance is made
exact for each postsynaptic unit ``j`` on the training images, with ``r_i`` the mean output of
presynaptic unit ``i`` over a probe of them (the layers below already initialised)::

    m_ij ~ Exponential(1)                                    # magnitudes, (n_in, n_out)
    m_ij *= Σ_{e∈E} m_ej r_e / Σ_{i'∈I} m_i'j r_i'  for i ∈ I  # mean excitatory drive = mean inhibitory drive
    w_ij  = s_i m_ij / ‖s m_·j‖₂                             # Σ_i w_ij² = 1, as E Σ_i w_ij² of N(0, 1/n)

so every unit's mean net drive at the start is zero.  (Balancing the weight sums alone leaves narrow layers
with a net excitatory drive, E/I index +0.23 ± 0.15 at width 8 on digits over 10 seeds, 0.01 at width 32:
presynaptic units differ in how active they are, and two inhibitory units average little of that out.)
Every column also has the squared norm that the free network's fan-in initialisation ``N(0, 1/n)`` has
in expectation.  The engine has no such option: the weights are set through ``Network.set_weights``,
which checks them against the Dale signs.  A first-class option would be an initializer for Dale layers (``mlp(dale=0.8,
dale_init="balanced")``, applied in ``Dense.set_dale_signs`` instead of ``|W| · sign``), balancing the
weight sums; the drive balance needs data, as in a data-dependent initialisation.

Training is the engine's one training path, written out so that every update can be watched:
``loss_and_grads`` on a mini-batch, ``optimizer.step(net.parameters)``, ``net.after_update()`` (the
Dale projection).  After each update, at the constrained positions:

* free network: the weights whose sign changed (a *crossing*), and which ever crossed;
* Dale network: the weights the projection newly put at 0 (a *blocked crossing*: gradient descent
  pushed them through zero), and which were ever at 0.
"""

from __future__ import annotations

import functools

import numpy as np

from ..network import mlp
from ..optim import get_optimizer
from .common import load_data

#: the arms: free weights; Dale with balanced initialisation; Dale with the engine's |w|·sign
ARMS = ("free", "dale", "dale-unbalanced")


@functools.lru_cache(maxsize=4)
def dataset(spec: str, seed: int, max_train, max_test):
    """The seed's split (cached per process: every arm, width and rate of a seed reuses it; never modified)."""
    return load_data(spec, seed=seed, max_train=max_train, max_test=max_test)


def balanced_weights(signs, n_out, rng, rates=None) -> np.ndarray:
    """Balanced E/I weights for presynaptic units with ``signs`` (n_in,) of ±1: (n_in, n_out), float64.

    Exponential magnitudes (Cornford et al. 2021).  Per column, the inhibitory magnitudes are scaled so
    that the mean inhibitory drive equals the mean excitatory drive, ``Σ_E m_ej r_e = Σ_I m_ij r_i`` with
    ``rates`` (n_in,) the presynaptic units' mean outputs (all 1 when not given: the weight sums balance);
    where every unit of one population is silent the weight sums are balanced instead.  Then the column is
    scaled to unit norm.  Needs at least one unit of each sign.
    """
    signs = np.asarray(signs, dtype=np.float64)
    exc, inh = signs > 0, signs < 0
    if not exc.any() or not inh.any():
        raise ValueError(
            f"balanced E/I initialisation needs excitatory and inhibitory units; got {int(exc.sum())} E, "
            f"{int(inh.sum())} I (use an excitatory fraction below 1 and a wider layer)"
        )
    r = np.ones(signs.size) if rates is None else np.asarray(rates, dtype=np.float64)
    m = rng.exponential(1.0, size=(signs.size, n_out))  # (n_in, n_out), > 0
    e_drive, i_drive = r[exc] @ m[exc], r[inh] @ m[inh]  # (n_out,) mean drive of each population
    by_sum = m[exc].sum(axis=0) / m[inh].sum(axis=0)
    live = (e_drive > 0) & (i_drive > 0)
    m[inh] *= np.where(live, e_drive / np.where(live, i_drive, 1.0), by_sum)  # excitation = inhibition, per unit
    w = m * signs[:, None]
    return w / np.sqrt((w**2).sum(axis=0))  # Σ_i w_ij² = 1


def build(cfg, arm: str, width: int, n_in: int, k: int, seed: int, probe=None):
    """The arm's network for ``seed``; its first layer is the same in every arm of the seed.

    The balanced Dale start needs ``probe`` (training inputs, (B, n_in)): each constrained layer is set in
    turn, from its presynaptic units' mean outputs on the probe under the layers below it.
    """
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; valid: {', '.join(ARMS)}")
    net = mlp(
        [n_in, width, width, k],
        hidden=cfg.activation,
        seed=seed,
        dale=None if arm == "free" else cfg.excitatory_fraction,
    )
    if arm == "dale":
        rng = np.random.default_rng([seed, 1])
        for i, L in enumerate(net.layers):
            if L.dale_signs is None:
                continue
            rates = net.activations(probe)[i - 1].mean(axis=0)  # presynaptic mean outputs, (n_in,)
            weights = net.get_weights()
            weights[2 * i] = balanced_weights(L.dale_signs, L.n_out, rng, rates).astype(net.dtype)
            net.set_weights(weights)  # refuses weights against their Dale signs
    return net


def ei_balance(net, X) -> float:
    """Net excitatory share of the synaptic drive at the constrained layers, averaged over units.

    For unit ``j`` with presynaptic outputs ``h ≥ 0``: ``E_j = mean_x Σ_i h_i max(w_ij, 0)``,
    ``I_j = mean_x Σ_i h_i max(−w_ij, 0)`` and the index ``(E_j − I_j) / (E_j + I_j)`` in [−1, 1]
    (0: balanced; +1: excitation only).  Units that receive nothing are left out.
    """
    acts = net.activations(X)  # every layer's output, (B, n_out) each
    values = []
    for L, h in zip(net.layers[1:], acts[:-1]):
        e = (h @ np.maximum(L.W, 0)).mean(axis=0)  # (n_out,)
        i = (h @ np.maximum(-L.W, 0)).mean(axis=0)
        live = (e + i) > 0
        values.extend(((e[live] - i[live]) / (e[live] + i[live])).tolist())
    return float(np.mean(values)) if values else float("nan")


def _accuracy(net, X, y) -> float:
    return float(np.mean(np.argmax(net.predict(X), axis=1) == y))


class SignWatch:
    """Sign bookkeeping at the constrained positions (``layers[1:]``), updated after every step."""

    def __init__(self, net, dale: bool):
        self.dale = dale
        self.layers = net.layers[1:]
        self.start = [L.W > 0 for L in self.layers]  # initial signs
        self.prev = [L.W.copy() for L in self.layers]
        self.ever = [np.zeros(L.W.shape, bool) for L in self.layers]  # ever crossed / ever at 0
        self.events = 0  # crossings (free) or blocked crossings (Dale)
        self.size = sum(L.W.size for L in self.layers)

    def update(self):
        for L, prev, ever in zip(self.layers, self.prev, self.ever):
            W = L.W
            if self.dale:
                hit = W == 0  # held at 0 by the projection
                self.events += int(np.count_nonzero(hit & (prev != 0)))  # newly projected to 0
            else:
                hit = (W > 0) != (prev > 0)  # crossed zero in this step (a weight at exactly 0 counts as negative)
                self.events += int(np.count_nonzero(hit))
            ever |= hit
            np.copyto(prev, W)

    def summary(self) -> dict:
        n = self.size
        ever = sum(int(e.sum()) for e in self.ever)
        if self.dale:
            at_zero = sum(int(np.count_nonzero(L.W == 0)) for L in self.layers)
            regrown = sum(int(np.count_nonzero(e & (L.W != 0))) for L, e in zip(self.layers, self.ever))
            return {
                "weights": n,
                "blocked_per_weight": self.events / n,
                "ever_pinned": ever / n,
                "pinned_end": at_zero / n,
                "regrown": regrown / n,
            }
        flipped = sum(int(np.count_nonzero((L.W > 0) != s)) for L, s in zip(self.layers, self.start))
        return {"weights": n, "crossings_per_weight": self.events / n, "ever_crossed": ever / n, "flipped": flipped / n}


def run(cfg, arm: str, width: int, lr: float, seed: int, test: bool) -> dict:
    """Train one network; its validation curve, sign bookkeeping, E/I balance and (``test``) test accuracy."""
    Xtr, ytr, Xv, yv, Xte, yte, k = dataset(cfg.data, seed, cfg.max_train, cfg.max_test)
    probe = Xtr[: cfg.probe_size]
    net = build(cfg, arm, width, Xtr.shape[1], k, seed, probe)
    balance0 = ei_balance(net, probe)
    watch = SignWatch(net, dale=arm != "free")
    opt = get_optimizer(cfg.optimizer, lr=lr)
    Y = np.eye(k, dtype=net.dtype)[ytr]  # one-hot targets, (n, k)
    n, B = Xtr.shape[0], min(cfg.batch_size, Xtr.shape[0])
    rng = np.random.default_rng([seed, 2])  # batch order: the same in every arm of a seed
    good = net.parameters.data.copy()
    val, diverged = [], False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(cfg.epochs):
            np.copyto(good, net.parameters.data)
            order = rng.permutation(n)
            for s in range(0, n, B):
                idx = order[s : s + B]
                loss = net.loss_and_grads(Xtr[idx], Y[idx], validate=False)  # grads into net.parameters.grad
                opt.step(net.parameters)
                net.after_update()  # Dale's projection (a no-op in the free network)
                watch.update()
            if not (np.isfinite(loss) and np.isfinite(net.parameters.data).all()):
                np.copyto(net.parameters.data, good)  # back to the last good epoch, then stop
                diverged = True
                break
            val.append(_accuracy(net, Xv, yv))
    return {
        "val": val,
        "val_final": _accuracy(net, Xv, yv),
        "test": _accuracy(net, Xte, yte) if test else None,
        "diverged": diverged,
        "balance0": balance0,
        "balance_end": ei_balance(net, probe),
        "signs": watch.summary(),
    }

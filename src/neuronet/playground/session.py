"""One browser tab's network: its options, data, network, optimizer and the frames it streams.

The session trains through the engine's public path only::

    loss = net.loss_and_grads(Xb, Yb, train=True, rng=rng)   # forward, loss, backward
    opt.step(net.parameters)                                 # in place, from parameters.grad
    net.after_update()                                       # layer constraints

and measures with ``neuronet.layer_diagnostics`` (saturated fraction, mean S′, dead units,
gradient norms per layer) on a fixed probe batch, ``Network.loss_value`` (train and test
loss) and ``Network.activations`` over the plane grid (every unit's map in one batched
forward pass).

A frame whose steps give a loss or weights that are not finite, or a loss ``DIVERGE_FACTOR``
times the run's first, restores the weights of the frame before, starts a fresh optimizer
and pauses the session: "diverged: weights rolled back".

Memory is bounded by the options' limits: the data (at most digits, 1,797 × 64 float32), the
network (≤ 6 × 128 hidden units, about 90k parameters) with its batch buffers (≤ 1024 rows), and
the grid's activations (2,304 × ≤ 778 units).  Measured with ``tracemalloc`` at those limits
(6 × 128 units, batch 1024, Adam): about 25 MB held and 31 MB at peak per session, so 40 MB is
the stated bound.  The loss history keeps at most ``MAX_HISTORY`` points (every other point is
dropped when it is full).
"""

from __future__ import annotations

import math
import time

import numpy as np

from .. import encode_targets, get_optimizer, layer_diagnostics, mlp
from . import views
from .datasets import PLANE_EXTENT, make_data, plane_grid
from .export import export
from .options import (
    DEFAULTS,
    OUTPUTS,
    SOFT_TARGETS,
    OptionError,
    init_spec,
    remedy_changes,
    remedy_state,
    validate_changes,
)
from .presets import PRESETS

GRID = 48  # the output map: GRID × GRID points over the plane
UNIT_GRID = 24  # each hidden unit's map (every second grid point)
SMALL_UNIT_GRID = 16  # ... when the network has many hidden units
MAX_MAPS_PER_LAYER = 32  # hidden-unit maps sent per layer
PROBE_SIZE = 256  # samples of the diagnostics' probe batch
MAX_HISTORY = 2000
#: a probe loss above this many times the run's first one counts as diverged (as a NaN does)
DIVERGE_FACTOR = 1e3
#: options that change the data; the others (except the live ones) change only the network
DATA_KEYS = ("dataset", "noise", "train-fraction", "seed")
#: options applied to the running network without starting over
LIVE_KEYS = ("optimizer", "learning-rate", "batch-size", "speed")


def _finite(x) -> float | None:
    """A float for JSON, or None for NaN/inf (JSON has no NaN)."""
    x = float(x)
    return x if math.isfinite(x) else None


class NetSession:
    """The network tab of one browser tab.  Not thread-safe: the server serialises calls."""

    def __init__(self, config: dict | None = None):
        self.config = dict(DEFAULTS if config is None else config)
        self.data = None
        self._data_key = None
        self.reset()

    # -- configuration ------------------------------------------------------------------------
    def apply(self, changes: dict) -> list[str]:
        """Validate and apply option changes (``OptionError`` leaves everything as it was).

        Returns notes on automatic adjustments.  Structural changes start a new network;
        optimizer, learning rate, batch size and speed apply to the running one.
        """
        new, notes = validate_changes(self.config, changes)
        changed = {k for k in new if new[k] != self.config[k]}
        old_optimizer = self.config["optimizer"]
        self.config = new
        if changed - set(LIVE_KEYS):
            self.reset()
        elif new["optimizer"] != old_optimizer:
            self.optimizer = self._new_optimizer()
        else:
            self.optimizer.lr = float(new["learning-rate"])
        return notes

    def apply_preset(self, name) -> str:
        """Load preset ``name``; returns what the scene shows."""
        if name not in PRESETS:
            raise OptionError("preset", f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
        self.config = PRESETS[name].config()
        self.reset()
        return PRESETS[name].look

    def apply_remedy(self, which, on) -> list[str]:
        return self.apply(remedy_changes(self.config, which, on))

    def remedies(self) -> dict:
        return {str(k): v for k, v in remedy_state(self.config).items()}

    # -- building -----------------------------------------------------------------------------
    def _targets(self, y):
        if self.data.task == "regression":
            return np.ascontiguousarray(y, dtype=np.float32).reshape(-1, 1)
        soft = SOFT_TARGETS if self.config["soft-targets"] else None
        return encode_targets(y, self.data.n_classes, self.output_name, soft, dtype=np.float32)

    def _new_optimizer(self):
        name, lr = self.config["optimizer"], float(self.config["learning-rate"])
        extra = {"momentum": 0.9} if name == "momentum" else {}  # neuronet train's default momentum
        return get_optimizer(name, lr=lr, **extra)

    def reset(self):
        """New weights (and new data when a data option changed); the curves start over."""
        c = self.config
        key = tuple(c[k] for k in DATA_KEYS)
        if key != self._data_key:
            self.data = make_data(c["dataset"], noise=c["noise"], train_fraction=c["train-fraction"], seed=c["seed"])
            self._data_key = key
        d = self.data
        self.output_name, loss = OUTPUTS[c["output"]]
        n_out = 1 if d.task == "regression" else d.n_classes
        self.net = mlp(
            [d.n_features, *c["hidden-layers"], n_out],
            hidden=c["activation"],
            output=self.output_name,
            loss=loss,
            init=init_spec(c),
            prime_offset=float(c["prime-offset"]),
            seed=c["seed"],
        )
        self.optimizer = self._new_optimizer()
        self.rng = np.random.default_rng(c["seed"] + 1)  # batch order (the weights used seed)
        self.Y_train, self.Y_test = self._targets(d.y_train), self._targets(d.y_test)
        probe = np.random.default_rng(c["seed"] + 2).permutation(len(d.X_train))[:PROBE_SIZE]
        self.X_probe, self.Y_probe = np.ascontiguousarray(d.X_train[probe]), np.ascontiguousarray(self.Y_train[probe])
        self.grid = plane_grid(GRID) if d.is_plane else None
        self.order, self.cursor = np.empty(0, np.int64), 0
        self.updates, self.examples = 0, 0
        self.history = []  # (epoch, train loss, test loss)
        self.diverged = False
        self.good_weights = self.net.get_weights()
        with np.errstate(all="ignore"):
            start = self.net.loss_value(self.X_probe, self.Y_probe, validate=False)
        self.start_loss = start if math.isfinite(start) and start > 0 else 1.0
        self.run_id = getattr(self, "run_id", 0) + 1

    # -- training -----------------------------------------------------------------------------
    def _batch(self):
        n = len(self.data.X_train)
        b = min(int(self.config["batch-size"]), n)
        if self.cursor + b > len(self.order):
            self.order, self.cursor = self.rng.permutation(n), 0  # a new epoch, a new order
        idx = self.order[self.cursor : self.cursor + b]
        self.cursor += b
        return np.ascontiguousarray(self.data.X_train[idx]), np.ascontiguousarray(self.Y_train[idx])

    def _one_update(self) -> bool:
        """One mini-batch step; False if its loss or the new weights are not finite."""
        Xb, Yb = self._batch()
        loss = self.net.loss_and_grads(Xb, Yb, train=True, rng=self.rng, validate=False)
        self.optimizer.step(self.net.parameters)
        self.net.after_update()
        self.updates += 1
        self.examples += len(Xb)
        return math.isfinite(loss) and bool(np.isfinite(self.net.parameters.data).all())

    def _roll_back(self):
        self.net.set_weights(self.good_weights)
        self.optimizer = self._new_optimizer()  # its state holds the huge steps
        self.diverged = True

    def train(self, n_updates: int | None = None, max_seconds: float = 0.05) -> int:
        """Up to ``n_updates`` (default: the speed option) steps, stopping early after ``max_seconds``.

        Divergence (a non-finite loss or weight during a step; after the last step, a probe
        loss that is not finite or above ``DIVERGE_FACTOR`` times the run's first) restores
        the weights from before the first of these steps and sets ``diverged``.  Returns the steps kept.
        """
        n = int(self.config["speed"]) if n_updates is None else int(n_updates)
        self.diverged = False
        self.good_weights = self.net.get_weights()
        start_updates, start_examples = self.updates, self.examples
        start = time.perf_counter()
        with np.errstate(all="ignore"):  # overflow on the way to NaN is what the guard reports
            ok = True
            for _ in range(n):
                ok = self._one_update()
                if not ok or time.perf_counter() - start > max_seconds:
                    break
            probe_loss = self.net.loss_value(self.X_probe, self.Y_probe, validate=False) if ok else math.nan
            ok = math.isfinite(probe_loss) and probe_loss <= DIVERGE_FACTOR * self.start_loss
        if not ok:
            self._roll_back()
            self.updates, self.examples = start_updates, start_examples
        return self.updates - start_updates

    @property
    def epoch(self) -> float:
        return self.examples / len(self.data.X_train)

    # -- measuring ----------------------------------------------------------------------------
    def _losses(self):
        d = self.data
        train, Ztr = self.net.loss_value(d.X_train, self.Y_train, validate=False, return_outputs=True)
        acc_tr = self._accuracy(Ztr, d.y_train)
        test, Zte = self.net.loss_value(d.X_test, self.Y_test, validate=False, return_outputs=True)
        acc_te = self._accuracy(Zte, d.y_test)
        return _finite(train), _finite(test), acc_tr, acc_te

    def _accuracy(self, Z, y):
        if self.data.task == "regression":
            return None
        return float(np.mean(Z.argmax(axis=1) == y))

    def _layers(self):
        stats = layer_diagnostics(self.net, self.X_probe, self.Y_probe)
        out = []
        for L, s in zip(self.net.layers, stats):
            dead = s["dead"]
            out.append(
                {
                    "layer": s["layer"],
                    "unit": s["unit"],
                    "units": L.n_out,
                    "saturated": s["saturated"],
                    "mean_derivative": s["mean_derivative"],
                    "dead": dead,
                    "dead_count": None if dead is None else round(dead * L.n_out),
                    "grad_norm": _finite(s["grad_norm"]),
                    "weight_norm": _finite(s["weight_norm"]),
                }
            )
        return out

    def _maps(self) -> dict:
        """Output map and hidden-unit maps over the plane, from one forward pass over the grid."""
        acts = self.net.activations(self.grid)
        hidden = acts[:-1]
        total = sum(min(a.shape[1], MAX_MAPS_PER_LAYER) for a in hidden)
        size = UNIT_GRID if total <= 48 else SMALL_UNIT_GRID
        stride = GRID // size
        unit_maps = []
        for L, a in zip(self.net.layers, hidden):
            shown = a[:, :MAX_MAPS_PER_LAYER].reshape(GRID, GRID, -1)[::stride, ::stride]  # (size, size, units)
            b = views.unit_bytes(shown, L.unit)
            unit_maps.append([views.b64(b[:, :, j]) for j in range(b.shape[2])])
        out = views.output_bytes(acts[-1], self.output_name, self.data.task)
        return {"output_map": views.b64(out), "grid": GRID, "unit_grid": size, "unit_maps": unit_maps}

    def frame(self) -> dict:
        """Everything the page shows about the network now."""
        with np.errstate(all="ignore"):
            return self._frame()

    def _frame(self) -> dict:
        train, test, acc_tr, acc_te = self._losses()
        epoch = self.epoch
        if train is not None:
            self.history.append((epoch, train, test))
            if len(self.history) > MAX_HISTORY:
                self.history = self.history[::2]
        f = {
            "type": "frame",
            "run": self.run_id,
            "updates": self.updates,
            "epoch": epoch,
            "train_loss": train,
            "test_loss": test,
            "train_acc": acc_tr,
            "test_acc": acc_te,
            "layers": self._layers(),
            "diverged": self.diverged,
        }
        if self.grid is not None:
            f.update(self._maps())
        if self.data.name == "digits":
            W = self.net.layers[0].W
            f["weight_images"] = {"n": W.shape[1], "side": 8, "bytes": views.b64(views.weight_images(W))}
        if self.data.name == "encoder" and len(self.net.layers) > 1:
            codes = self.net.activations(self.data.X_train)[0]  # (8 patterns, hidden units)
            f["codes"] = {"rows": codes.shape[0], "cols": codes.shape[1], "bytes": views.b64(codes_bytes(codes))}
        return f

    def describe(self) -> dict:
        """The configuration message: options, remedies, the data's points and the run's curve so far."""
        d = self.data
        msg = {
            "type": "config",
            "config": {k: list(v) if isinstance(v, tuple) else v for k, v in self.config.items()},
            "remedies": self.remedies(),
            "run": self.run_id,
            "task": d.task,
            "plane": d.is_plane,
            "extent": PLANE_EXTENT,
            "n_train": len(d.X_train),
            "n_test": len(d.X_test),
            "history": [list(h) for h in self.history],
        }
        if d.is_plane:
            msg["points"] = {
                "train": np.round(d.X_train, 3).tolist(),
                "test": np.round(d.X_test, 3).tolist(),
                "y_train": np.round(d.y_train, 3).tolist(),
                "y_test": np.round(d.y_test, 3).tolist(),
            }
        return msg

    def export(self) -> dict:
        return {"type": "export", **export(self.config, self.data, self.epoch)}


def codes_bytes(codes: np.ndarray) -> np.ndarray:
    """Hidden codes in [0, 1] (sigmoid units) as bytes; other units scaled by their largest value."""
    top = max(float(np.abs(codes).max()), 1e-12) if codes.min() < 0 or codes.max() > 1 else 1.0
    return np.rint(np.clip(codes / top, 0, 1) * 255).astype(np.uint8)

"""A training run's record and what watches it: ``History``, the epoch line, and callbacks."""

from __future__ import annotations

import html
import math
import numbers
from dataclasses import dataclass, field

from ..diagnostics import summarize
from ..errors import ConfigError

__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback", "format_epoch"]


@dataclass(repr=False)
class History:
    """What happened, epoch by epoch.

    ``history`` maps a metric name (``loss``, ``accuracy``, ``val_loss``,
    ``val_accuracy``, ``seconds``) to one value per epoch, like Keras's
    ``History.history``; ``diagnostics`` holds one list of per-layer dicts per
    epoch (see ``neuronet.diagnostics``).  Training loss and accuracy are running
    means over the epoch's mini-batches.
    """

    epoch: list = field(default_factory=list)
    history: dict = field(default_factory=dict)
    diagnostics: list = field(default_factory=list)
    stop_reason: str = ""
    diverged: bool = False

    def append(self, epoch, logs, diag=None):
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        self.diagnostics.append(diag)

    def __len__(self):
        return len(self.epoch)

    #: metrics every fit records; before the first epoch ends (e.g. divergence in epoch 1) they are []
    STANDARD = ("loss", "accuracy", "seconds")

    def __getitem__(self, key):
        if key in self.history:
            return self.history[key]
        if key in self.STANDARD:
            return []
        known = sorted(set(self.history) | set(self.STANDARD))
        raise KeyError(f"{key!r}: no such metric in this history; recorded: {', '.join(known)}")

    def to_dict(self) -> dict:
        return {
            "epoch": list(self.epoch),
            "history": {k: list(v) for k, v in self.history.items()},
            "diagnostics": list(self.diagnostics),
            "stop_reason": self.stop_reason,
            "diverged": self.diverged,
        }

    @classmethod
    def from_dict(cls, d):
        return cls(
            epoch=list(d["epoch"]),
            history={k: list(v) for k, v in d["history"].items()},
            diagnostics=list(d["diagnostics"]),
            stop_reason=d.get("stop_reason", ""),
            diverged=bool(d.get("diverged", False)),
        )

    # -- in a notebook -------------------------------------------------------------------------
    def __repr__(self):
        """``History(epochs=20, loss 2.3→0.0512, accuracy 0.981, val_accuracy 0.97, keys=[...])``."""
        if not self.epoch:
            return f"History(epochs=0{', diverged' if self.diverged else ''})"
        parts = [f"epochs={len(self.epoch)}"]
        loss = [v for v in self.history.get("loss", []) if _is_number(v)]
        if loss:
            parts.append(f"loss {loss[0]:.3g}→{loss[-1]:.3g}")
        for key in ("val_loss", "accuracy", "val_accuracy"):
            last = _last_number(self.history.get(key, []))
            if last is not None:
                parts.append(f"{key} {last:.3g}")
        if self.diverged:
            parts.append("diverged")
        elif self.stop_reason.startswith("early stopping"):
            parts.append("stopped early")
        parts.append("keys=[" + ", ".join(self.history) + "]")
        return "History(" + ", ".join(parts) + ")"

    def _repr_html_(self, last: int = 5):
        """A table of the last ``last`` epochs (Jupyter shows it instead of the repr)."""
        head = html.escape(repr(self))
        if not self.epoch:
            return f"<p><code>{head}</code></p>"
        keys = [k for k, v in self.history.items() if any(_is_number(x) for x in v)]
        rows = []
        for i in range(max(0, len(self.epoch) - last), len(self.epoch)):
            cells = [str(self.epoch[i] + 1)]
            for k in keys:
                v = self.history[k][i] if i < len(self.history[k]) else None
                cells.append(f"{v:.4g}" if _is_number(v) else "")
            diag = self.diagnostics[i] if i < len(self.diagnostics) else None
            cells.append(html.escape(summarize(diag)) if diag else "")
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        header = "".join(f"<th>{html.escape(k)}</th>" for k in ["epoch", *keys, "per layer"])
        shown = f"last {len(rows)} of {len(self.epoch)} epochs" if len(rows) < len(self.epoch) else "every epoch"
        note = html.escape(self.stop_reason or "")
        return (
            f"<p><code>{head}</code></p>"
            f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p><small>{shown}{'; ' + note if note else ''}; <code>.plot()</code> draws every epoch</small></p>"
        )

    def plot(self):
        """Loss and accuracy, and per layer the saturated fraction and gradient norm, by epoch.

        A ``matplotlib.figure.Figure`` (shown inline by Jupyter); the drawing lives in
        ``neuronet.report.notebook.history_figure``, imported only when called.
        """
        from ..report.notebook import history_figure  # plotting lives in report/ (a delegate, see pyproject)

        return history_figure(self)


def _is_number(v) -> bool:
    """A finite real number (numpy scalars too), not a bool or None."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def _last_number(values):
    """The last finite number in ``values``, or None."""
    for v in reversed(values):
        if _is_number(v):
            return v
    return None


def format_epoch(epoch, n_epochs, logs, diag=None) -> str:
    """One line per epoch: loss, accuracy, validation, saturation summary, seconds."""
    parts = [f"epoch {epoch + 1}/{n_epochs}", f"loss {logs['loss']:.4f}"]
    if logs.get("accuracy") is not None:
        parts.append(f"acc {logs['accuracy']:.4f}")
    if logs.get("val_loss") is not None:
        parts.append(f"val_loss {logs['val_loss']:.4f}")
    if logs.get("val_accuracy") is not None:
        parts.append(f"val_acc {logs['val_accuracy']:.4f}")
    if diag:
        s = summarize(diag)
        if s:
            parts.append(s)
    parts.append(f"{logs['seconds']:.2f}s")
    return "  ".join(parts)


# -- callbacks -------------------------------------------------------------------------------
class Callback:
    """Hooks called by ``Trainer.fit``; set ``trainer.stop_training = True`` to stop."""

    def on_train_begin(self, trainer):
        pass

    def on_epoch_end(self, trainer, epoch, logs):
        pass

    def on_train_end(self, trainer):
        pass

    def __repr__(self):
        return f"{type(self).__name__}()"


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``monitor`` defaults to ``val_loss`` when there is validation data, else ``loss``;
    metrics containing ``accuracy`` are maximised, the others minimised.  With
    ``restore_best=True`` the weights of the best epoch are put back at the end.
    """

    def __init__(self, monitor=None, patience=10, min_delta=1e-4, restore_best=True):
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 0:
            raise ConfigError(f"EarlyStopping(patience=...): expected an integer >= 0, got {patience!r}")
        if not math.isfinite(float(min_delta)) or min_delta < 0:
            raise ConfigError(f"EarlyStopping(min_delta=...): expected a finite number >= 0, got {min_delta!r}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.restore_best = restore_best

    def on_train_begin(self, trainer):
        self.best = None
        self.best_epoch = None
        self.best_weights = None
        self.wait = 0

    def on_epoch_end(self, trainer, epoch, logs):
        key = self.monitor or ("val_loss" if logs.get("val_loss") is not None else "loss")
        value = logs.get(key)
        if value is None:
            raise ConfigError(f"EarlyStopping: metric {key!r} is not recorded; have {sorted(logs)}")
        sign = 1.0 if "accuracy" in key else -1.0  # maximise accuracy, minimise losses
        if self.best is None or sign * (value - self.best) > self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_weights = trainer.network.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True
                trainer.history.stop_reason = (
                    f"early stopping: {key} did not improve by {self.min_delta} for {self.patience} epochs "
                    f"(best {self.best:.4g} at epoch {self.best_epoch + 1})"
                )

    def on_train_end(self, trainer):
        if self.restore_best and self.best_weights is not None and not trainer.history.diverged:
            trainer.network.set_weights(self.best_weights)

    def __repr__(self):
        best = getattr(self, "best", None)
        seen = "" if best is None else f", best {best:.4g} at epoch {self.best_epoch + 1}"
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, min_delta={self.min_delta:g}, "
            f"restore_best={self.restore_best}{seen})"
        )


class LambdaCallback(Callback):
    """Callback from a function ``f(trainer, epoch, logs)`` called at each epoch's end."""

    def __init__(self, on_epoch_end):
        self._f = on_epoch_end

    def on_epoch_end(self, trainer, epoch, logs):
        self._f(trainer, epoch, logs)

    def __repr__(self):
        return f"LambdaCallback({getattr(self._f, '__qualname__', type(self._f).__name__)})"


# -- trainer ---------------------------------------------------------------------------------

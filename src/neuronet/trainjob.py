"""A whole training run from a ``TrainConfig``: data, network, trainer, checkpoints, model file.

Used by ``neuronet train``; knows nothing of the command line.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import TrainConfig
from .data import Dataset, load
from .data.validate import standardize
from .errors import ConfigError, DivergenceError
from .files import to_jsonable, versions
from .network import Network, mlp
from .train import Callback, History, Trainer

CHECKPOINT_NAME = "checkpoint.safetensors"


@dataclass
class Prepared:
    dataset: Dataset
    X_train: np.ndarray
    X_test: np.ndarray
    preprocessing: dict | None


def _table_options(cfg: TrainConfig) -> dict:
    """``load``'s keywords for ``--task`` and ``--header``, given only when set (None: ``load`` detects)."""
    kw = {}
    if cfg.task is not None:
        kw["task"] = cfg.task  # CSV and NPZ
    if cfg.header is not None:
        kw["csv_header"] = cfg.header
    return kw


def prepare_data(cfg: TrainConfig) -> Prepared:
    """Load ``cfg.data`` and standardize it (statistics of the training split only) if asked."""
    ds = load(
        cfg.data,
        label_column=cfg.label_column,
        seed=cfg.seed,
        dtype=np.dtype(cfg.dtype),
        max_train=cfg.max_train,
        max_test=cfg.max_test,
        **_table_options(cfg),
    )
    Xtr, Xte, pre = ds.X_train, ds.X_test, None
    if cfg.standardize:
        mean, std, Xtr, Xte = standardize(ds.X_train, ds.X_test)
        pre = {"mean": np.asarray(mean).tolist(), "std": np.asarray(std).tolist()}
    return Prepared(ds, Xtr, Xte, pre)


def apply_preprocessing(X, preprocessing, dtype):
    """Apply stored standardization to new inputs (no-op when there is none)."""
    if not preprocessing:
        return X
    mean = np.asarray(preprocessing["mean"], dtype=dtype)
    std = np.asarray(preprocessing["std"], dtype=dtype)
    if mean.shape[0] != X.shape[1]:
        raise ConfigError(f"inputs have {X.shape[1]} features, but the model's standardization has {mean.shape[0]}")
    return ((X - mean) / std).astype(dtype, copy=False)


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_size(sizes, dtype, batch_size, n_samples: int = 0) -> None:
    """ConfigError before allocating when the network would not fit in this machine's memory.

    Counts the weights four times (values, gradients, two optimizer buffers) and one batch of
    activations and deltas per layer.
    """
    params = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    batch = batch_size or max(n_samples, 1)
    need = dtype.itemsize * (4 * params + 2 * batch * sum(sizes))
    have = _memory_bytes()
    if have is not None and need > have:
        shape = "-".join(map(str, sizes))
        raise ConfigError(
            f"--hidden: network {shape} is too large: it would need about {need / 2**30:.1f} GB, "
            f"and this machine has {have / 2**30:.1f} GB"
        )


def build_network(cfg: TrainConfig, n_features: int, task: str, n_classes: int | None) -> Network:
    output = cfg.output or ("softmax" if task == "classification" else "identity")
    if task == "regression" and cfg.targets is not None:
        raise ConfigError(
            f"--targets: soft targets {cfg.targets[0]:g},{cfg.targets[1]:g} encode class labels; "
            "these are regression targets (the preset or option does not apply)"
        )
    if task == "regression" and output == "softmax":  # one softmax output is always 1: nothing to learn
        raise ConfigError(
            "--output: softmax gives class probabilities that sum to 1 and does not fit regression targets; "
            "use identity or sigmoid"
        )
    n_out = n_classes if task == "classification" else 1  # one output unit per class
    sizes = [n_features, *cfg.hidden, n_out]
    check_size(sizes, np.dtype(cfg.dtype), cfg.batch_size)
    try:
        return mlp(
            sizes,
            hidden=cfg.activation,
            output=output,
            loss=cfg.loss,
            init=cfg.init,
            prime_offset=cfg.prime_offset,
            dropout=cfg.dropout,
            dtype=np.dtype(cfg.dtype),
            seed=cfg.seed,
        )
    except ConfigError as e:
        raise ConfigError(f"--output/--loss: {e}") from None


def resolved_config(cfg: TrainConfig, network: Network) -> TrainConfig:
    """``cfg`` with the output unit and loss that ``build_network`` chose in place of None (auto)."""
    return dataclasses.replace(cfg, output=cfg.output or network.output_unit.name, loss=cfg.loss or network.loss.name)


def confusion_matrix(network: Network, X, labels, n_classes: int, target_range=None) -> np.ndarray:
    """``(n_classes, n_classes)`` int64 counts: row = true class, column = predicted class.

    Predictions are decoded as ``Trainer.evaluate`` decodes them (argmax, or the mid-range
    threshold of a single output), so the diagonal sums to ``accuracy * len(labels)``.
    """
    from .targets import decode_outputs, default_target_range

    unit = network.output_unit.name
    pred = decode_outputs(network.predict(X), target_range or default_target_range(unit), unit)
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels, dtype=np.int64), pred), 1)
    return counts


def build_trainer(cfg: TrainConfig, network: Network, callbacks=()) -> Trainer:
    opt_kw = {"lr": cfg.lr, "weight_decay": cfg.weight_decay}
    if cfg.optimizer in ("momentum", "nesterov"):
        opt_kw["momentum"] = cfg.momentum
    from .optim import get_optimizer

    return Trainer(
        network,
        get_optimizer(cfg.optimizer, **opt_kw),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        validation_split=cfg.validation_split,
        target_range=cfg.targets,
        callbacks=callbacks,
        diagnostics=cfg.diagnostics,
        max_grad_norm=cfg.max_grad_norm,
    )


class Checkpointer(Callback):
    """Save weights, optimizer state, RNG state, epoch and history after every epoch (atomically)."""

    def __init__(self, path, cfg: TrainConfig):
        from .modelfile import config_hash

        self.path = Path(path)
        self.cfg = cfg
        self.hash = config_hash(cfg.training_dict())

    def on_epoch_end(self, trainer, epoch, logs):
        from .modelfile import save_checkpoint

        save_checkpoint(
            self.path, trainer.network, trainer.state_dict(), config_hash=self.hash, config=self.cfg.training_dict()
        )


def _differences(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys) or "unknown keys"


def resume_from(path: Path, cfg: TrainConfig, network: Network, trainer: Trainer) -> bool:
    """Load a checkpoint into ``network``/``trainer``; False if there is none yet."""
    from .modelfile import config_hash, load_checkpoint

    if not path.exists():
        return False
    ck = load_checkpoint(path)
    if ck["config_hash"] != config_hash(cfg.training_dict()):
        raise ConfigError(
            f"--resume: {path} was made with another configuration "
            f"({_differences(ck.get('config') or {}, cfg.training_dict())})"
        )
    done = int((ck.get("trainer_state") or {}).get("epoch", 0))
    if cfg.epochs < done:
        raise ConfigError(
            f"--epochs {cfg.epochs}: the checkpoint {path} is already at epoch {done}; "
            f"--epochs counts all epochs, so ask for more than {done}"
        )
    network.set_weights(ck["network"].get_weights())
    trainer.load_state_dict(ck["trainer_state"])
    return True


def check_outputs(cfg: TrainConfig) -> Path | None:
    """Refuse outputs that cannot be written or would destroy an input; return the checkpoint path."""
    from .files import check_out_folder, check_parent_folders, check_target, refuse_overwriting_inputs

    check_out_folder(cfg.report, "--report")
    ckpt = None
    if cfg.checkpoint_dir:
        d = Path(cfg.checkpoint_dir)
        check_out_folder(d, "--checkpoint-dir")
        ckpt = d / CHECKPOINT_NAME
        if ckpt.exists() and not (cfg.resume or cfg.overwrite):
            raise ConfigError(
                f"--checkpoint-dir {d}: holds a checkpoint of an earlier run; "
                "pass --resume to continue it or --overwrite to start afresh and replace it"
            )
    if cfg.out:
        out = Path(cfg.out)
        if out.is_dir():
            raise ConfigError(f"--out {out}: is a directory; give a file name such as {out / 'model.safetensors'}")
        check_parent_folders(out)
        if out.parent.is_dir():
            check_target(out)
        data_file = cfg.data if Path(cfg.data).is_file() else None
        refuse_overwriting_inputs(("--out", out), ("--data", data_file), ("the checkpoint", ckpt))
        if ckpt is not None and out.resolve() == ckpt.resolve():
            raise ConfigError(f"--out {out}: is the checkpoint file of --checkpoint-dir {cfg.checkpoint_dir}")
    return ckpt


@dataclass
class RunResult:
    """What ``run`` did: ``config`` is the resolved configuration (output unit and loss filled in),
    ``test`` the test-split metrics, ``confusion`` the test-split confusion matrix (None for regression).
    """

    network: Network
    trainer: Trainer
    history: History
    prepared: Prepared
    test: dict
    metadata: dict
    diverged: DivergenceError | None = None
    config: TrainConfig | None = None
    confusion: np.ndarray | None = None


def model_metadata(cfg, prepared, history, test) -> dict:
    """The model file's metadata; ``cfg`` should be resolved (``resolved_config``)."""
    ds = prepared.dataset
    return {
        "config": cfg.to_dict(),
        "task": ds.task,
        "classes": to_jsonable(list(ds.classes)),
        "n_features": ds.n_features,
        "preprocessing": prepared.preprocessing,
        "target_range": list(cfg.targets) if cfg.targets else None,
        "test": test,
        "epochs_trained": len(history),
        "stop_reason": history.stop_reason,
        "versions": versions(),
    }


def run(cfg: TrainConfig, *, prepared: Prepared | None = None, callbacks=(), log=print) -> RunResult:
    """Train as ``cfg`` says; save checkpoints, the model file and return everything.

    A diverged run keeps the last good weights: they are saved to ``cfg.out`` and
    the result carries the ``DivergenceError``.
    """
    if prepared is None:
        prepared = prepare_data(cfg)
    ds = prepared.dataset
    net = build_network(cfg, ds.n_features, ds.task, ds.n_classes)
    ckpt = check_outputs(cfg)  # fail before training, not after it
    cbs = list(callbacks)
    if ckpt is not None:
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        cbs.insert(0, Checkpointer(ckpt, cfg))
    if cfg.out:
        Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
    trainer = build_trainer(cfg, net, cbs)
    if cfg.resume:
        if resume_from(ckpt, cfg, net, trainer):
            log(f"resuming from {ckpt} after epoch {trainer.epoch}")
        else:
            log(f"no checkpoint in {cfg.checkpoint_dir} yet; starting from epoch 1")
    diverged = None
    try:
        history = trainer.fit(prepared.X_train, ds.y_train)
    except DivergenceError as e:
        history, diverged = e.history, e
    test = trainer.evaluate(prepared.X_test, ds.y_test)
    confusion = None
    if ds.task == "classification":
        confusion = confusion_matrix(net, prepared.X_test, ds.y_test, ds.n_classes, cfg.targets)
    resolved = resolved_config(cfg, net)
    meta = model_metadata(resolved, prepared, history, test)
    if cfg.out:
        from .modelfile import save_model

        save_model(cfg.out, net, metadata=meta)
    return RunResult(net, trainer, history, prepared, test, meta, diverged, config=resolved, confusion=confusion)

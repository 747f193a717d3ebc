"""The network: ordered layers, hand-derived forward and backward passes.

Forward, for layer l with input ``h`` (the previous layer's output, or the batch)::

    a = h @ W + b              # (B, n_out)
    z = f(a)                   # written over a: backward only needs z

Backward, starting from the output delta ``d = dL/da`` of the last layer::

    dL/dW = h.T @ d            # (n_in, n_out)
    dL/db = d.sum(axis=0)      # (n_out,)
    dL/dh = d @ W.T            # (B, n_in), skipped for the first layer
    d_prev = dL/dh * f'(h)     # f' from the cached output h

The loss is a mean over the batch, so the output delta is divided by ``B`` once
and every gradient below it is a mean too.  Each layer does its own passes
(``neuronet.layers``) over buffers allocated once per batch size and reused;
the network composes them with the loss.
"""

from __future__ import annotations

import copy
import html
from itertools import pairwise

import numpy as np

from ._finite import all_finite
from .errors import ConfigError
from .layers import Dense
from .losses import check_pairing, get_loss, is_fused
from .parameters import Parameters
from .units import get_unit


def check_sample_weight(sample_weight, n: int):
    """Per-sample loss weights as a float64 (n,) array (a scalar is broadcast), or None; ConfigError otherwise.

    The one check used by ``Network.loss_and_grads``, ``Trainer.fit`` and the scikit-learn
    estimators: the right shape, finite, non-negative, and not all zero.
    """
    if sample_weight is None:
        return None
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 0:
        sw = np.full(n, float(sw))
    if sw.shape != (n,):
        raise ConfigError(f"sample_weight: expected shape ({n},), got {sw.shape}")
    if not np.isfinite(sw).all() or (sw < 0).any():
        raise ConfigError("sample_weight: must be finite and >= 0")
    if sw.sum() <= 0:
        raise ConfigError("sample_weight: all weights are zero; at least one must be positive")
    return sw


class Network:
    """A feed-forward network of ``Dense`` layers and a loss.

    Parameters
    ----------
    layers : list of Dense
        ``layers[i].n_out`` must equal ``layers[i + 1].n_in``; all of one dtype.
        Each layer joins this network: its ``W`` and ``b`` become views of
        ``parameters`` (a layer belongs to one network).
    loss : str or Loss
        Paired with the last layer's unit.  For the pairs in ``losses.FUSED``
        the output delta is ``z - y``; otherwise the loss's ``dL/dz`` is pushed
        through the output unit's derivative.

    Attributes
    ----------
    parameters : Parameters
        Every weight and bias (``layers.{i}.W``, ``layers.{i}.b``) in one flat buffer,
        and their gradients in another: what optimizers update.

    Notes
    -----
    The one training path is ``loss_and_grads(X, Y)``: a forward pass, the loss and a
    backward pass that fills ``parameters.grad``.  ``Trainer``, diagnostics, gradient
    checks, L-BFGS and the playground all use it.
    """

    def __init__(self, layers, loss="squared-error"):
        layers = list(layers)
        if not layers:
            raise ConfigError("a network needs at least one layer")
        for prev, nxt in pairwise(layers):
            if prev.n_out != nxt.n_in:
                raise ConfigError(f"layer sizes do not chain: {prev.n_out} outputs feed {nxt.n_in} inputs")
        dtypes = {L.dtype for L in layers}
        if len(dtypes) != 1:
            raise ConfigError(f"all layers must share one dtype, got {sorted(map(str, dtypes))}")
        if len({id(L) for L in layers}) != len(layers):
            raise ConfigError("the same Dense layer appears twice; a layer belongs to one network once")
        self.layers = layers
        self.dtype = layers[0].dtype
        self.loss = get_loss(loss)
        check_pairing(self.output_unit, self.loss)
        if self.output_unit.name == "softmax" and layers[-1].n_out < 2:
            raise ConfigError(
                "a softmax output needs at least 2 units (a softmax over one unit is always 1); "
                "for one output use sigmoid (classes) or identity (regression)"
            )
        named = [(f"layers.{i}.{n}", a) for i, L in enumerate(layers) for n, a in L.named_params()]
        self.parameters = Parameters(named, self.dtype)
        self._bind_layers()

    def _bind_layers(self):
        """Point every layer's arrays at ``parameters`` (after building, copying or unpickling)."""
        off = 0
        values, grads = self.parameters.values, self.parameters.grads
        for L in self.layers:
            k = len(L.named_params())
            L.bind(self, values[off : off + k], grads[off : off + k])
            off += k
        self._constrained = [L for L in self.layers if L.needs_after_update]

    # -- structure -------------------------------------------------------------------------
    @property
    def params(self):
        """``[W0, b0, W1, b1, ...]``: the views in ``parameters``, the arrays optimizers update."""
        return self.parameters.values

    @property
    def grads(self):
        """Gradient views aligned with ``params``; filled by ``loss_and_grads``."""
        return self.parameters.grads

    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    @property
    def output_unit(self):
        return self.layers[-1].unit

    @property
    def fused(self) -> bool:
        """True when the output delta is ``z - y`` (see ``losses.FUSED``)."""
        return is_fused(self.output_unit, self.loss)

    def config(self) -> dict:
        """Architecture as JSON-ready data; ``Network.from_config`` rebuilds it (weights aside).

        Every layer option travels: units and their parameters, dropout, lesion masks,
        Dale signs, the loss and the dtype.
        """
        return {"layers": [L.config() for L in self.layers], "loss": self.loss.config(), "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config, rng=None):
        """The network ``config()`` describes, with fresh weights from ``rng``."""
        dtype = config.get("dtype", "float32")
        layers = [Dense.from_config(spec, rng=rng, dtype=dtype) for spec in config["layers"]]
        net = cls(layers, config["loss"])
        net._init_known = False  # a config does not record the initializer (summary shows "?")
        return net

    def copy(self) -> Network:
        """An independent copy: same architecture, options and weights, its own ``Parameters``."""
        return copy.deepcopy(self)

    def get_weights(self):
        """Copies of ``params``."""
        return self.parameters.get()

    def set_weights(self, weights):
        """Copy ``weights`` (aligned with ``params``) into the network in place.

        Raises ``ConfigError`` for a wrong count or shape, or for weights that break a
        layer's Dale signs.
        """
        weights = list(weights)
        for i, w in enumerate(weights):
            a = np.asarray(w)
            name = self.parameters.names[i] if i < len(self.parameters.names) else f"array {i}"
            if a.dtype.kind not in "biuf":
                raise ConfigError(f"weights[{i}] ({name}): expected numbers, got an array of dtype {a.dtype}")
            if not np.isfinite(a).all():
                raise ConfigError(f"weights[{i}] ({name}): contains NaN or infinity")
        if len(weights) == len(self.params):
            for i, L in enumerate(self.layers):
                L.check_weights(weights[2 * i])
        self.parameters.set(weights)

    def __repr__(self):
        inner = ",\n  ".join(map(repr, self.layers))
        return f"Network([\n  {inner}\n], loss={self.loss!r})"

    # -- in a notebook ---------------------------------------------------------------------
    def summary(self, print_fn=print):
        """A Keras-style table of the layers, the loss and the parameter count.

        One row per layer: its name (``layer 0`` … counted from 0 on the input side and the
        last one marked ``(output)``, as the diagnostics, the training report and ``neuronet
        inspect`` number them; ``layer k`` is ``net.layers[k]``), type, output shape
        ``(None, n_out)`` (None: any batch size), parameters ``n_in·n_out + n_out``, unit with
        its non-default parameters (``sigmoid(prime_offset=0.1)``), initializer (``?`` for a
        network rebuilt from a config or a model file, which do not record it) and options
        (dropout, Dale's principle, silenced units).  Then the loss and the total.

        Parameters
        ----------
        print_fn : callable or None
            Called with each line of the table (default ``print``), like Keras's
            ``Model.summary``.  With None nothing is printed and the text is returned.

        Returns
        -------
        None, or the text (lines joined by newlines) when ``print_fn`` is None.

        Examples
        --------
        >>> mlp([64, 32, 10], seed=0).summary()  # doctest: +SKIP
        """
        rows = self._summary_rows()
        cols = ["layer", "type", "output shape", "params", "unit", "init"]
        if any(r["options"] for r in rows):
            cols.append("options")
        cells = [[f"{r[c]:,}" if c == "params" else str(r[c]) for c in cols] for r in rows]
        header = [c.capitalize() for c in cols]
        widths = [max(len(h), *(len(row[j]) for row in cells)) for j, h in enumerate(header)]

        def line(values):
            return "  ".join(v.rjust(w) if c == "params" else v.ljust(w) for c, v, w in zip(cols, values, widths))

        rule = "─" * len(line(header))
        text = [self._summary_title(), rule, line(header), rule, *(line(row) for row in cells), rule]
        text += [self._summary_loss(), self._summary_total()]
        text = [t.rstrip() for t in text]
        if print_fn is None:
            return "\n".join(text)
        for t in text:
            print_fn(t)
        return None

    def _summary_rows(self) -> list[dict]:
        """The rows of ``summary``: one dict per layer, values ready to show."""
        known = getattr(self, "_init_known", True)
        last = len(self.layers) - 1
        rows = []
        for i, L in enumerate(self.layers):
            rows.append(
                {
                    "layer": f"layer {i}" + (" (output)" if i == last and last > 0 else ""),
                    "type": type(L).__name__,
                    "output shape": f"(None, {L.n_out})",
                    "params": int(L.W.size + L.b.size),
                    "unit": _unit_text(L.unit),
                    "init": _init_text(L.init) if known else "?",
                    "options": _layer_options(L),
                }
            )
        return rows

    def _summary_title(self) -> str:
        sizes = " → ".join(str(n) for n in [self.n_inputs, *(L.n_out for L in self.layers)])
        return f"Network: {sizes} ({self.dtype.name})"

    def _summary_loss(self) -> str:
        fused = f" (fused with {self.output_unit.name}: the output delta is z − y)" if self.fused else ""
        return f"Loss: {self.loss.name}{fused}"

    def _summary_total(self) -> str:
        data = self.parameters.data
        b = data.nbytes
        size = f"{b} bytes" if b < 1024 else f"{b / 1024:.1f} KiB" if b < 1024**2 else f"{b / 1024**2:.1f} MiB"
        return f"Total params: {data.size:,} ({size}, {self.dtype.name})"

    def _repr_html_(self):
        """The ``summary`` as an HTML table (Jupyter shows it for ``net`` in a cell)."""
        rows = self._summary_rows()
        cols = ["layer", "type", "output shape", "params", "unit", "init"]
        if any(r["options"] for r in rows):
            cols.append("options")
        head = "".join(f"<th>{html.escape(c.capitalize())}</th>" for c in cols)
        body = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(f'{r[c]:,}' if c == 'params' else str(r[c]))}</td>" for c in cols)
            + "</tr>"
            for r in rows
        )
        foot = "<br>".join(html.escape(t) for t in (self._summary_loss(), self._summary_total()))
        return (
            f"<p><b>{html.escape(self._summary_title())}</b></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p>{foot}</p>"
        )

    def __setstate__(self, state):
        # after a deep copy or unpickling the layers hold copies of their arrays: point them
        # back at this network's Parameters (which rebuilt its own views)
        self.__dict__.update(state)
        self._bind_layers()

    # -- validation at the boundary --------------------------------------------------------
    def check_input(self, X, name="X"):
        """Return ``X`` as a C-contiguous 2-D array of the network's dtype, or raise ``ConfigError``."""
        X = np.asarray(X)
        if X.ndim != 2:
            raise ConfigError(f"{name}: expected a 2-D array (samples, features), got {X.ndim}-D")
        if X.shape[1] != self.n_inputs:
            raise ConfigError(f"{name}: has {X.shape[1]} features, but the network expects {self.n_inputs}")
        if X.shape[0] == 0:
            raise ConfigError(f"{name}: has no samples")
        if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
            raise ConfigError(f"{name}: expected real numbers, got dtype {X.dtype}")
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if not all_finite(X):
            r, c = np.argwhere(~np.isfinite(X))[0]
            raise ConfigError(f"{name}: contains NaN or infinity (first at row {r}, column {c})")
        return X

    def check_targets(self, Y, n_samples, name="y"):
        """Return target matrix ``Y`` (B, n_outputs) in the network's dtype, or raise ``ConfigError``."""
        Y = np.asarray(Y)
        if Y.ndim == 1 and self.n_outputs == 1:
            Y = Y[:, None]
        if Y.ndim != 2 or Y.shape != (n_samples, self.n_outputs):
            raise ConfigError(f"{name}: expected targets of shape ({n_samples}, {self.n_outputs}), got {Y.shape}")
        Y = np.ascontiguousarray(Y, dtype=self.dtype)
        if not all_finite(Y):
            raise ConfigError(f"{name}: contains NaN or infinity")
        return Y

    def _checked(self, X, Y, sample_weight):
        X = self.check_input(X)
        Y = self.check_targets(Y, X.shape[0])
        return X, Y, check_sample_weight(sample_weight, X.shape[0])

    # -- the passes ------------------------------------------------------------------------
    def _run(self, X, train=False, rng=None):
        """Forward through every layer (trusted input); the output buffer, overwritten by the next pass."""
        h = X
        last = self.layers[-1]
        for L in self.layers:
            h = L.forward(h, train=train, rng=rng, keep_logits=L is last)
        return h

    def _loss_of(self, Z, Y, sw):
        """The loss of the last forward pass (its output ``Z``) against ``Y``."""
        if self.fused and self.loss.name != "squared-error":
            out = self.layers[-1]  # exact for huge logits; a softmax's kept row statistics spare a pass
            return self.loss.value_from_logits(out.logits(), Y, sw, stats=out.softmax_stats())
        return self.loss.value(Z, Y, sw)

    def _backprop(self, Z, Y, sw):
        """Gradients of the (weighted) mean loss of the last forward pass into ``parameters.grad``.

        With sample weights ``sw`` (B,) the loss is ``sum_i sw_i L_i / sum_i sw_i``,
        so each row of the output delta is scaled by ``sw_i / sum(sw)`` instead of ``1/B``.
        """
        out = self.layers[-1]
        d = out.delta_buffer()
        if self.fused:
            np.subtract(Z, Y, out=d)  # dL/da = z - y (losses.FUSED)
        else:
            self.loss.delta(Z, Y, d)  # dL/dz
            out.through_unit(d)  # dL/da = dL/dz * f'
        if sw is None:
            d *= 1.0 / Z.shape[0]  # mean over the batch
        else:
            d *= (sw / sw.sum()).astype(self.dtype, copy=False)[:, None]  # weighted mean
        layers = self.layers
        for i in range(len(layers) - 1, -1, -1):
            below = layers[i - 1].delta_buffer() if i else None  # dL/dz of the layer below
            layers[i].backward(is_logit_grad=i == len(layers) - 1, input_grad=below)

    def loss_and_grads(
        self,
        X,
        Y,
        sample_weight=None,
        *,
        train=False,
        rng=None,
        validate=True,
        return_outputs=False,
        return_activations=False,
    ):
        """Mean (or weighted mean) loss on ``(X, Y)``; fills ``parameters.grad`` with its gradient.

        Parameters
        ----------
        X : array (B, n_inputs)
        Y : array (B, n_outputs)
            Targets (already encoded, e.g. one-hot rows).
        sample_weight : array (B,), optional
            The loss becomes ``sum_i w_i L_i / sum_i w_i``.
        train : bool
            Training mode: dropout is active (needs ``rng``).
        rng : numpy.random.Generator
            Source of the dropout masks.
        validate : bool
            Check and convert ``X``, ``Y`` and ``sample_weight``.  ``Trainer`` validates a
            dataset once and passes ``False`` for each of its mini-batches, which must
            then be C-contiguous arrays of the network's dtype.
        return_outputs : bool
            Also return the network's output (B, n_outputs): a view of a buffer that
            the next pass with the same batch size overwrites.
        return_activations : bool
            Also return every layer's output (views as above; the last one is the output).

        Returns
        -------
        loss : float, or (loss, outputs), or (loss, activations)
        """
        if validate:
            X, Y, sample_weight = self._checked(X, Y, sample_weight)
            if train and rng is None and any(L.dropout for L in self.layers):
                raise ConfigError("loss_and_grads(train=True) with dropout needs a numpy Generator as rng")
        Z = self._run(X, train, rng)
        loss = self._loss_of(Z, Y, sample_weight)
        self._backprop(Z, Y, sample_weight)
        if return_activations:
            return loss, [L.output() for L in self.layers]
        return (loss, Z) if return_outputs else loss

    def loss_value(self, X, Y, sample_weight=None, *, validate=True, return_outputs=False):
        """Mean (or weighted mean) loss on ``(X, Y)`` in prediction mode, without gradients.

        With ``return_outputs`` also the outputs (a buffer the next pass overwrites).
        """
        if validate:
            X, Y, sample_weight = self._checked(X, Y, sample_weight)
        Z = self._run(X)
        loss = self._loss_of(Z, Y, sample_weight)
        return (loss, Z) if return_outputs else loss

    def after_update(self):
        """Apply every layer's constraints after an optimizer step (Dale's projection)."""
        for L in self._constrained:
            L.after_update()

    # kept for code written against the first release
    def loss_and_gradients(self, X, Y, *, sample_weight=None, train=False, rng=None):
        """Alias of ``loss_and_grads``."""
        return self.loss_and_grads(X, Y, sample_weight, train=train, rng=rng)

    # -- prediction ------------------------------------------------------------------------
    def forward(self, X, *, train=False, rng=None):
        """Network output for ``X`` (a new array of the network's dtype)."""
        X = self.check_input(X)
        if train and rng is None and any(L.dropout for L in self.layers):
            raise ConfigError("forward(train=True) with dropout needs a numpy Generator as rng")
        return self._run(X, train, rng).copy()

    def predict(self, X, chunk_size=4096):
        """Output for ``X``, computed in chunks so that buffers stay small."""
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise ConfigError(f"chunk_size: must be an integer >= 1, got {chunk_size!r}")
        X = self.check_input(X)
        out = np.empty((X.shape[0], self.n_outputs), self.dtype)
        for s in range(0, X.shape[0], chunk_size):
            out[s : s + chunk_size] = self._run(X[s : s + chunk_size])
        return out

    def activations(self, X):
        """Each layer's output for ``X`` (prediction mode), as a list of new arrays."""
        X = self.check_input(X)
        self._run(X)
        return [L.output().copy() for L in self.layers]


def mlp(
    sizes,
    *,
    hidden="sigmoid",
    output="softmax",
    loss=None,
    init="fan-in",
    prime_offset=0.0,
    prime_offset_on="all",
    dropout=0.0,
    dale=None,
    dale_inputs=False,
    dtype=np.float32,
    seed=None,
    rng=None,
) -> Network:
    """Build a multilayer perceptron.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_inputs, hidden_1, ..., n_outputs]``.
    hidden, output : str or Unit
        Hidden and output units.
    loss : str, optional
        Defaults to the output unit's fused partner (softmax -> cross-entropy,
        sigmoid -> logistic) and to squared error otherwise.
    init : str or Initializer
        ``"fan-in"`` (remedy 1) by default; ``"normal:1"`` is the notes' baseline.
    prime_offset : float
        Remedy (3): add this to ``S'`` of sigmoid units during backprop.
    prime_offset_on : {"all", "hidden", "output"}
        Which sigmoid layers get the offset.
    dropout : float or sequence of float
        Dropout probability for each hidden layer.
    dale : float in (0, 1], optional
        Dale's principle: this fraction of each population of hidden units is
        excitatory, the rest inhibitory (chosen at random from ``rng``), and their
        outgoing weights keep their sign during training (``Dense.dale_signs``).
    dale_inputs : bool
        Also constrain the weights out of the input units (default: only neurons
        of the network, i.e. hidden units, obey Dale's principle).
    seed, rng
        Seed or Generator for the initial weights (one of them).

    Examples
    --------
    >>> net = mlp([64, 32, 10], hidden="relu", output="softmax", seed=0)
    >>> net.loss.name
    'cross-entropy'
    """
    sizes = _check_sizes(sizes)
    if prime_offset_on not in ("all", "hidden", "output"):
        raise ConfigError(f"prime_offset_on must be 'all', 'hidden' or 'output', got {prime_offset_on!r}")
    if rng is None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ConfigError(f"seed: expected an integer >= 0 or None, got {seed!r}")
        rng = np.random.default_rng(seed)
    elif not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    n_hidden = len(sizes) - 2
    drops = [float(dropout)] * n_hidden if np.ndim(dropout) == 0 else [float(p) for p in dropout]
    if len(drops) != n_hidden:
        raise ConfigError(f"dropout: expected {n_hidden} values (one per hidden layer), got {len(drops)}")
    if dale is not None and not 0.0 < float(dale) <= 1.0:
        raise ConfigError(f"dale: the excitatory fraction must lie in (0, 1], got {dale}")
    layers = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        last = i == len(sizes) - 2
        where = "output" if last else "hidden"
        unit = _mlp_unit(output if last else hidden, prime_offset if prime_offset_on in ("all", where) else 0.0)
        layer = Dense(n_in, n_out, unit, init, dropout=0.0 if last else drops[i], rng=rng, dtype=dtype)
        if dale is not None and (i > 0 or dale_inputs):
            signs = np.where(rng.permutation(n_in) < round(float(dale) * n_in), 1, -1)
            layer.set_dale_signs(signs)
        layers.append(layer)
    if loss is None:
        loss = {"softmax": "cross-entropy", "sigmoid": "logistic"}.get(layers[-1].unit.name, "squared-error")
    return Network(layers, loss)


def _unit_text(unit) -> str:
    """``sigmoid``, or ``sigmoid(prime_offset=0.1)``: the unit's name and its non-default parameters."""
    cfg = unit.config()
    try:
        default = get_unit(cfg["name"]).config()
    except ConfigError:  # a unit that needs its parameters: show them all
        default = {}
    shown = {k: v for k, v in cfg.items() if k != "name" and default.get(k) != v}
    inner = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in shown.items())
    return cfg["name"] + (f"({inner})" if inner else "")


def _init_text(init) -> str:
    """The initializer as ``mlp(init=...)`` spells it: ``fan-in``, ``normal:1``, ``uniform:0.5``."""
    cfg = init.config()
    args = [f"{v:g}" if isinstance(v, float) else str(v) for k, v in cfg.items() if k != "name"]
    return ":".join([cfg["name"], *args])


def _layer_options(layer) -> str:
    """Dropout, Dale's principle and silenced units of a layer, as short text ('' for none)."""
    opts = []
    if layer.dropout:
        opts.append(f"dropout {layer.dropout:g}")
    if layer.dale_signs is not None:
        opts.append(f"Dale: {int(np.count_nonzero(layer.dale_signs > 0))}/{layer.n_in} inputs excitatory")
    if layer.unit_mask is not None:
        opts.append(f"{int(np.count_nonzero(layer.unit_mask == 0))} units silenced")
    return ", ".join(opts)


def _check_sizes(sizes) -> list[int]:
    """``mlp``'s layer sizes as a list of ints, at least two, each >= 1."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise ConfigError(f"sizes: expected a list of layer sizes such as [64, 32, 10], got {sizes!r}")
    sizes = list(sizes)
    for s in sizes:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or s < 1:
            raise ConfigError(f"sizes: every layer size must be an integer >= 1, got {s!r} in {sizes!r}")
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise ConfigError(f"sizes needs at least input and output sizes, got {sizes}")
    return sizes


def _mlp_unit(spec, prime_offset):
    """The unit ``spec`` names; a sigmoid gets ``prime_offset`` added to its derivative (when nonzero)."""
    u = get_unit(spec)
    if u.name == "sigmoid" and prime_offset:
        u = get_unit("sigmoid", prime_offset=prime_offset)
    return u
